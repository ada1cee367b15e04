//! `tachy bench` and `tachy bench compare`: arguments -> settings -> run -> render -> exit.
//!
//! Three sources feed one report: commands (the runner and an executor), `--python`
//! statements (worker processes) and `--from-raw` timings (the pytest plugin); the gate,
//! exports and baselines are the same for all.

use anyhow::{Context, Result, bail};
use tachy_bench::baseline::{self, GateRule, SourceFormat};
use tachy_bench::params::{self, Templates};
use tachy_bench::python::PythonOptions;
use tachy_bench::{BenchError, BenchSettings, Executor, MockExecutor, ProcessExecutor, RunCount};
use tachy_report::BenchReport;
use tachy_report::render::{self, BenchFormat};

use crate::ExitStatus;
use crate::args::{BenchAction, BenchArgs, CompareArgs, OutputArgs};
use crate::printer::{self, Progress};

/// The gate's default threshold.
const DEFAULT_MAX_REGRESSION: &str = "5%";

/// Runs `tachy bench`.
pub fn run(args: BenchArgs, quiet: bool) -> Result<ExitStatus> {
    if let Some(BenchAction::Compare(c)) = &args.action {
        return compare(c, &args.output);
    }
    let raw = match &args.from_raw {
        Some(path) => Some(tachy_bench::raw::load(path)?),
        None => None,
    };
    let settings = match &raw {
        Some(raw) => raw_settings(&args, raw)?,
        None => settings(&args)?,
    };
    let max_regression = baseline::parse_threshold(args.max_regression.as_deref().unwrap_or(DEFAULT_MAX_REGRESSION))?;
    check_exports(&args.output)?;
    if let Some(path) = &args.export_pytest_json {
        crate::output::check(path, "--export-pytest-json")?;
    }
    if let Some(name) = &args.save_baseline {
        baseline::check_save(&args.baseline_dir, name)?;
    }
    // Read the baseline first: a missing or broken one should fail before minutes of runs.
    let base = match &args.baseline {
        Some(name) => Some((name, baseline::load_named(&args.baseline_dir, name)?)),
        None => None,
    };

    let outcome = if let Some(raw) = &raw {
        Ok(tachy_bench::raw::report(raw, &settings))
    } else if !args.python.is_empty() {
        let opts = python_options(&args)?;
        let mut progress = Progress::new(quiet, settings.commands.len());
        progress.message(&format!("timing in {} worker processes per statement", opts.processes));
        let outcome = tachy_bench::python::run(&settings, &opts, &mut progress);
        progress.finish();
        outcome
    } else {
        let mut progress = Progress::new(quiet, settings.commands.len());
        let mut exec: Box<dyn Executor> = if args.debug_mock {
            Box::new(MockExecutor::new())
        } else {
            let shell = (!args.no_shell).then(|| args.shell.clone());
            let mut e = ProcessExecutor::new(shell, args.show_output)?;
            progress.message("measuring the shell's spawn time");
            e.calibrate().context("cannot measure the shell's spawn time (pass -N to run without a shell)")?;
            Box::new(e)
        };
        let outcome = tachy_bench::runner::run(&settings, exec.as_mut(), &mut progress);
        progress.finish();
        outcome
    };
    let mut report = match outcome {
        Ok(r) => r,
        Err(BenchError::Interrupted) => bail!("interrupted before any run completed; nothing to report"),
        Err(e) => return Err(e.into()),
    };

    if let (Some(reference), Some(_), None) = (settings.reference, &args.max_regression, &base) {
        let rule = GateRule { max_regression, alpha: settings.alpha, metric: settings.metric };
        if let Some(r) = report.results.get(reference) {
            report.gate = Some(baseline::gate_reference(r, &report.results, rule)?);
        }
    }
    if let Some((name, loaded)) = base {
        let rule = GateRule { max_regression, alpha: settings.alpha, metric: settings.metric };
        let gate = baseline::gate(name, &loaded.results, &report.results, rule)?;
        for missing in &gate.missing_in_baseline {
            report.warnings.push(format!("'{missing}' is not in baseline '{name}': not compared"));
        }
        report.gate = Some(gate);
    }

    let mut outputs = crate::output::Outputs::new();
    emit(&report, &args.output, &mut outputs)?;
    if let Some(path) = &args.export_pytest_json {
        outputs.write(path, &tachy_bench::pytest_json::render(&report, raw.as_ref())?);
    }
    outputs.finish()?;

    if let Some(name) = &args.save_baseline {
        if report.interrupted {
            printer::warn(&format!("interrupted: baseline '{name}' not saved (it would hold partial results)"));
        } else {
            let path = baseline::save(&report, &args.baseline_dir, name)?;
            printer::info(quiet, &format!("Saved baseline '{name}' to {}", path.display()));
        }
    }
    Ok(status(&report))
}

