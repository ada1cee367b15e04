//! The terminal output of `tachy check`: a table of every limit checked (budget, kind, metric,
//! measured, limit, verdict), a summary line, then the errors with their log tails and notes.

use std::fmt::Write;

use super::{clean, short_commit, summary};
use crate::check::{BudgetResult, CheckReport, Verdict};
use crate::render::common::{Paint, secs};

/// Longest error shown in the table's metric column (the whole message follows the table).
const MAX_CELL: usize = 60;

/// Renders a check report for the terminal; `color` adds ANSI colours (green passes, red
/// failures and errors).
pub fn render(report: &CheckReport, color: bool) -> String {
    let paint = Paint(color);
    let mut out = String::new();
    let mut run = format!("{}, from {}", secs(report.duration_secs), clean(&report.started_at, false));
    if let Some(c) = &report.git_commit {
        let _ = write!(run, ", commit {}", clean(short_commit(c), false));
    }
    let _ = writeln!(out, "{} ({run})\n", paint.bold(&format!("Check: {}", clean(&report.config, false))));
    table(&mut out, report, paint);
    let verdict = match report.verdict() {
        Verdict::Pass => paint.green("passed"),
        Verdict::Fail => paint.red("FAILED"),
        Verdict::Error => paint.red("ERROR"),
    };
    let _ = writeln!(out, "\n{verdict}: {}", summary(report));
    if report.interrupted {
        let _ =
            writeln!(out, "{}", paint.yellow("interrupted (Ctrl-C): the budgets after the last one shown did not run"));
    }
    errors(&mut out, report, paint);
    notes(&mut out, report, paint);
    out
}

/// One table row: budget, kind, metric, measured, limit, verdict (plain text, for widths).
type Row = [String; 6];

/// The rows of one budget: one per check, or one with the verdict and, after it, the error
/// (or the lack of checks).
fn rows(b: &BudgetResult) -> Vec<(Row, Verdict, String)> {
    let name = clean(&b.name, false);
    let kind = clean(&b.kind, false);
    if b.verdict == Verdict::Error || b.checks.is_empty() {
        let what = match &b.error {
            Some(e) => {
                let e = clean(e.lines().next().unwrap_or(""), false);
                if e.chars().count() > MAX_CELL {
                    format!("{}…", e.chars().take(MAX_CELL - 1).collect::<String>())
                } else {
                    e
                }
            }
            None => "no limit checked".to_string(),
        };
        let dash = || "-".to_string();
        return vec![([name, kind, dash(), dash(), dash(), b.verdict.label().to_string()], b.verdict, what)];
    }
    b.checks
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let verdict = if c.passed { Verdict::Pass } else { Verdict::Fail };
            let (name, kind) = if i == 0 { (name.clone(), kind.clone()) } else { (String::new(), String::new()) };
            let row = [
                name,
                kind,
                clean(&c.metric, false),
                clean(&c.measured_text, false),
                clean(&c.limit_text, false),
                verdict.label().to_string(),
            ];
            (row, verdict, String::new())
        })
        .collect()
}

