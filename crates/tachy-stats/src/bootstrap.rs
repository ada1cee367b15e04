//! Bootstrap confidence intervals: the ratio of two medians with a percentile bootstrap CI.
//!
//! # How resampled medians are drawn
//!
//! Each sample is sorted once. A bootstrap resample of `n` values drawn with replacement is
//! represented by `n` random *indices* into the sorted sample; because the sorted sample is
//! monotone, the median of the resampled values is the value at the median of the drawn indices.
//!
//! * For `n <= BOOTSTRAP_SELECT_MAX` (10 000) the indices are drawn explicitly into a reused
//!   `u32` buffer and the middle one(s) found with `select_nth_unstable` (linear time, no sort).
//! * For larger samples that would cost `O(n)` per resample, so the middle index is drawn directly
//!   from its exact distribution instead: the k-th smallest of `n` uniform indices is
//!   `floor(n * U(k))`, where `U(k) ~ Beta(k, n - k + 1)` is the k-th order statistic of `n`
//!   continuous uniforms (and, for even `n`, the next one is `U(k) + (1 - U(k)) * (1 - V^(1/(n-k)))`,
//!   `V` uniform). This is the same bootstrap distribution, at `O(1)` cost per resample, using
//!   all the data (no subsampling, no reduction of the number of resamples).
//!
//! Everything is driven by one `rand::rngs::StdRng` seeded with `seed_from_u64(seed)`, so results
//! are deterministic for a given seed (and `rand` version).

use rand::distr::{Distribution, Uniform};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::ci::ConfidenceInterval;
use crate::summary::{median_of_sorted, midpoint, percentile, sorted_without_nan};

/// Default number of bootstrap resamples.
pub const DEFAULT_RESAMPLES: usize = 2000;

/// Largest sample size whose resampled medians are computed by explicit resampling and selection;
/// larger samples draw the median's order statistic directly (see the module documentation).
pub const BOOTSTRAP_SELECT_MAX: usize = 10_000;

/// Ratio of two medians with a bootstrap confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RatioEstimate {
    /// Point estimate `median(num) / median(den)`.
    pub ratio: f64,
    /// Percentile bootstrap confidence interval of the ratio (`level` is the nominal level).
    pub ci: ConfidenceInterval,
}

/// Ratio of medians `median(num) / median(den)` with a percentile bootstrap CI.
///
/// Each sample is resampled independently with replacement `resamples` times (deterministic:
/// `StdRng::seed_from_u64(seed)`); the CI bounds are the `(1 - level) / 2` and `(1 + level) / 2`
/// quantiles (type 7) of the resampled ratios. NaN values are dropped first; `level` is clamped to
/// `[0, 1]` (NaN counts as 0). Resamples whose denominator median is not positive are discarded.
/// If no resample is left (e.g. `resamples == 0`) the CI is `[ratio, ratio]` with level 0.
/// With a sample of size 1 on a side the CI collapses toward the point estimate.
///
/// Returns `None` if either sample is empty or `median(den) <= 0`.
/// Samples larger than [`BOOTSTRAP_SELECT_MAX`] use exact order-statistic sampling (module docs).
pub fn median_ratio(num: &[f64], den: &[f64], resamples: usize, level: f64, seed: u64) -> Option<RatioEstimate> {
    median_ratio_with(num, den, resamples, level, seed, BOOTSTRAP_SELECT_MAX)
}

