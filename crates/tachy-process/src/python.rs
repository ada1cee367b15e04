//! Python interpreter discovery.
//!
//! A `python3` found on `PATH` may be a launcher shim (pyenv, asdf) that costs a hundred
//! milliseconds or more per start. [`resolve`] asks the interpreter for `sys.executable` so
//! callers can run the real binary, and [`is_shim`] tells whether a path looks like a shim.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A Python interpreter found on this machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interpreter {
    /// The real executable (`sys.executable`).
    pub executable: PathBuf,
    /// `major.minor.micro`.
    pub version: String,
}

/// Why no interpreter could be resolved.
#[derive(Debug, thiserror::Error)]
pub enum PythonError {
    /// Not on PATH.
    #[error("no `{0}` on PATH: install Python 3 or pass the interpreter's path")]
    NotFound(String),
    /// A path that cannot run: no such file, a folder, not executable.
    #[error(transparent)]
    Program(crate::program::ProgramError),
    /// It ran but did not answer as Python does.
    #[error("`{program}` did not behave like Python ({detail})")]
    NotPython {
        /// What was run.
        program: String,
        /// What went wrong.
        detail: String,
    },
}

/// Looks `name` up on `PATH` (a name with a slash is returned as is when it exists).
pub fn which(name: &OsStr) -> Option<PathBuf> {
    let path = Path::new(name);
    if path.components().count() > 1 {
        return path.exists().then(|| path.to_path_buf());
    }
    let dirs = std::env::var_os("PATH")?;
    std::env::split_paths(&dirs).map(|d| d.join(name)).find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// True when `path` is a version-manager shim rather than an interpreter.
pub fn is_shim(path: &Path) -> bool {
    let s = path.to_string_lossy();
    s.contains("/.pyenv/shims/") || s.contains("/.asdf/shims/") || s.contains("/pyenv-win/shims/")
}

/// Runs `program` once and returns the real interpreter behind it.
pub fn resolve(program: &OsStr) -> Result<Interpreter, PythonError> {
    let name = program.to_string_lossy().into_owned();
    let found = crate::program::check(program).map_err(|e| match e {
        crate::program::ProgramError::NotOnPath { .. } => PythonError::NotFound(name.clone()),
        other => PythonError::Program(other),
    })?;
    let out = Command::new(&found)
        .args(["-c", "import sys; print(sys.executable); print('%d.%d.%d' % sys.version_info[:3])"])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .map_err(|e| PythonError::NotPython { program: name.clone(), detail: e.to_string() })?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    match (out.status.success(), lines.next(), lines.next()) {
        (true, Some(exe), Some(version)) if !exe.is_empty() => {
            Ok(Interpreter { executable: PathBuf::from(exe), version: version.to_string() })
        }
        _ => Err(PythonError::NotPython { program: name, detail: format!("{}", out.status) }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shims_are_recognised() {
        assert!(is_shim(Path::new("/root/.pyenv/shims/python3")));
        assert!(!is_shim(Path::new("/usr/bin/python3")));
    }

    #[test]
    fn which_finds_sh_and_not_nonsense() {
        assert!(which(OsStr::new("sh")).is_some());
        assert!(which(OsStr::new("tachy-definitely-not-a-program")).is_none());
    }

    #[test]
    fn resolve_reports_missing_interpreters() {
        let err = resolve(OsStr::new("tachy-no-python-here")).unwrap_err();
        assert!(matches!(err, PythonError::NotFound(_)));
    }

    #[test]
    fn resolve_names_a_folder_or_a_missing_path() {
        let dir = std::env::temp_dir();
        let err = resolve(dir.as_os_str()).unwrap_err().to_string();
        assert!(err.ends_with("it is a folder, not a program"), "{err}");
        let err = resolve(OsStr::new("/no/such/python3")).unwrap_err().to_string();
        assert_eq!(err, "cannot run `/no/such/python3`: no such file");
    }

    #[test]
    fn resolve_rejects_non_python() {
        let err = resolve(OsStr::new("false")).unwrap_err();
        assert!(matches!(err, PythonError::NotPython { .. }));
    }
}
