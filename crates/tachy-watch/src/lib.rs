//! `tachy watch`: samples a process (or its tree) from `/proc` at a fixed interval: CPU,
//! memory (RSS, USS, PSS, swap), threads, descriptors, TCP sockets, I/O, context switches and
//! faults; fits the memory growth robustly (Theil-Sen with a confidence interval), evaluates
//! alerts, serves Prometheus metrics, and builds an end report ([`watch::run`]).
//!
//! This crate never prints or exits.

pub mod alert;
pub mod config;
pub mod growth;
pub mod procfs;
pub mod prometheus;
pub mod watch;

pub use watch::{NoObserver, Observer, Target, WatchSettings, run};

/// Everything that stops a watch.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    /// No process has this PID.
    #[error("no process with PID {0}: check the PID (e.g. with `pgrep -f python`)")]
    NoSuchProcess(u32),
    /// Reading the process failed.
    #[error(transparent)]
    Proc(#[from] procfs::ProcError),
    /// The command could not start.
    #[error("cannot start `{command}`: {reason}")]
    Spawn {
        /// The command.
        command: String,
        /// Why.
        reason: String,
    },
    /// The Prometheus endpoint could not start.
    #[error(transparent)]
    Exporter(#[from] prometheus::ExporterError),
    /// An option is invalid.
    #[error("{0}")]
    InvalidSetting(String),
}
