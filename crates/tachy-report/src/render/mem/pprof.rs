//! pprof heap profile of a memory report: the gzipped `profile.proto` read by `go tool pprof`,
//! Pyroscope and Parca, with the sample types of Go heap profiles
//! (`alloc_objects`, `alloc_space`, `inuse_objects`, `inuse_space`; in use = live at the peak).

use std::collections::HashMap;
use std::io::Write;

use prost::Message;

use super::MemRenderError;
use crate::mem::MemReport;
use crate::render::profile::pprof::{Function, Line, Location, Sample, ValueType};

/// `perftools.profiles.Profile` with the fields a heap profile uses, including
/// `default_sample_type` (the CPU renderer's message has no use for it).
#[derive(Clone, PartialEq, Message)]
pub struct MemPprofProfile {
    /// What each sample value means.
    #[prost(message, repeated, tag = "1")]
    pub sample_type: Vec<ValueType>,
    /// Samples, one per stack.
    #[prost(message, repeated, tag = "2")]
    pub sample: Vec<Sample>,
    /// Locations (one per frame).
    #[prost(message, repeated, tag = "4")]
    pub location: Vec<Location>,
    /// Functions.
    #[prost(message, repeated, tag = "5")]
    pub function: Vec<Function>,
    /// Strings referenced by index; index 0 is "".
    #[prost(string, repeated, tag = "6")]
    pub string_table: Vec<String>,
    /// Collection time (ns since the epoch).
    #[prost(int64, tag = "9")]
    pub time_nanos: i64,
    /// Duration of the profile (ns).
    #[prost(int64, tag = "10")]
    pub duration_nanos: i64,
    /// The kind of events between samples.
    #[prost(message, optional, tag = "11")]
    pub period_type: Option<ValueType>,
    /// Events between samples (mean bytes between samples).
    #[prost(int64, tag = "12")]
    pub period: i64,
    /// Free-form comments (string indices).
    #[prost(int64, repeated, tag = "13")]
    pub comment: Vec<i64>,
    /// Index into the string table of the sample type shown by default.
    #[prost(int64, tag = "14")]
    pub default_sample_type: i64,
}

#[derive(Default)]
struct Strings {
    table: Vec<String>,
    index: HashMap<String, i64>,
}

impl Strings {
    fn new() -> Self {
        let mut s = Strings::default();
        s.get("");
        s
    }

    fn get(&mut self, v: &str) -> i64 {
        if let Some(&i) = self.index.get(v) {
            return i;
        }
        let i = self.table.len() as i64;
        self.table.push(v.to_string());
        self.index.insert(v.to_string(), i);
        i
    }
}

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

    let mut functions: Vec<Function> = Vec::new();
    let mut function_ids: HashMap<(&str, &str), u64> = HashMap::new();
    let mut locations = Vec::with_capacity(report.frames.len());
    for (i, f) in report.frames.iter().enumerate() {
        let id = *function_ids.entry((f.function.as_str(), f.file.as_str())).or_insert_with(|| {
            let id = functions.len() as u64 + 1;
            let name = strings.get(&f.function);
            functions.push(Function {
                id,
                name,
                system_name: name,
                filename: strings.get(&f.file),
                start_line: i64::from(f.line),
            });
            id
        });
        let func = &mut functions[(id - 1) as usize];
        if f.line > 0 && (func.start_line <= 0 || i64::from(f.line) < func.start_line) {
            func.start_line = i64::from(f.line);
        }
        locations.push(Location { id: i as u64 + 1, line: vec![Line { function_id: id, line: i64::from(f.line) }] });
    }

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
    let time_nanos = humantime::parse_rfc3339(&report.started_at)
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i64);
    MemPprofProfile {
        sample_type,
        sample,
        location: locations,
        function: functions,
        string_table: strings.table,
        time_nanos,
        duration_nanos: (report.duration_secs * 1e9) as i64,
        period_type,
        period: report.sample_bytes as i64,
        comment,
        default_sample_type,
    }
}

/// Renders the gzipped protobuf.
pub fn pprof(report: &MemReport) -> Result<Vec<u8>, MemRenderError> {
    let bytes = build_pprof(report).encode_to_vec();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&bytes)?;
    Ok(gz.finish()?)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::render::mem::fixture;

    fn decode(gz: &[u8]) -> MemPprofProfile {
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(gz).read_to_end(&mut raw).unwrap();
        MemPprofProfile::decode(raw.as_slice()).unwrap()
    }

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
