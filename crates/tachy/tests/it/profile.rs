//! `tachy profile` end to end on real Python programs: truth of the shares, threads,
//! subprocesses, asyncio, every output format parsed back, show/diff, and every bad input.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use predicates::prelude::*;
use tachy_test::{example, fixture, python};

use crate::tachy;

fn py() -> String {
    python().display().to_string()
}

/// Runs `tachy profile -o DIR/p.json -q ... -- python SCRIPT ARGS` and loads the saved profile.
fn profile(dir: &Path, flags: &[&str], script: &Path, args: &[&str]) -> serde_json::Value {
    let out = dir.join("p.json");
    let res = tachy()
        .args(["profile", "-q", "-f", "json", "-o"])
        .arg(&out)
        .args(flags)
        .arg("--")
        .arg(py())
        .arg(script)
        .args(args)
        .output()
        .unwrap();
    assert!(res.status.success(), "stderr: {}", String::from_utf8_lossy(&res.stderr));
    serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap()
}

/// Self share (0..1) of each function named, from a saved profile.
fn self_shares(p: &serde_json::Value) -> std::collections::HashMap<String, f64> {
    let frames = p["frames"].as_array().unwrap();
    let mut counts: std::collections::HashMap<String, f64> = Default::default();
    let mut total = 0.0;
    for s in p["stacks"].as_array().unwrap() {
        let n = s["count"].as_f64().unwrap();
        total += n;
        if let Some(leaf) = s["frames"].as_array().unwrap().last() {
            let f = &frames[leaf.as_u64().unwrap() as usize];
            *counts.entry(f["function"].as_str().unwrap().to_string()).or_default() += n;
        }
    }
    counts.values_mut().for_each(|v| *v /= total);
    counts
}

#[test]
fn shares_of_three_phases_match_their_time() {
    let dir = tempfile::tempdir().unwrap();
    let p = profile(dir.path(), &[], &example("phases.py"), &["3"]);
    let s = self_shares(&p);
    let (a, b, c) = (s["parse_records"], s["score_records"], s["write_report"]);
    // The truth is 50/30/20 of wall time. On a loaded 2-core machine the sampler itself waits
    // for a core, and rounds it could not take while starved are not replayed, so the shares
    // move by several points (41/30/28 and 45/27/27 seen with two busy loops competing): the
    // bounds allow it, and the largest phase must come first.
    assert!((0.36..=0.64).contains(&a), "{s:?}");
    assert!((0.18..=0.42).contains(&b), "{s:?}");
    assert!((0.08..=0.32).contains(&c), "{s:?}");
    assert!(a > b && a > c, "{s:?}");
    assert_eq!(p["meta"]["end"], "target_exited");
    assert_eq!(p["meta"]["exit_code"], 0);
    assert!(p["meta"]["rate_achieved"].as_f64().unwrap() > 0.0);
    assert!(p["meta"]["python_version"].as_str().unwrap().starts_with("3."));
}

#[test]
fn the_hot_thread_holds_the_non_idle_samples() {
    let dir = tempfile::tempdir().unwrap();
    let p = profile(dir.path(), &["--threads"], &fixture("threads.py"), &["2"]);
    let s = self_shares(&p);
    let hot = s.get("hot_loop").copied().unwrap_or(0.0);
    let other = s.iter().filter(|(k, _)| *k != "hot_loop").map(|(_, v)| *v).fold(0.0, f64::max);
    // Idle is the OS thread state read at each sample: on a loaded machine a thread that is
    // runnable but waiting for a core (e.g. woken to retry the GIL) is not idle, so the sleeper
    // leaks samples in proportion to the load (16% seen with two busy loops on two cores). The
    // hot thread must still dominate by a wide margin; with --idle (below) the sleeper is a
    // full share.
    // (40/25/28 for hot/sleeper/join seen with the suite, two busy loops and a browser
    // competing for two cores.)
    assert!(hot > other, "{s:?}");
    assert!(s.get("nap").copied().unwrap_or(0.0) < hot, "idle threads are excluded by default: {s:?}");
    let names: Vec<&str> = p["threads"].as_array().unwrap().iter().filter_map(|t| t["name"].as_str()).collect();
    assert!(names.contains(&"hot-worker"), "{names:?}");
    // With --idle, the sleeping thread shows up too.
    // With --idle every thread is sampled every round whatever its state: the sleeper (one of
    // three threads) holds about a third of the samples, load or not.
    let p = profile(dir.path(), &["--idle"], &fixture("threads.py"), &["1"]);
    let s = self_shares(&p);
    let napping = s.get("nap").copied().unwrap_or(0.0) + s.get("sleep").copied().unwrap_or(0.0);
    assert!(napping > 0.2, "{s:?}");
}