/// The worker settings of `--python`.
fn python_options(args: &BenchArgs) -> Result<PythonOptions> {
    let program = args.python_exe.clone().unwrap_or_else(|| "python3".into());
    let interpreter = tachy_process::python::resolve(program.as_os_str()).with_context(|| {
        let how = if args.python_exe.is_some() { "--python-exe" } else { "pass --python-exe PATH" };
        format!("cannot use {} for --python ({how})", program.display())
    })?;
    let processes = args.processes.unwrap_or(PythonOptions::DEFAULT_PROCESSES);
    let values = args.values.unwrap_or(PythonOptions::DEFAULT_VALUES);
    if processes == 0 || values == 0 {
        bail!("--processes and --values must be at least 1");
    }
    Ok(PythonOptions {
        executable: interpreter.executable,
        processes,
        values,
        warmups: args.warmup.max(1),
        value_time: PythonOptions::value_time_for(args.min_time, processes, values),
    })
}

/// Settings of `--from-raw`: the reference is a benchmark name.
fn raw_settings(args: &BenchArgs, raw: &tachy_bench::raw::RawFile) -> Result<BenchSettings> {
    check_alpha(args.alpha)?;
    let reference = match &args.reference {
        Some(name) => Some(
            tachy_bench::raw::position(raw, name)
                .with_context(|| format!("--reference '{name}' is not one of the benchmarks in the raw file"))?,
        ),
        None => None,
    };
    Ok(BenchSettings {
        reference,
        alpha: args.alpha,
        metric: args.metric.into(),
        interleave: false,
        ..Default::default()
    })
}

fn check_alpha(alpha: f64) -> Result<()> {
    if !(alpha > 0.0 && alpha < 1.0) {
        bail!("--alpha must be between 0 and 1 (exclusive), got {alpha}");
    }
    Ok(())
}

fn status(report: &BenchReport) -> ExitStatus {
    if report.interrupted {
        ExitStatus::Interrupted
    } else if report.gate.as_ref().is_some_and(|g| g.failed) {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }
}

/// Resolves `tachy bench` arguments into settings.
fn settings(args: &BenchArgs) -> Result<BenchSettings> {
    let python = !args.python.is_empty();
    if !python && (args.python_exe.is_some() || args.processes.is_some() || args.values.is_some()) {
        bail!("--python-exe, --processes and --values apply to --python statements only");
    }
    let mut commands = if python { args.python.clone() } else { args.commands.clone() };
    let mut names = args.command_name.clone();
    let mut reference = None;
    if let Some(r) = &args.reference {
        match commands.iter().position(|c| c == r).or_else(|| names.iter().position(|n| n == r)) {
            Some(i) => reference = Some(i),
            None => {
                commands.insert(0, r.clone());
                if !names.is_empty() {
                    names.insert(0, r.clone());
                }
                reference = Some(0);
            }
        }
    }
    let mut parameters = Vec::new();
    for chunk in args.parameter_scan.chunks(3) {
        if let [name, min, max] = chunk {
            parameters.push(params::scan(name, min, max, args.parameter_step_size.as_deref())?);
        }
    }
    for chunk in args.parameter_list.chunks(2) {
        if let [name, values] = chunk {
            parameters.push(params::list(name, values)?);
        }
    }
    let templates = Templates {
        commands,
        names,
        setup: args.setup.clone(),
        prepare: args.prepare.clone(),
        cleanup: args.cleanup.clone(),
    };
    let expanded = params::expand(&templates, &parameters)?;
    // With parameters, the reference index points at the first expansion of that command.
    let per_template = expanded.len() / templates.commands.len().max(1);
    let reference = reference.map(|i| i * per_template);
    check_alpha(args.alpha)?;
    let runs = match args.runs {
        Some(0) => bail!("--runs must be at least 1"),
        Some(n) => RunCount::Fixed(n),
        None => {
            if args.max_runs.is_some_and(|m| m < args.min_runs.max(1)) {
                bail!("--max-runs must be at least --min-runs ({})", args.min_runs);
            }
            RunCount::Auto { min_runs: args.min_runs.max(1), min_time: args.min_time, max_runs: args.max_runs }
        }
    };
    Ok(BenchSettings {
        commands: expanded,
        warmup: args.warmup,
        runs,
        interleave: !args.no_interleave,
        ignore_failure: args.ignore_failure,
        reference,
        alpha: args.alpha,
        metric: args.metric.into(),
    })
}

