//! The pytest plugin (python/tachy) in real pytest runs: the `benchmark` fixture's API, the
//! timings handed to the binary once, baselines and the regression gate, pytest-benchmark JSON.
//!
//! pytest comes from the venv of `scripts/python-venv` ($TACHY_VENV or
//! ~/.cache/tachy/venv); without it these tests say so on stderr and pass vacuously.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tachy_test::workspace_root;

use crate::tachy;

/// The venv's python with pytest importable, or `None` (after saying why) when absent.
fn venv_python() -> Option<PathBuf> {
    tachy_test::venv_python("pytest")
}

fn tachy_bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("tachy")
}

/// Runs pytest in `dir` with the plugin from the source tree (entry-point plugins off, so an
/// installed pytest-benchmark or tachy wheel cannot interfere).
fn pytest(py: &Path, dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(py);
    cmd.args(["-m", "pytest", "-p", "tachy.pytest_plugin", "-p", "no:cacheprovider", "-q"])
        .args(args)
        .current_dir(dir)
        .env("PYTHONPATH", workspace_root().join("python"))
        .env("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
        .env("TACHY_BIN", tachy_bin())
        .env_remove("PYTEST_ADDOPTS");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("pytest runs")
}

fn text(out: &Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

const API_TESTS: &str = r#"
import asyncio
import pytest

CALLS = {"setup": 0, "target": 0, "teardown": 0}


def add(a, b=0):
    return a + b


def test_call_returns_the_result(benchmark):
    assert benchmark(add, 1, b=2) == 3
    assert benchmark.stats["rounds"] >= 5
    assert benchmark.stats.stats.min > 0


def test_pedantic_rounds_setup_and_teardown(benchmark):
    def setup():
        CALLS["setup"] += 1
        return (20,), {"b": 1}

    def target(a, b):
        CALLS["target"] += 1
        return a + b

    def teardown(a, b):
        CALLS["teardown"] += 1

    assert benchmark.pedantic(target, setup=setup, teardown=teardown, rounds=7, warmup_rounds=2) == 21
    assert CALLS == {"setup": 9, "target": 9, "teardown": 9}
    assert benchmark.stats["rounds"] == 7


def test_pedantic_iterations(benchmark):
    calls = []
    assert benchmark.pedantic(calls.append, args=(1,), rounds=3, iterations=10) is None
    assert len(calls) == 30
    with pytest.raises(Exception):
        benchmark.pedantic(add, args=(1,))


def test_setup_excludes_iterations(tachy_benchmark):
    with pytest.raises(ValueError, match="iterations"):
        tachy_benchmark.pedantic(add, setup=lambda: None, iterations=2)


async def double(x):
    await asyncio.sleep(0)
    return 2 * x


def test_coroutine_functions_are_awaited(benchmark):
    assert benchmark(double, 21) == 42


@pytest.mark.benchmark(group="sums")
@pytest.mark.parametrize("n", [10, 1000])
def test_parametrized_with_extra_info(benchmark, n):
    benchmark.extra_info["n"] = n
    assert benchmark(sum, range(n)) == n * (n - 1) // 2


def test_used_once_only(benchmark):
    benchmark(add, 1)
    with pytest.raises(Exception, match="only be used once"):
        benchmark(add, 2)


def test_not_a_benchmark():
    assert True
"#;

#[test]
fn fixture_api_in_a_real_pytest_run() {
    let Some(py) = venv_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("test_api.py"), API_TESTS).unwrap();
    let out = pytest(
        &py,
        dir.path(),
        &[
            "--tachy-min-time",
            "0.05",
            "--benchmark-json",
            "pb.json",
            "--tachy-export-json",
            "tachy.json",
            "--tachy-raw",
            "raw.json",
        ],
        &[],
    );
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(all.contains("9 passed"), "{all}");
    assert!(all.contains("tachy benchmarks") && all.contains("Time (median ± MAD)"), "{all}");

    // The raw timings went to the binary once; its report names benchmarks by node id.
    let report = read_json(&dir.path().join("tachy.json"));
    assert_eq!(report["schema"], "tachy-bench/1");
    let names: Vec<&str> =
        report["results"].as_array().unwrap().iter().map(|r| r["command"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 7, "{names:?}");
    assert!(names.contains(&"test_api.py::test_call_returns_the_result"), "{names:?}");
    assert!(names.contains(&"test_api.py::test_parametrized_with_extra_info[1000]"), "{names:?}");
    // Several groups: no relative-speed table across unrelated benchmarks.
    assert!(report["relative"].as_array().unwrap().is_empty());
    let call = report["results"].as_array().unwrap().iter().find(|r| r["command"] == names[0]).unwrap();
    assert!(call["stats"]["cpu"]["median"].as_f64().is_some(), "per-round CPU time is recorded");

    // pytest-benchmark's format, with its per-benchmark fields.
    let pb = read_json(&dir.path().join("pb.json"));
    let benches = pb["benchmarks"].as_array().unwrap();
    assert_eq!(benches.len(), 7);
    let find = |name: &str| benches.iter().find(|b| b["name"] == name).unwrap_or_else(|| panic!("{name} in {pb}"));
    let pedantic = find("test_pedantic_rounds_setup_and_teardown");
    assert_eq!(pedantic["stats"]["rounds"], 7);
    assert_eq!(pedantic["stats"]["data"].as_array().unwrap().len(), 7);
    assert_eq!(find("test_pedantic_iterations")["stats"]["iterations"], 10);
    let param = find("test_parametrized_with_extra_info[1000]");
    assert_eq!(param["group"], "sums");
    assert_eq!(param["params"]["n"], 1000);
    assert_eq!(param["param"], "1000");
    assert_eq!(param["extra_info"]["n"], 1000);
    assert_eq!(param["fullname"], "test_api.py::test_parametrized_with_extra_info[1000]");
    assert!(find("test_call_returns_the_result")["stats"]["iterations"].as_u64().unwrap() > 1, "calibrated");
    for key in ["min", "max", "mean", "stddev", "median", "iqr", "q1", "q3", "ops", "total"] {
        assert!(param["stats"][key].is_number(), "{key}");
    }
    assert!(pb["machine_info"]["python_version"].is_string());

    // The raw file is what the binary read, and `--from-raw` reproduces the report.
    let raw = read_json(&dir.path().join("raw.json"));
    assert_eq!(raw["schema"], "tachy-bench-raw/1");
    let again = tachy().args(["bench", "--json", "--from-raw"]).arg(dir.path().join("raw.json")).output().unwrap();
    assert!(again.status.success());
    assert_eq!(crate::json(&again)["results"][0]["times"], report["results"][0]["times"]);

    // `tachy bench compare` reads the pytest-benchmark file against tachy's own.
    tachy()
        .args(["bench", "compare", "--max-regression", "1000%"])
        .arg(dir.path().join("pb.json"))
        .arg(dir.path().join("tachy.json"))
        .assert()
        .success()
        .stdout(predicates::str::contains("test_api.py::test_call_returns_the_result"))
        .stdout(predicates::str::contains("pytest-benchmark file"));
}

const GATED: &str = r#"
import os

N = int(os.environ["WORK_N"])


def work():
    return sum(range(N))


def test_work(benchmark):
    assert benchmark(work) == N * (N - 1) // 2
"#;

#[test]
fn a_slowed_function_fails_tachy_compare() {
    let Some(py) = venv_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("test_gated.py"), GATED).unwrap();
    let fast = [("WORK_N", "20000")];
    let slow = [("WORK_N", "100000")];
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let mut all = vec!["--tachy-min-time", "0.3"];
        all.extend_from_slice(args);
        pytest(&py, dir.path(), &all, env)
    };

    // Comparing with a baseline that does not exist is refused before anything runs.
    let out = run(&["--tachy-compare", "main"], &fast);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert!(text(&out).contains("no tachy baseline named 'main'"), "{}", text(&out));

    let out = run(&["--tachy-save", "main"], &fast);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Saved baseline 'main'"), "{}", text(&out));
    assert!(dir.path().join(".tachy/baselines/main.json").exists());

    // The same code passes a generous gate.
    let out = run(&["--tachy-compare", "main", "--tachy-metric", "cpu", "--tachy-max-regression", "200%"], &fast);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Baseline 'main'"), "{}", text(&out));

    // Five times the work: a significant regression, and the session fails. Gated on CPU time,
    // which a loaded machine leaves steady (wall time there varied with a CV of 94%, hiding
    // even a 5x slowdown from the significance test).
    let out = run(&["--tachy-compare", "main", "--tachy-metric", "cpu", "--tachy-json", "slow.json"], &slow);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("1 passed"), "the test itself passed: {all}");
    assert!(all.contains("REGRESSED") && all.contains("benchmark gate failed"), "{all}");
    // The pytest-benchmark export is also a baseline for `tachy bench compare` (its verdict is on
    // wall time, the only time that format keeps, so on a loaded machine it may not be
    // significant: the file must be read and compared, whatever the verdict).
    let out = tachy()
        .args(["bench", "compare"])
        .arg(dir.path().join(".tachy/baselines/main.json"))
        .arg(dir.path().join("slow.json"))
        .output()
        .unwrap();
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("test_gated.py::test_work"));
}

