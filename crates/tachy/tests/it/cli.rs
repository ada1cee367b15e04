//! Process-level behaviour shared by every command: exit codes, errors, broken pipes.

use predicates::prelude::*;

use crate::tachy;

#[test]
fn no_arguments_prints_help_and_fails() {
    tachy().assert().code(2).stderr(predicate::str::contains("Usage"));
}

#[test]
fn version_and_help_succeed() {
    tachy().arg("--version").assert().success().stdout(predicate::str::starts_with("tachy "));
    tachy().args(["bench", "--help"]).assert().success().stdout(predicate::str::contains("--max-regression"));
}

#[test]
fn unknown_flag_is_a_usage_error() {
    tachy()
        .args(["bench", "--no-such-flag", "true"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--no-such-flag"));
}

#[test]
fn broken_pipe_exits_quietly() {
    let tachy_bin = assert_cmd::cargo::cargo_bin("tachy");
    // 400 results make far more text than a pipe buffer holds, and `head -c 1` closes the
    // pipe after one byte: tachy's write fails with EPIPE and it must end quietly with 0.
    let script = format!(
        "{} bench --debug-mock --runs 2 -P n 1 400 '{{n}}' | head -c 1 >/dev/null; echo \"status=${{PIPESTATUS[0]}}\"",
        tachy_bin.display()
    );
    let out = std::process::Command::new("bash").args(["-c", &script]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("status=0"), "stdout: {stdout} stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(!stderr.contains("error"), "{stderr}");
}
