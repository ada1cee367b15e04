//! Builds a [`MemReport`] from the replayed captures of every traced process: frames and
//! stacks merged, memory kept by imports told apart from leaks, site tables per view, the
//! timeline, peaks, budgets and notes.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use tachy_process::ExitInfo;
use tachy_report::mem::{
    MEM_SCHEMA, MemBudget, MemEnd, MemFrame, MemPoint, MemReport, NativeHeap, Peak, Site, StackStat, Totals,
};
use tachy_report::units::Size;

use crate::capture::Capture;

/// Most rows of a site table.
const MAX_SITES: usize = 100;
/// Most points of the timeline.
const MAX_POINTS: usize = 2000;

/// Facts about the run that the captures do not hold.
#[derive(Debug, Clone)]
pub struct RunFacts {
    /// The command.
    pub command: Vec<String>,
    /// When it started.
    pub started_at: SystemTime,
    /// How long it ran.
    pub wall: Duration,
    /// How it ended (`None`: Ctrl-C).
    pub exit: Option<ExitInfo>,
    /// Ctrl-C stopped it.
    pub interrupted: bool,
    /// Peak RSS from the kernel (wait4), 0 when unknown.
    pub max_rss_bytes: u64,
    /// Python version of the main process.
    pub python_version: Option<String>,
    /// `--max-peak`.
    pub max_peak: Option<Size>,
    /// `--max-leak`.
    pub max_leak: Option<Size>,
    /// Messages of processes where the hook could not start.
    pub hook_failures: Vec<String>,
}

#[derive(Clone, Copy)]
enum View {
    Peak,
    Allocated,
    Leaked,
    KeptByImports,
}

fn value(s: &StackStat, v: View) -> u64 {
    match v {
        View::Peak => s.peak_bytes,
        View::Allocated => s.allocated_bytes,
        View::Leaked => s.leaked_bytes,
        View::KeptByImports => s.kept_by_imports_bytes,
    }
}

/// Files of the frames of CPython's import machinery: frozen in 3.11+ (`<frozen ...>`), a
/// source file in older versions or when frozen modules are off.
const IMPORT_FILES: [&str; 4] = [
    "<frozen importlib._bootstrap>",
    "<frozen importlib._bootstrap_external>",
    "importlib/_bootstrap.py",
    "importlib/_bootstrap_external.py",
];

/// Whether a stack passes through an import: one of its frames is in `importlib._bootstrap`
/// or `_bootstrap_external`. That covers the loader's own work (reading and compiling the
/// source, `_compile_bytecode`, path and finder caches) and everything the imported module's
/// top-level code (`<module>`, run by `exec_module`) allocates, at any depth of nested
/// imports. The program's main script is not imported (it runs without these frames).
fn through_import(frames: &[MemFrame], stack: &[u32]) -> bool {
    stack.iter().any(|&i| {
        frames.get(i as usize).is_some_and(|f| {
            let file = f.file.as_str();
            IMPORT_FILES.iter().any(|m| if m.starts_with('<') { file == *m } else { file.ends_with(m) })
        })
    })
}

fn sites(frames: &[MemFrame], stacks: &[StackStat], view: View) -> Vec<Site> {
    // leaf frame -> (bytes, allocations, best stack, best bytes)
    let mut by_leaf: HashMap<u32, (u64, u64, u32, u64)> = HashMap::new();
    for (i, s) in stacks.iter().enumerate() {
        let b = value(s, view);
        let Some(&leaf) = s.frames.first() else { continue };
        if b == 0 {
            continue;
        }
        let e = by_leaf.entry(leaf).or_insert((0, 0, i as u32, 0));
        e.0 += b;
        e.1 += match view {
            View::Allocated => s.allocations,
            _ if s.allocated_bytes > 0 => (s.allocations as f64 * b as f64 / s.allocated_bytes as f64).round() as u64,
            _ => 0,
        };
        if b > e.3 {
            e.2 = i as u32;
            e.3 = b;
        }
    }
    let total: u64 = by_leaf.values().map(|e| e.0).sum();
    let mut out: Vec<Site> = by_leaf
        .into_iter()
        .map(|(leaf, (bytes, allocations, stack, _))| {
            let f = &frames[leaf as usize];
            Site {
                function: f.function.clone(),
                file: f.file.clone(),
                line: f.line,
                bytes,
                share: if total > 0 { bytes as f64 / total as f64 } else { 0.0 },
                allocations,
                stack,
            }
        })
        .collect();
    out.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| (&a.file, a.line).cmp(&(&b.file, b.line))));
    out.truncate(MAX_SITES);
    out
}

