//! Ctrl-C (SIGINT/SIGTERM) handling: a process-wide flag plus killing the measured child.
//!
//! [`install`] registers a handler once. On the first signal it sets the flag returned by
//! [`interrupted`] and sends `SIGKILL` to the process group of the child that [`crate::run`]
//! is currently waiting for, so the wait returns at once. The second signal only sets
//! [`hurry`]: GNU `timeout -s INT` and an impatient double Ctrl-C both deliver two signals
//! within milliseconds, and the run's raw results must still be written; commands skip their
//! slow parts (statistics, rendering extras) when hurried. The third signal first sends
//! `SIGKILL` to the groups registered with [`guard_group`] (servers tachy started, which must
//! not outlive it), then calls the `on_repeat` callback given to [`install`] (the binary uses
//! it to exit with 130 at once).

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
/// Signals received so far (SIGINT and SIGTERM together).
static SIGNALS: AtomicUsize = AtomicUsize::new(0);
/// How many signals it takes to exit at once without saving.
pub const SIGNALS_TO_ABANDON: usize = 3;
/// Process group id of the child being waited for, if it runs in its own group.
/// Guarded by a mutex so the handler never signals a group whose leader was already reaped.
static CURRENT_GROUP: Mutex<Option<i32>> = Mutex::new(None);

/// Error installing the signal handler.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// The handler thread could not be set up.
    #[error("cannot install the Ctrl-C handler: {0}")]
    Ctrlc(#[from] ctrlc::Error),
    /// The in-signal flag could not be registered.
    #[error("cannot install the Ctrl-C handler: {0}")]
    Flag(#[from] std::io::Error),
}

/// Installs the handler. Call once, early, from the binary.
pub fn install(on_repeat: fn()) -> Result<(), InstallError> {
    ctrlc::set_handler(move || {
        let n = SIGNALS.fetch_add(1, Ordering::SeqCst) + 1;
        INTERRUPTED.store(true, Ordering::SeqCst);
        if n >= SIGNALS_TO_ABANDON {
            terminate_guarded_groups();
            on_repeat();
            return;
        }
        // The first signal stops the work; a second one only asks to hurry: the measured child
        // is killed again in case it was started in between.
        kill_current_group();
    })?;
    // The handler above runs on a thread, a moment after the signal; a program killed by the
    // same Ctrl-C (a terminal signals the whole group) may be reaped before it runs. The flag
    // is therefore also set in the signal handler itself (chained before ctrlc's), so whoever
    // sees the program die of the Ctrl-C also sees the run interrupted.
    for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: the action only stores to an atomic, which is async-signal-safe.
        unsafe { signal_hook_registry::register(signal, || INTERRUPTED.store(true, Ordering::SeqCst)) }?;
    }
    Ok(())
}

/// True once Ctrl-C was pressed (or SIGTERM received).
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// True once a second Ctrl-C (or SIGTERM) arrived: write the raw results and skip the slow
/// parts (statistics that resample, extra renderings). A third signal exits without saving.
pub fn hurry() -> bool {
    SIGNALS.load(Ordering::SeqCst) >= 2
}

/// Marks the run as interrupted from code (used by tests and by callers that stop early).
pub fn trigger() {
    INTERRUPTED.store(true, Ordering::SeqCst);
    kill_current_group();
}

fn kill_current_group() {
    let guard = CURRENT_GROUP.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(pgid) = *guard {
        // SAFETY: plain syscall; the group leader is not reaped while the lock is held.
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
}

/// Records (or clears) the process group that a Ctrl-C should kill.
pub(crate) fn set_current_group(pgid: Option<i32>) {
    let mut guard = CURRENT_GROUP.lock().unwrap_or_else(|e| e.into_inner());
    *guard = pgid;
}

/// Process groups to stop if tachy is made to exit at once (a second Ctrl-C).
static GUARDED_GROUPS: Mutex<Vec<i32>> = Mutex::new(Vec::new());

/// Keeps a process group on the list that a second Ctrl-C terminates before tachy exits;
/// dropping it takes the group off (call that once the group has been stopped normally).
#[derive(Debug)]
pub struct GroupGuard(i32);

/// Registers `pgid` (a child started with its own process group) until the guard drops.
pub fn guard_group(pgid: i32) -> GroupGuard {
    GUARDED_GROUPS.lock().unwrap_or_else(|e| e.into_inner()).push(pgid);
    GroupGuard(pgid)
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        let mut groups = GUARDED_GROUPS.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = groups.iter().position(|&g| g == self.0) {
            groups.swap_remove(i);
        }
    }
}

fn terminate_guarded_groups() {
    let groups = GUARDED_GROUPS.lock().unwrap_or_else(|e| e.into_inner());
    for &pgid in groups.iter() {
        // SAFETY: kill(2) on a process group we started and have not reaped (the guard is
        // dropped only after the group was stopped and its leader waited for).
        unsafe {
            libc::kill(-pgid, libc::SIGKILL);
        }
    }
}
