//! Turns what the engine measured into a [`LoadReport`]: summaries, histograms, timeline,
//! schedule adherence, the generator self-check and SLO verdicts.

use hdrhistogram::Histogram;
use tachy_report::load::{
    EndpointStats, GeneratorCheck, LOAD_SCHEMA, LoadEnd, LoadModel, LoadReport, LoadStats, RunInfo, ScheduleStats,
    SloResult, TimelinePoint,
};

use crate::engine::recorder::Counts;
use crate::engine::{LATE_THRESHOLD, RawRun};
use crate::settings::{Bound, LoadSettings};
use crate::{Slo, hdr};

/// The generator is saturated when its worker threads were busy this share of the time.
pub const BUSY_LIMIT: f64 = 0.9;
/// ... or when its timers fired this late (ms, 99th percentile): requests waited for tachy.
pub const LAG_LIMIT_MS: f64 = 10.0;

/// Summarises counts and a histogram over `elapsed` seconds.
pub fn stats(counts: &Counts, hist: &Histogram<u64>, elapsed: f64) -> LoadStats {
    let per_sec = |v: u64| if elapsed > 0.0 { v as f64 / elapsed } else { 0.0 };
    let rate = |v: u64| if counts.requests > 0 { v as f64 / counts.requests as f64 } else { 0.0 };
    LoadStats {
        requests: counts.requests,
        responses: counts.responses,
        ok: counts.ok,
        errors: counts.errors,
        error_rate: rate(counts.errors),
        timeout_rate: rate(counts.timeouts()),
        rps: per_sec(counts.requests),
        bytes_received: counts.bytes,
        bytes_per_sec: per_sec(counts.bytes),
        latency: hdr::summary(hist),
        histogram: hdr::buckets(hist),
        status_counts: counts.statuses.clone(),
        error_counts: counts.error_counts.clone(),
        latency_hdr: hdr::encode(hist),
    }
}

/// A timeline point from a second's counts and histogram.
pub fn point(
    second: u64,
    counts: &Counts,
    hist: &Histogram<u64>,
    connections: u64,
    target_rate: Option<f64>,
) -> TimelinePoint {
    let s = hdr::summary(hist);
    TimelinePoint {
        second,
        requests: counts.requests,
        errors: counts.errors,
        timeouts: counts.timeouts(),
        bytes_received: counts.bytes,
        connections,
        target_rate,
        mean_ms: s.mean_ms,
        p50_ms: s.p50_ms,
        p99_ms: s.p99_ms,
        max_ms: s.max_ms,
        latency_hdr: hdr::encode(hist),
    }
}

/// Evaluates run-wide SLOs and each request's own SLOs. In the open model (a `schedule`),
/// `dropped<=0` is added when no run-wide `dropped` SLO was given: a request the target could
/// not take on schedule fails the run unless the user allows some.
pub fn evaluate_slos(
    global: &[Slo],
    totals: (&LoadStats, &Histogram<u64>),
    schedule: Option<&ScheduleStats>,
    scoped: &[(String, Vec<Slo>, LoadStats, Histogram<u64>)],
) -> Vec<SloResult> {
    let percentile = |p| hdr::percentile_ms(totals.1, p);
    let mut out: Vec<SloResult> = global.iter().map(|s| s.evaluate(totals.0, &percentile, schedule, None)).collect();
    if schedule.is_some() && !global.iter().any(Slo::is_dropped) {
        out.push(SloResult { implicit: true, ..Slo::no_drops().evaluate(totals.0, &percentile, schedule, None) });
    }
    for (name, slos, stats, hist) in scoped {
        out.extend(slos.iter().map(|s| s.evaluate(stats, &|p| hdr::percentile_ms(hist, p), schedule, Some(name))));
    }
    out
}

/// The generator self-check.
pub fn generator(raw: &RawRun) -> GeneratorCheck {
    let elapsed = raw.elapsed.as_secs_f64();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let mut reasons = Vec::new();
    if raw.busy_share >= BUSY_LIMIT {
        reasons.push(format!(
            "its {} worker thread(s) were busy {:.0}% of the time (limit {:.0}%)",
            raw.threads,
            raw.busy_share * 100.0,
            BUSY_LIMIT * 100.0
        ));
    }
    if raw.lag_p99_ms >= LAG_LIMIT_MS {
        reasons.push(format!(
            "its timers fired up to {:.1} ms late (p99; limit {LAG_LIMIT_MS} ms), so requests waited for tachy",
            raw.lag_p99_ms
        ));
    }
    GeneratorCheck {
        cpu_secs: raw.cpu_secs,
        cpu_percent: if elapsed > 0.0 { raw.cpu_secs / elapsed * 100.0 } else { 0.0 },
        busy_share: raw.busy_share,
        lag_p99_ms: raw.lag_p99_ms,
        cores,
        saturated: !reasons.is_empty(),
        reason: (!reasons.is_empty()).then(|| reasons.join("; ")),
    }
}

