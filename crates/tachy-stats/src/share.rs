//! The change of a share of samples between two sampled profiles, when samples are
//! autocorrelated: paired batch means, Student's t, and a Bonferroni correction.
//!
//! # Why not the textbook interval
//!
//! A function's share is the fraction of samples that saw it. Treating the samples as
//! independent draws gives the Wald variance `p(1-p)/n`, but a profiler's samples are a time
//! series: a function that runs for 200 ms fills 20 consecutive samples at 100 Hz, and the
//! variance of a mean of correlated values is `σ²/n · (1 + 2 Σ ρₖ)`, larger than `σ²/n` by the
//! sum of the autocorrelations. The Wald interval is then too narrow, and a comparison of two
//! runs of unchanged code calls changes that are noise.
//!
//! # Batch means
//!
//! Each profile's timeline is cut into [`DEFAULT_BATCHES`] contiguous batches of equal sample
//! counts. When a batch is much longer than the correlation time, the shares of the batches
//! are close to independent, so their spread measures the variance of the overall share *with*
//! the autocorrelation included, without modelling it ([`batch_means`], the classic estimator
//! of simulation output analysis). With `B` batches the standardised mean follows Student's t
//! with `B - 1` degrees of freedom.
//!
//! # Pairing the batches of the two profiles
//!
//! A program runs through phases (start-up, parsing, formatting, ...) in which a function's
//! share differs a lot. Unpaired batch means count that spread as noise although both runs go
//! through the same phases. [`share_difference`] therefore pairs batch `b` of one profile
//! with batch `b` of the other (the same fraction of the run) and takes the variance of the
//! `B` differences: the phases both runs share cancel, and what is left is sampling noise,
//! autocorrelation and the timing differences between the runs. When the two profiles do not
//! share phases (two windows of a server), the pairing is arbitrary, and the variance of
//! differences of independent batches is still the sum of both variances: the estimate stays
//! valid, only less tight.
//!
//! # What one run per side cannot show
//!
//! The variance is estimated inside each run. A difference that affects a whole run (another
//! input, a cold disk cache, a different machine) is not visible from one run per side; this is
//! why callers also require a minimum change before calling one, and why a gate threshold is
//! in percentage points, not just "significant".
//!
//! # Many functions at once
//!
//! A diff tests hundreds of functions; at 95% each, a few would be flagged by chance in every
//! comparison. [`bonferroni_level`] turns the family's confidence into the per-test one, so
//! that with 95% confidence *all* the intervals of the family hold at once, and a comparison
//! of two runs of unchanged code flags nothing in 19 cases out of 20 however many functions
//! it tests. Only the tests actually made count in the family (functions with too few samples
//! are not tested), which keeps the correction from costing more power than needed.

/// Batches per profile: 30 keeps the t quantile close to the normal one (29 degrees of
/// freedom) while each batch stays long (a tenth of a 3 s run at 100 Hz is 10 samples).
pub const DEFAULT_BATCHES: usize = 30;

/// Fewest samples per batch for the batch shares to mean anything: a profile needs
/// `DEFAULT_BATCHES * MIN_BATCH_SAMPLES` samples for [`share_difference`] to be used.
pub const MIN_BATCH_SAMPLES: usize = 10;

/// The batch (0-based) of sample `i` of `n` cut into `batches` contiguous batches whose sizes
/// differ by at most one sample.
pub fn batch_index(i: usize, n: usize, batches: usize) -> usize {
    if n == 0 || batches == 0 { 0 } else { ((i as u128 * batches as u128) / n as u128) as usize }
}

/// Sizes of the `batches` contiguous batches of `n` samples (see [`batch_index`]).
pub fn batch_sizes(n: usize, batches: usize) -> Vec<u64> {
    let mut sizes = vec![0u64; batches];
    if batches == 0 {
        return sizes;
    }
    for (b, size) in sizes.iter_mut().enumerate() {
        // First index of batch b is ceil(b n / B).
        let start = (b * n).div_ceil(batches);
        let end = ((b + 1) * n).div_ceil(batches);
        *size = (end - start) as u64;
    }
    sizes
}

/// The mean of a series and the variance of that mean by non-overlapping batch means.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BatchMeans {
    /// Mean of the whole series.
    pub mean: f64,
    /// Estimated variance of `mean`: the sample variance of the batch means over the number
    /// of batches.
    pub variance_of_mean: f64,
    /// Degrees of freedom of the estimate (batches - 1).
    pub df: f64,
}

