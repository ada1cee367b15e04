//! The section of a `tachy profile` result: what was sampled, an interactive flamegraph of the
//! stacks (function granularity, split by thread when the profile was) and the top functions
//! by self and total share.

use super::flame::{FlameBuilder, FlameData, component};
use super::{Ctx, Row, count, escape, facts, location, notes, num, pct, plural, remark, secs, subheading, table, text};
use crate::profile::{EndReason, Profile};

/// Rows of the top-functions table.
const TOP: usize = 20;

/// The flamegraph data of a profile: one node per function (name and file) on each path,
/// under one node per thread when the profile was split by thread, or per process when
/// several were sampled.
pub(crate) fn flame_data(p: &Profile) -> FlameData {
    let command = p.meta.command.join(" ");
    let mut b = FlameBuilder::new("all", &command);
    let labels: Vec<u32> = p.frames.iter().map(|f| b.label(&f.function, f.display_file())).collect();
    let by_thread = p.meta.options.threads && p.threads.len() > 1;
    let by_process = !by_thread && p.multi_process();
    let thread_labels: Vec<Option<u32>> = p
        .threads
        .iter()
        .map(|t| {
            if by_thread {
                Some(b.label(&t.label(), &format!("process {}", t.pid)))
            } else if by_process {
                Some(b.label(&format!("process {}", t.pid), "process"))
            } else {
                None
            }
        })
        .collect();
    let mut path = Vec::new();
    for s in &p.stacks {
        path.clear();
        if let Some(Some(t)) = thread_labels.get(s.thread as usize) {
            path.push(*t);
        }
        path.extend(s.frames.iter().filter_map(|&f| labels.get(f as usize).copied()));
        b.add(&path, s.count);
    }
    b.finish("samples")
}

/// Writes the section body.
pub(crate) fn section(ctx: &mut Ctx<'_>, out: &mut String, p: &Profile, depth: usize) {
    let m = &p.meta;
    let mut items = vec![("command", m.command.join(" "))];
    if let Some(v) = &m.python_version {
        items.push(("Python", v.clone()));
    }
    let pids: Vec<String> = m.pids.iter().map(u32::to_string).collect();
    items.push(("pids", pids.join(", ")));
    items.push(("started", m.started_at.clone()));
    items.push(("duration", secs(m.duration_secs)));
    items.push(("samples", count(p.total_samples())));
    items.push(("rate", format!("{:.0} Hz of {:.0} Hz asked", m.rate_achieved, m.rate_requested)));
    if m.late_rounds > 0 {
        items.push(("late rounds", count(m.late_rounds)));
    }
    if m.errors > 0 {
        items.push(("sampling errors", count(m.errors)));
    }
    items.push((
        "ended",
        match m.end {
            EndReason::TargetExited => match m.exit_code {
                Some(c) => format!("program exited with {c}"),
                None => "program exited".to_string(),
            },
            EndReason::Duration => "duration elapsed".to_string(),
            EndReason::Interrupted => "Ctrl-C".to_string(),
            EndReason::Stopped => "stopped".to_string(),
        },
    ));
    facts(out, &items);
    notes(out, "Sampling errors", &m.error_messages);

    let total = p.total_samples();
    if total == 0 {
        remark(out, "No samples: the program ended too soon, or no thread ran Python code while it was sampled.");
        return;
    }
    subheading(out, depth, "Flamegraph");
    let data = flame_data(p);
    component(
        ctx,
        out,
        &data,
        &format!("Width is the share of {}; each bar is a function, its callers above it.", plural(total, "sample")),
    );

    subheading(out, depth, "Top functions");
    let functions = p.functions();
    let rows: Vec<Row> = functions
        .iter()
        .take(TOP)
        .map(|f| {
            Row::new(vec![
                format!("<code>{}</code>", escape(&f.function)),
                format!("<span title=\"{}\">{}</span>", escape(&f.path), escape(&location(&f.file, f.line.into()))),
                escape(&pct(f.self_samples as f64 / total as f64)),
                escape(&pct(f.total_samples as f64 / total as f64)),
                escape(&count(f.self_samples)),
                escape(&count(f.total_samples)),
            ])
        })
        .collect();
    table(
        out,
        "functions",
        &[text("function"), text("location"), num("self"), num("total"), num("self samples"), num("total samples")],
        &rows,
        functions.len().saturating_sub(TOP),
    );
}
