//! The sampling loop: attach py-spy's stack reader to the target (and, on request, to its
//! child processes), read every thread's stack on a fixed schedule of deadlines, and build a
//! [`Profile`].
//!
//! Rounds are scheduled by deadline: each deadline is the previous one plus the interval times
//! a random factor in [0.5, 1.5) (mean 1, so the mean rate is exact, and periodic programs do
//! not alias with the samples). A slow round shortens the next sleep instead of shifting every
//! later round, so the achieved rate does not drift below the requested one.
//! When the sampler falls more than a whole interval behind, missed rounds are skipped and
//! counted as late rather than bunched together.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use py_spy::config::LockingStrategy;
use py_spy::{Config, PythonSpy, StackTrace};
use tachy_process::interrupt;
use tachy_report::profile::{EndReason, Profile, ProfileBuilder, ProfileMeta, ProfileOptions};

use crate::deflines::DefLines;
use crate::{ProfileError, target};

/// How long to wait for a launched program's interpreter to become readable.
pub const ATTACH_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a non-Python executable may keep failing before it is called not Python.
const NOT_PYTHON_GRACE: Duration = Duration::from_secs(1);
/// How often child processes are looked for with `--subprocesses`.
const CHILD_SCAN_EVERY: Duration = Duration::from_millis(100);
/// How long a new child may stay unreadable before tachy stops trying it.
const CHILD_ATTACH_TIMEOUT: Duration = Duration::from_secs(3);

/// What to profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Launch this command (its stdio passes through) and profile it until it exits. The
    /// words are kept as given, bytes that are not UTF-8 included.
    Launch(Vec<OsString>),
    /// Attach to a running process.
    Pid(u32),
}

/// Resolved options of one profile.
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileSettings {
    /// The target.
    pub target: Target,
    /// Sampling rounds per second.
    pub rate: f64,
    /// Stop after this long (default: until the program exits or Ctrl-C).
    pub duration: Option<Duration>,
    /// Follow child processes.
    pub subprocesses: bool,
    /// Split stacks by thread in renderers.
    pub threads: bool,
    /// Include idle threads.
    pub idle: bool,
    /// Sample only the thread holding the GIL.
    pub gil_only: bool,
    /// Do not pause the target while reading it.
    pub nonblocking: bool,
    /// Include native (C) frames.
    pub native: bool,
    /// Discard a launched program's stdout and stderr (for full-screen views).
    pub discard_output: bool,
    /// Keep every thread's state of the last round for a live view ([`Session::last_round`]).
    pub live_view: bool,
}

impl ProfileSettings {
    /// Default options for a target.
    pub fn new(target: Target) -> Self {
        ProfileSettings {
            target,
            rate: 100.0,
            duration: None,
            subprocesses: false,
            threads: false,
            idle: false,
            gil_only: false,
            nonblocking: false,
            native: false,
            discard_output: false,
            live_view: false,
        }
    }
}

/// Receives progress while sampling.
pub trait Observer {
    /// The stack reader is attached to `pid` (Python `version`).
    fn attached(&mut self, _pid: u32, _version: &str) {}
    /// Called about ten times a second with the samples so far.
    fn progress(&mut self, _samples: u64, _elapsed: Duration) {}
}

/// An observer that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Observer for NoProgress {}

/// A finished (or interrupted) profile.
#[derive(Debug)]
pub struct ProfileOutcome {
    /// The profile (possibly with few samples when the target ended early).
    pub profile: Profile,
    /// A note for the user when the profile is partial (crash, early exit, interruption).
    pub notes: Vec<String>,
}

struct Spy {
    pid: u32,
    spy: PythonSpy,
}

fn py_config(s: &ProfileSettings) -> Config {
    Config {
        blocking: if s.nonblocking { LockingStrategy::NonBlocking } else { LockingStrategy::Lock },
        native: s.native,
        gil_only: s.gil_only,
        include_idle: s.idle,
        subprocesses: s.subprocesses,
        sampling_rate: s.rate.round().max(1.0) as u64,
        show_line_numbers: true,
        include_thread_ids: s.threads,
        ..Config::default()
    }
}

