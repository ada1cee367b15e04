//! `tachy profile`, `tachy profile show` and `tachy profile diff`: arguments -> settings ->
//! sampling -> files and a summary -> exit code.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use tachy_profile::{ProfileSettings, Target, diff, store};
use tachy_report::Profile;
use tachy_report::profile::EndReason;
use tachy_report::render::profile::{self as render, ProfileFormat, ProfileRenderOptions};

use crate::ExitStatus;
use crate::args::{ProfileAction, ProfileArgs, ProfileDiffArgs, ProfileRenderArgs, ProfileShowArgs, SamplingArgs};
use crate::printer::{self, ProfileProgress};

/// Runs `tachy profile`.
pub fn run(args: ProfileArgs, quiet: bool) -> Result<ExitStatus> {
    match &args.action {
        Some(ProfileAction::Show(s)) => return show(s, &args.render),
        Some(ProfileAction::Diff(d)) => return compare(d, quiet),
        None => {}
    }
    let target = target(&args.sampling, &args.command)?;
    let formats = formats(&args.render);
    // Every file this run will write is checked before the run, not after it.
    let planned = args.output.clone().unwrap_or_else(|| PathBuf::from("profile-0"));
    if let Some(out) = &args.output {
        crate::output::check(out, "-o")?;
    }
    for &format in formats.iter().filter(|f| !matches!(f, ProfileFormat::Text | ProfileFormat::Json)) {
        crate::output::check(&side_file(&strip_json(&planned), format.extension()), "-f")?;
    }
    let mut settings = settings(&args.sampling, target);
    settings.threads = args.threads;
    settings.gil_only = args.gil;
    let mut progress = ProfileProgress::new(quiet);
    let outcome = tachy_profile::sampler::run(&settings, &mut progress);
    progress.finish();
    let outcome = outcome?;
    let profile = &outcome.profile;

    let opts = render_options(&args.render);
    let mut outputs = crate::output::Outputs::new();
    let base = match &args.output {
        Some(out) => {
            if outputs.write(out, &store::to_bytes(profile)?) {
                printer::info(
                    quiet,
                    &format!("Wrote the profile ({} samples) to {}", profile.total_samples(), out.display()),
                );
            }
            strip_json(out)
        }
        None => PathBuf::from(format!("profile-{}", profile.meta.pids.first().copied().unwrap_or(0))),
    };
    // The raw profile is saved first; when hurried (a second Ctrl-C) the extra renderings are
    // skipped.
    let hurried = tachy_process::interrupt::hurry();
    for &format in formats.iter().filter(|f| **f != ProfileFormat::Text) {
        if format == ProfileFormat::Json && args.output.is_some() {
            continue;
        }
        if hurried && args.output.is_some() {
            printer::warn(&format!("interrupted twice: {} not written", name(format)));
            continue;
        }
        let path = side_file(&base, format.extension());
        if outputs.write(&path, &render::render(profile, format, opts)?) {
            printer::info(quiet, &format!("Wrote {} to {}", name(format), path.display()));
        }
    }
    for note in &outcome.notes {
        printer::warn(note);
    }
    if profile.meta.errors > 0 {
        printer::warn(&format!(
            "{} of {} sampling rounds failed to read a stack (see the summary)",
            profile.meta.errors, profile.meta.rounds
        ));
    }
    if formats.contains(&ProfileFormat::Text) {
        printer::stdout(&render::render(profile, ProfileFormat::Text, opts)?)?;
    }
    outputs.finish()?;
    Ok(super::launched_verdict(
        profile.meta.end == EndReason::Interrupted || tachy_process::interrupt::interrupted(),
        program_failure(&profile.meta),
        None,
    ))
}

/// How a launched program that ended by itself failed (`None`: it succeeded, was attached
/// to, or was stopped by tachy).
pub(crate) fn program_failure(meta: &tachy_report::profile::ProfileMeta) -> Option<String> {
    if meta.end != EndReason::TargetExited {
        return None;
    }
    meta.exit_code.and_then(super::shell_status_failure)
}

/// The target of `tachy profile` or `tachy top`: `--pid`, or the command after `--`.
pub(crate) fn target(sampling: &SamplingArgs, command: &[std::ffi::OsString]) -> Result<Target> {
    match (sampling.pid, command.is_empty()) {
        (Some(pid), _) => Ok(Target::Pid(pid)),
        (None, false) => Ok(Target::Launch(command.to_vec())),
        (None, true) => {
            bail!("nothing to profile: give a command after `--` (e.g. `tachy profile -- python3 app.py`) or --pid PID")
        }
    }
}

/// Sampling settings from the shared flags (threads and GIL-only off).
pub(crate) fn settings(s: &SamplingArgs, target: Target) -> ProfileSettings {
    ProfileSettings {
        target,
        rate: s.rate,
        duration: s.duration,
        subprocesses: s.subprocesses,
        threads: false,
        idle: s.idle,
        gil_only: false,
        nonblocking: s.nonblocking,
        native: s.native,
        discard_output: false,
        live_view: false,
    }
}

