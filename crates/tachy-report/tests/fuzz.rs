//! Fuzz tests of the quantity grammars (`units.rs`: durations, sizes, percentages, growth
//! rates) that arguments and config files share: arbitrary text and mutations of valid
//! quantities never panic, and what is accepted reads back the same when written out.
//! `PROPTEST_CASES=100000 cargo test -p tachy-report --test fuzz` runs longer.

use proptest::prelude::*;
use tachy_report::units::{SizeUnits, parse_duration, parse_growth, parse_percent, parse_size, parse_size_written};
use tachy_test::fuzz;

const VALID: &[&str] = &[
    "3s", "500ms", "2m", "1.5", "1h 30m", "250us", "500MB", "256KiB", "1.5GiB", "4096", "5%", "0.5 %", "5MB/h",
    "1MiB/min", "10KB/s", "0", "200 MB",
];

fn quantity() -> BoxedStrategy<String> {
    prop_oneof![fuzz::text(40), prop::sample::select(VALID).prop_flat_map(fuzz::mutated_text)].boxed()
}

fn check(s: &str) {
    let _case = fuzz::guard(&s);
    if let Ok(d) = parse_duration(s) {
        let written = format!("{}s {}ns", d.as_secs(), d.subsec_nanos());
        assert_eq!(parse_duration(&written), Ok(d), "{s:?} gave {d:?}, which does not read back");
    }
    if let Ok(n) = parse_size(s) {
        assert_eq!(parse_size(&n.to_string()), Ok(n), "{s:?} gave {n} bytes, which does not read back");
        let written = parse_size_written(s).expect("parse_size accepted it");
        assert_eq!(written.bytes, n);
    }
    let _ = SizeUnits::of_written(s);
    if let Ok(p) = parse_percent(s) {
        assert!(p.is_finite() && p >= 0.0, "{s:?} gave {p}%");
        assert_eq!(parse_percent(&format!("{p}%")), Ok(p));
    }
    if let Ok(g) = parse_growth(s) {
        assert!(g.is_finite() && g >= 0.0, "{s:?} gave {g} B/h");
    }
}

proptest! {
    #![proptest_config(fuzz::config())]

    #[test]
    fn fuzz_quantities(s in quantity()) {
        check(&s);
    }
}

/// Inputs the fuzzer found: each panicked before its fix.
#[test]
fn fuzz_findings_are_clean_errors() {
    for s in ["1e30", "18446744073709551616", "1e20s", "99999999999999999999GB", "1e300/h"] {
        check(s);
    }
    assert!(parse_duration("1e30").is_err(), "a duration beyond u64 seconds is an error, not a panic");
    assert!(parse_size("99999999999999999999GB").is_err(), "a size beyond u64 bytes is an error, not u64::MAX");
}
