//! `tachy bench` end to end: real commands and Python programs for structure and verdicts,
//! the deterministic `--debug-mock` executor for gate logic and snapshots.

use std::path::Path;

use predicates::prelude::*;
use tachy_test::{example, python, sh_quote};

use crate::{json, tachy};

fn py(script: &Path) -> String {
    format!("{} {}", sh_quote(python()), sh_quote(script))
}

#[test]
fn python_programs_are_compared_with_a_significant_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let fast = dir.path().join("fast.py");
    let slow = dir.path().join("slow.py");
    std::fs::write(&fast, "sum(range(10_000))\n").unwrap();
    std::fs::write(&slow, "sum(range(6_000_000))\n").unwrap();
    let out = tachy()
        .args(["bench", "--json", "--runs", "12", "--warmup", "1"])
        .arg(py(&slow))
        .arg(py(&fast))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    assert_eq!(v["schema"], "tachy-bench/1");
    let results = v["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    for r in results {
        assert_eq!(r["times"].as_array().unwrap().len(), 12);
        assert_eq!(r["stats"]["warmup_runs"], 1);
        assert!(r["exit_codes"].as_array().unwrap().iter().all(|c| c == 0));
        assert!(r["memory_usage_byte"][0].as_u64().unwrap() > 1_000_000, "a Python process has MBs of RSS");
        assert!(r["user"].as_f64().unwrap() >= 0.0);
        let (lo, med, hi) = (
            r["stats"]["median_ci"]["low"].as_f64().unwrap(),
            r["median"].as_f64().unwrap(),
            r["stats"]["median_ci"]["high"].as_f64().unwrap(),
        );
        assert!(lo <= med && med <= hi);
    }
    // The fastest is the reference; the slow program is significantly slower.
    let rel = v["relative"].as_array().unwrap();
    let slow_row = rel.iter().find(|r| r["command"].as_str().unwrap().contains("slow.py")).unwrap();
    assert_eq!(slow_row["verdict"], "slower");
    assert!(slow_row["comparison"]["ratio"]["ratio"].as_f64().unwrap() > 1.0);
    assert!(slow_row["comparison"]["test"]["p_value"].as_f64().unwrap() < 0.01);
    assert_eq!(v["context"]["interleaved"], true);
    assert!(v["context"]["shell_overhead"].as_f64().unwrap() > 0.0);
}

#[test]
fn text_summary_names_each_benchmark_and_the_relative_speed() {
    let concat = py(&example("str_concat.py"));
    let join = py(&example("str_join.py"));
    tachy()
        .args(["bench", "--runs", "5"])
        .arg(&concat)
        .arg(&join)
        .assert()
        .success()
        .stdout(predicate::str::contains("Benchmark 1:").and(predicate::str::contains("str_concat.py")))
        .stdout(predicate::str::contains("Time (median ± MAD)"))
        .stdout(predicate::str::contains("Relative speed"));
}

#[test]
fn no_shell_executes_directly() {
    let out = tachy().args(["bench", "-N", "--json", "--runs", "5", "true"]).output().unwrap();
    assert!(out.status.success());
    let v = json(&out);
    assert!(v["context"]["shell"].is_null());
    assert!(v["context"]["shell_overhead"].is_null());
    assert_eq!(v["results"][0]["times"].as_array().unwrap().len(), 5);
}

#[test]
fn automatic_run_count_respects_min_runs_and_max_runs() {
    let out = tachy().args(["bench", "-N", "--json", "--min-time", "0s", "--min-runs", "7", "true"]).output().unwrap();
    assert_eq!(json(&out)["results"][0]["times"].as_array().unwrap().len(), 7);
    let out = tachy().args(["bench", "-N", "--json", "--min-time", "1h", "--max-runs", "15", "true"]).output().unwrap();
    assert_eq!(json(&out)["results"][0]["times"].as_array().unwrap().len(), 15);
}

#[test]
fn failing_command_names_itself_and_its_stderr() {
    tachy()
        .args(["bench", "--runs", "3", "echo 'database is down' >&2; exit 3"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "tachy: error: command 'echo 'database is down' >&2; exit 3' failed (exit code 3): database is down",
        ))
        .stderr(predicate::str::contains("--ignore-failure"))
        .stderr(predicate::str::contains("panicked").not());
}

