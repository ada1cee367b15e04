//! `tachy load` end to end against in-process test servers on 127.0.0.1 (well-behaved and
//! misbehaving): exact counts and error classes, the open model, exports, merge, scenarios,
//! every bad input, Ctrl-C and the server-side profile. Counts are asserted exactly, rates
//! never; the only timing assertions are lower bounds caused by the servers' own sleeps.

use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tachy_test::servers::{Behavior, TestServer};
use tachy_test::wait_bounded;

use crate::{json, tachy};

/// Bound of one `tachy load` run (against hangs only).
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// A fixture under `tests/fixtures/load/`.
fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/load").join(name)
}

/// Runs `tachy load ARGS` (bounded in time).
fn load(args: &[&str]) -> Output {
    tachy().arg("load").args(args).timeout(RUN_LIMIT).output().unwrap()
}

/// Runs `tachy load --json ARGS`, checks the exit code and parses the report.
fn load_json(args: &[&str], code: i32) -> Value {
    let out = tachy().args(["load", "--json"]).args(args).timeout(RUN_LIMIT).output().unwrap();
    assert_eq!(out.status.code(), Some(code), "tachy load {args:?}\nstderr: {}", stderr(&out));
    json(&out)
}

/// A command's stderr as text.
fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A command's stdout as text.
fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `stats.error_counts[class]`, 0 when absent.
fn errors(stats: &Value, class: &str) -> u64 {
    stats["error_counts"].get(class).and_then(Value::as_u64).unwrap_or(0)
}

/// `stats.status_counts[code]`, 0 when absent.
fn statuses(stats: &Value, code: u16) -> u64 {
    stats["status_counts"].get(code.to_string()).and_then(Value::as_u64).unwrap_or(0)
}

/// A u64 field.
fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not an unsigned integer: {v}"))
}

/// An f64 field.
fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// The sum of every error class.
fn all_errors(stats: &Value) -> u64 {
    stats["error_counts"].as_object().map_or(0, |m| m.values().filter_map(Value::as_u64).sum())
}

/// Asserts that a command failed with exit 2 and one line on stderr containing `needle`
/// (case-insensitive).
fn assert_fails_with(out: &Output, needle: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "stdout: {}\nstderr: {err}", stdout(out));
    assert!(err.to_lowercase().contains(&needle.to_lowercase()), "expected '{needle}' in stderr: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line on stderr: {err}");
    assert!(err.starts_with("tachy: error: "), "{err}");
}

/// Reads a pipe to its end in a thread.
fn drain(pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut pipe = pipe;
        let mut s = String::new();
        let _ = pipe.read_to_string(&mut s);
        s
    })
}

#[test]
fn load_fixed_delay_counts_every_request() {
    let server = TestServer::start(Behavior::ok_after(Duration::from_millis(10)));
    let v = load_json(&[&server.url("/"), "-n", "200", "-c", "4"], 0);
    assert_eq!(v["schema"], "tachy-load/1");
    assert_eq!(v["run"]["model"], "closed");
    assert_eq!(v["run"]["http_version"], "1.1");
    assert_eq!(v["run"]["requests"], 200);
    assert_eq!(v["run"]["connections"], 4);
    assert_eq!(v["end"], "completed");
    assert_eq!(v["parts"], 1);
    assert!(v["schedule"].is_null(), "no schedule in the closed model");
    let t = &v["totals"];
    assert_eq!(u(&t["requests"]), 200);
    assert_eq!(u(&t["responses"]), 200);
    assert_eq!(u(&t["ok"]), 200);
    assert_eq!(u(&t["errors"]), 0);
    assert_eq!(f(&t["error_rate"]), 0.0);
    assert_eq!(t["status_counts"], serde_json::json!({"200": 200}));
    assert_eq!(all_errors(t), 0);
    assert_eq!(u(&t["latency"]["count"]), 200);
    // The server sleeps 10 ms before every answer: a lower bound on every latency.
    assert!(f(&t["latency"]["p50_ms"]) >= 10.0, "{}", t["latency"]);
    assert!(f(&t["latency"]["min_ms"]) >= 10.0, "{}", t["latency"]);
    assert!(u(&t["bytes_received"]) > 0);
    assert!(!t["latency_hdr"].as_str().unwrap().is_empty());
    assert_eq!(server.requests_seen(), 200, "exactly -n requests were sent");
    // One endpoint, with every request.
    let eps = v["endpoints"].as_array().unwrap();
    assert_eq!(eps.len(), 1);
    assert_eq!(u(&eps[0]["stats"]["requests"]), 200);
}

