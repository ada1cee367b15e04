//! The terminal summary of a load test (counts, latency table and histogram, errors,
//! per-request table, timeline sparklines, schedule, generator check, server profile, SLOs)
//! and the one-line live view.

use std::fmt::Write;

use crate::format;
use crate::load::{ErrorClass, LoadEnd, LoadModel, LoadReport, LoadStats, SloResult, TimelinePoint};
use crate::render::common::{Paint, count, plural, sparkline, warnings, without_trailing_blank_lines};

/// Width of the longest latency histogram bar, in characters.
const BAR_WIDTH: usize = 40;
/// Most columns of a timeline sparkline; longer runs put several seconds in a column.
const SPARK_WIDTH: usize = 60;
/// Partial bar blocks, one to seven eighths.
const EIGHTHS: [char; 7] = ['▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/// Renders a load report for the terminal. `color` adds ANSI colours: green for what passed,
/// red for failures and errors, yellow for warnings.
pub fn text(report: &LoadReport, color: bool) -> String {
    let paint = Paint(color);
    let mut out = String::new();
    let _ = writeln!(out, "{}", paint.bold(&header(report)));
    if report.end == LoadEnd::Interrupted {
        let _ = writeln!(out, "{}", paint.yellow("Interrupted: figures cover the run until Ctrl-C."));
    }
    out.push('\n');
    counts(&mut out, report, paint);
    latency_table(&mut out, &report.totals);
    histogram(&mut out, &report.totals);
    statuses(&mut out, &report.totals, paint);
    endpoints(&mut out, report, paint);
    timeline(&mut out, report);
    schedule(&mut out, report, paint);
    generator(&mut out, report, paint);
    server_profile(&mut out, report, paint);
    slos(&mut out, &report.slos, paint);
    warnings(&mut out, "", "Notes", &report.notes, paint);
    without_trailing_blank_lines(out)
}

/// One short line for the live view on a TTY, e.g.
/// `12.0s  54,321 req  5,432 req/s  p99 3.20 ms  0 errors`.
pub fn live_line(elapsed_secs: f64, requests: u64, rps: f64, p99_ms: f64, errors: u64) -> String {
    let noun = if errors == 1 { "error" } else { "errors" };
    format!(
        "{elapsed_secs:.1}s  {} req  {} req/s  p99 {}  {} {noun}",
        count(requests),
        rate(rps),
        latency(p99_ms),
        count(errors)
    )
}

/// `Load test: GET http://... (closed model, 50 connections, 2 threads, 10s)`.
fn header(report: &LoadReport) -> String {
    let run = &report.run;
    let target = match (&run.scenario, report.endpoints.as_slice()) {
        (Some(s), _) => format!("scenario {s} on {}", run.url),
        (None, [one]) => format!("{} {}", one.method, run.url),
        (None, _) => run.url.clone(),
    };
    let mut parts = vec![match (run.model, run.rate) {
        (LoadModel::Open, Some(r)) => format!("open model at {} req/s", rate(r)),
        (LoadModel::Open, None) => "open model".to_string(),
        (LoadModel::Closed, _) => "closed model".to_string(),
    }];
    parts.push(plural(run.connections, "connection"));
    if run.streams > 1 {
        parts.push(format!("{} streams each", run.streams));
    }
    parts.push(plural(run.threads, "thread"));
    match (run.requests, run.duration_secs) {
        (Some(n), Some(d)) => parts.push(format!("{} requests or {}", count(n), secs(d))),
        (Some(n), None) => parts.push(format!("{} requests", count(n))),
        (None, Some(d)) => parts.push(secs(d)),
        (None, None) => {}
    }
    if run.http_version != "1.1" {
        parts.push(format!("HTTP/{}", run.http_version));
    }
    if !run.keepalive {
        parts.push("no keep-alive".to_string());
    }
    if report.parts > 1 {
        parts.push(format!("merged from {} runs", report.parts));
    }
    format!("Load test: {target} ({})", parts.join(", "))
}

fn counts(out: &mut String, report: &LoadReport, paint: Paint) {
    let t = &report.totals;
    let _ = writeln!(
        out,
        "  Requests:   {} in {:.2} s, {} req/s, {}/s received ({})",
        count(t.requests),
        report.elapsed_secs,
        rate(t.rps),
        format::bytes(t.bytes_per_sec.round() as u64),
        format::bytes(t.bytes_received)
    );
    let ok_share = if t.requests > 0 { t.ok as f64 / t.requests as f64 } else { 0.0 };
    let errors = format!("{} errors ({})", count(t.errors), pct(t.error_rate));
    let errors = if t.errors > 0 { paint.red(&errors) } else { errors };
    let timeouts = format!("timeouts {}", pct(t.timeout_rate));
    let timeouts = if t.timeout_rate > 0.0 { paint.red(&timeouts) } else { timeouts };
    let _ = writeln!(out, "  Outcome:    {} ok ({}), {errors}, {timeouts}", count(t.ok), pct(ok_share));
    // The error rate is of the requests that ended; in the open model the planned requests
    // never sent are a failure too, shown beside it.
    if let Some(s) = &report.schedule
        && s.dropped > 0
    {
        let line = format!(
            "{} of {} planned requests dropped ({}), not sent because the server had not answered in time",
            count(s.dropped),
            count(s.scheduled),
            pct(s.dropped_share())
        );
        let _ = writeln!(out, "  Dropped:    {}", paint.red(&line));
    }
    out.push('\n');
}

fn latency_table(out: &mut String, t: &LoadStats) {
    let l = &t.latency;
    if l.count == 0 {
        let _ = writeln!(out, "  Latency:    no responses\n");
        return;
    }
    let heads = ["min", "mean", "p50", "p90", "p95", "p99", "p99.9", "max"];
    let values = [l.min_ms, l.mean_ms, l.p50_ms, l.p90_ms, l.p95_ms, l.p99_ms, l.p99_9_ms, l.max_ms];
    let _ = write!(out, "  Latency   ");
    for h in heads {
        let _ = write!(out, "{h:>10}");
    }
    let _ = write!(out, "\n            ");
    for v in values {
        let _ = write!(out, "{:>10}", latency(v));
    }
    let _ = writeln!(out, "\n            {} responses, stdev {}\n", count(l.count), latency(l.stdev_ms));
}

fn histogram(out: &mut String, t: &LoadStats) {
    let buckets = &t.histogram;
    let (Some(first), Some(last)) =
        (buckets.iter().position(|b| b.count > 0), buckets.iter().rposition(|b| b.count > 0))
    else {
        return;
    };
    let shown = &buckets[first..=last];
    let max = shown.iter().map(|b| b.count).max().unwrap_or(1).max(1);
    let labels: Vec<String> = shown.iter().map(|b| format!("≤ {}", latency(b.le_ms))).collect();
    let label_width = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let counts: Vec<String> = shown.iter().map(|b| count(b.count)).collect();
    let count_width = counts.iter().map(String::len).max().unwrap_or(0);
    let _ = writeln!(out, "  Latency histogram:");
    for ((b, label), n) in shown.iter().zip(&labels).zip(&counts) {
        let line = format!("    {label:>label_width$}  {n:>count_width$}  {}", bar(b.count, max));
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out.push('\n');
}

/// A bar of `n / max` of [`BAR_WIDTH`], in eighths of a character; never empty for `n > 0`.
fn bar(n: u64, max: u64) -> String {
    if n == 0 {
        return String::new();
    }
    let eighths = ((n as f64 / max as f64) * (BAR_WIDTH * 8) as f64).round().max(1.0) as usize;
    let mut s = "█".repeat(eighths / 8);
    let rest = eighths % 8;
    if rest > 0 {
        s.push(EIGHTHS[rest - 1]);
    }
    s
}

fn statuses(out: &mut String, t: &LoadStats, paint: Paint) {
    if !t.status_counts.is_empty() {
        let list: Vec<String> = t.status_counts.iter().map(|(s, n)| format!("{s} × {}", count(*n))).collect();
        let _ = writeln!(out, "  Status codes:  {}", list.join(", "));
    }
    let errors: Vec<(ErrorClass, u64)> =
        ErrorClass::ALL.iter().filter_map(|c| t.error_counts.get(c).filter(|n| **n > 0).map(|n| (*c, *n))).collect();
    if !errors.is_empty() {
        let _ = writeln!(out, "  Errors:");
        let name_width = errors.iter().map(|(c, _)| c.as_str().len()).max().unwrap_or(0);
        let counts: Vec<String> = errors.iter().map(|(_, n)| count(*n)).collect();
        let count_width = counts.iter().map(String::len).max().unwrap_or(0);
        for ((class, n), shown) in errors.iter().zip(&counts) {
            let share = if t.requests > 0 { *n as f64 / t.requests as f64 } else { 0.0 };
            let line = format!(
                "{:<name_width$}  {shown:>count_width$}  {:>6}  {}",
                class.as_str(),
                pct(share),
                class.describe()
            );
            let _ = writeln!(out, "    {}", paint.red(&line));
        }
    }
    if !t.status_counts.is_empty() || !errors.is_empty() {
        out.push('\n');
    }
}

fn endpoints(out: &mut String, report: &LoadReport, paint: Paint) {
    if report.endpoints.len() < 2 {
        return;
    }
    let name_width = report.endpoints.iter().map(|e| e.name.chars().count()).max().unwrap_or(0).max(4);
    let _ = writeln!(
        out,
        "  Per request:\n    {:<name_width$}  {:>6}  {:>9}  {:>8}  {:>9}  {:>9}  {:>9}  {:>7}  request",
        "name", "weight", "requests", "req/s", "p50", "p95", "p99", "errors"
    );
    for e in &report.endpoints {
        let s = &e.stats;
        let errors = format!("{:>7}", pct(s.error_rate));
        let errors = if s.errors > 0 { paint.red(&errors) } else { errors };
        let _ = writeln!(
            out,
            "    {:<name_width$}  {:>6}  {:>9}  {:>8}  {:>9}  {:>9}  {:>9}  {errors}  {} {}",
            e.name,
            e.weight,
            count(s.requests),
            rate(s.rps),
            latency(s.latency.p50_ms),
            latency(s.latency.p95_ms),
            latency(s.latency.p99_ms),
            e.method,
            e.path
        );
    }
    out.push('\n');
}

fn timeline(out: &mut String, report: &LoadReport) {
    let points = &report.timeline;
    if points.len() < 2 {
        return;
    }
    let per_column = points.len().div_ceil(SPARK_WIDTH);
    let columns: Vec<&[TimelinePoint]> = points.chunks(per_column).collect();
    let what = if per_column == 1 { "1 s per column".to_string() } else { format!("{per_column} s per column") };
    let _ = writeln!(out, "  Timeline ({} s, {what}):", points.len());
    let mean = |f: fn(&TimelinePoint) -> f64| -> Vec<f64> {
        columns.iter().map(|c| c.iter().map(f).sum::<f64>() / c.len() as f64).collect()
    };
    let max_of = |f: fn(&TimelinePoint) -> f64| -> Vec<f64> {
        columns.iter().map(|c| c.iter().map(f).fold(0.0, f64::max)).collect()
    };
    let rps = mean(|p| p.requests as f64);
    let targets: Vec<f64> = points.iter().filter_map(|p| p.target_rate).collect();
    let ramped = targets.iter().any(|t| *t != targets[0]);
    let top = if ramped { rps.iter().chain(&targets).fold(0.0_f64, |a, b| a.max(*b)) } else { max(&rps) };
    let (lo, hi) = (points.iter().map(|p| p.requests).min(), points.iter().map(|p| p.requests).max());
    let _ = writeln!(
        out,
        "    req/s   {}  min {}, max {}",
        sparkline(&rps, 0.0, top),
        count(lo.unwrap_or(0)),
        count(hi.unwrap_or(0))
    );
    if ramped {
        let t = mean(|p| p.target_rate.unwrap_or(0.0));
        let _ = writeln!(out, "    target  {}  up to {}", sparkline(&t, 0.0, top), rate(max(&targets)));
    }
    let p99 = max_of(|p| p.p99_ms);
    let _ = writeln!(out, "    p99     {}  max {}", sparkline(&p99, 0.0, max(&p99)), latency(max(&p99)));
    if points.iter().any(|p| p.errors > 0) {
        let e = mean(|p| p.errors as f64);
        let total = points.iter().fold(0u64, |sum, p| sum.saturating_add(p.errors));
        let _ = writeln!(out, "    errors  {}  {} in all", sparkline(&e, 0.0, max(&e)), count(total));
    }
    if report.run.model == LoadModel::Closed && points.iter().any(|p| p.connections != points[0].connections) {
        let c = mean(|p| p.connections as f64);
        let _ = writeln!(out, "    conns   {}  max {}", sparkline(&c, 0.0, max(&c)), count(max(&c) as u64));
    }
    out.push('\n');
}

fn max(values: &[f64]) -> f64 {
    values.iter().copied().fold(0.0, f64::max)
}

fn schedule(out: &mut String, report: &LoadReport, paint: Paint) {
    let Some(s) = &report.schedule else { return };
    let _ = writeln!(
        out,
        "  Schedule:   target {} req/s, achieved {} req/s ({} of {} planned requests sent)",
        rate(s.target_rate),
        rate(s.achieved_rate),
        count(s.sent),
        count(s.scheduled)
    );
    let mut detail = format!(
        "{} late (> {}), {} dropped, max lateness {}",
        count(s.late),
        latency(s.late_threshold_ms),
        count(s.dropped),
        latency(s.max_lateness_ms)
    );
    if s.dropped > 0 {
        let _ = write!(detail, ", oldest dropped request waited {}", latency(s.max_dropped_wait_ms));
    }
    let detail = if s.late > 0 || s.dropped > 0 { paint.yellow(&detail) } else { detail };
    let _ = writeln!(out, "              {detail}\n");
}

fn generator(out: &mut String, report: &LoadReport, paint: Paint) {
    let g = &report.generator;
    let _ = writeln!(
        out,
        "  Generator:  CPU {:.0}% of a core ({}), busy {:.0}%, event-loop lag p99 {}",
        g.cpu_percent,
        plural(g.cores, "core"),
        g.busy_share * 100.0,
        latency(g.lag_p99_ms)
    );
    if g.saturated {
        let reason = g.reason.as_deref().unwrap_or("no reason recorded");
        let line = format!(
            "INVALID RUN: the load generator was saturated ({reason}); latencies describe tachy, not the \
             server. Use fewer connections, a lower rate, or run tachy on another machine."
        );
        let _ = writeln!(out, "  {}", paint.red(&line));
    }
    out.push('\n');
}

fn server_profile(out: &mut String, report: &LoadReport, paint: Paint) {
    let Some(p) = &report.server_profile else { return };
    let _ = writeln!(
        out,
        "  Server profile: pid {}, {} samples ({}), saved to {}",
        p.pid,
        count(p.samples),
        p.view.describe(),
        p.path
    );
    if !p.top.is_empty() {
        let _ = writeln!(out, "    {:>6}  {:>6}  function", "self", "total");
        for f in &p.top {
            let _ = writeln!(
                out,
                "    {:>6}  {:>6}  {}  {}",
                format::percent(f.self_share),
                format::percent(f.total_share),
                f.function,
                f.location
            );
        }
    }
    for n in &p.notes {
        let _ = writeln!(out, "    {}", paint.yellow(&format!("note: {n}")));
    }
    out.push('\n');
}

fn slos(out: &mut String, slos: &[SloResult], paint: Paint) {
    if slos.is_empty() {
        return;
    }
    let expr_width = slos.iter().map(|s| s.expr.chars().count()).max().unwrap_or(0).max(4);
    let scopes: Vec<&str> = slos.iter().map(|s| s.scope.as_deref().unwrap_or("(all)")).collect();
    let scope_width = scopes.iter().map(|s| s.chars().count()).max().unwrap_or(0).max(5);
    let _ = writeln!(out, "  SLOs:");
    let _ = writeln!(
        out,
        "    {:<expr_width$}  {:<scope_width$}  {:>12}  {:>12}  verdict",
        "expr", "scope", "measured", "limit"
    );
    for (s, scope) in slos.iter().zip(&scopes) {
        let verdict = if s.passed { paint.green("PASS") } else { paint.red("FAIL") };
        let _ = writeln!(
            out,
            "    {:<expr_width$}  {scope:<scope_width$}  {:>12}  {:>12}  {verdict}",
            s.expr,
            slo_value(s.measured, &s.unit),
            slo_value(s.limit, &s.unit)
        );
    }
    if slos.iter().any(|s| s.implicit) {
        let _ = writeln!(
            out,
            "    {}",
            paint.dim("dropped<=0 is the open model's default; allow some with --slo 'dropped<=N' or 'dropped<1%'")
        );
    }
    let failed = slos.iter().filter(|s| !s.passed).count();
    let summary = if failed == 0 {
        paint.green(&format!("all {} passed", plural(slos.len() as u64, "SLO")))
    } else {
        paint.red(&format!("{failed} of {} failed", plural(slos.len() as u64, "SLO")))
    };
    let _ = writeln!(out, "    {summary}\n");
}

/// An SLO figure in its unit: `812 µs`, `1.38%`, `1,136 req/s`.
fn slo_value(v: f64, unit: &str) -> String {
    match unit {
        "ms" => latency(v),
        "%" => format!("{}%", trim(v, 2)),
        "req/s" => format!("{} req/s", rate(v)),
        other => format!("{} {other}", trim(v, 2)),
    }
}

/// `v` with at most `digits` decimals and no trailing zeros.
fn trim(v: f64, digits: usize) -> String {
    let s = format!("{v:.digits$}");
    if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s }
}

/// A latency given in ms, with three significant digits in a unit suited to its size:
/// `812 µs`, `10.4 ms`, `1.20 s`.
fn latency(ms: f64) -> String {
    if !ms.is_finite() {
        return format!("{ms} ms");
    }
    if ms == 0.0 {
        return "0 ms".to_string();
    }
    let rounded = round_significant(ms.abs(), 3);
    let (value, unit) = if rounded >= 1000.0 {
        (ms / 1000.0, "s")
    } else if rounded >= 1.0 {
        (ms, "ms")
    } else {
        (ms * 1000.0, "µs")
    };
    let digits = match round_significant(value.abs(), 3) {
        v if v >= 100.0 => 0,
        v if v >= 10.0 => 1,
        _ => 2,
    };
    format!("{value:.digits$} {unit}")
}

fn round_significant(v: f64, digits: i32) -> f64 {
    if v == 0.0 {
        return 0.0;
    }
    let scale = 10f64.powi(digits - 1 - v.abs().log10().floor() as i32);
    (v * scale).round() / scale
}

/// A rate: `5,432` from a thousand up, `498.7` below.
fn rate(r: f64) -> String {
    if r >= 1000.0 { count(r.round() as u64) } else { format!("{r:.1}") }
}

/// A fraction as a percentage with two decimals (`0.04%`), `<0.01%` for tiny non-zero shares.
fn pct(fraction: f64) -> String {
    if fraction > 0.0 && fraction < 0.0001 { "<0.01%".to_string() } else { format!("{:.2}%", fraction * 100.0) }
}

/// A requested duration: `10s`, `7.5s`, `2m`.
fn secs(s: f64) -> String {
    if s >= 60.0 && s % 60.0 == 0.0 { format!("{}m", s / 60.0) } else { format!("{}s", trim(s, 2)) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::common::SPARKS;
    use crate::render::load::fixture;

    #[test]
    fn closed_model_single_url() {
        insta::assert_snapshot!("closed", text(&fixture::closed(), false));
    }

    #[test]
    fn scenario_with_errors_and_failing_slos() {
        insta::assert_snapshot!("scenario", text(&fixture::scenario(), false));
    }

    #[test]
    fn open_model_with_schedule() {
        insta::assert_snapshot!("open", text(&fixture::open(), false));
    }

    #[test]
    fn saturated_generator() {
        let out = text(&fixture::saturated(), false);
        assert!(out.contains("INVALID RUN: the load generator was saturated (CPU 197% of 2 cores"));
        insta::assert_snapshot!("saturated", out);
    }

    #[test]
    fn interrupted_merged_with_server_profile() {
        let out = text(&fixture::interrupted_merged(), false);
        assert!(out.lines().nth(1).unwrap().starts_with("Interrupted"));
        assert!(out.lines().next().unwrap().contains("merged from 4 runs"));
        insta::assert_snapshot!("interrupted_merged", out);
    }

    #[test]
    fn color_only_when_asked() {
        for report in [fixture::closed(), fixture::scenario(), fixture::saturated()] {
            assert!(!text(&report, false).contains('\x1b'));
        }
        let coloured = text(&fixture::scenario(), true);
        assert!(coloured.contains("\x1b[32mPASS\x1b[0m"));
        assert!(coloured.contains("\x1b[1;31mFAIL\x1b[0m"));
        assert!(text(&fixture::saturated(), true).contains("\x1b[1;31mINVALID RUN"));
    }

    #[test]
    fn live_line_is_short() {
        assert_eq!(live_line(12.0, 54_321, 5_432.1, 3.2, 0), "12.0s  54,321 req  5,432 req/s  p99 3.20 ms  0 errors");
        assert_eq!(live_line(0.5, 7, 14.0, 0.8123, 1), "0.5s  7 req  14.0 req/s  p99 812 µs  1 error");
    }

    #[test]
    fn latencies_keep_three_significant_digits() {
        assert_eq!(latency(0.8123), "812 µs");
        assert_eq!(latency(10.43), "10.4 ms");
        assert_eq!(latency(1204.0), "1.20 s");
        assert_eq!(latency(0.9996), "1.00 ms");
        assert_eq!(latency(999.7), "1.00 s");
        assert_eq!(latency(0.0), "0 ms");
        assert_eq!(latency(0.0123), "12.3 µs");
        assert_eq!(latency(61_000.0), "61.0 s");
    }

    #[test]
    fn rates_shares_and_durations() {
        assert_eq!(rate(498.71), "498.7");
        assert_eq!(rate(5_432.6), "5,433");
        assert_eq!(pct(0.013_75), "1.38%");
        assert_eq!(pct(0.000_01), "<0.01%");
        assert_eq!(secs(10.0), "10s");
        assert_eq!(secs(0.5), "0.5s");
        assert_eq!(secs(120.0), "2m");
    }

    #[test]
    fn long_timelines_are_folded_into_sixty_columns() {
        let mut report = fixture::closed();
        let point = report.timeline[1].clone();
        report.timeline = (0..600).map(|s| TimelinePoint { second: s, ..point.clone() }).collect();
        let out = text(&report, false);
        assert!(out.contains("Timeline (600 s, 10 s per column):"));
        let line = out.lines().find(|l| l.trim_start().starts_with("req/s")).unwrap();
        assert_eq!(line.chars().filter(|c| SPARKS.contains(c)).count(), 60);
    }

    #[test]
    fn ramps_show_connections() {
        let mut report = fixture::closed();
        for (i, p) in report.timeline.iter_mut().enumerate() {
            p.connections = 5 * (i as u64 + 1);
        }
        let out = text(&report, false);
        let line = out.lines().find(|l| l.trim_start().starts_with("conns")).expect("a connections sparkline");
        assert!(line.ends_with("█  max 50"), "{line}");
        assert!(!text(&fixture::closed(), false).contains("conns"));
    }

    #[test]
    fn an_empty_run_renders() {
        let mut report = fixture::closed();
        report.totals = LoadStats::default();
        report.endpoints.clear();
        report.timeline.clear();
        let out = text(&report, false);
        assert!(out.contains("Latency:    no responses"), "{out}");
        assert!(out.contains("0 ok (0.00%), 0 errors (0.00%)"), "{out}");
        assert!(!out.contains("histogram"));
    }

    #[test]
    fn bars_scale_in_eighths() {
        assert_eq!(bar(0, 10), "");
        assert_eq!(bar(10, 10).chars().count(), BAR_WIDTH);
        assert_eq!(bar(1, 1_000_000), "▏");
        assert_eq!(bar(1, 16), "██▌");
    }
}
