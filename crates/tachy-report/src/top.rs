//! The view of `tachy top`: the live state of a profiling session, drawn on each refresh.

use serde::{Deserialize, Serialize};

/// What `tachy top` shows at one refresh.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopView {
    /// The root process.
    pub pid: u32,
    /// Python version.
    pub python_version: String,
    /// Processes sampled.
    pub processes: usize,
    /// Seconds since sampling started.
    pub elapsed_secs: f64,
    /// Samples since the start.
    pub samples: u64,
    /// Samples in the last interval.
    pub interval_samples: u64,
    /// Threads in the last sampling round.
    pub threads: Vec<ThreadStatus>,
    /// Whether idle threads are counted.
    pub idle_included: bool,
    /// The sort key in use.
    pub sort: SortKey,
    /// Functions, sorted by `sort`.
    pub rows: Vec<TopRow>,
}

/// A thread's state in the last round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadStatus {
    /// Label (name and tid).
    pub label: String,
    /// Running (not idle).
    pub active: bool,
    /// Holds the GIL.
    pub gil: bool,
}

/// One function's shares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopRow {
    /// Function name.
    pub function: String,
    /// File and line.
    pub location: String,
    /// Own (self) share in the last interval, 0..1.
    pub own_now: f64,
    /// Total share in the last interval, 0..1.
    pub total_now: f64,
    /// Own share since the start, 0..1.
    pub own_all: f64,
    /// Total share since the start, 0..1.
    pub total_all: f64,
    /// Own samples since the start.
    pub own_samples: u64,
}

/// Sort keys of `tachy top` (keys `o`, `t`, `n`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    /// Own share in the last interval.
    #[default]
    Own,
    /// Total share in the last interval.
    Total,
    /// Function name.
    Name,
}

impl TopView {
    /// `3 threads: 1 running, 2 idle; GIL: hot-worker (tid 12)`.
    pub fn thread_summary(&self) -> String {
        let running = self.threads.iter().filter(|t| t.active).count();
        let gil = self.threads.iter().find(|t| t.gil).map_or_else(|| "released".to_string(), |t| t.label.clone());
        format!("{} threads: {running} running, {} idle; GIL: {gil}", self.threads.len(), self.threads.len() - running)
    }

    /// The header line.
    pub fn header(&self) -> String {
        format!(
            "tachy top: pid {} (Python {}{}), {:.1} s, {} samples ({} in the last interval); {}{}",
            self.pid,
            self.python_version,
            if self.processes > 1 { format!(", {} processes", self.processes) } else { String::new() },
            self.elapsed_secs,
            self.samples,
            self.interval_samples,
            self.thread_summary(),
            if self.idle_included { "; idle included" } else { "" }
        )
    }
}
