//! The static SVG charts of the HTML report: distributions of benchmark times (box plots with
//! every run as a dot), the latency histogram and the per-second timeline of a load test, and
//! the embedding of the SVG plots `tachy mem` and `tachy watch` already draw.
//!
//! Every chart is an `<svg class="chart">` element (the page's script counts them); every text
//! from user data is escaped.

use std::fmt::Write;

use super::{escape, ms};
use crate::format::Scale;
use crate::load::{LatencyBucket, LatencySummary, TimelinePoint};
use crate::render::svg::{Axis, Panel, nice};

/// Where [`nice`] rounds tick steps up to 2, 5 and 10.
const CUTS: [f64; 3] = [1.5, 3.5, 7.5];
/// Width of every chart (the page scales it down on narrow screens).
const WIDTH: f64 = 960.0;
/// Colours of successive series.
const PALETTE: [&str; 8] = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"];
/// Colour of errors.
const RED: &str = "#d62728";

/// Opens an `<svg class="chart">` of `height` with an accessible `title`.
fn open(out: &mut String, height: f64, title: &str) {
    let _ = writeln!(
        out,
        r#"<svg class="chart" role="img" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="system-ui, sans-serif" font-size="12">"#
    );
    let _ = writeln!(out, "<title>{}</title>", escape(title));
}

/// `text` cut to `max` characters with an ellipsis.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() > max { text.chars().take(max - 1).chain(['…']).collect() } else { text.to_string() }
}

/// The `q`-quantile (0-1) of sorted values, interpolated linearly between order statistics.
pub(crate) fn quantile(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let pos = q.clamp(0.0, 1.0) * (n - 1) as f64;
            let i = pos.floor() as usize;
            let frac = pos - i as f64;
            if i + 1 < n { sorted[i] + (sorted[i + 1] - sorted[i]) * frac } else { sorted[n - 1] }
        }
    }
}

/// A value range with room around it, never empty, never below zero for non-negative data:
/// (low, high).
fn padded_range(lo: f64, hi: f64) -> (f64, f64) {
    if !(lo.is_finite() && hi.is_finite()) {
        return (0.0, 1.0);
    }
    let non_negative = lo >= 0.0;
    let (mut lo, mut hi) = (lo, hi);
    if hi - lo <= hi.abs().max(lo.abs()) * 1e-9 {
        let half = (lo.abs() * 0.1).max(1e-6);
        lo -= half;
        hi += half;
    }
    let pad = (hi - lo) * 0.04;
    let low = lo - pad;
    (if non_negative { low.max(0.0) } else { low }, hi + pad)
}

