//! The measurement history of `tachy check`: every run appends one JSON line per budget to
//! `<dir>/<budget>.jsonl` (schema `tachy-history/1`); `tachy check --history` reads them back
//! into one series per budget and metric, with a robust trend (Theil-Sen slope per run) and the
//! step changes found by change-point detection ([`tachy_stats::changepoint`]).

use std::collections::HashMap;
use std::fs::{self, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use tachy_report::check::{
    CheckReport, HISTORY_SCHEMA, HistoryEntry, HistoryMetric, HistoryPoint, HistoryReport, MetricSeries, StepChange,
    Verdict,
};
use tachy_report::units::SizeUnits;
use tachy_stats::changepoint;

use crate::error::CheckError;

/// The history folder of a project, relative to its root.
pub const DEFAULT_DIR: &str = ".tachy/history";

/// Most points given to the Theil-Sen fit (its cost is quadratic): longer series are thinned
/// evenly, keeping the first and the last run.
const MAX_TREND_POINTS: usize = 400;

/// Appends the measurements of `report` to the history in `dir` (created when missing): one
/// [`HistoryEntry`] line per budget in `<dir>/<budget>.jsonl`, with each limit check's metric,
/// measured value and unit.
///
/// Budgets with the verdict `error` measured nothing and are skipped, as are budgets without
/// checks and measured values that are not finite. When a budget checks one metric twice,
/// the first value is kept. Each line is written with a single append, so concurrent runs add
/// whole lines.
pub fn append(dir: &Path, report: &CheckReport) -> Result<(), CheckError> {
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CheckError::Write { path, source }
    };
    let mut created = false;
    for budget in &report.budgets {
        if budget.verdict == Verdict::Error {
            continue;
        }
        let mut metrics: Vec<HistoryMetric> = Vec::new();
        for c in &budget.checks {
            if c.measured.is_finite() && !metrics.iter().any(|m| m.metric == c.metric) {
                let size_units = matches!(c.unit.as_str(), "bytes" | "bytes/h")
                    .then(|| SizeUnits::of_written(&c.limit_text))
                    .flatten();
                metrics.push(HistoryMetric {
                    metric: c.metric.clone(),
                    value: c.measured,
                    unit: c.unit.clone(),
                    size_units,
                });
            }
        }
        if metrics.is_empty() {
            continue;
        }
        if !created {
            fs::create_dir_all(dir).map_err(write_err(dir))?;
            created = true;
        }
        let entry = HistoryEntry {
            schema: HISTORY_SCHEMA.to_string(),
            time: report.started_at.clone(),
            git_commit: report.git_commit.clone(),
            budget: budget.name.clone(),
            kind: budget.kind.clone(),
            verdict: budget.verdict,
            metrics,
        };
        let path = dir.join(file_name(&budget.name));
        // Appending to another program's file (a history folder written as an absolute path
        // that holds other files) would corrupt it.
        crate::config::replaceable(&path, "tachy-history/").map_err(|message| CheckError::Refused { message })?;
        let mut line = serde_json::to_string(&entry)
            .map_err(|e| CheckError::Write { path: path.clone(), source: std::io::Error::other(e) })?;
        line.push('\n');
        let mut file = OpenOptions::new().create(true).append(true).open(&path).map_err(write_err(&path))?;
        file.write_all(line.as_bytes()).map_err(write_err(&path))?;
        file.flush().map_err(write_err(&path))?;
    }
    Ok(())
}

/// `<budget>.jsonl`, with any character outside letters, digits, `-`, `_` and `.` replaced by
/// `_` (config names use only those) and a leading dot escaped, so the file stays in `dir`.
fn file_name(budget: &str) -> String {
    let mut name: String =
        budget.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect();
    if name.is_empty() || name.starts_with('.') {
        name.insert(0, '_');
    }
    name.push_str(".jsonl");
    name
}

