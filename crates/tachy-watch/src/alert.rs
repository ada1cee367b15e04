//! Alerts of `tachy watch`: parsing expressions such as `rss>150MB`, `growth>5MB/h` or
//! `cpu>90%`, reading their value in a sample, and tracking when they fire and clear.
//!
//! Every alert is evaluated on the sample's totals (the whole tree with `--children`). An alert
//! fires when its condition holds for [`Alert::for_samples`] consecutive samples and clears at
//! the first sample where it no longer holds; a sample where the value is unavailable changes
//! nothing.

use std::fmt;

use tachy_report::watch::{AlertEvent, AlertState, AlertSummary, GrowthVerdict, Sample};

/// The accepted forms, quoted by every parse error.
const ACCEPTED: &str = "rss|uss|pss|swap|vms>SIZE (150MB, 1GiB), growth>RATE (5MB/h), cpu>PCT (90%), \
                        threads|fds|tcp|tcp_<state>>N; operators > >= < <=";

/// TCP states accepted after `tcp_`, as named in the samples' `tcp` map. `time_wait` is not
/// one: a socket in `TIME_WAIT` belongs to no process any more, so it is never counted.
pub const TCP_STATES: [&str; 11] = [
    "established",
    "syn_sent",
    "syn_recv",
    "fin_wait1",
    "fin_wait2",
    "close",
    "close_wait",
    "last_ack",
    "listen",
    "closing",
    "new_syn_recv",
];

/// The figure an alert watches (always the sample's totals).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertMetric {
    /// Resident set size, bytes.
    Rss,
    /// Unique set size, bytes.
    Uss,
    /// Proportional set size, bytes.
    Pss,
    /// Swapped-out memory, bytes.
    Swap,
    /// Virtual memory size, bytes.
    Vms,
    /// Memory growth, bytes per hour (0 unless the growth is significant).
    Growth,
    /// CPU use (user + system), % of one core.
    Cpu,
    /// Threads.
    Threads,
    /// Open file descriptors.
    Fds,
    /// TCP sockets in any state.
    Tcp,
    /// TCP sockets in one state (`established`, `close_wait`, ...).
    TcpState(String),
}

impl AlertMetric {
    /// The name used in expressions: `rss`, `growth`, `tcp_close_wait`, ...
    pub fn name(&self) -> String {
        match self {
            AlertMetric::Rss => "rss".into(),
            AlertMetric::Uss => "uss".into(),
            AlertMetric::Pss => "pss".into(),
            AlertMetric::Swap => "swap".into(),
            AlertMetric::Vms => "vms".into(),
            AlertMetric::Growth => "growth".into(),
            AlertMetric::Cpu => "cpu".into(),
            AlertMetric::Threads => "threads".into(),
            AlertMetric::Fds => "fds".into(),
            AlertMetric::Tcp => "tcp".into(),
            AlertMetric::TcpState(s) => format!("tcp_{s}"),
        }
    }

    /// The unit of its values and thresholds: `bytes`, `bytes/h`, `%` or `count`.
    pub fn unit(&self) -> &'static str {
        match self {
            AlertMetric::Rss | AlertMetric::Uss | AlertMetric::Pss | AlertMetric::Swap | AlertMetric::Vms => "bytes",
            AlertMetric::Growth => "bytes/h",
            AlertMetric::Cpu => "%",
            AlertMetric::Threads | AlertMetric::Fds | AlertMetric::Tcp | AlertMetric::TcpState(_) => "count",
        }
    }

    fn from_name(name: &str) -> Option<AlertMetric> {
        Some(match name {
            "rss" => AlertMetric::Rss,
            "uss" => AlertMetric::Uss,
            "pss" => AlertMetric::Pss,
            "swap" => AlertMetric::Swap,
            "vms" => AlertMetric::Vms,
            "growth" => AlertMetric::Growth,
            "cpu" => AlertMetric::Cpu,
            "threads" => AlertMetric::Threads,
            "fds" => AlertMetric::Fds,
            "tcp" => AlertMetric::Tcp,
            _ => {
                let state = name.strip_prefix("tcp_")?;
                if !TCP_STATES.contains(&state) {
                    return None;
                }
                AlertMetric::TcpState(state.to_string())
            }
        })
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
}

