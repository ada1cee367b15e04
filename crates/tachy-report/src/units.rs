//! Reading human quantities shared by the command line and config files: durations (`3s`,
//! `500ms`), sizes (`500MB`, `256KiB`) with the unit family they were written in, percentages
//! (`5%`) and growth rates (`5MB/h`).

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The family of size units a value was written in, so figures shown next to it read alike:
/// a limit written `200MB` is shown as `200 MB` (not `191 MiB`), and so is what was measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SizeUnits {
    /// `KB`, `MB`, `GB`, `TB`: powers of 1000.
    Decimal,
    /// `KiB`, `MiB`, `GiB`, `TiB`: powers of 1024 (tachy's default, and for bare byte counts).
    #[default]
    Binary,
}

impl SizeUnits {
    /// The family of the size unit after the last number of `text` (`200MB`, `<= 1.5 GiB`,
    /// `rss>60MB`, `5MB/h`); `None` when that number has no size unit (`4096`, `200 ms`).
    pub fn of_written(text: &str) -> Option<SizeUnits> {
        let end = text.rfind(|c: char| c.is_ascii_digit())?;
        let unit = text[end + 1..].trim_start().split(['/', ' ']).next().unwrap_or("").to_ascii_lowercase();
        match unit.as_str() {
            "k" | "kb" | "m" | "mb" | "g" | "gb" | "t" | "tb" => Some(SizeUnits::Decimal),
            "ki" | "kib" | "mi" | "mib" | "gi" | "gib" | "ti" | "tib" => Some(SizeUnits::Binary),
            _ => None,
        }
    }
}

/// A size as the user wrote it: its bytes and the unit family to show it (and what is
/// compared with it) in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    /// Bytes.
    pub bytes: u64,
    /// The family it was written in ([`SizeUnits::Binary`] for a bare byte count).
    pub units: SizeUnits,
}

/// Parses a size like [`parse_size`] and remembers its unit family.
pub fn parse_size_written(s: &str) -> Result<Size, String> {
    Ok(Size { bytes: parse_size(s)?, units: SizeUnits::of_written(s).unwrap_or_default() })
}

/// Parses `3s`, `500ms`, `2m`, or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    if let Ok(secs) = t.parse::<f64>() {
        return match Duration::try_from_secs_f64(secs) {
            Ok(d) => Ok(d),
            Err(_) if secs.is_finite() && secs > 0.0 => Err(format!("'{s}' is too long a duration")),
            Err(_) => Err(format!("'{s}' is not a duration")),
        };
    }
    humantime::parse_duration(t).map_err(|e| format!("'{s}' is not a duration like 3s or 500ms ({e})"))
}

/// Parses `500MB`, `256KiB`, `1.5GiB` or a number of bytes (`KB`/`MB`/`GB` are powers of 1000,
/// `KiB`/`MiB`/`GiB` powers of 1024).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().map_err(|_| format!("'{s}' is not a size like 500MB or 256KiB"))?;
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "ki" | "kib" => 1024.0,
        "mi" | "mib" => 1024.0 * 1024.0,
        "gi" | "gib" => 1024.0 * 1024.0 * 1024.0,
        _ => return Err(format!("'{s}': unknown unit '{unit}' (use B, KB, MB, GB, KiB, MiB or GiB)")),
    };
    if !(n.is_finite() && n >= 0.0) {
        return Err(format!("'{s}' is not a size"));
    }
    let bytes = (n * factor).round();
    // 2^64: the first size a u64 cannot hold (`as` would silently saturate to it).
    if bytes >= 18_446_744_073_709_551_616.0 {
        return Err(format!("'{s}' is too large a size"));
    }
    Ok(bytes as u64)
}

/// Parses `5%` or `0.5 %` into a number of percent (the `%` is required).
pub fn parse_percent(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let Some(num) = t.strip_suffix('%') else {
        return Err(format!("'{s}' is not a percentage like 5%"));
    };
    match num.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ => Err(format!("'{s}' is not a percentage like 5%")),
    }
}

/// Parses a growth rate such as `5MB/h`, `1MiB/min` or `10KB/s` into bytes per hour.
pub fn parse_growth(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let Some((size, per)) = t.rsplit_once('/') else {
        return Err(format!("'{s}' is not a growth rate like 5MB/h (a size per h, min or s)"));
    };
    let bytes = parse_size(size)? as f64;
    let per_hour = match per.trim() {
        "h" | "hour" => 1.0,
        "min" | "m" => 60.0,
        "s" | "sec" => 3600.0,
        other => return Err(format!("'{s}': unknown time unit '{other}' (use h, min or s)")),
    };
    Ok(bytes * per_hour)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("3s").unwrap().as_millis(), 3000);
        assert_eq!(parse_duration("500ms").unwrap().as_millis(), 500);
        assert_eq!(parse_duration("1.5").unwrap().as_millis(), 1500);
        assert!(parse_duration("-1").is_err());
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("500MB").unwrap(), 500_000_000);
        assert_eq!(parse_size("256KiB").unwrap(), 262_144);
        assert_eq!(parse_size("1.5GiB").unwrap(), 1_610_612_736);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5XB").unwrap_err().contains("unknown unit"));
    }

    #[test]
    fn sizes_remember_their_unit_family() {
        let d = parse_size_written("200MB").unwrap();
        assert_eq!((d.bytes, d.units), (200_000_000, SizeUnits::Decimal));
        let b = parse_size_written("1.5 GiB").unwrap();
        assert_eq!((b.bytes, b.units), (1_610_612_736, SizeUnits::Binary));
        assert_eq!(parse_size_written("4096").unwrap().units, SizeUnits::Binary);
        assert_eq!(SizeUnits::of_written("<= 60mb"), Some(SizeUnits::Decimal));
        assert_eq!(SizeUnits::of_written("rss>60MB"), Some(SizeUnits::Decimal));
        assert_eq!(SizeUnits::of_written("growth>5MiB/h"), Some(SizeUnits::Binary));
        assert_eq!(SizeUnits::of_written("<= 200 ms"), None);
        assert_eq!(SizeUnits::of_written("<= 4096"), None);
        assert_eq!(SizeUnits::of_written("fds>1000"), None);
    }

    #[test]
    fn percents_and_growth() {
        assert_eq!(parse_percent("5%").unwrap(), 5.0);
        assert_eq!(parse_percent(" 0.5 %").unwrap(), 0.5);
        assert!(parse_percent("5").is_err());
        assert_eq!(parse_growth("5MB/h").unwrap(), 5e6);
        assert_eq!(parse_growth("1MB/s").unwrap(), 3.6e9);
        assert!(parse_growth("5MB").is_err());
        assert!(parse_growth("5MB/day").is_err());
    }
}
