//! The terminal summary of a memory profile: run, peaks, totals, timeline sparklines, the top
//! sites live at the peak (with stacks), allocated over the run and leaked, budgets and notes.

use std::fmt::Write;

use super::{command_line, frame_label, short_file};
use crate::format;
use crate::mem::{MemBudget, MemEnd, MemPoint, MemReport, Site};
use crate::render::common::{Paint, bytes, count, plural, secs, sparkline, warnings, without_trailing_blank_lines};

/// Rows per site table.
const TOP_SITES: usize = 10;
/// Sites of the peak table whose stack is printed.
const TOP_STACKS: usize = 3;
/// Most frames printed per stack.
const STACK_FRAMES: usize = 8;
/// Most columns of a sparkline; longer timelines put several points in a column.
const SPARK_WIDTH: usize = 60;
/// Renders a memory report for the terminal. `color` adds ANSI colours: bold for the peak,
/// green for budgets that held, red for those that failed, yellow for warnings and notes.
pub fn text(report: &MemReport, color: bool) -> String {
    let paint = Paint(color);
    let mut out = String::new();
    header(&mut out, report, paint);
    peaks(&mut out, report, paint);
    timeline(&mut out, &report.timeline);
    let unsampled = report.stacks.is_empty() && report.peak_sites.is_empty() && report.allocated_sites.is_empty();
    if unsampled && report.sample_bytes > 0 {
        let hint = format!(
            "No allocation was sampled: the run allocated too little for one sample per {} on average.",
            bytes(report.sample_bytes)
        );
        let _ = writeln!(out, "  {}", paint.yellow(&hint));
        let _ = writeln!(out, "  {}\n", paint.yellow("Use --exact to record every allocation."));
    }
    sites(&mut out, report, "Live at the peak", &report.peak_sites, TOP_STACKS, paint);
    sites(&mut out, report, "Allocated over the run", &report.allocated_sites, 0, paint);
    leaks(&mut out, report, paint);
    budgets(&mut out, &report.budgets, paint);
    warnings(&mut out, "  ", "Notes", &report.notes, paint);
    without_trailing_blank_lines(out)
}

fn header(out: &mut String, report: &MemReport, paint: Paint) {
    let _ = writeln!(out, "{}", paint.bold(&format!("Memory profile: {}", command_line(&report.command))));
    match report.end {
        MemEnd::Exited => {}
        MemEnd::Killed => {
            let _ = writeln!(out, "{}", paint.yellow("Killed: the capture ends where the program stopped."));
        }
        MemEnd::Interrupted => {
            let _ = writeln!(out, "{}", paint.yellow("Interrupted: figures cover the run until Ctrl-C."));
        }
    }
    let mut run = vec![secs(report.duration_secs)];
    run.push(match (report.end, report.exit_code) {
        (_, Some(code)) => format!("exit code {code}"),
        (MemEnd::Exited, None) => "exited".to_string(),
        (MemEnd::Killed, None) => "killed".to_string(),
        (MemEnd::Interrupted, None) => "interrupted".to_string(),
    });
    if let Some(v) = &report.python_version {
        run.push(format!("Python {v}"));
    }
    if report.pids.len() > 1 {
        let pids: Vec<String> = report.pids.iter().map(u32::to_string).collect();
        run.push(format!("{} processes (pids {})", report.pids.len(), pids.join(", ")));
    }
    let _ = writeln!(out, "  Run:         {}", run.join(", "));
    let sampling = if report.sample_bytes == 0 {
        "every allocation (--exact): bytes by site are exact".to_string()
    } else {
        format!("1 sample per {} on average: bytes by site are estimates", bytes(report.sample_bytes))
    };
    let _ = writeln!(out, "  Sampling:    {sampling}\n");
}

fn peaks(out: &mut String, report: &MemReport, paint: Paint) {
    let p = &report.peak;
    let traced = if report.native.is_some() {
        "exact: Python allocators and C allocations outside them"
    } else {
        "exact, Python allocators only: C allocations such as NumPy arrays were not traced"
    };
    let _ =
        writeln!(out, "  Peak traced: {} at {} ({traced})", paint.bold(&bytes(p.traced_bytes)), secs(p.traced_at_secs));
    let _ = writeln!(out, "  Peak RSS:    {} at {}", bytes(p.rss_bytes), secs(p.rss_at_secs));
    if let Some(n) = &report.native {
        let _ = writeln!(
            out,
            "  Peak C heap: {} at {} (--native: every malloc, the Python allocators' own blocks included)",
            bytes(n.peak_bytes),
            secs(n.peak_at_secs)
        );
    }
    let t = &report.totals;
    let _ = writeln!(
        out,
        "  Allocated:   {} in {} allocations, {} {}\n",
        bytes(t.allocated_bytes),
        count(t.allocations),
        count(t.samples),
        if t.samples == 1 { "sample" } else { "samples" }
    );
}

