//! `tachy check`: config -> budgets run one by one (the tachy binary measuring itself) ->
//! verdict table, JUnit, Markdown, GitHub step summary, HTML report, history -> exit 0/1/2.
//! `--history` shows the trends instead; `--schema` prints the config's JSON schema.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::{Context, Result};
use tachy_check::config::{self, LoadedConfig};
use tachy_check::runner::{self, Event, ProcessExecutor, Settings};
use tachy_report::check::{CheckReport, Verdict};
use tachy_report::render::check as render;

use crate::ExitStatus;
use crate::args::CheckArgs;
use crate::printer;

/// Runs `tachy check`.
pub fn run(args: &CheckArgs, quiet: bool) -> Result<ExitStatus> {
    if args.schema {
        printer::stdout(config::schema_json().as_bytes())?;
        return Ok(ExitStatus::Success);
    }
    let cfg = load_config(args)?;
    let history_dir = cfg.root.join(cfg.config.check.history.as_deref().unwrap_or(config::DEFAULT_HISTORY));
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    if args.history {
        let report = tachy_check::history::read(&history_dir)?;
        if args.json {
            printer::stdout(&serde_json::to_vec_pretty(&report)?)?;
            printer::stdout(b"\n")?;
        } else {
            printer::stdout(render::history::render(&report, color).as_bytes())?;
        }
        return Ok(ExitStatus::Success);
    }

    for (path, flag) in [
        (&args.export_json, "--export-json"),
        (&args.junit, "--junit"),
        (&args.markdown, "--markdown"),
        (&args.report, "--report"),
    ] {
        if let Some(path) = path {
            crate::output::check(path, flag)?;
        }
    }
    let tachy = std::env::current_exe().context("cannot find the tachy binary that is running")?;
    let settings = Settings {
        tachy: tachy.clone(),
        only: args.only.clone(),
        results_dir: args.results_dir.clone(),
        update_baselines: args.update_baselines,
    };
    let mut exec = ProcessExecutor { tachy };
    let progress = !quiet && !args.json && std::io::stderr().is_terminal();
    let mut on_event = |e: Event<'_>| {
        if !progress {
            return;
        }
        match e {
            Event::Start { name, kind, index, total } => {
                printer::info(false, &format!("[{index}/{total}] {name} ({kind}) ..."))
            }
            Event::Server { name, command } => {
                printer::info(false, &format!("        {name}: starting the server `{command}`"))
            }
            Event::Done(r) => {
                let line = match r.verdict {
                    Verdict::Error => {
                        format!("        {}: {} ({})", r.name, r.verdict.label(), r.error.as_deref().unwrap_or(""))
                    }
                    v => format!("        {}: {} in {:.1} s", r.name, v.label(), r.duration_secs),
                };
                printer::info(false, &line);
            }
        }
    };
    let report = runner::run(&cfg, &settings, &mut exec, &mut on_event)?;

    // Outputs first: even an interrupted run keeps what it measured.
    if !args.no_history && !report.budgets.is_empty() {
        tachy_check::history::append(&history_dir, &report)?;
    }
    let mut outputs = crate::output::Outputs::new();
    let results_dir = args.results_dir.clone().unwrap_or_else(|| cfg.root.join(config::DEFAULT_RESULTS));
    write_outputs(args, &report, &results_dir, &mut outputs)?;
    if args.json {
        printer::stdout(&serde_json::to_vec_pretty(&report)?)?;
        printer::stdout(b"\n")?;
    } else {
        printer::stdout(render::text::render(&report, color).as_bytes())?;
    }
    outputs.finish()?;
    if report.interrupted {
        return Ok(ExitStatus::Interrupted);
    }
    Ok(match report.verdict() {
        Verdict::Pass => ExitStatus::Success,
        Verdict::Fail => ExitStatus::Failure,
        Verdict::Error => ExitStatus::Error,
    })
}

fn load_config(args: &CheckArgs) -> Result<LoadedConfig> {
    let path = match &args.config {
        Some(p) => {
            if !p.exists() {
                anyhow::bail!(
                    "{} does not exist; give a tachy.toml or pyproject.toml with --config, or run `tachy init`",
                    p.display()
                );
            }
            p.clone()
        }
        None => {
            let dir = std::env::current_dir().context("cannot read the current folder")?;
            config::discover(&dir).ok_or(tachy_check::ConfigError::NotFound { dir })?
        }
    };
    Ok(config::load(&path)?)
}

/// Writes the exports (each checked before the budgets ran; like every other output, a missing
/// parent folder is an error, not created); a failed write is kept and reported after the
/// summary was printed.
fn write_outputs(
    args: &CheckArgs,
    report: &CheckReport,
    results_dir: &Path,
    outputs: &mut crate::output::Outputs,
) -> Result<()> {
    if let Some(path) = &args.export_json {
        let mut json = serde_json::to_vec_pretty(report)?;
        json.push(b'\n');
        outputs.write(path, &json);
    }
    if let Some(path) = &args.junit {
        outputs.write(path, render::junit::render(report).as_bytes());
    }
    let markdown = render::markdown::render(report);
    if let Some(path) = &args.markdown {
        outputs.write(path, markdown.as_bytes());
    }
    // GitHub Actions: the step summary is appended to (other steps write there too).
    if let Some(summary) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|s| !s.is_empty()) {
        let path = Path::new(&summary);
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("cannot write the GitHub step summary {}", path.display()))?;
        f.write_all(markdown.as_bytes())?;
        f.write_all(b"\n")?;
    }
    if let Some(path) = &args.report {
        let title = format!("tachy check: {}", report.config);
        // The result files of this run are trusted wherever --results-dir put them.
        let page = tachy_report::render::html::page(
            &title,
            &[(report.config.clone(), tachy_report::results::AnyResult::Check(report.clone()))],
            &[results_dir.to_path_buf()],
        );
        for w in &page.warnings {
            printer::warn(w);
        }
        outputs.write(path, page.html.as_bytes());
    }
    Ok(())
}
