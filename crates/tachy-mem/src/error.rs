//! Errors of `tachy mem`, each one line saying what went wrong and how to fix it.

use std::path::PathBuf;

/// Everything that stops a memory profile or a `show`.
#[derive(Debug, thiserror::Error)]
pub enum MemError {
    /// No command given.
    #[error("no command to profile: write it after --, e.g. `tachy mem -- python3 app.py`")]
    NoCommand,
    /// The program cannot be run: not on PATH, no such file, a folder, not executable.
    #[error(transparent)]
    Program(#[from] tachy_process::ProgramError),
    /// The program vanished between the check and the launch.
    #[error("cannot run `{0}`: command not found")]
    ProgramNotFound(String),
    /// The Python script does not exist.
    #[error("script not found: {0}")]
    ScriptNotFound(PathBuf),
    /// Starting the program failed.
    #[error("cannot start `{command}`: {reason}")]
    Spawn {
        /// The command.
        command: String,
        /// Why.
        reason: String,
    },
    /// The program ran but no Python interpreter loaded the hook.
    #[error(
        "`{command}` ran ({status}) but no Python process loaded tachy's memory hook: tachy mem profiles Python programs (`tachy mem -- python3 app.py`); `python -S`, `-I` and `-E` skip the bootstrap"
    )]
    NotPython {
        /// The command.
        command: String,
        /// How it ended.
        status: String,
    },
    /// The interpreter lacks something the hook needs.
    #[error("{0}")]
    HookFailed(String),
    /// A capture or saved report is corrupt.
    #[error("{path}: corrupt capture: {reason}")]
    CorruptCapture {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A saved report is not readable.
    #[error("{path}: not a tachy mem report ({reason}); save one with `tachy mem -o FILE -- ...`")]
    BadReport {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A scratch file could not be written.
    #[error("cannot prepare the hook in {path}: {source}")]
    Setup {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// An option is invalid.
    #[error("{0}")]
    InvalidSetting(String),
}
