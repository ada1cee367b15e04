//! speedscope JSON of a memory report: one "sampled" profile per view (live at the peak,
//! allocated, and leaked when anything leaked), weighted in bytes, over a shared frame table.

use std::borrow::Cow;

use super::{MemRenderError, MemView};
use crate::mem::MemReport;
use crate::render::profile::speedscope::{Frame, Sampled, document};

/// The profile of one view: a sample per stack with bytes in it, weighted in bytes.
fn profile(report: &MemReport, view: MemView, name: &str) -> Sampled<'static, u64> {
    let mut samples = Vec::new();
    let mut weights = Vec::new();
    for stack in &report.stacks {
        let w = view.bytes(stack);
        if w == 0 {
            continue;
        }
        // speedscope stacks are root first; the report's are innermost first.
        samples.push(Cow::Owned(
            stack.frames.iter().rev().copied().filter(|&f| (f as usize) < report.frames.len()).collect(),
        ));
        weights.push(w);
    }
    let total = weights.iter().fold(0u64, |sum, &w| sum.saturating_add(w));
    Sampled::new(name.to_string(), "bytes", (0, total), samples, weights)
}

/// Renders the report as a speedscope file.
pub fn speedscope(report: &MemReport) -> Result<Vec<u8>, MemRenderError> {
    let frames =
        report.frames.iter().map(|f| Frame { name: &f.function, file: &f.file, line: i64::from(f.line) }).collect();
    let mut profiles =
        vec![profile(report, MemView::Peak, "live at peak"), profile(report, MemView::Allocated, "allocated")];
    if report.stacks.iter().any(|s| s.leaked_bytes > 0) {
        profiles.push(profile(report, MemView::Leaks, "leaked"));
    }
    let name = format!("tachy mem: {}", super::command_line(&report.command));
    Ok(document(name, format!("tachy {}", report.tachy_version), frames, profiles)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::mem::fixture;

    #[test]
    fn follows_the_speedscope_schema() {
        let report = fixture::report();
        let v: serde_json::Value = serde_json::from_slice(&speedscope(&report).unwrap()).unwrap();
        assert_eq!(v["$schema"], "https://www.speedscope.app/file-format-schema.json");
        let frames = v["shared"]["frames"].as_array().unwrap();
        assert_eq!(frames.len(), report.frames.len());
        let profiles = v["profiles"].as_array().unwrap();
        let names: Vec<&str> = profiles.iter().map(|p| p["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["live at peak", "allocated", "leaked"]);
        for (p, view) in profiles.iter().zip([MemView::Peak, MemView::Allocated, MemView::Leaks]) {
            assert_eq!(p["type"], "sampled");
            assert_eq!(p["unit"], "bytes");
            let samples = p["samples"].as_array().unwrap();
            let weights = p["weights"].as_array().unwrap();
            assert_eq!(samples.len(), weights.len());
            let total: u64 = weights.iter().map(|w| w.as_u64().unwrap()).sum();
            assert_eq!(total, report.stacks.iter().map(|s| view.bytes(s)).sum::<u64>());
            assert_eq!(p["endValue"].as_u64().unwrap(), total);
            for s in samples {
                for idx in s.as_array().unwrap() {
                    assert!((idx.as_u64().unwrap() as usize) < frames.len());
                }
            }
        }
        // Root first: the first stack of the peak view starts at `<module>` and ends at `load_rows`.
        let first: Vec<u64> =
            profiles[0]["samples"][0].as_array().unwrap().iter().map(|i| i.as_u64().unwrap()).collect();
        assert_eq!(first, [3, 2, 0]);
    }

    #[test]
    fn no_leak_profile_without_leaks() {
        let v: serde_json::Value = serde_json::from_slice(&speedscope(&fixture::unsampled()).unwrap()).unwrap();
        assert_eq!(v["profiles"].as_array().unwrap().len(), 2);
    }
}
