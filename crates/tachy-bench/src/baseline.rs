//! Saved results: baselines under `.tachy/baselines/`, reading tachy, hyperfine and
//! pytest-benchmark JSON, and the regression gate.
//!
//! A baseline is a bench report saved as JSON (the same document as `--export-json`).
//! Results are matched by display name (`command`). The gate fails a command only when it is
//! slower by a statistically significant margin (two-sided Mann-Whitney U at `alpha`) **and**
//! its median ratio exceeds `1 + max_regression`.

use std::path::{Path, PathBuf};

use tachy_report::bench::{BENCH_SCHEMA, BenchReport, BenchResult, GateReport, GateRow, GateVerdict, Metric};

use crate::{BenchError, analysis};

/// Default folder of named baselines, relative to the working directory.
pub const DEFAULT_DIR: &str = ".tachy/baselines";

/// Where results read from a file came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    /// A tachy bench report.
    Tachy,
    /// A hyperfine `--export-json` file.
    Hyperfine,
    /// A pytest-benchmark JSON file (`--benchmark-json`, `--benchmark-save`), or tachy's
    /// export in that format.
    PytestBenchmark,
}

/// Results read from a file, with tachy's statistics recomputed.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// What the file was.
    pub format: SourceFormat,
    /// Its results (only those with at least one time).
    pub results: Vec<BenchResult>,
    /// Results dropped because they had no times.
    pub skipped: Vec<String>,
}

/// Checks a baseline name and returns its file.
pub fn path_for(dir: &Path, name: &str) -> Result<PathBuf, BenchError> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('.')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok {
        return Err(BenchError::InvalidSetting(format!(
            "baseline name '{name}' is invalid: use letters, digits, '-', '_' and '.' (not first)"
        )));
    }
    Ok(dir.join(format!("{name}.json")))
}

/// Checks that the baseline `name` in `dir` may be written: a valid name, and nothing there
/// yet, an empty file, or a benchmark result (tachy, hyperfine or pytest-benchmark JSON).
/// Another program's file is never replaced. Returns the file.
pub fn check_save(dir: &Path, name: &str) -> Result<PathBuf, BenchError> {
    let path = path_for(dir, name)?;
    let meta = match std::fs::metadata(&path) {
        Ok(m) => m,
        Err(_) => return Ok(path),
    };
    let why = if !meta.is_file() {
        "it is not a regular file".to_string()
    } else if meta.len() == 0 {
        return Ok(path);
    } else {
        match load(&path) {
            Ok(_) => return Ok(path),
            Err(e) => format!("it is not a benchmark result ({e})"),
        }
    };
    Err(BenchError::InvalidSetting(format!(
        "refusing to replace {} with baseline '{name}': {why}; remove it or choose another baseline name",
        path.display()
    )))
}

/// Saves a report as the baseline `name` in `dir`, atomically. Returns the file written.
/// An existing file that is not a benchmark result is refused ([`check_save`]).
pub fn save(report: &BenchReport, dir: &Path, name: &str) -> Result<PathBuf, BenchError> {
    let path = check_save(dir, name)?;
    std::fs::create_dir_all(dir).map_err(|e| BenchError::Io {
        action: "create",
        path: dir.to_path_buf(),
        source: e,
    })?;
    let json = tachy_report::render::json::bench(report)
        .map_err(|e| BenchError::InvalidSetting(format!("cannot serialise the report: {e}")))?;
    let tmp = dir.join(format!(".{name}.json.tmp{}", std::process::id()));
    std::fs::write(&tmp, json).map_err(|e| BenchError::Io { action: "write", path: tmp.clone(), source: e })?;
    std::fs::rename(&tmp, &path).map_err(|e| BenchError::Io { action: "write", path: path.clone(), source: e })?;
    Ok(path)
}

/// Loads the baseline `name` from `dir`.
pub fn load_named(dir: &Path, name: &str) -> Result<Loaded, BenchError> {
    let path = path_for(dir, name)?;
    if !path.exists() {
        return Err(BenchError::BaselineNotFound { name: name.to_string(), path });
    }
    load(&path)
}

