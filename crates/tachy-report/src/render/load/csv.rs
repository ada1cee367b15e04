//! The per-second timeline of a load test as CSV (`--export-csv`): one row per second,
//! latencies in milliseconds, without the per-second HdrHistogram.

use crate::load::LoadReport;
use crate::render::RenderError;

/// The columns, in order.
const HEADER: [&str; 11] = [
    "second",
    "requests",
    "errors",
    "timeouts",
    "bytes_received",
    "connections",
    "target_rate",
    "mean_ms",
    "p50_ms",
    "p99_ms",
    "max_ms",
];

/// Renders the timeline: a header row, then one row per timeline point. `target_rate` is empty
/// in the closed model.
pub fn timeline_csv(report: &LoadReport) -> Result<Vec<u8>, RenderError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(HEADER)?;
    for p in &report.timeline {
        w.write_record([
            p.second.to_string(),
            p.requests.to_string(),
            p.errors.to_string(),
            p.timeouts.to_string(),
            p.bytes_received.to_string(),
            p.connections.to_string(),
            p.target_rate.map(|r| r.to_string()).unwrap_or_default(),
            p.mean_ms.to_string(),
            p.p50_ms.to_string(),
            p.p99_ms.to_string(),
            p.max_ms.to_string(),
        ])?;
    }
    w.into_inner().map_err(|e| RenderError::Csv(csv::Error::from(e.into_error())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::load::fixture;

    #[test]
    fn rows_parse_back() {
        let report = fixture::open();
        let bytes = timeline_csv(&report).unwrap();
        let mut r = csv::Reader::from_reader(bytes.as_slice());
        let headers: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
        assert_eq!(headers, HEADER);
        let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), report.timeline.len());
        for (row, p) in rows.iter().zip(&report.timeline) {
            assert_eq!(row[0].parse::<u64>().unwrap(), p.second);
            assert_eq!(row[1].parse::<u64>().unwrap(), p.requests);
            assert_eq!(row[2].parse::<u64>().unwrap(), p.errors);
            assert_eq!(row[6].parse::<f64>().ok(), p.target_rate);
            assert_eq!(row[9].parse::<f64>().unwrap(), p.p99_ms);
        }
    }

    #[test]
    fn closed_model_leaves_the_target_rate_empty() {
        let bytes = timeline_csv(&fixture::closed()).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.lines().nth(1).unwrap().contains(",50,,"));
        insta::assert_snapshot!("timeline", text);
    }

    #[test]
    fn an_empty_timeline_is_just_the_header() {
        let mut report = fixture::closed();
        report.timeline.clear();
        let text = String::from_utf8(timeline_csv(&report).unwrap()).unwrap();
        assert_eq!(text, format!("{}\n", HEADER.join(",")));
    }
}
