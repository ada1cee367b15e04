//! Renderers of `tachy watch`: the end report ([`WatchReport`]) for people and machines, the
//! live view and alert lines printed while watching, the per-sample timeline as CSV or JSON
//! lines, and an SVG plot.
//!
//! | format     | function                       | used by |
//! |------------|--------------------------------|---------|
//! | text       | [`text()`]                     | the end summary on the terminal |
//! | live       | [`live`]                       | the live view on a TTY (a few lines, redrawn each sample) |
//! | alert line | [`event_line`]                 | one line per alert firing or clearing |
//! | CSV        | [`csv_header`], [`csv_row`]    | `--csv`: one row per sample (tree totals) |
//! | JSON lines | [`jsonl_row`]                  | `--jsonl`: one [`Sample`](crate::watch::Sample) per line |
//! | plot       | [`plot()`]                     | `--plot`: RSS and CPU over time with alert thresholds (SVG) |
//! | JSON       | [`json`]                       | `--json` (schema `tachy-watch/1`, `docs/watch-format.md`) |

mod csv;
mod plot;
mod text;

pub use self::csv::{csv_header, csv_row, jsonl_row};
pub use self::plot::plot;
pub use self::text::{event_line, live, text};

use super::RenderError;
use crate::render::common::{bytes, count};
use crate::watch::WatchReport;

/// Renders a watch report as pretty-printed JSON with a trailing newline.
pub fn json(report: &WatchReport) -> Result<String, RenderError> {
    let mut s = serde_json::to_string_pretty(report)?;
    s.push('\n');
    Ok(s)
}

/// A byte figure that may be fractional or negative: `162 MiB`, `-1.20 KiB`.
pub(crate) fn bytes_f(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v} B");
    }
    let b = bytes(v.abs().round() as u64);
    if v < 0.0 && b != "0 B" { format!("-{b}") } else { b }
}

/// A value of the alert `expr`: a size in the unit family its threshold was written in
/// (`rss>60MB`: `60.0 MB`, `rss>60MiB`: `60.0 MiB`), anything else as [`value`].
pub(crate) fn value_for(v: f64, unit: &str, expr: &str) -> String {
    match (unit, crate::units::SizeUnits::of_written(expr)) {
        ("bytes", Some(f)) if v.is_finite() => crate::format::size(v, f),
        ("bytes/h", Some(f)) if v.is_finite() => format!("{}/h", crate::format::size(v, f)),
        _ => value(v, unit),
    }
}

/// A value in an alert's unit (`bytes`, `bytes/h`, `%`, `count`): `143 MiB`, `4.77 MiB/h`,
/// `90.0%`, `1,000`.
pub(crate) fn value(v: f64, unit: &str) -> String {
    match unit {
        "bytes" => bytes_f(v),
        "bytes/h" => format!("{}/h", bytes_f(v)),
        "%" => format!("{v:.1}%"),
        "count" => number(v),
        other => format!("{v} {other}"),
    }
}

/// A count, with one decimal when it is not whole (means): `1,000`, `5.3`.
fn number(v: f64) -> String {
    if v.fract() == 0.0 && (0.0..1e18).contains(&v) { count(v as u64) } else { format!("{v:.1}") }
}

/// Growth figures sharing one binary unit, three significant digits on the largest, the first
/// signed: `+36.0 MiB/h`, `[35.1, 36.8]`.
fn rates(estimate: f64, low: f64, high: f64) -> (String, String, String) {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let top = [estimate, low, high].iter().map(|v| v.abs()).filter(|v| v.is_finite()).fold(0.0, f64::max);
    let mut i = 0;
    let mut scaled = top;
    while scaled.round() >= 1024.0 && i < UNITS.len() - 1 {
        scaled /= 1024.0;
        i += 1;
    }
    let div = 1024f64.powi(i as i32);
    let digits = if i == 0 || scaled >= 99.95 {
        0
    } else if scaled >= 9.995 {
        1
    } else {
        2
    };
    let f = |v: f64| {
        let s = format!("{:.digits$}", v / div);
        // No "-0.00": a value that rounds to zero has no sign.
        if s.trim_start_matches('-').chars().all(|c| c == '0' || c == '.') {
            s.trim_start_matches('-').to_string()
        } else {
            s
        }
    };
    let e = f(estimate);
    let signed = if e.starts_with('-') || e.chars().all(|c| c == '0' || c == '.') { e } else { format!("+{e}") };
    (format!("{signed} {}/h", UNITS[i]), f(low), f(high))
}

/// The metric of an alert expression: the name before the operator (`rss` of `rss>150MB`).
fn alert_metric(expr: &str) -> String {
    expr.split(['<', '>']).next().unwrap_or("").trim().to_ascii_lowercase()
}

/// A deterministic watch report for the renderers' tests.
#[cfg(test)]
pub(crate) mod fixture {
    use std::collections::BTreeMap;

    use crate::watch::*;

    const MIB: u64 = 1024 * 1024;

