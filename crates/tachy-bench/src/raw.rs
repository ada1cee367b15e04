//! Raw per-round timings measured by another harness (the pytest plugin) and handed to tachy
//! once, so its statistics, comparisons, baselines and gate apply to them
//! (`tachy bench --from-raw FILE`, schema [`RAW_SCHEMA`], documented in `docs/pytest.md`).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use tachy_report::BenchReport;

use crate::analysis::{self, Raw};
use crate::{BenchError, BenchSettings};

/// The value of the `schema` field of a raw-timings file.
pub const RAW_SCHEMA: &str = "tachy-bench-raw/1";

/// A raw-timings file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawFile {
    /// Always [`RAW_SCHEMA`].
    pub schema: String,
    /// What measured the timings (`pytest`).
    #[serde(default)]
    pub source: Option<String>,
    /// RFC 3339 start of the measurements.
    #[serde(default)]
    pub started_at: Option<String>,
    /// One entry per benchmark, in report order.
    pub benchmarks: Vec<RawBenchmark>,
    /// pytest-benchmark's `machine_info`, passed through to `--export-pytest-json`.
    #[serde(default)]
    pub machine_info: serde_json::Value,
    /// pytest-benchmark's `commit_info`, passed through to `--export-pytest-json`.
    #[serde(default)]
    pub commit_info: serde_json::Value,
}

fn one() -> u64 {
    1
}

/// The rounds of one benchmark.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RawBenchmark {
    /// Unique display name (the pytest node id); the key baselines match on.
    pub name: String,
    /// What ran (the benchmarked function); defaults to the name.
    #[serde(default)]
    pub command_line: String,
    /// pytest-benchmark's group; relative speed is computed only when all share one group.
    #[serde(default)]
    pub group: Option<String>,
    /// Parameter values (pytest's parametrization).
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
    /// Wall time of one iteration, per round (s).
    pub times: Vec<f64>,
    /// User CPU time of one iteration, per round (s); empty or one per round.
    #[serde(default)]
    pub user_times: Vec<f64>,
    /// System CPU time of one iteration, per round (s); empty or one per round.
    #[serde(default)]
    pub system_times: Vec<f64>,
    /// Peak RSS after each round (bytes); empty or one per round.
    #[serde(default)]
    pub max_rss: Vec<u64>,
    /// Iterations (loops) per round.
    #[serde(default = "one")]
    pub iterations: u64,
    /// Untimed rounds before the timed ones (calibration and warmup).
    #[serde(default)]
    pub warmup_runs: usize,
    /// Garbage collections during each round, per generation (youngest first, as Python's
    /// `gc.get_stats()`); empty when unknown or the collector was off. A round whose oldest
    /// generation was collected ran a full collection: when the far outliers coincide with
    /// those, the outlier warning names the program's GC instead of other programs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gc_collections: Vec<Vec<u64>>,
    /// pytest-benchmark's own per-benchmark fields (`name`, `fullname`, `params`, `param`,
    /// `extra_info`, `options`), passed through to `--export-pytest-json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pytest: Option<serde_json::Value>,
}

impl RawBenchmark {
    /// Per round, whether its oldest generation was collected (a full collection); empty when
    /// unknown.
    pub fn full_collections(&self) -> Vec<bool> {
        self.gc_collections.iter().map(|gens| gens.last().is_some_and(|n| *n > 0)).collect()
    }
}

/// Reads and checks a raw-timings file.
pub fn load(path: &Path) -> Result<RawFile, BenchError> {
    let text = std::fs::read_to_string(path).map_err(|e| BenchError::Io {
        action: "read",
        path: path.to_path_buf(),
        source: e,
    })?;
    parse(path, &text)
}

