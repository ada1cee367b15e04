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

/// What decides whether the kernel lets tachy read another process, read from `/proc`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessFacts {
    /// `kernel.yama.ptrace_scope`, when Yama is there.
    pub yama_scope: Option<u8>,
    /// tachy's effective capabilities include CAP_SYS_PTRACE (`CapEff` of `/proc/self/status`).
    pub has_ptrace_cap: bool,
    /// tachy runs in the initial user namespace (an identity `uid_map`), where its
    /// capabilities apply to every process.
    pub initial_user_ns: bool,
    /// The target is in tachy's user namespace (`None`: its namespace could not be read).
    pub same_user_ns: Option<bool>,
    /// tachy's effective uid.
    pub uid: u32,
    /// The uid owning the target's `/proc` entry.
    pub owner: Option<u32>,
    /// The PID of a process already tracing the target (`TracerPid`), other than tachy.
    pub tracer: Option<u32>,
    /// The target is PID 1 of its own PID namespace (the init of the system or a container).
    pub namespace_init: bool,
    /// The security module label tachy runs under, when confined (AppArmor, SELinux).
    pub confinement: Option<String>,
}

impl AccessFacts {
    /// Reads the facts about tachy itself and `pid` from `/proc`.
    pub fn gather(pid: u32) -> AccessFacts {
        let own = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let target = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let ns = |p: &str| std::fs::read_link(format!("/proc/{p}/ns/user")).ok();
        let same_user_ns = match (ns("self"), ns(&pid.to_string())) {
            (Some(a), Some(b)) => Some(a == b),
            _ => None,
        };
        AccessFacts {
            yama_scope: std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope")
                .ok()
                .and_then(|s| s.trim().parse().ok()),
            has_ptrace_cap: has_ptrace_cap(&own),
            initial_user_ns: std::fs::read_to_string("/proc/self/uid_map").is_ok_and(|m| is_identity_map(&m)),
            same_user_ns,
            // SAFETY: geteuid has no preconditions.
            uid: unsafe { libc::geteuid() },
            owner: owner_of(pid),
            tracer: status_field(&target, "TracerPid:")
                .and_then(|v| v.parse().ok())
                .filter(|&t: &u32| t != 0 && t != std::process::id()),
            namespace_init: pid == 1
                || status_field(&target, "NSpid:").and_then(|v| v.split_whitespace().last()) == Some("1"),
            confinement: confinement(),
        }
    }
}

/// `CAP_SYS_PTRACE`'s bit in the capability sets.
const CAP_SYS_PTRACE: u32 = 19;

fn status_field<'a>(status: &'a str, key: &str) -> Option<&'a str> {
    status.lines().find_map(|l| l.strip_prefix(key)).map(str::trim)
}

/// True when the `CapEff` line of a `/proc/PID/status` text has CAP_SYS_PTRACE.
fn has_ptrace_cap(status: &str) -> bool {
    status_field(status, "CapEff:")
        .and_then(|hex| u64::from_str_radix(hex, 16).ok())
        .is_some_and(|caps| caps & (1 << CAP_SYS_PTRACE) != 0)
}

/// True for the initial user namespace's `uid_map`: `0 0 4294967295`.
fn is_identity_map(map: &str) -> bool {
    let rows: Vec<Vec<&str>> = map.lines().map(|l| l.split_whitespace().collect()).collect();
    rows.len() == 1 && rows[0] == ["0", "0", "4294967295"]
}

/// The AppArmor or SELinux label tachy runs under, unless unconfined.
fn confinement() -> Option<String> {
    ["/proc/self/attr/apparmor/current", "/proc/self/attr/current"].iter().find_map(|p| {
        let label = std::fs::read_to_string(p).ok()?;
        let label = label.trim_end_matches(['\0', '\n']).trim().to_string();
        let free = label.is_empty() || label == "unconfined" || label.starts_with("unconfined_u:") || label == "kernel";
        (!free).then_some(label)
    })
}

