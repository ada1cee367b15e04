//! pytest-benchmark's JSON format: writing any bench report in it (`--export-pytest-json`,
//! and the pytest plugin's `--tachy-json`), and reading its files (`--benchmark-json` or
//! `--benchmark-save` output) as results for `tachy bench compare` and baselines.
//!
//! Every figure written is computed here from the per-round times, with tachy's conventions:
//! quartiles interpolate linearly (numpy's default), `stddev` is the sample standard
//! deviation. Reading keeps only `stats.data` (the per-round times) and recomputes the rest.

use serde_json::{Map, Value, json};
use tachy_report::bench::{BenchReport, BenchResult};

use crate::analysis::{self, Raw};
use crate::raw::RawFile;

/// The pytest-benchmark file format version written in `version`: the layout of its 4.x and
/// 5.x releases, which is what its `compare` command and other readers expect.
pub const FORMAT_VERSION: &str = "5.1.0";

/// pytest-benchmark's statistics of one benchmark's per-round times.
fn stats(times: &[f64], iterations: u64) -> Value {
    let n = times.len();
    let mut sorted = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    let (min, max) = (sorted.first().copied().unwrap_or(0.0), sorted.last().copied().unwrap_or(0.0));
    let mean = if n == 0 { 0.0 } else { tachy_stats::mean(times) };
    let stddev = if n < 2 { 0.0 } else { tachy_stats::stddev(times) };
    let q1 = tachy_stats::percentile(&sorted, 0.25);
    let q3 = tachy_stats::percentile(&sorted, 0.75);
    let median = tachy_stats::percentile(&sorted, 0.5);
    let iqr = q3 - q1;
    let (lo_fence, hi_fence) = (q1 - 1.5 * iqr, q3 + 1.5 * iqr);
    let iqr_outliers = times.iter().filter(|&&t| t < lo_fence || t > hi_fence).count();
    let stddev_outliers = times.iter().filter(|&&t| t < mean - stddev || t > mean + stddev).count();
    let ld15iqr = sorted.iter().copied().find(|&t| t >= lo_fence).unwrap_or(min);
    let hd15iqr = sorted.iter().rev().copied().find(|&t| t <= hi_fence).unwrap_or(max);
    json!({
        "min": min,
        "max": max,
        "mean": mean,
        "stddev": stddev,
        "rounds": n,
        "median": median,
        "iqr": iqr,
        "q1": q1,
        "q3": q3,
        "iqr_outliers": iqr_outliers,
        "stddev_outliers": stddev_outliers,
        "outliers": format!("{stddev_outliers};{iqr_outliers}"),
        "ld15iqr": ld15iqr,
        "hd15iqr": hd15iqr,
        "ops": if mean > 0.0 { 1.0 / mean } else { 0.0 },
        "total": times.iter().sum::<f64>(),
        "data": times,
        "iterations": iterations,
    })
}

fn machine_info() -> Value {
    json!({
        "node": std::fs::read_to_string("/proc/sys/kernel/hostname").map(|s| s.trim().to_string()).unwrap_or_default(),
        "machine": std::env::consts::ARCH,
        "system": match std::env::consts::OS { "linux" => "Linux", "macos" => "Darwin", other => other },
        "cpu": { "count": std::thread::available_parallelism().map_or(0, usize::from) },
    })
}

fn short_name(command: &str) -> &str {
    command.rsplit("::").next().unwrap_or(command)
}

