//! A self-contained SVG chart of a watch (no script, no external resource): RSS over time with
//! the `rss`/`uss`/`pss` alert thresholds as dashed lines, and CPU over time with the `cpu`
//! thresholds; the periods when those alerts fired are shaded.

use std::fmt::Write;

use super::{alert_metric, rates};
use crate::render::mem::{bytes, secs};
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
/// Colour of the CPU series.
const CPU_COLOUR: &str = "#ff7f0e";
/// Colour of thresholds and firing periods.
const ALERT_COLOUR: &str = "#d62728";
/// Longest title, in characters, before it is cut.
const TITLE_CHARS: usize = 80;

/// Escapes text for SVG content and attribute values.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The step of 1, 2 or 5 times a power of ten nearest to `x`.
fn nice(x: f64) -> f64 {
    if !(x > 0.0 && x.is_finite()) {
        return 1.0;
    }
    let p = 10f64.powf(x.log10().floor());
    let f = x / p;
    let m = if f < 1.5 {
        1.0
    } else if f < 3.5 {
        2.0
    } else if f < 7.5 {
        5.0
    } else {
        10.0
    };
    m * p
}

/// Decimals needed to print multiples of `step`.
fn decimals(step: f64) -> usize {
    if step >= 1.0 { 0 } else { (-step.log10().floor()).clamp(0.0, 6.0) as usize }
}

/// An axis from zero: its upper bound, tick step and how to print a tick.
struct Axis {
    max: f64,
    step: f64,
    unit: f64,
    suffix: &'static str,
}

impl Axis {
    /// A linear axis from zero to at least `top`, about `ticks` ticks, labels ending in `suffix`.
    fn linear(top: f64, ticks: f64, suffix: &'static str) -> Axis {
        let top = if top > 0.0 && top.is_finite() { top } else { 1.0 };
        let step = nice(top / ticks);
        Axis { max: (top / step - 1e-9).ceil().max(1.0) * step, step, unit: 1.0, suffix }
    }

    /// A byte axis from zero to at least `top` bytes, about five ticks, in one binary unit.
    fn bytes(top: f64) -> Axis {
        const UNITS: [(&str, f64); 5] =
            [(" B", 1.0), (" KiB", 1024.0), (" MiB", 1048576.0), (" GiB", 1073741824.0), (" TiB", 1099511627776.0)];
        let top = if top >= 1.0 && top.is_finite() { top } else { 1.0 };
        let (suffix, unit) = UNITS.iter().rev().find(|(_, u)| top >= *u).copied().unwrap_or(UNITS[0]);
        let v = top / unit;
        let mut step = nice(v / 5.0);
        if unit == 1.0 {
            step = step.max(1.0);
        }
        Axis { max: (v / step - 1e-9).ceil().max(1.0) * step * unit, step: step * unit, unit, suffix }
    }

    fn ticks(&self) -> Vec<f64> {
        let n = (self.max / self.step + 1e-6).floor() as usize;
        (0..=n).map(|i| i as f64 * self.step).collect()
    }

    fn label(&self, v: f64) -> String {
        let d = decimals(self.step / self.unit);
        format!("{:.d$}{}", v / self.unit, self.suffix)
    }
}

/// One panel: the shared time axis and its own value axis between `top` and `bottom`.
struct Panel<'a> {
    x: &'a Axis,
    y: Axis,
    top: f64,
    bottom: f64,
}