fn median_ratio_with(
    num: &[f64],
    den: &[f64],
    resamples: usize,
    level: f64,
    seed: u64,
    select_max: usize,
) -> Option<RatioEstimate> {
    let num = sorted_without_nan(num);
    let den = sorted_without_nan(den);
    if num.is_empty() || den.is_empty() {
        return None;
    }
    let den_median = median_of_sorted(&den);
    if den_median.is_nan() || den_median <= 0.0 {
        return None;
    }
    let ratio = median_of_sorted(&num) / den_median;
    let level = if level.is_nan() { 0.0 } else { level.clamp(0.0, 1.0) };

    let mut rng = StdRng::seed_from_u64(seed);
    let mut num_rs = MedianResampler::new(&num, select_max);
    let mut den_rs = MedianResampler::new(&den, select_max);
    let mut ratios = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        let a = num_rs.draw(&mut rng);
        let b = den_rs.draw(&mut rng);
        if b > 0.0 {
            let r = a / b;
            if !r.is_nan() {
                ratios.push(r);
            }
        }
    }
    let ci = if ratios.is_empty() {
        ConfidenceInterval { low: ratio, high: ratio, level: 0.0 }
    } else {
        ratios.sort_unstable_by(f64::total_cmp);
        ConfidenceInterval {
            low: percentile(&ratios, (1.0 - level) / 2.0),
            high: percentile(&ratios, (1.0 + level) / 2.0),
            level,
        }
    };
    Some(RatioEstimate { ratio, ci })
}

/// Draws medians of bootstrap resamples of one sorted, NaN-free, non-empty sample.
struct MedianResampler<'a> {
    sorted: &'a [f64],
    method: Method,
}

enum Method {
    /// A single value: every resample has it as median.
    Constant,
    /// Explicit resampling of indices into a reused buffer, then selection.
    Select { dist: Uniform<u32>, idx: Vec<u32> },
    /// Direct draw of the middle order statistic(s) of `n` uniform indices.
    OrderStatistic,
}

impl<'a> MedianResampler<'a> {
    fn new(sorted: &'a [f64], select_max: usize) -> Self {
        let n = sorted.len();
        let method = if n <= 1 {
            Method::Constant
        } else if n <= select_max {
            match u32::try_from(n).ok().and_then(|n| Uniform::new(0, n).ok()) {
                Some(dist) => Method::Select { dist, idx: vec![0; n] },
                None => Method::OrderStatistic,
            }
        } else {
            Method::OrderStatistic
        };
        Self { sorted, method }
    }

    fn draw(&mut self, rng: &mut StdRng) -> f64 {
        let sorted = self.sorted;
        let n = sorted.len();
        let (lo, hi) = match &mut self.method {
            Method::Constant => return sorted[0],
            Method::Select { dist, idx } => {
                for i in idx.iter_mut() {
                    *i = dist.sample(rng);
                }
                let k = n / 2;
                let (left, &mut upper, _) = idx.select_nth_unstable(k);
                if !n.is_multiple_of(2) {
                    (upper as usize, upper as usize)
                } else {
                    let lower = left.iter().copied().max().unwrap_or(upper);
                    (lower as usize, upper as usize)
                }
            }
            Method::OrderStatistic => middle_order_statistics(n, rng),
        };
        if lo == hi { sorted[lo] } else { midpoint(sorted[lo], sorted[hi]) }
    }
}

/// Indices (0-based) of the middle order statistic(s) of `n >= 2` independent uniform draws from
/// `0..n`: the same index twice for odd `n`, the two middle ones for even `n`.
fn middle_order_statistics(n: usize, rng: &mut StdRng) -> (usize, usize) {
    let nf = n as f64;
    let to_index = |u: f64| ((nf * u).floor().max(0.0) as usize).min(n - 1);
    // 1-based rank k of the (lower) middle value.
    let k = n.div_ceil(2);
    let u_k = beta(k as f64, (n - k + 1) as f64, rng);
    if !n.is_multiple_of(2) {
        let i = to_index(u_k);
        return (i, i);
    }
    // Next order statistic: the minimum of the n - k draws above u_k, i.e.
    // u_k + (1 - u_k) * (1 - V^(1/(n-k))).
    let v = open_unit(rng);
    let gap = -(v.ln() / (n - k) as f64).exp_m1();
    let u_k1 = u_k + (1.0 - u_k) * gap;
    (to_index(u_k), to_index(u_k1))
}

