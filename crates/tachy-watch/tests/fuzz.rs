//! Fuzz tests of `tachy watch`'s grammars: alert expressions (`Alert::parse`, `--alert`) and
//! the `[tool.tachy.watch]` config (`config::parse`). Arbitrary text and mutations of valid
//! input never panic; an accepted alert re-reads from its own expression to the same alert.
//! `PROPTEST_CASES=100000 cargo test -p tachy-watch --test fuzz` runs longer.

use std::path::Path;

use proptest::prelude::*;
use tachy_test::fuzz;
use tachy_watch::alert::Alert;
use tachy_watch::config;

const ALERTS: &[&str] = &[
    "rss>150MB",
    "uss>=1GiB",
    "growth>5MB/h",
    "cpu>90%",
    "fds>1000",
    "threads>200",
    "tcp_close_wait>10",
    "rss > 60 MB",
    "cpu<=5%",
    "tcp>50",
    "pss<1TB",
];

const CONFIG: &str = r#"[tool.tachy.watch]
alerts = ["rss>150MB", "cpu>90%", "growth>5MB/h"]
interval = "200ms"
growth_window = "30s"
prometheus = "127.0.0.1:9184"
on_alert = "echo $TACHY_ALERT"
"#;

fn check_alert(text: &str) {
    let _case = fuzz::guard(&text);
    let Ok(a) = Alert::parse(text) else { return };
    assert!(!a.threshold.is_nan(), "{text:?} gave a NaN threshold");
    let again = Alert::parse(&a.expr).unwrap_or_else(|e| panic!("{text:?} does not re-read from {:?}: {e}", a.expr));
    assert_eq!((again.metric, again.op, again.for_samples), (a.metric, a.op, a.for_samples), "{text:?}");
    assert_eq!(again.threshold.to_bits(), a.threshold.to_bits(), "{text:?}");
}

proptest! {
    #![proptest_config(fuzz::config())]

    #[test]
    fn fuzz_alerts(text in prop_oneof![fuzz::text(32), prop::sample::select(ALERTS).prop_flat_map(fuzz::mutated_text)]) {
        check_alert(&text);
    }

    #[test]
    fn fuzz_watch_configs(text in prop_oneof![1 => fuzz::text(200), 4 => fuzz::mutated_text(CONFIG)]) {
        let _case = fuzz::guard(&text);
        if let Ok(c) = config::parse(Path::new("pyproject.toml"), &text) {
            for a in &c.alerts {
                check_alert(&a.expr);
            }
        }
    }
}

#[test]
fn fuzz_seeds_are_accepted() {
    for a in ALERTS {
        Alert::parse(a).unwrap_or_else(|e| panic!("{a}: {e}"));
        check_alert(a);
    }
    assert_eq!(config::parse(Path::new("pyproject.toml"), CONFIG).unwrap().alerts.len(), 3);
}
