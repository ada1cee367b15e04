//! `tachy init`: writes the starter budgets to tachy.toml, or appends `[tool.tachy]` to
//! pyproject.toml, refusing to overwrite existing budgets unless `--force`. Everything is
//! checked before anything is written: the options (`--url`, `--command`, `--server`), an
//! existing pyproject.toml (it must be valid TOML), the file that would result (it must be a
//! config `tachy check` reads), and symbolic links (a dangling one, or one leading out of the
//! folder, is never written through).

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use tachy_check::init::{InitOptions, check_options, starter};

use crate::ExitStatus;
use crate::args::InitArgs;

/// Runs `tachy init`.
pub fn run(args: &InitArgs) -> anyhow::Result<ExitStatus> {
    let opts = InitOptions { command: args.command.clone(), url: args.url.clone(), server: args.server.clone() };
    if !args.dir.is_dir() {
        bail!("{} is not a folder; give an existing one with --dir", args.dir.display());
    }
    check_options(&opts).map_err(anyhow::Error::msg)?;
    let (path, text) = if args.pyproject {
        let path = args.dir.join("pyproject.toml");
        let target = target(&args.dir, &path)?;
        let existing = match std::fs::read_to_string(&target) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        if let Err(e) = tachy_check::config::check_toml(&existing) {
            bail!("{} is not valid TOML ({e}); fix it before `tachy init --pyproject` adds to it", path.display());
        }
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
        (target, text)
    } else {
        let path = args.dir.join("tachy.toml");
        let target = target(&args.dir, &path)?;
        if target.exists() && !args.force {
            bail!("{} already exists; edit it, or pass --force to overwrite it", path.display());
        }
        (target, starter("", &opts))
    };
    // What is written must be a config `tachy check` reads (an appended starter could clash
    // with tables already in the file).
    if let Err((location, key, message)) = tachy_check::config::parse(&text, args.pyproject) {
        let at = location.map(|l| format!(":{l}")).unwrap_or_default();
        let key = if key.is_empty() { String::new() } else { format!("{key}: ") };
        let hint = if args.pyproject { "; remove its [tool.tachy] tables first, or edit them" } else { "" };
        bail!(
            "{} would not be a valid config with the starter ({}{at}: {key}{message}){hint}; nothing was written",
            path.display(),
            path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()
        );
    }
    crate::output::write_atomic(&path, text.as_bytes()).with_context(|| format!("cannot write {}", path.display()))?;
    crate::printer::info(
        false,
        &format!(
            "wrote {}: budgets api-latency (load), memory (mem), soak (watch), hot-path (profile), startup (bench), lint; edit the commands and URL, then run `tachy check`",
            path.display()
        ),
    );
    Ok(ExitStatus::Success)
}

/// The file to write for `path` in `dir`: itself, or, when it is a symbolic link, the file it
/// leads to if that exists inside `dir`. A dangling link, or one leading out of `dir`, is an
/// error: writing through it would create or change a file elsewhere.
fn target(dir: &Path, path: &Path) -> anyhow::Result<PathBuf> {
    let Ok(meta) = std::fs::symlink_metadata(path) else { return Ok(path.to_path_buf()) };
    if !meta.file_type().is_symlink() {
        return Ok(path.to_path_buf());
    }
    let to = std::fs::read_link(path).unwrap_or_default();
    let Ok(real) = path.canonicalize() else {
        bail!(
            "{} is a symbolic link to {}, which does not exist; tachy init does not write through it (remove the link first)",
            path.display(),
            to.display()
        );
    };
    let folder = dir.canonicalize().with_context(|| format!("cannot read {}", dir.display()))?;
    if !real.starts_with(&folder) {
        bail!(
            "{} is a symbolic link to {}, outside {}; tachy init does not write through it (remove the link first)",
            path.display(),
            real.display(),
            dir.display()
        );
    }
    Ok(real)
}
