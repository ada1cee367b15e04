//! Turning raw samples into results: statistics, relative speed and warnings.

use std::collections::BTreeMap;

use tachy_report::bench::{
    BENCH_SCHEMA, BenchReport, BenchResult, Metric, MetricStats, RelativeRow, ResultStats, RunContext, SpeedVerdict,
};

use crate::{BenchCommand, BenchSettings, Executor, Sample};

/// A coefficient of variation above this is called noisy.
pub const NOISY_CV: f64 = 0.10;
/// A first run this many times slower than the median of the rest is called cold.
pub const COLD_FIRST_RUN: f64 = 1.5;
/// Runs with a modified Z-score above this are far outliers worth a warning (hyperfine's level).
pub const FAR_OUTLIER: f64 = 10.0;
/// Below this median (s), process spawn noise dominates a shell-run command.
pub const TOO_FAST: f64 = 0.005;

/// The raw measurements of one command.
#[derive(Debug, Clone, Default)]
pub struct Raw {
    /// Display name.
    pub name: String,
    /// Command line.
    pub command_line: String,
    /// Parameter values.
    pub parameters: BTreeMap<String, String>,
    /// Wall times (s).
    pub times: Vec<f64>,
    /// User times (s).
    pub user_times: Vec<f64>,
    /// System times (s).
    pub system_times: Vec<f64>,
    /// Peak RSS per run (bytes).
    pub rss: Vec<u64>,
    /// Exit codes.
    pub exit_codes: Vec<i32>,
    /// Warmup runs done.
    pub warmup_runs: usize,
}

/// Builds a result (with statistics) from raw measurements.
pub fn from_raw(raw: Raw) -> BenchResult {
    let summary = tachy_stats::summarize(&raw.times);
    let mean_of = |xs: &[f64]| if xs.is_empty() { 0.0 } else { tachy_stats::mean(xs) };
    let cpu_times: Vec<f64> = raw.user_times.iter().zip(&raw.system_times).map(|(u, s)| u + s).collect();
    let cpu = (cpu_times.len() == raw.times.len())
        .then(|| tachy_stats::summarize(&cpu_times))
        .flatten()
        .map(|c| MetricStats { median: c.median, mad: c.mad, cv: c.cv, median_ci: c.median_ci });
    let stats = summary.as_ref().map(|s| ResultStats {
        runs: s.n,
        warmup_runs: raw.warmup_runs,
        mad: s.mad,
        p5: s.p5,
        p95: s.p95,
        p99: s.p99,
        cv: s.cv,
        median_ci: s.median_ci,
        outliers: tachy_stats::outliers(&raw.times, tachy_stats::OUTLIER_THRESHOLD).len(),
        max_rss_mean: if raw.rss.is_empty() {
            0
        } else {
            // Summed in u128: the sizes come from files, and a mean is never above the largest.
            (raw.rss.iter().map(|&r| u128::from(r)).sum::<u128>() / raw.rss.len() as u128) as u64
        },
        cpu,
    });
    let pick = |f: fn(&tachy_stats::Summary) -> f64| summary.as_ref().map_or(0.0, f);
    BenchResult {
        command: raw.name,
        mean: pick(|s| s.mean),
        stddev: pick(|s| s.stddev),
        median: pick(|s| s.median),
        user: mean_of(&raw.user_times),
        system: mean_of(&raw.system_times),
        min: pick(|s| s.min),
        max: pick(|s| s.max),
        times: raw.times,
        exit_codes: raw.exit_codes,
        parameters: raw.parameters,
        memory_usage_byte: raw.rss,
        command_line: raw.command_line,
        stats,
        user_times: raw.user_times,
        system_times: raw.system_times,
    }
}

/// Builds the result of one command from its samples.
pub fn result(cmd: &BenchCommand, samples: &[Sample], warmup_runs: usize) -> BenchResult {
    from_raw(Raw {
        name: cmd.name.clone(),
        command_line: cmd.command_line.clone(),
        parameters: cmd.parameters.clone(),
        times: samples.iter().map(|s| s.wall).collect(),
        user_times: samples.iter().map(|s| s.user).collect(),
        system_times: samples.iter().map(|s| s.system).collect(),
        rss: samples.iter().map(|s| s.max_rss).collect(),
        exit_codes: samples.iter().map(|s| s.exit_code).collect(),
        warmup_runs,
    })
}

