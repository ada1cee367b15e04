//! Resolved settings of one `tachy bench` invocation.

use std::collections::BTreeMap;
use std::time::Duration;

use tachy_report::bench::Metric;

/// One command to benchmark, after parameter substitution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchCommand {
    /// Display name (and the key baselines match on).
    pub name: String,
    /// The command line that runs.
    pub command_line: String,
    /// Parameter values substituted into it.
    pub parameters: BTreeMap<String, String>,
    /// Runs once before this command's first run.
    pub setup: Option<String>,
    /// Runs before every run (warmup and timed) of this command.
    pub prepare: Option<String>,
    /// Runs once after this command's last run.
    pub cleanup: Option<String>,
}

impl BenchCommand {
    /// A command with its own line as name and nothing around it.
    pub fn new(command_line: impl Into<String>) -> Self {
        let command_line = command_line.into();
        BenchCommand {
            name: command_line.clone(),
            command_line,
            parameters: BTreeMap::new(),
            setup: None,
            prepare: None,
            cleanup: None,
        }
    }
}

/// How many timed runs each command gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunCount {
    /// Exactly this many.
    Fixed(usize),
    /// At least `min_runs` and at least `min_time` of total run time, at most `max_runs`.
    Auto {
        /// Lower bound on runs.
        min_runs: usize,
        /// Lower bound on the summed run time.
        min_time: Duration,
        /// Upper bound on runs, if any.
        max_runs: Option<usize>,
    },
}

impl Default for RunCount {
    fn default() -> Self {
        RunCount::Auto { min_runs: 10, min_time: Duration::from_secs(3), max_runs: None }
    }
}

/// Everything the runner needs.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchSettings {
    /// The commands, in report order.
    pub commands: Vec<BenchCommand>,
    /// Untimed runs per command before the timed ones.
    pub warmup: usize,
    /// Timed runs per command.
    pub runs: RunCount,
    /// Alternate between commands run by run (A B A B ...).
    pub interleave: bool,
    /// Keep going when a command exits non-zero.
    pub ignore_failure: bool,
    /// Index into `commands` of the reference for the relative-speed table (default: fastest).
    pub reference: Option<usize>,
    /// Significance level of comparisons.
    pub alpha: f64,
    /// The metric compared between commands and against baselines.
    pub metric: Metric,
}

impl Default for BenchSettings {
    fn default() -> Self {
        BenchSettings {
            commands: Vec::new(),
            warmup: 0,
            runs: RunCount::default(),
            interleave: true,
            ignore_failure: false,
            reference: None,
            alpha: tachy_stats::DEFAULT_ALPHA,
            metric: Metric::Wall,
        }
    }
}
