//! `tachy load`: an HTTP load generator with coordinated-omission-correct latencies.
//!
//! [`run`] drives one load test from [`LoadSettings`] and returns a
//! [`tachy_report::load::LoadReport`]. The engine runs one single-threaded tokio runtime per
//! worker thread; each connection is a task that sends its requests one after the other
//! (closed model) or on its share of a fixed arrival schedule (open model, latency measured
//! from the intended send time, as wrk2 does). HTTP/1.1 is spoken directly over the socket
//! (pre-serialised requests, `httparse` responses); HTTP/2 goes through hyper. Latencies land
//! in per-thread HdrHistograms merged once a second into the timeline.
//!
//! This crate never prints or exits.

mod error;
#[cfg(test)]
mod fuzz;
mod hdr;
pub mod hdr_log;
pub mod merge;
pub mod scenario;
pub mod settings;
pub mod slo;

pub use error::LoadError;
pub use settings::{Bound, ExpectStatus, LoadSettings, RequestSpec, Stage};
pub use slo::Slo;
mod engine;
mod profile;
pub mod report;

pub use engine::{NoProgress, Observer, Tick};

use tachy_report::load::LoadReport;

/// Runs a load test: checks the settings, resolves and probes the target, profiles the server
/// when asked, generates the load and builds the report. `should_stop` is polled for Ctrl-C.
pub fn run(
    settings: &LoadSettings,
    observer: &mut dyn Observer,
    should_stop: &dyn Fn() -> bool,
) -> Result<LoadReport, LoadError> {
    settings.validate()?;
    let connector = engine::preflight(settings)?;
    let profiler = match settings.profile_pid {
        Some(pid) => Some(profile::ServerProfiler::start(pid, settings)?),
        None => None,
    };
    let raw = engine::execute(settings, connector, observer, should_stop);
    let server_profile = profiler.map(profile::ServerProfiler::finish);
    let mut report = report::build(settings, &raw?);
    report.server_profile = server_profile;
    Ok(report)
}

#[cfg(test)]
pub(crate) mod tests {
    use tachy_report::load::*;

    /// A report with nothing in it, for tests.
    pub fn empty_report() -> LoadReport {
        LoadReport {
            schema: LOAD_SCHEMA.into(),
            tachy_version: "0.0.0".into(),
            run: RunInfo {
                url: "http://127.0.0.1:1/".into(),
                model: LoadModel::Closed,
                http_version: "1.1".into(),
                connections: 1,
                streams: 1,
                threads: 1,
                rate: None,
                duration_secs: Some(1.0),
                requests: None,
                timeout_secs: 10.0,
                keepalive: true,
                scenario: None,
            },
            started_at: "2026-01-01T00:00:00Z".into(),
            elapsed_secs: 1.0,
            end: LoadEnd::Completed,
            totals: LoadStats::default(),
            endpoints: vec![],
            timeline: vec![],
            schedule: None,
            generator: GeneratorCheck::default(),
            slos: vec![],
            server_profile: None,
            parts: 1,
            notes: vec![],
        }
    }
}
