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

/// The growth rate a verdict is judged against when no `growth>` alert or budget gives one:
/// 5 MB/h (decimal), the usual target for a long-running Python service.
pub const DEFAULT_GROWTH_THRESHOLD: f64 = 5e6;

/// Fewest samples after the warm-up before any growth verdict is given.
pub const MIN_FIT_SAMPLES: u64 = 10;

/// The memory page: RSS moves by whole pages, so no fit resolves less than one page over its
/// span.
pub const PAGE_BYTES: f64 = 4096.0;

/// The verdict on memory growth against a threshold rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GrowthVerdict {
    /// Memory grows faster than the threshold, steadily, after the warm-up.
    Growing,
    /// Memory grows no faster than the threshold (it may be flat or shrinking).
    Flat,
    /// The run cannot tell: too short or too noisy after the warm-up for this threshold.
    #[default]
    NotEnoughData,
}

impl GrowthVerdict {
    /// `growing`, `flat` or `not enough data`.
    pub fn label(self) -> &'static str {
        match self {
            GrowthVerdict::Growing => "growing",
            GrowthVerdict::Flat => "flat",
            GrowthVerdict::NotEnoughData => "not enough data",
        }
    }
}

/// The warm-up left out of the growth fit: the watched span up to the last level shift of
/// the memory series found in the first half of the span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Warmup {
    /// Seconds since the start of the watch at which the excluded span starts.
    pub from_secs: f64,
    /// Seconds since the start at which it ends (the first sample at the new level; the fit
    /// starts here).
    pub to_secs: f64,
    /// Median memory before the first level shift, bytes.
    pub before_bytes: f64,
    /// Median memory after the last level shift, bytes.
    pub after_bytes: f64,
    /// `after_bytes - before_bytes`.
    pub step_bytes: f64,
    /// Level shifts found in the excluded span.
    pub shifts: u64,
}

/// A robust estimate of memory growth after the warm-up, with its verdict.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
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
    /// Samples in the fit (after the warm-up).
    pub samples: u64,
    /// Seconds covered by the fit (after the warm-up).
    pub window_secs: f64,
    /// True when the verdict is [`GrowthVerdict::Growing`].
    pub growing: bool,
    /// The verdict against `threshold_bytes_per_hour`.
    #[serde(default)]
    pub verdict: GrowthVerdict,
    /// Why, in one sentence (what a `not_enough_data` verdict lacks).
    #[serde(default)]
    pub reason: String,
    /// The rate the verdict is judged against, bytes per hour.
    #[serde(default)]
    pub threshold_bytes_per_hour: f64,
    /// The smallest rate this fit tells from no growth: the half-width of the confidence
    /// interval, and never less than one page over the span, bytes per hour.
    #[serde(default)]
    pub resolution_bytes_per_hour: f64,
    /// The slower of the Theil-Sen slopes of the two halves of the fitted span, bytes per hour:
    /// a leak grows in both, a warm-up's tail or a one-off rise does not.
    #[serde(default)]
    pub sustained_bytes_per_hour: Option<f64>,
    /// Seconds since the start of the watch of the first fitted sample.
    #[serde(default)]
    pub from_secs: f64,
    /// The warm-up excluded from the fit, if any.
    #[serde(default)]
    pub warmup: Option<Warmup>,
    /// Why no verdict can be given whatever the threshold (too few samples after the warm-up).
    #[serde(default)]
    pub insufficient: Option<String>,
}

/// A rate for verdict sentences, in decimal units like the thresholds: `5 MB/h`, `154 MB/h`.
pub fn rate_text(bytes_per_hour: f64) -> String {
    let v = bytes_per_hour;
    let a = v.abs();
    let (div, unit) = if a >= 1e9 {
        (1e9, "GB")
    } else if a >= 1e6 {
        (1e6, "MB")
    } else if a >= 1e3 {
        (1e3, "KB")
    } else {
        (1.0, "B")
    };
    let x = v / div;
    let digits = if div == 1.0 || x.abs() >= 100.0 {
        0
    } else if x.abs() >= 10.0 {
        1
    } else {
        2
    };
    let s = format!("{x:.digits$}");
    let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
    format!("{s} {unit}/h")
}

/// A duration for verdict sentences: `45 s`, `3.5 min`, `2.0 h`.
fn span_text(secs: f64) -> String {
    if secs < 120.0 {
        format!("{secs:.0} s")
    } else if secs < 7200.0 {
        format!("{:.1} min", secs / 60.0)
    } else {
        format!("{:.1} h", secs / 3600.0)
    }
}

