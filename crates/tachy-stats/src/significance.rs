//! Significance tests: the two-sided Mann–Whitney U (Wilcoxon rank-sum) test.

use serde::{Deserialize, Serialize};

use crate::summary::without_nan;

/// Largest `n1 * n2` for which the exact null distribution is used (when there are no ties).
pub const MW_EXACT_MAX_PAIRS: usize = 2500;

/// Result of a two-sided Mann–Whitney U test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MannWhitney {
    /// U statistic of the *first* sample: the number of pairs `(a, b)` with `a > b`, plus 0.5 per
    /// tied pair.
    pub u: f64,
    /// Two-sided p-value, in `[0, 1]`.
    pub p_value: f64,
    /// How the p-value was computed.
    pub method: MwMethod,
}

/// How a Mann–Whitney p-value was computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MwMethod {
    /// Exact null distribution of U (no ties, small samples).
    Exact,
    /// Normal approximation with tie and continuity correction.
    Normal,
}

/// Two-sided Mann–Whitney U test of `a` against `b`. NaN values are dropped first.
///
/// Uses the exact distribution of U (dynamic programming over counts) when there are no ties and
/// `n1 * n2 <= MW_EXACT_MAX_PAIRS` (2500); the p-value is then `2 * P(U <= min(U1, n1*n2 - U1))`.
/// Otherwise uses the normal approximation with tie correction and continuity correction, the
/// same as `scipy.stats.mannwhitneyu(a, b, method="asymptotic", use_continuity=True)`:
/// `z = (max(U1, U2) - n1*n2/2 - 0.5) / sigma`, `p = 2 * (1 - Phi(z))`.
///
/// An empty sample on either side gives `u = 0`, `p_value = 1` (method `Exact`). When every value
/// is tied (sigma = 0) the p-value is 1. The p-value is clipped to `[0, 1]`.
pub fn mann_whitney_u(a: &[f64], b: &[f64]) -> MannWhitney {
    let a = without_nan(a);
    let b = without_nan(b);
    let (n1, n2) = (a.len(), b.len());
    if n1 == 0 || n2 == 0 {
        return MannWhitney { u: 0.0, p_value: 1.0, method: MwMethod::Exact };
    }
    let ranks = rank_sum(&a, &b);
    let (n1f, n2f) = (n1 as f64, n2 as f64);
    let pairs = n1f * n2f;
    let u = ranks.rank_sum_a - n1f * (n1f + 1.0) / 2.0;

    if !ranks.has_ties && n1.saturating_mul(n2) <= MW_EXACT_MAX_PAIRS {
        let dist = u_distribution(n1.min(n2), n1.max(n2));
        let total: f64 = dist.iter().sum();
        // Without ties U is an integer in 0..=n1*n2, exactly representable.
        let k = u.min(pairs - u).round() as usize;
        let lower_tail: f64 = dist[..=k.min(dist.len() - 1)].iter().sum();
        return MannWhitney { u, p_value: (2.0 * lower_tail / total).clamp(0.0, 1.0), method: MwMethod::Exact };
    }

    let n = n1f + n2f;
    let var = pairs / 12.0 * ((n + 1.0) - ranks.tie_term / (n * (n - 1.0)));
    let p_value = if var > 0.0 {
        let z = (u.max(pairs - u) - pairs / 2.0 - 0.5) / var.sqrt();
        // 2 * sf(z) = erfc(z / sqrt 2)
        libm::erfc(z / std::f64::consts::SQRT_2)
    } else {
        1.0
    };
    MannWhitney { u, p_value: if p_value.is_nan() { 1.0 } else { p_value.clamp(0.0, 1.0) }, method: MwMethod::Normal }
}

/// Midrank information of the pooled sample.
struct Ranks {
    /// Sum of the (mid)ranks of the first sample, ranks starting at 1.
    rank_sum_a: f64,
    /// `sum(t^3 - t)` over groups of `t` tied values.
    tie_term: f64,
    /// Whether any two pooled values are equal.
    has_ties: bool,
}

