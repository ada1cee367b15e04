//! The report of `tachy bench`: per-command results, relative speed, and the baseline gate.
//!
//! The JSON form is a superset of hyperfine's `--export-json` schema: every object in
//! `results` carries hyperfine's fields (`command`, `mean`, `stddev`, `median`, `user`,
//! `system`, `min`, `max`, `times`, `exit_codes`, `parameters`, `memory_usage_byte`, all
//! times in seconds) plus tachy's own. `docs/bench-json.md` documents every field.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tachy_stats::{Comparison, ConfidenceInterval};

/// The value of the `schema` field of a bench report.
pub const BENCH_SCHEMA: &str = "tachy-bench/1";

/// Everything `tachy bench` measured and concluded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchReport {
    /// Always [`BENCH_SCHEMA`] for reports written by this version.
    pub schema: String,
    /// The tachy version that wrote the report.
    pub tachy_version: String,
    /// One entry per benchmarked command, in the order given.
    pub results: Vec<BenchResult>,
    /// Relative speed of every command against the reference (empty with one command).
    #[serde(default)]
    pub relative: Vec<RelativeRow>,
    /// The baseline regression gate, when one was asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate: Option<GateReport>,
    /// How and where the benchmark ran.
    pub context: RunContext,
    /// Warnings about the measurements (noise, outliers, slow first runs, ...).
    #[serde(default)]
    pub warnings: Vec<String>,
    /// True when Ctrl-C stopped the benchmark: results cover the runs completed before it.
    #[serde(default)]
    pub interrupted: bool,
}

/// Which per-run measurement drives comparisons and the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Wall-clock time (`times`).
    #[default]
    Wall,
    /// CPU time of the process: user + system (`user_times` + `system_times`). Far steadier
    /// than wall time on shared machines, blind to time spent waiting.
    Cpu,
}

impl Metric {
    /// Words for headings: `wall time` or `CPU time`.
    pub fn label(self) -> &'static str {
        match self {
            Metric::Wall => "wall time",
            Metric::Cpu => "CPU time",
        }
    }
}

/// The conditions of a run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RunContext {
    /// Start time, RFC 3339 UTC.
    #[serde(default)]
    pub started_at: String,
    /// The shell used to run commands, or `None` with `--no-shell`.
    #[serde(default)]
    pub shell: Option<String>,
    /// Median wall time of spawning the shell alone, subtracted from every run.
    #[serde(default)]
    pub shell_overhead: Option<f64>,
    /// The metric of the relative-speed comparisons.
    #[serde(default)]
    pub metric: Metric,
    /// Whether runs of the commands were interleaved.
    #[serde(default)]
    pub interleaved: bool,
    /// Logical CPUs of the machine.
    #[serde(default)]
    pub cpus: usize,
    /// 1, 5 and 15 minute load averages at the start.
    #[serde(default)]
    pub load_average: Option<[f64; 3]>,
}

/// The measurements and statistics of one command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchResult {
    /// Display name: `--command-name`, else the command with parameters substituted.
    pub command: String,
    /// Mean wall time (s).
    pub mean: f64,
    /// Sample standard deviation of wall time (s).
    pub stddev: f64,
    /// Median wall time (s).
    pub median: f64,
    /// Mean user CPU time (s).
    pub user: f64,
    /// Mean system CPU time (s).
    pub system: f64,
    /// Fastest run (s).
    pub min: f64,
    /// Slowest run (s).
    pub max: f64,
    /// Wall time of every timed run, in run order (s).
    pub times: Vec<f64>,
    /// Exit code of every timed run (128 + signal for a killed child).
    #[serde(default)]
    pub exit_codes: Vec<i32>,
    /// Parameter values of this command (`--parameter-scan`/`--parameter-list`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, String>,
    /// Peak RSS of every timed run (bytes).
    #[serde(default)]
    pub memory_usage_byte: Vec<u64>,
    /// The command line that ran (after substitution).
    #[serde(default)]
    pub command_line: String,
    /// tachy's statistics (absent in foreign files; recomputed from `times` when read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<ResultStats>,
    /// User CPU time of every timed run (s).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub user_times: Vec<f64>,
    /// System CPU time of every timed run (s).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub system_times: Vec<f64>,
}

