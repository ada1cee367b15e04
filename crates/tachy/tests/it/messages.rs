//! Messages that mislead, fixed: each bad input of the hostile-input probe outside `load` and
//! `watch` gets one `tachy: error:` line naming the real problem (a folder given as the
//! program, a zero interval, a damaged file, a refused PID), with exit 2, and no cause printed
//! twice. Non-UTF-8 program words and output names are kept byte for byte.

use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::Duration;

use tachy_test::{fixture, python};

use crate::tachy;

/// Runs `tachy ARGS` and asserts exit 2 with one `tachy: error:` line that contains `msg`,
/// and no cause repeated (`(os error 2): ... (os error 2)`).
fn assert_one_clear_line(args: &[OsString], msg: &str) {
    let res = tachy().args(args).timeout(Duration::from_secs(120)).output().unwrap();
    let stderr = String::from_utf8_lossy(&res.stderr);
    let shown = args.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" ");
    assert_eq!(res.status.code(), Some(2), "tachy {shown}: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "tachy {shown}: one line expected: {stderr}");
    assert!(lines[0].starts_with("tachy: error: "), "tachy {shown}: {stderr}");
    assert!(lines[0].contains(msg), "tachy {shown}: expected `{msg}` in: {stderr}");
    assert!(lines[0].matches("(os error").count() <= 1, "a cause repeated: {stderr}");
    assert!(!lines[0].contains("Custom {") && !lines[0].contains("kind:"), "Debug text: {stderr}");
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn bad_programs_options_and_files_get_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let py = s(python());
    let folder = d.join("a folder");
    std::fs::create_dir(&folder).unwrap();
    let script = d.join("app.py");
    std::fs::write(&script, "print('hi')\n").unwrap();
    let file = d.join("file.txt");
    std::fs::write(&file, "x").unwrap();
    let negative = d.join("neg.json");
    std::fs::write(
        &negative,
        r#"{"results":[{"command":"a","mean":-1,"stddev":0,"median":-1,"user":0,"system":0,"min":-1,"max":-1,"times":[-1.0,-1.0,-1.0]}]}"#,
    )
    .unwrap();
    // A saved profile whose stack count is u64::MAX (it used to wrap, or panic in debug builds).
    let saved = tachy_test::workspace_root().join("crates/tachy/tests/fixtures/profile/saved.json");
    let mut wrapped: serde_json::Value = serde_json::from_slice(&std::fs::read(saved).unwrap()).unwrap();
    wrapped["stacks"][0]["count"] = u64::MAX.into();
    let maxcount = d.join("maxcount.json");
    std::fs::write(&maxcount, serde_json::to_vec(&wrapped).unwrap()).unwrap();
    let nope = s(&d.join("nope.json"));
    let cannot_read_nope = format!("cannot read {nope}: No such file or directory (os error 2)");

    let cases: Vec<(Vec<String>, String)> = vec![
        // The program after `--` is checked before the launch.
        (
            vec!["profile".into(), "--".into(), s(&folder)],
            format!("cannot run `{}`: it is a folder, not a program", s(&folder)),
        ),
        (vec!["top".into(), "-d".into(), "1s".into(), "--".into(), s(&folder)], "it is a folder, not a program".into()),
        (vec!["mem".into(), "--".into(), s(&folder)], "it is a folder, not a program".into()),
        (vec!["profile".into(), "--".into(), s(&script)], "it is not executable (`chmod +x".into()),
        (vec!["mem".into(), "--".into(), s(&script)], format!("or run it with Python: `python3 {}`", s(&script))),
        (
            vec!["profile".into(), "--".into(), "tachy-no-such-program".into()],
            "cannot run `tachy-no-such-program`: not found on PATH".into(),
        ),
        (vec!["profile".into(), "--".into(), d.join("missing").display().to_string()], "no such file".into()),
        // Values that cannot work.
        (
            vec![
                "profile".into(),
                "--duration".into(),
                "0s".into(),
                "--".into(),
                py.clone(),
                "-c".into(),
                "pass".into(),
            ],
            "--duration must be above 0".into(),
        ),
        (
            vec!["top".into(), "-d".into(), "0s".into(), "--".into(), py.clone(), "-c".into(), "pass".into()],
            "--duration must be above 0".into(),
        ),
        (
            vec![
                "top".into(),
                "--rate".into(),
                "0.01".into(),
                "-d".into(),
                "1s".into(),
                "--".into(),
                py.clone(),
                "-c".into(),
                "pass".into(),
            ],
            "--rate must be between 1 and 10000".into(),
        ),
        (
            vec!["mem".into(), "--interval".into(), "0s".into(), "--".into(), py.clone(), "-c".into(), "pass".into()],
            "--interval must be at least 1ms".into(),
        ),
        (
            vec![
                "mem".into(),
                "--sample-bytes".into(),
                "0".into(),
                "--".into(),
                py.clone(),
                "-c".into(),
                "pass".into(),
            ],
            "--sample-bytes must be above 0".into(),
        ),
        (
            vec!["mem".into(), "--keep-captures".into(), s(&file), "--".into(), py.clone(), "-c".into(), "pass".into()],
            "it is a file, not a folder".into(),
        ),
        (
            vec!["bench".into(), "-S".into(), "/no/such/shell".into(), "-r".into(), "3".into(), "true".into()],
            "the shell given with -S/--shell is unusable: cannot run `/no/such/shell`: no such file".into(),
        ),
        (
            vec![
                "bench".into(),
                "--python".into(),
                "import os; os._exit(0)".into(),
                "--processes".into(),
                "1".into(),
                "--values".into(),
                "1".into(),
                "--min-time".into(),
                "10ms".into(),
            ],
            "ended its worker process (exit code 0) before the timings were reported".into(),
        ),
        // -N splits the command into words: the folder's name has no space here.
        (
            vec!["bench".into(), "-N".into(), "-r".into(), "2".into(), s(d)],
            format!("cannot run `{}`: it is a folder", s(d)),
        ),
        (
            vec!["bench".into(), "--python-exe".into(), s(&folder), "--python".into(), "pass".into()],
            format!(
                "cannot use {0} for --python (--python-exe): cannot run `{0}`: it is a folder, not a program",
                s(&folder)
            ),
        ),
        (vec!["lint".into(), "--config".into(), s(d), s(&script)], "it is a folder, not a config file".into()),
        // Damaged files are refused for what they are.
        (
            vec!["bench".into(), "compare".into(), s(&negative), s(&negative)],
            "result 'a' has a negative time (-1)".into(),
        ),
        (
            vec!["profile".into(), "show".into(), s(&maxcount)],
            "its stack counts add up to more than 2^64 samples".into(),
        ),
        (
            vec!["report".into(), s(&maxcount), "-o".into(), s(&d.join("r.html"))],
            "its stack counts add up to more than 2^64 samples".into(),
        ),
        // A missing file: its cause once.
        (vec!["profile".into(), "show".into(), nope.clone()], cannot_read_nope.clone()),
        (vec!["mem".into(), "show".into(), nope.clone()], cannot_read_nope.clone()),
        (vec!["bench".into(), "compare".into(), nope.clone(), s(&negative)], cannot_read_nope.clone()),
        (vec!["lint".into(), "--profile".into(), nope.clone(), s(&script)], cannot_read_nope.clone()),
        (vec!["profile".into(), "diff".into(), nope.clone(), nope.clone()], cannot_read_nope.clone()),
    ];
    for (args, msg) in cases {
        assert_one_clear_line(&args.iter().map(OsString::from).collect::<Vec<_>>(), &msg);
    }
}

