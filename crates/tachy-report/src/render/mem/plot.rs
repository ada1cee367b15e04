//! A self-contained SVG line chart of traced memory and RSS over time (no script, no external
//! resource), with the traced peak marked and the `max-peak` budget as a dashed line.

use std::fmt::Write;

use super::{bytes, secs};
use crate::mem::{MemPoint, MemReport};

/// Width of the whole image.
const WIDTH: f64 = 800.0;
/// Height of the whole image.
const HEIGHT: f64 = 400.0;
/// Left edge of the plot area (room for the byte labels).
const LEFT: f64 = 80.0;
/// Right edge of the plot area.
const RIGHT: f64 = WIDTH - 24.0;
/// Top edge of the plot area (room for the title and legend).
const TOP: f64 = 76.0;
/// Bottom edge of the plot area (room for the time labels).
const BOTTOM: f64 = HEIGHT - 48.0;
/// Colour of the traced memory series.
const TRACED: &str = "#1f77b4";
/// Colour of the RSS series.
const RSS: &str = "#ff7f0e";
/// Colour of the budget line.
const BUDGET: &str = "#d62728";
/// Longest title, in characters, before it is cut.
const TITLE_CHARS: usize = 70;

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
    if !(x.is_finite() && x > 0.0) {
        return 1.0;
    }
    let base = 10f64.powf(x.log10().floor());
    let f = x / base;
    let m = if f < 1.5 {
        1.0
    } else if f < 3.0 {
        2.0
    } else if f < 7.0 {
        5.0
    } else {
        10.0
    };
    m * base
}

/// Decimals needed to print multiples of `step`.
fn decimals(step: f64) -> usize {
    if step >= 1.0 { 0 } else { (-step.log10().floor()).clamp(0.0, 6.0) as usize }
}

/// An axis: its upper bound, tick step and how to print a tick.
struct Axis {
    max: f64,
    step: f64,
    unit: f64,
    suffix: &'static str,
}

impl Axis {
    /// A time axis from zero to at least `top` seconds, about six ticks.
    fn time(top: f64) -> Axis {
        let top = if top > 0.0 && top.is_finite() { top } else { 1.0 };
        let step = nice(top / 6.0);
        Axis { max: (top / step - 1e-9).ceil().max(1.0) * step, step, unit: 1.0, suffix: " s" }
    }

