//! Checking a program before launching it, so that a folder, a missing file, a file without
//! the execute bit or a name that is not on `PATH` is named as such instead of surfacing as a
//! shell's `Permission denied` or an exit status 126/127 after the launch.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Why a program cannot be run. Each message is one line: `cannot run `X`: why; how to fix`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProgramError {
    /// The command is an empty string.
    #[error("cannot run an empty command: give the program first (e.g. `python3 app.py`)")]
    Empty,
    /// A bare name that no folder of `PATH` holds as an executable file.
    #[error("cannot run `{name}`: not found on PATH{here}")]
    NotOnPath {
        /// The name given.
        name: String,
        /// A hint about a file of that name in the current folder, or empty.
        here: String,
    },
    /// A path (with a `/`) to nothing.
    #[error("cannot run `{0}`: no such file")]
    NoSuchFile(String),
    /// A path to a folder.
    #[error("cannot run `{0}`: it is a folder, not a program")]
    IsFolder(String),
    /// A file the user may not execute.
    #[error("cannot run `{name}`: it is not executable (`chmod +x {name}`{script})")]
    NotExecutable {
        /// The path given.
        name: String,
        /// `, or run it with python3 ...` for a Python script, or empty.
        script: String,
    },
    /// A script whose `#!` interpreter does not exist.
    #[error("cannot run `{name}`: its first line asks for the interpreter `{interpreter}`, which does not exist")]
    MissingInterpreter {
        /// The path given.
        name: String,
        /// The interpreter named after `#!`.
        interpreter: String,
    },
}

/// Checks that `program` (the first word of a command) can be run, the way `execvp` will look
/// for it: a name with a `/` is used as is, a bare name is searched on `PATH`. Returns the
/// file that will run.
pub fn check(program: &OsStr) -> Result<PathBuf, ProgramError> {
    let shown = program.to_string_lossy().into_owned();
    if program.is_empty() {
        return Err(ProgramError::Empty);
    }
    if !program.as_bytes().contains(&b'/') {
        return match crate::python::which(program) {
            Some(found) => Ok(found),
            None => Err(ProgramError::NotOnPath { here: here_hint(program), name: shown }),
        };
    }
    let path = Path::new(program);
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(_) => return Err(ProgramError::NoSuchFile(shown)),
    };
    if meta.is_dir() {
        return Err(ProgramError::IsFolder(shown));
    }
    if !executable(path) {
        let script = if path.extension() == Some(OsStr::new("py")) {
            format!(", or run it with Python: `python3 {shown}`")
        } else {
            String::new()
        };
        return Err(ProgramError::NotExecutable { name: shown, script });
    }
    if let Some(interpreter) = shebang(path)
        && !Path::new(&interpreter).exists()
    {
        return Err(ProgramError::MissingInterpreter {
            name: shown,
            interpreter: interpreter.to_string_lossy().into_owned(),
        });
    }
    Ok(path.to_path_buf())
}

/// What a bare name that is not on `PATH` is in the current folder, since `exec` never looks
/// there: `; `app.py` here is a file: run it as `./app.py``.
fn here_hint(name: &OsStr) -> String {
    let shown = name.to_string_lossy();
    match std::fs::metadata(name) {
        Ok(m) if m.is_dir() => format!(" (`{shown}` in this folder is a folder, not a program)"),
        Ok(_) if Path::new(name).extension() == Some(OsStr::new("py")) => {
            format!(" (to run the script in this folder: `python3 {shown}`)")
        }
        Ok(_) => format!(" (to run the file in this folder: `./{shown}`)"),
        Err(_) => "; check the spelling, install it, or give its path".to_string(),
    }
}

fn executable(path: &Path) -> bool {
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else { return false };
    // SAFETY: `c` is a valid NUL-terminated path; access has no other preconditions.
    unsafe { libc::access(c.as_ptr(), libc::X_OK) == 0 }
}

/// The interpreter named on a script's `#!` line (absolute paths only), if any.
fn shebang(path: &Path) -> Option<OsString> {
    use std::io::Read;
    let mut head = [0u8; 256];
    let n = std::fs::File::open(path).ok()?.read(&mut head).ok()?;
    let line = head[..n].strip_prefix(b"#!")?;
    let line = &line[..line.iter().position(|&b| b == b'\n')?];
    let interpreter = line.split(|b| b.is_ascii_whitespace()).find(|w| !w.is_empty())?;
    interpreter.starts_with(b"/").then(|| OsStr::from_bytes(interpreter).to_os_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn err(p: &str) -> String {
        check(OsStr::new(p)).unwrap_err().to_string()
    }

    #[test]
    fn each_reason_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        assert_eq!(err(&d), format!("cannot run `{d}`: it is a folder, not a program"));
        assert_eq!(err(&format!("{d}/nope")), format!("cannot run `{d}/nope`: no such file"));
        let script = dir.path().join("app.py");
        std::fs::write(&script, "print(1)\n").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).unwrap();
        let s = script.display().to_string();
        // root may execute any file with one x bit, so the check is on the bits here.
        assert!(err(&s).contains("it is not executable (`chmod +x") && err(&s).contains("python3 "), "{}", err(&s));
        std::fs::write(&script, "#!/no/such/python\nprint(1)\n").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(err(&s).contains("interpreter `/no/such/python`, which does not exist"), "{}", err(&s));
        std::fs::write(&script, "#!/bin/sh\necho\n").unwrap();
        assert_eq!(check(script.as_os_str()).unwrap(), script);
        assert!(
            err("tachy-no-such-program-xyz").starts_with("cannot run `tachy-no-such-program-xyz`: not found on PATH")
        );
        assert_eq!(err(""), ProgramError::Empty.to_string());
        assert!(check(OsStr::new("sh")).is_ok());
    }

    #[test]
    fn a_non_utf8_name_keeps_its_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let mut name = dir.path().as_os_str().to_os_string();
        name.push("/s");
        name.push(OsStr::from_bytes(b"\xfe"));
        std::fs::write(&name, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&name, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(check(&name).unwrap().as_os_str(), name.as_os_str());
    }
}