#[test]
fn ignore_failure_keeps_the_exit_codes() {
    let out = tachy().args(["bench", "-i", "--json", "--runs", "3", "exit 4"]).output().unwrap();
    assert!(out.status.success());
    let v = json(&out);
    assert_eq!(v["results"][0]["exit_codes"], serde_json::json!([4, 4, 4]));
    assert!(v["warnings"].as_array().unwrap().iter().any(|w| w.as_str().unwrap().contains("non-zero in 3 of 3")));
}

#[test]
fn command_not_found_is_one_clear_line() {
    tachy()
        .args(["bench", "--runs", "2", "tachy-no-such-program --fast"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("command not found"));
    tachy()
        .args(["bench", "-N", "--runs", "2", "tachy-no-such-program --fast"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot run `tachy-no-such-program`: not found on PATH"));
}

#[test]
fn no_command_is_a_usage_error() {
    tachy().arg("bench").assert().code(2).stderr(predicate::str::contains("COMMAND"));
}

#[test]
fn bad_parameter_ranges_are_rejected() {
    tachy()
        .args(["bench", "-P", "n", "5", "1", "sleep {n}"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("minimum 5 is greater than the maximum 1"));
    tachy()
        .args(["bench", "-P", "n", "1", "5", "-D", "0", "sleep {n}"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("step must be positive"));
    tachy()
        .args(["bench", "-L", "x", "1,2", "sleep 0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("parameter 'x' is not used"));
}

#[test]
fn parameter_scan_expands_commands_and_names() {
    let out = tachy()
        .args(["bench", "--json", "--runs", "2", "-P", "n", "1", "3", "-n", "count-{n}", "-N", "sh -c 'exit 0' {n}"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    let names: Vec<&str> = v["results"].as_array().unwrap().iter().map(|r| r["command"].as_str().unwrap()).collect();
    assert_eq!(names, ["count-1", "count-2", "count-3"]);
    assert_eq!(v["results"][2]["parameters"]["n"], "3");
    assert_eq!(v["results"][2]["command_line"], "sh -c 'exit 0' 3");
}

#[test]
fn setup_prepare_and_cleanup_run_around_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let l = sh_quote(&log);
    tachy()
        .args(["bench", "--runs", "2", "--no-interleave"])
        .args(["--setup", &format!("echo setup >> {l}")])
        .args(["--prepare", &format!("echo prepare >> {l}")])
        .args(["--cleanup", &format!("echo cleanup >> {l}")])
        .arg(format!("echo run >> {l}"))
        .assert()
        .success();
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "setup\nprepare\nrun\nprepare\nrun\ncleanup\n");
}

#[test]
fn exports_are_written_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let (j, c, m) = (dir.path().join("r.json"), dir.path().join("r.csv"), dir.path().join("r.md"));
    tachy()
        .args(["bench", "-q", "--runs", "3", "-N", "true", "sleep 0.01"])
        .arg("--export-json")
        .arg(&j)
        .arg("--export-csv")
        .arg(&c)
        .arg("--export-markdown")
        .arg(&m)
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&j).unwrap()).unwrap();
    for key in ["command", "mean", "stddev", "median", "user", "system", "min", "max", "times", "exit_codes"] {
        assert!(!v["results"][1][key].is_null(), "hyperfine field {key}");
    }
    let csv = std::fs::read_to_string(&c).unwrap();
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().starts_with("command,mean,stddev,median"));
    assert_eq!(lines.count(), 2);
    let md = std::fs::read_to_string(&m).unwrap();
    assert!(md.starts_with("| Command | Median"), "{md}");
    assert!(md.contains("`sleep 0.01`"));
}

#[test]
fn reference_command_is_added_and_used() {
    let out = tachy()
        .args(["bench", "--debug-mock", "--json", "--runs", "10", "--reference", "50", "10", "100"])
        .output()
        .unwrap();
    let v = json(&out);
    let names: Vec<&str> = v["results"].as_array().unwrap().iter().map(|r| r["command"].as_str().unwrap()).collect();
    assert_eq!(names, ["50", "10", "100"]);
    let verdicts: Vec<&str> =
        v["relative"].as_array().unwrap().iter().map(|r| r["verdict"].as_str().unwrap()).collect();
    assert_eq!(verdicts, ["reference", "faster", "slower"]);
}

#[test]
fn baseline_gate_fails_only_on_significant_regressions_over_the_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let bench = |extra: &[&str], cmd: &str| {
        let mut c = tachy();
        c.current_dir(dir.path()).args(["bench", "--debug-mock", "--runs", "20", "-n", "work"]).args(extra).arg(cmd);
        c
    };
    bench(&["--save-baseline", "main"], "100")
        .assert()
        .success()
        .stderr(predicate::str::contains("Saved baseline 'main'"));
    assert!(dir.path().join(".tachy/baselines/main.json").exists());

    // The same distribution: unchanged.
    bench(&["--baseline", "main"], "100").assert().success().stdout(predicate::str::contains("unchanged"));
    // 20% slower: significant and over 5%.
    bench(&["--baseline", "main"], "120")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("REGRESSED").and(predicate::str::contains("FAILED: 1 regression")));
    // 3% slower: significant but within the 5% threshold.
    bench(&["--baseline", "main"], "103")
        .assert()
        .success()
        .stdout(predicate::str::contains("slower (within threshold)"));
    // The same 3% fails a 2% gate.
    bench(&["--baseline", "main", "--max-regression", "2%"], "103").assert().code(1);
    // Faster: reported as an improvement.
    bench(&["--baseline", "main"], "80").assert().success().stdout(predicate::str::contains("improved"));
    // JSON carries the gate.
    let out = bench(&["--baseline", "main", "--json"], "120").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v = json(&out);
    assert_eq!(v["gate"]["failed"], true);
    assert_eq!(v["gate"]["rows"][0]["verdict"], "regressed");
}

#[test]
fn baseline_lacking_a_command_compares_what_matches() {
    let dir = tempfile::tempdir().unwrap();
    tachy()
        .current_dir(dir.path())
        .args(["bench", "--debug-mock", "--runs", "10", "--save-baseline", "b", "10"])
        .assert()
        .success();
    tachy()
        .current_dir(dir.path())
        .args(["bench", "--debug-mock", "--runs", "10", "--baseline", "b", "10", "20"])
        .assert()
        .success()
        .stdout(predicate::str::contains("not in the baseline: not compared"))
        .stdout(predicate::str::contains("'20' is not in baseline 'b'"));
}

#[test]
fn missing_or_broken_baselines_fail_before_running() {
    let dir = tempfile::tempdir().unwrap();
    tachy()
        .current_dir(dir.path())
        .args(["bench", "--baseline", "nope", "this-would-fail-if-run"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("no baseline named 'nope'").and(predicate::str::contains("--save-baseline nope")),
        );
    std::fs::create_dir_all(dir.path().join(".tachy/baselines")).unwrap();
    std::fs::write(dir.path().join(".tachy/baselines/bad.json"), "{ not json").unwrap();
    tachy()
        .current_dir(dir.path())
        .args(["bench", "--baseline", "bad", "true"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.json is not valid JSON (line 1"));
    tachy()
        .current_dir(dir.path())
        .args(["bench", "--save-baseline", "../escape", "true"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("baseline name '../escape' is invalid"));
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn compare_reads_saved_and_hyperfine_files() {
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("old.json");
    let new = dir.path().join("new.json");
    tachy()
        .args(["bench", "--debug-mock", "--runs", "15", "-q", "-n", "a", "100", "--export-json"])
        .arg(&old)
        .assert()
        .success();
    tachy()
        .args(["bench", "--debug-mock", "--runs", "15", "-q", "-n", "a", "130", "--export-json"])
        .arg(&new)
        .assert()
        .success();
    tachy()
        .args(["bench", "compare"])
        .arg(&old)
        .arg(&new)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("REGRESSED"));
    tachy()
        .args(["bench", "compare"])
        .arg(&new)
        .arg(&old)
        .assert()
        .success()
        .stdout(predicate::str::contains("improved"));
    tachy().args(["bench", "compare", "--max-regression", "50%"]).arg(&old).arg(&new).assert().success();

    // A hyperfine export (as written by `hyperfine --export-json`).
    let times: Vec<String> = (0..15).map(|i| format!("{:.4}", 0.1 + 0.0001 * f64::from(i))).collect();
    let hf = write(
        dir.path(),
        "hf.json",
        &format!(
            r#"{{"results":[{{"command":"a","mean":0.1007,"stddev":0.0004,"median":0.1007,"user":0.09,"system":0.01,"min":0.1,"max":0.1014,"times":[{}],"exit_codes":[{}]}}]}}"#,
            times.join(","),
            vec!["0"; 15].join(",")
        ),
    );
    tachy()
        .args(["bench", "compare"])
        .arg(&hf)
        .arg(&new)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("REGRESSED"))
        .stdout(predicate::str::contains("hyperfine export"));
}

#[test]
fn compare_rejects_empty_corrupt_and_foreign_files() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.json");
    tachy().args(["bench", "--debug-mock", "--runs", "5", "-q", "10", "--export-json"]).arg(&good).assert().success();
    let cases = [
        ("empty.json", "", "is empty"),
        ("corrupt.json", "{\"results\": [1, 2", "is not valid JSON"),
        (
            "foreign.json",
            "{\"name\": \"package.json\", \"version\": \"1.0.0\"}",
            "is not a tachy, hyperfine or pytest-benchmark result",
        ),
        ("future.json", "{\"schema\": \"tachy-bench/99\", \"results\": []}", "schema 'tachy-bench/99'"),
    ];
    for (name, text, message) in cases {
        let bad = write(dir.path(), name, text);
        tachy()
            .args(["bench", "compare"])
            .arg(&bad)
            .arg(&good)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message).and(predicate::str::contains("panicked").not()));
    }
    tachy()
        .args(["bench", "compare"])
        .arg(dir.path().join("missing.json"))
        .arg(&good)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read").and(predicate::str::contains("missing.json")));
    // Nothing in common.
    let other = dir.path().join("other.json");
    tachy()
        .args(["bench", "--debug-mock", "--runs", "5", "-q", "-n", "zzz", "10", "--export-json"])
        .arg(&other)
        .assert()
        .success();
    tachy()
        .args(["bench", "compare"])
        .arg(&good)
        .arg(&other)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("matches"));
}

/// Runs a long benchmark of `sleep SECS`, sends `signals` SIGINTs 50 ms apart once `runs` runs
/// completed, and returns the output and the exported JSON.
fn interrupt_a_bench(sleep: &str, runs: usize, signals: usize) -> (std::process::Output, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let counter = dir.path().join("counter");
    let export = dir.path().join("partial.json");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("tachy"))
        .args(["bench", "--runs", "10000", "--export-json"])
        .arg(&export)
        .arg(format!("sleep {sleep}; echo x >> {}", sh_quote(&counter)))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert!(tachy_test::wait_for_lines(&counter, runs, std::time::Duration::from_secs(120)), "runs never completed");
    for _ in 0..signals {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&export).unwrap()).unwrap();
    (out, v)
}