/// Parses and checks the text of a raw-timings file (`path` is only used in messages).
pub fn parse(path: &Path, text: &str) -> Result<RawFile, BenchError> {
    let bad = |detail: String| BenchError::BadRaw { path: path.to_path_buf(), detail };
    if text.trim().is_empty() {
        return Err(bad("it is empty".into()));
    }
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| BenchError::InvalidJson {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: e.to_string().split(" at line").next().unwrap_or_default().to_string(),
    })?;
    match value.get("schema").and_then(serde_json::Value::as_str) {
        Some(RAW_SCHEMA) => {}
        Some(other) => return Err(bad(format!("its schema is '{other}', expected '{RAW_SCHEMA}'"))),
        None => return Err(bad(format!("it has no `schema` field (expected '{RAW_SCHEMA}')"))),
    }
    let file: RawFile = serde_json::from_value(value).map_err(|e| bad(format!("unexpected fields ({e})")))?;
    if file.benchmarks.is_empty() {
        return Err(bad("it holds no benchmark".into()));
    }
    let mut names = std::collections::BTreeSet::new();
    for b in &file.benchmarks {
        let name = &b.name;
        if name.is_empty() {
            return Err(bad("a benchmark has an empty name".into()));
        }
        if !names.insert(name.as_str()) {
            return Err(bad(format!("two benchmarks are named '{name}': names must be unique")));
        }
        if b.times.is_empty() {
            return Err(bad(format!("'{name}' has no rounds")));
        }
        let finite = |xs: &[f64]| xs.iter().all(|t| t.is_finite() && *t >= 0.0);
        if !finite(&b.times) || !finite(&b.user_times) || !finite(&b.system_times) {
            return Err(bad(format!("'{name}' has a negative or non-finite time")));
        }
        let n = b.times.len();
        for (field, len) in [
            ("user_times", b.user_times.len()),
            ("system_times", b.system_times.len()),
            ("max_rss", b.max_rss.len()),
            ("gc_collections", b.gc_collections.len()),
        ] {
            if len != 0 && len != n {
                return Err(bad(format!("'{name}' has {len} {field} for {n} rounds")));
            }
        }
        if b.iterations == 0 {
            return Err(bad(format!("'{name}' has 0 iterations per round")));
        }
    }
    Ok(file)
}

/// Builds the report: tachy's statistics per benchmark, and relative speed when every
/// benchmark is in the same group (pytest-benchmark compares within a group only).
pub fn report(raw: &RawFile, settings: &BenchSettings) -> BenchReport {
    let results = raw
        .benchmarks
        .iter()
        .map(|b| {
            let cpu_known = b.user_times.len() == b.times.len() && b.system_times.len() == b.times.len();
            analysis::from_raw(Raw {
                name: b.name.clone(),
                command_line: if b.command_line.is_empty() { b.name.clone() } else { b.command_line.clone() },
                parameters: b.parameters.clone(),
                times: b.times.clone(),
                user_times: if cpu_known { b.user_times.clone() } else { Vec::new() },
                system_times: if cpu_known { b.system_times.clone() } else { Vec::new() },
                rss: b.max_rss.clone(),
                exit_codes: vec![0; b.times.len()],
                warmup_runs: b.warmup_runs,
            })
        })
        .collect();
    let one_group = raw.benchmarks.windows(2).all(|w| w[0].group == w[1].group);
    let settings = BenchSettings {
        // Rounds follow calibration calls: the cold-first-run check does not apply.
        warmup: settings.warmup.max(1),
        reference: settings.reference.filter(|_| one_group),
        ..settings.clone()
    };
    let mut context = analysis::context_now(false, settings.metric);
    if let Some(started) = &raw.started_at {
        context.started_at = started.clone();
    }
    let full_gc: Vec<Vec<bool>> = raw.benchmarks.iter().map(RawBenchmark::full_collections).collect();
    let mut report = analysis::report_with_gc(results, &settings, context, false, &full_gc);
    if !one_group {
        report.relative.clear();
    }
    report
}