#[test]
fn subprocesses_are_followed_and_attributed_to_the_child() {
    let dir = tempfile::tempdir().unwrap();
    let p = profile(dir.path(), &["--subprocesses"], &fixture("children.py"), &["2"]);
    let root = p["meta"]["pids"][0].as_u64().unwrap();
    assert!(p["meta"]["pids"].as_array().unwrap().len() >= 2, "children were sampled: {}", p["meta"]["pids"]);
    let frames = p["frames"].as_array().unwrap();
    let threads = p["threads"].as_array().unwrap();
    let child_work: u64 = p["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| {
            s["frames"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| frames[f.as_u64().unwrap() as usize]["function"] == "child_work")
        })
        .map(|s| {
            assert_ne!(
                threads[s["thread"].as_u64().unwrap() as usize]["pid"].as_u64().unwrap(),
                root,
                "work is in a child"
            );
            s["count"].as_u64().unwrap()
        })
        .sum();
    assert!(child_work > 10, "child_work samples: {child_work}");
    // Without --subprocesses the parent only waits: no child_work at all.
    let p = profile(dir.path(), &[], &fixture("children.py"), &["1"]);
    assert!(!self_shares(&p).contains_key("child_work"));
}

#[test]
fn asyncio_coroutines_are_profiled() {
    let dir = tempfile::tempdir().unwrap();
    let p = profile(dir.path(), &[], &fixture("asyncio_app.py"), &["2"]);
    let s = self_shares(&p);
    let hottest = s.iter().max_by(|a, b| a.1.total_cmp(b.1)).unwrap();
    assert_eq!(hottest.0, "crunch", "{s:?}");
}

#[test]
fn every_format_is_written_and_parses_back() {
    use prost::Message;
    use std::io::Read;

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run.json");
    let res = tachy()
        .args(["profile", "-o"])
        .arg(&out)
        .args([
            "-f",
            "text",
            "-f",
            "flamegraph",
            "-f",
            "speedscope",
            "-f",
            "pprof",
            "-f",
            "chrome",
            "-f",
            "collapsed",
            "--lines",
        ])
        .arg("--")
        .arg(py())
        .arg(fixture("weighted.py"))
        .args(["1", "1", "1", "1"])
        .output()
        .unwrap();
    assert!(res.status.success(), "{}", String::from_utf8_lossy(&res.stderr));
    let stdout = String::from_utf8_lossy(&res.stdout);
    assert!(stdout.contains("Top functions by self time") && stdout.contains("Hot lines"), "{stdout}");
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let samples = saved["meta"]["samples"].as_u64().unwrap();
    assert!(samples > 0);

    let svg = std::fs::read_to_string(dir.path().join("run.svg")).unwrap();
    assert!(svg.contains("<svg") && svg.contains("parse_records"));

    let ss: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("run.speedscope.json")).unwrap()).unwrap();
    assert_eq!(ss["$schema"], "https://www.speedscope.app/file-format-schema.json");
    let n: usize = ss["profiles"].as_array().unwrap().iter().map(|p| p["samples"].as_array().unwrap().len()).sum();
    assert_eq!(n as u64, samples);

    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(dir.path().join("run.pb.gz")).unwrap())
        .read_to_end(&mut raw)
        .unwrap();
    let pp = tachy_report::render::profile::pprof::PprofProfile::decode(raw.as_slice()).unwrap();
    assert_eq!(pp.sample.iter().map(|s| s.value[0]).sum::<i64>() as u64, samples);
    assert!(pp.string_table.iter().any(|s| s == "score_records"));

    let trace: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("run.trace.json")).unwrap()).unwrap();
    assert!(trace["traceEvents"].as_array().unwrap().iter().any(|e| e["ph"] == "X" && e["dur"].as_u64().is_some()));

    let collapsed = std::fs::read_to_string(dir.path().join("run.collapsed.txt")).unwrap();
    let total: u64 = collapsed.lines().map(|l| l.rsplit_once(' ').unwrap().1.parse::<u64>().unwrap()).sum();
    assert_eq!(total, samples);
    assert!(collapsed.contains("weighted.py:"), "--lines labels frames by line");

    // `show` re-renders the saved profile, to stdout or to a file (binary formats too).
    tachy().args(["profile", "show"]).arg(&out).assert().success().stdout(predicate::str::contains("write_report"));
    let again = dir.path().join("again.pb.gz");
    tachy().args(["profile", "show"]).arg(&out).arg("-o").arg(&again).assert().success();
    assert!(std::fs::read(&again).unwrap().starts_with(&[0x1f, 0x8b]));
    tachy()
        .args(["profile", "show", "-f", "pprof"])
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("binary: write it to a file with -o"));
    let collapsed_again = tachy().args(["profile", "show", "-f", "collapsed", "--lines"]).arg(&out).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&collapsed_again.stdout), collapsed);
}

