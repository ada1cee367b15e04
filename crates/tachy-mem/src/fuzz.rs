//! Fuzz tests of the two readers of `tachy mem` files: the raw capture (`capture::parse`) and
//! the saved report (`parse`, behind `tachy mem show`). Arbitrary bytes and mutations of valid
//! files (bytes flipped, inserted or cut, numbers swapped for huge, negative or NaN values,
//! members removed) never panic; a capture that replays builds a report that renders and
//! reads back; a report that is read renders in every format and writes back the same.
//! `PROPTEST_CASES=100000 cargo test -p tachy-mem fuzz` runs longer.

use std::path::Path;
use std::time::{Duration, SystemTime};

use proptest::prelude::*;
use tachy_report::mem::MemReport;
use tachy_report::render::mem::{self as render, MemFormat};
use tachy_test::fuzz;

use crate::capture::tests::{Writer, sample};
use crate::capture::{self, Capture};
use crate::report::{self, RunFacts};

fn facts() -> RunFacts {
    RunFacts {
        command: vec!["python3".into(), "app.py".into()],
        started_at: SystemTime::UNIX_EPOCH,
        wall: Duration::from_secs(1),
        exit: None,
        interrupted: false,
        max_rss_bytes: 8192,
        python_version: Some("3.11.7".into()),
        max_peak: None,
        max_leak: None,
        hook_failures: vec![],
    }
}

/// A version-2 capture with every record kind: the C heap, a stack given later, a counter.
fn capture_seed() -> Vec<u8> {
    let mut w = Writer(sample());
    w.0[8..12].copy_from_slice(&2u32.to_le_bytes());
    w.alloc(20, 0x4000, 64, 4096, 0);
    w.tag(b'R').u64(21).u64(0x4000).u32(1);
    w.tag(b'N').u64(22).u64(1 << 20).u64(2 << 20);
    w.tag(b'C').u64(23).u64(4096).u64(8192).u64(5).u64(500);
    w.0
}

fn report_seed() -> Vec<u8> {
    let c = capture::parse(&capture_seed()).expect("the seed replays");
    render::json(&report::build(&[c], &facts())).expect("serialisable").into_bytes()
}

fn renders(r: &MemReport) {
    for format in [
        MemFormat::Text,
        MemFormat::Json,
        MemFormat::Flamegraph,
        MemFormat::FlamegraphAllocated,
        MemFormat::FlamegraphLeaks,
        MemFormat::Speedscope,
        MemFormat::Pprof,
        MemFormat::Plot,
    ] {
        let _ = render::render(r, format, false);
    }
}

fn check_capture(bytes: &[u8]) {
    let _case = fuzz::guard(&bytes);
    let Ok(c) = capture::parse(bytes) else { return };
    consistent(&c);
    let r = report::build(&[c], &facts());
    renders(&r);
    let json = render::json(&r).expect("serialisable");
    crate::parse(Path::new("built.json"), json.as_bytes()).expect("a built report reads back");
}

fn consistent(c: &Capture) {
    assert_eq!(c.stacks.len(), c.bytes.len(), "one byte count per stack");
    for frames in &c.stacks {
        for &(func, file, _) in frames {
            assert!((func as usize) < c.strings.len() && (file as usize) < c.strings.len());
        }
    }
}

fn check_report(bytes: &[u8]) {
    let _case = fuzz::guard(&String::from_utf8_lossy(bytes));
    let Ok(r) = crate::parse(Path::new("fuzz.json"), bytes) else { return };
    renders(&r);
    let json = render::json(&r).expect("serialisable");
    let again = crate::parse(Path::new("again.json"), json.as_bytes()).expect("a report that was read writes back");
    assert_eq!(render::json(&again).expect("serialisable"), json, "the report changed when written and read back");
}

proptest! {
    #![proptest_config(fuzz::config())]

    #[test]
    fn fuzz_captures(bytes in prop_oneof![1 => fuzz::bytes(256), 4 => fuzz::mutated_bytes(capture_seed())]) {
        check_capture(&bytes);
    }

    #[test]
    fn fuzz_reports(bytes in prop_oneof![
        1 => fuzz::bytes(256),
        3 => fuzz::mutated_bytes(report_seed()),
        4 => fuzz::mutated_json(&report_seed()),
    ]) {
        check_report(&bytes);
    }
}

#[test]
fn fuzz_seeds_are_accepted() {
    let c = capture::parse(&capture_seed()).unwrap();
    assert!(c.complete && !c.truncated && c.native_peak == 2 << 20);
    check_capture(&capture_seed());
    crate::parse(Path::new("seed.json"), &report_seed()).unwrap();
    check_report(&report_seed());
}

/// Inputs the fuzzer found: each panicked in a debug build (and wrapped silently in release)
/// before its fix.
#[test]
fn fuzz_findings_are_clean_errors() {
    let mut w = Writer::new(0);
    w.string(0, "f").string(1, "a.py").stack(0, &[(0, 1, 1)]);
    w.alloc(1, 0x10, 8, u64::MAX / 2 + 1, 0).alloc(2, 0x20, 8, u64::MAX / 2 + 1, 0);
    let err = capture::parse(&w.0).unwrap_err();
    assert!(err.contains("more than 2^64"), "{err}");

    let mut v: serde_json::Value = serde_json::from_slice(&report_seed()).unwrap();
    let stacks = v["stacks"].as_array_mut().unwrap();
    stacks.push(stacks[0].clone());
    for s in stacks {
        s["peak_bytes"] = u64::MAX.into();
    }
    let err = crate::parse(Path::new("x.json"), &serde_json::to_vec(&v).unwrap()).unwrap_err();
    assert!(err.to_string().contains("more than 2^64"), "{err}");
}
