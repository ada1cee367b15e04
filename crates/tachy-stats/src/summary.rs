//! Descriptive statistics: mean, standard deviation, median, percentiles and the [`Summary`] bundle.
//!
//! Every function here except [`percentile`] (which takes already sorted, NaN-free data) drops NaN
//! values before any computation; none of them panics.

use serde::{Deserialize, Serialize};

use crate::ci::{ConfidenceInterval, median_ci};
use crate::robust::mad_around;

/// Confidence level used for [`Summary::median_ci`].
pub const SUMMARY_CI_LEVEL: f64 = 0.95;

/// Descriptive statistics of one sample. All fields are in the sample's unit (except `n`, `cv`
/// and `median_ci.level`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Number of values used (NaN values are dropped and not counted).
    pub n: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation (divisor `n - 1`); `0.0` when `n < 2`.
    pub stddev: f64,
    /// Median (average of the two middle values when `n` is even).
    pub median: f64,
    /// Median absolute deviation from the median, unscaled: `median(|x - median|)`.
    pub mad: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// 5th percentile (linear interpolation, Hyndman–Fan type 7, the numpy default).
    pub p5: f64,
    /// 95th percentile (type 7).
    pub p95: f64,
    /// 99th percentile (type 7).
    pub p99: f64,
    /// Coefficient of variation `stddev / mean`; `0.0` when `mean == 0`.
    pub cv: f64,
    /// Distribution-free 95% confidence interval of the median (see [`median_ci`]).
    pub median_ci: ConfidenceInterval,
}

/// Summarizes a sample. NaN values are dropped first; returns `None` when nothing is left.
///
/// Sorts one copy of the data once (`O(n log n)`); everything else is linear or better.
pub fn summarize(xs: &[f64]) -> Option<Summary> {
    let sorted = sorted_without_nan(xs);
    let n = sorted.len();
    let (&min, &max) = (sorted.first()?, sorted.last()?);
    let mean = mean_of(&sorted);
    let stddev = stddev_around(&sorted, mean);
    let median = median_of_sorted(&sorted);
    let mut scratch = sorted.clone();
    let mad = mad_around(&mut scratch, median);
    let cv = if mean == 0.0 { 0.0 } else { stddev / mean };
    Some(Summary {
        n,
        mean,
        stddev,
        median,
        mad,
        min,
        max,
        p5: percentile(&sorted, 0.05),
        p95: percentile(&sorted, 0.95),
        p99: percentile(&sorted, 0.99),
        cv,
        median_ci: median_ci(&sorted, SUMMARY_CI_LEVEL),
    })
}

/// Arithmetic mean of the non-NaN values; NaN when there are none.
pub fn mean(xs: &[f64]) -> f64 {
    let v = without_nan(xs);
    mean_of(&v)
}

/// Sample standard deviation (divisor `n - 1`) of the non-NaN values; `0.0` when fewer than two.
pub fn stddev(xs: &[f64]) -> f64 {
    let v = without_nan(xs);
    stddev_around(&v, mean_of(&v))
}

/// Median of the non-NaN values (mean of the two middle values for an even count); NaN when
/// there are none. Linear time (selection, no full sort).
pub fn median(xs: &[f64]) -> f64 {
    let mut v = without_nan(xs);
    select_median(&mut v)
}

/// Percentile `q` (in `[0, 1]`) of `sorted`, which must be sorted ascending and free of NaN.
///
/// Uses linear interpolation between order statistics, Hyndman–Fan type 7 (numpy's default):
/// with `h = (n - 1) * q`, the result is `x[floor(h)] + (h - floor(h)) * (x[floor(h) + 1] - x[floor(h)])`
/// (0-based). `q` outside `[0, 1]` is clamped; returns NaN for empty input or NaN `q`.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    let q = q.clamp(0.0, 1.0);
    let last = sorted.len() - 1;
    let h = last as f64 * q;
    // `h` is in [0, last], so the casts below stay in range.
    let lo = (h.floor() as usize).min(last);
    let hi = (lo + 1).min(last);
    let frac = h - lo as f64;
    let (a, b) = (sorted[lo], sorted[hi]);
    if frac == 0.0 || a == b { a } else { a + frac * (b - a) }
}

/// Copies `xs` without its NaN values.
pub(crate) fn without_nan(xs: &[f64]) -> Vec<f64> {
    xs.iter().copied().filter(|x| !x.is_nan()).collect()
}

/// Copies `xs` without its NaN values, sorted ascending.
pub(crate) fn sorted_without_nan(xs: &[f64]) -> Vec<f64> {
    let mut v = without_nan(xs);
    v.sort_unstable_by(f64::total_cmp);
    v
}

/// Mean of NaN-free data; NaN when empty.
pub(crate) fn mean_of(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    if !m.is_finite() {
        return m;
    }
    // One refinement step (corrected two-pass): removes most of the rounding error of the sum.
    m + xs.iter().map(|x| x - m).sum::<f64>() / n
}

