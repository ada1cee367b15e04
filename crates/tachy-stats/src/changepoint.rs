//! Step detection in a performance history, in the manner of asv: the series is fitted with a
//! piecewise-constant model that minimises the sum of absolute deviations from each segment's
//! median plus a penalty per segment, solved exactly by dynamic programming (with PELT's
//! pruning, so a series with steps costs far less than the O(n² log n) bound).
//!
//! The penalty is `PENALTY_FACTOR × noise × ln n`, where the noise is estimated robustly from
//! the median absolute difference of successive values (a step or a slow drift barely moves
//! it). Steps between fitted segments are then reported only when they are large enough to
//! matter: a relative change of at least `min_change` and larger than the noise. A slow drift is
//! fitted as a staircase of small segments whose steps fall below that bar, so it is not
//! reported as a string of step changes (its slope is the job of [`crate::theil_sen`]); and a
//! step is reported only when a jump describes its two segments better than a straight line
//! through them, so neither is a fast steady drift.
//! Segments have at least two points, so one outlying run is never a level of its own.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The minimum relative change of a reported step used by `tachy check --history` (5 %).
pub const DEFAULT_MIN_CHANGE: f64 = 0.05;

/// Penalty per segment, in units of `noise × ln n`. Tuned on simulated histories: flat series
/// of Gaussian noise fit as one segment (from 20 points on, about 1 % of shorter ones split),
/// while a step of four noise units in the middle of 20 points is found in nearly every series
/// (85 % at 10 points), and one of two noise units in most series of 50 points or more.
pub const PENALTY_FACTOR: f64 = 3.0;

/// Fewest points in which a step can be looked for; shorter series have none.
pub const MIN_POINTS: usize = 4;

/// Fewest points of a fitted segment, so that one outlying run is never a level of its own.
pub const MIN_SEGMENT: usize = 2;

/// A run of points at one level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Segment {
    /// Index of the segment's first point in the input.
    pub start: usize,
    /// Index one past its last point in the input.
    pub end: usize,
    /// The median of its points.
    pub median: f64,
}

/// A step between two neighbouring segments that passed the size checks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// Index in the input of the first point at the new level.
    pub index: usize,
    /// Median of the segment before the step.
    pub before: f64,
    /// Median of the segment from `index` on.
    pub after: f64,
    /// `(after - before) / |before|`, as a fraction (0.2 for +20 %).
    pub change: f64,
}

/// The fitted model of a series.
#[derive(Debug, Clone, PartialEq)]
pub struct Changepoints {
    /// The fitted segments, in order; they cover every finite point. Empty when there is none.
    pub segments: Vec<Segment>,
    /// The steps worth reporting, in order (a subset of the segment boundaries).
    pub steps: Vec<Step>,
    /// The estimated noise scale (a standard deviation, in the series' unit).
    pub noise: f64,
}

/// Fits segments to `values` (oldest first) and reports the steps whose relative change is at
/// least `min_change` (a fraction: 0.05 for 5 %) and whose size exceeds the noise.
///
/// Non-finite values are ignored (indices still refer to `values`). A series with fewer than
/// [`MIN_POINTS`] finite values is one segment without steps. A step away from a level of zero
/// has no relative change and is never reported.
pub fn detect(values: &[f64], min_change: f64) -> Changepoints {
    let (index, ys): (Vec<usize>, Vec<f64>) =
        values.iter().enumerate().filter(|(_, v)| v.is_finite()).map(|(i, &v)| (i, v)).unzip();
    let n = ys.len();
    if n == 0 {
        return Changepoints { segments: Vec::new(), steps: Vec::new(), noise: 0.0 };
    }
    let noise = noise_scale(&ys);
    let bounds = if n < MIN_POINTS {
        vec![0, n]
    } else {
        let penalty = PENALTY_FACTOR * noise * (n as f64).ln();
        partition(&ys, penalty)
    };
    let segments: Vec<Segment> = bounds
        .windows(2)
        .map(|w| Segment { start: index[w[0]], end: index[w[1] - 1] + 1, median: median(&mut ys[w[0]..w[1]].to_vec()) })
        .collect();
    let min_change = if min_change.is_finite() { min_change.max(0.0) } else { 0.0 };
    let steps = (1..segments.len())
        .filter_map(|k| {
            let (a, b) = (&ys[bounds[k - 1]..bounds[k]], &ys[bounds[k]..bounds[k + 1]]);
            step(segments[k - 1], segments[k], min_change, noise).filter(|_| jump_beats_line(a, b))
        })
        .collect();
    Changepoints { segments, steps, noise }
}

