//! Renderers of a [`MemReport`] (`tachy mem`): one module per format.
//!
//! | format                 | function         | readable by |
//! |------------------------|------------------|-------------|
//! | text                   | [`text()`]       | people: peak, top sites live at the peak, allocated, leaks, budgets |
//! | json                   | [`json`]         | `tachy mem show` (schema `tachy-mem/1`, `docs/mem-format.md`) |
//! | flamegraph (3 views)   | [`flamegraph()`] | any browser: bytes live at the peak, allocated, leaked |
//! | speedscope             | [`speedscope()`] | speedscope.app (one profile per view) |
//! | pprof                  | [`pprof()`]      | `go tool pprof`, Pyroscope, Parca (`alloc_*`, `inuse_*`) |
//! | plot                   | [`plot()`]       | any browser: traced memory and RSS over time (SVG) |
//!
//! Bytes by stack and by site are estimates from sampling; the peak and totals are exact.

mod flamegraph;
mod plot;
mod pprof;
mod speedscope;
mod text;

pub use self::flamegraph::{collapsed, flamegraph};
pub use self::plot::plot;
pub use self::pprof::{MemPprofProfile, build_pprof, pprof};
pub use self::speedscope::speedscope;
pub use self::text::text;

use crate::mem::{MemFrame, MemReport, StackStat};

/// Output formats of a memory report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum MemFormat {
    /// Terminal summary.
    Text,
    /// The saved report (pretty JSON, schema `tachy-mem/1`).
    Json,
    /// Flamegraph SVG of the bytes live at the peak.
    Flamegraph,
    /// Flamegraph SVG of the bytes allocated over the run.
    FlamegraphAllocated,
    /// Flamegraph SVG of the bytes still live at exit (leaks).
    FlamegraphLeaks,
    /// speedscope JSON (live at peak, allocated, leaked).
    Speedscope,
    /// pprof protobuf, gzipped (`alloc_*` and `inuse_*` sample types).
    Pprof,
    /// SVG chart of traced memory and RSS over time.
    Plot,
}

impl MemFormat {
    /// The conventional file extension.
    pub fn extension(self) -> &'static str {
        match self {
            MemFormat::Text => "txt",
            MemFormat::Json => "json",
            MemFormat::Flamegraph => "peak.svg",
            MemFormat::FlamegraphAllocated => "allocated.svg",
            MemFormat::FlamegraphLeaks => "leaks.svg",
            MemFormat::Speedscope => "speedscope.json",
            MemFormat::Pprof => "pb.gz",
            MemFormat::Plot => "plot.svg",
        }
    }

    /// True for formats that are not text.
    pub fn is_binary(self) -> bool {
        self == MemFormat::Pprof
    }
}

/// Which bytes of a stack a flamegraph shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemView {
    /// Estimated bytes live at the peak.
    Peak,
    /// Estimated bytes allocated over the whole run.
    Allocated,
    /// Estimated bytes still live when the program's code finished.
    Leaks,
}

impl MemView {
    /// The view's bytes of one stack.
    pub fn bytes(self, stack: &StackStat) -> u64 {
        match self {
            MemView::Peak => stack.peak_bytes,
            MemView::Allocated => stack.allocated_bytes,
            MemView::Leaks => stack.leaked_bytes,
        }
    }

    /// A short description, e.g. `live at the peak`.
    pub fn describe(self) -> &'static str {
        match self {
            MemView::Peak => "live at the peak",
            MemView::Allocated => "allocated over the run",
            MemView::Leaks => "live at exit (leaks)",
        }
    }
}

