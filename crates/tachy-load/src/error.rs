//! Errors of `tachy load`, each one line saying what went wrong and how to fix it.

use std::path::PathBuf;

/// Everything that stops a load test before (or instead of) producing a report.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The URL does not parse or is not http(s).
    #[error("invalid URL '{url}': {reason}; write it like http://127.0.0.1:8000/path")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong.
        reason: String,
    },
    /// The host name does not resolve.
    #[error("cannot resolve host '{host}': {reason}; check the host name in the URL")]
    Resolve {
        /// The host.
        host: String,
        /// The resolver's message.
        reason: String,
    },
    /// The first connection failed, so no load can be made.
    #[error("cannot connect to {addr}: {reason}; {hint}")]
    Connect {
        /// `host:port`.
        addr: String,
        /// The OS message.
        reason: String,
        /// How to fix it.
        hint: String,
    },
    /// An option or a combination of options is invalid.
    #[error("{0}")]
    InvalidSetting(String),
    /// An SLO expression does not parse.
    #[error(
        "invalid SLO '{expr}': {reason}; accepted forms: p50|p90|p95|p99|p99.9|pNN|mean|min|max<200ms, errors<1%, timeouts<0.5%, rps>=100, dropped<=10 or dropped<1% (operators <, <=, >, >=)"
    )]
    InvalidSlo {
        /// The expression.
        expr: String,
        /// What is wrong.
        reason: String,
    },
    /// The scenario file is malformed.
    #[error("{path}:{line}:{column}: {message}")]
    Scenario {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A report to merge is not a tachy load report.
    #[error("{path}: not a tachy load report ({reason})")]
    BadReport {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The generator could not start its threads or runtime.
    #[error("cannot start the load generator: {0}")]
    Runtime(std::io::Error),
    /// TLS could not be configured.
    #[error("TLS setup failed: {0}")]
    Tls(String),
}