#[test]
fn ctrl_c_prints_and_exports_what_was_collected() {
    let (out, v) = interrupt_a_bench("0.02", 3, 1);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("Interrupted"), "{stdout}");
    assert!(stdout.contains("Time (median ± MAD)"), "{stdout}");
    assert_eq!(v["interrupted"], true);
    let n = v["results"][0]["times"].as_array().unwrap().len();
    assert!((2..10000).contains(&n), "{n} runs");
}

#[test]
fn sigterm_is_handled_like_ctrl_c() {
    // `kill PID`, a CI runner cancelling a job, a container stopping: SIGTERM used to kill
    // tachy outright (exit by signal, nothing written) although it is handled like Ctrl-C.
    let dir = tempfile::tempdir().unwrap();
    let counter = dir.path().join("counter");
    let export = dir.path().join("partial.json");
    std::fs::write(&export, "stale").unwrap();
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("tachy"))
        .args(["bench", "--runs", "10000", "--export-json"])
        .arg(&export)
        .arg(format!("sleep 0.02; echo x >> {}", sh_quote(&counter)))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert!(tachy_test::wait_for_lines(&counter, 3, std::time::Duration::from_secs(120)), "runs never completed");
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&export).unwrap()).unwrap();
    assert_eq!(v["interrupted"], true);
}

