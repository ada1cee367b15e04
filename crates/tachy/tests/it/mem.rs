//! `tachy mem` end to end on real Python programs (pyenv's and, where installed, Debian's
//! interpreter): the truth of the peak, the peak sites and the leaks, `--exact`, every output
//! format and `show`, budgets, threads, subprocesses, bad input, a killed program and Ctrl-C.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use predicates::prelude::*;
use serde_json::Value;
use tachy_test::{python, workspace_root};

use crate::tachy;

/// One MiB.
const MIB: u64 = 1 << 20;

/// Debian's interpreter, a second build of CPython (different compile options than pyenv's).
const DEBIAN_PYTHON: &str = "/usr/bin/python3.11";

/// A Python program under `crates/tachy/tests/fixtures/mem/`.
fn fixture(name: &str) -> PathBuf {
    workspace_root().join("crates/tachy/tests/fixtures/mem").join(name)
}

/// The line of `file` carrying the marker comment `# tachy-test: MARKER`.
fn line_of(file: &Path, marker: &str) -> u64 {
    let tag = format!("# tachy-test: {marker}");
    let text = std::fs::read_to_string(file).unwrap();
    let index = text.lines().position(|l| l.trim_end().ends_with(&tag));
    index.unwrap_or_else(|| panic!("no `{tag}` in {}", file.display())) as u64 + 1
}

/// Both stream of a finished command, for assertion messages.
fn streams(out: &Output) -> String {
    format!("stdout:\n{}\nstderr:\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Runs `tachy mem -o DIR/r.json FLAGS -- INTERPRETER SCRIPT ARGS`; returns the output and
/// the saved report (panics when there is none).
fn mem(dir: &Path, flags: &[&str], interpreter: &Path, script: &Path, args: &[&str]) -> (Output, Value) {
    let out = dir.join("r.json");
    let _ = std::fs::remove_file(&out);
    let res = tachy()
        .args(["mem", "-o"])
        .arg(&out)
        .args(flags)
        .arg("--")
        .arg(interpreter)
        .arg(script)
        .args(args)
        .timeout(Duration::from_secs(300))
        .output()
        .unwrap();
    let bytes =
        std::fs::read(&out).unwrap_or_else(|e| panic!("no report at {} ({e})\n{}", out.display(), streams(&res)));
    let report = serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("the report is not JSON: {e}"));
    (res, report)
}

/// Runs like [`mem`] and asserts exit code 0.
fn mem_ok(dir: &Path, flags: &[&str], interpreter: &Path, script: &Path) -> Value {
    let (res, report) = mem(dir, flags, interpreter, script, &[]);
    assert_eq!(res.status.code(), Some(0), "{}", streams(&res));
    assert_eq!(report["schema"], "tachy-mem/1");
    report
}

/// A site table of a report (`peak_sites`, `allocated_sites` or `leak_sites`).
fn sites<'a>(report: &'a Value, table: &str) -> &'a [Value] {
    report[table].as_array().unwrap_or_else(|| panic!("no {table} in the report"))
}

/// Whether `site` is line `line` of a file named `file`.
fn is_site(site: &Value, file: &str, line: u64) -> bool {
    site["file"].as_str().is_some_and(|f| f.ends_with(file)) && site["line"].as_u64() == Some(line)
}

/// The sites of a table, one `function file:line bytes` per line, for assertion messages.
fn describe(report: &Value, table: &str) -> String {
    sites(report, table)
        .iter()
        .map(|s| format!("{} {}:{} {} B", s["function"], s["file"], s["line"], s["bytes"]))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A byte count of the report.
fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a byte count: {v}"))
}

/// Debian's interpreter when installed; otherwise prints a note (the test is skipped).
#[allow(clippy::print_stdout)]
fn debian_python() -> Option<&'static Path> {
    let p = Path::new(DEBIAN_PYTHON);
    if p.exists() {
        Some(p)
    } else {
        println!("note: {DEBIAN_PYTHON} is not installed: skipping the Debian interpreter");
        None
    }
}

