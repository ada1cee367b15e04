//! The per-sample timeline of a watch, streamed while watching: one CSV row of the tree's
//! totals per sample (`--csv`), or each whole sample as one JSON line (`--jsonl`).

use crate::watch::Sample;

/// The CSV columns, in order.
const COLUMNS: [&str; 21] = [
    "t_secs",
    "time",
    "pid",
    "processes",
    "cpu_user_percent",
    "cpu_system_percent",
    "rss_bytes",
    "uss_bytes",
    "pss_bytes",
    "swap_bytes",
    "vms_bytes",
    "threads",
    "fds",
    "tcp_total",
    "read_bytes",
    "write_bytes",
    "ctx_voluntary",
    "ctx_involuntary",
    "minor_faults",
    "major_faults",
    "growth_bytes_per_hour",
];

/// The CSV header line, newline-terminated.
pub fn csv_header() -> String {
    let mut s = COLUMNS.join(",");
    s.push('\n');
    s
}

/// A float with at most `digits` decimals and no trailing zeros: `41.25`, `3`, `0.001`.
fn decimal(v: f64, digits: usize) -> String {
    if !v.is_finite() {
        return String::new();
    }
    let s = format!("{v:.digits$}");
    let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.') } else { &s };
    if s == "-0" { "0".into() } else { s.into() }
}

/// A cell quoted when it holds a comma, a quote or a line break.
fn cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() }
}

/// One CSV row of a sample's totals, newline-terminated; a figure that could not be read is an
/// empty cell. `pid` is the root process, `processes` how many were summed,
/// `growth_bytes_per_hour` the current growth estimate (empty until there are enough samples).
pub fn csv_row(sample: &Sample) -> String {
    let m = &sample.total;
    let int = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
    let float = |v: Option<f64>, d: usize| v.map(|v| decimal(v, d)).unwrap_or_default();
    let cells = [
        decimal(sample.t_secs, 3),
        cell(&sample.time),
        sample.processes.first().map(|p| p.pid.to_string()).unwrap_or_default(),
        sample.processes.len().to_string(),
        float(m.cpu_user_percent, 2),
        float(m.cpu_system_percent, 2),
        int(m.rss_bytes),
        int(m.uss_bytes),
        int(m.pss_bytes),
        int(m.swap_bytes),
        int(m.vms_bytes),
        int(m.threads),
        int(m.fds),
        int(m.tcp.as_ref().map(|t| t.values().sum())),
        int(m.read_bytes),
        int(m.write_bytes),
        int(m.ctx_switches_voluntary),
        int(m.ctx_switches_involuntary),
        int(m.minor_faults),
        int(m.major_faults),
        float(sample.growth.as_ref().map(|g| g.bytes_per_hour), 0),
    ];
    let mut row = cells.join(",");
    row.push('\n');
    row
}

/// A sample as one line of JSON (the [`Sample`] schema), newline-terminated.
pub fn jsonl_row(sample: &Sample) -> String {
    // Plain data with string keys: serialisation cannot fail.
    let mut s = serde_json::to_string(sample).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::watch::fixture;
    use crate::watch::Metrics;

    #[test]
    fn header_and_row() {
        let s = fixture::sample(12.0);
        insta::assert_snapshot!("csv", format!("{}{}", csv_header(), csv_row(&s)));
    }

    #[test]
    fn rows_match_the_header_and_leave_missing_cells_empty() {
        let mut s = fixture::sample(0.5);
        s.total = Metrics { rss_bytes: Some(1), ..Metrics::default() };
        s.growth = None;
        s.processes.clear();
        let row = csv_row(&s);
        assert!(row.ends_with('\n') && !row[..row.len() - 1].contains('\n'));
        let cells: Vec<&str> = row.trim_end().split(',').collect();
        assert_eq!(cells.len(), COLUMNS.len());
        assert_eq!(cells[0], "0.5");
        assert_eq!(cells[2..4], ["", "0"]);
        assert_eq!(cells[6], "1");
        assert!(cells[7..].iter().all(|c| c.is_empty()), "{row}");
        s.time = "a,\"b\"".into();
        assert!(csv_row(&s).contains(",\"a,\"\"b\"\"\","));
    }

    #[test]
    fn decimals_are_trimmed() {
        assert_eq!(decimal(41.25, 2), "41.25");
        assert_eq!(decimal(3.0, 2), "3");
        assert_eq!(decimal(0.1234, 3), "0.123");
        assert_eq!(decimal(-0.0001, 2), "0");
        assert_eq!(decimal(37748736.4, 0), "37748736");
        assert_eq!(decimal(f64::NAN, 2), "");
    }

    #[test]
    fn json_lines_round_trip() {
        let s = fixture::sample(12.0);
        let line = jsonl_row(&s);
        assert!(line.ends_with("}\n"));
        assert_eq!(line.matches('\n').count(), 1);
        assert_eq!(serde_json::from_str::<crate::watch::Sample>(&line).unwrap(), s);
    }
}
