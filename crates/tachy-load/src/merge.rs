//! `tachy load merge`: combines the reports of runs made at the same time on several machines.
//! Histograms are merged, never averaged (percentiles of parts cannot be averaged); counts,
//! rates and bytes add up; the timelines are aligned on the wall-clock start of each run (to
//! the nearest second), so workers that started apart line up; SLOs of the parts are evaluated
//! again on the merged figures.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use hdrhistogram::Histogram;
use tachy_report::load::{
    EndpointStats, GeneratorCheck, LOAD_SCHEMA, LoadEnd, LoadReport, LoadStats, ScheduleStats, TimelinePoint,
};

use crate::engine::recorder::Counts;
use crate::report::{evaluate_slos, point, stats};
use crate::{LoadError, Slo, hdr};

/// Reads a saved report, checking its schema.
pub fn read(path: &Path) -> Result<LoadReport, LoadError> {
    let bytes = std::fs::read(path).map_err(|source| LoadError::Read { path: path.into(), source })?;
    parse(path, &bytes)
}

/// Parses a saved report's bytes, checking its schema (`path` only names the file in messages).
pub fn parse(path: &Path, bytes: &[u8]) -> Result<LoadReport, LoadError> {
    let bad = |reason: String| LoadError::BadReport { path: path.into(), reason };
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| bad(format!("invalid JSON: {e}")))?;
    match value.get("schema").and_then(|s| s.as_str()) {
        Some(LOAD_SCHEMA) => {}
        Some(other) => {
            return Err(bad(format!(
                "schema '{other}', expected '{LOAD_SCHEMA}' (written by tachy load --export-json)"
            )));
        }
        None => return Err(bad("no schema field; write reports with tachy load --export-json".into())),
    }
    serde_json::from_value(value).map_err(|e| bad(e.to_string()))
}

fn counts_of(s: &LoadStats) -> Counts {
    Counts {
        requests: s.requests,
        responses: s.responses,
        ok: s.ok,
        errors: s.errors,
        bytes: s.bytes_received,
        statuses: s.status_counts.clone(),
        error_counts: s.error_counts.clone(),
    }
}

struct Acc {
    counts: Counts,
    hist: Histogram<u64>,
    rps: f64,
    bytes_per_sec: f64,
}

impl Acc {
    fn new(sigfig: u8) -> Self {
        Acc { counts: Counts::default(), hist: hdr::new(sigfig), rps: 0.0, bytes_per_sec: 0.0 }
    }

    fn add(&mut self, path: &Path, s: &LoadStats) -> Result<(), LoadError> {
        self.counts.add(&counts_of(s));
        let h = hdr::decode(&s.latency_hdr).map_err(|reason| LoadError::BadReport { path: path.into(), reason })?;
        self.hist.add(&h).map_err(|e| LoadError::BadReport {
            path: path.into(),
            reason: format!("its latency histogram cannot be added: {e}"),
        })?;
        self.rps += s.rps;
        self.bytes_per_sec += s.bytes_per_sec;
        Ok(())
    }

    fn finish(&self, elapsed: f64) -> LoadStats {
        let mut s = stats(&self.counts, &self.hist, elapsed);
        // Parts ran side by side: their throughputs add up.
        s.rps = self.rps;
        s.bytes_per_sec = self.bytes_per_sec;
        s
    }
}

/// Seconds between each part's start and the earliest one, rounded; all 0 when a start time
/// cannot be read.
fn start_offsets(parts: &[(PathBuf, LoadReport)]) -> Vec<u64> {
    let starts: Option<Vec<SystemTime>> =
        parts.iter().map(|(_, r)| humantime::parse_rfc3339_weak(&r.started_at).ok()).collect();
    let Some(starts) = starts else { return vec![0; parts.len()] };
    let Some(first) = starts.iter().min().copied() else { return Vec::new() };
    starts.iter().map(|s| s.duration_since(first).unwrap_or_default().as_secs_f64().round() as u64).collect()
}

