//! Process spawning and measurement shared by every tachy command.
//!
//! - [`run`]: spawn one command, wait for it with `wait4`, and return its wall, user and
//!   system time, peak RSS and exit status ([`Measurement`]).
//! - [`interrupt`]: Ctrl-C handling. The first Ctrl-C sets a flag that long work polls and
//!   kills the child currently being measured; the binary decides what a second one does.
//! - [`python`]: Python interpreter discovery (resolving pyenv shims to the real executable).
//! - [`program`]: checking a command's program before launching it (a folder, a missing file,
//!   no execute bit, not on `PATH`), so the error names the real problem.
//!
//! This crate never prints and never exits the process.

pub mod interrupt;
pub mod program;
pub mod python;
mod run;

pub use program::ProgramError;
pub use run::{ExitInfo, Measurement, OutputMode, RunError, RunSpec, StderrTail, run};