/// Recomputes tachy's statistics of a result read from a file (hyperfine exports lack them).
pub fn recompute(r: BenchResult) -> BenchResult {
    let warmup_runs = r.stats.as_ref().map_or(0, |s| s.warmup_runs);
    from_raw(Raw {
        name: r.command,
        command_line: r.command_line,
        parameters: r.parameters,
        times: r.times,
        user_times: r.user_times,
        system_times: r.system_times,
        rss: r.memory_usage_byte,
        exit_codes: r.exit_codes,
        warmup_runs,
    })
}

/// Relative speed of every command with runs against the reference (default: the fastest),
/// compared on `metric`.
pub fn relative(results: &[BenchResult], reference: Option<usize>, alpha: f64, metric: Metric) -> Vec<RelativeRow> {
    let series: Vec<Option<Vec<f64>>> = results.iter().map(|r| r.series(metric).filter(|s| !s.is_empty())).collect();
    let measured: Vec<usize> = (0..results.len()).filter(|&i| series[i].is_some()).collect();
    if measured.len() < 2 {
        return Vec::new();
    }
    let median_of = |i: usize| series[i].as_deref().map_or(f64::INFINITY, tachy_stats::median);
    let reference = reference
        .filter(|r| measured.contains(r))
        .unwrap_or_else(|| *measured.iter().min_by(|&&a, &&b| median_of(a).total_cmp(&median_of(b))).unwrap_or(&0));
    let base = series[reference].as_deref().unwrap_or_default();
    measured
        .iter()
        .map(|&i| {
            let r = &results[i];
            if i == reference {
                return RelativeRow {
                    command: r.command.clone(),
                    is_reference: true,
                    comparison: None,
                    verdict: SpeedVerdict::Reference,
                };
            }
            let comparison = tachy_stats::compare(base, series[i].as_deref().unwrap_or_default(), alpha);
            let verdict = match &comparison {
                Some(c) if c.significant && c.ratio.ratio > 1.0 => SpeedVerdict::Slower,
                Some(c) if c.significant && c.ratio.ratio < 1.0 => SpeedVerdict::Faster,
                _ => SpeedVerdict::NoDifference,
            };
            RelativeRow { command: r.command.clone(), is_reference: false, comparison, verdict }
        })
        .collect()
}

/// The far outliers of a run series that the program's own garbage collector explains.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GcOutliers {
    /// Far outliers.
    pub far: usize,
    /// Of which ran a full collection.
    pub with_gc: usize,
    /// Share of the other runs that ran one (0-1).
    pub others_share: f64,
}

/// Whether the far outliers of `times` coincide with full garbage collections (`full_gc`, one
/// flag per run): at least half of them ran one, and more often than the other runs did.
/// `None` when there are no far outliers, no flags, or they do not coincide.
pub fn gc_outliers(times: &[f64], full_gc: &[bool]) -> Option<GcOutliers> {
    if full_gc.len() != times.len() {
        return None;
    }
    let far = tachy_stats::outliers(times, FAR_OUTLIER);
    if far.is_empty() {
        return None;
    }
    let with_gc = far.iter().filter(|&&i| full_gc[i]).count();
    let others: Vec<bool> = (0..times.len()).filter(|i| !far.contains(i)).map(|i| full_gc[i]).collect();
    let others_share =
        if others.is_empty() { 0.0 } else { others.iter().filter(|g| **g).count() as f64 / others.len() as f64 };
    let share = with_gc as f64 / far.len() as f64;
    (with_gc * 2 >= far.len() && share > others_share).then_some(GcOutliers { far: far.len(), with_gc, others_share })
}

/// Warnings a careful reader needs about these results.
pub fn warnings(results: &[BenchResult], settings: &BenchSettings, context: &RunContext) -> Vec<String> {
    warnings_with_gc(results, settings, context, &[])
}

