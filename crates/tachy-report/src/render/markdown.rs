//! Markdown renderer: tables for pull-request comments.

use std::fmt::Write;

use crate::bench::{BenchReport, GateVerdict, SpeedVerdict};
use crate::format;

fn escape(cell: &str) -> String {
    cell.replace('|', "\\|").replace('`', "'")
}

/// Renders the results table, the relative-speed column and the baseline gate as Markdown.
pub fn bench(report: &BenchReport) -> String {
    let mut out = String::new();
    let scale = format::Scale::of(report.results.iter().map(|r| r.median).fold(f64::INFINITY, f64::min));
    let t = |v: f64| scale.fmt(v);
    let _ = writeln!(out, "| Command | Median | Mean ± σ | Min … Max | Runs | Relative |");
    let _ = writeln!(out, "|:---|---:|---:|---:|---:|---:|");
    for r in &report.results {
        let rel = report.relative.iter().find(|row| row.command == r.command);
        let relative = match rel {
            Some(row) if row.verdict == SpeedVerdict::Reference => "reference".to_string(),
            Some(row) => match &row.comparison {
                Some(c) => format!(
                    "{:.2}× ({:.2}–{:.2}){}",
                    c.ratio.ratio,
                    c.ratio.ci.low,
                    c.ratio.ci.high,
                    if c.significant { String::new() } else { ", not significant".to_string() }
                ),
                None => String::new(),
            },
            None => String::new(),
        };
        let runs = r.stats.as_ref().map_or(r.times.len(), |s| s.runs);
        let _ = writeln!(
            out,
            "| `{}` | {} | {} ± {} | {} … {} | {} | {} |",
            escape(r.name()),
            t(r.median),
            t(r.mean),
            t(r.stddev),
            t(r.min),
            t(r.max),
            runs,
            relative
        );
    }
    if let Some(gate) = &report.gate {
        let _ = writeln!(
            out,
            "\n**{}** (fails on a significant slowdown of {} over {}):\n",
            if gate.baseline.starts_with("reference '") {
                format!("Against the {}", escape(&gate.baseline))
            } else {
                format!("Baseline `{}`", escape(&gate.baseline))
            },
            gate.metric.label(),
            format::percent(gate.max_regression)
        );
        let _ = writeln!(out, "| Command | Baseline | Current | Change (95% CI) | p | Verdict |");
        let _ = writeln!(out, "|:---|---:|---:|---:|---:|:---|");
        for row in &gate.rows {
            let c = &row.comparison;
            let verdict = match row.verdict {
                GateVerdict::Regressed => "❌ regressed",
                GateVerdict::SlowerWithinThreshold => "⚠️ slower, within threshold",
                GateVerdict::Unchanged => "✅ unchanged",
                GateVerdict::Improved => "🚀 improved",
            };
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {:+.1}% ({:+.1}% … {:+.1}%) | {} | {} |",
                escape(&row.command),
                t(row.baseline_median),
                t(row.current_median),
                (c.ratio.ratio - 1.0) * 100.0,
                (c.ratio.ci.low - 1.0) * 100.0,
                (c.ratio.ci.high - 1.0) * 100.0,
                format::p_short(c.test.p_value),
                verdict
            );
        }
        for name in &gate.missing_in_current {
            let _ = writeln!(out, "\n_Not measured now (in baseline only): `{}`_", escape(name));
        }
        for name in &gate.missing_in_baseline {
            let _ = writeln!(out, "\n_New (not in baseline): `{}`_", escape(name));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn snapshot() {
        insta::assert_snapshot!(super::bench(&crate::render::fixture::report()));
    }

    #[test]
    fn pipes_in_commands_are_escaped() {
        let mut report = crate::render::fixture::report();
        report.results[0].command = "a | b".into();
        assert!(super::bench(&report).contains("a \\| b"));
    }
}
