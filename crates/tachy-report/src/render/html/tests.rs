//! Tests of the HTML report with small hand-built models: structure, escaping of hostile
//! names, flamegraph data, check embedding, and a snapshot of a small page.

use std::path::Path;

use super::*;
use crate::check::{BudgetResult, CHECK_SCHEMA, CheckReport, LimitCheck, Verdict as CheckVerdict};
use crate::results::AnyResult;

/// A script name that tries to break out of text, attributes and scripts.
const HOSTILE: &str = "<script>alert(1)</script>\"'><img src=x onerror=alert(1)>";

/// A loader that finds nothing.
fn no_files(p: &Path) -> Result<AnyResult, ResultError> {
    Err(ResultError::Io { path: p.display().to_string(), error: std::io::Error::from(std::io::ErrorKind::NotFound) })
}

fn page(results: &[(String, AnyResult)]) -> String {
    render_with("tachy results", results, "2026-01-01T00:00:00Z", &no_files)
}

fn every_kind() -> Vec<(String, AnyResult)> {
    vec![
        ("bench.json".into(), AnyResult::Bench(crate::render::fixture::report())),
        ("load.json".into(), AnyResult::Load(crate::render::load::fixture::scenario())),
        ("profile.json".into(), AnyResult::Profile(crate::profile::fixture::profile())),
        ("mem.json".into(), AnyResult::Mem(crate::render::mem::fixture::report())),
        ("watch.json".into(), AnyResult::Watch(crate::render::watch::fixture::report())),
        ("lint.json".into(), AnyResult::Lint(crate::render::lint::fixture())),
        ("check.json".into(), AnyResult::Check(check_report(None))),
    ]
}

fn check_report(result_file: Option<&str>) -> CheckReport {
    let limit = |metric: &str, passed: bool| LimitCheck {
        metric: metric.into(),
        measured: 183.0,
        op: "<=".into(),
        limit: 200.0,
        unit: "ms".into(),
        passed,
        measured_text: "183 ms".into(),
        limit_text: "<= 200 ms".into(),
    };
    CheckReport {
        schema: CHECK_SCHEMA.into(),
        tachy_version: "0.0.0-test".into(),
        config: "pyproject.toml".into(),
        started_at: "2026-01-01T00:00:00Z".into(),
        duration_secs: 12.5,
        git_commit: Some("abc123".into()),
        budgets: vec![
            BudgetResult {
                name: "api-latency".into(),
                kind: "load".into(),
                description: None,
                verdict: CheckVerdict::Pass,
                checks: vec![limit("p95", true)],
                error: None,
                log_tail: None,
                notes: vec![],
                duration_secs: 5.0,
                result_file: result_file.map(str::to_string),
            },
            BudgetResult {
                name: "startup".into(),
                kind: "bench".into(),
                description: Some("import time".into()),
                verdict: CheckVerdict::Fail,
                checks: vec![limit("median", false)],
                error: None,
                log_tail: None,
                notes: vec![],
                duration_secs: 5.0,
                result_file: None,
            },
            BudgetResult {
                name: "server".into(),
                kind: "load".into(),
                description: None,
                verdict: CheckVerdict::Error,
                checks: vec![],
                error: Some("the server never became ready".into()),
                log_tail: Some("Traceback:\n  <boom>".into()),
                notes: vec![],
                duration_secs: 5.0,
                result_file: None,
            },
        ],
        interrupted: false,
    }
}

/// The hostile string in every user-data field a section shows.
fn hostile_results() -> Vec<(String, AnyResult)> {
    let mut bench = crate::render::fixture::report();
    bench.results[0].command = HOSTILE.into();
    bench.relative[0].command = HOSTILE.into();
    bench.warnings.push(HOSTILE.into());
    let mut profile = crate::profile::fixture::profile();
    profile.frames[1].function = HOSTILE.into();
    profile.frames[1].file = format!("/app/{HOSTILE}.py");
    profile.frames[1].short_file = Some(format!("{HOSTILE}.py"));
    profile.meta.command = vec!["python3".into(), format!("{HOSTILE}.py")];
    let mut mem = crate::render::mem::fixture::report();
    mem.frames[0].function = HOSTILE.into();
    mem.command = vec!["python3".into(), HOSTILE.into()];
    mem.peak_sites[0].function = HOSTILE.into();
    mem.notes.push(HOSTILE.into());
    let mut lint = crate::render::lint::fixture();
    lint.findings[0].path = format!("{HOSTILE}.py");
    lint.findings[0].message = HOSTILE.into();
    let mut watch = crate::render::watch::fixture::report();
    watch.command = HOSTILE.into();
    let mut load = crate::render::load::fixture::scenario();
    load.run.url = format!("http://x/{HOSTILE}");
    load.endpoints[0].name = HOSTILE.into();
    let mut check = check_report(None);
    check.budgets[0].name = HOSTILE.into();
    check.budgets[2].log_tail = Some(HOSTILE.into());
    vec![
        (format!("{HOSTILE}.json"), AnyResult::Bench(bench)),
        ("p.json".into(), AnyResult::Profile(profile)),
        ("m.json".into(), AnyResult::Mem(mem)),
        ("l.json".into(), AnyResult::Lint(lint)),
        ("w.json".into(), AnyResult::Watch(watch)),
        ("load.json".into(), AnyResult::Load(load)),
        ("c.json".into(), AnyResult::Check(check)),
    ]
}

