//! Facts about target processes read from `/proc`: existence, command line, children, and
//! the ptrace policy that decides whether tachy may read another process.

use std::collections::HashMap;
use std::path::Path;

/// True when `/proc/PID` exists and the process is not a zombie.
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next()) != Some("Z"),
        Err(_) => false,
    }
}

/// The command line of a process, space-separated (empty when unreadable).
pub fn cmdline(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| {
            b.split(|&c| c == 0)
                .filter(|s| !s.is_empty())
                .map(|s| String::from_utf8_lossy(s))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

/// The executable of a process, if readable.
pub fn exe(pid: u32) -> Option<String> {
    std::fs::read_link(format!("/proc/{pid}/exe")).ok().map(|p| p.display().to_string())
}

fn parent_of(stat: &str) -> Option<u32> {
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(1)?.parse().ok()
}

/// Every live descendant of `root` (children, grandchildren, ...), in no particular order.
pub fn descendants(root: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for entry in dir.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        if let Ok(stat) = std::fs::read_to_string(entry.path().join("stat"))
            && let Some(ppid) = parent_of(&stat)
        {
            children.entry(ppid).or_default().push(pid);
        }
    }
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(p) = stack.pop() {
        if let Some(kids) = children.get(&p) {
            for &k in kids {
                out.push(k);
                stack.push(k);
            }
        }
    }
    out
}

/// Explains a permission error reading `pid`: `(cause, fix)`.
pub fn ptrace_hint(pid: u32) -> (String, String) {
    let scope =
        std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope").ok().and_then(|s| s.trim().parse::<u8>().ok());
    let launch = "or launch the program under tachy (`tachy profile -- python app.py`)";
    match scope {
        Some(1) => (
            "kernel.yama.ptrace_scope is 1: only a parent may read its children".to_string(),
            format!("run `sudo sysctl kernel.yama.ptrace_scope=0`, run tachy with sudo, {launch}"),
        ),
        Some(2) => (
            "kernel.yama.ptrace_scope is 2: only processes with CAP_SYS_PTRACE may read others".to_string(),
            format!(
                "run tachy with sudo, grant the capability (`sudo setcap cap_sys_ptrace+ep $(command -v tachy)`; in Docker `--cap-add SYS_PTRACE`), {launch}"
            ),
        ),
        Some(3) => (
            "kernel.yama.ptrace_scope is 3: ptrace is disabled until reboot".to_string(),
            "reboot with a lower kernel.yama.ptrace_scope; until then no profiler can attach".to_string(),
        ),
        _ => {
            // SAFETY: geteuid has no preconditions.
            let me = unsafe { libc::geteuid() };
            if owner_of(pid) == Some(me) {
                return (
                    "tachy lacks CAP_SYS_PTRACE, which this system requires (a container or a hardened kernel?)"
                        .to_string(),
                    format!(
                        "grant it (in Docker `--cap-add SYS_PTRACE`; or `sudo setcap cap_sys_ptrace+ep $(command -v tachy)`), {launch}"
                    ),
                );
            }
            let owner = owner_of(pid)
                .map(|u| format!("it belongs to uid {u}"))
                .unwrap_or_else(|| "it belongs to another user".into());
            (
                format!("{owner}, and reading another user's process needs CAP_SYS_PTRACE"),
                format!("run tachy as that user or with sudo (in Docker add `--cap-add SYS_PTRACE`), {launch}"),
            )
        }
    }
}

fn owner_of(pid: u32) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(Path::new(&format!("/proc/{pid}"))).ok().map(|m| m.uid())
}

/// True when an error chain looks like the kernel refused access.
pub fn is_permission_error(err: &anyhow::Error) -> bool {
    let io = err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>().is_some_and(|io| {
            io.kind() == std::io::ErrorKind::PermissionDenied
                || matches!(io.raw_os_error(), Some(libc::EPERM | libc::EACCES))
        })
    });
    let text = format!("{err:#}");
    io || text.contains("Permission denied") || text.contains("Operation not permitted")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_has_a_cmdline() {
        let me = std::process::id();
        assert!(alive(me));
        assert!(!cmdline(me).is_empty());
        assert!(!alive(u32::MAX - 1));
    }

    #[test]
    fn children_are_found() {
        let mut child = std::process::Command::new("sleep").arg("5").spawn().unwrap();
        let kids = descendants(std::process::id());
        assert!(kids.contains(&child.id()));
        child.kill().unwrap();
        child.wait().unwrap();
    }

    #[test]
    fn parses_parent_from_stat_with_spaces_in_the_name() {
        assert_eq!(parent_of("123 (my (odd) name) S 77 1 1"), Some(77));
    }

    #[test]
    fn permission_errors_are_recognised() {
        let e = anyhow::Error::new(std::io::Error::from_raw_os_error(libc::EPERM)).context("Failed to open process");
        assert!(is_permission_error(&e));
        assert!(!is_permission_error(&anyhow::anyhow!("Failed to find python version")));
        let (cause, fix) = ptrace_hint(1);
        assert!(!cause.is_empty() && fix.contains("tachy profile --"));
    }
}