/// Box plots of run times, one row per command: the box from the first to the third
/// quartile, the median as a thick line, whiskers to the furthest runs within 1.5 IQR, and
/// every run as a dot (outliers red). `series` are (command, times in seconds).
pub(crate) fn box_plot(series: &[(String, Vec<f64>)], title: &str) -> String {
    const LEFT: f64 = 250.0;
    const RIGHT: f64 = WIDTH - 30.0;
    const TOP: f64 = 12.0;
    const ROW: f64 = 48.0;
    let height = TOP + ROW * series.len().max(1) as f64 + 48.0;
    let bottom = TOP + ROW * series.len().max(1) as f64;
    let all = series.iter().flat_map(|(_, v)| v.iter().copied()).filter(|v| v.is_finite());
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (lo, hi) = padded_range(lo, hi);
    let x = |v: f64| LEFT + ((v - lo) / (hi - lo)).clamp(0.0, 1.0) * (RIGHT - LEFT);
    let scale = Scale::of(hi);

    let mut out = String::new();
    open(&mut out, height, title);
    // Grid and time axis.
    let step = nice((hi - lo) / 6.0, CUTS);
    let mut t = (lo / step).ceil() * step;
    out.push_str("<g class=\"grid\" stroke=\"#e3e3e3\">\n");
    let mut ticks = Vec::new();
    while t <= hi + step * 1e-9 && ticks.len() < 50 {
        ticks.push(t);
        let _ = writeln!(out, r#"<line x1="{0:.1}" y1="{TOP}" x2="{0:.1}" y2="{bottom}"/>"#, x(t));
        t += step;
    }
    out.push_str("</g>\n<g class=\"x-labels\" text-anchor=\"middle\" fill=\"#444\">\n");
    for t in &ticks {
        let _ = writeln!(out, r#"<text x="{:.1}" y="{:.1}">{}</text>"#, x(*t), bottom + 18.0, escape(&scale.fmt(*t)));
    }
    let _ = writeln!(out, r#"<text x="{:.1}" y="{:.1}">time per run</text>"#, (LEFT + RIGHT) / 2.0, bottom + 38.0);
    out.push_str("</g>\n");
    let _ = writeln!(out, r##"<line x1="{LEFT}" y1="{bottom}" x2="{RIGHT}" y2="{bottom}" stroke="#888"/>"##);

    for (i, (name, values)) in series.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let cy = TOP + ROW * i as f64 + ROW / 2.0;
        let _ = writeln!(
            out,
            r##"<text x="{:.1}" y="{:.1}" text-anchor="end" fill="#222">{}<title>{}</title></text>"##,
            LEFT - 10.0,
            cy + 4.0,
            escape(&cut(name, 34)),
            escape(name)
        );
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        sorted.sort_by(f64::total_cmp);
        if sorted.is_empty() {
            let _ = writeln!(out, r##"<text x="{LEFT}" y="{:.1}" fill="#777">no completed runs</text>"##, cy + 4.0);
            continue;
        }
        let (q1, med, q3) = (quantile(&sorted, 0.25), quantile(&sorted, 0.5), quantile(&sorted, 0.75));
        let iqr = q3 - q1;
        let (fence_lo, fence_hi) = (q1 - 1.5 * iqr, q3 + 1.5 * iqr);
        let w_lo = sorted.iter().copied().find(|v| *v >= fence_lo).unwrap_or(sorted[0]);
        let w_hi = sorted.iter().rev().copied().find(|v| *v <= fence_hi).unwrap_or(sorted[sorted.len() - 1]);
        let _ = writeln!(out, r#"<g class="box" stroke="{colour}">"#);
        let _ = writeln!(
            out,
            r#"<line x1="{:.1}" y1="{cy:.1}" x2="{:.1}" y2="{cy:.1}" stroke-width="1.5"/>"#,
            x(w_lo),
            x(q1)
        );
        let _ = writeln!(
            out,
            r#"<line x1="{:.1}" y1="{cy:.1}" x2="{:.1}" y2="{cy:.1}" stroke-width="1.5"/>"#,
            x(q3),
            x(w_hi)
        );
        for w in [w_lo, w_hi] {
            let _ =
                writeln!(out, r#"<line x1="{0:.1}" y1="{1:.1}" x2="{0:.1}" y2="{2:.1}"/>"#, x(w), cy - 7.0, cy + 7.0);
        }
        let _ = writeln!(
            out,
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="22" fill="{colour}" fill-opacity="0.18" stroke-width="1.5"><title>{}</title></rect>"#,
            x(q1),
            cy - 11.0,
            (x(q3) - x(q1)).max(1.0),
            escape(&format!(
                "{name}: median {}, quartiles {} … {}, {} runs",
                scale.fmt(med),
                scale.fmt(q1),
                scale.fmt(q3),
                sorted.len()
            ))
        );
        let _ = writeln!(
            out,
            r#"<line x1="{0:.1}" y1="{1:.1}" x2="{0:.1}" y2="{2:.1}" stroke-width="3"/>"#,
            x(med),
            cy - 11.0,
            cy + 11.0
        );
        out.push_str("</g>\n");
        // Every run as a dot, jittered vertically (deterministic), at most about 1500 per row.
        let every = values.len().div_ceil(1500).max(1);
        let _ = writeln!(out, r#"<g class="runs" fill="{colour}" fill-opacity="0.45">"#);
        for (k, v) in values.iter().enumerate().step_by(every) {
            if !v.is_finite() {
                continue;
            }
            let jitter = ((k as u64).wrapping_mul(2_654_435_761) % 1000) as f64 / 1000.0 - 0.5;
            let outlier = *v < fence_lo || *v > fence_hi;
            let fill = if outlier { format!(r#" fill="{RED}" fill-opacity="0.8""#) } else { String::new() };
            let _ = writeln!(out, r#"<circle cx="{:.1}" cy="{:.1}" r="3"{fill}/>"#, x(*v), cy + jitter * 18.0);
        }
        out.push_str("</g>\n");
    }
    out.push_str("</svg>\n");
    out
}

/// Where latency `v` (ms) falls on the histogram's bucket axis, in bucket widths from the left:
/// bucket bounds are log-spaced, so positions inside a bucket are interpolated in log space.
fn bucket_position(buckets: &[LatencyBucket], v: f64) -> f64 {
    let n = buckets.len();
    let Some(i) = buckets.iter().position(|b| b.le_ms >= v) else {
        return n as f64;
    };
    let upper = buckets[i].le_ms;
    let lower = if i > 0 {
        buckets[i - 1].le_ms
    } else if n > 1 && buckets[1].le_ms > upper && upper > 0.0 {
        upper * upper / buckets[1].le_ms
    } else {
        upper / 2.0
    };
    let frac = if lower > 0.0 && upper > lower && v > lower {
        (v.ln() - lower.ln()) / (upper.ln() - lower.ln())
    } else if upper > lower {
        ((v - lower) / (upper - lower)).max(0.0)
    } else {
        1.0
    };
    i as f64 + frac.clamp(0.0, 1.0)
}

/// The latency histogram of a load test: one bar per log-spaced bucket, with the median, p95
/// and p99 marked.
pub(crate) fn latency_histogram(buckets: &[LatencyBucket], latency: &LatencySummary, title: &str) -> String {
    const LEFT: f64 = 70.0;
    const RIGHT: f64 = WIDTH - 20.0;
    const TOP: f64 = 56.0;
    const BOTTOM: f64 = 270.0;
    let height = BOTTOM + 50.0;
    let mut out = String::new();
    open(&mut out, height, title);
    let top = buckets.iter().map(|b| b.count).max().unwrap_or(0) as f64;
    let xaxis = Axis::linear(1.0, 1.0, "", CUTS);
    let panel =
        Panel { x: &xaxis, y: Axis::linear(top, 4.0, "", CUTS), left: LEFT, right: RIGHT, top: TOP, bottom: BOTTOM };
    panel.grid(&mut out, "grid");
    let _ = writeln!(
        out,
        r##"<line x1="{LEFT}" y1="{BOTTOM}" x2="{RIGHT}" y2="{BOTTOM}" stroke="#888"/><text x="{LEFT}" y="16" fill="#444">responses per latency bucket (log-spaced)</text>"##
    );
    if buckets.is_empty() {
        panel.message(&mut out, "no responses");
        out.push_str("</svg>\n");
        return out;
    }
    let bw = (RIGHT - LEFT) / buckets.len() as f64;
    out.push_str("<g class=\"bars\" fill=\"#1f77b4\">\n");
    let mut lower = None;
    for (i, b) in buckets.iter().enumerate() {
        let y = panel.y(b.count as f64);
        let range = match lower {
            Some(l) => format!("{} – {}", ms(l), ms(b.le_ms)),
            None => format!("≤ {}", ms(b.le_ms)),
        };
        lower = Some(b.le_ms);
        let _ = writeln!(
            out,
            r#"<rect x="{:.1}" y="{y:.1}" width="{:.1}" height="{:.1}"><title>{}: {} responses</title></rect>"#,
            LEFT + bw * i as f64 + 0.5,
            (bw - 1.0).max(0.5),
            (BOTTOM - y).max(0.0),
            escape(&range),
            super::count(b.count)
        );
    }
    out.push_str("</g>\n<g class=\"x-labels\" text-anchor=\"middle\" fill=\"#444\">\n");
    let every = buckets.len().div_ceil(10).max(1);
    for (i, b) in buckets.iter().enumerate() {
        if i % every == every - 1 || i + 1 == buckets.len() {
            let anchor = if i + 1 == buckets.len() { r#" text-anchor="end""# } else { "" };
            let _ = writeln!(
                out,
                r#"<text x="{:.1}" y="{:.1}"{anchor}>{}</text>"#,
                LEFT + bw * (i + 1) as f64,
                BOTTOM + 18.0,
                escape(&ms(b.le_ms))
            );
        }
    }
    let _ = writeln!(out, r#"<text x="{:.1}" y="{:.1}">latency</text>"#, (LEFT + RIGHT) / 2.0, BOTTOM + 40.0);
    out.push_str("</g>\n");
    if latency.count > 0 {
        let marks =
            [("p50", latency.p50_ms, "#2ca02c"), ("p95", latency.p95_ms, "#ff7f0e"), ("p99", latency.p99_ms, RED)];
        for (k, (name, v, colour)) in marks.iter().enumerate() {
            let px = LEFT + bucket_position(buckets, *v) * bw;
            let ly = 30.0 + 12.0 * k as f64;
            let _ = writeln!(
                out,
                r#"<line class="mark" x1="{px:.1}" y1="{:.1}" x2="{px:.1}" y2="{BOTTOM}" stroke="{colour}" stroke-width="1.5" stroke-dasharray="5 3"/>"#,
                ly + 2.0
            );
            let anchor = if px > RIGHT - 120.0 { "end" } else { "start" };
            let dx = if anchor == "end" { -4.0 } else { 4.0 };
            let _ = writeln!(
                out,
                r#"<text x="{:.1}" y="{ly:.1}" fill="{colour}" text-anchor="{anchor}">{name} {}</text>"#,
                px + dx,
                escape(&ms(*v))
            );
        }
    }
    out.push_str("</svg>\n");
    out
}

/// A polyline of `points`, plus a dot per point when there are few.
fn line(out: &mut String, panel: &Panel, class: &str, colour: &str, points: &[(f64, f64)]) {
    panel.polyline(out, class, colour, points);
    if points.len() <= 60 {
        let _ = writeln!(out, r#"<g class="{class}-dots" fill="{colour}">"#);
        for &(t, v) in points {
            let _ = writeln!(out, r#"<circle cx="{:.1}" cy="{:.1}" r="2.5"/>"#, panel.x(t), panel.y(v));
        }
        out.push_str("</g>\n");
    }
}

/// The per-second timeline of a load test: requests and errors per second above, median and
/// p99 latency below.
pub(crate) fn load_timeline(points: &[TimelinePoint], title: &str) -> String {
    const LEFT: f64 = 70.0;
    const RIGHT: f64 = WIDTH - 20.0;
    let height = 420.0;
    let mut out = String::new();
    open(&mut out, height, title);
    let t_top = points.iter().map(|p| p.second as f64 + 1.0).fold(1.0, f64::max);
    let x = Axis::linear(t_top, 8.0, " s", CUTS);
    let rps_top = points.iter().map(|p| p.requests.max(p.errors) as f64).fold(0.0, f64::max);
    let lat_top = points.iter().map(|p| p.p99_ms.max(p.p50_ms)).filter(|v| v.is_finite()).fold(0.0, f64::max);
    let rate =
        Panel { x: &x, y: Axis::linear(rps_top, 4.0, "/s", CUTS), left: LEFT, right: RIGHT, top: 30.0, bottom: 170.0 };
    let lat = Panel {
        x: &x,
        y: Axis::linear(lat_top, 4.0, " ms", CUTS),
        left: LEFT,
        right: RIGHT,
        top: 230.0,
        bottom: 370.0,
    };
    let legend = |out: &mut String, y: f64, items: &[(&str, &str)]| {
        let mut lx = LEFT;
        for (label, colour) in items {
            let _ = writeln!(
                out,
                r#"<rect x="{lx:.1}" y="{:.1}" width="12" height="4" fill="{colour}"/><text x="{:.1}" y="{y:.1}" fill="{colour}">{}</text>"#,
                y - 5.0,
                lx + 16.0,
                escape(label)
            );
            lx += 130.0;
        }
    };
    legend(&mut out, 18.0, &[("requests / s", PALETTE[0]), ("errors / s", RED)]);
    legend(&mut out, 218.0, &[("p50 latency", "#2ca02c"), ("p99 latency", "#9467bd")]);
    for p in [&rate, &lat] {
        p.grid(&mut out, "grid");
        p.time_axis(&mut out);
    }
    lat.time_labels(&mut out);
    if points.is_empty() {
        rate.message(&mut out, "no timeline");
        out.push_str("</svg>\n");
        return out;
    }
    let mid = |p: &TimelinePoint| p.second as f64 + 0.5;
    let requests: Vec<(f64, f64)> = points.iter().map(|p| (mid(p), p.requests as f64)).collect();
    let errors: Vec<(f64, f64)> = points.iter().map(|p| (mid(p), p.errors as f64)).collect();
    line(&mut out, &rate, "rps", PALETTE[0], &requests);
    if points.iter().any(|p| p.errors > 0) {
        line(&mut out, &rate, "errors", RED, &errors);
    }
    let with_responses: Vec<&TimelinePoint> = points.iter().filter(|p| p.requests > p.errors).collect();
    let p50: Vec<(f64, f64)> = with_responses.iter().map(|p| (mid(p), p.p50_ms)).collect();
    let p99: Vec<(f64, f64)> = with_responses.iter().map(|p| (mid(p), p.p99_ms)).collect();
    line(&mut out, &lat, "p50", "#2ca02c", &p50);
    line(&mut out, &lat, "p99", "#9467bd", &p99);
    out.push_str("</svg>\n");
    out
}

/// An SVG document drawn by another renderer (`tachy mem`'s or `tachy watch`'s plot) as an
/// inline chart of the page.
pub(crate) fn embed(svg: &str) -> String {
    let svg = svg.trim_start();
    let body = svg
        .strip_prefix(r#"<svg xmlns="http://www.w3.org/2000/svg" "#)
        .or_else(|| svg.strip_prefix("<svg "))
        .unwrap_or(svg);
    format!("<svg class=\"chart\" role=\"img\" {body}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::svg::assert_balanced;

    #[test]
    fn quantiles_interpolate() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 0.5), 2.5);
        assert_eq!(quantile(&v, 1.0), 4.0);
        assert_eq!(quantile(&[7.0], 0.3), 7.0);
        assert!(quantile(&[], 0.5).is_nan());
    }

    #[test]
    fn box_plots_survive_constant_and_empty_series() {
        let svg = box_plot(
            &[
                ("true".into(), vec![0.0; 5]),
                ("<b>".into(), vec![]),
                ("x".into(), vec![0.01, 0.011, 0.012, 0.013, 0.5]),
            ],
            "runs",
        );
        assert_balanced(&svg);
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
        assert!(svg.contains("&lt;b&gt;") && !svg.contains("<b>"));
        assert_eq!(svg.matches("<circle").count(), 10);
        // The 0.5 s run is an outlier of its row.
        assert_eq!(svg.matches(RED).count(), 1, "{svg}");
    }

    #[test]
    fn histogram_marks_percentiles_inside_their_buckets() {
        let buckets = vec![
            LatencyBucket { le_ms: 1.0, count: 5 },
            LatencyBucket { le_ms: 2.0, count: 50 },
            LatencyBucket { le_ms: 4.0, count: 10 },
        ];
        assert_eq!(bucket_position(&buckets, 2.0), 2.0);
        assert!((bucket_position(&buckets, 2.828) - 2.5).abs() < 0.01);
        assert_eq!(bucket_position(&buckets, 9.0), 3.0);
        let lat = LatencySummary { count: 65, p50_ms: 1.5, p95_ms: 3.0, p99_ms: 3.9, ..Default::default() };
        let svg = latency_histogram(&buckets, &lat, "latency");
        assert_balanced(&svg);
        assert_eq!(svg.matches("<rect").count(), 3);
        assert!(svg.contains("p99 3.90 ms"), "{svg}");
        let empty = latency_histogram(&[], &LatencySummary::default(), "latency");
        assert_balanced(&empty);
        assert!(empty.contains("no responses"));
    }

    #[test]
    fn embedded_plots_become_charts() {
        let svg = embed("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1\"></svg>");
        assert_eq!(svg, "<svg class=\"chart\" role=\"img\" width=\"1\"></svg>");
    }
}
