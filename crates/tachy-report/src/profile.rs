//! The saved CPU profile of `tachy profile` (schema `tachy-profile/1`) and its aggregations.
//!
//! A profile is a frames table, a threads table, a table of distinct stacks with their sample
//! counts, and a timeline (the offset and stack of every sample), plus metadata. Stacks are
//! stored root first. `docs/profile-format.md` documents every field.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

pub use crate::function_id::{FunctionId, closest, find};

/// The value of the `schema` field of a saved profile.
pub const PROFILE_SCHEMA: &str = "tachy-profile/1";

/// A sampled CPU profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Always [`PROFILE_SCHEMA`].
    pub schema: String,
    /// The tachy version that wrote it.
    pub tachy_version: String,
    /// What was profiled, how, and how the sampling went.
    pub meta: ProfileMeta,
    /// Distinct frames (function, file, line).
    pub frames: Vec<FrameInfo>,
    /// Distinct threads.
    pub threads: Vec<ThreadInfo>,
    /// Distinct stacks with their sample counts.
    pub stacks: Vec<StackRecord>,
    /// Every sample in time order.
    pub timeline: Timeline,
}

/// Metadata of a profile.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ProfileMeta {
    /// The profiled command line (launch mode) or the target's command line (attach mode).
    pub command: Vec<String>,
    /// Every process sampled (the first is the root).
    pub pids: Vec<u32>,
    /// Python version of the root process.
    #[serde(default)]
    pub python_version: Option<String>,
    /// Requested sampling rate (Hz).
    pub rate_requested: f64,
    /// Achieved sampling rate (sampling rounds per second of wall time).
    pub rate_achieved: f64,
    /// Seconds from the first to the last sampling round.
    pub duration_secs: f64,
    /// RFC 3339 UTC start time.
    pub started_at: String,
    /// Sampling rounds attempted.
    pub rounds: u64,
    /// Stack samples recorded (one per thread per round).
    pub samples: u64,
    /// Rounds that started after their deadline (the sampler fell behind).
    pub late_rounds: u64,
    /// Sampling attempts that failed.
    pub errors: u64,
    /// The first distinct error messages (at most 10).
    #[serde(default)]
    pub error_messages: Vec<String>,
    /// Options the profile was taken with.
    pub options: ProfileOptions,
    /// Exit code of the launched program (128 + signal when killed), if it ended.
    #[serde(default)]
    pub exit_code: Option<i32>,
    /// Why sampling stopped.
    pub end: EndReason,
}

impl ProfileMeta {
    /// The sampling rate to convert samples to time: the achieved rate, else the requested one.
    pub fn effective_rate(&self) -> f64 {
        if self.rate_achieved > 0.0 { self.rate_achieved } else { self.rate_requested }
    }
}

/// Sampling options recorded in a profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProfileOptions {
    /// Split by thread.
    pub threads: bool,
    /// Idle threads included.
    pub idle: bool,
    /// Only the GIL holder sampled.
    pub gil_only: bool,
    /// The target was not paused while reading its stacks.
    pub nonblocking: bool,
    /// Child processes followed.
    pub subprocesses: bool,
    /// Native (C) frames included.
    pub native: bool,
}

/// Why sampling stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The program exited.
    #[default]
    TargetExited,
    /// `--duration` elapsed.
    Duration,
    /// Ctrl-C.
    Interrupted,
    /// The user quit an interactive view (`q` in `tachy top`).
    Stopped,
}

/// One frame: a function at a line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FrameInfo {
    /// Function name.
    pub function: String,
    /// Full path of the source file.
    pub file: String,
    /// Line number (the line executing, or the call site for callers); 0 when unknown.
    pub line: i32,
    /// A shorter path for display (module-relative), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub short_file: Option<String>,
    /// The line of the function's `def` (or `class`) header, read from the source when the
    /// profile was taken; 1 for `<module>`; 0 (and absent from the JSON) when unknown.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub def_line: i32,
}

fn is_zero(n: &i32) -> bool {
    *n == 0
}