#[test]
fn contradictory_mem_flags_are_refused() {
    let res =
        tachy().args(["mem", "--native", "--no-native", "--"]).arg(python()).args(["-c", "pass"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("'--native' cannot be used with '--no-native'"), "{stderr}");
}

/// A script and an output name that are not UTF-8: the command is accepted and every file
/// keeps the raw bytes (`q\xfe.json` and `q\xfe.svg`, not `q\u{fffd}.svg`).
#[test]
fn non_utf8_script_and_output_names_are_kept_as_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let name = |s: &[u8]| dir.path().join(std::ffi::OsStr::from_bytes(s));
    let script = name(b"s\xfe.py");
    std::fs::write(
        &script,
        "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.5:\n    sum(range(1000))\n",
    )
    .unwrap();
    let out = name(b"q\xfe.json");
    let res = tachy()
        .args(["profile", "-q", "-f", "flamegraph", "-o"])
        .arg(&out)
        .arg("--")
        .arg(python())
        .arg(&script)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    assert_eq!(res.status.code(), Some(0), "{}", String::from_utf8_lossy(&res.stderr));
    assert!(out.exists(), "the profile keeps its raw name");
    assert!(name(b"q\xfe.svg").exists(), "the flamegraph beside it keeps the raw bytes too");
    assert!(!dir.path().join("q\u{fffd}.svg").exists());
    let p: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert!(p["meta"]["command"][1].as_str().unwrap().ends_with("s\u{fffd}.py"), "{}", p["meta"]["command"]);

    // tachy mem runs the same script; the bootstrap must not trip over its name.
    let mem_out = name(b"m\xfe.json");
    let res = tachy()
        .args(["mem", "-q", "-f", "plot", "-o"])
        .arg(&mem_out)
        .arg("--")
        .arg(python())
        .arg(&script)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("Error in sitecustomize"), "{stderr}");
    assert!(name(b"m\xfe.plot.svg").exists());
    let m: serde_json::Value = serde_json::from_slice(&std::fs::read(&mem_out).unwrap()).unwrap();
    assert!(m["python_version"].as_str().is_some_and(|v| v.starts_with("3.")), "{}", m["python_version"]);

    // A word that is not UTF-8 after `--` of top is accepted too (not clap's bare message).
    let res = tachy()
        .args(["top", "-d", "1s", "--rows", "3", "--"])
        .arg(python())
        .arg(&script)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    assert_eq!(res.status.code(), Some(0), "{}", String::from_utf8_lossy(&res.stderr));
}