/// [`warnings`], with per result (by index; missing or empty: unknown) whether each run ran a
/// full garbage collection, so outliers the program's own GC explains are not blamed on other
/// programs.
pub fn warnings_with_gc(
    results: &[BenchResult],
    settings: &BenchSettings,
    context: &RunContext,
    full_gc: &[Vec<bool>],
) -> Vec<String> {
    let mut out = Vec::new();
    if let Some([one, _, _]) = context.load_average
        && context.cpus > 0
        && one > context.cpus as f64
    {
        out.push(format!(
            "the load average was {one:.1} on {} CPUs at the start: other work competes with the benchmark, so expect noise",
            context.cpus
        ));
    }
    for (i, r) in results.iter().enumerate() {
        let name = &r.command;
        let Some(s) = &r.stats else { continue };
        let far = tachy_stats::outliers(&r.times, FAR_OUTLIER).len();
        let gc = full_gc.get(i).and_then(|flags| gc_outliers(&r.times, flags));
        if s.cv > NOISY_CV {
            let steady_cpu = s.cpu.as_ref().filter(|c| c.cv < s.cv / 2.0 && settings.metric == Metric::Wall);
            match steady_cpu {
                _ if gc.is_some() => out.push(format!(
                    "'{name}' varies a lot between runs (CV {:.1}%), its far outliers ran full garbage collections (below)",
                    s.cv * 100.0
                )),
                Some(c) => out.push(format!(
                    "'{name}' varies a lot in wall time (CV {:.1}%) but little in CPU time (CV {:.1}%): the machine is shared; compare with --metric cpu",
                    s.cv * 100.0,
                    c.cv * 100.0
                )),
                None => out.push(format!(
                    "'{name}' varies a lot between runs (CV {:.1}%): the machine is noisy; use more runs or close other programs",
                    s.cv * 100.0
                )),
            }
        }
        if let Some(g) = gc {
            out.push(format!(
                "'{name}': {} of {} runs are far outliers (modified Z-score > {FAR_OUTLIER}) and {} of them ran a full garbage collection (against {:.0}% of the other runs): the program's own GC, not other programs; --tachy-disable-gc measures without it (keep it on if collections are part of the cost you care about); the median and its CI are robust to them",
                g.far,
                s.runs,
                g.with_gc,
                g.others_share * 100.0
            ));
        } else if far > 0 {
            out.push(format!(
                "'{name}': {far} of {} runs are far outliers (modified Z-score > {FAR_OUTLIER}), likely interference from other programs; the median and its CI are robust to them",
                s.runs
            ));
        }
        if settings.warmup == 0 && r.times.len() >= 3 {
            let rest = tachy_stats::median(&r.times[1..]);
            if rest > 0.0 && r.times[0] > COLD_FIRST_RUN * rest {
                out.push(format!(
                    "the first run of '{name}' took {:.1}x the median of the others: caches were cold; consider --warmup 3",
                    r.times[0] / rest
                ));
            }
        }
        if context.shell.is_some() && r.median < TOO_FAST && !r.times.is_empty() {
            out.push(format!(
                "'{name}' takes under {} ms: shell spawn noise dominates; consider -N/--no-shell",
                TOO_FAST * 1000.0
            ));
        }
        let failed = r.exit_codes.iter().filter(|&&c| c != 0).count();
        if failed > 0 {
            out.push(format!("'{name}' exited non-zero in {failed} of {} runs (ignored)", r.exit_codes.len()));
        }
        if let Some(first) = shell_words::split(&r.command_line).ok().and_then(|w| w.into_iter().next())
            && let Some(path) = tachy_process::python::which(std::ffi::OsStr::new(&first))
            && tachy_process::python::is_shim(&path)
        {
            out.push(format!(
                "'{first}' in '{name}' is a version-manager shim ({}) that adds its own start-up time to every run; benchmark the interpreter it runs instead (`{first} -c 'import sys; print(sys.executable)'`)",
                path.display()
            ));
        }
    }
    out
}

fn load_average() -> Option<[f64; 3]> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut it = text.split_whitespace().map(|w| w.parse::<f64>().ok());
    Some([it.next()??, it.next()??, it.next()??])
}

/// Describes where and how the benchmark runs.
pub fn context(exec: &dyn Executor, interleaved: bool, metric: Metric) -> RunContext {
    RunContext { shell: exec.shell(), shell_overhead: exec.shell_overhead(), ..context_now(interleaved, metric) }
}

/// Describes a benchmark that runs no shell (Python workers, timings handed over by pytest),
/// starting now.
pub fn context_now(interleaved: bool, metric: Metric) -> RunContext {
    RunContext {
        started_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        shell: None,
        shell_overhead: None,
        metric,
        interleaved,
        cpus: std::thread::available_parallelism().map_or(0, usize::from),
        load_average: load_average(),
    }
}

/// Assembles the final report.
pub fn report(
    results: Vec<BenchResult>,
    settings: &BenchSettings,
    context: RunContext,
    interrupted: bool,
) -> BenchReport {
    report_with_gc(results, settings, context, interrupted, &[])
}