/// The step from segment `a` to its neighbour `b`, when it passes the size checks.
fn step(a: Segment, b: Segment, min_change: f64, noise: f64) -> Option<Step> {
    let (before, after) = (a.median, b.median);
    let delta = after - before;
    let change = delta / before.abs();
    (before != 0.0 && change.is_finite() && change.abs() >= min_change && delta.abs() > noise).then_some(Step {
        index: b.start,
        before,
        after,
        change,
    })
}

/// True when two neighbouring runs of values `a` then `b` are described better (a smaller sum
/// of absolute deviations) by a jump between their medians than by one straight line through
/// both: a drift that the fit cut into a staircase is not a step. The line is Tukey's
/// resistant line (through the medians of the outer thirds), robust like the rest.
fn jump_beats_line(a: &[f64], b: &[f64]) -> bool {
    let ys: Vec<f64> = a.iter().chain(b).copied().collect();
    let n = ys.len();
    let third = n.div_ceil(3);
    let centre = |r: std::ops::Range<usize>| {
        let x = (r.start + r.end - 1) as f64 / 2.0;
        (x, median(&mut ys[r].to_vec()))
    };
    let (x0, y0) = centre(0..third);
    let (x1, y1) = centre(n - third..n);
    let slope = if x1 > x0 { (y1 - y0) / (x1 - x0) } else { 0.0 };
    let intercept = median(&mut ys.iter().enumerate().map(|(i, y)| y - slope * i as f64).collect::<Vec<_>>());
    let line: f64 = ys.iter().enumerate().map(|(i, y)| (y - intercept - slope * i as f64).abs()).sum();
    let deviations = |v: &[f64]| {
        let m = median(&mut v.to_vec());
        v.iter().map(|y| (y - m).abs()).sum::<f64>()
    };
    deviations(a) + deviations(b) < line
}

/// The noise scale of `ys` as a standard deviation: the median absolute successive difference
/// over its Gaussian expectation (`0.6745 × √2 σ`); when more than half the differences are
/// zero (integer counts), their mean over its expectation (`2σ/√π`) instead; never below a tiny
/// fraction of the level, so a constant series still gets a positive penalty.
fn noise_scale(ys: &[f64]) -> f64 {
    let mut diffs: Vec<f64> = ys.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    let mut sigma = median(&mut diffs) / (0.674_489_75 * std::f64::consts::SQRT_2);
    if sigma == 0.0 && !diffs.is_empty() {
        let mean = diffs.iter().sum::<f64>() / diffs.len() as f64;
        sigma = mean * std::f64::consts::PI.sqrt() / 2.0;
    }
    let level = median(&mut ys.to_vec()).abs();
    let floor = (level * 1e-9).max(f64::MIN_POSITIVE);
    if sigma.is_finite() { sigma.max(floor) } else { floor }
}

/// The median of `v` (sorted in place); 0 when empty.
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => 0.0,
        _ if n % 2 == 1 => v[n / 2],
        _ => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Optimal partition of `ys` minimising `Σ segments (penalty + Σ |y - median|)`: the segment
