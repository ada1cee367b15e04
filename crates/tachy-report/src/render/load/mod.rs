//! Renderers of a [`LoadReport`] (`tachy load`): the terminal summary and the live line
//! ([`text()`], [`live_line`]), the per-second timeline as CSV ([`timeline_csv`]) and the
//! JSON report ([`json`], schema `tachy-load/1`, documented in `docs/load-json.md`).
//!
//! | format   | function          | used by                       |
//! |----------|-------------------|-------------------------------|
//! | text     | [`text()`]        | the terminal summary          |
//! | live     | [`live_line`]     | the live view on a TTY        |
//! | CSV      | [`timeline_csv`]  | `--export-csv`                |
//! | JSON     | [`json`]          | `--json`, `--export-json`     |

mod csv;
mod text;

pub use self::csv::timeline_csv;
pub use self::text::{live_line, text};

use super::RenderError;
use crate::load::LoadReport;

/// Renders a load report as pretty-printed JSON with a trailing newline.
pub fn json(report: &LoadReport) -> Result<String, RenderError> {
    let mut s = serde_json::to_string_pretty(report)?;
    s.push('\n');
    Ok(s)
}

/// Deterministic load reports for the renderers' tests, one per shape of run.
#[cfg(test)]
pub(crate) mod fixture {
    use std::collections::BTreeMap;

    use crate::load::*;

    /// Latency figures scaled from a median of `p50` ms.
    fn latency(count: u64, p50: f64) -> LatencySummary {
        LatencySummary {
            count,
            min_ms: p50 * 0.21,
            mean_ms: p50 * 1.12,
            stdev_ms: p50 * 0.6,
            p50_ms: p50,
            p90_ms: p50 * 1.8,
            p95_ms: p50 * 2.3,
            p99_ms: p50 * 4.6,
            p99_9_ms: p50 * 11.7,
            max_ms: p50 * 14.9,
        }
    }

    /// Log-spaced buckets (1-2-5 series) around a median of `p50` ms holding `count` responses.
    fn histogram(count: u64, p50: f64) -> Vec<LatencyBucket> {
        let shares = [0.0, 0.004, 0.08, 0.31, 0.42, 0.13, 0.04, 0.0, 0.012, 0.004];
        let bounds = [0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0];
        let scale = p50 / 1.6;
        let mut left = count;
        let mut out: Vec<LatencyBucket> = shares
            .iter()
            .zip(bounds)
            .map(|(share, le)| {
                let c = ((count as f64) * share).round() as u64;
                let c = c.min(left);
                left -= c;
                LatencyBucket { le_ms: le * scale, count: c }
            })
            .collect();
        if let Some(b) = out.iter_mut().rev().find(|b| b.count > 0) {
            b.count += left;
        }
        out
    }

    /// Figures of `requests` requests over `elapsed` seconds around a median of `p50` ms.
    fn stats(
        requests: u64,
        elapsed: f64,
        p50: f64,
        errors: &[(ErrorClass, u64)],
        statuses: &[(u16, u64)],
    ) -> LoadStats {
        let error_counts: BTreeMap<ErrorClass, u64> = errors.iter().copied().collect();
        let errors_total: u64 = error_counts.values().sum();
        let transport: u64 =
            error_counts.iter().filter(|(c, _)| **c != ErrorClass::UnexpectedStatus).map(|(_, n)| n).sum();
        let responses = requests - transport;
        let timeouts = error_counts.get(&ErrorClass::Timeout).copied().unwrap_or(0);
        let mut status_counts: BTreeMap<u16, u64> = statuses.iter().copied().collect();
        let other: u64 = status_counts.values().sum();
        status_counts.insert(200, responses - other);
        let bytes_received = responses * 612;
        LoadStats {
            requests,
            responses,
            ok: requests - errors_total,
            errors: errors_total,
            error_rate: errors_total as f64 / requests as f64,
            timeout_rate: timeouts as f64 / requests as f64,
            rps: requests as f64 / elapsed,
            bytes_received,
            bytes_per_sec: bytes_received as f64 / elapsed,
            latency: latency(responses, p50),
            histogram: histogram(responses, p50),
            status_counts,
            error_counts,
            latency_hdr: String::new(),
        }
    }