/// A memory renderer failed.
#[derive(Debug, thiserror::Error)]
pub enum MemRenderError {
    /// JSON serialisation failed.
    #[error("cannot serialise JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The flamegraph could not be drawn.
    #[error("cannot draw the flamegraph: {0}")]
    Flamegraph(String),
    /// There is nothing to draw.
    #[error("{0}")]
    Empty(String),
    /// Compression failed.
    #[error("cannot write: {0}")]
    Io(#[from] std::io::Error),
}

/// Renders `report` in `format`; `color` adds ANSI colours to the text summary.
pub fn render(report: &MemReport, format: MemFormat, color: bool) -> Result<Vec<u8>, MemRenderError> {
    Ok(match format {
        MemFormat::Text => text(report, color).into_bytes(),
        MemFormat::Json => json(report)?.into_bytes(),
        MemFormat::Flamegraph => flamegraph(report, MemView::Peak)?,
        MemFormat::FlamegraphAllocated => flamegraph(report, MemView::Allocated)?,
        MemFormat::FlamegraphLeaks => flamegraph(report, MemView::Leaks)?,
        MemFormat::Speedscope => speedscope(report)?,
        MemFormat::Pprof => pprof(report)?,
        MemFormat::Plot => plot(report).into_bytes(),
    })
}

/// Renders a memory report as pretty-printed JSON with a trailing newline.
pub fn json(report: &MemReport) -> Result<String, MemRenderError> {
    let mut s = serde_json::to_string_pretty(report)?;
    s.push('\n');
    Ok(s)
}

/// The last two components of a path: `/srv/app/models/db.py` → `models/db.py`.
pub(crate) fn short_file(file: &str) -> &str {
    let mut cuts = file.rmatch_indices(['/', '\\']).map(|(i, _)| i);
    match (cuts.next(), cuts.next()) {
        (Some(_), Some(second)) => &file[second + 1..],
        _ => file,
    }
}

/// A frame as `function (file:line)`, with the file shortened to its last two components.
pub(crate) fn frame_label(frame: &MemFrame) -> String {
    format!("{} ({}:{})", frame.function, short_file(&frame.file), frame.line)
}

/// The command as one line, with arguments quoted for a POSIX shell when they need it:
/// `python3 -c 'print(1)'`.
pub(crate) fn command_line(command: &[String]) -> String {
    let quoted: Vec<String> = command
        .iter()
        .map(|arg| {
            let plain = !arg.is_empty() && arg.chars().all(|c| c.is_alphanumeric() || "_-./:=@%+,".contains(c));
            if plain { arg.clone() } else { format!("'{}'", arg.replace('\'', "'\\''")) }
        })
        .collect();
    quoted.join(" ")
}

/// Deterministic memory reports for the renderers' tests.
#[cfg(test)]
pub(crate) mod fixture {
    use crate::mem::*;

    const MIB: u64 = 1024 * 1024;

    fn frame(function: &str, file: &str, line: u32) -> MemFrame {
        MemFrame { function: function.into(), file: file.into(), line }
    }

    fn stack(frames: &[u32], peak: u64, allocated: u64, leaked: u64, allocations: u64) -> StackStat {
        StackStat {
            frames: frames.to_vec(),
            peak_bytes: peak,
            allocated_bytes: allocated,
            leaked_bytes: leaked,
            kept_by_imports_bytes: 0,
            allocations,
        }
    }

    fn site(report: &MemReport, stack: u32, bytes: u64, total: u64, allocations: u64) -> Site {
        let leaf = report.stacks[stack as usize].frames[0];
        let f = &report.frames[leaf as usize];
        Site {
            function: f.function.clone(),
            file: f.file.clone(),
            line: f.line,
            bytes,
            share: bytes as f64 / total as f64,
            allocations,
            stack,
        }
    }

