//! Spawning one command and measuring it with `wait4`.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::interrupt;

/// What one finished (or killed) child cost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measurement {
    /// Wall-clock time from just before spawn to just after the child was reaped.
    pub wall: Duration,
    /// User CPU time of the child (and its waited-for descendants).
    pub user: Duration,
    /// System CPU time of the child (and its waited-for descendants).
    pub system: Duration,
    /// Peak resident set size in bytes (`ru_maxrss`).
    pub max_rss_bytes: u64,
    /// How the child ended.
    pub exit: ExitInfo,
}

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitInfo {
    /// Exited with this code.
    Code(i32),
    /// Killed by this signal.
    Signal(i32),
}

impl ExitInfo {
    /// True for exit code 0.
    pub fn success(self) -> bool {
        self == ExitInfo::Code(0)
    }

    /// A shell-style code: the exit code, or 128 + signal.
    pub fn as_code(self) -> i32 {
        match self {
            ExitInfo::Code(c) => c,
            ExitInfo::Signal(s) => 128 + s,
        }
    }
}

impl std::fmt::Display for ExitInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExitInfo::Code(c) => write!(f, "exit code {c}"),
            ExitInfo::Signal(s) => write!(f, "killed by signal {s}"),
        }
    }
}

/// Where a child's standard output or error goes.
#[derive(Debug, Default)]
pub enum OutputMode {
    /// Discarded (`/dev/null`).
    #[default]
    Null,
    /// Inherited from tachy (shown on the terminal).
    Inherit,
    /// Written to a scratch file whose tail can be read after the run (see [`StderrTail`]).
    Tail(StderrTail),
}

/// A reusable scratch file that keeps what a child wrote, truncated before every run.
#[derive(Debug)]
pub struct StderrTail {
    file: File,
}

impl StderrTail {
    /// Creates an anonymous scratch file in the temporary directory.
    pub fn new() -> io::Result<Self> {
        let dir = std::env::temp_dir();
        let path = dir.join(format!(
            "tachy-stderr-{}-{}",
            std::process::id(),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
        ));
        let file = File::options().read(true).write(true).create_new(true).open(&path)?;
        // Unlinked at once: nothing is left behind, whatever happens.
        let _ = std::fs::remove_file(&path);
        Ok(StderrTail { file })
    }

    fn reset(&mut self) -> io::Result<Stdio> {
        self.file.set_len(0)?;
        self.file.seek(SeekFrom::Start(0))?;
        Ok(Stdio::from(self.file.try_clone()?))
    }

    /// The last `max_bytes` bytes written during the last run, lossily decoded.
    pub fn tail(&mut self, max_bytes: u64) -> String {
        let Ok(len) = self.file.seek(SeekFrom::End(0)) else {
            return String::new();
        };
        let start = len.saturating_sub(max_bytes);
        if self.file.seek(SeekFrom::Start(start)).is_err() {
            return String::new();
        }
        let mut buf = Vec::new();
        let _ = (&self.file).take(max_bytes).read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).trim_end().to_string()
    }
}

/// What to run.
#[derive(Debug)]
pub struct RunSpec {
    /// Program (looked up in `PATH` when it has no slash).
    pub program: OsString,
    /// Arguments.
    pub args: Vec<OsString>,
    /// Extra environment variables.
    pub env: Vec<(OsString, OsString)>,
    /// Working directory.
    pub cwd: Option<PathBuf>,
    /// Standard output handling.
    pub stdout: OutputMode,
    /// Standard error handling.
    pub stderr: OutputMode,
    /// Standard input: inherited when true, `/dev/null` otherwise.
    pub inherit_stdin: bool,
    /// Run the child in its own process group, so Ctrl-C handling can kill all of it.
    pub own_process_group: bool,
}

impl RunSpec {
    /// A spec with output discarded, stdin closed and its own process group.
    pub fn new(program: impl Into<OsString>, args: impl IntoIterator<Item = impl Into<OsString>>) -> Self {
        RunSpec {
            program: program.into(),
            args: args.into_iter().map(Into::into).collect(),
            env: Vec::new(),
            cwd: None,
            stdout: OutputMode::Null,
            stderr: OutputMode::Null,
            inherit_stdin: false,
            own_process_group: true,
        }
    }
}

/// Why a command could not be measured.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The program does not exist.
    #[error("command not found: {0}")]
    NotFound(String),
    /// The program exists but may not be executed.
    #[error("permission denied running {0}")]
    PermissionDenied(String),
    /// Any other spawn failure.
    #[error("cannot start {program}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// The OS error.
        source: io::Error,
    },
    /// Waiting for the child failed.
    #[error("waiting for {program} failed: {source}")]
    Wait {
        /// The program.
        program: String,
        /// The OS error.
        source: io::Error,
    },
    /// Setting up output redirection failed.
    #[error("cannot redirect output: {0}")]
    Redirect(io::Error),
    /// Ctrl-C was pressed; the child was killed.
    #[error("interrupted")]
    Interrupted,
}

fn stdio_for(mode: &mut OutputMode) -> Result<Stdio, RunError> {
    Ok(match mode {
        OutputMode::Null => Stdio::null(),
        OutputMode::Inherit => Stdio::inherit(),
        OutputMode::Tail(t) => t.reset().map_err(RunError::Redirect)?,
    })
}

