//! Statistics for tachy: descriptive summaries, robust estimators, confidence intervals,
//! significance tests and bootstrap comparisons of benchmark samples, and the change of a share
//! of profile samples with autocorrelated samples ([`share`]: paired batch means, Student's t,
//! Bonferroni).
//!
//! All functions are pure: they never print, exit or panic on user data. NaN values are dropped
//! before any computation (except [`percentile`] and [`median_ci`], which take data that is
//! already sorted and NaN-free); sorting uses [`f64::total_cmp`].
//!
//! Main entry points: [`summarize`] for one sample, [`compare`] for a candidate against a
//! reference.

mod bootstrap;
pub mod changepoint;
mod ci;
mod compare;
mod robust;
pub mod share;
mod significance;
mod summary;
mod trend;

pub use bootstrap::{BOOTSTRAP_SELECT_MAX, DEFAULT_RESAMPLES, RatioEstimate, median_ratio};
pub use ci::{ConfidenceInterval, median_ci};
pub use compare::{COMPARE_CI_LEVEL, COMPARE_SEED, Comparison, DEFAULT_ALPHA, compare};
pub use robust::{OUTLIER_THRESHOLD, mad, modified_z_scores, outliers};
pub use significance::{MW_EXACT_MAX_PAIRS, MannWhitney, MwMethod, mann_whitney_u};
pub use summary::{SUMMARY_CI_LEVEL, Summary, mean, median, percentile, stddev, summarize};
pub use trend::{Trend, theil_sen};
