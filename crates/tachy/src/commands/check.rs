//! `tachy check` (being written).

use crate::ExitStatus;
use crate::args::CheckArgs;

/// Runs `tachy check`.
pub fn run(_args: &CheckArgs, _quiet: bool) -> anyhow::Result<ExitStatus> {
    anyhow::bail!("tachy check is not available yet")
}