impl Op {
    /// Whether `value OP threshold` holds.
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Op::Gt => value > threshold,
            Op::Ge => value >= threshold,
            Op::Lt => value < threshold,
            Op::Le => value <= threshold,
        }
    }

    /// True for `>` and `>=`: the larger a value, the worse.
    pub fn is_upper_bound(self) -> bool {
        matches!(self, Op::Gt | Op::Ge)
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
        })
    }
}

/// An alert expression that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid alert '{expr}': {reason}; accepted: {ACCEPTED}")]
pub struct AlertError {
    /// The expression as given.
    pub expr: String,
    /// What is wrong with it.
    pub reason: String,
}

/// One alert: a metric, an operator and a threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// The expression without spaces, e.g. `rss>150MB` (names events, summaries and series).
    pub expr: String,
    /// The watched figure.
    pub metric: AlertMetric,
    /// The comparison.
    pub op: Op,
    /// The threshold in the base unit: bytes, bytes/h, % or a count.
    pub threshold: f64,
    /// The unit: `bytes`, `bytes/h`, `%` or `count`.
    pub unit: &'static str,
    /// Consecutive samples the condition must hold before the alert fires (the parser sets 1).
    pub for_samples: u32,
}

/// `(suffix, bytes)` of the size units, matched case-insensitively.
const SIZE_UNITS: [(&str, f64); 9] = [
    ("b", 1.0),
    ("kb", 1e3),
    ("mb", 1e6),
    ("gb", 1e9),
    ("tb", 1e12),
    ("kib", 1024.0),
    ("mib", 1048576.0),
    ("gib", 1073741824.0),
    ("tib", 1099511627776.0),
];

/// `(suffix, per hour)` of the rate units.
const TIME_UNITS: [(&str, f64); 3] = [("s", 3600.0), ("min", 60.0), ("h", 1.0)];