/// Batch-means estimate for `values` cut into `batches` contiguous batches; `None` with fewer
/// than 2 batches or fewer values than batches.
pub fn batch_means(values: &[f64], batches: usize) -> Option<BatchMeans> {
    let n = values.len();
    if batches < 2 || n < batches {
        return None;
    }
    let sizes = batch_sizes(n, batches);
    let mut means = Vec::with_capacity(batches);
    let mut start = 0usize;
    for &size in &sizes {
        let end = start + size as usize;
        means.push(values[start..end].iter().sum::<f64>() / size as f64);
        start = end;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    Some(BatchMeans { mean, variance_of_mean: sample_variance(&means) / batches as f64, df: (batches - 1) as f64 })
}

fn sample_variance(xs: &[f64]) -> f64 {
    let n = xs.len() as f64;
    let m = xs.iter().sum::<f64>() / n;
    xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1.0)
}

/// How many samples of each batch saw the thing counted (`hits`) out of how many samples the
/// batch has (`sizes`); both of the same length.
#[derive(Debug, Clone, Copy)]
pub struct BatchCounts<'a> {
    /// Samples per batch that saw it.
    pub hits: &'a [u64],
    /// Samples per batch.
    pub sizes: &'a [u64],
}

impl BatchCounts<'_> {
    fn total(&self) -> (u64, u64) {
        (self.hits.iter().sum(), self.sizes.iter().sum())
    }
}

/// The change of a share between two profiles with its paired batch-means standard error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShareDifference {
    /// Share in the first profile (hits / samples).
    pub before: f64,
    /// Share in the second profile.
    pub after: f64,
    /// `after - before`.
    pub delta: f64,
    /// Standard error of `delta`: standard deviation of the per-batch differences over √B.
    pub std_error: f64,
    /// Degrees of freedom (B - 1).
    pub df: f64,
}

impl ShareDifference {
    /// Two-sided p-value of "no change" (Student's t with `df` degrees of freedom).
    pub fn p_value(&self) -> f64 {
        if self.std_error > 0.0 {
            student_t_two_sided(self.delta / self.std_error, self.df)
        } else if self.delta == 0.0 {
            1.0
        } else {
            0.0
        }
    }

    /// Two-sided interval of `delta` at confidence `level` (e.g. from [`bonferroni_level`]).
    pub fn interval(&self, level: f64) -> (f64, f64) {
        let half = student_t_quantile(0.5 + level.clamp(0.0, 1.0) / 2.0, self.df) * self.std_error;
        (self.delta - half, self.delta + half)
    }
}

/// The change from `before` to `after` of a share counted per batch, with the standard error
/// of the paired batch differences (batch `b` of one profile against batch `b` of the other;
/// see the module documentation). `None` when the batch counts differ in number, there are
/// fewer than 2 batches, or a batch is empty.
pub fn share_difference(before: BatchCounts<'_>, after: BatchCounts<'_>) -> Option<ShareDifference> {
    let b = before.sizes.len();
    if b < 2 || before.hits.len() != b || after.hits.len() != b || after.sizes.len() != b {
        return None;
    }
    if before.sizes.iter().chain(after.sizes).any(|&s| s == 0) {
        return None;
    }
    let diffs: Vec<f64> = (0..b)
        .map(|i| after.hits[i] as f64 / after.sizes[i] as f64 - before.hits[i] as f64 / before.sizes[i] as f64)
        .collect();
    let (k1, n1) = before.total();
    let (k2, n2) = after.total();
    let (p1, p2) = (k1 as f64 / n1 as f64, k2 as f64 / n2 as f64);
    let std_error = (sample_variance(&diffs) / b as f64).max(0.0).sqrt();
    Some(ShareDifference { before: p1, after: p2, delta: p2 - p1, std_error, df: (b - 1) as f64 })
}

/// The per-test confidence level that gives `family_level` for all of `tests` intervals at
/// once (Bonferroni): `1 - (1 - family_level) / tests`.
pub fn bonferroni_level(family_level: f64, tests: usize) -> f64 {
    1.0 - (1.0 - family_level.clamp(0.0, 1.0)) / tests.max(1) as f64
}

/// `P(|T| >= |t|)` for Student's t with `df` degrees of freedom.
pub fn student_t_two_sided(t: f64, df: f64) -> f64 {
    if t.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if t.is_infinite() {
        return 0.0;
    }
    let x = df / (df + t * t);
    regularized_beta(x, df / 2.0, 0.5).clamp(0.0, 1.0)
}

/// `P(T <= t)` for Student's t with `df` degrees of freedom.
pub fn student_t_cdf(t: f64, df: f64) -> f64 {
    let tail = student_t_two_sided(t, df) / 2.0;
    if t >= 0.0 { 1.0 - tail } else { tail }
}

