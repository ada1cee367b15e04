//! Turning the JSON result of each tachy command into limit checks: one function per budget
//! kind, pure (a result in, checks out), so every rule is unit-tested without running anything.

use tachy_report::bench::{BenchReport, GateVerdict, Metric};
use tachy_report::check::LimitCheck;
use tachy_report::lint::LintReport;
use tachy_report::load::LoadReport;
use tachy_report::mem::MemReport;
use tachy_report::profile::Profile;
use tachy_report::watch::WatchReport;

use crate::config::{BenchBudget, LintBudget, MemBudget, ProfileBudget, WatchBudget};
use tachy_report::units;

/// Checks and remarks from one result.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Evaluation {
    /// The limits checked.
    pub checks: Vec<LimitCheck>,
    /// Remarks for the user.
    pub notes: Vec<String>,
}

/// Whether `measured op limit` holds.
fn holds(measured: f64, op: &str, limit: f64) -> bool {
    match op {
        "<=" => measured <= limit,
        "<" => measured < limit,
        ">=" => measured >= limit,
        ">" => measured > limit,
        _ => false,
    }
}

/// One limit check. A size (`bytes`, `bytes/h`) measured against a limit written with a unit
/// is shown in that unit's family: `22.0 MB` next to `<= 20MB`, `21.0 MiB` next to `<= 20MiB`.
fn check(
    metric: impl Into<String>,
    measured: f64,
    op: &str,
    limit: f64,
    unit: &str,
    measured_text: String,
    limit_text: String,
) -> LimitCheck {
    let measured_text = match (unit, units::SizeUnits::of_written(&limit_text)) {
        ("bytes", Some(family)) => tachy_report::format::size(measured, family),
        ("bytes/h", Some(family)) => format!("{}/h", tachy_report::format::size(measured, family)),
        _ => measured_text,
    };
    LimitCheck {
        metric: metric.into(),
        measured,
        op: op.to_string(),
        limit,
        unit: unit.to_string(),
        passed: holds(measured, op, limit),
        measured_text,
        limit_text: format!("{op} {limit_text}"),
    }
}

/// A size in decimal units (`22.0 MB`), for figures with no limit to follow; a figure next
/// to a limit is shown in the limit's family by [`check`].
pub fn mb(bytes: f64) -> String {
    tachy_report::format::size(bytes, units::SizeUnits::Decimal)
}

fn seconds(s: f64) -> String {
    tachy_report::format::time(s)
}

/// A bench result against its budget.
pub fn bench(b: &BenchBudget, r: &BenchReport) -> Evaluation {
    let mut ev = Evaluation::default();
    let cpu = b.metric.as_deref() == Some("cpu");
    for res in &r.results {
        let (mean, median) = if cpu {
            let per_run: Vec<f64> = res.user_times.iter().zip(&res.system_times).map(|(u, s)| u + s).collect();
            if per_run.is_empty() {
                (res.user + res.system, res.user + res.system)
            } else {
                (tachy_stats::mean(&per_run), tachy_stats::median(&per_run))
            }
        } else {
            (res.mean, res.median)
        };
        let what = if cpu { "CPU " } else { "" };
        for (name, value, limit) in [("mean", mean, &b.max_mean), ("median", median, &b.max_median)] {
            if let Some(limit) = limit.as_deref().and_then(|s| units::parse_duration(s).ok()) {
                ev.checks.push(check(
                    format!("{what}{name} of '{}'", res.command),
                    value,
                    "<=",
                    limit.as_secs_f64(),
                    "s",
                    seconds(value),
                    seconds(limit.as_secs_f64()),
                ));
            }
        }
    }
    if let Some(gate) = &r.gate {
        let limit = gate.max_regression * 100.0;
        for row in &gate.rows {
            let change = (row.comparison.ratio.ratio - 1.0) * 100.0;
            let mut c = check(
                format!("change of '{}' vs baseline {}", row.command, gate.baseline),
                change,
                "<=",
                limit,
                "%",
                format!("{change:+.1}% ({})", row.verdict.label()),
                format!("{limit}%"),
            );
            // Only a significant slowdown beyond the threshold fails (noise does not).
            c.passed = row.verdict != GateVerdict::Regressed;
            ev.checks.push(c);
        }
        for m in &gate.missing_in_baseline {
            ev.notes.push(format!("'{m}' is not in baseline {}: not compared", gate.baseline));
        }
    }
    if r.context.metric == Metric::Cpu && !cpu {
        ev.notes.push("the baseline gate compared CPU time".into());
    }
    ev.notes.extend(r.warnings.iter().cloned());
    ev
}