fn exports(output: &OutputArgs) -> [(&Option<std::path::PathBuf>, BenchFormat, &'static str); 3] {
    [
        (&output.export_json, BenchFormat::Json, "--export-json"),
        (&output.export_csv, BenchFormat::Csv, "--export-csv"),
        (&output.export_markdown, BenchFormat::Markdown, "--export-markdown"),
    ]
}

/// Checks every export path before the runs start.
fn check_exports(output: &OutputArgs) -> Result<()> {
    for (path, _, flag) in exports(output) {
        if let Some(path) = path {
            crate::output::check(path, flag)?;
        }
    }
    Ok(())
}

/// Writes the exports and prints the report; a failed export is kept and reported after the
/// report was printed.
fn emit(report: &BenchReport, output: &OutputArgs, outputs: &mut crate::output::Outputs) -> Result<()> {
    for (path, format, _) in exports(output) {
        if let Some(path) = path {
            outputs.write(path, &render::bench(report, format)?);
        }
    }
    let format = if output.json { BenchFormat::Json } else { BenchFormat::Text };
    printer::stdout(&render::bench(report, format)?)
}

/// Runs `tachy bench compare OLD NEW`.
fn compare(args: &CompareArgs, output: &OutputArgs) -> Result<ExitStatus> {
    let max_regression = baseline::parse_threshold(&args.max_regression)?;
    check_alpha(args.alpha)?;
    let old = baseline::load(&args.old)?;
    let new = baseline::load(&args.new)?;
    let mut warnings = Vec::new();
    for (loaded, path) in [(&old, &args.old), (&new, &args.new)] {
        for name in &loaded.skipped {
            warnings.push(format!("'{name}' in {} has no times: skipped", path.display()));
        }
        match loaded.format {
            SourceFormat::Hyperfine => {
                warnings.push(format!("{} is a hyperfine export: statistics recomputed from its times", path.display()))
            }
            SourceFormat::PytestBenchmark => warnings.push(format!(
                "{} is a pytest-benchmark file: statistics recomputed from its per-round data",
                path.display()
            )),
            SourceFormat::Tachy => {}
        }
    }
    let label = args.old.display().to_string();
    let rule = GateRule { max_regression, alpha: args.alpha, metric: args.metric.into() };
    let gate = baseline::gate(&label, &old.results, &new.results, rule)?;
    if gate.rows.is_empty() {
        bail!(
            "no command of {} matches one of {}: results are matched by command name (use -n/--command-name to give runs stable names)",
            args.new.display(),
            args.old.display()
        );
    }
    for missing in &gate.missing_in_baseline {
        warnings.push(format!("'{missing}' is only in {}: not compared", args.new.display()));
    }
    let report = BenchReport {
        schema: tachy_report::bench::BENCH_SCHEMA.to_string(),
        tachy_version: env!("CARGO_PKG_VERSION").to_string(),
        results: new.results,
        relative: Vec::new(),
        gate: Some(gate),
        context: tachy_report::bench::RunContext { metric: args.metric.into(), ..Default::default() },
        warnings,
        interrupted: false,
    };
    let mut outputs = crate::output::Outputs::new();
    emit(&report, output, &mut outputs)?;
    outputs.finish()?;
    Ok(status(&report))
}