#[test]
fn escape_covers_markup_quotes_and_controls() {
    assert_eq!(escape(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    assert_eq!(escape("a\tb\nc\u{7}d"), "a\tb\nc d");
}

#[test]
fn json_for_script_cannot_close_the_script() {
    let s = json_for_script(&vec!["</script><!--", "a&b", "\u{2028}\u{2029}"]);
    assert_eq!(s, r#"["\u003c/script\u003e\u003c!--","a\u0026b","\u2028\u2029"]"#);
    let back: Vec<String> = serde_json::from_str(&s).unwrap();
    assert_eq!(back, ["</script><!--", "a&b", "\u{2028}\u{2029}"]);
}

#[test]
fn every_kind_renders_a_section() {
    let html = page(&every_kind());
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.trim_end().ends_with("</html>"));
    for kind in ["bench", "load", "profile", "mem", "watch", "lint", "check"] {
        assert!(html.contains(&format!("class=\"result kind-{kind}\"")), "no {kind} section");
    }
    for heading in [
        "Distribution of runs",
        "Latency",
        "Timeline",
        "Flamegraph",
        "Top functions",
        "Memory over time",
        "Live at the peak",
    ] {
        assert!(html.contains(&format!(">{heading}</h3>")), "no {heading}");
    }
    assert!(html.contains(">RSS and CPU over time</h3>") && html.contains(">Findings per rule</h3>"));
    assert!(html.contains(">Verdicts</h3>"));
    // Header and table of contents.
    assert!(html.contains("<h1>tachy results</h1>"));
    assert!(html.contains("Generated 2026-01-01T00:00:00Z by tachy"));
    assert_eq!(html.matches("<li><a href=\"#result-").count(), 7);
    // Charts: box plot, histogram, load timeline, mem plot, watch plot; two flamegraphs.
    assert_eq!(html.matches("<svg class=\"chart\"").count(), 5);
    assert_eq!(html.matches("<div class=\"flamegraph\"").count(), 2);
    // The page's own instrumentation.
    assert!(html.contains("<body data-errors=\"0\" data-rendered=\"0\">"));
    assert!(html.contains("window.addEventListener('error'"));
    assert!(html.contains("body.dataset.rendered = String(drawn)"));
}

#[test]
fn nothing_is_fetched_from_the_network() {
    let html = page(&every_kind());
    for bad in ["src=\"http", "href=\"http", "src='http", "href='http", "url(", "@import", "<link", "<iframe"] {
        assert!(!html.contains(bad), "found {bad}");
    }
    assert!(!html.contains("http://www.w3.org"), "embedded SVGs keep no namespace URL");
    assert!(html.contains("Content-Security-Policy\" content=\"default-src 'none'"));
}

#[test]
fn hostile_names_never_appear_unescaped() {
    let html = page(&hostile_results());
    assert!(!html.contains("<script>alert"), "a raw <script> from user data");
    assert!(!html.contains("<img"), "a raw <img> from user data");
    assert!(!html.contains("onerror=alert(1)>"), "an unescaped attribute breakout");
    assert!(!html.contains("\"'>"), "an attribute breakout");
    // Every <script> is one of the page's own: the error counter, the JSON data, the main one.
    let scripts = html.matches("<script").count();
    let data = html.matches("<script type=\"application/json\"").count();
    assert_eq!(scripts, data + 2, "unexpected script elements");
    assert_eq!(html.matches("</script>").count(), scripts);
    // The names are there, escaped.
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&gt;&lt;img src=x onerror=alert(1)&gt;"));
    // And in the flamegraph data, as JSON escapes.
    assert!(
        html.contains(
            r#"\u003cscript\u003ealert(1)\u003c/script\u003e\"'\u003e\u003cimg src=x onerror=alert(1)\u003e"#
        )
    );
}

#[test]
fn flamegraph_ids_are_unique() {
    let p = AnyResult::Profile(crate::profile::fixture::profile());
    let html = page(&[("a.json".into(), p.clone()), ("b.json".into(), p)]);
    assert!(html.contains("id=\"flame-2\" data-src=\"flame-2-data\""), "{html}");
    assert!(html.contains("<script type=\"application/json\" id=\"flame-2-data\">"));
    assert!(html.contains("id=\"flame-4\" data-src=\"flame-4-data\""));
    let mut ids: Vec<&str> =
        html.match_indices(" id=\"").map(|(i, _)| &html[i + 5..][..html[i + 5..].find('"').unwrap()]).collect();
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), n, "duplicate ids");
}

