//! Comparison of a candidate sample against a reference sample: median ratio plus significance.

use serde::{Deserialize, Serialize};

use crate::bootstrap::{DEFAULT_RESAMPLES, RatioEstimate, median_ratio};
use crate::significance::{MannWhitney, mann_whitney_u};

/// Default significance level for [`compare`].
pub const DEFAULT_ALPHA: f64 = 0.05;

/// Confidence level of the ratio interval computed by [`compare`].
pub const COMPARE_CI_LEVEL: f64 = 0.95;

/// Fixed bootstrap seed used by [`compare`], so that comparisons are reproducible.
pub const COMPARE_SEED: u64 = 0x7AC4;

/// Verdict of comparing a candidate against a reference sample (times: smaller is faster).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// `median(candidate) / median(reference)` with a 95% bootstrap CI; `> 1` means the candidate
    /// is slower.
    pub ratio: RatioEstimate,
    /// `mann_whitney_u(candidate, reference)`.
    pub test: MannWhitney,
    /// Significance level the verdict was made at.
    pub alpha: f64,
    /// `test.p_value < alpha`.
    pub significant: bool,
}

/// Compares `candidate` against `reference`: the ratio of medians with a 95% percentile bootstrap
/// CI ([`DEFAULT_RESAMPLES`] resamples, seed [`COMPARE_SEED`]) and a two-sided Mann–Whitney U test.
///
/// Returns `None` when either sample is empty (after dropping NaN) or `median(reference) <= 0`.
pub fn compare(reference: &[f64], candidate: &[f64], alpha: f64) -> Option<Comparison> {
    let ratio = median_ratio(candidate, reference, DEFAULT_RESAMPLES, COMPARE_CI_LEVEL, COMPARE_SEED)?;
    let test = mann_whitney_u(candidate, reference);
    Some(Comparison { ratio, test, alpha, significant: test.p_value < alpha })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::significance::MwMethod;

    #[test]
    fn clearly_slower_candidate() {
        let reference = [1.0, 1.1, 0.9, 1.05, 0.95, 1.02, 0.98, 1.01];
        let candidate: Vec<f64> = reference.iter().map(|x| x * 2.0).collect();
        let c = compare(&reference, &candidate, DEFAULT_ALPHA).expect("valid");
        // medians: reference (1.0 + 1.01) / 2 = 1.005, candidate twice that.
        assert!((c.ratio.ratio - 2.0).abs() < 1e-12);
        assert!(c.ratio.ci.low > 1.5 && c.ratio.ci.high < 2.5);
        // 8 vs 8, no ties, complete separation: U = 64 (first sample = candidate),
        // p = 2 / C(16, 8) = 2 / 12870
        assert_eq!(c.test.u, 64.0);
        assert_eq!(c.test.method, MwMethod::Exact);
        assert!((c.test.p_value - 2.0 / 12870.0).abs() < 1e-15);
        assert!(c.significant);
        assert_eq!(c.alpha, DEFAULT_ALPHA);
    }

    #[test]
    fn identical_samples_are_not_significant() {
        let xs = [3.0, 3.2, 2.9, 3.1, 3.05];
        let c = compare(&xs, &xs, DEFAULT_ALPHA).expect("valid");
        assert_eq!(c.ratio.ratio, 1.0);
        assert!(c.ratio.ci.low <= 1.0 && 1.0 <= c.ratio.ci.high);
        assert_eq!(c.test.p_value, 1.0);
        assert!(!c.significant);
    }

    #[test]
    fn reproducible_and_matches_parts() {
        let reference = [5.0, 5.5, 6.0, 5.2, 5.8, 6.1, 5.9];
        let candidate = [5.1, 5.3, 6.2, 5.0, 5.7, 6.3];
        let c1 = compare(&reference, &candidate, 0.01).expect("valid");
        let c2 = compare(&reference, &candidate, 0.01).expect("valid");
        assert_eq!(c1, c2);
        let r = median_ratio(&candidate, &reference, DEFAULT_RESAMPLES, 0.95, 0x7AC4);
        assert_eq!(Some(c1.ratio), r);
        assert_eq!(c1.test, mann_whitney_u(&candidate, &reference));
        assert_eq!(c1.significant, c1.test.p_value < 0.01);
    }

    #[test]
    fn invalid_inputs() {
        assert_eq!(compare(&[], &[1.0], DEFAULT_ALPHA), None);
        assert_eq!(compare(&[1.0], &[], DEFAULT_ALPHA), None);
        assert_eq!(compare(&[0.0], &[1.0], DEFAULT_ALPHA), None);
        assert_eq!(compare(&[f64::NAN], &[1.0], DEFAULT_ALPHA), None);
    }
}
