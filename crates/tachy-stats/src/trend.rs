//! Robust trend of a time series: the Theil-Sen slope (median of pairwise slopes) with Sen's
//! rank-based confidence interval, plus a check that the series really moved (so a sawtooth
//! of allocations and frees is not called a leak).

/// A fitted trend.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trend {
    /// Slope (units of y per unit of x).
    pub slope: f64,
    /// Lower bound of the confidence interval of the slope.
    pub low: f64,
    /// Upper bound.
    pub high: f64,
    /// Confidence level.
    pub level: f64,
    /// Points used.
    pub n: usize,
    /// Median of the last third of the series minus that of the first third.
    pub shift: f64,
    /// Median absolute deviation of the residuals around the fitted line.
    pub residual_mad: f64,
}

impl Trend {
    /// True when the series rises: the whole interval lies above zero and the end of the
    /// window sits clearly above its start (more than twice the noise around the line).
    pub fn rising(&self) -> bool {
        self.low > 0.0 && self.shift > 2.0 * self.residual_mad
    }
}

fn median_of(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        0.0
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Standard normal quantile for the usual two-sided levels.
fn z_for(level: f64) -> f64 {
    if level >= 0.99 {
        2.5758
    } else if level >= 0.95 {
        1.96
    } else if level >= 0.9 {
        1.6449
    } else {
        1.2816
    }
}

/// Theil-Sen fit of `(x, y)` points; `None` with fewer than 3 distinct x. Callers keep `n`
/// modest (the cost is quadratic): thin long windows first.
pub fn theil_sen(points: &[(f64, f64)], level: f64) -> Option<Trend> {
    let n = points.len();
    if n < 3 {
        return None;
    }
    let mut slopes = Vec::with_capacity(n * (n - 1) / 2);
    for i in 0..n {
        for j in i + 1..n {
            let dx = points[j].0 - points[i].0;
            if dx > 0.0 {
                slopes.push((points[j].1 - points[i].1) / dx);
            }
        }
    }
    if slopes.len() < 3 {
        return None;
    }
    slopes.sort_by(f64::total_cmp);
    let m = slopes.len();
    let slope = if m % 2 == 1 { slopes[m / 2] } else { (slopes[m / 2 - 1] + slopes[m / 2]) / 2.0 };
    // Sen (1968): ranks of the interval bounds from the variance of Kendall's S.
    let nf = n as f64;
    let var_s = nf * (nf - 1.0) * (2.0 * nf + 5.0) / 18.0;
    let c = z_for(level) * var_s.sqrt();
    let lo_rank = (((m as f64 - c) / 2.0).floor() as isize).clamp(0, m as isize - 1) as usize;
    let hi_rank = (((m as f64 + c) / 2.0).ceil() as isize).clamp(0, m as isize - 1) as usize;
    let mut intercepts: Vec<f64> = points.iter().map(|(x, y)| y - slope * x).collect();
    let intercept = median_of(&mut intercepts);
    let mut residuals: Vec<f64> = points.iter().map(|(x, y)| (y - slope * x - intercept).abs()).collect();
    let residual_mad = median_of(&mut residuals);
    let third = (n / 3).max(1);
    let mut first: Vec<f64> = points[..third].iter().map(|p| p.1).collect();
    let mut last: Vec<f64> = points[n - third..].iter().map(|p| p.1).collect();
    let shift = median_of(&mut last) - median_of(&mut first);
    Some(Trend { slope, low: slopes[lo_rank], high: slopes[hi_rank], level, n, shift, residual_mad })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_with_noise_is_recovered() {
        let pts: Vec<(f64, f64)> = (0..100)
            .map(|i| (i as f64 * 0.1, 1000.0 + 50.0 * i as f64 * 0.1 + if i % 3 == 0 { 2.0 } else { -1.0 }))
            .collect();
        let t = theil_sen(&pts, 0.95).unwrap();
        assert!((t.slope - 50.0).abs() < 1.0, "{t:?}");
        assert!(t.low <= t.slope && t.slope <= t.high);
        assert!(t.rising());
    }

    #[test]
    fn outliers_do_not_move_it() {
        let mut pts: Vec<(f64, f64)> = (0..50).map(|i| (i as f64, 2.0 * i as f64)).collect();
        pts[10].1 = 1e9;
        pts[40].1 = -1e9;
        let t = theil_sen(&pts, 0.95).unwrap();
        assert!((t.slope - 2.0).abs() < 1e-9, "{t:?}");
    }

    #[test]
    fn a_sawtooth_is_not_rising() {
        // Allocate 10 units per step, free all every 10 steps.
        let pts: Vec<(f64, f64)> = (0..120).map(|i| (i as f64, 100.0 + 10.0 * (i % 10) as f64)).collect();
        let t = theil_sen(&pts, 0.95).unwrap();
        assert!(!t.rising(), "{t:?}");
        let flat: Vec<(f64, f64)> = (0..50).map(|i| (i as f64, 7.0)).collect();
        assert!(!theil_sen(&flat, 0.95).unwrap().rising());
        assert!(theil_sen(&flat[..2], 0.95).is_none());
    }
}