/// The earliest start time of the parts, as written by them.
fn earliest_start(parts: &[(PathBuf, LoadReport)]) -> String {
    parts
        .iter()
        .filter_map(|(_, r)| humantime::parse_rfc3339_weak(&r.started_at).ok().map(|t| (t, &r.started_at)))
        .min_by_key(|(t, _)| *t)
        .map(|(_, s)| s.clone())
        .or_else(|| parts.iter().map(|(_, r)| r.started_at.clone()).min())
        .unwrap_or_default()
}

/// Checks that a part's counts agree with each other: every ended request is either ok or an
/// error, responses sit between the two, and the per-status and per-class counts add up.
fn consistent(path: &Path, what: &str, s: &LoadStats) -> Result<(), LoadError> {
    let bad = |reason: String| LoadError::BadReport { path: path.into(), reason: format!("{what}: {reason}") };
    fn sum<K>(m: &BTreeMap<K, u64>) -> Option<u64> {
        m.values().try_fold(0u64, |a, &b| a.checked_add(b))
    }
    if s.ok.checked_add(s.errors) != Some(s.requests) {
        return Err(bad(format!("{} ok + {} errors is not the {} requests", s.ok, s.errors, s.requests)));
    }
    if s.ok > s.responses || s.responses > s.requests {
        return Err(bad(format!("{} responses for {} requests ({} ok)", s.responses, s.requests, s.ok)));
    }
    if sum(&s.status_counts) != Some(s.responses) {
        return Err(bad(format!("the status counts do not add up to the {} responses", s.responses)));
    }
    if sum(&s.error_counts) != Some(s.errors) {
        return Err(bad(format!("the error counts do not add up to the {} errors", s.errors)));
    }
    Ok(())
}

/// Refuses the same run given twice, and totals that would overflow; notes parts that ran
/// against different targets.
fn check_parts(parts: &[(PathBuf, LoadReport)], notes: &mut Vec<String>) -> Result<(), LoadError> {
    let mut requests = 0u64;
    for (i, (path, r)) in parts.iter().enumerate() {
        consistent(path, "totals", &r.totals)?;
        for e in &r.endpoints {
            consistent(path, &format!("request '{}'", e.name), &e.stats)?;
        }
        requests = requests.checked_add(r.totals.requests).ok_or_else(|| LoadError::BadReport {
            path: path.clone(),
            reason: "the request counts of the parts overflow when added".into(),
        })?;
        for (other, o) in &parts[..i] {
            let same_file =
                std::fs::canonicalize(path).ok().is_some_and(|c| std::fs::canonicalize(other).ok() == Some(c));
            let same_run = o.started_at == r.started_at
                && o.totals.requests == r.totals.requests
                && o.totals.latency_hdr == r.totals.latency_hdr;
            if same_file || same_run {
                return Err(LoadError::InvalidSetting(format!(
                    "{} and {} are the same run: merging it twice would double every count",
                    other.display(),
                    path.display()
                )));
            }
        }
    }
    let mut urls: Vec<&str> = parts.iter().map(|(_, r)| r.run.url.as_str()).collect();
    urls.sort_unstable();
    urls.dedup();
    if urls.len() > 1 {
        notes.push(format!("the parts ran against different targets: {}", urls.join(", ")));
    }
    Ok(())
}

