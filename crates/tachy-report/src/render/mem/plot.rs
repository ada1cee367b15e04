//! A self-contained SVG line chart of traced memory and RSS over time (no script, no external
//! resource), with the traced peak marked and the `max-peak` budget as a dashed line.

use std::fmt::Write;

use crate::mem::{MemPoint, MemReport};
use crate::render::common::{bytes, secs};
use crate::render::svg::{self, Axis, Panel};

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

/// Where [`nice`](crate::render::svg::nice) rounds this chart's tick steps up to 2, 5 and 10.
const STEP_CUTS: [f64; 3] = [1.5, 3.0, 7.0];

/// A time axis from zero to at least `top` seconds, about six ticks.
fn time_axis(top: f64) -> Axis {
    Axis::linear(top, 6.0, " s", STEP_CUTS)
}

/// A byte axis from zero to at least `top` bytes, about five ticks, in one binary unit.
fn bytes_axis(top: u64) -> Axis {
    Axis::bytes(top as f64, STEP_CUTS)
}

/// The plot area of a chart with the time axis `x`.
fn panel(x: &Axis, y: Axis) -> Panel<'_> {
    Panel { x, y, left: LEFT, right: RIGHT, top: TOP, bottom: BOTTOM }
}

/// The `(seconds, bytes)` points of one series; long timelines keep each pixel column's lowest and
/// highest value, in time order, so spikes survive.
fn series(panel: &Panel, points: &[MemPoint], value: fn(&MemPoint) -> u64) -> Vec<(f64, f64)> {
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
            let px = (panel.x(p.t_secs) - LEFT) as usize;
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
    kept.into_iter().map(|(t, b)| (t, b as f64)).collect()
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
    let x = time_axis(t_top);
    let frame = panel(&x, bytes_axis(b_top));

    let mut svg = String::new();
    let full = format!("tachy mem: {}", super::command_line(&report.command));
    svg::open(&mut svg, WIDTH, HEIGHT, LEFT, &full, TITLE_CHARS);
    let _ = writeln!(
        svg,
        r##"<text x="{LEFT}" y="44" fill="#555">peak traced {} at {} (exact), peak RSS {} at {}</text>"##,
        bytes(report.peak.traced_bytes),
        secs(report.peak.traced_at_secs),
        bytes(report.peak.rss_bytes),
        secs(report.peak.rss_at_secs)
    );

    // Grid, byte ticks and time ticks.
    frame.grid(&mut svg, "y-axis");
    frame.time_axis(&mut svg);
    frame.time_labels(&mut svg);

    // The max-peak budget.
    if let Some(b) = budget {
        let label = format!("max-peak {}", bytes(b.limit_bytes));
        frame.dashed(&mut svg, "budget", BUDGET, b.limit_bytes as f64, &label, false);
    }

    // The series.
    if points.is_empty() {
        frame.message(&mut svg, "no timeline recorded");
    } else {
        for (class, colour, value) in [
            ("rss", RSS, (|p: &MemPoint| p.rss_bytes) as fn(&MemPoint) -> u64),
            ("traced", TRACED, |p: &MemPoint| p.traced_bytes),
        ] {
            frame.polyline(&mut svg, class, colour, &series(&frame, points, value));
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
    let traced = if report.native.is_some() {
        "traced memory (Python and C allocations)"
    } else {
        "traced memory (Python allocators)"
    };
    for (i, (colour, name)) in [(TRACED, traced), (RSS, "RSS")].iter().enumerate() {
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
    use crate::render::svg::assert_balanced as balanced;

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
        let x = time_axis(100.0);
        let frame = panel(&x, bytes_axis(160 << 20));
        let spike_y = format!(",{:.1}", frame.y((90u64 << 20) as f64));
        assert!(traced.contains(&spike_y), "the spike survives decimation: {spike_y}");
    }

    #[test]
    fn axes_pick_round_steps() {
        let a = bytes_axis(118 << 20);
        assert_eq!(a.suffix, " MiB");
        assert_eq!(a.label(a.max), "120 MiB");
        assert_eq!(a.ticks().len(), 7);
        let t = time_axis(5.25);
        assert_eq!(t.max, 6.0);
        assert_eq!(t.label(2.0), "2 s");
        let t = time_axis(0.042);
        assert_eq!(t.label(t.step), "0.01 s");
        assert_eq!(bytes_axis(0).label(bytes_axis(0).max), "1 B");
    }
}