    /// Two processes, a peak, leaks, a deep recursive stack, a failing budget and notes.
    pub fn report() -> MemReport {
        let mut r = MemReport {
            schema: MEM_SCHEMA.into(),
            tachy_version: "0.0.0-test".into(),
            command: vec!["python3".into(), "app.py".into(), "--rows".into(), "1000000".into()],
            python_version: Some("3.11.7".into()),
            pids: vec![4242, 4243],
            started_at: "2026-01-01T00:00:00Z".into(),
            duration_secs: 5.25,
            exit_code: Some(0),
            end: MemEnd::Exited,
            sample_bytes: 256 * 1024,
            peak: Peak {
                traced_bytes: 118 * MIB + 300 * 1024,
                traced_at_secs: 3.2,
                rss_bytes: 160 * MIB,
                rss_at_secs: 3.5,
            },
            totals: Totals { allocations: 1_056_321, allocated_bytes: 489 * MIB + 12_345, samples: 1_957 },
            frames: vec![
                frame("load_rows", "/srv/app/models/db.py", 42),
                frame("build_index", "/srv/app/models/index.py", 17),
                frame("main", "/srv/app/main.py", 88),
                frame("<module>", "/srv/app/main.py", 120),
                frame("cache_put", "/srv/app/cache.py", 9),
                frame("parse", "/srv/app/parse.py", 30),
                frame("Tree.walk", "/srv/app/tree.py", 12),
                frame("_compile_bytecode", "<frozen importlib._bootstrap_external>", 729),
            ],
            stacks: vec![
                stack(&[0, 2, 3], 64 * MIB, 96 * MIB, 0, 120_000),
                stack(&[1, 2, 3], 24 * MIB, 48 * MIB, 0, 30_000),
                stack(&[4, 0, 2, 3], 8 * MIB, 8 * MIB, 6 * MIB, 4_000),
                stack(&[5, 2, 3], 0, 300 * MIB, 0, 900_000),
                stack(&[4, 5, 2, 3], 2 * MIB, 4 * MIB, 3 * MIB / 2, 1_000),
                stack(&[6, 6, 6, 6, 6, 6, 6, 6, 6, 2, 3], 16 * MIB, 32 * MIB, MIB / 2, 2_000),
                StackStat { kept_by_imports_bytes: 3 * MIB, ..stack(&[7, 3], 0, 5 * MIB, 0, 400) },
            ],
            peak_sites: vec![],
            allocated_sites: vec![],
            leak_sites: vec![],
            leaked_bytes: 8 * MIB,
            kept_by_imports_bytes: 3 * MIB,
            import_sites: vec![],
            native: None,
            timeline: [
                (0.0, 0, 9),
                (0.5, 12, 24),
                (1.0, 30, 44),
                (1.5, 52, 70),
                (2.0, 75, 96),
                (2.5, 96, 122),
                (3.0, 114, 150),
                (3.5, 110, 160),
                (4.0, 64, 158),
                (4.5, 20, 152),
                (5.0, 9, 150),
            ]
            .iter()
            .map(|&(t, traced, rss)| MemPoint { t_secs: t, traced_bytes: traced * MIB, rss_bytes: rss * MIB })
            .collect(),
            budgets: vec![
                MemBudget {
                    name: "max-peak".into(),
                    limit_bytes: 100 * MIB,
                    measured_bytes: 118 * MIB + 300 * 1024,
                    passed: false,
                    units: None,
                },
                MemBudget {
                    name: "max-leak".into(),
                    limit_bytes: 10_000_000,
                    measured_bytes: 8 * MIB,
                    passed: true,
                    units: Some(crate::units::SizeUnits::Decimal),
                },
            ],
            notes: vec!["process 4243 left no end record: it was killed, its figures stop where it stopped".into()],
        };
        let peak_total = 114 * MIB;
        r.peak_sites = vec![
            site(&r, 0, 64 * MIB, peak_total, 120_000),
            site(&r, 1, 24 * MIB, peak_total, 30_000),
            site(&r, 5, 16 * MIB, peak_total, 2_000),
            site(&r, 2, 10 * MIB, peak_total, 5_000),
        ];
        let allocated_total = 488 * MIB;
        r.allocated_sites = vec![
            site(&r, 3, 300 * MIB, allocated_total, 900_000),
            site(&r, 0, 96 * MIB, allocated_total, 120_000),
            site(&r, 1, 48 * MIB, allocated_total, 30_000),
            site(&r, 5, 32 * MIB, allocated_total, 2_000),
            site(&r, 2, 12 * MIB, allocated_total, 5_000),
        ];
        r.leak_sites = vec![site(&r, 2, 15 * MIB / 2, 8 * MIB, 3_000), site(&r, 5, MIB / 2, 8 * MIB, 60)];
        r.import_sites = vec![site(&r, 6, 3 * MIB, 3 * MIB, 240)];
        r
    }

