//! Terminal summary of a profile: how sampling went, then the top functions by self and by
//! total share (like pstats sorted by tottime and cumtime) and, on request, the hot lines.

use std::fmt::Write;

use super::ProfileRenderOptions;
use crate::profile::{EndReason, Profile};

fn share(n: u64, total: u64) -> f64 {
    if total == 0 { 0.0 } else { n as f64 * 100.0 / total as f64 }
}

fn clip(s: &str, width: usize) -> String {
    if s.chars().count() <= width {
        s.to_string()
    } else {
        let tail: String = s.chars().rev().take(width - 1).collect::<Vec<_>>().into_iter().rev().collect();
        format!("…{tail}")
    }
}

/// Renders the summary.
pub fn render(profile: &Profile, opts: ProfileRenderOptions) -> String {
    let mut out = String::new();
    let m = &profile.meta;
    let total = profile.total_samples();
    let pids: Vec<String> = m.pids.iter().map(u32::to_string).collect();
    let _ = writeln!(
        out,
        "Profile of `{}` (pid {}{})",
        m.command.join(" "),
        pids.join(", "),
        m.python_version.as_ref().map(|v| format!(", Python {v}")).unwrap_or_default()
    );
    let _ = writeln!(
        out,
        "  {total} samples in {:.2} s; rate {:.0} Hz requested, {:.1} Hz achieved; {} late rounds, {} errors",
        m.duration_secs, m.rate_requested, m.rate_achieved, m.late_rounds, m.errors
    );
    let end = match m.end {
        EndReason::TargetExited => match m.exit_code {
            Some(c) => format!("the program exited with code {c}"),
            None => "the program exited".to_string(),
        },
        EndReason::Duration => "the duration elapsed".to_string(),
        EndReason::Interrupted => "interrupted by Ctrl-C".to_string(),
        EndReason::Stopped => "stopped by the user".to_string(),
    };
    let _ = writeln!(out, "  stopped: {end}");
    for e in &m.error_messages {
        let _ = writeln!(out, "  sampling error: {e}");
    }
    if total == 0 {
        let _ = writeln!(out, "\nNo samples: the program was idle or ended before it could be sampled (try --idle).");
        return out;
    }

    let functions = profile.functions();
    let table = |out: &mut String, title: &str, rows: &mut dyn Iterator<Item = &crate::profile::FunctionStat>| {
        let _ = writeln!(out, "\n{title}");
        let _ = writeln!(out, "  {:>6} {:>7} {:>8}  {:<32} location", "self%", "total%", "samples", "function");
        for f in rows {
            let _ = writeln!(
                out,
                "  {:>5.1}% {:>6.1}% {:>8}  {:<32} {}:{}",
                share(f.self_samples, total),
                share(f.total_samples, total),
                f.self_samples,
                clip(&f.function, 32),
                f.file,
                f.line
            );
        }
    };
    table(&mut out, "Top functions by self time:", &mut functions.iter().filter(|f| f.self_samples > 0).take(opts.top));
    let mut by_total: Vec<_> = functions.iter().collect();
    by_total.sort_by(|a, b| b.total_samples.cmp(&a.total_samples).then(b.self_samples.cmp(&a.self_samples)));
    table(&mut out, "Top functions by total time:", &mut by_total.into_iter().take(opts.top));

    if opts.lines {
        let _ = writeln!(out, "\nHot lines:");
        let _ = writeln!(out, "  {:>6} {:>8}  {:<32} location", "self%", "samples", "function");
        for l in profile.lines().iter().take(opts.top) {
            let _ = writeln!(
                out,
                "  {:>5.1}% {:>8}  {:<32} {}:{}",
                share(l.samples, total),
                l.samples,
                clip(&l.function, 32),
                l.file,
                l.line
            );
        }
    }
    if profile.meta.options.threads && profile.threads.len() > 1 {
        let _ = writeln!(out, "\nThreads:");
        for (i, t) in profile.threads.iter().enumerate() {
            let n: u64 = profile.stacks.iter().filter(|s| s.thread as usize == i).map(|s| s.count).sum();
            let _ = writeln!(out, "  {:>5.1}% {:>8}  {} in process {}", share(n, total), n, t.label(), t.pid);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot() {
        let opts = ProfileRenderOptions { lines: true, top: 10 };
        insta::assert_snapshot!(render(&crate::profile::fixture::profile(), opts));
    }

    #[test]
    fn empty_profiles_say_why() {
        let mut p = crate::profile::fixture::profile();
        p.stacks.clear();
        assert!(render(&p, ProfileRenderOptions::default()).contains("No samples"));
    }
}
