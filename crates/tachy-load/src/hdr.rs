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

/// The largest decompressed histogram accepted (a whole-run histogram of 3 significant digits
/// up to an hour of microseconds is a few KiB).
const MAX_DECOMPRESSED: u64 = 16 << 20;
const V2_COOKIE: u32 = 0x1c84_9313;
const V2_DEFLATE_COOKIE: u32 = 0x1c84_9314;
/// Bytes of a V2 header before the counts payload.
const V2_HEADER: usize = 40;

fn be32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4).map(|x| u32::from_be_bytes([x[0], x[1], x[2], x[3]]))
}

/// Decodes [`encode`]'s output; an empty string is an empty histogram. The sizes a file
/// declares are checked against the bytes it has before anything is allocated for them (a
/// crafted 300-byte report must not make tachy allocate gigabytes).
pub fn decode(s: &str) -> Result<Histogram<u64>, String> {
    use std::io::Read as _;
    if s.is_empty() {
        return Ok(new(SIGFIG));
    }
    let bytes = base64::engine::general_purpose::STANDARD.decode(s).map_err(|e| format!("bad base64: {e}"))?;
    let v2 = match be32(&bytes, 0) {
        Some(V2_DEFLATE_COOKIE) => {
            let len = be32(&bytes, 4).ok_or("bad histogram: truncated header")? as usize;
            if len > bytes.len() - 8 {
                return Err(format!("bad histogram: it declares {len} compressed bytes but has {}", bytes.len() - 8));
            }
            let mut inner = Vec::new();
            flate2::read::ZlibDecoder::new(&bytes[8..8 + len])
                .take(MAX_DECOMPRESSED + 1)
                .read_to_end(&mut inner)
                .map_err(|e| format!("bad histogram: {e}"))?;
            if inner.len() as u64 > MAX_DECOMPRESSED {
                return Err(format!("bad histogram: larger than {} MiB once decompressed", MAX_DECOMPRESSED >> 20));
            }
            inner
        }
        Some(V2_COOKIE) => bytes,
        _ => return Err("bad histogram: not an HdrHistogram V2 serialisation".into()),
    };
    if be32(&v2, 0) != Some(V2_COOKIE) {
        return Err("bad histogram: not an HdrHistogram V2 serialisation".into());
    }
    let payload = be32(&v2, 4).ok_or("bad histogram: truncated header")? as usize;
    if v2.len() < V2_HEADER || payload > v2.len() - V2_HEADER {
        return Err(format!(
            "bad histogram: it declares {payload} bytes of counts but has {}",
            v2.len().saturating_sub(V2_HEADER)
        ));
    }
    let sigfig = be32(&v2, 12).unwrap_or(0);
    if sigfig > 5 {
        return Err(format!("bad histogram: {sigfig} significant digits (at most 5)"));
    }
    let mut h: Histogram<u64> =
        Deserializer::new().deserialize(&mut v2.as_slice()).map_err(|e| format!("bad histogram: {e}"))?;
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
    fn declared_sizes_beyond_the_data_are_refused_before_allocating() {
        let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
        // A compressed payload that claims 2^31-1 bytes.
        let mut crafted = V2_DEFLATE_COOKIE.to_be_bytes().to_vec();
        crafted.extend_from_slice(&0x7fff_ffffu32.to_be_bytes());
        crafted.extend_from_slice(&[0u8; 16]);
        assert!(decode(&b64(&crafted)).unwrap_err().contains("declares 2147483647 compressed bytes"));
        // An uncompressed header that claims more counts than it carries.
        let mut inner = V2_COOKIE.to_be_bytes().to_vec();
        inner.extend_from_slice(&0x7fff_ffffu32.to_be_bytes());
        inner.extend_from_slice(&[0u8; 40]);
        assert!(decode(&b64(&inner)).unwrap_err().contains("declares 2147483647 bytes of counts"));
        assert!(decode(&b64(b"garbage!")).unwrap_err().contains("not an HdrHistogram"));
    }

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
