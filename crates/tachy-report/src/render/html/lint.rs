//! The section of a `tachy lint` result: counts per rule, the findings (code, location,
//! message, measured cost) and the files that could not be linted.

use std::fmt::Write;

use super::{Ctx, Row, Verdict, count, escape, facts, num, pct, remark, subheading, table, text};
use crate::lint::{FileErrorKind, LintReport};

/// Most findings listed.
const FINDINGS: usize = 1000;

/// Writes the section body.
pub(crate) fn section(_ctx: &mut Ctx<'_>, out: &mut String, r: &LintReport, depth: usize) {
    let mut items = vec![
        ("files", count(r.files as u64)),
        ("lines", count(r.lines as u64)),
        ("findings", count(r.findings.len() as u64)),
        ("files with errors", count(r.errors.len() as u64)),
    ];
    if r.fixed > 0 {
        items.push(("fixed", count(r.fixed as u64)));
    }
    if r.hidden_cold > 0 {
        items.push(("hidden (cold)", count(r.hidden_cold as u64)));
    }
    if let Some(p) = &r.profile {
        items.push(("ranked by profile", format!("{} ({} samples)", p.path, count(p.samples))));
    }
    facts(out, &items);
    if r.findings.is_empty() && r.errors.is_empty() {
        remark(out, "No findings.");
        return;
    }

    if !r.findings.is_empty() {
        subheading(out, depth, "Findings per rule");
        let rows: Vec<Row> = r
            .statistics()
            .iter()
            .map(|s| {
                Row::new(vec![
                    format!("<code>{}</code>", escape(&s.code)),
                    escape(&s.name),
                    count(s.count as u64),
                    count(s.fixable as u64),
                ])
            })
            .collect();
        table(out, "rules", &[text("code"), text("rule"), num("findings"), num("safe fixes")], &rows, 0);

        subheading(out, depth, "Findings");
        let with_cost = r.findings.iter().any(|f| f.cost.is_some());
        let rows: Vec<Row> = r
            .findings
            .iter()
            .take(FINDINGS)
            .map(|f| {
                let mut message = format!("<span class=\"message\">{}</span>", escape(&f.message));
                if let Some(h) = &f.help {
                    let _ = write!(message, "<br><span class=\"sub\">help: {}</span>", escape(h));
                }
                let mut cells = vec![
                    format!("<code title=\"{}\">{}</code>", escape(&f.name), escape(&f.code)),
                    format!("<code>{}:{}:{}</code>", escape(&f.path), f.location.line, f.location.column),
                    message,
                ];
                if with_cost {
                    cells.push(f.cost.as_ref().map_or("–".to_string(), |c| escape(&pct(c.line_share))));
                }
                Row::new(cells)
            })
            .collect();
        let mut cols = vec![text("code"), text("location"), text("message")];
        if with_cost {
            cols.push(num("CPU share"));
        }
        table(out, "findings", &cols, &rows, r.findings.len().saturating_sub(FINDINGS));
    }

    if !r.errors.is_empty() {
        subheading(out, depth, "Files not linted completely");
        let rows: Vec<Row> = r
            .errors
            .iter()
            .map(|e| {
                let place = match e.location {
                    Some(l) => format!("{}:{}:{}", e.path, l.line, l.column),
                    None => e.path.clone(),
                };
                let kind = match e.kind {
                    FileErrorKind::SyntaxError => "syntax error",
                    FileErrorKind::Io => "unreadable",
                    FileErrorKind::Encoding => "not UTF-8",
                    FileErrorKind::TooComplex => "too deeply nested",
                };
                Row::with(
                    Verdict::Error,
                    vec![format!("<code>{}</code>", escape(&place)), escape(kind), escape(&e.message)],
                )
            })
            .collect();
        table(out, "errors", &[text("file"), text("problem"), text("message")], &rows, 0);
    }
}