/// A load result: its SLO verdicts become checks.
pub fn load(r: &LoadReport) -> Evaluation {
    let mut ev = Evaluation::default();
    for s in &r.slos {
        let op = ["<=", ">=", "<", ">"].into_iter().find(|op| s.expr.contains(op)).unwrap_or("<=");
        let metric = match &s.scope {
            Some(scope) => format!("{} of {scope}", s.metric),
            None => s.metric.clone(),
        };
        let fmt = |v: f64| match s.unit.as_str() {
            "ms" => format!("{v:.1} ms"),
            "%" => format!("{v:.2}%"),
            u => format!("{v:.1} {u}"),
        };
        let mut c = check(metric, s.measured, op, s.limit, &s.unit, fmt(s.measured), fmt(s.limit));
        c.passed = s.passed;
        ev.checks.push(c);
    }
    if r.generator.saturated {
        ev.notes.push(format!(
            "the load generator was saturated ({}): latencies describe tachy, not the server; the run is invalid",
            r.generator.reason.as_deref().unwrap_or("CPU")
        ));
    }
    ev.notes.push(format!("{} requests, {:.0} req/s", r.totals.requests, r.totals.rps));
    ev
}

/// A memory result against its budget.
pub fn mem(b: &MemBudget, r: &MemReport) -> Evaluation {
    let mut ev = Evaluation::default();
    fn size(s: &Option<String>) -> Option<(units::Size, &str)> {
        s.as_deref().and_then(|s| units::parse_size_written(s).ok().map(|v| (v, s)))
    }
    // Figures are shown in the family of the limits written (binary when none is).
    let mut family = units::SizeUnits::Binary;
    for (name, limit, v) in [
        ("peak", &b.max_peak, r.peak.traced_bytes),
        ("leaked at exit", &b.max_leak, r.leaked_bytes),
        ("peak RSS", &b.max_rss, r.peak.rss_bytes),
    ] {
        if let Some((limit, text)) = size(limit) {
            family = limit.units;
            let v = v as f64;
            let shown = tachy_report::format::size(v, limit.units);
            ev.checks.push(check(name, v, "<=", limit.bytes as f64, "bytes", shown, text.to_string()));
        }
    }
    if let Some(site) = r.peak_sites.first() {
        ev.notes.push(format!(
            "top site at the peak: {}:{} {} ({})",
            site.file,
            site.line,
            site.function,
            tachy_report::format::size(site.bytes as f64, family)
        ));
    }
    if r.kept_by_imports_bytes > 0 && b.max_leak.is_some() {
        ev.notes.push(format!(
            "{} live at exit was kept by imports (module code, globals, caches): not counted as leaked",
            tachy_report::format::size(r.kept_by_imports_bytes as f64, family)
        ));
    }
    ev
}

