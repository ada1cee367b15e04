//! Fuzz tests of everything `tachy load` reads: saved reports (`merge::parse`, behind
//! `tachy load merge`), the base64 HdrHistogram inside them (`hdr::decode`), scenario files
//! (`scenario::parse`) and SLO expressions (`Slo::parse`). Arbitrary input and mutations of
//! valid input never panic; what is accepted round-trips (a histogram re-encodes to the same
//! counts, an SLO re-reads from its own expression, a report writes back the same and merges).
//! `PROPTEST_CASES=100000 cargo test -p tachy-load fuzz` runs longer.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use proptest::prelude::*;
use tachy_report::load::{EndpointStats, ErrorClass, LoadReport, SloResult};
use tachy_report::render::load as render;
use tachy_test::fuzz;

use crate::engine::recorder::Counts;
use crate::report::{point, stats};
use crate::{Slo, hdr, merge, scenario};

fn histogram(values: &[u64], sigfig: u8) -> hdrhistogram::Histogram<u64> {
    let mut h = hdr::new(sigfig);
    for &v in values {
        h.record(v).expect("auto-resizing");
    }
    h
}

fn report_seed() -> Vec<u8> {
    let h = histogram(&[900, 1200, 1500, 2500, 40_000], hdr::SIGFIG);
    let counts = Counts {
        requests: 6,
        responses: 5,
        ok: 4,
        errors: 2,
        bytes: 1234,
        statuses: BTreeMap::from([(200, 4), (503, 1)]),
        error_counts: BTreeMap::from([(ErrorClass::Timeout, 1), (ErrorClass::UnexpectedStatus, 1)]),
    };
    let mut r = crate::tests::empty_report();
    r.elapsed_secs = 2.0;
    r.totals = stats(&counts, &h, 2.0);
    r.endpoints = vec![EndpointStats {
        name: "home".into(),
        method: "GET".into(),
        path: "/".into(),
        weight: 3,
        stats: stats(&counts, &h, 2.0),
    }];
    r.timeline = vec![
        point(0, &counts, &histogram(&[900, 1200], hdr::SIGFIG_INTERVAL), 2, Some(10.0)),
        point(1, &Counts::default(), &hdr::new(hdr::SIGFIG_INTERVAL), 2, None),
    ];
    r.slos = vec![SloResult {
        expr: "p95<200ms".into(),
        scope: None,
        metric: "p95".into(),
        measured: 40.0,
        limit: 200.0,
        unit: "ms".into(),
        passed: true,
        implicit: false,
    }];
    render::json(&r).expect("serialisable").into_bytes()
}

fn check_report(a: &[u8], b: &[u8]) {
    let _case = fuzz::guard(&(String::from_utf8_lossy(a), String::from_utf8_lossy(b)));
    let Ok(r) = merge::parse(Path::new("a.json"), a) else { return };
    let _ = render::text(&r, false);
    let _ = render::timeline_csv(&r);
    let json = render::json(&r).expect("serialisable");
    let again = merge::parse(Path::new("again.json"), json.as_bytes()).expect("a report that was read writes back");
    assert_eq!(again, r, "the report changed when written and read back");
    let slos = [Slo::parse("p99<1s").unwrap(), Slo::parse("errors<5%").unwrap(), Slo::parse("rps>1").unwrap()];
    let mut parts: Vec<(PathBuf, LoadReport)> = vec![("a.json".into(), r)];
    if let Ok(merged) = merge::merge(&parts, &slos) {
        let _ = render::text(&merged, false);
    }
    if let Ok(other) = merge::parse(Path::new("b.json"), b) {
        parts.push(("b.json".into(), other));
        if let Ok(merged) = merge::merge(&parts, &slos) {
            let _ = render::text(&merged, false);
            let _ = render::timeline_csv(&merged);
        }
    }
}

/// A histogram's V2 serialisation, uncompressed (the structure the decoder reads).
fn hdr_v2(sigfig: u8, values: &[u64]) -> Vec<u8> {
    use hdrhistogram::serialization::{Serializer, V2Serializer};
    let mut out = Vec::new();
    V2Serializer::new().serialize(&histogram(values, sigfig), &mut out).expect("serialisable");
    out
}

