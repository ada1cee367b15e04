//! Helpers shared by the terminal renderers of `tachy load`, `tachy mem` and `tachy watch`:
//! ANSI colouring, sparklines, lists of notes, and the human formatting of counts, byte sizes
//! and seconds.

use std::fmt::Write;

/// Sparkline levels, lowest first.
pub(crate) const SPARKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// ANSI colouring, or none (plain text) when the flag is false.
#[derive(Clone, Copy)]
pub(crate) struct Paint(pub(crate) bool);

impl Paint {
    /// `s` between the escape sequence `ESC[{code}m` and a reset, or `s` alone without colour.
    fn wrap(self, code: &str, s: &str) -> String {
        if self.0 { format!("\x1b[{code}m{s}\x1b[0m") } else { s.to_string() }
    }

    /// Green: what passed or cleared.
    pub(crate) fn green(self, s: &str) -> String {
        self.wrap("32", s)
    }

    /// Bold red: failures and errors.
    pub(crate) fn red(self, s: &str) -> String {
        self.wrap("1;31", s)
    }

    /// Yellow: warnings and notes.
    pub(crate) fn yellow(self, s: &str) -> String {
        self.wrap("33", s)
    }

    /// Bold: headers and what stands out.
    pub(crate) fn bold(self, s: &str) -> String {
        self.wrap("1", s)
    }

    /// Dim: secondary detail such as stack frames.
    pub(crate) fn dim(self, s: &str) -> String {
        self.wrap("2", s)
    }
}

/// One character per value, scaled from `lo` (`▁`) to `hi` (`█`); all `▁` when `hi <= lo`.
pub(crate) fn sparkline(values: &[f64], lo: f64, hi: f64) -> String {
    values
        .iter()
        .map(|&v| {
            let level = if hi > lo { ((v - lo) / (hi - lo) * 7.0).round().clamp(0.0, 7.0) as usize } else { 0 };
            SPARKS[level]
        })
        .collect()
}

/// A titled list of warnings or notes, one yellow item per line: `{indent}{title}:`, then
/// `{indent}  - {item}`. Nothing when `items` is empty.
pub(crate) fn warnings(out: &mut String, indent: &str, title: &str, items: &[String], paint: Paint) {
    if items.is_empty() {
        return;
    }
    let _ = writeln!(out, "{indent}{title}:");
    for item in items {
        let _ = writeln!(out, "{indent}  - {}", paint.yellow(item));
    }
}

/// `out` with its trailing blank lines removed: it ends with one newline, as the sections
/// before the last each end with a blank line.
pub(crate) fn without_trailing_blank_lines(mut out: String) -> String {
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

/// A count with thousands separators: `54,321`.
pub(crate) fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `n thing` or `n things`, the count with thousands separators.
pub(crate) fn plural(n: u64, thing: &str) -> String {
    format!("{} {thing}{}", count(n), if n == 1 { "" } else { "s" })
}

/// Seconds in a unit suited to their size: `42 ms`, `3.20 s`, `61.5 s`.
pub(crate) fn secs(s: f64) -> String {
    if !s.is_finite() {
        format!("{s} s")
    } else if s < 0.9995 {
        format!("{:.0} ms", s * 1000.0)
    } else if s < 99.995 {
        format!("{s:.2} s")
    } else {
        format!("{s:.1} s")
    }
}

/// A byte count with binary units and three significant digits: `512 B`, `9.10 MiB`, `256 KiB`.
pub(crate) fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut i = 0;
    // Step up when rounding to three digits would print 1024 or more (1023.9 KiB is 1.00 MiB).
    while v.round() >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    let digits = if v >= 99.95 {
        0
    } else if v >= 9.995 {
        1
    } else {
        2
    };
    format!("{v:.digits$} {}", UNITS[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_keep_three_significant_digits() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1024), "1.00 KiB");
        assert_eq!(bytes(256 * 1024), "256 KiB");
        assert_eq!(bytes(9_542_041), "9.10 MiB");
        assert_eq!(bytes(1024 * 1024 - 1), "1.00 MiB");
        assert_eq!(bytes(10 * 1024 * 1024 - 100), "10.0 MiB");
        assert_eq!(bytes(3 * 1024 * 1024 * 1024 / 2), "1.50 GiB");
        assert_eq!(bytes(u64::MAX), "16384 PiB");
    }

    #[test]
    fn seconds_pick_units() {
        assert_eq!(secs(0.042), "42 ms");
        assert_eq!(secs(0.9996), "1.00 s");
        assert_eq!(secs(3.2), "3.20 s");
        assert_eq!(secs(125.0), "125.0 s");
    }

    #[test]
    fn counts_and_plurals() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(plural(1, "site"), "1 site");
        assert_eq!(plural(12_000, "site"), "12,000 sites");
    }

    #[test]
    fn sparklines_scale_between_bounds() {
        assert_eq!(sparkline(&[0.0, 3.5, 7.0], 0.0, 7.0), "▁▅█");
        assert_eq!(sparkline(&[10.0, 17.0], 10.0, 17.0), "▁█");
        assert_eq!(sparkline(&[5.0, 5.0], 5.0, 5.0), "▁▁");
    }

    #[test]
    fn warnings_and_trailing_lines() {
        let mut out = String::new();
        warnings(&mut out, "  ", "Notes", &[], Paint(false));
        assert_eq!(out, "");
        warnings(&mut out, "  ", "Notes", &["a".to_string(), "b".to_string()], Paint(false));
        assert_eq!(out, "  Notes:\n    - a\n    - b\n");
        assert_eq!(without_trailing_blank_lines("x\n\n\n".to_string()), "x\n");
    }

    #[test]
    fn paint_only_when_asked() {
        assert_eq!(Paint(false).red("x"), "x");
        assert_eq!(Paint(true).red("x"), "\x1b[1;31mx\x1b[0m");
        assert_eq!(Paint(true).dim("x"), "\x1b[2mx\x1b[0m");
    }
}
