//! `[tool.tachy.lint]` in `pyproject.toml`: select, ignore, per-file-ignores, exclude. Found
//! by walking up from the working directory; unknown keys and bad values are errors naming the
//! file, the line and what is accepted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::LintError;

/// The `[tool.tachy.lint]` table.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LintConfig {
    /// Rule selectors to enable (default: all).
    #[serde(default)]
    pub select: Vec<String>,
    /// Rule selectors to disable.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Glob -> selectors disabled for matching files.
    #[serde(default)]
    pub per_file_ignores: BTreeMap<String, Vec<String>>,
    /// Globs of files and folders not linted (besides the defaults).
    #[serde(default)]
    pub exclude: Vec<String>,
}

#[derive(Deserialize)]
struct Pyproject {
    #[serde(default)]
    tool: Option<Tool>,
}

#[derive(Deserialize)]
struct Tool {
    #[serde(default)]
    tachy: Option<TachyTable>,
}

#[derive(Deserialize)]
struct TachyTable {
    #[serde(default)]
    lint: Option<LintConfig>,
}

/// A loaded config and where it came from.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// The file.
    pub path: PathBuf,
    /// Its folder (globs are relative to it).
    pub root: PathBuf,
    /// The settings.
    pub config: LintConfig,
    text: String,
}

impl LoadedConfig {
    /// The 1-based line where `needle` first appears in the file (1 when absent).
    pub fn line_of(&self, needle: &str) -> usize {
        self.text.find(needle).map_or(1, |i| self.text[..i].matches('\n').count() + 1)
    }

    /// A config error at the line of `needle`.
    pub fn error(&self, needle: &str, message: String) -> LintError {
        LintError::Config { path: self.path.clone(), line: self.line_of(needle), message }
    }
}

/// The nearest `pyproject.toml` with a `[tool.tachy.lint]` table, from `start` upwards.
pub fn find(start: &Path) -> Result<Option<LoadedConfig>, LintError> {
    let mut dir = start.canonicalize().ok();
    while let Some(d) = dir {
        let candidate = d.join("pyproject.toml");
        if candidate.is_file()
            && let Some(cfg) = load(&candidate)?
        {
            return Ok(Some(cfg));
        }
        dir = d.parent().map(Path::to_path_buf);
    }
    Ok(None)
}

/// Loads `[tool.tachy.lint]` from a pyproject file (`None` when it has no such table).
pub fn load(path: &Path) -> Result<Option<LoadedConfig>, LintError> {
    let text = std::fs::read_to_string(path).map_err(|e| LintError::Config {
        path: path.to_path_buf(),
        line: 1,
        message: format!("cannot read: {e}"),
    })?;
    let parsed: Pyproject = toml::from_str(&text).map_err(|e| {
        let line = e.span().map_or(1, |s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        let first = e.message().lines().next().unwrap_or("invalid TOML").to_string();
        let hint = if first.contains("unknown field") { format!("{first} in [tool.tachy.lint]") } else { first };
        LintError::Config { path: path.to_path_buf(), line, message: hint }
    })?;
    let Some(config) = parsed.tool.and_then(|t| t.tachy).and_then(|t| t.lint) else {
        return Ok(None);
    };
    let root = path.parent().map(Path::to_path_buf).unwrap_or_default();
    Ok(Some(LoadedConfig { path: path.to_path_buf(), root, config, text }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_table_and_rejects_unknown_keys() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pyproject.toml");
        std::fs::write(
            &p,
            "[project]\nname='x'\n[tool.tachy.lint]\nselect = ['TA1']\nper-file-ignores = { 'tests/*' = ['TA101'] }\n",
        )
        .unwrap();
        let cfg = load(&p).unwrap().unwrap();
        assert_eq!(cfg.config.select, vec!["TA1"]);
        assert_eq!(cfg.config.per_file_ignores["tests/*"], vec!["TA101"]);

        std::fs::write(&p, "[tool.tachy.lint]\nselect = ['TA1']\nselct = ['TA2']\n").unwrap();
        let err = load(&p).unwrap_err().to_string();
        assert!(err.contains(":3:"), "{err}");
        assert!(err.contains("selct"), "{err}");

        std::fs::write(&p, "[tool.tachy.lint]\nselect = 'TA1'\n").unwrap();
        let err = load(&p).unwrap_err().to_string();
        assert!(err.contains(":2:"), "{err}");
    }
}
