//! Ramps over time: the arrival schedule of the open model (time of the k-th request) and the
//! number of active connections of a closed-model ramp, both piecewise linear.

use std::time::Duration;

use crate::settings::Stage;

/// A piecewise-linear target over time; after the last stage the last target holds.
#[derive(Debug, Clone)]
pub struct Ramp {
    /// (start time s, duration s, start value, end value, cumulative integral at start).
    segments: Vec<(f64, f64, f64, f64, f64)>,
    /// Value after the last segment.
    tail: f64,
    /// Integral up to the end of the last segment.
    tail_start: (f64, f64),
}

impl Ramp {
    /// A constant value.
    pub fn constant(value: f64) -> Self {
        Ramp { segments: Vec::new(), tail: value, tail_start: (0.0, 0.0) }
    }

    /// Stages starting from 0.
    pub fn stages(stages: &[Stage]) -> Self {
        let mut segments = Vec::new();
        let (mut t, mut v, mut n) = (0.0, 0.0, 0.0);
        for s in stages {
            let d = s.duration.as_secs_f64();
            if d <= 0.0 {
                v = s.target;
                continue;
            }
            segments.push((t, d, v, s.target, n));
            n += (v + s.target) / 2.0 * d;
            t += d;
            v = s.target;
        }
        Ramp { segments, tail: v, tail_start: (t, n) }
    }

    /// The value at `t` seconds.
    pub fn value_at(&self, t: f64) -> f64 {
        for &(t0, d, v0, v1, _) in &self.segments {
            if t < t0 + d {
                return v0 + (v1 - v0) * ((t - t0) / d).clamp(0.0, 1.0);
            }
        }
        self.tail
    }

    /// Total duration of the stages.
    pub fn stages_duration(&self) -> Duration {
        Duration::from_secs_f64(self.tail_start.0)
    }

    /// Integral of the value from 0 to `t` (requests planned by `t` for a rate).
    pub fn integral(&self, t: f64) -> f64 {
        for &(t0, d, v0, v1, n0) in &self.segments {
            if t < t0 + d {
                let tau = (t - t0).max(0.0);
                let slope = (v1 - v0) / d;
                return n0 + v0 * tau + slope * tau * tau / 2.0;
            }
        }
        self.tail_start.1 + self.tail * (t - self.tail_start.0).max(0.0)
    }

    /// The time in seconds at which the integral reaches `k` (the intended send time of request
    /// `k`, counting from 0), or `None` when it never does.
    pub fn time_of(&self, k: f64) -> Option<f64> {
        for &(t0, d, v0, v1, n0) in &self.segments {
            let n1 = n0 + (v0 + v1) / 2.0 * d;
            if k <= n1 && (v0 > 0.0 || v1 > 0.0) {
                let need = k - n0;
                let slope = (v1 - v0) / d;
                let tau = if slope.abs() < 1e-12 {
                    need / v0
                } else {
                    (-v0 + (v0 * v0 + 2.0 * slope * need).max(0.0).sqrt()) / slope
                };
                return Some(t0 + tau.clamp(0.0, d));
            }
        }
        if self.tail > 0.0 { Some(self.tail_start.0 + (k - self.tail_start.1).max(0.0) / self.tail) } else { None }
    }

    /// Requests planned in `[0, t)`.
    pub fn planned_until(&self, t: f64) -> u64 {
        // Request k is planned at the time the integral reaches k: those before `t`.
        let n = self.integral(t);
        if n <= 0.0 { 0 } else { n.ceil() as u64 }
    }
}

/// Smooth weighted round-robin (as nginx does): a sequence of request indices, one period long,
/// in which each index appears exactly its weight's times, evenly spread.
pub fn weighted_sequence(weights: &[u32]) -> Vec<usize> {
    let total: i64 = weights.iter().map(|w| i64::from(*w)).sum();
    let mut current = vec![0i64; weights.len()];
    let mut out = Vec::with_capacity(total as usize);
    for _ in 0..total {
        for (c, w) in current.iter_mut().zip(weights) {
            *c += i64::from(*w);
        }
        let (best, _) = current.iter().enumerate().max_by_key(|(i, c)| (**c, -(*i as i64))).expect("non-empty");
        current[best] -= total;
        out.push(best);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_rate_schedule() {
        let r = Ramp::constant(100.0);
        assert_eq!(r.time_of(0.0), Some(0.0));
        assert!((r.time_of(250.0).unwrap() - 2.5).abs() < 1e-9);
        assert_eq!(r.planned_until(1.0), 100);
        assert_eq!(r.planned_until(1.005), 101);
        assert_eq!(r.planned_until(0.0), 0);
    }

    #[test]
    fn ramped_rate_schedule() {
        let r = Ramp::stages(&[
            Stage { duration: Duration::from_secs(10), target: 100.0 },
            Stage { duration: Duration::from_secs(10), target: 100.0 },
        ]);
        // 0 -> 100 over 10 s: 500 requests; then 100/s.
        assert!((r.integral(10.0) - 500.0).abs() < 1e-9);
        assert!((r.time_of(500.0).unwrap() - 10.0).abs() < 1e-6);
        assert!((r.time_of(125.0).unwrap() - 5.0).abs() < 1e-6);
        assert!((r.time_of(600.0).unwrap() - 11.0).abs() < 1e-6);
        assert_eq!(r.value_at(5.0), 50.0);
        assert_eq!(r.stages_duration(), Duration::from_secs(20));
        let times: Vec<f64> = (0..1000).map(|k| r.time_of(k as f64).unwrap()).collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn weights_are_exact_and_spread() {
        let s = weighted_sequence(&[3, 1]);
        assert_eq!(s.len(), 4);
        assert_eq!(s.iter().filter(|i| **i == 0).count(), 3);
        let s = weighted_sequence(&[5, 1, 1]);
        assert_eq!(s, vec![0, 0, 1, 0, 2, 0, 0]);
        assert_eq!(weighted_sequence(&[0, 2]), vec![1, 1]);
    }
}
