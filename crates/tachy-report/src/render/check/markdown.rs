//! `tachy check` as a pull-request comment (also the GitHub step summary): a heading with the
//! overall verdict, a table of every limit with a verdict emoji, the errors and log tails in a
//! `<details>` block, and the notes. Every user string is escaped for Markdown and HTML.

use std::fmt::Write;

use super::{short_commit, summary};
use crate::check::{BudgetResult, CheckReport, Verdict};
use crate::render::common::secs;

/// Renders a check report as GitHub-flavoured Markdown.
pub fn render(report: &CheckReport) -> String {
    let mut out = String::new();
    let heading = match report.verdict() {
        Verdict::Pass => "✅ tachy check passed",
        Verdict::Fail => "❌ tachy check failed",
        Verdict::Error => "❌ tachy check could not run every budget",
    };
    let _ = writeln!(out, "## {heading}\n");
    let _ = write!(out, "{}", summary(report));
    if report.interrupted {
        out.push_str(" (interrupted: the budgets after the last one shown did not run)");
    }
    out.push_str(".\n\n");
    if !report.budgets.is_empty() {
        let _ = writeln!(out, "| | Budget | Kind | Metric | Measured | Limit |");
        let _ = writeln!(out, "|:---:|:---|:---|:---|---:|:---|");
        for b in &report.budgets {
            rows(&mut out, b);
        }
        out.push('\n');
    }
    errors(&mut out, report);
    notes(&mut out, report);
    let mut footer = vec![format!("tachy {}", escape(&report.tachy_version)), escape(&report.config)];
    if let Some(c) = &report.git_commit {
        footer.push(format!("commit {}", escape(short_commit(c))));
    }
    footer.push(escape(&report.started_at));
    footer.push(secs(report.duration_secs));
    let _ = writeln!(out, "<sub>{}</sub>", footer.join(" · "));
    out
}

/// The emoji of a verdict.
fn emoji(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "✅",
        Verdict::Fail => "❌",
        Verdict::Error => "⚠️",
    }
}

fn rows(out: &mut String, b: &BudgetResult) {
    let name = escape(&b.name);
    let name = match &b.description {
        Some(d) => format!("**{name}**<br><sub>{}</sub>", escape(d)),
        None => format!("**{name}**"),
    };
    let kind = escape(&b.kind);
    if b.verdict == Verdict::Error || b.checks.is_empty() {
        let what =
            if b.verdict == Verdict::Error { "could not run (see the errors below)" } else { "no limit checked" };
        let _ = writeln!(out, "| {} | {name} | {kind} | *{what}* | | |", emoji(b.verdict));
        return;
    }
    for (i, c) in b.checks.iter().enumerate() {
        let (name, kind) = if i == 0 { (name.as_str(), kind.as_str()) } else { ("", "") };
        let v = if c.passed { Verdict::Pass } else { Verdict::Fail };
        let measured = if c.passed { escape(&c.measured_text) } else { format!("**{}**", escape(&c.measured_text)) };
        let _ = writeln!(
            out,
            "| {} | {name} | {kind} | {} | {measured} | {} |",
            emoji(v),
            escape(&c.metric),
            escape(&c.limit_text)
        );
    }
}

fn errors(out: &mut String, report: &CheckReport) {
    let with: Vec<&BudgetResult> =
        report.budgets.iter().filter(|b| b.error.is_some() || b.log_tail.is_some()).collect();
    if with.is_empty() {
        return;
    }
    let _ = writeln!(out, "<details><summary>Errors ({})</summary>\n", with.len());
    for b in with {
        let error = b.error.as_deref().map_or_else(|| b.verdict.label().to_string(), escape_block);
        let _ = writeln!(out, "**{}**: {error}\n", escape(&b.name));
        if let Some(tail) = &b.log_tail {
            let tail: String =
                tail.chars().map(|c| if c.is_control() && c != '\n' && c != '\t' { ' ' } else { c }).collect();
            let fence = fence(&tail);
            let _ = writeln!(out, "{fence}text\n{}\n{fence}\n", tail.trim_end_matches('\n'));
        }
    }
    let _ = writeln!(out, "</details>\n");
}

fn notes(out: &mut String, report: &CheckReport) {
    let mut any = false;
    for b in &report.budgets {
        for n in &b.notes {
            if !any {
                out.push_str("**Notes**\n\n");
                any = true;
            }
            let _ = writeln!(out, "- {}: {}", escape(&b.name), escape(n));
        }
    }
    if any {
        out.push('\n');
    }
}

/// A code fence longer than any run of backticks in `text`, so it cannot be closed early.
fn fence(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    "`".repeat((longest + 1).max(3))
}

/// `s` as inline Markdown text on one line (a table cell): HTML specials as entities, Markdown
/// punctuation backslash-escaped (`|` too, which GitHub honours in tables), line breaks and
/// other control characters as spaces.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '#' | '|' | '~' | '!' | '{' | '}' | '$' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// `s` as Markdown text that may span lines (each line escaped, joined by `<br>`).
fn escape_block(s: &str) -> String {
    s.lines().map(escape).collect::<Vec<_>>().join("<br>")
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::*;

    #[test]
    fn snapshot() {
        insta::assert_snapshot!("report", render(&fixture::report()));
    }

    #[test]
    fn hostile_strings_are_escaped() {
        let out = render(&fixture::hostile());
        insta::assert_snapshot!("hostile", out);
        // Raw HTML only inside the log tail's code block, where it is shown as text.
        let (before, rest) = out.split_once("````text\n").unwrap();
        let (code, after) = rest.split_once("\n````\n").unwrap();
        assert!(code.contains("<img"));
        for part in [before, after] {
            assert!(!part.contains("<script") && !part.contains("<img") && !part.contains("]]>"), "{part}");
        }
        assert!(!out.contains('\x1b'), "{out}");
        // Every table row keeps its six columns: no unescaped `|` inside a cell.
        for line in out.lines().filter(|l| l.starts_with("| ")) {
            let cells = line.replace("\\|", "").matches('|').count();
            assert_eq!(cells, 7, "{line}");
        }
        // The log tail's own fences cannot close the block.
        assert!(out.contains("````text\n```\n</details>"), "{out}");
    }

    #[test]
    fn headings_follow_the_verdict() {
        let mut r = fixture::report();
        assert!(render(&r).starts_with("## ❌ tachy check could not run every budget\n"));
        r.budgets.retain(|b| b.verdict != Verdict::Error);
        assert!(render(&r).starts_with("## ❌ tachy check failed\n"));
        r.budgets.retain(|b| b.verdict == Verdict::Pass);
        let out = render(&r);
        assert!(out.starts_with("## ✅ tachy check passed\n\n3 budgets: 3 passed, 0 failed.\n"), "{out}");
        assert!(!out.contains("<details>"));
    }

    #[test]
    fn escaping() {
        assert_eq!(escape("a|b"), "a\\|b");
        assert_eq!(escape("<b>&"), "&lt;b&gt;&amp;");
        assert_eq!(escape("*x* _y_ `z`"), "\\*x\\* \\_y\\_ \\`z\\`");
        assert_eq!(escape("a\nb"), "a b");
        assert_eq!(fence("no ticks"), "```");
        assert_eq!(fence("a ```` b"), "`````");
    }
}