const SELECTION: &str = r#"
CALLS = []


def work():
    CALLS.append(1)
    return 7


def test_once(benchmark):
    del CALLS[:]
    assert benchmark(work) == 7
    assert (len(CALLS) == 1) == benchmark.disabled


def test_pedantic_once(benchmark):
    del CALLS[:]
    assert benchmark.pedantic(work, rounds=5, warmup_rounds=1) == 7
    assert len(CALLS) == (1 if benchmark.disabled else 6)


def test_not_a_benchmark():
    assert True
"#;

#[test]
fn disabled_skipped_and_missing_binary() {
    let Some(py) = venv_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("test_sel.py"), SELECTION).unwrap();

    // --tachy-disable (or pytest-benchmark's name for it): functions run once, untimed, and
    // nothing is analysed.
    for flag in ["--tachy-disable", "--benchmark-disable"] {
        let out = pytest(&py, dir.path(), &[flag], &[]);
        let all = text(&out);
        assert!(out.status.success() && all.contains("3 passed"), "{all}");
        assert!(!all.contains("tachy benchmarks"), "{all}");
    }

    // --tachy-skip / --tachy-only select by use of the fixture.
    let out = pytest(&py, dir.path(), &["--tachy-skip"], &[]);
    assert!(text(&out).contains("1 passed, 2 skipped"), "{}", text(&out));
    let out = pytest(&py, dir.path(), &["--tachy-only", "--tachy-min-time", "0.01"], &[]);
    assert!(out.status.success() && text(&out).contains("2 passed, 1 skipped"), "{}", text(&out));

    // No binary: the benchmarks error with what to do; other tests still pass.
    let out = pytest(&py, dir.path(), &["-k", "test_once or not_a"], &[("TACHY_BIN", "/nonexistent/tachy")]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("1 passed") && all.contains("1 error"), "{all}");
    assert!(!all.contains("During handling"), "{all}");
    assert!(all.contains("TACHY_BIN is set to '/nonexistent/tachy'"), "{all}");

    // Nowhere to be found: how to install it from the source (tachy is not on PyPI).
    let home = tempfile::tempdir().unwrap();
    let user_base = home.path().to_str().unwrap();
    let out = pytest(
        &py,
        dir.path(),
        &["-k", "test_once"],
        &[("TACHY_BIN", ""), ("PATH", "/nonexistent"), ("PYTHONUSERBASE", user_base), ("HOME", user_base)],
    );
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("cannot find the tachy binary"), "{all}");
    assert!(all.contains("pip install path/to/tachy"), "{all}");
    assert!(!all.contains("pip install tachy`"), "{all}");
}