fn table(out: &mut String, report: &CheckReport, paint: Paint) {
    let header: Row = ["budget", "kind", "metric", "measured", "limit", "verdict"].map(String::from);
    let rows: Vec<(Row, Verdict, String)> = report.budgets.iter().flat_map(rows).collect();
    let mut w = [0usize; 6];
    for row in std::iter::once(&header).chain(rows.iter().map(|(r, _, _)| r)) {
        for (w, cell) in w.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |row: &Row| {
        let [b, k, m, v, l, _] = row;
        format!(
            "  {b:<w0$}  {k:<w1$}  {m:<w2$}  {v:>w3$}  {l:<w4$}  ",
            w0 = w[0],
            w1 = w[1],
            w2 = w[2],
            w3 = w[3],
            w4 = w[4]
        )
    };
    let _ = writeln!(out, "{}", paint.bold(&format!("{}{}", line(&header), header[5])));
    if rows.is_empty() {
        let _ = writeln!(out, "  (no budgets)");
    }
    for (row, verdict, after) in &rows {
        let v = match verdict {
            Verdict::Pass => paint.green(&row[5]),
            Verdict::Fail | Verdict::Error => paint.red(&row[5]),
        };
        if after.is_empty() {
            let _ = writeln!(out, "{}{v}", line(row));
        } else {
            let pad = " ".repeat(w[5].saturating_sub(row[5].chars().count()));
            let _ = writeln!(out, "{}{v}{pad}  {after}", line(row));
        }
    }
}

/// The full error of every budget that could not run, and every log tail, indented.
fn errors(out: &mut String, report: &CheckReport, paint: Paint) {
    let with: Vec<&BudgetResult> =
        report.budgets.iter().filter(|b| b.error.is_some() || b.log_tail.is_some()).collect();
    if with.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nErrors:");
    for b in with {
        let name = clean(&b.name, false);
        match &b.error {
            Some(e) => {
                let mut lines = e.lines();
                let first = clean(lines.next().unwrap_or(""), false);
                let _ = writeln!(out, "  {}: {}", paint.bold(&name), paint.red(&first));
                for l in lines {
                    let _ = writeln!(out, "    {}", clean(l, false));
                }
            }
            None => {
                let _ = writeln!(out, "  {}: {}", paint.bold(&name), b.verdict.label());
            }
        }
        if let Some(tail) = &b.log_tail {
            let _ = writeln!(out, "    last lines of the log:");
            for l in tail.lines() {
                let _ = writeln!(out, "    {} {}", paint.dim("|"), clean(l, false));
            }
        }
    }
}

fn notes(out: &mut String, report: &CheckReport, paint: Paint) {
    let notes: Vec<(&str, &String)> =
        report.budgets.iter().flat_map(|b| b.notes.iter().map(move |n| (b.name.as_str(), n))).collect();
    if notes.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nNotes:");
    for (name, note) in notes {
        let _ = writeln!(out, "  - {}: {}", clean(name, false), paint.yellow(&clean(note, false)));
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture;
    use super::*;

    #[test]
    fn snapshot() {
        insta::assert_snapshot!("report", render(&fixture::report(), false));
    }

    #[test]
    fn a_passing_run_is_short_and_coloured_on_request() {
        let mut r = fixture::report();
        r.budgets.retain(|b| b.verdict == Verdict::Pass);
        r.git_commit = None;
        let plain = render(&r, false);
        assert!(plain.contains("passed: 3 budgets: 3 passed, 0 failed"), "{plain}");
        assert!(!plain.contains("Errors:") && !plain.contains("Notes:") && !plain.contains("commit"), "{plain}");
        assert!(!plain.contains('\x1b'));
        let coloured = render(&r, true);
        assert!(coloured.contains("\x1b[32mpass\x1b[0m"), "{coloured}");
        r.interrupted = true;
        r.budgets.clear();
        let empty = render(&r, false);
        assert!(empty.contains("(no budgets)") && empty.contains("interrupted (Ctrl-C)"), "{empty}");
    }

    #[test]
    fn user_strings_cannot_drive_the_terminal() {
        let out = render(&fixture::hostile(), true);
        assert!(!out.contains("\x1b[2J") && !out.contains("\x1b[31mred") && !out.contains('\0'), "{out:?}");
        assert!(out.contains("x|y<script>"), "{out}");
    }

    #[test]
    fn long_errors_are_cut_in_the_table_only() {
        let mut r = fixture::report();
        r.budgets[3].error = Some(format!("{}\nsecond line", "e".repeat(100)));
        let out = render(&r, false);
        assert!(out.contains(&format!("ERROR    {}…\n", "e".repeat(59))), "{out}");
        assert!(out.contains(&format!("soak: {}\n    second line", "e".repeat(100))), "{out}");
    }
}
