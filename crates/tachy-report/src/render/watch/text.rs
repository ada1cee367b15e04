//! The terminal output of `tachy watch`: the end summary ([`text()`]), the live view redrawn at
//! each sample ([`live`]) and the line printed when an alert fires or clears ([`event_line`]).

use std::fmt::Write;

use super::{bytes_f, number, rates, value_for};
use crate::render::common::{Paint, bytes, count, secs, sparkline, warnings, without_trailing_blank_lines};
use crate::watch::{
    AlertEvent, AlertState, AlertSummary, Growth, GrowthVerdict, Sample, SeriesStats, WatchEnd, WatchReport,
};

/// Most columns of a live sparkline (the most recent samples).
const LIVE_WIDTH: usize = 40;
/// Most events listed in the end summary (all are in the JSON report).
const MAX_EVENTS: usize = 20;

/// `(key, label)` of the series in display order; other keys follow alphabetically.
const SERIES: [(&str, &str); 10] = [
    ("rss_bytes", "RSS"),
    ("uss_bytes", "USS"),
    ("pss_bytes", "PSS"),
    ("swap_bytes", "swap"),
    ("vms_bytes", "virtual"),
    ("cpu_percent", "CPU"),
    ("threads", "threads"),
    ("fds", "open fds"),
    ("tcp_connections", "TCP sockets"),
    ("processes", "processes"),
];

/// The end summary: the run, min/mean/max/last of every series, the memory growth, the alerts
/// and their events, unavailable fields, tachy's own CPU and notes. `color` adds ANSI colours
/// (red for firing alerts and growth, green for cleared ones).
pub fn text(report: &WatchReport, color: bool) -> String {
    let paint = Paint(color);
    let mut out = String::new();
    header(&mut out, report, paint);
    series(&mut out, report);
    growth(&mut out, report.growth.as_ref(), paint);
    if report.cpu_saturated_share > 0.0 {
        let _ = writeln!(
            out,
            "  CPU saturation: {:.0}% of samples at >= 90% of a core (the GIL caps a Python process near one core)\n",
            report.cpu_saturated_share * 100.0
        );
    }
    alerts(&mut out, &report.alerts, paint);
    events(&mut out, &report.events, paint);
    warnings(&mut out, "  ", "Unavailable", &report.unavailable, paint);
    if !report.unavailable.is_empty() {
        out.push('\n');
    }
    let _ = writeln!(out, "  tachy's own CPU: {:.1}% of one core\n", report.self_cpu_percent);
    warnings(&mut out, "  ", "Notes", &report.notes, paint);
    without_trailing_blank_lines(out)
}

fn header(out: &mut String, report: &WatchReport, paint: Paint) {
    let _ = writeln!(out, "{}", paint.bold(&format!("Watch: pid {} ({})", report.pid, report.command)));
    let samples =
        if report.samples == 1 { "1 sample".to_string() } else { format!("{} samples", count(report.samples)) };
    let tree = if report.children { ", children included" } else { "" };
    let _ = writeln!(
        out,
        "  Run:    {}, {samples} every {}{tree}, from {}",
        secs(report.duration_secs),
        secs(report.interval_secs),
        report.started_at
    );
    let end = match (report.end, report.exit_code) {
        (WatchEnd::Duration, _) => "--duration elapsed".to_string(),
        (WatchEnd::TargetExited, Some(code)) => format!("the process exited with code {code}"),
        (WatchEnd::TargetExited, None) => "the process exited".to_string(),
        (WatchEnd::Interrupted, Some(code)) => format!("interrupted (Ctrl-C); the command exited with code {code}"),
        (WatchEnd::Interrupted, None) => "interrupted (Ctrl-C)".to_string(),
    };
    let _ = writeln!(out, "  End:    {end}\n");
}

/// The label and value formatter of a series key.
fn series_format(key: &str) -> (String, fn(f64) -> String) {
    let label = SERIES.iter().find(|(k, _)| *k == key).map_or_else(|| key.to_string(), |(_, l)| l.to_string());
    let f: fn(f64) -> String = if key.ends_with("_bytes") {
        bytes_f
    } else if key.ends_with("_percent") {
        |v| format!("{v:.1}%")
    } else {
        number
    };
    (label, f)
}

