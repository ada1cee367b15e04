//! Errors of `tachy lint` that stop the whole run (a problem with one file is a
//! [`tachy_report::lint::FileError`] in the report instead, and the run goes on).

use std::path::PathBuf;

/// Why `tachy lint` could not run.
#[derive(Debug, thiserror::Error)]
pub enum LintError {
    /// A path given on the command line does not exist.
    #[error("{}: no such file or directory (give an existing file or folder to lint)", .0.display())]
    PathNotFound(PathBuf),
    /// The configuration is broken.
    #[error("{}:{line}: {message}", path.display())]
    Config {
        /// The config file.
        path: PathBuf,
        /// Line of the problem (1-based).
        line: usize,
        /// What is wrong and what is accepted.
        message: String,
    },
    /// A rule selector names no rule.
    #[error(
        "unknown rule selector `{0}`: give a code (TA101), a prefix (TA1, TA) or ALL; `tachy lint --list-rules` lists them"
    )]
    UnknownSelector(String),
    /// The profile given with `--profile` could not be used.
    #[error("{0}")]
    Profile(String),
    /// An `--exclude` or `per-file-ignores` pattern is not a valid glob.
    #[error("{0}; write a glob such as 'tests/**', '*.pyi' or a folder name")]
    BadGlob(String),
    /// The worker threads could not be started.
    #[error("cannot start the lint threads: {0}")]
    Threads(String),
    /// A fixed file could not be written.
    #[error("cannot write the fixed {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}
