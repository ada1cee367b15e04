//! `--hdr-log FILE`: the per-second latency histograms as an HdrHistogram interval log (the
//! format of Java's `HistogramLogWriter`, read by HdrHistogram's log processors and plotters),
//! values in microseconds, with a max-value divisor of 1000 so the max column reads in ms.

use std::path::Path;
use std::time::{Duration, SystemTime};

use hdrhistogram::serialization::V2DeflateSerializer;
use hdrhistogram::serialization::interval_log::IntervalLogWriterBuilder;
use tachy_report::load::LoadReport;

use crate::{LoadError, hdr};

/// Renders the interval log of a report.
pub fn render(report: &LoadReport) -> Result<Vec<u8>, String> {
    let start = humantime::parse_rfc3339(&report.started_at).unwrap_or(SystemTime::UNIX_EPOCH);
    let mut out = Vec::new();
    let mut serializer = V2DeflateSerializer::new();
    {
        let mut builder = IntervalLogWriterBuilder::new();
        builder
            .add_comment(&format!("tachy load {} {}, latencies in microseconds", report.tachy_version, report.run.url))
            .with_start_time(start)
            .with_base_time(start)
            .with_max_value_divisor(1000.0);
        let mut log = builder.begin_log_with(&mut out, &mut serializer).map_err(|e| e.to_string())?;
        for p in &report.timeline {
            let h = hdr::decode(&p.latency_hdr)?;
            log.write_histogram(&h, Duration::from_secs(p.second), Duration::from_secs(1), None)
                .map_err(|e| e.to_string())?;
        }
    }
    Ok(out)
}

/// Writes the interval log of a report to `path`.
pub fn write(report: &LoadReport, path: &Path) -> Result<(), LoadError> {
    let bytes = render(report).map_err(|e| LoadError::Write { path: path.into(), source: std::io::Error::other(e) })?;
    std::fs::write(path, bytes).map_err(|source| LoadError::Write { path: path.into(), source })
}

#[cfg(test)]
mod tests {
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};

    use super::*;

    #[test]
    fn the_log_parses_back() {
        let mut h = hdr::new(hdr::SIGFIG_INTERVAL);
        h.record(1500).unwrap();
        let report: LoadReport = LoadReport {
            started_at: "2026-01-01T00:00:00Z".into(),
            timeline: vec![crate::report::point(0, &Default::default(), &h, 1, None)],
            ..crate::tests::empty_report()
        };
        let bytes = render(&report).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains("#[StartTime: "), "{text}");
        let intervals = IntervalLogIterator::new(&bytes)
            .filter_map(Result::ok)
            .filter(|e| matches!(e, LogEntry::Interval(_)))
            .count();
        assert_eq!(intervals, 1);
    }
}
