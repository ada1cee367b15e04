//! Fuzz tests of the saved-profile reader (`store::parse`): arbitrary bytes, and a valid
//! profile with bytes flipped, inserted or cut, numbers swapped for huge, negative or NaN
//! values, members removed or retyped. Reading never panics; a profile it accepts writes back
//! to the same profile, and every renderer, the summaries and a diff with itself run on it.
//! `PROPTEST_CASES=100000 cargo test -p tachy-profile --test fuzz` runs longer.

use std::path::Path;

use proptest::prelude::*;
use tachy_profile::{diff, store};
use tachy_report::profile::{Profile, ProfileBuilder, ProfileMeta};
use tachy_report::render::profile::{self, ProfileFormat, ProfileRenderOptions};
use tachy_test::fuzz;

fn seed() -> Vec<u8> {
    let mut b = ProfileBuilder::new();
    let main = b.frame("<module>", "/app/main.py", 3, Some("main.py"));
    let work = b.frame("work", "/app/main.py", 12, Some("main.py"));
    let io = b.frame("read", "/usr/lib/python3.11/io.py", 40, None);
    b.set_def_line(work, 10);
    let t1 = b.thread(100, 1, Some(100), Some("MainThread"));
    let t2 = b.thread(101, 2, None, None);
    b.sample(t1, &[main, work], 0);
    b.sample(t1, &[main, work, io], 10_000);
    b.sample(t2, &[io], 20_000);
    b.sample(t1, &[main, work], 30_000);
    let meta = ProfileMeta {
        command: vec!["python3".into(), "main.py".into()],
        pids: vec![100, 101],
        python_version: Some("3.11.7".into()),
        rate_requested: 100.0,
        rate_achieved: 99.5,
        duration_secs: 0.04,
        started_at: "2026-12-03T10:00:00Z".into(),
        rounds: 4,
        ..ProfileMeta::default()
    };
    store::to_bytes(&b.finish(meta)).expect("serialisable")
}

fn input() -> BoxedStrategy<Vec<u8>> {
    let seed = seed();
    prop_oneof![1 => fuzz::bytes(512), 3 => fuzz::mutated_bytes(seed.clone()), 4 => fuzz::mutated_json(&seed)].boxed()
}

fn check(bytes: &[u8]) {
    let _case = fuzz::guard(&String::from_utf8_lossy(bytes));
    let Ok(p) = store::parse(Path::new("fuzz.json"), bytes) else { return };
    let again: Profile = store::parse(Path::new("again.json"), &store::to_bytes(&p).expect("serialisable"))
        .expect("a profile that was read writes back readable");
    assert_eq!(again, p, "the profile changed when written and read back");
    let _ = p.functions();
    let _ = p.lines();
    let _ = p.total_samples();
    for format in [
        ProfileFormat::Text,
        ProfileFormat::Json,
        ProfileFormat::Collapsed,
        ProfileFormat::Flamegraph,
        ProfileFormat::Speedscope,
        ProfileFormat::Pprof,
        ProfileFormat::Chrome,
    ] {
        for lines in [false, true] {
            let _ = profile::render(&p, format, ProfileRenderOptions { lines, top: 5 });
        }
    }
    let d = diff::diff(&p, &p, Some(5.0));
    let _ = tachy_report::render::profile::diff::text(&d, 5);
}

proptest! {
    #![proptest_config(fuzz::config())]

    #[test]
    fn fuzz_profile_files(bytes in input()) {
        check(&bytes);
    }
}

#[test]
fn fuzz_seed_is_accepted() {
    let p = store::parse(Path::new("seed.json"), &seed()).expect("the seed is a valid profile");
    assert_eq!(p.total_samples(), 4);
    check(&seed());
}
/// Inputs the fuzzer found: each panicked (in a debug build; wrapped silently in release)
/// before its fix.
#[test]
fn fuzz_findings_are_clean() {
    let mut v: serde_json::Value = serde_json::from_slice(&seed()).unwrap();
    // Counts that add up beyond u64: refused (`total_samples` wrapped to a small number).
    v["stacks"][0]["count"] = u64::MAX.into();
    let err = store::parse(Path::new("x.json"), &serde_json::to_vec(&v).unwrap()).unwrap_err();
    assert!(err.to_string().contains("add up to more than 2^64"), "{err}");
    // One huge count with a tiny rate: pprof's value (count x period) overflowed. (Without a
    // timeline: a timeline must hold one entry per counted sample.)
    let mut v: serde_json::Value = serde_json::from_slice(&seed()).unwrap();
    v["stacks"][0]["count"] = (u64::MAX / 2).into();
    v["meta"]["rate_achieved"] = 1e-300.into();
    v["meta"]["rate_requested"] = 1e-300.into();
    v["timeline"] = serde_json::json!({"offsets_us": [], "stacks": []});
    let bytes = serde_json::to_vec(&v).unwrap();
    store::parse(Path::new("x.json"), &bytes).expect("a large but consistent profile is read");
    check(&bytes);
    // A sample at the end of time: the chrome trace's last event end overflowed.
    let mut v: serde_json::Value = serde_json::from_slice(&seed()).unwrap();
    v["timeline"]["offsets_us"][3] = u64::MAX.into();
    let bytes = serde_json::to_vec(&v).unwrap();
    store::parse(Path::new("x.json"), &bytes).expect("a sample at the end of time is read");
    check(&bytes);
}