#[test]
fn show_snapshot_of_a_saved_profile() {
    let out = tachy().args(["profile", "show", "--lines", "--top", "5"]).arg(fixture("saved.json")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    insta::assert_snapshot!(String::from_utf8_lossy(&out.stdout));
}

#[test]
fn diff_calls_growth_and_gates_on_it() {
    let dir = tempfile::tempdir().unwrap();
    let before = dir.path().join("before.json");
    let after = dir.path().join("after.json");
    for (path, weights) in [(&before, ["5", "3", "2"]), (&after, ["2", "3", "5"])] {
        tachy()
            // 2 s at 400 Hz: enough samples (300 per profile) for the diff to test shares.
            .args(["profile", "-q", "--rate", "400", "-f", "json", "-o"])
            .arg(path)
            .arg("--")
            .arg(py())
            .arg(fixture("weighted.py"))
            .arg("2")
            .args(weights)
            .assert()
            .success();
    }
    let svg = dir.path().join("diff.svg");
    let out = tachy()
        .args(["profile", "diff", "--json", "--fail-if-grows", "10"])
        .arg(&before)
        .arg(&after)
        .arg("-o")
        .arg(&svg)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let d: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = |name: &str| d["rows"].as_array().unwrap().iter().find(|r| r["function"] == name).unwrap().clone();
    assert_eq!(row("write_report")["self_share"]["verdict"], "grew");
    assert_eq!(row("parse_records")["self_share"]["verdict"], "shrank");
    // The gate names the function that failed it, with its change and interval.
    assert_eq!(d["failures"][0]["function"], "write_report", "{d}");
    assert!(d["failures"][0]["ci_low"].as_f64().unwrap() > 0.0);
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
    tachy()
        .args(["profile", "diff", "--fail-if-grows", "10"])
        .arg(&before)
        .arg(&after)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("FAILED").and(predicate::str::contains("  write_report (")));
    // A profile against itself: all noise, gate passes.
    tachy()
        .args(["profile", "diff", "--fail-if-grows", "1"])
        .arg(&before)
        .arg(&before)
        .assert()
        .success()
        .stdout(predicate::str::contains("noise").and(predicate::str::contains("passed")));
}