/// Explains a permission error reading `pid`: `(cause, fix)`.
pub fn ptrace_hint(pid: u32) -> (String, String) {
    let facts = AccessFacts::gather(pid);
    let tracer = facts.tracer.map(|t| (t, cmdline(t)));
    explain(pid, &facts, tracer.as_ref().map(|(t, c)| (*t, c.as_str())))
}

/// The cause and the fix of a refused read of `pid`, from the facts. The capability is blamed
/// only when tachy really lacks it; with it, the refusal has another cause, named when known.
/// `tracer` is the process already tracing the target, with its command line.
pub fn explain(pid: u32, f: &AccessFacts, tracer: Option<(u32, &str)>) -> (String, String) {
    let launch = "or launch the program under tachy (`tachy profile -- python app.py`)";
    if f.yama_scope == Some(3) {
        return (
            "kernel.yama.ptrace_scope is 3: ptrace is disabled until reboot".to_string(),
            "reboot with a lower kernel.yama.ptrace_scope; until then no profiler can attach".to_string(),
        );
    }
    if let Some((t, command)) = tracer {
        let who = if command.is_empty() { format!("PID {t}") } else { format!("PID {t} (`{command}`)") };
        return (
            format!("process {pid} is already traced by {who}, and a process has one tracer at a time"),
            format!("detach that debugger or profiler first, {launch}"),
        );
    }
    if f.has_ptrace_cap {
        let confined = f.confinement.as_ref().map(|l| format!(" (tachy runs confined as `{l}`)")).unwrap_or_default();
        if !f.initial_user_ns && f.same_user_ns != Some(true) {
            return (
                format!(
                    "tachy runs in a user namespace (a rootless container or `unshare --user`), where its CAP_SYS_PTRACE only covers processes inside it, and process {pid} is outside"
                ),
                format!("run tachy in the same container or namespace as the process, {launch}"),
            );
        }
        if f.namespace_init {
            let what = if pid == 1 {
                "PID 1 is the init process of this system or container".to_string()
            } else {
                format!("process {pid} is the init process (PID 1) of a container")
            };
            return (
                format!(
                    "tachy has CAP_SYS_PTRACE, but {what}, which the kernel or the container runtime protects{confined}"
                ),
                format!(
                    "profile the Python process itself rather than the init process, run tachy inside its container, {launch}"
                ),
            );
        }
        return (
            format!(
                "tachy has CAP_SYS_PTRACE, yet access to process {pid} was refused: a security module (AppArmor, SELinux) or its container runtime protects it{confined}"
            ),
            format!(
                "look for the denial in `dmesg` or the audit log, run tachy inside the process's container, {launch}"
            ),
        );
    }
    match f.yama_scope {
        Some(1) => {
            return (
                "kernel.yama.ptrace_scope is 1: only a parent may read its children".to_string(),
                format!("run `sudo sysctl kernel.yama.ptrace_scope=0`, run tachy with sudo, {launch}"),
            );
        }
        Some(2) => {
            return (
                "kernel.yama.ptrace_scope is 2: only processes with CAP_SYS_PTRACE may read others".to_string(),
                format!(
                    "run tachy with sudo, grant the capability (`sudo setcap cap_sys_ptrace+ep $(command -v tachy)`; in Docker `--cap-add SYS_PTRACE`), {launch}"
                ),
            );
        }
        _ => {}
    }
    if f.owner == Some(f.uid) {
        return (
            "tachy lacks CAP_SYS_PTRACE, which this system requires (a container or a hardened kernel?)".to_string(),
            format!(
                "grant it (in Docker `--cap-add SYS_PTRACE`; or `sudo setcap cap_sys_ptrace+ep $(command -v tachy)`), {launch}"
            ),
        );
    }
    let owner =
        f.owner.map(|u| format!("it belongs to uid {u}")).unwrap_or_else(|| "it belongs to another user".into());
    (
        format!("{owner}, and reading another user's process needs CAP_SYS_PTRACE"),
        format!("run tachy as that user or with sudo (in Docker add `--cap-add SYS_PTRACE`), {launch}"),
    )
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
        let (cause, fix) = ptrace_hint(std::process::id());
        assert!(!cause.is_empty() && fix.contains("tachy profile --"));
    }

    fn root() -> AccessFacts {
        AccessFacts {
            has_ptrace_cap: true,
            initial_user_ns: true,
            same_user_ns: Some(true),
            owner: Some(0),
            ..Default::default()
        }
    }

    #[test]
    fn the_capability_is_blamed_only_when_it_is_missing() {
        // Root with CAP_SYS_PTRACE refused by PID 1 (a VM's or container's init).
        let facts = AccessFacts { namespace_init: true, same_user_ns: None, ..root() };
        let (cause, fix) = explain(1, &facts, None);
        assert!(!cause.contains("lacks"), "{cause}");
        assert!(cause.contains("tachy has CAP_SYS_PTRACE, but PID 1 is the init process of this system"), "{cause}");
        assert!(fix.contains("inside its container"), "{fix}");
        // The init of a container seen from the host.
        let (cause, _) = explain(4242, &AccessFacts { namespace_init: true, ..root() }, None);
        assert!(cause.contains("process 4242 is the init process (PID 1) of a container"), "{cause}");
        // Refused for another reason: a security module, with tachy's label when confined.
        let facts = AccessFacts { confinement: Some("docker-default (enforce)".into()), ..root() };
        let (cause, _) = explain(4242, &facts, None);
        assert!(
            cause.contains("yet access to process 4242 was refused") && cause.contains("docker-default"),
            "{cause}"
        );
        // Inside `unshare --user`: CapEff is full, but only for the namespace.
        let facts = AccessFacts { initial_user_ns: false, same_user_ns: None, ..root() };
        let (cause, fix) = explain(4242, &facts, None);
        assert!(cause.contains("runs in a user namespace") && !cause.contains("lacks"), "{cause}");
        assert!(fix.contains("same container or namespace"), "{fix}");
        // Yama scopes 1 and 2 do not stop a process that has the capability.
        let (cause, _) = explain(4242, &AccessFacts { yama_scope: Some(2), ..root() }, None);
        assert!(!cause.contains("ptrace_scope"), "{cause}");
        // Already traced.
        let (cause, _) = explain(4242, &root(), Some((77, "gdb -p 4242")));
        assert!(cause.contains("already traced by PID 77 (`gdb -p 4242`)"), "{cause}");
    }

    #[test]
    fn a_missing_capability_is_named_with_its_fix() {
        let me = AccessFacts { uid: 1000, owner: Some(1000), initial_user_ns: true, ..Default::default() };
        let (cause, fix) = explain(4242, &me, None);
        assert!(cause.starts_with("tachy lacks CAP_SYS_PTRACE"), "{cause}");
        assert!(fix.contains("--cap-add SYS_PTRACE"), "{fix}");
        let (cause, _) = explain(4242, &AccessFacts { owner: Some(0), ..me.clone() }, None);
        assert!(cause.contains("belongs to uid 0") && cause.contains("needs CAP_SYS_PTRACE"), "{cause}");
        let (cause, _) = explain(4242, &AccessFacts { yama_scope: Some(1), ..me.clone() }, None);
        assert!(cause.contains("ptrace_scope is 1"), "{cause}");
        let (cause, _) = explain(4242, &AccessFacts { yama_scope: Some(3), ..root() }, None);
        assert!(cause.contains("ptrace_scope is 3"), "{cause}");
    }

    #[test]
    fn capabilities_and_namespaces_are_read_from_proc_text() {
        assert!(has_ptrace_cap("Name:\tx\nCapEff:\t000001fffeffffff\n"));
        assert!(!has_ptrace_cap("CapEff:\t0000000000000000\n"));
        assert!(!has_ptrace_cap("CapEff:\t00000000a80425fb\n"), "Docker's default set has no CAP_SYS_PTRACE");
        assert!(is_identity_map("         0          0 4294967295\n"));
        assert!(!is_identity_map("         0          0          1\n"));
        assert_eq!(status_field("NSpid:\t4242\t1\n", "NSpid:"), Some("4242\t1"));
    }
}
