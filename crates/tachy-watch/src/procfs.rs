//! Reading a process from Linux `/proc`: raw cumulative counters ([`read`]), the process tree
//! ([`descendants`]), and the per-interval figures derived from two readings ([`metrics`]).
//!
//! Reading is cheap on purpose (it may run at 10 Hz on a process with a hundred threads): each
//! small file is read whole with one `read` into one buffer, parsed by hand, and nothing is
//! cached between readings except two `sysconf` constants.
//!
//! Caveats that come from the kernel, not from this module:
//! - the context-switch counts of `/proc/PID/status` are those of the main thread only;
//! - a socket in `TIME_WAIT` belongs to no process any more (inode 0), so it is never counted.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, Read};
use std::sync::OnceLock;

use tachy_report::watch::Metrics;

/// Why a field could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unavailable {
    /// The kernel refused (another user's process, `ptrace` restrictions).
    #[error("permission denied")]
    PermissionDenied,
    /// The file or the line does not exist on this kernel.
    #[error("not provided by this kernel")]
    Missing,
    /// The file exists but could not be read or parsed.
    #[error("unreadable: {0}")]
    Invalid(String),
}

/// Errors that stop reading a process.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProcError {
    /// No process has this PID (or it is a zombie).
    #[error("no process with PID {0}: check the PID (e.g. with `pgrep -f python`)")]
    NoSuchProcess(u32),
    /// `/proc/PID/stat` is not readable.
    #[error("cannot read process {0}: permission denied: run tachy as the process's user or as root")]
    PermissionDenied(u32),
    /// `/proc/PID/stat` could not be read or parsed.
    #[error("cannot read process {pid}: {reason}: this looks like a tachy bug, please report it")]
    Invalid {
        /// The process.
        pid: u32,
        /// What went wrong.
        reason: String,
    },
}

/// Raw counters of one process at one instant (cumulative values as the kernel gives them).
#[derive(Debug, Clone, PartialEq)]
pub struct RawProcess {
    /// Process id.
    pub pid: u32,
    /// Parent process id (0 for the init process and kernel threads' parent).
    pub ppid: u32,
    /// Command name (`comm`, at most 15 bytes, lossily decoded).
    pub comm: String,
    /// Arguments joined by spaces; empty for kernel threads.
    pub cmdline: String,
    /// CPU time in user mode, clock ticks (all threads, dead ones included).
    pub utime_ticks: u64,
    /// CPU time in kernel mode, clock ticks.
    pub stime_ticks: u64,
    /// Threads.
    pub num_threads: u64,
    /// Minor page faults.
    pub minflt: u64,
    /// Major page faults.
    pub majflt: u64,
    /// Virtual memory size, bytes.
    pub vsize_bytes: u64,
    /// Resident set size (`stat` pages times the page size), bytes.
    pub rss_bytes: u64,
    /// Start time after boot, clock ticks: with the PID, identifies the process.
    pub starttime_ticks: u64,
    /// Swapped-out memory (`VmSwap` of `/proc/PID/status`), bytes.
    pub swap_bytes: Result<u64, Unavailable>,
    /// Voluntary context switches of the main thread (`/proc/PID/status`).
    pub ctx_voluntary: Result<u64, Unavailable>,
    /// Involuntary context switches of the main thread (`/proc/PID/status`).
    pub ctx_involuntary: Result<u64, Unavailable>,
    /// Private memory (`Private_Clean + Private_Dirty + Private_Hugetlb` of `smaps_rollup`), bytes.
    pub uss_bytes: Result<u64, Unavailable>,
    /// Proportional set size (`Pss` of `smaps_rollup`), bytes.
    pub pss_bytes: Result<u64, Unavailable>,
    /// Bytes fetched from storage (`/proc/PID/io`).
    pub read_bytes: Result<u64, Unavailable>,
    /// Bytes sent to storage (`/proc/PID/io`).
    pub write_bytes: Result<u64, Unavailable>,
    /// Open file descriptors.
    pub fds: Result<u64, Unavailable>,
    /// The process's TCP sockets by lowercase state name (`established`, `listen`, ...).
    pub tcp: Result<BTreeMap<String, u64>, Unavailable>,
}

/// `PF_KTHREAD` in the `flags` field of `stat`.
const PF_KTHREAD: u64 = 0x0020_0000;
/// First buffer size: every single-record `/proc` file read here fits.
const BUF_SIZE: usize = 4096;

/// Clock ticks per second (`sysconf(_SC_CLK_TCK)`, 100 when unknown).
pub fn ticks_per_second() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        // SAFETY: sysconf has no preconditions.
        let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        if t > 0 { t as f64 } else { 100.0 }
    })
}

/// Page size in bytes (`sysconf(_SC_PAGESIZE)`, 4096 when unknown).
fn page_size() -> u64 {
    static PAGE: OnceLock<u64> = OnceLock::new();
    *PAGE.get_or_init(|| {
        // SAFETY: sysconf has no preconditions.
        let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
        if p > 0 { p as u64 } else { 4096 }
    })
}