/// Ranks the pooled NaN-free samples (ties get the mean of their ranks).
fn rank_sum(a: &[f64], b: &[f64]) -> Ranks {
    let mut pooled: Vec<(f64, bool)> = a.iter().map(|&x| (x, true)).chain(b.iter().map(|&x| (x, false))).collect();
    pooled.sort_unstable_by(|x, y| x.0.total_cmp(&y.0));
    let mut ranks = Ranks { rank_sum_a: 0.0, tie_term: 0.0, has_ties: false };
    // Group equal values with `==` (so -0.0 and 0.0 tie; total_cmp puts them next to each other).
    let mut start = 0;
    for group in pooled.chunk_by(|x, y| x.0 == y.0) {
        let t = group.len();
        // The group occupies ranks start+1 ..= start+t, whose mean is start + (t + 1) / 2.
        let mid_rank = start as f64 + (t as f64 + 1.0) / 2.0;
        let in_a = group.iter().filter(|x| x.1).count();
        ranks.rank_sum_a += mid_rank * in_a as f64;
        if t > 1 {
            let tf = t as f64;
            ranks.tie_term += tf * tf * tf - tf;
            ranks.has_ties = true;
        }
        start += t;
    }
    ranks
}

/// Null distribution of U for sample sizes `m <= n` without ties: entry `u` is the number of
/// orderings of the pooled sample that give `U = u` (as f64; all additions of non-negative
/// numbers, so only relative rounding error). Length `m * n + 1`.
///
/// Recurrence on the largest pooled value: it belongs to the first sample (then it beats all `j`
/// values of the second: `f(i, j)(u) = f(i-1, j)(u - j)`) or to the second (`f(i, j-1)(u)`).
/// `row[i]` holds `f(i, j)` for the current `j`. Cost `O(m^2 n^2 / 4)` additions.
fn u_distribution(m: usize, n: usize) -> Vec<f64> {
    let mut row: Vec<Vec<f64>> = vec![vec![1.0]; m + 1];
    for j in 1..=n {
        for i in 1..=m {
            let (done, rest) = row.split_at_mut(i);
            let prev = &done[i - 1]; // f(i-1, j), length (i-1)*j + 1
            let cur = &mut rest[0]; // f(i, j-1), length i*(j-1) + 1
            cur.resize(i * j + 1, 0.0);
            for (u, &c) in prev.iter().enumerate() {
                cur[u + j] += c;
            }
        }
    }
    row.pop().unwrap_or_else(|| vec![1.0])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1e-300)
    }

    #[test]
    fn exact_complete_separation_3_vs_3() {
        // U = 0; C(6, 3) = 20 orderings, only one has U = 0: p = 2 * 1/20 = 0.1
        let r = mann_whitney_u(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]);
        assert_eq!(r.u, 0.0);
        assert_eq!(r.method, MwMethod::Exact);
        assert!(close(r.p_value, 0.1, 1e-14));
        // Swapping sides: U = 9, same p.
        let r = mann_whitney_u(&[4.0, 5.0, 6.0], &[1.0, 2.0, 3.0]);
        assert_eq!(r.u, 9.0);
        assert!(close(r.p_value, 0.1, 1e-14));
    }

    #[test]
    fn exact_complete_separation_5_vs_5() {
        // C(10, 5) = 252: p = 2/252 = 0.007936507936507936
        let r = mann_whitney_u(&[1.0, 2.0, 3.0, 4.0, 5.0], &[6.0, 7.0, 8.0, 9.0, 10.0]);
        assert_eq!((r.u, r.method), (0.0, MwMethod::Exact));
        assert!(close(r.p_value, 2.0 / 252.0, 1e-14));
        assert!(close(r.p_value, 0.007_936_508, 1e-7));
    }

    #[test]
    fn exact_with_overlap() {
        // a > b pairs: 1 -> 0, 3 -> 1, 5 -> 2, 7 -> 3: U = 6 of n1*n2 = 20.
        // P(U <= 6) for (4, 5) = 26/126 (partitions of u <= 6 into <= 4 parts each <= 5:
        // 1+1+2+3+5+6+8); p = 52/126 = 0.41269841... (scipy method="exact": 0.4126984126984127)
        let r = mann_whitney_u(&[1.0, 3.0, 5.0, 7.0], &[2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!((r.u, r.method), (6.0, MwMethod::Exact));
        assert!(close(r.p_value, 52.0 / 126.0, 1e-14));

        // a > b pairs: 19 -> 3, 22 -> 4, 16 -> 2, 29 -> 4, 24 -> 4: U = 17 of 20; min(17, 3) = 3;
        // P(U <= 3) = (1 + 1 + 2 + 3)/126; p = 14/126 = 0.1111 (scipy exact: 0.1111111111111111)
        let r = mann_whitney_u(&[19.0, 22.0, 16.0, 29.0, 24.0], &[20.0, 11.0, 17.0, 12.0]);
        assert_eq!((r.u, r.method), (17.0, MwMethod::Exact));
        assert!(close(r.p_value, 14.0 / 126.0, 1e-14));
    }

    #[test]
    fn exact_at_size_limit_matches_scipy() {
        // 50 x 50 = 2500 pairs, 100 distinct values: still exact.
        let a: Vec<f64> = (0..50).map(|i| ((i * 37) % 101) as f64).collect();
        let b: Vec<f64> = (0..50).map(|i| ((i * 53) % 103) as f64 + 0.5).collect();
        let r = mann_whitney_u(&a, &b);
        // scipy.stats.mannwhitneyu(a, b, method="exact") -> U = 1335, p = 0.5617888928214886
        assert_eq!((r.u, r.method), (1335.0, MwMethod::Exact));
        assert!(close(r.p_value, 0.561_788_892_821_488_6, 1e-10));
    }

    #[test]
    fn u_distribution_small_table() {
        // m = 2, n = 2: U in 0..=4 with counts 1 1 2 1 1 (C(4,2) = 6)
        assert_eq!(u_distribution(2, 2), vec![1.0, 1.0, 2.0, 1.0, 1.0]);
        assert_eq!(u_distribution(0, 3), vec![1.0]);
        assert_eq!(u_distribution(1, 3), vec![1.0; 4]);
        // total is C(m + n, m)
        let d = u_distribution(10, 12);
        assert_eq!(d.iter().sum::<f64>(), 646_646.0);
    }

    #[test]
    fn normal_with_ties_tiny() {
        // pooled sorted: 1a 2a 2a 2b 3b 4b; ranks 1, (2+3+4)/3 = 3 (x3), 5, 6
        // R1 = 1 + 3 + 3 = 7; U1 = 7 - 3*4/2 = 1; U2 = 9 - 1 = 8; mu = 4.5
        // tie term: 3^3 - 3 = 24; N = 6: var = 9/12 * (7 - 24/30) = 0.75 * 6.2 = 4.65
        // z = (8 - 4.5 - 0.5) / sqrt(4.65) = 3 / 2.1563859 = 1.3912167
        // p = 2 * sf(1.3912167) = 0.16415972847851523 (scipy asymptotic)
        let r = mann_whitney_u(&[1.0, 2.0, 2.0], &[2.0, 3.0, 4.0]);
        assert_eq!((r.u, r.method), (1.0, MwMethod::Normal));
        assert!(close(r.p_value, 0.164_159_728_478_515_23, 1e-10));
    }

    #[test]
    fn normal_with_ties() {
        // pooled: 1a | 2a 2a | 3a 3a 3a 3b | 4a 4b 4b | 5b 5b | 6b
        // midranks: 1 | 2.5 | 5.5 | 9 | 11.5 | 13
        // R1 = 1 + 2*2.5 + 3*5.5 + 9 = 31.5; U1 = 31.5 - 7*8/2 = 3.5; U2 = 42 - 3.5 = 38.5
        // ties: (8-2) + (64-4) + (27-3) + (8-2) = 96; N = 13
        // var = 42/12 * (14 - 96/156) = 3.5 * 13.384615 = 46.846154; sigma = 6.8444250
        // z = (38.5 - 21 - 0.5) / 6.8444250 = 2.4837835; p = 2 * sf(z) = 0.012999854364387305
        let r = mann_whitney_u(&[1.0, 2.0, 2.0, 3.0, 3.0, 3.0, 4.0], &[3.0, 4.0, 4.0, 5.0, 5.0, 6.0]);
        assert_eq!((r.u, r.method), (3.5, MwMethod::Normal));
        assert!(close(r.p_value, 0.012_999_854_364_387_305, 1e-10));
    }

    #[test]
    fn normal_large_without_ties() {
        // a = 0..60, b = 20.5..80.5: a_i beats b_j iff j <= i - 21, so U1 = sum_{k=1}^{39} k = 780.
        // 60 * 60 = 3600 > 2500 -> normal. mu = 1800, sigma = sqrt(3600 * 121 / 12) = sqrt(36300);
        // z = (2820 - 1800 - 0.5) / 190.52559 = 5.3509426; p = 8.747567722893498e-08 (scipy)
        let a: Vec<f64> = (0..60).map(f64::from).collect();
        let b: Vec<f64> = (0..60).map(|i| f64::from(i) + 20.5).collect();
        let r = mann_whitney_u(&a, &b);
        assert_eq!((r.u, r.method), (780.0, MwMethod::Normal));
        assert!(close(r.p_value, 8.747_567_722_893_498e-8, 1e-8));
    }

    #[test]
    fn normal_close_to_exact_at_size_limit() {
        // Same data as `exact_at_size_limit_matches_scipy`, asymptotic p from scipy: 0.5602112355080962.
        // Adding a NaN does not change anything; a duplicated value forces the normal method.
        let a: Vec<f64> = (0..50).map(|i| ((i * 37) % 101) as f64).collect();
        let mut b: Vec<f64> = (0..50).map(|i| ((i * 53) % 103) as f64 + 0.5).collect();
        b.push(f64::NAN);
        assert_eq!(mann_whitney_u(&a, &b).method, MwMethod::Exact);
        let mut a2 = a.clone();
        a2.push(a[0]);
        let r = mann_whitney_u(&a2, &b);
        assert_eq!(r.method, MwMethod::Normal);
        assert!(r.p_value > 0.4 && r.p_value < 0.7);
    }

    #[test]
    fn degenerate_inputs() {
        let r = mann_whitney_u(&[], &[1.0, 2.0]);
        assert_eq!((r.u, r.p_value), (0.0, 1.0));
        let r = mann_whitney_u(&[1.0], &[]);
        assert_eq!((r.u, r.p_value), (0.0, 1.0));
        let r = mann_whitney_u(&[f64::NAN], &[1.0]);
        assert_eq!((r.u, r.p_value), (0.0, 1.0));
        // 1 vs 1: U = 0, p = 2 * 1/2 = 1
        let r = mann_whitney_u(&[1.0], &[2.0]);
        assert_eq!((r.u, r.p_value, r.method), (0.0, 1.0, MwMethod::Exact));
        // all tied: sigma = 0 -> p = 1; U = 5 * 4 / 2 = 10
        let r = mann_whitney_u(&[1.0; 5], &[1.0; 4]);
        assert_eq!((r.u, r.p_value, r.method), (10.0, 1.0, MwMethod::Normal));
        // identical samples: U = n1 n2 / 2, p clipped to 1
        let r = mann_whitney_u(&[1.0, 2.0, 3.0, 4.0], &[1.0, 2.0, 3.0, 4.0]);
        assert_eq!((r.u, r.p_value), (8.0, 1.0));
        // -0.0 and 0.0 are tied: U = 0.5
        let r = mann_whitney_u(&[-0.0], &[0.0]);
        assert_eq!(r.u, 0.5);
        // infinities rank normally
        let r = mann_whitney_u(&[f64::INFINITY, 5.0], &[f64::NEG_INFINITY, 1.0]);
        assert_eq!(r.u, 4.0);
    }

    #[test]
    fn u_counts_pairs_with_half_ties() {
        // pairs: 3 > 1, 3 > 2, 3 = 3 (0.5), 2 > 1, 2 = 2 (0.5) -> 4.0
        let r = mann_whitney_u(&[3.0, 2.0], &[1.0, 2.0, 3.0]);
        assert_eq!(r.u, 4.0);
    }
}