/// boundaries `[0, b1, ..., n]`.
fn partition(ys: &[f64], penalty: f64) -> Vec<usize> {
    let n = ys.len();
    // Values by rank (ties broken by position), so the running medians work on integers.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| ys[a].total_cmp(&ys[b]).then(a.cmp(&b)));
    // Centred on the median so the running sums do not lose precision to a large level.
    let centre = ys[order[n / 2]];
    let sorted: Vec<f64> = order.iter().map(|&i| ys[i] - centre).collect();
    let mut rank = vec![0u32; n];
    for (r, &i) in order.iter().enumerate() {
        rank[i] = r as u32;
    }
    // best[j]: the least objective for the first j points; prev[j]: where its last segment starts.
    let mut best = vec![f64::INFINITY; n + 1];
    let mut prev = vec![0usize; n + 1];
    best[0] = 0.0;
    let mut cost = RunningCost::new(&sorted);
    for i in 0..n {
        if !best[i].is_finite() {
            continue;
        }
        let base = best[i] + penalty;
        cost.clear();
        // The last end worth trying from this start, once pruned.
        let mut last = n;
        for j in i..n {
            // PELT: once a start at j is at least as good for the first j points, it is at
            // least as good for every longer prefix that can end a segment starting at j
            // (splitting never raises this cost).
            if j > i && last == n && best[i] + cost.cost() > best[j] {
                last = j + MIN_SEGMENT - 2;
            }
            if j > last {
                break;
            }
            cost.push(rank[j]);
            let total = base + cost.cost();
            if j + 1 - i >= MIN_SEGMENT && total < best[j + 1] {
                best[j + 1] = total;
                prev[j + 1] = i;
            }
        }
    }
    let mut bounds = vec![n];
    let mut j = n;
    while j > 0 {
        j = prev[j];
        bounds.push(j);
    }
    bounds.reverse();
    bounds
}

/// The sum of absolute deviations from the median of a growing set of values, kept with two
/// heaps of ranks: the lower half (a max-heap, holding the median) and the upper half.
struct RunningCost<'a> {
    sorted: &'a [f64],
    low: BinaryHeap<u32>,
    high: BinaryHeap<Reverse<u32>>,
    sum_low: f64,
    sum_high: f64,
}

impl<'a> RunningCost<'a> {
    fn new(sorted: &'a [f64]) -> Self {
        RunningCost { sorted, low: BinaryHeap::new(), high: BinaryHeap::new(), sum_low: 0.0, sum_high: 0.0 }
    }

    fn clear(&mut self) {
        self.low.clear();
        self.high.clear();
        self.sum_low = 0.0;
        self.sum_high = 0.0;
    }

    fn push(&mut self, r: u32) {
        let v = self.sorted[r as usize];
        if self.low.peek().is_none_or(|&top| r <= top) {
            self.low.push(r);
            self.sum_low += v;
        } else {
            self.high.push(Reverse(r));
            self.sum_high += v;
        }
        if self.low.len() > self.high.len() + 1 {
            if let Some(top) = self.low.pop() {
                let v = self.sorted[top as usize];
                self.sum_low -= v;
                self.sum_high += v;
                self.high.push(Reverse(top));
            }
        } else if self.high.len() > self.low.len()
            && let Some(Reverse(top)) = self.high.pop()
        {
            let v = self.sorted[top as usize];
            self.sum_high -= v;
            self.sum_low += v;
            self.low.push(top);
        }
    }

