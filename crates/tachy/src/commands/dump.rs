//! `tachy dump`: arguments -> one read of every thread's stack -> text or JSON.

use anyhow::Result;
use tachy_profile::dump::{DumpSettings, dump};

use crate::ExitStatus;
use crate::args::DumpArgs;
use crate::printer;

/// Runs `tachy dump`.
pub fn run(args: &DumpArgs) -> Result<ExitStatus> {
    let report = dump(&DumpSettings {
        pid: args.pid,
        locals: args.locals,
        subprocesses: args.subprocesses,
        nonblocking: args.nonblocking,
        native: args.native,
    })?;
    if args.json {
        let mut s = serde_json::to_string_pretty(&report)?;
        s.push('\n');
        printer::stdout(s.as_bytes())?;
    } else {
        printer::stdout(tachy_report::render::dump::text(&report).as_bytes())?;
    }
    Ok(ExitStatus::Success)
}