impl Growth {
    /// Judges the growth against `threshold` (bytes per hour): the rule shared by the report,
    /// `--alert growth>RATE` and the `max_growth` of a `tachy check` watch budget.
    ///
    /// 1. No verdict when the fit has too few samples after the warm-up ([`Self::insufficient`]).
    /// 2. `flat` when the whole 95% interval lies at or below the threshold (memory may shrink).
    /// 3. No verdict when the fit cannot resolve the threshold: its resolution (the half-width
    ///    of the interval, at least one page over the span) is coarser than the threshold. The
    ///    run is too short or too noisy to tell growth at that rate from none, however far
    ///    above it the interval lies (10 s of a warmed server creeping up).
    /// 4. `growing` when the whole interval lies above the threshold and both halves of the
    ///    span grow faster than it (sustained); an interval above it without that is no verdict.
    /// 5. Otherwise no verdict: the interval contains the threshold.
    pub fn judge(&self, threshold: f64) -> (GrowthVerdict, String) {
        use GrowthVerdict::{Flat, Growing, NotEnoughData};
        if let Some(why) = &self.insufficient {
            return (NotEnoughData, why.clone());
        }
        let (lo, hi) = (self.low_bytes_per_hour, self.high_bytes_per_hour);
        let interval = format!("the 95% interval [{}, {}]", rate_text(lo), rate_text(hi));
        if hi <= threshold {
            return (Flat, format!("{interval} lies at or below the {} threshold", rate_text(threshold)));
        }
        let res = self.resolution_bytes_per_hour;
        let span = self.window_secs;
        if res.is_nan() || res > threshold {
            let need = if threshold > 0.0 && span > 0.0 {
                // The half-width falls as span^1.5 at a fixed interval; the page floor as 1/span.
                let half = (hi - lo) / 2.0;
                let by_interval = if half > threshold { span * (half / threshold).powf(2.0 / 3.0) } else { span };
                let by_page = PAGE_BYTES * 3600.0 / threshold;
                format!("; watch about {} after the warm-up", span_text(by_interval.max(by_page)))
            } else {
                String::new()
            };
            return (
                NotEnoughData,
                format!(
                    "{} over {} after the warm-up resolves only ±{}, coarser than the {} threshold{need}",
                    self.metric.to_uppercase(),
                    span_text(span),
                    rate_text(res),
                    rate_text(threshold)
                ),
            );
        }
        if lo > threshold {
            return match self.sustained_bytes_per_hour {
                Some(s) if s > threshold => (
                    Growing,
                    format!("{interval} lies above the {} threshold, in both halves of the span", rate_text(threshold)),
                ),
                s => (
                    NotEnoughData,
                    format!(
                        "{interval} lies above the {} threshold but the growth is not sustained (one half of the span grows at {}): a warm-up's tail or a one-off rise; watch longer",
                        rate_text(threshold),
                        s.map_or_else(|| "an unknown rate".to_string(), rate_text)
                    ),
                ),
            };
        }
        (NotEnoughData, format!("{interval} contains the {} threshold; watch longer", rate_text(threshold)))
    }

    /// Sets `threshold_bytes_per_hour`, `verdict`, `reason` and `growing` from [`Self::judge`].
    pub fn with_verdict(mut self, threshold: f64) -> Self {
        let (verdict, reason) = self.judge(threshold);
        self.threshold_bytes_per_hour = threshold;
        self.verdict = verdict;
        self.reason = reason;
        self.growing = verdict == GrowthVerdict::Growing;
        self
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A fit over `span` seconds with this slope and interval (bytes per hour), sustained at
    /// `sustained`.
    fn g(slope: f64, low: f64, high: f64, span: f64, sustained: f64) -> Growth {
        Growth {
            metric: "rss".into(),
            bytes_per_hour: slope,
            low_bytes_per_hour: low,
            high_bytes_per_hour: high,
            level: 0.95,
            samples: 60,
            window_secs: span,
            resolution_bytes_per_hour: ((high - low) / 2.0).max(PAGE_BYTES / span * 3600.0),
            sustained_bytes_per_hour: Some(sustained),
            ..Growth::default()
        }
    }

    #[test]
    fn the_verdict_rule() {
        let t = DEFAULT_GROWTH_THRESHOLD;
        // Resolved above and sustained: growing.
        assert_eq!(g(50e6, 45e6, 55e6, 120.0, 48e6).judge(t).0, GrowthVerdict::Growing);
        // Above, but one half is flat: a warm-up's tail, no verdict.
        let (v, why) = g(50e6, 45e6, 55e6, 120.0, 1e6).judge(t);
        assert_eq!(v, GrowthVerdict::NotEnoughData);
        assert!(why.contains("not sustained"), "{why}");
        // Above, but too coarse to resolve 5 MB/h (10 s of a creeping server): no verdict, with
        // the time it would take.
        let (v, why) = g(154e6, 113e6, 189e6, 10.0, 150e6).judge(t);
        assert_eq!(v, GrowthVerdict::NotEnoughData);
        assert!(why.contains("resolves only ±38 MB/h") && why.contains("watch about"), "{why}");
        // At a threshold it resolves, the same fit is growing.
        assert_eq!(g(154e6, 113e6, 189e6, 10.0, 150e6).judge(100e6).0, GrowthVerdict::Growing);
        // Below, however coarse (memory shrinking): flat.
        assert_eq!(g(-20e6, -26e6, -12e6, 60.0, -20e6).judge(t).0, GrowthVerdict::Flat);
        assert_eq!(g(0.0, 0.0, 0.0, 60.0, 0.0).judge(t).0, GrowthVerdict::Flat);
        // Containing the threshold: no verdict.
        let (v, why) = g(5e6, 3e6, 7e6, 600.0, 5e6).judge(t);
        assert_eq!(v, GrowthVerdict::NotEnoughData);
        assert!(why.contains("contains the 5 MB/h threshold"), "{why}");
        // Too few samples: no verdict at any threshold.
        let few = Growth { insufficient: Some("3 sample(s)".into()), ..g(0.0, 0.0, 0.0, 60.0, 0.0) };
        assert_eq!(few.judge(t), (GrowthVerdict::NotEnoughData, "3 sample(s)".into()));
        let judged = g(50e6, 45e6, 55e6, 120.0, 48e6).with_verdict(t);
        assert!(judged.growing && judged.threshold_bytes_per_hour == t && !judged.reason.is_empty());
    }

    #[test]
    fn rates_read_like_thresholds() {
        assert_eq!(rate_text(5e6), "5 MB/h");
        assert_eq!(rate_text(154.4e6), "154 MB/h");
        assert_eq!(rate_text(-12.5e6), "-12.5 MB/h");
        assert_eq!(rate_text(36.1e9), "36.1 GB/h");
        assert_eq!(rate_text(0.0), "0 B/h");
    }
}
