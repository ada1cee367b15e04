//! Human formatting of durations, sizes, ratios and p-values, shared by the text renderers.

/// A time unit and precision chosen from one reference value, so every figure on a line or
/// in a table reads alike (`12.54 ms ± 0.30 ms`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    divisor: f64,
    suffix: &'static str,
    digits: usize,
}

impl Scale {
    /// The scale suited to `seconds`.
    pub fn of(seconds: f64) -> Scale {
        let a = seconds.abs();
        let (divisor, suffix) = if a >= 1.0 {
            (1.0, "s")
        } else if a >= 1e-3 || a == 0.0 || !a.is_finite() {
            (1e-3, "ms")
        } else if a >= 1e-6 {
            (1e-6, "µs")
        } else {
            (1e-9, "ns")
        };
        let v = a / divisor;
        let digits = if v >= 100.0 {
            1
        } else if v >= 10.0 {
            2
        } else {
            3
        };
        Scale { divisor, suffix, digits }
    }

    /// Formats `seconds` in this scale.
    pub fn fmt(&self, seconds: f64) -> String {
        format!("{:.*} {}", self.digits, seconds / self.divisor, self.suffix)
    }
}

/// Formats seconds with an automatically chosen unit, e.g. `12.34 ms`.
pub fn time(seconds: f64) -> String {
    Scale::of(seconds).fmt(seconds)
}

/// Formats a byte count with binary units, e.g. `9.1 MiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 { format!("{n} B") } else { format!("{v:.1} {}", UNITS[i]) }
}

/// Formats a byte count (signed) in the unit family `units`, three significant digits:
/// `200 MB`, `22.0 MB`, `1.50 GB` in decimal units; `191 MiB`, `21.0 MiB` in binary ones.
pub fn size(bytes: f64, units: crate::units::SizeUnits) -> String {
    if !bytes.is_finite() {
        return format!("{bytes} B");
    }
    let (base, names): (f64, [&str; 5]) = match units {
        crate::units::SizeUnits::Decimal => (1000.0, ["KB", "MB", "GB", "TB", "PB"]),
        crate::units::SizeUnits::Binary => (1024.0, ["KiB", "MiB", "GiB", "TiB", "PiB"]),
    };
    let sign = if bytes < 0.0 && bytes.abs().round() >= 1.0 { "-" } else { "" };
    let n = bytes.abs();
    if n.round() < base {
        return format!("{sign}{} B", n.round());
    }
    let mut v = n / base;
    let mut i = 0;
    // Step up when rounding to three digits would print `base` or more (999.9 KB is 1.00 MB).
    while v.round() >= base && i < names.len() - 1 {
        v /= base;
        i += 1;
    }
    let digits = if v >= 99.95 {
        0
    } else if v >= 9.995 {
        1
    } else {
        2
    };
    format!("{sign}{v:.digits$} {}", names[i])
}

/// Formats a p-value the way papers do: `p < 0.001` or `p = 0.042`.
pub fn p_value(p: f64) -> String {
    if p < 0.001 { "p < 0.001".to_string() } else { format!("p = {p:.3}") }
}

/// Formats a p-value for a table cell: `<0.001` or `0.042`.
pub fn p_short(p: f64) -> String {
    if p < 0.001 { "<0.001".to_string() } else { format!("{p:.3}") }
}

/// Formats a fraction as a percentage with one decimal, e.g. `5.0%`.
pub fn percent(fraction: f64) -> String {
    format!("{:.1}%", fraction * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_pick_units() {
        assert_eq!(time(1.5), "1.500 s");
        assert_eq!(time(0.01234), "12.34 ms");
        assert_eq!(time(0.000_523_1), "523.1 µs");
        assert_eq!(time(2.5e-8), "25.00 ns");
        assert_eq!(time(0.0), "0.000 ms");
        let scale = Scale::of(0.01254);
        assert_eq!(scale.fmt(0.0003), "0.30 ms");
    }

    #[test]
    fn bytes_use_binary_units() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(9_542_041), "9.1 MiB");
    }

    #[test]
    fn sizes_in_the_family_written() {
        use crate::units::SizeUnits::{Binary, Decimal};
        assert_eq!(size(200e6, Decimal), "200 MB");
        assert_eq!(size(200e6, Binary), "191 MiB");
        assert_eq!(size(22_020_096.0, Decimal), "22.0 MB");
        assert_eq!(size(22_020_096.0, Binary), "21.0 MiB");
        assert_eq!(size(60e6, Decimal), "60.0 MB");
        assert_eq!(size(1.5e9, Decimal), "1.50 GB");
        assert_eq!(size(999_999.0, Decimal), "1.00 MB");
        assert_eq!(size(512.0, Decimal), "512 B");
        assert_eq!(size(-5e6, Decimal), "-5.00 MB");
        assert_eq!(size(1024.0 * 1024.0, Binary), "1.00 MiB");
    }

    #[test]
    fn p_values_and_percents() {
        assert_eq!(p_value(0.0004), "p < 0.001");
        assert_eq!(p_value(0.0421), "p = 0.042");
        assert_eq!(percent(0.05), "5.0%");
    }
}
