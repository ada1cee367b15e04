//! One module per tachy command: each resolves its arguments into settings, calls its domain
//! crate, renders the report and returns an [`ExitStatus`].
//!
//! Commands that launch a program (`profile`, `top`, `mem`, `watch`) share one exit-code
//! rule, [`launched_verdict`]: Ctrl-C (130) > the program failed (2) > a gate failed (1) > 0.

use crate::ExitStatus;
use crate::args::{Cli, Command};

pub mod bench;
pub mod check;
pub mod dump;
pub mod init;
pub mod lint;
pub mod load;
pub mod mem;
pub mod profile;
pub mod report;
pub mod top;
pub mod watch;

/// The exit status of a command that launched a program, once its results are written.
///
/// Precedence: Ctrl-C (130) > the launched program failed (2: it exited non-zero or was
/// killed by a signal; `program` says how, and the line is printed here) > a gate failed
/// (1: a budget or an alert) > success. A program that tachy itself stopped (`--duration`,
/// `q`, Ctrl-C) or one it attached to with `--pid` never counts as failed: callers pass
/// `None` for it.
/// `gate_failed` names the failed gate (`a budget failed`), for that line.
pub(crate) fn launched_verdict(interrupted: bool, program: Option<String>, gate_failed: Option<&str>) -> ExitStatus {
    let status = launched_status(interrupted, program.is_some(), gate_failed.is_some());
    if let (ExitStatus::Error, Some(how)) = (status, program) {
        let gate = gate_failed.map(|g| format!(", and {g}")).unwrap_or_default();
        crate::printer::error(&anyhow::anyhow!("the program {how} (its report is still written{gate})"));
    }
    status
}

fn launched_status(interrupted: bool, program_failed: bool, gate_failed: bool) -> ExitStatus {
    if interrupted {
        ExitStatus::Interrupted
    } else if program_failed {
        ExitStatus::Error
    } else if gate_failed {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }
}

/// How a launched program failed, from its shell-style exit status (128 + signal when
/// killed, as `tachy profile` records it); `None` for 0.
pub(crate) fn shell_status_failure(code: i32) -> Option<String> {
    match code {
        0 => None,
        c if (129..160).contains(&c) => Some(format!("was killed by signal {} (exit status {c})", c - 128)),
        c => Some(format!("exited with code {c}")),
    }
}

/// Dispatches to the command.
pub fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    match cli.command {
        Command::Bench(args) => bench::run(args, cli.quiet),
        Command::Profile(args) => profile::run(args, cli.quiet),
        Command::Dump(args) => dump::run(&args),
        Command::Top(args) => top::run(&args),
        Command::Lint(args) => lint::run(&args),
        Command::Load(args) => load::run(args, cli.quiet),
        Command::Mem(args) => mem::run(&args, cli.quiet),
        Command::Watch(args) => watch::run(&args, cli.quiet),
        Command::Check(args) => check::run(&args, cli.quiet),
        Command::Init(args) => init::run(&args),
        Command::Report(args) => report::run(&args),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctrl_c_beats_a_failed_program_which_beats_a_failed_gate() {
        assert_eq!(launched_status(true, true, true), ExitStatus::Interrupted);
        assert_eq!(launched_status(false, true, true), ExitStatus::Error);
        assert_eq!(launched_status(false, true, false), ExitStatus::Error);
        assert_eq!(launched_status(false, false, true), ExitStatus::Failure);
        assert_eq!(launched_status(false, false, false), ExitStatus::Success);
    }

    #[test]
    fn shell_statuses_name_the_code_or_the_signal() {
        assert_eq!(shell_status_failure(0), None);
        assert_eq!(shell_status_failure(3).as_deref(), Some("exited with code 3"));
        assert_eq!(shell_status_failure(137).as_deref(), Some("was killed by signal 9 (exit status 137)"));
    }
}
