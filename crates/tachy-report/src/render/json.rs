//! JSON renderer: the report as pretty-printed, stable JSON.

use crate::BenchReport;

/// Renders a bench report as JSON (a superset of hyperfine's export schema).
pub fn bench(report: &BenchReport) -> Result<String, serde_json::Error> {
    let mut s = serde_json::to_string_pretty(report)?;
    s.push('\n');
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_keeps_hyperfine_fields() {
        let report = crate::render::fixture::report();
        let text = bench(&report).unwrap();
        let back: BenchReport = serde_json::from_str(&text).unwrap();
        assert_eq!(back, report);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let first = &v["results"][0];
        for key in ["command", "mean", "stddev", "median", "user", "system", "min", "max", "times", "exit_codes"] {
            assert!(!first[key].is_null(), "hyperfine field {key} missing");
        }
        assert_eq!(v["schema"], "tachy-bench/1");
    }
}