    fn event(alert: &str, state: AlertState, t: u64, value: f64, threshold: f64, unit: &str) -> AlertEvent {
        AlertEvent {
            alert: alert.into(),
            state,
            t_secs: t as f64,
            time: format!("2026-01-01T12:00:{t:02}.000Z"),
            value,
            threshold,
            unit: unit.into(),
        }
    }

    fn stats(min: f64, mean: f64, max: f64, last: f64) -> SeriesStats {
        SeriesStats { min, mean, max, last }
    }

    /// A sample at `t` seconds with the whole tree's figures (two processes).
    pub fn sample(t: f64) -> Sample {
        let root = Metrics {
            cpu_user_percent: Some(41.25),
            cpu_system_percent: Some(3.5),
            cpu_seconds_total: Some(12.5),
            rss_bytes: Some(162 * MIB),
            uss_bytes: Some(150 * MIB),
            pss_bytes: Some(155 * MIB),
            swap_bytes: Some(0),
            vms_bytes: Some(1200 * MIB),
            threads: Some(12),
            fds: Some(40),
            tcp: Some(BTreeMap::from([("close_wait".into(), 2), ("established".into(), 5)])),
            read_bytes: Some(4096),
            write_bytes: Some(MIB),
            ctx_switches_voluntary: Some(1500),
            ctx_switches_involuntary: Some(30),
            minor_faults: Some(52_000),
            major_faults: Some(3),
        };
        let child = Metrics { rss_bytes: Some(20 * MIB), threads: Some(1), ..Metrics::default() };
        Sample {
            t_secs: t,
            time: "2026-01-01T12:00:12.000Z".into(),
            processes: vec![
                ProcessSample { pid: 4242, ppid: 1, command: "python3 app.py".into(), metrics: root.clone() },
                ProcessSample { pid: 4250, ppid: 4242, command: "python3 -c work".into(), metrics: child },
            ],
            total: Metrics { rss_bytes: Some(182 * MIB), threads: Some(13), uss_bytes: None, ..root },
            growth: Some(Growth {
                metric: "rss".into(),
                bytes_per_hour: 36.0 * MIB as f64,
                low_bytes_per_hour: 35.1 * MIB as f64,
                high_bytes_per_hour: 36.8 * MIB as f64,
                level: 0.95,
                samples: 12,
                window_secs: 11.0,
                growing: true,
                verdict: GrowthVerdict::Growing,
                ..Growth::default()
            }),
        }
    }