/// Reads a tachy, hyperfine or pytest-benchmark JSON result file.
pub fn load(path: &Path) -> Result<Loaded, BenchError> {
    let text = std::fs::read_to_string(path).map_err(|e| BenchError::Io {
        action: "read",
        path: path.to_path_buf(),
        source: e,
    })?;
    parse(path, &text)
}

/// Parses the text of a result file (`path` is only used in messages).
pub fn parse(path: &Path, text: &str) -> Result<Loaded, BenchError> {
    if text.trim().is_empty() {
        return Err(BenchError::EmptyFile { path: path.to_path_buf() });
    }
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| BenchError::InvalidJson {
        path: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
        message: e.to_string().split(" at line").next().unwrap_or_default().to_string(),
    })?;
    let foreign = |detail: &str| BenchError::ForeignFile { path: path.to_path_buf(), detail: detail.to_string() };
    if value.get("schema").is_none() && crate::pytest_json::is_pytest_benchmark(&value) {
        let all = crate::pytest_json::results(&value).map_err(|e| foreign(e.as_str()))?;
        if let Some((r, t)) = all.iter().find_map(|r| r.times.iter().find(|t| **t < 0.0).map(|t| (r, t))) {
            return Err(foreign(&format!(
                "benchmark '{}' has a negative time ({t}) in `stats.data`: times are durations; the file is damaged",
                r.command
            )));
        }
        let (results, without): (Vec<_>, Vec<_>) =
            all.into_iter().partition(|r| !r.times.is_empty() && r.times.iter().all(|t| t.is_finite()));
        if results.is_empty() {
            return Err(foreign(
                "it holds no benchmark with per-round `stats.data` (pytest-benchmark writes it with --benchmark-json, or --benchmark-save-data)",
            ));
        }
        let skipped = without.into_iter().map(|r| r.command).collect();
        return Ok(Loaded { format: SourceFormat::PytestBenchmark, results, skipped });
    }
    let format = match value.get("schema") {
        Some(serde_json::Value::String(s)) if s == BENCH_SCHEMA => SourceFormat::Tachy,
        Some(serde_json::Value::String(s)) if s.starts_with("tachy-bench/") => {
            return Err(BenchError::UnsupportedVersion { path: path.to_path_buf(), found: s.clone() });
        }
        Some(serde_json::Value::String(s)) if s.starts_with("tachy-") => {
            return Err(foreign(&format!("it is a '{s}' file, not a benchmark result")));
        }
        Some(_) => return Err(foreign("its `schema` field is not a tachy bench schema")),
        None => SourceFormat::Hyperfine,
    };
    let results = value
        .get("results")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| foreign("expected an object with a `results` array (as written by --export-json)"))?;
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for (i, item) in results.iter().enumerate() {
        let r: BenchResult = serde_json::from_value(item.clone())
            .map_err(|e| foreign(&format!("result #{} does not have the expected fields ({e})", i + 1)))?;
        if let Some(t) = r.times.iter().find(|t| **t < 0.0) {
            return Err(foreign(&format!(
                "result '{}' has a negative time ({t}) in `times`: times are durations; the file is damaged",
                r.command
            )));
        }
        if r.times.is_empty() || r.times.iter().any(|t| !t.is_finite()) {
            skipped.push(r.command.clone());
        } else {
            out.push(analysis::recompute(r));
        }
    }
    if out.is_empty() {
        return Err(foreign("it holds no result with measured `times`"));
    }
    Ok(Loaded { format, results: out, skipped })
}

/// Parses a threshold such as `5%`, `5` (both 5%) or `0.5%`.
pub fn parse_threshold(s: &str) -> Result<f64, BenchError> {
    let t = s.trim();
    let number = t.strip_suffix('%').unwrap_or(t).trim();
    match number.parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v / 100.0),
        _ => Err(BenchError::InvalidSetting(format!("threshold '{s}' is not a percentage: write it like 5% or 2.5%"))),
    }
}