impl FrameInfo {
    /// The identity of this frame's function.
    pub fn function_id(&self) -> FunctionId<'_> {
        FunctionId { path: &self.file, file: self.display_file(), qualname: &self.function, def_line: self.def_line }
    }

    /// The file as displayed.
    pub fn display_file(&self) -> &str {
        self.short_file.as_deref().unwrap_or(&self.file)
    }
}

/// One sampled thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadInfo {
    /// Process id.
    pub pid: u32,
    /// Python thread id.
    pub thread_id: u64,
    /// OS thread id, when known.
    #[serde(default)]
    pub os_thread_id: Option<u64>,
    /// Thread name, when known.
    #[serde(default)]
    pub name: Option<String>,
}

impl ThreadInfo {
    /// A label such as `MainThread (tid 1234)`.
    pub fn label(&self) -> String {
        let id = self.os_thread_id.unwrap_or(self.thread_id);
        match &self.name {
            Some(n) => format!("{n} (tid {id})"),
            None => format!("thread {id}"),
        }
    }
}

/// A distinct stack of one thread and how many samples saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackRecord {
    /// Index into `threads`.
    pub thread: u32,
    /// Indices into `frames`, root (outermost) first.
    pub frames: Vec<u32>,
    /// Samples of this stack.
    pub count: u64,
}

/// Every sample in time order, as two parallel arrays.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Timeline {
    /// Microseconds since the start of sampling.
    pub offsets_us: Vec<u64>,
    /// Index into `stacks` of each sample.
    pub stacks: Vec<u32>,
}

/// Samples attributed to one function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionStat {
    /// Qualified name as the profile shows it (`Parser.push` on Python 3.11+).
    pub function: String,
    /// File (display form).
    pub file: String,
    /// Full path of the file.
    pub path: String,
    /// Its location: the `def` line when known, else the smallest line seen.
    pub line: i32,
    /// Its `def` line (the frames' `def_line`), 0 when unknown (a profile saved before def
    /// lines were recorded, or an unreadable source).
    #[serde(default)]
    pub def_line: i32,
    /// Samples where it was the innermost frame.
    pub self_samples: u64,
    /// Samples where it was anywhere on the stack (counted once per sample).
    pub total_samples: u64,
}

/// Samples attributed to one line (innermost frame only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineStat {
    /// Function name.
    pub function: String,
    /// File (display form).
    pub file: String,
    /// Full path of the file.
    pub path: String,
    /// Line number.
    pub line: i32,
    /// Samples on this line.
    pub samples: u64,
}

impl Profile {
    /// Why the stack counts of a profile read from a file cannot be right (their sum does not
    /// fit in 64 bits, or differs from the timeline's length), so that no total wraps around.
    pub fn count_problem(&self) -> Option<String> {
        let Some(total) = self.stacks.iter().try_fold(0u64, |sum, s| sum.checked_add(s.count)) else {
            return Some("its stack counts add up to more than 2^64 samples".into());
        };
        let timeline = self.timeline.stacks.len() as u64;
        (timeline > 0 && total != timeline)
            .then(|| format!("its stacks count {total} samples but its timeline has {timeline}"))
    }

    /// Total samples in the stacks table.
    pub fn total_samples(&self) -> u64 {
        self.stacks.iter().map(|s| s.count).sum()
    }

    /// Per-function self and total samples, sorted by self samples (then total, then name).
    pub fn functions(&self) -> Vec<FunctionStat> {
        function_stats(&self.frames, self.stacks.iter().map(|s| (s.frames.as_slice(), s.count)))
    }

    /// Per-line samples of innermost frames, sorted by samples.
    pub fn lines(&self) -> Vec<LineStat> {
        let mut counts: HashMap<u32, u64> = HashMap::new();
        for s in &self.stacks {
            if let Some(&leaf) = s.frames.last() {
                *counts.entry(leaf).or_insert(0) += s.count;
            }
        }
        let mut merged: HashMap<(&str, &str, i32), u64> = HashMap::new();
        for (fr, n) in counts {
            if let Some(f) = self.frames.get(fr as usize) {
                *merged.entry((f.function.as_str(), f.file.as_str(), f.line)).or_insert(0) += n;
            }
        }
        let short: HashMap<&str, &str> = self.frames.iter().map(|f| (f.file.as_str(), f.display_file())).collect();
        let mut out: Vec<LineStat> = merged
            .into_iter()
            .map(|((function, file, line), samples)| LineStat {
                function: function.to_string(),
                file: short.get(file).copied().unwrap_or(file).to_string(),
                path: file.to_string(),
                line,
                samples,
            })
            .collect();
        out.sort_by(|a, b| b.samples.cmp(&a.samples).then_with(|| a.file.cmp(&b.file)).then(a.line.cmp(&b.line)));
        out
    }

