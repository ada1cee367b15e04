//! The terminal output of `tachy check --history`: per budget and metric the number of runs,
//! the first and latest value, the trend per run and a sparkline, then every step change found
//! in the series, flagged as a regression or an improvement.

use std::fmt::Write;

use super::{clean, short_commit, value_in};
use crate::check::{HistoryReport, MetricSeries, StepChange};
use crate::render::common::{Paint, sparkline};

/// Most runs drawn in a sparkline (the most recent).
const SPARK_WIDTH: usize = 60;

/// Renders a history report; `color` adds ANSI colours (red regressions, green improvements).
pub fn render(report: &HistoryReport, color: bool) -> String {
    let paint = Paint(color);
    let dir = clean(&report.dir, false);
    let mut out = String::new();
    if report.series.is_empty() {
        let _ = writeln!(
            out,
            "No history yet in {dir}: every `tachy check` run appends its measurements there.\n\
             Run `tachy check` a few times (in CI, on every commit, keeping {dir} between runs),\n\
             then `tachy check --history` shows each metric's trend and step changes."
        );
        return out;
    }
    let mut budgets: Vec<&str> = report.series.iter().map(|s| s.budget.as_str()).collect();
    budgets.dedup();
    let n = report.series.len();
    let _ = writeln!(
        out,
        "{} ({n} metric{} of {} budget{})",
        paint.bold(&format!("History: {dir}")),
        if n == 1 { "" } else { "s" },
        budgets.len(),
        if budgets.len() == 1 { "" } else { "s" }
    );
    let header = ["metric", "runs", "first", "latest", "trend/run"].map(String::from);
    let rows: Vec<[String; 5]> = report.series.iter().map(row).collect();
    let mut w = [0usize; 5];
    for r in std::iter::once(&header).chain(&rows) {
        for (w, cell) in w.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |r: &[String; 5]| {
        format!(
            "  {:<w0$}  {:>w1$}  {:>w2$}  {:>w3$}  {:>w4$}",
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            w0 = w[0],
            w1 = w[1],
            w2 = w[2],
            w3 = w[3],
            w4 = w[4]
        )
    };
    let mut steps = 0;
    let mut budget = None;
    for (s, r) in report.series.iter().zip(&rows) {
        if budget != Some(&s.budget) {
            budget = Some(&s.budget);
            let _ = writeln!(out, "\n{}", paint.bold(&clean(&s.budget, false)));
            let _ = writeln!(out, "{}  history", paint.dim(&line(&header)));
        }
        let values: Vec<f64> = s.points.iter().map(|p| p.value).collect();
        let shown = &values[values.len().saturating_sub(SPARK_WIDTH)..];
        let lo = shown.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = shown.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let more = if values.len() > SPARK_WIDTH { format!(" (last {SPARK_WIDTH})") } else { String::new() };
        let _ = writeln!(out, "{}  {}{more}", line(r), sparkline(shown, lo, hi));
        for step in &s.steps {
            steps += 1;
            let _ = writeln!(out, "    {}", step_line(s, step, paint));
        }
    }
    let found = match steps {
        0 => "no step change found".to_string(),
        1 => "1 step change found".to_string(),
        n => format!("{n} step changes found"),
    };
    let _ = writeln!(out, "\n{}", if steps > 0 { paint.bold(&found) } else { found });
    out
}

/// metric (unit), runs, first, latest, trend per run.
fn row(s: &MetricSeries) -> [String; 5] {
    let unit = clean(&s.unit, false);
    let v = |x: f64| value_in(x, &unit, s.size_units);
    let first = s.points.first().map_or_else(|| "-".to_string(), |p| v(p.value));
    let latest = s.points.last().map_or_else(|| "-".to_string(), |p| v(p.value));
    let trend = match s.slope_per_run {
        Some(t) if t > 0.0 => format!("+{}", v(t)),
        Some(t) if t < 0.0 => v(t),
        Some(_) => "flat".to_string(),
        None => "-".to_string(),
    };
    [clean(&s.metric, false), s.points.len().to_string(), first, latest, trend]
}

/// `▲ step +23.4 % at run 16, 2026-01-16, commit abc1234: 120.0 ms -> 148.0 ms (a regression)`.
fn step_line(s: &MetricSeries, step: &StepChange, paint: Paint) -> String {
    let unit = clean(&s.unit, false);
    let up = step.after > step.before;
    // Throughput is better higher; every other measure tachy checks is better lower.
    let worse = up != (unit == "req/s");
    let mut at = format!("run {}", step.index + 1);
    if let Some(day) = step.time.get(..10) {
        let _ = write!(at, ", {}", clean(day, false));
    }
    if let Some(c) = &step.git_commit {
        let _ = write!(at, ", commit {}", clean(short_commit(c), false));
    }
    let text = format!(
        "{} step {:+.1} % at {at}: {} -> {} ({})",
        if up { "▲" } else { "▼" },
        step.change_percent,
        value_in(step.before, &unit, s.size_units),
        value_in(step.after, &unit, s.size_units),
        if worse { "a regression" } else { "an improvement" }
    );
    if worse { paint.red(&text) } else { paint.green(&text) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{HISTORY_SCHEMA, HistoryPoint};

    fn series(budget: &str, metric: &str, unit: &str, values: &[f64]) -> MetricSeries {
        MetricSeries {
            budget: budget.into(),
            metric: metric.into(),
            unit: unit.into(),
            size_units: None,
            points: values
                .iter()
                .enumerate()
                .map(|(i, &value)| HistoryPoint {
                    time: format!("2026-{:02}-{:02}T10:00:00Z", 1 + i / 28, 1 + i % 28),
                    git_commit: Some(format!("{:07x}abcdef", 0xc0ffee + i)),
                    value,
                })
                .collect(),
            slope_per_run: None,
            steps: vec![],
        }
    }

    fn step(s: &MetricSeries, index: usize, before: f64, after: f64) -> StepChange {
        StepChange {
            index,
            time: s.points[index].time.clone(),
            git_commit: s.points[index].git_commit.clone(),
            before,
            after,
            change_percent: (after - before) / before * 100.0,
        }
    }

    fn report() -> HistoryReport {
        let p95: Vec<f64> = (0..28).map(|i| if i < 15 { 0.120 } else { 0.148 } + 0.001 * (i % 3) as f64).collect();
        let mut a = series("api", "p95", "s", &p95);
        a.slope_per_run = Some(0.0012);
        a.steps = vec![step(&a, 15, 0.121, 0.149)];
        let rps: Vec<f64> = (0..28).map(|i| if i < 20 { 400.0 } else { 520.0 } + (i % 4) as f64).collect();
        let mut b = series("api", "throughput", "req/s", &rps);
        b.slope_per_run = Some(3.5);
        b.steps = vec![step(&b, 20, 401.5, 521.5)];
        let mut c = series("api", "errors", "%", &[0.0; 28]);
        c.slope_per_run = Some(0.0);
        let peak: Vec<f64> = (0..80).map(|i| 80e6 - 1e5 * i as f64).collect();
        // Its limit was written in MB: the history shows MB, as the check table did.
        let mut d = series("memory", "peak", "bytes", &peak);
        d.size_units = Some(crate::units::SizeUnits::Decimal);
        d.slope_per_run = Some(-1e5);
        d.steps = vec![step(&d, 40, 76e6, 72e6)];
        let e = series("new", "findings", "count", &[3.0, 2.0]);
        HistoryReport { schema: HISTORY_SCHEMA.into(), dir: ".tachy/history".into(), series: vec![a, b, c, d, e] }
    }

    #[test]
    fn snapshot() {
        insta::assert_snapshot!("history", render(&report(), false));
    }

    #[test]
    fn steps_are_flagged_by_direction() {
        let out = render(&report(), true);
        assert!(out.contains("\x1b[1;31m▲ step +23.1 % at run 16, 2026-01-16, commit 0c0fffd"), "{out}");
        assert!(out.contains("\x1b[32m▲ step +29.9 % at run 21"), "throughput up is good: {out}");
        assert!(out.contains("\x1b[32m▼ step -5.3 % at run 41"), "{out}");
        assert!(out.contains("(last 60)"));
    }

    #[test]
    fn empty_history_says_how_to_make_one() {
        let r = HistoryReport { schema: HISTORY_SCHEMA.into(), dir: ".tachy/history".into(), series: vec![] };
        let out = render(&r, false);
        assert!(out.starts_with("No history yet in .tachy/history"), "{out}");
        assert!(out.contains("tachy check --history"));
    }
}
