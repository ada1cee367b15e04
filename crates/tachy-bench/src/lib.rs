//! `tachy bench`: statistically sound command benchmarks.
//!
//! Data flow: the binary resolves its arguments into [`BenchSettings`] (with
//! [`params::expand`] producing one [`BenchCommand`] per command and parameter value), then
//! calls [`runner::run`] with an [`Executor`] ([`ProcessExecutor`] for real commands,
//! [`MockExecutor`] for deterministic tests). The runner interleaves runs and returns a
//! [`tachy_report::BenchReport`]; [`baseline`] saves it, loads saved or foreign (hyperfine,
//! pytest-benchmark) results, and applies the regression gate.
//!
//! Two more sources feed the same analysis: [`python`] measures timeit-style statements in
//! fresh worker processes (`--python`), and [`raw`] reads per-round timings handed over by
//! the pytest plugin (`--from-raw`). [`pytest_json`] writes and reads pytest-benchmark JSON.
//!
//! This crate never prints and never exits: progress goes through [`Observer`], problems are
//! returned as [`BenchError`] or recorded as warnings in the report.

pub mod analysis;
pub mod baseline;
mod error;
pub mod executor;
pub mod params;
pub mod pytest_json;
pub mod python;
pub mod raw;
pub mod runner;
mod settings;

pub use error::BenchError;
pub use executor::{Executor, MockExecutor, ProcessExecutor, Sample};
pub use runner::{NoProgress, Observer};
pub use settings::{BenchCommand, BenchSettings, RunCount};