#[test]
fn load_unexpected_statuses_are_errors_but_exit_zero_without_slo() {
    let server = TestServer::start(Behavior::StatusCycle(vec![200, 200, 200, 500]));
    let v = load_json(&[&server.url("/"), "-n", "100", "-c", "3"], 0);
    let t = &v["totals"];
    assert_eq!(u(&t["requests"]), 100);
    assert_eq!(u(&t["responses"]), 100);
    assert_eq!(statuses(t, 200), 75);
    assert_eq!(statuses(t, 500), 25);
    assert_eq!(u(&t["ok"]), 75);
    assert_eq!(u(&t["errors"]), 25);
    assert_eq!(errors(t, "unexpected_status"), 25);
    assert_eq!(all_errors(t), 25, "{}", t["error_counts"]);
    assert!((f(&t["error_rate"]) - 0.25).abs() < 1e-9);
}

#[test]
fn load_failing_slo_exits_one_and_shows_it() {
    let server = TestServer::start(Behavior::StatusCycle(vec![200, 200, 200, 500]));
    let out = load(&[&server.url("/"), "-n", "100", "-c", "3", "--slo", "errors<1%"]);
    assert_eq!(out.status.code(), Some(1), "stderr: {}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("errors<1%"), "{text}");
    assert!(text.to_lowercase().contains("fail"), "{text}");
    // The same in JSON: one global SLO, failed, measured 25 %.
    let v = load_json(&[&server.url("/"), "-n", "100", "-c", "3", "--slo", "errors<1%"], 1);
    let slos = v["slos"].as_array().unwrap();
    assert_eq!(slos.len(), 1);
    assert_eq!(slos[0]["expr"], "errors<1%");
    assert!(slos[0]["scope"].is_null());
    assert_eq!(slos[0]["passed"], false);
    assert!((f(&slos[0]["measured"]) - 25.0).abs() < 1e-6, "{}", slos[0]);
}

#[test]
fn load_close_mid_response_is_counted_as_closed_and_the_run_goes_on() {
    let server = TestServer::start(Behavior::CloseMidResponse { every: 10 });
    let v = load_json(&[&server.url("/"), "-n", "100", "-c", "2"], 0);
    let t = &v["totals"];
    assert_eq!(u(&t["requests"]), 100);
    assert_eq!(errors(t, "closed"), 10, "{}", t["error_counts"]);
    assert_eq!(all_errors(t), 10, "{}", t["error_counts"]);
    assert_eq!(u(&t["ok"]), 90);
    assert_eq!(u(&t["errors"]), 10);
}

#[test]
fn load_reset_is_counted_as_reset() {
    // The server reads the whole request, then closes with SO_LINGER 0: the client, waiting
    // for the response, reads ECONNRESET. Nothing is in flight from the client at that point,
    // so the kernel has no other way to report it (no ambiguity with a clean EOF).
    let server = TestServer::start(Behavior::Reset { every: 10 });
    let v = load_json(&[&server.url("/"), "-n", "100", "-c", "2"], 0);
    let t = &v["totals"];
    assert_eq!(u(&t["requests"]), 100);
    assert_eq!(errors(t, "reset"), 10, "{}", t["error_counts"]);
    assert_eq!(all_errors(t), 10, "{}", t["error_counts"]);
    assert_eq!(u(&t["ok"]), 90);
}

#[test]
fn load_keepalive_connections_closed_while_idle_are_reopened_not_counted_as_errors() {
    // Every request waits ~100 ms on its connection (20/s over 2 connections), longer than the
    // server's 20 ms keep-alive timeout: each reuse finds the connection closed by the server.
    // Real servers do this all the time (uvicorn after 5 s, gunicorn 2 s, nginx 75 s); the
    // request goes out on a new connection and nothing is an error.
    let server = TestServer::start(Behavior::IdleClose { idle: Duration::from_millis(20) });
    let v = load_json(&[&server.url("/"), "--rate", "20", "-n", "12", "-c", "2"], 0);
    let t = &v["totals"];
    assert_eq!(u(&t["requests"]), 12);
    assert_eq!(all_errors(t), 0, "{}", t["error_counts"]);
    assert_eq!(u(&t["ok"]), 12);
    assert_eq!(server.requests_seen(), 12, "each request reached the server once");
}

#[test]
fn load_schedule_ends_before_the_deadline() {
    // 10/s for 1 s plans the requests at 0.0, 0.1, ..., 0.9 s: ten, none dropped.
    let server = TestServer::start(Behavior::ok_after(Duration::ZERO));
    let v = load_json(&[&server.url("/"), "--rate", "10", "-d", "1s", "-c", "2"], 0);
    assert_eq!(u(&v["schedule"]["scheduled"]), 10, "{}", v["schedule"]);
    assert_eq!(u(&v["schedule"]["dropped"]), 0, "{}", v["schedule"]);
    assert_eq!(u(&v["totals"]["requests"]), 10);
}

#[test]
fn load_open_model_drops_fail_the_run_by_default() {
    // One connection to a server that answers after 200 ms can send at most 11 requests in
    // 2 s; the schedule plans 100. Every other one is dropped (its connection still waited
    // for the server when it was due), whatever the machine's load.
    let server = TestServer::start(Behavior::ok_after(Duration::from_millis(200)));
    let args = [&server.url("/") as &str, "--rate", "50", "-d", "2s", "-c", "1", "--slo", "errors<1%"];
    let v = load_json(&args, 1);
    let s = &v["schedule"];
    assert_eq!(u(&s["scheduled"]), 100, "{s}");
    assert!(u(&s["sent"]) <= 11, "{s}");
    assert_eq!(u(&s["sent"]) + u(&s["dropped"]), 100, "a busy connection drops all it owes: {s}");
    assert!(f(&s["max_dropped_wait_ms"]) > 0.0, "{s}");
    assert_eq!(u(&v["totals"]["errors"]), 0, "drops are not errors");
    let slos = v["slos"].as_array().unwrap();
    assert_eq!(slos.len(), 2, "{slos:?}");
    assert_eq!(slos[0]["expr"], "errors<1%");
    assert_eq!(slos[0]["passed"], true);
    assert_eq!(slos[1]["expr"], "dropped<=0");
    assert_eq!(slos[1]["implicit"], true);
    assert_eq!(slos[1]["passed"], false);
    assert_eq!(f(&slos[1]["measured"]), u(&s["dropped"]) as f64);
    // The text says so beside the error rate and under the SLOs.
    let out = load(&args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("Dropped:"), "{text}");
    assert!(text.contains("dropped<=0 is the open model's default"), "{text}");
    // An explicit dropped SLO replaces the default.
    let v = load_json(&[&server.url("/"), "--rate", "50", "-d", "2s", "-c", "1", "--slo", "dropped<=1000"], 0);
    let slos = v["slos"].as_array().unwrap();
    assert_eq!(slos.len(), 1, "{slos:?}");
    assert_eq!((slos[0]["metric"].as_str(), slos[0]["unit"].as_str()), (Some("dropped"), Some("requests")));
    assert_eq!(slos[0]["passed"], true);
    assert!(u(&v["schedule"]["dropped"]) >= 89, "{}", v["schedule"]);
    let v = load_json(&[&server.url("/"), "--rate", "50", "-d", "2s", "-c", "1", "--slo", "dropped<50%"], 1);
    assert_eq!(v["slos"][0]["unit"], "%");
    assert_eq!(v["slos"][0]["passed"], false);
    // The closed model drops nothing: a dropped SLO there is a mistake.
    assert_fails_with(&load(&[&server.url("/"), "-n", "1", "--slo", "dropped<=0"]), "needs the open model");
}

#[test]
fn load_timeouts_are_counted_with_their_rate() {
    let server = TestServer::start(Behavior::SlowEvery { every: 2, delay: Duration::from_secs(3) });
    let v = load_json(&[&server.url("/"), "--timeout", "300ms", "-n", "10", "-c", "2"], 0);
    let t = &v["totals"];
    assert_eq!(u(&t["requests"]), 10);
    assert_eq!(errors(t, "timeout"), 5, "{}", t["error_counts"]);
    assert_eq!(all_errors(t), 5, "{}", t["error_counts"]);
    assert_eq!(u(&t["ok"]), 5);
    assert!((f(&t["timeout_rate"]) - 0.5).abs() < 1e-9, "{}", t["timeout_rate"]);
    assert!((f(&v["run"]["timeout_secs"]) - 0.3).abs() < 1e-9);
}

#[test]
fn load_garbage_is_an_invalid_response() {
    let server = TestServer::start(Behavior::Garbage { every: 5 });
    let v = load_json(&[&server.url("/"), "-n", "50", "-c", "5"], 0);
    let t = &v["totals"];
    assert_eq!(u(&t["requests"]), 50);
    assert_eq!(errors(t, "invalid_response"), 10, "{}", t["error_counts"]);
    assert_eq!(all_errors(t), 10, "{}", t["error_counts"]);
    assert_eq!(u(&t["ok"]), 40);
}

#[test]
fn load_chunked_responses_are_read_whole() {
    let server = TestServer::start(Behavior::Chunked);
    let v = load_json(&[&server.url("/"), "-n", "20", "-c", "2"], 0);
    let t = &v["totals"];
    assert_eq!(u(&t["requests"]), 20);
    assert_eq!(u(&t["ok"]), 20);
    assert_eq!(all_errors(t), 0, "{}", t["error_counts"]);
    assert!(u(&t["bytes_received"]) > 0);
    assert_eq!(server.requests_seen(), 20);
}

#[test]
fn load_http2_prior_knowledge() {
    let server = TestServer::start(Behavior::Http2 { delay: Duration::from_millis(1) });
    let v = load_json(&[&server.url("/"), "--http2", "-n", "50", "-c", "2"], 0);
    assert_eq!(v["run"]["http_version"], "2");
    let t = &v["totals"];
    assert_eq!(u(&t["requests"]), 50);
    assert_eq!(u(&t["ok"]), 50);
    assert_eq!(statuses(t, 200), 50);
    assert_eq!(all_errors(t), 0, "{}", t["error_counts"]);
    assert_eq!(server.requests_seen(), 50);
}

#[test]
fn load_http2_streams_share_connections() {
    // 2 connections x 8 streams: 16 requests in flight on 2 connections.
    let server = TestServer::start(Behavior::Http2 { delay: Duration::from_millis(30) });
    let v = load_json(&[&server.url("/"), "--http2", "--streams", "8", "-n", "160", "-c", "2"], 0);
    let t = &v["totals"];
    assert_eq!(u(&t["requests"]), 160);
    assert_eq!(u(&t["ok"]), 160, "{}", t["error_counts"]);
    // The preflight connection (opened to fail early on a bad target), then one per -c.
    assert_eq!(server.connections_accepted(), 3, "one connection per -c, shared by its streams");
    assert!(server.max_in_flight() > 2, "streams run at once: {} in flight at most", server.max_in_flight());
    assert!(server.max_in_flight() <= 16, "{}", server.max_in_flight());
    assert_eq!(u(&v["run"]["streams"]), 8);
    // Without --http2 there is nothing to multiplex.
    let out = load(&[&server.url("/"), "--streams", "8", "-n", "10"]);
    assert_fails_with(&out, "--streams needs --http2");
}

#[test]
fn load_http2_refused_streams_are_sent_again_not_counted() {
    // The 5th stream of every connection is refused (RST_STREAM REFUSED_STREAM: never
    // processed), as servers do at their stream limit or while draining after a GOAWAY (nginx
    // after 1000 requests on a connection): it goes out again on a new connection.
    let server = TestServer::start(Behavior::Http2Refuse { nth: 5 });
    let v = load_json(&[&server.url("/"), "--http2", "--streams", "4", "-n", "300", "-c", "2"], 0);
    let t = &v["totals"];
    assert_eq!(u(&t["requests"]), 300);
    assert_eq!(all_errors(t), 0, "{}", t["error_counts"]);
    assert_eq!(u(&t["ok"]), 300);
    assert_eq!(server.requests_seen(), 300, "each request processed once");
    assert!(server.connections_accepted() > 3, "refused requests went to new connections");
}

#[test]
fn load_tls_needs_insecure_for_a_self_signed_certificate() {
    let server = TestServer::start(Behavior::Tls { delay: Duration::ZERO });
    let url = server.url("/");
    assert!(url.starts_with("https://"));
    let out = load(&[&url, "-n", "20", "-c", "2"]);
    assert_fails_with(&out, "--insecure");
    let v = load_json(&[&url, "--insecure", "-n", "20", "-c", "2"], 0);
    let t = &v["totals"];
    assert_eq!(u(&t["requests"]), 20);
    assert_eq!(u(&t["ok"]), 20);
    assert_eq!(all_errors(t), 0, "{}", t["error_counts"]);
}

#[test]
fn load_open_model_latency_includes_the_stall() {
    // The server pauses from 1 s to 2 s after its start. Requests planned during the pause
    // wait for its end; measured from their intended send time (the open model's correction
    // for coordinated omission), the slowest percent waited hundreds of ms.
    let server = TestServer::start(Behavior::Stall { after: Duration::from_secs(1), stall: Duration::from_secs(1) });
    let v = load_json(&[&server.url("/"), "--rate", "200", "-d", "3s", "-c", "20"], 0);
    assert_eq!(v["run"]["model"], "open");
    assert_eq!(f(&v["run"]["rate"]), 200.0);
    let sched = &v["schedule"];
    assert!(sched.is_object(), "the open model reports its schedule: {v}");
    assert_eq!(f(&sched["target_rate"]), 200.0);
    assert!(u(&sched["scheduled"]) > 0);
    assert!(u(&sched["sent"]) > 0);
    let t = &v["totals"];
    assert!(u(&t["requests"]) > 0);
    assert!(f(&t["latency"]["p99_ms"]) >= 500.0, "the stall is visible in the corrected latency: {}", t["latency"]);
    assert!(f(&t["latency"]["max_ms"]) >= 500.0, "{}", t["latency"]);
}

#[test]
fn load_duration_bound_with_timeline_csv_and_hdr_log() {
    let server = TestServer::start(Behavior::ok_after(Duration::from_millis(2)));
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("f.csv");
    let hlog = dir.path().join("f.hlog");
    let v = load_json(
        &[
            &server.url("/"),
            "-d",
            "1s",
            "-c",
            "2",
            "--export-csv",
            csv.to_str().unwrap(),
            "--hdr-log",
            hlog.to_str().unwrap(),
        ],
        0,
    );
    assert_eq!(f(&v["run"]["duration_secs"]), 1.0);
    assert!(v["run"]["requests"].is_null());
    assert_eq!(v["end"], "completed");
    assert!(u(&v["totals"]["requests"]) > 0);
    let timeline = v["timeline"].as_array().unwrap();
    assert!(!timeline.is_empty());
    let in_timeline: u64 = timeline.iter().map(|p| u(&p["requests"])).sum();
    assert_eq!(in_timeline, u(&v["totals"]["requests"]), "every request lands in one second of the timeline");
    // CSV: a header and at least one row per second, with as many fields as the header.
    let text = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() >= 2, "{text}");
    assert!(lines[0].contains("second") && lines[0].contains("requests"), "{text}");
    let fields = lines[0].split(',').count();
    assert!(lines[1..].iter().all(|l| l.split(',').count() == fields), "{text}");
    // HdrHistogram interval log, as written by the hdrhistogram crate's IntervalLogWriter. It
    // does not write Java's "#[Histogram log format version ...]" line (so no "Histogram log"
    // text): its headers are `#` comments and `#[StartTime: ... (seconds since epoch)]`, then one
    // line per interval: `[Tag=name,]start,duration,max,base64-histogram`.
    let text = std::fs::read_to_string(&hlog).unwrap();
    assert!(text.contains("#[StartTime: "), "{text}");
    let intervals: Vec<&str> =
        text.lines().filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('"')).collect();
    assert!(!intervals.is_empty(), "{text}");
    for line in intervals {
        let fields: Vec<&str> = line.split(',').filter(|f| !f.starts_with("Tag=")).collect();
        assert_eq!(fields.len(), 4, "{line}");
        for n in &fields[..3] {
            assert!(n.parse::<f64>().is_ok(), "{line}");
        }
        assert!(fields[3].starts_with("HISTF"), "a base64 V2 deflate histogram starts with HISTF: {line}");
    }
}