/// The `p` quantile of Student's t with `df` degrees of freedom (bisection on the CDF, to
/// 1e-12); infinite at `p` 0 or 1, NaN outside [0, 1].
pub fn student_t_quantile(p: f64, df: f64) -> f64 {
    if !(0.0..=1.0).contains(&p) || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if p == 0.0 {
        return f64::NEG_INFINITY;
    }
    if p == 1.0 {
        return f64::INFINITY;
    }
    if p < 0.5 {
        return -student_t_quantile(1.0 - p, df);
    }
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    while student_t_cdf(hi, df) < p {
        hi *= 2.0;
        if hi > 1e12 {
            return hi;
        }
    }
    for _ in 0..200 {
        let mid = (lo + hi) / 2.0;
        if student_t_cdf(mid, df) < p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-12 * hi.max(1.0) {
            break;
        }
    }
    (lo + hi) / 2.0
}

/// The regularized incomplete beta function `I_x(a, b)` (continued fraction, as in Numerical
/// Recipes' `betai`).
fn regularized_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = libm::lgamma(a + b) - libm::lgamma(a) - libm::lgamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = ln_front.exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_continued_fraction(x, a, b) / a
    } else {
        1.0 - front * beta_continued_fraction(1.0 - x, b, a) / b
    }
}