/// Compares one command with its baseline; `None` when a side has too few values.
fn row(label: &str, base: &BenchResult, cur: &BenchResult, rule: GateRule) -> Result<Option<GateRow>, BenchError> {
    let unavailable = |side: &str| BenchError::MetricUnavailable {
        metric: rule.metric.label(),
        command: cur.command.clone(),
        side: side.to_string(),
    };
    let base_series = base.series(rule.metric).ok_or_else(|| unavailable(label))?;
    let cur_series = cur.series(rule.metric).ok_or_else(|| unavailable("the current results"))?;
    let Some(comparison) = tachy_stats::compare(&base_series, &cur_series, rule.alpha) else {
        return Ok(None);
    };
    let verdict = match (comparison.significant, comparison.ratio.ratio) {
        (true, r) if r > 1.0 + rule.max_regression => GateVerdict::Regressed,
        (true, r) if r > 1.0 => GateVerdict::SlowerWithinThreshold,
        (true, r) if r < 1.0 => GateVerdict::Improved,
        _ => GateVerdict::Unchanged,
    };
    Ok(Some(GateRow {
        command: cur.command.clone(),
        baseline_median: tachy_stats::median(&base_series),
        current_median: tachy_stats::median(&cur_series),
        comparison,
        verdict,
    }))
}

/// Gates every other command against the reference command measured in the same (interleaved)
/// run: the CI pattern "benchmark the main build and the branch side by side", immune to the
/// drift between runs made at different times.
pub fn gate_reference(
    reference: &BenchResult,
    others: &[BenchResult],
    rule: GateRule,
) -> Result<GateReport, BenchError> {
    let label = format!("reference '{}'", reference.command);
    let mut rows = Vec::new();
    let mut missing = Vec::new();
    for cur in others.iter().filter(|r| r.command != reference.command || r.command_line != reference.command_line) {
        match row(&label, reference, cur, rule)? {
            Some(r) => rows.push(r),
            None => missing.push(cur.command.clone()),
        }
    }
    let failed = rows.iter().any(|r| r.verdict == GateVerdict::Regressed);
    Ok(GateReport {
        baseline: label,
        metric: rule.metric,
        max_regression: rule.max_regression,
        alpha: rule.alpha,
        rows,
        missing_in_baseline: missing,
        missing_in_current: Vec::new(),
        failed,
    })
}

/// The thresholds of a gate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GateRule {
    /// Largest tolerated slowdown as a fraction.
    pub max_regression: f64,
    /// Significance level.
    pub alpha: f64,
    /// The metric compared.
    pub metric: Metric,
}

