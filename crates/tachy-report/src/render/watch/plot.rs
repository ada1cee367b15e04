//! A self-contained SVG chart of a watch (no script, no external resource): RSS over time with
//! the `rss`/`uss`/`pss` alert thresholds as dashed lines, and CPU over time with the `cpu`
//! thresholds; the periods when those alerts fired are shaded.

use std::fmt::Write;

use super::{alert_metric, rates};
use crate::render::common::{bytes, secs};
use crate::render::svg::{self, Axis, Panel, escape};
use crate::watch::{AlertState, TimelinePoint, WatchReport};

/// Width of the whole image.
const WIDTH: f64 = 800.0;
/// Height of the whole image.
const HEIGHT: f64 = 600.0;
/// Left edge of the plot areas (room for the value labels).
const LEFT: f64 = 80.0;
/// Right edge of the plot areas.
const RIGHT: f64 = WIDTH - 24.0;
/// Top and bottom of the memory panel.
const MEM: (f64, f64) = (90.0, 310.0);
/// Top and bottom of the CPU panel.
const CPU: (f64, f64) = (370.0, 540.0);
/// Colour of the RSS series.
const RSS_COLOUR: &str = "#1f77b4";
/// Colours of the USS and PSS series (drawn when an alert watches them).
const USS_COLOUR: &str = "#2ca02c";
/// See [`USS_COLOUR`].
const PSS_COLOUR: &str = "#9467bd";
/// Colour of the CPU series.
const CPU_COLOUR: &str = "#ff7f0e";
/// Colour of thresholds and firing periods.
const ALERT_COLOUR: &str = "#d62728";
/// Longest title, in characters, before it is cut.
const TITLE_CHARS: usize = 80;

/// Where [`nice`](svg::nice) rounds this chart's tick steps up to 2, 5 and 10.
const STEP_CUTS: [f64; 3] = [1.5, 3.5, 7.5];

/// One panel between `top` and `bottom` over the shared time axis `x`.
fn panel(x: &Axis, y: Axis, (top, bottom): (f64, f64)) -> Panel<'_> {
    Panel { x, y, left: LEFT, right: RIGHT, top, bottom }
}

/// Draws one panel: title, firing periods, grid, value labels, time ticks (labelled when
/// `time_labels`), series and thresholds.
#[allow(clippy::too_many_arguments)]
fn draw(
    panel: &Panel,
    svg: &mut String,
    title: &str,
    class: &str,
    colour: &str,
    points: &[(f64, f64)],
    thresholds: &[(String, f64)],
    firing: &[(f64, f64)],
    time_labels: bool,
) {
    let (top, bottom) = (panel.top, panel.bottom);
    let _ = writeln!(svg, r#"<text x="{LEFT}" y="{:.1}" font-weight="bold">{}</text>"#, top - 10.0, escape(title));
    for &(from, to) in firing {
        let (x1, x2) = (panel.x(from), panel.x(to));
        let _ = writeln!(
            svg,
            r#"<rect class="firing" x="{x1:.1}" y="{top:.1}" width="{:.1}" height="{:.1}" fill="{ALERT_COLOUR}" fill-opacity="0.08"/>"#,
            (x2 - x1).max(1.0),
            bottom - top
        );
    }
    panel.grid(svg, "grid");
    panel.time_axis(svg);
    if time_labels {
        panel.time_labels(svg);
    }
    if points.is_empty() {
        panel.message(svg, "no sample recorded");
    } else {
        panel.polyline(svg, class, colour, points);
    }
    for (label, v) in thresholds {
        panel.dashed(svg, "threshold", ALERT_COLOUR, *v, label, true);
    }
}

/// The periods each alert fired, from the report's events (until the end when still firing).
fn firing_periods(report: &WatchReport, alert: &str) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    let mut since = None;
    for e in report.events.iter().filter(|e| e.alert == alert) {
        match (e.state, since) {
            (AlertState::Firing, None) => since = Some(e.t_secs),
            (AlertState::Cleared, Some(s)) => {
                out.push((s, e.t_secs));
                since = None;
            }
            _ => {}
        }
    }
    if let Some(s) = since {
        out.push((s, report.duration_secs.max(s)));
    }
    out
}