/// The index of the benchmark named `name`.
pub fn position(raw: &RawFile, name: &str) -> Option<usize> {
    raw.benchmarks.iter().position(|b| b.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(benchmarks: &str) -> String {
        format!(r#"{{"schema": "{RAW_SCHEMA}", "source": "pytest", "benchmarks": [{benchmarks}]}}"#)
    }

    #[test]
    fn reads_and_reports() {
        let text = file(
            r#"{"name": "t.py::test_a", "times": [1e-6, 1.1e-6, 0.9e-6, 1e-6, 1e-6, 1.05e-6], "iterations": 1000},
               {"name": "t.py::test_b", "times": [2e-6, 2.1e-6, 1.9e-6, 2e-6, 2e-6, 2.05e-6], "user_times": [2e-6, 2e-6, 2e-6, 2e-6, 2e-6, 2e-6], "system_times": [0, 0, 0, 0, 0, 0]}"#,
        );
        let raw = parse(Path::new("r.json"), &text).unwrap();
        assert_eq!(raw.benchmarks[0].iterations, 1000);
        assert_eq!(raw.benchmarks[1].iterations, 1);
        let r = report(&raw, &BenchSettings::default());
        assert_eq!(r.results.len(), 2);
        assert_eq!(r.results[0].median, 1e-6);
        assert_eq!(r.results[0].command_line, "t.py::test_a");
        assert!(r.results[0].stats.as_ref().unwrap().cpu.is_none());
        assert!(r.results[1].stats.as_ref().unwrap().cpu.is_some());
        assert_eq!(r.relative.len(), 2, "one (default) group: compared");
        assert!(r.context.shell.is_none());
        assert!(!r.warnings.iter().any(|w| w.contains("first run")), "{:?}", r.warnings);
    }

    #[test]
    fn outliers_with_full_collections_are_put_down_to_the_gc() {
        let times = "[1.0, 1.01, 0.99, 1.0, 1.02, 0.98, 1.0, 5.0, 1.01, 5.2]";
        let quiet = "[0, 0, 0]";
        let gcs =
            format!("[{quiet}, {quiet}, {quiet}, {quiet}, {quiet}, {quiet}, {quiet}, [9, 1, 1], {quiet}, [8, 0, 1]]");
        let text = file(&format!(r#"{{"name": "t", "times": {times}, "gc_collections": {gcs}}}"#));
        let raw = parse(Path::new("r.json"), &text).unwrap();
        assert_eq!(raw.benchmarks[0].full_collections().iter().filter(|f| **f).count(), 2);
        let w = report(&raw, &BenchSettings::default()).warnings.join("\n");
        assert!(w.contains("ran a full garbage collection") && w.contains("--tachy-disable-gc"), "{w}");
        let text = file(&format!(r#"{{"name": "t", "times": {times}}}"#));
        let w = report(&parse(Path::new("r.json"), &text).unwrap(), &BenchSettings::default()).warnings.join("\n");
        assert!(w.contains("likely interference from other programs"), "{w}");
    }

    #[test]
    fn different_groups_are_not_compared() {
        let text =
            file(r#"{"name": "a", "group": "x", "times": [1, 1, 1]}, {"name": "b", "group": "y", "times": [2, 2, 2]}"#);
        let r = report(&parse(Path::new("r.json"), &text).unwrap(), &BenchSettings::default());
        assert!(r.relative.is_empty());
    }

    #[test]
    fn bad_files_are_refused_with_reasons() {
        let err = |t: &str| parse(Path::new("r.json"), t).unwrap_err().to_string();
        assert!(err("").contains("empty"));
        assert!(err("{").contains("not valid JSON"));
        assert!(err("{\"benchmarks\": []}").contains("no `schema`"));
        assert!(err("{\"schema\": \"tachy-bench/1\"}").contains("expected 'tachy-bench-raw/1'"));
        assert!(err(&file("")).contains("no benchmark"));
        assert!(err(&file(r#"{"name": "a", "times": []}"#)).contains("no rounds"));
        assert!(err(&file(r#"{"name": "a", "times": [-1]}"#)).contains("negative"));
        assert!(err(&file(r#"{"name": "a", "times": [1]}, {"name": "a", "times": [1]}"#)).contains("unique"));
        assert!(
            err(&file(r#"{"name": "a", "times": [1, 2], "user_times": [1]}"#)).contains("1 user_times for 2 rounds")
        );
        assert!(err(&file(r#"{"name": "a", "times": "x"}"#)).contains("unexpected fields"));
        assert!(
            err(&file(r#"{"name": "a", "times": [1, 2], "gc_collections": [[1, 0, 0]]}"#))
                .contains("1 gc_collections for 2 rounds")
        );
    }
}
