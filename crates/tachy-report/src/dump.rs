//! The report of `tachy dump`: every thread's current Python stack, once (schema `tachy-dump/1`).

use serde::{Deserialize, Serialize};

/// The value of the `schema` field of a dump.
pub const DUMP_SCHEMA: &str = "tachy-dump/1";

/// Stacks of one or more processes at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DumpReport {
    /// Always [`DUMP_SCHEMA`].
    pub schema: String,
    /// The root process first, then its Python descendants (with `--subprocesses`).
    pub processes: Vec<ProcessDump>,
}

/// One process.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessDump {
    /// Process id.
    pub pid: u32,
    /// Its command line.
    pub command: String,
    /// Python version.
    pub python_version: String,
    /// Its threads.
    pub threads: Vec<ThreadDump>,
}

/// One thread's state and stack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadDump {
    /// Python thread id.
    pub thread_id: u64,
    /// OS thread id, when known.
    pub os_thread_id: Option<u64>,
    /// Thread name, when known.
    pub name: Option<String>,
    /// Whether it holds the GIL.
    pub gil: bool,
    /// Whether it is running (false: idle, waiting on a lock, I/O or sleep).
    pub active: bool,
    /// Frames, outermost first and innermost last (as in a Python traceback).
    pub frames: Vec<DumpFrame>,
}

/// One frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DumpFrame {
    /// Function name.
    pub function: String,
    /// Source file.
    pub file: String,
    /// Line being executed.
    pub line: i32,
    /// The source text of that line, when the file could be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Local variables (with `--locals`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locals: Vec<LocalVar>,
}

/// A local variable, read from the process's memory (never by running code in it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocalVar {
    /// Name.
    pub name: String,
    /// A truncated repr, or `?` when it could not be read.
    pub repr: String,
    /// True for function arguments.
    pub arg: bool,
}

impl ThreadDump {
    /// `running` or `idle`, plus `holds the GIL`.
    pub fn status(&self) -> String {
        let state = if self.active { "running" } else { "idle" };
        if self.gil { format!("{state}, holds the GIL") } else { state.to_string() }
    }
}
