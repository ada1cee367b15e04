//! The report of `tachy check` (schema `tachy-check/1`): one verdict per budget with the
//! measurements behind it, and the history view of `tachy check --history`
//! (schema `tachy-history/1`).

use serde::{Deserialize, Serialize};

/// The value of the `schema` field of a check report.
pub const CHECK_SCHEMA: &str = "tachy-check/1";
/// The value of the `schema` field of a history line and of the history report.
pub const HISTORY_SCHEMA: &str = "tachy-history/1";

/// Everything one `tachy check` run measured and concluded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckReport {
    /// Always [`CHECK_SCHEMA`].
    pub schema: String,
    /// The tachy version that wrote it.
    pub tachy_version: String,
    /// The config file the budgets came from.
    pub config: String,
    /// Start time, RFC 3339 UTC.
    pub started_at: String,
    /// Wall time of the whole run (s).
    pub duration_secs: f64,
    /// The git commit checked out in the project, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_commit: Option<String>,
    /// One entry per budget run, in the order of the config.
    pub budgets: Vec<BudgetResult>,
    /// True when Ctrl-C stopped the run (budgets after it are missing).
    #[serde(default)]
    pub interrupted: bool,
}

impl CheckReport {
    /// The overall verdict: error beats fail beats pass.
    pub fn verdict(&self) -> Verdict {
        if self.budgets.iter().any(|b| b.verdict == Verdict::Error) {
            Verdict::Error
        } else if self.budgets.iter().any(|b| b.verdict == Verdict::Fail) {
            Verdict::Fail
        } else {
            Verdict::Pass
        }
    }

    /// Number of budgets with each verdict: (pass, fail, error).
    pub fn counts(&self) -> (usize, usize, usize) {
        let n = |v| self.budgets.iter().filter(|b| b.verdict == v).count();
        (n(Verdict::Pass), n(Verdict::Fail), n(Verdict::Error))
    }
}

/// Whether a budget held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every limit held.
    Pass,
    /// A limit was exceeded.
    Fail,
    /// The budget could not be measured (command failed, server never ready, ...).
    Error,
}

impl Verdict {
    /// `pass`, `FAIL` or `ERROR`, as shown in tables.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "FAIL",
            Verdict::Error => "ERROR",
        }
    }
}

/// The outcome of one budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetResult {
    /// The budget's name (its key in the config).
    pub name: String,
    /// `bench`, `load`, `mem`, `profile`, `watch` or `lint`.
    pub kind: String,
    /// The budget's description, when written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The verdict.
    pub verdict: Verdict,
    /// Each limit checked, with the measured value.
    pub checks: Vec<LimitCheck>,
    /// Why the budget could not run (verdict `error`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The last lines of the output of a failed command or server, when useful.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_tail: Option<String>,
    /// Remarks (a baseline saved by this run, a run marked invalid, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Wall time of the budget (s).
    pub duration_secs: f64,
    /// The tachy result file the measurements came from (a `tachy bench`, `load`, `mem`,
    /// `profile`, `watch` or `lint` JSON report), when one was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_file: Option<String>,
}

/// One limit and the value measured against it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimitCheck {
    /// What was measured, e.g. `p95`, `peak`, `mean of 'python app.py'`,
    /// `share of parse`, `findings`, `new findings`, `growth`.
    pub metric: String,
    /// The measured value in `unit`.
    pub measured: f64,
    /// `<=`, `<`, `>=` or `>`: the relation that must hold between measured and limit.
    pub op: String,
    /// The limit in `unit`.
    pub limit: f64,
    /// `s`, `bytes`, `%`, `count`, `req/s` or `bytes/h`.
    pub unit: String,
    /// Whether the relation held.
    pub passed: bool,
    /// The measured value for people, e.g. `183 ms`.
    pub measured_text: String,
    /// The limit for people, e.g. `<= 200 ms`.
    pub limit_text: String,
}

/// One line of `.tachy/history/<budget>.jsonl`: the measurements of one run of one budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// Always [`HISTORY_SCHEMA`].
    pub schema: String,
    /// When the run started, RFC 3339 UTC.
    pub time: String,
    /// The git commit, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_commit: Option<String>,
    /// The budget's name.
    pub budget: String,
    /// The budget's kind.
    pub kind: String,
    /// The verdict of that run.
    pub verdict: Verdict,
    /// Every measured value, by metric name, with its unit.
    pub metrics: Vec<HistoryMetric>,
}

/// A measured value in the history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryMetric {
    /// The metric, as in [`LimitCheck::metric`].
    pub metric: String,
    /// The value.
    pub value: f64,
    /// The unit, as in [`LimitCheck::unit`].
    pub unit: String,
    /// For a size, the unit family its limit was written in (`decimal` for `200MB`, `binary`
    /// for `200MiB`), so the history shows it as the check table did; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_units: Option<crate::units::SizeUnits>,
}

/// What `tachy check --history` shows: each metric's trend and step changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryReport {
    /// Always [`HISTORY_SCHEMA`].
    pub schema: String,
    /// The history folder read.
    pub dir: String,
    /// One series per budget and metric.
    pub series: Vec<MetricSeries>,
}

/// The history of one metric of one budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricSeries {
    /// The budget.
    pub budget: String,
    /// The metric.
    pub metric: String,
    /// The unit.
    pub unit: String,
    /// For a size, the unit family of the latest run's limit (see [`HistoryMetric`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_units: Option<crate::units::SizeUnits>,
    /// The values, oldest first.
    pub points: Vec<HistoryPoint>,
    /// Robust trend: Theil-Sen slope in `unit` per run, when there are 3 runs or more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slope_per_run: Option<f64>,
    /// Step changes found by change-point detection, oldest first.
    pub steps: Vec<StepChange>,
}

/// One value of a series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryPoint {
    /// When, RFC 3339 UTC.
    pub time: String,
    /// The commit, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_commit: Option<String>,
    /// The value.
    pub value: f64,
}

/// A step change in a series: the level before and after the run at `index`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepChange {
    /// Index into the series' points of the first run at the new level.
    pub index: usize,
    /// That run's time.
    pub time: String,
    /// That run's commit, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_commit: Option<String>,
    /// Typical value (median) before the step.
    pub before: f64,
    /// Typical value (median) after the step.
    pub after: f64,
    /// `(after - before) / before`, in percent.
    pub change_percent: f64,
}
