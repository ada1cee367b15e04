//! `tachy init` (being written).

use crate::ExitStatus;
use crate::args::InitArgs;

/// Runs `tachy init`.
pub fn run(_args: &InitArgs) -> anyhow::Result<ExitStatus> {
    anyhow::bail!("tachy init is not available yet")
}
