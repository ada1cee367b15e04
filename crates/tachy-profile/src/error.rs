//! Errors of `tachy profile`, each one line saying what went wrong and how to fix it.

use std::path::PathBuf;

/// Everything that can stop a profile, a `show` or a `diff`.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// No process has this PID.
    #[error("no process with PID {0}: check the PID (e.g. with `pgrep -f python`)")]
    NoSuchProcess(u32),
    /// The process runs no Python interpreter that py-spy can read.
    #[error("process {pid} (`{command}`) is not a Python program tachy can read: {detail}")]
    NotPython {
        /// The PID.
        pid: u32,
        /// Its command line.
        command: String,
        /// What the stack reader said.
        detail: String,
    },
    /// The kernel refused to let tachy read the process.
    #[error("cannot read process {pid}: permission denied ({cause}); {fix}")]
    PermissionDenied {
        /// The PID.
        pid: u32,
        /// Why, e.g. the yama ptrace_scope setting.
        cause: String,
        /// The exact fix.
        fix: String,
    },
    /// The program to launch cannot be run: not on PATH, no such file, a folder, not
    /// executable.
    #[error(transparent)]
    Program(#[from] tachy_process::ProgramError),
    /// The Python script to launch does not exist.
    #[error("script not found: {0}")]
    ScriptNotFound(PathBuf),
    /// Starting the program failed.
    #[error("cannot start `{command}`: {source}")]
    Spawn {
        /// The command.
        command: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The program ended before a single sample was taken.
    #[error(
        "`{command}` exited ({status}) before the first sample: nothing to profile (a very short program needs a higher --rate)"
    )]
    ExitedBeforeSample {
        /// The command.
        command: String,
        /// How it ended.
        status: String,
    },
    /// Ctrl-C before the first sample.
    #[error("interrupted before the first sample")]
    InterruptedBeforeSample,
    /// `--native` in a build without libunwind.
    #[error(
        "--native needs a tachy built with native unwinding (`cargo build --features tachy-profile/unwind`, which needs libunwind-dev); this build reads Python frames only"
    )]
    NativeUnsupported,
    /// A bad option value.
    #[error("{0}")]
    InvalidSetting(String),
    /// Reading or writing a file failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// `read` or `write`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A profile file is empty.
    #[error("{path} is empty: it is not a tachy profile (write one with `tachy profile -o FILE`)")]
    EmptyFile {
        /// The file.
        path: PathBuf,
    },
    /// A profile file is not JSON.
    #[error("{path} is not a tachy profile: not valid JSON (line {line}, column {column}: {message})")]
    InvalidJson {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// serde_json's description.
        message: String,
    },
    /// Valid JSON of another kind, or internally inconsistent.
    #[error("{path} is not a tachy profile: {detail}")]
    Foreign {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// A profile from an unknown schema version.
    #[error("{path} has schema '{found}', which this tachy cannot read (expected 'tachy-profile/1')")]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The schema found.
        found: String,
    },
}