/// Reads every `*.jsonl` file in `dir` into one series per budget, metric and unit, oldest run
/// first, with its Theil-Sen slope per run (3 runs or more) and its step changes (a relative
/// change of 5 % or more, larger than the noise).
///
/// A missing folder is an empty history. Blank lines are skipped; a line that is not a history
/// entry, or one of another schema, is an error naming the file and line.
pub fn read(dir: &Path) -> Result<HistoryReport, CheckError> {
    let mut report =
        HistoryReport { schema: HISTORY_SCHEMA.to_string(), dir: dir.display().to_string(), series: vec![] };
    let read_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CheckError::Read { path, source }
    };
    let listing = match fs::read_dir(dir) {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(report),
        Err(e) => return Err(read_err(dir)(e)),
    };
    let mut files: Vec<PathBuf> = Vec::new();
    for item in listing {
        let path = item.map_err(read_err(dir))?.path();
        if path.extension().is_some_and(|e| e == "jsonl") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    let mut entries: Vec<(SystemTime, HistoryEntry)> = Vec::new();
    for path in &files {
        read_file(path, &mut entries)?;
    }
    // Stable: runs of the same time keep the order of the files and their lines.
    entries.sort_by_key(|(t, _)| *t);

    let mut index: HashMap<(String, String, String), usize> = HashMap::new();
    for (_, entry) in &entries {
        for m in &entry.metrics {
            let key = (entry.budget.clone(), m.metric.clone(), m.unit.clone());
            let i = *index.entry(key).or_insert_with(|| {
                report.series.push(MetricSeries {
                    budget: entry.budget.clone(),
                    metric: m.metric.clone(),
                    unit: m.unit.clone(),
                    size_units: None,
                    points: Vec::new(),
                    slope_per_run: None,
                    steps: Vec::new(),
                });
                report.series.len() - 1
            });
            if m.size_units.is_some() {
                report.series[i].size_units = m.size_units;
            }
            report.series[i].points.push(HistoryPoint {
                time: entry.time.clone(),
                git_commit: entry.git_commit.clone(),
                value: m.value,
            });
        }
    }
    // Budgets by name (stable: each budget's metrics stay in the order first measured).
    report.series.sort_by(|a, b| a.budget.cmp(&b.budget));
    for series in &mut report.series {
        analyse(series);
    }
    Ok(report)
}

/// Reads the entries of one history file, with the time of each.
fn read_file(path: &Path, entries: &mut Vec<(SystemTime, HistoryEntry)>) -> Result<(), CheckError> {
    let file = fs::File::open(path).map_err(|source| CheckError::Read { path: path.into(), source })?;
    let error = |line: usize, message: String| CheckError::History { path: path.to_path_buf(), line, message };
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| error(i + 1, format!("cannot read the line: {e}")))?;
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| error(i + 1, format!("not a JSON history entry: {e}")))?;
        match value.get("schema").and_then(|s| s.as_str()) {
            Some(HISTORY_SCHEMA) => {}
            Some(other) => {
                return Err(error(
                    i + 1,
                    format!(
                        "unknown schema {other:?}; this tachy reads {HISTORY_SCHEMA:?} (written by another version?)"
                    ),
                ));
            }
            None => return Err(error(i + 1, format!("no \"schema\" field; a history entry has {HISTORY_SCHEMA:?}"))),
        }
        let entry: HistoryEntry =
            serde_json::from_value(value).map_err(|e| error(i + 1, format!("not a history entry: {e}")))?;
        let time = humantime::parse_rfc3339_weak(entry.time.trim_end_matches('Z'))
            .map_err(|e| error(i + 1, format!("time {:?} is not an RFC 3339 UTC time: {e}", entry.time)))?;
        entries.push((time, entry));
    }
    Ok(())
}

