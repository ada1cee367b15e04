//! Confidence intervals: the [`ConfidenceInterval`] type and the distribution-free
//! (order-statistic) confidence interval of the median.

use serde::{Deserialize, Serialize};

/// A confidence interval `[low, high]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ConfidenceInterval {
    /// Lower bound.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
    /// Coverage of the interval, e.g. `0.95`. For [`median_ci`] this is the achieved (exact)
    /// coverage, which is at least the requested level, or lower when the sample is too small.
    /// For bootstrap intervals it is the nominal level.
    pub level: f64,
}

/// Tolerance when comparing an achieved coverage against the requested level, so that a level
/// that is exactly achievable (e.g. `0.9375` for `n = 5`) is not missed by rounding.
const LEVEL_EPS: f64 = 1e-12;

/// Order-statistic (binomial) CI of the median: the narrowest symmetric pair of order statistics
/// `x(j)`, `x(n-j+1)` (1-based) whose exact `Bin(n, 0.5)` coverage `P(j <= B <= n-j)` is `>= level`;
/// when `n` is too small for the level, returns `(min, max)` with its true (lower) coverage
/// `1 - 2 * 0.5^n`.
///
/// `sorted` must be sorted ascending and free of NaN. The binomial sums are exact up to f64
/// rounding (the central probability is a direct product for `n <= 1000` and uses `lgamma` above,
/// relative error ~1e-9 at `n = 1e6`); they are accumulated outward from the centre of the
/// distribution, so the cost is `O(sqrt(n))` for usual levels.
/// Empty input gives `(NaN, NaN)` with level `0`. A `level <= 0` gives the central pair; a
/// `level >= 1` or NaN gives `(min, max)`.
pub fn median_ci(sorted: &[f64], level: f64) -> ConfidenceInterval {
    let n = sorted.len();
    if n == 0 {
        return ConfidenceInterval { low: f64::NAN, high: f64::NAN, level: 0.0 };
    }
    // Largest admissible j: j <= n - j + 1.
    let mut j = n.div_ceil(2);
    // pmf = P(B = j) for the current j; coverage = sum_{i=j}^{n-j} P(B = i).
    let mut pmf = binomial_half_pmf(n, j);
    let mut coverage = if n.is_multiple_of(2) { pmf } else { 0.0 };
    let target = level - LEVEL_EPS;
    while j > 1 && (target.is_nan() || coverage < target) {
        // P(B = j - 1) = P(B = j) * j / (n - j + 1)
        pmf *= j as f64 / (n - j + 1) as f64;
        j -= 1;
        // j < n / 2 here, so i = j and i = n - j are distinct and equally likely.
        coverage += 2.0 * pmf;
    }
    ConfidenceInterval { low: sorted[j - 1], high: sorted[n - j], level: coverage.clamp(0.0, 1.0) }
}

