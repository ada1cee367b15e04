//! SLO expressions (`p95<200ms`, `errors<1%`, `timeouts<0.5%`, `rps>=100`, `dropped<=10`,
//! `dropped<1%`): parsing and evaluation against a report's figures.

use tachy_report::load::{LoadStats, ScheduleStats, SloResult};

use crate::LoadError;

/// What an SLO measures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Metric {
    /// A latency percentile (0-100).
    Percentile(f64),
    /// Mean latency.
    Mean,
    /// Fastest response.
    Min,
    /// Slowest response.
    Max,
    /// Error rate.
    Errors,
    /// Timeout rate.
    Timeouts,
    /// Requests per second.
    Rps,
    /// Open model: planned requests never sent because the target had not answered the
    /// connection's earlier request (a count).
    Dropped,
    /// The same as a percentage of the planned requests.
    DroppedShare,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl Op {
    fn holds(self, measured: f64, limit: f64) -> bool {
        match self {
            Op::Lt => measured < limit,
            Op::Le => measured <= limit,
            Op::Gt => measured > limit,
            Op::Ge => measured >= limit,
        }
    }
}

/// One parsed SLO. The limit is kept in display units: ms for latencies, % for rates,
/// requests per second for throughput.
#[derive(Debug, Clone, PartialEq)]
pub struct Slo {
    /// The expression as written (spaces removed).
    pub expr: String,
    /// What is measured.
    pub metric: Metric,
    /// How it is compared.
    pub op: Op,
    /// The limit.
    pub limit: f64,
}

impl Slo {
    /// The implicit SLO of the open model when the user gives no `dropped` SLO of their own:
    /// no planned request may be dropped.
    pub fn no_drops() -> Slo {
        Slo { expr: "dropped<=0".into(), metric: Metric::Dropped, op: Op::Le, limit: 0.0 }
    }

    /// True for the run-wide `dropped` SLO (either form).
    pub fn is_dropped(&self) -> bool {
        matches!(self.metric, Metric::Dropped | Metric::DroppedShare)
    }