/// The truth checks of `truth.py` under one interpreter.
fn assert_truth(interpreter: &Path) {
    let dir = tempfile::tempdir().unwrap();
    let script = fixture("truth.py");
    let r = mem_ok(dir.path(), &[], interpreter, &script);
    let ctx = format!("interpreter {}", interpreter.display());
    assert_eq!(r["end"], "exited", "{ctx}");
    assert_eq!(r["exit_code"], 0, "{ctx}");
    assert_eq!(r["pids"].as_array().unwrap().len(), 1, "{ctx}");
    assert!(r["python_version"].as_str().is_some_and(|v| v.starts_with("3.")), "{ctx}: {}", r["python_version"]);

    // The leak comes after the peak: what is live at the peak is the 200 MiB plus the
    // interpreter's baseline (a few MiB).
    let peak = u(&r["peak"]["traced_bytes"]);
    assert!(peak >= 200 * MIB, "{ctx}: peak {peak}");
    assert!(peak <= 210 * MIB + 16 * MIB, "{ctx}: peak {peak}");
    assert!(u(&r["peak"]["rss_bytes"]) >= 200 * MIB, "{ctx}: RSS {}", r["peak"]["rss_bytes"]);
    assert!(u(&r["totals"]["allocated_bytes"]) >= 248 * MIB, "{ctx}: {}", r["totals"]);
    assert!(u(&r["totals"]["allocations"]) >= 248, "{ctx}: {}", r["totals"]);
    assert!(u(&r["totals"]["samples"]) > 0, "{ctx}: {}", r["totals"]);
    assert!(r["timeline"].as_array().unwrap().len() >= 2, "{ctx}: timeline");

    let top = &sites(&r, "peak_sites")[0];
    let peak_line = line_of(&script, "peak");
    assert!(
        is_site(top, "truth.py", peak_line),
        "{ctx}: peak site is not truth.py:{peak_line}:\n{}",
        describe(&r, "peak_sites")
    );
    assert_eq!(top["function"], "make_peak", "{ctx}");
    let peak_site_bytes = u(&top["bytes"]);
    assert!((140 * MIB..=260 * MIB).contains(&peak_site_bytes), "{ctx}: estimate of the peak site {peak_site_bytes}");

    let leak_line = line_of(&script, "leak");
    let top_leak = &sites(&r, "leak_sites")[0];
    assert!(
        is_site(top_leak, "truth.py", leak_line),
        "{ctx}: leak site is not truth.py:{leak_line}:\n{}",
        describe(&r, "leak_sites")
    );
    assert_eq!(top_leak["function"], "leak", "{ctx}");
    let leak_bytes = u(&top_leak["bytes"]) as f64;
    let truth = (48 * MIB) as f64;
    assert!((leak_bytes - truth).abs() <= 0.3 * truth, "{ctx}: leak estimate {leak_bytes} vs {truth}");
    assert!(u(&r["leaked_bytes"]) > 40 * MIB, "{ctx}: leaked {}", r["leaked_bytes"]);
    // The transient peak is not a leak.
    assert!(
        !sites(&r, "leak_sites").iter().any(|s| is_site(s, "truth.py", peak_line)),
        "{ctx}:\n{}",
        describe(&r, "leak_sites")
    );

    // Stacks are innermost first: the peak site's stack starts at make_peak, called by main.
    let frames = r["frames"].as_array().unwrap();
    let stack = &r["stacks"][u(&top["stack"]) as usize]["frames"];
    let names: Vec<&str> =
        stack.as_array().unwrap().iter().map(|i| frames[u(i) as usize]["function"].as_str().unwrap()).collect();
    assert_eq!(names.first(), Some(&"make_peak"), "{ctx}: {names:?}");
    assert!(names.contains(&"main") && names.contains(&"<module>"), "{ctx}: {names:?}");
}

#[test]
fn truth_peak_sites_and_leaks_are_right() {
    assert_truth(python());
}

/// Index `i` of the report's stack list, as function names and lines, innermost first.
fn stack_frames(r: &Value, i: u64) -> Vec<(String, u64)> {
    let frames = r["frames"].as_array().unwrap();
    r["stacks"][i as usize]["frames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let f = &frames[u(f) as usize];
            (f["function"].as_str().unwrap().to_string(), u(&f["line"]))
        })
        .collect()
}

