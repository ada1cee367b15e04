//! Errors of `tachy bench`, each one line saying what went wrong and how to fix it.

use std::path::PathBuf;

/// Everything that can stop a benchmark or a comparison.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// No command was given.
    #[error("no command to benchmark: pass at least one, e.g. `tachy bench 'python3 app.py'`")]
    NoCommands,
    /// A benchmarked command exited non-zero.
    #[error("command '{command}' failed ({exit}){stderr}; fix it, or pass -i/--ignore-failure to benchmark it anyway")]
    CommandFailed {
        /// The command line.
        command: String,
        /// How it ended.
        exit: String,
        /// `: <last lines of stderr>` or empty.
        stderr: String,
    },
    /// A setup, prepare or cleanup command failed.
    #[error("{what} command '{command}' failed ({exit}){stderr}")]
    AuxFailed {
        /// `setup`, `prepare` or `cleanup`.
        what: &'static str,
        /// The command line.
        command: String,
        /// How it ended.
        exit: String,
        /// `: <last lines of stderr>` or empty.
        stderr: String,
    },
    /// A command could not be started at all.
    #[error("cannot run '{command}': {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// Why.
        source: tachy_process::RunError,
    },
    /// A program run without a shell (`-N`) cannot start: a folder, not executable, not on
    /// PATH.
    #[error(transparent)]
    Program(tachy_process::ProgramError),
    /// A command line could not be split into words (with `--no-shell`).
    #[error("cannot parse command '{command}': {reason}")]
    BadCommandLine {
        /// The command line.
        command: String,
        /// Why.
        reason: String,
    },
    /// A bad parameter definition or option value.
    #[error("{0}")]
    InvalidSetting(String),
    /// Ctrl-C before any run completed.
    #[error("interrupted before any run completed")]
    Interrupted,
    /// Reading or writing a results file failed.
    #[error("cannot {action} {path}: {source}")]
    Io {
        /// `read` or `write`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A results file is empty.
    #[error("{path} is empty: it is not a benchmark result (write one with --export-json or --save-baseline)")]
    EmptyFile {
        /// The file.
        path: PathBuf,
    },
    /// A results file is not JSON.
    #[error("{path} is not valid JSON (line {line}, column {column}: {message})")]
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
    /// Valid JSON of another kind.
    #[error("{path} is not a tachy, hyperfine or pytest-benchmark result: {detail}")]
    ForeignFile {
        /// The file.
        path: PathBuf,
        /// What was expected.
        detail: String,
    },
    /// A tachy file from an unknown schema version.
    #[error(
        "{path} has schema '{found}', which this tachy cannot read (expected 'tachy-bench/1'); re-create it with this version"
    )]
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The schema found.
        found: String,
    },
    /// The compared metric was not recorded for a command.
    #[error(
        "'{command}' in {side} has no per-run {metric} (hyperfine and pytest-benchmark files record wall time only); compare with --metric wall"
    )]
    MetricUnavailable {
        /// The metric's label.
        metric: &'static str,
        /// The command.
        command: String,
        /// Which side lacks it.
        side: String,
    },
    /// The named baseline does not exist.
    #[error("no baseline named '{name}' (looked for {path}); create it with --save-baseline {name}")]
    BaselineNotFound {
        /// The name.
        name: String,
        /// Where it was looked for.
        path: PathBuf,
    },
    /// A `--python` statement (or its setup) failed in the worker.
    #[error(
        "Python statement '{statement}' failed ({exit}){stderr}; fix it (run it with `{python} -m timeit` to see the whole error)"
    )]
    PythonFailed {
        /// The statement.
        statement: String,
        /// The interpreter.
        python: String,
        /// How the worker ended.
        exit: String,
        /// `: <last lines of stderr>` or empty.
        stderr: String,
    },
    /// The statement or its setup ended the worker process (`os._exit`, `sys.exit`).
    #[error(
        "Python statement '{statement}' ended its worker process ({exit}) before the timings were reported: a statement or setup that calls os._exit() or sys.exit() cannot be timed; time the code without the exit"
    )]
    PythonEnded {
        /// The statement.
        statement: String,
        /// How the worker ended.
        exit: String,
    },
    /// A Python worker ran but its answer could not be read.
    #[error(
        "the Python worker for '{statement}' gave no readable result ({detail}); is {python} a CPython 3 interpreter?"
    )]
    PythonWorker {
        /// The statement.
        statement: String,
        /// The interpreter.
        python: String,
        /// What was wrong.
        detail: String,
    },
    /// A raw-timings file (`--from-raw`) is unusable.
    #[error("{path} is not a usable raw-timings file: {detail}")]
    BadRaw {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        detail: String,
    },
}