/// Fills the trend and the step changes of a series whose points are in place.
fn analyse(series: &mut MetricSeries) {
    let values: Vec<f64> = series.points.iter().map(|p| p.value).collect();
    let n = values.len();
    if n >= 3 {
        let step = n.div_ceil(MAX_TREND_POINTS).max(1);
        let mut points: Vec<(f64, f64)> = (0..n).step_by(step).map(|i| (i as f64, values[i])).collect();
        if !(n - 1).is_multiple_of(step) {
            points.push(((n - 1) as f64, values[n - 1]));
        }
        series.slope_per_run = tachy_stats::theil_sen(&points, 0.95).map(|t| t.slope).filter(|s| s.is_finite());
    }
    series.steps = changepoint::detect(&values, changepoint::DEFAULT_MIN_CHANGE)
        .steps
        .into_iter()
        .map(|s| {
            let at = &series.points[s.index];
            StepChange {
                index: s.index,
                time: at.time.clone(),
                git_commit: at.git_commit.clone(),
                before: s.before,
                after: s.after,
                change_percent: s.change * 100.0,
            }
        })
        .collect();
}

#[cfg(test)]
mod tests {
    use tachy_report::check::{BudgetResult, CHECK_SCHEMA, LimitCheck};

    use super::*;

    fn check(metric: &str, measured: f64, unit: &str) -> LimitCheck {
        LimitCheck {
            metric: metric.into(),
            measured,
            op: "<=".into(),
            limit: 1e9,
            unit: unit.into(),
            passed: true,
            measured_text: format!("{measured}"),
            limit_text: "<= 1e9".into(),
        }
    }

    fn budget(name: &str, verdict: Verdict, checks: Vec<LimitCheck>) -> BudgetResult {
        BudgetResult {
            name: name.into(),
            kind: "bench".into(),
            description: None,
            verdict,
            checks,
            error: (verdict == Verdict::Error).then(|| "the command failed".into()),
            log_tail: None,
            notes: vec![],
            duration_secs: 1.0,
            result_file: None,
        }
    }

    /// A run on day `day` (1-based) at commit `c<day>` where `api`'s p95 is `p95` seconds.
    fn run(day: u32, p95: f64) -> CheckReport {
        CheckReport {
            schema: CHECK_SCHEMA.into(),
            tachy_version: "0.0.0-test".into(),
            config: "tachy.toml".into(),
            started_at: format!("2026-01-{:02}T10:00:00Z", day),
            duration_secs: 3.0,
            git_commit: Some(format!("c{day:03}")),
            budgets: vec![
                budget("api", Verdict::Pass, vec![check("p95", p95, "s"), check("errors", 0.0, "%")]),
                budget("broken", Verdict::Error, vec![]),
                budget("mem", Verdict::Fail, vec![check("peak", 150e6, "bytes"), check("peak", 1.0, "bytes")]),
            ],
            interrupted: false,
        }
    }