/// Reads a whole file into `buf` (cleared first). `single`: the file is generated at once
/// (single-record seq files, `cmdline`), so a short read means the end and no second `read` is
/// needed; otherwise (multi-record files like `net/tcp`) reads until end of file.
fn read_into(path: &str, buf: &mut Vec<u8>, single: bool) -> io::Result<()> {
    buf.clear();
    let mut file = File::open(path)?;
    loop {
        if buf.capacity() - buf.len() < BUF_SIZE / 2 {
            buf.reserve(buf.capacity().max(BUF_SIZE));
        }
        let len = buf.len();
        let spare = buf.capacity() - len;
        buf.resize(len + spare, 0);
        let n = match file.read(&mut buf[len..]) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => 0,
            Err(e) => {
                buf.truncate(len);
                return Err(e);
            }
        };
        buf.truncate(len + n);
        if n == 0 || (single && n < spare) {
            return Ok(());
        }
    }
}

/// True for errors meaning the process (or its file) went away.
fn gone(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ESRCH)
}

/// Classifies an error reading an optional file of a process.
fn unavailable_from(e: &io::Error) -> Unavailable {
    match e.kind() {
        io::ErrorKind::NotFound => Unavailable::Missing,
        io::ErrorKind::PermissionDenied => Unavailable::PermissionDenied,
        _ => Unavailable::Invalid(e.to_string()),
    }
}

/// The fields of `/proc/PID/stat` used here.
#[derive(Debug, Clone, PartialEq)]
struct Stat<'a> {
    /// `comm`, raw bytes (may contain spaces and parentheses).
    comm: &'a [u8],
    /// State letter (`R`, `S`, `Z`, ...).
    state: u8,
    /// Parent PID.
    ppid: u32,
    /// Kernel flags (`PF_*`).
    flags: u64,
    /// Minor faults.
    minflt: u64,
    /// Major faults.
    majflt: u64,
    /// User ticks.
    utime: u64,
    /// System ticks.
    stime: u64,
    /// Threads.
    num_threads: u64,
    /// Start time, ticks after boot.
    starttime: u64,
    /// Virtual size, bytes.
    vsize: u64,
    /// Resident pages.
    rss_pages: u64,
}

impl Stat<'_> {
    /// Zombie or dead: the process is gone for our purposes.
    fn is_gone(&self) -> bool {
        matches!(self.state, b'Z' | b'X' | b'x')
    }
}

/// Parses `/proc/PID/stat`: `pid (comm) state ppid ...`, where `comm` may contain anything, so
/// it ends at the LAST `)`.
fn parse_stat(buf: &[u8]) -> Result<Stat<'_>, String> {
    let open = buf.iter().position(|&b| b == b'(').ok_or("no `(` in stat")?;
    let close = buf.iter().rposition(|&b| b == b')').ok_or("no `)` in stat")?;
    if close < open {
        return Err("`)` before `(` in stat".into());
    }
    let comm = &buf[open + 1..close];
    // Field n (1-based, as in proc(5)) is at index n - 3 after the comm.
    let mut fields = [&b""[..]; 22];
    let mut count = 0;
    for f in buf[close + 1..].split(|b| b.is_ascii_whitespace()).filter(|f| !f.is_empty()).take(fields.len()) {
        fields[count] = f;
        count += 1;
    }
    if count < fields.len() {
        return Err(format!("stat has {} fields after the command, expected at least {}", count, fields.len()));
    }
    let num = |i: usize, name: &str| -> Result<u64, String> {
        parse_u64(fields[i]).ok_or_else(|| format!("stat field {name} is `{}`", String::from_utf8_lossy(fields[i])))
    };
    let state = match fields[0] {
        [s] => *s,
        other => return Err(format!("stat state is `{}`", String::from_utf8_lossy(other))),
    };
    // rss is printed signed; clamp a (never seen) negative value to 0.
    let rss_pages = match fields[21] {
        [b'-', ..] => 0,
        f => parse_u64(f).ok_or_else(|| format!("stat field rss is `{}`", String::from_utf8_lossy(f)))?,
    };
    Ok(Stat {
        comm,
        state,
        ppid: u32::try_from(num(1, "ppid")?).map_err(|_| "stat ppid out of range".to_string())?,
        flags: num(6, "flags")?,
        minflt: num(7, "minflt")?,
        majflt: num(9, "majflt")?,
        utime: num(11, "utime")?,
        stime: num(12, "stime")?,
        num_threads: num(17, "num_threads")?,
        starttime: num(19, "starttime")?,
        vsize: num(20, "vsize")?,
        rss_pages,
    })
}

/// Parses a decimal integer, ignoring surrounding whitespace.
fn parse_u64(b: &[u8]) -> Option<u64> {
    let b = b.trim_ascii();
    if b.is_empty() {
        return None;
    }
    b.iter().try_fold(0u64, |acc, &c| {
        if c.is_ascii_digit() { acc.checked_mul(10)?.checked_add(u64::from(c - b'0')) } else { None }
    })
}

/// The value of the line starting with `key` (which includes its `:`) in a `key: value` file.
fn field<'a>(text: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    text.split(|&b| b == b'\n').find_map(|line| line.strip_prefix(key))
}

/// A number from a `key: value` file; values in `kB` are returned in bytes.
/// Context switches (voluntary, involuntary) summed over the threads in a `task` folder;
/// `None` when the folder cannot be read.
fn thread_ctx_switches(task_dir: &str, buf: &mut Vec<u8>) -> Option<(u64, u64)> {
    let (mut voluntary, mut involuntary) = (0, 0);
    for entry in std::fs::read_dir(task_dir).ok()?.flatten() {
        let status = format!("{task_dir}/{}/status", entry.file_name().to_string_lossy());
        // A thread that ended meanwhile took its switches with it.
        if read_into(&status, buf, true).is_ok() {
            voluntary += number(buf, b"voluntary_ctxt_switches:").unwrap_or(0);
            involuntary += number(buf, b"nonvoluntary_ctxt_switches:").unwrap_or(0);
        }
    }
    Some((voluntary, involuntary))
}

