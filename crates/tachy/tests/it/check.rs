//! `tachy check`, `tachy init` end to end: the sample project in `examples/check-project`
//! (copied to a temporary folder, its commands pointed at the real interpreter and its servers
//! at free ports), its failing variant, JUnit/Markdown/GitHub summary, history, bad input and
//! Ctrl-C.

use std::path::Path;
use std::time::Duration;

use predicates::prelude::*;
use tachy_test::{example, python, wait_bounded, wait_for_file};

use crate::{json, tachy};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        if name == ".tachy" {
            continue;
        }
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(&name));
        } else {
            std::fs::copy(e.path(), to.join(&name)).unwrap();
        }
    }
}

/// The sample project in a temporary folder: `python3` is the real interpreter (no shim),
/// and the fixed ports are free ones.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&example("check-project"), dir.path());
    let py = format!("{} ", python().display());
    for (file, port) in [("pyproject.toml", "8765"), ("tachy-failing.toml", "8766")] {
        let path = dir.path().join(file);
        let text =
            std::fs::read_to_string(&path).unwrap().replace("python3 ", &py).replace(port, &free_port().to_string());
        std::fs::write(&path, text).unwrap();
    }
    dir
}

fn budgets(v: &serde_json::Value) -> Vec<(String, String)> {
    v["budgets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| (b["name"].as_str().unwrap().to_string(), b["verdict"].as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn the_sample_project_passes_and_writes_every_output() {
    let dir = project();
    let p = dir.path();
    let summary = p.join("step-summary.md");
    std::fs::write(&summary, "# earlier step\n").unwrap();
    // Like every other output, a missing folder is refused before any budget runs.
    let refused = tachy().current_dir(p).args(["check", "--report", "out/report.html"]).output().unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("the folder out does not exist"));
    assert!(!p.join("out").exists() && !p.join(".tachy/history").exists(), "nothing ran");
    std::fs::create_dir(p.join("out")).unwrap();
    let out = tachy()
        .current_dir(p)
        .args([
            "check",
            "--junit",
            "out/junit.xml",
            "--markdown",
            "out/comment.md",
            "--export-json",
            "out/check.json",
            "--report",
            "out/report.html",
        ])
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    // The table names every budget with its verdict.
    for name in ["lint", "startup", "memory", "hot-path", "api", "soak"] {
        assert!(stdout.contains(name), "{name} in\n{stdout}");
    }
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(p.join("out/check.json")).unwrap()).unwrap();
    assert_eq!(report["schema"], "tachy-check/1");
    let verdicts = budgets(&report);
    assert_eq!(
        verdicts.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
        ["lint", "startup", "memory", "hot-path", "api", "soak"],
        "in config order"
    );
    assert!(verdicts.iter().all(|(_, v)| v == "pass"), "{verdicts:?}");
    // Every budget measured something real.
    for b in report["budgets"].as_array().unwrap() {
        assert!(!b["checks"].as_array().unwrap().is_empty(), "{b}");
        assert!(Path::new(b["result_file"].as_str().unwrap()).is_file(), "{b}");
    }
    let api = &report["budgets"][4];
    assert!(
        api["checks"].as_array().unwrap().iter().any(|c| c["metric"] == "p95" && c["measured"].as_f64().unwrap() > 0.0)
    );

    // JUnit: one test case per budget, none failed.
    let junit = std::fs::read_to_string(p.join("out/junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&junit).expect("valid XML");
    let cases: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("testcase")).collect();
    assert_eq!(cases.len(), 6, "{junit}");
    assert!(!doc.descendants().any(|n| n.has_tag_name("failure") || n.has_tag_name("error")), "{junit}");
    // Markdown and the GitHub step summary (appended after what was there).
    let md = std::fs::read_to_string(p.join("out/comment.md")).unwrap();
    assert!(md.contains("hot-path") && md.contains('|'), "{md}");
    let step = std::fs::read_to_string(&summary).unwrap();
    assert!(step.starts_with("# earlier step\n") && step.contains(&md), "{step}");

    // The HTML report: the verdicts, and each budget's own results embedded.
    let html = std::fs::read_to_string(p.join("out/report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"), "{}", &html[..100.min(html.len())]);
    for section in
        ["Budget check", "Benchmark", "CPU profile", "Load test", "Memory profile", "Process watch", "Lint", "hot-path"]
    {
        assert!(html.contains(section), "{section} in the report");
    }
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http"), "self-contained");

    // The history has one line per budget; a second run adds another.
    let lines =
        |name: &str| std::fs::read_to_string(p.join(format!(".tachy/history/{name}.jsonl"))).unwrap().lines().count();
    assert_eq!(lines("api"), 1);
    tachy().current_dir(p).args(["check", "--only", "lint", "--only", "memory"]).assert().code(0);
    assert_eq!(lines("memory"), 2);
    assert_eq!(lines("api"), 1, "--only runs only what it names");
    let out = tachy().current_dir(p).args(["check", "--history"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("memory") && text.contains("peak"), "{text}");
    let out = tachy().current_dir(p).args(["check", "--history", "--json"]).output().unwrap();
    let h = json(&out);
    assert_eq!(h["schema"], "tachy-history/1");
    let series = h["series"].as_array().unwrap();
    assert!(series.iter().any(|s| s["budget"] == "memory" && s["points"].as_array().unwrap().len() == 2), "{h}");
}

#[test]
fn the_failing_variant_fails_every_budget() {
    let dir = project();
    let out =
        tachy().current_dir(dir.path()).args(["check", "--config", "tachy-failing.toml", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let report = json(&out);
    let verdicts = budgets(&report);
    assert_eq!(verdicts.len(), 6);
    assert!(verdicts.iter().all(|(_, v)| v == "fail"), "{verdicts:#?}");
    let soak = report["budgets"].as_array().unwrap().iter().find(|b| b["name"] == "soak-leak").unwrap();
    let growth = soak["checks"][0]["measured"].as_f64().unwrap();
    assert!(growth > 1e9, "1 MB per 100 ms is tens of GB per hour: {growth}");
    // Failed as growing (resolved above the limit), not for lack of data.
    assert!(!soak["checks"][0]["measured_text"].as_str().unwrap().contains("not enough data"), "{soak}");
    // JUnit marks each as a failure.
    let junit_path = dir.path().join("junit.xml");
    tachy()
        .current_dir(dir.path())
        .args(["check", "--config", "tachy-failing.toml", "--only", "lint-legacy", "--junit"])
        .arg(&junit_path)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("FAIL"));
    let junit = std::fs::read_to_string(&junit_path).unwrap();
    let doc = roxmltree::Document::parse(&junit).unwrap();
    assert_eq!(doc.descendants().filter(|n| n.has_tag_name("failure")).count(), 1, "{junit}");
}

#[test]
fn init_writes_a_starter_that_check_can_run() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::write(p.join("ok.py"), "def f(xs):\n    return [x * 2 for x in xs]\n").unwrap();
    tachy().args(["init", "--dir"]).arg(p).assert().code(0).stderr(predicate::str::contains("tachy.toml"));
    let text = std::fs::read_to_string(p.join("tachy.toml")).unwrap();
    for target in ["p95<=200ms", "errors<=1%", "timeouts<=0.5%", "rps>=100", "\"100MB\"", "\"5MB/h\""] {
        assert!(text.contains(target), "{target}");
    }
    tachy().args(["init", "--dir"]).arg(p).assert().code(2).stderr(predicate::str::contains("already exists"));
    // The starter's lint budget runs as written: the first run saves the baseline.
    let out = tachy().current_dir(p).args(["check", "--only", "lint", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(p.join(".tachy/baselines/lint.json").is_file());
    // pyproject.toml: appended after the existing tables, then refused a second time.
    std::fs::write(p.join("pyproject.toml"), "[project]\nname = \"demo\"\n").unwrap();
    tachy().args(["init", "--pyproject", "--command", "python3 ok.py", "--dir"]).arg(p).assert().code(0);
    let py = std::fs::read_to_string(p.join("pyproject.toml")).unwrap();
    assert!(py.starts_with("[project]\nname = \"demo\"\n") && py.contains("[tool.tachy.budget.memory]"), "{py}");
    assert!(py.contains("command = \"python3 ok.py\""));
    tachy()
        .args(["init", "--pyproject", "--dir"])
        .arg(p)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already has"));
    tachy().current_dir(p).args(["check", "--config", "pyproject.toml", "--only", "lint"]).assert().code(0);
}

#[test]
fn config_errors_name_the_file_the_key_and_what_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    // No config at all (the temp dir has no pyproject above it).
    tachy().current_dir(p).arg("check").assert().code(2).stderr(predicate::str::contains("tachy init"));
    tachy()
        .args(["check", "--config", "nowhere.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nowhere.toml"));
    let cases = [
        ("[budget.m]\nkind = \"mem\"\ncommand = \"python3 a.py\"\nmax_peek = \"1MB\"\n", "budget.m", "max_peak"),
        (
            "[budget.m]\nkind = \"mem\"\ncommand = \"python3 a.py\"\nmax_peak = \"lots\"\n",
            "tachy.toml:4",
            "budget.m.max_peak",
        ),
        (
            "[budget.api]\nkind = \"load\"\nurl = \"http://127.0.0.1:1/\"\nslo = [\"p95 is fast\"]\n",
            "budget.api.slo[0]",
            "p95",
        ),
        ("[budget.x]\nkind = \"benchmark\"\n", "budget.x", "`bench`"),
        ("[budget.m\n", "tachy.toml:1", ""),
        // A wrong type inside a budget: its line, column and key, and what is expected.
        (
            "[budget.l]\nkind = \"lint\"\nmax_findings = \"ten\"\n",
            "tachy.toml:3:16: budget.l.max_findings: ",
            "expected a whole number (0 or more), found the string \"ten\"",
        ),
        (
            "[budget.b]\nkind = \"bench\"\ncommands = \"true\"\nmax_mean = \"1s\"\n",
            "tachy.toml:3:12: budget.b.commands: ",
            "expected a list",
        ),
    ];
    for (text, want1, want2) in cases {
        std::fs::write(p.join("tachy.toml"), text).unwrap();
        let out = tachy().current_dir(p).arg("check").output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("tachy.toml") && err.contains(want1) && err.contains(want2), "{text}\n=> {err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert!(!err.contains("panicked"));
    }
    std::fs::write(p.join("tachy.toml"), "[budget.l]\nkind = \"lint\"\n").unwrap();
    tachy()
        .current_dir(p)
        .args(["check", "--only", "nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no budget named \"nope\""));
}

#[test]
fn a_failing_command_or_a_server_that_never_gets_ready_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::write(p.join("crash.py"), "import sys\nprint('about to fail', file=sys.stderr)\nraise SystemExit(3)\n")
        .unwrap();
    std::fs::copy(tachy_test::workspace_root().join("crates/tachy/tests/fixtures/mem/killed.py"), p.join("killed.py"))
        .unwrap();
    std::fs::write(p.join("noserve.py"), "import time\nprint('warming up forever', flush=True)\ntime.sleep(60)\n")
        .unwrap();
    let py = python().display().to_string();
    let port = free_port();
    std::fs::write(
        p.join("tachy.toml"),
        format!(
            "[budget.crash]\nkind = \"mem\"\ncommand = [\"{py}\", \"crash.py\"]\nmax_peak = \"100MB\"\n\n\
             [budget.never-ready]\nkind = \"load\"\nurl = \"http://127.0.0.1:{port}/\"\nduration = \"1s\"\n\
             [budget.never-ready.server]\ncommand = [\"{py}\", \"noserve.py\"]\nready_timeout = \"1s\"\n\n\
             [budget.killed]\nkind = \"mem\"\ncommand = [\"{py}\", \"killed.py\"]\nmax_peak = \"100MB\"\n\n\
             [budget.fine]\nkind = \"lint\"\n"
        ),
    )
    .unwrap();
    let out = tachy().current_dir(p).args(["check", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let report = json(&out);
    assert_eq!(
        budgets(&report),
        [
            ("crash".into(), "error".into()),
            ("never-ready".into(), "error".into()),
            ("killed".into(), "error".into()),
            ("fine".into(), "pass".into())
        ],
        "an error does not stop the other budgets"
    );
    let crash = &report["budgets"][0];
    assert!(crash["error"].as_str().unwrap().contains("code 3"), "{crash}");
    assert!(crash["log_tail"].as_str().unwrap().contains("about to fail"), "{crash}");
    let nr = &report["budgets"][1];
    assert!(nr["error"].as_str().unwrap().contains("not ready after 1s"), "{nr}");
    assert!(nr["log_tail"].as_str().unwrap().contains("warming up forever"), "{nr}");
    // A program killed by a signal failed as much as one that exited non-zero.
    let killed = &report["budgets"][2];
    assert!(killed["error"].as_str().unwrap().contains("killed by signal 9"), "{killed}");
}

/// Starts `tachy check` on a config whose second budget loads a long-running server, waits
/// for the server, sends `signals` SIGINTs, and returns the exit code, whether the server is
/// gone, and the project folder (with `check.json` unless tachy exited at once).
fn interrupt_a_load(signals: usize, server_ignores_sigterm: bool) -> (Option<i32>, bool, tempfile::TempDir) {
    let dir = project();
    let p = dir.path();
    // A long load against the sample server; its PID file tells whether it was stopped.
    let port = free_port();
    let py = python().display().to_string();
    let trap = if server_ignores_sigterm { "trap '' TERM; " } else { "" };
    std::fs::write(
        p.join("long.toml"),
        format!(
            "[budget.lint]\nkind = \"lint\"\npaths = [\"src\"]\n\n\
             [budget.long]\nkind = \"load\"\nurl = \"http://127.0.0.1:{port}/items\"\nduration = \"60s\"\nconnections = 2\nslo = [\"p95<=1s\"]\n\
             [budget.long.server]\ncommand = [\"sh\", \"-c\", \"echo $$ > server.pid; {trap}exec {py} src/server.py {port}\"]\nready = \"http://127.0.0.1:{port}/health\"\n\n\
             [budget.after]\nkind = \"lint\"\n"
        ),
    )
    .unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("tachy"))
        .current_dir(p)
        .args(["check", "--config", "long.toml", "--export-json", "check.json"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid_file = p.join("server.pid");
    assert!(wait_for_file(&pid_file, Duration::from_secs(60)), "the server started");
    // Let the load run a little, then Ctrl-C.
    std::thread::sleep(Duration::from_millis(1500));
    for i in 0..signals {
        if i > 0 {
            // Two signals sent at once merge into one pending signal.
            std::thread::sleep(Duration::from_millis(100));
        }
        unsafe {
            libc::kill(child.id() as i32, libc::SIGINT);
        }
    }
    let status = wait_bounded(&mut child, Duration::from_secs(60));
    let server_pid: i32 = std::fs::read_to_string(&pid_file).unwrap().trim().parse().unwrap();
    let gone = (0..200).any(|_| {
        let alive = unsafe { libc::kill(server_pid, 0) } == 0 && !is_zombie(server_pid);
        if alive {
            std::thread::sleep(Duration::from_millis(50));
        }
        !alive
    });
    (status.code(), gone, dir)
}

#[test]
fn ctrl_c_stops_the_server_and_keeps_what_was_measured() {
    let (code, gone, dir) = interrupt_a_load(1, false);
    assert_eq!(code, Some(130));
    assert!(gone, "the server was stopped");
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("check.json")).unwrap()).unwrap();
    assert_eq!(report["interrupted"], true);
    let names: Vec<_> = budgets(&report).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["lint", "long"], "the budget after Ctrl-C did not run");
    let long = &report["budgets"][1];
    assert!(long["notes"].to_string().contains("interrupted"), "{long}");
    assert!(long["checks"].as_array().is_some_and(|c| !c.is_empty()), "what was measured is kept: {long}");
}

#[test]
fn a_third_ctrl_c_exits_at_once_but_still_stops_the_server() {
    // The server ignores SIGTERM, so the first Ctrl-C's orderly stop is still waiting when the
    // third one makes tachy exit (the second only hurries): the server's group must be killed
    // on the way out.
    let (code, gone, _dir) = interrupt_a_load(3, true);
    assert_eq!(code, Some(130));
    assert!(gone, "the server did not outlive tachy");
}

fn is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| s.rsplit(')').next().unwrap_or_default().trim_start().starts_with('Z'))
        .unwrap_or(true)
}

