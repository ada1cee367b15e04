//! Output files across commands: a bad path is refused before the run starts, a write that
//! fails at the end still prints the summary and keeps the data in a named fallback file, and
//! nothing is left half-written at the target.

use std::path::Path;

use tachy_test::{python, sh_quote};

use crate::tachy;

/// A bad output path for every command that writes files, each refused at once: the program
/// (which would leave a marker file) never runs.
#[test]
fn bad_output_paths_are_refused_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let marker = d.join("ran");
    let script = d.join("mark.py");
    std::fs::write(&script, format!("open({:?}, 'w').write('x')\n", marker.display().to_string())).unwrap();
    let py = python().display().to_string();
    let script = script.display().to_string();
    let folder = d.display().to_string();
    let missing = d.join("missing/dir/out.json").display().to_string();
    let mark_cmd = format!("{} {}", sh_quote(Path::new(&py)), sh_quote(Path::new(&script)));
    let cases: Vec<Vec<String>> = vec![
        vec!["profile".into(), "-o".into(), missing.clone(), "--".into(), py.clone(), script.clone()],
        vec!["profile".into(), "-o".into(), folder.clone(), "--".into(), py.clone(), script.clone()],
        vec!["profile".into(), "-o".into(), "/proc/x".into(), "--".into(), py.clone(), script.clone()],
        vec!["top".into(), "-o".into(), missing.clone(), "--".into(), py.clone(), script.clone()],
        vec!["mem".into(), "-o".into(), missing.clone(), "--".into(), py.clone(), script.clone()],
        vec!["bench".into(), "-r".into(), "2".into(), "--export-json".into(), missing.clone(), mark_cmd.clone()],
        vec!["bench".into(), "-r".into(), "2".into(), "--export-csv".into(), folder.clone(), mark_cmd.clone()],
        vec![
            "watch".into(),
            "-d".into(),
            "1s".into(),
            "--plot".into(),
            missing.clone(),
            "--".into(),
            py.clone(),
            script.clone(),
        ],
    ];
    for args in cases {
        let out = tachy().current_dir(d).args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.starts_with("tachy: error: cannot write"), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        assert!(!marker.exists(), "{args:?} ran the program before refusing the path");
    }
}

#[test]
fn a_write_that_fails_at_the_end_still_prints_the_summary_and_keeps_the_data() {
    let out = tachy().args(["bench", "-N", "-r", "3", "--export-json", "/dev/full", "true"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stdout.contains("Time (median ± MAD)"), "the summary is printed: {stdout}");
    assert!(stderr.contains("cannot write /dev/full: No space left on device; its data was kept in "), "{stderr}");
    let kept = stderr.trim_end().rsplit("kept in ").next().unwrap();
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(kept).unwrap()).unwrap();
    assert_eq!(v["results"][0]["times"].as_array().unwrap().len(), 3);
    let _ = std::fs::remove_file(kept);
}

#[test]
fn a_profile_is_written_whole_or_not_at_all() {
    // An older file at the target is replaced in one step (temp file + rename): no temporary
    // file is left beside it, and the result parses.
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("p.json");
    std::fs::write(&out_path, "stale").unwrap();
    let out = tachy()
        .args(["profile", "-q", "-o"])
        .arg(&out_path)
        .args(["-f", "flamegraph", "--"])
        .arg(python())
        .arg(tachy_test::fixture("weighted.py"))
        .args(["0.5", "1", "1", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out_path).unwrap()).unwrap();
    assert_eq!(v["schema"], "tachy-profile/1");
    let names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(names.iter().all(|n| !n.contains("tachy-tmp")), "{names:?}");
    assert!(names.contains(&"p.svg".to_string()), "{names:?}");
}
