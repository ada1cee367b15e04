//! speedscope JSON of a memory report: one "sampled" profile per view (live at the peak,
//! allocated, and leaked when anything leaked), weighted in bytes, over a shared frame table.

use serde::Serialize;

use super::{MemRenderError, MemView};
use crate::mem::MemReport;

#[derive(Serialize)]
struct Doc<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    name: String,
    exporter: String,
    #[serde(rename = "activeProfileIndex")]
    active_profile_index: usize,
    shared: Shared<'a>,
    profiles: Vec<Sampled>,
}

#[derive(Serialize)]
struct Shared<'a> {
    frames: Vec<Frame<'a>>,
}

#[derive(Serialize)]
struct Frame<'a> {
    name: &'a str,
    file: &'a str,
    line: u32,
}

#[derive(Serialize)]
struct Sampled {
    #[serde(rename = "type")]
    kind: &'static str,
    name: &'static str,
    unit: &'static str,
    #[serde(rename = "startValue")]
    start_value: u64,
    #[serde(rename = "endValue")]
    end_value: u64,
    samples: Vec<Vec<u32>>,
    weights: Vec<u64>,
}

fn profile(report: &MemReport, view: MemView, name: &'static str) -> Sampled {
    let mut samples = Vec::new();
    let mut weights = Vec::new();
    for stack in &report.stacks {
        let w = view.bytes(stack);
        if w == 0 {
            continue;
        }
        // speedscope stacks are root first; the report's are innermost first.
        samples.push(stack.frames.iter().rev().copied().filter(|&f| (f as usize) < report.frames.len()).collect());
        weights.push(w);
    }
    let total = weights.iter().sum();
    Sampled { kind: "sampled", name, unit: "bytes", start_value: 0, end_value: total, samples, weights }
}

/// Renders the report as a speedscope file.
pub fn speedscope(report: &MemReport) -> Result<Vec<u8>, MemRenderError> {
    let frames = report.frames.iter().map(|f| Frame { name: &f.function, file: &f.file, line: f.line }).collect();
    let mut profiles =
        vec![profile(report, MemView::Peak, "live at peak"), profile(report, MemView::Allocated, "allocated")];
    if report.stacks.iter().any(|s| s.leaked_bytes > 0) {
        profiles.push(profile(report, MemView::Leaks, "leaked"));
    }
    let doc = Doc {
        schema: "https://www.speedscope.app/file-format-schema.json",
        name: format!("tachy mem: {}", super::command_line(&report.command)),
        exporter: format!("tachy {}", report.tachy_version),
        active_profile_index: 0,
        shared: Shared { frames },
        profiles,
    };
    Ok(serde_json::to_vec(&doc)?)
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