/// NumPy arrays (memory C code takes from malloc, outside the Python allocators) count in the
/// traced peak by default: the 200 MiB transient is the peak within 5 %, made under
/// make_peak's line; the 48 MiB kept array is the leak at its line, although NumPy allocates
/// zeroed arrays with the GIL released. With --no-native neither is seen.
#[test]
fn numpy_arrays_count_in_the_peak_and_the_leaks() {
    let Some(py) = tachy_test::venv_python("numpy") else { return };
    let dir = tempfile::tempdir().unwrap();
    let script = fixture("numpy_truth.py");
    let r = mem_ok(dir.path(), &[], &py, &script);
    let peak = u(&r["peak"]["traced_bytes"]) as f64;
    let truth = (200 * MIB) as f64;
    assert!(peak >= truth && peak <= truth * 1.05 + (16 * MIB) as f64, "peak {peak} for {truth}");
    let peak_line = line_of(&script, "peak");
    let top = &sites(&r, "peak_sites")[0];
    let stack = stack_frames(&r, u(&top["stack"]));
    assert!(stack.contains(&("make_peak".to_string(), peak_line)), "{stack:?}\n{}", describe(&r, "peak_sites"));
    let est = u(&top["bytes"]) as f64;
    assert!((est - truth).abs() <= 0.05 * truth, "peak site estimate {est}");

    let leak_line = line_of(&script, "leak");
    let top_leak = &sites(&r, "leak_sites")[0];
    assert!(is_site(top_leak, "numpy_truth.py", leak_line), "{}", describe(&r, "leak_sites"));
    let leaked = u(&top_leak["bytes"]) as f64;
    assert!((leaked - (48 * MIB) as f64).abs() <= 0.05 * (48 * MIB) as f64, "leak estimate {leaked}");
    assert!(
        !sites(&r, "leak_sites").iter().any(|s| stack_frames(&r, u(&s["stack"])).iter().any(|f| f.0 == "make_peak")),
        "the transient is not a leak:\n{}",
        describe(&r, "leak_sites")
    );

    let r = mem_ok(dir.path(), &["--no-native"], &py, &script);
    assert!(u(&r["peak"]["traced_bytes"]) < 100 * MIB, "{}", r["peak"]);
    assert!(r["native"].is_null(), "{}", r["native"]);
}

#[test]
fn truth_holds_with_debians_python() {
    if let Some(p) = debian_python() {
        assert_truth(p);
    }
}

#[test]
fn exact_records_every_allocation() {
    let dir = tempfile::tempdir().unwrap();
    let script = fixture("exact.py");
    let r = mem_ok(dir.path(), &["--exact"], python(), &script);
    assert_eq!(r["sample_bytes"], 0);
    let samples = u(&r["totals"]["samples"]);
    assert!(samples > 0, "{}", r["totals"]);
    assert!(samples <= u(&r["totals"]["allocations"]), "{}", r["totals"]);
    let line = line_of(&script, "build");
    let site = sites(&r, "allocated_sites").iter().find(|s| is_site(s, "exact.py", line));
    let site = site.unwrap_or_else(|| panic!("exact.py:{line} is not listed:\n{}", describe(&r, "allocated_sites")));
    assert_eq!(site["function"], "build");
    // 5,000 strings of 8+ characters, counted one by one.
    assert!(u(&site["allocations"]) >= 5_000, "{site}");
}

