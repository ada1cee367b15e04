//! The section of a `tachy mem` result: peaks and totals, the memory timeline (traced and
//! RSS), the sites live at the peak, the leaks, budgets, and a flamegraph of the bytes live at
//! the peak.

use super::flame::{FlameBuilder, FlameData, component};
use super::{
    Ctx, Row, Verdict, bytes, charts, count, escape, facts, figures, notes, num, pct, remark, secs, subheading, table,
    text,
};
use crate::mem::{MemEnd, MemReport, Site};
use crate::render::mem::{command_line, plot, short_file};

/// Rows of each site table.
const TOP: usize = 20;

/// The flamegraph data of the bytes live at the peak, per stack (callers above).
pub(crate) fn flame_data(m: &MemReport) -> FlameData {
    let mut b = FlameBuilder::new("all", &command_line(&m.command));
    let labels: Vec<u32> =
        m.frames.iter().map(|f| b.label(&f.function, &format!("{}:{}", short_file(&f.file), f.line))).collect();
    let mut path = Vec::new();
    for s in &m.stacks {
        path.clear();
        // Stacks are stored innermost first.
        path.extend(s.frames.iter().rev().filter_map(|&f| labels.get(f as usize).copied()));
        b.add(&path, s.peak_bytes);
    }
    b.finish("bytes")
}

/// A table of allocation sites.
fn sites(out: &mut String, sites: &[Site]) {
    let rows: Vec<Row> = sites
        .iter()
        .take(TOP)
        .map(|s| {
            Row::new(vec![
                format!("<code>{}</code>", escape(&s.function)),
                format!("<span title=\"{}\">{}:{}</span>", escape(&s.file), escape(short_file(&s.file)), s.line),
                escape(&bytes(s.bytes)),
                escape(&pct(s.share)),
                escape(&count(s.allocations)),
            ])
        })
        .collect();
    table(
        out,
        "sites",
        &[text("function"), text("line"), num("bytes"), num("share"), num("allocations")],
        &rows,
        sites.len().saturating_sub(TOP),
    );
}

/// Writes the section body.
pub(crate) fn section(ctx: &mut Ctx<'_>, out: &mut String, m: &MemReport, depth: usize) {
    let mut items = vec![("command", command_line(&m.command))];
    if let Some(v) = &m.python_version {
        items.push(("Python", v.clone()));
    }
    let pids: Vec<String> = m.pids.iter().map(u32::to_string).collect();
    items.push(("pids", pids.join(", ")));
    items.push(("started", m.started_at.clone()));
    items.push(("duration", secs(m.duration_secs)));
    items.push((
        "sampling",
        if m.sample_bytes == 0 {
            "every allocation".to_string()
        } else {
            format!("every {} on average", bytes(m.sample_bytes))
        },
    ));
    items.push((
        "ended",
        match (m.end, m.exit_code) {
            (MemEnd::Exited, Some(c)) => format!("exited with {c}"),
            (MemEnd::Exited, None) => "exited".to_string(),
            (MemEnd::Killed, _) => "killed".to_string(),
            (MemEnd::Interrupted, _) => "Ctrl-C".to_string(),
        },
    ));
    facts(out, &items);
    let mut figs = vec![
        (
            "peak traced",
            format!(
                "{} <span class=\"sub\">at {}</span>",
                escape(&bytes(m.peak.traced_bytes)),
                escape(&secs(m.peak.traced_at_secs))
            ),
        ),
        (
            "peak RSS",
            format!(
                "{} <span class=\"sub\">at {}</span>",
                escape(&bytes(m.peak.rss_bytes)),
                escape(&secs(m.peak.rss_at_secs))
            ),
        ),
        ("allocations", escape(&count(m.totals.allocations))),
        ("allocated", escape(&bytes(m.totals.allocated_bytes))),
        ("leaked at exit", escape(&bytes(m.leaked_bytes))),
    ];
    if m.kept_by_imports_bytes > 0 {
        figs.push(("kept by imports (not leaks)", escape(&bytes(m.kept_by_imports_bytes))));
    }
    if let Some(n) = &m.native {
        figs.push(("C heap peak", escape(&bytes(n.peak_bytes))));
    }
    figures(out, &figs);

    subheading(out, depth, "Memory over time");
    out.push_str(&charts::embed(&plot(m)));

    if !m.budgets.is_empty() {
        subheading(out, depth, "Budgets");
        let rows: Vec<Row> = m
            .budgets
            .iter()
            .map(|b| {
                Row::with(
                    Verdict::of(b.passed),
                    vec![
                        escape(&b.name),
                        escape(&b.measured_text()),
                        escape(&b.limit_text()),
                        format!("<span class=\"verdict\">{}</span>", if b.passed { "pass" } else { "FAIL" }),
                    ],
                )
            })
            .collect();
        table(out, "budgets", &[text("budget"), num("measured"), num("limit"), text("verdict")], &rows, 0);
    }

    subheading(out, depth, "Live at the peak");
    if m.peak_sites.is_empty() {
        remark(out, "No sampled allocation was live at the peak.");
    } else {
        sites(out, &m.peak_sites);
        subheading(out, depth, "Flamegraph of the bytes live at the peak");
        component(
            ctx,
            out,
            &flame_data(m),
            "Width is the estimated bytes live at the traced peak; each bar is a function, its callers above it.",
        );
    }

    subheading(out, depth, "Leaks (live at exit, outside imports)");
    if m.leak_sites.is_empty() {
        remark(out, "No sampled allocation made outside imports was still live at exit.");
    } else {
        sites(out, &m.leak_sites);
    }
    if !m.import_sites.is_empty() {
        subheading(out, depth, "Kept by imports (not leaks)");
        remark(
            out,
            "Live at exit, allocated while a module was imported: code objects, module globals, import caches.",
        );
        sites(out, &m.import_sites);
    }

    if !m.allocated_sites.is_empty() {
        subheading(out, depth, "Allocated over the run");
        sites(out, &m.allocated_sites);
    }
    notes(out, "Notes", &m.notes);
}