impl Panel<'_> {
    fn x(&self, t: f64) -> f64 {
        LEFT + (t / self.x.max).clamp(0.0, 1.0) * (RIGHT - LEFT)
    }

    fn y(&self, v: f64) -> f64 {
        self.bottom - (v / self.y.max).clamp(0.0, 1.0) * (self.bottom - self.top)
    }

    /// Title, grid, value labels, time ticks (labelled when `time_labels`), series, thresholds
    /// and firing periods.
    #[allow(clippy::too_many_arguments)]
    fn draw(
        &self,
        svg: &mut String,
        title: &str,
        class: &str,
        colour: &str,
        points: &[(f64, f64)],
        thresholds: &[(String, f64)],
        firing: &[(f64, f64)],
        time_labels: bool,
    ) {
        let (top, bottom) = (self.top, self.bottom);
        let _ = writeln!(svg, r#"<text x="{LEFT}" y="{:.1}" font-weight="bold">{}</text>"#, top - 10.0, escape(title));
        for &(from, to) in firing {
            let (x1, x2) = (self.x(from), self.x(to));
            let _ = writeln!(
                svg,
                r#"<rect class="firing" x="{x1:.1}" y="{top:.1}" width="{:.1}" height="{:.1}" fill="{ALERT_COLOUR}" fill-opacity="0.08"/>"#,
                (x2 - x1).max(1.0),
                bottom - top
            );
        }
        let _ = writeln!(svg, r##"<g class="grid" stroke="#ddd">"##);
        for v in self.y.ticks() {
            let y = self.y(v);
            let _ = writeln!(svg, r#"<line x1="{LEFT}" y1="{y:.1}" x2="{RIGHT}" y2="{y:.1}"/>"#);
        }
        let _ = writeln!(svg, "</g>");
        let _ = writeln!(svg, r#"<g class="y-labels" text-anchor="end">"#);
        for v in self.y.ticks() {
            let _ =
                writeln!(svg, r#"<text x="{:.1}" y="{:.1}">{}</text>"#, LEFT - 6.0, self.y(v) + 4.0, self.y.label(v));
        }
        let _ = writeln!(svg, "</g>");
        let _ = writeln!(svg, r#"<g class="x-axis" stroke="black">"#);
        let _ = writeln!(svg, r#"<line x1="{LEFT}" y1="{bottom}" x2="{RIGHT}" y2="{bottom}"/>"#);
        let _ = writeln!(svg, r#"<line x1="{LEFT}" y1="{top}" x2="{LEFT}" y2="{bottom}"/>"#);
        for t in self.x.ticks() {
            let x = self.x(t);
            let _ = writeln!(svg, r#"<line x1="{x:.1}" y1="{bottom}" x2="{x:.1}" y2="{:.1}"/>"#, bottom + 5.0);
        }
        let _ = writeln!(svg, "</g>");
        if time_labels {
            let _ = writeln!(svg, r#"<g class="x-labels" text-anchor="middle">"#);
            for t in self.x.ticks() {
                let _ =
                    writeln!(svg, r#"<text x="{:.1}" y="{:.1}">{}</text>"#, self.x(t), bottom + 19.0, self.x.label(t));
            }
            let _ = writeln!(
                svg,
                r#"<text x="{:.1}" y="{:.1}">time since start</text>"#,
                (LEFT + RIGHT) / 2.0,
                bottom + 38.0
            );
            let _ = writeln!(svg, "</g>");
        }
        if points.is_empty() {
            let _ = writeln!(
                svg,
                r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#555">no sample recorded</text>"##,
                (LEFT + RIGHT) / 2.0,
                (top + bottom) / 2.0
            );
        } else {
            let coords: Vec<String> =
                points.iter().map(|&(t, v)| format!("{:.1},{:.1}", self.x(t), self.y(v))).collect();
            let _ = writeln!(
                svg,
                r#"<polyline class="{class}" fill="none" stroke="{colour}" stroke-width="2" stroke-linejoin="round" points="{}"/>"#,
                coords.join(" ")
            );
        }
        for (label, v) in thresholds {
            let y = self.y(*v);
            let _ = writeln!(
                svg,
                r#"<line class="threshold" x1="{LEFT}" y1="{y:.1}" x2="{RIGHT}" y2="{y:.1}" stroke="{ALERT_COLOUR}" stroke-width="1.5" stroke-dasharray="6 4"/>"#
            );
            let _ = writeln!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="{ALERT_COLOUR}">{}</text>"#,
                RIGHT - 4.0,
                (y - 5.0).max(top + 12.0),
                escape(label)
            );
        }
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
    for (expr, threshold, unit) in alerts {
        let metric = alert_metric(expr);
        let label = format!("{expr} ({})", super::value(*threshold, unit));
        if ["rss", "uss", "pss"].contains(&metric.as_str()) && unit == "bytes" {
            mem_thresholds.push((label, *threshold));
            mem_firing.extend(firing_periods(report, expr));
        } else if metric == "cpu" && unit == "%" {
            cpu_thresholds.push((label, *threshold));
            cpu_firing.extend(firing_periods(report, expr));
        }
    }
    let t_top =
        points.iter().map(|p| p.t_secs).chain([report.duration_secs]).filter(|t| t.is_finite()).fold(0.0, f64::max);
    let x = Axis::linear(t_top, 6.0, " s");
    let rss_top =
        points.iter().map(|p| p.rss_bytes as f64).chain(mem_thresholds.iter().map(|t| t.1)).fold(0.0, f64::max);
    let cpu_top = points
        .iter()
        .map(|p| p.cpu_percent)
        .chain(cpu_thresholds.iter().map(|t| t.1))
        .chain([100.0])
        .fold(0.0, f64::max);
    let mem = Panel { x: &x, y: Axis::bytes(rss_top), top: MEM.0, bottom: MEM.1 };
    let cpu = Panel { x: &x, y: Axis::linear(cpu_top, 4.0, "%"), top: CPU.0, bottom: CPU.1 };

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let full = format!("tachy watch: pid {} {}", report.pid, report.command);
    let _ = writeln!(svg, "<title>{}</title>", escape(&full));
    let title = if full.chars().count() > TITLE_CHARS {
        full.chars().take(TITLE_CHARS - 1).chain(['…']).collect()
    } else {
        full
    };
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(svg, r#"<text x="{LEFT}" y="24" font-size="16" font-weight="bold">{}</text>"#, escape(&title));
    let mut sub = vec![format!("{} samples over {}", report.samples, secs(report.duration_secs))];
    if let Some(max) = points.iter().map(|p| p.rss_bytes).max() {
        sub.push(format!("peak RSS {}", bytes(max)));
    }
    if let Some(g) = &report.growth {
        let (e, lo, hi) = rates(g.bytes_per_hour, g.low_bytes_per_hour, g.high_bytes_per_hour);
        let verdict = if g.growing { "GROWING" } else { "no significant growth" };
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
    mem.draw(&mut svg, &format!("RSS{children}"), "rss", RSS_COLOUR, &rss, &mem_thresholds, &mem_firing, false);
    cpu.draw(
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
    use crate::render::watch::fixture;

    fn balanced(svg: &str) {
        assert!(svg.starts_with("<svg "));
        assert_eq!(svg.matches("<svg").count(), 1);
        assert!(svg.trim_end().ends_with("</svg>"));
        let opens = svg.matches('<').count() - svg.matches("</").count();
        let self_closing = svg.matches("/>").count();
        assert_eq!(opens - self_closing, svg.matches("</").count(), "unbalanced tags");
    }

    fn alerts() -> Vec<(String, f64, String)> {
        vec![
            ("cpu>90%".into(), 90.0, "%".into()),
            ("rss>150MB".into(), 150e6, "bytes".into()),
            ("growth>5MB/h".into(), 5e6, "bytes/h".into()),
            ("fds>1000".into(), 1000.0, "count".into()),
        ]
    }

    #[test]
    fn two_panels_thresholds_and_firing_periods() {
        let svg = plot(&fixture::report(), &alerts());
        balanced(&svg);
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains(r#"class="rss""#) && svg.contains(r#"class="cpu""#));
        assert_eq!(svg.matches(r#"class="threshold""#).count(), 2, "rss and cpu only");
        assert!(svg.contains(">rss&gt;150MB (143 MiB)<"), "{svg}");
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
        let a = Axis::bytes(171.0 * 1048576.0);
        assert_eq!(a.suffix, " MiB");
        assert_eq!(a.label(a.max), "180 MiB");
        let c = Axis::linear(100.0, 4.0, "%");
        assert_eq!(c.ticks().len(), 6);
        assert_eq!(c.label(20.0), "20%");
        assert_eq!(Axis::linear(0.0, 6.0, " s").max, 1.0);
    }
}