/// The C heap of the main process, when `--native` recorded it.
fn native_heap(main: &Capture) -> Option<NativeHeap> {
    if main.native.is_empty() {
        return None;
    }
    let at =
        main.native.iter().find(|(_, b)| *b >= main.native_peak).or_else(|| main.native.iter().max_by_key(|(_, b)| *b));
    let peak = main.native_peak.max(main.native.iter().map(|(_, b)| *b).max().unwrap_or(0));
    let points: Vec<(f64, u64)> = main.native.iter().map(|(t, b)| (*t as f64 / 1e6, *b)).collect();
    Some(NativeHeap {
        peak_bytes: peak,
        peak_at_secs: at.map_or(0.0, |(t, _)| *t as f64 / 1e6),
        last_bytes: main.native.last().map_or(0, |(_, b)| *b),
        timeline: thin_points(points, MAX_POINTS),
    })
}

fn thin_points<T: Clone>(v: Vec<T>, max: usize) -> Vec<T> {
    if v.len() <= max {
        return v;
    }
    let step = v.len().div_ceil(max);
    v.into_iter().step_by(step).collect()
}

/// Builds the report; `captures[0]` is the main process.
pub fn build(captures: &[Capture], run: &RunFacts) -> MemReport {
    let mut frames: Vec<MemFrame> = Vec::new();
    let mut frame_ids: HashMap<MemFrame, u32> = HashMap::new();
    let mut stacks: Vec<StackStat> = Vec::new();
    let mut stack_ids: HashMap<Vec<u32>, usize> = HashMap::new();
    let mut notes = Vec::new();
    for c in captures {
        for (raw, bytes) in c.stacks.iter().zip(&c.bytes) {
            let key: Vec<u32> = raw
                .iter()
                .map(|&(func, file, line)| {
                    let f = MemFrame {
                        function: c.strings.get(func as usize).cloned().unwrap_or_default(),
                        file: c.strings.get(file as usize).cloned().unwrap_or_default(),
                        line,
                    };
                    *frame_ids.entry(f.clone()).or_insert_with(|| {
                        frames.push(f);
                        frames.len() as u32 - 1
                    })
                })
                .collect();
            let idx = *stack_ids.entry(key.clone()).or_insert_with(|| {
                stacks.push(StackStat { frames: key, ..StackStat::default() });
                stacks.len() - 1
            });
            let s = &mut stacks[idx];
            // Saturating: the figures come from capture files.
            s.peak_bytes = s.peak_bytes.saturating_add(bytes.peak);
            s.allocated_bytes = s.allocated_bytes.saturating_add(bytes.allocated);
            s.leaked_bytes = s.leaked_bytes.saturating_add(bytes.leaked);
            s.allocations = s.allocations.saturating_add(bytes.allocations);
        }
        if c.truncated || !c.complete {
            notes.push(format!(
                "process {}: the capture ends early (the process was killed or crashed); figures cover it until then",
                c.pid
            ));
        } else if !c.exit_marker {
            notes.push(format!(
                "process {}: Python's atexit never ran (os._exit?); leaks are what was live at the end",
                c.pid
            ));
        }
    }
    for f in &run.hook_failures {
        notes.push(format!("a process could not be traced: {}", f.trim()));
    }
    let main = &captures[0];
    let origin = main.start_unix_ns;
    let offset_us = |c: &Capture| c.start_unix_ns.saturating_sub(origin) / 1000;

    // Timeline: the main process's points, with the other processes' latest values added.
    let mut events: Vec<(u64, usize, u64, u64)> = Vec::new();
    for (i, c) in captures.iter().enumerate() {
        let off = offset_us(c);
        events.extend(c.counters.iter().map(|k| (k.t_us.saturating_add(off), i, k.live, k.rss)));
    }
    events.sort_unstable_by_key(|e| e.0);
    let mut current = vec![(0u64, 0u64); captures.len()];
    let mut timeline: Vec<MemPoint> = Vec::with_capacity(events.len());
    for (t, i, live, rss) in events {
        current[i] = (live, rss);
        timeline.push(MemPoint {
            t_secs: t as f64 / 1e6,
            traced_bytes: current.iter().fold(0u64, |sum, c| sum.saturating_add(c.0)),
            rss_bytes: current.iter().fold(0u64, |sum, c| sum.saturating_add(c.1)),
        });
    }
    let (mut rss_peak, mut rss_at) =
        timeline.iter().fold((0, 0.0), |acc, p| if p.rss_bytes > acc.0 { (p.rss_bytes, p.t_secs) } else { acc });
    if run.max_rss_bytes > rss_peak {
        rss_peak = run.max_rss_bytes;
        if rss_at == 0.0 {
            rss_at = main.peak_us as f64 / 1e6;
        }
    }
    let (mut traced_peak, mut traced_at) = (main.peak, main.peak_us as f64 / 1e6);
    if captures.len() > 1
        && let Some(p) = timeline.iter().max_by_key(|p| p.traced_bytes)
        && p.traced_bytes > traced_peak
    {
        traced_peak = p.traced_bytes;
        traced_at = p.t_secs;
    }
    if timeline.len() > MAX_POINTS {
        let step = timeline.len().div_ceil(MAX_POINTS);
        let peak_idx = timeline.iter().enumerate().max_by_key(|(_, p)| p.traced_bytes).map_or(0, |(i, _)| i);
        timeline =
            timeline.into_iter().enumerate().filter(|(i, _)| i % step == 0 || *i == peak_idx).map(|(_, p)| p).collect();
    }

    let peak_sites = sites(&frames, &stacks, View::Peak);
    let allocated_sites = sites(&frames, &stacks, View::Allocated);
    // What is still live at exit but was allocated by an import is the interpreter's by
    // design (code objects, module globals, import caches): reported apart, not a leak.
    for s in &mut stacks {
        if through_import(&frames, &s.frames) {
            s.kept_by_imports_bytes = std::mem::take(&mut s.leaked_bytes);
        }
    }
    let leak_sites = sites(&frames, &stacks, View::Leaked);
    let import_sites = sites(&frames, &stacks, View::KeptByImports);
    let leaked_bytes = stacks.iter().fold(0u64, |sum, s| sum.saturating_add(s.leaked_bytes));
    let kept_by_imports_bytes = stacks.iter().fold(0u64, |sum, s| sum.saturating_add(s.kept_by_imports_bytes));
    let mut budgets = Vec::new();
    for (name, limit, measured) in [("max-peak", run.max_peak, traced_peak), ("max-leak", run.max_leak, leaked_bytes)] {
        if let Some(limit) = limit {
            budgets.push(MemBudget {
                name: name.into(),
                limit_bytes: limit.bytes,
                measured_bytes: measured,
                passed: measured <= limit.bytes,
                units: Some(limit.units),
            });
        }
    }
    let end = if run.interrupted {
        notes.insert(0, "interrupted by Ctrl-C: the figures cover the run until then".into());
        MemEnd::Interrupted
    } else {
        match run.exit {
            Some(ExitInfo::Signal(s)) => {
                notes.insert(0, format!("the program was killed by signal {s}: the figures cover it until then"));
                MemEnd::Killed
            }
            _ => MemEnd::Exited,
        }
    };
    if stacks.is_empty() {
        notes.push("no allocation was sampled: the program allocated less than the sampling interval (use --sample-bytes or --exact)".into());
    }
    MemReport {
        schema: MEM_SCHEMA.into(),
        tachy_version: env!("CARGO_PKG_VERSION").into(),
        command: run.command.clone(),
        python_version: run.python_version.clone(),
        pids: captures.iter().map(|c| c.pid).collect(),
        started_at: humantime::format_rfc3339_seconds(run.started_at).to_string(),
        duration_secs: run.wall.as_secs_f64(),
        exit_code: match run.exit {
            Some(ExitInfo::Code(c)) => Some(c),
            _ => None,
        },
        end,
        sample_bytes: main.sample_bytes,
        peak: Peak { traced_bytes: traced_peak, traced_at_secs: traced_at, rss_bytes: rss_peak, rss_at_secs: rss_at },
        totals: Totals {
            allocations: captures.iter().fold(0u64, |sum, c| sum.saturating_add(c.allocations)),
            allocated_bytes: captures.iter().fold(0u64, |sum, c| sum.saturating_add(c.allocated_bytes)),
            samples: captures.iter().fold(0u64, |sum, c| sum.saturating_add(c.samples)),
        },
        frames,
        stacks,
        peak_sites,
        allocated_sites,
        leak_sites,
        leaked_bytes,
        kept_by_imports_bytes,
        import_sites,
        native: native_heap(main),
        timeline,
        budgets,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::parse;
    use crate::capture::tests::{Writer, sample};

    fn facts(max_leak: Option<Size>) -> RunFacts {
        RunFacts {
            command: vec!["python3".into(), "app.py".into()],
            started_at: SystemTime::UNIX_EPOCH,
            wall: Duration::from_secs(1),
            exit: Some(ExitInfo::Code(0)),
            interrupted: false,
            max_rss_bytes: 8192,
            python_version: Some("3.11.7".into()),
            max_peak: None,
            max_leak,
            hook_failures: vec![],
        }
    }

    /// Live at exit: 700 bytes compiled by the loader, 200 from an imported module's top
    /// level (nested in another import, source-file importlib as in Python < 3.11), 100 the
    /// main script keeps in a global. Only the last is a leak.
    #[test]
    fn what_imports_keep_is_not_a_leak() {
        let mut w = Writer::new(0);
        for (i, s) in [
            "_compile_bytecode",
            "<frozen importlib._bootstrap_external>",
            "<module>",
            "/app/main.py",
            "/usr/lib/python3.10/importlib/_bootstrap.py",
            "_call_with_frames_removed",
            "/app/lib.py",
        ]
        .iter()
        .enumerate()
        {
            w.string(i as u32, s);
        }
        w.stack(0, &[(0, 1, 729), (2, 3, 1)]);
        w.stack(1, &[(2, 6, 3), (5, 4, 241), (2, 3, 2)]);
        w.stack(2, &[(2, 3, 5)]);
        w.alloc(1, 0x10, 700, 700, 0).alloc(2, 0x20, 200, 200, 1).alloc(3, 0x30, 100, 100, 2);
        w.tag(b'X').u64(4);
        let limit = Size { bytes: 150, units: tachy_report::units::SizeUnits::Decimal };
        let r = build(&[parse(&w.0).unwrap()], &facts(Some(limit)));
        assert_eq!((r.leaked_bytes, r.kept_by_imports_bytes), (100, 900));
        assert_eq!(r.leak_sites.len(), 1);
        assert_eq!((r.leak_sites[0].file.as_str(), r.leak_sites[0].line), ("/app/main.py", 5));
        let imports: Vec<(&str, u64)> = r.import_sites.iter().map(|s| (s.function.as_str(), s.bytes)).collect();
        assert_eq!(imports, [("_compile_bytecode", 700), ("<module>", 200)]);
        assert_eq!(r.stacks.iter().map(|s| s.leaked_bytes + s.kept_by_imports_bytes).sum::<u64>(), 1000);
        assert!(r.budgets[0].passed, "the budget checks the leak only: {:?}", r.budgets);
        assert_eq!(r.budgets[0].measured_bytes, 100);
    }

    #[test]
    fn sites_and_budgets() {
        let c = parse(&sample()).unwrap();
        let run = RunFacts {
            max_peak: Some(Size { bytes: 200, units: Default::default() }),
            ..facts(Some(Size { bytes: 100, units: Default::default() }))
        };
        let r = build(&[c], &run);
        assert_eq!(r.peak.traced_bytes, 300);
        assert_eq!(r.peak.rss_bytes, 8192);
        assert_eq!(r.peak_sites[0].function, "transient");
        assert_eq!(r.peak_sites[0].line, 5);
        assert_eq!(r.peak_sites[0].share, 1.0);
        assert_eq!(r.leak_sites[0].function, "leak");
        assert_eq!(r.leaked_bytes, 50);
        assert_eq!(r.allocated_sites.len(), 2);
        assert!(!r.budgets[0].passed);
        assert!(r.budgets[1].passed);
        assert_eq!(r.end, MemEnd::Exited);
    }
}