fn is_python_name(program: &OsStr) -> bool {
    Path::new(program)
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("python") || n.starts_with("pypy"))
}

/// Checks the command before launching it: the program can be run (not a folder, executable,
/// found on PATH), and a Python script argument exists.
fn check_launch(argv: &[OsString]) -> Result<(), ProfileError> {
    let Some(program) = argv.first() else {
        return Err(ProfileError::InvalidSetting(
            "nothing to profile: give a command after `--` (e.g. `tachy profile -- python app.py`) or --pid PID".into(),
        ));
    };
    tachy_process::program::check(program)?;
    let is_option = |a: &OsString| a.as_bytes().starts_with(b"-");
    if is_python_name(program)
        && let Some(script) = argv[1..].iter().find(|a| !is_option(a))
        && script.as_bytes().ends_with(b".py")
        && argv[1..].iter().take_while(|a| *a != script).all(|a| a != "-c" && a != "-m")
        && !Path::new(script).exists()
    {
        return Err(ProfileError::ScriptNotFound(PathBuf::from(script)));
    }
    Ok(())
}

/// A command line for messages and the saved profile (bytes that are not UTF-8 become U+FFFD).
fn lossy(argv: &[OsString]) -> Vec<String> {
    argv.iter().map(|a| a.to_string_lossy().into_owned()).collect()
}

fn describe_status(status: std::process::ExitStatus) -> (i32, String) {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(c), _) if (129..160).contains(&c) => (c, format!("exit code {c}: killed by signal {}", c - 128)),
        (Some(c), _) => (c, format!("exit code {c}")),
        (None, Some(s)) => (128 + s, format!("killed by signal {s}")),
        _ => (-1, "unknown status".into()),
    }
}

fn not_python(pid: u32, err: &anyhow::Error) -> ProfileError {
    let command = target::cmdline(pid);
    let command = if command.is_empty() { target::exe(pid).unwrap_or_else(|| "?".into()) } else { command };
    ProfileError::NotPython { pid, command, detail: format!("{err}") }
}

/// Turns a stack-reader error about `pid` into the error a user can act on.
pub(crate) fn classify(pid: u32, err: anyhow::Error) -> ProfileError {
    if !target::alive(pid) {
        return ProfileError::NoSuchProcess(pid);
    }
    if target::is_permission_error(&err) {
        let (cause, fix) = target::ptrace_hint(pid);
        return ProfileError::PermissionDenied { pid, cause, fix };
    }
    not_python(pid, &err)
}

