//! Comparing two profiles function by function, with an interval per change that holds for
//! autocorrelated samples and for many functions at once.
//!
//! A function's share is the fraction of samples in which it was the innermost frame (self)
//! or anywhere on the stack (total). Samples close in time are correlated and a program goes
//! through phases, so the samples are not independent draws: each profile's timeline is cut
//! into [`DEFAULT_BATCHES`] batches and the change's standard error is that of the paired
//! batch differences ([`tachy_stats::share`], whose documentation gives the reasoning), with
//! Student's t. Every function with at least [`MIN_FUNCTION_SAMPLES`] samples (before + after)
//! is tested, and the intervals are widened by Bonferroni over the functions tested, so that
//! all the intervals of one share (self or total) hold at once with 95% confidence. Fewer
//! samples, or a profile with fewer than [`MIN_PROFILE_SAMPLES`], give the verdict
//! "not enough samples", which never fails a gate. Changes smaller than [`MIN_CHANGE`] are
//! never called, whatever their interval says.

use std::collections::HashMap;

use tachy_report::profile::{DiffFailure, DiffRow, DiffVerdict, Profile, ProfileDiff, ShareChange};
use tachy_stats::share::{
    BatchCounts, DEFAULT_BATCHES, MIN_BATCH_SAMPLES, batch_index, batch_sizes, bonferroni_level, share_difference,
};

/// Changes below this (in share, 0.005 = half a percentage point) are reported as noise.
pub const MIN_CHANGE: f64 = 0.005;
/// Confidence of a family of intervals (all the functions tested on one share) at once.
pub const CONFIDENCE: f64 = 0.95;
/// Fewest samples (before + after) for a function's share to be tested: about 10 per side
/// when nothing changed, the least for the batch differences to be roughly normal.
pub const MIN_FUNCTION_SAMPLES: u64 = 20;
/// Fewest samples a profile needs for any share to be tested: 10 per batch.
pub const MIN_PROFILE_SAMPLES: u64 = (DEFAULT_BATCHES * MIN_BATCH_SAMPLES) as u64;

/// Per-batch sample counts of every function of one profile.
struct Side {
    /// Samples of the profile (from its stacks table).
    samples: u64,
    /// Samples per batch; empty when the profile has no complete timeline.
    sizes: Vec<u64>,
    /// Function index -> samples with it as the innermost frame, per batch.
    self_hits: Vec<Vec<u64>>,
    /// Function index -> samples with it anywhere on the stack, per batch.
    total_hits: Vec<Vec<u64>>,
}

/// Function identities shared by both sides: (name, display file) -> index, and a line each.
#[derive(Default)]
struct Functions {
    index: HashMap<(String, String), usize>,
    names: Vec<(String, String)>,
    lines: Vec<(i32, i32)>,
}

impl Functions {
    fn id(&mut self, function: &str, file: &str) -> usize {
        let key = (function.to_string(), file.to_string());
        if let Some(&i) = self.index.get(&key) {
            return i;
        }
        self.names.push(key.clone());
        self.lines.push((0, 0));
        self.index.insert(key, self.names.len() - 1);
        self.names.len() - 1
    }
}

fn min_line(current: i32, line: i32) -> i32 {
    if line > 0 && (current <= 0 || line < current) { line } else { current }
}