#[test]
fn profile_flamegraph_is_split_by_thread() {
    let d = profile::flame_data(&crate::profile::fixture::profile());
    assert_eq!(d.total, 100);
    assert_eq!(d.unit, "samples");
    let name = |i: usize| d.names[d.nodes[i][0] as usize].as_str();
    assert_eq!(name(0), "all");
    assert_eq!((name(1), d.nodes[1][1], d.nodes[1][2]), ("MainThread (tid 4242)", 1, 70));
    assert_eq!((name(2), d.nodes[2][2]), ("<module>", 70));
    assert_eq!((name(3), d.nodes[3][2]), ("work", 60));
    assert_eq!((name(4), d.nodes[4][2]), ("worker (tid 4243)", 30));
    assert_eq!(d.nodes.len(), 8);
}

#[test]
fn mem_flamegraph_weighs_bytes_at_the_peak() {
    let m = crate::render::mem::fixture::report();
    let d = mem::flame_data(&m);
    assert_eq!(d.unit, "bytes");
    assert_eq!(d.total, m.stacks.iter().map(|s| s.peak_bytes).sum::<u64>());
    // Callers first: the deepest node of the heaviest path is an innermost frame.
    let depth1: Vec<u64> = d.nodes.iter().filter(|n| n[1] == 1).map(|n| n[2]).collect();
    assert_eq!(depth1.iter().sum::<u64>(), d.total);
}

#[test]
fn check_sections_embed_readable_result_files() {
    let loader = |p: &Path| -> Result<AnyResult, ResultError> {
        if p == Path::new("out/load.json") {
            Ok(AnyResult::Load(crate::render::load::fixture::closed()))
        } else {
            no_files(p)
        }
    };
    let mut check = check_report(Some("load.json"));
    check.budgets[1].result_file = Some("missing.json".into());
    let html = render_with("t", &[("out/check.json".into(), AnyResult::Check(check))], "now", &loader);
    assert!(html.contains("class=\"result kind-load\""), "the load result is embedded");
    assert!(html.contains(
        "<h3><span class=\"kind\">Load test</span> <span class=\"source\">api-latency (out/load.json)</span>"
    ));
    assert!(html.contains("startup: cannot read out/missing.json"), "unreadable files are named");
    // Nested in the table of contents.
    assert!(html.contains("<ol>\n<li><a href=\"#result-2\">Load test: api-latency (out/load.json)</a>"), "{html}");
    // Verdict colours.
    assert!(html.contains("<tr class=\"fail\"><td><b>startup</b>"));
    assert!(html.contains("<tr class=\"error\"><td><b>server</b>"));
    assert!(html.contains("<pre>Traceback:\n  &lt;boom&gt;</pre>"));
}

#[test]
fn empty_and_degenerate_results_render() {
    let mut profile = crate::profile::fixture::profile();
    profile.stacks.clear();
    let mut load = crate::render::load::fixture::closed();
    load.timeline.clear();
    load.totals.histogram.clear();
    let mut bench = crate::render::fixture::report();
    for r in &mut bench.results {
        r.times = vec![0.0; 3];
    }
    let html = page(&[
        ("p.json".into(), AnyResult::Profile(profile)),
        ("l.json".into(), AnyResult::Load(load)),
        ("b.json".into(), AnyResult::Bench(bench)),
        ("lint.json".into(), AnyResult::Lint(Default::default())),
    ]);
    assert!(html.contains("No samples"));
    assert!(html.contains("no responses") && html.contains("no timeline"));
    assert!(html.contains("No findings."));
    assert!(!html.contains("NaN"));
    assert!(page(&[]).contains("No results."));
}

#[test]
fn small_page_snapshot() {
    let mut lint = crate::render::lint::fixture();
    lint.findings.truncate(1);
    let html = page(&[("lint.json".into(), AnyResult::Lint(lint))]);
    let start = html.find("<header").unwrap();
    let end = html.find("<script>\n").unwrap();
    let shown = html[start..end].replace(env!("CARGO_PKG_VERSION"), "VERSION");
    insta::assert_snapshot!(shown);
}

