//! `tachy top` end to end: plain tables when piped, the full-screen view in a pseudo-terminal.

use predicates::prelude::*;
use tachy_test::{fixture, python, sh_quote};

use crate::tachy;

#[test]
fn piped_output_prints_a_table_per_refresh_with_the_hot_function_on_top() {
    let out = tachy()
        .args(["top", "--refresh", "0.3", "--rows", "5", "--"])
        .arg(python())
        .arg(fixture("threads.py"))
        .arg("1.5")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let tables: Vec<&str> = text.split("tachy top: pid").skip(1).collect();
    assert!(tables.len() >= 2, "{text}");
    for t in &tables {
        let first_row = t.lines().nth(2).unwrap_or_default();
        assert!(first_row.contains("hot_loop"), "hot function first:\n{t}");
        assert!(t.contains("GIL:"), "{t}");
    }
}

/// A watched program that fails fails `tachy top` too (exit 2, one line); `-o` still saves.
#[test]
fn a_failing_program_makes_top_exit_2_and_the_session_is_still_saved() {
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("session.json");
    let out = tachy()
        .args(["top", "--refresh", "0.3", "-o"])
        .arg(&saved)
        .arg("--")
        .arg(python())
        .arg(fixture("fails.py"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("tachy: error: the program exited with code 1"), "{stderr}");
    let p: serde_json::Value = serde_json::from_slice(&std::fs::read(&saved).unwrap()).unwrap();
    assert_eq!((p["meta"]["end"].as_str(), p["meta"]["exit_code"].as_i64()), (Some("target_exited"), Some(1)));
}

#[test]
fn q_in_a_terminal_quits_restores_the_screen_and_saves_the_session() {
    if tachy_process::python::which(std::ffi::OsStr::new("script")).is_none() {
        return; // util-linux `script` provides the pseudo-terminal
    }
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("session.json");
    let cmd = format!(
        "stty cols 120 rows 30; {} top -o {} -- {} {} 150",
        sh_quote(&assert_cmd::cargo::cargo_bin("tachy")),
        sh_quote(&saved),
        sh_quote(python()),
        sh_quote(&fixture("threads.py"))
    );
    // Type `q` once the view has drawn the hot function (stdin of `script` feeds the terminal).
    let mut child = std::process::Command::new("script")
        .args(["-qfec", &cmd, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    // A terminal emulator replays the output: the view redraws only the cells that changed,
    // so a name on screen need not appear as one run of bytes in the stream.
    let drawn = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (sink, drawn_flag) = (seen.clone(), drawn.clone());
    let reader = std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        let mut term =
            vt100::Parser::new(std::num::NonZeroU16::new(30).unwrap(), std::num::NonZeroU16::new(120).unwrap(), 0);
        use std::io::Read;
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
            term.process(&buf[..n]);
            if term.screen().alternate_screen() && term.screen().contents().contains("hot_loop") {
                drawn_flag.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
    });
    // Wait until the view has drawn the hot function (a bound against hangs, not a timing
    // assertion), then type `q`.
    let start = std::time::Instant::now();
    while !drawn.load(std::sync::atomic::Ordering::SeqCst) && start.elapsed() < std::time::Duration::from_secs(90) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    use std::io::Write;
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"q").unwrap();
    stdin.flush().unwrap();
    let quit_sent = std::time::Instant::now();
    let status = child.wait().unwrap();
    drop(stdin);
    reader.join().unwrap();
    let out = seen.lock().unwrap().clone();
    assert!(quit_sent.elapsed() < std::time::Duration::from_secs(50), "q did not quit");
    assert!(status.success(), "tachy top exited with {status}");
    let enter = out.windows(8).position(|w| w == b"\x1b[?1049h").expect("entered the alternate screen");
    let leave = out.windows(8).rposition(|w| w == b"\x1b[?1049l").expect("left the alternate screen");
    assert!(enter < leave);
    assert!(drawn.load(std::sync::atomic::Ordering::SeqCst), "the view was drawn with the hot function");
    assert!(out[leave..].windows(6).any(|w| w == b"\x1b[?25h"), "the cursor is shown again");
    let p: serde_json::Value = serde_json::from_slice(&std::fs::read(&saved).unwrap()).unwrap();
    assert_eq!(p["meta"]["end"], "stopped");
    assert!(p["meta"]["samples"].as_u64().unwrap() > 0);
}

#[test]
fn top_ptrace_refusal_is_explained() {
    crate::profile::assert_ptrace_refused(&["top"]);
}

#[test]
fn top_bad_targets() {
    tachy()
        .args(["top", "--pid", "4194303"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no process with PID 4194303"));
    tachy().args(["top"]).assert().code(2).stderr(predicate::str::contains("nothing to watch"));
    tachy()
        .args(["top", "--refresh", "0", "--pid", "1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--refresh"));
}