impl Alert {
    /// Parses an expression: `rss>150MB`, `uss>=1GiB`, `growth>5MB/h`, `cpu>90%`,
    /// `fds>1000`, `threads>200`, `tcp_close_wait>10`. Spaces are ignored. Sizes take `B`,
    /// `KB`/`MB`/`GB`/`TB` (powers of 1000) or `KiB`/`MiB`/`GiB`/`TiB` (powers of 1024); rates
    /// are a size per `h`, `min` or `s`.
    pub fn parse(expr: &str) -> Result<Alert, AlertError> {
        let err = |reason: &str| AlertError { expr: expr.trim().to_string(), reason: reason.to_string() };
        let compact: String = expr.chars().filter(|c| !c.is_whitespace()).collect();
        if compact.is_empty() {
            return Err(err("it is empty"));
        }
        let Some(at) = compact.find(['<', '>']) else {
            return Err(err(if compact.contains('=') {
                "= is not an operator, use >= or <="
            } else {
                "no comparison operator"
            }));
        };
        let (name, rest) = compact.split_at(at);
        let (op, value) = match (rest.as_bytes()[0], rest.as_bytes().get(1)) {
            (b'>', Some(b'=')) => (Op::Ge, &rest[2..]),
            (b'<', Some(b'=')) => (Op::Le, &rest[2..]),
            (b'>', _) => (Op::Gt, &rest[1..]),
            _ => (Op::Lt, &rest[1..]),
        };
        if name.is_empty() {
            return Err(err("no metric before the operator"));
        }
        if name.ends_with(['=', '!']) {
            return Err(err("the operator is written >= or <="));
        }
        let lower = name.to_ascii_lowercase();
        let Some(metric) = AlertMetric::from_name(&lower) else {
            return Err(err(&if lower == "tcp_time_wait" {
                "TIME_WAIT sockets belong to no process, so they are never counted".to_string()
            } else if let Some(state) = lower.strip_prefix("tcp_") {
                format!("unknown TCP state '{state}' (known: {})", TCP_STATES.join(", "))
            } else {
                format!("unknown metric '{name}'")
            }));
        };
        if value.is_empty() {
            return Err(err("no threshold after the operator"));
        }
        if value.contains(['<', '>', '=']) {
            return Err(err("more than one operator"));
        }
        let split = value.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(value.len());
        let (number, suffix) = value.split_at(split);
        if number.starts_with('-') || suffix.starts_with('-') {
            return Err(err("thresholds cannot be negative"));
        }
        let n: f64 = number.parse().map_err(|_| err(&format!("'{value}' does not start with a number")))?;
        if !n.is_finite() {
            return Err(err("the threshold is not a finite number"));
        }
        let unit_lower = suffix.to_ascii_lowercase();
        let threshold = match metric.unit() {
            "bytes" => {
                if suffix.is_empty() {
                    return Err(err("the size needs a unit (B, KB, MB, GB, KiB, MiB, GiB)"));
                }
                n * size_unit(&unit_lower).ok_or_else(|| err(&format!("unknown size unit '{suffix}'")))?
            }
            "bytes/h" => {
                let Some((size, per)) = unit_lower.split_once('/') else {
                    return Err(err("the growth needs a rate unit such as MB/h, MiB/h, KB/min or MB/s"));
                };
                let size = size_unit(size).ok_or_else(|| err(&format!("unknown size unit in '{suffix}'")))?;
                let per = TIME_UNITS
                    .iter()
                    .find(|(u, _)| *u == per)
                    .map(|(_, f)| *f)
                    .ok_or_else(|| err(&format!("unknown time unit in '{suffix}' (use h, min or s)")))?;
                n * size * per
            }
            "%" => {
                if !(suffix.is_empty() || suffix == "%") {
                    return Err(err(&format!("CPU is in % of one core, not '{suffix}'")));
                }
                n
            }
            _ => {
                if !suffix.is_empty() {
                    return Err(err(&format!("{} is a count, it takes no unit ('{suffix}')", metric.name())));
                }
                if n.fract() != 0.0 {
                    return Err(err(&format!("{} is a count, not '{number}'", metric.name())));
                }
                n
            }
        };
        Ok(Alert { expr: compact, unit: metric.unit(), metric, op, threshold, for_samples: 1 })
    }

    /// The value of this alert's metric in a sample's totals, in [`Alert::unit`]. `None` when
    /// it is unavailable. Growth is judged against this alert's own threshold with
    /// [`Growth::judge`](tachy_report::watch::Growth::judge): the slope (bytes per hour) when
    /// the verdict is `growing`, 0 when it is `flat`, and `None` (the alert is not evaluated:
    /// it neither fires nor clears) when there is no estimate yet or not enough data to judge
    /// at this threshold.
    pub fn value(&self, sample: &Sample) -> Option<f64> {
        let m = &sample.total;
        let bytes = |v: Option<u64>| v.map(|v| v as f64);
        match &self.metric {
            AlertMetric::Rss => bytes(m.rss_bytes),
            AlertMetric::Uss => bytes(m.uss_bytes),
            AlertMetric::Pss => bytes(m.pss_bytes),
            AlertMetric::Swap => bytes(m.swap_bytes),
            AlertMetric::Vms => bytes(m.vms_bytes),
            AlertMetric::Growth => sample.growth.as_ref().and_then(|g| match g.judge(self.threshold).0 {
                GrowthVerdict::Growing => Some(g.bytes_per_hour),
                GrowthVerdict::Flat => Some(0.0),
                GrowthVerdict::NotEnoughData => None,
            }),
            AlertMetric::Cpu => match (m.cpu_user_percent, m.cpu_system_percent) {
                (None, None) => None,
                (u, s) => Some(u.unwrap_or(0.0) + s.unwrap_or(0.0)),
            },
            AlertMetric::Threads => bytes(m.threads),
            AlertMetric::Fds => bytes(m.fds),
            AlertMetric::Tcp => m.tcp.as_ref().map(|t| t.values().sum::<u64>() as f64),
            AlertMetric::TcpState(state) => m.tcp.as_ref().map(|t| t.get(state).copied().unwrap_or(0) as f64),
        }
    }
}