#[test]
fn load_merge_adds_up_two_reports() {
    let server = TestServer::start(Behavior::ok_after(Duration::ZERO));
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.json");
    let b = dir.path().join("b.json");
    for file in [&a, &b] {
        let out = load(&[&server.url("/"), "-n", "100", "-c", "2", "--export-json", file.to_str().unwrap()]);
        assert!(out.status.success(), "stderr: {}", stderr(&out));
        assert!(file.exists());
    }
    let out = tachy().args(["load", "merge"]).arg(&a).arg(&b).arg("--json").timeout(RUN_LIMIT).output().unwrap();
    assert!(out.status.success(), "stderr: {}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["schema"], "tachy-load/1");
    assert_eq!(v["parts"], 2);
    assert_eq!(u(&v["totals"]["requests"]), 200);
    assert_eq!(u(&v["totals"]["ok"]), 200);
    assert_eq!(u(&v["totals"]["latency"]["count"]), 200);
    assert_eq!(statuses(&v["totals"], 200), 200);
    // A file that is JSON but not a load report.
    let bogus = dir.path().join("bogus.json");
    std::fs::write(&bogus, "{\"hello\": 1}\n").unwrap();
    let out = tachy().args(["load", "merge"]).arg(&a).arg(&bogus).timeout(RUN_LIMIT).output().unwrap();
    assert_fails_with(&out, "bogus.json");
    // The same run twice would double every count.
    let copy = dir.path().join("copy.json");
    std::fs::copy(&a, &copy).unwrap();
    for twice in [&a, &copy] {
        let out = tachy().args(["load", "merge"]).arg(&a).arg(twice).timeout(RUN_LIMIT).output().unwrap();
        assert_fails_with(&out, "are the same run");
    }
    // Counts that contradict each other (2^64-1 responses for 100 requests).
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&b).unwrap()).unwrap();
    v["totals"]["responses"] = serde_json::json!(u64::MAX);
    let forged = dir.path().join("forged.json");
    std::fs::write(&forged, v.to_string()).unwrap();
    let out = tachy().args(["load", "merge"]).arg(&a).arg(&forged).timeout(RUN_LIMIT).output().unwrap();
    assert_fails_with(&out, "responses for 100 requests");
    // A histogram that declares a 2 GiB payload is refused without allocating it.
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&b).unwrap()).unwrap();
    let mut bomb = 0x1c84_9314u32.to_be_bytes().to_vec();
    bomb.extend_from_slice(&0x7fff_ffffu32.to_be_bytes());
    bomb.extend_from_slice(&[0u8; 32]);
    v["totals"]["latency_hdr"] = serde_json::json!(base64_encode(&bomb));
    std::fs::write(&forged, v.to_string()).unwrap();
    let out = tachy().args(["load", "merge"]).arg(&a).arg(&forged).timeout(RUN_LIMIT).output().unwrap();
    assert_fails_with(&out, "declares 2147483647 compressed bytes");
}