/// Attaches to a launched child, retrying while its interpreter starts up.
fn attach_launched(child: &mut Child, command: &str, config: &Config) -> Result<PythonSpy, ProfileError> {
    let start = Instant::now();
    let mut program: Option<u32> = None;
    loop {
        if interrupt::interrupted() {
            stop_child(child);
            return Err(ProfileError::InterruptedBeforeSample);
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(ProfileError::ExitedBeforeSample {
                command: command.to_string(),
                status: describe_status(status).1,
            });
        }
        // The program is the wrapper's only child.
        if program.is_none() {
            program = target::descendants(child.id()).first().copied();
        }
        let Some(pid) = program else {
            std::thread::sleep(Duration::from_millis(2));
            continue;
        };
        let err = match PythonSpy::new(pid as py_spy::Pid, config) {
            Ok(spy) => return Ok(spy),
            Err(e) => e,
        };
        let elapsed = start.elapsed();
        let looks_python = target::exe(pid).is_some_and(|e| {
            let name = Path::new(&e).file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
            name.contains("python") || name.contains("pypy")
        });
        if target::is_permission_error(&err)
            || elapsed > ATTACH_TIMEOUT
            || (elapsed > NOT_PYTHON_GRACE && !looks_python)
        {
            let e = classify(pid, err);
            stop_child(child);
            return Err(e);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Stops a launched program (the wrapper's children first): SIGINT (Python's
/// KeyboardInterrupt) and a grace period, then SIGKILL.
fn stop_child(child: &mut Child) -> Option<std::process::ExitStatus> {
    if let Ok(Some(s)) = child.try_wait() {
        return Some(s);
    }
    let pid = child.id() as libc::pid_t;
    for p in target::descendants(child.id()) {
        // SAFETY: plain signal to a descendant of ours.
        unsafe { libc::kill(p as libc::pid_t, libc::SIGINT) };
    }
    // SAFETY: signalling our own, not yet reaped, child.
    unsafe { libc::kill(pid, libc::SIGINT) };
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        if let Ok(Some(s)) = child.try_wait() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    for p in target::descendants(child.id()) {
        // SAFETY: plain signal to a descendant of ours.
        unsafe { libc::kill(p as libc::pid_t, libc::SIGKILL) };
    }
    let _ = child.kill();
    child.wait().ok()
}

/// The longest a wait between rounds goes without looking at Ctrl-C and the duration.
const WAKE_EVERY: Duration = Duration::from_millis(50);

/// Multipliers of the sampling interval, uniform in [0.5, 1.5): the mean rate is exact, and
/// programs that do something periodically cannot line up with the samples (aliasing).
struct Jitter(u64);

impl Jitter {
    fn new() -> Self {
        let seed =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0x9E37, |d| d.as_nanos() as u64);
        Jitter(seed | 1)
    }

    fn next(&mut self) -> f64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        0.5 + (x >> 11) as f64 / (1u64 << 53) as f64
    }
}

struct Recorder {
    builder: ProfileBuilder,
    def_lines: DefLines,
    /// Every thread of the last round: (label, active, holds the GIL); kept only for live views.
    last_round: Vec<(String, bool, bool)>,
    keep_round: bool,
    idle: bool,
    gil_only: bool,
    errors: u64,
    messages: Vec<String>,
}

impl Recorder {
    fn record(&mut self, traces: &[StackTrace], offset_us: u64) {
        let mut frames = Vec::new();
        for trace in traces {
            if self.keep_round {
                let id = trace.os_thread_id.unwrap_or(trace.thread_id);
                let label = match &trace.thread_name {
                    Some(n) => format!("{n} (tid {id})"),
                    None => format!("thread {id}"),
                };
                self.last_round.push((label, trace.active, trace.owns_gil));
            }
            if !self.idle && !trace.active {
                continue;
            }
            if self.gil_only && !trace.owns_gil {
                continue;
            }
            frames.clear();
            for f in trace.frames.iter().rev() {
                let known = self.builder.frames().len();
                let i = self.builder.frame(&f.name, &f.filename, f.line, f.short_filename.as_deref());
                if i as usize == known {
                    // A new frame: find its function's def line (each file is read once).
                    let def = self.def_lines.resolve(trace.pid as u32, &f.filename, &f.name, f.line);
                    self.builder.set_def_line(i, def);
                }
                frames.push(i);
            }
            let thread = self.builder.thread(
                trace.pid as u32,
                trace.thread_id,
                trace.os_thread_id,
                trace.thread_name.as_deref(),
            );
            self.builder.sample(thread, &frames, offset_us);
        }
    }

    fn error(&mut self, pid: u32, err: &anyhow::Error) {
        self.errors += 1;
        let msg = format!("pid {pid}: {err:#}");
        if self.messages.len() < 10 && !self.messages.contains(&msg) {
            self.messages.push(msg);
        }
    }
}

/// A profiling session in progress: started by [`Session::start`], advanced one sampling
/// round at a time by [`Session::step`], turned into a profile by [`Session::finish`].
/// [`run`] drives it to the end; `tachy top` drives it and draws between rounds.
pub struct Session {
    settings: ProfileSettings,
    config: Config,
    child: Option<Child>,
    command: Vec<String>,
    started_at: String,
    root_pid: u32,
    version: String,
    spies: Vec<Spy>,
    pids: Vec<u32>,
    pending: HashMap<u32, Instant>,
    given_up: Vec<u32>,
    rec: Recorder,
    interval: Duration,
    start: Instant,
    next: Instant,
    rounds: u64,
    late: u64,
    last_scan: Instant,
    exit_status: Option<std::process::ExitStatus>,
    status_lost: bool,
    jitter: Jitter,
}

impl Session {
    /// Launches or attaches to the target and waits until its interpreter is readable.
    pub fn start(settings: &ProfileSettings) -> Result<Session, ProfileError> {
        if !(settings.rate.is_finite() && settings.rate >= 1.0 && settings.rate <= 10_000.0) {
            return Err(ProfileError::InvalidSetting(format!(
                "--rate must be between 1 and 10000 samples per second, got {}",
                settings.rate
            )));
        }
        if settings.duration.is_some_and(|d| d.is_zero()) {
            return Err(ProfileError::InvalidSetting("--duration must be above 0 (e.g. 10s)".into()));
        }
        if settings.native && !cfg!(feature = "unwind") {
            return Err(ProfileError::NativeUnsupported);
        }
        let config = py_config(settings);
        let started_at = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
        let (child, root_spy, command) = match &settings.target {
            Target::Launch(argv) => {
                check_launch(argv)?;
                let command = lossy(argv).join(" ");
                // A waiting `sh` parent keeps the program's exit status: py-spy's ptrace lock can
                // reap a traced process as it exits, but the kernel then still reports the exit to
                // the real parent (`sh`), which exits with the same status.
                let mut cmd = Command::new("sh");
                cmd.arg("-c").arg("\"$@\"; exit $?").arg("tachy-launch").args(argv);
                if settings.discard_output {
                    cmd.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
                }
                let mut child = cmd.spawn().map_err(|e| ProfileError::Spawn { command: command.clone(), source: e })?;
                let spy = attach_launched(&mut child, &command, &config)?;
                (Some(child), spy, lossy(argv))
            }
            Target::Pid(pid) => {
                let pid = *pid;
                if !target::alive(pid) {
                    return Err(ProfileError::NoSuchProcess(pid));
                }
                let spy = PythonSpy::new(pid as py_spy::Pid, &config).map_err(|e| classify(pid, e))?;
                let cmd = target::cmdline(pid);
                (None, spy, cmd.split(' ').map(str::to_string).collect())
            }
        };
        let root_pid = root_spy.pid as u32;
        let version = root_spy.version.to_string();
        let start = Instant::now();
        Ok(Session {
            settings: settings.clone(),
            config,
            child,
            command,
            started_at,
            root_pid,
            version,
            spies: vec![Spy { pid: root_pid, spy: root_spy }],
            pids: vec![root_pid],
            pending: HashMap::new(),
            given_up: Vec::new(),
            rec: Recorder {
                builder: ProfileBuilder::new(),
                def_lines: DefLines::new(),
                last_round: Vec::new(),
                keep_round: settings.live_view,
                idle: settings.idle,
                gil_only: settings.gil_only,
                errors: 0,
                messages: Vec::new(),
            },
            interval: Duration::from_secs_f64(1.0 / settings.rate),
            start,
            next: start,
            rounds: 0,
            late: 0,
            last_scan: start,
            exit_status: None,
            status_lost: false,
            jitter: Jitter::new(),
        })
    }

    /// The root process and its Python version.
    pub fn target(&self) -> (u32, &str) {
        (self.root_pid, &self.version)
    }

    /// The profile being built (frames, threads, stacks and timeline so far).
    pub fn builder(&self) -> &ProfileBuilder {
        &self.rec.builder
    }

    /// Every thread of the last round: (label, running, holds the GIL); empty unless the
    /// settings asked for a live view.
    pub fn last_round(&self) -> &[(String, bool, bool)] {
        &self.rec.last_round
    }

    /// Processes sampled so far.
    pub fn processes(&self) -> usize {
        self.pids.len()
    }

    /// Whether idle threads are counted.
    pub fn idle_included(&self) -> bool {
        self.settings.idle
    }

    /// Time since sampling started.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// Sleeps until `deadline` in slices of at most [`WAKE_EVERY`], so that Ctrl-C and the end
    /// of `--duration` are seen at once whatever the rate.
    fn sleep_until(&self, deadline: Instant) {
        loop {
            let now = Instant::now();
            if now >= deadline
                || interrupt::interrupted()
                || self.settings.duration.is_some_and(|d| now.duration_since(self.start) >= d)
            {
                return;
            }
            std::thread::sleep((deadline - now).min(WAKE_EVERY));
        }
    }

    /// Takes one sampling round, then sleeps until the next deadline. Returns why sampling
    /// should stop, or `None` to go on.
    pub fn step(&mut self) -> Option<EndReason> {
        if interrupt::interrupted() {
            return Some(EndReason::Interrupted);
        }
        let now = Instant::now();
        if self.settings.duration.is_some_and(|d| now.duration_since(self.start) >= d) {
            return Some(EndReason::Duration);
        }
        let offset_us = now.duration_since(self.start).as_micros() as u64;
        let rec = &mut self.rec;
        rec.last_round.clear();
        self.spies.retain_mut(|s| match s.spy.get_stack_traces() {
            Ok(traces) => {
                rec.record(&traces, offset_us);
                true
            }
            Err(e) => {
                if target::alive(s.pid) {
                    rec.error(s.pid, &e);
                    true
                } else {
                    false
                }
            }
        });
        self.rounds += 1;

        if let Some(c) = self.child.as_mut() {
            match c.try_wait() {
                Ok(Some(status)) => {
                    self.exit_status = Some(status);
                    return Some(EndReason::TargetExited);
                }
                Ok(None) => {}
                // The stack reader's ptrace lock can reap a traced process before its parent
                // does: the program has ended, its status is lost.
                Err(_) => {
                    self.status_lost = true;
                    return Some(EndReason::TargetExited);
                }
            }
        }
        if !self.spies.iter().any(|s| s.pid == self.root_pid) && !target::alive(self.root_pid) {
            return Some(EndReason::TargetExited);
        }
        if self.settings.subprocesses && now.duration_since(self.last_scan) >= CHILD_SCAN_EVERY {
            self.last_scan = now;
            self.scan_children(now);
        }

        self.next += self.interval.mul_f64(self.jitter.next());
        let now = Instant::now();
        if self.next > now {
            self.sleep_until(self.next);
        } else {
            self.late += 1;
            if now.duration_since(self.next) > self.interval {
                self.next = now;
            }
        }
        None
    }

    fn scan_children(&mut self, now: Instant) {
        for pid in target::descendants(self.root_pid) {
            if self.spies.iter().any(|s| s.pid == pid) || self.given_up.contains(&pid) {
                continue;
            }
            let first = *self.pending.entry(pid).or_insert(now);
            match PythonSpy::new(pid as py_spy::Pid, &self.config) {
                Ok(spy) => {
                    self.pending.remove(&pid);
                    if !self.pids.contains(&pid) {
                        self.pids.push(pid);
                    }
                    self.spies.push(Spy { pid, spy });
                }
                Err(_) if now.duration_since(first) > CHILD_ATTACH_TIMEOUT => {
                    self.pending.remove(&pid);
                    self.given_up.push(pid);
                }
                Err(_) => {}
            }
        }
    }

    /// Stops sampling (stopping a launched program that is still running) and builds the
    /// profile.
    pub fn finish(mut self, end: EndReason) -> Result<ProfileOutcome, ProfileError> {
        let elapsed = self.start.elapsed().as_secs_f64();
        let mut notes = Vec::new();
        if self.status_lost {
            notes.push("the program ended, but its exit status was lost".to_string());
        }
        let mut exit_status = self.exit_status;
        if let Some(c) = self.child.as_mut()
            && exit_status.is_none()
            && !self.status_lost
        {
            if end == EndReason::TargetExited {
                // The program is gone; its waiting parent exits with its status in a moment.
                let deadline = Instant::now() + Duration::from_secs(2);
                while exit_status.is_none() && Instant::now() < deadline {
                    exit_status = c.try_wait().ok().flatten();
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
            if exit_status.is_none() {
                exit_status = stop_child(c);
                if end == EndReason::Duration {
                    notes.push("the duration elapsed: the program was stopped".to_string());
                }
            }
        }
        let exit_code = exit_status.map(|s| {
            let (code, text) = describe_status(s);
            if code >= 128 && end == EndReason::TargetExited {
                notes.push(format!("the program crashed ({text}): the profile covers the samples taken before it"));
            }
            code
        });
        if self.rec.builder.samples() == 0 {
            if end == EndReason::Interrupted {
                return Err(ProfileError::InterruptedBeforeSample);
            }
            if let Some(s) = exit_status
                && end == EndReason::TargetExited
            {
                return Err(ProfileError::ExitedBeforeSample {
                    command: self.command.join(" "),
                    status: describe_status(s).1,
                });
            }
            notes.push("no samples: every thread was idle (use --idle to include idle threads)".into());
        }
        let s = &self.settings;
        let meta = ProfileMeta {
            command: self.command,
            pids: self.pids,
            python_version: Some(self.version),
            rate_requested: s.rate,
            rate_achieved: if elapsed > 0.0 { self.rounds as f64 / elapsed } else { 0.0 },
            duration_secs: elapsed,
            started_at: self.started_at,
            rounds: self.rounds,
            samples: 0,
            late_rounds: self.late,
            errors: self.rec.errors,
            error_messages: self.rec.messages,
            options: ProfileOptions {
                threads: s.threads,
                idle: s.idle,
                gil_only: s.gil_only,
                nonblocking: s.nonblocking,
                subprocesses: s.subprocesses,
                native: s.native,
            },
            exit_code,
            end,
        };
        Ok(ProfileOutcome { profile: self.rec.builder.finish(meta), notes })
    }
}

/// Profiles the target until it exits, the duration elapses or Ctrl-C.
pub fn run(settings: &ProfileSettings, observer: &mut dyn Observer) -> Result<ProfileOutcome, ProfileError> {
    let mut session = Session::start(settings)?;
    let (pid, version) = session.target();
    observer.attached(pid, version);
    let mut last_progress = Instant::now();
    let end = loop {
        if let Some(end) = session.step() {
            break end;
        }
        if last_progress.elapsed() >= Duration::from_millis(100) {
            last_progress = Instant::now();
            observer.progress(session.builder().samples(), session.elapsed());
        }
    };
    session.finish(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_is_uniform_around_one() {
        let mut j = Jitter::new();
        let xs: Vec<f64> = (0..100_000).map(|_| j.next()).collect();
        assert!(xs.iter().all(|x| (0.5..1.5).contains(x)));
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!((mean - 1.0).abs() < 0.01, "{mean}");
    }

    #[test]
    fn launch_checks() {
        let s = |v: &[&str]| v.iter().map(OsString::from).collect::<Vec<_>>();
        assert!(matches!(check_launch(&[]), Err(ProfileError::InvalidSetting(_))));
        assert!(matches!(check_launch(&s(&["tachy-no-such-python"])), Err(ProfileError::Program(_))));
        let dir = std::env::temp_dir().display().to_string();
        let e = check_launch(&s(&[&dir])).unwrap_err().to_string();
        assert_eq!(e, format!("cannot run `{dir}`: it is a folder, not a program"));
        assert!(matches!(check_launch(&s(&["python3", "/no/such/script.py"])), Err(ProfileError::ScriptNotFound(_))));
        assert!(check_launch(&s(&["python3", "-c", "x.py"])).is_ok());
        assert!(check_launch(&s(&["sh", "/no/such/script.py"])).is_ok());
    }

    #[test]
    fn bad_rates_are_rejected() {
        let mut s = ProfileSettings::new(Target::Pid(1));
        s.rate = 0.0;
        assert!(run(&s, &mut NoProgress).unwrap_err().to_string().contains("--rate"));
        // Below one sample a second the next round would be minutes away.
        s.rate = 0.5;
        assert!(run(&s, &mut NoProgress).unwrap_err().to_string().contains("between 1 and 10000"));
    }

    #[test]
    fn dead_pids_are_reported() {
        let s = ProfileSettings::new(Target::Pid(u32::MAX - 7));
        assert!(matches!(run(&s, &mut NoProgress), Err(ProfileError::NoSuchProcess(_))));
    }
}
