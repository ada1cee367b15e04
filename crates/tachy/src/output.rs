//! Output files: checked before a run starts, written atomically, and kept in a named fallback
//! file when the write still fails at the end, so a long run is never thrown away.
//!
//! The rules every command follows:
//! - [`check`] every output path before the work starts: a missing folder, a folder given as a
//!   file, or a place where no file can be created (`/proc/x`) is an error at once (exit 2).
//! - [`Outputs::write`] writes through a temporary file in the same folder and renames it over
//!   the target, so an interrupted write never leaves a truncated or stale file there.
//!   Devices and pipes (`/dev/stdout`, `/dev/null`) are written directly.
//! - When a write fails anyway (`/dev/full`, a disk that filled up during the run), the data
//!   goes to a file in the temporary folder, the summary is still printed, and
//!   [`Outputs::finish`] turns the failures into one error naming each file and where its data
//!   was kept (exit 2).

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

/// Fails when `path` cannot be written: call it for every output before a run starts.
/// `flag` names the option in the message (`-o`, `--export-json`, ...).
pub fn check(path: &Path, flag: &str) -> Result<()> {
    let shown = path.display();
    if path.as_os_str().is_empty() {
        bail!("{flag}: the file name is empty");
    }
    if path.is_dir() {
        bail!("cannot write {shown} ({flag}): it is a folder; give a file name, e.g. {}", path.join("out").display());
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        bail!(
            "cannot write {shown} ({flag}): the folder {} does not exist; create it first (mkdir -p {})",
            parent.display(),
            parent.display()
        );
    }
    match fs::metadata(path) {
        Ok(meta) if meta.is_file() => {
            // An existing file: it must be writable (opened without truncating it) and its folder
            // must take the temporary file the atomic write renames over it.
            OpenOptions::new().append(true).open(path).map_err(|e| cannot(path, flag, &e))?;
            probe(&parent).map_err(|e| cannot(path, flag, &e))?;
        }
        Ok(_) => {
            // A device or a pipe (/dev/stdout, /dev/null): written in place.
            OpenOptions::new().write(true).open(path).map_err(|e| cannot(path, flag, &e))?;
        }
        Err(_) => probe(&parent).map_err(|e| cannot(path, flag, &e))?,
    }
    Ok(())
}

fn cannot(path: &Path, flag: &str, e: &io::Error) -> anyhow::Error {
    anyhow::anyhow!("cannot write {} ({flag}): {}", path.display(), crate::printer::io_reason(e))
}

/// Creates and removes a scratch file in `dir`: proves a file can be created there.
fn probe(dir: &Path) -> io::Result<()> {
    let p = dir.join(format!(".tachy-probe-{}", std::process::id()));
    OpenOptions::new().write(true).create_new(true).open(&p)?;
    let _ = fs::remove_file(&p);
    Ok(())
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, then a rename. Devices and
/// pipes are written in place.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    if let Ok(meta) = fs::metadata(path)
        && !meta.is_file()
    {
        if meta.is_dir() {
            return Err(io::Error::new(io::ErrorKind::IsADirectory, "it is a folder"));
        }
        let mut f = OpenOptions::new().write(true).open(path)?;
        return f.write_all(bytes).and_then(|()| f.flush());
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(&name);
    tmp_name.push(format!(".tachy-tmp-{}", std::process::id()));
    let tmp = dir.join(tmp_name);
    let result = (|| {
        let mut f = OpenOptions::new().write(true).create(true).truncate(true).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// One output that could not be written, and where its data was kept instead.
#[derive(Debug)]
struct Failure {
    path: PathBuf,
    reason: String,
    kept: Option<PathBuf>,
}

/// The output files of one command run: writes each, collects the failures, and reports them
/// after the summary was printed.
#[derive(Debug, Default)]
pub struct Outputs {
    failures: Vec<Failure>,
}

impl Outputs {
    /// An empty set.
    pub fn new() -> Outputs {
        Outputs::default()
    }

    /// Writes `bytes` to `path`; on failure keeps them in the temporary folder and returns false.
    pub fn write(&mut self, path: &Path, bytes: &[u8]) -> bool {
        match write_atomic(path, bytes) {
            Ok(()) => true,
            Err(e) => {
                let kept = keep(path, bytes);
                self.failures.push(Failure { path: path.to_path_buf(), reason: crate::printer::io_reason(&e), kept });
                false
            }
        }
    }

    /// One error naming every file that could not be written and where its data is, or `Ok`.
    pub fn finish(self) -> Result<()> {
        if self.failures.is_empty() {
            return Ok(());
        }
        let parts: Vec<String> = self
            .failures
            .iter()
            .map(|f| match &f.kept {
                Some(k) => {
                    format!("cannot write {}: {}; its data was kept in {}", f.path.display(), f.reason, k.display())
                }
                None => format!("cannot write {}: {}", f.path.display(), f.reason),
            })
            .collect();
        bail!("{}", parts.join("; "))
    }
}

/// Saves `bytes` under the temporary folder, named after the file that could not be written.
fn keep(path: &Path, bytes: &[u8]) -> Option<PathBuf> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "output".into());
    let dir = std::env::temp_dir();
    for i in 0..100u32 {
        let suffix = if i == 0 { String::new() } else { format!("-{i}") };
        let p = dir.join(format!("tachy-{}{suffix}-{name}", std::process::id()));
        if let Ok(mut f) = OpenOptions::new().write(true).create_new(true).open(&p)
            && f.write_all(bytes).is_ok()
        {
            return Some(p);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_paths_are_refused_before_the_run() {
        let dir = tempfile::tempdir().unwrap();
        let e = check(dir.path(), "-o").unwrap_err().to_string();
        assert!(e.contains("it is a folder"), "{e}");
        let e = check(&dir.path().join("missing/x.json"), "-o").unwrap_err().to_string();
        assert!(e.contains("does not exist"), "{e}");
        let e = check(Path::new("/proc/x"), "-o").unwrap_err().to_string();
        assert!(e.starts_with("cannot write /proc/x (-o)"), "{e}");
        check(&dir.path().join("new.json"), "-o").unwrap();
        assert!(!dir.path().join("new.json").exists(), "checking creates nothing");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0, "no probe file is left");
        check(Path::new("/dev/null"), "-o").unwrap();
    }

    #[test]
    fn writes_replace_the_file_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.json");
        fs::write(&p, "old and longer").unwrap();
        write_atomic(&p, b"new").unwrap();
        assert_eq!(fs::read_to_string(&p).unwrap(), "new");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file is left");
        write_atomic(Path::new("/dev/null"), b"x").unwrap();
    }

    #[test]
    fn a_failed_write_keeps_the_data_and_names_both_files() {
        let mut out = Outputs::new();
        assert!(!out.write(Path::new("/dev/full"), b"precious"));
        let e = out.finish().unwrap_err().to_string();
        assert!(e.starts_with("cannot write /dev/full: "), "{e}");
        let kept = e.rsplit("kept in ").next().unwrap();
        assert_eq!(fs::read_to_string(kept).unwrap(), "precious");
        let _ = fs::remove_file(kept);
    }
}