#[test]
fn every_format_is_written_and_show_renders_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let formats = ["flamegraph", "flamegraph-allocated", "flamegraph-leaks", "speedscope", "pprof", "plot", "text"];
    let flags: Vec<&str> = formats.iter().flat_map(|f| ["-f", f]).collect();
    let (res, _) = mem(dir.path(), &flags, python(), &fixture("truth.py"), &[]);
    assert_eq!(res.status.code(), Some(0), "{}", streams(&res));
    let stdout = String::from_utf8_lossy(&res.stdout);
    assert!(stdout.contains("truth: peak 200 MiB"), "the program's stdout passes through: {stdout}");
    assert!(stdout.contains("Peak traced") && stdout.contains("make_peak"), "text summary: {stdout}");

    let read = |name: &str| std::fs::read(dir.path().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    for svg in ["r.peak.svg", "r.allocated.svg", "r.leaks.svg", "r.plot.svg"] {
        let text = String::from_utf8(read(svg)).unwrap();
        assert!(text.starts_with("<?xml") || text.starts_with("<svg"), "{svg}: {}", &text[..text.len().min(80)]);
        assert!(text.contains("</svg>"), "{svg} is complete");
    }
    assert!(String::from_utf8(read("r.peak.svg")).unwrap().contains("make_peak"));
    assert!(String::from_utf8(read("r.leaks.svg")).unwrap().contains("leak"));
    let ss: Value = serde_json::from_slice(&read("r.speedscope.json")).expect("speedscope is JSON");
    assert!(ss["profiles"].as_array().is_some_and(|p| !p.is_empty()), "{ss}");
    assert!(read("r.pb.gz").starts_with(&[0x1f, 0x8b]), "pprof is gzip");

    let report = dir.path().join("r.json");
    tachy()
        .args(["mem", "show"])
        .arg(&report)
        .assert()
        .success()
        .stdout(predicate::str::contains("Peak traced").and(predicate::str::contains("make_peak")));
    let pb = dir.path().join("x.pb.gz");
    tachy().args(["mem", "show"]).arg(&report).args(["-f", "pprof", "-o"]).arg(&pb).assert().success();
    assert!(std::fs::read(&pb).unwrap().starts_with(&[0x1f, 0x8b]));
    tachy()
        .args(["mem", "show"])
        .arg(&report)
        .args(["-f", "pprof"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with("tachy: error:").and(predicate::str::contains("-o")));
}

/// The `max-…` budget row of a text summary.
fn budget_row<'a>(stdout: &'a str, name: &str) -> &'a str {
    stdout.lines().find(|l| l.trim_start().starts_with(name)).unwrap_or_else(|| panic!("no {name} row:\n{stdout}"))
}

#[test]
fn budgets_fail_the_run_when_exceeded() {
    let dir = tempfile::tempdir().unwrap();
    let script = fixture("truth.py");

    let (res, r) = mem(dir.path(), &["-f", "text", "--max-peak", "100MB"], python(), &script, &[]);
    assert_eq!(res.status.code(), Some(1), "{}", streams(&res));
    let stdout = String::from_utf8_lossy(&res.stdout);
    assert!(budget_row(&stdout, "max-peak").contains("FAIL"), "{stdout}");
    // The limit and the peak read in the unit family written: 100 MB, not 95.4 MiB.
    assert!(budget_row(&stdout, "max-peak").contains(" 100 MB "), "{stdout}");
    assert!(budget_row(&stdout, "max-peak").contains(" MB ") && !stdout.contains("95.4 MiB"), "{stdout}");
    let b = &r["budgets"][0];
    assert_eq!(
        (b["name"].as_str(), b["limit_bytes"].as_u64(), b["passed"].as_bool()),
        (Some("max-peak"), Some(100_000_000), Some(false))
    );

    let (res, r) = mem(dir.path(), &["--max-peak", "1GB", "--max-leak", "100MB"], python(), &script, &[]);
    assert_eq!(res.status.code(), Some(0), "{}", streams(&res));
    let stdout = String::from_utf8_lossy(&res.stdout);
    assert!(
        budget_row(&stdout, "max-peak").contains("PASS") && budget_row(&stdout, "max-leak").contains("PASS"),
        "{stdout}"
    );
    assert_eq!(r["budgets"].as_array().unwrap().len(), 2);

    let (res, r) = mem(dir.path(), &["--max-leak", "10MB"], python(), &script, &[]);
    assert_eq!(res.status.code(), Some(1), "{}", streams(&res));
    assert!(budget_row(&String::from_utf8_lossy(&res.stdout), "max-leak").contains("FAIL"));
    assert!(r["budgets"].as_array().unwrap().iter().any(|b| b["name"] == "max-leak" && b["passed"] == false));

    // A binary size parses too: 1GiB holds.
    let (res, r) = mem(dir.path(), &["-f", "text", "--max-peak", "1GiB"], python(), &script, &[]);
    assert_eq!(res.status.code(), Some(0), "{}", streams(&res));
    assert!(budget_row(&String::from_utf8_lossy(&res.stdout), "max-peak").contains("1.00 GiB"), "{}", streams(&res));
    assert_eq!(r["budgets"][0]["units"], "binary");
}

