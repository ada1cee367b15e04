//! Robust statistics: median absolute deviation, modified Z-scores and outlier detection
//! (Iglewicz & Hoaglin).

use crate::summary::{select_median, without_nan};

/// Default threshold on `|modified Z|` above which a value is an outlier (Iglewicz & Hoaglin).
pub const OUTLIER_THRESHOLD: f64 = 3.5;

/// `0.6745 ≈ Φ⁻¹(0.75)`: makes `MAD / 0.6745` a consistent estimator of σ for normal data.
const MAD_FACTOR: f64 = 0.6745;

/// `1.253314 ≈ sqrt(π/2)`: makes `1.253314 * meanAD` a consistent estimator of σ for normal data.
const MEAN_AD_FACTOR: f64 = 1.253314;

/// Median absolute deviation, unscaled: `median(|x - median(x)|)`, over the non-NaN values.
/// NaN when there are none. Linear time.
pub fn mad(xs: &[f64]) -> f64 {
    let mut v = without_nan(xs);
    let med = select_median(&mut v);
    mad_around(&mut v, med)
}

/// `median(|x - center|)` of NaN-free data; overwrites `buf` with the absolute deviations.
pub(crate) fn mad_around(buf: &mut [f64], center: f64) -> f64 {
    for x in buf.iter_mut() {
        *x = (*x - center).abs();
    }
    select_median(buf)
}

/// Modified Z-scores (Iglewicz & Hoaglin): `0.6745 * (x - median) / MAD`.
///
/// When `MAD == 0` (more than half the values are equal) the scores are
/// `(x - median) / (1.253314 * meanAD)`, where `meanAD` is the mean absolute deviation from the
/// median; when that is also 0 every score is 0.
///
/// The result has one score per input value, in input order. Median and MAD are computed over the
/// non-NaN values; NaN inputs get a NaN score.
pub fn modified_z_scores(xs: &[f64]) -> Vec<f64> {
    let mut buf = without_nan(xs);
    if buf.is_empty() {
        return vec![f64::NAN; xs.len()];
    }
    let med = select_median(&mut buf);
    let mad = mad_around(&mut buf, med);
    // `scale` maps x - median to the score; None means every (non-NaN) score is 0.
    let scale = if mad > 0.0 {
        Some(MAD_FACTOR / mad)
    } else {
        // `buf` now holds |x - median|.
        let mean_ad = buf.iter().sum::<f64>() / buf.len() as f64;
        (mean_ad > 0.0).then(|| 1.0 / (MEAN_AD_FACTOR * mean_ad))
    };
    xs.iter()
        .map(|&x| match scale {
            _ if x.is_nan() => f64::NAN,
            Some(s) => (x - med) * s,
            None => 0.0,
        })
        .collect()
}

/// Indices (ascending) of the values whose `|modified Z-score|` exceeds `threshold`
/// (use [`OUTLIER_THRESHOLD`] unless you have a reason not to). NaN values are never reported.
pub fn outliers(xs: &[f64], threshold: f64) -> Vec<usize> {
    modified_z_scores(xs).iter().enumerate().filter(|(_, z)| z.abs() > threshold).map(|(i, _)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * (1.0 + b.abs())
    }

    #[test]
    fn mad_by_hand() {
        // median 3; |x - 3| = 2 1 0 1 97 -> median 1
        assert_eq!(mad(&[1.0, 2.0, 3.0, 4.0, 100.0]), 1.0);
        // median 2.5; |x - 2.5| = 1.5 0.5 0.5 1.5 -> median (0.5 + 1.5) / 2 = 1
        assert_eq!(mad(&[4.0, 1.0, 3.0, 2.0]), 1.0);
        assert_eq!(mad(&[1.0, f64::NAN, 2.0, 3.0, 4.0, 100.0]), 1.0);
        assert!(mad(&[]).is_nan());
        assert!(mad(&[f64::NAN]).is_nan());
        assert_eq!(mad(&[9.0]), 0.0);
        assert_eq!(mad(&[2.0; 5]), 0.0);
    }

    #[test]
    fn modified_z_with_one_obvious_outlier() {
        let xs = [10.0, 11.0, 12.0, 13.0, 14.0, 50.0];
        // median (12 + 13) / 2 = 12.5
        // |x - 12.5| = 2.5 1.5 0.5 0.5 1.5 37.5 -> sorted .5 .5 1.5 1.5 2.5 37.5 -> MAD 1.5
        // z = 0.6745 * (x - 12.5) / 1.5:
        //   10 -> 0.6745 * -2.5 / 1.5 = -1.1241667
        //   13 -> 0.6745 *  0.5 / 1.5 =  0.2248333
        //   50 -> 0.6745 * 37.5 / 1.5 = 16.8625
        let z = modified_z_scores(&xs);
        assert_eq!(z.len(), 6);
        assert!(close(z[0], -0.6745 * 2.5 / 1.5, 1e-14));
        assert!(close(z[0], -1.124_166_667, 1e-9));
        assert!(close(z[3], 0.224_833_333, 1e-9));
        assert!(close(z[5], 16.8625, 1e-14));
        assert_eq!(outliers(&xs, OUTLIER_THRESHOLD), vec![5]);
        // A lower threshold also flags 10 (|z| = 1.124) and 14 (|z| = 0.6745 * 1.5 / 1.5 = 0.6745)
        assert_eq!(outliers(&xs, 1.0), vec![0, 5]);
        assert_eq!(outliers(&xs, 0.5), vec![0, 1, 4, 5]);
    }

    #[test]
    fn modified_z_falls_back_to_mean_ad_when_mad_is_zero() {
        let xs = [5.0, 5.0, 9.0, 5.0, 5.0];
        // median 5, |x - 5| = 0 0 4 0 0 -> MAD 0; meanAD = 4 / 5 = 0.8
        // z(9) = 4 / (1.253314 * 0.8) = 4 / 1.0026512 = 3.98942...
        let z = modified_z_scores(&xs);
        assert_eq!(z[0], 0.0);
        assert!(close(z[2], 4.0 / 1.002_651_2, 1e-14));
        assert!(close(z[2], 3.989_422_8, 1e-7));
        assert_eq!(outliers(&xs, OUTLIER_THRESHOLD), vec![2]);
        assert_eq!(outliers(&xs, 4.0), Vec::<usize>::new());
    }

    #[test]
    fn modified_z_all_equal_is_zero() {
        let z = modified_z_scores(&[3.0; 7]);
        assert_eq!(z, vec![0.0; 7]);
        assert!(outliers(&[3.0; 7], OUTLIER_THRESHOLD).is_empty());
    }

    #[test]
    fn modified_z_edge_cases() {
        assert!(modified_z_scores(&[]).is_empty());
        assert!(outliers(&[], OUTLIER_THRESHOLD).is_empty());
        assert_eq!(modified_z_scores(&[1.0]), vec![0.0]);
        let z = modified_z_scores(&[f64::NAN, f64::NAN]);
        assert!(z.len() == 2 && z.iter().all(|z| z.is_nan()));
        // NaN keeps its slot, gets a NaN score, and is not an outlier; indices refer to the input.
        let xs = [10.0, f64::NAN, 11.0, 12.0, 13.0, 14.0, 50.0];
        let z = modified_z_scores(&xs);
        assert!(z[1].is_nan());
        assert!(close(z[6], 16.8625, 1e-14));
        assert_eq!(outliers(&xs, OUTLIER_THRESHOLD), vec![6]);
        // NaN threshold flags nothing
        assert!(outliers(&xs, f64::NAN).is_empty());
    }
}