    /// A per-second timeline: `rps[i]` requests in second `i`, p99 from `p99[i]`, and
    /// `(second, errors, timeouts)` for the seconds with errors.
    fn timeline(
        rps: &[u64],
        p99: &[f64],
        connections: &[u64],
        target: Option<&[f64]>,
        errors: &[(usize, u64, u64)],
    ) -> Vec<TimelinePoint> {
        rps.iter()
            .enumerate()
            .map(|(i, &n)| {
                let p = p99[i % p99.len()];
                let (errors, timeouts) =
                    errors.iter().find(|(s, _, _)| *s == i).map(|(_, e, t)| (*e, *t)).unwrap_or((0, 0));
                TimelinePoint {
                    second: i as u64,
                    requests: n,
                    errors,
                    timeouts,
                    bytes_received: n * 612,
                    connections: connections[i.min(connections.len() - 1)],
                    target_rate: target.map(|t| t[i.min(t.len() - 1)]),
                    mean_ms: p / 3.9,
                    p50_ms: p / 4.6,
                    p99_ms: p,
                    max_ms: p * 1.25,
                    latency_hdr: String::new(),
                }
            })
            .collect()
    }

    fn run(model: LoadModel) -> RunInfo {
        RunInfo {
            url: "http://127.0.0.1:8000/".into(),
            model,
            http_version: "1.1".into(),
            connections: 50,
            streams: 1,
            threads: 2,
            rate: None,
            duration_secs: Some(10.0),
            requests: None,
            timeout_secs: 10.0,
            keepalive: true,
            scenario: None,
        }
    }

    fn healthy() -> GeneratorCheck {
        GeneratorCheck {
            cpu_secs: 8.51,
            cpu_percent: 85.1,
            busy_share: 0.424,
            lag_p99_ms: 0.81,
            cores: 2,
            saturated: false,
            reason: None,
        }
    }

    fn report(run: RunInfo, elapsed_secs: f64, totals: LoadStats) -> LoadReport {
        LoadReport {
            schema: LOAD_SCHEMA.into(),
            tachy_version: "0.0.0-test".into(),
            run,
            started_at: "2026-01-01T00:00:00Z".into(),
            elapsed_secs,
            end: LoadEnd::Completed,
            endpoints: vec![],
            totals,
            timeline: vec![],
            schedule: None,
            generator: healthy(),
            slos: vec![],
            server_profile: None,
            parts: 1,
            notes: vec![],
        }
    }

    fn single_endpoint(r: &mut LoadReport, method: &str, path: &str) {
        r.endpoints = vec![EndpointStats {
            name: format!("{method} {path}"),
            method: method.into(),
            path: path.into(),
            weight: 1,
            stats: r.totals.clone(),
        }];
    }

    /// `tachy load -c 50 -d 10s http://127.0.0.1:8000/`: no errors, steady.
    pub fn closed() -> LoadReport {
        let mut r = report(run(LoadModel::Closed), 10.0, stats(54_321, 10.0, 8.2, &[], &[]));
        single_endpoint(&mut r, "GET", "/");
        r.timeline = timeline(
            &[4_812, 5_490, 5_502, 5_470, 5_511, 5_498, 5_530, 5_467, 5_521, 5_520],
            &[41.0, 37.5, 36.0, 38.2, 35.9, 36.4, 37.7, 36.1, 35.8, 36.0],
            &[50],
            None,
            &[],
        );
        r
    }