/// [`report`] with each result's full-collection flags per run (see [`warnings_with_gc`]).
pub fn report_with_gc(
    results: Vec<BenchResult>,
    settings: &BenchSettings,
    context: RunContext,
    interrupted: bool,
    full_gc: &[Vec<bool>],
) -> BenchReport {
    let relative = relative(&results, settings.reference, settings.alpha, settings.metric);
    let warnings = warnings_with_gc(&results, settings, &context, full_gc);
    BenchReport {
        schema: BENCH_SCHEMA.to_string(),
        tachy_version: env!("CARGO_PKG_VERSION").to_string(),
        results,
        relative,
        gate: None,
        context,
        warnings,
        interrupted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(times: &[f64]) -> Raw {
        Raw { name: "x".into(), times: times.to_vec(), exit_codes: vec![0; times.len()], ..Default::default() }
    }

    #[test]
    fn statistics_are_filled_in() {
        let r = from_raw(raw(&[1.0, 2.0, 3.0, 4.0, 100.0]));
        let w = warnings(std::slice::from_ref(&r), &BenchSettings::default(), &RunContext::default());
        assert!(w.iter().any(|w| w.contains("1 of 5 runs are far outliers")), "{w:?}");
        assert_eq!(r.median, 3.0);
        assert_eq!(r.mean, 22.0);
        let s = r.stats.unwrap();
        assert_eq!(s.runs, 5);
        assert_eq!(s.outliers, 1);
    }

    #[test]
    fn warnings_name_noise_cold_starts_and_failures() {
        let settings = BenchSettings::default();
        let ctx =
            RunContext { cpus: 2, load_average: Some([9.0, 1.0, 1.0]), shell: Some("sh".into()), ..Default::default() };
        let mut r = from_raw(raw(&[0.3, 0.1, 0.1, 0.1, 0.2, 0.1]));
        r.exit_codes[2] = 1;
        let w = warnings(&[r], &settings, &ctx).join("\n");
        assert!(w.contains("load average was 9.0 on 2 CPUs"), "{w}");
        assert!(w.contains("CV"), "{w}");
        assert!(w.contains("first run"), "{w}");
        assert!(w.contains("non-zero in 1 of 6"), "{w}");
        let quiet = from_raw(raw(&[0.1, 0.1, 0.1]));
        let ctx = RunContext { cpus: 2, ..Default::default() };
        assert!(warnings(&[quiet], &settings, &ctx).is_empty());
    }

    #[test]
    fn fast_commands_under_a_shell_are_flagged() {
        let ctx = RunContext { shell: Some("sh".into()), ..Default::default() };
        let w = warnings(&[from_raw(raw(&[0.001, 0.001, 0.001]))], &BenchSettings::default(), &ctx);
        assert!(w.iter().any(|w| w.contains("--no-shell")));
    }

    #[test]
    fn outliers_that_ran_a_full_collection_blame_the_gc() {
        let times = [1.0, 1.01, 0.99, 1.0, 1.02, 0.98, 1.0, 5.0, 1.01, 5.2];
        let mut gc = vec![false; times.len()];
        gc[7] = true;
        gc[9] = true;
        let g = gc_outliers(&times, &gc).unwrap();
        assert_eq!((g.far, g.with_gc, g.others_share), (2, 2, 0.0));
        let r = from_raw(raw(&times));
        let w = warnings_with_gc(std::slice::from_ref(&r), &BenchSettings::default(), &RunContext::default(), &[gc]);
        let w = w.join("\n");
        assert!(w.contains("2 of 10 runs are far outliers") && w.contains("ran a full garbage collection"), "{w}");
        assert!(w.contains("--tachy-disable-gc") && !w.contains("interference"), "{w}");
        assert!(w.contains("CV 94.9%), its far outliers ran full garbage collections"), "{w}");
        // Not coinciding: interference, as before.
        let mut gc = vec![false; times.len()];
        gc[0] = true;
        assert!(gc_outliers(&times, &gc).is_none());
        let w = warnings_with_gc(std::slice::from_ref(&r), &BenchSettings::default(), &RunContext::default(), &[gc])
            .join("\n");
        assert!(w.contains("likely interference from other programs"), "{w}");
        // Every run collects: the collections do not tell the outliers apart.
        assert!(gc_outliers(&times, &[true; 10]).is_none());
        // Unknown (no flags, or GC off): interference.
        assert!(gc_outliers(&times, &[]).is_none());
        let w = warnings_with_gc(&[r], &BenchSettings::default(), &RunContext::default(), &[]).join("\n");
        assert!(w.contains("likely interference from other programs"), "{w}");
    }
}
