//! `tachy dump`: every thread's current Python stack, read once, for hung or slow processes.

use py_spy::config::LockingStrategy;
use py_spy::{Config, PythonSpy};
use tachy_report::dump::{DUMP_SCHEMA, DumpFrame, DumpReport, LocalVar, ProcessDump, ThreadDump};

use crate::{ProfileError, sampler, target};

/// Options of a dump.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DumpSettings {
    /// The process.
    pub pid: u32,
    /// Read local variables (reprs truncated, read from memory).
    pub locals: bool,
    /// Also dump Python child processes.
    pub subprocesses: bool,
    /// Do not pause the process while reading it.
    pub nonblocking: bool,
    /// Include native frames.
    pub native: bool,
}

fn config(s: &DumpSettings) -> Config {
    Config {
        blocking: if s.nonblocking { LockingStrategy::NonBlocking } else { LockingStrategy::Lock },
        native: s.native,
        dump_locals: u64::from(s.locals),
        include_idle: true,
        show_line_numbers: true,
        ..Config::default()
    }
}

/// Source lines read from disk, one read per file.
#[derive(Default)]
struct Sources(std::collections::HashMap<String, Option<Vec<String>>>);

impl Sources {
    fn line(&mut self, file: &str, line: i32) -> Option<String> {
        let lines = self.0.entry(file.to_string()).or_insert_with(|| {
            std::fs::read(file)
                .ok()
                .map(|b| String::from_utf8_lossy(&b).lines().map(|l| l.trim().to_string()).collect())
        });
        let idx = usize::try_from(line).ok()?.checked_sub(1)?;
        lines.as_ref()?.get(idx).filter(|l| !l.is_empty()).cloned()
    }
}

fn one(pid: u32, cfg: &Config) -> Result<ProcessDump, ProfileError> {
    let mut sources = Sources::default();
    let mut spy = PythonSpy::new(pid as py_spy::Pid, cfg).map_err(|e| sampler::classify(pid, e))?;
    let traces = spy.get_stack_traces().map_err(|e| sampler::classify(pid, e))?;
    let threads = traces
        .into_iter()
        .map(|t| ThreadDump {
            thread_id: t.thread_id,
            os_thread_id: t.os_thread_id,
            name: t.thread_name.clone(),
            gil: t.owns_gil,
            active: t.active,
            frames: t
                .frames
                .iter()
                .rev()
                .map(|f| DumpFrame {
                    function: f.name.clone(),
                    file: f.filename.clone(),
                    line: f.line,
                    source: sources.line(&f.filename, f.line),
                    locals: f
                        .locals
                        .iter()
                        .flatten()
                        .map(|l| LocalVar {
                            name: l.name.clone(),
                            repr: l.repr.clone().unwrap_or_else(|| "?".into()),
                            arg: l.arg,
                        })
                        .collect(),
                })
                .collect(),
        })
        .collect();
    Ok(ProcessDump { pid, command: target::cmdline(pid), python_version: spy.version.to_string(), threads })
}

/// Reads the stacks once.
pub fn dump(settings: &DumpSettings) -> Result<DumpReport, ProfileError> {
    if settings.native && !cfg!(feature = "unwind") {
        return Err(ProfileError::NativeUnsupported);
    }
    if !target::alive(settings.pid) {
        return Err(ProfileError::NoSuchProcess(settings.pid));
    }
    let cfg = config(settings);
    let mut processes = vec![one(settings.pid, &cfg)?];
    if settings.subprocesses {
        let mut children = target::descendants(settings.pid);
        children.sort_unstable();
        // Children that are not Python (a shell, a compiler) are skipped silently.
        processes.extend(children.into_iter().filter_map(|pid| one(pid, &cfg).ok()));
    }
    Ok(DumpReport { schema: DUMP_SCHEMA.to_string(), processes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dead_pid_is_reported() {
        let s =
            DumpSettings { pid: u32::MAX - 3, locals: false, subprocesses: false, nonblocking: false, native: false };
        assert!(matches!(dump(&s), Err(ProfileError::NoSuchProcess(_))));
    }
}
