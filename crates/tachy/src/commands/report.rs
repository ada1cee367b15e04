//! `tachy report` (being written).

use crate::ExitStatus;
use crate::args::ReportArgs;

/// Runs `tachy report`.
pub fn run(_args: &ReportArgs) -> anyhow::Result<ExitStatus> {
    anyhow::bail!("tachy report is not available yet")
}