    /// Whether more than one process was sampled.
    pub fn multi_process(&self) -> bool {
        let first = self.threads.first().map(|t| t.pid);
        self.threads.iter().any(|t| Some(t.pid) != first)
    }
}

/// Per-function self and total samples of `stacks` (frame indices root first, with counts),
/// sorted by self samples, then total, then name. A function is its file, qualified name and
/// `def` line ([`FunctionId`]): two `__init__` methods of one file (bare names, Python < 3.11)
/// stay apart. Frames without a `def` line (older profiles, unreadable sources) group by file
/// and name, located at the smallest line seen.
pub fn function_stats<'a>(frames: &[FrameInfo], stacks: impl Iterator<Item = (&'a [u32], u64)>) -> Vec<FunctionStat> {
    let mut index: HashMap<(&str, &str, i32), usize> = HashMap::new();
    let mut out: Vec<FunctionStat> = Vec::new();
    let mut fn_of_frame = Vec::with_capacity(frames.len());
    for f in frames {
        let i = *index.entry((f.function.as_str(), f.file.as_str(), f.def_line.max(0))).or_insert_with(|| {
            out.push(FunctionStat {
                function: f.function.clone(),
                file: f.display_file().to_string(),
                path: f.file.clone(),
                line: if f.def_line > 0 { f.def_line } else { f.line },
                def_line: f.def_line.max(0),
                self_samples: 0,
                total_samples: 0,
            });
            out.len() - 1
        });
        if f.def_line <= 0 && f.line > 0 && (out[i].line <= 0 || f.line < out[i].line) {
            out[i].line = f.line;
        }
        fn_of_frame.push(i);
    }
    let mut seen: Vec<usize> = Vec::new();
    for (stack, count) in stacks {
        if let Some(&leaf) = stack.last()
            && let Some(&i) = fn_of_frame.get(leaf as usize)
        {
            out[i].self_samples += count;
        }
        seen.clear();
        for &fr in stack {
            if let Some(&i) = fn_of_frame.get(fr as usize)
                && !seen.contains(&i)
            {
                seen.push(i);
                out[i].total_samples += count;
            }
        }
    }
    out.retain(|f| f.total_samples > 0);
    out.sort_by(|a, b| {
        b.self_samples
            .cmp(&a.self_samples)
            .then(b.total_samples.cmp(&a.total_samples))
            .then_with(|| a.function.cmp(&b.function))
            .then_with(|| a.path.cmp(&b.path))
            .then(a.line.cmp(&b.line))
    });
    out
}

/// Builds a profile sample by sample, deduplicating frames, threads and stacks.
#[derive(Debug, Default)]
pub struct ProfileBuilder {
    frames: Vec<FrameInfo>,
    /// file -> line -> [(function, frame index)]: looked up with borrowed strings, so
    /// recording a known frame allocates nothing.
    frame_index: HashMap<String, HashMap<i32, Vec<(String, u32)>>>,
    threads: Vec<ThreadInfo>,
    thread_index: HashMap<(u32, u64), u32>,
    stacks: Vec<StackRecord>,
    stack_index: HashMap<(u32, Vec<u32>), u32>,
    timeline: Timeline,
    scratch: Vec<u32>,
}

