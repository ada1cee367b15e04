//! pprof heap profile of a memory report: the gzipped `profile.proto` read by `go tool pprof`,
//! Pyroscope and Parca, with the sample types of Go heap profiles
//! (`alloc_objects`, `alloc_space`, `inuse_objects`, `inuse_space`; in use = live at the peak).

use super::MemRenderError;
use crate::mem::MemReport;
use crate::render::profile::pprof::{
    PprofProfile, Sample, Strings, ValueType, encode_gzipped, functions_and_locations,
};

/// `perftools.profiles.Profile`: the CPU renderer's message, whose `comment` and
/// `default_sample_type` a heap profile sets.
pub type MemPprofProfile = PprofProfile;

/// Builds the pprof message (not compressed).
pub fn build_pprof(report: &MemReport) -> MemPprofProfile {
    let mut strings = Strings::new();
    let mut value_type = |t: &str, u: &str| ValueType { r#type: strings.get(t), unit: strings.get(u) };
    let sample_type = vec![
        value_type("alloc_objects", "count"),
        value_type("alloc_space", "bytes"),
        value_type("inuse_objects", "count"),
        value_type("inuse_space", "bytes"),
    ];
    let period_type = Some(value_type("space", "bytes"));
    let default_sample_type = sample_type[3].r#type;

    let tables = functions_and_locations(
        &mut strings,
        report.frames.iter().map(|f| (f.function.as_str(), f.file.as_str(), i64::from(f.line))),
    );

    let sample = report
        .stacks
        .iter()
        .filter(|s| s.allocated_bytes > 0 || s.peak_bytes > 0 || s.allocations > 0)
        .map(|s| {
            // Objects live at the peak: the stack's allocations in proportion to its bytes.
            let inuse_objects = if s.allocated_bytes > 0 {
                (s.allocations as f64 * (s.peak_bytes as f64 / s.allocated_bytes as f64)).round() as i64
            } else {
                0
            };
            Sample {
                // Leaf first, like the report's stacks.
                location_id: s
                    .frames
                    .iter()
                    .filter(|&&f| (f as usize) < report.frames.len())
                    .map(|&f| u64::from(f) + 1)
                    .collect(),
                value: vec![s.allocations as i64, s.allocated_bytes as i64, inuse_objects, s.peak_bytes as i64],
                label: vec![],
            }
        })
        .collect();

    let comment = vec![strings.get(&format!("tachy mem: {}", super::command_line(&report.command)))];
    PprofProfile {
        period_type,
        period: report.sample_bytes as i64,
        comment,
        default_sample_type,
        ..PprofProfile::new(strings, tables, sample_type, sample, &report.started_at, report.duration_secs)
    }
}

/// Renders the gzipped protobuf.
pub fn pprof(report: &MemReport) -> Result<Vec<u8>, MemRenderError> {
    Ok(encode_gzipped(&build_pprof(report))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::mem::fixture;
    use crate::render::profile::pprof::decode_gzipped as decode;

    #[test]
    fn decodes_back_with_prost() {
        let report = fixture::report();
        let back = decode(&pprof(&report).unwrap());
        let s = |i: i64| back.string_table[i as usize].as_str();
        assert_eq!(s(0), "");
        let types: Vec<(&str, &str)> = back.sample_type.iter().map(|t| (s(t.r#type), s(t.unit))).collect();
        assert_eq!(
            types,
            [
                ("alloc_objects", "count"),
                ("alloc_space", "bytes"),
                ("inuse_objects", "count"),
                ("inuse_space", "bytes")
            ]
        );
        assert_eq!(s(back.default_sample_type), "inuse_space");
        assert_eq!(back.period, 256 * 1024);
        assert!(back.time_nanos > 0);
        let column = |i: usize| back.sample.iter().map(|x| x.value[i]).sum::<i64>() as u64;
        assert_eq!(column(1), report.stacks.iter().map(|x| x.allocated_bytes).sum::<u64>());
        assert_eq!(column(3), report.stacks.iter().map(|x| x.peak_bytes).sum::<u64>());
        // Objects in use are scaled by the share of the stack's bytes still live at the peak.
        assert_eq!(back.sample[0].value[2], 80_000);
        // Leaf first, with line numbers.
        let hottest = back.sample.iter().max_by_key(|x| x.value[3]).unwrap();
        let loc = &back.location[(hottest.location_id[0] - 1) as usize];
        assert_eq!(loc.line[0].line, 42);
        let func = &back.function[(loc.line[0].function_id - 1) as usize];
        assert_eq!(s(func.name), "load_rows");
        assert_eq!(s(func.filename), "/srv/app/models/db.py");
    }

    #[test]
    fn an_unsampled_report_still_decodes() {
        let back = decode(&pprof(&fixture::unsampled()).unwrap());
        assert_eq!(back.sample_type.len(), 4);
        assert!(back.sample.is_empty());
    }
}