    /// Parses an expression such as `p95<200ms`, `p99.9<=1s`, `errors<1%`, `rps>=100`,
    /// `dropped<=10`, `dropped<1%`.
    pub fn parse(expr: &str) -> Result<Slo, LoadError> {
        let compact: String = expr.chars().filter(|c| !c.is_whitespace()).collect();
        let err = |reason: &str| LoadError::InvalidSlo { expr: expr.to_string(), reason: reason.to_string() };
        if compact.contains([',', ';']) || compact.matches(['<', '>']).count() > 2 {
            return Err(err("one SLO per --slo: write each on its own, e.g. --slo 'p95<200ms' --slo 'errors<1%'"));
        }
        if compact.contains('=') && !compact.contains("<=") && !compact.contains(">=") {
            return Err(err("the operator is <, <=, > or >= (= alone is not accepted)"));
        }
        let pos = compact.find(['<', '>']).ok_or_else(|| err("no operator"))?;
        let (name, rest) = compact.split_at(pos);
        let (op, value) = if let Some(v) = rest.strip_prefix("<=") {
            (Op::Le, v)
        } else if let Some(v) = rest.strip_prefix(">=") {
            (Op::Ge, v)
        } else if let Some(v) = rest.strip_prefix('<') {
            (Op::Lt, v)
        } else {
            (Op::Gt, &rest[1..])
        };
        if value.is_empty() {
            return Err(err("no limit after the operator"));
        }
        if value.starts_with(['<', '>', '=']) {
            return Err(err("the operator is written twice; use one of <, <=, >, >="));
        }
        let name = name.to_ascii_lowercase();
        let metric = match name.as_str() {
            "" => return Err(err("no metric before the operator")),
            "mean" | "avg" => Metric::Mean,
            "min" => Metric::Min,
            "max" => Metric::Max,
            "errors" | "error_rate" | "error-rate" => Metric::Errors,
            "timeouts" | "timeout_rate" | "timeout-rate" => Metric::Timeouts,
            "rps" | "throughput" => Metric::Rps,
            "dropped" if value.ends_with('%') => Metric::DroppedShare,
            "dropped" => Metric::Dropped,
            "median" => Metric::Percentile(50.0),
            n if n.starts_with('p') => {
                let digits = &n[1..];
                let p = match digits {
                    "999" => 99.9,
                    "9999" => 99.99,
                    d => d.parse::<f64>().map_err(|_| err(&format!("unknown metric '{name}'")))?,
                };
                if !(p > 0.0 && p <= 100.0) {
                    return Err(err("a percentile must be above 0 and at most 100 (p50, p95, p99.9, p100)"));
                }
                Metric::Percentile(p)
            }
            _ => return Err(err(&format!("unknown metric '{name}'"))),
        };
        let limit = match metric {
            Metric::Percentile(_) | Metric::Mean | Metric::Min | Metric::Max => {
                parse_latency_ms(value).map_err(&err)?
            }
            Metric::Errors | Metric::Timeouts | Metric::DroppedShare => {
                let v = value.strip_suffix('%').ok_or_else(|| err("a rate limit is a percentage such as 1%"))?;
                v.parse::<f64>().ok().filter(|v| (0.0..=100.0).contains(v)).ok_or_else(|| err("not a percentage"))?
            }
            Metric::Rps => {
                let v = value.strip_suffix("/s").unwrap_or(value);
                v.parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0).ok_or_else(|| err("not a rate"))?
            }
            Metric::Dropped => value.parse::<u64>().map(|n| n as f64).map_err(|_| {
                err("a dropped limit is a number of requests (dropped<=10) or a percentage (dropped<1%)")
            })?,
        };
        Ok(Slo { expr: compact, metric, op, limit })
    }

    /// The metric's short name in reports.
    pub fn metric_name(&self) -> String {
        match self.metric {
            Metric::Percentile(p) => format!("p{p}"),
            Metric::Mean => "mean".into(),
            Metric::Min => "min".into(),
            Metric::Max => "max".into(),
            Metric::Errors => "errors".into(),
            Metric::Timeouts => "timeouts".into(),
            Metric::Rps => "rps".into(),
            Metric::Dropped | Metric::DroppedShare => "dropped".into(),
        }
    }

    /// The unit of limit and measurement.
    pub fn unit(&self) -> &'static str {
        match self.metric {
            Metric::Errors | Metric::Timeouts | Metric::DroppedShare => "%",
            Metric::Rps => "req/s",
            Metric::Dropped => "requests",
            _ => "ms",
        }
    }

    /// Evaluates against `stats`; `percentile(p)` gives any latency percentile in ms;
    /// `schedule` (open model) gives the dropped requests (none without a schedule).
    pub fn evaluate(
        &self,
        stats: &LoadStats,
        percentile: &dyn Fn(f64) -> f64,
        schedule: Option<&ScheduleStats>,
        scope: Option<&str>,
    ) -> SloResult {
        let l = &stats.latency;
        let measured = match self.metric {
            Metric::Percentile(p) => percentile(p),
            Metric::Mean => l.mean_ms,
            Metric::Min => l.min_ms,
            Metric::Max => l.max_ms,
            Metric::Errors => stats.error_rate * 100.0,
            Metric::Timeouts => stats.timeout_rate * 100.0,
            Metric::Rps => stats.rps,
            Metric::Dropped => schedule.map_or(0, |s| s.dropped) as f64,
            Metric::DroppedShare => schedule.map_or(0.0, |s| s.dropped_share() * 100.0),
        };
        // A latency SLO over zero responses cannot be said to hold.
        let no_data =
            matches!(self.metric, Metric::Percentile(_) | Metric::Mean | Metric::Min | Metric::Max) && l.count == 0;
        SloResult {
            expr: self.expr.clone(),
            scope: scope.map(str::to_string),
            metric: self.metric_name(),
            measured,
            limit: self.limit,
            unit: self.unit().to_string(),
            passed: !no_data && self.op.holds(measured, self.limit),
            implicit: false,
        }
    }
}

/// The longest latency limit accepted: a day.
const MAX_LATENCY_MS: f64 = 86_400_000.0;