fn number(text: &[u8], key: &[u8]) -> Result<u64, Unavailable> {
    let v = field(text, key).ok_or(Unavailable::Missing)?.trim_ascii();
    let (digits, scale) = match v.strip_suffix(b"kB") {
        Some(d) => (d, 1024),
        None => (v, 1),
    };
    parse_u64(digits).and_then(|n| n.checked_mul(scale)).ok_or_else(|| {
        Unavailable::Invalid(format!(
            "{} is `{}`",
            String::from_utf8_lossy(key).trim_end_matches(':'),
            String::from_utf8_lossy(v)
        ))
    })
}

/// USS (`Private_Clean + Private_Dirty + Private_Hugetlb`) and PSS from `smaps_rollup`.
fn parse_smaps_rollup(text: &[u8]) -> (Result<u64, Unavailable>, Result<u64, Unavailable>) {
    let uss = (|| {
        let clean = number(text, b"Private_Clean:")?;
        let dirty = number(text, b"Private_Dirty:")?;
        let huge = match number(text, b"Private_Hugetlb:") {
            Err(Unavailable::Missing) => 0,
            other => other?,
        };
        Ok(clean + dirty + huge)
    })();
    (uss, number(text, b"Pss:"))
}

/// Lowercase name of a TCP state number of `/proc/net/tcp`.
fn tcp_state(st: u8) -> Option<&'static str> {
    Some(match st {
        0x01 => "established",
        0x02 => "syn_sent",
        0x03 => "syn_recv",
        0x04 => "fin_wait1",
        0x05 => "fin_wait2",
        0x06 => "time_wait",
        0x07 => "close",
        0x08 => "close_wait",
        0x09 => "last_ack",
        0x0A => "listen",
        0x0B => "closing",
        0x0C => "new_syn_recv",
        _ => return None,
    })
}

/// Counts, by state, the sockets of `/proc/net/tcp`-format `text` whose inode is in `inodes`.
fn count_tcp(text: &[u8], inodes: &HashSet<u64>, counts: &mut BTreeMap<String, u64>) {
    for line in text.split(|&b| b == b'\n').skip(1) {
        // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
        let mut f = line.split(|b| b.is_ascii_whitespace()).filter(|f| !f.is_empty());
        let (Some(st), Some(inode)) = (f.nth(3), f.nth(5)) else { continue };
        let Some(inode) = parse_u64(inode) else { continue };
        if inode == 0 || !inodes.contains(&inode) {
            continue;
        }
        let Some(name) = std::str::from_utf8(st).ok().and_then(|s| u8::from_str_radix(s, 16).ok()).and_then(tcp_state)
        else {
            continue;
        };
        *counts.entry(name.to_string()).or_insert(0) += 1;
    }
}

/// The inode of a descriptor link target `socket:[INODE]`.
fn socket_inode(target: &[u8]) -> Option<u64> {
    parse_u64(target.strip_prefix(b"socket:[")?.strip_suffix(b"]")?)
}

/// The socket inodes of a process that may be TCP, by the table listing them.
#[derive(Debug, Default)]
struct Sockets {
    /// Listed in `net/tcp`.
    v4: HashSet<u64>,
    /// Listed in `net/tcp6`.
    v6: HashSet<u64>,
}

/// What kind of socket a descriptor is, from the `system.sockprotoname` attribute of sockfs
/// (`TCP`, `TCPv6`, `UNIX`, `UDP`, ...). `None`: the kernel did not say.
fn socket_protocol(link: &std::path::Path) -> Option<Protocol> {
    use std::os::unix::ffi::OsStrExt as _;
    let path = std::ffi::CString::new(link.as_os_str().as_bytes()).ok()?;
    let mut name = [0u8; 32];
    // SAFETY: both strings are NUL-terminated and `name` is valid for `name.len()` bytes.
    let n = unsafe {
        libc::getxattr(path.as_ptr(), c"system.sockprotoname".as_ptr(), name.as_mut_ptr().cast(), name.len())
    };
    let n = usize::try_from(n).ok().filter(|&n| n > 0)?;
    Some(match name[..n].strip_suffix(b"\0").unwrap_or(&name[..n]) {
        b"TCP" => Protocol::Tcp4,
        b"TCPv6" => Protocol::Tcp6,
        _ => Protocol::Other,
    })
}

/// Protocol of a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// An IPv4 TCP socket.
    Tcp4,
    /// An IPv6 TCP socket (IPv4-mapped addresses included).
    Tcp6,
    /// Anything else (UNIX, UDP, netlink, ...).
    Other,
}