impl ProfileBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Interns a frame and returns its index.
    pub fn frame(&mut self, function: &str, file: &str, line: i32, short_file: Option<&str>) -> u32 {
        if let Some(&(_, i)) = self
            .frame_index
            .get(file)
            .and_then(|lines| lines.get(&line))
            .and_then(|fns| fns.iter().find(|(f, _)| f == function))
        {
            return i;
        }
        let i = self.frames.len() as u32;
        self.frames.push(FrameInfo {
            function: function.to_string(),
            file: file.to_string(),
            line,
            short_file: short_file.filter(|s| *s != file).map(str::to_string),
            def_line: 0,
        });
        self.frame_index.entry(file.to_string()).or_default().entry(line).or_default().push((function.to_string(), i));
        i
    }

    /// Records the `def` line of frame `frame`'s function (see [`FrameInfo::def_line`]).
    pub fn set_def_line(&mut self, frame: u32, def_line: i32) {
        if let Some(f) = self.frames.get_mut(frame as usize) {
            f.def_line = def_line;
        }
    }

    /// Interns a thread (updating its name and OS id when newly known) and returns its index.
    pub fn thread(&mut self, pid: u32, thread_id: u64, os_thread_id: Option<u64>, name: Option<&str>) -> u32 {
        if let Some(&i) = self.thread_index.get(&(pid, thread_id)) {
            let t = &mut self.threads[i as usize];
            if t.name.is_none() {
                t.name = name.map(str::to_string);
            }
            if t.os_thread_id.is_none() {
                t.os_thread_id = os_thread_id;
            }
            return i;
        }
        let i = self.threads.len() as u32;
        self.threads.push(ThreadInfo { pid, thread_id, os_thread_id, name: name.map(str::to_string) });
        self.thread_index.insert((pid, thread_id), i);
        i
    }

    /// Records one sample of `thread` whose frames (indices from [`Self::frame`]) are given
    /// root first, taken `offset_us` after the start.
    pub fn sample(&mut self, thread: u32, frames_root_first: &[u32], offset_us: u64) {
        self.scratch.clear();
        self.scratch.extend_from_slice(frames_root_first);
        let key = (thread, std::mem::take(&mut self.scratch));
        let idx = match self.stack_index.get(&key) {
            Some(&i) => {
                self.stacks[i as usize].count += 1;
                self.scratch = key.1;
                i
            }
            None => {
                let i = self.stacks.len() as u32;
                self.stacks.push(StackRecord { thread, frames: key.1.clone(), count: 1 });
                self.stack_index.insert(key, i);
                i
            }
        };
        self.timeline.offsets_us.push(offset_us);
        self.timeline.stacks.push(idx);
    }

    /// Frames interned so far.
    pub fn frames(&self) -> &[FrameInfo] {
        &self.frames
    }

    /// Threads seen so far.
    pub fn threads(&self) -> &[ThreadInfo] {
        &self.threads
    }

    /// Distinct stacks so far.
    pub fn stacks(&self) -> &[StackRecord] {
        &self.stacks
    }

    /// Stack index of every sample so far, in time order.
    pub fn timeline_stacks(&self) -> &[u32] {
        &self.timeline.stacks
    }

    /// Samples recorded so far.
    pub fn samples(&self) -> u64 {
        self.timeline.stacks.len() as u64
    }

    /// Finishes the profile.
    pub fn finish(self, mut meta: ProfileMeta) -> Profile {
        meta.samples = self.timeline.stacks.len() as u64;
        Profile {
            schema: PROFILE_SCHEMA.to_string(),
            tachy_version: env!("CARGO_PKG_VERSION").to_string(),
            meta,
            frames: self.frames,
            threads: self.threads,
            stacks: self.stacks,
            timeline: self.timeline,
        }
    }
}

#[cfg(test)]
pub(crate) mod fixture {
    use super::*;