/// A lint budget with a baseline passes although findings exist (none is new): the nested
/// lint section's badge and its table-of-contents entry say pass, as the check's exit code does.
#[test]
fn a_nested_result_badge_follows_the_checks_verdict_for_its_budget() {
    let loader = |p: &Path| -> Result<AnyResult, ResultError> {
        if p == Path::new("out/lint.json") { Ok(AnyResult::Lint(crate::render::lint::fixture())) } else { no_files(p) }
    };
    assert!(crate::render::lint::fixture().failed(), "the lint result alone fails: it has findings");
    let mut check = check_report(None);
    check.budgets.truncate(1);
    let b = &mut check.budgets[0];
    (b.name, b.kind, b.verdict) = ("lint-new".into(), "lint".into(), CheckVerdict::Pass);
    b.checks = vec![LimitCheck {
        metric: "new findings".into(),
        measured: 0.0,
        op: "<=".into(),
        limit: 0.0,
        unit: String::new(),
        passed: true,
        measured_text: "0".into(),
        limit_text: "<= 0".into(),
    }];
    b.result_file = Some("lint.json".into());
    let html = render_with("t", &[("out/check.json".into(), AnyResult::Check(check))], "now", &loader);
    let heading = "<h3><span class=\"kind\">Lint</span> <span class=\"source\">lint-new (out/lint.json)</span>";
    let at = html.find(heading).unwrap_or_else(|| panic!("no nested lint section:\n{html}"));
    let line = html[at..].lines().next().unwrap();
    assert!(line.ends_with("<span class=\"badge pass\">pass</span></h3>"), "{line}");
    assert!(
        html.contains("Lint: lint-new (out/lint.json)</a> <span class=\"badge pass\">pass</span>"),
        "table of contents: {html}"
    );
    assert!(!html.contains("badge fail"), "no FAIL badge anywhere: {html}");
    assert!(html.contains("the result&#39;s own gate alone says FAIL"), "{html}");
}

/// A check report can come from anywhere: its result files are read only under its own folder
/// (or a trusted one); the others, files that are not tachy results and results of another
/// kind are named in the page and returned as warnings, never embedded.
#[test]
fn result_files_outside_the_check_reports_folder_are_refused_and_reported() {
    let loaded = std::cell::RefCell::new(Vec::new());
    let loader = |p: &Path| -> Result<AnyResult, ResultError> {
        loaded.borrow_mut().push(p.to_path_buf());
        match p.file_name().and_then(|n| n.to_str()) {
            Some("load.json") => Ok(AnyResult::Load(crate::render::load::fixture::closed())),
            Some("bench.json") => Ok(AnyResult::Bench(crate::render::fixture::report())),
            _ => Err(ResultError::NoSchema),
        }
    };
    let mut check = check_report(Some("../elsewhere/load.json"));
    check.budgets[1].result_file = Some("notes.json".into());
    check.budgets[2].result_file = Some("bench.json".into());
    let results = [("out/check.json".to_string(), AnyResult::Check(check.clone()))];
    let page = page_with("t", &results, "now", &loader, &[]);
    assert!(!page.html.contains("class=\"result kind-load\""), "the file outside was embedded");
    assert!(!page.html.contains("class=\"result kind-bench\""), "a bench result embedded for a load budget");
    assert!(!loaded.borrow().iter().any(|p| p.ends_with("elsewhere/load.json")), "the file outside was read");
    assert!(page.html.contains("Result files not shown"), "{}", page.html);
    assert!(page.html.contains("api-latency: ../elsewhere/load.json is outside the folder of the check report (out)"));
    assert!(page.html.contains("startup: notes.json: no &quot;schema&quot; field: not a tachy result file"));
    assert!(page.html.contains("server: bench.json is a bench result, not the load result of this budget"));
    assert_eq!(page.warnings.len(), 3, "{:?}", page.warnings);
    assert!(page.warnings[0].starts_with("out/check.json: budget api-latency: result file not shown: "));
    assert!(page.warnings[1].contains("startup") && page.warnings[1].contains("no \"schema\" field"));

    // A trusted folder (the results folder of `tachy check --report`'s own run) is read.
    let cwd = std::env::current_dir().unwrap();
    let page = page_with("t", &results, "now", &loader, &[cwd.join("elsewhere")]);
    assert!(page.html.contains("class=\"result kind-load\""), "the trusted folder's file is embedded");
    assert_eq!(page.warnings.len(), 2, "{:?}", page.warnings);
}