/// Counts the entries of `/proc/PID/fd` and collects the inodes of its TCP sockets. Knowing the
/// protocol of each socket matters: reading `net/tcp` walks the whole TCP hash table of the
/// namespace (milliseconds on a large machine, whatever the number of sockets), so the tables
/// are read only when needed.
fn scan_fds(dir: &str) -> (Result<u64, Unavailable>, Result<Sockets, Unavailable>) {
    use std::os::unix::ffi::OsStrExt as _;
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            let u = unavailable_from(&e);
            return (Err(u.clone()), Err(u));
        }
    };
    let mut count = 0u64;
    let mut sockets = Ok(Sockets::default());
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) if gone(&e) => continue,
            Err(e) => {
                let u = unavailable_from(&e);
                return (Err(u.clone()), Err(u));
            }
        };
        count += 1;
        let Ok(set) = sockets.as_mut() else { continue };
        let link = entry.path();
        match std::fs::read_link(&link) {
            Ok(target) => {
                let Some(inode) = socket_inode(target.as_os_str().as_bytes()) else { continue };
                match socket_protocol(&link) {
                    Some(Protocol::Tcp4) => _ = set.v4.insert(inode),
                    Some(Protocol::Tcp6) => _ = set.v6.insert(inode),
                    Some(Protocol::Other) => {}
                    None => {
                        set.v4.insert(inode);
                        set.v6.insert(inode);
                    }
                }
            }
            // Closed meanwhile.
            Err(e) if gone(&e) => {}
            Err(e) => sockets = Err(unavailable_from(&e)),
        }
    }
    (Ok(count), sockets)
}

/// TCP sockets of the process by state, from its socket inodes and its network namespace's
/// `net/tcp` and `net/tcp6` (each read only when the process has sockets listed there).
fn read_tcp(base: &str, sockets: &Sockets, buf: &mut Vec<u8>) -> Result<BTreeMap<String, u64>, Unavailable> {
    let mut counts = BTreeMap::new();
    let mut missing = 0;
    for (file, inodes) in [("net/tcp", &sockets.v4), ("net/tcp6", &sockets.v6)] {
        if inodes.is_empty() {
            continue;
        }
        match read_into(&format!("{base}{file}"), buf, false) {
            Ok(()) => count_tcp(buf, inodes, &mut counts),
            // No IPv6 (or no IPv4) in this kernel: no such sockets either.
            Err(e) if e.kind() == io::ErrorKind::NotFound => missing += 1,
            Err(e) => return Err(unavailable_from(&e)),
        }
    }
    if missing == 2 { Err(Unavailable::Missing) } else { Ok(counts) }
}

/// Whether `pid` still is the process that started at `starttime` and is not a zombie.
fn same_process(pid: u32, starttime: u64, buf: &mut Vec<u8>) -> bool {
    read_into(&format!("/proc/{pid}/stat"), buf, true).is_ok()
        && parse_stat(buf).is_ok_and(|s| !s.is_gone() && s.starttime == starttime)
}

/// Reads the counters of process `pid`. `NoSuchProcess` when it does not exist, is a zombie, or
/// exits while being read.
pub fn read(pid: u32) -> Result<RawProcess, ProcError> {
    read_opts(pid, true)
}

