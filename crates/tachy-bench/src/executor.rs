//! How one run of a command happens: real processes ([`ProcessExecutor`]) or a deterministic
//! stand-in for tests ([`MockExecutor`]).

use std::time::Duration;

use tachy_process::{ExitInfo, OutputMode, RunError, RunSpec, StderrTail};

use crate::BenchError;

/// What one timed run measured (times in seconds, shell overhead already subtracted).
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Wall time, corrected for shell spawn overhead (never negative).
    pub wall: f64,
    /// Wall time as measured, before any correction (used to plan run counts).
    pub raw_wall: f64,
    /// User CPU time.
    pub user: f64,
    /// System CPU time.
    pub system: f64,
    /// Peak RSS in bytes.
    pub max_rss: u64,
    /// Exit code (128 + signal when killed).
    pub exit_code: i32,
    /// How the process ended, in words, when it failed.
    pub failure: Option<String>,
    /// The tail of its standard error when it failed.
    pub stderr_tail: Option<String>,
}

/// Runs commands. Implementations must be deterministic enough to test against.
pub trait Executor {
    /// Runs a benchmarked command once and measures it. A non-zero exit is not an error here.
    fn run(&mut self, command: &str) -> Result<Sample, BenchError>;

    /// Runs a setup, prepare or cleanup command; a non-zero exit is an error.
    fn run_aux(&mut self, what: &'static str, command: &str) -> Result<(), BenchError> {
        let s = self.run(command)?;
        match s.failure {
            None => Ok(()),
            Some(exit) => Err(BenchError::AuxFailed {
                what,
                command: command.to_string(),
                exit,
                stderr: tail_suffix(s.stderr_tail.as_deref()),
            }),
        }
    }

    /// The shell commands run through, if any.
    fn shell(&self) -> Option<String>;

    /// The shell spawn overhead being subtracted (seconds of wall time), if measured.
    fn shell_overhead(&self) -> Option<f64>;
}

/// Formats a stderr tail as `: <text>` for error messages.
pub(crate) fn tail_suffix(tail: Option<&str>) -> String {
    match tail {
        Some(t) if !t.is_empty() => {
            let lines: Vec<&str> = t.lines().rev().take(5).collect::<Vec<_>>().into_iter().rev().collect();
            format!(": {}", lines.join(" / "))
        }
        _ => String::new(),
    }
}

/// Overhead of spawning the shell alone.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Overhead {
    wall: f64,
    user: f64,
    system: f64,
}

/// Runs real processes, through a shell or directly.
#[derive(Debug)]
pub struct ProcessExecutor {
    shell: Option<String>,
    overhead: Overhead,
    calibrated: bool,
    show_output: bool,
    stderr: Option<StderrTail>,
}

/// Runs of `sh -c ''` used to measure the shell's own cost.
pub const SHELL_CALIBRATION_RUNS: usize = 30;

impl ProcessExecutor {
    /// An executor that runs commands with `shell -c` (or splits them into words and execs
    /// them directly when `shell` is `None`). `show_output` passes the commands' output through.
    pub fn new(shell: Option<String>, show_output: bool) -> Result<Self, BenchError> {
        if let Some(sh) = &shell {
            tachy_process::program::check(std::ffi::OsStr::new(sh)).map_err(|e| {
                BenchError::InvalidSetting(format!(
                    "the shell given with -S/--shell is unusable: {e}; name an installed shell (e.g. -S bash) or pass -N to run the commands without one"
                ))
            })?;
        }
        let stderr = if show_output {
            None
        } else {
            Some(StderrTail::new().map_err(|e| BenchError::Io {
                action: "create",
                path: std::env::temp_dir(),
                source: e,
            })?)
        };
        Ok(ProcessExecutor { shell, overhead: Overhead::default(), calibrated: false, show_output, stderr })
    }

    /// Measures the shell's spawn cost (median of [`SHELL_CALIBRATION_RUNS`] runs of an empty
    /// command), to be subtracted from every later run. Does nothing without a shell.
    pub fn calibrate(&mut self) -> Result<(), BenchError> {
        if self.shell.is_none() || self.calibrated {
            return Ok(());
        }
        let mut walls = Vec::new();
        let mut users = Vec::new();
        let mut systems = Vec::new();
        for _ in 0..SHELL_CALIBRATION_RUNS {
            let s = self.measure("")?;
            if let Some(exit) = s.failure {
                return Err(BenchError::AuxFailed {
                    what: "shell calibration",
                    command: format!("{} -c ''", self.shell.as_deref().unwrap_or("sh")),
                    exit,
                    stderr: tail_suffix(s.stderr_tail.as_deref()),
                });
            }
            walls.push(s.raw_wall);
            users.push(s.user);
            systems.push(s.system);
        }
        self.overhead = Overhead {
            wall: tachy_stats::median(&walls),
            user: tachy_stats::median(&users),
            system: tachy_stats::median(&systems),
        };
        self.calibrated = true;
        Ok(())
    }