    /// A two-request scenario bounded by `-n 4000`, with errors and failing SLOs.
    pub fn scenario() -> LoadReport {
        let mut run = run(LoadModel::Closed);
        run.url = "http://127.0.0.1:8000".into();
        run.scenario = Some("shop.toml".into());
        run.connections = 20;
        run.duration_secs = None;
        run.requests = Some(4_000);
        let errors = [(ErrorClass::Timeout, 12), (ErrorClass::Reset, 3), (ErrorClass::UnexpectedStatus, 40)];
        let mut r = report(run, 3.52, stats(4_000, 3.52, 12.4, &errors, &[(503, 40)]));
        let home = stats(3_000, 3.52, 9.1, &[(ErrorClass::Timeout, 2)], &[]);
        let checkout = stats(
            1_000,
            3.52,
            31.0,
            &[(ErrorClass::Timeout, 10), (ErrorClass::Reset, 3), (ErrorClass::UnexpectedStatus, 40)],
            &[(503, 40)],
        );
        r.endpoints = vec![
            EndpointStats { name: "home".into(), method: "GET".into(), path: "/".into(), weight: 3, stats: home },
            EndpointStats {
                name: "checkout".into(),
                method: "POST".into(),
                path: "/cart/checkout".into(),
                weight: 1,
                stats: checkout,
            },
        ];
        r.timeline =
            timeline(&[1_102, 1_187, 1_141, 570], &[60.2, 55.1, 142.7, 58.3], &[20], None, &[(2, 40, 10), (3, 15, 2)]);
        r.slos = vec![
            SloResult {
                expr: "p95<200ms".into(),
                scope: None,
                metric: "p95".into(),
                measured: 28.52,
                limit: 200.0,
                unit: "ms".into(),
                passed: true,
                implicit: false,
            },
            SloResult {
                expr: "errors<1%".into(),
                scope: None,
                metric: "errors".into(),
                measured: 1.375,
                limit: 1.0,
                unit: "%".into(),
                passed: false,
                implicit: false,
            },
            SloResult {
                expr: "p99<100ms".into(),
                scope: Some("checkout".into()),
                metric: "p99".into(),
                measured: 142.6,
                limit: 100.0,
                unit: "ms".into(),
                passed: false,
                implicit: false,
            },
            SloResult {
                expr: "rps>=1000".into(),
                scope: None,
                metric: "rps".into(),
                measured: 1136.4,
                limit: 1000.0,
                unit: "req/s".into(),
                passed: true,
                implicit: false,
            },
        ];
        r.notes = vec!["'checkout' expects [200, 201]: 40 responses had status 503".into()];
        r
    }

    /// `tachy load -r 500 -d 30s` with a 10 s ramp from 100 req/s, some late and dropped sends.
    pub fn open() -> LoadReport {
        let mut run = run(LoadModel::Open);
        run.url = "http://127.0.0.1:8000/api/items?limit=10".into();
        run.rate = Some(500.0);
        run.duration_secs = Some(30.0);
        run.connections = 64;
        let target: Vec<f64> = (0..30).map(|s| if s < 10 { 100.0 + 40.0 * s as f64 } else { 500.0 }).collect();
        let rps: Vec<u64> = target.iter().enumerate().map(|(i, t)| if i == 17 { 431 } else { *t as u64 - 1 }).collect();
        let total: u64 = rps.iter().sum();
        let mut r = report(run, 30.0, stats(total, 30.0, 3.4, &[(ErrorClass::Timeout, 5)], &[]));
        single_endpoint(&mut r, "GET", "/api/items?limit=10");
        let mut p99 = vec![9.8; 30];
        p99[17] = 40.0;
        p99[18] = 16.0;
        r.timeline = timeline(&rps, &p99, &[64], Some(&target), &[(17, 5, 5)]);
        r.schedule = Some(ScheduleStats {
            target_rate: 500.0,
            scheduled: total + 5,
            sent: total,
            late: 37,
            dropped: 5,
            max_dropped_wait_ms: 131.0,
            late_threshold_ms: 10.0,
            max_lateness_ms: 452.3,
            achieved_rate: total as f64 / 30.0,
        });
        r.slos = vec![SloResult {
            expr: "dropped<=0".into(),
            scope: None,
            metric: "dropped".into(),
            measured: 5.0,
            limit: 0.0,
            unit: "requests".into(),
            passed: false,
            implicit: true,
        }];
        r
    }