fn size_unit(unit: &str) -> Option<f64> {
    SIZE_UNITS.iter().find(|(u, _)| *u == unit).map(|(_, f)| *f)
}

/// The state of one alert between samples.
#[derive(Debug, Clone, Default)]
struct Track {
    firing: bool,
    /// Consecutive samples the condition held.
    streak: u32,
    /// When the current firing started.
    since: f64,
    fired: u64,
    firing_secs: f64,
    first_fired: Option<f64>,
    worst: Option<f64>,
}

/// Tracks firing/clearing of a set of alerts.
#[derive(Debug, Clone)]
pub struct Alerts {
    alerts: Vec<Alert>,
    tracks: Vec<Track>,
}

impl Alerts {
    /// Tracks `alerts`, none firing.
    pub fn new(alerts: Vec<Alert>) -> Self {
        let tracks = vec![Track::default(); alerts.len()];
        Alerts { alerts, tracks }
    }

    /// The alerts, in order.
    pub fn alerts(&self) -> &[Alert] {
        &self.alerts
    }

    /// Evaluates a sample; returns the events (firing or cleared) it caused, in alert order.
    pub fn observe(&mut self, sample: &Sample) -> Vec<AlertEvent> {
        let mut events = Vec::new();
        for (alert, track) in self.alerts.iter().zip(&mut self.tracks) {
            let Some(value) = alert.value(sample) else { continue };
            track.worst = Some(match track.worst {
                None => value,
                Some(w) if alert.op.is_upper_bound() => w.max(value),
                Some(w) => w.min(value),
            });
            let holds = alert.op.holds(value, alert.threshold);
            track.streak = if holds { track.streak.saturating_add(1) } else { 0 };
            let state = if holds && !track.firing && track.streak >= alert.for_samples.max(1) {
                track.firing = true;
                track.since = sample.t_secs;
                track.fired += 1;
                track.first_fired.get_or_insert(sample.t_secs);
                AlertState::Firing
            } else if !holds && track.firing {
                track.firing = false;
                track.firing_secs += (sample.t_secs - track.since).max(0.0);
                AlertState::Cleared
            } else {
                continue;
            };
            events.push(AlertEvent {
                alert: alert.expr.clone(),
                state,
                t_secs: sample.t_secs,
                time: sample.time.clone(),
                value,
                threshold: alert.threshold,
                unit: alert.unit.to_string(),
            });
        }
        events
    }

    /// The expressions of the alerts firing now, in alert order.
    pub fn firing(&self) -> Vec<String> {
        self.alerts.iter().zip(&self.tracks).filter(|(_, t)| t.firing).map(|(a, _)| a.expr.clone()).collect()
    }

    /// Every alert with whether it is firing now, in alert order (for the Prometheus exporter).
    pub fn states(&self) -> Vec<(String, bool)> {
        self.alerts.iter().zip(&self.tracks).map(|(a, t)| (a.expr.clone(), t.firing)).collect()
    }

