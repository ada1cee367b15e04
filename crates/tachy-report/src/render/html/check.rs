//! The section of a `tachy check` result: the verdict of every budget with each limit
//! checked (budget, metric, measured, limit, verdict), errors and log tails, and the sections
//! of the result files the budgets wrote.

use std::fmt::Write;
use std::path::{Component, Path, PathBuf};

use super::{Ctx, Row, Verdict, escape, facts, notes, remark, secs, subheading, table, text};
use crate::check::{self, CheckReport};
use crate::results::AnyResult;

/// The page's verdict of a budget's verdict.
fn verdict(v: check::Verdict) -> Verdict {
    match v {
        check::Verdict::Pass => Verdict::Pass,
        check::Verdict::Fail => Verdict::Fail,
        check::Verdict::Error => Verdict::Error,
    }
}

/// Where a budget's `result_file` is: absolute as written, else relative to the folder of
/// the check report's file `source`.
fn resolve(source: &str, result_file: &str) -> PathBuf {
    let p = Path::new(result_file);
    if p.is_absolute() {
        return p.to_path_buf();
    }
    match Path::new(source).parent() {
        Some(dir) => dir.join(p),
        None => p.to_path_buf(),
    }
}

/// The folder of the check report's file `source`.
fn folder_of(source: &str) -> PathBuf {
    match Path::new(source).parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// `path` made absolute and without `.` or `..`: through the file system when it exists (so
/// symbolic links are followed), by the names alone when it does not.
fn real(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    let absolute =
        if path.is_absolute() { path.to_path_buf() } else { std::env::current_dir().unwrap_or_default().join(path) };
    let mut out = PathBuf::new();
    for c in absolute.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    // The deepest part that exists decides where symbolic links lead.
    let mut rest = Vec::new();
    let mut existing = out.as_path();
    while let Some(parent) = existing.parent() {
        if let Ok(p) = existing.canonicalize() {
            let mut p = p;
            p.extend(rest.iter().rev());
            return p;
        }
        rest.push(existing.file_name().unwrap_or_default().to_os_string());
        existing = parent;
    }
    out
}

/// Whether `path` lies inside one of `folders`.
fn inside(path: &Path, folders: &[PathBuf]) -> bool {
    let path = real(path);
    folders.iter().any(|f| path.starts_with(real(f)))
}

/// Writes the section body; `source` is the check report's file name, `depth` its nesting.
pub(crate) fn section(ctx: &mut Ctx<'_>, out: &mut String, r: &CheckReport, source: &str, depth: usize) {
    let (pass, fail, error) = r.counts();
    let mut items = vec![
        ("config", r.config.clone()),
        ("started", r.started_at.clone()),
        ("duration", secs(r.duration_secs)),
        ("budgets", format!("{pass} passed, {fail} failed, {error} could not run")),
    ];
    if let Some(c) = &r.git_commit {
        items.push(("commit", c.clone()));
    }
    facts(out, &items);
    if r.interrupted {
        remark(out, "Interrupted: budgets after Ctrl-C did not run.");
    }
    if r.budgets.is_empty() {
        remark(out, "No budgets ran.");
        return;
    }

    subheading(out, depth, "Verdicts");
    let mut rows = Vec::new();
    for b in &r.budgets {
        let v = verdict(b.verdict);
        let name = format!("<b>{}</b> <span class=\"sub\">{}</span>", escape(&b.name), escape(&b.kind));
        let badge = format!("<span class=\"verdict\">{}</span>", escape(b.verdict.label()));
        if b.checks.is_empty() {
            let why = b.error.as_deref().unwrap_or("no limits checked");
            rows.push(Row::with(v, vec![name, escape(why), String::new(), String::new(), badge]));
            continue;
        }
        for c in &b.checks {
            rows.push(Row::with(
                if b.verdict == check::Verdict::Error { Verdict::Error } else { Verdict::of(c.passed) },
                vec![
                    name.clone(),
                    escape(&c.metric),
                    escape(&c.measured_text),
                    escape(&c.limit_text),
                    format!("<span class=\"verdict\">{}</span>", if c.passed { "pass" } else { "FAIL" }),
                ],
            ));
        }
        if let Some(e) = &b.error {
            rows.push(Row::with(v, vec![name, escape(e), String::new(), String::new(), badge]));
        }
    }
    table(
        out,
        "verdicts",
        &[text("budget"), text("metric"), text("measured"), text("limit"), text("verdict")],
        &rows,
        0,
    );

    for b in &r.budgets {
        let mut extra = Vec::new();
        if let Some(d) = &b.description {
            extra.push(format!("{}: {d}", b.name));
        }
        extra.extend(b.notes.iter().map(|n| format!("{}: {n}", b.name)));
        notes(out, "Notes", &extra);
        if let Some(log) = &b.log_tail {
            let _ = writeln!(
                out,
                "<details><summary>Output of {} (last lines)</summary><pre>{}</pre></details>",
                escape(&b.name),
                escape(log)
            );
        }
    }

    // The results behind the budgets: embedded once, never recursively.
    if depth > 0 {
        return;
    }
    let mut missing = Vec::new();
    let mut folders = vec![folder_of(source)];
    folders.extend(ctx.trusted().iter().cloned());
    for b in &r.budgets {
        let Some(file) = &b.result_file else { continue };
        let path = resolve(source, file);
        let why = if !inside(&path, &folders) {
            format!(
                "{file} is outside the folder of the check report ({}): not read (tachy report embeds only result files under it)",
                folders[0].display()
            )
        } else {
            match ctx.load(&path) {
                Ok(AnyResult::Check(_)) => format!("{file} is another check report"),
                Ok(result) if result.kind() != b.kind => {
                    format!("{file} is a {} result, not the {} result of this budget", result.kind(), b.kind)
                }
                Ok(result) => {
                    let label = format!("{} ({})", b.name, path.display());
                    ctx.section_judged(out, &label, &result, depth + 1, Some((&b.name, verdict(b.verdict))));
                    continue;
                }
                // An I/O error names the file already.
                Err(e @ crate::results::ResultError::Io { .. }) => e.to_string(),
                Err(e) => format!("{file}: {e}"),
            }
        };
        ctx.warn(format!("{source}: budget {}: result file not shown: {why}", b.name));
        missing.push(format!("{}: {why}", b.name));
    }
    notes(out, "Result files not shown", &missing);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_files_resolve_beside_the_check_report() {
        assert_eq!(resolve("out/check.json", "bench.json"), Path::new("out/bench.json"));
        assert_eq!(resolve("check.json", "bench.json"), Path::new("bench.json"));
        assert_eq!(resolve("out/check.json", "/abs/b.json"), Path::new("/abs/b.json"));
    }

    #[test]
    fn only_files_under_the_check_reports_folder_are_inside() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("proj/sub")).unwrap();
        std::fs::create_dir_all(d.join("other")).unwrap();
        std::os::unix::fs::symlink(d.join("other"), d.join("proj/link")).unwrap();
        let proj = [d.join("proj")];
        assert!(inside(&d.join("proj/sub/a.json"), &proj));
        assert!(inside(&d.join("proj/new/../a.json"), &proj), "missing files are judged by their names");
        assert!(!inside(&d.join("proj/../other/a.json"), &proj));
        assert!(!inside(&d.join("proj/link/a.json"), &proj), "a symbolic link out of the folder");
        assert!(!inside(Path::new("/etc/passwd"), &proj));
        assert!(inside(&d.join("other/a.json"), &[d.join("proj"), d.join("other")]), "a trusted folder");
    }
}