    /// A small deterministic profile: main -> work (60), main -> parse -> json (30), idle main (10).
    pub fn profile() -> Profile {
        let mut b = ProfileBuilder::new();
        let main = b.frame("<module>", "/app/main.py", 10, Some("main.py"));
        let work = b.frame("work", "/app/main.py", 3, Some("main.py"));
        let parse = b.frame("parse", "/app/parse.py", 7, Some("parse.py"));
        let json = b.frame("loads", "/usr/lib/python3.11/json/__init__.py", 346, Some("json/__init__.py"));
        let t = b.thread(42, 1, Some(4242), Some("MainThread"));
        let w = b.thread(42, 2, Some(4243), Some("worker"));
        let mut t_us = 0;
        for i in 0..100u64 {
            t_us += 10_000;
            match i % 10 {
                0..=5 => b.sample(t, &[main, work], t_us),
                6..=8 => b.sample(w, &[main, parse, json], t_us),
                _ => b.sample(t, &[main], t_us),
            }
        }
        b.finish(ProfileMeta {
            command: vec!["python3".into(), "main.py".into()],
            pids: vec![42],
            python_version: Some("3.11.7".into()),
            rate_requested: 100.0,
            rate_achieved: 99.5,
            duration_secs: 1.0,
            started_at: "2026-01-01T00:00:00Z".into(),
            rounds: 100,
            late_rounds: 1,
            errors: 0,
            options: ProfileOptions { threads: true, ..Default::default() },
            exit_code: Some(0),
            ..Default::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_deduplicates_and_counts() {
        let p = fixture::profile();
        assert_eq!(p.frames.len(), 4);
        assert_eq!(p.threads.len(), 2);
        assert_eq!(p.stacks.len(), 3);
        assert_eq!(p.total_samples(), 100);
        assert_eq!(p.meta.samples, 100);
        assert_eq!(p.timeline.stacks.len(), 100);
    }

    #[test]
    fn functions_have_self_and_total() {
        let f = fixture::profile().functions();
        let get = |name: &str| f.iter().find(|x| x.function == name).unwrap().clone();
        assert_eq!(f[0].function, "work");
        assert_eq!((get("work").self_samples, get("work").total_samples), (60, 60));
        assert_eq!((get("<module>").self_samples, get("<module>").total_samples), (10, 100));
        assert_eq!((get("parse").self_samples, get("parse").total_samples), (0, 30));
        assert_eq!(get("loads").file, "json/__init__.py");
    }

    #[test]
    fn recursion_counts_total_once() {
        let mut b = ProfileBuilder::new();
        let f1 = b.frame("fib", "/f.py", 1, None);
        let f2 = b.frame("fib", "/f.py", 2, None);
        let t = b.thread(1, 1, None, None);
        b.sample(t, &[f1, f2, f2], 0);
        let p = b.finish(ProfileMeta::default());
        let f = p.functions();
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].self_samples, f[0].total_samples, f[0].line), (1, 1, 1));
    }

    #[test]
    fn functions_are_located_at_their_def_line() {
        // Two runs sampled `tokenize` at different lines first: the def line is the same.
        let mut b = ProfileBuilder::new();
        let a = b.frame("tokenize", "/t.py", 171, None);
        let c = b.frame("tokenize", "/t.py", 150, None);
        b.set_def_line(a, 147);
        b.set_def_line(c, 147);
        // Bare names (Python < 3.11): two `__init__` of one file stay two functions.
        let i1 = b.frame("__init__", "/t.py", 12, None);
        let i2 = b.frame("__init__", "/t.py", 40, None);
        b.set_def_line(i1, 10);
        b.set_def_line(i2, 38);
        let t = b.thread(1, 1, None, None);
        b.sample(t, &[a], 0);
        b.sample(t, &[c], 1);
        b.sample(t, &[i1], 2);
        b.sample(t, &[i2], 3);
        b.sample(t, &[i2], 4);
        let p = b.finish(ProfileMeta::default());
        let f = p.functions();
        let loc =
            |name: &str| f.iter().filter(|x| x.function == name).map(|x| (x.line, x.self_samples)).collect::<Vec<_>>();
        assert_eq!(loc("tokenize"), [(147, 2)]);
        assert_eq!(loc("__init__"), [(38, 2), (10, 1)]);
        assert_eq!(p.frames[a as usize].function_id().def_line, 147);
    }