fn beta_continued_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let away_from_zero = |v: f64| if v.abs() < TINY { TINY } else { v };
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 / away_from_zero(1.0 - qab * x / qap);
    let mut h = d;
    // One step of Lentz's method with the coefficient `aa`: returns the factor applied to `h`.
    let step = |aa: f64, c: &mut f64, d: &mut f64| {
        *d = 1.0 / away_from_zero(1.0 + aa * *d);
        *c = away_from_zero(1.0 + aa / *c);
        *d * *c
    };
    for m in 1..=300 {
        let m = m as f64;
        let m2 = 2.0 * m;
        h *= step(m * (b - m) * x / ((qam + m2) * (a + m2)), &mut c, &mut d);
        let del = step(-(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)), &mut c, &mut d);
        h *= del;
        if (del - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn t_quantiles_match_tables() {
        // Values from R's qt / pt.
        assert!(close(student_t_quantile(0.975, 10.0), 2.228_138_9, 1e-6));
        assert!(close(student_t_quantile(0.975, 29.0), 2.045_229_6, 1e-6));
        assert!(close(student_t_quantile(0.995, 5.0), 4.032_142_9, 1e-6));
        assert!(close(student_t_quantile(0.999, 29.0), 3.396_240_3, 1e-6));
        assert!(close(student_t_quantile(0.025, 10.0), -2.228_138_9, 1e-6));
        assert!(close(student_t_quantile(0.975, 1e7), 1.959_964, 1e-5));
        assert!(close(student_t_cdf(1.0, 1.0), 0.75, 1e-12), "Cauchy");
        assert!(close(student_t_two_sided(2.0, 4.0), 0.116_117_3, 1e-6));
        assert!(close(student_t_quantile(0.5, 7.0), 0.0, 1e-9));
        assert!(student_t_quantile(1.2, 7.0).is_nan());
    }

    #[test]
    fn batches_cover_the_series() {
        let sizes = batch_sizes(103, 10);
        assert_eq!(sizes.iter().sum::<u64>(), 103);
        assert!(sizes.iter().all(|&s| s == 10 || s == 11));
        let mut counted = vec![0u64; 10];
        for i in 0..103 {
            counted[batch_index(i, 103, 10)] += 1;
        }
        assert_eq!(counted, sizes);
    }

    #[test]
    fn batch_means_by_hand() {
        // Batches [1, 1], [0, 0], [1, 0]: means 1, 0, 0.5; variance 0.25; of the mean 0.25 / 3.
        let m = batch_means(&[1.0, 1.0, 0.0, 0.0, 1.0, 0.0], 3).unwrap();
        assert!(close(m.mean, 0.5, 1e-12));
        assert!(close(m.variance_of_mean, 0.25 / 3.0, 1e-12));
        assert_eq!(m.df, 2.0);
        assert!(batch_means(&[1.0], 3).is_none());
    }

    #[test]
    fn share_difference_by_hand() {
        // Batch differences 0.1, 0.3, 0.2: mean 0.2, sd 0.1, se 0.1 / √3.
        let sizes = [10, 10, 10];
        let d = share_difference(
            BatchCounts { hits: &[1, 1, 1], sizes: &sizes },
            BatchCounts { hits: &[2, 4, 3], sizes: &sizes },
        )
        .unwrap();
        assert!(close(d.delta, 0.2, 1e-12));
        assert!(close(d.std_error, 0.1 / 3f64.sqrt(), 1e-12));
        let (lo, hi) = d.interval(0.95);
        assert!(close(hi - d.delta, 4.302_652_7 * 0.1 / 3f64.sqrt(), 1e-6), "t(0.975, 2) = 4.3027");
        assert!(close(lo + hi, 0.4, 1e-12));
        assert!(
            share_difference(BatchCounts { hits: &[1], sizes: &[1] }, BatchCounts { hits: &[1], sizes: &[1] })
                .is_none()
        );
    }

    #[test]
    fn bonferroni_divides_the_error() {
        assert!(close(bonferroni_level(0.95, 10), 0.995, 1e-12));
        assert!(close(bonferroni_level(0.95, 0), 0.95, 1e-12));
    }

    /// A sticky two-state timeline: the function is running or not, and each sample keeps the
    /// previous state with probability `stay` (mean run length 1 / (1 - stay) samples), with a
    /// long-run share of one half.
    fn sticky(rng: &mut StdRng, n: usize, stay: f64) -> Vec<bool> {
        let mut on = rng.random_bool(0.5);
        (0..n)
            .map(|_| {
                if !rng.random_bool(stay) {
                    on = !on;
                }
                on
            })
            .collect()
    }

    fn counts(series: &[bool], batches: usize) -> (Vec<u64>, Vec<u64>) {
        let mut hits = vec![0u64; batches];
        for (i, &on) in series.iter().enumerate() {
            hits[batch_index(i, series.len(), batches)] += u64::from(on);
        }
        (hits, batch_sizes(series.len(), batches))
    }

    /// A/A comparisons of autocorrelated timelines (runs of ~20 samples): the Wald interval,
    /// which assumes independent samples, misses the true difference (0) far more often than
    /// 5%; the paired batch-means interval keeps close to its 95%.
    #[test]
    fn batch_means_hold_their_level_on_autocorrelated_samples() {
        let mut rng = StdRng::seed_from_u64(16);
        let (reps, n) = (400, 3000);
        let (mut wald_misses, mut batch_misses) = (0, 0);
        for _ in 0..reps {
            let a = sticky(&mut rng, n, 0.95);
            let b = sticky(&mut rng, n, 0.95);
            let (ha, sa) = counts(&a, DEFAULT_BATCHES);
            let (hb, sb) = counts(&b, DEFAULT_BATCHES);
            let d =
                share_difference(BatchCounts { hits: &ha, sizes: &sa }, BatchCounts { hits: &hb, sizes: &sb }).unwrap();
            let (lo, hi) = d.interval(0.95);
            batch_misses += usize::from(lo > 0.0 || hi < 0.0);
            let wald = 1.96 * (d.before * (1.0 - d.before) / n as f64 + d.after * (1.0 - d.after) / n as f64).sqrt();
            wald_misses += usize::from(d.delta.abs() > wald);
        }
        assert!(wald_misses > reps / 4, "Wald: {wald_misses} of {reps} A/A intervals miss 0");
        assert!(batch_misses <= reps / 10, "batch means: {batch_misses} of {reps} miss 0");
    }

    /// Phases that both runs share (a function busy in the first half only) cancel in the
    /// paired differences; unpaired batch means would count them as noise.
    #[test]
    fn pairing_removes_shared_phases() {
        let mut rng = StdRng::seed_from_u64(3);
        let n = 3000;
        let phased = |rng: &mut StdRng| -> Vec<bool> {
            (0..n).map(|i| rng.random_bool(if i < n / 2 { 0.6 } else { 0.0 })).collect()
        };
        let (a, b) = (phased(&mut rng), phased(&mut rng));
        let (ha, sa) = counts(&a, DEFAULT_BATCHES);
        let (hb, sb) = counts(&b, DEFAULT_BATCHES);
        let paired =
            share_difference(BatchCounts { hits: &ha, sizes: &sa }, BatchCounts { hits: &hb, sizes: &sb }).unwrap();
        let f = |s: &[bool]| s.iter().map(|&x| f64::from(u8::from(x))).collect::<Vec<_>>();
        let unpaired = (batch_means(&f(&a), DEFAULT_BATCHES).unwrap().variance_of_mean
            + batch_means(&f(&b), DEFAULT_BATCHES).unwrap().variance_of_mean)
            .sqrt();
        assert!(paired.std_error * 3.0 < unpaired, "paired {} vs unpaired {unpaired}", paired.std_error);
    }
}
