//! Errors of `tachy check`: a config that cannot be read, and failures of the run itself.

use std::path::PathBuf;

/// The config file is missing, unreadable or invalid.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// No config file was found.
    #[error(
        "no budgets found: no tachy.toml or pyproject.toml with [tool.tachy] in {dir} or above; run `tachy init` to write one"
    )]
    NotFound {
        /// Where the search started.
        dir: PathBuf,
    },
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A value or key is wrong.
    #[error("{}{}: {}{message}", path.display(), location.as_ref().map(|l| format!(":{l}")).unwrap_or_default(), if key.is_empty() { String::new() } else { format!("{key}: ") })]
    Invalid {
        /// The file.
        path: PathBuf,
        /// `line` or `line:col`, when known.
        location: Option<String>,
        /// The dotted key, e.g. `tool.tachy.budget.api.slo[1]`.
        key: String,
        /// What is wrong and what is accepted.
        message: String,
    },
    /// `--only NAME` names no budget.
    #[error("no budget named {name:?} in {path}; budgets: {known}")]
    UnknownBudget {
        /// The name asked for.
        name: String,
        /// The config file.
        path: PathBuf,
        /// The budgets it has.
        known: String,
    },
    /// The config has no budgets.
    #[error(
        "{path} defines no budgets; add a [budget.NAME] table (or [tool.tachy.budget.NAME] in pyproject.toml), or run `tachy init`"
    )]
    Empty {
        /// The config file.
        path: PathBuf,
    },
}

/// A failure of `tachy check` that stops the whole run (a budget that cannot run is not one:
/// it gets the verdict `error` and the run goes on).
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The config.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Writing the history, a baseline or a result folder failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file or folder could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An existing file is not the tachy file it would be replaced by (or appended to).
    #[error("{message}")]
    Refused {
        /// Which file and why.
        message: String,
    },
    /// Reading the history failed.
    #[error("{path}:{line}: {message}")]
    History {
        /// The history file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
}
