//! The sampling loop: reads the process (tree) every interval on a deadline schedule, derives
//! CPU rates and the memory growth, evaluates alerts, feeds the observer and the Prometheus
//! exporter, and builds the end report.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use tachy_report::watch::{
    AlertEvent, DEFAULT_GROWTH_THRESHOLD, Metrics, ProcessSample, Sample, SeriesStats, TimelinePoint, WATCH_SCHEMA,
    WatchEnd, WatchReport,
};

use crate::WatchError;
use crate::alert::{Alert, AlertMetric, Alerts};
use crate::growth::{self, thin};
use crate::procfs::{self, ProcError, RawProcess};
use crate::prometheus::Exporter;

/// Most memory samples kept for the growth fit; beyond, every other one is dropped (a day at
/// 1 s fits without thinning).
const GROWTH_KEEP: usize = 100_000;
/// Longest wait for a launched command to exec its program before sampling starts anyway.
const EXEC_WAIT: Duration = Duration::from_secs(2);
/// Most points of the report's timeline.
const TIMELINE_POINTS: usize = 2000;
/// The TCP tables and `smaps_rollup` (USS, PSS) are read at most this often: each read walks
/// the kernel's whole connection table or every page table of the process. RSS, CPU and the
/// rest come every sample.
const FULL_EVERY: Duration = Duration::from_secs(1);

/// What to watch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A running process.
    Pid(u32),
    /// Launch this command (stdin and stderr pass through, stdout too unless
    /// [`WatchSettings::child_stdout_to_stderr`]) and watch it until it exits.
    Launch(Vec<String>),
}

/// Resolved options of one watch.
#[derive(Debug, Clone)]
pub struct WatchSettings {
    /// The target.
    pub target: Target,
    /// Include every descendant process.
    pub children: bool,
    /// Sampling period.
    pub interval: Duration,
    /// Stop after this long (default: until the process exits or Ctrl-C).
    pub duration: Option<Duration>,
    /// Alerts.
    pub alerts: Vec<Alert>,
    /// Window of the growth fit: the last this long of the run (`None`: the whole run). The
    /// warm-up inside it is left out either way.
    pub growth_window: Option<Duration>,
    /// The rate the report's growth verdict is judged against, bytes per hour: the lowest
    /// `growth>` alert threshold, else [`DEFAULT_GROWTH_THRESHOLD`] (see [`Self::new`]).
    pub growth_threshold: f64,
    /// Send a launched command's stdout to tachy's stderr (when tachy's stdout carries JSON).
    pub child_stdout_to_stderr: bool,
    /// Serve `/metrics` here.
    pub prometheus: Option<String>,
    /// Run this shell command on every alert event (the alert is in its environment).
    pub on_alert: Option<String>,
}

impl WatchSettings {
    /// The threshold of the report's growth verdict for these alerts: the lowest threshold of
    /// a `growth>` or `growth>=` alert, else [`DEFAULT_GROWTH_THRESHOLD`].
    pub fn growth_threshold_for(alerts: &[Alert]) -> f64 {
        alerts
            .iter()
            .filter(|a| a.metric == AlertMetric::Growth && a.op.is_upper_bound())
            .map(|a| a.threshold)
            .reduce(f64::min)
            .unwrap_or(DEFAULT_GROWTH_THRESHOLD)
    }

    /// Defaults for a target.
    pub fn new(target: Target) -> Self {
        WatchSettings {
            target,
            children: false,
            interval: Duration::from_secs(1),
            duration: None,
            alerts: Vec::new(),
            growth_window: None,
            growth_threshold: DEFAULT_GROWTH_THRESHOLD,
            child_stdout_to_stderr: false,
            prometheus: None,
            on_alert: None,
        }
    }
}