/// [`read`], optionally without the costly parts: the TCP tables (the kernel walks its whole
/// connection table for each read) and `smaps_rollup` (it walks every page table of the
/// process). `full == false` leaves `tcp`, `uss_bytes` and `pss_bytes` `Err(Missing)` for the
/// caller to fill from an earlier reading.
pub fn read_opts(pid: u32, full: bool) -> Result<RawProcess, ProcError> {
    let with_tcp = full;
    let mut buf = Vec::with_capacity(BUF_SIZE);
    let mut base = String::with_capacity(32);
    let _ = write!(base, "/proc/{pid}/");
    let path = |name: &str| format!("{base}{name}");

    match read_into(&path("stat"), &mut buf, true) {
        Ok(()) => {}
        Err(e) if gone(&e) => return Err(ProcError::NoSuchProcess(pid)),
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => return Err(ProcError::PermissionDenied(pid)),
        Err(e) => return Err(ProcError::Invalid { pid, reason: format!("reading stat: {e}") }),
    }
    let stat = parse_stat(&buf).map_err(|reason| ProcError::Invalid { pid, reason })?;
    if stat.is_gone() {
        return Err(ProcError::NoSuchProcess(pid));
    }
    let kthread = stat.flags & PF_KTHREAD != 0;
    if !kthread && stat.vsize == 0 {
        // A user process without an address space is exiting (its memory already released,
        // not yet a zombie): it is gone, and its zero RSS must not land in a timeline.
        return Err(ProcError::NoSuchProcess(pid));
    }
    let starttime = stat.starttime;
    let mut p = RawProcess {
        pid,
        ppid: stat.ppid,
        comm: String::from_utf8_lossy(stat.comm).into_owned(),
        cmdline: String::new(),
        utime_ticks: stat.utime,
        stime_ticks: stat.stime,
        num_threads: stat.num_threads,
        minflt: stat.minflt,
        majflt: stat.majflt,
        vsize_bytes: stat.vsize,
        rss_bytes: stat.rss_pages.saturating_mul(page_size()),
        starttime_ticks: stat.starttime,
        swap_bytes: Err(Unavailable::Missing),
        ctx_voluntary: Err(Unavailable::Missing),
        ctx_involuntary: Err(Unavailable::Missing),
        uss_bytes: Err(Unavailable::Missing),
        pss_bytes: Err(Unavailable::Missing),
        read_bytes: Err(Unavailable::Missing),
        write_bytes: Err(Unavailable::Missing),
        fds: Err(Unavailable::Missing),
        tcp: Err(Unavailable::Missing),
    };
    // Set when a read failed in a way that may mean the process exited meanwhile.
    let mut maybe_gone = false;

    if read_into(&path("cmdline"), &mut buf, true).is_ok() {
        let args = buf.strip_suffix(b"\0").unwrap_or(&buf);
        p.cmdline = String::from_utf8_lossy(args).replace('\0', " ");
    }

    match read_into(&path("status"), &mut buf, true) {
        Ok(()) => {
            p.swap_bytes = number(&buf, b"VmSwap:");
            p.ctx_voluntary = number(&buf, b"voluntary_ctxt_switches:");
            p.ctx_involuntary = number(&buf, b"nonvoluntary_ctxt_switches:");
        }
        Err(e) => {
            maybe_gone |= gone(&e);
            let u = unavailable_from(&e);
            (p.swap_bytes, p.ctx_voluntary, p.ctx_involuntary) = (Err(u.clone()), Err(u.clone()), Err(u));
        }
    }

    if full && p.num_threads > 1 && p.ctx_voluntary.is_ok() {
        // The status file counts the main thread's switches only: the other threads' are summed
        // in, with the costly reads (one file per thread).
        if let Some((voluntary, involuntary)) = thread_ctx_switches(&path("task"), &mut buf) {
            p.ctx_voluntary = Ok(voluntary);
            p.ctx_involuntary = Ok(involuntary);
        }
    }

    if full {
        match read_into(&path("smaps_rollup"), &mut buf, true) {
            Ok(()) => (p.uss_bytes, p.pss_bytes) = parse_smaps_rollup(&buf),
            Err(e) => {
                maybe_gone |= gone(&e);
                let u = unavailable_from(&e);
                (p.uss_bytes, p.pss_bytes) = (Err(u.clone()), Err(u));
            }
        }
    }

    match read_into(&path("io"), &mut buf, true) {
        Ok(()) => {
            p.read_bytes = number(&buf, b"read_bytes:");
            p.write_bytes = number(&buf, b"write_bytes:");
        }
        Err(e) => {
            maybe_gone |= gone(&e);
            let u = unavailable_from(&e);
            (p.read_bytes, p.write_bytes) = (Err(u.clone()), Err(u));
        }
    }

    let (fds, sockets) = scan_fds(&path("fd"));
    maybe_gone |= fds == Err(Unavailable::Missing);
    p.fds = fds;
    if with_tcp {
        p.tcp = sockets.and_then(|set| read_tcp(&base, &set, &mut buf));
    }

    let any_err = [&p.swap_bytes, &p.ctx_voluntary, &p.read_bytes, &p.fds].iter().any(|r| r.is_err())
        || (full && (p.tcp.is_err() || p.uss_bytes.is_err() || p.pss_bytes.is_err()));
    if (maybe_gone || any_err) && !same_process(pid, starttime, &mut buf) {
        return Err(ProcError::NoSuchProcess(pid));
    }
    if kthread {
        // Kernel threads have no memory of their own: no VmSwap line, no smaps_rollup.
        let mut fields = vec![&mut p.swap_bytes];
        if full {
            fields.extend([&mut p.uss_bytes, &mut p.pss_bytes]);
        }
        for r in fields {
            if r.is_err() {
                *r = Ok(0);
            }
        }
    }
    Ok(p)
}

/// True when process `pid` exists and is not a zombie.
pub fn alive(pid: u32) -> bool {
    let mut buf = Vec::with_capacity(1024);
    read_into(&format!("/proc/{pid}/stat"), &mut buf, true).is_ok() && parse_stat(&buf).is_ok_and(|s| !s.is_gone())
}

/// Every living descendant of `root` (children, grandchildren, ...), sorted, from a scan of
/// the parent PIDs in `/proc/*/stat`.
pub fn descendants(root: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    let mut buf = Vec::with_capacity(1024);
    let mut path = String::with_capacity(32);
    for entry in dir.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        path.clear();
        let _ = write!(path, "/proc/{pid}/stat");
        if read_into(&path, &mut buf, true).is_err() {
            continue;
        }
        if let Ok(s) = parse_stat(&buf)
            && !s.is_gone()
            && pid != s.ppid
        {
            children.entry(s.ppid).or_default().push(pid);
        }
    }
    let mut seen = HashSet::from([root]);
    let mut out = Vec::new();
    let mut todo = vec![root];
    while let Some(parent) = todo.pop() {
        for &child in children.get(&parent).map(Vec::as_slice).unwrap_or_default() {
            if seen.insert(child) {
                out.push(child);
                todo.push(child);
            }
        }
    }
    out.sort_unstable();
    out
}

