//! `tachy mem`: a sampling memory profiler for Python.
//!
//! tachy writes its allocator hook (a small shared library built from `hook/hook.rs` by
//! `build.rs` and embedded in the binary) and a `sitecustomize.py` bootstrap into a scratch
//! folder, puts that folder first on `PYTHONPATH` and runs the program. The bootstrap loads
//! the hook with `ctypes.PyDLL`; the hook wraps CPython's allocators (exact live and peak
//! byte counters, sampled stacks) and streams a capture per process. After the run, tachy
//! replays the captures ([`capture`]) into a [`MemReport`] ([`report`]).
//!
//! This crate never prints or exits.

pub mod capture;
mod error;
#[cfg(test)]
mod fuzz;
pub mod report;

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use error::MemError;
use tachy_process::{ExitInfo, OutputMode, RunError, RunSpec};
use tachy_report::mem::{MEM_SCHEMA, MemReport};
use tachy_report::units::Size;

/// The hook library, built by `build.rs`.
const HOOK: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/libtachy_mem_hook.so"));
/// The bootstrap the interpreter runs at start-up.
const BOOTSTRAP: &str = include_str!("sitecustomize.py");

/// Default mean bytes between samples.
pub const DEFAULT_SAMPLE_BYTES: u64 = 256 * 1024;
/// The shortest timeline period (the hook's sampler thread counts in milliseconds).
pub const MIN_INTERVAL: Duration = Duration::from_millis(1);

/// Resolved options of one memory profile.
#[derive(Debug, Clone, PartialEq)]
pub struct MemSettings {
    /// The command (program and arguments), as given (bytes that are not UTF-8 included).
    pub command: Vec<OsString>,
    /// Mean bytes between samples; 0 records every allocation.
    pub sample_bytes: u64,
    /// Trace child Python processes too.
    pub subprocesses: bool,
    /// Period of the memory timeline.
    pub interval: Duration,
    /// Budget on the traced peak (with the unit family it was written in).
    pub max_peak: Option<Size>,
    /// Budget on the leaked bytes.
    pub max_leak: Option<Size>,
    /// Keep the raw captures in this folder.
    pub keep_captures: Option<PathBuf>,
    /// Extra environment variables for the program.
    pub env: Vec<(String, String)>,
    /// Trace the C allocator (`malloc` and friends) too, through `LD_PRELOAD` (the default).
    pub native: bool,
}

impl MemSettings {
    /// Defaults for a command.
    pub fn new(command: Vec<OsString>) -> Self {
        MemSettings {
            command,
            sample_bytes: DEFAULT_SAMPLE_BYTES,
            subprocesses: false,
            interval: Duration::from_millis(10),
            max_peak: None,
            max_leak: None,
            keep_captures: None,
            env: Vec::new(),
            native: true,
        }
    }
}

/// A finished (or partial) memory profile.
#[derive(Debug)]
pub struct MemOutcome {
    /// The report.
    pub report: MemReport,
    /// Ctrl-C stopped the program.
    pub interrupted: bool,
    /// How the program ended (`None` when Ctrl-C stopped it).
    pub exit: Option<ExitInfo>,
}

fn check_command(command: &[OsString]) -> Result<(), MemError> {
    let Some(program) = command.first() else { return Err(MemError::NoCommand) };
    tachy_process::program::check(program)?;
    let base = Path::new(program).file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    if base.starts_with("python")
        && let Some(script) = command.get(1)
        && !script.as_bytes().starts_with(b"-")
        && !Path::new(script).exists()
    {
        return Err(MemError::ScriptNotFound(script.into()));
    }
    Ok(())
}

/// Refuses option values that cannot work, before anything runs.
fn check_settings(settings: &MemSettings) -> Result<(), MemError> {
    if settings.interval < MIN_INTERVAL {
        return Err(MemError::InvalidSetting(
            "--interval must be at least 1ms (the timeline's default period is 10ms)".into(),
        ));
    }
    if let Some(dir) = &settings.keep_captures
        && dir.exists()
        && !dir.is_dir()
    {
        return Err(MemError::InvalidSetting(format!(
            "--keep-captures {}: it is a file, not a folder; give a folder (it is created when missing)",
            dir.display()
        )));
    }
    Ok(())
}