fn series(out: &mut String, report: &WatchReport) {
    if report.series.is_empty() {
        let _ = writeln!(out, "  No figures: no sample was taken.\n");
        return;
    }
    let mut keys: Vec<&str> = SERIES.iter().map(|(k, _)| *k).filter(|k| report.series.contains_key(*k)).collect();
    keys.extend(report.series.keys().map(String::as_str).filter(|k| !SERIES.iter().any(|(s, _)| s == k)));
    let rows: Vec<(String, [String; 4])> = keys
        .iter()
        .map(|k| {
            let (label, f) = series_format(k);
            let SeriesStats { min, mean, max, last } = report.series[*k];
            (label, [f(min), f(mean), f(max), f(last)])
        })
        .collect();
    let w = rows.iter().map(|(l, _)| l.chars().count()).max().unwrap_or(0).max(6);
    let scope = if report.children { "totals over the process tree" } else { "the process" };
    let _ = writeln!(out, "  Figures ({scope}):");
    let _ = writeln!(out, "    {:<w$}  {:>9}  {:>9}  {:>9}  {:>9}", "", "min", "mean", "max", "last");
    for (label, [min, mean, max, last]) in rows {
        let _ = writeln!(out, "    {label:<w$}  {min:>9}  {mean:>9}  {max:>9}  {last:>9}");
    }
    out.push('\n');
}

/// `+36.0 MiB/h [35.1, 36.8] 95%` of a growth estimate.
fn growth_figures(g: &Growth) -> String {
    let (e, lo, hi) = rates(g.bytes_per_hour, g.low_bytes_per_hour, g.high_bytes_per_hour);
    format!("{e} [{lo}, {hi}] {:.0}%", g.level * 100.0)
}

/// The verdict word: `GROWING` (red), `flat` (green), `not enough data` (yellow).
fn verdict_word(g: &Growth, paint: Paint) -> String {
    match g.verdict {
        GrowthVerdict::Growing => paint.red("GROWING"),
        GrowthVerdict::Flat => paint.green("flat"),
        GrowthVerdict::NotEnoughData => paint.yellow("not enough data"),
    }
}

fn growth(out: &mut String, growth: Option<&Growth>, paint: Paint) {
    let Some(g) = growth else {
        let _ =
            writeln!(out, "  Memory growth: {}: too few samples for an estimate\n", paint.yellow("not enough data"));
        return;
    };
    let after = if g.warmup.is_some() { " after warm-up" } else { "" };
    let over = format!("over {}{after} ({}, {} samples)", secs(g.window_secs), g.metric, count(g.samples));
    let _ = writeln!(out, "  Memory growth: {} {over}: {}", growth_figures(g), verdict_word(g, paint));
    if !g.reason.is_empty() {
        let _ = writeln!(out, "    {}", g.reason);
    }
    if let Some(w) = &g.warmup {
        let shifts = if w.shifts == 1 { "1 level shift".to_string() } else { format!("{} level shifts", w.shifts) };
        let _ = writeln!(
            out,
            "    warm-up excluded: {} to {}, {} -> {} ({}{}, {shifts})",
            secs(w.from_secs),
            secs(w.to_secs),
            bytes_f(w.before_bytes),
            bytes_f(w.after_bytes),
            if w.step_bytes >= 0.0 { "+" } else { "" },
            bytes_f(w.step_bytes)
        );
    }
    out.push('\n');
}

fn alerts(out: &mut String, alerts: &[AlertSummary], paint: Paint) {
    if alerts.is_empty() {
        return;
    }
    let fired = alerts.iter().filter(|a| a.fired > 0).count();
    let _ = writeln!(out, "  Alerts ({fired} of {} fired):", alerts.len());
    let header = ["alert", "threshold", "fired", "firing for", "first fired", "worst"].map(String::from);
    let rows: Vec<[String; 6]> = alerts
        .iter()
        .map(|a| {
            [
                a.alert.clone(),
                value_for(a.threshold, &a.unit, &a.alert),
                count(a.fired),
                if a.fired > 0 { secs(a.firing_secs) } else { "-".to_string() },
                a.first_fired_secs.map_or_else(|| "-".to_string(), |t| format!("at {}", secs(t))),
                a.worst.map_or_else(|| "-".to_string(), |v| value_for(v, &a.unit, &a.alert)),
            ]
        })
        .collect();
    let mut w = [0usize; 6];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in w.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |row: &[String; 6]| {
        let mut s = format!("{:<w0$}", row[0], w0 = w[0]);
        for (cell, w) in row.iter().zip(w).skip(1) {
            let _ = write!(s, "  {cell:>w$}");
        }
        s
    };
    let _ = writeln!(out, "    {}  still firing", line(&header));
    for (a, row) in alerts.iter().zip(&rows) {
        let still = if a.firing_at_end { paint.red("yes") } else { "no".to_string() };
        let row = if a.fired > 0 { paint.bold(&line(row)) } else { line(row) };
        let _ = writeln!(out, "    {row}  {still}");
    }
    out.push('\n');
}

