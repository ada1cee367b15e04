//! `tachy report` end to end: real results of every kind made by the built binary (bench,
//! profile, mem, watch, lint, load against an in-process test server, and a check report
//! pointing at two of them) rendered into one HTML file; a hostile script name stays text;
//! bad input (unknown schema version, missing file, malformed JSON, unwritable output) exits 2.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use tachy_test::servers::{Behavior, TestServer};
use tachy_test::{fixture, python};

use crate::tachy;

/// Bound of one command (against hangs only).
const LIMIT: Duration = Duration::from_secs(180);

/// A folder name and a file name that together make a path containing a script element.
const SCRIPT_DIR: &str = "<script>alert(1)<";
/// The file inside [`SCRIPT_DIR`].
const SCRIPT_FILE: &str = "script>.py";
/// A file name that tries to break out of an attribute.
const BREAKOUT: &str = "\"'><img src=x onerror=alert(1)>.py";

fn streams(out: &Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Runs `tachy ARGS` in `dir`, expecting one of `codes`.
fn run(dir: &Path, args: &[&str], codes: &[i32]) -> Output {
    let out = tachy().current_dir(dir).args(args).timeout(LIMIT).output().unwrap();
    assert!(
        out.status.code().is_some_and(|c| codes.contains(&c)),
        "tachy {args:?} exited {:?}\n{}",
        out.status.code(),
        streams(&out)
    );
    out
}

/// Makes one real result of every kind in `dir`; returns the file names.
fn results(dir: &Path) -> Vec<String> {
    let py = python().to_str().unwrap().to_string();

    run(dir, &["bench", "--runs", "5", "--export-json", "bench.json", "true"], &[0]);

    // A profile of a fixture copied under a name that contains `<script>alert(1)</script>`.
    std::fs::create_dir_all(dir.join(SCRIPT_DIR)).unwrap();
    let hostile: PathBuf = dir.join(SCRIPT_DIR).join(SCRIPT_FILE);
    std::fs::copy(fixture("weighted.py"), &hostile).unwrap();
    assert!(hostile.display().to_string().contains("<script>alert(1)</script>.py"));
    run(
        dir,
        &["profile", "-q", "-o", "profile.json", "--", &py, hostile.to_str().unwrap(), "0.5", "1", "1", "2"],
        &[0],
    );

    run(dir, &["mem", "-q", "-o", "mem.json", "--", &py, "-c", "x = [bytearray(1 << 20) for _ in range(20)]"], &[0]);

    let out = run(
        dir,
        &[
            "watch",
            "--json",
            "--isolated",
            "--interval",
            "100ms",
            "--alert",
            "rss>1MB",
            "--",
            &py,
            "-c",
            "import time; time.sleep(0.6)",
        ],
        &[0, 1],
    );
    std::fs::write(dir.join("watch.json"), &out.stdout).unwrap();

    let project = dir.join("project");
    std::fs::create_dir_all(&project).unwrap();
    let slow =
        "def render(rows):\n    out = \"\"\n    for row in rows:\n        out += f\"<td>{row}</td>\"\n    return out\n";
    std::fs::write(project.join(BREAKOUT), slow).unwrap();
    let out = run(&project, &["lint", "--isolated", "--output-format", "json"], &[1]);
    std::fs::write(dir.join("lint.json"), &out.stdout).unwrap();

    let server = TestServer::start(Behavior::ok_after(Duration::from_millis(1)));
    run(
        dir,
        &["load", &server.url("/"), "-n", "200", "-c", "2", "--slo", "p95<5s", "--export-json", "load.json"],
        &[0],
    );
    drop(server);

    std::fs::write(
        dir.join("check.json"),
        r#"{"schema": "tachy-check/1", "tachy_version": "test", "config": "pyproject.toml",
            "started_at": "2026-01-01T00:00:00Z", "duration_secs": 3.0,
            "budgets": [
              {"name": "startup", "kind": "bench", "verdict": "pass", "duration_secs": 1.0,
               "result_file": "bench.json",
               "checks": [{"metric": "median of 'true'", "measured": 0.001, "op": "<=", "limit": 1.0,
                           "unit": "s", "passed": true, "measured_text": "1.0 ms", "limit_text": "<= 1 s"}]},
              {"name": "latency", "kind": "load", "verdict": "fail", "duration_secs": 1.0,
               "result_file": "load.json",
               "checks": [{"metric": "p95", "measured": 2.0, "op": "<=", "limit": 1.0, "unit": "ms",
                           "passed": false, "measured_text": "2.00 ms", "limit_text": "<= 1 ms"}]},
              {"name": "gone", "kind": "mem", "verdict": "error", "duration_secs": 0.5,
               "error": "the command failed", "checks": [], "result_file": "missing.json"}
            ]}"#,
    )
    .unwrap();
    ["bench", "profile", "mem", "watch", "lint", "load", "check"].iter().map(|k| format!("{k}.json")).collect()
}

