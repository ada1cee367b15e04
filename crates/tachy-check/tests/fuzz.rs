//! Fuzz tests of the budgets config reader (`config::parse`, for `tachy.toml` and
//! `[tool.tachy]` in `pyproject.toml`) and of the `ready = ...` probe grammar: arbitrary text
//! and mutations of the example project's configs (lines dropped or repeated, numbers swapped
//! for huge, negative or NaN values, strings for hostile ones, bytes cut) never panic; a config
//! that is accepted serialises and reads back accepted with the same budgets.
//! `PROPTEST_CASES=100000 cargo test -p tachy-check --test fuzz` runs longer.

use proptest::prelude::*;
use tachy_check::config;
use tachy_test::fuzz;

const PYPROJECT: &str = include_str!("../../../examples/check-project/pyproject.toml");
const TACHY_TOML: &str = include_str!("../../../examples/check-project/tachy-failing.toml");

fn check_config(text: &str, pyproject: bool) {
    let _case = fuzz::guard(&(text, pyproject));
    let Ok(c) = config::parse(text, pyproject) else { return };
    // What was accepted writes out as a tachy.toml that is accepted with the same budgets.
    let Ok(written) = toml::to_string(&c) else { return };
    let again = config::parse(&written, false)
        .unwrap_or_else(|e| panic!("an accepted config does not read back: {e:?}\n{written}"));
    assert_eq!(again.budget.keys().collect::<Vec<_>>(), c.budget.keys().collect::<Vec<_>>());
}

proptest! {
    #![proptest_config(fuzz::config())]

    #[test]
    fn fuzz_pyproject_configs(text in prop_oneof![1 => fuzz::text(200), 4 => fuzz::mutated_text(PYPROJECT)]) {
        check_config(&text, true);
    }

    #[test]
    fn fuzz_tachy_toml_configs(text in prop_oneof![1 => fuzz::text(200), 4 => fuzz::mutated_text(TACHY_TOML)]) {
        check_config(&text, false);
    }

    #[test]
    fn fuzz_ready_probes(text in prop_oneof![
        fuzz::text(40),
        prop::sample::select(&["http://127.0.0.1:8765/health", "tcp:127.0.0.1:8765", "5s", "port 8000"][..])
            .prop_flat_map(fuzz::mutated_text),
    ]) {
        let _case = fuzz::guard(&text);
        let _ = config::ready_probe(&text);
    }
}

#[test]
fn fuzz_seeds_are_accepted() {
    assert!(!config::parse(PYPROJECT, true).unwrap().budget.is_empty());
    assert!(!config::parse(TACHY_TOML, false).unwrap().budget.is_empty());
    check_config(PYPROJECT, true);
    check_config(TACHY_TOML, false);
}