#[test]
fn a_double_ctrl_c_still_prints_and_exports_the_runs() {
    // GNU `timeout -s INT` and an impatient double Ctrl-C deliver two signals: only a third
    // may lose the results.
    let (out, v) = interrupt_a_bench("0.2", 2, 2);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Time (median ± MAD)"));
    assert_eq!(v["interrupted"], true);
}

#[test]
fn mock_text_output_snapshot() {
    let out = tachy()
        .args(["bench", "--debug-mock", "--runs", "20", "--warmup", "2", "-n", "fast", "-n", "slow", "10", "25"])
        .output()
        .unwrap();
    assert!(out.status.success());
    insta::assert_snapshot!(tachy_test::without_machine_lines(&String::from_utf8_lossy(&out.stdout)));
}

#[test]
fn mock_markdown_gate_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    tachy()
        .current_dir(dir.path())
        .args([
            "bench",
            "--debug-mock",
            "--runs",
            "20",
            "-q",
            "--save-baseline",
            "main",
            "-n",
            "parse",
            "-n",
            "render",
            "100",
            "50",
        ])
        .assert()
        .success();
    let md = dir.path().join("pr.md");
    tachy()
        .current_dir(dir.path())
        .args([
            "bench",
            "--debug-mock",
            "--runs",
            "20",
            "--baseline",
            "main",
            "-n",
            "parse",
            "-n",
            "render",
            "100",
            "60",
            "--export-markdown",
        ])
        .arg(&md)
        .assert()
        .code(1);
    insta::assert_snapshot!(std::fs::read_to_string(&md).unwrap());
}