/// `HH:MM:SS` of an RFC 3339 time, or the whole string when it is not one.
fn clock(time: &str) -> &str {
    time.get(11..19).filter(|t| t.as_bytes().get(2) == Some(&b':')).unwrap_or(time)
}

/// `rss 162 MiB (threshold 143 MiB)` of an event.
fn measured(e: &AlertEvent) -> String {
    let metric = super::alert_metric(&e.alert);
    let v = |x: f64| value_for(x, &e.unit, &e.alert);
    format!("{metric} {} (threshold {})", v(e.value), v(e.threshold))
}

fn events(out: &mut String, events: &[AlertEvent], paint: Paint) {
    if events.is_empty() {
        return;
    }
    let _ = writeln!(out, "  Events:");
    let w = events.iter().map(|e| e.alert.chars().count()).max().unwrap_or(0);
    for e in events.iter().take(MAX_EVENTS) {
        let state = match e.state {
            AlertState::Firing => paint.red("FIRING "),
            AlertState::Cleared => paint.green("cleared"),
        };
        let _ =
            writeln!(out, "    {:>9}  {}  {state}  {:<w$}  {}", secs(e.t_secs), clock(&e.time), e.alert, measured(e));
    }
    if events.len() > MAX_EVENTS {
        let _ =
            writeln!(out, "    … and {} more (all are in the JSON report)", count((events.len() - MAX_EVENTS) as u64));
    }
    out.push('\n');
}

/// The line printed when an alert fires or clears:
/// `[12:00:03] FIRING rss>150MB: rss 162 MiB (threshold 143 MiB)`.
pub fn event_line(e: &AlertEvent) -> String {
    let state = match e.state {
        AlertState::Firing => "FIRING",
        AlertState::Cleared => "cleared",
    };
    format!("[{}] {state} {}: {}", clock(&e.time), e.alert, measured(e))
}

