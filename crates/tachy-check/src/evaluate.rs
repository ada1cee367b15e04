//! Turning the JSON result of each tachy command into limit checks: one function per budget
//! kind, pure (a result in, checks out), so every rule is unit-tested without running anything.

use tachy_report::bench::{BenchReport, GateVerdict, Metric};
use tachy_report::check::LimitCheck;
use tachy_report::function_id;
use tachy_report::lint::LintReport;
use tachy_report::load::LoadReport;
use tachy_report::mem::MemReport;
use tachy_report::profile::{FunctionStat, Profile};
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
    /// Why the budget could not be judged (a limit naming nothing measured): the budget is an
    /// error, whatever its checks say.
    pub error: Option<String>,
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

/// What a share limit measured: the largest share (percent) among the functions its
/// spelling matches (see [`tachy_report::function_id`]).
#[derive(Debug, Clone, PartialEq)]
pub struct MeasuredShare {
    /// The largest share, in percent.
    pub percent: f64,
    /// The function with that share, as `file:def_line qualname`.
    pub function: String,
    /// Every matched function with its share, largest first.
    pub matches: Vec<(String, f64)>,
}

/// The share of samples (percent) the function(s) `spelling` names had: the largest over the
/// functions it matches (a limit must hold for each of them). `Err` with up to 3 closest
/// function names when it matches none.
pub fn function_share(
    functions: &[FunctionStat],
    total: u64,
    spelling: &str,
    self_share: bool,
) -> Result<MeasuredShare, Vec<String>> {
    let mut matches: Vec<(String, f64)> = function_id::find(functions, spelling)
        .into_iter()
        .map(|f| {
            let n = if self_share { f.self_samples } else { f.total_samples };
            (f.id().label(), n as f64 * 100.0 / total.max(1) as f64)
        })
        .collect();
    if matches.is_empty() {
        return Err(function_id::closest(functions, spelling, 3));
    }
    matches.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(MeasuredShare { percent: matches[0].1, function: matches[0].0.clone(), matches })
}

/// A profile against its budget and, when given, a baseline profile. A limit whose function
/// is not in the profile makes the evaluation an error (naming the closest functions) unless
/// the budget has `allow_missing`.
pub fn profile(b: &ProfileBudget, p: &Profile, baseline: Option<&Profile>) -> Evaluation {
    let mut ev = Evaluation::default();
    let functions = p.functions();
    let total = p.total_samples();
    if total == 0 {
        ev.notes.push("the profile has no samples (the program ended too soon?)".into());
    }
    let mut missing = Vec::new();
    for l in &b.limits {
        let Ok(limit) = ShareLimit::parse(l) else { continue };
        let kind = if limit.self_share { "self share" } else { "share" };
        let (share, measured_text) = match function_share(&functions, total, &limit.function, limit.self_share) {
            Ok(m) => {
                let text = if m.matches.len() == 1 {
                    format!("{:.1}% ({})", m.percent, m.function)
                } else {
                    let all: Vec<String> = m.matches.iter().map(|(f, s)| format!("{f} {s:.1}%")).collect();
                    ev.notes.push(format!(
                        "{} matches {} functions, the largest {kind} counts: {}",
                        limit.function,
                        m.matches.len(),
                        all.join(", ")
                    ));
                    format!("{:.1}% (largest of {}: {})", m.percent, m.matches.len(), m.function)
                };
                (m.percent, text)
            }
            Err(closest) => {
                let hint =
                    if closest.is_empty() { String::new() } else { format!(" (closest: {})", closest.join(", ")) };
                if b.allow_missing {
                    ev.notes.push(format!("{} was not seen in the profile{hint}", limit.function));
                    (0.0, "0.0% (not seen)".to_string())
                } else {
                    missing.push(format!("no function in the profile matches {:?}{hint}", limit.function));
                    continue;
                }
            }
        };
        ev.checks.push(check(
            format!("{kind} of {}", limit.function),
            share,
            &limit.op,
            limit.percent,
            "%",
            measured_text,
            format!("{}%", limit.percent),
        ));
    }
    if !missing.is_empty() {
        ev.error = Some(format!(
            "{}; spell a function as the profile shows it (name, Class.method, module.Class.method or file.py:Class.method), or set allow_missing = true",
            missing.join("; ")
        ));
    }
    if let Some(base) = baseline {
        let max_inc = b.max_share_increase.as_deref().and_then(|s| units::parse_percent(s).ok()).unwrap_or(5.0);
        baseline_share_increase(&mut ev, base, p, max_inc);
    }
    ev
}

