//! Fuzz tests of the benchmark result readers: `baseline::parse` (tachy, hyperfine and
//! pytest-benchmark JSON, behind `tachy bench compare` and `--baseline`) and `raw::parse` (the
//! pytest plugin's raw timings, `--from-raw`). Arbitrary bytes and mutations of valid files
//! (numbers swapped for huge, negative or NaN values, members removed or retyped, bytes cut)
//! never panic; accepted results gate against themselves without a regression, and accepted
//! raw timings make a report that exports to pytest-benchmark JSON and reads back.
//! `PROPTEST_CASES=100000 cargo test -p tachy-bench --test fuzz` runs longer.

use std::path::Path;

use proptest::prelude::*;
use tachy_bench::baseline::{self, GateRule};
use tachy_bench::{pytest_json, raw};
use tachy_report::bench::Metric;
use tachy_test::fuzz;

const RAW: &str = r#"{"schema": "tachy-bench-raw/1", "source": "pytest", "started_at": "2026-01-01T00:00:00Z",
 "machine_info": {"node": "ci"}, "commit_info": {"id": "abc"}, "benchmarks": [
  {"name": "t.py::test_a[1]", "group": "g", "parameters": {"n": "1"}, "times": [1e-6, 1.1e-6, 0.9e-6, 1e-6, 1.2e-6],
   "user_times": [1e-6, 1e-6, 1e-6, 1e-6, 1e-6], "system_times": [0, 0, 0, 0, 0], "max_rss": [1, 2, 3, 4, 5],
   "iterations": 1000, "warmup_runs": 2,
   "pytest": {"name": "test_a[1]", "fullname": "t.py::test_a[1]", "params": {"n": 1}, "param": "1"}},
  {"name": "t.py::test_b", "group": "g", "times": [2e-3, 2.5e-3, 1.9e-3], "iterations": 1}]}"#;

const HYPERFINE: &str = r#"{"results": [
 {"command": "sleep 0.1", "mean": 0.1, "stddev": 0.001, "median": 0.1, "user": 0.0, "system": 0.0,
  "min": 0.099, "max": 0.101, "times": [0.099, 0.1, 0.101], "exit_codes": [0, 0, 0]},
 {"command": "sleep 0.2", "mean": 0.2, "stddev": 0.002, "median": 0.2, "user": 0.001, "system": 0.0,
  "min": 0.198, "max": 0.202, "times": [0.198, 0.2, 0.202], "exit_codes": [0, 0, 0], "parameters": {"t": "0.2"}}]}"#;

fn seeds() -> Vec<Vec<u8>> {
    let raw = raw::parse(Path::new("raw.json"), RAW).expect("valid raw timings");
    let report = raw::report(&raw, &Default::default());
    let tachy = tachy_report::render::json::bench(&report).expect("serialisable").into_bytes();
    let pytest = pytest_json::render(&report, Some(&raw)).expect("serialisable");
    vec![tachy, pytest, HYPERFINE.as_bytes().to_vec()]
}

fn result_file() -> BoxedStrategy<Vec<u8>> {
    let mut choices: Vec<(u32, BoxedStrategy<Vec<u8>>)> = vec![(1, fuzz::bytes(256))];
    for seed in seeds() {
        choices.push((1, fuzz::mutated_bytes(seed.clone())));
        choices.push((2, fuzz::mutated_json(&seed)));
    }
    prop::strategy::Union::new_weighted(choices).boxed()
}

fn check_results(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let _case = fuzz::guard(&text);
    let Ok(loaded) = baseline::parse(Path::new("fuzz.json"), &text) else { return };
    assert!(!loaded.results.is_empty(), "an accepted file has results");
    for r in &loaded.results {
        assert!(!r.times.is_empty() && r.times.iter().all(|t| t.is_finite()), "{:?} kept unusable times", r.command);
    }
    for metric in [Metric::Wall, Metric::Cpu] {
        let rule = GateRule { max_regression: 0.05, alpha: 0.05, metric };
        if let Ok(gate) = baseline::gate("self", &loaded.results, &loaded.results, rule) {
            assert!(!gate.failed, "results regressed against themselves");
        }
    }
}

fn check_raw(bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    let _case = fuzz::guard(&text);
    let Ok(file) = raw::parse(Path::new("raw.json"), &text) else { return };
    let report = raw::report(&file, &Default::default());
    let _ = tachy_report::render::json::bench(&report);
    let exported = pytest_json::render(&report, Some(&file)).expect("serialisable");
    let back = baseline::parse(Path::new("pytest.json"), &String::from_utf8_lossy(&exported))
        .expect("the pytest-benchmark export of accepted timings reads back");
    assert_eq!(back.results.len() + back.skipped.len(), file.benchmarks.len());
}

proptest! {
    #![proptest_config(fuzz::config())]

    #[test]
    fn fuzz_result_files(bytes in result_file()) {
        check_results(&bytes);
    }

    #[test]
    fn fuzz_raw_timings(bytes in prop_oneof![
        1 => fuzz::bytes(256),
        1 => fuzz::mutated_bytes(RAW.as_bytes().to_vec()),
        3 => fuzz::mutated_json(RAW.as_bytes()),
    ]) {
        check_raw(&bytes);
    }
}

#[test]
fn fuzz_seeds_are_accepted() {
    for seed in seeds() {
        let loaded = baseline::parse(Path::new("seed.json"), std::str::from_utf8(&seed).unwrap()).unwrap();
        assert_eq!(loaded.results.len(), 2);
        check_results(&seed);
    }
    check_raw(RAW.as_bytes());
}

/// Inputs the fuzzer found: each panicked in a debug build (and wrapped silently in release)
/// before its fix.
#[test]
fn fuzz_findings_are_clean() {
    // Two peak RSS values whose sum overflows u64: the mean overflowed.
    let text = r#"{"schema": "tachy-bench-raw/1", "benchmarks": [
        {"name": "a", "times": [1, 1], "max_rss": [18446744073709551615, 18446744073709551615]}]}"#;
    let file = raw::parse(Path::new("raw.json"), text).unwrap();
    let report = raw::report(&file, &Default::default());
    assert_eq!(report.results[0].stats.as_ref().unwrap().max_rss_mean, u64::MAX);
    check_raw(text.as_bytes());
}

/// Found by the fuzzer: a raw file whose passed-through pytest `fullname` is not a string
/// exported a pytest-benchmark file that tachy itself refused to read back.
#[test]
fn fuzz_finding_pytest_names_that_are_not_strings() {
    let text = RAW.replace(r#""fullname": "t.py::test_a[1]""#, r#""fullname": []"#);
    assert_ne!(text, RAW);
    check_raw(text.as_bytes());
}
