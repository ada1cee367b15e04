//! CSV renderer: one row of summary statistics per command (times in seconds).

use crate::BenchReport;

/// Renders one CSV row per command. Parameter columns are named `parameter_<NAME>`.
pub fn bench(report: &BenchReport) -> Result<Vec<u8>, csv::Error> {
    let mut params: Vec<&String> = report.results.iter().flat_map(|r| r.parameters.keys()).collect();
    params.sort();
    params.dedup();

    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = [
        "command",
        "mean",
        "stddev",
        "median",
        "user",
        "system",
        "min",
        "max",
        "mad",
        "p5",
        "p95",
        "p99",
        "cv",
        "median_ci_low",
        "median_ci_high",
        "runs",
        "max_rss_bytes",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    header.extend(params.iter().map(|p| format!("parameter_{p}")));
    w.write_record(&header)?;

    for r in &report.results {
        let mut row = vec![
            r.name().to_string(),
            r.mean.to_string(),
            r.stddev.to_string(),
            r.median.to_string(),
            r.user.to_string(),
            r.system.to_string(),
            r.min.to_string(),
            r.max.to_string(),
        ];
        match &r.stats {
            Some(s) => row.extend([
                s.mad.to_string(),
                s.p5.to_string(),
                s.p95.to_string(),
                s.p99.to_string(),
                s.cv.to_string(),
                s.median_ci.low.to_string(),
                s.median_ci.high.to_string(),
                s.runs.to_string(),
                s.max_rss_mean.to_string(),
            ]),
            None => row.extend(std::iter::repeat_n(String::new(), 9)),
        }
        row.extend(params.iter().map(|p| r.parameters.get(*p).cloned().unwrap_or_default()));
        w.write_record(&row)?;
    }
    w.into_inner().map_err(|e| csv::Error::from(e.into_error()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_parse_back() {
        let report = crate::render::fixture::report();
        let bytes = bench(&report).unwrap();
        let mut r = csv::Reader::from_reader(bytes.as_slice());
        let headers = r.headers().unwrap().clone();
        assert_eq!(&headers[0], "command");
        assert_eq!(headers.iter().next_back(), Some("parameter_n"));
        let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(&rows[1][0], "slow");
        let median: f64 = rows[0][3].parse().unwrap();
        assert!((median - report.results[0].median).abs() < 1e-12);
        insta::assert_snapshot!(String::from_utf8(bytes).unwrap());
    }
}