/// Renders `report` as a pytest-benchmark JSON document. With the raw file the report was
/// built from, each benchmark keeps its pytest fields (group, params, extra_info, options)
/// and the machine and commit info.
pub fn render(report: &BenchReport, raw: Option<&RawFile>) -> Result<Vec<u8>, serde_json::Error> {
    let benchmarks: Vec<Value> = report
        .results
        .iter()
        .filter(|r| !r.times.is_empty())
        .map(|r| {
            let source = raw.and_then(|f| f.benchmarks.iter().find(|b| b.name == r.command));
            let pytest = source.and_then(|b| b.pytest.as_ref()).and_then(Value::as_object);
            let field = |key: &str| pytest.and_then(|p| p.get(key)).cloned();
            let params = if r.parameters.is_empty() {
                Value::Null
            } else {
                Value::Object(r.parameters.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
            };
            let mut object = Map::new();
            object.insert("group".into(), source.and_then(|b| b.group.clone()).map_or(Value::Null, Value::String));
            // The names are what readers match on: passed through only when they are strings.
            let text = |key: &str| field(key).filter(Value::is_string);
            object.insert("name".into(), text("name").unwrap_or_else(|| short_name(&r.command).into()));
            object.insert("fullname".into(), text("fullname").unwrap_or_else(|| r.command.clone().into()));
            object.insert("params".into(), field("params").unwrap_or(params));
            object.insert("param".into(), field("param").unwrap_or(Value::Null));
            object.insert("extra_info".into(), field("extra_info").unwrap_or_else(|| json!({})));
            object.insert("options".into(), field("options").unwrap_or_else(|| json!({"timer": "tachy"})));
            object.insert("stats".into(), stats(&r.times, source.map_or(1, |b| b.iterations)));
            Value::Object(object)
        })
        .collect();
    let pick = |v: Option<&Value>, default: Value| v.filter(|v| !v.is_null()).cloned().unwrap_or(default);
    let document = json!({
        "machine_info": pick(raw.map(|f| &f.machine_info), machine_info()),
        "commit_info": pick(raw.map(|f| &f.commit_info), json!({})),
        "benchmarks": benchmarks,
        "datetime": report.context.started_at,
        "version": FORMAT_VERSION,
        "tachy_version": report.tachy_version,
    });
    let mut out = serde_json::to_vec_pretty(&document)?;
    out.push(b'\n');
    Ok(out)
}

/// True when a JSON document looks like pytest-benchmark's output.
pub fn is_pytest_benchmark(value: &Value) -> bool {
    value.get("benchmarks").is_some_and(Value::is_array) && value.get("results").is_none()
}

/// Reads the benchmarks of a pytest-benchmark document as results named by `fullname` (the
/// pytest node id). Benchmarks saved without their per-round data (pytest-benchmark's
/// `--benchmark-save` without `--benchmark-save-data`) come back with no times.
pub fn results(value: &Value) -> Result<Vec<BenchResult>, String> {
    let list = value.get("benchmarks").and_then(Value::as_array).ok_or("no `benchmarks` array")?;
    let mut out = Vec::with_capacity(list.len());
    for (i, b) in list.iter().enumerate() {
        let name = b
            .get("fullname")
            .or_else(|| b.get("name"))
            .and_then(Value::as_str)
            .ok_or_else(|| format!("benchmark #{} has no `fullname` or `name`", i + 1))?;
        let data = b.get("stats").and_then(|s| s.get("data"));
        let times: Vec<f64> = match data.and_then(Value::as_array) {
            Some(values) => values.iter().map(|v| v.as_f64().unwrap_or(f64::NAN)).collect(),
            None => Vec::new(),
        };
        let parameters = b
            .get("params")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter().map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_string))).collect()
            })
            .unwrap_or_default();
        out.push(analysis::from_raw(Raw {
            name: name.to_string(),
            command_line: name.to_string(),
            parameters,
            exit_codes: vec![0; times.len()],
            times,
            ..Default::default()
        }));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raw;

    #[test]
    fn statistics_follow_pytest_benchmark_fields() {
        let s = stats(&[1.0, 2.0, 3.0, 4.0, 100.0], 10);
        assert_eq!(s["min"], 1.0);
        assert_eq!(s["max"], 100.0);
        assert_eq!(s["median"], 3.0);
        assert_eq!(s["q1"], 2.0);
        assert_eq!(s["q3"], 4.0);
        assert_eq!(s["iqr_outliers"], 1);
        assert_eq!(s["hd15iqr"], 4.0);
        assert_eq!(s["ld15iqr"], 1.0);
        assert_eq!(s["rounds"], 5);
        assert_eq!(s["iterations"], 10);
        assert_eq!(s["total"], 110.0);
        assert_eq!(s["outliers"], "1;1");
        assert!((s["ops"].as_f64().unwrap() - 1.0 / 22.0).abs() < 1e-12);
    }

    #[test]
    fn round_trip_through_the_format() {
        let text = r#"{"schema": "tachy-bench-raw/1", "machine_info": {"node": "ci"}, "benchmarks": [
            {"name": "tests/t.py::test_a[1]", "group": "g", "parameters": {"n": "1"}, "times": [1e-6, 2e-6, 3e-6], "iterations": 100,
             "pytest": {"name": "test_a[1]", "fullname": "tests/t.py::test_a[1]", "params": {"n": 1}, "param": "1", "extra_info": {"k": "v"}}}]}"#;
        let raw = raw::parse(std::path::Path::new("r.json"), text).unwrap();
        let report = raw::report(&raw, &Default::default());
        let bytes = render(&report, Some(&raw)).unwrap();
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert!(is_pytest_benchmark(&v));
        assert_eq!(v["machine_info"]["node"], "ci");
        let b = &v["benchmarks"][0];
        assert_eq!(b["name"], "test_a[1]");
        assert_eq!(b["group"], "g");
        assert_eq!(b["params"]["n"], 1);
        assert_eq!(b["extra_info"]["k"], "v");
        assert_eq!(b["stats"]["iterations"], 100);
        assert_eq!(b["stats"]["data"].as_array().unwrap().len(), 3);
        let back = results(&v).unwrap();
        assert_eq!(back[0].command, "tests/t.py::test_a[1]");
        assert_eq!(back[0].times, [1e-6, 2e-6, 3e-6]);
        assert_eq!(back[0].parameters["n"], "1");
        // Without raw metadata, names come from the report.
        let plain: Value = serde_json::from_slice(&render(&report, None).unwrap()).unwrap();
        assert_eq!(plain["benchmarks"][0]["name"], "test_a[1]");
        assert_eq!(plain["benchmarks"][0]["params"]["n"], "1");
    }

    #[test]
    fn files_without_data_have_no_times() {
        let v = json!({"benchmarks": [{"name": "test_x", "fullname": "t.py::test_x", "stats": {"mean": 1.0}}]});
        let r = results(&v).unwrap();
        assert!(r[0].times.is_empty());
        assert!(results(&json!({"benchmarks": [{}]})).unwrap_err().contains("fullname"));
    }
}