#[test]
fn one_page_from_every_kind_of_result() {
    let dir = tempfile::tempdir().unwrap();
    let files = results(dir.path());
    let mut args = vec!["report".to_string()];
    args.extend(files);
    args.extend(["-o".into(), "out/report.html".into(), "--title".into(), "CI <results>".into()]);
    std::fs::create_dir(dir.path().join("out")).unwrap();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(dir.path(), &args, &[0]);
    assert!(out.stdout.is_empty(), "{}", streams(&out));
    let html = std::fs::read_to_string(dir.path().join("out/report.html")).unwrap();

    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<title>CI &lt;results&gt;</title>"));
    for kind in ["bench", "load", "profile", "mem", "watch", "lint", "check"] {
        assert!(html.contains(&format!("class=\"result kind-{kind}\"")), "no {kind} section");
    }
    // The check report embeds the bench and load results it points to (two more sections)
    // and names the one it cannot read.
    assert_eq!(html.matches("class=\"result kind-bench\"").count(), 2);
    assert_eq!(html.matches("class=\"result kind-load\"").count(), 2);
    assert!(html.contains("gone: cannot read missing.json"));
    // Charts: box plots, latency histograms and timelines (twice each), mem and watch plots;
    // flamegraphs of the profile and of the memory at its peak.
    assert_eq!(html.matches("<svg class=\"chart\"").count(), 8);
    assert_eq!(html.matches("<div class=\"flamegraph\"").count(), 2);
    for heading in ["Distribution of runs", "Latency", "Timeline", "Top functions", "Memory over time", "Findings"] {
        assert!(html.contains(&format!(">{heading}</h")), "no {heading}");
    }
    assert!(html.contains("parse_records") && html.contains("score_records"));
    assert!(html.contains("TA101"));

    // Self-contained: nothing references the network.
    for bad in ["src=\"http", "href=\"http", "src='http", "href='http", "url(", "<link"] {
        assert!(!html.contains(bad), "found {bad}");
    }

    // The hostile names are shown as text, never as markup.
    assert!(!html.contains("<script>alert"), "a raw <script> from a file name");
    assert!(!html.contains("<img"), "a raw <img> from a file name");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;.py"), "the hostile script name is missing");
    assert!(html.contains("&quot;&#39;&gt;&lt;img src=x onerror=alert(1)&gt;.py"), "the hostile lint path is missing");
    assert!(html.contains("\\u003cscript\\u003ealert(1)\\u003c/script\\u003e.py"), "flamegraph data not escaped");
    let scripts = html.matches("<script").count();
    assert_eq!(scripts, html.matches("<script type=\"application/json\"").count() + 2);
}

#[test]
fn unknown_schema_version_exits_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("new.json"), r#"{"schema": "tachy-bench/2", "results": []}"#).unwrap();
    let out = run(dir.path(), &["report", "new.json", "-o", "r.html"], &[2]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot read result new.json: unknown schema \"tachy-bench/2\""), "{err}");
    assert!(err.contains("accepted schemas: tachy-bench/1"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!dir.path().join("r.html").exists());

    std::fs::write(dir.path().join("foreign.json"), r#"{"results": []}"#).unwrap();
    let out = run(dir.path(), &["report", "foreign.json", "-o", "r.html"], &[2]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no \"schema\" field"), "{}", streams(&out));
}