fn formats(r: &ProfileRenderArgs) -> Vec<ProfileFormat> {
    if r.formats.is_empty() { vec![ProfileFormat::Text] } else { r.formats.clone() }
}

fn render_options(r: &ProfileRenderArgs) -> ProfileRenderOptions {
    ProfileRenderOptions { lines: r.lines, top: r.top.max(1) }
}

fn name(f: ProfileFormat) -> &'static str {
    match f {
        ProfileFormat::Text => "the summary",
        ProfileFormat::Json => "the profile",
        ProfileFormat::Collapsed => "collapsed stacks",
        ProfileFormat::Flamegraph => "the flamegraph",
        ProfileFormat::Speedscope => "the speedscope profile",
        ProfileFormat::Pprof => "the pprof profile",
        ProfileFormat::Chrome => "the Chrome trace",
    }
}

/// `app.json` -> `app` (the base name other formats are written beside).
pub(crate) fn strip_json(p: &Path) -> PathBuf {
    use std::os::unix::ffi::OsStrExt;
    let bytes = p.as_os_str().as_bytes();
    let stripped = bytes.strip_suffix(b".json").unwrap_or(bytes);
    PathBuf::from(std::ffi::OsStr::from_bytes(stripped))
}

/// `base` + `.ext`, keeping the bytes of a file name that is not UTF-8.
pub(crate) fn side_file(base: &Path, extension: &str) -> PathBuf {
    let mut name = base.as_os_str().to_os_string();
    name.push(".");
    name.push(extension);
    PathBuf::from(name)
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    crate::output::write_atomic(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// Guesses a format from an output file name.
fn format_from_extension(path: &Path) -> Option<ProfileFormat> {
    let s = path.display().to_string().to_ascii_lowercase();
    [
        (".speedscope.json", ProfileFormat::Speedscope),
        (".trace.json", ProfileFormat::Chrome),
        (".svg", ProfileFormat::Flamegraph),
        (".pb.gz", ProfileFormat::Pprof),
        (".pprof", ProfileFormat::Pprof),
        (".collapsed", ProfileFormat::Collapsed),
        (".folded", ProfileFormat::Collapsed),
        (".json", ProfileFormat::Json),
        (".txt", ProfileFormat::Text),
    ]
    .into_iter()
    .find(|(ext, _)| s.ends_with(ext))
    .map(|(_, f)| f)
}

fn show(args: &ProfileShowArgs, r: &ProfileRenderArgs) -> Result<ExitStatus> {
    let profile: Profile = store::load(&args.file)?;
    let opts = render_options(r);
    match &args.output {
        Some(out) => {
            let format = match r.formats.as_slice() {
                [] => format_from_extension(out).unwrap_or(ProfileFormat::Text),
                [one] => *one,
                _ => bail!("give one --format when writing to a file with -o"),
            };
            write(out, &render::render(&profile, format, opts)?)?;
        }
        None => {
            for format in formats(r) {
                if format.is_binary() {
                    bail!("pprof output is binary: write it to a file with -o FILE.pb.gz");
                }
                printer::stdout(&render::render(&profile, format, opts)?)?;
            }
        }
    }
    Ok(ExitStatus::Success)
}

fn compare(args: &ProfileDiffArgs, quiet: bool) -> Result<ExitStatus> {
    if let Some(p) = args.fail_if_grows
        && !(p.is_finite() && p >= 0.0)
    {
        bail!("--fail-if-grows takes percentage points (e.g. 5), got {p}");
    }
    let before = store::load(&args.before)?;
    let after = store::load(&args.after)?;
    let d = diff::diff(&before, &after, args.fail_if_grows);
    if let Some(svg) = &args.output {
        write(svg, &render::diff::flamegraph(&before, &after)?)?;
        printer::info(quiet, &format!("Wrote the differential flamegraph to {}", svg.display()));
    }
    if args.json {
        let mut s = serde_json::to_string_pretty(&d)?;
        s.push('\n');
        printer::stdout(s.as_bytes())?;
    } else {
        printer::stdout(render::diff::text(&d, args.top.max(1)).as_bytes())?;
    }
    Ok(if d.failed { ExitStatus::Failure } else { ExitStatus::Success })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_from_extensions() {
        assert_eq!(format_from_extension(Path::new("a.svg")), Some(ProfileFormat::Flamegraph));
        assert_eq!(format_from_extension(Path::new("a.speedscope.json")), Some(ProfileFormat::Speedscope));
        assert_eq!(format_from_extension(Path::new("a.pb.gz")), Some(ProfileFormat::Pprof));
        assert_eq!(format_from_extension(Path::new("a.json")), Some(ProfileFormat::Json));
        assert_eq!(format_from_extension(Path::new("a.bin")), None);
        assert_eq!(strip_json(Path::new("out/app.json")), PathBuf::from("out/app"));
    }
}