/// Uniform in `(0, 1]`.
fn open_unit(rng: &mut StdRng) -> f64 {
    1.0 - rng.random::<f64>()
}

/// `Beta(a, b)` variate via two gamma variates (`a, b >= 1`).
fn beta(a: f64, b: f64, rng: &mut StdRng) -> f64 {
    let x = gamma(a, rng);
    let y = gamma(b, rng);
    x / (x + y)
}

/// `Gamma(shape, 1)` variate for `shape >= 1` (Marsaglia & Tsang, 2000).
fn gamma(shape: f64, rng: &mut StdRng) -> f64 {
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = standard_normal(rng);
        let v = 1.0 + c * x;
        if v <= 0.0 {
            continue;
        }
        let v = v * v * v;
        let u = open_unit(rng);
        let x2 = x * x;
        if u < 1.0 - 0.0331 * x2 * x2 || u.ln() < 0.5 * x2 + d * (1.0 - v + v.ln()) {
            return d * v;
        }
    }
}

/// Standard normal variate (Box–Muller).
fn standard_normal(rng: &mut StdRng) -> f64 {
    let r = (-2.0 * open_unit(rng).ln()).sqrt();
    let theta = std::f64::consts::TAU * rng.random::<f64>();
    r * theta.cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::{mean, stddev};

    fn sample(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..n).map(|_| 1.0 + rng.random::<f64>()).collect()
    }

    #[test]
    fn identical_samples_give_ratio_one() {
        let a = sample(200, 1);
        let r = median_ratio(&a, &a, DEFAULT_RESAMPLES, 0.95, 42).expect("valid");
        assert_eq!(r.ratio, 1.0);
        assert!(r.ci.low <= 1.0 && 1.0 <= r.ci.high, "{r:?}");
        assert!(r.ci.low < r.ci.high);
        assert_eq!(r.ci.level, 0.95);
    }

    #[test]
    fn doubled_sample_gives_ratio_two() {
        let a = sample(101, 2);
        let b: Vec<f64> = a.iter().map(|x| 2.0 * x).collect();
        let r = median_ratio(&b, &a, DEFAULT_RESAMPLES, 0.95, 42).expect("valid");
        assert_eq!(r.ratio, 2.0);
        assert!(r.ci.low <= 2.0 && 2.0 <= r.ci.high, "{r:?}");
        let r = median_ratio(&a, &b, DEFAULT_RESAMPLES, 0.95, 42).expect("valid");
        assert_eq!(r.ratio, 0.5);
    }

    #[test]
    fn deterministic_for_a_seed() {
        let a = sample(300, 3);
        let b = sample(250, 4);
        let r1 = median_ratio(&a, &b, 500, 0.9, 7).expect("valid");
        let r2 = median_ratio(&a, &b, 500, 0.9, 7).expect("valid");
        assert_eq!(r1, r2);
        let r3 = median_ratio(&a, &b, 500, 0.9, 8).expect("valid");
        assert_eq!(r1.ratio, r3.ratio);
        assert_ne!(r1.ci, r3.ci);
        // Same for the large-sample path.
        let a = sample(20_001, 5);
        let r1 = median_ratio(&a, &a, 300, 0.95, 9).expect("valid");
        let r2 = median_ratio(&a, &a, 300, 0.95, 9).expect("valid");
        assert_eq!(r1, r2);
        assert!(r1.ci.low <= 1.0 && 1.0 <= r1.ci.high);
    }

    #[test]
    fn wider_level_gives_wider_interval() {
        let a = sample(150, 6);
        let b = sample(150, 7);
        let r90 = median_ratio(&a, &b, 1000, 0.90, 1).expect("valid");
        let r99 = median_ratio(&a, &b, 1000, 0.99, 1).expect("valid");
        assert!(r99.ci.low <= r90.ci.low && r90.ci.high <= r99.ci.high);
    }

    #[test]
    fn invalid_inputs() {
        assert_eq!(median_ratio(&[], &[1.0], 10, 0.95, 0), None);
        assert_eq!(median_ratio(&[1.0], &[], 10, 0.95, 0), None);
        assert_eq!(median_ratio(&[1.0], &[f64::NAN], 10, 0.95, 0), None);
        assert_eq!(median_ratio(&[1.0], &[0.0, 0.0, 1.0], 10, 0.95, 0), None);
        assert_eq!(median_ratio(&[1.0], &[-2.0], 10, 0.95, 0), None);
    }

    #[test]
    fn degenerate_inputs() {
        // Single values: every resample is the point estimate.
        let r = median_ratio(&[3.0], &[2.0], 100, 0.95, 0).expect("valid");
        assert_eq!((r.ratio, r.ci.low, r.ci.high), (1.5, 1.5, 1.5));
        // All equal.
        let r = median_ratio(&[4.0; 10], &[2.0; 7], 100, 0.95, 0).expect("valid");
        assert_eq!((r.ratio, r.ci.low, r.ci.high), (2.0, 2.0, 2.0));
        // NaN dropped.
        let r = median_ratio(&[4.0, f64::NAN], &[f64::NAN, 2.0], 100, 0.95, 0).expect("valid");
        assert_eq!((r.ratio, r.ci.low, r.ci.high), (2.0, 2.0, 2.0));
        // No resamples.
        let r = median_ratio(&[1.0, 3.0], &[1.0, 2.0], 0, 0.95, 0).expect("valid");
        assert_eq!((r.ratio, r.ci.low, r.ci.high, r.ci.level), (2.0 / 1.5, 2.0 / 1.5, 2.0 / 1.5, 0.0));
        // Resamples with a non-positive denominator median are skipped, not fatal.
        let r = median_ratio(&[1.0, 2.0, 3.0], &[-1.0, 1.0, 2.0], 200, 0.95, 0).expect("valid");
        assert_eq!(r.ratio, 2.0);
        assert!(r.ci.low > 0.0 && r.ci.high.is_finite());
        // Level is clamped; NaN level counts as 0 (both bounds at the median of the ratios).
        let r = median_ratio(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0], 200, 7.0, 0).expect("valid");
        assert_eq!(r.ci.level, 1.0);
        let r = median_ratio(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0], 200, f64::NAN, 0).expect("valid");
        assert_eq!((r.ci.level, r.ci.low), (0.0, r.ci.high));
    }

    #[test]
    fn small_sample_ci_covers_possible_range() {
        // Resampled medians of [1, 2, 3] are in {1, 2, 3}; ratio to itself in [1/3, 3].
        let r = median_ratio(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0], 2000, 0.95, 5).expect("valid");
        assert!(r.ci.low >= 1.0 / 3.0 && r.ci.high <= 3.0);
        assert!(r.ci.low < 1.0 && r.ci.high > 1.0);
    }

    /// Resampled-median index distribution of both methods against theory: for `n` draws the
    /// median index has mean ~ (n - 1) / 2 and standard deviation ~ sqrt(n) / 2.
    #[test]
    fn order_statistic_method_matches_explicit_resampling() {
        for n in [501_usize, 500] {
            let sorted: Vec<f64> = (0..n).map(|i| i as f64).collect();
            let draws = 4000;
            let mut rng = StdRng::seed_from_u64(11);
            let mut explicit = MedianResampler::new(&sorted, usize::MAX);
            let mut direct = MedianResampler::new(&sorted, 0);
            assert!(matches!(explicit.method, Method::Select { .. }));
            assert!(matches!(direct.method, Method::OrderStatistic));
            let e: Vec<f64> = (0..draws).map(|_| explicit.draw(&mut rng)).collect();
            let d: Vec<f64> = (0..draws).map(|_| direct.draw(&mut rng)).collect();
            let (mu, sd) = ((n as f64 - 1.0) / 2.0, (n as f64).sqrt() / 2.0);
            for v in [&e, &d] {
                // standard error of the mean: sd / sqrt(4000) ~ 0.35; of the sd: ~ 1.1%
                assert!((mean(v) - mu).abs() < 2.0, "n = {n}: mean {}", mean(v));
                assert!((stddev(v) / sd - 1.0).abs() < 0.06, "n = {n}: sd {}", stddev(v));
            }
            // Even n: the two middle indices are adjacent or close, the average is x.0 or x.5.
            assert!(d.iter().all(|x| (x * 2.0).fract() == 0.0));
        }
    }

    #[test]
    fn gamma_and_beta_moments() {
        let mut rng = StdRng::seed_from_u64(3);
        let g: Vec<f64> = (0..20_000).map(|_| gamma(4.0, &mut rng)).collect();
        // Gamma(4): mean 4, variance 4
        assert!((mean(&g) - 4.0).abs() < 0.05);
        assert!((stddev(&g) - 2.0).abs() < 0.05);
        let b: Vec<f64> = (0..20_000).map(|_| beta(2.0, 6.0, &mut rng)).collect();
        // Beta(2, 6): mean 2/8 = 0.25, variance 2*6 / (8^2 * 9) = 12/576 -> sd 0.1443
        assert!((mean(&b) - 0.25).abs() < 0.005);
        assert!((stddev(&b) - 0.144_337).abs() < 0.005);
        assert!(b.iter().all(|&x| (0.0..=1.0).contains(&x)));
    }

    #[test]
    fn large_samples_agree_with_selection_path() {
        // Both paths forced on the same data; the CIs should agree to Monte Carlo precision.
        let a = sample(2000, 21);
        let b: Vec<f64> = sample(2000, 22).iter().map(|x| 1.1 * x).collect();
        let direct = median_ratio_with(&b, &a, 1000, 0.95, 1, 0).expect("valid");
        let explicit = median_ratio_with(&b, &a, 1000, 0.95, 1, usize::MAX).expect("valid");
        assert_eq!(direct.ratio, explicit.ratio);
        // Uniform[1, 2] data: sd(median) ~ 1 / (2 sqrt(2000)) = 0.0112, ratio ~ 1.1,
        // sd(ratio) ~ 1.1 * sqrt(2) * 0.0112 / 1.5 = 0.0116, half-width ~ 1.96 * 0.0116 = 0.0227.
        let hw = (explicit.ci.high - explicit.ci.low) / 2.0;
        assert!(hw > 0.015 && hw < 0.032, "{explicit:?}");
        // Monte Carlo sd of each bound difference ~ 0.06 * hw.
        assert!((direct.ci.low - explicit.ci.low).abs() < 0.2 * hw, "{direct:?} {explicit:?}");
        assert!((direct.ci.high - explicit.ci.high).abs() < 0.2 * hw, "{direct:?} {explicit:?}");
    }

    /// Timing check; run with `cargo test -p tachy-stats --release -- --ignored`.
    #[test]
    #[ignore = "timing; meaningful in release builds only"]
    fn bootstrap_is_fast_in_release() {
        let a = sample(10_000, 1);
        let b = sample(10_000, 2);
        let t = std::time::Instant::now();
        let r = median_ratio(&a, &b, DEFAULT_RESAMPLES, 0.95, 0);
        assert!(r.is_some());
        let small = t.elapsed();
        let a = sample(1_000_000, 1);
        let t = std::time::Instant::now();
        let r = median_ratio(&a, &a, DEFAULT_RESAMPLES, 0.95, 0);
        assert!(r.is_some());
        let large = t.elapsed();
        let xs = sample(1_000_000, 3);
        let t = std::time::Instant::now();
        assert!(crate::summarize(&xs).is_some());
        let summary = t.elapsed();
        if !cfg!(debug_assertions) {
            assert!(summary.as_secs_f64() < 0.5, "{summary:?}");
            assert!(small.as_secs_f64() < 0.5, "{small:?}");
            assert!(large.as_secs_f64() < 1.0, "{large:?}");
        }
    }
}