/// Standard base64 (the tests have no base64 crate).
fn base64_encode(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn load_scenario_weights_give_exact_counts() {
    let server = TestServer::start(Behavior::ok_after(Duration::ZERO));
    let scenario = fixture("weighted.toml");
    let v = load_json(&["--scenario", scenario.to_str().unwrap(), &server.url("/"), "-n", "400", "-c", "4"], 0);
    assert_eq!(u(&v["totals"]["requests"]), 400);
    assert_eq!(u(&v["totals"]["ok"]), 400);
    assert!(v["run"]["scenario"].as_str().unwrap().ends_with("weighted.toml"));
    let eps = v["endpoints"].as_array().unwrap();
    assert_eq!(eps.len(), 2, "{eps:?}");
    let ep =
        |name: &str| eps.iter().find(|e| e["name"] == name).unwrap_or_else(|| panic!("no endpoint {name}: {eps:?}"));
    let (home, api) = (ep("home"), ep("api"));
    assert_eq!(u(&home["stats"]["requests"]), 300);
    assert_eq!(u(&api["stats"]["requests"]), 100);
    assert_eq!(home["weight"], 3);
    assert_eq!(api["weight"], 1);
    assert_eq!(home["path"], "/");
    assert_eq!(api["path"], "/api");
    assert_eq!(api["method"], "POST");
    assert_eq!(server.requests_seen(), 400);
}

#[test]
fn load_scenario_per_request_slo_fails_with_its_scope() {
    let server = TestServer::start(Behavior::ok_after(Duration::ZERO));
    let scenario = fixture("weighted_slo.toml");
    let v = load_json(&["--scenario", scenario.to_str().unwrap(), &server.url("/"), "-n", "40", "-c", "2"], 1);
    let slos = v["slos"].as_array().unwrap();
    let api = slos.iter().find(|s| s["scope"] == "api").unwrap_or_else(|| panic!("no SLO scoped to api: {slos:?}"));
    assert_eq!(api["expr"], "p50<1us");
    assert_eq!(api["passed"], false);
    let home = slos.iter().find(|s| s["scope"] == "home").unwrap_or_else(|| panic!("no SLO scoped to home: {slos:?}"));
    assert_eq!(home["passed"], true);
}

#[test]
fn load_malformed_scenario_names_file_and_line() {
    let server = TestServer::start(Behavior::ok_after(Duration::ZERO));
    for (name, line, word) in [("bad_key.toml", 4, "wieght"), ("syntax_error.toml", 4, "")] {
        let scenario = fixture(name);
        let out = load(&["--scenario", scenario.to_str().unwrap(), &server.url("/"), "-n", "10"]);
        assert_fails_with(&out, &format!("{}:{line}:", scenario.display()));
        assert!(stderr(&out).contains(word), "{}", stderr(&out));
    }
    assert_eq!(server.requests_seen(), 0, "nothing is sent on a malformed scenario");
}

#[test]
fn load_invalid_url() {
    assert_fails_with(&load(&["localhost:8000", "-n", "10"]), "invalid URL");
}

#[test]
fn load_unresolvable_host() {
    assert_fails_with(&load(&["http://nosuch.invalid/", "-n", "10"]), "cannot resolve");
}

#[test]
fn load_connection_refused_at_start() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    assert_fails_with(&load(&[&format!("http://127.0.0.1:{port}/"), "-n", "10"]), "connection refused");
}

