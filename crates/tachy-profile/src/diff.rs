//! Comparing two profiles function by function, with a confidence interval per change.
//!
//! A function's share is the fraction of samples in which it was the innermost frame (self)
//! or anywhere on the stack (total). The change of a share between two profiles gets a 95%
//! Wald interval for a difference of two proportions, √(p₁(1−p₁)/n₁ + p₂(1−p₂)/n₂). Samples
//! taken close together are correlated, so the interval is optimistic; changes smaller than
//! [`MIN_CHANGE`] are therefore never called, whatever their interval says.

use std::collections::HashMap;

use tachy_report::profile::{DiffRow, DiffVerdict, Profile, ProfileDiff, ShareChange};

/// Changes below this (in share, 0.005 = half a percentage point) are reported as noise.
pub const MIN_CHANGE: f64 = 0.005;
const Z95: f64 = 1.959_963_984_540_054;

fn change(k1: u64, n1: u64, k2: u64, n2: u64) -> ShareChange {
    let p1 = if n1 == 0 { 0.0 } else { k1 as f64 / n1 as f64 };
    let p2 = if n2 == 0 { 0.0 } else { k2 as f64 / n2 as f64 };
    let var = if n1 == 0 || n2 == 0 { 0.0 } else { p1 * (1.0 - p1) / n1 as f64 + p2 * (1.0 - p2) / n2 as f64 };
    let d = p2 - p1;
    let half = Z95 * var.sqrt();
    let verdict = if d - half > 0.0 && d >= MIN_CHANGE {
        DiffVerdict::Grew
    } else if d + half < 0.0 && -d >= MIN_CHANGE {
        DiffVerdict::Shrank
    } else {
        DiffVerdict::Noise
    };
    ShareChange { before: p1, after: p2, delta: d, ci_low: d - half, ci_high: d + half, verdict }
}

/// Compares `after` with `before`. Functions are matched by name and displayed file, so two
/// checkouts of the same code in different folders still match.
pub fn diff(before: &Profile, after: &Profile, fail_if_grows: Option<f64>) -> ProfileDiff {
    let (n1, n2) = (before.total_samples(), after.total_samples());
    // (function, file) -> ((self, total) before, (self, total) after, line)
    type Counts = ((u64, u64), (u64, u64), i32);
    let mut rows: HashMap<(String, String), Counts> = HashMap::new();
    for f in before.functions() {
        let e = rows.entry((f.function.clone(), f.file.clone())).or_insert(((0, 0), (0, 0), f.line));
        // Functions of one name in one file (bare names before Python 3.11) add up.
        e.0 = (e.0.0 + f.self_samples, e.0.1 + f.total_samples);
    }
    for f in after.functions() {
        let e = rows.entry((f.function.clone(), f.file.clone())).or_insert(((0, 0), (0, 0), f.line));
        e.1 = (e.1.0 + f.self_samples, e.1.1 + f.total_samples);
        e.2 = f.line;
    }
    let mut out: Vec<DiffRow> = rows
        .into_iter()
        .map(|((function, file), ((s1, t1), (s2, t2), line))| DiffRow {
            function,
            file,
            line,
            self_share: change(s1, n1, s2, n2),
            total_share: change(t1, n1, t2, n2),
        })
        .collect();
    out.sort_by(|a, b| {
        b.self_share.delta.abs().total_cmp(&a.self_share.delta.abs()).then_with(|| a.function.cmp(&b.function))
    });
    let failed = fail_if_grows.is_some_and(|limit| {
        out.iter().any(|r| r.self_share.verdict == DiffVerdict::Grew && r.self_share.delta * 100.0 > limit)
    });
    ProfileDiff {
        schema: "tachy-profile-diff/1".to_string(),
        before_command: before.meta.command.join(" "),
        after_command: after.meta.command.join(" "),
        before_samples: n1,
        after_samples: n2,
        fail_if_grows,
        failed,
        rows: out,
    }
}

