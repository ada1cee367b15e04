//! Memory growth after warm-up: the warm-up (everything up to the last level shift of the
//! memory series in the first half of the watched span) is left out, a Theil-Sen line with
//! Sen's 95% interval is fitted on the rest, and the verdict against a threshold rate follows
//! the rule of [`Growth::judge`]: growing, flat, or not enough data with the reason.

use tachy_report::watch::{Growth, MIN_FIT_SAMPLES, PAGE_BYTES, Warmup};
use tachy_stats::changepoint;

/// Most points of one Theil-Sen fit (longer spans are thinned evenly; the cost is quadratic).
const FIT_POINTS: usize = 120;
/// Most points the level-shift search sees.
const SHIFT_POINTS: usize = 240;
/// Smallest level shift counted as warm-up, relative to the level (1 %), besides being larger
/// than the noise and better described by a jump than by a line (see [`changepoint::detect`]).
const SHIFT_MIN_CHANGE: f64 = 0.01;
/// Confidence level of the slope's interval.
const LEVEL: f64 = 0.95;

/// Thins `points` evenly to at most `max`, keeping the first and last.
pub(crate) fn thin<T: Clone>(points: &[T], max: usize) -> Vec<T> {
    if points.len() <= max || max < 2 {
        return points.to_vec();
    }
    let step = (points.len() - 1) as f64 / (max - 1) as f64;
    (0..max).map(|i| points[((i as f64 * step).round() as usize).min(points.len() - 1)].clone()).collect()
}

/// The warm-up of `points` (`(seconds, bytes)`, in time order): the span up to the last level
/// shift found in the first half of the span, so at least as much of the run follows it as
/// precedes it. A shift in the second half is not warm-up (a late rise is judged as growth:
/// it fails the sustained test, see [`Growth::judge`]).
pub fn warmup(points: &[(f64, f64)]) -> Option<Warmup> {
    let (first, last) = (points.first()?.0, points.last()?.0);
    let mid = first + (last - first) / 2.0;
    let thinned = thin(points, SHIFT_POINTS);
    let values: Vec<f64> = thinned.iter().map(|p| p.1).collect();
    let cp = changepoint::detect(&values, SHIFT_MIN_CHANGE);
    let early: Vec<&changepoint::Step> = cp.steps.iter().filter(|s| thinned[s.index].0 <= mid).collect();
    let last_step = early.last()?;
    let before = cp.segments.first().map_or(last_step.before, |s| s.median);
    Some(Warmup {
        from_secs: first,
        to_secs: thinned[last_step.index].0,
        before_bytes: before,
        after_bytes: last_step.after,
        step_bytes: last_step.after - before,
        shifts: early.len() as u64,
    })
}

