//! `tachy-test-server`: a local HTTP server with a fixed response delay and an optional
//! whole-server stall, for the `tachy load` benchmark scripts.
//!
//! ```text
//! tachy-test-server [--delay 10ms] [--stall-after 2s --stall 1s] [--port 0]
//! ```
//! Prints `http://127.0.0.1:PORT/` on stdout, then serves until killed.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use tachy_test::servers::{Behavior, TestServer};

/// Usage line shown on bad arguments.
const USAGE: &str = "usage: tachy-test-server [--delay 10ms] [--stall-after 2s --stall 1s] [--port 0]";

/// Parses `10ms`, `1.5s`, `2m`, `500us` or `0`.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let value: f64 = num.parse().map_err(|_| format!("invalid duration '{s}'"))?;
    let secs = match unit {
        "" if value == 0.0 => 0.0,
        "us" | "µs" => value / 1e6,
        "ms" => value / 1e3,
        "s" => value,
        "m" => value * 60.0,
        _ => return Err(format!("invalid duration '{s}' (use us, ms, s or m)")),
    };
    Duration::try_from_secs_f64(secs).map_err(|_| format!("invalid duration '{s}'"))
}

/// The options of the command line.
struct Options {
    /// Delay of every response.
    delay: Duration,
    /// Start of the stall.
    stall_after: Option<Duration>,
    /// Length of the stall.
    stall: Option<Duration>,
    /// Port to bind (0: ephemeral).
    port: u16,
}

/// Parses the command line by hand.
fn parse_args(args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut opts = Options { delay: Duration::ZERO, stall_after: None, stall: None, port: 0 };
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        if name == "-h" || name == "--help" {
            return Err(USAGE.to_string());
        }
        let value = match inline {
            Some(v) => v,
            None => args.next().ok_or_else(|| format!("{name} needs a value\n{USAGE}"))?,
        };
        match name.as_str() {
            "--delay" => opts.delay = parse_duration(&value)?,
            "--stall-after" => opts.stall_after = Some(parse_duration(&value)?),
            "--stall" => opts.stall = Some(parse_duration(&value)?),
            "--port" => opts.port = value.parse().map_err(|_| format!("invalid port '{value}'"))?,
            _ => return Err(format!("unknown argument '{name}'\n{USAGE}")),
        }
    }
    Ok(opts)
}

fn main() -> ExitCode {
    let opts = match parse_args(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "tachy-test-server: {e}");
            return ExitCode::from(2);
        }
    };
    let behavior = match (opts.stall_after, opts.stall) {
        (None, None) => Behavior::ok_after(opts.delay),
        (after, stall) => Behavior::DelayedStall {
            delay: opts.delay,
            after: after.unwrap_or(Duration::ZERO),
            stall: stall.unwrap_or(Duration::from_secs(1)),
        },
    };
    let server = match TestServer::start_on_port(behavior, opts.port) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "tachy-test-server: cannot listen on 127.0.0.1:{}: {e}", opts.port);
            return ExitCode::from(2);
        }
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", server.url("/"));
    let _ = out.flush();
    drop(out);
    loop {
        std::thread::park();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10ms").unwrap(), Duration::from_millis(10));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("500us").unwrap(), Duration::from_micros(500));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        assert!(parse_duration("10").is_err());
        assert!(parse_duration("fast").is_err());
    }

    #[test]
    fn arguments() {
        let o = parse_args(
            ["--delay", "10ms", "--stall-after=2s", "--stall", "1s", "--port", "0"].into_iter().map(String::from),
        )
        .unwrap();
        assert_eq!(o.delay, Duration::from_millis(10));
        assert_eq!(o.stall_after, Some(Duration::from_secs(2)));
        assert_eq!(o.stall, Some(Duration::from_secs(1)));
        assert_eq!(o.port, 0);
        assert!(parse_args(["--bogus", "1"].into_iter().map(String::from)).is_err());
        assert!(parse_args(["--delay"].into_iter().map(String::from)).is_err());
    }
}