#[cfg(test)]
mod tests {
    use tachy_report::profile::{ProfileBuilder, ProfileMeta};

    use super::*;

    fn profile(a: u64, b: u64) -> Profile {
        let mut pb = ProfileBuilder::new();
        let fa = pb.frame("a", "/x.py", 1, None);
        let fb = pb.frame("b", "/x.py", 9, None);
        let t = pb.thread(1, 1, None, None);
        for i in 0..a {
            pb.sample(t, &[fa], i);
        }
        for i in 0..b {
            pb.sample(t, &[fb], i);
        }
        pb.finish(ProfileMeta::default())
    }

    #[test]
    fn hand_checked_interval() {
        // p1 = 0.5 of 100, p2 = 0.6 of 100: d = 0.1, se = sqrt(0.25/100 + 0.24/100) = 0.07,
        // half-width 1.96 * 0.07 = 0.1372: the interval straddles 0.
        let c = change(50, 100, 60, 100);
        assert!((c.delta - 0.1).abs() < 1e-12);
        assert!((c.ci_high - c.delta - 0.137_197_5).abs() < 1e-6);
        assert_eq!(c.verdict, DiffVerdict::Noise);
        // Same shares with 100x the samples: significant.
        assert_eq!(change(5000, 10_000, 6000, 10_000).verdict, DiffVerdict::Grew);
        assert_eq!(change(6000, 10_000, 5000, 10_000).verdict, DiffVerdict::Shrank);
        // Significant but tiny: noise.
        assert_eq!(change(1_000_000, 10_000_000, 1_030_000, 10_000_000).verdict, DiffVerdict::Noise);
    }

    #[test]
    fn grows_fail_the_gate_only_over_the_limit() {
        let d = diff(&profile(5000, 5000), &profile(3000, 7000), Some(10.0));
        let b = d.rows.iter().find(|r| r.function == "b").unwrap();
        assert_eq!(b.self_share.verdict, DiffVerdict::Grew);
        assert!((b.self_share.delta - 0.2).abs() < 1e-12);
        assert!(d.failed, "b grew by 20 points");
        assert!(!diff(&profile(5000, 5000), &profile(3000, 7000), Some(25.0)).failed);
        assert!(!diff(&profile(5000, 5000), &profile(5000, 5000), Some(0.1)).failed);
    }

    #[test]
    fn functions_of_one_name_in_one_file_add_up() {
        // Two `__init__` (bare names, Python < 3.11) are two functions in each profile, one row
        // in the diff with both counted.
        let p = |n: u64| {
            let mut pb = ProfileBuilder::new();
            let a = pb.frame("__init__", "/x.py", 3, None);
            let b = pb.frame("__init__", "/x.py", 30, None);
            pb.set_def_line(a, 2);
            pb.set_def_line(b, 29);
            let t = pb.thread(1, 1, None, None);
            for i in 0..n {
                pb.sample(t, &[a], i);
                pb.sample(t, &[b], i);
            }
            pb.finish(ProfileMeta::default())
        };
        let d = diff(&p(10), &p(20), None);
        assert_eq!(d.rows.len(), 1);
        assert_eq!((d.rows[0].self_share.before, d.rows[0].self_share.after), (1.0, 1.0));
    }

    #[test]
    fn functions_on_one_side_only_are_kept() {
        let mut pb = ProfileBuilder::new();
        let fc = pb.frame("c", "/x.py", 3, None);
        let t = pb.thread(1, 1, None, None);
        for i in 0..100 {
            pb.sample(t, &[fc], i);
        }
        let d = diff(&profile(50, 50), &pb.finish(ProfileMeta::default()), None);
        let c = d.rows.iter().find(|r| r.function == "c").unwrap();
        assert_eq!((c.self_share.before, c.self_share.after), (0.0, 1.0));
        assert_eq!(d.rows.len(), 3);
    }
}