/// The live view: a few short lines redrawn at each sample, each ending with a newline:
/// the time and processes, RSS and CPU with sparklines over `history` (`(rss bytes, cpu %)` of
/// recent samples, oldest first; the last [`LIVE_WIDTH`] are drawn), the other figures, the
/// growth and the firing alerts.
pub fn live(sample: &Sample, history: &[(f64, f64)], alerts_firing: &[String]) -> String {
    let m = &sample.total;
    let mut out = String::new();
    let root = sample.processes.first().map_or_else(String::new, |p| format!("pid {}", p.pid));
    let others = match sample.processes.len() {
        0 | 1 => String::new(),
        2 => " + 1 child".to_string(),
        n => format!(" + {} children", n - 1),
    };
    let _ = writeln!(out, "{}  {root}{others}", secs(sample.t_secs));
    let recent = &history[history.len().saturating_sub(LIVE_WIDTH)..];
    let rss: Vec<f64> = recent.iter().map(|h| h.0).collect();
    let cpu: Vec<f64> = recent.iter().map(|h| h.1).collect();
    let (lo, hi) = rss.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let rss_now = m.rss_bytes.map_or_else(|| "?".to_string(), bytes);
    if rss.len() >= 2 {
        let _ = writeln!(out, "RSS {rss_now:>9}  {}  {}..{}", sparkline(&rss, lo, hi), bytes_f(lo), bytes_f(hi));
    } else {
        let _ = writeln!(out, "RSS {rss_now:>9}");
    }
    let cpu_now = match (m.cpu_user_percent, m.cpu_system_percent) {
        (None, None) => "?".to_string(),
        (u, s) => format!("{:.1}%", u.unwrap_or(0.0) + s.unwrap_or(0.0)),
    };
    let top = cpu.iter().copied().fold(0.0, f64::max);
    if cpu.len() >= 2 {
        let _ = writeln!(out, "CPU {cpu_now:>9}  {}  max {top:.1}%", sparkline(&cpu, 0.0, top));
    } else {
        let _ = writeln!(out, "CPU {cpu_now:>9}");
    }
    let mut rest = Vec::new();
    for (name, v) in [("USS", m.uss_bytes), ("PSS", m.pss_bytes), ("swap", m.swap_bytes)] {
        if let Some(v) = v {
            rest.push(format!("{name} {}", bytes(v)));
        }
    }
    for (name, v) in [("threads", m.threads), ("fds", m.fds), ("tcp", m.tcp.as_ref().map(|t| t.values().sum()))] {
        if let Some(v) = v {
            rest.push(format!("{name} {}", count(v)));
        }
    }
    if !rest.is_empty() {
        let _ = writeln!(out, "{}", rest.join("  "));
    }
    if let Some(g) = &sample.growth {
        let _ = writeln!(out, "growth {}: {}", growth_figures(g), verdict_word(g, Paint(false)));
    }
    if !alerts_firing.is_empty() {
        let _ = writeln!(out, "FIRING: {}", alerts_firing.join(", "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::watch::fixture;

    #[test]
    fn report_with_alerts_and_growth() {
        insta::assert_snapshot!("report", text(&fixture::report(), false));
    }

    #[test]
    fn events_as_lines() {
        let lines: Vec<String> = fixture::report().events.iter().map(event_line).collect();
        insta::assert_snapshot!("events", lines.join("\n"));
    }

    #[test]
    fn colour_only_when_asked() {
        let report = fixture::report();
        assert!(!text(&report, false).contains('\x1b'));
        let coloured = text(&report, true);
        assert!(coloured.contains("\x1b[1;31mGROWING\x1b[0m"));
        assert!(coloured.contains("\x1b[32mcleared\x1b[0m"));
        assert!(coloured.contains("\x1b[1;31myes\x1b[0m"));
    }

    #[test]
    fn quiet_short_and_interrupted_runs() {
        let mut report = fixture::report();
        report.alerts.clear();
        report.events.clear();
        report.unavailable.clear();
        report.notes.clear();
        report.children = false;
        report.end = WatchEnd::Interrupted;
        report.exit_code = None;
        if let Some(g) = report.growth.as_mut() {
            g.low_bytes_per_hour = -g.bytes_per_hour;
            g.warmup = None;
            *g = g.clone().with_verdict(5e6);
        }
        let out = text(&report, false);
        assert!(out.contains("  End:    interrupted (Ctrl-C)\n"), "{out}");
        assert!(out.contains("Figures (the process):"), "{out}");
        assert!(out.contains("Memory growth: +8.52 GiB/h [-8.52, 8.70] 95% over 25.00 s (rss, 26 samples): not enough data\n    RSS over 25 s after the warm-up resolves only ±"), "{out}");
        assert!(!out.contains("warm-up excluded"), "{out}");
        assert!(!out.contains("Alerts") && !out.contains("Events") && !out.contains("Notes"), "{out}");
        assert!(out.ends_with("of one core\n"), "{out:?}");
        report.growth = None;
        report.series.clear();
        report.end = WatchEnd::Duration;
        let out = text(&report, false);
        assert!(out.contains("not enough data: too few samples") && out.contains("no sample was taken"), "{out}");
        assert!(out.contains("--duration elapsed"), "{out}");
    }

    #[test]
    fn long_event_lists_are_cut() {
        let mut report = fixture::report();
        let e = report.events[0].clone();
        report.events = vec![e; 25];
        let out = text(&report, false);
        assert_eq!(out.matches("FIRING   cpu>90%").count(), MAX_EVENTS, "{out}");
        assert!(out.contains("    … and 5 more (all are in the JSON report)\n"), "{out}");
    }

    #[test]
    fn clock_of_rfc3339() {
        assert_eq!(clock("2026-01-01T12:00:03.120Z"), "12:00:03");
        assert_eq!(clock("soon"), "soon");
    }

    #[test]
    fn live_view() {
        let s = fixture::sample(12.0);
        let mib = 1024.0 * 1024.0;
        let history: Vec<(f64, f64)> = (0..50).map(|i| ((100.0 + i as f64) * mib, (i % 8) as f64 * 10.0)).collect();
        let out = live(&s, &history, &["rss>150MB".to_string()]);
        assert_eq!(
            out,
            "12.00 s  pid 4242 + 1 child\n\
             RSS   182 MiB  ▁▁▁▂▂▂▂▂▂▃▃▃▃▃▄▄▄▄▄▄▅▅▅▅▅▅▆▆▆▆▆▇▇▇▇▇▇███  110 MiB..149 MiB\n\
             CPU     44.8%  ▃▄▅▆▇█▁▂▃▄▅▆▇█▁▂▃▄▅▆▇█▁▂▃▄▅▆▇█▁▂▃▄▅▆▇█▁▂  max 70.0%\n\
             PSS 155 MiB  swap 0 B  threads 13  fds 40  tcp 7\n\
             growth +36.0 MiB/h [35.1, 36.8] 95%: GROWING\n\
             FIRING: rss>150MB\n"
        );
        assert!(out.lines().all(|l| l.chars().count() <= 80), "{out}");
        let first = live(&s, &history[..1], &[]);
        assert_eq!(first.lines().nth(1), Some("RSS   182 MiB"));
        assert!(!first.contains("FIRING"));
    }
}