    /// A byte axis from zero to at least `top` bytes, about five ticks, in one binary unit.
    fn bytes(top: u64) -> Axis {
        const UNITS: [(&str, f64); 5] =
            [(" B", 1.0), (" KiB", 1024.0), (" MiB", 1048576.0), (" GiB", 1073741824.0), (" TiB", 1099511627776.0)];
        let top = top.max(1) as f64;
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

/// Screen coordinates of a (seconds, bytes) point.
struct Frame {
    x: Axis,
    y: Axis,
}

impl Frame {
    fn x(&self, t: f64) -> f64 {
        LEFT + (t / self.x.max).clamp(0.0, 1.0) * (RIGHT - LEFT)
    }

    fn y(&self, b: f64) -> f64 {
        BOTTOM - (b / self.y.max).clamp(0.0, 1.0) * (BOTTOM - TOP)
    }
}

/// The points of one series as `x,y` pairs; long timelines keep each pixel column's lowest and
/// highest value, in time order, so spikes survive.
fn polyline(frame: &Frame, points: &[MemPoint], value: fn(&MemPoint) -> u64) -> String {
    let columns = (RIGHT - LEFT) as usize;
    let mut kept: Vec<(f64, u64)> = Vec::new();
    if points.len() <= 2 * columns {
        kept.extend(points.iter().map(|p| (p.t_secs, value(p))));
    } else {
        let mut column: Option<(usize, usize, usize)> = None; // (pixel, index of min, index of max)
        let flush = |c: Option<(usize, usize, usize)>, kept: &mut Vec<(f64, u64)>| {
            if let Some((_, lo, hi)) = c {
                for i in if lo <= hi { [lo, hi] } else { [hi, lo] } {
                    kept.push((points[i].t_secs, value(&points[i])));
                }
            }
        };
        for (i, p) in points.iter().enumerate() {
            let px = (frame.x(p.t_secs) - LEFT) as usize;
            match &mut column {
                Some((c, lo, hi)) if *c == px => {
                    if value(p) < value(&points[*lo]) {
                        *lo = i;
                    }
                    if value(p) > value(&points[*hi]) {
                        *hi = i;
                    }
                }
                _ => {
                    flush(column, &mut kept);
                    column = Some((px, i, i));
                }
            }
        }
        flush(column, &mut kept);
    }
    let mut out = String::new();
    for (t, b) in kept {
        if !out.is_empty() {
            out.push(' ');
        }
        let _ = write!(out, "{:.1},{:.1}", frame.x(t), frame.y(b as f64));
    }
    out
}

/// Draws the memory timeline as an SVG document.
pub fn plot(report: &MemReport) -> String {
    let points = &report.timeline;
    let budget = report.budgets.iter().find(|b| b.name == "max-peak");
    let t_top = points
        .iter()
        .map(|p| p.t_secs)
        .chain([report.duration_secs, report.peak.traced_at_secs, report.peak.rss_at_secs])
        .filter(|t| t.is_finite())
        .fold(0.0, f64::max);
    let b_top = points
        .iter()
        .flat_map(|p| [p.traced_bytes, p.rss_bytes])
        .chain([report.peak.traced_bytes, report.peak.rss_bytes, budget.map_or(0, |b| b.limit_bytes)])
        .max()
        .unwrap_or(0);
    let frame = Frame { x: Axis::time(t_top), y: Axis::bytes(b_top) };

    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let full = format!("tachy mem: {}", super::command_line(&report.command));
    let _ = writeln!(svg, "<title>{}</title>", escape(&full));
    let title = if full.chars().count() > TITLE_CHARS {
        escape(&(full.chars().take(TITLE_CHARS - 1).collect::<String>() + "…"))
    } else {
        escape(&full)
    };
    let _ = writeln!(svg, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(svg, r#"<text x="{LEFT}" y="24" font-size="16" font-weight="bold">{title}</text>"#);
    let _ = writeln!(
        svg,
        r##"<text x="{LEFT}" y="44" fill="#555">peak traced {} at {} (exact), peak RSS {} at {}</text>"##,
        bytes(report.peak.traced_bytes),
        secs(report.peak.traced_at_secs),
        bytes(report.peak.rss_bytes),
        secs(report.peak.rss_at_secs)
    );

    // Grid and byte ticks.
    let _ = writeln!(svg, r##"<g class="y-axis" stroke="#ddd">"##);
    for v in frame.y.ticks() {
        let y = frame.y(v);
        let _ = writeln!(svg, r#"<line x1="{LEFT}" y1="{y:.1}" x2="{RIGHT}" y2="{y:.1}"/>"#);
    }
    let _ = writeln!(svg, "</g>");
    let _ = writeln!(svg, r#"<g class="y-labels" text-anchor="end">"#);
    for v in frame.y.ticks() {
        let _ = writeln!(svg, r#"<text x="{:.1}" y="{:.1}">{}</text>"#, LEFT - 6.0, frame.y(v) + 4.0, frame.y.label(v));
    }
    let _ = writeln!(svg, "</g>");
    // Time ticks.
    let _ = writeln!(svg, r#"<g class="x-axis" stroke="black">"#);
    let _ = writeln!(svg, r#"<line x1="{LEFT}" y1="{BOTTOM}" x2="{RIGHT}" y2="{BOTTOM}"/>"#);
    let _ = writeln!(svg, r#"<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{BOTTOM}"/>"#);
    for t in frame.x.ticks() {
        let x = frame.x(t);
        let _ = writeln!(svg, r#"<line x1="{x:.1}" y1="{BOTTOM}" x2="{x:.1}" y2="{:.1}"/>"#, BOTTOM + 5.0);
    }
    let _ = writeln!(svg, "</g>");
    let _ = writeln!(svg, r#"<g class="x-labels" text-anchor="middle">"#);
    for t in frame.x.ticks() {
        let _ = writeln!(svg, r#"<text x="{:.1}" y="{:.1}">{}</text>"#, frame.x(t), BOTTOM + 19.0, frame.x.label(t));
    }
    let _ = writeln!(svg, r#"<text x="{:.1}" y="{:.1}">time since start</text>"#, (LEFT + RIGHT) / 2.0, BOTTOM + 38.0);
    let _ = writeln!(svg, "</g>");

    // The max-peak budget.
    if let Some(b) = budget {
        let y = frame.y(b.limit_bytes as f64);
        let _ = writeln!(
            svg,
            r#"<line class="budget" x1="{LEFT}" y1="{y:.1}" x2="{RIGHT}" y2="{y:.1}" stroke="{BUDGET}" stroke-width="1.5" stroke-dasharray="6 4"/>"#
        );
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="{BUDGET}">max-peak {}</text>"#,
            RIGHT - 4.0,
            y - 5.0,
            bytes(b.limit_bytes)
        );
    }

    // The series.
    if points.is_empty() {
        let _ = writeln!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="middle" fill="#555">no timeline recorded</text>"##,
            (LEFT + RIGHT) / 2.0,
            (TOP + BOTTOM) / 2.0
        );
    } else {
        for (class, colour, value) in [
            ("rss", RSS, (|p: &MemPoint| p.rss_bytes) as fn(&MemPoint) -> u64),
            ("traced", TRACED, |p: &MemPoint| p.traced_bytes),
        ] {
            let _ = writeln!(
                svg,
                r#"<polyline class="{class}" fill="none" stroke="{colour}" stroke-width="2" stroke-linejoin="round" points="{}"/>"#,
                polyline(&frame, points, value)
            );
        }
    }

    // The traced peak.
    if report.peak.traced_bytes > 0 {
        let (x, y) = (frame.x(report.peak.traced_at_secs), frame.y(report.peak.traced_bytes as f64));
        let (dx, anchor) = if x > LEFT + 0.7 * (RIGHT - LEFT) { (-8.0, "end") } else { (8.0, "start") };
        let _ = writeln!(
            svg,
            r#"<circle class="peak" cx="{x:.1}" cy="{y:.1}" r="4" fill="{TRACED}" stroke="white" stroke-width="1.5"/>"#
        );
        let _ = writeln!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="{anchor}" font-weight="bold" fill="{TRACED}">peak {} at {}</text>"#,
            x + dx,
            (y - 8.0).max(TOP + 10.0),
            bytes(report.peak.traced_bytes),
            secs(report.peak.traced_at_secs)
        );
    }

    // Legend, in its own row above the plot area.
    for (i, (colour, name)) in [(TRACED, "traced memory (Python allocators)"), (RSS, "RSS")].iter().enumerate() {
        let x = LEFT + i as f64 * 260.0;
        let _ = writeln!(
            svg,
            r#"<line x1="{x:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{colour}" stroke-width="3"/>"#,
            TOP - 16.0,
            x + 18.0,
            TOP - 16.0
        );
        let _ = writeln!(svg, r#"<text x="{:.1}" y="{:.1}">{name}</text>"#, x + 24.0, TOP - 12.0);
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::mem::fixture;

    fn balanced(svg: &str) {
        assert!(svg.starts_with("<svg "));
        assert_eq!(svg.matches("<svg").count(), 1);
        assert!(svg.trim_end().ends_with("</svg>"));
        // Every element is closed: opening tags minus self-closing ones equal closing tags.
        let opens = svg.matches('<').count() - svg.matches("</").count();
        let self_closing = svg.matches("/>").count();
        assert_eq!(opens - self_closing, svg.matches("</").count(), "unbalanced tags");
    }

    #[test]
    fn draws_both_series_the_peak_and_the_budget() {
        let svg = plot(&fixture::report());
        balanced(&svg);
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains(r#"class="traced""#) && svg.contains(r#"class="rss""#));
        assert!(svg.contains("traced memory") && svg.contains(">RSS<"));
        assert!(svg.contains(r#"class="peak""#));
        assert!(svg.contains("peak 118 MiB at 3.20 s"));
        assert!(svg.contains("stroke-dasharray") && svg.contains("max-peak 100 MiB"));
        assert!(svg.contains(">150 MiB<") && svg.contains(">200 MiB<"), "byte ticks in binary units");
        assert!(svg.contains(">5 s<") || svg.contains(">5.0 s<"), "time ticks in seconds");
        assert!(!svg.contains("<script") && !svg.contains("href"), "self-contained");
    }

    #[test]
    fn the_command_is_escaped() {
        let mut report = fixture::report();
        report.command = vec!["python3".into(), "-c".into(), "print('<script>alert(1)</script>' & 1)".into()];
        let svg = plot(&report);
        balanced(&svg);
        assert!(!svg.contains("<script"));
        assert!(svg.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(svg.contains("&#39; &amp; 1)"));
    }

    #[test]
    fn empty_and_long_timelines() {
        let mut report = fixture::unsampled();
        report.timeline.clear();
        report.peak = Default::default();
        let svg = plot(&report);
        balanced(&svg);
        assert!(svg.contains("no timeline recorded"));

        let mut report = fixture::report();
        report.timeline = (0..100_000)
            .map(|i| MemPoint { t_secs: i as f64 * 0.001, traced_bytes: (i % 977) * 1000, rss_bytes: 50 << 20 })
            .collect();
        report.timeline[54_321].traced_bytes = 90 << 20;
        let svg = plot(&report);
        balanced(&svg);
        let traced = svg.lines().find(|l| l.contains(r#"class="traced""#)).unwrap();
        assert!(traced.matches(',').count() <= 2 * (RIGHT - LEFT) as usize + 2, "decimated");
        let frame = Frame { x: Axis::time(100.0), y: Axis::bytes(160 << 20) };
        let spike_y = format!(",{:.1}", frame.y((90u64 << 20) as f64));
        assert!(traced.contains(&spike_y), "the spike survives decimation: {spike_y}");
    }

    #[test]
    fn axes_pick_round_steps() {
        let a = Axis::bytes(118 << 20);
        assert_eq!(a.suffix, " MiB");
        assert_eq!(a.label(a.max), "120 MiB");
        assert_eq!(a.ticks().len(), 7);
        let t = Axis::time(5.25);
        assert_eq!(t.max, 6.0);
        assert_eq!(t.label(2.0), "2 s");
        let t = Axis::time(0.042);
        assert_eq!(t.label(t.step), "0.01 s");
        assert_eq!(Axis::bytes(0).label(Axis::bytes(0).max), "1 B");
    }
}
