//! Running the budgets: each one becomes a run of the tachy binary itself (`tachy bench`,
//! `load`, `mem`, `profile`, `watch` or `lint`) writing its JSON result, which
//! [`crate::evaluate`] turns into limit checks. Servers under test are started before their
//! budget and always stopped after it (failure and Ctrl-C included).
//!
//! Processes are reached through the [`Executor`] trait so the orchestration is tested with a
//! mock; [`ProcessExecutor`] is the real one. Children run in their own process groups: on
//! Ctrl-C tachy forwards one SIGINT to the running tachy child (which writes what it collected
//! and exits 130), then stops the server's whole group.

use std::ffi::OsString;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tachy_report::check::{BudgetResult, CHECK_SCHEMA, CheckReport, Verdict};
use tachy_report::results::AnyResult;

use crate::config::{Budget, LoadedConfig, Ready, ServerSpec, ready_probe};
use crate::error::{CheckError, ConfigError};
use crate::evaluate::{self, Evaluation};
use tachy_report::units;

/// How `tachy check` runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The tachy binary that measures (normally the running one).
    pub tachy: PathBuf,
    /// Run only these budgets (empty: all).
    pub only: Vec<String>,
    /// Where each budget's result file goes (default `<root>/.tachy/results`).
    pub results_dir: Option<PathBuf>,
    /// Overwrite saved baselines with this run's results.
    pub update_baselines: bool,
}

/// What happened to a child process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutcome {
    /// Its exit code (`None`: killed by a signal).
    pub code: Option<i32>,
    /// The end of what it wrote to stderr.
    pub stderr_tail: String,
    /// It ran past its timeout and was stopped.
    pub timed_out: bool,
}

/// A started server; dropping or [`ServerHandle::stop`]ping it ends its process group.
pub trait ServerHandle {
    /// Whether it is still running; `Some(code)` once it has exited.
    fn exited(&mut self) -> Option<Option<i32>>;
    /// The end of its output (stdout and stderr).
    fn log_tail(&mut self) -> String;
    /// Stops it (SIGTERM to its group, SIGKILL after a grace period).
    fn stop(&mut self);
}

/// Runs processes for the runner.
pub trait Executor {
    /// Runs `tachy ARGS` in `cwd`; its stdout goes to `stdout_file` (else nowhere).
    fn tachy(
        &mut self,
        args: &[OsString],
        cwd: &Path,
        stdout_file: Option<&Path>,
        timeout: Duration,
    ) -> std::io::Result<ExecOutcome>;
    /// Starts a server (not waiting for readiness); its output goes to `log`.
    fn start_server(&mut self, spec: &ServerSpec, cwd: &Path, log: &Path) -> std::io::Result<Box<dyn ServerHandle>>;
    /// Probes readiness once.
    fn probe(&mut self, ready: &Ready) -> bool;
    /// Whether Ctrl-C was pressed.
    fn interrupted(&self) -> bool;
}

/// Progress of a run, for the binary to show.
#[derive(Debug)]
pub enum Event<'a> {
    /// A budget starts.
    Start {
        /// Its name.
        name: &'a str,
        /// Its kind.
        kind: &'a str,
        /// 1-based position.
        index: usize,
        /// Budgets in the run.
        total: usize,
    },
    /// A server is being started and waited for.
    Server {
        /// The budget.
        name: &'a str,
        /// Its command.
        command: String,
    },
    /// A budget ended.
    Done(&'a BudgetResult),
}

/// The budgets to run, in order, after `--only`.
pub fn select<'a>(cfg: &'a LoadedConfig, only: &[String]) -> Result<Vec<(&'a String, &'a Budget)>, ConfigError> {
    if cfg.config.budget.is_empty() {
        return Err(ConfigError::Empty { path: cfg.path.clone() });
    }
    for name in only {
        if !cfg.config.budget.contains_key(name) {
            return Err(ConfigError::UnknownBudget {
                name: name.clone(),
                path: cfg.path.clone(),
                known: cfg.config.budget.keys().cloned().collect::<Vec<_>>().join(", "),
            });
        }
    }
    Ok(cfg.config.budget.iter().filter(|(n, _)| only.is_empty() || only.contains(n)).collect())
}

/// Runs the selected budgets and returns the report (the history is appended by the caller).
pub fn run(
    cfg: &LoadedConfig,
    settings: &Settings,
    exec: &mut dyn Executor,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<CheckReport, CheckError> {
    let budgets = select(cfg, &settings.only)?;
    let results_dir = settings.results_dir.clone().unwrap_or_else(|| cfg.root.join(crate::config::DEFAULT_RESULTS));
    std::fs::create_dir_all(&results_dir).map_err(|e| CheckError::Write { path: results_dir.clone(), source: e })?;
    let started = Instant::now();
    let mut report = CheckReport {
        schema: CHECK_SCHEMA.to_string(),
        tachy_version: env!("CARGO_PKG_VERSION").to_string(),
        config: cfg.path.display().to_string(),
        started_at: now_rfc3339(),
        duration_secs: 0.0,
        git_commit: git_commit(&cfg.root),
        budgets: Vec::new(),
        interrupted: false,
    };
    let total = budgets.len();
    for (i, (name, budget)) in budgets.into_iter().enumerate() {
        if exec.interrupted() {
            report.interrupted = true;
            break;
        }
        on_event(Event::Start { name, kind: budget.kind(), index: i + 1, total });
        let ctx = Ctx { cfg, settings, results_dir: &results_dir };
        let result = run_budget(&ctx, name, budget, exec, on_event);
        on_event(Event::Done(&result));
        report.budgets.push(result);
        if exec.interrupted() {
            report.interrupted = true;
            break;
        }
    }
    report.duration_secs = started.elapsed().as_secs_f64();
    Ok(report)
}

struct Ctx<'a> {
    cfg: &'a LoadedConfig,
    settings: &'a Settings,
    results_dir: &'a Path,
}

