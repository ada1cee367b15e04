//! `tachy watch` end to end on real Python processes: launch and `--pid` modes, the growth
//! estimate against a leak of known rate, alerts and their hook, the streamed CSV/JSONL, the
//! plot, `--children`, the Prometheus endpoint, bad input, a target that exits, and Ctrl-C.
//! Every wait is bounded; nothing asserts a duration.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tachy_test::wait_bounded;
use tachy_test::{python, sh_quote, workspace_root};

use crate::{json, tachy};

/// Bound on any single `tachy watch` run (a guard against hangs, never a timing assertion).
const LIMIT: Duration = Duration::from_secs(120);

/// The leak fixture's true growth: 1 MiB every 100 ms = 10 MiB/s, in bytes per hour.
const LEAK_BYTES_PER_HOUR: f64 = 10.0 * 1_048_576.0 * 3600.0;

/// A Python program under `crates/tachy/tests/fixtures/watch/`.
fn fixture(name: &str) -> PathBuf {
    workspace_root().join("crates/tachy/tests/fixtures/watch").join(name)
}

/// Runs `tachy watch ARGS`, bounded.
fn watch(args: &[&str]) -> Output {
    tachy().arg("watch").args(args).timeout(LIMIT).output().unwrap()
}

/// stdout and stderr of a run, for assertion messages.
fn show(out: &Output) -> String {
    format!("status {:?}\nstdout:\n{}\nstderr:\n{}", out.status, String::from_utf8_lossy(&out.stdout), stderr(out))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A process started by a test, killed and reaped when dropped.
struct Guard(Child);

impl Guard {
    fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `python -c CODE` with its output discarded.
fn spawn_python(code: &str) -> Guard {
    Guard(
        Command::new(python())
            .args(["-c", code])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// Spawns `tachy watch ARGS` with piped output, to signal it or talk to it while it runs.
fn spawn_watch(args: &[&str]) -> Child {
    Command::new(assert_cmd::cargo::cargo_bin("tachy"))
        .arg("watch")
        .args(args)
        .env_remove("GITHUB_STEP_SUMMARY")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits (bounded) for a spawned `tachy watch` and collects its output (small enough for the
/// pipes: a short run's report).
fn finish(mut child: Child) -> Output {
    let status = wait_bounded(&mut child, LIMIT);
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    child.stdout.take().unwrap().read_to_end(&mut stdout).unwrap();
    child.stderr.take().unwrap().read_to_end(&mut stderr).unwrap();
    Output { status, stdout, stderr }
}

/// A port that was free a moment ago on 127.0.0.1.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `GET path` on 127.0.0.1:port; the whole response, or None when nothing answers.
fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    Some(text)
}

/// The alert summary of `expr` in a report.
fn summary<'a>(report: &'a Value, expr: &str) -> &'a Value {
    report["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["alert"] == expr)
        .unwrap_or_else(|| panic!("no summary of {expr}: {}", report["alerts"]))
}

/// Whether the report has a firing event of `expr`.
fn fired(report: &Value, expr: &str) -> bool {
    report["events"].as_array().unwrap().iter().any(|e| e["alert"] == expr && e["state"] == "firing")
}

#[test]
fn launch_mode_watches_until_the_command_exits() {
    let py = python().to_str().unwrap();
    let out = watch(&["--interval", "100ms", "--json", "--", py, "-c", "import time; time.sleep(1)"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let r = json(&out);
    assert_eq!(r["schema"], "tachy-watch/1");
    assert_eq!(r["end"], "target_exited", "{r}");
    assert_eq!(r["exit_code"], 0, "{r}");
    assert!(r["samples"].as_u64().unwrap() >= 3, "{r}");
    assert!(r["series"]["rss_bytes"]["max"].as_f64().unwrap() > 0.0, "{r}");
    assert!(r["series"]["threads"]["max"].as_f64().unwrap() >= 1.0, "{r}");
    assert!(!r["children"].as_bool().unwrap());
}

#[test]
fn launch_mode_reports_the_exit_code_of_the_command() {
    let py = python().to_str().unwrap();
    let out =
        watch(&["--interval", "100ms", "--json", "--", py, "-c", "import sys, time; time.sleep(0.5); sys.exit(3)"]);
    // The command failed: tachy exits 2 with one line (no alert fired), the report is printed.
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let errors: Vec<String> =
        stderr(&out).lines().filter(|l| l.starts_with("tachy: error:")).map(String::from).collect();
    assert_eq!(
        errors,
        ["tachy: error: the program exited with code 3 (its report is still written)"],
        "{}",
        show(&out)
    );
    let r = json(&out);
    assert_eq!((r["end"].as_str(), r["exit_code"].as_i64()), (Some("target_exited"), Some(3)), "{r}");

    // Killed by a signal: a failure too.
    let out = watch(&["--interval", "100ms", "--json", "--", py, "-c", "import os; os.kill(os.getpid(), 9)"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    assert!(stderr(&out).contains("tachy: error: the program was killed by a signal"), "{}", show(&out));
    assert_eq!(json(&out)["end"], "target_exited");
}

/// A launched command that tachy stops at the end of `--duration` did not fail.
#[test]
fn a_command_stopped_by_the_duration_is_not_a_failure() {
    let py = python().to_str().unwrap();
    let out =
        watch(&["--duration", "1s", "--interval", "100ms", "--json", "--", py, "-c", "import time; time.sleep(60)"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(json(&out)["end"], "duration");
}

#[test]
fn pid_mode_stops_after_the_duration() {
    let target = spawn_python("import time; time.sleep(30)");
    let pid = target.pid().to_string();
    let out = watch(&["--pid", &pid, "--duration", "1s", "--interval", "100ms", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let r = json(&out);
    assert_eq!(r["end"], "duration", "{r}");
    assert_eq!(r["pid"].as_u64(), Some(u64::from(target.pid())), "{r}");
    assert!(r["samples"].as_u64().unwrap() >= 5, "{r}");
    assert!(r["exit_code"].is_null(), "{r}");
    assert!(r["command"].as_str().unwrap().contains("time.sleep(30)"), "{r}");
}

#[test]
fn pid_mode_ends_when_the_process_exits() {
    let target = spawn_python("import time; time.sleep(1)");
    let pid = target.pid().to_string();
    // The process becomes a zombie of this test (not reaped until the guard drops): tachy
    // must see it as gone.
    let out = watch(&["--pid", &pid, "--duration", "30s", "--interval", "100ms", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let r = json(&out);
    assert_eq!(r["end"], "target_exited", "{r}");
    assert!(r["samples"].as_u64().unwrap() >= 1, "{r}");
    assert!(r["notes"].to_string().contains("exited"), "{r}");
    drop(target);
}

#[test]
fn a_steady_leak_is_measured_and_its_alerts_fire_and_run_the_hook() {
    let dir = tempfile::tempdir().unwrap();
    let hook_log = dir.path().join("alerts.log");
    let hook = format!("echo \"$TACHY_ALERT $TACHY_ALERT_STATE\" >> {}", sh_quote(&hook_log));
    let py = python().to_str().unwrap();
    let leak = fixture("leak.py");
    let out = watch(&[
        "--interval",
        "100ms",
        "--duration",
        "10s",
        "--growth-window",
        "10s",
        "--alert",
        "rss>100MB",
        // The threshold a 10 s run can resolve: at 100 ms, sampling jitter against the 1 MiB
        // chunks gives residuals up to 1 MiB, an interval of about ±0.1 GB/h over 10 s; the
        // truth (37.7 GB/h) is far above 1 GB/h.
        "--alert",
        "growth>1GB/h",
        "--alert",
        "rss>100GB",
        "--on-alert",
        &hook,
        "--json",
        "--",
        py,
        leak.to_str().unwrap(),
        "10",
    ]);
    assert_eq!(out.status.code(), Some(1), "an alert fired: {}", show(&out));
    let r = json(&out);

    // Growth against the truth (10 MiB/s), within 10%, judged at the growth alert's threshold.
    let g = &r["growth"];
    assert_eq!(g["growing"], true, "{g}");
    assert_eq!(g["verdict"], "growing", "{g}");
    assert_eq!(g["threshold_bytes_per_hour"], 1e9, "{g}");
    assert!(g["resolution_bytes_per_hour"].as_f64().unwrap() <= 1e9, "{g}");
    let rate = g["bytes_per_hour"].as_f64().unwrap();
    assert!((rate / LEAK_BYTES_PER_HOUR - 1.0).abs() <= 0.10, "growth {rate} B/h vs truth {LEAK_BYTES_PER_HOUR}: {g}");
    assert!(g["low_bytes_per_hour"].as_f64().unwrap() > 0.0, "{g}");

    // Alerts: both real ones fired, the absurd one did not.
    for expr in ["rss>100MB", "growth>1GB/h"] {
        assert!(fired(&r, expr), "{expr} fired: {}", r["events"]);
        assert!(summary(&r, expr)["fired"].as_u64().unwrap() >= 1, "{}", r["alerts"]);
    }
    assert_eq!(summary(&r, "rss>100GB")["fired"], 0, "{}", r["alerts"]);
    assert!(!fired(&r, "rss>100GB"));
    let err = stderr(&out);
    assert!(err.lines().any(|l| l.contains("FIRING") && l.contains("rss>100MB")), "{err}");
    // The threshold reads as written (decimal MB), not converted to MiB.
    assert!(err.lines().any(|l| l.contains("rss>100MB") && l.contains("(threshold 100 MB)")), "{err}");
    assert!(err.lines().any(|l| l.contains("FIRING") && l.contains("growth>1GB/h")), "{err}");

    // The hook runs asynchronously: wait (bounded) for its lines.
    let start = Instant::now();
    let has = |line: &str| std::fs::read_to_string(&hook_log).is_ok_and(|t| t.lines().any(|l| l == line));
    while !(has("rss>100MB firing") && has("growth>1GB/h firing")) && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = std::fs::read_to_string(&hook_log).unwrap_or_default();
    assert!(has("rss>100MB firing"), "hook log:\n{log}");
    assert!(has("growth>1GB/h firing"), "hook log:\n{log}");
    assert!(!log.contains("rss>100GB"), "hook log:\n{log}");
}

#[test]
fn an_allocate_free_cycle_is_not_a_leak() {
    let py = python().to_str().unwrap();
    let cycle = fixture("cycle.py");
    // 70 ms does not divide the 200 ms cycle: the samples sweep every phase of it.
    let out = watch(&[
        "--interval",
        "70ms",
        "--growth-window",
        "10s",
        "--alert",
        "growth>5MB/h",
        "--alert",
        "rss>100GB",
        "--json",
        "--",
        py,
        cycle.to_str().unwrap(),
        "7",
    ]);
    assert_eq!(out.status.code(), Some(0), "no alert fired: {}", show(&out));
    let r = json(&out);
    assert_eq!(r["end"], "target_exited", "{r}");
    // A 20 MB saw over 7 s is no leak: flat, or not enough data to resolve 5 MB/h (never
    // growing), with the reason.
    let g = &r["growth"];
    assert_eq!(g["growing"], false, "{g}");
    assert_ne!(g["verdict"], "growing", "{g}");
    assert!(!g["reason"].as_str().unwrap().is_empty(), "{g}");
    // The cycle was seen after start-up: RSS swung by most of the 20 MB block.
    let rss: Vec<f64> = r["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["t_secs"].as_f64().unwrap() > 1.0)
        .map(|p| p["rss_bytes"].as_f64().unwrap())
        .collect();
    let swing = rss.iter().copied().fold(f64::MIN, f64::max) - rss.iter().copied().fold(f64::MAX, f64::min);
    assert!(swing > 15e6, "RSS swing {swing}: {rss:?}");
    for expr in ["growth>5MB/h", "rss>100GB"] {
        assert_eq!(summary(&r, expr)["fired"], 0, "{}", r["alerts"]);
    }
    assert!(r["events"].as_array().unwrap().is_empty(), "{}", r["events"]);
    assert!(!stderr(&out).contains("FIRING"), "{}", stderr(&out));
}

#[test]
fn a_warm_up_step_then_flat_is_not_growth() {
    let py = python().to_str().unwrap();
    let warmup = fixture("warmup.py");
    // Flat 1.5 s, one 20 MB step, flat 4.5 s: a fit over the whole run calls the step GiB/h
    // of growth.
    let out = watch(&[
        "--interval",
        "100ms",
        "--alert",
        "growth>5MB/h",
        "--json",
        "--",
        py,
        warmup.to_str().unwrap(),
        "1.5",
        "4.5",
    ]);
    assert_eq!(out.status.code(), Some(0), "no alert fired: {}", show(&out));
    let r = json(&out);
    let g = &r["growth"];
    assert_eq!(g["growing"], false, "{g}");
    assert!(g["verdict"] == "flat" || g["verdict"] == "not_enough_data", "{g}");
    assert!(!fired(&r, "growth>5MB/h"), "{}", r["events"]);
    // The step falls in the first half of the run and is excluded as the warm-up (a start
    // slowed by seconds could push it later, where it is judged and found not sustained).
    if let Some(w) = g["warmup"].as_object()
        && w["to_secs"].as_f64().unwrap() >= 1.0
    {
        let step = w["step_bytes"].as_f64().unwrap();
        assert!((15e6..30e6).contains(&step), "the 20 MB step (plus start-up): {g}");
        assert!(g["from_secs"].as_f64().unwrap() >= w["to_secs"].as_f64().unwrap(), "{g}");
    }
    // The text report says what it excluded or why it cannot tell.
    let out = watch(&["--interval", "100ms", "--", py, warmup.to_str().unwrap(), "1", "2"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Memory growth: ") && !text.contains("GROWING"), "{text}");
}

#[test]
fn csv_jsonl_and_plot_have_one_row_per_sample() {
    let dir = tempfile::tempdir().unwrap();
    let (csv, jsonl, svg) = (dir.path().join("w.csv"), dir.path().join("w.jsonl"), dir.path().join("w.svg"));
    let py = python().to_str().unwrap();
    let out = watch(&[
        "--interval",
        "100ms",
        "--csv",
        csv.to_str().unwrap(),
        "--jsonl",
        jsonl.to_str().unwrap(),
        "--plot",
        svg.to_str().unwrap(),
        "--alert",
        "rss>1GB",
        "--json",
        "--",
        py,
        "-c",
        "import time; time.sleep(1)",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let r = json(&out);
    let samples = r["samples"].as_u64().unwrap() as usize;
    assert!(samples >= 3, "{r}");

    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(header[..3], ["t_secs", "time", "pid"], "{text}");
    assert!(header.contains(&"rss_bytes") && header.contains(&"growth_bytes_per_hour"), "{text}");
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), samples, "{text}");
    let rss_col = header.iter().position(|c| *c == "rss_bytes").unwrap();
    for row in &rows {
        let cells: Vec<&str> = row.split(',').collect();
        assert_eq!(cells.len(), header.len(), "{row}");
        assert_eq!(cells[2], r["pid"].to_string(), "{row}");
        assert!(cells[rss_col].parse::<u64>().is_ok_and(|v| v > 0), "{row}");
    }

    let text = std::fs::read_to_string(&jsonl).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), samples, "{text}");
    for line in lines {
        let s: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(s["total"].is_object(), "{line}");
        assert_eq!(s["processes"][0]["pid"], r["pid"], "{line}");
    }

    let plot = std::fs::read_to_string(&svg).unwrap();
    assert!(plot.trim_start().starts_with("<svg") || plot.trim_start().starts_with("<?xml"), "{plot}");
    assert!(plot.trim_end().ends_with("</svg>"), "{plot}");
}

#[test]
fn launch_mode_samples_the_program_not_its_launcher() {
    // A wrapper that runs a while before it execs the program, like a pyenv shim: the report,
    // CSV and JSONL hold the program only, never the shell before its exec.
    let dir = tempfile::tempdir().unwrap();
    let wrapper = dir.path().join("python-shim");
    let code = "import time; time.sleep(1)";
    std::fs::write(&wrapper, format!("#!/bin/sh\nsleep 0.4\nexec {} -c '{code}'\n", sh_quote(python()))).unwrap();
    std::fs::set_permissions(&wrapper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let jsonl = dir.path().join("w.jsonl");
    let out =
        watch(&["--interval", "50ms", "--jsonl", jsonl.to_str().unwrap(), "--json", "--", wrapper.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let r = json(&out);
    let text = std::fs::read_to_string(&jsonl).unwrap();
    assert!(!text.is_empty(), "{}", show(&out));
    for line in text.lines() {
        let s: Value = serde_json::from_str(line).unwrap();
        let command = s["processes"][0]["command"].as_str().unwrap();
        assert!(command.contains(code), "a sample of the launcher, not the program: {line}");
    }
    assert!(r["samples"].as_u64().unwrap() >= 1, "{r}");
}

#[test]
fn json_on_stdout_never_carries_the_programs_output() {
    let py = python().to_str().unwrap();
    let out = watch(&["--json", "--interval", "100ms", "--", py, "-c", "print(58299); print('hi', flush=True)"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let r = json(&out);
    assert_eq!(r["schema"], "tachy-watch/1");
    let err = stderr(&out);
    assert!(err.contains("58299\nhi\n"), "the program's stdout goes to stderr: {err}");
    // The text report shares stdout with the program, as on a terminal.
    let out = watch(&["--interval", "100ms", "--", py, "-c", "print('hi')"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("hi\n"), "{}", show(&out));
}

#[test]
fn children_are_watched_and_summed() {
    let dir = tempfile::tempdir().unwrap();
    let jsonl = dir.path().join("tree.jsonl");
    let py = python().to_str().unwrap();
    let tree = fixture("tree.py");
    let out = watch(&[
        "--children",
        "--interval",
        "100ms",
        "--jsonl",
        jsonl.to_str().unwrap(),
        "--json",
        "--",
        py,
        tree.to_str().unwrap(),
        "3",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let r = json(&out);
    assert_eq!(r["children"], true);
    assert!(r["series"]["processes"]["max"].as_f64().unwrap() >= 3.0, "{}", r["series"]);
    let text = std::fs::read_to_string(&jsonl).unwrap();
    let samples: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let full = samples
        .iter()
        .find(|s| s["processes"].as_array().unwrap().len() >= 3)
        .unwrap_or_else(|| panic!("no sample with 3 processes:\n{text}"));
    let procs = full["processes"].as_array().unwrap();
    assert_eq!(procs[0]["pid"], r["pid"], "the root first: {full}");
    for child in &procs[1..] {
        assert_eq!(child["ppid"], r["pid"], "{full}");
    }
    let total = full["total"]["rss_bytes"].as_u64().unwrap();
    let root = procs[0]["metrics"]["rss_bytes"].as_u64().unwrap();
    let sum: u64 = procs.iter().map(|p| p["metrics"]["rss_bytes"].as_u64().unwrap()).sum();
    assert!(total > root, "{full}");
    assert_eq!(total, sum, "{full}");
}

#[test]
fn prometheus_serves_the_process_metrics() {
    let target = spawn_python("import time; time.sleep(30)");
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let pid = target.pid().to_string();
    let mut tachy =
        spawn_watch(&["--pid", &pid, "--prometheus", &addr, "--duration", "3s", "--interval", "100ms", "--json"]);
    let wanted = format!("process_resident_memory_bytes{{pid=\"{pid}\"");
    let start = Instant::now();
    let mut body = None;
    while start.elapsed() < Duration::from_secs(30) {
        if let Some(text) = http_get(port, "/metrics")
            && text.contains(&wanted)
        {
            body = Some(text);
            break;
        }
        if tachy.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = finish(tachy);
    let body = body.unwrap_or_else(|| panic!("no {wanted} served\n{}", show(&out)));
    assert!(body.starts_with("HTTP/1.1 200"), "{body}");
    assert!(body.contains("text/plain; version=0.0.4"), "{body}");
    let line = body.lines().find(|l| l.starts_with(&wanted)).unwrap();
    let value: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(value > 0.0, "{line}");
    assert!(body.contains("# TYPE process_resident_memory_bytes gauge"), "{body}");
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(json(&out)["end"], "duration");
    assert!(stderr(&out).contains(&format!("http://{addr}/metrics")), "{}", stderr(&out));
}

#[test]
fn a_prometheus_port_in_use_is_refused() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let me = std::process::id().to_string();
    let out = watch(&["--pid", &me, "--prometheus", &addr, "--duration", "1s"]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("tachy: error:") && err.contains("already in use"), "{err}");
    assert!(out.stdout.is_empty(), "{}", show(&out));
    drop(taken);
}

#[test]
fn bad_input_is_one_error_line() {
    let me = std::process::id().to_string();
    let cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (vec!["--pid", "4000000"], vec!["no process with PID 4000000"]),
        (vec!["--pid", &me, "--alert", "rss>lots"], vec!["rss>lots", "accepted:", "rss|uss|pss", "growth>RATE"]),
        (vec!["--pid", &me, "--alert", "foo>1"], vec!["foo>1", "unknown metric", "accepted:", "cpu>PCT"]),
        (vec!["--pid", &me, "--alert", "rss"], vec!["'rss'", "accepted:", "operators"]),
        (vec![], vec!["nothing to watch", "--pid"]),
        (vec!["--", "tachy-no-such-command-xyz"], vec!["tachy-no-such-command-xyz", "not found on PATH"]),
    ];
    for (args, needles) in cases {
        let out = watch(&args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", show(&out));
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("tachy: error: "), "{args:?}: {err}");
        for n in needles {
            assert!(err.contains(n), "{args:?}: {n:?} missing from {err}");
        }
        assert!(out.stdout.is_empty(), "{args:?}: {}", show(&out));
    }
}

#[test]
fn watching_pid_1_survives_what_it_cannot_read() {
    // As root nothing is denied; as another user some /proc files of PID 1 are, and the run
    // still produces samples with those fields listed as unavailable.
    let out = watch(&["--pid", "1", "--duration", "1s", "--interval", "200ms", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let r = json(&out);
    assert_eq!(r["pid"], 1);
    assert_eq!(r["end"], "duration", "{r}");
    assert!(r["samples"].as_u64().unwrap() >= 1, "{r}");
    assert!(r["series"]["rss_bytes"]["max"].as_f64().is_some(), "{r}");
}

#[test]
fn ctrl_c_prints_the_report_and_stops_the_launched_command() {
    let py = python().to_str().unwrap();
    let tachy = spawn_watch(&["--json", "--interval", "100ms", "--", py, "-c", "import time; time.sleep(30)"]);
    std::thread::sleep(Duration::from_millis(1500));
    // SAFETY: plain syscall on our own child.
    unsafe {
        libc::kill(tachy.id() as libc::pid_t, libc::SIGINT);
    }
    let out = finish(tachy);
    assert_eq!(out.status.code(), Some(130), "{}", show(&out));
    let r = json(&out);
    assert_eq!(r["end"], "interrupted", "{r}");
    assert!(r["samples"].as_u64().unwrap() >= 1, "{r}");
    let pid = r["pid"].as_u64().unwrap();
    // Reaped by tachy: /proc/PID is gone (or, should the PID be reused, is someone else).
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    assert!(!String::from_utf8_lossy(&cmdline).contains("time.sleep(30)"), "python {pid} still runs");
}

/// `[tool.tachy.watch]` in the nearest pyproject.toml sets the alerts; `--isolated` ignores
/// it; a bad key is one line naming the file and line.
#[test]
fn alerts_come_from_pyproject() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("src");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[project]\nname = \"app\"\n\n[tool.tachy.watch]\nalerts = [\"rss>1MB\"]\ninterval = \"100ms\"\n",
    )
    .unwrap();
    let py = python().to_str().unwrap().to_string();
    let run = |extra: &[&str]| {
        tachy()
            .current_dir(&sub)
            .args(["watch", "--json"])
            .args(extra)
            .args(["--", &py, "-c", "import time; time.sleep(0.6)"])
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap()
    };
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let r = json(&out);
    assert_eq!(r["alerts"][0]["alert"], "rss>1MB");
    assert!(r["alerts"][0]["fired"].as_u64().unwrap() >= 1);
    assert_eq!(r["interval_secs"].as_f64(), Some(0.1));
    let out = run(&["--isolated"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(json(&out)["alerts"].as_array().map(Vec::len), Some(0));

    std::fs::write(dir.path().join("pyproject.toml"), "[tool.tachy.watch]\nalerts = []\nintervall = \"1s\"\n").unwrap();
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(2), "{}", show(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pyproject.toml:3:") && err.contains("intervall"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

/// Run as an unprivileged user against PID 1: the files the kernel denies (smaps_rollup, io,
/// fd) are listed as unavailable and the rest is sampled. Needs root and `setpriv`.
#[test]
#[allow(clippy::print_stderr)] // says why the test is skipped
fn denied_proc_files_are_marked_unavailable() {
    use std::os::unix::fs::PermissionsExt;
    // SAFETY: plain syscall.
    if unsafe { libc::geteuid() } != 0 || !std::path::Path::new("/usr/bin/setpriv").exists() {
        eprintln!("skipped: needs root and setpriv");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = dir.path().join("tachy");
    std::fs::copy(assert_cmd::cargo::cargo_bin("tachy"), &bin).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = Command::new("/usr/bin/setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&bin)
        .args(["watch", "--pid", "1", "--duration", "1s", "--interval", "200ms", "--json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let r = json(&out);
    assert!(r["samples"].as_u64().unwrap() >= 1, "{r}");
    let unavailable: Vec<&str> = r["unavailable"].as_array().unwrap().iter().filter_map(Value::as_str).collect();
    assert!(unavailable.iter().any(|u| u.contains("permission denied")), "{unavailable:?}");
    assert!(r["series"]["rss_bytes"]["max"].as_f64().unwrap() > 0.0, "RSS still sampled: {r}");
}

#[test]
fn on_alert_hooks_never_outlive_the_watch() {
    // A hook slower than the watch: tachy gives it a moment, then stops its process group, so
    // nothing is left holding tachy's output open (`tachy watch ... | tee log` ends).
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("hook.pid");
    let hook = format!("echo $$ > {}; exec sleep 60", sh_quote(&pid_file));
    let out = watch(&["-d", "1s", "-i", "100ms", "--alert", "rss>1B", "--on-alert", &hook, "--", "sleep", "5"]);
    assert!(matches!(out.status.code(), Some(1)), "an alert fired: {}", stderr(&out));
    let pid: i32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
    let gone = (0..100).any(|_| {
        // SAFETY: signal 0 only checks that the process exists.
        let alive = unsafe { libc::kill(pid, 0) } == 0;
        if alive {
            std::thread::sleep(Duration::from_millis(50));
        }
        !alive
    });
    assert!(gone, "the hook {pid} outlived tachy watch");
    // Zero durations are refused.
    let out = watch(&["-d", "0s", "--", "sleep", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--duration must be above 0"), "{}", stderr(&out));
}

#[test]
fn a_folder_given_as_the_command_is_said_plainly() {
    let dir = tempfile::tempdir().unwrap();
    let out = watch(&["-d", "1s", "--", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("it is a folder, not a program"), "{}", stderr(&out));
}