/// Metrics from two readings `dt_secs` apart (`prev` None: first sample, CPU percentages None).
/// `prev` should be a reading of the same process (same PID and start time).
pub fn metrics(prev: Option<&RawProcess>, cur: &RawProcess, dt_secs: f64) -> Metrics {
    let tps = ticks_per_second();
    let percent = |before: u64, now: u64| now.saturating_sub(before) as f64 / tps / dt_secs * 100.0;
    let rates = prev.filter(|_| dt_secs > 0.0 && dt_secs.is_finite());
    Metrics {
        cpu_user_percent: rates.map(|p| percent(p.utime_ticks, cur.utime_ticks)),
        cpu_system_percent: rates.map(|p| percent(p.stime_ticks, cur.stime_ticks)),
        cpu_seconds_total: Some((cur.utime_ticks + cur.stime_ticks) as f64 / tps),
        rss_bytes: Some(cur.rss_bytes),
        uss_bytes: cur.uss_bytes.clone().ok(),
        pss_bytes: cur.pss_bytes.clone().ok(),
        swap_bytes: cur.swap_bytes.clone().ok(),
        vms_bytes: Some(cur.vsize_bytes),
        threads: Some(cur.num_threads),
        fds: cur.fds.clone().ok(),
        tcp: cur.tcp.clone().ok(),
        read_bytes: cur.read_bytes.clone().ok(),
        write_bytes: cur.write_bytes.clone().ok(),
        ctx_switches_voluntary: cur.ctx_voluntary.clone().ok(),
        ctx_switches_involuntary: cur.ctx_involuntary.clone().ok(),
        minor_faults: Some(cur.minflt),
        major_faults: Some(cur.majflt),
    }
}

/// Sum of several processes' metrics (None only when None in every process; tcp maps summed).
pub fn sum(items: &[&Metrics]) -> Metrics {
    fn add_u(items: &[&Metrics], f: impl Fn(&Metrics) -> Option<u64>) -> Option<u64> {
        items.iter().filter_map(|m| f(m)).reduce(u64::saturating_add)
    }
    fn add_f(items: &[&Metrics], f: impl Fn(&Metrics) -> Option<f64>) -> Option<f64> {
        items.iter().filter_map(|m| f(m)).reduce(|a, b| a + b)
    }
    let tcp = items.iter().filter_map(|m| m.tcp.as_ref()).fold(None, |acc: Option<BTreeMap<String, u64>>, map| {
        let mut acc = acc.unwrap_or_default();
        for (state, n) in map {
            *acc.entry(state.clone()).or_insert(0) += n;
        }
        Some(acc)
    });
    Metrics {
        cpu_user_percent: add_f(items, |m| m.cpu_user_percent),
        cpu_system_percent: add_f(items, |m| m.cpu_system_percent),
        cpu_seconds_total: add_f(items, |m| m.cpu_seconds_total),
        rss_bytes: add_u(items, |m| m.rss_bytes),
        uss_bytes: add_u(items, |m| m.uss_bytes),
        pss_bytes: add_u(items, |m| m.pss_bytes),
        swap_bytes: add_u(items, |m| m.swap_bytes),
        vms_bytes: add_u(items, |m| m.vms_bytes),
        threads: add_u(items, |m| m.threads),
        fds: add_u(items, |m| m.fds),
        tcp,
        read_bytes: add_u(items, |m| m.read_bytes),
        write_bytes: add_u(items, |m| m.write_bytes),
        ctx_switches_voluntary: add_u(items, |m| m.ctx_switches_voluntary),
        ctx_switches_involuntary: add_u(items, |m| m.ctx_switches_involuntary),
        minor_faults: add_u(items, |m| m.minor_faults),
        major_faults: add_u(items, |m| m.major_faults),
    }
}