/// tachy's statistics of one command's wall times.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultStats {
    /// Timed runs.
    pub runs: usize,
    /// Warmup runs (not timed).
    pub warmup_runs: usize,
    /// Median absolute deviation, unscaled (s).
    pub mad: f64,
    /// 5th percentile (s).
    pub p5: f64,
    /// 95th percentile (s).
    pub p95: f64,
    /// 99th percentile (s).
    pub p99: f64,
    /// Coefficient of variation (stddev / mean).
    pub cv: f64,
    /// Distribution-free confidence interval of the median (s).
    pub median_ci: ConfidenceInterval,
    /// Runs whose modified Z-score exceeds 3.5.
    pub outliers: usize,
    /// Mean peak RSS (bytes).
    pub max_rss_mean: u64,
    /// Statistics of CPU time (user + system) per run, when per-run CPU times are known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<MetricStats>,
}

/// Robust statistics of one metric (seconds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricStats {
    /// Median.
    pub median: f64,
    /// Median absolute deviation, unscaled.
    pub mad: f64,
    /// Coefficient of variation.
    pub cv: f64,
    /// Distribution-free confidence interval of the median.
    pub median_ci: ConfidenceInterval,
}

/// How one command compares with the reference command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RelativeRow {
    /// The command's display name.
    pub command: String,
    /// True for the reference row itself.
    pub is_reference: bool,
    /// Ratio of medians (this / reference), its CI and the Mann-Whitney U test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison: Option<Comparison>,
    /// The conclusion.
    pub verdict: SpeedVerdict,
}

/// Conclusion of a relative-speed comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpeedVerdict {
    /// This row is the reference.
    Reference,
    /// Significantly faster than the reference.
    Faster,
    /// Significantly slower than the reference.
    Slower,
    /// No statistically significant difference.
    NoDifference,
}

/// The result of comparing against a baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateReport {
    /// The baseline's name or file.
    pub baseline: String,
    /// The metric compared.
    #[serde(default)]
    pub metric: Metric,
    /// The allowed slowdown as a fraction (0.05 = 5%).
    pub max_regression: f64,
    /// Significance level of the test.
    pub alpha: f64,
    /// One row per command found on both sides.
    pub rows: Vec<GateRow>,
    /// Commands measured now but absent from the baseline.
    #[serde(default)]
    pub missing_in_baseline: Vec<String>,
    /// Commands in the baseline that were not measured now.
    #[serde(default)]
    pub missing_in_current: Vec<String>,
    /// True when at least one row regressed.
    pub failed: bool,
}

/// One command's comparison with its baseline entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateRow {
    /// Display name (the matching key).
    pub command: String,
    /// Baseline median of the gate's metric (s).
    pub baseline_median: f64,
    /// Current median of the gate's metric (s).
    pub current_median: f64,
    /// current / baseline, with CI and test.
    pub comparison: Comparison,
    /// The conclusion.
    pub verdict: GateVerdict,
}

/// Conclusion of a baseline comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateVerdict {
    /// Significantly slower by more than the threshold: the gate fails.
    Regressed,
    /// Significantly slower, but within the threshold.
    SlowerWithinThreshold,
    /// No significant change.
    Unchanged,
    /// Significantly faster.
    Improved,
}

impl GateVerdict {
    /// A short label for tables.
    pub fn label(self) -> &'static str {
        match self {
            GateVerdict::Regressed => "REGRESSED",
            GateVerdict::SlowerWithinThreshold => "slower (within threshold)",
            GateVerdict::Unchanged => "unchanged",
            GateVerdict::Improved => "improved",
        }
    }
}

impl BenchResult {
    /// The per-run values of `metric`, or `None` when they were not recorded (CPU times are
    /// absent from hyperfine exports).
    pub fn series(&self, metric: Metric) -> Option<Vec<f64>> {
        match metric {
            Metric::Wall => Some(self.times.clone()),
            Metric::Cpu => (self.user_times.len() == self.times.len()
                && self.system_times.len() == self.times.len()
                && !self.times.is_empty())
            .then(|| self.user_times.iter().zip(&self.system_times).map(|(u, s)| u + s).collect()),
        }
    }

    /// The display name with a fallback to the command line.
    pub fn name(&self) -> &str {
        if self.command.is_empty() { &self.command_line } else { &self.command }
    }
}