    fn spec(&mut self, command: &str) -> Result<RunSpec, BenchError> {
        let mut spec = match &self.shell {
            Some(shell) => RunSpec::new(shell.as_str(), ["-c", command]),
            None => {
                let words = shell_words::split(command)
                    .map_err(|e| BenchError::BadCommandLine { command: command.to_string(), reason: e.to_string() })?;
                let Some((program, args)) = words.split_first() else {
                    return Err(BenchError::BadCommandLine {
                        command: command.to_string(),
                        reason: "it is empty".to_string(),
                    });
                };
                RunSpec::new(program.as_str(), args.iter().map(String::as_str))
            }
        };
        if self.show_output {
            spec.stdout = OutputMode::Inherit;
            spec.stderr = OutputMode::Inherit;
        } else if let Some(tail) = self.stderr.take() {
            spec.stderr = OutputMode::Tail(tail);
        }
        Ok(spec)
    }

    fn measure(&mut self, command: &str) -> Result<Sample, BenchError> {
        let mut spec = self.spec(command)?;
        let result = tachy_process::run(&mut spec);
        if let OutputMode::Tail(tail) = std::mem::take(&mut spec.stderr) {
            self.stderr = Some(tail);
        }
        let m = result.map_err(|e| match e {
            RunError::Interrupted => BenchError::Interrupted,
            // A program run without a shell that cannot start: say why (a folder, no x bit).
            RunError::NotFound(_) | RunError::PermissionDenied(_) if self.shell.is_none() => {
                match tachy_process::program::check(&spec.program) {
                    Err(why) => BenchError::Program(why),
                    Ok(_) => BenchError::Spawn { command: command.to_string(), source: e },
                }
            }
            other => BenchError::Spawn { command: command.to_string(), source: other },
        })?;
        let failed = !m.exit.success();
        let stderr_tail = if failed { self.stderr.as_mut().map(|t| t.tail(2048)) } else { None };
        let secs = Duration::as_secs_f64;
        Ok(Sample {
            wall: secs(&m.wall),
            raw_wall: secs(&m.wall),
            user: secs(&m.user),
            system: secs(&m.system),
            max_rss: m.max_rss_bytes,
            exit_code: m.exit.as_code(),
            failure: failed.then(|| describe(m.exit)),
            stderr_tail,
        })
    }
}

fn describe(exit: ExitInfo) -> String {
    match exit {
        ExitInfo::Code(127) => "exit code 127: command not found".to_string(),
        ExitInfo::Code(126) => "exit code 126: not executable".to_string(),
        other => other.to_string(),
    }
}

impl Executor for ProcessExecutor {
    fn run(&mut self, command: &str) -> Result<Sample, BenchError> {
        let mut s = self.measure(command)?;
        if self.calibrated {
            s.wall = (s.wall - self.overhead.wall).max(0.0);
            s.user = (s.user - self.overhead.user).max(0.0);
            s.system = (s.system - self.overhead.system).max(0.0);
        }
        Ok(s)
    }

    fn shell(&self) -> Option<String> {
        self.shell.clone()
    }

    fn shell_overhead(&self) -> Option<f64> {
        self.calibrated.then_some(self.overhead.wall)
    }
}