/// Fits the growth of `points` (`(seconds since the start, bytes)`, in time order) after its
/// warm-up and judges it against `threshold` (bytes per hour). `None` with fewer than 3 points.
pub fn fit(points: &[(f64, f64)], metric: &str, threshold: f64) -> Option<Growth> {
    if points.len() < 3 {
        return None;
    }
    let warm = warmup(points);
    let start = warm.as_ref().map_or(0, |w| points.partition_point(|p| p.0 < w.to_secs));
    let after = &points[start..];
    // Too few points after the warm-up to fit: the whole span gives the figures, no verdict.
    let fitted = if after.len() >= 3 { after } else { points };
    let t = tachy_stats::theil_sen(&thin(fitted, FIT_POINTS), LEVEL)?;
    let span = fitted.last()?.0 - fitted.first()?.0;
    let half_width = (t.high - t.low) / 2.0;
    let floor = if span > 0.0 { PAGE_BYTES / span } else { f64::INFINITY };
    // The two halves of the span by time, each its own fit.
    let mid = fitted.first()?.0 + span / 2.0;
    let cut = fitted.partition_point(|p| p.0 < mid);
    let half_slope = |h: &[(f64, f64)]| tachy_stats::theil_sen(&thin(h, FIT_POINTS / 2), LEVEL).map(|t| t.slope);
    let sustained = match (half_slope(&fitted[..cut]), half_slope(&fitted[cut..])) {
        (Some(a), Some(b)) => Some(a.min(b) * 3600.0),
        _ => None,
    };
    let n = after.len() as u64;
    let insufficient = (n < MIN_FIT_SAMPLES).then(|| match &warm {
        Some(w) => format!(
            "{n} sample(s) after the warm-up (memory shifted level until {:.1} s); a verdict needs at least {MIN_FIT_SAMPLES}",
            w.to_secs
        ),
        None => format!("{n} sample(s); a verdict needs at least {MIN_FIT_SAMPLES}"),
    });
    let g = Growth {
        metric: metric.to_string(),
        bytes_per_hour: t.slope * 3600.0,
        low_bytes_per_hour: t.low * 3600.0,
        high_bytes_per_hour: t.high * 3600.0,
        level: t.level,
        samples: fitted.len() as u64,
        window_secs: span,
        resolution_bytes_per_hour: half_width.max(floor) * 3600.0,
        sustained_bytes_per_hour: sustained,
        from_secs: fitted.first()?.0,
        warmup: warm,
        insufficient,
        ..Growth::default()
    };
    Some(g.with_verdict(threshold))
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};
    use tachy_report::watch::{DEFAULT_GROWTH_THRESHOLD, GrowthVerdict};

    use super::*;

    const MIB: f64 = 1_048_576.0;

    /// Gaussian noise of standard deviation `sd` (Box-Muller).
    fn gauss(rng: &mut StdRng, sd: f64) -> f64 {
        let u1: f64 = rng.random_range(f64::EPSILON..1.0);
        let u2: f64 = rng.random();
        sd * (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// `n` samples every `dt` seconds of `f(t)` plus noise, rounded to whole pages like RSS.
    fn series(seed: u64, n: usize, dt: f64, noise: f64, f: impl Fn(f64) -> f64) -> Vec<(f64, f64)> {
        let mut rng = StdRng::seed_from_u64(seed);
        (0..n)
            .map(|i| {
                let t = i as f64 * dt;
                let v = f(t) + gauss(&mut rng, noise);
                (t, (v / PAGE_BYTES).round() * PAGE_BYTES)
            })
            .collect()
    }

    #[test]
    fn a_warm_up_step_then_flat_is_excluded_and_flat() {
        // The reviewer's uvicorn: 48 MiB, one step to 62 MiB when the thread pool starts at
        // 6 s, flat after; 500 ms samples for 13.5 s.
        let step = |t: f64| if t < 6.0 { 48.0 * MIB } else { 62.0 * MIB };
        for seed in 0..20 {
            let pts = series(seed, 28, 0.5, 8192.0, step);
            // Without the exclusion the step alone is a significant "leak" of GiB/h.
            let whole = tachy_stats::theil_sen(&pts, LEVEL).unwrap();
            assert!(whole.low > 0.0 && whole.slope * 3600.0 > 1e9, "seed {seed}: {whole:?}");
            let g = fit(&pts, "rss", DEFAULT_GROWTH_THRESHOLD).unwrap();
            let w = g.warmup.as_ref().unwrap_or_else(|| panic!("seed {seed}: no warm-up: {g:?}"));
            assert!((w.to_secs - 6.0).abs() <= 0.5, "seed {seed}: {w:?}");
            assert!((w.step_bytes / MIB - 14.0).abs() < 0.5, "seed {seed}: {w:?}");
            assert!(g.from_secs >= 5.5 && g.samples >= 10, "seed {seed}: {g:?}");
            assert_ne!(g.verdict, GrowthVerdict::Growing, "seed {seed}: {g:?}");
            assert!(!g.growing);
            // Longer, the flat remainder is resolved as flat.
            let long = series(seed, 240, 0.5, 8192.0, step);
            let g = fit(&long, "rss", DEFAULT_GROWTH_THRESHOLD).unwrap();
            assert_eq!(g.verdict, GrowthVerdict::Flat, "seed {seed}: {g:?}");
        }
    }

    #[test]
    fn a_steady_leak_after_a_warm_up_step_is_growing_at_its_rate() {
        // 20 MiB step at 3 s, then 100 MB/h, watched 2 minutes at 1 s.
        let rate = 100e6 / 3600.0;
        for seed in 0..20 {
            let pts =
                series(seed, 120, 1.0, 4096.0, |t| if t < 3.0 { 30.0 * MIB } else { 50.0 * MIB + rate * (t - 3.0) });
            let g = fit(&pts, "rss", DEFAULT_GROWTH_THRESHOLD).unwrap();
            assert!(g.warmup.is_some(), "seed {seed}: {g:?}");
            assert_eq!(g.verdict, GrowthVerdict::Growing, "seed {seed}: {g:?}");
            assert!((g.bytes_per_hour / 100e6 - 1.0).abs() < 0.05, "seed {seed}: {g:?}");
        }
    }

    #[test]
    fn a_short_window_cannot_call_a_slow_creep() {
        // The reviewer's warmed server: 0.5 MiB over 10 s at 500 ms with ~100 KB of noise is
        // not a verdict against 5 MB/h, whatever its interval says.
        for seed in 0..20 {
            let pts = series(seed, 21, 0.5, 100e3, |t| 62.0 * MIB + 0.05 * MIB * t);
            let g = fit(&pts, "rss", DEFAULT_GROWTH_THRESHOLD).unwrap();
            assert_eq!(g.verdict, GrowthVerdict::NotEnoughData, "seed {seed}: {g:?}");
            assert!(g.reason.contains("resolves only") && g.reason.contains("watch about"), "{}", g.reason);
            // Against a threshold it can resolve, the same data gives a verdict.
            let (v, why) = g.judge(10e9);
            assert_eq!(v, GrowthVerdict::Flat, "seed {seed}: {why}");
        }
    }

    #[test]
    fn too_few_samples_after_the_warm_up_give_no_verdict() {
        let pts = series(3, 8, 1.0, 0.0, |_| 40.0 * MIB);
        let g = fit(&pts, "rss", 1e12).unwrap();
        assert_eq!(g.verdict, GrowthVerdict::NotEnoughData, "{g:?}");
        assert!(g.insufficient.as_deref().is_some_and(|s| s.contains("8 sample(s)")), "{g:?}");
        assert!(fit(&pts[..2], "rss", 1e12).is_none());
    }

    #[test]
    fn a_late_rise_is_not_sustained() {
        // Flat for 50 s, then a single 10 MiB rise at 40 s (second half: not warm-up).
        let pts = series(4, 50, 1.0, 4096.0, |t| if t < 40.0 { 40.0 * MIB } else { 50.0 * MIB });
        let g = fit(&pts, "rss", DEFAULT_GROWTH_THRESHOLD).unwrap();
        assert!(g.warmup.is_none(), "{g:?}");
        assert_ne!(g.verdict, GrowthVerdict::Growing, "{g:?}");
    }

    #[test]
    fn a_sawtooth_and_a_flat_series_are_flat() {
        // 20 MB allocated and freed every second, sampled every 70 ms for 30 s.
        let pts: Vec<(f64, f64)> = (0..430)
            .map(|i| (i as f64 * 0.07, 30e6 + if (i as f64 * 0.07) % 1.0 < 0.5 { 20e6 } else { 0.0 }))
            .collect();
        let g = fit(&pts, "rss", 1e9).unwrap();
        assert!(!g.growing, "{g:?}");
        let flat = series(5, 60, 1.0, 0.0, |_| 40.0 * MIB);
        let g = fit(&flat, "rss", DEFAULT_GROWTH_THRESHOLD).unwrap();
        assert_eq!(g.verdict, GrowthVerdict::Flat, "{g:?}");
        assert!(g.warmup.is_none());
    }

    #[test]
    fn a_fast_leak_is_called_within_seconds_against_a_matching_threshold() {
        // 1 MiB every 100 ms, sampled every 100 ms with up to 50 ms of jitter, for 5 s.
        let mut rng = StdRng::seed_from_u64(6);
        let pts: Vec<(f64, f64)> = (0..50)
            .map(|i| {
                let t = i as f64 * 0.1 + rng.random_range(0.0..0.05);
                (t, 20e6 + (t / 0.1).floor() * MIB)
            })
            .collect();
        let g = fit(&pts, "rss", 1e9).unwrap();
        assert_eq!(g.verdict, GrowthVerdict::Growing, "{g:?}");
        let truth = 10.0 * MIB * 3600.0;
        assert!((g.bytes_per_hour / truth - 1.0).abs() < 0.05, "{g:?}");
        // 5 s cannot resolve 5 MB/h: no verdict, with the time it would take.
        let (v, why) = g.judge(DEFAULT_GROWTH_THRESHOLD);
        assert_eq!(v, GrowthVerdict::NotEnoughData, "{why}");
    }

    #[test]
    fn thinning_keeps_the_ends() {
        let v: Vec<u32> = (0..1000).collect();
        let t = thin(&v, 10);
        assert_eq!((t.len(), t[0], t[9]), (10, 0, 999));
        assert_eq!(thin(&v[..5], 10).len(), 5);
    }
}
