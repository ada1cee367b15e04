//! `tachy mem`: arguments -> settings -> run the program under the allocator hook -> report
//! -> text on stdout, the saved report and other formats beside it -> exit 1 on a budget.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use tachy_mem::MemSettings;
use tachy_process::ExitInfo;
use tachy_report::mem::{MemEnd, MemReport};
use tachy_report::render::mem::{self as render, MemFormat};

use crate::ExitStatus;
use crate::args::{MemAction, MemArgs, MemShowArgs};
use crate::commands::profile::strip_json;
use crate::printer;

/// Runs `tachy mem` or `tachy mem show`.
pub fn run(args: &MemArgs, quiet: bool) -> Result<ExitStatus> {
    if let Some(MemAction::Show(show_args)) = &args.action {
        return show(show_args, &args.formats);
    }
    if args.command.is_empty() {
        bail!("no command to profile: write it after --, e.g. `tachy mem -- python3 app.py`");
    }
    // Fail before a long run, not after it, when a file cannot be written (nothing is created
    // at the target until the report is complete).
    let formats = if args.formats.is_empty() { vec![MemFormat::Text] } else { args.formats.clone() };
    if let Some(out) = &args.output {
        crate::output::check(out, "-o")?;
    }
    let planned = args.output.as_ref().map(|o| strip_json(o)).unwrap_or_else(|| PathBuf::from("tachy-mem-0"));
    for &format in formats.iter().filter(|f| !matches!(f, MemFormat::Text | MemFormat::Json)) {
        crate::output::check(&crate::commands::profile::side_file(&planned, format.extension()), "--format")?;
    }
    if args.sample_bytes == 0 && !args.exact {
        bail!("--sample-bytes must be above 0 (e.g. 64KiB); to record every allocation, pass --exact");
    }
    let mut settings = MemSettings::new(args.command.clone());
    settings.sample_bytes = if args.exact { 0 } else { args.sample_bytes };
    settings.subprocesses = args.subprocesses;
    settings.native = !args.no_native;
    settings.interval = args.interval;
    settings.max_peak = args.max_peak;
    settings.max_leak = args.max_leak;
    settings.keep_captures = args.keep_captures.clone();
    let outcome = tachy_mem::run(&settings)?;
    let report = &outcome.report;

    let mut outputs = crate::output::Outputs::new();
    let base = match &args.output {
        Some(out) => {
            let json = render::json(report)?;
            if outputs.write(out, json.as_bytes()) {
                printer::info(quiet, &format!("Wrote the memory report to {}", out.display()));
            }
            strip_json(out)
        }
        None => PathBuf::from(format!("tachy-mem-{}", report.pids.first().copied().unwrap_or(0))),
    };
    let hurried = tachy_process::interrupt::hurry();
    for &format in formats.iter().filter(|f| **f != MemFormat::Text) {
        if format == MemFormat::Json && args.output.is_some() {
            continue;
        }
        if hurried && args.output.is_some() {
            printer::warn(&format!("interrupted twice: {} not written", format_name(format)));
            continue;
        }
        let path = crate::commands::profile::side_file(&base, format.extension());
        match render::render(report, format, false) {
            Ok(bytes) => {
                if outputs.write(&path, &bytes) {
                    printer::info(quiet, &format!("Wrote {} to {}", format_name(format), path.display()));
                }
            }
            Err(e) => printer::warn(&format!("{}: {e}", format_name(format))),
        }
    }
    if formats.contains(&MemFormat::Text) {
        printer::stdout(&render::render(report, MemFormat::Text, color())?)?;
    }
    outputs.finish()?;
    let interrupted = outcome.interrupted || report.end == MemEnd::Interrupted;
    let program = match outcome.exit {
        _ if interrupted => None,
        Some(ExitInfo::Code(0)) | None => None,
        Some(ExitInfo::Code(c)) => Some(format!("exited with code {c}")),
        Some(ExitInfo::Signal(s)) => Some(format!("was killed by signal {s}")),
    };
    Ok(super::launched_verdict(interrupted, program, (!report.budgets_passed()).then_some("a budget failed")))
}

fn color() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// What a format's file holds, for the `Wrote ... to FILE` lines.
fn format_name(f: MemFormat) -> &'static str {
    match f {
        MemFormat::Text => "the summary",
        MemFormat::Json => "the memory report",
        MemFormat::Flamegraph => "the flamegraph of memory live at the peak",
        MemFormat::FlamegraphAllocated => "the flamegraph of allocated memory",
        MemFormat::FlamegraphLeaks => "the flamegraph of leaked memory",
        MemFormat::Speedscope => "the speedscope profile",
        MemFormat::Pprof => "the pprof profile",
        MemFormat::Plot => "the memory plot",
    }
}

fn format_from_extension(path: &Path) -> Option<MemFormat> {
    let s = path.to_string_lossy();
    [
        (".speedscope.json", MemFormat::Speedscope),
        (".allocated.svg", MemFormat::FlamegraphAllocated),
        (".leaks.svg", MemFormat::FlamegraphLeaks),
        (".plot.svg", MemFormat::Plot),
        (".svg", MemFormat::Flamegraph),
        (".pb.gz", MemFormat::Pprof),
        (".json", MemFormat::Json),
        (".txt", MemFormat::Text),
    ]
    .into_iter()
    .find(|(ext, _)| s.ends_with(ext))
    .map(|(_, f)| f)
}

fn show(args: &MemShowArgs, formats: &[MemFormat]) -> Result<ExitStatus> {
    let report = tachy_mem::load(&args.file)?;
    match &args.output {
        Some(out) => {
            let format = match formats {
                [] => format_from_extension(out).unwrap_or(MemFormat::Text),
                [one] => *one,
                _ => bail!("give one --format when writing to a file with -o"),
            };
            let bytes = render::render(&report, format, false)?;
            crate::output::write_atomic(out, &bytes).with_context(|| format!("cannot write {}", out.display()))?;
        }
        None => {
            let formats = if formats.is_empty() { vec![MemFormat::Text] } else { formats.to_vec() };
            for format in formats {
                if format.is_binary() {
                    bail!("pprof output is binary: write it to a file with -o FILE.pb.gz");
                }
                printer::stdout(&render::render(&report, format, format == MemFormat::Text && color())?)?;
            }
        }
    }
    Ok(verdict(&report))
}

/// The verdict of a saved report re-rendered by `show`: its budgets (the program's own exit
/// was reported when it ran).
fn verdict(report: &MemReport) -> ExitStatus {
    if report.end == MemEnd::Interrupted {
        ExitStatus::Interrupted
    } else if report.budgets_passed() {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_extensions() {
        assert_eq!(format_from_extension(Path::new("a.svg")), Some(MemFormat::Flamegraph));
        assert_eq!(format_from_extension(Path::new("a.leaks.svg")), Some(MemFormat::FlamegraphLeaks));
        assert_eq!(format_from_extension(Path::new("a.pb.gz")), Some(MemFormat::Pprof));
        assert_eq!(format_from_extension(Path::new("a.bin")), None);
        assert_eq!(strip_json(Path::new("x/app.mem.json")), PathBuf::from("x/app.mem"));
    }
}