fn timeline(out: &mut String, points: &[MemPoint]) {
    if points.len() < 2 {
        return;
    }
    let per_column = points.len().div_ceil(SPARK_WIDTH);
    let columns: Vec<&[MemPoint]> = points.chunks(per_column).collect();
    let span = points.last().map_or(0.0, |p| p.t_secs) - points[0].t_secs;
    let _ = writeln!(out, "  Timeline ({}, {} points):", secs(span), count(points.len() as u64));
    for (name, value) in
        [("traced", (|p: &MemPoint| p.traced_bytes) as fn(&MemPoint) -> u64), ("RSS", |p: &MemPoint| p.rss_bytes)]
    {
        let maxes: Vec<f64> = columns.iter().map(|c| c.iter().map(value).max().unwrap_or(0) as f64).collect();
        let lo = points.iter().map(value).min().unwrap_or(0);
        let hi = points.iter().map(value).max().unwrap_or(0);
        let _ =
            writeln!(out, "    {name:<6}  {}  min {}, max {}", sparkline(&maxes, 0.0, hi as f64), bytes(lo), bytes(hi));
    }
    out.push('\n');
}

/// `file:line` of a site, with the file shortened.
fn location(site: &Site) -> String {
    format!("{}:{}", short_file(&site.file), site.line)
}

/// A table of the top sites; the first `stacks` rows get their stack underneath.
fn sites(out: &mut String, report: &MemReport, title: &str, sites: &[Site], stacks: usize, paint: Paint) {
    if sites.is_empty() {
        let _ = writeln!(out, "  {title}: no allocation sampled\n");
        return;
    }
    let total = sites.iter().fold(0u64, |sum, s| sum.saturating_add(s.bytes));
    let what = if report.sample_bytes == 0 { "" } else { "estimated, " };
    let _ = writeln!(out, "  {title} ({what}{} in {}):", bytes(total), plural(sites.len() as u64, "site"));
    table(out, report, &sites[..sites.len().min(TOP_SITES)], stacks, paint);
    more(out, sites);
    out.push('\n');
}

fn table(out: &mut String, report: &MemReport, shown: &[Site], stacks: usize, paint: Paint) {
    let locations: Vec<String> = shown.iter().map(location).collect();
    let width = locations.iter().map(|l| l.chars().count()).max().unwrap_or(0).max(8);
    let _ = writeln!(out, "    {:>9}  {:>6}  {:<width$}  function", "bytes", "share", "location");
    for (i, (site, loc)) in shown.iter().zip(&locations).enumerate() {
        let _ = writeln!(
            out,
            "    {:>9}  {:>6}  {loc:<width$}  {}",
            bytes(site.bytes),
            format::percent(site.share),
            site.function
        );
        if i < stacks {
            stack(out, report, site.stack, paint);
        }
    }
}

/// The frames of one stack, innermost first, under its table row: at most [`STACK_FRAMES`]
/// lines, a run of the same frame (recursion) on one line with its count.
fn stack(out: &mut String, report: &MemReport, index: u32, paint: Paint) {
    let Some(stack) = report.stacks.get(index as usize) else { return };
    let mut runs: Vec<(u32, usize)> = Vec::new();
    for &f in &stack.frames {
        match runs.last_mut() {
            Some((last, n)) if *last == f => *n += 1,
            _ => runs.push((f, 1)),
        }
    }
    let indent = " ".repeat(23);
    for &(f, n) in runs.iter().take(STACK_FRAMES) {
        let label = report.frames.get(f as usize).map_or_else(|| "?".to_string(), frame_label);
        let repeat = if n > 1 { format!(" ×{n}") } else { String::new() };
        let _ = writeln!(out, "{indent}{}", paint.dim(&format!("↳ {label}{repeat}")));
    }
    if runs.len() > STACK_FRAMES {
        let rest: usize = runs[STACK_FRAMES..].iter().map(|(_, n)| n).sum();
        let _ = writeln!(out, "{indent}{}", paint.dim(&format!("  … {}", plural(rest as u64, "more frame"))));
    }
}

/// `… and 3 more sites (1.20 MiB)` under a table cut at [`TOP_SITES`].
fn more(out: &mut String, sites: &[Site]) {
    if sites.len() > TOP_SITES {
        let rest = &sites[TOP_SITES..];
        let _ = writeln!(
            out,
            "    … and {} ({})",
            plural(rest.len() as u64, "more site"),
            bytes(rest.iter().fold(0u64, |sum, s| sum.saturating_add(s.bytes)))
        );
    }
}

