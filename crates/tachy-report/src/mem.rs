//! The report of `tachy mem`: peak traced memory and RSS, allocation sites live at the peak,
//! total allocated by site, leaks, and the memory timeline, built from the sampled capture
//! the injected allocator hook writes. Saved with `-o` and re-rendered by `tachy mem show`.
//! The JSON schema is documented in `docs/mem-format.md`.

use serde::{Deserialize, Serialize};

/// Schema tag of a memory report.
pub const MEM_SCHEMA: &str = "tachy-mem/1";

/// One memory profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemReport {
    /// Always [`MEM_SCHEMA`].
    pub schema: String,
    /// Version of tachy that made the report.
    pub tachy_version: String,
    /// The profiled command.
    pub command: Vec<String>,
    /// Python version of the main process, when known.
    pub python_version: Option<String>,
    /// Every process traced (the first is the main one).
    pub pids: Vec<u32>,
    /// When the program started (RFC 3339, UTC).
    pub started_at: String,
    /// Wall time of the run in seconds.
    pub duration_secs: f64,
    /// Exit code of the program (`None` when killed by a signal or interrupted).
    pub exit_code: Option<i32>,
    /// How the program ended.
    pub end: MemEnd,
    /// Mean bytes between samples (0: every allocation recorded, `--exact`).
    pub sample_bytes: u64,
    /// Peaks.
    pub peak: Peak,
    /// Allocation counts over the run (exact, from the hook's counters).
    pub totals: Totals,
    /// Frames referenced by stacks.
    pub frames: Vec<MemFrame>,
    /// Stacks with their estimated bytes; the source of flamegraphs and of the site tables.
    pub stacks: Vec<StackStat>,
    /// Allocation sites (innermost Python line) by bytes live at the peak, largest first.
    pub peak_sites: Vec<Site>,
    /// Allocation sites by bytes allocated over the whole run, largest first.
    pub allocated_sites: Vec<Site>,
    /// Allocation sites by bytes leaked (live at exit, not kept by imports), largest first.
    pub leak_sites: Vec<Site>,
    /// Estimated bytes leaked: sampled allocations still live at exit whose stack does not
    /// pass through an import (the sum of `stacks[].leaked_bytes`). What `--max-leak` checks.
    pub leaked_bytes: u64,
    /// Estimated bytes still live at exit that were allocated while a module was imported
    /// (code objects, module globals, import caches): kept by the interpreter by design, not
    /// counted in `leaked_bytes` (the sum of `stacks[].kept_by_imports_bytes`).
    #[serde(default)]
    pub kept_by_imports_bytes: u64,
    /// Allocation sites by bytes kept by imports, largest first.
    #[serde(default)]
    pub import_sites: Vec<Site>,
    /// The C heap, with `--native` (`None` otherwise).
    #[serde(default)]
    pub native: Option<NativeHeap>,
    /// Traced memory and RSS over time.
    pub timeline: Vec<MemPoint>,
    /// `--max-peak` / `--max-leak` verdicts.
    pub budgets: Vec<MemBudget>,
    /// Remarks for the user (partial capture, missing child captures, ...).
    pub notes: Vec<String>,
}

impl MemBudget {
    /// The measured bytes in the unit family the limit was written in (`8.39 MB`).
    pub fn measured_text(&self) -> String {
        crate::format::size(self.measured_bytes as f64, self.units.unwrap_or_default())
    }

    /// The limit in the unit family it was written in (`10.0 MB` for `10MB`).
    pub fn limit_text(&self) -> String {
        crate::format::size(self.limit_bytes as f64, self.units.unwrap_or_default())
    }
}

impl MemReport {
    /// True when every budget held.
    pub fn budgets_passed(&self) -> bool {
        self.budgets.iter().all(|b| b.passed)
    }
}

/// How the profiled program ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MemEnd {
    /// It exited by itself (any exit code).
    Exited,
    /// It was killed by a signal or crashed: the capture ends where it stopped.
    Killed,
    /// Ctrl-C: the capture covers the run until then.
    Interrupted,
}

/// Peak memory.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Peak {
    /// Largest traced (Python-allocator) memory live at once, exact, in bytes.
    pub traced_bytes: u64,
    /// Seconds since the start when it was reached.
    pub traced_at_secs: f64,
    /// Largest resident set size seen, in bytes.
    pub rss_bytes: u64,
    /// Seconds since the start when it was seen.
    pub rss_at_secs: f64,
}

/// Exact counters.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Totals {
    /// Allocations made through the Python allocators.
    pub allocations: u64,
    /// Bytes requested by them.
    pub allocated_bytes: u64,
    /// Sampled allocations recorded with a stack.
    pub samples: u64,
}

/// One Python frame.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MemFrame {
    /// Function name (`<module>` for module level).
    pub function: String,
    /// Source file.
    pub file: String,
    /// Line number.
    pub line: u32,
}

/// Estimated bytes of one stack.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct StackStat {
    /// Frame indices, innermost first.
    pub frames: Vec<u32>,
    /// Estimated bytes allocated here and live at the peak.
    pub peak_bytes: u64,
    /// Estimated bytes allocated here over the run.
    pub allocated_bytes: u64,
    /// Estimated bytes allocated here and live at exit, when the stack does not pass through
    /// an import (0 otherwise: see `kept_by_imports_bytes`).
    pub leaked_bytes: u64,
    /// Estimated bytes allocated here and live at exit, when the stack passes through an
    /// import (a frame of `importlib._bootstrap` or `_bootstrap_external`).
    #[serde(default)]
    pub kept_by_imports_bytes: u64,
    /// Estimated allocations made here.
    pub allocations: u64,
}

/// An allocation site: the innermost Python line of the stacks that allocated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Site {
    /// Function.
    pub function: String,
    /// File.
    pub file: String,
    /// Line.
    pub line: u32,
    /// Estimated bytes (at the peak, allocated or leaked, by table).
    pub bytes: u64,
    /// Share of the table's total (0-1).
    pub share: f64,
    /// Estimated allocations.
    pub allocations: u64,
    /// The stack that contributed most, as an index into [`MemReport::stacks`].
    pub stack: u32,
}

/// The C heap seen through the interposed C allocator (`--native`). Its bytes include the
/// blocks the Python allocators take from `malloc`, so they overlap the traced figures.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct NativeHeap {
    /// Largest live size of the C heap (usable sizes), exact, in bytes.
    pub peak_bytes: u64,
    /// When it was first seen (seconds since the start).
    pub peak_at_secs: f64,
    /// Live size at the last sample before exit.
    pub last_bytes: u64,
    /// (seconds since the start, live bytes) over time.
    pub timeline: Vec<(f64, u64)>,
}

/// One point of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemPoint {
    /// Seconds since the start.
    pub t_secs: f64,
    /// Traced bytes live (summed over processes).
    pub traced_bytes: u64,
    /// Resident set size (summed over processes).
    pub rss_bytes: u64,
}

/// A budget verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemBudget {
    /// `max-peak` or `max-leak`.
    pub name: String,
    /// The limit in bytes.
    pub limit_bytes: u64,
    /// The measured value in bytes.
    pub measured_bytes: u64,
    /// Whether it held.
    pub passed: bool,
    /// The unit family the limit was written in (`200MB`: decimal, `200MiB`: binary), in which
    /// both figures are shown; absent in reports written before it existed (binary).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub units: Option<crate::units::SizeUnits>,
}