/// Parses `200ms`, `1.5s`, `500us`, `2m` into milliseconds; the error says what is wrong.
fn parse_latency_ms(v: &str) -> Result<f64, &'static str> {
    const UNITS: &str = "a latency limit is a number and a unit: 200ms, 1.5s or 500us";
    if v.starts_with('-') {
        return Err("a latency limit cannot be negative");
    }
    // The number ends where the unit starts (an exponent's `e` belongs to the number).
    let split = v
        .char_indices()
        .find(|&(i, c)| {
            (c.is_ascii_alphabetic() || c == 'µ')
                && !(c == 'e' && v[i + 1..].starts_with(|d: char| d.is_ascii_digit() || d == '-' || d == '+'))
        })
        .map(|(i, _)| i)
        .ok_or("a latency limit needs a unit: 200ms, 1.5s or 500us")?;
    let (num, unit) = v.split_at(split);
    let n: f64 = num.parse().map_err(|_| UNITS)?;
    if !n.is_finite() || n < 0.0 {
        return Err(UNITS);
    }
    let factor = match unit {
        "us" | "µs" => 0.001,
        "ms" => 1.0,
        "s" => 1000.0,
        "m" | "min" => 60_000.0,
        _ => return Err("unknown latency unit: use us, ms, s or m (200ms, 1.5s)"),
    };
    let ms = n * factor;
    if ms > MAX_LATENCY_MS {
        return Err("a latency limit must be at most a day (86400s)");
    }
    Ok(ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        let s = Slo::parse("p95<200ms").unwrap();
        assert_eq!((s.metric, s.op, s.limit), (Metric::Percentile(95.0), Op::Lt, 200.0));
        let s = Slo::parse("p99.9 <= 1.5s").unwrap();
        assert_eq!((s.metric, s.op, s.limit), (Metric::Percentile(99.9), Op::Le, 1500.0));
        assert_eq!(Slo::parse("p999<1s").unwrap().metric, Metric::Percentile(99.9));
        let s = Slo::parse("errors<1%").unwrap();
        assert_eq!((s.metric, s.limit, s.unit()), (Metric::Errors, 1.0, "%"));
        assert_eq!(Slo::parse("timeouts<0.5%").unwrap().limit, 0.5);
        let s = Slo::parse("rps>=100").unwrap();
        assert_eq!((s.metric, s.op, s.limit), (Metric::Rps, Op::Ge, 100.0));
        assert_eq!(Slo::parse("mean<500us").unwrap().limit, 0.5);
        let s = Slo::parse("dropped<=10").unwrap();
        assert_eq!((s.metric, s.op, s.limit, s.unit()), (Metric::Dropped, Op::Le, 10.0, "requests"));
        let s = Slo::parse("dropped<1%").unwrap();
        assert_eq!((s.metric, s.limit, s.unit()), (Metric::DroppedShare, 1.0, "%"));
        assert!(Slo::parse("dropped<1.5").unwrap_err().to_string().contains("number of requests"));
    }

    #[test]
    fn rejects_with_the_reason() {
        for (e, want) in [
            ("p95", "no operator"),
            ("p95<200", "needs a unit"),
            ("errors<1", "percentage"),
            ("latency<1ms", "unknown metric 'latency'"),
            ("p200<1ms", "above 0 and at most 100"),
            ("p0<1ms", "above 0 and at most 100"),
            ("p95<-5ms", "cannot be negative"),
            ("p95<<200ms", "written twice"),
            ("p95<200ms,errors<1%", "one SLO per --slo"),
            ("p95<1e99s", "at most a day"),
            ("p95<2h", "unknown latency unit"),
            ("p95=200ms", "= alone"),
            ("<1ms", "no metric"),
            ("rps>", "no limit"),
        ] {
            let msg = Slo::parse(e).unwrap_err().to_string();
            assert!(msg.contains(want), "{e}: {msg}");
            assert!(msg.contains("accepted forms"), "{msg}");
        }
    }

    #[test]
    fn evaluates() {
        let mut stats = LoadStats { rps: 150.0, error_rate: 0.02, ..Default::default() };
        stats.latency.count = 10;
        let p = |_: f64| 120.0;
        assert!(Slo::parse("p95<200ms").unwrap().evaluate(&stats, &p, None, None).passed);
        assert!(!Slo::parse("errors<1%").unwrap().evaluate(&stats, &p, None, None).passed);
        let r = Slo::parse("rps>=100").unwrap().evaluate(&stats, &p, None, Some("home"));
        assert!(r.passed);
        assert_eq!(r.scope.as_deref(), Some("home"));
        let sched = ScheduleStats { scheduled: 200, dropped: 3, ..Default::default() };
        let r = Slo::parse("dropped<=2").unwrap().evaluate(&stats, &p, Some(&sched), None);
        assert!(!r.passed && r.measured == 3.0);
        let r = Slo::parse("dropped<2%").unwrap().evaluate(&stats, &p, Some(&sched), None);
        assert!(r.passed && r.measured == 1.5);
        stats.latency.count = 0;
        assert!(!Slo::parse("p95<200ms").unwrap().evaluate(&stats, &p, None, None).passed);
    }
}
