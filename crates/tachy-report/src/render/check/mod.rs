//! Renderers of `tachy check`: the verdicts of a run ([`CheckReport`]) for the terminal, a pull
//! request and CI, and the history of the measurements ([`HistoryReport`](crate::check::HistoryReport)).
//!
//! | format   | function             | used by |
//! |----------|----------------------|---------|
//! | text     | [`text::render`]     | the table printed by `tachy check` |
//! | Markdown | [`markdown::render`] | `--markdown FILE` and the GitHub step summary (a PR comment) |
//! | JUnit    | [`junit::render`]    | `--junit FILE`: one test case per budget |
//! | history  | [`history::render`]  | `tachy check --history`: trends, sparklines and step changes |

pub mod history;
pub mod junit;
pub mod markdown;
pub mod text;

use crate::check::CheckReport;
use crate::render::common::{bytes, count};

/// `3 budgets: 2 passed, 1 failed` (`, 1 could not run` when a budget had an error).
pub(crate) fn summary(report: &CheckReport) -> String {
    let (pass, fail, error) = report.counts();
    let n = report.budgets.len();
    if n == 0 {
        return "no budget was run".to_string();
    }
    let mut s = format!("{n} budget{}: {pass} passed, {fail} failed", if n == 1 { "" } else { "s" });
    if error > 0 {
        s.push_str(&format!(", {error} could not run"));
    }
    s
}

/// The first 7 characters of a hexadecimal commit id (`abc1234`); anything else whole.
pub(crate) fn short_commit(commit: &str) -> &str {
    if commit.len() > 7 && commit.chars().all(|c| c.is_ascii_hexdigit()) { &commit[..7] } else { commit }
}

/// `s` safe for a terminal: control characters (escape sequences included) become `�`,
/// tabs a space; newlines are kept only when `multiline`.
pub(crate) fn clean(s: &str, multiline: bool) -> String {
    s.chars()
        .map(|c| match c {
            '\n' if multiline => '\n',
            '\t' => ' ',
            c if c.is_control() => '\u{fffd}',
            c => c,
        })
        .collect()
}

/// A value in a check's unit (`s`, `bytes`, `%`, `count`, `req/s`, `bytes/h`) for people:
/// `183.0 ms`, `83.0 MiB`, `0.20%`, `1,204`, `512.3 req/s`, `+4.77 MiB/h`.
pub(crate) fn value(v: f64, unit: &str) -> String {
    if !v.is_finite() {
        return format!("{v} {unit}");
    }
    let signed_bytes = |v: f64| {
        let b = bytes(v.abs().round() as u64);
        if v < 0.0 && b != "0 B" { format!("-{b}") } else { b }
    };
    match unit {
        "s" => {
            let t = crate::format::time(v.abs());
            if v < 0.0 { format!("-{t}") } else { t }
        }
        "bytes" => signed_bytes(v),
        "bytes/h" => format!("{}/h", signed_bytes(v)),
        "%" => format!("{}%", trim(v, 2)),
        "count" if v.fract() == 0.0 && (0.0..1e18).contains(&v) => count(v as u64),
        "count" => trim(v, 2),
        "req/s" => format!("{v:.1} req/s"),
        other => format!("{} {other}", trim(v, 3)),
    }
}

/// [`value`], with sizes (`bytes`, `bytes/h`) in the unit family `family` when given (the
/// family their limit was written in): `22.0 MB` as the check table showed it.
pub(crate) fn value_in(v: f64, unit: &str, family: Option<crate::units::SizeUnits>) -> String {
    match (unit, family) {
        ("bytes", Some(f)) if v.is_finite() => crate::format::size(v, f),
        ("bytes/h", Some(f)) if v.is_finite() => format!("{}/h", crate::format::size(v, f)),
        _ => value(v, unit),
    }
}

/// `v` with at most `digits` decimals, trailing zeros removed: `0.2`, `12`, `1.25`.
fn trim(v: f64, digits: usize) -> String {
    let s = format!("{v:.digits$}");
    let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
    if s == "-0" { "0".to_string() } else { s }
}

/// Deterministic reports for the renderers' tests.
#[cfg(test)]
pub(crate) mod fixture {
    use crate::check::*;

    /// A check of `metric` measured at `measured`, with its texts.
    pub fn check(metric: &str, measured: f64, op: &str, limit: f64, unit: &str, texts: (&str, &str)) -> LimitCheck {
        let passed = match op {
            "<=" => measured <= limit,
            "<" => measured < limit,
            ">=" => measured >= limit,
            _ => measured > limit,
        };
        LimitCheck {
            metric: metric.into(),
            measured,
            op: op.into(),
            limit,
            unit: unit.into(),
            passed,
            measured_text: texts.0.into(),
            limit_text: texts.1.into(),
        }
    }

    /// A budget with the verdict its checks give.
    pub fn budget(name: &str, kind: &str, checks: Vec<LimitCheck>) -> BudgetResult {
        let verdict = if checks.iter().all(|c| c.passed) { Verdict::Pass } else { Verdict::Fail };
        BudgetResult {
            name: name.into(),
            kind: kind.into(),
            description: None,
            verdict,
            checks,
            error: None,
            log_tail: None,
            notes: vec![],
            duration_secs: 2.5,
            result_file: None,
        }
    }

