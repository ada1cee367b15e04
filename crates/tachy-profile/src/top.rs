//! The data behind `tachy top`: function shares over the last refresh interval and since the
//! start, from a running [`Session`].

use std::collections::HashMap;

use tachy_report::profile::function_stats;
use tachy_report::top::{SortKey, ThreadStatus, TopRow, TopView};

use crate::sampler::Session;

/// Builds the view of the samples after timeline index `since` (the last interval) and of all
/// samples, sorted by `sort`.
pub fn view(session: &Session, since: usize, sort: SortKey) -> TopView {
    let b = session.builder();
    let stacks = b.stacks();
    let recent = b.timeline_stacks().get(since..).unwrap_or_default();
    let mut counts: HashMap<u32, u64> = HashMap::new();
    for &s in recent {
        *counts.entry(s).or_insert(0) += 1;
    }
    let now = function_stats(
        b.frames(),
        counts.iter().filter_map(|(&s, &n)| stacks.get(s as usize).map(|st| (st.frames.as_slice(), n))),
    );
    let all = function_stats(b.frames(), stacks.iter().map(|s| (s.frames.as_slice(), s.count)));
    let (n_now, n_all) = (recent.len().max(1) as f64, b.samples().max(1) as f64);
    let now_by_key: HashMap<(&str, &str, i32), (u64, u64)> = now
        .iter()
        .map(|f| ((f.function.as_str(), f.path.as_str(), f.def_line), (f.self_samples, f.total_samples)))
        .collect();
    let mut rows: Vec<TopRow> = all
        .iter()
        .map(|f| {
            let (own, total) =
                now_by_key.get(&(f.function.as_str(), f.path.as_str(), f.def_line)).copied().unwrap_or((0, 0));
            TopRow {
                function: f.function.clone(),
                location: format!("{}:{}", f.file, f.line),
                own_now: own as f64 / n_now,
                total_now: total as f64 / n_now,
                own_all: f.self_samples as f64 / n_all,
                total_all: f.total_samples as f64 / n_all,
                own_samples: f.self_samples,
            }
        })
        .collect();
    match sort {
        SortKey::Own => rows.sort_by(|a, b| b.own_now.total_cmp(&a.own_now).then(b.own_all.total_cmp(&a.own_all))),
        SortKey::Total => {
            rows.sort_by(|a, b| b.total_now.total_cmp(&a.total_now).then(b.total_all.total_cmp(&a.total_all)))
        }
        SortKey::Name => rows.sort_by(|a, b| a.function.cmp(&b.function)),
    }
    let (pid, version) = session.target();
    TopView {
        pid,
        python_version: version.to_string(),
        processes: session.processes(),
        elapsed_secs: session.elapsed().as_secs_f64(),
        samples: b.samples(),
        interval_samples: recent.len() as u64,
        threads: session
            .last_round()
            .iter()
            .map(|(label, active, gil)| ThreadStatus { label: label.clone(), active: *active, gil: *gil })
            .collect(),
        idle_included: session.idle_included(),
        sort,
        rows,
    }
}