    /// A history folder written as an absolute path may hold other files: one named like a
    /// budget's history that is not one is never appended to.
    #[test]
    fn another_programs_file_is_not_appended_to() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        fs::write(dir.join("api.jsonl"), "{\"event\": \"deploy\"}\n").unwrap();
        let e = append(dir, &run(1, 0.1)).unwrap_err().to_string();
        assert!(e.starts_with(&format!("refusing to replace {}", dir.join("api.jsonl").display())), "{e}");
        assert_eq!(fs::read_to_string(dir.join("api.jsonl")).unwrap(), "{\"event\": \"deploy\"}\n");
        fs::remove_file(dir.join("api.jsonl")).unwrap();
        append(dir, &run(1, 0.1)).unwrap();
        append(dir, &run(2, 0.1)).unwrap();
        assert_eq!(fs::read_to_string(dir.join("api.jsonl")).unwrap().lines().count(), 2);
    }

    /// The history shows a size as the check table did: in the family its limit was written
    /// in (`22.0 MB` for a `20MB` limit, not `21.0 MiB`).
    #[test]
    fn history_and_the_check_table_agree_on_size_units() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("h");
        for (day, peak) in [(1, 21_000_000.0), (2, 22_020_096.0)] {
            let mut c = check("peak", peak, "bytes");
            c.limit_text = "<= 20MB".into();
            c.measured_text = tachy_report::format::size(peak, SizeUnits::Decimal);
            let mut r = run(day, 0.1);
            r.budgets = vec![budget("mem", Verdict::Fail, vec![c])];
            append(&dir, &r).unwrap();
        }
        let line = fs::read_to_string(dir.join("mem.jsonl")).unwrap();
        assert!(line.contains("\"size_units\":\"decimal\""), "{line}");
        let h = read(&dir).unwrap();
        assert_eq!(h.series[0].size_units, Some(SizeUnits::Decimal));
        let text = tachy_report::render::check::history::render(&h, false);
        assert!(text.contains("21.0 MB") && text.contains("22.0 MB"), "{text}");
        assert!(!text.contains("MiB"), "{text}");
    }

    #[test]
    fn appended_runs_read_back_as_series_with_steps() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join(".tachy/history");
        let p95 = |i: u32| if i < 15 { 0.120 } else { 0.148 } + 0.001 * f64::from(i % 3);
        for day in 1..=28 {
            append(&dir, &run(day, p95(day - 1))).unwrap();
        }
        let mut names: Vec<String> =
            fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        names.sort();
        assert_eq!(names, ["api.jsonl", "mem.jsonl"], "no file for the budget that could not run");
        let text = fs::read_to_string(dir.join("api.jsonl")).unwrap();
        assert_eq!(text.lines().count(), 28);
        let first: HistoryEntry = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first.schema, HISTORY_SCHEMA);
        assert_eq!(first.git_commit.as_deref(), Some("c001"));
        assert_eq!(first.metrics.len(), 2);

        let h = read(&dir).unwrap();
        assert_eq!(h.schema, HISTORY_SCHEMA);
        let keys: Vec<(&str, &str, &str)> =
            h.series.iter().map(|s| (s.budget.as_str(), s.metric.as_str(), s.unit.as_str())).collect();
        assert_eq!(keys, [("api", "p95", "s"), ("api", "errors", "%"), ("mem", "peak", "bytes")]);
        let api = &h.series[0];
        assert_eq!(api.points.len(), 28);
        assert_eq!(api.points[0].time, "2026-01-01T10:00:00Z");
        assert!(api.slope_per_run.unwrap() > 0.0);
        assert_eq!(api.steps.len(), 1, "{:?}", api.steps);
        let s = &api.steps[0];
        assert_eq!(s.index, 15);
        assert_eq!(s.time, "2026-01-16T10:00:00Z");
        assert_eq!(s.git_commit.as_deref(), Some("c016"));
        assert!((s.change_percent - 23.3).abs() < 1.0, "{s:?}");
        // Constant series: flat trend, no step (errors stay at 0, a level without relative change).
        assert_eq!(h.series[1].slope_per_run, Some(0.0));
        assert!(h.series[1].steps.is_empty());
        // The duplicated metric kept its first value.
        assert!(h.series[2].points.iter().all(|p| p.value == 150e6));

        // End to end: the history view flags the step, and the report survives JSON.
        let text = tachy_report::render::check::history::render(&h, false);
        assert!(text.contains("▲ step +23."), "{text}");
        assert!(text.contains("at run 16, 2026-01-16, commit c016"), "{text}");
        let json = serde_json::to_string(&h).unwrap();
        assert_eq!(serde_json::from_str::<HistoryReport>(&json).unwrap(), h);
    }

    #[test]
    fn runs_are_in_time_order_and_blank_lines_skipped() {
        let tmp = tempfile::tempdir().unwrap();
        append(tmp.path(), &run(3, 0.3)).unwrap();
        append(tmp.path(), &run(1, 0.1)).unwrap();
        let mut r = run(2, 0.2);
        r.started_at = "2026-01-02T10:00:00.250Z".into();
        append(tmp.path(), &r).unwrap();
        let mut f = OpenOptions::new().append(true).open(tmp.path().join("api.jsonl")).unwrap();
        f.write_all(b"\n   \n").unwrap();
        let h = read(tmp.path()).unwrap();
        let values: Vec<f64> = h.series[0].points.iter().map(|p| p.value).collect();
        assert_eq!(values, [0.1, 0.2, 0.3]);
        assert!((h.series[0].slope_per_run.unwrap() - 0.1).abs() < 1e-12);
    }

    #[test]
    fn a_missing_folder_is_an_empty_history() {
        let tmp = tempfile::tempdir().unwrap();
        let h = read(&tmp.path().join("nope")).unwrap();
        assert!(h.series.is_empty());
        // A run where nothing could be measured writes nothing, not even the folder.
        let mut r = run(1, 0.1);
        r.budgets.retain(|b| b.verdict == Verdict::Error);
        append(&tmp.path().join("h"), &r).unwrap();
        assert!(!tmp.path().join("h").exists());
    }

    #[test]
    fn bad_lines_name_file_and_line() {
        let tmp = tempfile::tempdir().unwrap();
        append(tmp.path(), &run(1, 0.1)).unwrap();
        let path = tmp.path().join("api.jsonl");
        let good = fs::read_to_string(&path).unwrap();
        let cases = [
            ("{not json\n", "not a JSON history entry"),
            ("{\"schema\":\"tachy-history/9\"}\n", "unknown schema \"tachy-history/9\""),
            ("{\"time\":\"x\"}\n", "no \"schema\" field"),
            ("{\"schema\":\"tachy-history/1\",\"budget\":\"api\"}\n", "not a history entry"),
            (&good.replace("2026-01-01T10:00:00Z", "yesterday"), "not an RFC 3339"),
        ];
        for (bad, want) in cases {
            fs::write(&path, format!("{good}\n{bad}")).unwrap();
            let err = read(tmp.path()).unwrap_err();
            let msg = err.to_string();
            assert!(matches!(err, CheckError::History { line: 3, .. }), "{msg}");
            assert!(msg.starts_with(&format!("{}:3: ", path.display())), "{msg}");
            assert!(msg.contains(want), "{msg}");
        }
        fs::write(&path, b"\xff\xfe\n").unwrap();
        assert!(matches!(read(tmp.path()), Err(CheckError::History { line: 1, .. })));
    }

    #[test]
    fn other_files_are_ignored_and_names_are_safe() {
        let tmp = tempfile::tempdir().unwrap();
        fs::write(tmp.path().join("notes.txt"), "not history").unwrap();
        fs::create_dir(tmp.path().join("sub.jsonl")).unwrap();
        let mut r = run(1, 0.1);
        r.budgets[0].name = "../evil/name".into();
        append(tmp.path(), &r).unwrap();
        assert!(tmp.path().join("_.._evil_name.jsonl").is_file());
        assert_eq!(file_name("api.v2"), "api.v2.jsonl");
        assert_eq!(file_name(".hidden"), "_.hidden.jsonl");
        let h = read(tmp.path()).unwrap();
        assert_eq!(h.series[0].budget, "../evil/name", "the name comes from the entry, not the file");
    }

    #[test]
    fn concurrent_appends_keep_whole_lines() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        std::thread::scope(|s| {
            for t in 0..4u32 {
                let dir = &dir;
                s.spawn(move || {
                    for i in 0..25 {
                        let mut r = run(1 + (t * 25 + i) % 28, 0.1);
                        r.budgets[0].checks.push(check(&"x".repeat(3000), 1.0, "count"));
                        append(dir, &r).unwrap();
                    }
                });
            }
        });
        let h = read(&dir).unwrap();
        assert_eq!(h.series[0].points.len(), 100);
    }

    #[test]
    fn long_histories_are_thinned_for_the_trend() {
        let mut series = MetricSeries {
            budget: "b".into(),
            metric: "m".into(),
            unit: "s".into(),
            size_units: None,
            points: (0..1001)
                .map(|i| HistoryPoint { time: format!("t{i}"), git_commit: None, value: 10.0 + 0.5 * f64::from(i) })
                .collect(),
            slope_per_run: None,
            steps: vec![],
        };
        analyse(&mut series);
        assert!((series.slope_per_run.unwrap() - 0.5).abs() < 1e-9);
        assert!(series.steps.is_empty(), "{:?}", series.steps);
    }
}