    /// Five budgets: a load budget that passes, a bench budget that fails, a mem budget that
    /// passes, a load budget whose server never became ready, and a lint budget.
    pub fn report() -> CheckReport {
        let mut api = budget(
            "api",
            "load",
            vec![
                check("p95", 0.1834, "<=", 0.2, "s", ("183 ms", "<= 200 ms")),
                check("errors", 0.2, "<=", 1.0, "%", ("0.20%", "<= 1%")),
                check("throughput", 512.3, ">=", 100.0, "req/s", ("512.3 req/s", ">= 100 req/s")),
            ],
        );
        api.description = Some("The public API under load".into());
        api.duration_secs = 31.25;
        api.result_file = Some(".tachy/results/api.json".into());
        let mut startup = budget(
            "startup",
            "bench",
            vec![
                check("mean of 'python app.py'", 0.2345, "<=", 0.2, "s", ("234.5 ms", "<= 200 ms")),
                check("regression vs main", 12.5, "<=", 5.0, "%", ("+12.5%", "<= 5%")),
            ],
        );
        startup.notes = vec!["compared with baseline 'main' (saved 2026-01-10)".into()];
        let memory = budget(
            "memory",
            "mem",
            vec![
                check("peak", 87_031_808.0, "<=", 104_857_600.0, "bytes", ("83.0 MiB", "<= 100 MiB")),
                check("leak", 0.0, "<=", 1_048_576.0, "bytes", ("0 B", "<= 1.0 MiB")),
            ],
        );
        let mut soak = budget("soak", "watch", vec![]);
        soak.verdict = Verdict::Error;
        soak.error =
            Some("the server never became ready: http://127.0.0.1:8000/health did not answer within 30 s".into());
        soak.log_tail = Some(
            "Traceback (most recent call last):\n  File \"app.py\", line 3, in <module>\n    import flask\nModuleNotFoundError: No module named 'flask'"
                .into(),
        );
        soak.duration_secs = 30.0;
        let lint = budget("lint", "lint", vec![check("new findings", 0.0, "<=", 0.0, "count", ("0", "<= 0"))]);
        CheckReport {
            schema: CHECK_SCHEMA.into(),
            tachy_version: "0.0.0-test".into(),
            config: "pyproject.toml".into(),
            started_at: "2026-01-20T09:30:00Z".into(),
            duration_secs: 71.5,
            git_commit: Some("abc1234def5678abc1234def5678abc1234def56".into()),
            budgets: vec![api, startup, memory, soak, lint],
            interrupted: false,
        }
    }

    /// A report whose user strings try to break out of every format.
    pub fn hostile() -> CheckReport {
        let mut b = budget(
            "x|y<script>alert(\"&\")</script>",
            "bench",
            vec![check("mean of 'a|b' <&> `c`", 2.0, "<=", 1.0, "s", ("2.00 s", "<= 1.00 s"))],
        );
        b.notes = vec!["]]> *bold* [link](http://x) \x1b[31mred\x1b[0m".into()];
        let mut e = budget("e\"'<>&", "load", vec![]);
        e.verdict = Verdict::Error;
        e.error = Some("failed: <>&\"' \u{0}\u{1b}[2J\u{ffff} | done".into());
        e.log_tail = Some("```\n</details>\n<img src=x onerror=alert(1)>\n]]>".into());
        CheckReport {
            schema: CHECK_SCHEMA.into(),
            tachy_version: "0.0.0-test".into(),
            config: "tachy.toml".into(),
            started_at: "2026-01-20T09:30:00Z".into(),
            duration_secs: 4.0,
            git_commit: None,
            budgets: vec![b, e],
            interrupted: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_in_check_units() {
        assert_eq!(value(0.1834, "s"), "183.4 ms");
        assert_eq!(value(-0.0012, "s"), "-1.200 ms");
        assert_eq!(value(87_031_808.0, "bytes"), "83.0 MiB");
        assert_eq!(value(-5e6, "bytes/h"), "-4.77 MiB/h");
        assert_eq!(value(0.2, "%"), "0.2%");
        assert_eq!(value(12.0, "%"), "12%");
        assert_eq!(value(1204.0, "count"), "1,204");
        assert_eq!(value(2.5, "count"), "2.5");
        assert_eq!(value(512.34, "req/s"), "512.3 req/s");
        assert_eq!(value(3.0, "widgets"), "3 widgets");
        assert_eq!(value(f64::NAN, "s"), "NaN s");
        let decimal = Some(crate::units::SizeUnits::Decimal);
        assert_eq!(value_in(22_020_096.0, "bytes", decimal), "22.0 MB");
        assert_eq!(value_in(22_020_096.0, "bytes", None), "21.0 MiB");
        assert_eq!(value_in(5e6, "bytes/h", decimal), "5.00 MB/h");
        assert_eq!(value_in(0.2, "s", decimal), "200.0 ms");
    }

    #[test]
    fn summaries_commits_and_cleaning() {
        let r = fixture::report();
        assert_eq!(summary(&r), "5 budgets: 3 passed, 1 failed, 1 could not run");
        let mut one = r.clone();
        one.budgets.truncate(1);
        assert_eq!(summary(&one), "1 budget: 1 passed, 0 failed");
        one.budgets.clear();
        assert_eq!(summary(&one), "no budget was run");
        assert_eq!(short_commit("abc1234def5678"), "abc1234");
        assert_eq!(short_commit("v1.2.3-dirty"), "v1.2.3-dirty");
        assert_eq!(clean("a\x1b[2Jb\tc\nd", false), "a\u{fffd}[2Jb c\u{fffd}d");
        assert_eq!(clean("a\nb", true), "a\nb");
    }
}