/// The baseline part of a profile budget: the inclusive shares of `p` against `base` with the
/// statistics of `tachy profile diff` (paired batch means, intervals holding jointly over the
/// functions tested). It fails only when a function's share grew significantly by more than
/// `max_inc` points. The metric's name is fixed (one history series whatever function moves);
/// the function is named in the measured text and the notes.
fn baseline_share_increase(ev: &mut Evaluation, base: &Profile, p: &Profile, max_inc: f64) {
    use tachy_report::profile::{DiffRow, DiffVerdict};
    let d = tachy_profile::diff::diff(base, p, None);
    let rows: Vec<&DiffRow> = d.rows.iter().filter(|r| r.function != "<module>").collect();
    let tested = |r: &&&DiffRow| r.total_share.verdict != DiffVerdict::NotEnoughSamples;
    let failing = |r: &&&DiffRow| r.total_share.verdict == DiffVerdict::Grew && r.total_share.delta * 100.0 > max_inc;
    let by_delta = |a: &&&DiffRow, b: &&&DiffRow| a.total_share.delta.total_cmp(&b.total_share.delta);
    // The worst failing function, else the largest increase among those tested.
    let worst = rows.iter().filter(failing).max_by(by_delta).or_else(|| rows.iter().filter(tested).max_by(by_delta));
    let metric = "largest share increase vs baseline";
    let Some(r) = worst else {
        let mut c = check(metric, 0.0, "<=", max_inc, "%", "not enough samples".into(), format!("{max_inc} points"));
        c.passed = true;
        ev.checks.push(c);
        ev.notes.push(match d.notes.first() {
            Some(n) => format!("baseline comparison: {n}"),
            None => "baseline comparison: no function has enough samples to be compared".into(),
        });
        return;
    };
    let s = &r.total_share;
    let inc = s.delta * 100.0;
    let label = match s.verdict {
        DiffVerdict::Grew => "significant",
        _ => "not significant",
    };
    let mut c = check(
        metric,
        inc,
        "<=",
        max_inc,
        "%",
        format!("{inc:+.1} points, {} ({label})", r.function),
        format!("{max_inc} points"),
    );
    c.passed = !rows.iter().any(|r| failing(&r));
    ev.checks.push(c);
    ev.notes.push(format!(
        "largest share increase vs baseline: {} ({}:{}) {:.1}% -> {:.1}%, {inc:+.1} points, interval [{:+.1}, {:+.1}] \
         ({:.0}% jointly over {} functions tested): {label}",
        r.function,
        r.file,
        r.line,
        s.before * 100.0,
        s.after * 100.0,
        s.ci_low * 100.0,
        s.ci_high * 100.0,
        d.confidence * 100.0,
        d.total_tested
    ));
    for other in rows.iter().filter(failing).filter(|o| o.function != r.function || o.file != r.file) {
        ev.notes.push(format!(
            "share of {} ({}:{}) also grew significantly: {:+.1} points [{:+.1}, {:+.1}]",
            other.function,
            other.file,
            other.line,
            other.total_share.delta * 100.0,
            other.total_share.ci_low * 100.0,
            other.total_share.ci_high * 100.0
        ));
    }
}