#[test]
fn threads_allocations_are_attributed_to_the_thread_function() {
    let dir = tempfile::tempdir().unwrap();
    let script = fixture("threads.py");
    let r = mem_ok(dir.path(), &[], python(), &script);
    let line = line_of(&script, "thread");
    // The four threads hold 40 MiB at once (a barrier).
    assert!(u(&r["peak"]["traced_bytes"]) >= 40 * MIB, "{}", r["peak"]);
    let site = sites(&r, "peak_sites").iter().find(|s| is_site(s, "threads.py", line));
    let site = site.unwrap_or_else(|| panic!("threads.py:{line} is not a peak site:\n{}", describe(&r, "peak_sites")));
    assert_eq!(site["function"], "worker", "{site}");
    assert!(u(&site["bytes"]) >= 20 * MIB, "{site}");
}

#[test]
fn subprocesses_are_traced_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let parent = fixture("parent.py");
    let child_line = line_of(&fixture("child.py"), "child");

    let r = mem_ok(dir.path(), &["--subprocesses"], python(), &parent);
    let pids = r["pids"].as_array().unwrap();
    assert_eq!(pids.len(), 2, "{pids:?}");
    assert_ne!(pids[0], pids[1]);
    let site = sites(&r, "allocated_sites").iter().find(|s| is_site(s, "child.py", child_line));
    let site = site.unwrap_or_else(|| panic!("no child.py site:\n{}", describe(&r, "allocated_sites")));
    assert!(u(&site["bytes"]) >= 35 * MIB, "{site}");
    assert!(u(&r["totals"]["allocated_bytes"]) >= 50 * MIB, "{}", r["totals"]);

    let r = mem_ok(dir.path(), &[], python(), &parent);
    assert_eq!(r["pids"].as_array().unwrap().len(), 1, "{}", r["pids"]);
    for table in ["peak_sites", "allocated_sites", "leak_sites"] {
        assert!(
            !sites(&r, table).iter().any(|s| s["file"].as_str().is_some_and(|f| f.ends_with("child.py"))),
            "{table}:\n{}",
            describe(&r, table)
        );
    }
    assert!(u(&r["totals"]["allocated_bytes"]) < 50 * MIB, "the child is not counted: {}", r["totals"]);
}

/// What imports keep at exit (code objects, module globals, import caches: several MiB for a
/// dozen stdlib modules) is reported apart and is not a leak: `--max-leak 1MB` holds for a
/// program that only imports; 20 MiB kept in a global of the main script still fails it.
#[test]
fn memory_kept_by_imports_is_not_a_leak() {
    let dir = tempfile::tempdir().unwrap();
    let script = fixture("imports.py");
    let (res, r) = mem(dir.path(), &["--max-leak", "1MB"], python(), &script, &[]);
    assert_eq!(res.status.code(), Some(0), "{}", streams(&res));
    assert!(u(&r["leaked_bytes"]) < MIB, "leaked {}:\n{}", r["leaked_bytes"], describe(&r, "leak_sites"));
    assert!(u(&r["kept_by_imports_bytes"]) > 2 * MIB, "kept by imports {}", r["kept_by_imports_bytes"]);
    assert!(
        sites(&r, "import_sites").iter().any(|s| s["function"] == "_compile_bytecode"),
        "module code is kept by imports:\n{}",
        describe(&r, "import_sites")
    );
    let stdout = String::from_utf8_lossy(&res.stdout);
    assert!(stdout.contains("Kept by imports (not leaks"), "{stdout}");

    let (res, r) = mem(dir.path(), &["--max-leak", "1MB"], python(), &script, &["keep"]);
    assert_eq!(res.status.code(), Some(1), "{}", streams(&res));
    let line = line_of(&script, "kept");
    assert!(is_site(&sites(&r, "leak_sites")[0], "imports.py", line), "{}", describe(&r, "leak_sites"));
    assert!(u(&r["leaked_bytes"]) >= 20 * MIB, "{}", r["leaked_bytes"]);
    let b = &r["budgets"][0];
    assert_eq!((b["name"].as_str(), b["passed"].as_bool()), (Some("max-leak"), Some(false)), "{b}");
    assert_eq!(b["measured_bytes"], r["leaked_bytes"], "the budget checks the leak figure");
}