/// Compares `current` with `baseline`, matched by command name.
///
/// Fails with [`BenchError::MetricUnavailable`] when the metric was not recorded on a side
/// (hyperfine exports have no per-run CPU times).
pub fn gate(
    label: &str,
    baseline: &[BenchResult],
    current: &[BenchResult],
    rule: GateRule,
) -> Result<GateReport, BenchError> {
    let GateRule { max_regression, alpha, metric } = rule;
    let mut rows = Vec::new();
    let mut missing_in_baseline = Vec::new();
    for cur in current.iter().filter(|r| !r.times.is_empty()) {
        let Some(base) = baseline.iter().find(|b| b.command == cur.command) else {
            missing_in_baseline.push(cur.command.clone());
            continue;
        };
        match row(label, base, cur, rule)? {
            Some(r) => rows.push(r),
            None => missing_in_baseline.push(cur.command.clone()),
        }
    }
    let missing_in_current = baseline
        .iter()
        .filter(|b| !current.iter().any(|c| c.command == b.command && !c.times.is_empty()))
        .map(|b| b.command.clone())
        .collect();
    let failed = rows.iter().any(|r| r.verdict == GateVerdict::Regressed);
    Ok(GateReport {
        baseline: label.to_string(),
        metric,
        max_regression,
        alpha,
        rows,
        missing_in_baseline,
        missing_in_current,
        failed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{Raw, from_raw};

    fn result(name: &str, base: f64, n: usize) -> BenchResult {
        // Deterministic spread of +-2% around `base`.
        let times = (0..n).map(|i| base * (0.98 + 0.04 * ((i * 7919) % n) as f64 / n as f64)).collect();
        from_raw(Raw { name: name.into(), times, ..Default::default() })
    }

    const RULE: GateRule = GateRule { max_regression: 0.05, alpha: 0.05, metric: Metric::Wall };

    #[test]
    fn reference_gate_compares_each_command_with_the_reference() {
        let all = vec![result("main", 0.100, 30), result("same", 0.100, 30), result("slow", 0.120, 30)];
        let g = gate_reference(&all[0], &all, RULE).unwrap();
        assert_eq!(g.baseline, "reference 'main'");
        let verdicts: Vec<_> = g.rows.iter().map(|r| (r.command.as_str(), r.verdict)).collect();
        assert_eq!(verdicts, [("same", GateVerdict::Unchanged), ("slow", GateVerdict::Regressed)]);
        assert!(g.failed);
    }

    #[test]
    fn cpu_gate_needs_cpu_times() {
        let with_cpu = |name: &str, cpu: f64| {
            let mut r = result(name, 0.2, 20);
            r.user_times = r.times.iter().map(|t| t * cpu / 0.2 * 0.9).collect();
            r.system_times = r.times.iter().map(|t| t * cpu / 0.2 * 0.1).collect();
            analysis::recompute(r)
        };
        let rule = GateRule { metric: Metric::Cpu, ..RULE };
        // Same wall time, 20% more CPU: the CPU gate fails, the wall gate does not.
        let g = gate("b", &[with_cpu("a", 0.1)], &[with_cpu("a", 0.12)], rule).unwrap();
        assert!(g.failed);
        assert!((g.rows[0].baseline_median - 0.1).abs() < 0.005);
        assert!(!gate("b", &[with_cpu("a", 0.1)], &[with_cpu("a", 0.12)], RULE).unwrap().failed);
        let err = gate("b", &[result("a", 0.1, 20)], &[with_cpu("a", 0.1)], rule).unwrap_err().to_string();
        assert!(err.contains("no per-run CPU time"), "{err}");
    }

    #[test]
    fn gate_verdicts() {
        let base = vec![result("a", 0.100, 30), result("b", 0.100, 30), result("c", 0.100, 30), result("d", 0.100, 30)];
        let cur = vec![result("a", 0.100, 30), result("b", 0.120, 30), result("c", 0.103, 30), result("d", 0.080, 30)];
        let g = gate("main", &base, &cur, RULE).unwrap();
        let verdicts: Vec<_> = g.rows.iter().map(|r| r.verdict).collect();
        assert_eq!(
            verdicts,
            [GateVerdict::Unchanged, GateVerdict::Regressed, GateVerdict::SlowerWithinThreshold, GateVerdict::Improved]
        );
        assert!(g.failed);
        let g = gate("main", &base, &cur[..1], RULE).unwrap();
        assert!(!g.failed);
        assert_eq!(g.missing_in_current, ["b", "c", "d"]);
    }

    #[test]
    fn regression_must_be_significant() {
        // Three runs a side: exact Mann-Whitney cannot reach p < 0.05, so even +50% passes.
        let g = gate("x", &[result("a", 0.1, 3)], &[result("a", 0.15, 3)], RULE).unwrap();
        assert!(!g.failed);
        assert_eq!(g.rows[0].verdict, GateVerdict::Unchanged);
    }

    #[test]
    fn reads_hyperfine_exports() {
        let text = r#"{"results":[{"command":"sleep 0.1","mean":0.1,"stddev":0.001,"median":0.1,"user":0.0,"system":0.0,"min":0.099,"max":0.101,"times":[0.099,0.1,0.101],"exit_codes":[0,0,0]}]}"#;
        let l = parse(Path::new("h.json"), text).unwrap();
        assert_eq!(l.format, SourceFormat::Hyperfine);
        assert_eq!(l.results[0].median, 0.1);
        assert!(l.results[0].stats.is_some());
        let bad = text.replace("0.099,0.1", "-1.0,0.1");
        let e = parse(Path::new("h.json"), &bad).unwrap_err().to_string();
        assert!(e.contains("result 'sleep 0.1' has a negative time (-1) in `times`"), "{e}");
    }

    #[test]
    fn reads_pytest_benchmark_files() {
        let text = r#"{"machine_info": {}, "commit_info": {}, "version": "5.1.0", "benchmarks": [
            {"name": "test_a", "fullname": "t.py::test_a", "stats": {"data": [0.001, 0.0011, 0.0009], "iterations": 1}},
            {"name": "test_b", "fullname": "t.py::test_b", "stats": {"mean": 0.002}}]}"#;
        let l = parse(Path::new("pb.json"), text).unwrap();
        assert_eq!(l.format, SourceFormat::PytestBenchmark);
        assert_eq!(l.results[0].command, "t.py::test_a");
        assert_eq!(l.results[0].median, 0.001);
        assert_eq!(l.skipped, ["t.py::test_b"]);
        let none = r#"{"benchmarks": [{"name": "test_b", "fullname": "t.py::test_b", "stats": {"mean": 0.002}}]}"#;
        assert!(parse(Path::new("pb.json"), none).unwrap_err().to_string().contains("--benchmark-save-data"));
    }

    #[test]
    fn rejects_bad_files_with_clear_messages() {
        let err = |t: &str| parse(Path::new("f.json"), t).unwrap_err().to_string();
        assert!(err("").contains("is empty"));
        assert!(err("{\"results\": [").contains("not valid JSON (line 1"));
        assert!(err("{\"name\": 1}").contains("`results` array"));
        assert!(err("{\"schema\": \"tachy-bench/9\", \"results\": []}").contains("schema 'tachy-bench/9'"));
        assert!(err("{\"schema\": \"tachy-profile/1\"}").contains("not a benchmark result"));
        assert!(err("{\"results\": [{\"command\": \"x\"}]}").contains("expected fields"));
        assert!(err("{\"results\": []}").contains("no result"));
    }

    #[test]
    fn save_and_load_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let report =
            crate::analysis::report(vec![result("a", 0.1, 10)], &Default::default(), Default::default(), false);
        let path = save(&report, dir.path(), "main").unwrap();
        assert!(path.ends_with("main.json"));
        let l = load_named(dir.path(), "main").unwrap();
        assert_eq!(l.format, SourceFormat::Tachy);
        assert_eq!(l.results[0].times, report.results[0].times);
        assert!(matches!(load_named(dir.path(), "other"), Err(BenchError::BaselineNotFound { .. })));
        assert!(path_for(dir.path(), "../evil").is_err());
    }

    #[test]
    fn saving_never_replaces_a_file_that_is_not_a_benchmark_result() {
        let dir = tempfile::tempdir().unwrap();
        let report =
            crate::analysis::report(vec![result("a", 0.1, 10)], &Default::default(), Default::default(), false);
        std::fs::write(dir.path().join("notes.json"), "precious notes").unwrap();
        let e = save(&report, dir.path(), "notes").unwrap_err().to_string();
        assert!(e.starts_with("refusing to replace ") && e.contains("notes.json"), "{e}");
        assert_eq!(std::fs::read_to_string(dir.path().join("notes.json")).unwrap(), "precious notes");
        std::fs::write(dir.path().join("prof.json"), r#"{"schema": "tachy-profile/1"}"#).unwrap();
        assert!(check_save(dir.path(), "prof").is_err(), "another kind of tachy result");
        // A benchmark result (this one, or an empty file) is replaced.
        save(&report, dir.path(), "main").unwrap();
        save(&report, dir.path(), "main").unwrap();
        std::fs::write(dir.path().join("empty.json"), "").unwrap();
        save(&report, dir.path(), "empty").unwrap();
    }

    #[test]
    fn thresholds() {
        assert_eq!(parse_threshold("5%").unwrap(), 0.05);
        assert_eq!(parse_threshold("2.5").unwrap(), 0.025);
        assert!(parse_threshold("-1%").is_err());
        assert!(parse_threshold("five").is_err());
    }
}