/// Leaks (live at exit, outside imports), then one line for what imports keep.
fn leaks(out: &mut String, report: &MemReport, paint: Paint) {
    let what = if report.sample_bytes == 0 { "" } else { "estimated, " };
    if report.leak_sites.is_empty() && report.leaked_bytes == 0 {
        let _ = writeln!(out, "  Leaks (live at exit, outside imports): none");
    } else {
        let head = format!(
            "Leaks (live at exit, outside imports, {what}{} in {}):",
            bytes(report.leaked_bytes),
            plural(report.leak_sites.len() as u64, "site")
        );
        let _ = writeln!(out, "  {}", paint.yellow(&head));
        if !report.leak_sites.is_empty() {
            table(out, report, &report.leak_sites[..report.leak_sites.len().min(TOP_SITES)], 0, paint);
            more(out, &report.leak_sites);
        }
    }
    if report.kept_by_imports_bytes > 0 {
        let _ = writeln!(
            out,
            "  Kept by imports (not leaks, {what}{} in {}): code, module globals, import caches",
            bytes(report.kept_by_imports_bytes),
            plural(report.import_sites.len() as u64, "site")
        );
        if let Some(s) = report.import_sites.first() {
            let _ = writeln!(out, "    largest: {}  {}  {}", bytes(s.bytes), location(s), s.function);
        }
    }
    out.push('\n');
}

fn budgets(out: &mut String, budgets: &[MemBudget], paint: Paint) {
    if budgets.is_empty() {
        return;
    }
    let width = budgets.iter().map(|b| b.name.chars().count()).max().unwrap_or(0).max(6);
    let _ = writeln!(out, "  Budgets:");
    let _ = writeln!(out, "    {:<width$}  {:>9}  {:>9}  verdict", "budget", "measured", "limit");
    for b in budgets {
        let verdict = if b.passed { paint.green("PASS") } else { paint.red("FAIL") };
        let _ = writeln!(out, "    {:<width$}  {:>9}  {:>9}  {verdict}", b.name, b.measured_text(), b.limit_text());
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mem::MemFrame;
    use crate::render::common::SPARKS;
    use crate::render::mem::fixture;

    #[test]
    fn peak_leaks_failing_budget_and_notes() {
        insta::assert_snapshot!("report", text(&fixture::report(), false));
    }

    #[test]
    fn no_leaks_and_no_samples() {
        insta::assert_snapshot!("unsampled", text(&fixture::unsampled(), false));
    }

    #[test]
    fn color_only_when_asked() {
        assert!(!text(&fixture::report(), false).contains('\x1b'));
        let coloured = text(&fixture::report(), true);
        assert!(coloured.contains("\x1b[32mPASS\x1b[0m"));
        assert!(coloured.contains("\x1b[1;31mFAIL\x1b[0m"));
    }

    #[test]
    fn ends_and_exact_runs() {
        let mut report = fixture::report();
        report.end = MemEnd::Killed;
        report.exit_code = None;
        report.sample_bytes = 0;
        let out = text(&report, false);
        assert!(out.lines().nth(1).unwrap().starts_with("Killed"), "{out}");
        assert!(out.contains("5.25 s, killed,"), "{out}");
        assert!(out.contains("↳ Tree.walk (app/tree.py:12) ×9\n"), "{out}");
        assert!(out.contains("every allocation (--exact)"), "{out}");
        assert!(out.contains("Live at the peak (114 MiB in 4 sites):"), "{out}");
        report.end = MemEnd::Interrupted;
        assert!(text(&report, false).lines().nth(1).unwrap().starts_with("Interrupted"));
    }

    #[test]
    fn deep_stacks_are_cut() {
        let mut report = fixture::report();
        report.frames =
            (0..12).map(|i| MemFrame { function: format!("f{i}"), file: "/a/b/c.py".into(), line: i }).collect();
        report.stacks[0].frames = (0..12).collect();
        let out = text(&report, false);
        assert!(out.contains("↳ f7 (b/c.py:7)\n                         … 4 more frames\n"), "{out}");
        assert!(!out.contains("f8 "), "{out}");
    }

    #[test]
    fn long_tables_and_timelines_are_cut() {
        let mut report = fixture::report();
        let site = report.allocated_sites[0].clone();
        report.allocated_sites = (0..25).map(|i| Site { line: i, bytes: 1 << 20, ..site.clone() }).collect();
        report.timeline =
            (0..600).map(|i| MemPoint { t_secs: i as f64 * 0.1, traced_bytes: i << 20, rss_bytes: 1 << 30 }).collect();
        let out = text(&report, false);
        assert!(out.contains("    … and 15 more sites (15.0 MiB)"), "{out}");
        let line = out.lines().find(|l| l.trim_start().starts_with("traced ")).unwrap();
        assert_eq!(line.chars().filter(|c| SPARKS.contains(c)).count(), 60);
        assert!(line.ends_with("█  min 0 B, max 599 MiB"), "{line}");
    }
}
