//! pprof: the gzipped `profile.proto` protobuf read by `go tool pprof`, Pyroscope and Parca.
//!
//! The message types below mirror
//! <https://github.com/google/pprof/blob/main/proto/profile.proto> (the fields tachy uses).

use std::collections::HashMap;
use std::io::Write;

use prost::Message;

use super::ProfileRenderError;
use crate::profile::Profile;

/// `perftools.profiles.Profile`.
#[derive(Clone, PartialEq, Message)]
pub struct PprofProfile {
    /// What each sample value means.
    #[prost(message, repeated, tag = "1")]
    pub sample_type: Vec<ValueType>,
    /// Samples.
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
    /// Events between samples.
    #[prost(int64, tag = "12")]
    pub period: i64,
    /// Free-form comments (string indices); none in a CPU profile.
    #[prost(int64, repeated, tag = "13")]
    pub comment: Vec<i64>,
    /// Index into the string table of the sample type shown by default; 0 (unset, the last
    /// type) in a CPU profile.
    #[prost(int64, tag = "14")]
    pub default_sample_type: i64,
}

impl PprofProfile {
    /// A profile of `sample_type` and `sample` over the string table `strings` and the
    /// `(functions, locations)` of [`functions_and_locations`], collected from `started_at`
    /// (RFC 3339) for `duration_secs`; no period, comment or default sample type.
    pub(crate) fn new(
        strings: Strings,
        (function, location): (Vec<Function>, Vec<Location>),
        sample_type: Vec<ValueType>,
        sample: Vec<Sample>,
        started_at: &str,
        duration_secs: f64,
    ) -> Self {
        PprofProfile {
            sample_type,
            sample,
            location,
            function,
            string_table: strings.table,
            time_nanos: time_nanos(started_at),
            duration_nanos: (duration_secs * 1e9) as i64,
            period_type: None,
            period: 0,
            comment: vec![],
            default_sample_type: 0,
        }
    }
}

/// `ValueType`: string-table indices of a type and a unit.
#[derive(Clone, PartialEq, Message)]
pub struct ValueType {
    /// Type, e.g. "samples".
    #[prost(int64, tag = "1")]
    pub r#type: i64,
    /// Unit, e.g. "count".
    #[prost(int64, tag = "2")]
    pub unit: i64,
}

/// `Sample`: a stack (leaf first) with values.
#[derive(Clone, PartialEq, Message)]
pub struct Sample {
    /// Location ids, leaf first.
    #[prost(uint64, repeated, tag = "1")]
    pub location_id: Vec<u64>,
    /// One value per sample type.
    #[prost(int64, repeated, tag = "2")]
    pub value: Vec<i64>,
    /// Labels (thread, pid).
    #[prost(message, repeated, tag = "3")]
    pub label: Vec<Label>,
}

/// `Label`.
#[derive(Clone, PartialEq, Message)]
pub struct Label {
    /// Key (string index).
    #[prost(int64, tag = "1")]
    pub key: i64,
    /// String value (string index).
    #[prost(int64, tag = "2")]
    pub str: i64,
    /// Numeric value.
    #[prost(int64, tag = "3")]
    pub num: i64,
}

/// `Location`.
#[derive(Clone, PartialEq, Message)]
pub struct Location {
    /// Id (non-zero).
    #[prost(uint64, tag = "1")]
    pub id: u64,
    /// Lines (one: Python frames are not inlined).
    #[prost(message, repeated, tag = "4")]
    pub line: Vec<Line>,
}

/// `Line`.
#[derive(Clone, PartialEq, Message)]
pub struct Line {
    /// Function id.
    #[prost(uint64, tag = "1")]
    pub function_id: u64,
    /// Line number.
    #[prost(int64, tag = "2")]
    pub line: i64,
}

/// `Function`.
#[derive(Clone, PartialEq, Message)]
pub struct Function {
    /// Id (non-zero).
    #[prost(uint64, tag = "1")]
    pub id: u64,
    /// Name (string index).
    #[prost(int64, tag = "2")]
    pub name: i64,
    /// System name (string index).
    #[prost(int64, tag = "3")]
    pub system_name: i64,
    /// File (string index).
    #[prost(int64, tag = "4")]
    pub filename: i64,
    /// First line seen.
    #[prost(int64, tag = "5")]
    pub start_line: i64,
}

/// The string table under construction: each distinct string once, index 0 being "".
#[derive(Default)]
pub(crate) struct Strings {
    /// The strings in index order.
    pub(crate) table: Vec<String>,
    /// The index of each string in `table`.
    index: HashMap<String, i64>,
}

impl Strings {
    /// A table holding only "" (index 0).
    pub(crate) fn new() -> Self {
        let mut s = Strings::default();
        s.get("");
        s
    }

    /// The index of `v`, added to the table when new.
    pub(crate) fn get(&mut self, v: &str) -> i64 {
        if let Some(&i) = self.index.get(v) {
            return i;
        }
        let i = self.table.len() as i64;
        self.table.push(v.to_string());
        self.index.insert(v.to_string(), i);
        i
    }
}