/// Objects in reference cycles that the program dropped but the collector had not reached
/// (the GC is even disabled) are collected before the leak point: garbage is not a leak.
#[test]
fn garbage_in_cycles_is_not_a_leak() {
    let dir = tempfile::tempdir().unwrap();
    let (res, r) = mem(dir.path(), &["--max-leak", "1MB"], python(), &fixture("cycles.py"), &[]);
    assert_eq!(res.status.code(), Some(0), "{}\n{}", streams(&res), describe(&r, "leak_sites"));
    assert!(u(&r["leaked_bytes"]) < MIB, "leaked {}:\n{}", r["leaked_bytes"], describe(&r, "leak_sites"));
    assert!(u(&r["peak"]["traced_bytes"]) > 15 * MIB, "the cycles were built: {}", r["peak"]);
}

/// NumPy's import (C extensions and their allocations included, `--native`) is kept by
/// imports too, not leaked. Needs the test venv.
#[test]
fn numpy_import_is_not_a_leak() {
    let Some(py) = tachy_test::venv_python("numpy") else { return };
    let dir = tempfile::tempdir().unwrap();
    let (res, r) = mem(dir.path(), &["--max-leak", "1MB"], &py, &fixture("imports.py"), &["numpy"]);
    assert_eq!(res.status.code(), Some(0), "{}\n{}", streams(&res), describe(&r, "leak_sites"));
    assert!(u(&r["kept_by_imports_bytes"]) > 2 * MIB, "kept by imports {}", r["kept_by_imports_bytes"]);
    assert!(
        sites(&r, "import_sites").iter().any(|s| s["file"].as_str().is_some_and(|f| f.contains("numpy"))),
        "{}",
        describe(&r, "import_sites")
    );
}

/// A program that raises fails the run (exit 2, one line) even with no budget, so a wrapped
/// test suite's failure shows in CI; the report is still written; a failed budget is named
/// on that line and in the report, and Ctrl-C / the program failing take precedence over it.
#[test]
fn a_program_that_exits_non_zero_fails_the_run_and_keeps_its_report() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("fails.py");
    std::fs::write(&script, "held = bytearray(2_000_000)\nraise ValueError('the test suite failed')\n").unwrap();
    let (res, r) = mem(dir.path(), &[], python(), &script, &[]);
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(2), "{}", streams(&res));
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("tachy: error:")).collect();
    assert_eq!(errors, ["tachy: error: the program exited with code 1 (its report is still written)"], "{stderr}");
    assert_eq!((r["end"].as_str(), r["exit_code"].as_i64()), (Some("exited"), Some(1)));
    assert!(String::from_utf8_lossy(&res.stdout).contains("Peak traced"), "the summary is printed");

    let (res, r) = mem(dir.path(), &["--max-peak", "1MB"], python(), &script, &[]);
    assert_eq!(res.status.code(), Some(2), "the program's failure comes before the budget's: {}", streams(&res));
    assert!(String::from_utf8_lossy(&res.stderr).contains("and a budget failed"), "{}", streams(&res));
    assert_eq!(r["budgets"][0]["passed"], false);
}

