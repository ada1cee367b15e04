//! `tachy check` as JUnit XML, the format CI systems show as test results: one `<testsuite>`
//! named `tachy check` with one `<testcase>` per budget (class `tachy.<kind>`), a `<failure>`
//! listing the limits exceeded, an `<error>` for a budget that could not run (with its log
//! tail), and every check in `<system-out>`. Text and attributes are escaped, and characters
//! that XML 1.0 does not allow are dropped.

use std::fmt::Write;

use crate::check::{BudgetResult, CheckReport, LimitCheck, Verdict};

/// Renders a check report as a JUnit XML document.
pub fn render(report: &CheckReport) -> String {
    let (_, failures, errors) = report.counts();
    let tests = report.budgets.len();
    let time = seconds(report.duration_secs);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let counts = format!("tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\"");
    let _ = writeln!(out, "<testsuites name=\"tachy check\" {counts} time=\"{time}\">");
    let _ = write!(out, "  <testsuite name=\"tachy check\" {counts} skipped=\"0\" time=\"{time}\"");
    if let Some(t) = timestamp(&report.started_at) {
        let _ = write!(out, " timestamp=\"{t}\"");
    }
    out.push_str(">\n    <properties>\n");
    let mut property = |name: &str, value: &str| {
        let _ = writeln!(out, "      <property name=\"{name}\" value=\"{}\"/>", attr(value));
    };
    property("config", &report.config);
    property("tachy_version", &report.tachy_version);
    if let Some(c) = &report.git_commit {
        property("git_commit", c);
    }
    if report.interrupted {
        property("interrupted", "true");
    }
    out.push_str("    </properties>\n");
    for b in &report.budgets {
        testcase(&mut out, b);
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

fn testcase(out: &mut String, b: &BudgetResult) {
    let _ = write!(
        out,
        "    <testcase name=\"{}\" classname=\"tachy.{}\" time=\"{}\"",
        attr(&b.name),
        attr(&b.kind),
        seconds(b.duration_secs)
    );
    out.push_str(">\n");
    match b.verdict {
        Verdict::Pass => {}
        Verdict::Fail => {
            let failed: Vec<&LimitCheck> = b.checks.iter().filter(|c| !c.passed).collect();
            let message = if failed.is_empty() {
                "the budget failed".to_string()
            } else {
                let limits: Vec<String> = failed.iter().map(|c| limit_line(c)).collect();
                format!("{} of {} limits exceeded: {}", failed.len(), b.checks.len(), limits.join("; "))
            };
            let mut body: Vec<String> = failed.iter().map(|c| limit_line(c)).collect();
            body.extend(b.notes.iter().map(|n| format!("note: {n}")));
            let _ = writeln!(
                out,
                "      <failure message=\"{}\" type=\"limit\">{}</failure>",
                attr(&message),
                text(&body.join("\n"))
            );
        }
        Verdict::Error => {
            let error = b.error.as_deref().unwrap_or("the budget could not run");
            let message = error.lines().next().unwrap_or("");
            let mut body = error.to_string();
            if let Some(tail) = &b.log_tail {
                let _ = write!(body, "\n\nlast lines of the log:\n{tail}");
            }
            let _ = writeln!(out, "      <error message=\"{}\" type=\"error\">{}</error>", attr(message), text(&body));
        }
    }
    let mut lines: Vec<String> = Vec::new();
    if let Some(d) = &b.description {
        lines.push(d.clone());
    }
    for c in &b.checks {
        lines.push(format!("{}: {}", limit_line(c), if c.passed { "pass" } else { "FAIL" }));
    }
    if b.verdict != Verdict::Fail {
        lines.extend(b.notes.iter().map(|n| format!("note: {n}")));
    }
    if let Some(f) = &b.result_file {
        lines.push(format!("result: {f}"));
    }
    if !lines.is_empty() {
        let _ = writeln!(out, "      <system-out>{}</system-out>", text(&lines.join("\n")));
    }
    out.push_str("    </testcase>\n");
}

/// `p95 183 ms (limit <= 200 ms)`.
fn limit_line(c: &LimitCheck) -> String {
    format!("{} {} (limit {})", c.metric, c.measured_text, c.limit_text)
}

/// Seconds with millisecond precision; 0 when not a finite, non-negative number.
fn seconds(s: f64) -> String {
    format!("{:.3}", if s.is_finite() && s > 0.0 { s } else { 0.0 })
}

/// `YYYY-MM-DDTHH:MM:SS` of an RFC 3339 time (the form JUnit schemas accept), when it is one.
fn timestamp(time: &str) -> Option<&str> {
    let t = time.get(..19)?;
    let shape = t.bytes().enumerate().all(|(i, c)| match i {
        4 | 7 => c == b'-',
        10 => c == b'T',
        13 | 16 => c == b':',
        _ => c.is_ascii_digit(),
    });
    shape.then_some(t)
}

/// True for a character XML 1.0 allows in a document.
fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)
}

/// `s` as element text: `&`, `<` and `>` as entities (`>` so that `]]>` cannot appear), and
/// characters XML forbids dropped.
fn text(s: &str) -> String {
    escape(s, false)
}