/// Sample standard deviation of NaN-free data around its mean `m`; 0 when fewer than 2 values.
fn stddev_around(xs: &[f64], m: f64) -> f64 {
    let n = xs.len();
    if n < 2 {
        return 0.0;
    }
    // Corrected two-pass algorithm (Chan, Golub & LeVeque).
    let (mut ss, mut s) = (0.0, 0.0);
    for &x in xs {
        let d = x - m;
        ss += d * d;
        s += d;
    }
    let var = (ss - s * s / n as f64) / (n - 1) as f64;
    var.max(0.0).sqrt()
}

/// Median of a sorted NaN-free slice; NaN when empty.
pub(crate) fn median_of_sorted(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n == 0 {
        f64::NAN
    } else if !n.is_multiple_of(2) {
        sorted[n / 2]
    } else {
        midpoint(sorted[n / 2 - 1], sorted[n / 2])
    }
}

/// Median of NaN-free data via selection (reorders `buf`); NaN when empty.
pub(crate) fn select_median(buf: &mut [f64]) -> f64 {
    let n = buf.len();
    if n == 0 {
        return f64::NAN;
    }
    let k = n / 2;
    let (left, &mut upper, _) = buf.select_nth_unstable_by(k, f64::total_cmp);
    if !n.is_multiple_of(2) {
        upper
    } else {
        // `left` holds the k smallest values, so its maximum is the lower middle value.
        let lower = left.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        midpoint(lower, upper)
    }
}