impl Ctx<'_> {
    fn baselines_dir(&self) -> PathBuf {
        self.cfg.root.join(self.cfg.config.check.baselines.as_deref().unwrap_or(crate::config::DEFAULT_BASELINES))
    }

    fn timeout(&self, budget: &Budget) -> Duration {
        budget
            .timeout()
            .or(self.cfg.config.check.timeout.as_deref())
            .and_then(|t| units::parse_duration(t).ok())
            .unwrap_or(Duration::from_secs(600))
    }
}

/// A budget that could not be measured.
struct Failure {
    error: String,
    log_tail: Option<String>,
}

impl Failure {
    fn new(error: impl Into<String>) -> Self {
        Failure { error: error.into(), log_tail: None }
    }
}

fn run_budget(
    ctx: &Ctx<'_>,
    name: &str,
    budget: &Budget,
    exec: &mut dyn Executor,
    on_event: &mut dyn FnMut(Event<'_>),
) -> BudgetResult {
    let started = Instant::now();
    let result_path = ctx.results_dir.join(format!("{name}.json"));
    let mut notes = Vec::new();
    // The previous run's result goes (whatever its kind: the budget may have changed kind); a
    // file that is not a tachy result (a results folder given with --results-dir that holds
    // other files) is never removed.
    let outcome = match crate::config::replaceable(&result_path, "tachy-") {
        Ok(()) => {
            let _ = std::fs::remove_file(&result_path);
            measure(ctx, name, budget, &result_path, exec, on_event, &mut notes)
        }
        Err(e) => Err(Failure::new(e)),
    };
    let mut result = BudgetResult {
        name: name.to_string(),
        kind: budget.kind().to_string(),
        description: budget.description().map(str::to_string),
        verdict: Verdict::Pass,
        checks: Vec::new(),
        error: None,
        log_tail: None,
        notes,
        duration_secs: 0.0,
        result_file: None,
    };
    if !matches!(&outcome, Err(f) if f.error.starts_with("refusing to replace")) {
        result.result_file = result_path.is_file().then(|| result_path.display().to_string());
    }
    match outcome {
        Ok(ev) => {
            result.verdict = if ev.error.is_some() {
                Verdict::Error
            } else if ev.checks.iter().all(|c| c.passed) {
                Verdict::Pass
            } else {
                Verdict::Fail
            };
            result.error = ev.error;
            result.checks = ev.checks;
            result.notes.extend(ev.notes);
        }
        Err(f) => {
            result.verdict = Verdict::Error;
            result.error = Some(f.error);
            result.log_tail = f.log_tail.filter(|t| !t.trim().is_empty());
        }
    }
    result.duration_secs = started.elapsed().as_secs_f64();
    result
}

fn os(args: &[String]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}

fn measure(
    ctx: &Ctx<'_>,
    name: &str,
    budget: &Budget,
    result_path: &Path,
    exec: &mut dyn Executor,
    on_event: &mut dyn FnMut(Event<'_>),
    notes: &mut Vec<String>,
) -> Result<Evaluation, Failure> {
    let root = &ctx.cfg.root;
    let out = result_path.display().to_string();
    let timeout = ctx.timeout(budget);
    let mut args: Vec<String> = vec![budget.kind().to_string(), "--quiet".into()];
    let mut stdout_file = None;
    let mut server = None;
    let mut profile_baseline = None;
    let mut lint_baseline = None;
    match budget {
        Budget::Bench(b) => {
            args.extend(["--export-json".into(), out.clone()]);
            if let Some(r) = b.runs {
                args.extend(["--runs".into(), r.to_string()]);
            }
            if let Some(w) = b.warmup {
                args.extend(["--warmup".into(), w.to_string()]);
            }
            if let Some(m) = &b.metric {
                args.extend(["--metric".into(), m.clone()]);
            }
            if let Some(base) = &b.baseline {
                let dir = ctx.baselines_dir();
                args.extend(["--baseline-dir".into(), dir.display().to_string()]);
                let exists = dir.join(format!("{base}.json")).is_file();
                if exists && !ctx.settings.update_baselines {
                    args.extend(["--baseline".into(), base.clone()]);
                    let max = b.max_regression.clone().unwrap_or_else(|| "5%".into());
                    args.extend(["--max-regression".into(), max]);
                } else {
                    args.extend(["--save-baseline".into(), base.clone()]);
                    notes.push(format!("baseline '{base}' saved by this run (nothing to compare with yet)"));
                }
            }
            args.push("--".into());
            args.extend(b.commands.iter().cloned());
        }
        Budget::Load(b) => {
            if let Some(url) = &b.url {
                args.push(url.clone());
            }
            if let Some(s) = &b.scenario {
                args.extend(["--scenario".into(), root.join(s).display().to_string()]);
            }
            args.extend(["-c".into(), b.connections.unwrap_or(10).to_string()]);
            match (&b.duration, b.requests) {
                (_, Some(n)) => args.extend(["-n".into(), n.to_string()]),
                (Some(d), None) => args.extend(["-d".into(), d.clone()]),
                (None, None) => args.extend(["-d".into(), "10s".into()]),
            }
            if let (Some(d), Some(_)) = (&b.duration, b.requests) {
                args.extend(["-d".into(), d.clone()]);
            }
            if let Some(r) = b.rate {
                args.extend(["--rate".into(), r.to_string()]);
            }
            if let Some(m) = &b.method {
                args.extend(["-m".into(), m.clone()]);
            }
            for h in &b.headers {
                args.extend(["-H".into(), h.clone()]);
            }
            if let Some(body) = &b.body {
                args.extend(["--body".into(), body.clone()]);
            }
            if let Some(t) = &b.request_timeout {
                args.extend(["--timeout".into(), t.clone()]);
            }
            for s in &b.slo {
                args.extend(["--slo".into(), s.clone()]);
            }
            args.extend(["--export-json".into(), out.clone()]);
            if let Some(spec) = &b.server {
                on_event(Event::Server { name, command: spec.command.display() });
                let ready = match &spec.ready {
                    Some(r) => ready_probe(r).map_err(Failure::new)?,
                    None => Ready::Http(b.url.clone().unwrap_or_default()),
                };
                let wait = spec
                    .ready_timeout
                    .as_deref()
                    .and_then(|t| units::parse_duration(t).ok())
                    .unwrap_or(Duration::from_secs(30));
                server = Some(start_server(ctx, name, spec, &ready, wait, exec)?);
            }
        }
        Budget::Mem(b) => {
            args.extend(["-f".into(), "json".into(), "-o".into(), out.clone()]);
            if !b.native {
                args.push("--no-native".into());
            }
            args.push("--".into());
            args.extend(b.command.argv().map_err(Failure::new)?);
        }
        Budget::Profile(b) => {
            args.extend(["-f".into(), "json".into(), "-o".into(), out.clone()]);
            if let Some(r) = b.rate {
                args.extend(["--rate".into(), r.to_string()]);
            }
            args.push("--".into());
            args.extend(b.command.argv().map_err(Failure::new)?);
            profile_baseline = b.baseline.as_ref().map(|p| root.join(p));
        }
        Budget::Watch(b) => {
            // The growth is fitted over the whole soak, not the default one-minute window.
            args.extend([
                "--json".into(),
                "--duration".into(),
                b.duration.clone(),
                "--growth-window".into(),
                b.duration.clone(),
            ]);
            if let Some(i) = &b.interval {
                args.extend(["--interval".into(), i.clone()]);
            }
            if b.children {
                args.push("--children".into());
            }
            args.push("--isolated".into());
            args.push("--".into());
            args.extend(b.command.argv().map_err(Failure::new)?);
            stdout_file = Some(result_path.to_path_buf());
        }
        Budget::Lint(b) => {
            args.extend(["--output-format".into(), "json".into(), "-o".into(), out.clone()]);
            if !b.select.is_empty() {
                args.extend(["--select".into(), b.select.join(",")]);
            }
            if b.paths.is_empty() {
                args.push(".".into());
            } else {
                args.extend(b.paths.iter().cloned());
            }
            lint_baseline = b.baseline.as_ref().map(|p| root.join(p));
        }
    }

    let outcome = exec.tachy(&os(&args), root, stdout_file.as_deref(), timeout);
    // The server goes as soon as the load is over, whatever happened.
    let server_tail = server.as_mut().map(|s| {
        s.stop();
        s.log_tail()
    });
    let outcome = outcome.map_err(|e| Failure::new(format!("cannot run {}: {e}", ctx.settings.tachy.display())))?;
    if outcome.timed_out {
        return Err(Failure {
            error: format!("stopped after its timeout of {}", humantime::format_duration(timeout)),
            log_tail: Some(outcome.stderr_tail),
        });
    }
    let interrupted = outcome.code == Some(130) || exec.interrupted();
    // 0: measured and the command's own gate held; 1: measured, its own gate failed (we
    // evaluate the limits ourselves); anything else: it could not measure.
    let measured = matches!(outcome.code, Some(0) | Some(1)) || (interrupted && result_path.is_file());
    if !measured {
        let first = first_error_line(&outcome.stderr_tail)
            .unwrap_or_else(|| format!("tachy {} exited with {}", budget.kind(), code_text(outcome.code)));
        let tail = [outcome.stderr_tail, server_tail.unwrap_or_default()].join("\n");
        return Err(Failure { error: first, log_tail: Some(tail) });
    }
    if interrupted {
        notes.push("interrupted by Ctrl-C: the figures cover the run until then".into());
    }
    let text = std::fs::read(result_path).map_err(|e| {
        Failure::new(format!("tachy {} wrote no result to {}: {e}", budget.kind(), result_path.display()))
    })?;
    let bad = |e: serde_json::Error| Failure::new(format!("cannot read the result {}: {e}", result_path.display()));
    let ev = match budget {
        Budget::Bench(b) => evaluate::bench(b, &serde_json::from_slice(&text).map_err(bad)?),
        Budget::Load(_) => {
            let r: tachy_report::load::LoadReport = serde_json::from_slice(&text).map_err(bad)?;
            if r.totals.responses == 0 {
                return Err(Failure {
                    error: format!("no request got a response ({} errors)", r.totals.errors),
                    log_tail: server_tail,
                });
            }
            evaluate::load(&r)
        }
        Budget::Mem(b) => {
            let r: tachy_report::mem::MemReport = serde_json::from_slice(&text).map_err(bad)?;
            command_failed(r.exit_code, &outcome.stderr_tail, interrupted)?;
            evaluate::mem(b, &r)
        }
        Budget::Profile(b) => {
            let p: tachy_report::profile::Profile = serde_json::from_slice(&text).map_err(bad)?;
            command_failed(p.meta.exit_code, &outcome.stderr_tail, interrupted)?;
            let base = baseline(
                ctx,
                profile_baseline.as_deref(),
                result_path,
                &BaselineKind { what: "a tachy profile", label: "baseline profile", schema: "tachy-profile/" },
                notes,
                |r| match r {
                    AnyResult::Profile(p) => Ok(p),
                    other => Err(other.kind()),
                },
            )?;
            evaluate::profile(b, &p, base.as_ref())
        }
        Budget::Watch(b) => {
            let r: tachy_report::watch::WatchReport = serde_json::from_slice(&text).map_err(bad)?;
            if r.end == tachy_report::watch::WatchEnd::TargetExited && r.exit_code.is_some_and(|c| c != 0) {
                return Err(Failure {
                    error: format!("the command exited with {} after {:.1} s", code_text(r.exit_code), r.duration_secs),
                    log_tail: Some(outcome.stderr_tail),
                });
            }
            evaluate::watch(b, &r)
        }
        Budget::Lint(b) => {
            let r: tachy_report::lint::LintReport = serde_json::from_slice(&text).map_err(bad)?;
            let base = baseline(
                ctx,
                lint_baseline.as_deref(),
                result_path,
                &BaselineKind { what: "a tachy lint report", label: "lint baseline", schema: "tachy-lint/" },
                notes,
                |r| match r {
                    AnyResult::Lint(r) => Ok(r),
                    other => Err(other.kind()),
                },
            )?;
            evaluate::lint(b, &r, base.as_ref())
        }
    };
    Ok(ev)
}

/// What a baseline is, for messages and for [`save_baseline`].
struct BaselineKind {
    /// `a tachy profile`.
    what: &'static str,
    /// `baseline profile`.
    label: &'static str,
    /// The schema prefix of the files it may replace: `tachy-profile/`.
    schema: &'static str,
}

/// The saved baseline at `path`, read by its schema (another kind or an unknown version is
/// refused); when it is missing or `--update-baselines` was given, this run's result is saved
/// there instead (with a note) and there is nothing to compare with.
fn baseline<T>(
    ctx: &Ctx<'_>,
    path: Option<&Path>,
    result_path: &Path,
    kind: &BaselineKind,
    notes: &mut Vec<String>,
    extract: impl FnOnce(AnyResult) -> Result<T, &'static str>,
) -> Result<Option<T>, Failure> {
    let Some(path) = path else { return Ok(None) };
    if path.is_file() && !ctx.settings.update_baselines {
        let saved =
            tachy_report::results::load(path).map_err(|e| Failure::new(format!("baseline {}: {e}", path.display())))?;
        return extract(saved)
            .map(Some)
            .map_err(|k| Failure::new(format!("baseline {} is a {k} result, not {}", path.display(), kind.what)));
    }
    save_baseline(result_path, path, kind.schema)?;
    notes.push(format!("{} saved to {}", kind.label, path.display()));
    Ok(None)
}

/// Copies this run's result to the baseline `to`, atomically (a temporary file beside it, then
/// a rename: a symbolic link there is replaced, never written through). An existing file that
/// is not a tachy result of the same kind (`schema_prefix`) is never replaced.
fn save_baseline(from: &Path, to: &Path, schema_prefix: &str) -> Result<(), Failure> {
    crate::config::replaceable(to, schema_prefix).map_err(Failure::new)?;
    let dir = match to.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| Failure::new(format!("cannot create {}: {e}", dir.display())))?;
    let name = to.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tachy-tmp-{}", std::process::id()));
    let result = std::fs::copy(from, &tmp).and_then(|_| std::fs::rename(&tmp, to));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(|e| Failure::new(format!("cannot save the baseline {}: {e}", to.display())))
}

fn command_failed(code: Option<i32>, tail: &str, interrupted: bool) -> Result<(), Failure> {
    match code {
        Some(0) => Ok(()),
        _ if interrupted => Ok(()),
        None => Ok(()),
        Some(c) => {
            Err(Failure { error: format!("the command exited with code {c}"), log_tail: Some(tail.to_string()) })
        }
    }
}

fn code_text(code: Option<i32>) -> String {
    match code {
        Some(c) => format!("code {c}"),
        None => "a signal".into(),
    }
}

/// tachy's own one-line error (`error: ...`) in a child's stderr.
fn first_error_line(tail: &str) -> Option<String> {
    tail.lines()
        .rev()
        .find_map(|l| l.strip_prefix("tachy: error:").or_else(|| l.strip_prefix("error:")))
        .map(|l| l.trim().to_string())
}

fn start_server(
    ctx: &Ctx<'_>,
    name: &str,
    spec: &ServerSpec,
    ready: &Ready,
    wait: Duration,
    exec: &mut dyn Executor,
) -> Result<Box<dyn ServerHandle>, Failure> {
    let cwd = spec.cwd.as_ref().map_or_else(|| ctx.cfg.root.clone(), |c| ctx.cfg.root.join(c));
    let log = ctx.results_dir.join(format!("{name}.server.log"));
    let mut server = exec
        .start_server(spec, &cwd, &log)
        .map_err(|e| Failure::new(format!("cannot start the server `{}`: {e}", spec.command.display())))?;
    let started = Instant::now();
    loop {
        if exec.probe(ready) {
            return Ok(server);
        }
        if let Some(code) = server.exited() {
            let tail = server.log_tail();
            return Err(Failure {
                error: format!(
                    "the server `{}` exited with {} before it was ready",
                    spec.command.display(),
                    code_text(code)
                ),
                log_tail: Some(tail),
            });
        }
        if exec.interrupted() || started.elapsed() >= wait {
            let what = if exec.interrupted() {
                "interrupted while waiting for the server".to_string()
            } else {
                format!(
                    "the server `{}` was not ready after {} ({} did not answer); raise `ready_timeout` or fix `ready`",
                    spec.command.display(),
                    humantime::format_duration(wait),
                    match ready {
                        Ready::Http(u) => u.clone(),
                        Ready::Tcp(a) => format!("tcp://{a}"),
                    }
                )
            };
            server.stop();
            return Err(Failure { error: what, log_tail: Some(server.log_tail()) });
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn now_rfc3339() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

fn git_commit(root: &Path) -> Option<String> {
    let out = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(root)
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string()).filter(|s| !s.is_empty())
}

/// Runs real processes.
#[derive(Debug)]
pub struct ProcessExecutor {
    /// The tachy binary.
    pub tachy: PathBuf,
}

/// The last `max` bytes of a file, as text.
fn file_tail(path: &Path, max: u64) -> String {
    let Ok(mut f) = std::fs::File::open(path) else { return String::new() };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = f.seek(SeekFrom::Start(len.saturating_sub(max)));
    let mut buf = Vec::new();
    let _ = f.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).into_owned();
    // Whole lines only, at most 20.
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

fn signal_group(child: &Child, sig: i32) {
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: kill(2) with a negative pid signals the child's process group (it leads it).
        unsafe {
            libc::kill(-pid, sig);
        }
    }
}

/// Waits for `child`, forwarding Ctrl-C once and enforcing `timeout` (SIGINT, then SIGKILL
/// after a grace period). Returns the exit status and whether the timeout hit.
fn wait(
    child: &mut Child,
    timeout: Duration,
    forward_interrupt: bool,
) -> std::io::Result<(std::process::ExitStatus, bool)> {
    let start = Instant::now();
    let mut forwarded = false;
    let mut timed_out = false;
    let mut stop_sent: Option<Instant> = None;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok((status, timed_out));
        }
        if forward_interrupt && !forwarded && tachy_process::interrupt::interrupted() {
            forwarded = true;
            signal_group(child, libc::SIGINT);
            stop_sent.get_or_insert_with(Instant::now);
        }
        if !timed_out && start.elapsed() >= timeout {
            timed_out = true;
            signal_group(child, libc::SIGINT);
            stop_sent.get_or_insert_with(Instant::now);
        }
        if stop_sent.is_some_and(|t| t.elapsed() > Duration::from_secs(10)) {
            signal_group(child, libc::SIGKILL);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

impl Executor for ProcessExecutor {
    fn tachy(
        &mut self,
        args: &[OsString],
        cwd: &Path,
        stdout_file: Option<&Path>,
        timeout: Duration,
    ) -> std::io::Result<ExecOutcome> {
        let mut stderr = tempfile_in_tmp()?;
        let stdout = match stdout_file {
            Some(p) => Stdio::from(std::fs::File::create(p)?),
            None => Stdio::null(),
        };
        let mut child = Command::new(&self.tachy)
            .args(args)
            .current_dir(cwd)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::from(stderr.try_clone()?))
            .process_group(0)
            .spawn()?;
        let (status, timed_out) = wait(&mut child, timeout, true)?;
        let mut text = String::new();
        stderr.seek(SeekFrom::Start(0))?;
        let mut buf = Vec::new();
        stderr.read_to_end(&mut buf)?;
        text.push_str(&String::from_utf8_lossy(&buf));
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(20)..].join("\n");
        Ok(ExecOutcome { code: exit_code(status), stderr_tail: tail, timed_out })
    }

    fn start_server(&mut self, spec: &ServerSpec, cwd: &Path, log: &Path) -> std::io::Result<Box<dyn ServerHandle>> {
        let argv = spec.command.argv().map_err(std::io::Error::other)?;
        let mut logf = std::fs::File::create(log)?;
        writeln!(logf, "$ {}", spec.command.display())?;
        let child = Command::new(&argv[0])
            .args(&argv[1..])
            .current_dir(cwd)
            .envs(spec.env.iter())
            .stdin(Stdio::null())
            .stdout(Stdio::from(logf.try_clone()?))
            .stderr(Stdio::from(logf))
            .process_group(0)
            .spawn()
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", argv[0])))?;
        let guard = i32::try_from(child.id()).ok().map(tachy_process::interrupt::guard_group);
        Ok(Box::new(ProcessServer { child, log: log.to_path_buf(), exit: None, stopped: false, _guard: guard }))
    }

    fn probe(&mut self, ready: &Ready) -> bool {
        probe(ready)
    }

    fn interrupted(&self) -> bool {
        tachy_process::interrupt::interrupted()
    }
}

fn tempfile_in_tmp() -> std::io::Result<std::fs::File> {
    let dir = std::env::temp_dir();
    let path = dir.join(format!(
        "tachy-check-{}-{}.stderr",
        std::process::id(),
        COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let f = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(true).open(&path)?;
    let _ = std::fs::remove_file(&path);
    Ok(f)
}

static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

fn exit_code(status: std::process::ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt;
    status.code().or_else(|| status.signal().map(|s| 128 + s))
}

struct ProcessServer {
    child: Child,
    log: PathBuf,
    exit: Option<Option<i32>>,
    stopped: bool,
    /// A second Ctrl-C (tachy exits at once) still terminates the server's group.
    _guard: Option<tachy_process::interrupt::GroupGuard>,
}

impl ServerHandle for ProcessServer {
    fn exited(&mut self) -> Option<Option<i32>> {
        if self.exit.is_none()
            && let Ok(Some(status)) = self.child.try_wait()
        {
            self.exit = Some(exit_code(status));
        }
        self.exit
    }

    fn log_tail(&mut self) -> String {
        file_tail(&self.log, 4096)
    }

    fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        // The whole group: a server started through a shell or with workers goes entirely.
        signal_group(&self.child, libc::SIGTERM);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(5) {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        signal_group(&self.child, libc::SIGKILL);
        let _ = self.child.wait();
    }
}

impl Drop for ProcessServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One readiness probe: an HTTP request answered below 500, or a TCP connection accepted.
pub fn probe(ready: &Ready) -> bool {
    use std::net::{TcpStream, ToSocketAddrs};
    let (addr, request) = match ready {
        Ready::Tcp(a) => (a.clone(), None),
        Ready::Http(u) => {
            let Ok(url) = url::Url::parse(u) else { return false };
            let host = url.host_str().unwrap_or("127.0.0.1").to_string();
            let port = url.port_or_known_default().unwrap_or(80);
            let path = match url.query() {
                Some(q) => format!("{}?{q}", url.path()),
                None => url.path().to_string(),
            };
            let req = (url.scheme() == "http")
                .then(|| format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"));
            (format!("{host}:{port}"), req)
        }
    };
    let Ok(mut addrs) = addr.to_socket_addrs() else { return false };
    let Some(sa) = addrs.next() else { return false };
    let Ok(mut stream) = TcpStream::connect_timeout(&sa, Duration::from_secs(1)) else { return false };
    let Some(req) = request else { return true };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    if stream.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut buf = [0u8; 64];
    let mut got = Vec::new();
    while got.len() < 12 {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    let line = String::from_utf8_lossy(&got);
    line.split_whitespace().nth(1).and_then(|c| c.parse::<u16>().ok()).is_some_and(|c| c < 500)
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use tachy_report::lint::{Finding, LintReport, Location};

    use super::*;

    #[derive(Default)]
    struct Log {
        calls: Vec<Vec<String>>,
        servers_started: usize,
        servers_stopped: usize,
    }

    struct Mock {
        log: Rc<RefCell<Log>>,
        /// Findings written by each lint run, in order.
        lint_findings: Vec<usize>,
        code: i32,
        stderr: String,
        ready_after: Option<usize>,
        probes: usize,
        server_exits: Option<i32>,
        interrupt_after: Option<usize>,
    }

    impl Mock {
        fn new(log: Rc<RefCell<Log>>) -> Self {
            Mock {
                log,
                lint_findings: vec![],
                code: 0,
                stderr: String::new(),
                ready_after: Some(0),
                probes: 0,
                server_exits: None,
                interrupt_after: None,
            }
        }
    }

    struct MockServer {
        log: Rc<RefCell<Log>>,
        exits: Option<i32>,
        stopped: bool,
    }

    impl ServerHandle for MockServer {
        fn exited(&mut self) -> Option<Option<i32>> {
            self.exits.map(Some)
        }
        fn log_tail(&mut self) -> String {
            "Traceback: port 8000 in use".into()
        }
        fn stop(&mut self) {
            if !self.stopped {
                self.stopped = true;
                self.log.borrow_mut().servers_stopped += 1;
            }
        }
    }

    fn finding(i: usize) -> Finding {
        Finding {
            code: "TA101".into(),
            name: "x".into(),
            message: format!("message {i}"),
            help: None,
            path: "app.py".into(),
            location: Location { line: i + 1, column: 1 },
            end_location: Location { line: i + 1, column: 2 },
            fix: None,
            cost: None,
            snippet: None,
        }
    }

    impl Executor for Mock {
        fn tachy(
            &mut self,
            args: &[OsString],
            _cwd: &Path,
            _stdout: Option<&Path>,
            _t: Duration,
        ) -> std::io::Result<ExecOutcome> {
            let args: Vec<String> = args.iter().map(|a| a.to_string_lossy().into_owned()).collect();
            let n = self.log.borrow().calls.len();
            self.log.borrow_mut().calls.push(args.clone());
            if args[0] == "lint" && self.code != 2 {
                let out = &args[args.iter().position(|a| a == "-o").unwrap() + 1];
                let k = self.lint_findings.get(n).copied().unwrap_or(0);
                let report = LintReport {
                    schema: "tachy-lint/1".into(),
                    findings: (0..k).map(finding).collect(),
                    ..Default::default()
                };
                std::fs::write(out, serde_json::to_vec(&report).unwrap())?;
            }
            Ok(ExecOutcome { code: Some(self.code), stderr_tail: self.stderr.clone(), timed_out: false })
        }
        fn start_server(
            &mut self,
            _spec: &ServerSpec,
            _cwd: &Path,
            _log: &Path,
        ) -> std::io::Result<Box<dyn ServerHandle>> {
            self.log.borrow_mut().servers_started += 1;
            Ok(Box::new(MockServer { log: self.log.clone(), exits: self.server_exits, stopped: false }))
        }
        fn probe(&mut self, _ready: &Ready) -> bool {
            self.probes += 1;
            self.ready_after.is_some_and(|n| self.probes > n)
        }
        fn interrupted(&self) -> bool {
            self.interrupt_after.is_some_and(|n| self.log.borrow().calls.len() >= n)
        }
    }

    fn cfg(dir: &Path, text: &str) -> LoadedConfig {
        let path = dir.join("tachy.toml");
        std::fs::write(&path, text).unwrap();
        crate::config::load(&path).unwrap()
    }

    fn settings() -> Settings {
        Settings { tachy: "tachy".into(), only: vec![], results_dir: None, update_baselines: false }
    }

    const TWO_LINTS: &str = "[budget.first]\nkind = \"lint\"\nmax_findings = 1\n[budget.second]\nkind = \"lint\"\n";

    #[test]
    fn budgets_run_in_order_and_get_verdicts() {
        let dir = tempfile::tempdir().unwrap();
        let c = cfg(dir.path(), TWO_LINTS);
        let log = Rc::new(RefCell::new(Log::default()));
        let mut mock = Mock::new(log.clone());
        mock.lint_findings = vec![1, 2];
        mock.code = 1;
        let mut events = Vec::new();
        let report = run(&c, &settings(), &mut mock, &mut |e| {
            if let Event::Start { name, .. } = e {
                events.push(name.to_string())
            }
        })
        .unwrap();
        assert_eq!(events, ["first", "second"]);
        assert_eq!(report.budgets[0].verdict, Verdict::Pass);
        assert_eq!(report.budgets[1].verdict, Verdict::Fail);
        assert_eq!(report.budgets[1].checks[0].measured, 2.0);
        assert_eq!(report.verdict(), Verdict::Fail);
        assert!(log.borrow().calls[0].contains(&"--output-format".to_string()));
        assert!(report.budgets[0].result_file.as_deref().unwrap().ends_with("first.json"));
    }

    #[test]
    fn only_selects_and_unknown_names_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let c = cfg(dir.path(), TWO_LINTS);
        let log = Rc::new(RefCell::new(Log::default()));
        let mut s = settings();
        s.only = vec!["second".into()];
        let report = run(&c, &s, &mut Mock::new(log.clone()), &mut |_| {}).unwrap();
        assert_eq!(report.budgets.len(), 1);
        s.only = vec!["third".into()];
        let e = run(&c, &s, &mut Mock::new(log), &mut |_| {}).unwrap_err().to_string();
        assert!(e.contains("third") && e.contains("first, second"), "{e}");
    }

    #[test]
    fn a_lint_baseline_is_saved_then_new_findings_fail() {
        let dir = tempfile::tempdir().unwrap();
        let c = cfg(dir.path(), "[budget.l]\nkind = \"lint\"\nbaseline = \"base.json\"\n");
        let log = Rc::new(RefCell::new(Log::default()));
        let mut mock = Mock::new(log.clone());
        mock.lint_findings = vec![2, 2, 3];
        let r1 = run(&c, &settings(), &mut mock, &mut |_| {}).unwrap();
        assert_eq!(r1.budgets[0].verdict, Verdict::Pass);
        assert!(r1.budgets[0].notes.iter().any(|n| n.contains("baseline saved")), "{:?}", r1.budgets[0].notes);
        assert!(dir.path().join("base.json").is_file());
        let r2 = run(&c, &settings(), &mut mock, &mut |_| {}).unwrap();
        assert_eq!(r2.budgets[0].verdict, Verdict::Pass);
        let r3 = run(&c, &settings(), &mut mock, &mut |_| {}).unwrap();
        assert_eq!(r3.budgets[0].verdict, Verdict::Fail);
        assert!(r3.budgets[0].notes.iter().any(|n| n.contains("message 2")));
    }

    /// `--update-baselines` with a baseline that names another program's file (here written
    /// as an absolute path outside the project, which the config allows) refuses to replace
    /// it: the budget is an error naming the file, and the file is untouched.
    #[test]
    fn updating_a_baseline_never_replaces_a_file_that_is_not_one() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("project");
        std::fs::create_dir(&project).unwrap();
        let victim = dir.path().join("victim.txt");
        std::fs::write(&victim, "not a profile\n").unwrap();
        let c = cfg(&project, &format!("[budget.l]\nkind = \"lint\"\nbaseline = \"{}\"\n", victim.display()));
        let log = Rc::new(RefCell::new(Log::default()));
        let mut s = settings();
        s.update_baselines = true;
        let report = run(&c, &s, &mut Mock::new(log.clone()), &mut |_| {}).unwrap();
        let b = &report.budgets[0];
        assert_eq!(b.verdict, Verdict::Error);
        let e = b.error.as_deref().unwrap();
        assert!(e.starts_with(&format!("refusing to replace {}", victim.display())), "{e}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "not a profile\n");
        // A lint baseline of its own kind is replaced, atomically, leaving no temporary file.
        let own = project.join("base.json");
        let c = cfg(&project, "[budget.l]\nkind = \"lint\"\nbaseline = \"base.json\"\n");
        std::fs::write(&own, r#"{"schema": "tachy-lint/1", "stale_marker": true}"#).unwrap();
        let report = run(&c, &s, &mut Mock::new(log), &mut |_| {}).unwrap();
        assert_eq!(report.budgets[0].verdict, Verdict::Pass, "{:?}", report.budgets[0].error);
        assert!(!std::fs::read_to_string(&own).unwrap().contains("stale_marker"));
        assert!(
            !std::fs::read_dir(&project).unwrap().any(|e| e.unwrap().file_name().to_string_lossy().contains("tmp"))
        );
    }

    /// A results folder given with --results-dir may hold other files: one with a budget's
    /// name that is not a result of its kind is not removed.
    #[test]
    fn a_file_in_the_results_folder_that_is_not_a_result_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let c = cfg(dir.path(), "[budget.l]\nkind = \"lint\"\n");
        let results = dir.path().join("shared");
        std::fs::create_dir(&results).unwrap();
        std::fs::write(results.join("l.json"), "keep me").unwrap();
        let mut s = settings();
        s.results_dir = Some(results.clone());
        let log = Rc::new(RefCell::new(Log::default()));
        let report = run(&c, &s, &mut Mock::new(log.clone()), &mut |_| {}).unwrap();
        let b = &report.budgets[0];
        assert_eq!(b.verdict, Verdict::Error);
        assert!(b.error.as_deref().unwrap().contains("refusing to replace"), "{:?}", b.error);
        assert_eq!(b.result_file, None);
        assert_eq!(std::fs::read_to_string(results.join("l.json")).unwrap(), "keep me");
        assert!(log.borrow().calls.is_empty(), "nothing ran");
    }

    #[test]
    fn a_baseline_of_an_unknown_version_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let c = cfg(dir.path(), "[budget.l]\nkind = \"lint\"\nbaseline = \"base.json\"\n");
        std::fs::write(dir.path().join("base.json"), r#"{"schema": "tachy-lint/9", "findings": []}"#).unwrap();
        let log = Rc::new(RefCell::new(Log::default()));
        let report = run(&c, &settings(), &mut Mock::new(log), &mut |_| {}).unwrap();
        let b = &report.budgets[0];
        assert_eq!(b.verdict, Verdict::Error);
        assert!(b.error.as_deref().unwrap().contains("tachy-lint/9"), "{:?}", b.error);
    }

    const LOAD: &str = "[budget.api]\nkind = \"load\"\nurl = \"http://127.0.0.1:9/\"\nslo = [\"p95<=200ms\"]\n[budget.api.server]\ncommand = \"python -m http.server 9\"\nready_timeout = \"300ms\"\n";

    #[test]
    fn the_server_is_stopped_when_the_load_fails() {
        let dir = tempfile::tempdir().unwrap();
        let c = cfg(dir.path(), LOAD);
        let log = Rc::new(RefCell::new(Log::default()));
        let mut mock = Mock::new(log.clone());
        mock.code = 2;
        mock.stderr = "tachy: error: connection refused by 127.0.0.1:9".into();
        let report = run(&c, &settings(), &mut mock, &mut |_| {}).unwrap();
        let b = &report.budgets[0];
        assert_eq!(b.verdict, Verdict::Error);
        assert!(b.error.as_deref().unwrap().contains("connection refused"), "{:?}", b.error);
        assert_eq!((log.borrow().servers_started, log.borrow().servers_stopped), (1, 1));
        assert_eq!(report.verdict(), Verdict::Error);
    }

    #[test]
    fn a_server_that_never_gets_ready_times_out_with_its_log() {
        let dir = tempfile::tempdir().unwrap();
        let c = cfg(dir.path(), LOAD);
        let log = Rc::new(RefCell::new(Log::default()));
        let mut mock = Mock::new(log.clone());
        mock.ready_after = None;
        let report = run(&c, &settings(), &mut mock, &mut |_| {}).unwrap();
        let b = &report.budgets[0];
        assert_eq!(b.verdict, Verdict::Error);
        assert!(b.error.as_deref().unwrap().contains("not ready after"), "{:?}", b.error);
        assert!(b.log_tail.as_deref().unwrap().contains("port 8000 in use"));
        assert!(log.borrow().calls.is_empty(), "no load without a server");
        assert_eq!(log.borrow().servers_stopped, 1);
    }

    #[test]
    fn a_server_that_exits_early_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let c = cfg(dir.path(), LOAD);
        let log = Rc::new(RefCell::new(Log::default()));
        let mut mock = Mock::new(log.clone());
        mock.ready_after = None;
        mock.server_exits = Some(1);
        let report = run(&c, &settings(), &mut mock, &mut |_| {}).unwrap();
        assert!(report.budgets[0].error.as_deref().unwrap().contains("exited with code 1 before it was ready"));
    }

    #[test]
    fn ctrl_c_stops_after_the_running_budget() {
        let dir = tempfile::tempdir().unwrap();
        let c = cfg(dir.path(), TWO_LINTS);
        let log = Rc::new(RefCell::new(Log::default()));
        let mut mock = Mock::new(log.clone());
        mock.interrupt_after = Some(1);
        let report = run(&c, &settings(), &mut mock, &mut |_| {}).unwrap();
        assert!(report.interrupted);
        assert_eq!(report.budgets.len(), 1);
    }

    #[test]
    fn the_probe_sees_a_real_http_server_and_a_closed_port() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        std::thread::spawn(move || {
            for s in listener.incoming().take(2) {
                let mut s = s.unwrap();
                let mut buf = [0u8; 512];
                let _ = s.read(&mut buf);
                let _ = s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
            }
        });
        assert!(probe(&Ready::Http(format!("http://{addr}/health"))));
        assert!(probe(&Ready::Tcp(addr.to_string())));
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        assert!(!probe(&Ready::Tcp(closed.to_string())));
    }
}