#[test]
fn the_schema_is_printed_and_matches_the_checked_in_file() {
    let out = tachy().args(["check", "--schema"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let saved = std::fs::read_to_string(tachy_test::workspace_root().join("docs/tachy-config.schema.json")).unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), saved);
}

#[test]
fn baselines_are_saved_by_the_first_run_and_compared_after() {
    let dir = project();
    let p = dir.path();
    let py = python().display().to_string();
    std::fs::write(
        p.join("base.toml"),
        format!(
            "[budget.quick]\nkind = \"bench\"\ncommands = [\"{py} src/app.py --quick\"]\nruns = 5\nbaseline = \"quick\"\nmax_regression = \"1000%\"\n\n\
             [budget.hot]\nkind = \"profile\"\ncommand = [\"{py}\", \"src/app.py\"]\nbaseline = \"profiles/app.json\"\nmax_share_increase = \"90%\"\n"
        ),
    )
    .unwrap();
    let run = || {
        let out = tachy().current_dir(p).args(["check", "--config", "base.toml", "--json"]).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        json(&out)
    };
    let first = run();
    assert!(first["budgets"][0]["notes"].to_string().contains("baseline 'quick' saved"), "{first}");
    assert!(first["budgets"][1]["notes"].to_string().contains("baseline profile saved"), "{first}");
    assert!(p.join(".tachy/baselines/quick.json").is_file());
    assert!(p.join("profiles/app.json").is_file());
    let second = run();
    let metrics = |b: &serde_json::Value| {
        b["checks"].as_array().unwrap().iter().map(|c| c["metric"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    assert!(metrics(&second["budgets"][0]).iter().any(|m| m.starts_with("change of")), "{second}");
    assert!(metrics(&second["budgets"][1]).iter().any(|m| m.starts_with("largest share increase")), "{second}");
}

#[test]
fn profile_limits_name_methods_as_the_profile_shows_them() {
    let program = "import sys, time\n\n\nclass Worker:\n    def crunch(self, deadline):\n        total = 0\n        while time.perf_counter() < deadline:\n            for i in range(1000):\n                total += i * i\n        return total\n\n\nWorker().crunch(time.perf_counter() + float(sys.argv[1]))\n";
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::create_dir_all(p.join("jobs")).unwrap();
    std::fs::write(p.join("jobs/work.py"), program).unwrap();
    let py = python().display().to_string();
    let budget = |limits: &str, extra: &str| {
        format!(
            "[budget.hot]\nkind = \"profile\"\ncommand = [\"{py}\", \"jobs/work.py\", \"1\"]\nlimits = [{limits}]\n{extra}"
        )
    };
    let run = |config: &str| {
        std::fs::write(p.join("tachy.toml"), config).unwrap();
        let out = tachy().current_dir(p).args(["check", "--no-history", "--json"]).output().unwrap();
        (out.status.code(), json(&out))
    };

    // Every spelling the profile shows measures the method's real share.
    let spellings =
        ["Worker.crunch", "crunch", "work.Worker.crunch", "jobs.work.Worker.crunch", "work.py:Worker.crunch"];
    let limits: Vec<String> = spellings.iter().map(|s| format!("\"self:{s} <= 100%\"")).collect();
    let (code, v) = run(&budget(&limits.join(", "), ""));
    assert_eq!(code, Some(0), "{v}");
    let checks = v["budgets"][0]["checks"].as_array().unwrap();
    assert_eq!(checks.len(), spellings.len(), "{v}");
    for c in checks {
        // The same function each time (before, only `file.py:Class.method` found it).
        assert!(c["measured"].as_f64().unwrap() > 0.0, "{c}");
        assert_eq!(c["measured"], checks[0]["measured"], "{v}");
        // The row names the function it measured, at its def line (line 5).
        assert!(c["measured_text"].as_str().unwrap().ends_with("work.py:5 Worker.crunch)"), "{c}");
    }

    // A limit on a function the profile never saw is an error naming the closest ones.
    let (code, v) = run(&budget("\"Worker.crunsh <= 50%\"", ""));
    assert_eq!(code, Some(2), "{v}");
    assert_eq!(v["budgets"][0]["verdict"], "error", "{v}");
    let error = v["budgets"][0]["error"].as_str().unwrap();
    assert!(error.contains("no function in the profile matches \"Worker.crunsh\""), "{error}");
    assert!(error.contains("(closest: ") && error.contains("work.py:Worker.crunch"), "{error}");

    // allow_missing = true: it passes with a note.
    let (code, v) = run(&budget("\"Worker.crunsh <= 50%\"", "allow_missing = true\n"));
    assert_eq!(code, Some(0), "{v}");
    assert!(v["budgets"][0]["notes"].to_string().contains("Worker.crunsh was not seen in the profile"), "{v}");
}

#[test]
fn history_flags_a_step_change_and_refuses_a_broken_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::write(p.join("tachy.toml"), "[budget.api]\nkind = \"lint\"\n").unwrap();
    std::fs::create_dir_all(p.join(".tachy/history")).unwrap();
    // 12 runs near 100 ms, then 12 near 130 ms (a regression at run 13), with a little noise.
    let mut lines = String::new();
    for i in 0..24 {
        let level = if i < 12 { 0.100 } else { 0.130 };
        let noise = [0.0, 0.001, -0.001, 0.002, -0.002, 0.0005][i % 6];
        lines.push_str(&format!(
            "{{\"schema\":\"tachy-history/1\",\"time\":\"2026-11-{:02}T10:00:00Z\",\"git_commit\":\"c{i:03}\",\"budget\":\"api\",\"kind\":\"load\",\"verdict\":\"pass\",\"metrics\":[{{\"metric\":\"p95\",\"value\":{},\"unit\":\"s\"}}]}}\n",
            i + 1,
            level + noise
        ));
    }
    let file = p.join(".tachy/history/api.jsonl");
    std::fs::write(&file, &lines).unwrap();
    let out = tachy().current_dir(p).args(["check", "--history"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("step +") && text.contains("c012"), "the step at run 13 (commit c012):\n{text}");
    let h = json(&tachy().current_dir(p).args(["check", "--history", "--json"]).output().unwrap());
    let steps = h["series"][0]["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1, "{h}");
    assert_eq!(steps[0]["index"], 12);
    assert!((steps[0]["change_percent"].as_f64().unwrap() - 30.0).abs() < 3.0, "{h}");
    // A broken line is an error naming the file and line.
    std::fs::write(&file, format!("{lines}{{not json\n")).unwrap();
    tachy()
        .current_dir(p)
        .args(["check", "--history"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("api.jsonl:25"));
}

/// Probe cases 40 and 41: paths in the config that lead out of the project are config errors
/// (file, line, key) and nothing is created outside; an absolute path is taken as written, but
/// `--update-baselines` never replaces a file there that is not a baseline of the budget's kind.
#[test]
fn config_paths_stay_in_the_project_and_never_replace_other_files() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("a/b/project");
    std::fs::create_dir_all(&p).unwrap();
    std::fs::write(p.join("ok.py"), "def f(xs):\n    return [x * 2 for x in xs]\n").unwrap();
    let victim = tmp.path().join("a/victim.txt");
    std::fs::write(&victim, "an unrelated file\n").unwrap();
    let cases = [
        ("[check]\nhistory = \"../../x\"\n[budget.l]\nkind = \"lint\"\n", "tachy.toml:2:11: check.history: "),
        ("[budget.l]\nkind = \"lint\"\nbaseline = \"../../x.json\"\n", "tachy.toml:3:12: budget.l.baseline: "),
        (
            "[budget.p]\nkind = \"profile\"\ncommand = \"python3 ok.py\"\nbaseline = \"../victim.txt\"\n",
            "tachy.toml:4:12: budget.p.baseline: ",
        ),
    ];
    for (text, want) in cases {
        std::fs::write(p.join("tachy.toml"), text).unwrap();
        let out = tachy().current_dir(&p).args(["check", "--update-baselines"]).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}\n{err}");
        assert!(err.contains(want) && err.contains("leads outside the project folder"), "{text}\n=> {err}");
        assert!(!p.join(".tachy").exists(), "nothing ran");
    }
    let outside: Vec<_> = std::fs::read_dir(tmp.path().join("a")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(outside.len(), 2, "nothing created outside the project: {outside:?}");
    assert!(!tmp.path().join("x").exists() && !tmp.path().join("x.json").exists());

    // Written as an absolute path, the baseline is allowed, but the file there is not a lint
    // result: the budget is an error naming it, and it is untouched.
    std::fs::write(p.join("tachy.toml"), format!("[budget.l]\nkind = \"lint\"\nbaseline = \"{}\"\n", victim.display()))
        .unwrap();
    let out = tachy().current_dir(&p).args(["check", "--update-baselines", "--json"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let error = json(&out)["budgets"][0]["error"].as_str().unwrap().to_string();
    assert!(error.starts_with(&format!("refusing to replace {}", victim.display())), "{error}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "an unrelated file\n");
}

/// `tachy init` checks everything before it writes: a bad --url, a pyproject.toml that is
/// not TOML, and a tachy.toml or pyproject.toml that is a symbolic link out of the folder
/// (or to nothing) are one clear line and exit 2, with nothing written.
#[test]
fn init_refuses_bad_input_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("project");
    std::fs::create_dir(&p).unwrap();
    let refused = |args: &[&str], want: &str| {
        let out = tachy().args(["init", "--dir"]).arg(&p).args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    };
    refused(&["--url", "ftp://x"], "--url: \"ftp://x\" is not an http:// or https:// URL");
    refused(&["--url", ":::"], "--url: ");
    refused(&["--command", "python3 'app.py"], "--command: cannot split");
    assert!(!p.join("tachy.toml").exists());

    std::fs::write(p.join("pyproject.toml"), "[project\nname = \"demo\"\n").unwrap();
    refused(&["--pyproject"], "pyproject.toml is not valid TOML (1:9: ");
    assert_eq!(std::fs::read_to_string(p.join("pyproject.toml")).unwrap(), "[project\nname = \"demo\"\n");

    // Symbolic links: dangling, and out of the folder.
    std::os::unix::fs::symlink(tmp.path().join("nowhere/tachy.toml"), p.join("tachy.toml")).unwrap();
    refused(&[], "which does not exist; tachy init does not write through it");
    assert!(!tmp.path().join("nowhere").exists());
    std::fs::remove_file(p.join("pyproject.toml")).unwrap();
    std::fs::write(tmp.path().join("other.toml"), "[project]\nname = \"other\"\n").unwrap();
    std::os::unix::fs::symlink(tmp.path().join("other.toml"), p.join("pyproject.toml")).unwrap();
    refused(&["--pyproject"], "outside");
    assert_eq!(std::fs::read_to_string(tmp.path().join("other.toml")).unwrap(), "[project]\nname = \"other\"\n");

    // --force on a pyproject.toml whose [tool.tachy] tables clash with the starter's.
    std::fs::remove_file(p.join("pyproject.toml")).unwrap();
    let existing = "[project]\nname = \"demo\"\n[tool.tachy.budget.lint]\nkind = \"lint\"\n";
    std::fs::write(p.join("pyproject.toml"), existing).unwrap();
    refused(&["--pyproject", "--force"], "would not be a valid config with the starter");
    assert_eq!(std::fs::read_to_string(p.join("pyproject.toml")).unwrap(), existing);
}