/// `s` as a double-quoted attribute value: as [`text`], plus quotes, and whitespace other than
/// spaces as character references so attribute normalisation keeps it.
fn attr(s: &str) -> String {
    escape(s, true)
}

/// The escaping of [`text`], and of [`attr`] when `attribute`.
fn escape(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().filter(|&c| xml_char(c)) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\r' => out.push_str("&#13;"),
            '"' if attribute => out.push_str("&quot;"),
            '\'' if attribute => out.push_str("&apos;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\n' if attribute => out.push_str("&#10;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::*;

    #[test]
    fn snapshot() {
        insta::assert_snapshot!("report", render(&fixture::report()));
    }

    fn element<'a>(node: roxmltree::Node<'a, 'a>, name: &str) -> Option<roxmltree::Node<'a, 'a>> {
        node.children().find(|n| n.has_tag_name(name))
    }

    #[test]
    fn parses_back_with_counts_and_names() {
        let report = fixture::report();
        let xml = render(&report);
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let root = doc.root_element();
        assert!(root.has_tag_name("testsuites"));
        assert_eq!(root.attribute("tests"), Some("5"));
        assert_eq!(root.attribute("failures"), Some("1"));
        assert_eq!(root.attribute("errors"), Some("1"));
        let suite = element(root, "testsuite").unwrap();
        assert_eq!(suite.attribute("name"), Some("tachy check"));
        assert_eq!(suite.attribute("time"), Some("71.500"));
        assert_eq!(suite.attribute("timestamp"), Some("2026-01-20T09:30:00"));
        let cases: Vec<_> = suite.children().filter(|n| n.has_tag_name("testcase")).collect();
        let names: Vec<_> =
            cases.iter().map(|c| (c.attribute("name").unwrap(), c.attribute("classname").unwrap())).collect();
        assert_eq!(
            names,
            [
                ("api", "tachy.load"),
                ("startup", "tachy.bench"),
                ("memory", "tachy.mem"),
                ("soak", "tachy.watch"),
                ("lint", "tachy.lint")
            ]
        );
        assert_eq!(cases[0].attribute("time"), Some("31.250"));
        assert!(element(cases[0], "failure").is_none() && element(cases[0], "error").is_none());
        let out = element(cases[0], "system-out").unwrap().text().unwrap();
        assert!(out.contains("p95 183 ms (limit <= 200 ms): pass"), "{out}");
        let failure = element(cases[1], "failure").unwrap();
        assert_eq!(
            failure.attribute("message"),
            Some(
                "2 of 2 limits exceeded: mean of 'python app.py' 234.5 ms (limit <= 200 ms); regression vs main +12.5% (limit <= 5%)"
            )
        );
        let error = element(cases[3], "error").unwrap();
        assert!(error.attribute("message").unwrap().starts_with("the server never became ready"));
        assert!(error.text().unwrap().contains("ModuleNotFoundError: No module named 'flask'"));
    }

    #[test]
    fn hostile_strings_round_trip() {
        let report = fixture::hostile();
        let xml = render(&report);
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let suite = element(doc.root_element(), "testsuite").unwrap();
        let cases: Vec<_> = suite.children().filter(|n| n.has_tag_name("testcase")).collect();
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[0].attribute("name"), Some(report.budgets[0].name.as_str()));
        assert_eq!(cases[1].attribute("name"), Some("e\"'<>&"));
        let failure = element(cases[0], "failure").unwrap();
        assert!(failure.attribute("message").unwrap().contains("mean of 'a|b' <&> `c` 2.00 s (limit <= 1.00 s)"));
        assert!(failure.text().unwrap().contains("note: ]]> *bold*"));
        let error = element(cases[1], "error").unwrap();
        // NUL, ESC and U+FFFF are not XML characters: dropped, the rest kept as written.
        assert_eq!(error.attribute("message"), Some("failed: <>&\"' [2J | done"));
        assert!(error.text().unwrap().ends_with("```\n</details>\n<img src=x onerror=alert(1)>\n]]>"));
    }

    #[test]
    fn escaping_and_times() {
        assert_eq!(text("a<b>&c\u{0}\u{ffff}\r"), "a&lt;b&gt;&amp;c&#13;");
        assert_eq!(attr("\"'\t\n"), "&quot;&apos;&#9;&#10;");
        assert_eq!(seconds(f64::NAN), "0.000");
        assert_eq!(seconds(1.23456), "1.235");
        assert_eq!(timestamp("2026-01-20T09:30:00.250Z"), Some("2026-01-20T09:30:00"));
        assert_eq!(timestamp("yesterday"), None);
        // Multi-line attributes survive attribute-value normalisation.
        let mut r = fixture::hostile();
        r.config = "a\nb\tc".into();
        let xml = render(&r);
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let suite = element(doc.root_element(), "testsuite").unwrap();
        let props = element(suite, "properties").unwrap();
        let config = props.children().find(|p| p.attribute("name") == Some("config")).unwrap();
        assert_eq!(config.attribute("value"), Some("a\nb\tc"));
    }
}
