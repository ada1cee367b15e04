//! Text renderer: the terminal summary, modelled on hyperfine's but led by robust statistics.

use std::fmt::Write;

use crate::bench::{BenchReport, BenchResult, GateVerdict, SpeedVerdict};
use crate::format;

/// Renders a bench report for the terminal.
pub fn bench(report: &BenchReport) -> String {
    let mut out = String::new();
    if report.interrupted {
        let _ = writeln!(out, "Interrupted: statistics cover the runs completed before Ctrl-C.\n");
    }
    for (i, r) in report.results.iter().enumerate() {
        result(&mut out, i + 1, r);
    }
    relative(&mut out, report);
    gate(&mut out, report);
    if !report.warnings.is_empty() {
        let _ = writeln!(out, "Warnings:");
        for w in &report.warnings {
            let _ = writeln!(out, "  - {w}");
        }
    }
    out
}

fn result(out: &mut String, index: usize, r: &BenchResult) {
    let _ = writeln!(out, "Benchmark {index}: {}", r.name());
    if r.times.is_empty() {
        let _ = writeln!(out, "  no completed runs\n");
        return;
    }
    let scale = format::Scale::of(r.median);
    let t = |v: f64| scale.fmt(v);
    match &r.stats {
        Some(s) => {
            let _ = writeln!(
                out,
                "  Time (median ± MAD):  {} ± {}   95% CI [{}, {}]",
                t(r.median),
                t(s.mad),
                t(s.median_ci.low),
                t(s.median_ci.high)
            );
            let _ = writeln!(
                out,
                "  Time (mean ± σ):      {} ± {}   User: {}, System: {}",
                t(r.mean),
                t(r.stddev),
                t(r.user),
                t(r.system)
            );
            let _ = writeln!(
                out,
                "  Range (min … max):    {} … {}   p5 {}, p95 {}, p99 {}",
                t(r.min),
                t(r.max),
                t(s.p5),
                t(s.p95),
                t(s.p99)
            );
            let warm = if s.warmup_runs > 0 { format!(" (+{} warmup)", s.warmup_runs) } else { String::new() };
            let outliers = if s.outliers > 0 { format!(", {} outliers", s.outliers) } else { String::new() };
            if let Some(cpu) = &s.cpu {
                let _ = writeln!(
                    out,
                    "  CPU (median ± MAD):   {} ± {}   95% CI [{}, {}], CV {}",
                    t(cpu.median),
                    t(cpu.mad),
                    t(cpu.median_ci.low),
                    t(cpu.median_ci.high),
                    format::percent(cpu.cv)
                );
            }
            // `--python` results hold values (each many loops), not command runs.
            let label = if r.parameters.contains_key("loops") { "Values" } else { "Runs" };
            let _ = writeln!(
                out,
                "  {label}: {}{}, CV {}, peak RSS {}{}",
                s.runs,
                warm,
                format::percent(s.cv),
                format::bytes(s.max_rss_mean),
                outliers
            );
        }
        None => {
            let _ = writeln!(out, "  Time (median):        {}", t(r.median));
            let _ = writeln!(out, "  Time (mean ± σ):      {} ± {}", t(r.mean), t(r.stddev));
            let _ = writeln!(out, "  Range (min … max):    {} … {}   {} runs", t(r.min), t(r.max), r.times.len());
        }
    }
    if !r.parameters.is_empty() {
        let params: Vec<String> = r.parameters.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(out, "  Parameters: {}", params.join(", "));
    }
    out.push('\n');
}

fn relative(out: &mut String, report: &BenchReport) {
    if report.relative.len() < 2 {
        return;
    }
    let _ = writeln!(
        out,
        "Relative speed (ratio of median {}, 95% bootstrap CI; two-sided Mann-Whitney U test):",
        report.context.metric.label()
    );
    let width = report.relative.iter().map(|r| r.command.chars().count()).max().unwrap_or(0);
    for row in &report.relative {
        let text = match (row.verdict, &row.comparison) {
            (SpeedVerdict::Reference, _) | (_, None) => "reference".to_string(),
            (verdict, Some(c)) => {
                let (r, lo, hi) = (c.ratio.ratio, c.ratio.ci.low, c.ratio.ci.high);
                let p = format::p_value(c.test.p_value);
                match verdict {
                    SpeedVerdict::Slower => format!("{r:.2}x ({lo:.2}-{hi:.2}) slower, {p}"),
                    SpeedVerdict::Faster => {
                        format!("{:.2}x ({:.2}-{:.2}) faster, {p}", 1.0 / r, 1.0 / hi, 1.0 / lo)
                    }
                    _ => format!("no significant difference ({r:.2}x, {lo:.2}-{hi:.2}, {p})"),
                }
            }
        };
        let _ = writeln!(out, "  {:<width$}  {text}", row.command);
    }
    out.push('\n');
}

fn gate(out: &mut String, report: &BenchReport) {
    let Some(gate) = &report.gate else { return };
    let subject = if gate.baseline.starts_with("reference '") {
        format!("Against the {}", gate.baseline)
    } else {
        format!("Baseline '{}'", gate.baseline)
    };
    let _ = writeln!(
        out,
        "{subject} (gate: significant slowdown of {} over {}, alpha {}):",
        gate.metric.label(),
        format::percent(gate.max_regression),
        gate.alpha
    );
    let width = gate.rows.iter().map(|r| r.command.chars().count()).max().unwrap_or(0).max(7);
    for row in &gate.rows {
        let c = &row.comparison;
        let scale = format::Scale::of(row.baseline_median);
        let _ = writeln!(
            out,
            "  {:<width$}  {} -> {}  {:+.1}% ({:+.1}% … {:+.1}%), {}  {}",
            row.command,
            scale.fmt(row.baseline_median),
            scale.fmt(row.current_median),
            (c.ratio.ratio - 1.0) * 100.0,
            (c.ratio.ci.low - 1.0) * 100.0,
            (c.ratio.ci.high - 1.0) * 100.0,
            format::p_value(c.test.p_value),
            row.verdict.label()
        );
    }
    for name in &gate.missing_in_current {
        let _ = writeln!(out, "  {name:<width$}  in the baseline only: not compared");
    }
    for name in &gate.missing_in_baseline {
        let _ = writeln!(out, "  {name:<width$}  not in the baseline: not compared");
    }
    let regressed = gate.rows.iter().filter(|r| r.verdict == GateVerdict::Regressed).count();
    if gate.failed {
        let _ = writeln!(out, "  FAILED: {regressed} regression(s)");
    } else {
        let _ = writeln!(out, "  passed");
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    #[test]
    fn snapshot() {
        insta::assert_snapshot!(super::bench(&crate::render::fixture::report()));
    }

    #[test]
    fn interrupted_reports_say_so() {
        let mut report = crate::render::fixture::report();
        report.interrupted = true;
        assert!(super::bench(&report).starts_with("Interrupted"));
    }
}