const CLOCKS: &str = r#"
import gc
import time


class Heavy:
    """Cheap to make, costly to free: its __del__ computes."""

    def __del__(self):
        total = 0
        for i in range(3_000_000):
            total += i


def make_heavy():
    time.sleep(0.006)
    return Heavy()


def test_heavy_result(benchmark):
    benchmark(make_heavy)


def test_heavy_result_pedantic(benchmark):
    benchmark.pedantic(make_heavy, rounds=6)


def test_large_result(benchmark):
    benchmark(lambda: [{"i": i} for i in range(200_000)])


HEAP = [{"i": i} for i in range(300_000)]
CALLS = [0]


def sometimes_collect():
    CALLS[0] += 1
    if CALLS[0] % 3 == 0:
        gc.collect()
    else:
        sum(range(20_000))


def test_gc_outliers(benchmark):
    benchmark.pedantic(sometimes_collect, rounds=30)
"#;

#[test]
fn cpu_time_covers_the_same_work_as_wall_time_and_gc_outliers_are_named() {
    let Some(py) = venv_python() else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("test_clocks.py"), CLOCKS).unwrap();
    let out = pytest(&py, dir.path(), &["--tachy-min-time", "0.05", "--tachy-raw", "raw.json"], &[]);
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    let raw = read_json(&dir.path().join("raw.json"));
    let benches = raw["benchmarks"].as_array().unwrap();
    let median = |xs: Vec<f64>| {
        let mut xs = xs;
        xs.sort_by(f64::total_cmp);
        let n = xs.len();
        if n % 2 == 1 { xs[n / 2] } else { (xs[n / 2 - 1] + xs[n / 2]) / 2.0 }
    };
    let floats = |v: &serde_json::Value| v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect::<Vec<_>>();
    for name in ["test_heavy_result", "test_heavy_result_pedantic", "test_large_result"] {
        let b = benches.iter().find(|b| b["name"].as_str().unwrap().ends_with(name)).unwrap();
        assert_eq!(b["iterations"], 1, "{name}: one call per round, its result outlives the round");
        let wall = median(floats(&b["times"]));
        let cpu = median(floats(&b["user_times"]).iter().zip(floats(&b["system_times"])).map(|(u, s)| u + s).collect());
        // One thread cannot use more CPU than wall time: freeing the result (a __del__ that
        // computes ten times longer than the call) is outside both windows.
        assert!(cpu <= wall * 1.02, "{name}: CPU median {cpu} > wall median {wall}\n{b}");
    }

    // Per-round collections are recorded; the rounds that ran gc.collect() are the far
    // outliers, and the warning puts them down to the program's GC.
    let b = benches.iter().find(|b| b["name"].as_str().unwrap().ends_with("test_gc_outliers")).unwrap();
    let gcs = b["gc_collections"].as_array().unwrap();
    assert_eq!(gcs.len(), 30, "{b}");
    let full = gcs.iter().filter(|g| g.as_array().unwrap().last().unwrap().as_u64().unwrap() > 0).count();
    assert!(full >= 10, "every third round collects: {full}\n{b}");
    let line = all
        .lines()
        .find(|l| l.contains("test_gc_outliers") && l.contains("are far outliers"))
        .unwrap_or_else(|| panic!("an outlier warning for test_gc_outliers: {all}"));
    assert!(line.contains("ran a full garbage collection") && line.contains("--tachy-disable-gc"), "{line}");
    assert!(!line.contains("interference"), "{line}");

    // With the collector off, nothing is recorded.
    let out = pytest(
        &py,
        dir.path(),
        &["-k", "large", "--tachy-disable-gc", "--tachy-min-time", "0.01", "--tachy-raw", "raw.json"],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    let raw = read_json(&dir.path().join("raw.json"));
    assert!(raw["benchmarks"][0].get("gc_collections").is_none(), "{raw}");
}