/// Draws a watch as an SVG document: RSS over time (binary units) with the `rss`, `uss` and
/// `pss` thresholds, CPU % over time with the `cpu` thresholds. `alerts` are the alerts as
/// `(expression, threshold in its base unit, unit)`; others (growth, counts) are not drawn.
pub fn plot(report: &WatchReport, alerts: &[(String, f64, String)]) -> String {
    let points: &[TimelinePoint] = &report.timeline;
    let mut mem_thresholds = Vec::new();
    let mut cpu_thresholds = Vec::new();
    let mut mem_firing = Vec::new();
    let mut cpu_firing = Vec::new();
    // USS and PSS are drawn beside RSS when an alert watches them, so their thresholds are
    // read against their own line.
    let mut extra: Vec<&str> = Vec::new();
    for (expr, threshold, unit) in alerts {
        let metric = alert_metric(expr);
        let label = format!("{expr} ({})", super::value_for(*threshold, unit, expr));
        if ["rss", "uss", "pss"].contains(&metric.as_str()) && unit == "bytes" {
            if metric == "uss" && !extra.contains(&"uss") {
                extra.push("uss");
            } else if metric == "pss" && !extra.contains(&"pss") {
                extra.push("pss");
            }
            mem_thresholds.push((label, *threshold));
            mem_firing.extend(firing_periods(report, expr));
        } else if metric == "cpu" && unit == "%" {
            cpu_thresholds.push((label, *threshold));
            cpu_firing.extend(firing_periods(report, expr));
        }
    }
    let t_top =
        points.iter().map(|p| p.t_secs).chain([report.duration_secs]).filter(|t| t.is_finite()).fold(0.0, f64::max);
    let x = Axis::linear(t_top, 6.0, " s", STEP_CUTS);
    let series_of = |name: &str| -> Vec<(f64, f64)> {
        points
            .iter()
            .filter_map(|p| {
                match name {
                    "uss" => p.uss_bytes,
                    _ => p.pss_bytes,
                }
                .map(|v| (p.t_secs, v as f64))
            })
            .collect()
    };
    let extra: Vec<(&str, Vec<(f64, f64)>)> =
        extra.into_iter().map(|name| (name, series_of(name))).filter(|(_, s)| !s.is_empty()).collect();
    let rss_top = points
        .iter()
        .map(|p| p.rss_bytes as f64)
        .chain(mem_thresholds.iter().map(|t| t.1))
        .chain(extra.iter().flat_map(|(_, s)| s.iter().map(|p| p.1)))
        .fold(0.0, f64::max);
    let cpu_top = points
        .iter()
        .map(|p| p.cpu_percent)
        .chain(cpu_thresholds.iter().map(|t| t.1))
        .chain([100.0])
        .fold(0.0, f64::max);
    let mem = panel(&x, Axis::bytes(rss_top, STEP_CUTS), MEM);
    let cpu = panel(&x, Axis::linear(cpu_top, 4.0, "%", STEP_CUTS), CPU);

    let mut svg = String::new();
    let full = format!("tachy watch: pid {} {}", report.pid, report.command);
    svg::open(&mut svg, WIDTH, HEIGHT, LEFT, &full, TITLE_CHARS);
    let mut sub = vec![format!("{} samples over {}", report.samples, secs(report.duration_secs))];
    if let Some(max) = points.iter().map(|p| p.rss_bytes).max() {
        sub.push(format!("peak RSS {}", bytes(max)));
    }
    if let Some(g) = &report.growth {
        let (e, lo, hi) = rates(g.bytes_per_hour, g.low_bytes_per_hour, g.high_bytes_per_hour);
        let verdict = if g.growing { "GROWING" } else { g.verdict.label() };
        sub.push(format!("growth {e} [{lo}, {hi}]: {verdict}"));
    }
    let fired = report.alerts.iter().filter(|a| a.fired > 0).count();
    if !report.alerts.is_empty() {
        sub.push(format!("{fired} of {} alerts fired", report.alerts.len()));
    }
    let _ = writeln!(svg, r##"<text x="{LEFT}" y="46" fill="#555">{}</text>"##, escape(&sub.join(", ")));

    let rss: Vec<(f64, f64)> = points.iter().map(|p| (p.t_secs, p.rss_bytes as f64)).collect();
    let cpu_points: Vec<(f64, f64)> = points.iter().map(|p| (p.t_secs, p.cpu_percent)).collect();
    let children = if report.children { " of the process tree" } else { "" };
    let mut title = format!("RSS{children}");
    for (name, _) in &extra {
        title.push_str(&format!(", {} ({})", name.to_uppercase(), if *name == "uss" { "green" } else { "purple" }));
    }
    draw(&mem, &mut svg, &title, "rss", RSS_COLOUR, &rss, &mem_thresholds, &mem_firing, false);
    for (name, series) in &extra {
        mem.polyline(&mut svg, name, if *name == "uss" { USS_COLOUR } else { PSS_COLOUR }, series);
    }
    draw(
        &cpu,
        &mut svg,
        &format!("CPU{children}, % of one core"),
        "cpu",
        CPU_COLOUR,
        &cpu_points,
        &cpu_thresholds,
        &cpu_firing,
        true,
    );
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::svg::assert_balanced as balanced;
    use crate::render::watch::fixture;

    fn alerts() -> Vec<(String, f64, String)> {
        vec![
            ("cpu>90%".into(), 90.0, "%".into()),
            ("rss>150MB".into(), 150e6, "bytes".into()),
            ("growth>5MB/h".into(), 5e6, "bytes/h".into()),
            ("fds>1000".into(), 1000.0, "count".into()),
        ]
    }

    #[test]
    fn uss_and_pss_are_drawn_when_an_alert_watches_them() {
        let mut report = fixture::report();
        for p in &mut report.timeline {
            p.uss_bytes = Some(p.rss_bytes * 3 / 4);
        }
        let mut with_uss = alerts();
        with_uss.push(("uss>120MB".into(), 120e6, "bytes".into()));
        let svg = plot(&report, &with_uss);
        balanced(&svg);
        assert_eq!(svg.matches("<polyline").count(), 3, "rss, uss and cpu");
        assert!(svg.contains(r#"class="uss""#) && svg.contains(", USS (green)"), "{svg}");
        // PSS is watched but was never read: nothing to draw.
        with_uss.push(("pss>1GB".into(), 1e9, "bytes".into()));
        assert!(!plot(&report, &with_uss).contains(r#"class="pss""#));
        // No alert on USS: only RSS.
        assert!(!plot(&report, &alerts()).contains(r#"class="uss""#));
    }

    #[test]
    fn two_panels_thresholds_and_firing_periods() {
        let svg = plot(&fixture::report(), &alerts());
        balanced(&svg);
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains(r#"class="rss""#) && svg.contains(r#"class="cpu""#));
        assert_eq!(svg.matches(r#"class="threshold""#).count(), 2, "rss and cpu only");
        assert!(svg.contains(">rss&gt;150MB (150 MB)<"), "the threshold in the units written: {svg}");
        assert!(svg.contains(">cpu&gt;90% (90.0%)<"), "{svg}");
        // rss fired 12..16 and 25..end, cpu 5..7.
        assert_eq!(svg.matches(r#"class="firing""#).count(), 3);
        assert!(svg.contains(">160 MiB<") && svg.contains(">100%<"), "binary byte ticks, percent ticks");
        assert!(svg.contains(">30 s<"), "time ticks");
        assert!(svg.contains("growth +8.52 GiB/h [8.31, 8.70]: GROWING"), "{svg}");
        assert!(!svg.contains("<script") && !svg.contains("href"), "self-contained");
    }

    #[test]
    fn strings_are_escaped() {
        let mut report = fixture::report();
        report.command = "python3 -c \"print('<script>' & 1)\"".into();
        let svg = plot(&report, &[("rss>1<2".into(), 1.0, "bytes".into())]);
        balanced(&svg);
        assert!(!svg.contains("<script"));
        assert!(svg.contains("&quot;print(&#39;&lt;script&gt;&#39; &amp; 1)&quot;"), "{svg}");
    }

    #[test]
    fn empty_timeline() {
        let mut report = fixture::report();
        report.timeline.clear();
        report.events.clear();
        report.growth = None;
        let svg = plot(&report, &[]);
        balanced(&svg);
        assert_eq!(svg.matches("no sample recorded").count(), 2);
        assert!(!svg.contains("<polyline"));
    }

    #[test]
    fn axes_pick_round_steps() {
        let a = Axis::bytes(171.0 * 1048576.0, STEP_CUTS);
        assert_eq!(a.suffix, " MiB");
        assert_eq!(a.label(a.max), "180 MiB");
        let c = Axis::linear(100.0, 4.0, "%", STEP_CUTS);
        assert_eq!(c.ticks().len(), 6);
        assert_eq!(c.label(20.0), "20%");
        assert_eq!(Axis::linear(0.0, 6.0, " s", STEP_CUTS).max, 1.0);
    }
}
