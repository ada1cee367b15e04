//! Finding the Python files to lint: `.gitignore`-aware walks (the `ignore` crate) that skip
//! virtual environments, build output and caches by default, plus config excludes, and the
//! dotted module name of each file (for imports across the project).

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};

use crate::error::LintError;

/// Folder names never walked into (a path given explicitly is still linted).
pub const DEFAULT_EXCLUDES: &[&str] = &[
    ".bzr",
    ".direnv",
    ".eggs",
    ".git",
    ".hg",
    ".mypy_cache",
    ".nox",
    ".pytype",
    ".ruff_cache",
    ".svn",
    ".tox",
    ".venv",
    "venv",
    "__pycache__",
    "__pypackages__",
    "_build",
    "buck-out",
    "build",
    "dist",
    "node_modules",
    "site-packages",
    ".tachy",
];

/// A file to lint.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as displayed and opened.
    pub path: PathBuf,
    /// Dotted module name (from the walked root).
    pub module: String,
    /// Whether it is a package's `__init__.py`.
    pub is_package: bool,
}

/// A problem met while walking.
#[derive(Debug, Clone)]
pub struct WalkProblem {
    /// Where.
    pub path: PathBuf,
    /// What.
    pub message: String,
}

/// Compiled exclude globs (matched against the path relative to the working directory and
/// against the file or folder name).
#[derive(Debug, Clone)]
pub struct Excludes(GlobSet);

impl Excludes {
    /// Compiles glob patterns; returns the bad pattern on error.
    pub fn new(patterns: &[String]) -> Result<Self, String> {
        let mut b = GlobSetBuilder::new();
        for p in patterns {
            b.add(Glob::new(p).map_err(|e| format!("bad glob `{p}`: {e}"))?);
            // `dir` also excludes what is below it.
            if !p.contains('*') {
                b.add(
                    Glob::new(&format!("{}/**", p.trim_end_matches('/')))
                        .map_err(|e| format!("bad glob `{p}`: {e}"))?,
                );
            }
        }
        Ok(Excludes(b.build().map_err(|e| e.to_string())?))
    }

    /// Whether `path` is excluded.
    pub fn matches(&self, path: &Path) -> bool {
        if self.0.is_empty() {
            return false;
        }
        let rel = path.strip_prefix("./").unwrap_or(path);
        self.0.is_match(rel) || path.file_name().is_some_and(|n| self.0.is_match(n))
    }
}

/// Every Python file under `paths`, sorted, with the problems met on the way.
pub fn discover(paths: &[PathBuf], excludes: &Excludes) -> Result<(Vec<SourceFile>, Vec<WalkProblem>), LintError> {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for root in paths {
        let meta = std::fs::metadata(root);
        match meta {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if std::fs::symlink_metadata(root).is_ok() {
                    problems.push(WalkProblem { path: root.clone(), message: format!("broken symbolic link: {e}") });
                    continue;
                }
                return Err(LintError::PathNotFound(root.clone()));
            }
            Err(e) => {
                problems.push(WalkProblem { path: root.clone(), message: format!("cannot read: {e}") });
                continue;
            }
            Ok(m) if m.is_file() => {
                let (module, is_package) = module_of_file(root);
                files.push(SourceFile { path: root.clone(), module, is_package });
                continue;
            }
            Ok(_) => {}
        }
        let excl = excludes.clone();
        let walker = ignore::WalkBuilder::new(root)
            .follow_links(true)
            .hidden(false)
            .parents(true)
            .git_ignore(true)
            .git_global(false)
            .git_exclude(true)
            .require_git(false)
            .filter_entry(move |e| {
                let name = e.file_name().to_string_lossy();
                let is_dir = e.file_type().is_some_and(|t| t.is_dir());
                if e.depth() > 0 && is_dir && DEFAULT_EXCLUDES.contains(&name.as_ref()) {
                    return false;
                }
                e.depth() == 0 || !excl.matches(e.path())
            })
            .build();
        for entry in walker {
            match entry {
                Ok(e) => {
                    let is_file = e.file_type().is_some_and(|t| t.is_file());
                    if is_file && e.path().extension().is_some_and(|x| x == "py") {
                        let (module, is_package) = module_name(root, e.path());
                        files.push(SourceFile { path: e.path().to_path_buf(), module, is_package });
                    }
                }
                Err(err) => {
                    let path = error_path(&err).unwrap_or_else(|| root.clone());
                    let msg = err.to_string();
                    let message = if msg.contains("loop") {
                        format!("symbolic link loop, not followed: {msg}")
                    } else {
                        format!("cannot read: {msg}")
                    };
                    problems.push(WalkProblem { path, message });
                }
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files.dedup_by(|a, b| a.path == b.path);
    Ok((files, problems))
}

fn error_path(err: &ignore::Error) -> Option<PathBuf> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } => error_path(err),
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        ignore::Error::WithLineNumber { err, .. } => error_path(err),
        _ => None,
    }
}

/// Module name of `file` relative to the walked `root` folder.
pub fn module_name(root: &Path, file: &Path) -> (String, bool) {
    let rel = file.strip_prefix(root).unwrap_or(file);
    let mut parts: Vec<String> = rel
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    let is_package = parts.last().is_some_and(|l| l == "__init__.py");
    if is_package {
        parts.pop();
    } else if let Some(last) = parts.last_mut() {
        *last = last.trim_end_matches(".py").to_string();
    }
    // A root that is itself a package keeps its name as the first component.
    if root.join("__init__.py").is_file()
        && let Some(name) =
            root.canonicalize().ok().and_then(|r| r.file_name().map(|n| n.to_string_lossy().into_owned()))
    {
        parts.insert(0, name);
    }
    (parts.join("."), is_package)
}

fn module_of_file(file: &Path) -> (String, bool) {
    let stem = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let is_package = stem == "__init__";
    let mut parts: Vec<String> = if is_package { Vec::new() } else { vec![stem] };
    let mut dir = file.canonicalize().ok().and_then(|p| p.parent().map(Path::to_path_buf));
    while let Some(d) = dir {
        if !d.join("__init__.py").is_file() {
            break;
        }
        if let Some(n) = d.file_name() {
            parts.insert(0, n.to_string_lossy().into_owned());
        }
        dir = d.parent().map(Path::to_path_buf);
    }
    (parts.join("."), is_package)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_names() {
        assert_eq!(module_name(Path::new("src"), Path::new("src/app/util.py")), ("app.util".into(), false));
        assert_eq!(module_name(Path::new("src"), Path::new("src/app/__init__.py")), ("app".into(), true));
    }

    #[test]
    fn excludes_match_names_and_paths() {
        let ex = Excludes::new(&["generated".into(), "tests/*.py".into()]).unwrap();
        assert!(ex.matches(Path::new("generated")));
        assert!(ex.matches(Path::new("./tests/test_x.py")));
        assert!(!ex.matches(Path::new("app/x.py")));
    }
}