#[test]
fn cpu_metric_compares_cpu_time_not_waiting() {
    let dir = tempfile::tempdir().unwrap();
    let busy = dir.path().join("busy.py");
    // A few ms of CPU against a second of sleep: on a loaded machine the busy program may take
    // several times its CPU time in wall time, still far below the sleeper's second.
    std::fs::write(&busy, "sum(range(300_000))\n").unwrap();
    let sleeper = "sleep 1";
    let verdict = |metric: &str| {
        let out = tachy()
            .args(["bench", "--json", "--runs", "8", "--metric", metric, "-n", "sleeper", "-n", "busy", sleeper])
            .arg(py(&busy))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let v = json(&out);
        assert_eq!(v["context"]["metric"], metric);
        assert!(v["results"][1]["stats"]["cpu"]["median"].as_f64().unwrap() > 0.0);
        let rel = v["relative"].as_array().unwrap().clone();
        rel.iter().find(|r| r["verdict"] == "reference").unwrap()["command"].as_str().unwrap().to_string()
    };
    // Sleeping costs wall time but almost no CPU; the Python loop costs both.
    assert_eq!(verdict("cpu"), "sleeper");
    assert_eq!(verdict("wall"), "busy");
}

#[test]
fn cpu_metric_on_a_hyperfine_export_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let hf = write(
        dir.path(),
        "hf.json",
        r#"{"results":[{"command":"a","mean":0.1,"stddev":0.0,"median":0.1,"user":0.09,"system":0.01,"min":0.1,"max":0.1,"times":[0.1,0.1,0.1],"exit_codes":[0,0,0]}]}"#,
    );
    tachy()
        .args(["bench", "compare", "--metric", "cpu"])
        .arg(&hf)
        .arg(&hf)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("has no per-run CPU time").and(predicate::str::contains("--metric wall")));
}