    #[test]
    fn def_lines_are_saved_and_old_files_still_load() {
        let mut b = ProfileBuilder::new();
        let a = b.frame("Parser.push", "/p.py", 200, None);
        b.set_def_line(a, 187);
        let json = serde_json::to_value(&b.frames()[0]).unwrap();
        assert_eq!(json["def_line"], 187);
        let old: FrameInfo = serde_json::from_str(r#"{"function":"f","file":"/p.py","line":3}"#).unwrap();
        assert_eq!(old.def_line, 0);
        assert!(serde_json::to_value(&old).unwrap().get("def_line").is_none());
    }

    #[test]
    fn lines_are_innermost_frames() {
        let l = fixture::profile().lines();
        assert_eq!((l[0].function.as_str(), l[0].line, l[0].samples), ("work", 3, 60));
        assert_eq!(l.iter().map(|x| x.samples).sum::<u64>(), 100);
    }

    #[test]
    fn thread_names_fill_in_later() {
        let mut b = ProfileBuilder::new();
        let t = b.thread(1, 7, None, None);
        assert_eq!(b.thread(1, 7, Some(70), Some("late")), t);
        let p = b.finish(ProfileMeta::default());
        assert_eq!(p.threads[0].label(), "late (tid 70)");
    }
}

/// The comparison of two profiles (`tachy profile diff`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileDiff {
    /// `tachy-profile-diff/1`.
    pub schema: String,
    /// Command of the earlier profile.
    pub before_command: String,
    /// Command of the later profile.
    pub after_command: String,
    /// Samples in the earlier profile.
    pub before_samples: u64,
    /// Samples in the later profile.
    pub after_samples: u64,
    /// `--fail-if-grows` limit in percentage points, if given.
    pub fail_if_grows: Option<f64>,
    /// True when a function's self share grew significantly by more than the limit.
    pub failed: bool,
    /// One row per function seen in either profile, largest self change first.
    pub rows: Vec<DiffRow>,
    /// Confidence that all the intervals of a family (the functions tested on one share) hold
    /// at once (0.95).
    #[serde(default)]
    pub confidence: f64,
    /// Batches each profile's timeline is cut into for the variance (paired batch means).
    #[serde(default)]
    pub batches: u32,
    /// Fewest samples (before + after) for a function's share to be tested.
    #[serde(default)]
    pub min_samples: u64,
    /// Fewest samples each profile needs for any function to be tested.
    #[serde(default)]
    pub min_profile_samples: u64,
    /// Functions tested on their self share (the Bonferroni family size).
    #[serde(default)]
    pub self_tested: u64,
    /// Functions tested on their total share.
    #[serde(default)]
    pub total_tested: u64,
    /// The functions that failed `--fail-if-grows`, largest growth first.
    #[serde(default)]
    pub failures: Vec<DiffFailure>,
    /// Remarks: profiles too short to compare, growths too small in samples to be tested.
    #[serde(default)]
    pub notes: Vec<String>,
}

/// A function whose self share grew significantly by more than `--fail-if-grows`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiffFailure {
    /// Function name.
    pub function: String,
    /// File (display form).
    pub file: String,
    /// Line.
    pub line: i32,
    /// Growth of the self share (fraction, 0..1).
    pub delta: f64,
    /// Lower end of its interval.
    pub ci_low: f64,
    /// Upper end of its interval.
    pub ci_high: f64,
}

/// One function's change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiffRow {
    /// Function name.
    pub function: String,
    /// File (display form).
    pub file: String,
    /// Line (from the later profile when present).
    pub line: i32,
    /// Change of the self share.
    pub self_share: ShareChange,
    /// Change of the total share.
    pub total_share: ShareChange,
}

/// A change of a share (fractions of samples, 0..1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ShareChange {
    /// Share before.
    pub before: f64,
    /// Share after.
    pub after: f64,
    /// after - before.
    pub delta: f64,
    /// Lower end of the interval of the change: jointly 95% over the functions tested
    /// (Bonferroni). With too few samples, the whole possible range (`-before`).
    pub ci_low: f64,
    /// Upper end of the interval of the change (`1 - before` with too few samples).
    pub ci_high: f64,
    /// The conclusion.
    pub verdict: DiffVerdict,
    /// Samples that saw it in the earlier profile.
    #[serde(default)]
    pub samples_before: u64,
    /// Samples that saw it in the later profile.
    #[serde(default)]
    pub samples_after: u64,
    /// Bonferroni-adjusted two-sided p-value of "no change"; `None` when not tested.
    #[serde(default)]
    pub p_value: Option<f64>,
}

/// Conclusion about one share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffVerdict {
    /// Significantly larger.
    Grew,
    /// Significantly smaller.
    Shrank,
    /// Within noise.
    Noise,
    /// Too few samples to test (the function, or a whole profile): no conclusion.
    NotEnoughSamples,
}