    /// A 30 s watch of a tree that grows: RSS and CPU alerts fired and cleared, the growth
    /// alert still firing at the end, one alert that never fired.
    pub fn report() -> WatchReport {
        let rss = |mib: f64| mib * MIB as f64;
        WatchReport {
            schema: WATCH_SCHEMA.into(),
            tachy_version: "0.0.0-test".into(),
            pid: 4242,
            command: "python3 app.py --workers 2".into(),
            children: true,
            interval_secs: 1.0,
            started_at: "2026-01-01T12:00:00.000Z".into(),
            duration_secs: 30.0,
            samples: 30,
            end: WatchEnd::TargetExited,
            exit_code: Some(0),
            series: BTreeMap::from([
                ("rss_bytes".into(), stats(rss(100.0), rss(138.4), rss(171.0), rss(171.0))),
                ("uss_bytes".into(), stats(rss(90.0), rss(125.25), rss(160.0), rss(160.0))),
                ("pss_bytes".into(), stats(rss(95.0), rss(131.0), rss(165.0), rss(165.0))),
                ("swap_bytes".into(), stats(0.0, 0.0, 0.0, 0.0)),
                ("cpu_percent".into(), stats(0.0, 42.3, 97.0, 12.0)),
                ("threads".into(), stats(4.0, 5.2, 8.0, 6.0)),
                ("fds".into(), stats(12.0, 30.5, 48.0, 40.0)),
                ("tcp_connections".into(), stats(0.0, 3.1, 7.0, 5.0)),
                ("processes".into(), stats(1.0, 1.9, 3.0, 2.0)),
            ]),
            growth: Some(Growth {
                metric: "rss".into(),
                bytes_per_hour: 8.52 * MIB as f64 * 1024.0,
                low_bytes_per_hour: 8.31 * MIB as f64 * 1024.0,
                high_bytes_per_hour: 8.7 * MIB as f64 * 1024.0,
                level: 0.95,
                samples: 26,
                window_secs: 25.0,
                growing: true,
                verdict: GrowthVerdict::Growing,
                reason: "the 95% interval [8.92 GB/h, 9.34 GB/h] lies above the 5 MB/h threshold, in both halves of the span"
                    .into(),
                threshold_bytes_per_hour: 5e6,
                resolution_bytes_per_hour: 0.2e9,
                sustained_bytes_per_hour: Some(8.4 * MIB as f64 * 1024.0),
                from_secs: 4.0,
                warmup: Some(Warmup {
                    from_secs: 0.0,
                    to_secs: 4.0,
                    before_bytes: rss(60.0),
                    after_bytes: rss(100.0),
                    step_bytes: rss(40.0),
                    shifts: 1,
                }),
                insufficient: None,
            }),
            alerts: vec![
                AlertSummary {
                    alert: "cpu>90%".into(),
                    fired: 1,
                    firing_secs: 2.0,
                    first_fired_secs: Some(5.0),
                    worst: Some(97.0),
                    threshold: 90.0,
                    unit: "%".into(),
                    firing_at_end: false,
                },
                AlertSummary {
                    alert: "rss>150MB".into(),
                    fired: 2,
                    firing_secs: 9.0,
                    first_fired_secs: Some(12.0),
                    worst: Some(rss(171.0)),
                    threshold: 150e6,
                    unit: "bytes".into(),
                    firing_at_end: true,
                },
                AlertSummary {
                    alert: "growth>5MB/h".into(),
                    fired: 1,
                    firing_secs: 15.0,
                    first_fired_secs: Some(15.0),
                    worst: Some(rss(8.9 * 1024.0)),
                    threshold: 5e6,
                    unit: "bytes/h".into(),
                    firing_at_end: true,
                },
                AlertSummary {
                    alert: "fds>1000".into(),
                    fired: 0,
                    firing_secs: 0.0,
                    first_fired_secs: None,
                    worst: Some(48.0),
                    threshold: 1000.0,
                    unit: "count".into(),
                    firing_at_end: false,
                },
            ],
            events: vec![
                event("cpu>90%", AlertState::Firing, 5, 97.0, 90.0, "%"),
                event("cpu>90%", AlertState::Cleared, 7, 12.5, 90.0, "%"),
                event("rss>150MB", AlertState::Firing, 12, rss(162.0), 150e6, "bytes"),
                event("growth>5MB/h", AlertState::Firing, 15, rss(8.1 * 1024.0), 5e6, "bytes/h"),
                event("rss>150MB", AlertState::Cleared, 16, rss(140.0), 150e6, "bytes"),
                event("rss>150MB", AlertState::Firing, 25, rss(155.0), 150e6, "bytes"),
            ],
            unavailable: vec!["uss_bytes: permission denied".into()],
            self_cpu_percent: 0.42,
            cpu_saturated_share: 0.1,
            timeline: (0..=30)
                .map(|i| TimelinePoint {
                    t_secs: i as f64,
                    rss_bytes: (100 + i * 71 / 30) * MIB,
                    cpu_percent: if (5..7).contains(&i) { 97.0 } else { 12.0 + (i % 4) as f64 },
                    uss_bytes: None,
                    pss_bytes: None,
                })
                .collect(),
            notes: vec!["process 4242 exited after 30.0 s; the timeline up to then is kept".into()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_in_alert_units() {
        assert_eq!(value(150e6, "bytes"), "143 MiB");
        assert_eq!(value(5e6, "bytes/h"), "4.77 MiB/h");
        assert_eq!(value(-1228.8, "bytes/h"), "-1.20 KiB/h");
        assert_eq!(value(90.0, "%"), "90.0%");
        assert_eq!(value(1000.0, "count"), "1,000");
        assert_eq!(value(5.25, "count"), "5.2");
        assert_eq!(value(3.0, "widgets"), "3 widgets");
        assert_eq!(value_for(60e6, "bytes", "rss>60MB"), "60.0 MB");
        assert_eq!(value_for(62_914_560.0, "bytes", "rss > 60MiB"), "60.0 MiB");
        assert_eq!(value_for(5e6, "bytes/h", "growth>5MB/h"), "5.00 MB/h");
        assert_eq!(value_for(90.0, "%", "cpu>90%"), "90.0%");
    }

    #[test]
    fn growth_rates_share_one_unit() {
        let m = 1024.0 * 1024.0;
        assert_eq!(rates(36.0 * m, 35.1 * m, 36.8 * m), ("+36.0 MiB/h".into(), "35.1".into(), "36.8".into()));
        assert_eq!(rates(1.2 * m, -3.4 * m, 5.8 * m), ("+1.20 MiB/h".into(), "-3.40".into(), "5.80".into()));
        assert_eq!(rates(-512.0, -900.0, 10.0), ("-512 B/h".into(), "-900".into(), "10".into()));
        assert_eq!(rates(0.0, -0.001, 0.001), ("0 B/h".into(), "0".into(), "0".into()));
        assert_eq!(rates(2000.0 * m, 1000.0 * m, 3000.0 * m).0, "+1.95 GiB/h");
    }

    #[test]
    fn alert_metrics() {
        assert_eq!(alert_metric("rss>150MB"), "rss");
        assert_eq!(alert_metric("CPU >= 90%"), "cpu");
        assert_eq!(alert_metric("tcp_close_wait<3"), "tcp_close_wait");
    }

    #[test]
    fn json_round_trips() {
        let report = fixture::report();
        let text = json(&report).unwrap();
        assert!(text.ends_with("}\n"));
        let back: WatchReport = serde_json::from_str(&text).unwrap();
        assert_eq!(back, report);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["schema"], "tachy-watch/1");
        assert_eq!(v["end"], "target_exited");
        assert_eq!(v["events"][1]["state"], "cleared");
    }
}
