//! The model of `tachy watch`: one sample per interval (per process and summed over the
//! tree), the memory growth estimate, alert events, and the end-of-run report.
//! The JSON schema is documented in `docs/watch-format.md`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Schema tag of a watch report.
pub const WATCH_SCHEMA: &str = "tachy-watch/1";

/// Figures of one process (or the sum over a tree) at one instant. A field is `None` when
/// it could not be read (permission denied, kernel without the file).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Metrics {
    /// CPU use in user mode over the last interval, % of one core.
    pub cpu_user_percent: Option<f64>,
    /// CPU use in kernel mode over the last interval, % of one core.
    pub cpu_system_percent: Option<f64>,
    /// CPU seconds (user + system) since the process started.
    pub cpu_seconds_total: Option<f64>,
    /// Resident set size, bytes.
    pub rss_bytes: Option<u64>,
    /// Unique set size (private pages, from `smaps_rollup`), bytes.
    pub uss_bytes: Option<u64>,
    /// Proportional set size (from `smaps_rollup`), bytes.
    pub pss_bytes: Option<u64>,
    /// Swapped-out memory, bytes.
    pub swap_bytes: Option<u64>,
    /// Virtual memory size, bytes.
    pub vms_bytes: Option<u64>,
    /// Threads.
    pub threads: Option<u64>,
    /// Open file descriptors.
    pub fds: Option<u64>,
    /// TCP sockets of the process by state (`established`, `listen`, `close_wait`, ...;
    /// TIME_WAIT sockets belong to no process and never appear).
    pub tcp: Option<BTreeMap<String, u64>>,
    /// Bytes read from storage since start.
    pub read_bytes: Option<u64>,
    /// Bytes written to storage since start.
    pub write_bytes: Option<u64>,
    /// Voluntary context switches of the main thread since start.
    pub ctx_switches_voluntary: Option<u64>,
    /// Involuntary context switches of the main thread since start.
    pub ctx_switches_involuntary: Option<u64>,
    /// Minor page faults since start.
    pub minor_faults: Option<u64>,
    /// Major page faults since start.
    pub major_faults: Option<u64>,
}

/// One process at one instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessSample {
    /// Process id.
    pub pid: u32,
    /// Parent process id.
    pub ppid: u32,
    /// Command name (`comm`) or command line.
    pub command: String,
    /// Its figures.
    pub metrics: Metrics,
}

/// One sampling instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Seconds since the watch started.
    pub t_secs: f64,
    /// Wall-clock time (RFC 3339, UTC, milliseconds).
    pub time: String,
    /// The watched processes (the root first).
    pub processes: Vec<ProcessSample>,
    /// Sum over the processes (equal to the root's figures without `--children`).
    pub total: Metrics,
    /// Memory growth over the growth window, when enough samples exist.
    pub growth: Option<Growth>,
}

/// A robust estimate of memory growth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Growth {
    /// The memory series the slope is fitted on (`rss` or `uss`).
    pub metric: String,
    /// Theil-Sen slope, bytes per hour.
    pub bytes_per_hour: f64,
    /// Lower bound of the confidence interval of the slope, bytes per hour.
    pub low_bytes_per_hour: f64,
    /// Upper bound, bytes per hour.
    pub high_bytes_per_hour: f64,
    /// Confidence level of the interval (e.g. 0.95).
    pub level: f64,
    /// Samples in the window.
    pub samples: u64,
    /// Seconds covered by the window.
    pub window_secs: f64,
    /// True when the whole interval lies above zero: memory really grows.
    pub growing: bool,
}

/// An alert firing or clearing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertEvent {
    /// The alert expression, e.g. `rss>150MB`.
    pub alert: String,
    /// `"firing"` or `"cleared"`.
    pub state: AlertState,
    /// Seconds since the watch started.
    pub t_secs: f64,
    /// Wall-clock time (RFC 3339).
    pub time: String,
    /// The measured value, in the alert's unit.
    pub value: f64,
    /// The threshold, in the alert's unit.
    pub threshold: f64,
    /// The unit (`bytes`, `bytes/h`, `%`, `count`).
    pub unit: String,
}

/// State of an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// The condition became true.
    Firing,
    /// The condition became false again.
    Cleared,
}

/// End-of-run summary of one alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertSummary {
    /// The expression.
    pub alert: String,
    /// Times it fired.
    pub fired: u64,
    /// Seconds it was firing in total.
    pub firing_secs: f64,
    /// When it first fired (seconds since start).
    pub first_fired_secs: Option<f64>,
    /// Worst value seen, in the alert's unit.
    pub worst: Option<f64>,
    /// The threshold.
    pub threshold: f64,
    /// The unit.
    pub unit: String,
    /// Still firing at the end.
    pub firing_at_end: bool,
}

/// Min, mean, max and last of a series.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SeriesStats {
    /// Smallest value.
    pub min: f64,
    /// Mean.
    pub mean: f64,
    /// Largest value.
    pub max: f64,
    /// Last value.
    pub last: f64,
}

/// Why the watch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WatchEnd {
    /// `--duration` elapsed.
    Duration,
    /// The watched process exited.
    TargetExited,
    /// Ctrl-C.
    Interrupted,
}

/// The report at the end of a watch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WatchReport {
    /// Always [`WATCH_SCHEMA`].
    pub schema: String,
    /// Version of tachy.
    pub tachy_version: String,
    /// The root process.
    pub pid: u32,
    /// Its command line.
    pub command: String,
    /// Whether child processes were included.
    pub children: bool,
    /// Sampling interval in seconds.
    pub interval_secs: f64,
    /// When the watch started (RFC 3339).
    pub started_at: String,
    /// Seconds watched.
    pub duration_secs: f64,
    /// Samples taken.
    pub samples: u64,
    /// Why it ended.
    pub end: WatchEnd,
    /// Exit code of a launched command, when it exited.
    pub exit_code: Option<i32>,
    /// Per metric (`rss_bytes`, `cpu_percent`, `threads`, `fds`, ...) over the run (totals).
    pub series: BTreeMap<String, SeriesStats>,
    /// Final growth estimate.
    pub growth: Option<Growth>,
    /// Alert summaries (one per `--alert`).
    pub alerts: Vec<AlertSummary>,
    /// Every firing and clearing.
    pub events: Vec<AlertEvent>,
    /// Fields that could not be read, with why (e.g. `uss_bytes: permission denied`).
    pub unavailable: Vec<String>,
    /// tachy's own CPU use while watching, % of one core.
    pub self_cpu_percent: f64,
    /// CPU saturation: share of samples (0-1) in which the root process used at least 90% of
    /// one core (a Python process is capped near one core by the GIL), or the tree used at
    /// least 90% of every core of the machine.
    #[serde(default)]
    pub cpu_saturated_share: f64,
    /// A downsampled timeline of the totals (at most 2000 points) for plots.
    pub timeline: Vec<TimelinePoint>,
    /// Remarks.
    pub notes: Vec<String>,
}

impl WatchReport {
    /// True when no alert fired.
    pub fn quiet(&self) -> bool {
        self.alerts.iter().all(|a| a.fired == 0)
    }
}

/// One point of the plotted timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelinePoint {
    /// Seconds since the start.
    pub t_secs: f64,
    /// RSS of the tree, bytes.
    pub rss_bytes: u64,
    /// CPU of the tree (user + system), % of one core.
    pub cpu_percent: f64,
    /// USS of the tree, bytes (read once a second; absent when unavailable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uss_bytes: Option<u64>,
    /// PSS of the tree, bytes (read once a second; absent when unavailable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pss_bytes: Option<u64>,
}
