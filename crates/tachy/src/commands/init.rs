//! `tachy init`: writes the starter budgets to tachy.toml, or appends `[tool.tachy]` to
//! pyproject.toml, refusing to overwrite existing budgets unless `--force`.

use anyhow::{Context, bail};
use tachy_check::init::{InitOptions, starter};

use crate::ExitStatus;
use crate::args::InitArgs;

/// Runs `tachy init`.
pub fn run(args: &InitArgs) -> anyhow::Result<ExitStatus> {
    let opts = InitOptions { command: args.command.clone(), url: args.url.clone(), server: args.server.clone() };
    if !args.dir.is_dir() {
        bail!("{} is not a folder; give an existing one with --dir", args.dir.display());
    }
    let path = if args.pyproject {
        let path = args.dir.join("pyproject.toml");
        let existing = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let has = existing.lines().any(|l| {
            let t = l.trim_start();
            t.starts_with("[tool.tachy.budget") || t.starts_with("[tool.tachy.check]")
        });
        if has && !args.force {
            bail!(
                "{} already has [tool.tachy] budgets; edit them, or pass --force to append the starter anyway",
                path.display()
            );
        }
        let mut text = existing;
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        if !text.is_empty() {
            text.push('\n');
        }
        text.push_str(&starter("tool.tachy.", &opts));
        std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
        path
    } else {
        let path = args.dir.join("tachy.toml");
        if path.exists() && !args.force {
            bail!("{} already exists; edit it, or pass --force to overwrite it", path.display());
        }
        std::fs::write(&path, starter("", &opts)).with_context(|| format!("cannot write {}", path.display()))?;
        path
    };
    crate::printer::info(
        false,
        &format!(
            "wrote {}: budgets api-latency (load), memory (mem), soak (watch), hot-path (profile), startup (bench), lint; edit the commands and URL, then run `tachy check`",
            path.display()
        ),
    );
    Ok(ExitStatus::Success)
}