/// Counts one profile per function and batch. `after` selects which line slot is filled.
fn side(p: &Profile, fns: &mut Functions, after: bool) -> Side {
    let fn_of_frame: Vec<usize> = p
        .frames
        .iter()
        .map(|f| {
            let i = fns.id(&f.function, f.display_file());
            let slot = &mut fns.lines[i];
            if after {
                slot.1 = min_line(slot.1, f.line);
            } else {
                slot.0 = min_line(slot.0, f.line);
            }
            i
        })
        .collect();
    // Per stack: its innermost function and its distinct functions.
    let per_stack: Vec<(Option<usize>, Vec<usize>)> = p
        .stacks
        .iter()
        .map(|s| {
            let leaf = s.frames.last().and_then(|&f| fn_of_frame.get(f as usize).copied());
            let mut all: Vec<usize> = s.frames.iter().filter_map(|&f| fn_of_frame.get(f as usize).copied()).collect();
            all.sort_unstable();
            all.dedup();
            (leaf, all)
        })
        .collect();
    let samples = p.total_samples();
    let timeline = &p.timeline.stacks;
    let complete = timeline.len() as u64 == samples && samples > 0;
    let batches = if complete { DEFAULT_BATCHES } else { 1 };
    let n = fns.names.len();
    let mut self_hits = vec![vec![0u64; batches]; n];
    let mut total_hits = vec![vec![0u64; batches]; n];
    let mut count = |stack: usize, b: usize, times: u64| {
        if let Some((leaf, all)) = per_stack.get(stack) {
            if let Some(l) = leaf {
                self_hits[*l][b] += times;
            }
            for &f in all {
                total_hits[f][b] += times;
            }
        }
    };
    if complete {
        for (i, &s) in timeline.iter().enumerate() {
            count(s as usize, batch_index(i, timeline.len(), batches), 1);
        }
    } else {
        for (i, s) in p.stacks.iter().enumerate() {
            count(i, 0, s.count);
        }
    }
    let sizes = if complete { batch_sizes(timeline.len(), batches) } else { Vec::new() };
    Side { samples, sizes, self_hits, total_hits }
}

impl Side {
    /// Gives every one of `n` functions a row of batch counts (functions only the other
    /// profile has were not known when this one was counted).
    fn pad(&mut self, n: usize) {
        let batches = self.sizes.len().max(1);
        self.self_hits.resize(n, vec![0; batches]);
        self.total_hits.resize(n, vec![0; batches]);
    }

    /// Per-batch samples of function `i` (total share or self share).
    fn hits(&self, total: bool, i: usize) -> &[u64] {
        let all = if total { &self.total_hits } else { &self.self_hits };
        all.get(i).map_or(&[], Vec::as_slice)
    }
}

fn share(k: u64, n: u64) -> f64 {
    if n == 0 { 0.0 } else { k as f64 / n as f64 }
}

/// Tests one share of every function; returns the changes (by function index) and how many
/// were tested.
fn changes(before: &Side, after: &Side, total: bool, testable: bool, n: usize) -> (Vec<ShareChange>, u64) {
    fn counts(s: &Side, total: bool, i: usize) -> (u64, &[u64]) {
        let h = s.hits(total, i);
        (h.iter().sum(), h)
    }
    let tested: Vec<bool> = (0..n)
        .map(|i| {
            testable && counts(before, total, i).0.saturating_add(counts(after, total, i).0) >= MIN_FUNCTION_SAMPLES
        })
        .collect();
    let m = tested.iter().filter(|&&t| t).count();
    let level = bonferroni_level(CONFIDENCE, m);
    let out = (0..n)
        .map(|i| {
            let ((k1, h1), (k2, h2)) = (counts(before, total, i), counts(after, total, i));
            let (p1, p2) = (share(k1, before.samples), share(k2, after.samples));
            let untested = ShareChange {
                before: p1,
                after: p2,
                delta: p2 - p1,
                ci_low: -p1,
                ci_high: 1.0 - p1,
                verdict: DiffVerdict::NotEnoughSamples,
                samples_before: k1,
                samples_after: k2,
                p_value: None,
            };
            if !tested[i] {
                return untested;
            }
            let Some(d) = share_difference(
                BatchCounts { hits: h1, sizes: &before.sizes },
                BatchCounts { hits: h2, sizes: &after.sizes },
            ) else {
                return untested;
            };
            let (lo, hi) = d.interval(level);
            let verdict = if lo > 0.0 && d.delta >= MIN_CHANGE {
                DiffVerdict::Grew
            } else if hi < 0.0 && -d.delta >= MIN_CHANGE {
                DiffVerdict::Shrank
            } else {
                DiffVerdict::Noise
            };
            ShareChange {
                before: d.before,
                after: d.after,
                delta: d.delta,
                ci_low: lo,
                ci_high: hi,
                verdict,
                samples_before: k1,
                samples_after: k2,
                p_value: Some((d.p_value() * m as f64).min(1.0)),
            }
        })
        .collect();
    (out, m as u64)
}