/// Receives samples and events as they happen.
pub trait Observer {
    /// The watch started on `pid`; the exporter (if any) listens on `prometheus`.
    fn started(&mut self, _pid: u32, _command: &str, _prometheus: Option<std::net::SocketAddr>) {}
    /// A sample was taken; `firing` lists the alerts firing now.
    fn sample(&mut self, _sample: &Sample, _firing: &[String]) {}
    /// An alert fired or cleared.
    fn event(&mut self, _event: &AlertEvent) {}
}

/// Ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoObserver;

impl Observer for NoObserver {}

fn self_cpu_secs() -> f64 {
    // SAFETY: plain syscall writing into a local rusage.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe {
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

#[derive(Default)]
struct Running {
    min: f64,
    max: f64,
    sum: f64,
    n: u64,
    last: f64,
}

impl Running {
    fn add(&mut self, v: f64) {
        if self.n == 0 {
            self.min = v;
            self.max = v;
        }
        self.min = self.min.min(v);
        self.max = self.max.max(v);
        self.sum += v;
        self.n += 1;
        self.last = v;
    }
}

fn series_values(m: &Metrics, processes: usize) -> Vec<(&'static str, Option<f64>)> {
    let cpu = match (m.cpu_user_percent, m.cpu_system_percent) {
        (Some(u), Some(s)) => Some(u + s),
        _ => None,
    };
    vec![
        ("rss_bytes", m.rss_bytes.map(|v| v as f64)),
        ("uss_bytes", m.uss_bytes.map(|v| v as f64)),
        ("pss_bytes", m.pss_bytes.map(|v| v as f64)),
        ("swap_bytes", m.swap_bytes.map(|v| v as f64)),
        ("cpu_percent", cpu),
        ("threads", m.threads.map(|v| v as f64)),
        ("fds", m.fds.map(|v| v as f64)),
        ("tcp_connections", m.tcp.as_ref().map(|t| t.values().sum::<u64>() as f64)),
        ("processes", Some(processes as f64)),
    ]
}

/// Waits (at most [`EXEC_WAIT`]) until launched process `pid` runs its program: `exec` has
/// finished (the command line is set), and its executable is no longer tachy's (the fork before
/// `exec`) nor, unless `program` is itself a shell, a shell (a wrapper script such as a pyenv
/// shim that `exec`s the real program). So the first sample is the program, not its launcher.
fn wait_for_exec(pid: u32, program: &str) {
    let is_shell = |p: &std::path::Path| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| matches!(n, "sh" | "bash" | "dash" | "zsh" | "ksh" | "busybox" | "env"))
    };
    let own = std::fs::read_link("/proc/self/exe").ok();
    let wants_shell = is_shell(std::path::Path::new(program));
    let deadline = Instant::now() + EXEC_WAIT;
    while Instant::now() < deadline {
        let Ok(exe) = std::fs::read_link(format!("/proc/{pid}/exe")) else { return };
        // The command line is set at the very end of `exec`, once the program is mapped: before
        // that the process has an empty address space (RSS 0) under the new executable's name.
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else { return };
        if Some(&exe) != own.as_ref() && !cmdline.is_empty() && (wants_shell || !is_shell(&exe)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// How long `--on-alert` hooks still running when the watch ends get to finish before their
/// process groups are stopped (a hook must not outlive tachy and hold its output open).
const HOOK_GRACE: Duration = Duration::from_secs(5);

/// Starts an `--on-alert` hook in its own process group; it is reaped by [`reap_hooks`].
fn spawn_on_alert(cmd: &str, e: &AlertEvent, pid: u32, hooks: &mut Vec<Child>) {
    use std::os::unix::process::CommandExt;
    let child = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .env("TACHY_ALERT", &e.alert)
        .env(
            "TACHY_ALERT_STATE",
            match e.state {
                tachy_report::watch::AlertState::Firing => "firing",
                tachy_report::watch::AlertState::Cleared => "cleared",
            },
        )
        .env("TACHY_ALERT_VALUE", format!("{}", e.value))
        .env("TACHY_ALERT_THRESHOLD", format!("{}", e.threshold))
        .env("TACHY_ALERT_UNIT", &e.unit)
        .env("TACHY_ALERT_TIME", &e.time)
        .env("TACHY_PID", pid.to_string())
        .stdin(Stdio::null())
        .process_group(0)
        .spawn();
    if let Ok(c) = child {
        hooks.push(c);
    }
}

/// Reaps the hooks that ended; with `until`, waits for the others until then and stops the
/// rest (SIGTERM to the group, SIGKILL after a moment).
fn reap_hooks(hooks: &mut Vec<Child>, until: Option<Instant>) {
    hooks.retain_mut(|c| !matches!(c.try_wait(), Ok(Some(_)) | Err(_)));
    let Some(until) = until else { return };
    while !hooks.is_empty() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
        hooks.retain_mut(|c| !matches!(c.try_wait(), Ok(Some(_)) | Err(_)));
    }
    for signal in [libc::SIGTERM, libc::SIGKILL] {
        if hooks.is_empty() {
            return;
        }
        for c in hooks.iter() {
            // SAFETY: kill(2) on the process group of a hook we started and have not reaped.
            unsafe {
                libc::kill(-(c.id() as libc::pid_t), signal);
            }
        }
        let deadline = Instant::now() + Duration::from_millis(500);
        while !hooks.is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
            hooks.retain_mut(|c| !matches!(c.try_wait(), Ok(Some(_)) | Err(_)));
        }
    }
}