/// Asserts `tachy ARGS` exits 2 with one `tachy: error:` line containing `msg` on stderr.
fn assert_refused(args: &[&str], msg: &str) {
    let res = tachy().args(args).timeout(Duration::from_secs(120)).output().unwrap();
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert_eq!(res.status.code(), Some(2), "{args:?}: {}", streams(&res));
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{args:?}: one line: {stderr}");
    assert!(lines[0].starts_with("tachy: error:") && lines[0].contains(msg), "{args:?}: expected `{msg}`: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn bad_input_gets_one_clear_line() {
    let py = python().display().to_string();
    assert_refused(&["mem", "--", "/bin/true"], "no Python process");
    assert_refused(&["mem", "--", &py, "/no/such.py"], "script not found");
    assert_refused(
        &["mem", "--", "tachy-no-such-interpreter", "x.py"],
        "cannot run `tachy-no-such-interpreter`: not found on PATH",
    );
    assert_refused(&["mem"], "no command");

    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8], &str); 4] = [
        ("garbage.json", b"\x00\x9f\x12garbage\xff", "not a tachy mem report"),
        ("profile.json", b"{\"schema\": \"tachy-profile/1\", \"frames\": []}", "tachy-profile/1"),
        ("truncated.json", b"{\"schema\": \"tachy-mem/1\", \"frames\": [", "not a tachy mem report"),
        ("noschema.json", b"[1, 2, 3]", "schema"),
    ];
    for (name, bytes, msg) in cases {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        assert_refused(&["mem", "show", p.to_str().unwrap()], msg);
    }
    assert_refused(&["mem", "show", dir.path().join("missing.json").to_str().unwrap()], "missing.json");
}

#[test]
fn a_killed_program_keeps_what_was_captured() {
    let dir = tempfile::tempdir().unwrap();
    let (res, r) = mem(dir.path(), &[], python(), &fixture("killed.py"), &[]);
    // The program died by a signal: the capture up to then is still a report, and the run
    // fails (exit 2) with one line naming the signal.
    assert_eq!(res.status.code(), Some(2), "{}", streams(&res));
    assert!(
        String::from_utf8_lossy(&res.stderr).contains("tachy: error: the program was killed by signal"),
        "{}",
        streams(&res)
    );
    assert_eq!(r["end"], "killed", "{}", streams(&res));
    assert!(r["exit_code"].is_null(), "{}", r["exit_code"]);
    let notes = r["notes"].as_array().unwrap();
    assert!(!notes.is_empty(), "a note says the capture is partial");
    assert!(u(&r["peak"]["traced_bytes"]) >= 30 * MIB, "{}", r["peak"]);
    assert!(String::from_utf8_lossy(&res.stdout).contains("holding 30 MiB"));
}

#[test]
fn ctrl_c_writes_the_report_and_stops_the_program() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("running");
    let out = dir.path().join("r.json");
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("tachy"))
        .args(["mem", "-o"])
        .arg(&out)
        .arg("--")
        .arg(python())
        .arg(fixture("loop.py"))
        .arg(&marker)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = tachy_test::wait_for_file(&marker, Duration::from_secs(60));
    // Give the hook's sampler a moment to flush (not a timing assertion).
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let res = wait_bounded(child, Duration::from_secs(120));
    assert!(started, "the program never started: {}", streams(&res));
    assert_eq!(res.status.code(), Some(130), "{}", streams(&res));
    let r: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(r["end"], "interrupted");
    assert!(u(&r["peak"]["traced_bytes"]) >= 20 * MIB, "{}", r["peak"]);
    let pid = u(&r["pids"][0]);
    assert!(!Path::new(&format!("/proc/{pid}")).exists() || is_zombie(pid), "the program was stopped");
}

/// Whether a process is a zombie (reaped later by its parent).
fn is_zombie(pid: u64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|s| s.rsplit(')').next().is_some_and(|r| r.trim_start().starts_with('Z')))
}

/// Waits for a child with a bound: kills it (and fails) when it does not end in time.
fn wait_bounded(mut child: std::process::Child, limit: Duration) -> Output {
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            let res = child.wait_with_output().unwrap();
            panic!("tachy did not stop within {limit:?} of Ctrl-C: {}", streams(&res));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// An `-o` that cannot be written fails at once, before the program runs (not after a long run).
#[test]
fn an_unwritable_output_fails_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let out = tachy()
        .args(["mem", "-o", "/no/such/dir/r.json", "--"])
        .arg(python())
        .args(["-c", &format!("open({:?}, 'w').write('x')", marker.display().to_string())])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", streams(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot write /no/such/dir/r.json"));
    assert!(!marker.exists(), "the program must not have run");
}