/// Compares `after` with `before`. Functions are matched by name and displayed file, so two
/// checkouts of the same code in different folders still match. With `fail_if_grows` (in
/// percentage points), the diff fails when a function's self share grew significantly by
/// more than that; the failing functions are listed in `failures`.
pub fn diff(before: &Profile, after: &Profile, fail_if_grows: Option<f64>) -> ProfileDiff {
    let mut fns = Functions::default();
    let mut b = side(before, &mut fns, false);
    let a = side(after, &mut fns, true);
    let n = fns.names.len();
    b.pad(n);
    let (n1, n2) = (b.samples, a.samples);
    let mut notes = Vec::new();
    let long_enough = n1 >= MIN_PROFILE_SAMPLES && n2 >= MIN_PROFILE_SAMPLES;
    let timelines = !b.sizes.is_empty() && !a.sizes.is_empty();
    if !long_enough {
        notes.push(format!(
            "not enough samples to compare: {n1} before and {n2} after, each profile needs {MIN_PROFILE_SAMPLES} \
             (profile longer, or with a higher --rate)"
        ));
    } else if !timelines {
        let which = if b.sizes.is_empty() { "before" } else { "after" };
        notes.push(format!(
            "the {which} profile has no complete sample timeline, so no change can be tested \
             (profile it again with tachy profile -o)"
        ));
    }
    let testable = long_enough && timelines;
    let (self_changes, self_tested) = changes(&b, &a, false, testable, n);
    let (total_changes, total_tested) = changes(&b, &a, true, testable, n);
    let mut out: Vec<DiffRow> = (0..n)
        .filter(|&i| total_changes[i].samples_before.saturating_add(total_changes[i].samples_after) > 0)
        .map(|i| {
            let (function, file) = fns.names[i].clone();
            let (l1, l2) = fns.lines[i];
            let line = if total_changes[i].samples_after > 0 { l2 } else { l1 };
            DiffRow { function, file, line, self_share: self_changes[i], total_share: total_changes[i] }
        })
        .collect();
    out.sort_by(|a, b| {
        b.self_share
            .delta
            .abs()
            .total_cmp(&a.self_share.delta.abs())
            .then_with(|| a.function.cmp(&b.function))
            .then_with(|| a.file.cmp(&b.file))
    });
    let mut failures = Vec::new();
    if let Some(limit) = fail_if_grows {
        for r in &out {
            let s = &r.self_share;
            if s.delta * 100.0 <= limit {
                continue;
            }
            match s.verdict {
                DiffVerdict::Grew => failures.push(DiffFailure {
                    function: r.function.clone(),
                    file: r.file.clone(),
                    line: r.line,
                    delta: s.delta,
                    ci_low: s.ci_low,
                    ci_high: s.ci_high,
                }),
                DiffVerdict::NotEnoughSamples if testable => notes.push(format!(
                    "{} ({}:{}) self share {:+.1}pp, more than {limit} points, but only {} samples: \
                     not tested (needs {MIN_FUNCTION_SAMPLES})",
                    r.function,
                    r.file,
                    r.line,
                    s.delta * 100.0,
                    s.samples_before.saturating_add(s.samples_after)
                )),
                _ => {}
            }
        }
        failures.sort_by(|x, y| y.delta.total_cmp(&x.delta));
    }
    ProfileDiff {
        schema: "tachy-profile-diff/1".to_string(),
        before_command: before.meta.command.join(" "),
        after_command: after.meta.command.join(" "),
        before_samples: n1,
        after_samples: n2,
        fail_if_grows,
        failed: !failures.is_empty(),
        rows: out,
        confidence: CONFIDENCE,
        batches: DEFAULT_BATCHES as u32,
        min_samples: MIN_FUNCTION_SAMPLES,
        min_profile_samples: MIN_PROFILE_SAMPLES,
        self_tested,
        total_tested,
        failures,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use tachy_report::profile::{ProfileBuilder, ProfileMeta};

    use super::*;

    /// A profile whose sample `i` has the stack `main -> f{seq[i]}`.
    fn profile(seq: &[usize]) -> Profile {
        let mut pb = ProfileBuilder::new();
        let main = pb.frame("main", "/x.py", 1, None);
        let fns: Vec<u32> = (0..=seq.iter().copied().max().unwrap_or(0))
            .map(|i| pb.frame(&format!("f{i}"), "/x.py", 10 + i as i32, None))
            .collect();
        let t = pb.thread(1, 1, None, None);
        for (i, &f) in seq.iter().enumerate() {
            pb.sample(t, &[main, fns[f]], i as u64 * 10_000);
        }
        pb.finish(ProfileMeta::default())
    }

    fn flagged(d: &ProfileDiff) -> usize {
        d.rows
            .iter()
            .filter(|r| {
                [r.self_share.verdict, r.total_share.verdict]
                    .iter()
                    .any(|v| matches!(v, DiffVerdict::Grew | DiffVerdict::Shrank))
            })
            .count()
    }

    /// A run of a program with phases: `functions` functions with decreasing weights, the
    /// weights rotating between the two halves, each sample staying in the previous function
    /// with probability `stay` (autocorrelation), else drawing a new one.
    fn run(rng: &mut StdRng, n: usize, functions: usize, stay: f64) -> Vec<usize> {
        let weights: Vec<f64> = (0..functions).map(|i| 1.0 / (i as f64 + 1.0)).collect();
        let sum: f64 = weights.iter().sum();
        let mut cur = 0;
        (0..n)
            .map(|i| {
                if !rng.random_bool(stay) {
                    let mut u = rng.random::<f64>() * sum;
                    let k = weights.iter().position(|w| {
                        u -= w;
                        u <= 0.0
                    });
                    let k = k.unwrap_or(functions - 1);
                    // Second half: another function mix (a phase both runs share).
                    cur = if i < n / 2 { k } else { (k + functions / 2) % functions };
                }
                cur
            })
            .collect()
    }

    /// Two runs of the same program (autocorrelated samples, phases, 200 functions) are
    /// not reported as different: of 100 A/A pairs, at most 10 flag anything (5 expected from
    /// the 95% family-wise level). The Wald intervals per function flagged some function in
    /// every pair.
    #[test]
    fn identical_runs_are_not_flagged() {
        let mut rng = StdRng::seed_from_u64(2);
        let mut pairs_flagged = 0;
        for _ in 0..100 {
            let a = profile(&run(&mut rng, 3000, 200, 0.9));
            let b = profile(&run(&mut rng, 3000, 200, 0.9));
            let d = diff(&a, &b, Some(1.0));
            pairs_flagged += usize::from(flagged(&d) > 0 || d.failed);
            assert!(d.self_tested > 10, "{} tested", d.self_tested);
        }
        assert!(pairs_flagged <= 10, "{pairs_flagged} of 100 A/A pairs flagged a function");
    }

    /// Many functions tested at once, samples independent: without a multiple-comparison
    /// control, 50 tests at 95% flag about 2.5 functions per diff by chance (some function in
    /// 19 of 20 diffs); with it, at most 10 of 100 diffs flag anything (5 expected).
    #[test]
    fn many_functions_do_not_produce_chance_verdicts() {
        let mut rng = StdRng::seed_from_u64(9);
        let mut pairs_flagged = 0;
        for _ in 0..100 {
            let a: Vec<usize> = (0..3000).map(|_| rng.random_range(0..50)).collect();
            let b: Vec<usize> = (0..3000).map(|_| rng.random_range(0..50)).collect();
            let d = diff(&profile(&a), &profile(&b), None);
            assert_eq!(d.self_tested, 50);
            pairs_flagged += usize::from(flagged(&d) > 0);
        }
        assert!(pairs_flagged <= 10, "{pairs_flagged} of 100 pairs flagged a function");
    }

    /// A real shift (one function takes 15 more points of the samples) is detected, fails the
    /// gate, and the failure names the function with its change and interval.
    #[test]
    fn a_real_growth_fails_the_gate_and_is_named() {
        let mut rng = StdRng::seed_from_u64(5);
        let before = run(&mut rng, 3000, 50, 0.9);
        let mut after = run(&mut rng, 3000, 50, 0.9);
        // Every 100 samples, a 15-sample stretch of f7 (a slower f7).
        for (i, s) in after.iter_mut().enumerate() {
            if i % 100 < 15 {
                *s = 7;
            }
        }
        let d = diff(&profile(&before), &profile(&after), Some(5.0));
        let f7 = d.rows.iter().find(|r| r.function == "f7").unwrap();
        assert_eq!(f7.self_share.verdict, DiffVerdict::Grew);
        assert!(f7.self_share.delta > 0.1 && f7.self_share.ci_low > 0.0);
        assert!(d.failed);
        assert_eq!(d.failures[0].function, "f7");
        assert_eq!(d.failures[0].delta, f7.self_share.delta);
        assert!(!diff(&profile(&before), &profile(&after), Some(30.0)).failed, "not by 30 points");
    }

    #[test]
    fn short_profiles_are_not_enough_samples_and_never_fail() {
        // 100 samples each, f1 goes from 0% to 100%: a huge change, but too few samples.
        let d = diff(&profile(&[0; 100]), &profile(&[1; 100]), Some(5.0));
        assert!(!d.failed);
        assert_eq!(d.self_tested, 0);
        assert!(d.rows.iter().all(|r| r.self_share.verdict == DiffVerdict::NotEnoughSamples));
        assert!(d.notes[0].contains("not enough samples"), "{:?}", d.notes);
        let f1 = d.rows.iter().find(|r| r.function == "f1").unwrap();
        assert_eq!((f1.self_share.ci_low, f1.self_share.ci_high), (0.0, 1.0), "any change is possible");
        assert_eq!(f1.self_share.p_value, None);
    }

    #[test]
    fn rare_functions_are_not_tested() {
        // f1 in 12 of 3000 samples before and 0 after: not tested; f0 everywhere: tested.
        let mut before = vec![0; 3000];
        for s in before.iter_mut().take(12) {
            *s = 1;
        }
        let d = diff(&profile(&before), &profile(&[0; 3000]), Some(0.1));
        let f1 = d.rows.iter().find(|r| r.function == "f1").unwrap();
        assert_eq!(f1.self_share.verdict, DiffVerdict::NotEnoughSamples);
        assert_eq!((f1.self_share.samples_before, f1.self_share.samples_after), (12, 0));
        assert_eq!(d.self_tested, 1);
        assert!(!d.failed);
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
        let before: Vec<usize> = (0..1000).map(|i| i % 2).collect();
        let after = vec![2; 1000];
        let d = diff(&profile(&before), &profile(&after), None);
        let c = d.rows.iter().find(|r| r.function == "f2").unwrap();
        assert_eq!((c.self_share.before, c.self_share.after), (0.0, 1.0));
        assert_eq!(c.self_share.verdict, DiffVerdict::Grew);
        assert_eq!(d.rows.len(), 4, "main, f0, f1, f2");
    }
}