    /// A short run that allocated less than the sampling mean: no sample, no leak, no budget.
    pub fn unsampled() -> MemReport {
        MemReport {
            schema: MEM_SCHEMA.into(),
            tachy_version: "0.0.0-test".into(),
            command: vec!["python3".into(), "-c".into(), "print(1)".into()],
            python_version: None,
            pids: vec![7],
            started_at: "2026-01-01T00:00:00Z".into(),
            duration_secs: 0.042,
            exit_code: Some(0),
            end: MemEnd::Exited,
            sample_bytes: 256 * 1024,
            peak: Peak { traced_bytes: 180_000, traced_at_secs: 0.01, rss_bytes: 9 * MIB, rss_at_secs: 0.03 },
            totals: Totals { allocations: 1_234, allocated_bytes: 200_000, samples: 0 },
            frames: vec![],
            stacks: vec![],
            peak_sites: vec![],
            allocated_sites: vec![],
            leak_sites: vec![],
            leaked_bytes: 0,
            kept_by_imports_bytes: 0,
            import_sites: vec![],
            native: None,
            timeline: vec![
                MemPoint { t_secs: 0.0, traced_bytes: 0, rss_bytes: 8 * MIB },
                MemPoint { t_secs: 0.04, traced_bytes: 150_000, rss_bytes: 9 * MIB },
            ],
            budgets: vec![],
            notes: vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_quoted_when_needed() {
        let cmd = |args: &[&str]| command_line(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(cmd(&["python3", "app.py", "--rows=10"]), "python3 app.py --rows=10");
        assert_eq!(cmd(&["python3", "-c", "print(1)"]), "python3 -c 'print(1)'");
        assert_eq!(cmd(&["echo", "it's", ""]), "echo 'it'\\''s' ''");
    }

    #[test]
    fn files_keep_two_components() {
        assert_eq!(short_file("/srv/app/models/db.py"), "models/db.py");
        assert_eq!(short_file("models/db.py"), "models/db.py");
        assert_eq!(short_file("db.py"), "db.py");
        assert_eq!(short_file("<frozen importlib._bootstrap>"), "<frozen importlib._bootstrap>");
        assert_eq!(short_file("C:\\app\\pkg\\mod.py"), "pkg\\mod.py");
    }

    #[test]
    fn formats_have_distinct_extensions() {
        use MemFormat::*;
        let all = [Text, Json, Flamegraph, FlamegraphAllocated, FlamegraphLeaks, Speedscope, Pprof, Plot];
        let mut seen = std::collections::HashSet::new();
        for f in all {
            assert!(seen.insert(f.extension()), "{f:?}");
            assert_eq!(f.is_binary(), f == Pprof);
        }
    }

    #[test]
    fn json_round_trips() {
        let report = fixture::report();
        let text = json(&report).unwrap();
        assert!(text.ends_with("}\n"));
        let back: MemReport = serde_json::from_str(&text).unwrap();
        assert_eq!(back, report);
        assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap()["schema"], "tachy-mem/1");
    }

    #[test]
    fn render_dispatches_every_format() {
        use MemFormat::*;
        let report = fixture::report();
        for f in [Text, Json, Flamegraph, FlamegraphAllocated, FlamegraphLeaks, Speedscope, Pprof, Plot] {
            let out = render(&report, f, false).unwrap();
            assert!(!out.is_empty(), "{f:?}");
            if !f.is_binary() {
                assert!(std::str::from_utf8(&out).is_ok(), "{f:?}");
            }
        }
        let empty = fixture::unsampled();
        assert!(matches!(render(&empty, Flamegraph, false), Err(MemRenderError::Empty(_))));
        assert!(render(&empty, Text, false).is_ok());
        assert!(render(&empty, Plot, false).is_ok());
        assert!(render(&empty, Pprof, false).is_ok());
    }
}