/// A soak result against its budget.
pub fn watch(b: &WatchBudget, r: &WatchReport) -> Evaluation {
    use tachy_report::watch::GrowthVerdict;
    let mut ev = Evaluation::default();
    if let Some(limit_text) = &b.max_growth
        && let Ok(limit) = units::parse_growth(limit_text)
    {
        // The verdict rule of `tachy watch` (`Growth::judge`) at the budget's limit: it passes
        // when the growth is resolved at or below the limit, fails when it is resolved above it,
        // and fails with the reason when the soak cannot tell (too short or too noisy).
        let mut c = check("memory growth", 0.0, "<=", limit, "bytes/h", String::new(), limit_text.clone());
        match &r.growth {
            Some(g) => {
                let (verdict, reason) = g.judge(limit);
                c.measured = g.bytes_per_hour;
                c.passed = verdict == GrowthVerdict::Flat;
                c.measured_text = match verdict {
                    GrowthVerdict::NotEnoughData => format!("{}/h, not enough data", mb(g.bytes_per_hour)),
                    _ => format!("{}/h", mb(g.bytes_per_hour)),
                };
                ev.notes.push(format!(
                    "growth {}/h, interval {}/h .. {}/h over {:.0} s{}: {}: {reason}",
                    mb(g.bytes_per_hour),
                    mb(g.low_bytes_per_hour),
                    mb(g.high_bytes_per_hour),
                    g.window_secs,
                    g.warmup.as_ref().map_or_else(String::new, |w| format!(
                        " after a warm-up to {:.0} s ({}{})",
                        w.to_secs,
                        if w.step_bytes >= 0.0 { "+" } else { "-" },
                        mb(w.step_bytes.abs())
                    )),
                    verdict.label(),
                ));
                if verdict == GrowthVerdict::NotEnoughData {
                    ev.notes.push(
                        "the growth limit needs a longer `duration` (or a command that runs for all of it)".into(),
                    );
                }
            }
            None => {
                c.passed = false;
                c.measured_text = "not enough data".into();
                ev.notes.push("too few samples to estimate the memory growth: lengthen `duration`".into());
            }
        }
        ev.checks.push(c);
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

#[cfg(test)]
mod watch_tests {
    use tachy_report::watch::{Growth, WatchReport};

    use super::watch;
    use crate::config::WatchBudget;

    fn budget(max_growth: &str) -> WatchBudget {
        toml::from_str(&format!("command = 'python3 app.py'\nduration = '2m'\nmax_growth = '{max_growth}'\n")).unwrap()
    }

    fn report(growth: Option<Growth>) -> WatchReport {
        let mut r: WatchReport = serde_json::from_value(serde_json::json!({
            "schema": "tachy-watch/1", "tachy_version": "0", "pid": 1, "command": "python3 app.py",
            "children": false, "interval_secs": 1.0, "started_at": "2026-01-01T00:00:00.000Z",
            "duration_secs": 120.0, "samples": 120, "end": "duration", "exit_code": null, "series": {},
            "growth": null, "alerts": [], "events": [], "unavailable": [], "self_cpu_percent": 0.1,
            "timeline": [], "notes": []
        }))
        .unwrap();
        r.growth = growth;
        r
    }

    /// A fit over 2 minutes with this slope and interval, bytes per hour.
    fn growth(slope: f64, low: f64, high: f64) -> Growth {
        Growth {
            metric: "rss".into(),
            bytes_per_hour: slope,
            low_bytes_per_hour: low,
            high_bytes_per_hour: high,
            level: 0.95,
            samples: 120,
            window_secs: 119.0,
            resolution_bytes_per_hour: (high - low) / 2.0,
            sustained_bytes_per_hour: Some(slope),
            ..Growth::default()
        }
    }

    #[test]
    fn growth_passes_fails_or_cannot_tell_at_the_limit() {
        let ev = watch(&budget("5MB/h"), &report(Some(growth(1e6, -1e6, 3e6))));
        assert!(ev.checks[0].passed, "{ev:?}");
        assert!(ev.notes[0].contains("flat"), "{ev:?}");
        let ev = watch(&budget("5MB/h"), &report(Some(growth(100e6, 90e6, 110e6))));
        assert!(!ev.checks[0].passed, "too coarse for 5 MB/h: {ev:?}");
        assert!(ev.checks[0].measured_text.contains("not enough data"), "{ev:?}");
        assert!(ev.notes.iter().any(|n| n.contains("longer `duration`")), "{ev:?}");
        let ev = watch(&budget("50MB/h"), &report(Some(growth(100e6, 90e6, 110e6))));
        assert!(!ev.checks[0].passed && ev.notes[0].contains("growing"), "{ev:?}");
        assert!(!ev.checks[0].measured_text.contains("not enough data"), "{ev:?}");
        let ev = watch(&budget("5MB/h"), &report(Some(growth(5e6, 3e6, 7e6))));
        assert!(!ev.checks[0].passed && ev.checks[0].measured_text.contains("not enough data"), "{ev:?}");
        // No estimate at all is no pass either.
        let ev = watch(&budget("5MB/h"), &report(None));
        assert_eq!(ev.checks.len(), 1);
        assert!(!ev.checks[0].passed && ev.checks[0].measured_text == "not enough data", "{ev:?}");
    }
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
    /// The function as written: `name`, `Class.method`, `module.Class.method` or
    /// `file.py:Class.method` (see [`tachy_report::function_id`]).
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
        let accepted = "accepted: 'FUNCTION <= 5%', 'FUNCTION < 5%', 'self:FUNCTION <= 5%' (FUNCTION is name, Class.method, module.Class.method or file.py:Class.method)";
        // The last `<` is the operator: names such as `<module>` and `f.<locals>.g` have some.
        let Some(at) = s.rfind('<') else {
            return Err(format!("{s:?} is not a share limit; {accepted}"));
        };
        let (lhs, op, rhs) =
            if s[at..].starts_with("<=") { (&s[..at], "<=", &s[at + 2..]) } else { (&s[..at], "<", &s[at + 1..]) };
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
    use tachy_report::profile::{ProfileBuilder, ProfileMeta};

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

    /// A profile whose sample `i` is `main -> f{pick(i)}`.
    fn prof(n: usize, pick: impl Fn(usize) -> usize) -> Profile {
        let mut pb = ProfileBuilder::new();
        let main = pb.frame("main", "/app.py", 1, Some("app.py"));
        let fns: Vec<u32> = (0..3).map(|i| pb.frame(&format!("f{i}"), "/app.py", 10 + i, Some("app.py"))).collect();
        let t = pb.thread(1, 1, None, None);
        for i in 0..n {
            pb.sample(t, &[main, fns[pick(i)]], i as u64 * 10_000);
        }
        pb.finish(ProfileMeta::default())
    }

    fn baseline_budget() -> ProfileBudget {
        toml::from_str("command = \"python app.py\"\nbaseline = \"b.json\"\nmax_share_increase = \"5%\"").unwrap()
    }

    const METRIC: &str = "largest share increase vs baseline";

    #[test]
    fn baseline_increase_in_one_burst_is_not_significant() {
        // f1 is half the samples; after, one 0.7 s burst of f1 adds 6.2 points: more than 5, but
        // all of it in one stretch of the timeline, which batch means see as noise.
        let base = prof(600, |i| usize::from(i % 10 >= 5));
        let now = prof(600, |i| if (300..372).contains(&i) { 1 } else { usize::from(i % 10 >= 5) });
        let ev = profile(&baseline_budget(), &now, Some(&base));
        let c = ev.checks.iter().find(|c| c.metric == METRIC).expect("metric without the function name");
        assert!(c.measured > 5.0 && c.measured < 7.0, "{c:?}");
        assert!(c.passed, "{c:?}");
        assert!(c.measured_text.contains("f1") && c.measured_text.contains("not significant"), "{c:?}");
        assert!(ev.notes.iter().any(|n| n.contains("f1 (app.py:11)") && n.contains("interval")), "{:?}", ev.notes);
    }

    #[test]
    fn baseline_increase_that_is_real_fails_and_names_the_function() {
        // f1 goes from 50% to 65% of every stretch of the run.
        let base = prof(600, |i| usize::from(i % 10 >= 5));
        let now = prof(600, |i| usize::from(i % 20 >= 7));
        let ev = profile(&baseline_budget(), &now, Some(&base));
        let c = ev.checks.iter().find(|c| c.metric == METRIC).unwrap();
        assert!(!c.passed, "{c:?}");
        assert!((c.measured - 15.0).abs() < 1e-9);
        assert!(c.measured_text.contains("f1") && c.measured_text.contains("(significant)"), "{c:?}");
    }

    #[test]
    fn baseline_with_too_few_samples_passes_and_says_so() {
        let base = prof(86, |i| usize::from(i % 10 >= 5));
        let now = prof(86, |i| usize::from(i % 10 >= 2));
        let ev = profile(&baseline_budget(), &now, Some(&base));
        let c = ev.checks.iter().find(|c| c.metric == METRIC).unwrap();
        assert!(c.passed);
        assert_eq!(c.measured_text, "not enough samples");
        assert!(ev.notes.iter().any(|n| n.contains("not enough samples") && n.contains("86")), "{:?}", ev.notes);
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
        let l = ShareLimit::parse("self:Outer.<locals>.inner < 3%").unwrap();
        assert_eq!((l.function.as_str(), l.op.as_str(), l.percent), ("Outer.<locals>.inner", "<", 3.0));
        let l = ShareLimit::parse("main.py:<module> <= 50%").unwrap();
        assert_eq!((l.function.as_str(), l.op.as_str()), ("main.py:<module>", "<="));
    }

    /// black's parser as `tachy profile` records it on Python 3.11 (qualified names, def lines).
    fn black_profile() -> Profile {
        let mut b = ProfileBuilder::new();
        let sp = "/venv/lib/python3.11/site-packages";
        let mut frame = |name: &str, file: &str, line: i32, def: i32| {
            let i = b.frame(name, &format!("{sp}/{file}"), line, Some(file));
            b.set_def_line(i, def);
            i
        };
        let module = frame("<module>", "fmt.py", 5, 1);
        let tokens = frame("Driver.parse_tokens", "blib2to3/pgen2/driver.py", 120, 90);
        let next = frame("TokenProxy.__next__", "blib2to3/pgen2/driver.py", 91, 85);
        let push = frame("Parser.push", "blib2to3/pgen2/parse.py", 200, 187);
        let lpush = frame("Line.push", "black/linegen.py", 40, 33);
        let t = b.thread(1, 1, None, None);
        for i in 0..100 {
            let stack: &[u32] = match i % 20 {
                0..=9 => &[module, tokens, next],
                10 | 11 => &[module, tokens, push],
                12 => &[module, lpush],
                _ => &[module],
            };
            b.sample(t, stack, i);
        }
        b.finish(ProfileMeta::default())
    }

    fn budget(limits: &[&str], allow_missing: bool) -> ProfileBudget {
        ProfileBudget {
            description: None,
            command: crate::config::CommandLine::Line("python fmt.py".into()),
            limits: limits.iter().map(|s| s.to_string()).collect(),
            allow_missing,
            baseline: None,
            max_share_increase: None,
            rate: None,
            timeout: None,
        }
    }

    #[test]
    fn methods_are_measured_under_every_spelling() {
        let p = black_profile();
        for spelling in [
            "Parser.push",
            "blib2to3.pgen2.parse.Parser.push",
            "parse.Parser.push",
            "parse.py:Parser.push",
            "pgen2/parse.py:push",
        ] {
            let ev = profile(&budget(&[&format!("self:{spelling} < 2%")], false), &p, None);
            assert_eq!(ev.error, None, "{spelling}");
            let c = &ev.checks[0];
            assert!((c.measured - 10.0).abs() < 1e-9, "{spelling}: {c:?}");
            assert!(!c.passed, "{spelling}: 10% is over 2%");
            assert_eq!(c.measured_text, "10.0% (blib2to3/pgen2/parse.py:187 Parser.push)");
        }
        let ev = profile(&budget(&["Driver.parse_tokens <= 10%", "__next__ <= 60%"], false), &p, None);
        assert_eq!((ev.checks[0].measured, ev.checks[0].passed), (60.0, false));
        assert_eq!((ev.checks[1].measured, ev.checks[1].passed), (50.0, true));
    }

    #[test]
    fn an_ambiguous_spelling_takes_the_largest_share_and_says_which() {
        let ev = profile(&budget(&["push <= 8%"], false), &black_profile(), None);
        let c = &ev.checks[0];
        assert_eq!((c.measured, c.passed), (10.0, false));
        assert_eq!(c.measured_text, "10.0% (largest of 2: blib2to3/pgen2/parse.py:187 Parser.push)");
        assert!(
            ev.notes.iter().any(|n| n.contains("push matches 2 functions")
                && n.contains("parse.py:187 Parser.push 10.0%")
                && n.contains("black/linegen.py:33 Line.push 5.0%")),
            "{:?}",
            ev.notes
        );
    }

    #[test]
    fn a_limit_matching_nothing_is_an_error_unless_allowed() {
        let p = black_profile();
        let ev = profile(&budget(&["Parser.psh <= 5%", "Parser.push <= 50%"], false), &p, None);
        let e = ev.error.as_deref().unwrap();
        assert!(e.contains("no function in the profile matches \"Parser.psh\""), "{e}");
        assert!(e.contains("closest: blib2to3/pgen2/parse.py:Parser.push"), "{e}");
        assert!(e.contains("allow_missing = true"), "{e}");
        assert_eq!(ev.checks.len(), 1, "the other limit is still checked");
        let ev = profile(&budget(&["Parser.psh <= 5%"], true), &p, None);
        assert_eq!(ev.error, None);
        assert!(ev.checks[0].passed && ev.checks[0].measured == 0.0);
        assert!(
            ev.notes.iter().any(|n| n.contains("Parser.psh was not seen") && n.contains("closest")),
            "{:?}",
            ev.notes
        );
        // No samples at all: nothing can match.
        let empty = ProfileBuilder::new().finish(ProfileMeta::default());
        assert!(profile(&budget(&["f <= 5%"], false), &empty, None).error.is_some());
    }

    #[test]
    fn function_share_finds_or_suggests() {
        let p = black_profile();
        let fs = p.functions();
        let m = function_share(&fs, p.total_samples(), "TokenProxy.__next__", false).unwrap();
        assert_eq!((m.percent, m.matches.len()), (50.0, 1));
        let closest = function_share(&fs, p.total_samples(), "parse_tokenz", false).unwrap_err();
        assert_eq!(closest[0], "blib2to3/pgen2/driver.py:Driver.parse_tokens");
        assert!(closest.len() <= 3);
    }
}