#[test]
fn missing_file_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), &["report", "nowhere.json", "-o", "r.html"], &[2]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim_end(), "tachy: error: cannot read nowhere.json: No such file or directory (os error 2)");
    assert!(!dir.path().join("r.html").exists());
}

#[test]
fn malformed_json_and_unwritable_output_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cut.json"), r#"{"schema": "tachy-lint/1", "files": "#).unwrap();
    let out = run(dir.path(), &["report", "cut.json", "-o", "r.html"], &[2]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read result cut.json: not valid JSON"));

    std::fs::write(
        dir.path().join("lint.json"),
        r#"{"schema": "tachy-lint/1", "tachy_version": "x", "files": 0, "lines": 0, "findings": [],
            "errors": [], "fixed": 0, "hidden_cold": 0}"#,
    )
    .unwrap();
    let out = run(dir.path(), &["report", "lint.json", "-o", "no/such/dir/r.html"], &[2]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot write no/such/dir/r.html"), "{}", streams(&out));
    run(dir.path(), &["report", "lint.json", "-o", "r.html"], &[0]);
    assert!(std::fs::read_to_string(dir.path().join("r.html")).unwrap().contains("No findings."));
}

/// A check report's `result_file`s are read only under the check report's folder: one outside
/// it (another project's result) is not embedded, and a file that is not a tachy result is not
/// skipped silently; both are named in the page and warned about on stderr.
#[test]
fn a_check_report_embeds_only_result_files_under_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("ci/results")).unwrap();
    std::fs::create_dir_all(d.join("other-project")).unwrap();
    let lint = r#"{"schema": "tachy-lint/1", "tachy_version": "x", "files": 0, "lines": 0, "findings": [],
            "errors": [], "fixed": 0, "hidden_cold": 0}"#;
    std::fs::write(d.join("ci/results/lint.json"), lint).unwrap();
    std::fs::write(d.join("other-project/secret.json"), lint).unwrap();
    std::fs::write(d.join("ci/results/notes.json"), "just some notes").unwrap();
    let budget = |name: &str, file: &str| {
        format!(
            r#"{{"name": "{name}", "kind": "lint", "verdict": "pass", "duration_secs": 1.0, "result_file": "{file}",
                "checks": [{{"metric": "findings", "measured": 0, "op": "<=", "limit": 0, "unit": "",
                             "passed": true, "measured_text": "0", "limit_text": "<= 0"}}]}}"#
        )
    };
    let secret = d.join("other-project/secret.json");
    std::fs::write(
        d.join("ci/check.json"),
        format!(
            r#"{{"schema": "tachy-check/1", "tachy_version": "test", "config": "tachy.toml",
                "started_at": "2026-01-01T00:00:00Z", "duration_secs": 3.0, "budgets": [{}, {}, {}, {}]}}"#,
            budget("inside", "results/lint.json"),
            budget("climbs", "../other-project/secret.json"),
            budget("absolute", secret.to_str().unwrap()),
            budget("notes", "results/notes.json"),
        ),
    )
    .unwrap();
    let out = run(d, &["report", "ci/check.json", "-o", "r.html"], &[0]);
    let err = String::from_utf8_lossy(&out.stderr);
    let html = std::fs::read_to_string(d.join("r.html")).unwrap();
    assert_eq!(html.matches("class=\"result kind-lint\"").count(), 1, "only the file inside is embedded");
    assert!(html.contains("inside (ci/results/lint.json)"), "{html}");
    for (name, why) in [
        ("climbs", "../other-project/secret.json is outside the folder of the check report (ci)"),
        ("absolute", "is outside the folder of the check report (ci)"),
        ("notes", "results/notes.json: not valid JSON"),
    ] {
        assert!(html.contains(&format!("<li>{name}: ")) && html.contains(why), "{name} in the page:\n{html}");
        assert!(
            err.lines()
                .any(|l| l.starts_with(&format!("tachy: warning: ci/check.json: budget {name}: ")) && l.contains(why)),
            "{name} on stderr:\n{err}"
        );
    }
    assert_eq!(err.lines().count(), 3, "{err}");
}