/// `v2` wrapped the way reports hold it: deflated behind the V2 deflate cookie, in base64.
fn wrap(v2: &[u8]) -> String {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(v2).expect("in memory");
    let deflated = z.finish().expect("in memory");
    let mut bytes = 0x1c84_9314u32.to_be_bytes().to_vec();
    bytes.extend_from_slice(&(deflated.len() as u32).to_be_bytes());
    bytes.extend_from_slice(&deflated);
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn hdr_input() -> BoxedStrategy<String> {
    let encoded = hdr::encode(&histogram(&[1, 250, 1000, 65_000, 3_600_000_000], hdr::SIGFIG));
    let raw = base64::engine::general_purpose::STANDARD.decode(&encoded).expect("valid base64");
    prop_oneof![
        1 => fuzz::text(200),
        2 => fuzz::mutated_text(&encoded),
        // The compressed bytes mutated, then the base64 made valid again.
        2 => fuzz::mutated_bytes(raw).prop_map(|b| base64::engine::general_purpose::STANDARD.encode(b)),
        // The inner V2 structure mutated (header fields, counts), then deflated and wrapped.
        4 => (0u8..=3, prop::collection::vec(0u64..(1 << 32), 0..20))
            .prop_flat_map(|(sigfig, values)| fuzz::mutated_bytes(hdr_v2(sigfig, &values)))
            .prop_map(|v2| wrap(&v2)),
    ]
    .boxed()
}

fn check_hdr(s: &str) {
    let _case = fuzz::guard(&s);
    let Ok(h) = hdr::decode(s) else { return };
    let again = hdr::decode(&hdr::encode(&h)).expect("a decoded histogram re-encodes");
    assert_eq!(again.len(), h.len());
    if !h.is_empty() {
        assert_eq!((again.min(), again.max()), (h.min(), h.max()));
    }
    let _ = hdr::summary(&h);
    let _ = hdr::buckets(&h);
}

const SCENARIO: &str = r#"url = "http://127.0.0.1:8000"
rate = 50.5
connections = 4
duration = "10s"
timeout = "2s"
slo = ["p95<200ms", "errors<1%"]

[defaults]
headers = { "User-Agent" = "tachy", Accept = "*/*" }
expect_status = [200, 204]

[[request]]
name = "home"
weight = 3
path = "/"

[[request]]
name = "login"
method = "POST"
path = "/login?next=%2F"
headers = { "Content-Type" = "application/json" }
body = '{"user": "a", "password": "b"}'
expect_status = 201
slo = ["p99<1s"]

[[stage]]
duration = "5s"
target = 10

[[stage]]
duration = "1m"
target = 100.5
"#;

fn check_scenario(text: &str) {
    let _case = fuzz::guard(&text);
    let Ok(s) = scenario::parse(Path::new("/nonexistent/scenario.toml"), text) else { return };
    assert!(!s.requests.is_empty(), "a scenario has at least one request");
}

const SLOS: &[&str] =
    &["p95<200ms", "p99.9<=1.5s", "errors<1%", "timeouts<=0.5%", "rps>=100", "median<500us", "mean < 20 ms", "max>1s"];

fn check_slo(text: &str) {
    let _case = fuzz::guard(&text);
    let Ok(slo) = Slo::parse(text) else { return };
    assert!(slo.limit.is_finite() && slo.limit >= 0.0, "{text:?} gave the limit {}", slo.limit);
    assert_eq!(Slo::parse(&slo.expr).ok(), Some(slo.clone()), "{text:?} does not re-read from its expression");
    let _ = (slo.metric_name(), slo.unit());
}

proptest! {
    #![proptest_config(fuzz::config())]

    #[test]
    fn fuzz_reports(
        a in prop_oneof![1 => fuzz::bytes(256), 2 => fuzz::mutated_bytes(report_seed()), 5 => fuzz::mutated_json(&report_seed())],
        b in fuzz::mutated_json(&report_seed()),
    ) {
        check_report(&a, &b);
    }

    #[test]
    fn fuzz_histograms(s in hdr_input()) {
        check_hdr(&s);
    }

    #[test]
    fn fuzz_scenarios(text in prop_oneof![1 => fuzz::text(200), 4 => fuzz::mutated_text(SCENARIO)]) {
        check_scenario(&text);
    }

    #[test]
    fn fuzz_slos(text in prop_oneof![fuzz::text(24), prop::sample::select(SLOS).prop_flat_map(fuzz::mutated_text)]) {
        check_slo(&text);
    }
}

#[test]
fn fuzz_seeds_are_accepted() {
    let r = merge::parse(Path::new("seed.json"), &report_seed()).unwrap();
    merge::merge(&[("seed.json".into(), r)], &[]).unwrap();
    check_report(&report_seed(), &report_seed());
    let s = scenario::parse(Path::new("/nonexistent/scenario.toml"), SCENARIO).unwrap();
    assert_eq!((s.requests.len(), s.stages.len(), s.slos.len()), (2, 2, 2));
    let h = hdr::decode(&wrap(&hdr_v2(3, &[5, 10]))).unwrap();
    assert_eq!(h.len(), 2);
    for slo in SLOS {
        Slo::parse(slo).unwrap();
        check_slo(slo);
    }
}

/// Found by the fuzzer: timeline error counts that add up beyond u64 overflowed the text
/// summary's "N in all" (a panic in a debug build).
#[test]
fn fuzz_finding_timeline_errors_overflowing() {
    let mut v: serde_json::Value = serde_json::from_slice(&report_seed()).unwrap();
    v["timeline"][0]["errors"] = u64::MAX.into();
    v["timeline"][1]["errors"] = u64::MAX.into();
    let bytes = serde_json::to_vec(&v).unwrap();
    merge::parse(Path::new("x.json"), &bytes).unwrap();
    check_report(&bytes, &bytes);
}
