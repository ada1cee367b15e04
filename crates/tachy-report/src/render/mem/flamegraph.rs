//! Memory flamegraphs: collapsed stacks weighted by estimated bytes, drawn by inferno.

use std::collections::BTreeMap;
use std::fmt::Write;

use inferno::flamegraph::{self, Options};

use super::{MemRenderError, MemView, frame_label};
use crate::mem::MemReport;
use crate::render::common::bytes;
use crate::render::profile::ProfileRenderError;

/// Collapsed stacks of one view: one `root;...;leaf bytes` line per distinct stack, sorted,
/// each frame `function (file:line)` with the file shortened to its last two components.
/// Stacks with no bytes in the view are left out.
pub fn collapsed(report: &MemReport, view: MemView) -> String {
    let mut lines: BTreeMap<String, u64> = BTreeMap::new();
    for stack in &report.stacks {
        let value = view.bytes(stack);
        if value == 0 {
            continue;
        }
        let names: Vec<String> = stack
            .frames
            .iter()
            .rev()
            .map(|&f| report.frames.get(f as usize).map_or_else(|| "?".to_string(), frame_label))
            .map(|label| label.replace([';', '\n', '\r'], ","))
            .collect();
        let key = if names.is_empty() { "(no Python frame)".to_string() } else { names.join(";") };
        let line = lines.entry(key).or_default();
        *line = line.saturating_add(value);
    }
    let mut out = String::new();
    for (stack, value) in lines {
        let _ = writeln!(out, "{stack} {value}");
    }
    out
}

/// Draws the flamegraph of one view (self-contained SVG with inferno's search).
pub fn flamegraph(report: &MemReport, view: MemView) -> Result<Vec<u8>, MemRenderError> {
    let lines = collapsed(report, view);
    if lines.is_empty() {
        return Err(MemRenderError::Empty(format!("no allocation sampled for this view ({})", view.describe())));
    }
    let total = report.stacks.iter().fold(0u64, |sum, s| sum.saturating_add(view.bytes(s)));
    let mut opts = Options::default();
    opts.title = format!("tachy mem: {}", super::command_line(&report.command));
    let how = if report.sample_bytes == 0 { "exact" } else { "estimated from samples" };
    opts.subtitle = Some(format!("{}: {} ({how})", view.describe(), bytes(total)));
    opts.count_name = "bytes".to_string();
    opts.colors = flamegraph::Palette::Multi(flamegraph::color::MultiPalette::Python);
    crate::render::profile::flamegraph::draw(&mut opts, &lines).map_err(|e| match e {
        ProfileRenderError::Flamegraph(msg) => MemRenderError::Flamegraph(msg),
        other => MemRenderError::Flamegraph(other.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::mem::fixture;

    #[test]
    fn collapsed_peak() {
        insta::assert_snapshot!("collapsed_peak", collapsed(&fixture::report(), MemView::Peak));
    }

    #[test]
    fn collapsed_allocated() {
        insta::assert_snapshot!("collapsed_allocated", collapsed(&fixture::report(), MemView::Allocated));
    }

    #[test]
    fn collapsed_leaks() {
        insta::assert_snapshot!("collapsed_leaks", collapsed(&fixture::report(), MemView::Leaks));
    }

    #[test]
    fn collapsed_values_add_up_to_the_view() {
        let report = fixture::report();
        for view in [MemView::Peak, MemView::Allocated, MemView::Leaks] {
            let sum: u64 =
                collapsed(&report, view).lines().map(|l| l.rsplit_once(' ').unwrap().1.parse::<u64>().unwrap()).sum();
            assert_eq!(sum, report.stacks.iter().map(|s| view.bytes(s)).sum::<u64>(), "{view:?}");
        }
    }

    #[test]
    fn svg_has_title_subtitle_and_bytes() {
        let mut report = fixture::report();
        report.command = vec!["python3".into(), "a&b<c>.py".into()];
        let svg = String::from_utf8(flamegraph(&report, MemView::Peak).unwrap()).unwrap();
        assert!(svg.starts_with("<?xml"));
        assert!(svg.contains("tachy mem: python3 &apos;a&amp;b&lt;c&gt;.py&apos;"), "the title is escaped");
        assert!(svg.contains("live at the peak: 114 MiB (estimated from samples)"));
        assert!(svg.contains("load_rows (models/db.py:42)"));
        assert!(svg.contains("bytes"));
    }

    #[test]
    fn an_empty_view_is_an_error() {
        let mut report = fixture::report();
        for s in &mut report.stacks {
            s.leaked_bytes = 0;
        }
        let err = flamegraph(&report, MemView::Leaks).unwrap_err();
        assert!(matches!(err, MemRenderError::Empty(_)));
        assert!(err.to_string().starts_with("no allocation sampled for this view"), "{err}");
        assert!(flamegraph(&fixture::unsampled(), MemView::Peak).is_err());
    }
}