    /// 1000 connections on 2 cores: the generator was the bottleneck.
    pub fn saturated() -> LoadReport {
        let mut run = run(LoadModel::Closed);
        run.connections = 1_000;
        run.http_version = "2".into();
        let mut r = report(run, 10.0, stats(81_230, 10.0, 96.0, &[], &[]));
        single_endpoint(&mut r, "GET", "/");
        r.timeline = timeline(
            &[7_900, 8_200, 8_150, 8_230, 8_110, 8_090, 8_170, 8_120, 8_140, 8_120],
            &[612.0],
            &[1_000],
            None,
            &[],
        );
        r.generator = GeneratorCheck {
            cpu_secs: 19.7,
            cpu_percent: 197.0,
            busy_share: 0.985,
            lag_p99_ms: 48.2,
            cores: 2,
            saturated: true,
            reason: Some("CPU 197% of 2 cores, event-loop lag p99 48.2 ms".into()),
        };
        r.notes = vec!["the generator was saturated: the figures are not valid".into()];
        r
    }

    /// Four runs merged, stopped by Ctrl-C after 7.4 s of 60 s, with a server profile.
    pub fn interrupted_merged() -> LoadReport {
        let mut run = run(LoadModel::Closed);
        run.connections = 200;
        run.threads = 8;
        run.duration_secs = Some(60.0);
        run.keepalive = false;
        let mut r =
            report(run, 7.42, stats(24_310, 7.42, 0.64, &[(ErrorClass::Refused, 2), (ErrorClass::Closed, 7)], &[]));
        r.end = LoadEnd::Interrupted;
        r.parts = 4;
        single_endpoint(&mut r, "GET", "/health");
        r.timeline = timeline(
            &[3_010, 3_390, 3_402, 3_350, 3_371, 3_420, 3_380, 987],
            &[2.9, 2.4, 2.5, 2.6, 2.4],
            &[200],
            None,
            &[(0, 2, 0), (7, 7, 0)],
        );
        r.server_profile = Some(ServerProfile {
            pid: 4242,
            path: "server-profile.json".into(),
            write_error: None,
            samples: 7_380,
            view: ProfileView::RunningThreads,
            threads_per_round: 2.4,
            top: vec![
                ProfileLine {
                    function: "handle".into(),
                    location: "app/server.py:41".into(),
                    self_share: 0.312,
                    total_share: 0.884,
                },
                ProfileLine {
                    function: "dumps".into(),
                    location: "json/encoder.py:183".into(),
                    self_share: 0.207,
                    total_share: 0.241,
                },
                ProfileLine {
                    function: "_send".into(),
                    location: "app/server.py:77".into(),
                    self_share: 0.118,
                    total_share: 0.118,
                },
            ],
            notes: vec!["several threads ran at once (2.4 sampled per round on average): add --gil".into()],
        });
        r.notes = vec!["interrupted after 7.4 s of 60 s: the figures cover the run until then".into()];
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trips() {
        for report in [
            fixture::closed(),
            fixture::scenario(),
            fixture::open(),
            fixture::saturated(),
            fixture::interrupted_merged(),
        ] {
            let text = json(&report).unwrap();
            assert!(text.ends_with("}\n"));
            let back: LoadReport = serde_json::from_str(&text).unwrap();
            assert_eq!(back, report);
        }
    }

    #[test]
    fn json_shape() {
        let text = json(&fixture::scenario()).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["schema"], "tachy-load/1");
        assert_eq!(v["run"]["model"], "closed");
        assert_eq!(v["end"], "completed");
        assert_eq!(v["totals"]["error_counts"]["unexpected_status"], 40);
        assert_eq!(v["totals"]["status_counts"]["503"], 40);
        assert!(v["schedule"].is_null());
        insta::assert_snapshot!("scenario_json", text);
    }
}