/// Runs the command under the hook and builds the report.
pub fn run(settings: &MemSettings) -> Result<MemOutcome, MemError> {
    check_settings(settings)?;
    check_command(&settings.command)?;
    let scratch = tempfile::Builder::new()
        .prefix("tachy-mem-")
        .tempdir()
        .map_err(|source| MemError::Setup { path: std::env::temp_dir(), source })?;
    let boot = scratch.path().join("boot");
    let cap = match &settings.keep_captures {
        Some(dir) => dir.clone(),
        None => scratch.path().join("captures"),
    };
    let lib = scratch.path().join("libtachy_mem_hook.so");
    for dir in [&boot, &cap] {
        std::fs::create_dir_all(dir).map_err(|source| MemError::Setup { path: dir.clone(), source })?;
    }
    std::fs::write(&lib, HOOK).map_err(|source| MemError::Setup { path: lib.clone(), source })?;
    let site = boot.join("sitecustomize.py");
    std::fs::write(&site, BOOTSTRAP).map_err(|source| MemError::Setup { path: site, source })?;

    let mut spec = RunSpec::new(&settings.command[0], &settings.command[1..]);
    let pythonpath = match std::env::var_os("PYTHONPATH") {
        Some(p) if !p.is_empty() => {
            let mut v = boot.clone().into_os_string();
            v.push(":");
            v.push(p);
            v
        }
        _ => boot.clone().into_os_string(),
    };
    spec.env = vec![
        ("PYTHONPATH".into(), pythonpath),
        ("TACHY_MEM_DIR".into(), cap.clone().into_os_string()),
        ("TACHY_MEM_LIB".into(), lib.clone().into_os_string()),
        ("TACHY_MEM_SAMPLE".into(), settings.sample_bytes.to_string().into()),
        ("TACHY_MEM_INTERVAL".into(), settings.interval.as_millis().max(1).to_string().into()),
        ("TACHY_MEM_CHILDREN".into(), if settings.subprocesses { "1" } else { "0" }.into()),
    ];
    if settings.native {
        let mut preload = lib.clone().into_os_string();
        if let Some(old) = std::env::var_os("LD_PRELOAD").filter(|v| !v.is_empty()) {
            preload.push(":");
            preload.push(old);
        }
        spec.env.push(("LD_PRELOAD".into(), preload));
        spec.env.push(("TACHY_MEM_NATIVE".into(), "1".into()));
    }
    spec.env.extend(settings.env.iter().map(|(k, v)| (k.into(), v.into())));
    spec.stdout = OutputMode::Inherit;
    spec.stderr = OutputMode::Inherit;
    spec.inherit_stdin = true;
    let started_at = std::time::SystemTime::now();
    let words: Vec<String> = settings.command.iter().map(|w| w.to_string_lossy().into_owned()).collect();
    let command_line = words.join(" ");
    let (exit, max_rss, wall, interrupted) = match tachy_process::run(&mut spec) {
        Ok(m) => (Some(m.exit), m.max_rss_bytes, m.wall, false),
        Err(RunError::Interrupted) => (None, 0, started_at.elapsed().unwrap_or_default(), true),
        Err(RunError::NotFound(p)) => return Err(MemError::ProgramNotFound(p)),
        Err(e) => return Err(MemError::Spawn { command: command_line, reason: e.to_string() }),
    };

    // Hook failures (a missing symbol) are written by the bootstrap next to the captures.
    let mut captures = Vec::new();
    let mut failures = Vec::new();
    let mut infos = std::collections::HashMap::new();
    let entries = std::fs::read_dir(&cap).map_err(|source| MemError::Read { path: cap.clone(), source })?;
    for e in entries.flatten() {
        let path = e.path();
        let pid: Option<u32> = path.file_stem().and_then(|s| s.to_str()).and_then(|s| s.parse().ok());
        match (path.extension().and_then(|x| x.to_str()), pid) {
            (Some("tmc"), Some(_)) => captures.push(path),
            (Some("err"), _) => failures.push(std::fs::read_to_string(&path).unwrap_or_default()),
            (Some("info"), Some(pid)) => {
                infos.insert(pid, std::fs::read_to_string(&path).unwrap_or_default());
            }
            _ => {}
        }
    }
    captures.sort();
    if captures.is_empty() {
        if let Some(f) = failures.first() {
            return Err(MemError::HookFailed(f.trim().to_string()));
        }
        if interrupted {
            return Err(MemError::HookFailed("interrupted before the program started".into()));
        }
        let status = exit.map_or_else(|| "interrupted".to_string(), |e| e.to_string());
        return Err(MemError::NotPython { command: command_line, status });
    }
    let mut parsed = Vec::new();
    for path in &captures {
        parsed.push(capture::read(path)?);
    }
    // The main process started first.
    parsed.sort_by_key(|c| c.start_unix_ns);
    let python_version = infos.get(&parsed[0].pid).and_then(|i| i.lines().next().map(str::to_string));
    let run = report::RunFacts {
        command: words,
        started_at,
        wall,
        exit,
        interrupted,
        max_rss_bytes: max_rss,
        python_version,
        max_peak: settings.max_peak,
        max_leak: settings.max_leak,
        hook_failures: failures,
    };
    Ok(MemOutcome { report: report::build(&parsed, &run), interrupted, exit })
}