/// A deterministic executor for tests and the hidden `--debug-mock` flag.
///
/// A command is read as `MILLISECONDS [fail] [interrupt-after N]`: each run takes that
/// median time with a reproducible ±2% jitter derived from the command and run number;
/// `fail` makes it exit 1; `interrupt-after N` acts as if Ctrl-C arrived at run N (counted
/// over all runs of the executor). Any other command fails to parse.
#[derive(Debug, Default)]
pub struct MockExecutor {
    runs: usize,
    counts: std::collections::HashMap<String, u64>,
    /// Every command run so far, in order (for asserting on schedules).
    pub log: Vec<String>,
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

impl MockExecutor {
    /// A fresh mock.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Executor for MockExecutor {
    fn run(&mut self, command: &str) -> Result<Sample, BenchError> {
        self.runs += 1;
        self.log.push(command.to_string());
        let bad = |reason: &str| BenchError::BadCommandLine {
            command: command.to_string(),
            reason: format!("{reason} (mock commands read `MILLISECONDS [fail] [interrupt-after N]`)"),
        };
        let mut words = command.split_whitespace();
        let ms: f64 = words.next().and_then(|w| w.parse().ok()).ok_or_else(|| bad("no time"))?;
        let mut fail = false;
        while let Some(w) = words.next() {
            match w {
                "fail" => fail = true,
                "interrupt-after" => {
                    let n: usize = words.next().and_then(|w| w.parse().ok()).ok_or_else(|| bad("no count"))?;
                    if self.runs > n {
                        return Err(BenchError::Interrupted);
                    }
                }
                _ => return Err(bad("unknown word")),
            }
        }
        let count = self.counts.entry(command.to_string()).or_insert(0);
        *count += 1;
        let u = (splitmix(fnv(command) ^ *count) >> 11) as f64 / (1u64 << 53) as f64;
        let wall = ms / 1000.0 * (1.0 + 0.04 * (u - 0.5));
        Ok(Sample {
            wall,
            raw_wall: wall,
            user: wall * 0.9,
            system: wall * 0.05,
            max_rss: 10 << 20,
            exit_code: i32::from(fail),
            failure: fail.then(|| "exit code 1".to_string()),
            stderr_tail: fail.then(|| "mock failure".to_string()),
        })
    }

    fn shell(&self) -> Option<String> {
        None
    }

    fn shell_overhead(&self) -> Option<f64> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mock_is_deterministic_and_jittered() {
        let mut a = MockExecutor::new();
        let mut b = MockExecutor::new();
        let xs: Vec<f64> = (0..20).map(|_| a.run("100").unwrap().wall).collect();
        let ys: Vec<f64> = (0..20).map(|_| b.run("100").unwrap().wall).collect();
        assert_eq!(xs, ys);
        assert!(xs.iter().all(|x| (0.098..=0.102).contains(x)));
        assert!(xs.windows(2).any(|w| w[0] != w[1]));
    }

    #[test]
    fn mock_failures_and_interrupts() {
        let mut m = MockExecutor::new();
        assert_eq!(m.run("5 fail").unwrap().exit_code, 1);
        assert!(matches!(m.run("5 interrupt-after 1"), Err(BenchError::Interrupted)));
        assert!(matches!(m.run("five"), Err(BenchError::BadCommandLine { .. })));
    }

    #[test]
    fn shell_overhead_is_measured_and_subtracted() {
        let mut e = ProcessExecutor::new(Some("sh".into()), false).unwrap();
        e.calibrate().unwrap();
        let overhead = e.shell_overhead().unwrap();
        assert!(overhead > 0.0);
        let s = e.run("true").unwrap();
        assert!(s.wall <= s.raw_wall);
        assert!(s.wall >= 0.0);
    }

    #[test]
    fn failing_command_reports_stderr_tail() {
        let mut e = ProcessExecutor::new(Some("sh".into()), false).unwrap();
        let s = e.run("echo boom >&2; exit 4").unwrap();
        assert_eq!(s.exit_code, 4);
        assert_eq!(s.stderr_tail.as_deref(), Some("boom"));
        let err = e.run_aux("setup", "echo nope >&2; exit 1").unwrap_err().to_string();
        assert!(err.contains("setup command") && err.contains("nope"), "{err}");
    }

    #[test]
    fn no_shell_splits_words_and_reports_missing_programs() {
        let e = ProcessExecutor::new(Some("/no/such/shell".into()), false).unwrap_err().to_string();
        assert!(
            e.starts_with("the shell given with -S/--shell is unusable: cannot run `/no/such/shell`: no such file"),
            "{e}"
        );
        let mut e = ProcessExecutor::new(None, false).unwrap();
        assert_eq!(e.run("sh -c 'exit 3'").unwrap().exit_code, 3);
        let err = e.run("tachy-missing-program --flag").unwrap_err().to_string();
        assert!(err.contains("not found on PATH"), "{err}");
        let dir = std::env::temp_dir().display().to_string();
        let err = e.run(&dir).unwrap_err().to_string();
        assert_eq!(err, format!("cannot run `{dir}`: it is a folder, not a program"));
        assert!(matches!(e.run("'unclosed"), Err(BenchError::BadCommandLine { .. })));
    }
}
