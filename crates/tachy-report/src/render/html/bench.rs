//! The section of a `tachy bench` result: the comparison table (mean ± σ, median, range,
//! relative speed, gate verdict), the distribution of every command's runs, the gate and the
//! warnings.

use std::fmt::Write;

use super::{Ctx, Row, Verdict, charts, escape, facts, notes, num, remark, subheading, table, text};
use crate::bench::{BenchReport, GateVerdict, SpeedVerdict};
use crate::format::{self, Scale};

/// Writes the section body.
pub(crate) fn section(_ctx: &mut Ctx<'_>, out: &mut String, r: &BenchReport, depth: usize) {
    let c = &r.context;
    let mut items = vec![("started", c.started_at.clone()), ("metric", c.metric.label().to_string())];
    if let Some(sh) = &c.shell {
        items.push(("shell", sh.clone()));
    }
    if let Some(o) = c.shell_overhead {
        items.push(("shell overhead", format::time(o)));
    }
    items.push(("interleaved", if c.interleaved { "yes" } else { "no" }.to_string()));
    if c.cpus > 0 {
        items.push(("CPUs", c.cpus.to_string()));
    }
    if let Some(l) = c.load_average {
        items.push(("load average", format!("{:.2} {:.2} {:.2}", l[0], l[1], l[2])));
    }
    facts(out, &items);
    if r.interrupted {
        remark(out, "Interrupted: statistics cover the runs completed before Ctrl-C.");
    }
    if r.results.is_empty() {
        remark(out, "No commands were benchmarked.");
        return;
    }

    subheading(out, depth, "Comparison");
    let reference = r.results.iter().map(|x| x.mean).filter(|m| *m > 0.0).fold(f64::INFINITY, f64::min);
    let scale = Scale::of(if reference.is_finite() { reference } else { 0.0 });
    let t = |v: f64| escape(&scale.fmt(v));
    let rows: Vec<Row> = r
        .results
        .iter()
        .map(|res| {
            let mut name = format!("<code>{}</code>", escape(res.name()));
            if !res.parameters.is_empty() {
                let params: Vec<String> = res.parameters.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let _ = write!(name, "<br><span class=\"sub\">{}</span>", escape(&params.join(", ")));
            }
            let runs = res.stats.as_ref().map_or(res.times.len(), |s| s.runs);
            let relative = r.relative.iter().find(|x| x.command == res.command);
            let rel = match relative {
                Some(x) if x.is_reference => "reference".to_string(),
                Some(x) => match &x.comparison {
                    Some(cmp) => {
                        let word = match x.verdict {
                            SpeedVerdict::Faster => "faster",
                            SpeedVerdict::Slower => "slower",
                            SpeedVerdict::NoDifference => "no difference",
                            SpeedVerdict::Reference => "reference",
                        };
                        format!(
                            "{:.2}× <span class=\"sub\">[{:.2}, {:.2}] {}, {}</span>",
                            cmp.ratio.ratio,
                            cmp.ratio.ci.low,
                            cmp.ratio.ci.high,
                            word,
                            escape(&format::p_value(cmp.test.p_value))
                        )
                    }
                    None => "–".to_string(),
                },
                None => "–".to_string(),
            };
            let gate_row = r.gate.as_ref().and_then(|g| g.rows.iter().find(|g| g.command == res.command));
            let (verdict, gate) = match gate_row {
                Some(g) => {
                    let v = match g.verdict {
                        GateVerdict::Regressed => Verdict::Fail,
                        GateVerdict::Improved => Verdict::Pass,
                        _ => Verdict::Neutral,
                    };
                    (
                        Some(v),
                        format!(
                            "{} <span class=\"sub\">×{:.3}</span>",
                            v.badge(g.verdict.label()),
                            g.comparison.ratio.ratio
                        ),
                    )
                }
                None => (None, if r.gate.is_some() { "not in baseline".to_string() } else { "–".to_string() }),
            };
            let cells = vec![
                name,
                format!("{} ± {}", t(res.mean), t(res.stddev)),
                t(res.median),
                format!("{} … {}", t(res.min), t(res.max)),
                runs.to_string(),
                rel,
                gate,
            ];
            match verdict {
                Some(Verdict::Fail) => Row::with(Verdict::Fail, cells),
                _ => Row::new(cells),
            }
        })
        .collect();
    table(
        out,
        "bench",
        &[
            text("command"),
            num("mean ± σ"),
            num("median"),
            num("min … max"),
            num("runs"),
            text("relative speed (ratio of medians)"),
            text("gate"),
        ],
        &rows,
        0,
    );

    subheading(out, depth, "Distribution of runs");
    let metric = c.metric;
    let series: Vec<(String, Vec<f64>)> = r
        .results
        .iter()
        .map(|res| (res.name().to_string(), res.series(metric).unwrap_or_else(|| res.times.clone())))
        .collect();
    out.push_str(&charts::box_plot(&series, &format!("Distribution of {} per run", metric.label())));
    remark(
        out,
        &format!(
            "Boxes span the quartiles, the thick line is the median, whiskers reach the furthest runs within 1.5 IQR; every dot is one run of {} (outliers red).",
            metric.label()
        ),
    );

    if let Some(g) = &r.gate {
        subheading(out, depth, "Baseline gate");
        facts(
            out,
            &[
                ("baseline", g.baseline.clone()),
                ("metric", g.metric.label().to_string()),
                ("max regression", format::percent(g.max_regression)),
                ("alpha", format!("{}", g.alpha)),
            ],
        );
        let rows: Vec<Row> = g
            .rows
            .iter()
            .map(|row| {
                let v = match row.verdict {
                    GateVerdict::Regressed => Verdict::Fail,
                    _ => Verdict::Pass,
                };
                let cmp = &row.comparison;
                Row::with(
                    v,
                    vec![
                        format!("<code>{}</code>", escape(&row.command)),
                        escape(&format::time(row.baseline_median)),
                        escape(&format::time(row.current_median)),
                        format!("{:.3} [{:.3}, {:.3}]", cmp.ratio.ratio, cmp.ratio.ci.low, cmp.ratio.ci.high),
                        escape(&format::p_short(cmp.test.p_value)),
                        format!("<span class=\"verdict\">{}</span>", escape(row.verdict.label())),
                    ],
                )
            })
            .collect();
        table(
            out,
            "gate",
            &[
                text("command"),
                num("baseline median"),
                num("current median"),
                num("ratio [95% CI]"),
                num("p"),
                text("verdict"),
            ],
            &rows,
            0,
        );
        let mut missing = Vec::new();
        if !g.missing_in_baseline.is_empty() {
            missing.push(format!("not in the baseline: {}", g.missing_in_baseline.join(", ")));
        }
        if !g.missing_in_current.is_empty() {
            missing.push(format!("in the baseline but not measured: {}", g.missing_in_current.join(", ")));
        }
        notes(out, "Commands", &missing);
    }
    notes(out, "Warnings", &r.warnings);
}
