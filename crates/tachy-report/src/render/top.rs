//! Plain-text table of `tachy top`, printed once per refresh when stdout is not a terminal.

use std::fmt::Write;

use crate::top::TopView;

/// Renders one refresh as a table (at most `limit` rows).
pub fn table(view: &TopView, limit: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", view.header());
    let _ =
        writeln!(out, "  {:>6} {:>7} {:>7} {:>7}  {:<32} location", "own%", "total%", "own%*", "total%*", "function");
    for r in view.rows.iter().take(limit) {
        let _ = writeln!(
            out,
            "  {:>5.1}% {:>6.1}% {:>6.1}% {:>6.1}%  {:<32} {}",
            r.own_now * 100.0,
            r.total_now * 100.0,
            r.own_all * 100.0,
            r.total_all * 100.0,
            r.function,
            r.location
        );
    }
    let _ = writeln!(out, "  (* since the start)\n");
    out
}

#[cfg(test)]
mod tests {
    use crate::top::*;

    #[test]
    fn snapshot() {
        let v = TopView {
            pid: 42,
            python_version: "3.11.7".into(),
            processes: 1,
            elapsed_secs: 3.0,
            samples: 300,
            interval_samples: 100,
            threads: vec![
                ThreadStatus { label: "MainThread (tid 42)".into(), active: false, gil: false },
                ThreadStatus { label: "hot (tid 43)".into(), active: true, gil: true },
            ],
            idle_included: false,
            sort: SortKey::Own,
            rows: vec![TopRow {
                function: "hot_loop".into(),
                location: "app.py:3".into(),
                own_now: 0.9,
                total_now: 0.95,
                own_all: 0.88,
                total_all: 0.93,
                own_samples: 264,
            }],
        };
        insta::assert_snapshot!(super::table(&v, 10));
    }
}