/// How the program ended, for reports.
pub fn describe_exit(exit: Option<ExitInfo>) -> String {
    exit.map_or_else(|| "interrupted".to_string(), |e| e.to_string())
}

/// Reads a saved report (`tachy mem -o FILE`).
pub fn load(path: &Path) -> Result<MemReport, MemError> {
    let bytes = std::fs::read(path).map_err(|source| MemError::Read { path: path.into(), source })?;
    parse(path, &bytes)
}

/// Parses and checks a saved report's bytes (`path` only names the file in messages).
pub fn parse(path: &Path, bytes: &[u8]) -> Result<MemReport, MemError> {
    let bad = |reason: String| MemError::BadReport { path: path.into(), reason };
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| bad(format!("invalid JSON: {e}")))?;
    match value.get("schema").and_then(|s| s.as_str()) {
        Some(MEM_SCHEMA) => {}
        Some(other) => return Err(bad(format!("schema '{other}', expected '{MEM_SCHEMA}'"))),
        None => return Err(bad("no schema field".into())),
    }
    let report: MemReport = serde_json::from_value(value).map_err(|e| bad(e.to_string()))?;
    for (i, s) in report.stacks.iter().enumerate() {
        if s.frames.iter().any(|f| *f as usize >= report.frames.len()) {
            return Err(bad(format!("stack {i} names a frame that does not exist")));
        }
    }
    fn overflows(mut values: impl Iterator<Item = u64>) -> bool {
        values.try_fold(0u64, u64::checked_add).is_none()
    }
    if overflows(report.stacks.iter().map(|s| s.peak_bytes))
        || overflows(report.stacks.iter().map(|s| s.allocated_bytes))
        || overflows(report.stacks.iter().map(|s| s.leaked_bytes))
        || [&report.peak_sites, &report.allocated_sites, &report.leak_sites, &report.import_sites]
            .into_iter()
            .any(|sites| overflows(sites.iter().map(|s| s.bytes)))
    {
        return Err(bad("its byte counts add up to more than 2^64".into()));
    }
    for site in report.peak_sites.iter().chain(&report.allocated_sites).chain(&report.leak_sites) {
        if site.stack as usize >= report.stacks.len() {
            return Err(bad(format!("site {}:{} names a stack that does not exist", site.file, site.line)));
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_checked() {
        assert!(matches!(check_command(&[]), Err(MemError::NoCommand)));
        assert!(matches!(check_command(&["tachy-no-such-program".into()]), Err(MemError::Program(_))));
        let s = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        let e = check_command(&s(&["/"])).unwrap_err().to_string();
        assert_eq!(e, "cannot run `/`: it is a folder, not a program");
        assert!(matches!(check_command(&s(&["python3", "/no/such.py"])), Err(MemError::ScriptNotFound(_))));
        assert!(check_command(&s(&["python3", "-c", "pass"])).is_ok());
    }

    #[test]
    fn settings_that_cannot_work_are_refused() {
        let mut st = MemSettings::new(vec!["python3".into()]);
        st.interval = Duration::ZERO;
        let e = check_settings(&st).unwrap_err().to_string();
        assert!(e.starts_with("--interval must be at least 1ms"), "{e}");
        st.interval = Duration::from_millis(1);
        assert!(check_settings(&st).is_ok());
        let file = tempfile::NamedTempFile::new().unwrap();
        st.keep_captures = Some(file.path().to_path_buf());
        let e = check_settings(&st).unwrap_err().to_string();
        assert!(e.contains("it is a file, not a folder"), "{e}");
        st.keep_captures = Some(file.path().with_extension("new-folder"));
        assert!(check_settings(&st).is_ok());
    }

    #[test]
    fn the_hook_is_embedded() {
        assert!(HOOK.starts_with(b"\x7fELF"));
        assert!(HOOK.windows(16).any(|w| w == b"tachy_mem_start\0"));
    }
}
