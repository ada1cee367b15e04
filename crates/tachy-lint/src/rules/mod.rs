//! The rules, one file each. Every file's doc comment says what the rule flags, why it is slow
//! (with a speedup measured on this machine where one fits), an example and the fix.

use crate::checker::Diagnostic;
use crate::project::{DeferredCall, ProjectIndex};
use crate::registry::Rule;

pub mod append_loop;
pub mod blocking_call_in_async;
pub mod comprehension_in_reducer;
pub mod dangling_task;
pub mod dataclass_without_slots;
pub mod execute_in_loop;
pub mod gather_without_return_exceptions;
pub mod global_lookup_in_loop;
pub mod helpers;
pub mod membership_in_list_in_loop;
pub mod nested_linear_search;
pub mod pandas_row_iteration;
pub mod pop_front_in_loop;
pub mod readlines_iteration;
pub mod redundant_copy;
pub mod regex_in_loop;
pub mod sequential_await_in_loop;
pub mod sorted_for_min_max;
pub mod string_concat_in_loop;
pub mod threads_for_cpu_work;
pub mod try_except_key_error;
pub mod unbounded_cache;
pub mod write_per_iteration;

/// Settles a call deferred to the project pass: a diagnostic when the whole project shows
/// the call is a problem.
pub fn settle(d: &DeferredCall, index: &ProjectIndex) -> Option<Diagnostic> {
    match d.rule {
        Rule::BlockingCallInAsync => blocking_call_in_async::settle(d, index),
        Rule::ThreadsForCpuWork => threads_for_cpu_work::settle(d, index),
        _ => None,
    }
}

/// Test support: lints `resources/fixtures/<CODE>.py` with only `rule` enabled, asserts that
/// exactly the lines marked `# flag` are flagged, that every fix keeps the file parseable,
/// and snapshots the findings with their fixes.
#[cfg(test)]
pub(crate) fn check_fixture(rule: Rule) {
    use std::collections::BTreeSet;
    use std::fmt::Write;

    use crate::{LineIndex, RuleSet};

    let path = format!("{}/resources/fixtures/{}.py", env!("CARGO_MANIFEST_DIR"), rule.code());
    let src = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut set = RuleSet::empty();
    set.insert(rule);
    let diags = crate::lint_source(&src, set);
    let li = LineIndex::new(&src);
    let got: BTreeSet<usize> = diags.iter().map(|d| li.line(d.range.start())).collect();
    let want: BTreeSet<usize> =
        src.lines().enumerate().filter(|(_, l)| l.contains("# flag")).map(|(i, _)| i + 1).collect();
    assert_eq!(got, want, "{}: flagged lines (left) differ from the lines marked `# flag` (right)", rule.code());
    let mut out = String::new();
    for d in &diags {
        let loc = li.location(&src, d.range.start());
        let _ = writeln!(out, "{}:{} {} {}", loc.line, loc.column, d.rule.code(), d.message);
        if let Some(h) = &d.help {
            let _ = writeln!(out, "    help: {h}");
        }
        if let Some(f) = &d.fix {
            let (fixed, n) = crate::fix::apply(&src, &[f]);
            assert_eq!(n, 1);
            assert!(crate::fix::parses(&fixed), "{}: fix at line {} breaks the syntax", rule.code(), loc.line);
            let line = li.line(d.range.start());
            let new_line = fixed.lines().nth(line - 1).unwrap_or("");
            let _ = writeln!(out, "    fix ({}): {}", if f.safe { "safe" } else { "unsafe" }, new_line.trim());
        }
    }
    insta::assert_snapshot!(rule.code(), out);
}