fn timeval(tv: libc::timeval) -> Duration {
    Duration::new(tv.tv_sec.max(0) as u64, (tv.tv_usec.max(0) as u32) * 1000)
}

/// Spawns the command, waits for it, and measures it.
///
/// Returns [`RunError::Interrupted`] when Ctrl-C arrived before or during the run (the child
/// is killed and reaped first). A child that fails is *not* an error here: see
/// [`Measurement::exit`].
pub fn run(spec: &mut RunSpec) -> Result<Measurement, RunError> {
    if interrupt::interrupted() {
        return Err(RunError::Interrupted);
    }
    let display = spec.program.to_string_lossy().into_owned();
    let mut cmd = Command::new(&spec.program);
    cmd.args(&spec.args)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .stdin(if spec.inherit_stdin { Stdio::inherit() } else { Stdio::null() })
        .stdout(stdio_for(&mut spec.stdout)?)
        .stderr(stdio_for(&mut spec.stderr)?);
    if let Some(dir) = &spec.cwd {
        cmd.current_dir(dir);
    }
    if spec.own_process_group {
        cmd.process_group(0);
    }

    let start = Instant::now();
    let child = cmd.spawn().map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => RunError::NotFound(display.clone()),
        io::ErrorKind::PermissionDenied => RunError::PermissionDenied(display.clone()),
        _ => RunError::Spawn { program: display.clone(), source: e },
    })?;
    let pid = child.id() as libc::pid_t;
    // The child value is not used to wait: wait4 below reaps it. Dropping a Child neither
    // waits nor kills.
    drop(child);
    if spec.own_process_group {
        interrupt::set_current_group(Some(pid));
        // A Ctrl-C that landed between spawn and registration would be missed: re-check.
        if interrupt::interrupted() {
            // SAFETY: the child is not reaped yet, so its pid (and group) is still ours.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
    }

    // Wait without reaping, so the pid stays valid while the Ctrl-C handler may signal it.
    loop {
        // SAFETY: siginfo is plain data; waitid only writes into it.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let rc = unsafe { libc::waitid(libc::P_PID, pid as libc::id_t, &mut info, libc::WEXITED | libc::WNOWAIT) };
        if rc == 0 {
            break;
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            interrupt::set_current_group(None);
            return Err(RunError::Wait { program: display, source: err });
        }
    }
    interrupt::set_current_group(None);

    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain data written by wait4.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        let rc = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if rc == pid {
            break;
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(RunError::Wait { program: display, source: err });
        }
    }
    let wall = start.elapsed();

    let exit = if libc::WIFEXITED(status) {
        ExitInfo::Code(libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        ExitInfo::Signal(libc::WTERMSIG(status))
    } else {
        ExitInfo::Code(status)
    };
    if interrupt::interrupted() {
        return Err(RunError::Interrupted);
    }
    Ok(Measurement {
        wall,
        user: timeval(usage.ru_utime),
        system: timeval(usage.ru_stime),
        max_rss_bytes: (usage.ru_maxrss.max(0) as u64) * 1024,
        exit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_a_successful_command() {
        let mut spec = RunSpec::new("true", Vec::<String>::new());
        let m = run(&mut spec).expect("true runs");
        assert!(m.exit.success());
        assert!(m.wall > Duration::ZERO);
    }

    #[test]
    fn reports_exit_codes_and_signals() {
        let mut spec = RunSpec::new("sh", ["-c", "exit 3"]);
        assert_eq!(run(&mut spec).unwrap().exit, ExitInfo::Code(3));
        let mut spec = RunSpec::new("sh", ["-c", "kill -9 $$"]);
        let exit = run(&mut spec).unwrap().exit;
        assert_eq!(exit, ExitInfo::Signal(9));
        assert_eq!(exit.as_code(), 137);
    }

    #[test]
    fn cpu_time_is_attributed_to_the_child() {
        // A busy loop in the shell: user time must be visible, and never exceed wall by much
        // more than one core allows.
        let mut spec = RunSpec::new("sh", ["-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"]);
        let m = run(&mut spec).unwrap();
        assert!(m.user + m.system > Duration::ZERO);
        assert!(m.max_rss_bytes > 0);
    }

    #[test]
    fn missing_program_is_not_found() {
        let mut spec = RunSpec::new("tachy-no-such-program-xyz", Vec::<String>::new());
        assert!(matches!(run(&mut spec), Err(RunError::NotFound(p)) if p == "tachy-no-such-program-xyz"));
    }

    #[test]
    fn stderr_tail_keeps_only_the_last_run() {
        let mut spec = RunSpec::new("sh", ["-c", "echo first >&2"]);
        spec.stderr = OutputMode::Tail(StderrTail::new().unwrap());
        run(&mut spec).unwrap();
        spec.args = vec!["-c".into(), "echo second >&2; exit 1".into()];
        run(&mut spec).unwrap();
        let OutputMode::Tail(t) = &mut spec.stderr else { unreachable!() };
        assert_eq!(t.tail(1024), "second");
    }

    #[test]
    fn tail_is_bounded() {
        let mut spec = RunSpec::new("sh", ["-c", "printf 'abcdefghij' >&2"]);
        spec.stderr = OutputMode::Tail(StderrTail::new().unwrap());
        run(&mut spec).unwrap();
        let OutputMode::Tail(t) = &mut spec.stderr else { unreachable!() };
        assert_eq!(t.tail(4), "ghij");
    }
}
