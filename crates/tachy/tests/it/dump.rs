//! `tachy dump` end to end: a deadlocked program shows both blocked threads by name.

use std::time::Duration;

use predicates::prelude::*;
use tachy_test::{fixture, python};

use crate::tachy;

/// Starts the deadlock fixture and waits until both threads are blocked.
fn deadlocked() -> (std::process::Child, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("blocked");
    let child = std::process::Command::new(python()).arg(fixture("deadlock.py")).arg(&marker).spawn().unwrap();
    assert!(tachy_test::wait_for_file(&marker, Duration::from_secs(60)), "the fixture never deadlocked");
    (child, dir)
}

#[test]
fn a_deadlock_shows_both_threads_waiting_in_acquire() {
    let (mut child, _dir) = deadlocked();
    let out = tachy().args(["dump", "--pid", &child.id().to_string()]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let json = tachy().args(["dump", "--json", "--locals", "--pid", &child.id().to_string()]).output().unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("Thread \"worker-a\"") && text.contains("Thread \"worker-b\""), "{text}");
    assert_eq!(text.matches("> second.acquire()").count(), 2, "both wait in acquire:\n{text}");
    assert!(text.contains("MainThread"), "{text}");
    // Innermost frame last: `transfer` comes after the threading bootstrap frames.
    let block = &text[text.find("worker-a").unwrap()..];
    assert!(block.find("_bootstrap").unwrap() < block.find("transfer").unwrap(), "{text}");

    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["schema"], "tachy-dump/1");
    let threads = v["processes"][0]["threads"].as_array().unwrap();
    let a = threads.iter().find(|t| t["name"] == "worker-a").unwrap();
    let inner = a["frames"].as_array().unwrap().last().unwrap();
    assert_eq!(inner["function"], "transfer");
    let locals: Vec<(&str, &str)> = inner["locals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["name"].as_str().unwrap(), l["repr"].as_str().unwrap()))
        .collect();
    assert!(locals.contains(&("name", "\"worker-a\"")), "{locals:?}");
}

#[test]
fn dump_bad_targets() {
    tachy()
        .args(["dump", "--pid", "4194303"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no process with PID 4194303"));
    let mut sleeper = std::process::Command::new("sleep").arg("30").spawn().unwrap();
    tachy()
        .args(["dump", "--pid", &sleeper.id().to_string()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not a Python program"));
    sleeper.kill().unwrap();
    sleeper.wait().unwrap();
    tachy().args(["dump"]).assert().code(2).stderr(predicate::str::contains("--pid"));
}

#[test]
fn dump_ptrace_refusal_is_explained() {
    crate::profile::assert_ptrace_refused(&["dump"]);
}

#[test]
fn dump_follows_subprocesses() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("running");
    let script = dir.path().join("parent.py");
    std::fs::write(
        &script,
        format!(
            "import subprocess, sys, time\np = subprocess.Popen([sys.executable, {:?}, {:?}])\ntime.sleep(60)\n",
            fixture("long_running.py").display().to_string(),
            marker.display().to_string()
        ),
    )
    .unwrap();
    let mut parent = std::process::Command::new(python()).arg(&script).spawn().unwrap();
    tachy_test::wait_for_file(&marker, Duration::from_secs(60));
    let out = tachy().args(["dump", "--json", "--subprocesses", "--pid", &parent.id().to_string()]).output().unwrap();
    let kids = tachy_test_kill_children(parent.id());
    parent.kill().unwrap();
    parent.wait().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let procs = v["processes"].as_array().unwrap();
    assert_eq!(procs.len(), 2, "parent and child: {v}");
    assert!(kids >= 1);
    let child_fns: Vec<&str> =
        procs[1]["threads"][0]["frames"].as_array().unwrap().iter().map(|f| f["function"].as_str().unwrap()).collect();
    assert!(child_fns.contains(&"busy_forever"), "{child_fns:?}");
}

/// Kills the children of `pid` (the test's own grandchildren); returns how many.
fn tachy_test_kill_children(pid: u32) -> usize {
    let out = std::process::Command::new("pgrep").args(["-P", &pid.to_string()]).output().unwrap();
    let kids: Vec<String> = String::from_utf8_lossy(&out.stdout).split_whitespace().map(str::to_string).collect();
    for k in &kids {
        let _ = std::process::Command::new("kill").arg(k).status();
    }
    kids.len()
}

#[test]
fn control_characters_from_the_target_never_reach_the_terminal_raw() {
    // A program holding a string that would clear the screen, retitle the terminal and
    // overwrite the line, in a local and in a thread name.
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ready");
    let script = dir.path().join("hostile.py");
    std::fs::write(
        &script,
        "import sys, threading, time\n\
         def hold(payload):\n    open(sys.argv[1], 'w').close()\n    time.sleep(60)\n\
         evil = '\\x1b[2J\\x1b]0;pwned\\x07\\rFAKE'\n\
         t = threading.Thread(target=hold, args=(evil,), name=evil, daemon=True)\n\
         t.start(); t.join()\n",
    )
    .unwrap();
    let mut child = std::process::Command::new(python()).arg(&script).arg(&marker).spawn().unwrap();
    assert!(tachy_test::wait_for_file(&marker, Duration::from_secs(60)), "the program never started");
    let out = tachy().args(["dump", "--locals", "--pid", &child.id().to_string()]).output().unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("hold"), "{text}");
    assert!(!out.stdout.iter().any(|&b| b == 0x1b || b == 0x07 || b == b'\r'), "raw control bytes: {text:?}");
    assert!(text.contains("\\x1b[2J"), "shown escaped: {text}");
}