/// Names of the fields unavailable in `p` (as named in [`Metrics`]), with why, e.g.
/// `uss_bytes: permission denied`.
pub fn unavailable(p: &RawProcess) -> Vec<String> {
    /// Why a field is unavailable, if it is.
    fn why<T>(r: &Result<T, Unavailable>) -> Option<&Unavailable> {
        r.as_ref().err()
    }
    [
        ("uss_bytes", why(&p.uss_bytes)),
        ("pss_bytes", why(&p.pss_bytes)),
        ("swap_bytes", why(&p.swap_bytes)),
        ("fds", why(&p.fds)),
        ("tcp", why(&p.tcp)),
        ("read_bytes", why(&p.read_bytes)),
        ("write_bytes", why(&p.write_bytes)),
        ("ctx_switches_voluntary", why(&p.ctx_voluntary)),
        ("ctx_switches_involuntary", why(&p.ctx_involuntary)),
    ]
    .into_iter()
    .filter_map(|(name, why)| why.map(|w| format!("{name}: {w}")))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_switches_of_every_thread_are_summed_in_full_readings() {
        // Threads that sleep over and over switch out voluntarily: the leader's status file
        // does not count them, the full reading does.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let stop = std::sync::Arc::clone(&stop);
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        std::thread::sleep(std::time::Duration::from_millis(1));
                    }
                    while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                        std::thread::sleep(std::time::Duration::from_millis(5));
                    }
                })
            })
            .collect();
        std::thread::sleep(std::time::Duration::from_millis(300));
        let leader = read_opts(std::process::id(), false).unwrap();
        let all = read_opts(std::process::id(), true).unwrap();
        stop.store(true, std::sync::atomic::Ordering::SeqCst);
        for t in threads {
            t.join().unwrap();
        }
        let (leader, all) = (leader.ctx_voluntary.unwrap(), all.ctx_voluntary.unwrap());
        assert!(all >= leader + 4 * 50, "summed {all}, main thread {leader}");
    }
    use std::io::Write as _;
    use std::net::{TcpListener, TcpStream};
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    #[test]
    fn reads_own_process() {
        let p = read(std::process::id()).unwrap();
        assert_eq!(p.pid, std::process::id());
        assert!(p.ppid > 0);
        assert!(!p.comm.is_empty());
        assert!(!p.cmdline.is_empty());
        assert!(p.rss_bytes > 0);
        assert!(p.vsize_bytes >= p.rss_bytes);
        assert!(p.num_threads >= 1);
        assert!(p.starttime_ticks > 0);
        assert!(*p.fds.as_ref().unwrap() > 0);
        assert!(p.swap_bytes.is_ok());
        assert!(p.ctx_voluntary.is_ok() && p.ctx_involuntary.is_ok());
        // Not every kernel has smaps_rollup (4.14+) or io accounting; when present, sane.
        if let (Ok(uss), Ok(pss)) = (&p.uss_bytes, &p.pss_bytes) {
            assert!(*uss > 0 && *pss >= *uss && *pss <= p.rss_bytes);
        }
        let m = metrics(None, &p, 0.0);
        assert_eq!(m.cpu_user_percent, None);
        assert_eq!(m.rss_bytes, Some(p.rss_bytes));
        assert_eq!(m.threads, Some(p.num_threads));
        assert!(m.cpu_seconds_total.unwrap() >= 0.0);
        assert!(ticks_per_second() > 0.0);
        assert!(alive(std::process::id()));
    }

    #[test]
    fn child_process_lifecycle() {
        let mut child = Command::new("sleep").arg("5").stdin(Stdio::null()).spawn().unwrap();
        let pid = child.id();
        // The fork exists at once, but the exec may not have finished yet: `comm` changes
        // before the new arguments are in place.
        let deadline = Instant::now() + Duration::from_secs(5);
        let p = loop {
            let p = read(pid).unwrap();
            if (p.comm == "sleep" && !p.cmdline.is_empty()) || Instant::now() > deadline {
                break p;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        assert_eq!(p.comm, "sleep");
        assert_eq!(p.cmdline, "sleep 5");
        assert_eq!(p.ppid, std::process::id());
        assert!(alive(pid));
        assert!(descendants(std::process::id()).contains(&pid));
        assert!(!descendants(pid).contains(&pid));
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(!alive(pid));
        assert_eq!(read(pid), Err(ProcError::NoSuchProcess(pid)));
        assert!(!descendants(std::process::id()).contains(&pid));
    }

    #[test]
    fn zombie_counts_as_gone() {
        let mut child = Command::new("true").spawn().unwrap();
        let pid = child.id();
        // Not reaped yet: a zombie once it exits.
        let deadline = Instant::now() + Duration::from_secs(5);
        while alive(pid) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(!alive(pid));
        assert_eq!(read(pid), Err(ProcError::NoSuchProcess(pid)));
        child.wait().unwrap();
    }

    #[test]
    fn missing_pid() {
        assert_eq!(read(u32::MAX - 1), Err(ProcError::NoSuchProcess(u32::MAX - 1)));
        assert!(!alive(u32::MAX - 1));
        assert!(descendants(u32::MAX - 1).is_empty());
        assert!(ProcError::NoSuchProcess(7).to_string().contains("no process with PID 7"));
    }

    #[test]
    fn stat_with_parentheses_in_comm() {
        let line = b"42 ((a) b)) S 7 42 42 0 -1 4194304 11 0 3 0 250 30 0 0 20 0 5 0 12345 1000000 25 18446744073709551615 1 1 0 0 0 0 0\n";
        let s = parse_stat(line).unwrap();
        assert_eq!(s.comm, b"(a) b)");
        assert_eq!(s.state, b'S');
        assert_eq!(s.ppid, 7);
        assert_eq!(s.flags, 4194304);
        assert_eq!((s.minflt, s.majflt), (11, 3));
        assert_eq!((s.utime, s.stime), (250, 30));
        assert_eq!(s.num_threads, 5);
        assert_eq!(s.starttime, 12345);
        assert_eq!(s.vsize, 1000000);
        assert_eq!(s.rss_pages, 25);
        let s = parse_stat(b"1 (a) b) Z 0 0 0 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0").unwrap();
        assert_eq!(s.comm, b"a) b");
        assert!(s.is_gone());
        assert!(parse_stat(b"1 (x) S 0").is_err());
        assert!(parse_stat(b"garbage").is_err());
    }

    #[test]
    fn status_smaps_and_io_parsing() {
        let status =
            b"Name:\tpython3\nVmSwap:\t     12 kB\nvoluntary_ctxt_switches:\t40\nnonvoluntary_ctxt_switches:\t3\n";
        assert_eq!(number(status, b"VmSwap:"), Ok(12 * 1024));
        assert_eq!(number(status, b"voluntary_ctxt_switches:"), Ok(40));
        assert_eq!(number(status, b"nonvoluntary_ctxt_switches:"), Ok(3));
        assert_eq!(number(status, b"VmRSS:"), Err(Unavailable::Missing));
        assert!(matches!(number(b"VmSwap:\tlots kB\n", b"VmSwap:"), Err(Unavailable::Invalid(_))));
        let rollup = b"00400000-7fff [rollup]\nRss: 100 kB\nPss: 60 kB\nPss_Dirty: 5 kB\nPrivate_Clean: 10 kB\nPrivate_Dirty: 20 kB\nPrivate_Hugetlb: 2 kB\n";
        assert_eq!(parse_smaps_rollup(rollup), (Ok(32 * 1024), Ok(60 * 1024)));
        let old = b"Pss: 60 kB\nPrivate_Clean: 10 kB\nPrivate_Dirty: 20 kB\n";
        assert_eq!(parse_smaps_rollup(old), (Ok(30 * 1024), Ok(60 * 1024)));
        let io = b"rchar: 5\nwchar: 6\nread_bytes: 4096\nwrite_bytes: 8192\ncancelled_write_bytes: 1\n";
        assert_eq!(number(io, b"read_bytes:"), Ok(4096));
        assert_eq!(number(io, b"write_bytes:"), Ok(8192));
    }

    #[test]
    fn tcp_table_parsing() {
        let table =
            b"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 111 1 0 100 0 0 10 0\n\
   1: 0100007F:1F90 0100007F:C000 01 00000000:00000000 00:00000000 00000000  1000        0 222 1 0 20 4 30 10 -1\n\
   2: 0100007F:C000 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 333 1 0 20 4 30 10 -1\n\
   3: 0100007F:C001 0100007F:1F90 06 00000000:00000000 03:00001000 00000000     0        0 0 3 0\n";
        let inodes = HashSet::from([111, 222, 444]);
        let mut counts = BTreeMap::new();
        count_tcp(table, &inodes, &mut counts);
        assert_eq!(counts, BTreeMap::from([("established".to_string(), 1), ("listen".to_string(), 1)]));
        assert_eq!(socket_inode(b"socket:[12345]"), Some(12345));
        assert_eq!(socket_inode(b"pipe:[12345]"), None);
        assert_eq!(socket_inode(b"/dev/null"), None);
    }

    #[test]
    fn own_tcp_sockets() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        client.write_all(b"x").unwrap();
        let p = read(std::process::id()).unwrap();
        let tcp = p.tcp.unwrap();
        assert!(tcp.get("listen").copied().unwrap_or(0) >= 1, "{tcp:?}");
        assert!(tcp.get("established").copied().unwrap_or(0) >= 2, "{tcp:?}");
        drop((client, server, listener));
    }

    #[test]
    fn socket_protocols() {
        use std::os::fd::AsRawFd as _;
        let tcp = TcpListener::bind("127.0.0.1:0").unwrap();
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let link = |fd: i32| std::path::PathBuf::from(format!("/proc/self/fd/{fd}"));
        assert_eq!(socket_protocol(&link(tcp.as_raw_fd())), Some(Protocol::Tcp4));
        assert_eq!(socket_protocol(&link(udp.as_raw_fd())), Some(Protocol::Other));
        let (_, sockets) = scan_fds("/proc/self/fd");
        let sockets = sockets.unwrap();
        assert!(!sockets.v4.is_empty());
    }

    #[test]
    fn cpu_of_a_busy_thread() {
        let pid = std::process::id();
        let before = read(pid).unwrap();
        let t0 = Instant::now();
        std::thread::spawn(|| {
            let start = Instant::now();
            let mut x = 0u64;
            while start.elapsed() < Duration::from_millis(200) {
                for i in 0..10_000u64 {
                    x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
                }
            }
            x
        })
        .join()
        .unwrap();
        let after = read(pid).unwrap();
        let m = metrics(Some(&before), &after, t0.elapsed().as_secs_f64());
        assert!(m.cpu_user_percent.unwrap() > 0.0, "{m:?}");
        assert!(m.cpu_system_percent.unwrap() >= 0.0);
        assert!(m.cpu_seconds_total.unwrap() > 0.0);
        // No interval: no rate.
        assert_eq!(metrics(Some(&before), &after, 0.0).cpu_user_percent, None);
    }

    #[test]
    fn sums_metrics() {
        let a = Metrics {
            cpu_user_percent: Some(10.0),
            rss_bytes: Some(100),
            uss_bytes: None,
            fds: Some(3),
            tcp: Some(BTreeMap::from([("listen".to_string(), 1), ("established".to_string(), 2)])),
            ..Metrics::default()
        };
        let b = Metrics {
            cpu_user_percent: Some(5.5),
            rss_bytes: Some(50),
            uss_bytes: Some(7),
            fds: None,
            tcp: Some(BTreeMap::from([("established".to_string(), 3)])),
            ..Metrics::default()
        };
        let s = sum(&[&a, &b]);
        assert_eq!(s.cpu_user_percent, Some(15.5));
        assert_eq!(s.rss_bytes, Some(150));
        assert_eq!(s.uss_bytes, Some(7));
        assert_eq!(s.fds, Some(3));
        assert_eq!(s.pss_bytes, None);
        assert_eq!(s.tcp, Some(BTreeMap::from([("listen".to_string(), 1), ("established".to_string(), 5)])));
        assert_eq!(sum(&[]), Metrics::default());
        assert_eq!(sum(&[&a]), a);
    }

    #[test]
    fn lists_unavailable_fields() {
        let mut p = read(std::process::id()).unwrap();
        p.uss_bytes = Err(Unavailable::PermissionDenied);
        p.tcp = Err(Unavailable::Missing);
        p.read_bytes = Err(Unavailable::Invalid("bad".into()));
        p.write_bytes = Ok(0);
        p.fds = Ok(1);
        p.pss_bytes = Ok(1);
        p.swap_bytes = Ok(1);
        p.ctx_voluntary = Ok(1);
        p.ctx_involuntary = Ok(1);
        assert_eq!(
            unavailable(&p),
            ["uss_bytes: permission denied", "tcp: not provided by this kernel", "read_bytes: unreadable: bad"]
        );
        let m = metrics(None, &p, 1.0);
        assert_eq!((m.uss_bytes, m.tcp, m.read_bytes), (None, None, None));
    }
}
