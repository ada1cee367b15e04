//! Integration tests of the built `tachy` binary, one module per command.

mod bench;
mod check;
mod cli;
mod dump;
mod lint;
mod load;
mod mem;
mod messages;
mod outputs;
mod profile;
mod pytest;
mod report;
mod top;
mod watch;

use assert_cmd::Command;

/// The built binary, with a clean environment for progress bars (tests are never a TTY).
pub fn tachy() -> Command {
    let mut cmd = Command::cargo_bin("tachy").expect("the tachy binary is built");
    cmd.env_remove("GITHUB_STEP_SUMMARY");
    cmd
}

/// Parses a command's stdout as JSON.
pub fn json(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}
