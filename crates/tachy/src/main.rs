//! The `tachy` binary: parses arguments, runs a command, prints, and maps the outcome to an
//! exit code. It is the only crate that prints or exits.
//!
//! Exit codes: 0 success, 1 a gate failed (regression, budget, findings), 2 tachy itself
//! failed (bad input included), 130 interrupted by Ctrl-C. A closed stdout (broken pipe)
//! ends the program quietly with 0.

use std::process::ExitCode;

use clap::Parser;

mod args;
mod commands;
mod output;
mod printer;

// mimalloc: the linter parses thousands of files in parallel, and the system allocator took
// about a fifth of its time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How a tachy invocation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything ran and every gate passed.
    Success,
    /// A gate failed: a regression, a budget or findings.
    Failure,
    /// tachy could not do its job.
    Error,
    /// Ctrl-C.
    Interrupted,
}

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> Self {
        ExitCode::from(match s {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Error => 2,
            ExitStatus::Interrupted => 130,
        })
    }
}

fn main() -> ExitCode {
    let cli = match args::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    if let Err(e) = tachy_process::interrupt::install(|| std::process::exit(130)) {
        printer::error(&anyhow::Error::new(e));
        return ExitStatus::Error.into();
    }
    match commands::run(cli) {
        Ok(status) => status.into(),
        Err(err) => {
            if printer::is_broken_pipe(&err) {
                return ExitStatus::Success.into();
            }
            if tachy_process::interrupt::interrupted() {
                printer::error(&err);
                return ExitStatus::Interrupted.into();
            }
            printer::error(&err);
            ExitStatus::Error.into()
        }
    }
}
