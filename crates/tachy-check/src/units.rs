//! Config values read as quantities (the parsers live in `tachy_report::units`, shared with
//! the command line).

use std::time::Duration;

use tachy_report::units as u;

/// `"10s"`, `"500ms"`.
pub fn duration(s: &str) -> Result<Duration, String> {
    u::parse_duration(s)
}

/// `"100MB"`, `"256KiB"`.
pub fn size(s: &str) -> Result<u64, String> {
    u::parse_size(s)
}

/// `"5%"`.
pub fn percent(s: &str) -> Result<f64, String> {
    u::parse_percent(s)
}

/// `"5MB/h"`, in bytes per hour.
pub fn growth(s: &str) -> Result<f64, String> {
    u::parse_growth(s)
}
