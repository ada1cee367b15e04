//! The terminal rendering of a lint report, like ruff's: `path:line:col: CODE message`, a code
//! frame with the finding underlined, the help, and the measured cost when a profile was
//! given; then a summary line. [`statistics`] counts findings per rule.

use std::fmt::Write;

use crate::lint::{Applicability, Finding, LintReport};

/// The full text report.
pub fn render(report: &LintReport) -> String {
    let mut out = String::new();
    for f in &report.findings {
        finding(&mut out, f);
    }
    for e in &report.errors {
        match e.location {
            Some(l) => {
                let _ = writeln!(out, "{}:{}:{}: {}", e.path, l.line, l.column, e.message);
            }
            None => {
                let _ = writeln!(out, "{}: {}", e.path, e.message);
            }
        }
    }
    if !report.errors.is_empty() {
        out.push('\n');
    }
    summary(&mut out, report);
    out
}

fn finding(out: &mut String, f: &Finding) {
    let fixable = f.safe_fix();
    let _ = writeln!(
        out,
        "{}:{}:{}: {}{} {}",
        f.path,
        f.location.line,
        f.location.column,
        f.code,
        if fixable { " [*]" } else { "" },
        f.message
    );
    if let Some(snippet) = &f.snippet {
        let last = snippet.first_line + snippet.lines.len().saturating_sub(1);
        let width = last.to_string().len();
        let pad = " ".repeat(width);
        let _ = writeln!(out, "{pad} |");
        for (i, line) in snippet.lines.iter().enumerate() {
            let n = snippet.first_line + i;
            let _ = writeln!(out, "{n:>width$} | {line}");
            // Underline the finding on its first line (to its end, or the line's end).
            if i == 0 {
                let start = f.location.column.saturating_sub(1);
                let chars = line.chars().count();
                let end = if f.end_location.line == n { f.end_location.column.saturating_sub(1) } else { chars };
                let len = end.saturating_sub(start).max(1);
                let _ = writeln!(out, "{pad} | {}{} {}", " ".repeat(start), "^".repeat(len), f.code);
            }
        }
        let _ = writeln!(out, "{pad} |");
        if let Some(h) = &f.help {
            let _ = writeln!(out, "{pad} = help: {h}");
        }
        if let Some(fix) = &f.fix {
            let kind = match fix.applicability {
                Applicability::Safe => "fix",
                Applicability::Unsafe => "unsafe fix",
            };
            let _ = writeln!(out, "{pad} = {kind}: {}", fix.message);
        }
        if let Some(c) = &f.cost {
            let _ = writeln!(
                out,
                "{pad} = cost: {} of CPU samples on these lines, {} in `{}`",
                pct(c.line_share),
                pct(c.function_share),
                c.function
            );
        }
    } else if let Some(h) = &f.help {
        let _ = writeln!(out, "  = help: {h}");
    }
    out.push('\n');
}

fn pct(share: f64) -> String {
    if share > 0.0 && share < 0.001 { "<0.1%".to_string() } else { format!("{:.1}%", share * 100.0) }
}

fn summary(out: &mut String, report: &LintReport) {
    let n = report.findings.len();
    let fixable = report.findings.iter().filter(|f| f.safe_fix()).count();
    let noun = if n == 1 { "finding" } else { "findings" };
    let _ = write!(out, "Found {n} {noun} in {} files ({} lines)", report.files, report.lines);
    if report.fixed > 0 {
        let _ = write!(out, ", {} fixed", report.fixed);
    }
    out.push('.');
    if fixable > 0 {
        let _ = write!(out, " {fixable} fixable with `--fix`.");
    }
    if !report.errors.is_empty() {
        let _ = write!(out, " {} files could not be linted completely.", report.errors.len());
    }
    out.push('\n');
    if let Some(p) = &report.profile {
        let _ = write!(
            out,
            "Ranked by CPU share measured in {} ({} samples; {} findings on profiled code)",
            p.path, p.samples, p.matched_findings
        );
        if report.hidden_cold > 0 {
            let _ = write!(out, "; {} colder findings hidden by --min-share", report.hidden_cold);
        }
        out.push_str(".\n");
    }
}

/// `--statistics`: findings per rule, most frequent first.
pub fn statistics(report: &LintReport) -> String {
    let mut out = String::new();
    let stats = report.statistics();
    let width = stats.iter().map(|s| s.count.to_string().len()).max().unwrap_or(1);
    for s in &stats {
        let fix = if s.fixable > 0 { "[*]" } else { "   " };
        let _ = writeln!(out, "{:>width$}  {}  {fix}  {}", s.count, s.code, s.name);
    }
    let total: usize = stats.iter().map(|s| s.count).sum();
    let _ = writeln!(out, "Found {total} findings in {} files ({} lines).", report.files, report.lines);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn snapshot() {
        let r = super::super::fixture();
        insta::assert_snapshot!("text", super::render(&r));
        insta::assert_snapshot!("statistics", super::statistics(&r));
    }
}