#[test]
fn bad_profile_files_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8], &str); 4] = [
        ("empty.json", b"", "is empty"),
        ("corrupt.json", b"{\"schema\": \"tachy-profile/1\", \"frames\": [", "not valid JSON"),
        ("bench.json", b"{\"schema\": \"tachy-bench/1\", \"results\": []}", "its schema is 'tachy-bench/1'"),
        ("other.json", b"[1, 2, 3]", "no `schema` field"),
    ];
    for (name, bytes, msg) in cases {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        tachy().args(["profile", "show"]).arg(&p).assert().code(2).stderr(predicate::str::contains(msg));
        tachy()
            .args(["profile", "diff"])
            .arg(&p)
            .arg(fixture("saved.json"))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(msg));
    }
    tachy()
        .args(["profile", "show"])
        .arg(dir.path().join("missing.json"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot read").and(predicate::str::contains("missing.json")));
}

#[test]
fn bad_targets_get_one_clear_line() {
    tachy()
        .args(["profile", "--pid", "4194303"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no process with PID 4194303"));
    tachy()
        .args(["profile", "--", &py(), "/no/such/script.py"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("script not found: /no/such/script.py"));
    tachy()
        .args(["profile", "--", "tachy-no-such-interpreter", "x.py"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot run `tachy-no-such-interpreter`: not found on PATH"));
    tachy().args(["profile"]).assert().code(2).stderr(predicate::str::contains("nothing to profile"));
    if !cfg!(feature = "native") {
        tachy()
            .args(["profile", "--native", "--", &py(), "-c", "pass"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("--native needs"));
    }
    // A program that is not Python, launched or attached.
    tachy()
        .args(["profile", "--", "sleep", "30"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not a Python program").and(predicate::str::contains("sleep 30")));
    let mut sleeper = std::process::Command::new("sleep").arg("30").spawn().unwrap();
    tachy()
        .args(["profile", "--pid", &sleeper.id().to_string()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not a Python program").and(predicate::str::contains("panicked").not()));
    sleeper.kill().unwrap();
    sleeper.wait().unwrap();
}

#[test]
fn a_program_that_exits_before_any_sample_is_reported() {
    tachy()
        .args(["profile", "--", "true"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("before the first sample"));
}

#[test]
fn a_crash_mid_run_keeps_what_was_collected() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("crash.json");
    let res =
        tachy().args(["profile", "-q", "-o"]).arg(&out).arg("--").arg(py()).arg(fixture("crash.py")).output().unwrap();
    let stderr = String::from_utf8_lossy(&res.stderr);
    // The program failed: exit 2 with one line naming the signal, the profile still written.
    assert_eq!(res.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("crashed"), "{stderr}");
    assert!(stderr.contains("tachy: error: the program was killed by signal 11"), "{stderr}");
    let p: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(p["meta"]["exit_code"], 139);
    assert!(p["meta"]["samples"].as_u64().unwrap() > 0);
    assert!(self_shares(&p).contains_key("doomed_work"));
}

/// A program that exits non-zero fails the run (exit 2, like a crash) so CI sees it; its
/// profile is still written and printed.
#[test]
fn a_program_that_exits_non_zero_fails_the_run_but_keeps_its_profile() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("fails.json");
    let res = tachy().args(["profile", "-o"]).arg(&out).arg("--").arg(py()).arg(fixture("fails.py")).output().unwrap();
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(2), "{stderr}");
    let line: Vec<&str> = stderr.lines().filter(|l| l.starts_with("tachy: error:")).collect();
    assert_eq!(line, ["tachy: error: the program exited with code 1 (its report is still written)"], "{stderr}");
    assert!(String::from_utf8_lossy(&res.stdout).contains("failing_work"), "the summary is printed");
    let p: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(p["meta"]["exit_code"], 1);
    assert!(self_shares(&p).contains_key("failing_work"));
}

#[test]
fn ctrl_c_writes_the_profile_and_stops_the_program() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("running");
    let out = dir.path().join("partial.json");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("tachy"))
        .args(["profile", "-q", "-o"])
        .arg(&out)
        .arg("--")
        .arg(py())
        .arg(fixture("long_running.py"))
        .arg(&marker)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(tachy_test::wait_for_file(&marker, Duration::from_secs(60)), "the program never started");
    // Give the sampler a moment to take some samples (not a timing assertion).
    std::thread::sleep(Duration::from_millis(500));
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let res = child.wait_with_output().unwrap();
    assert_eq!(res.status.code(), Some(130), "{}", String::from_utf8_lossy(&res.stderr));
    let p: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(p["meta"]["end"], "interrupted");
    assert!(p["meta"]["samples"].as_u64().unwrap() > 0);
    assert!(self_shares(&p).contains_key("busy_forever"));
    assert!(String::from_utf8_lossy(&res.stdout).contains("interrupted by Ctrl-C"));
    let pid = p["meta"]["pids"][0].as_u64().unwrap();
    assert!(!Path::new(&format!("/proc/{pid}")).exists(), "the program was stopped");
}

#[test]
fn attach_by_pid_for_a_duration() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("running");
    let mut target = std::process::Command::new(python()).arg(fixture("long_running.py")).arg(&marker).spawn().unwrap();
    tachy_test::wait_for_file(&marker, Duration::from_secs(60));
    let out = dir.path().join("attached.json");
    let res = tachy()
        .args(["profile", "-q", "--duration", "1s", "--pid", &target.id().to_string(), "-o"])
        .arg(&out)
        .output()
        .unwrap();
    target.kill().unwrap();
    target.wait().unwrap();
    assert!(res.status.success(), "{}", String::from_utf8_lossy(&res.stderr));
    let p: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(p["meta"]["end"], "duration");
    assert!(self_shares(&p).contains_key("busy_forever"));
}

/// Runs `tachy ARGS --pid P` as an unprivileged user against a root-owned Python process and
/// checks the one-line permission error. Needs root (to drop privileges) and setpriv; returns
/// false where that cannot be arranged.
pub fn assert_ptrace_refused(args: &[&str]) -> bool {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 || tachy_process::python::which(std::ffi::OsStr::new("setpriv")).is_none() {
        return false;
    }
    let dir = tempfile::tempdir().unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = dir.path().join("tachy");
    std::fs::copy(assert_cmd::cargo::cargo_bin("tachy"), &bin).unwrap();
    let marker = dir.path().join("running");
    let mut target = std::process::Command::new(python()).arg(fixture("long_running.py")).arg(&marker).spawn().unwrap();
    tachy_test::wait_for_file(&marker, Duration::from_secs(60));
    let res = std::process::Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
        .arg(&bin)
        .args(args)
        .args(["--pid", &target.id().to_string()])
        .output()
        .unwrap();
    target.kill().unwrap();
    target.wait().unwrap();
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("permission denied") && stderr.contains("CAP_SYS_PTRACE"), "{stderr}");
    assert!(stderr.lines().count() == 1, "one line: {stderr}");
    true
}

#[test]
fn ptrace_refusal_names_the_cause_and_the_fix() {
    assert_ptrace_refused(&["profile"]);
}

#[cfg(feature = "native")]
#[test]
fn native_frames_appear_with_native() {
    let dir = tempfile::tempdir().unwrap();
    let p = profile(dir.path(), &["--native"], &fixture("weighted.py"), &["1", "1", "1", "1"]);
    let files: Vec<&str> = p["frames"].as_array().unwrap().iter().filter_map(|f| f["file"].as_str()).collect();
    assert!(files.iter().any(|f| f.contains(".so")), "native frames name their shared library: {files:?}");
    assert!(files.iter().any(|f| f.ends_with("weighted.py")), "Python frames stay: {files:?}");
}

#[test]
fn a_rate_below_one_is_refused_and_every_wait_ends_with_the_duration() {
    for rate in ["0.001", "0.5"] {
        let out = tachy()
            .args(["profile", "--rate", rate, "-d", "1s", "--"])
            .arg(python())
            .arg(fixture("long_running.py"))
            .arg(std::env::temp_dir().join("tachy-never-created"))
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("--rate must be between 1 and 10000"), "{stderr}");
    }
    // At the slowest accepted rate a round is up to 1.5 s away: -d 1s still ends the run, and
    // the profile is written.
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("slow.json");
    let started = std::time::Instant::now();
    let out = tachy()
        .args(["profile", "-q", "--rate", "1", "-d", "1s", "-o"])
        .arg(&out_path)
        .arg("--")
        .arg(python())
        .arg(fixture("long_running.py"))
        .arg(dir.path().join("started"))
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out_path.exists());
    // A bound against the old hang (a round minutes away), not a timing assertion.
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
}
