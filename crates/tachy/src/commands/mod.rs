//! One module per tachy command: each resolves its arguments into settings, calls its domain
//! crate, renders the report and returns an [`ExitStatus`].

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