    /// `Σ |v - median|` of the values pushed since the last clear.
    fn cost(&self) -> f64 {
        let odd = self.low.len() > self.high.len();
        let m = if odd { self.low.peek().map_or(0.0, |&r| self.sorted[r as usize]) } else { 0.0 };
        (self.sum_high - self.sum_low + m).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    /// `n` values around `level` with Gaussian noise of standard deviation `sd` (Box-Muller).
    fn noisy(rng: &mut StdRng, n: usize, level: f64, sd: f64) -> Vec<f64> {
        (0..n)
            .map(|_| {
                let u1: f64 = rng.random_range(f64::EPSILON..1.0);
                let u2: f64 = rng.random();
                level + sd * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
            })
            .collect()
    }

    #[test]
    fn running_cost_matches_brute_force() {
        let mut rng = StdRng::seed_from_u64(7);
        let ys = noisy(&mut rng, 40, 10.0, 3.0);
        let mut order: Vec<usize> = (0..ys.len()).collect();
        order.sort_by(|&a, &b| ys[a].total_cmp(&ys[b]));
        let sorted: Vec<f64> = order.iter().map(|&i| ys[i]).collect();
        let mut rank = vec![0u32; ys.len()];
        for (r, &i) in order.iter().enumerate() {
            rank[i] = r as u32;
        }
        let mut c = RunningCost::new(&sorted);
        for j in 0..ys.len() {
            c.push(rank[j]);
            let m = median(&mut ys[..=j].to_vec());
            let brute: f64 = ys[..=j].iter().map(|y| (y - m).abs()).sum();
            assert!((c.cost() - brute).abs() < 1e-9, "{j}: {} vs {brute}", c.cost());
        }
    }

    #[test]
    fn flat_noisy_series_have_no_step() {
        for seed in 0..20 {
            let mut rng = StdRng::seed_from_u64(seed);
            for n in [10, 50, 200] {
                let ys = noisy(&mut rng, n, 100.0, 5.0);
                let cp = detect(&ys, DEFAULT_MIN_CHANGE);
                assert!(cp.steps.is_empty(), "seed {seed}, n {n}: {:?}", cp.steps);
                // Not merely filtered out: the fit itself is one level.
                assert_eq!(cp.segments.len(), 1, "seed {seed}, n {n}: {:?}", cp.segments);
                if n >= 200 {
                    assert!((cp.noise - 5.0).abs() < 1.5, "seed {seed}, n {n}: noise {}", cp.noise);
                }
            }
        }
    }

    #[test]
    fn one_outlier_is_not_a_step() {
        let mut rng = StdRng::seed_from_u64(3);
        let mut ys = noisy(&mut rng, 60, 100.0, 2.0);
        ys[30] = 160.0;
        ys[59] = 150.0;
        assert!(detect(&ys, DEFAULT_MIN_CHANGE).steps.is_empty());
    }

    #[test]
    fn a_step_in_the_middle_is_found_where_it_is() {
        for seed in 0..10 {
            let mut rng = StdRng::seed_from_u64(100 + seed);
            let mut ys = noisy(&mut rng, 30, 100.0, 3.0);
            ys.extend(noisy(&mut rng, 30, 120.0, 3.0));
            let cp = detect(&ys, DEFAULT_MIN_CHANGE);
            assert_eq!(cp.steps.len(), 1, "seed {seed}: {:?}", cp.steps);
            let s = cp.steps[0];
            assert!(s.index.abs_diff(30) <= 1, "seed {seed}: {s:?}");
            assert!((s.change - 0.2).abs() < 0.05, "seed {seed}: {s:?}");
            assert!((s.before - 100.0).abs() < 3.0 && (s.after - 120.0).abs() < 3.0, "seed {seed}: {s:?}");
        }
    }

    #[test]
    fn two_steps_are_found() {
        let mut rng = StdRng::seed_from_u64(11);
        let mut ys = noisy(&mut rng, 25, 0.120, 0.002);
        ys.extend(noisy(&mut rng, 20, 0.150, 0.002));
        ys.extend(noisy(&mut rng, 25, 0.100, 0.002));
        let cp = detect(&ys, DEFAULT_MIN_CHANGE);
        let at: Vec<usize> = cp.steps.iter().map(|s| s.index).collect();
        assert_eq!(at.len(), 2, "{:?}", cp.steps);
        assert!(at[0].abs_diff(25) <= 1 && at[1].abs_diff(45) <= 1, "{at:?}");
        assert!(cp.steps[0].change > 0.2 && cp.steps[1].change < -0.3, "{:?}", cp.steps);
    }

    #[test]
    fn small_steps_are_ignored() {
        let mut rng = StdRng::seed_from_u64(5);
        let mut ys = noisy(&mut rng, 40, 100.0, 0.2);
        ys.extend(noisy(&mut rng, 40, 103.0, 0.2));
        let cp = detect(&ys, DEFAULT_MIN_CHANGE);
        assert_eq!(cp.segments.len(), 2, "the fit sees it: {:?}", cp.segments);
        assert!(cp.steps.is_empty(), "3 % is under the 5 % bar: {:?}", cp.steps);
        assert_eq!(detect(&ys, 0.01).steps.len(), 1);
    }

    #[test]
    fn a_slow_drift_is_not_many_steps() {
        for seed in 0..10 {
            let mut rng = StdRng::seed_from_u64(200 + seed);
            let ys: Vec<f64> =
                noisy(&mut rng, 200, 0.0, 1.0).iter().enumerate().map(|(i, e)| 100.0 + 0.1 * i as f64 + e).collect();
            let cp = detect(&ys, DEFAULT_MIN_CHANGE);
            assert!(cp.steps.is_empty(), "seed {seed}: {:?}", cp.steps);
        }
        // A fast steady drift is fitted as a staircase, but none of its treads is a step.
        let line: Vec<f64> = (0..300).map(|i| 10.0 + 0.5 * i as f64).collect();
        let cp = detect(&line, DEFAULT_MIN_CHANGE);
        assert!(cp.segments.len() > 10, "{:?}", cp.segments);
        assert!(cp.steps.is_empty(), "{:?}", cp.steps);
        // A step on top of a slow drift is still found.
        let mut rng = StdRng::seed_from_u64(9);
        let ys: Vec<f64> = noisy(&mut rng, 80, 0.0, 1.0)
            .iter()
            .enumerate()
            .map(|(i, e)| 100.0 + 0.05 * i as f64 + if i >= 50 { 15.0 } else { 0.0 } + e)
            .collect();
        let cp = detect(&ys, DEFAULT_MIN_CHANGE);
        assert_eq!(cp.steps.len(), 1, "{:?}", cp.steps);
        assert!(cp.steps[0].index.abs_diff(50) <= 1, "{:?}", cp.steps);
    }

    #[test]
    fn short_series_have_no_step() {
        assert_eq!(detect(&[], DEFAULT_MIN_CHANGE), Changepoints { segments: vec![], steps: vec![], noise: 0.0 });
        for ys in [&[1.0][..], &[1.0, 100.0], &[1.0, 1.0, 100.0]] {
            let cp = detect(ys, DEFAULT_MIN_CHANGE);
            assert!(cp.steps.is_empty(), "{ys:?}");
            assert_eq!(cp.segments.len(), 1);
            assert_eq!((cp.segments[0].start, cp.segments[0].end), (0, ys.len()));
        }
    }

    #[test]
    fn exact_counts_step_and_zero_levels() {
        let cp = detect(&[3.0, 3.0, 3.0, 3.0, 5.0, 5.0, 5.0, 5.0], DEFAULT_MIN_CHANGE);
        assert_eq!(cp.steps.len(), 1, "{cp:?}");
        assert_eq!((cp.steps[0].index, cp.steps[0].before, cp.steps[0].after), (4, 3.0, 5.0));
        // Flat integer counts with a little jitter are no step.
        let jitter = [3.0, 4.0, 3.0, 3.0, 4.0, 3.0, 3.0, 3.0, 4.0, 3.0, 3.0, 4.0];
        assert!(detect(&jitter, DEFAULT_MIN_CHANGE).steps.is_empty());
        // A constant series is one segment; a step from zero has no relative change.
        assert_eq!(detect(&[7.0; 10], DEFAULT_MIN_CHANGE).segments.len(), 1);
        let cp = detect(&[0.0, 0.0, 0.0, 0.0, 9.0, 9.0, 9.0, 9.0], DEFAULT_MIN_CHANGE);
        assert_eq!(cp.segments.len(), 2);
        assert!(cp.steps.is_empty());
    }

    #[test]
    fn non_finite_values_keep_indices() {
        let mut ys = vec![10.0; 10];
        ys.extend([20.0; 10]);
        ys[3] = f64::NAN;
        ys[12] = f64::INFINITY;
        let cp = detect(&ys, DEFAULT_MIN_CHANGE);
        assert_eq!(cp.steps.len(), 1);
        assert_eq!(cp.steps[0].index, 10);
        assert_eq!(cp.segments.last().map(|s| s.end), Some(20));
    }

    #[test]
    fn long_series_are_handled() {
        let mut rng = StdRng::seed_from_u64(42);
        let mut ys = noisy(&mut rng, 700, 50.0, 1.0);
        ys.extend(noisy(&mut rng, 800, 45.0, 1.0));
        let cp = detect(&ys, DEFAULT_MIN_CHANGE);
        assert_eq!(cp.steps.len(), 1, "{:?}", cp.steps);
        assert!(cp.steps[0].index.abs_diff(700) <= 1);
    }
}