/// `P(B = k)` for `B ~ Bin(n, 1/2)`, `k <= n`.
fn binomial_half_pmf(n: usize, k: usize) -> f64 {
    let k = k.min(n - k);
    if n <= 1000 {
        // 0.5^1000 ~ 9.3e-302 is still a normal f64; every partial product is a pmf value <= 1.
        let mut p = 0.5_f64.powi(n as i32);
        for i in 0..k {
            p *= (n - i) as f64 / (i + 1) as f64;
        }
        p
    } else {
        let (nf, kf) = (n as f64, k as f64);
        let ln =
            libm::lgamma(nf + 1.0) - libm::lgamma(kf + 1.0) - libm::lgamma(nf - kf + 1.0) - nf * std::f64::consts::LN_2;
        ln.exp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(n: usize) -> Vec<f64> {
        (1..=n).map(|i| i as f64).collect()
    }

    #[test]
    fn n10_at_95_percent() {
        // Bin(10, .5): P(B <= 1) = (1 + 10) / 1024 = 11/1024, P(B <= 2) = 56/1024.
        // j = 2: coverage 1 - 22/1024 = 0.978515625 >= 0.95; j = 3: 1 - 112/1024 = 0.890625 < 0.95.
        let ci = median_ci(&seq(10), 0.95);
        assert_eq!((ci.low, ci.high), (2.0, 9.0));
        assert!((ci.level - 0.978_515_625).abs() < 1e-12);
    }

    #[test]
    fn n5_too_small_returns_min_max() {
        // j = 1 coverage 1 - 2 * (1/32) = 0.9375 < 0.95: the best we can do.
        let ci = median_ci(&seq(5), 0.95);
        assert_eq!((ci.low, ci.high), (1.0, 5.0));
        assert!((ci.level - 0.9375).abs() < 1e-12);
        // ...but 0.9375 itself is achievable exactly.
        let ci = median_ci(&seq(5), 0.9375);
        assert_eq!((ci.low, ci.high), (1.0, 5.0));
        // j = 2 gives 1 - 2 * (6/32) = 0.625
        let ci = median_ci(&seq(5), 0.6);
        assert_eq!((ci.low, ci.high), (2.0, 4.0));
        assert!((ci.level - 0.625).abs() < 1e-12);
    }

    #[test]
    fn tiny_and_degenerate_inputs() {
        let ci = median_ci(&[], 0.95);
        assert!(ci.low.is_nan() && ci.high.is_nan());
        assert_eq!(ci.level, 0.0);
        let ci = median_ci(&[4.0], 0.95);
        assert_eq!((ci.low, ci.high, ci.level), (4.0, 4.0, 0.0));
        // n = 2: 1 - 2 * 0.25 = 0.5
        let ci = median_ci(&[1.0, 2.0], 0.95);
        assert_eq!((ci.low, ci.high, ci.level), (1.0, 2.0, 0.5));
        // level <= 0: central pair (odd n: the median itself, coverage 0)
        let ci = median_ci(&seq(7), 0.0);
        assert_eq!((ci.low, ci.high, ci.level), (4.0, 4.0, 0.0));
        // level >= 1 or NaN: min..max
        let ci = median_ci(&seq(7), 1.0);
        assert_eq!((ci.low, ci.high), (1.0, 7.0));
        assert!((ci.level - (1.0 - 2.0 / 128.0)).abs() < 1e-12);
        let ci = median_ci(&seq(7), f64::NAN);
        assert_eq!((ci.low, ci.high), (1.0, 7.0));
    }

    #[test]
    fn n20_at_99_percent() {
        // Bin(20, .5) CDF: P(B<=3) = (1+20+190+1140)/2^20 = 1351/1048576,
        // P(B<=4) = (1351 + 4845)/2^20 = 6196/1048576.
        // j = 5: 1 - 2 * 6196/1048576 = 0.98818 < 0.99; j = 4: 1 - 2702/1048576 = 0.997423 >= 0.99.
        let ci = median_ci(&seq(20), 0.99);
        assert_eq!((ci.low, ci.high), (4.0, 17.0));
        assert!((ci.level - (1.0 - 2702.0 / 1_048_576.0)).abs() < 1e-12);
    }

    #[test]
    fn coverage_is_minimal_sufficient_for_many_n() {
        // Cross-check against a direct CDF sum from k = 0.
        for n in 1..300_usize {
            let xs = seq(n);
            let ci = median_ci(&xs, 0.95);
            let j = ci.low as usize;
            assert_eq!(ci.high as usize, n - j + 1);
            let tail = |j: usize| -> f64 { (0..j).map(|k| binomial_half_pmf(n, k)).sum() };
            let cov = 1.0 - 2.0 * tail(j);
            assert!((ci.level - cov).abs() < 1e-9, "n = {n}");
            if j > 1 {
                assert!(cov >= 0.95 - 1e-12, "n = {n}");
            }
            if 2 * (j + 1) <= n + 1 {
                assert!(1.0 - 2.0 * tail(j + 1) < 0.95, "n = {n} not narrowest");
            }
        }
    }

    #[test]
    fn large_n_uses_lgamma_and_agrees_with_normal_theory() {
        let n = 1_000_000;
        let xs = seq(n);
        let ci = median_ci(&xs, 0.95);
        // Normal approximation: j ~ n/2 - 1.96 * sqrt(n) / 2 = 500000 - 980 = 499020.
        let j = ci.low as i64;
        assert!((j - 499_020).abs() <= 2, "j = {j}");
        assert!(ci.level >= 0.95 && ci.level < 0.9503);
        // Both pmf branches agree at the switch-over.
        let a = binomial_half_pmf(1000, 480);
        let (nf, kf) = (1000.0_f64, 480.0_f64);
        let b = (libm::lgamma(nf + 1.0)
            - libm::lgamma(kf + 1.0)
            - libm::lgamma(nf - kf + 1.0)
            - nf * std::f64::consts::LN_2)
            .exp();
        assert!((a - b).abs() < 1e-10 * a);
    }
}