/// The effective capabilities of this test process include CAP_SYS_PTRACE.
fn has_ptrace_cap() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .and_then(|h| u64::from_str_radix(h.trim(), 16).ok())
        .is_some_and(|c| c & (1 << 19) != 0)
}

/// Inside `unshare --user --map-root-user`, CapEff shows every capability, yet a process
/// outside the namespace cannot be read: the message must say so instead of blaming a
/// missing CAP_SYS_PTRACE.
#[test]
fn a_refusal_despite_the_capability_does_not_blame_it() {
    let probe = std::process::Command::new("unshare").args(["--user", "--map-root-user", "true"]).output();
    if !probe.is_ok_and(|o| o.status.success()) {
        // unshare --user is not available here.
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("running");
    let mut target = std::process::Command::new(python()).arg(fixture("long_running.py")).arg(&marker).spawn().unwrap();
    tachy_test::wait_for_file(&marker, Duration::from_secs(60));
    let res = std::process::Command::new("unshare")
        .args(["--user", "--map-root-user"])
        .arg(assert_cmd::cargo::cargo_bin("tachy"))
        .args(["dump", "--pid", &target.id().to_string()])
        .output()
        .unwrap();
    target.kill().unwrap();
    target.wait().unwrap();
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("lacks CAP_SYS_PTRACE"), "{stderr}");
    assert!(stderr.contains("runs in a user namespace") && stderr.contains("is outside"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

/// Where PID 1 cannot be read although tachy has CAP_SYS_PTRACE (a VM's or container's init),
/// the capability is not blamed. Skipped where PID 1 is readable or the capability missing.
#[test]
fn pid_1_refused_with_the_capability_is_explained() {
    if !has_ptrace_cap() || std::fs::read("/proc/1/maps").is_ok() {
        // PID 1 is readable here, or this process lacks CAP_SYS_PTRACE.
        return;
    }
    for command in ["profile", "dump"] {
        let res = tachy().args([command, "--pid", "1"]).timeout(Duration::from_secs(60)).output().unwrap();
        let stderr = String::from_utf8_lossy(&res.stderr);
        assert_eq!(res.status.code(), Some(2), "{stderr}");
        assert!(!stderr.contains("lacks CAP_SYS_PTRACE"), "{stderr}");
        assert!(stderr.contains("tachy has CAP_SYS_PTRACE, but PID 1 is the init process"), "{stderr}");
    }
}