#[test]
fn load_unbounded_run_is_refused() {
    let server = TestServer::start(Behavior::ok_after(Duration::ZERO));
    assert_fails_with(&load(&[&server.url("/")]), "unbounded");
    assert_eq!(server.requests_seen(), 0);
}

#[test]
fn load_ctrl_c_prints_partial_results() {
    let server = TestServer::start(Behavior::ok_after(Duration::from_millis(1)));
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("tachy"))
        .args(["load", &server.url("/"), "-d", "60s", "-c", "2", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = drain(child.stdout.take().unwrap());
    let err = drain(child.stderr.take().unwrap());
    // Wait until the load is flowing (bounded), then a little more.
    let start = Instant::now();
    while server.requests_seen() < 20 && start.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(server.requests_seen() >= 20, "the load never started: {}", server.requests_seen());
    std::thread::sleep(Duration::from_millis(300));
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let status = wait_bounded(&mut child, Duration::from_secs(30));
    let (out, err) = (out.join().unwrap(), err.join().unwrap());
    assert_eq!(status.code(), Some(130), "stderr: {err}");
    let v: Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {out}\nstderr: {err}"));
    assert_eq!(v["end"], "interrupted");
    assert!(u(&v["totals"]["requests"]) > 0);
}

#[test]
fn load_profile_pid_samples_the_python_server() {
    let (server, line) = python_server(&["-m", "http.server", "0", "--bind", "127.0.0.1"]);
    let pid = server.0.id();
    // "Serving HTTP on 127.0.0.1 port 40123 (http://127.0.0.1:40123/) ..."
    let port: u16 = line
        .split_whitespace()
        .skip_while(|w| *w != "port")
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in: {line}"));
    let dir = tempfile::tempdir().unwrap();
    let prof = dir.path().join("p.json");
    let v = load_json(
        &[
            &format!("http://127.0.0.1:{port}/"),
            "-d",
            "2s",
            "-c",
            "2",
            "--profile-pid",
            &pid.to_string(),
            "--profile-out",
            prof.to_str().unwrap(),
        ],
        0,
    );
    drop(server);
    assert!(u(&v["totals"]["requests"]) > 0);
    let sp = &v["server_profile"];
    assert!(sp.is_object(), "server_profile is present: {v}");
    assert_eq!(u(&sp["pid"]), u64::from(pid));
    assert!(u(&sp["samples"]) > 0, "{sp}");
    assert!(prof.exists(), "the profile is written to --profile-out");
}

#[test]
fn load_profile_pid_gil_samples_only_the_gil_holder_of_a_threaded_server() {
    // The handler sleeps (GIL released), hashes 4 MB (C code, GIL released) and loops in
    // Python (GIL held). Sampling every running thread blames whatever the threads sit in;
    // with --gil only the loop holds the GIL long enough to be seen.
    let (server, line) = python_server(&[fixture("threaded_server.py").to_str().unwrap()]);
    let pid = server.0.id();
    let port: u16 = line.trim().parse().expect("the server prints its port");
    let dir = tempfile::tempdir().unwrap();
    let prof = dir.path().join("p.json");
    let url = format!("http://127.0.0.1:{port}/");
    let pid_arg = pid.to_string();
    let args =
        [&url as &str, "-d", "2s", "-c", "4", "--profile-pid", &pid_arg, "--profile-out", prof.to_str().unwrap()];
    let mut gil = args.to_vec();
    gil.push("--gil");
    let v = load_json(&gil, 0);
    let sp = &v["server_profile"];
    assert_eq!(sp["view"], "gil_holder", "{sp}");
    assert!(u(&sp["samples"]) > 0, "{sp}");
    let share = |name: &str| {
        sp["top"].as_array().unwrap().iter().find(|x| x["function"] == name).map_or(0.0, |x| f(&x["self_share"]))
    };
    let (spin, wait, digest) = (share("spin"), share("wait"), share("digest"));
    assert!(spin > wait + 0.3, "the sleep does not dominate the GIL view: spin {spin}, wait {wait}\n{sp}");
    assert!(spin > digest + 0.3, "nor the GIL-free hashing: spin {spin}, digest {digest}\n{sp}");
    assert!(!sp["notes"].to_string().contains("add --gil"), "{sp}");
    // The text names the view.
    let out = load(&gil);
    assert!(stdout(&out).contains("only the thread holding the GIL"), "{}", stdout(&out));
    // Without --gil: the wall-clock view over the running threads, and it says so.
    let v = load_json(&args, 0);
    assert_eq!(v["server_profile"]["view"], "running_threads", "{}", v["server_profile"]);
    drop(server);
    // --gil without a server to profile is a mistake.
    assert_eq!(load(&[&url, "-n", "1", "--gil"]).status.code(), Some(2));
}

#[test]
fn load_open_model_ramp_follows_the_stages() {
    let server = TestServer::start(Behavior::ok_after(Duration::ZERO));
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("ramp.toml");
    // 0 -> 100 req/s over 1 s (50 requests), then 100 req/s for 1 s (100 more): the schedule
    // plans requests 0..150 (the 151st would be due at the deadline itself).
    std::fs::write(
        &scenario,
        format!(
            "url = \"{}\"\nrate = 100\n[[request]]\npath = \"/\"\n[[stage]]\nduration = \"1s\"\ntarget = 100\n[[stage]]\nduration = \"1s\"\ntarget = 100\n",
            server.url("/")
        ),
    )
    .unwrap();
    let v = load_json(&["--scenario", scenario.to_str().unwrap(), "-c", "10"], 0);
    assert_eq!(v["run"]["model"], "open");
    assert_eq!(f(&v["run"]["duration_secs"]), 2.0, "the stages bound the run");
    let s = &v["schedule"];
    assert_eq!(u(&s["scheduled"]), 150, "{s}");
    // Dropped requests are never sent; requests due in the last instant that the generator
    // had not sent yet are neither.
    assert!(u(&s["sent"]) + u(&s["dropped"]) <= 150, "{s}");
    let timeline = v["timeline"].as_array().unwrap();
    let first_rate = f(&timeline[0]["target_rate"]);
    assert!(first_rate > 0.0 && first_rate < 100.0, "the first second ramps up: {first_rate}");
}

#[test]
fn load_closed_model_ramp_opens_connections_over_time() {
    let server = TestServer::start(Behavior::ok_after(Duration::from_millis(1)));
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("ramp.toml");
    std::fs::write(
        &scenario,
        format!(
            "url = \"{}\"\n[[request]]\npath = \"/\"\n[[stage]]\nduration = \"1s\"\ntarget = 4\n[[stage]]\nduration = \"1s\"\ntarget = 4\n",
            server.url("/")
        ),
    )
    .unwrap();
    let v = load_json(&["--scenario", scenario.to_str().unwrap()], 0);
    assert_eq!(v["run"]["model"], "closed");
    assert_eq!(u(&v["run"]["connections"]), 4, "the largest target");
    let timeline = v["timeline"].as_array().unwrap();
    assert_eq!(u(&timeline[0]["connections"]), 4, "{timeline:?}");
    assert!(u(&v["totals"]["ok"]) > 0);
}

#[test]
fn load_post_with_headers_body_and_no_keepalive() {
    let server = TestServer::start(Behavior::ok_after(Duration::ZERO));
    let v = load_json(
        &[
            &server.url("/items"),
            "-n",
            "30",
            "-c",
            "3",
            "-m",
            "post",
            "-H",
            "Content-Type: application/json",
            "--body",
            "{\"a\": 1}",
            "--no-keepalive",
        ],
        0,
    );
    assert_eq!(u(&v["totals"]["ok"]), 30);
    assert_eq!(v["run"]["keepalive"], false);
    assert_eq!(v["endpoints"][0]["method"], "POST");
    assert_eq!(server.requests_seen(), 30);
    let out = load(&[&server.url("/"), "-n", "1", "-H", "no colon"]);
    assert_fails_with(&out, "-H 'Authorization");
}

#[test]
fn a_run_where_nothing_succeeded_is_an_error() {
    // Every response is HTTP 500.
    let server = TestServer::start(Behavior::StatusCycle(vec![500]));
    let out = load(&[&server.url("/"), "-n", "10", "-c", "2"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("every response had an unexpected status (10 x 500)"), "{}", stderr(&out));
    // A server that accepts and never answers within the run: an SLO on errors cannot pass it.
    let hung = TestServer::start(Behavior::Fixed { delay: Duration::from_secs(60), status: 200, body: b"ok".to_vec() });
    let out = load(&[&hung.url("/"), "-d", "1s", "-c", "1", "--slo", "errors<1%"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("no request was answered during the run"), "{}", stderr(&out));
}

#[test]
fn sizes_that_cannot_be_served_and_header_injection_are_refused() {
    let server = TestServer::start(Behavior::ok_after(Duration::ZERO));
    assert_fails_with(&load(&[&server.url("/"), "-c", "1000000000", "-n", "5"]), "connections need as many open files");
    assert_fails_with(&load(&[&server.url("/"), "--rate", "1e12", "-d", "1s"]), "cannot be generated");
    assert_fails_with(&load(&[&server.url("/"), "-n", "1", "-H", "X: a\r\nInjected: 1"]), "control character");
    assert_eq!(server.requests_seen(), 0, "nothing was sent");
}

/// Starts `python -u ARGS` in the fixtures folder and returns it (killed when dropped) with the
/// first line it printed.
fn python_server(args: &[&str]) -> (Kill, String) {
    let mut server = std::process::Command::new(tachy_test::python())
        .arg("-u")
        .args(args)
        .current_dir(fixture(""))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(server.stdout.take().unwrap()).lines();
    let server = Kill(server);
    let line = lines.next().expect("the server prints its address").unwrap();
    (server, line)
}

/// Kills a Python server started by a test however the test ends.
struct Kill(std::process::Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