/// Merges reports; `slos` are evaluated on top of the parts' own SLOs.
pub fn merge(parts: &[(PathBuf, LoadReport)], slos: &[Slo]) -> Result<LoadReport, LoadError> {
    let Some((_, first)) = parts.first() else {
        return Err(LoadError::InvalidSetting("nothing to merge: give at least one report".into()));
    };
    let mut notes = Vec::new();
    check_parts(parts, &mut notes)?;
    let offsets = start_offsets(parts);
    let elapsed = parts.iter().zip(&offsets).map(|((_, r), o)| *o as f64 + r.elapsed_secs).fold(0.0, f64::max);
    let mut total = Acc::new(hdr::SIGFIG);
    let mut endpoints: Vec<(EndpointStats, Acc)> = Vec::new();
    let mut seconds: BTreeMap<u64, (Acc, u64, Option<f64>)> = BTreeMap::new();
    let mut schedule: Option<ScheduleStats> = None;
    let mut generator = GeneratorCheck::default();
    let mut slo_exprs: Vec<(Option<String>, String)> = Vec::new();
    let mut n_parts = 0;
    let mut interrupted = false;
    if offsets.iter().any(|o| *o > 0) {
        let late: Vec<String> = parts
            .iter()
            .zip(&offsets)
            .filter(|(_, o)| **o > 0)
            .map(|((p, _), o)| format!("{} {o} s", p.display()))
            .collect();
        notes
            .push(format!("timelines aligned on wall-clock start times; started after the first: {}", late.join(", ")));
    }
    for ((path, r), offset) in parts.iter().zip(&offsets) {
        n_parts += r.parts.max(1);
        interrupted |= r.end == LoadEnd::Interrupted;
        total.add(path, &r.totals)?;
        for e in &r.endpoints {
            let idx = match endpoints.iter().position(|(x, _)| x.name == e.name) {
                Some(i) => i,
                None => {
                    endpoints.push((e.clone(), Acc::new(hdr::SIGFIG)));
                    endpoints.len() - 1
                }
            };
            endpoints[idx].1.add(path, &e.stats)?;
        }
        for p in &r.timeline {
            let slot = seconds.entry(p.second + offset).or_insert_with(|| (Acc::new(hdr::SIGFIG_INTERVAL), 0, None));
            slot.0.counts.add(&Counts {
                requests: p.requests,
                errors: p.errors,
                bytes: p.bytes_received,
                error_counts: if p.timeouts > 0 {
                    [(tachy_report::load::ErrorClass::Timeout, p.timeouts)].into_iter().collect()
                } else {
                    BTreeMap::new()
                },
                ..Counts::default()
            });
            let h =
                hdr::decode(&p.latency_hdr).map_err(|reason| LoadError::BadReport { path: path.clone(), reason })?;
            let _ = slot.0.hist.add(&h);
            slot.1 += p.connections;
            slot.2 = match (slot.2, p.target_rate) {
                (Some(a), Some(b)) => Some(a + b),
                (a, b) => a.or(b),
            };
        }
        if let Some(s) = &r.schedule {
            let acc = schedule
                .get_or_insert_with(|| ScheduleStats { late_threshold_ms: s.late_threshold_ms, ..Default::default() });
            acc.target_rate += s.target_rate;
            acc.scheduled += s.scheduled;
            acc.sent += s.sent;
            acc.late += s.late;
            acc.dropped += s.dropped;
            acc.max_dropped_wait_ms = acc.max_dropped_wait_ms.max(s.max_dropped_wait_ms);
            acc.max_lateness_ms = acc.max_lateness_ms.max(s.max_lateness_ms);
            acc.achieved_rate += s.achieved_rate;
        }
        let g = &r.generator;
        generator.cpu_secs += g.cpu_secs;
        generator.cpu_percent += g.cpu_percent;
        generator.busy_share = generator.busy_share.max(g.busy_share);
        generator.lag_p99_ms = generator.lag_p99_ms.max(g.lag_p99_ms);
        generator.cores += g.cores;
        if g.saturated {
            generator.saturated = true;
            let reason = format!("{}: {}", path.display(), g.reason.as_deref().unwrap_or("saturated"));
            generator.reason = Some(match generator.reason.take() {
                Some(prev) => format!("{prev}; {reason}"),
                None => reason,
            });
        }
        // The implicit `dropped<=0` is added again on the merged figures when still due.
        for s in r.slos.iter().filter(|s| !s.implicit) {
            let key = (s.scope.clone(), s.expr.clone());
            if !slo_exprs.contains(&key) {
                slo_exprs.push(key);
            }
        }
        notes.extend(r.notes.iter().map(|n| format!("{}: {n}", path.display())));
    }
    let totals = total.finish(elapsed);
    let mut scoped = Vec::new();
    let mut endpoint_stats = Vec::new();
    for (e, acc) in &endpoints {
        let st = acc.finish(elapsed);
        let own: Vec<Slo> = slo_exprs
            .iter()
            .filter(|(scope, _)| scope.as_deref() == Some(e.name.as_str()))
            .filter_map(|(_, expr)| Slo::parse(expr).ok())
            .collect();
        if !own.is_empty() {
            scoped.push((e.name.clone(), own, st.clone(), acc.hist.clone()));
        }
        endpoint_stats.push(EndpointStats { stats: st, ..e.clone() });
    }
    let mut global: Vec<Slo> =
        slo_exprs.iter().filter(|(s, _)| s.is_none()).filter_map(|(_, e)| Slo::parse(e).ok()).collect();
    for s in slos {
        if !global.iter().any(|g| g.expr == s.expr) {
            global.push(s.clone());
        }
    }
    let slo_results = evaluate_slos(&global, (&totals, &total.hist), schedule.as_ref(), &scoped);
    let timeline: Vec<TimelinePoint> =
        seconds.iter().map(|(sec, (acc, conns, rate))| point(*sec, &acc.counts, &acc.hist, *conns, *rate)).collect();
    let mut run = first.run.clone();
    run.connections = parts.iter().map(|(_, r)| r.run.connections).sum();
    run.threads = parts.iter().map(|(_, r)| r.run.threads).sum();
    run.rate = parts.iter().map(|(_, r)| r.run.rate).sum::<Option<f64>>();
    run.requests = parts.iter().map(|(_, r)| r.run.requests).sum::<Option<u64>>();
    Ok(LoadReport {
        schema: LOAD_SCHEMA.to_string(),
        tachy_version: env!("CARGO_PKG_VERSION").to_string(),
        run,
        started_at: earliest_start(parts),
        elapsed_secs: elapsed,
        end: if interrupted { LoadEnd::Interrupted } else { LoadEnd::Completed },
        totals,
        endpoints: endpoint_stats,
        timeline,
        schedule,
        generator,
        slos: slo_results,
        server_profile: None,
        parts: n_parts,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use tachy_report::load::TimelinePoint;

    use super::*;

    fn part(started_at: &str, seconds: &[(u64, u64)]) -> LoadReport {
        let empty = hdr::encode(&hdr::new(hdr::SIGFIG));
        let mut r = crate::tests::empty_report();
        r.started_at = started_at.into();
        r.elapsed_secs = seconds.len() as f64;
        r.totals.latency_hdr = empty.clone();
        r.timeline = seconds
            .iter()
            .map(|&(second, requests)| TimelinePoint {
                second,
                requests,
                errors: 0,
                timeouts: 0,
                bytes_received: 0,
                connections: 1,
                target_rate: None,
                mean_ms: 0.0,
                p50_ms: 0.0,
                p99_ms: 0.0,
                max_ms: 0.0,
                latency_hdr: hdr::encode(&hdr::new(hdr::SIGFIG_INTERVAL)),
            })
            .collect();
        r
    }

    #[test]
    fn timelines_line_up_on_wall_clock_starts() {
        let a = part("2026-01-01T00:00:00.000Z", &[(0, 10), (1, 10), (2, 10)]);
        let b = part("2026-01-01T00:00:02.100Z", &[(0, 5), (1, 5)]);
        let merged = merge(&[("a.json".into(), a), ("b.json".into(), b)], &[]).unwrap();
        let by_second: Vec<(u64, u64)> = merged.timeline.iter().map(|p| (p.second, p.requests)).collect();
        assert_eq!(by_second, vec![(0, 10), (1, 10), (2, 15), (3, 5)]);
        assert_eq!(merged.elapsed_secs, 4.0);
        assert_eq!(merged.started_at, "2026-01-01T00:00:00.000Z");
        assert!(merged.notes.iter().any(|n| n.contains("b.json 2 s")), "{:?}", merged.notes);
    }

    #[test]
    fn unreadable_start_times_fall_back_to_seconds_since_each_start() {
        let a = part("yesterday", &[(0, 1)]);
        let b = part("2026-01-01T00:00:09Z", &[(0, 2)]);
        let merged = merge(&[("a.json".into(), a), ("b.json".into(), b)], &[]).unwrap();
        assert_eq!(merged.timeline.len(), 1);
        assert_eq!(merged.timeline[0].requests, 3);
    }
}
