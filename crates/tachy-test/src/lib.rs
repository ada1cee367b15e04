//! Test support shared by tachy's integration tests: the built binary, the real Python
//! interpreter (never a slow pyenv shim), fixture paths and snapshot redaction.

pub mod fuzz;
pub mod servers;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root exists")
}

/// The python of the test venv made by `scripts/python-venv` ($TACHY_VENV, else
/// ~/.cache/tachy/venv) when `module` imports there; otherwise `None`, after saying on stderr
/// that the calling test is skipped and how to create the venv.
#[allow(clippy::print_stderr)] // says why the test is skipped
pub fn venv_python(module: &str) -> Option<PathBuf> {
    let venv = std::env::var_os("TACHY_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/tachy/venv"));
    let py = venv.join("bin/python");
    let import = format!("import {module}");
    let ok = py.exists() && Command::new(&py).args(["-c", &import]).output().is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIPPED: no {module} in the venv {}: run `bash scripts/python-venv` to create it", venv.display());
        return None;
    }
    Some(py)
}

/// A file under `examples/`.
pub fn example(name: &str) -> PathBuf {
    workspace_root().join("examples").join(name)
}

/// A Python program under `crates/tachy/tests/fixtures/profile/`.
pub fn fixture(name: &str) -> PathBuf {
    workspace_root().join("crates/tachy/tests/fixtures/profile").join(name)
}

/// Waits until `path` exists, for at most `limit` (a bound against hangs, never a timing
/// assertion). Returns whether it appeared.
pub fn wait_for_file(path: &Path, limit: std::time::Duration) -> bool {
    let start = std::time::Instant::now();
    while !path.exists() && start.elapsed() < limit {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    path.exists()
}

/// Waits for `child` for at most `limit` (a bound against hangs, never a timing assertion),
/// killing it and panicking past that.
pub fn wait_bounded(child: &mut std::process::Child, limit: std::time::Duration) -> std::process::ExitStatus {
    let start = std::time::Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("waiting for a child") {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the process did not end within {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// The real Python interpreter behind `python3` (pyenv shims resolved), or `$TACHY_TEST_PYTHON`.
pub fn python() -> &'static Path {
    static PY: OnceLock<PathBuf> = OnceLock::new();
    PY.get_or_init(|| {
        if let Some(p) = std::env::var_os("TACHY_TEST_PYTHON") {
            return PathBuf::from(p);
        }
        let out = Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .expect("python3 must be on PATH for the integration tests");
        assert!(out.status.success(), "python3 -c failed");
        PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
    })
}

/// Quotes a path for use inside a shell command line.
pub fn sh_quote(p: &Path) -> String {
    format!("'{}'", p.display().to_string().replace('\'', "'\\''"))
}

/// Removes lines that depend on the machine's state (load-average warnings), so the output of
/// a deterministic run can be snapshotted.
pub fn without_machine_lines(text: &str) -> String {
    let mut lines: Vec<&str> = text.lines().filter(|l| !l.contains("load average")).collect();
    // A warnings header left with nothing under it goes too.
    if lines.last() == Some(&"Warnings:") {
        lines.pop();
    }
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// Waits until `path` has at least `lines` lines, for at most `limit` (a generous bound that
/// only guards against hangs, never a performance assertion). Returns whether it got there.
pub fn wait_for_lines(path: &Path, lines: usize, limit: std::time::Duration) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < limit {
        if std::fs::read_to_string(path).is_ok_and(|t| t.lines().count() >= lines) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    false
}