/// The functions and locations of a frame table given as `(function, file, line)`: one
/// location per frame (id = frame index + 1, so a stack's location ids are its frame indices
/// plus one), one function per distinct `(function, file)` with the lowest positive line seen.
pub(crate) fn functions_and_locations<'a>(
    strings: &mut Strings,
    frames: impl ExactSizeIterator<Item = (&'a str, &'a str, i64)>,
) -> (Vec<Function>, Vec<Location>) {
    let mut functions: Vec<Function> = Vec::new();
    let mut function_ids: HashMap<(&str, &str), u64> = HashMap::new();
    let mut locations = Vec::with_capacity(frames.len());
    for (i, (function, file, line)) in frames.enumerate() {
        let id = *function_ids.entry((function, file)).or_insert_with(|| {
            let id = functions.len() as u64 + 1;
            let name = strings.get(function);
            functions.push(Function { id, name, system_name: name, filename: strings.get(file), start_line: line });
            id
        });
        let func = &mut functions[(id - 1) as usize];
        if line > 0 && (func.start_line <= 0 || line < func.start_line) {
            func.start_line = line;
        }
        locations.push(Location { id: i as u64 + 1, line: vec![Line { function_id: id, line }] });
    }
    (functions, locations)
}

/// Nanoseconds since the epoch of an RFC 3339 time, 0 when it cannot be read.
fn time_nanos(rfc3339: &str) -> i64 {
    humantime::parse_rfc3339(rfc3339)
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i64)
}

/// The message encoded and gzipped, as pprof files are stored.
pub(crate) fn encode_gzipped(profile: &PprofProfile) -> std::io::Result<Vec<u8>> {
    let bytes = profile.encode_to_vec();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&bytes)?;
    gz.finish()
}

/// Builds the pprof message (not compressed).
pub fn build(profile: &Profile) -> PprofProfile {
    let mut strings = Strings::new();
    let rate = profile.meta.effective_rate();
    let period = if rate > 0.0 { (1e9 / rate) as i64 } else { 10_000_000 };
    let sample_type = vec![
        ValueType { r#type: strings.get("samples"), unit: strings.get("count") },
        ValueType { r#type: strings.get("cpu"), unit: strings.get("nanoseconds") },
    ];
    let period_type = Some(ValueType { r#type: strings.get("cpu"), unit: strings.get("nanoseconds") });
    let tables = functions_and_locations(
        &mut strings,
        profile.frames.iter().map(|f| (f.function.as_str(), f.file.as_str(), i64::from(f.line))),
    );
    let thread_key = strings.get("thread");
    let pid_key = strings.get("pid");
    let thread_labels: Vec<i64> = profile.threads.iter().map(|t| strings.get(&t.label())).collect();
    let sample = profile
        .stacks
        .iter()
        .map(|s| {
            let mut labels = Vec::new();
            if let (Some(&l), Some(t)) = (thread_labels.get(s.thread as usize), profile.threads.get(s.thread as usize))
            {
                labels.push(Label { key: thread_key, str: l, num: 0 });
                labels.push(Label { key: pid_key, str: 0, num: i64::from(t.pid) });
            }
            Sample {
                location_id: s.frames.iter().rev().map(|&f| u64::from(f) + 1).collect(),
                value: {
                    let count = i64::try_from(s.count).unwrap_or(i64::MAX);
                    vec![count, count.saturating_mul(period)]
                },
                label: labels,
            }
        })
        .collect();
    let meta = &profile.meta;
    PprofProfile {
        period_type,
        period,
        ..PprofProfile::new(strings, tables, sample_type, sample, &meta.started_at, meta.duration_secs)
    }
}

/// Renders the gzipped protobuf.
pub fn render(profile: &Profile) -> Result<Vec<u8>, ProfileRenderError> {
    Ok(encode_gzipped(&build(profile))?)
}

/// Decodes a gzipped pprof file back into its message (for tests).
#[cfg(test)]
pub(crate) fn decode_gzipped(gz: &[u8]) -> PprofProfile {
    use std::io::Read;

    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(gz).read_to_end(&mut raw).unwrap();
    PprofProfile::decode(raw.as_slice()).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_back_with_prost() {
        let p = crate::profile::fixture::profile();
        let back = decode_gzipped(&render(&p).unwrap());
        assert_eq!(back.string_table[0], "");
        assert_eq!(back.string_table[back.sample_type[0].r#type as usize], "samples");
        let total: i64 = back.sample.iter().map(|s| s.value[0]).sum();
        assert_eq!(total as u64, p.total_samples());
        // Leaf first: the hottest sample's first location is `work`.
        let hottest = back.sample.iter().max_by_key(|s| s.value[0]).unwrap();
        let loc = &back.location[(hottest.location_id[0] - 1) as usize];
        let func = &back.function[(loc.line[0].function_id - 1) as usize];
        assert_eq!(back.string_table[func.name as usize], "work");
        assert_eq!(back.period, 10_050_251);
        assert!(back.time_nanos > 0);
    }
}