/// Builds the report of one run.
pub fn build(settings: &LoadSettings, raw: &RawRun) -> LoadReport {
    let elapsed = raw.elapsed.as_secs_f64();
    let total_counts = raw.total.counts();
    let totals = stats(&total_counts, &raw.total.hist, elapsed);
    let mut scoped = Vec::new();
    let endpoints: Vec<EndpointStats> = settings
        .requests
        .iter()
        .zip(&raw.endpoints)
        .map(|(spec, s)| {
            let st = stats(&s.counts(), &s.hist, elapsed);
            if !spec.slos.is_empty() {
                scoped.push((spec.name.clone(), spec.slos.clone(), st.clone(), s.hist.clone()));
            }
            EndpointStats {
                name: spec.name.clone(),
                method: spec.method.clone(),
                path: spec.path.clone(),
                weight: spec.weight,
                stats: st,
            }
        })
        .collect();
    let timeline = raw
        .timeline
        .iter()
        .map(|iv| point(iv.second, &iv.stats.counts(), &iv.stats.hist, iv.connections, iv.target_rate))
        .collect();
    let schedule = raw.planned.map(|planned| ScheduleStats {
        target_rate: rate_max(settings),
        scheduled: planned,
        sent: raw.sent,
        late: raw.late,
        dropped: raw.dropped.min(planned.saturating_sub(raw.sent)),
        max_dropped_wait_ms: hdr::ms(raw.max_dropped_wait_us),
        late_threshold_ms: LATE_THRESHOLD.as_secs_f64() * 1000.0,
        max_lateness_ms: hdr::ms(raw.max_lateness_us),
        achieved_rate: if elapsed > 0.0 { raw.sent as f64 / elapsed } else { 0.0 },
    });
    let slos = evaluate_slos(&settings.slos, (&totals, &raw.total.hist), schedule.as_ref(), &scoped);
    let generator = generator(raw);
    let mut notes = Vec::new();
    if raw.interrupted {
        notes.push("interrupted by Ctrl-C: the figures cover the run until then".to_string());
    }
    if raw.in_flight > 0 {
        notes.push(format!("{} request(s) still in flight at the end were not counted", raw.in_flight));
    }
    if let Some(s) = &schedule
        && s.scheduled > 0
        && (s.late + s.dropped) * 10 > s.scheduled
    {
        let dropped = if s.dropped > 0 {
            format!(
                "; a dropped request was due while its connection still waited for the server's answer, up to the end (the oldest had waited {:.0} ms): it fails the dropped SLO but is in neither the error rate nor the latency percentiles",
                s.max_dropped_wait_ms
            )
        } else {
            String::new()
        };
        notes.push(format!(
            "the schedule was not kept: {} late and {} dropped ({:.1}%) of {} planned requests; latencies include the wait{dropped} (more connections with -c may help if the server takes requests in parallel)",
            s.late,
            s.dropped,
            s.dropped_share() * 100.0,
            s.scheduled
        ));
    }
    if generator.saturated {
        notes.push(
            "INVALID RUN: the load generator was saturated, so latencies describe tachy, not the server".to_string(),
        );
    }
    let scenario = settings.scenario.as_ref().map(|p| p.display().to_string());
    LoadReport {
        schema: LOAD_SCHEMA.to_string(),
        tachy_version: env!("CARGO_PKG_VERSION").to_string(),
        run: RunInfo {
            url: settings.url.to_string(),
            model: if settings.rate.is_some() { LoadModel::Open } else { LoadModel::Closed },
            http_version: if settings.http2 { "2".into() } else { "1.1".into() },
            connections: settings.max_connections() as u64,
            streams: settings.streams as u64,
            threads: raw.threads as u64,
            rate: settings.rate.map(|_| rate_max(settings)),
            duration_secs: match settings.bound {
                Some(Bound::Duration(d)) => Some(d.as_secs_f64()),
                None => Some(settings.stages.iter().map(|s| s.duration.as_secs_f64()).sum()),
                Some(Bound::Requests(_)) => None,
            },
            requests: match settings.bound {
                Some(Bound::Requests(n)) => Some(n),
                _ => None,
            },
            timeout_secs: settings.timeout.as_secs_f64(),
            keepalive: settings.keepalive,
            scenario,
        },
        started_at: humantime::format_rfc3339_millis(raw.started_at).to_string(),
        elapsed_secs: elapsed,
        end: if raw.interrupted { LoadEnd::Interrupted } else { LoadEnd::Completed },
        totals,
        endpoints,
        timeline,
        schedule,
        generator,
        slos,
        server_profile: None,
        parts: 1,
        notes,
    }
}

fn rate_max(settings: &LoadSettings) -> f64 {
    if settings.stages.is_empty() {
        settings.rate.unwrap_or(0.0)
    } else {
        settings.stages.iter().map(|s| s.target).fold(0.0, f64::max)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::engine::recorder::Stats;

    fn raw(busy: f64, lag: f64) -> RawRun {
        RawRun {
            total: Stats::new(3),
            endpoints: vec![],
            timeline: vec![],
            elapsed: Duration::from_secs(2),
            interrupted: false,
            planned: None,
            sent: 0,
            late: 0,
            max_lateness_us: 0,
            dropped: 0,
            max_dropped_wait_us: 0,
            in_flight: 0,
            threads: 2,
            busy_share: busy,
            lag_p99_ms: lag,
            cpu_secs: 3.0,
            started_at: std::time::SystemTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn the_self_check_flags_a_saturated_generator() {
        let ok = generator(&raw(0.4, 1.0));
        assert!(!ok.saturated && ok.reason.is_none());
        assert_eq!(ok.cpu_percent, 150.0);
        let busy = generator(&raw(0.95, 1.0));
        assert!(busy.saturated);
        assert!(busy.reason.unwrap().contains("busy 95%"));
        let lag = generator(&raw(0.2, 25.0));
        assert!(lag.saturated);
        assert!(lag.reason.unwrap().contains("25.0 ms late"));
    }
}
