//! The section of a `tachy watch` result: RSS and CPU over time with alert thresholds, the
//! memory growth estimate, per-metric statistics, alerts and their events.

use super::{Ctx, Row, Verdict, charts, count, escape, facts, figures, notes, num, number, pct, remark, secs};
use super::{subheading, table, text};
use crate::render::watch::{bytes_f, plot, value, value_for};
use crate::watch::{AlertState, GrowthVerdict, WatchEnd, WatchReport};

/// Most alert events listed.
const EVENTS: usize = 100;

/// A series value by its metric name: bytes for `*_bytes`, percent for `*_percent`.
fn series_value(metric: &str, v: f64) -> String {
    if metric.ends_with("_bytes") {
        bytes_f(v)
    } else if metric.ends_with("_percent") {
        format!("{v:.1}%")
    } else {
        number(v)
    }
}

/// Writes the section body.
pub(crate) fn section(_ctx: &mut Ctx<'_>, out: &mut String, w: &WatchReport, depth: usize) {
    let mut items = vec![
        ("command", w.command.clone()),
        ("pid", w.pid.to_string()),
        ("children", if w.children { "included" } else { "not included" }.to_string()),
        ("started", w.started_at.clone()),
        ("duration", secs(w.duration_secs)),
        ("samples", format!("{} every {}", count(w.samples), secs(w.interval_secs))),
        (
            "ended",
            match (w.end, w.exit_code) {
                (WatchEnd::Duration, _) => "duration elapsed".to_string(),
                (WatchEnd::TargetExited, Some(c)) => format!("process exited with {c}"),
                (WatchEnd::TargetExited, None) => "process exited".to_string(),
                (WatchEnd::Interrupted, _) => "Ctrl-C".to_string(),
            },
        ),
        ("tachy's CPU", format!("{:.1}%", w.self_cpu_percent)),
    ];
    if w.cpu_saturated_share > 0.0 {
        items.push(("CPU-saturated samples", pct(w.cpu_saturated_share)));
    }
    facts(out, &items);

    let stat = |name: &str| w.series.get(name);
    let mut figs = Vec::new();
    if let Some(s) = stat("rss_bytes") {
        figs.push(("peak RSS", escape(&bytes_f(s.max))));
        figs.push(("last RSS", escape(&bytes_f(s.last))));
    }
    if let Some(s) = stat("cpu_percent") {
        figs.push(("mean CPU", escape(&format!("{:.1}%", s.mean))));
        figs.push(("max CPU", escape(&format!("{:.1}%", s.max))));
    }
    if let Some(g) = &w.growth {
        let verdict = match g.verdict {
            GrowthVerdict::Growing => Verdict::Fail.badge("growing"),
            GrowthVerdict::Flat => Verdict::Pass.badge("flat"),
            GrowthVerdict::NotEnoughData => Verdict::Neutral.badge("not enough data"),
        };
        figs.push(("memory growth", format!("{} {verdict}", escape(&value(g.bytes_per_hour, "bytes/h")))));
    }
    figures(out, &figs);

    subheading(out, depth, "RSS and CPU over time");
    let thresholds: Vec<(String, f64, String)> =
        w.alerts.iter().map(|a| (a.alert.clone(), a.threshold, a.unit.clone())).collect();
    out.push_str(&charts::embed(&plot(w, &thresholds)));

    subheading(out, depth, "Memory growth");
    match &w.growth {
        Some(g) => {
            facts(
                out,
                &[
                    ("metric", g.metric.clone()),
                    ("slope", value(g.bytes_per_hour, "bytes/h")),
                    (
                        "confidence interval",
                        format!(
                            "{} … {} ({:.0}%)",
                            value(g.low_bytes_per_hour, "bytes/h"),
                            value(g.high_bytes_per_hour, "bytes/h"),
                            g.level * 100.0
                        ),
                    ),
                    ("window", format!("{} over {}", count(g.samples), secs(g.window_secs))),
                    (
                        "warm-up excluded",
                        g.warmup.as_ref().map_or_else(
                            || "none".to_string(),
                            |w| {
                                format!(
                                    "{} to {} ({} → {})",
                                    secs(w.from_secs),
                                    secs(w.to_secs),
                                    bytes_f(w.before_bytes),
                                    bytes_f(w.after_bytes)
                                )
                            },
                        ),
                    ),
                    ("threshold", value(g.threshold_bytes_per_hour, "bytes/h")),
                    ("verdict", format!("{}: {}", g.verdict.label(), g.reason)),
                ],
            );
            remark(
                out,
                "Theil-Sen slope of the memory series after its warm-up, with its confidence interval; memory grows when the whole interval lies above the threshold, both halves of the span grow, and the span is long enough to resolve the threshold.",
            );
        }
        None => remark(out, "Not enough samples for a growth estimate."),
    }

    if !w.alerts.is_empty() {
        subheading(out, depth, "Alerts");
        let rows: Vec<Row> = w
            .alerts
            .iter()
            .map(|a| {
                Row::with(
                    Verdict::of(a.fired == 0),
                    vec![
                        format!("<code>{}</code>", escape(&a.alert)),
                        escape(&value_for(a.threshold, &a.unit, &a.alert)),
                        escape(&a.worst.map_or("–".to_string(), |v| value_for(v, &a.unit, &a.alert))),
                        count(a.fired),
                        escape(&secs(a.firing_secs)),
                        escape(&a.first_fired_secs.map_or("–".to_string(), secs)),
                        format!(
                            "<span class=\"verdict\">{}</span>",
                            if a.firing_at_end {
                                "firing at end"
                            } else if a.fired > 0 {
                                "fired"
                            } else {
                                "quiet"
                            }
                        ),
                    ],
                )
            })
            .collect();
        table(
            out,
            "alerts",
            &[
                text("alert"),
                num("threshold"),
                num("worst"),
                num("fired"),
                num("firing for"),
                num("first at"),
                text("state"),
            ],
            &rows,
            0,
        );
        if !w.events.is_empty() {
            let rows: Vec<Row> = w
                .events
                .iter()
                .take(EVENTS)
                .map(|e| {
                    let firing = e.state == AlertState::Firing;
                    Row::with(
                        if firing { Verdict::Fail } else { Verdict::Pass },
                        vec![
                            escape(&secs(e.t_secs)),
                            escape(&e.time),
                            format!("<code>{}</code>", escape(&e.alert)),
                            format!("<span class=\"verdict\">{}</span>", if firing { "firing" } else { "cleared" }),
                            escape(&value_for(e.value, &e.unit, &e.alert)),
                        ],
                    )
                })
                .collect();
            table(
                out,
                "events",
                &[num("at"), text("time"), text("alert"), text("state"), num("value")],
                &rows,
                w.events.len().saturating_sub(EVENTS),
            );
        }
    }

    if !w.series.is_empty() {
        subheading(out, depth, "Metrics");
        let rows: Vec<Row> = w
            .series
            .iter()
            .map(|(name, s)| {
                Row::new(vec![
                    escape(name),
                    escape(&series_value(name, s.min)),
                    escape(&series_value(name, s.mean)),
                    escape(&series_value(name, s.max)),
                    escape(&series_value(name, s.last)),
                ])
            })
            .collect();
        table(out, "series", &[text("metric"), num("min"), num("mean"), num("max"), num("last")], &rows, 0);
    }
    notes(out, "Unavailable", &w.unavailable);
    notes(out, "Notes", &w.notes);
}