    /// Summaries at the end: times fired, seconds firing (until `end_secs` for those still
    /// firing), first firing, worst value seen (largest for `>`/`>=`, smallest for `<`/`<=`)
    /// and whether each is still firing.
    pub fn summaries(&self, end_secs: f64) -> Vec<AlertSummary> {
        self.alerts
            .iter()
            .zip(&self.tracks)
            .map(|(a, t)| AlertSummary {
                alert: a.expr.clone(),
                fired: t.fired,
                firing_secs: t.firing_secs + if t.firing { (end_secs - t.since).max(0.0) } else { 0.0 },
                first_fired_secs: t.first_fired,
                worst: t.worst,
                threshold: a.threshold,
                unit: a.unit.to_string(),
                firing_at_end: t.firing,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use tachy_report::watch::{Growth, Metrics};

    use super::*;

    fn parse(expr: &str) -> Alert {
        Alert::parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"))
    }

    fn error(expr: &str) -> String {
        let e = Alert::parse(expr).expect_err(expr).to_string();
        assert!(e.starts_with(&format!("invalid alert '{}': ", expr.trim())), "{e}");
        assert!(e.ends_with(&format!("; accepted: {ACCEPTED}")), "{e}");
        assert!(!e.contains('\n'), "{e}");
        e
    }

    #[test]
    fn sizes_take_decimal_and_binary_units() {
        let a = parse("rss>150MB");
        assert_eq!(
            (a.metric.clone(), a.op, a.threshold, a.unit, a.for_samples),
            (AlertMetric::Rss, Op::Gt, 150e6, "bytes", 1)
        );
        assert_eq!(a.expr, "rss>150MB");
        assert_eq!(parse("uss>=1GiB").threshold, 1073741824.0);
        assert_eq!(parse("uss>=1GiB").op, Op::Ge);
        assert_eq!(parse("pss<512KiB").threshold, 524288.0);
        assert_eq!(parse("pss<512KiB").op, Op::Lt);
        assert_eq!(parse("swap<=1.5kb").threshold, 1500.0);
        assert_eq!(parse("vms>2TB").threshold, 2e12);
        assert_eq!(parse("rss>100B").threshold, 100.0);
        assert_eq!(parse("RSS > 1.5 MiB").threshold, 1.5 * 1048576.0);
        assert_eq!(parse("  rss > 1.5 MiB ").expr, "rss>1.5MiB");
    }

    #[test]
    fn rates_percentages_and_counts() {
        let g = parse("growth>5MB/h");
        assert_eq!((g.metric.clone(), g.threshold, g.unit), (AlertMetric::Growth, 5e6, "bytes/h"));
        assert_eq!(parse("growth>1MiB/h").threshold, 1048576.0);
        assert_eq!(parse("growth>100KB/min").threshold, 100e3 * 60.0);
        assert_eq!(parse("growth>1MB/s").threshold, 3.6e9);
        let c = parse("cpu>90%");
        assert_eq!((c.metric.clone(), c.threshold, c.unit), (AlertMetric::Cpu, 90.0, "%"));
        assert_eq!(parse("cpu>=150").threshold, 150.0);
        let f = parse("fds>1000");
        assert_eq!((f.metric.clone(), f.threshold, f.unit), (AlertMetric::Fds, 1000.0, "count"));
        assert_eq!(parse("threads>200").metric, AlertMetric::Threads);
        assert_eq!(parse("tcp>=50").metric, AlertMetric::Tcp);
        let t = parse("tcp_close_wait>10");
        assert_eq!(t.metric, AlertMetric::TcpState("close_wait".into()));
        assert_eq!(t.metric.name(), "tcp_close_wait");
        assert_eq!(t.threshold, 10.0);
        for state in TCP_STATES {
            assert_eq!(parse(&format!("tcp_{state}>0")).metric.name(), format!("tcp_{state}"));
        }
    }

    #[test]
    fn errors_say_what_is_wrong_and_list_the_accepted_forms() {
        assert!(error("").contains("it is empty"));
        assert!(error("rss150MB").contains("no comparison operator"));
        assert!(error("rss=150MB").contains("= is not an operator"));
        assert!(error("rss==150MB").contains("= is not an operator"));
        assert!(error("rss=>150MB").contains("the operator is written >= or <="));
        assert!(error(">150MB").contains("no metric before the operator"));
        assert!(error("rss>").contains("no threshold"));
        assert!(error("memory>150MB").contains("unknown metric 'memory'"));
        assert!(error("tcp_time_wait>3").contains("TIME_WAIT sockets belong to no process"));
        assert!(error("tcp_open>3").contains("unknown TCP state 'open' (known: established,"));
        assert!(error("rss>150").contains("needs a unit"));
        assert!(error("rss>150XB").contains("unknown size unit 'XB'"));
        assert!(error("rss>MB").contains("'MB' does not start with a number"));
        assert!(error("rss>1.2.3MB").contains("does not start with a number"));
        assert!(error("rss>-5MB").contains("cannot be negative"));
        assert!(error("rss>>5MB").contains("more than one operator"));
        assert!(error("growth>5MB").contains("needs a rate unit"));
        assert!(error("growth>5MB/day").contains("unknown time unit"));
        assert!(error("growth>5XB/h").contains("unknown size unit"));
        assert!(error("cpu>90ms").contains("CPU is in % of one core"));
        assert!(error("fds>10k").contains("takes no unit"));
        assert!(error("threads>2.5").contains("threads is a count, not '2.5'"));
    }

    /// A sample; `growth` is `(slope, low, high)` in bytes per hour, fitted over 60 s.
    fn sample(t: f64, rss_mb: u64, cpu: Option<f64>, growth: Option<(f64, f64, f64)>) -> Sample {
        Sample {
            t_secs: t,
            time: format!("2026-01-01T12:00:{:02}.000Z", t as u64),
            processes: vec![],
            total: Metrics {
                rss_bytes: Some(rss_mb * 1_000_000),
                cpu_user_percent: cpu,
                cpu_system_percent: cpu.map(|_| 0.0),
                tcp: Some(BTreeMap::from([("established".to_string(), 3), ("close_wait".to_string(), 12)])),
                ..Metrics::default()
            },
            growth: growth.map(|(rate, low, high)| Growth {
                metric: "rss".into(),
                bytes_per_hour: rate,
                low_bytes_per_hour: low,
                high_bytes_per_hour: high,
                level: 0.95,
                samples: 60,
                window_secs: 60.0,
                resolution_bytes_per_hour: (high - low) / 2.0,
                sustained_bytes_per_hour: Some(rate),
                ..Growth::default()
            }),
        }
    }

    #[test]
    fn values_come_from_the_totals() {
        let s = sample(0.0, 150, Some(40.0), None);
        assert_eq!(parse("rss>1MB").value(&s), Some(150e6));
        assert_eq!(parse("uss>1MB").value(&s), None);
        assert_eq!(parse("cpu>1%").value(&s), Some(40.0));
        assert_eq!(parse("cpu>1%").value(&sample(0.0, 1, None, None)), None);
        assert_eq!(parse("tcp>1").value(&s), Some(15.0));
        assert_eq!(parse("tcp_close_wait>1").value(&s), Some(12.0));
        assert_eq!(parse("tcp_listen>1").value(&s), Some(0.0));
        assert_eq!(parse("fds>1").value(&s), None);
    }

    #[test]
    fn growth_counts_only_when_significant() {
        let a = parse("growth>5MB/h");
        assert_eq!(a.value(&sample(0.0, 1, None, None)), None, "no estimate yet");
        assert_eq!(a.value(&sample(0.0, 1, None, Some((9e6, 7e6, 11e6)))), Some(9e6), "growing");
        assert_eq!(a.value(&sample(0.0, 1, None, Some((2e6, 0.0, 4e6)))), Some(0.0), "flat");
        assert_eq!(a.value(&sample(0.0, 1, None, Some((6e6, 3e6, 9e6)))), None, "the interval contains 5 MB/h");
        assert_eq!(a.value(&sample(0.0, 1, None, Some((90e6, 70e6, 110e6)))), None, "too coarse for 5 MB/h");
        // The same estimate is judged at each alert's own threshold.
        assert_eq!(parse("growth>1MB/h").value(&sample(0.0, 1, None, Some((6e6, 3e6, 9e6)))), None);
        assert_eq!(parse("growth>50MB/h").value(&sample(0.0, 1, None, Some((6e6, 3e6, 9e6)))), Some(0.0));

        let mut alerts = Alerts::new(vec![a]);
        let seq = [
            sample(1.0, 1, None, None),
            sample(2.0, 1, None, Some((6e6, 3e6, 9e6))),
            sample(3.0, 1, None, Some((9e6, 7e6, 11e6))),
            sample(4.0, 1, None, None),
            sample(5.0, 1, None, Some((6e6, 3e6, 9e6))),
            sample(6.0, 1, None, Some((1e6, -1e6, 3e6))),
        ];
        let events: Vec<(AlertState, f64, f64)> =
            seq.iter().flat_map(|s| alerts.observe(s)).map(|e| (e.state, e.t_secs, e.value)).collect();
        // Not enough data neither fires nor clears; only a flat verdict clears.
        assert_eq!(events, [(AlertState::Firing, 3.0, 9e6), (AlertState::Cleared, 6.0, 0.0)]);
    }

    #[test]
    fn alerts_fire_then_clear() {
        let mut alerts = Alerts::new(vec![parse("rss>150MB"), parse("cpu>=90%"), parse("tcp_close_wait>10")]);
        let seq = [
            sample(0.0, 100, None, None),
            sample(1.0, 160, Some(95.0), None),
            sample(2.0, 170, Some(50.0), None),
            sample(3.0, 140, None, None),
            sample(4.0, 155, Some(90.0), None),
            sample(5.0, 120, Some(10.0), None),
        ];
        let mut all = Vec::new();
        for s in &seq {
            let events = alerts.observe(s);
            all.push(
                events
                    .iter()
                    .map(|e| format!("{}@{} {:?} {}", e.alert, e.t_secs, e.state, e.value))
                    .collect::<Vec<_>>(),
            );
            if s.t_secs == 2.0 {
                assert_eq!(alerts.firing(), ["rss>150MB", "tcp_close_wait>10"]);
                assert_eq!(
                    alerts.states(),
                    [("rss>150MB".into(), true), ("cpu>=90%".into(), false), ("tcp_close_wait>10".into(), true)]
                );
            }
        }
        assert_eq!(
            all,
            [
                vec!["tcp_close_wait>10@0 Firing 12"],
                vec!["rss>150MB@1 Firing 160000000", "cpu>=90%@1 Firing 95"],
                vec!["cpu>=90%@2 Cleared 50"],
                vec!["rss>150MB@3 Cleared 140000000"],
                vec!["rss>150MB@4 Firing 155000000", "cpu>=90%@4 Firing 90"],
                vec!["rss>150MB@5 Cleared 120000000", "cpu>=90%@5 Cleared 10"],
            ]
        );
        let first = alerts.observe(&sample(6.0, 200, None, None));
        assert_eq!(first[0].time, "2026-01-01T12:00:06.000Z");
        assert_eq!((first[0].threshold, first[0].unit.as_str()), (150e6, "bytes"));

        let sums = alerts.summaries(10.0);
        let rss = &sums[0];
        assert_eq!(
            (rss.alert.as_str(), rss.fired, rss.first_fired_secs, rss.worst),
            ("rss>150MB", 3, Some(1.0), Some(200e6))
        );
        // 1..3 and 4..5 cleared, then 6..10 still firing at the end.
        assert_eq!(rss.firing_secs, 2.0 + 1.0 + 4.0);
        assert!(rss.firing_at_end);
        let cpu = &sums[1];
        assert_eq!((cpu.fired, cpu.firing_secs, cpu.worst, cpu.firing_at_end), (2, 2.0, Some(95.0), false));
        assert_eq!((cpu.threshold, cpu.unit.as_str()), (90.0, "%"));
        let tcp = &sums[2];
        assert_eq!((tcp.fired, tcp.firing_secs, tcp.first_fired_secs, tcp.firing_at_end), (1, 10.0, Some(0.0), true));
    }

    #[test]
    fn lower_bounds_and_consecutive_samples() {
        let mut a = parse("rss<100MB");
        a.for_samples = 2;
        let mut alerts = Alerts::new(vec![a]);
        let seq = [sample(0.0, 90, None, None), sample(1.0, 120, None, None), sample(2.0, 80, None, None)];
        assert!(seq.iter().all(|s| alerts.observe(s).is_empty()), "never twice in a row");
        let e = alerts.observe(&sample(3.0, 70, None, None));
        assert_eq!((e[0].state, e[0].t_secs), (AlertState::Firing, 3.0));
        let sums = alerts.summaries(3.0);
        assert_eq!((sums[0].worst, sums[0].firing_secs), (Some(70e6), 0.0), "the smallest value is the worst");
    }

    #[test]
    fn alerts_that_never_fire() {
        let alerts = Alerts::new(vec![parse("fds>10")]);
        let s = &alerts.summaries(5.0)[0];
        assert_eq!((s.fired, s.firing_secs, s.first_fired_secs, s.worst, s.firing_at_end), (0, 0.0, None, None, false));
        assert!(alerts.firing().is_empty());
    }
}
