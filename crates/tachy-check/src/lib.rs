//! `tachy check`: performance budgets written in `pyproject.toml` (`[tool.tachy]`) or
//! `tachy.toml`, run one by one as a CI gate, with a history of every measurement.
//!
//! - [`config`]: the budget types (also the source of the JSON schema), discovery, validation.
//! - [`init`]: the starter file of `tachy init`, with the targets of the seeds' guides.
//! - [`evaluate`]: from each command's JSON result to limit checks.
//! - [`runner`]: runs the budgets (through a mockable [`runner::Executor`] that runs the
//!   tachy binary itself), starting and stopping servers.
//! - [`history`]: `.tachy/history/` JSON lines, trends and step changes.
//!
//! This crate never prints or exits: it returns a [`tachy_report::check::CheckReport`].

pub mod config;
pub mod error;
pub mod evaluate;
pub mod history;
pub mod init;
pub mod runner;

pub use error::{CheckError, ConfigError};