/// Watches until the duration elapses, the root process exits or `should_stop` (Ctrl-C).
pub fn run(
    settings: &WatchSettings,
    observer: &mut dyn Observer,
    should_stop: &dyn Fn() -> bool,
) -> Result<WatchReport, WatchError> {
    if settings.interval < Duration::from_millis(10) {
        return Err(WatchError::InvalidSetting("--interval must be at least 10ms".into()));
    }
    if settings.duration.is_some_and(|d| d.is_zero()) {
        return Err(WatchError::InvalidSetting("--duration must be above 0 (e.g. 10m)".into()));
    }
    if settings.growth_window.is_some_and(|w| w < settings.interval * 2) {
        return Err(WatchError::InvalidSetting(
            "--growth-window must hold at least two samples (at least twice --interval)".into(),
        ));
    }
    let exporter = settings.prometheus.as_deref().map(Exporter::start).transpose()?;
    let mut child: Option<Child> = None;
    let root = match &settings.target {
        Target::Pid(pid) => {
            procfs::read(*pid).map_err(|e| match e {
                ProcError::NoSuchProcess(p) => WatchError::NoSuchProcess(p),
                other => WatchError::Proc(other),
            })?;
            *pid
        }
        Target::Launch(cmd) => {
            let Some(program) = cmd.first() else {
                return Err(WatchError::InvalidSetting("no command to watch".into()));
            };
            // A folder, a missing file or a name not on PATH is said plainly, before anything runs.
            tachy_process::program::check(std::ffi::OsStr::new(program))
                .map_err(|e| WatchError::InvalidSetting(e.to_string()))?;
            let mut command = Command::new(program);
            command.args(&cmd[1..]);
            if settings.child_stdout_to_stderr {
                // tachy's stdout carries the JSON report: the program's output goes to stderr.
                use std::os::fd::AsFd;
                let err = std::io::stderr().as_fd().try_clone_to_owned().map_err(|e| WatchError::Spawn {
                    command: cmd.join(" "),
                    reason: format!("cannot share stderr: {e}"),
                })?;
                command.stdout(Stdio::from(err));
            }
            let c = command.spawn().map_err(|e| WatchError::Spawn {
                command: cmd.join(" "),
                reason: if e.kind() == std::io::ErrorKind::NotFound {
                    "command not found".into()
                } else {
                    e.to_string()
                },
            })?;
            let pid = c.id();
            child = Some(c);
            wait_for_exec(pid, program);
            pid
        }
    };
    // Right after a launch the child may not have exec'd yet: name it by the command given.
    let command = match &settings.target {
        Target::Launch(cmd) => cmd.join(" "),
        Target::Pid(_) => procfs::read_opts(root, false)
            .map(|p| if p.cmdline.is_empty() { p.comm } else { p.cmdline })
            .unwrap_or_default(),
    };
    observer.started(root, &command, exporter.as_ref().map(Exporter::local_addr));

    let started = Instant::now();
    let started_at = SystemTime::now();
    let cpu0 = self_cpu_secs();
    let mut alerts = Alerts::new(settings.alerts.clone());
    let mut prev: HashMap<u32, (RawProcess, Instant)> = HashMap::new();
    let mut window: VecDeque<(f64, f64)> = VecDeque::new();
    let window_secs = settings.growth_window.map(|w| w.as_secs_f64());
    let mut running: BTreeMap<&'static str, Running> = BTreeMap::new();
    let mut timeline: Vec<TimelinePoint> = Vec::new();
    let mut events = Vec::new();
    let mut hooks: Vec<Child> = Vec::new();
    let mut unavailable: BTreeSet<String> = BTreeSet::new();
    let mut last_growth = None;
    let mut samples = 0u64;
    let mut exit_code = None;
    let mut notes = Vec::new();
    let mut k: u32 = 0;
    let mut last_tcp: Option<Instant> = None;
    let mut last_fit: Option<Instant> = None;
    let mut saturated = 0u64;
    let mut tree: Vec<u32> = Vec::new();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let end = loop {
        if should_stop() {
            break WatchEnd::Interrupted;
        }
        if let Some(c) = child.as_mut()
            && let Ok(Some(status)) = c.try_wait()
        {
            exit_code = status.code();
            break WatchEnd::TargetExited;
        }
        let now = Instant::now();
        let t_secs = now.duration_since(started).as_secs_f64();
        let with_tcp = last_tcp.is_none_or(|t: Instant| now.duration_since(t) >= FULL_EVERY);
        if with_tcp {
            last_tcp = Some(now);
        }
        let root_raw = match procfs::read_opts(root, with_tcp) {
            Ok(p) => p,
            Err(ProcError::NoSuchProcess(_)) => {
                if let Some(c) = child.as_mut()
                    && let Ok(status) = c.wait()
                {
                    exit_code = status.code();
                }
                break WatchEnd::TargetExited;
            }
            Err(e) => return Err(WatchError::Proc(e)),
        };
        let mut raws = vec![root_raw];
        if settings.children {
            // The tree is rescanned (a read of every /proc/*/stat) with the full reads, once a
            // second; known children are read every sample.
            if with_tcp {
                tree = procfs::descendants(root);
            }
            raws.extend(tree.iter().filter_map(|p| procfs::read_opts(*p, with_tcp).ok()));
        }
        let mut processes = Vec::with_capacity(raws.len());
        let mut next_prev = HashMap::with_capacity(raws.len());
        for mut raw in raws {
            if !with_tcp && let Some((p, _)) = prev.get(&raw.pid) {
                raw.tcp.clone_from(&p.tcp);
                raw.uss_bytes.clone_from(&p.uss_bytes);
                raw.pss_bytes.clone_from(&p.pss_bytes);
                if raw.num_threads > 1 && p.num_threads > 1 {
                    // Summed over the threads by the last full reading (once a second).
                    raw.ctx_voluntary.clone_from(&p.ctx_voluntary);
                    raw.ctx_involuntary.clone_from(&p.ctx_involuntary);
                }
            }
            let dt_prev = prev.get(&raw.pid).filter(|(p, _)| p.starttime_ticks == raw.starttime_ticks);
            let metrics = match dt_prev {
                Some((p, at)) => procfs::metrics(Some(p), &raw, now.duration_since(*at).as_secs_f64()),
                None => procfs::metrics(None, &raw, 0.0),
            };
            for u in procfs::unavailable(&raw) {
                unavailable.insert(u);
            }
            let cmd = if raw.cmdline.is_empty() { raw.comm.clone() } else { raw.cmdline.clone() };
            processes.push(ProcessSample { pid: raw.pid, ppid: raw.ppid, command: cmd, metrics });
            next_prev.insert(raw.pid, (raw, now));
        }
        prev = next_prev;
        let total = if processes.len() == 1 {
            processes[0].metrics.clone()
        } else {
            procfs::sum(&processes.iter().map(|p| &p.metrics).collect::<Vec<_>>())
        };
        // Memory growth on RSS (USS when RSS is shared... RSS is what alerts usually mean).
        if let Some(rss) = total.rss_bytes {
            window.push_back((t_secs, rss as f64));
            if let Some(w) = window_secs {
                while window.front().is_some_and(|(t, _)| t_secs - t > w) {
                    window.pop_front();
                }
            }
            if window.len() > GROWTH_KEEP {
                window = window.iter().step_by(2).copied().collect();
            }
        }
        // The fit costs a few hundred microseconds: at most once a second.
        let g = if last_fit.is_none_or(|t: Instant| now.duration_since(t) >= Duration::from_secs(1)) {
            last_fit = Some(now);
            growth::fit(window.make_contiguous(), "rss", settings.growth_threshold)
        } else {
            last_growth.clone()
        };
        if g.is_some() {
            last_growth.clone_from(&g);
        }
        let sample = Sample { t_secs, time: rfc3339(SystemTime::now()), processes, total, growth: g };
        for (name, v) in series_values(&sample.total, sample.processes.len()) {
            if let Some(v) = v {
                running.entry(name).or_default().add(v);
            }
        }
        let root_cpu = sample.processes[0]
            .metrics
            .cpu_user_percent
            .zip(sample.processes[0].metrics.cpu_system_percent)
            .map(|(u, s)| u + s);
        let tree_cpu = sample.total.cpu_user_percent.zip(sample.total.cpu_system_percent).map(|(u, s)| u + s);
        if root_cpu.is_some_and(|c| c >= 90.0) || tree_cpu.is_some_and(|c| c >= 90.0 * cores) {
            saturated += 1;
        }
        timeline.push(TimelinePoint {
            t_secs,
            rss_bytes: sample.total.rss_bytes.unwrap_or(0),
            cpu_percent: sample.total.cpu_user_percent.unwrap_or(0.0) + sample.total.cpu_system_percent.unwrap_or(0.0),
            uss_bytes: sample.total.uss_bytes,
            pss_bytes: sample.total.pss_bytes,
        });
        for e in alerts.observe(&sample) {
            if let Some(cmd) = &settings.on_alert {
                spawn_on_alert(cmd, &e, root, &mut hooks);
            }
            observer.event(&e);
            events.push(e);
        }
        let firing = alerts.firing();
        if let Some(x) = &exporter {
            x.update(&sample, &alerts.states());
        }
        observer.sample(&sample, &firing);
        reap_hooks(&mut hooks, None);
        samples += 1;
        if settings.duration.is_some_and(|d| started.elapsed() >= d) {
            break WatchEnd::Duration;
        }
        // Deadline schedule: sample k+1 at start + (k+1) * interval, never drifting.
        k += 1;
        let next = started + settings.interval * k;
        loop {
            let now = Instant::now();
            if now >= next || should_stop() {
                break;
            }
            std::thread::sleep((next - now).min(Duration::from_millis(50)));
        }
        if Instant::now().duration_since(next) > settings.interval {
            // Far behind (suspended machine): skip ahead instead of bursting.
            k = (started.elapsed().as_secs_f64() / settings.interval.as_secs_f64()) as u32;
        }
    };
    let duration = started.elapsed().as_secs_f64();
    reap_hooks(&mut hooks, Some(Instant::now() + if should_stop() { Duration::ZERO } else { HOOK_GRACE }));
    // The report's estimate covers every sample (the loop fits at most once a second).
    if let Some(g) = growth::fit(window.make_contiguous(), "rss", settings.growth_threshold) {
        last_growth = Some(g);
    }
    if let Some(mut c) = child.take()
        && end != WatchEnd::TargetExited
    {
        // A launched program stops with the watch (Ctrl-C or --duration): SIGTERM, then
        // SIGKILL after 3 s.
        // SAFETY: plain syscall on our own child.
        unsafe {
            libc::kill(c.id() as libc::pid_t, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            match c.try_wait() {
                Ok(Some(status)) => {
                    exit_code = status.code();
                    break;
                }
                Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
                _ => {
                    let _ = c.kill();
                    let _ = c.wait();
                    break;
                }
            }
        }
    }
    match end {
        WatchEnd::TargetExited => {
            notes.push(format!("process {root} exited after {duration:.1} s; the timeline up to then is kept"))
        }
        WatchEnd::Interrupted => notes.push("interrupted by Ctrl-C".into()),
        WatchEnd::Duration => {
            if matches!(settings.target, Target::Launch(_)) {
                notes.push("the launched command was stopped at the end of --duration".into());
            }
        }
    }
    if samples == 0 {
        notes.push("no sample was taken: the process ended at once".into());
    }
    let self_cpu_percent = if duration > 0.0 { (self_cpu_secs() - cpu0) / duration * 100.0 } else { 0.0 };
    Ok(WatchReport {
        schema: WATCH_SCHEMA.into(),
        tachy_version: env!("CARGO_PKG_VERSION").into(),
        pid: root,
        command,
        children: settings.children,
        interval_secs: settings.interval.as_secs_f64(),
        started_at: rfc3339(started_at),
        duration_secs: duration,
        samples,
        end,
        exit_code,
        series: running
            .into_iter()
            .map(|(k, r)| {
                (k.to_string(), SeriesStats { min: r.min, mean: r.sum / r.n.max(1) as f64, max: r.max, last: r.last })
            })
            .collect(),
        growth: last_growth,
        alerts: alerts.summaries(duration),
        events,
        unavailable: unavailable.into_iter().collect(),
        self_cpu_percent,
        cpu_saturated_share: if samples > 0 { saturated as f64 / samples as f64 } else { 0.0 },
        timeline: thin(&timeline, TIMELINE_POINTS),
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_waits_for_a_wrapper_shell_to_exec_the_program() {
        // A wrapper that sleeps before exec'ing the program, like a slow pyenv shim.
        let mut c = Command::new("sh").args(["-c", "sleep 0.3; exec sleep 5"]).spawn().unwrap();
        wait_for_exec(c.id(), "my-wrapper");
        let exe = std::fs::read_link(format!("/proc/{}/exe", c.id())).unwrap();
        let _ = c.kill();
        let _ = c.wait();
        assert!(exe.to_string_lossy().ends_with("sleep"), "{exe:?}");
    }

    #[test]
    fn a_shell_command_is_not_waited_for() {
        let mut c = Command::new("sh").args(["-c", "sleep 5; exit 0"]).spawn().unwrap();
        let t = Instant::now();
        wait_for_exec(c.id(), "sh");
        let waited = t.elapsed();
        let _ = c.kill();
        let _ = c.wait();
        assert!(waited < EXEC_WAIT, "{waited:?}");
    }

    #[test]
    fn the_verdict_threshold_is_the_lowest_growth_alert() {
        let alerts: Vec<Alert> =
            ["rss>1GB", "growth>50MB/h", "growth>=20MB/h"].iter().map(|a| Alert::parse(a).unwrap()).collect();
        assert_eq!(WatchSettings::growth_threshold_for(&alerts), 20e6);
        assert_eq!(WatchSettings::growth_threshold_for(&alerts[..1]), DEFAULT_GROWTH_THRESHOLD);
    }
}