#[test]
fn reference_gate_in_one_interleaved_run() {
    let run = |extra: &[&str]| {
        tachy()
            .args(["bench", "--debug-mock", "--runs", "20", "--reference", "100", "-n", "main", "-n", "branch"])
            .args(extra)
            .args(["100", "130"])
            .output()
            .unwrap()
    };
    // Without --max-regression it is a comparison only.
    assert_eq!(run(&[]).status.code(), Some(0));
    let out = run(&["--max-regression", "5%"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Against the reference 'main'") && text.contains("REGRESSED"), "{text}");
    assert_eq!(run(&["--max-regression", "50%"]).status.code(), Some(0));
}

/// `tachy bench --python` with small, fast settings and the real interpreter.
fn python_bench(extra: &[&str]) -> assert_cmd::Command {
    let mut c = tachy();
    c.args(["bench", "--processes", "3", "--values", "5", "--min-time", "0.3s", "--python-exe"])
        .arg(python())
        .args(extra);
    c
}

#[test]
fn python_statements_tell_a_list_lookup_from_a_set_lookup() {
    let out = python_bench(&["--json", "--setup", "xs = list(range(10_000)); s = set(xs); x = 9_999"])
        .args(["--python", "x in xs", "--python", "x in s", "-n", "list", "-n", "set"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    assert_eq!(v["schema"], "tachy-bench/1");
    assert!(v["context"]["shell"].is_null());
    for r in v["results"].as_array().unwrap() {
        assert_eq!(r["times"].as_array().unwrap().len(), 15, "3 processes x 5 values");
        assert_eq!(r["stats"]["warmup_runs"], 3, "one warmup value per process");
        assert!(r["parameters"]["loops"].as_str().unwrap().parse::<u64>().unwrap() >= 1);
        assert!(r["stats"]["cpu"]["median"].as_f64().unwrap() > 0.0);
        assert!(r["memory_usage_byte"][0].as_u64().unwrap() > 1_000_000);
    }
    // A set lookup takes far fewer loops' time: its loop count is calibrated higher.
    let loops = |i: usize| v["results"][i]["parameters"]["loops"].as_str().unwrap().parse::<u64>().unwrap();
    assert!(loops(1) > loops(0));
    let rel = v["relative"].as_array().unwrap();
    let row = |name: &str| rel.iter().find(|r| r["command"] == name).unwrap();
    assert_eq!(row("set")["verdict"], "reference");
    assert_eq!(row("list")["verdict"], "slower");
    assert!(row("list")["comparison"]["ratio"]["ratio"].as_f64().unwrap() > 10.0);
    assert!(row("list")["comparison"]["test"]["p_value"].as_f64().unwrap() < 0.001);
}

#[test]
fn python_statement_errors_are_one_clear_line() {
    python_bench(&["--python", "undefined_name + 1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("Python statement 'undefined_name + 1' failed"))
        .stderr(predicate::str::contains("NameError"))
        .stderr(predicate::str::contains("panicked").not());
    python_bench(&["--python", "x = ("]).assert().code(2).stderr(predicate::str::contains("SyntaxError"));
    tachy()
        .args(["bench", "--python", "pass", "--python-exe", "/nonexistent/python3"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot use /nonexistent/python3 for --python"));
    tachy()
        .args(["bench", "--python", "pass", "--prepare", "echo"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--prepare and --cleanup take shell commands"));
    tachy()
        .args(["bench", "--python", "pass", "true"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot be used with"));
    tachy()
        .args(["bench", "--processes", "3", "true"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("apply to --python statements only"));
}

#[test]
fn python_statements_use_baselines_and_the_gate() {
    let dir = tempfile::tempdir().unwrap();
    let run = |stmt: &str, extra: &[&str]| {
        let mut c = python_bench(&["-n", "work", "--python", stmt]);
        c.current_dir(dir.path()).args(extra);
        c
    };
    run("sum(range(200))", &["--save-baseline", "py"]).assert().success();
    // Ten times the work under the same name: a significant regression.
    run("sum(range(2000))", &["--baseline", "py"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("REGRESSED").and(predicate::str::contains("Parameters: loops=")));
    // Parameters expand statements like commands.
    let out = python_bench(&["--json", "-L", "n", "10,1000", "--python", "sum(range({n}))"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    let names: Vec<&str> = v["results"].as_array().unwrap().iter().map(|r| r["command"].as_str().unwrap()).collect();
    assert_eq!(names, ["sum(range(10))", "sum(range(1000))"]);
    assert_eq!(v["results"][1]["parameters"]["n"], "1000");
}

fn raw_file(dir: &Path, benchmarks: &str) -> std::path::PathBuf {
    write(
        dir,
        "raw.json",
        &format!(r#"{{"schema": "tachy-bench-raw/1", "source": "pytest", "benchmarks": [{benchmarks}]}}"#),
    )
}

#[test]
fn from_raw_analyses_timings_measured_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let times = |base: f64| {
        (0..30).map(|i| format!("{}", base * (1.0 + 0.001 * f64::from(i % 7)))).collect::<Vec<_>>().join(",")
    };
    let raw = raw_file(
        dir.path(),
        &format!(
            r#"{{"name": "t.py::test_a", "times": [{}], "iterations": 100, "pytest": {{"name": "test_a", "fullname": "t.py::test_a", "extra_info": {{"k": 1}}}}}},
               {{"name": "t.py::test_b", "times": [{}]}}"#,
            times(1e-6),
            times(3e-6)
        ),
    );
    let pb = dir.path().join("pb.json");
    let out = tachy()
        .current_dir(dir.path())
        .args(["bench", "--json", "--save-baseline", "raw", "--from-raw"])
        .arg(&raw)
        .arg("--export-pytest-json")
        .arg(&pb)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v = json(&out);
    assert_eq!(v["results"][0]["command"], "t.py::test_a");
    assert_eq!(v["results"][0]["times"].as_array().unwrap().len(), 30);
    assert_eq!(v["relative"][1]["verdict"], "slower");
    let p: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&pb).unwrap()).unwrap();
    assert_eq!(p["benchmarks"][0]["fullname"], "t.py::test_a");
    assert_eq!(p["benchmarks"][0]["extra_info"]["k"], 1);
    assert_eq!(p["benchmarks"][0]["stats"]["iterations"], 100);
    assert_eq!(p["benchmarks"][1]["name"], "test_b");
    // The saved baseline gates the next raw file, and --reference names a benchmark.
    let slower = raw_file(dir.path(), &format!(r#"{{"name": "t.py::test_a", "times": [{}]}}"#, times(2e-6)));
    tachy()
        .current_dir(dir.path())
        .args(["bench", "--baseline", "raw", "--from-raw"])
        .arg(&slower)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("REGRESSED"));
    tachy()
        .args(["bench", "--from-raw"])
        .arg(&raw)
        .args(["--reference", "nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--reference 'nope' is not one of the benchmarks"));
    let bad =
        write(dir.path(), "bad.json", r#"{"schema": "tachy-bench-raw/1", "benchmarks": [{"name": "a", "times": []}]}"#);
    tachy()
        .args(["bench", "--from-raw"])
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a usable raw-timings file: 'a' has no rounds"));
}

#[test]
fn compare_reads_pytest_benchmark_files() {
    let dir = tempfile::tempdir().unwrap();
    let data = |base: f64| {
        (0..20).map(|i| format!("{}", base * (1.0 + 0.002 * f64::from(i % 5)))).collect::<Vec<_>>().join(",")
    };
    // As written by pytest-benchmark's --benchmark-json (abridged to the fields it reads).
    let pb = |name: &str, base: f64| {
        write(
            dir.path(),
            name,
            &format!(
                r#"{{"machine_info": {{"node": "ci"}}, "commit_info": {{}}, "benchmarks": [
                    {{"group": null, "name": "test_parse", "fullname": "tests/test_p.py::test_parse", "params": null, "param": null, "extra_info": {{}},
                      "options": {{"disable_gc": false, "timer": "perf_counter", "min_rounds": 5, "max_time": 1.0, "min_time": 5e-06, "warmup": false}},
                      "stats": {{"min": {base}, "max": {base}, "mean": {base}, "stddev": 0, "rounds": 20, "median": {base}, "iterations": 1, "data": [{}]}}}},
                    {{"group": null, "name": "test_nodata", "fullname": "tests/test_p.py::test_nodata", "stats": {{"mean": 1.0, "rounds": 5}}}}],
                  "datetime": "2024-01-01T00:00:00", "version": "4.0.0"}}"#,
                data(base)
            ),
        )
    };
    let old = pb("old.json", 0.001);
    let new = pb("new.json", 0.0015);
    tachy()
        .args(["bench", "compare"])
        .arg(&old)
        .arg(&new)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("tests/test_p.py::test_parse").and(predicate::str::contains("REGRESSED")))
        .stdout(predicate::str::contains("pytest-benchmark file"))
        .stdout(predicate::str::contains("'tests/test_p.py::test_nodata' in"));
    tachy().args(["bench", "compare"]).arg(&new).arg(&old).assert().success();
}

#[test]
fn any_report_exports_pytest_benchmark_json() {
    let dir = tempfile::tempdir().unwrap();
    let pb = dir.path().join("pb.json");
    tachy()
        .args(["bench", "--debug-mock", "--runs", "10", "-q", "-n", "fast", "10", "--export-pytest-json"])
        .arg(&pb)
        .assert()
        .success();
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&pb).unwrap()).unwrap();
    let b = &v["benchmarks"][0];
    assert_eq!(b["fullname"], "fast");
    assert_eq!(b["stats"]["rounds"], 10);
    assert_eq!(b["stats"]["iterations"], 1);
    assert!((b["stats"]["median"].as_f64().unwrap() - 0.010).abs() < 0.001);
    assert!(v["machine_info"]["machine"].is_string());
    // ... and `compare` reads it back.
    tachy().args(["bench", "compare"]).arg(&pb).arg(&pb).assert().success();
}
