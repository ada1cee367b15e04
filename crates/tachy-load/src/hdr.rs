//! Latency histograms: creation, base64 (HdrHistogram V2 deflate) encoding and decoding, and
//! the summaries a report shows (percentiles and log-spaced buckets).

use base64::Engine as _;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use tachy_report::load::{LatencyBucket, LatencySummary};

/// Significant digits of whole-run histograms.
pub const SIGFIG: u8 = 3;
/// Significant digits of per-second histograms (smaller, one per second of the run).
pub const SIGFIG_INTERVAL: u8 = 2;

/// A new auto-resizing histogram of microseconds.
pub fn new(sigfig: u8) -> Histogram<u64> {
    let mut h = Histogram::new(sigfig).expect("valid significant digits");
    h.auto(true);
    h
}

/// Base64 of the V2 deflate serialisation.
pub fn encode(h: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    // Serialising into a Vec cannot fail for a valid histogram.
    if V2DeflateSerializer::new().serialize(h, &mut bytes).is_err() {
        return String::new();
    }
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes [`encode`]'s output; an empty string is an empty histogram.
pub fn decode(s: &str) -> Result<Histogram<u64>, String> {
    if s.is_empty() {
        return Ok(new(SIGFIG));
    }
    let bytes = base64::engine::general_purpose::STANDARD.decode(s).map_err(|e| format!("bad base64: {e}"))?;
    let mut h: Histogram<u64> =
        Deserializer::new().deserialize(&mut bytes.as_slice()).map_err(|e| format!("bad histogram: {e:?}"))?;
    h.auto(true);
    Ok(h)
}

/// Milliseconds of a microsecond value.
pub fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// A percentile (0-100) in milliseconds.
pub fn percentile_ms(h: &Histogram<u64>, p: f64) -> f64 {
    if h.is_empty() { 0.0 } else { ms(h.value_at_quantile(p / 100.0)) }
}

/// The latency table of a histogram.
pub fn summary(h: &Histogram<u64>) -> LatencySummary {
    if h.is_empty() {
        return LatencySummary::default();
    }
    LatencySummary {
        count: h.len(),
        min_ms: ms(h.min()),
        mean_ms: h.mean() / 1000.0,
        stdev_ms: h.stdev() / 1000.0,
        p50_ms: percentile_ms(h, 50.0),
        p90_ms: percentile_ms(h, 90.0),
        p95_ms: percentile_ms(h, 95.0),
        p99_ms: percentile_ms(h, 99.0),
        p99_9_ms: percentile_ms(h, 99.9),
        max_ms: ms(h.max()),
    }
}

/// About a dozen log-spaced buckets from the fastest to the slowest response.
pub fn buckets(h: &Histogram<u64>) -> Vec<LatencyBucket> {
    if h.is_empty() {
        return Vec::new();
    }
    let lo = h.min().max(1) as f64;
    let hi = h.max().max(1) as f64;
    if hi <= lo * 1.05 {
        return vec![LatencyBucket { le_ms: ms(h.max()), count: h.len() }];
    }
    const N: usize = 12;
    let ratio = (hi / lo).powf(1.0 / N as f64);
    let mut out = Vec::with_capacity(N);
    let mut below = 0u64;
    for i in 1..=N {
        let edge = if i == N { h.max() } else { (lo * ratio.powi(i as i32)).round() as u64 };
        let upto = h.count_between(0, edge);
        out.push(LatencyBucket { le_ms: ms(edge), count: upto.saturating_sub(below) });
        below = upto.max(below);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_summarises() {
        let mut h = new(SIGFIG);
        for v in 1..=1000u64 {
            h.record(v * 100).unwrap();
        }
        let back = decode(&encode(&h)).unwrap();
        assert_eq!(back.len(), 1000);
        let s = summary(&back);
        assert!((s.p50_ms - 50.0).abs() < 0.1, "{s:?}");
        assert!((s.max_ms - 100.0).abs() < 0.1);
        let b = buckets(&back);
        assert_eq!(b.iter().map(|b| b.count).sum::<u64>(), 1000);
        assert!(decode("").unwrap().is_empty());
        assert!(decode("!!").is_err());
    }
}