/// Midpoint of `a <= b` without overflow for large finite values.
pub(crate) fn midpoint(a: f64, b: f64) -> f64 {
    if a == b { a } else { a / 2.0 + b / 2.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * (1.0 + b.abs())
    }

    #[test]
    fn summary_of_small_sample_with_outlier() {
        let s = summarize(&[1.0, 2.0, 3.0, 4.0, 100.0]).expect("non-empty");
        assert_eq!(s.n, 5);
        // (1 + 2 + 3 + 4 + 100) / 5 = 110 / 5 = 22
        assert!(close(s.mean, 22.0, 1e-15));
        // deviations from 22: -21 -20 -19 -18 78; squares 441 400 361 324 6084, sum 7610;
        // variance 7610 / 4 = 1902.5; sqrt(1902.5) = 43.617656975128...
        assert!(close(s.stddev, 1902.5_f64.sqrt(), 1e-15));
        assert!(close(s.stddev, 43.617_656_975_128, 1e-12));
        assert_eq!(s.median, 3.0);
        // |x - 3| = 2 1 0 1 97 -> sorted 0 1 1 2 97 -> median 1
        assert_eq!(s.mad, 1.0);
        assert_eq!(s.min, 1.0);
        assert_eq!(s.max, 100.0);
        // type 7, n = 5, h = 4q:
        // p5:  h = 0.20 -> x0 + 0.20 * (x1 - x0) = 1 + 0.2 * 1 = 1.2
        // p95: h = 3.80 -> x3 + 0.80 * (x4 - x3) = 4 + 0.8 * 96 = 80.8
        // p99: h = 3.96 -> x3 + 0.96 * (x4 - x3) = 4 + 0.96 * 96 = 96.16
        assert!(close(s.p5, 1.2, 1e-14));
        assert!(close(s.p95, 80.8, 1e-14));
        assert!(close(s.p99, 96.16, 1e-14));
        assert!(close(s.cv, 43.617_656_975_128 / 22.0, 1e-12));
        // n = 5 is too small for 95%: min..max with coverage 1 - 2 * 0.5^5 = 0.9375
        assert_eq!(s.median_ci.low, 1.0);
        assert_eq!(s.median_ci.high, 100.0);
        assert!(close(s.median_ci.level, 0.9375, 1e-14));
    }

    #[test]
    fn summary_ignores_nan_and_order() {
        let a = summarize(&[100.0, f64::NAN, 3.0, 1.0, 4.0, f64::NAN, 2.0]).expect("non-empty");
        let b = summarize(&[1.0, 2.0, 3.0, 4.0, 100.0]).expect("non-empty");
        assert_eq!(a, b);
    }

    #[test]
    fn summary_empty_and_all_nan() {
        assert_eq!(summarize(&[]), None);
        assert_eq!(summarize(&[f64::NAN, f64::NAN]), None);
    }

    #[test]
    fn summary_single_value() {
        let s = summarize(&[7.5]).expect("non-empty");
        assert_eq!(s.n, 1);
        assert_eq!((s.mean, s.stddev, s.median, s.mad, s.min, s.max), (7.5, 0.0, 7.5, 0.0, 7.5, 7.5));
        assert_eq!((s.p5, s.p95, s.p99, s.cv), (7.5, 7.5, 7.5, 0.0));
        // one point: [x, x] has coverage 1 - 2 * 0.5 = 0
        assert_eq!((s.median_ci.low, s.median_ci.high), (7.5, 7.5));
        assert_eq!(s.median_ci.level, 0.0);
    }

    #[test]
    fn summary_all_equal() {
        let s = summarize(&[0.25; 40]).expect("non-empty");
        assert_eq!(s.n, 40);
        assert_eq!(s.mean, 0.25);
        assert_eq!(s.stddev, 0.0);
        assert_eq!((s.median, s.mad, s.min, s.max), (0.25, 0.0, 0.25, 0.25));
        assert_eq!((s.p5, s.p95, s.p99, s.cv), (0.25, 0.25, 0.25, 0.0));
        assert_eq!((s.median_ci.low, s.median_ci.high), (0.25, 0.25));
        assert!(s.median_ci.level >= 0.95);
    }

    #[test]
    fn summary_zero_mean_has_zero_cv() {
        let s = summarize(&[-1.0, 1.0]).expect("non-empty");
        assert_eq!(s.mean, 0.0);
        assert_eq!(s.cv, 0.0);
        // variance ((-1)^2 + 1^2) / 1 = 2
        assert!(close(s.stddev, 2.0_f64.sqrt(), 1e-15));
    }

    #[test]
    fn percentiles_match_numpy_type7() {
        let x = [10.0, 20.0, 30.0, 40.0];
        // n = 4, h = 3q (0-based index)
        // q = 0    -> h = 0    -> 10
        // q = 0.25 -> h = 0.75 -> 10 + 0.75 * 10 = 17.5
        // q = 0.5  -> h = 1.5  -> 20 + 0.5 * 10 = 25
        // q = 0.9  -> h = 2.7  -> 30 + 0.7 * 10 = 37
        // q = 1    -> h = 3    -> 40
        assert_eq!(percentile(&x, 0.0), 10.0);
        assert!(close(percentile(&x, 0.25), 17.5, 1e-15));
        assert!(close(percentile(&x, 0.5), 25.0, 1e-15));
        assert!(close(percentile(&x, 0.9), 37.0, 1e-14));
        assert_eq!(percentile(&x, 1.0), 40.0);
        // numpy.percentile([1, 2, 4, 8, 16], 30) -> h = 4 * 0.3 = 1.2 -> 2 + 0.2 * (4 - 2) = 2.4
        assert!(close(percentile(&[1.0, 2.0, 4.0, 8.0, 16.0], 0.3), 2.4, 1e-15));
    }

    #[test]
    fn percentile_edge_cases() {
        assert!(percentile(&[], 0.5).is_nan());
        assert!(percentile(&[1.0, 2.0], f64::NAN).is_nan());
        assert_eq!(percentile(&[3.0], 0.99), 3.0);
        // clamped
        assert_eq!(percentile(&[1.0, 2.0], -1.0), 1.0);
        assert_eq!(percentile(&[1.0, 2.0], 7.0), 2.0);
        // no inf - inf
        assert_eq!(percentile(&[1.0, f64::INFINITY, f64::INFINITY], 0.75), f64::INFINITY);
    }

    #[test]
    fn mean_stddev_median_free_functions() {
        assert!(mean(&[]).is_nan());
        assert!(mean(&[f64::NAN]).is_nan());
        assert_eq!(mean(&[2.0, f64::NAN, 4.0]), 3.0);
        assert_eq!(stddev(&[]), 0.0);
        assert_eq!(stddev(&[5.0]), 0.0);
        // mean 5; deviations -3 -1 -1 -1 0 0 2 4; squares sum 9+1+1+1+0+0+4+16 = 32; 32 / 7
        let xs = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        assert!(close(stddev(&xs), (32.0_f64 / 7.0).sqrt(), 1e-15));
        assert!(median(&[]).is_nan());
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(&[4.0, f64::NAN, 1.0, 3.0, 2.0]), 2.5);
    }

    #[test]
    fn stddev_is_stable_with_large_offset() {
        // 1e9 + {1, 2, 3}: variance of {1,2,3} = 1
        let xs = [1e9 + 1.0, 1e9 + 2.0, 1e9 + 3.0];
        assert!(close(stddev(&xs), 1.0, 1e-9));
    }

    #[test]
    fn select_median_matches_sorted_median() {
        let mut state = 12_345_u64;
        for n in 1..60 {
            let xs: Vec<f64> = (0..n)
                .map(|_| {
                    state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    ((state >> 40) % 17) as f64
                })
                .collect();
            let sorted = sorted_without_nan(&xs);
            let mut buf = xs.clone();
            assert_eq!(select_median(&mut buf), median_of_sorted(&sorted), "n = {n}");
        }
    }

    #[test]
    fn summarize_large_sample() {
        // A permutation of 0..200_000 (7919 is coprime to 200_000).
        let xs: Vec<f64> = (0..200_000_u64).map(|i| ((i * 7919) % 200_000) as f64).collect();
        let s = summarize(&xs).expect("non-empty");
        assert_eq!(s.n, 200_000);
        assert_eq!((s.min, s.max, s.median), (0.0, 199_999.0, 99_999.5));
        // type 7: h = 199_999 * 0.05 = 9999.95 -> 9999.95
        assert!(close(s.p5, 9_999.95, 1e-12));
        assert!(s.median_ci.low <= s.median && s.median <= s.median_ci.high);
        assert!(s.median_ci.level >= 0.95);
    }
}