/// The share of samples (percent) a named function had: the largest over the functions the
/// name matches. `None` when nothing matches.
pub fn function_share(
    functions: &[tachy_report::profile::FunctionStat],
    total: u64,
    name: &str,
    self_share: bool,
) -> Option<(f64, String)> {
    if total == 0 {
        return None;
    }
    let (file_part, func) = match name.rsplit_once(':') {
        Some((file, func)) => (Some(file), func),
        None => (None, name),
    };
    let (module, func) = match (file_part, func.rsplit_once('.')) {
        (None, Some((module, f))) => (Some(module), f),
        _ => (None, func),
    };
    functions
        .iter()
        .filter(|f| f.function == func)
        .filter(|f| match file_part {
            Some(file) => f.file.ends_with(file) || f.path.ends_with(file),
            None => true,
        })
        .filter(|f| match module {
            Some(m) => {
                let dotted = f.file.trim_end_matches(".py").replace(['/', '\\'], ".");
                let dotted = dotted.trim_end_matches(".__init__");
                dotted == m || dotted.ends_with(&format!(".{m}"))
            }
            None => true,
        })
        .map(|f| {
            let n = if self_share { f.self_samples } else { f.total_samples };
            (n as f64 * 100.0 / total as f64, format!("{}:{}", f.file, f.function))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
}

/// A profile against its budget and, when given, a baseline profile.
pub fn profile(b: &ProfileBudget, p: &Profile, baseline: Option<&Profile>) -> Evaluation {
    let mut ev = Evaluation::default();
    let functions = p.functions();
    let total = p.total_samples();
    if total == 0 {
        ev.notes.push("the profile has no samples (the program ended too soon?)".into());
    }
    for l in &b.limits {
        let Ok(limit) = ShareLimit::parse(l) else { continue };
        let kind = if limit.self_share { "self share" } else { "share" };
        let (share, note) = match function_share(&functions, total, &limit.function, limit.self_share) {
            Some((share, _)) => (share, None),
            None => (0.0, Some(format!("{} was not seen in the profile", limit.function))),
        };
        ev.notes.extend(note);
        ev.checks.push(check(
            format!("{kind} of {}", limit.function),
            share,
            &limit.op,
            limit.percent,
            "%",
            format!("{share:.1}%"),
            format!("{}%", limit.percent),
        ));
    }
    if let Some(base) = baseline {
        let max_inc = b.max_share_increase.as_deref().and_then(|s| units::parse_percent(s).ok()).unwrap_or(5.0);
        let base_total = base.total_samples();
        let base_functions = base.functions();
        let share_of =
            |fs: &[tachy_report::profile::FunctionStat], total: u64, f: &tachy_report::profile::FunctionStat| {
                fs.iter()
                    .find(|g| g.function == f.function && g.file == f.file)
                    .map_or(0.0, |g| g.total_samples as f64 * 100.0 / total.max(1) as f64)
            };
        let worst = functions
            .iter()
            .filter(|f| f.function != "<module>")
            .map(|f| {
                let now = f.total_samples as f64 * 100.0 / total.max(1) as f64;
                let before = if base_total == 0 { 0.0 } else { share_of(&base_functions, base_total, f) };
                (now - before, f)
            })
            .max_by(|a, b| a.0.total_cmp(&b.0));
        if let Some((inc, f)) = worst {
            ev.checks.push(check(
                format!("largest share increase vs baseline ({}:{})", f.file, f.function),
                inc,
                "<=",
                max_inc,
                "%",
                format!("{inc:+.1} points"),
                format!("{max_inc} points"),
            ));
        }
    }
    ev
}

/// A soak result against its budget.
pub fn watch(b: &WatchBudget, r: &WatchReport) -> Evaluation {
    let mut ev = Evaluation::default();
    if let Some(limit_text) = &b.max_growth
        && let Ok(limit) = units::parse_growth(limit_text)
    {
        match &r.growth {
            Some(g) => {
                let mut c = check(
                    "memory growth",
                    g.bytes_per_hour,
                    "<=",
                    limit,
                    "bytes/h",
                    format!("{}/h", mb(g.bytes_per_hour)),
                    limit_text.clone(),
                );
                // A growth is called only when it is real: the fit's interval must be above the
                // limit too, not just the point estimate.
                c.passed = g.bytes_per_hour <= limit || g.low_bytes_per_hour <= limit;
                ev.checks.push(c);
                ev.notes.push(format!(
                    "growth {}/h, interval {}/h .. {}/h over {:.0} s",
                    mb(g.bytes_per_hour),
                    mb(g.low_bytes_per_hour),
                    mb(g.high_bytes_per_hour),
                    g.window_secs
                ));
            }
            None => ev.notes.push("too few samples to estimate the memory growth (watch longer)".into()),
        }
    }
    if let Some(limit_text) = &b.max_rss
        && let Ok(limit) = units::parse_size(limit_text)
        && let Some(s) = r.series.get("rss_bytes")
    {
        ev.checks.push(check("max RSS", s.max, "<=", limit as f64, "bytes", mb(s.max), limit_text.clone()));
    }
    if let Some(limit_text) = &b.max_cpu
        && let Ok(limit) = units::parse_percent(limit_text)
        && let Some(s) = r.series.get("cpu_percent")
    {
        ev.checks.push(check("mean CPU", s.mean, "<=", limit, "%", format!("{:.1}%", s.mean), format!("{limit}%")));
    }
    ev
}

/// The identity of a finding for baseline comparison: rule, file and message (line numbers
/// move as code is edited; the message names the code involved).
fn finding_key(f: &tachy_report::lint::Finding) -> (String, String, String) {
    (f.code.clone(), f.path.clone(), f.message.clone())
}

/// A lint result against its budget and, when given, the saved findings.
pub fn lint(b: &LintBudget, r: &LintReport, baseline: Option<&LintReport>) -> Evaluation {
    let mut ev = Evaluation::default();
    let n = r.findings.len() as f64;
    let max = b.max_findings.or(if b.baseline.is_some() { None } else { Some(0) });
    if let Some(max) = max {
        ev.checks.push(check("findings", n, "<=", max as f64, "count", format!("{n}"), format!("{max}")));
    }
    if let Some(base) = baseline {
        let mut known = std::collections::HashMap::new();
        for f in &base.findings {
            *known.entry(finding_key(f)).or_insert(0usize) += 1;
        }
        let mut new = Vec::new();
        for f in &r.findings {
            match known.get_mut(&finding_key(f)) {
                Some(k) if *k > 0 => *k -= 1,
                _ => new.push(f),
            }
        }
        ev.checks.push(check("new findings", new.len() as f64, "<=", 0.0, "count", new.len().to_string(), "0".into()));
        for f in new.iter().take(10) {
            ev.notes
                .push(format!("new: {}:{}:{}: {} {}", f.path, f.location.line, f.location.column, f.code, f.message));
        }
        let fixed = base.findings.len() + new.len() - r.findings.len();
        if fixed > 0 {
            ev.notes.push(format!(
                "{fixed} finding(s) of the baseline are gone: `tachy check --update-baselines` records that"
            ));
        }
    }
    if !r.errors.is_empty() {
        ev.notes.push(format!("{} file(s) could not be parsed", r.errors.len()));
    }
    ev
}

/// A profile share limit: `parse <= 5%` or `self:json.dumps < 10%`.
#[derive(Debug, Clone, PartialEq)]
pub struct ShareLimit {
    /// The function as written: `name`, `module.name` or `file.py:name`.
    pub function: String,
    /// Self share instead of inclusive share.
    pub self_share: bool,
    /// `<=` or `<`.
    pub op: String,
    /// The limit in percent.
    pub percent: f64,
}

impl ShareLimit {
    /// Parses `FUNCTION <= PCT%` (also `<`, and a `self:` prefix).
    pub fn parse(s: &str) -> Result<ShareLimit, String> {
        let accepted = "accepted: 'FUNCTION <= 5%', 'FUNCTION < 5%', 'self:FUNCTION <= 5%' (FUNCTION is name, module.name or file.py:name)";
        let (lhs, op, rhs) = if let Some((l, r)) = s.split_once("<=") {
            (l, "<=", r)
        } else if let Some((l, r)) = s.split_once('<') {
            (l, "<", r)
        } else {
            return Err(format!("{s:?} is not a share limit; {accepted}"));
        };
        let lhs = lhs.trim();
        let (function, self_share) = match lhs.strip_prefix("self:") {
            Some(f) => (f.trim(), true),
            None => (lhs, false),
        };
        if function.is_empty() || function.contains(char::is_whitespace) {
            return Err(format!("{s:?}: the function name is missing or has spaces; {accepted}"));
        }
        let percent = tachy_report::units::parse_percent(rhs).map_err(|e| format!("{e}; {accepted}"))?;
        Ok(ShareLimit { function: function.to_string(), self_share, op: op.to_string(), percent })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A memory report: peak 22,020,096 bytes (21.0 MiB, 22.0 MB), leaked 5,000,000, and
    /// 3 MiB kept by imports.
    fn mem_report() -> MemReport {
        serde_json::from_value(serde_json::json!({
            "schema": "tachy-mem/1", "tachy_version": "0", "command": ["python3", "app.py"],
            "python_version": null, "pids": [1], "started_at": "2026-01-01T00:00:00Z",
            "duration_secs": 1.0, "exit_code": 0, "end": "exited", "sample_bytes": 0,
            "peak": {"traced_bytes": 22_020_096u64, "traced_at_secs": 0.5, "rss_bytes": 40_000_000u64, "rss_at_secs": 0.5},
            "totals": {"allocations": 1, "allocated_bytes": 1, "samples": 1},
            "frames": [], "stacks": [], "peak_sites": [], "allocated_sites": [], "leak_sites": [],
            "leaked_bytes": 5_000_000u64, "kept_by_imports_bytes": 3_145_728u64,
            "timeline": [], "budgets": [], "notes": []
        }))
        .unwrap()
    }

    fn mem_budget(max_peak: &str, max_leak: Option<&str>) -> MemBudget {
        let mut toml = format!("command = \"python3 app.py\"\nmax_peak = \"{max_peak}\"\n");
        if let Some(l) = max_leak {
            toml.push_str(&format!("max_leak = \"{l}\"\n"));
        }
        toml::from_str(&toml).unwrap()
    }

    #[test]
    fn sizes_are_shown_in_the_family_of_their_limit() {
        let ev = mem(&mem_budget("20MB", Some("10MB")), &mem_report());
        let shown: Vec<(&str, &str)> =
            ev.checks.iter().map(|c| (c.measured_text.as_str(), c.limit_text.as_str())).collect();
        assert_eq!(shown, [("22.0 MB", "<= 20MB"), ("5.00 MB", "<= 10MB")]);
        assert!(ev.notes.iter().any(|n| n.contains("3.15 MB live at exit was kept by imports")), "{:?}", ev.notes);

        let ev = mem(&mem_budget("20MiB", None), &mem_report());
        assert_eq!((ev.checks[0].measured_text.as_str(), ev.checks[0].limit_text.as_str()), ("21.0 MiB", "<= 20MiB"));
        // A bare byte count has no family: binary, tachy's default.
        let ev = mem(&mem_budget("30000000", None), &mem_report());
        assert_eq!(ev.checks[0].measured_text, "21.0 MiB");
    }

    #[test]
    fn sizes_of_other_kinds_follow_their_limit_too() {
        let c = check("max RSS", 62_914_560.0, "<=", 60e6, "bytes", mb(62_914_560.0), "60MB".into());
        assert_eq!(c.measured_text, "62.9 MB");
        let c = check("max RSS", 62_914_560.0, "<=", 60e6, "bytes", mb(62_914_560.0), "60MiB".into());
        assert_eq!(c.measured_text, "60.0 MiB");
        let c = check("memory growth", 6e6, "<=", 5e6, "bytes/h", String::new(), "5MB/h".into());
        assert_eq!(c.measured_text, "6.00 MB/h");
        let c = check("p95", 0.2, "<=", 0.25, "s", "200 ms".into(), "250ms".into());
        assert_eq!(c.measured_text, "200 ms", "not a size: left as given");
    }

    #[test]
    fn share_limits_parse() {
        let l = ShareLimit::parse("parse <= 5%").unwrap();
        assert_eq!((l.function.as_str(), l.self_share, l.op.as_str(), l.percent), ("parse", false, "<=", 5.0));
        let l = ShareLimit::parse("self:json.dumps<10%").unwrap();
        assert_eq!((l.function.as_str(), l.self_share, l.op.as_str()), ("json.dumps", true, "<"));
        assert!(ShareLimit::parse("f = 5%").is_err());
        assert!(ShareLimit::parse("f <= 5").is_err());
        assert!(ShareLimit::parse(" <= 5%").is_err());
    }
}
