//! `tachy mem --native`: the same library, preloaded with `LD_PRELOAD`, interposes the C
//! allocator (`malloc`, `calloc`, `realloc`, `free`, `posix_memalign`, `aligned_alloc`,
//! `memalign`, `valloc`) so memory that C code takes directly (extension buffers, numpy arrays)
//! is seen too. Loaded by `ctypes` without `LD_PRELOAD`, these symbols stay local to the
//! library and interpose nothing.
//!
//! * Every call forwards to the next definition (`dlsym(RTLD_NEXT)`, resolved on first use;
//!   calls made while resolving are served from a small static arena).
//! * Once tracing started: the whole C heap's live bytes are counted exactly with
//!   `malloc_usable_size` (the "C heap" figure), and so are the blocks C code takes directly,
//!   outside the Python-allocator hooks (those are already counted there): these join the
//!   traced total, its peak and its timeline, so an array of numpy counts like a list.
//! * Direct allocations are sampled like Python ones (Poisson over bytes). A thread holding the
//!   GIL records the Python stack at once. A thread that released it (numpy zero-fills a large
//!   array without the GIL) records the sample without a stack, and gives it the Python stack
//!   of its next Python allocation, made back under the GIL on the same line (`R` record).
//!   Sampled addresses go to a fixed lock-free table so their frees are recorded. Nothing in
//!   the interposed path allocates.

use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicPtr, AtomicU64, AtomicUsize, Ordering};

use super::*;

unsafe extern "C" {
    fn malloc_usable_size(p: *mut c_void) -> usize;
}

const RTLD_NEXT: *mut c_void = -1isize as *mut c_void;

/// Set by `tachy_mem_start` when the library was preloaded (`TACHY_MEM_NATIVE=1`).
pub static NATIVE: AtomicBool = AtomicBool::new(false);
/// Live bytes of the C heap (usable sizes), exact.
pub static NATIVE_LIVE: AtomicI64 = AtomicI64::new(0);
/// Largest value of [`NATIVE_LIVE`] seen.
pub static NATIVE_PEAK: AtomicI64 = AtomicI64::new(0);
/// Live bytes C code took directly (outside the Python-allocator hooks and tachy's own work):
/// part of the traced total.
pub static NATIVE_DIRECT: AtomicI64 = AtomicI64::new(0);
/// Direct C allocations made, and their bytes (part of the allocation totals).
pub static NATIVE_ALLOCS: AtomicU64 = AtomicU64::new(0);
/// See [`NATIVE_ALLOCS`].
pub static NATIVE_ALLOC_BYTES: AtomicU64 = AtomicU64::new(0);

/// Marks a table entry whose sample still waits for its Python stack.
const PENDING_TAG: u64 = 1 << 62;
/// Samples a thread may hold waiting for a stack; more are left without one.
const MAX_PENDING: usize = 8;

/// Samples waiting for a stack, over all threads: the MEM/OBJ path looks at its thread's list
/// only when some are.
static PENDING_TOTAL: AtomicI64 = AtomicI64::new(0);

thread_local! {
    static PENDING: std::cell::Cell<[u64; MAX_PENDING]> = const { std::cell::Cell::new([0; MAX_PENDING]) };
    static PENDING_N: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

static REAL_MALLOC: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());
static REAL_CALLOC: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());
static REAL_REALLOC: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());
static REAL_FREE: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());
static REAL_MEMALIGN: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());
static RESOLVING: AtomicBool = AtomicBool::new(false);

const ARENA_SIZE: usize = 1 << 16;
#[repr(align(16))]
#[allow(dead_code)] // only its address and bytes are used
struct Arena([u8; ARENA_SIZE]);
static mut ARENA: Arena = Arena([0; ARENA_SIZE]);
static ARENA_USED: AtomicUsize = AtomicUsize::new(0);

fn in_arena(p: *mut c_void) -> bool {
    let start = std::ptr::addr_of!(ARENA) as usize;
    (start..start + ARENA_SIZE).contains(&(p as usize))
}

fn arena_alloc(size: usize) -> *mut c_void {
    let size = (size + 15) & !15;
    let off = ARENA_USED.fetch_add(size, Ordering::SeqCst);
    if off + size > ARENA_SIZE {
        return std::ptr::null_mut();
    }
    // SAFETY: a disjoint slice of the static arena (zeroed, never reused).
    unsafe { (std::ptr::addr_of_mut!(ARENA) as *mut u8).add(off) as *mut c_void }
}

unsafe fn resolve() {
    if RESOLVING.swap(true, Ordering::SeqCst) {
        return;
    }
    let get = |name: &std::ffi::CStr| dlsym(RTLD_NEXT, name.as_ptr());
    REAL_MALLOC.store(get(c"malloc"), Ordering::SeqCst);
    REAL_CALLOC.store(get(c"calloc"), Ordering::SeqCst);
    REAL_REALLOC.store(get(c"realloc"), Ordering::SeqCst);
    REAL_FREE.store(get(c"free"), Ordering::SeqCst);
    REAL_MEMALIGN.store(get(c"memalign"), Ordering::SeqCst);
    RESOLVING.store(false, Ordering::SeqCst);
}

macro_rules! real {
    ($slot:ident, $ty:ty) => {{
        let mut p = $slot.load(Ordering::Relaxed);
        if p.is_null() {
            resolve();
            p = $slot.load(Ordering::SeqCst);
        }
        if p.is_null() { None } else { Some(std::mem::transmute::<*mut c_void, $ty>(p)) }
    }};
}

/// Sampled native addresses (open addressing, 0 = empty, 1 = deleted): allocation-free.
const TABLE: usize = 1 << 16;
static SAMPLED_TABLE: [AtomicU64; TABLE] = [const { AtomicU64::new(0) }; TABLE];
static SAMPLED_COUNT: AtomicI64 = AtomicI64::new(0);

fn slot(addr: u64) -> usize {
    ((addr >> 4).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 48) as usize % TABLE
}

fn table_insert(value: u64) -> bool {
    let addr = value & !PENDING_TAG;
    let mut i = slot(addr);
    for _ in 0..TABLE {
        let cur = SAMPLED_TABLE[i].load(Ordering::Relaxed);
        if (cur == 0 || cur == 1)
            && SAMPLED_TABLE[i].compare_exchange(cur, value, Ordering::AcqRel, Ordering::Relaxed).is_ok()
        {
            SAMPLED_COUNT.fetch_add(1, Ordering::Relaxed);
            return true;
        }
        i = (i + 1) % TABLE;
    }
    false
}

fn table_remove(addr: u64) -> bool {
    if SAMPLED_COUNT.load(Ordering::Relaxed) <= 0 {
        return false;
    }
    let mut i = slot(addr);
    for _ in 0..TABLE {
        let cur = SAMPLED_TABLE[i].load(Ordering::Relaxed);
        if cur == 0 {
            return false;
        }
        if cur & !PENDING_TAG == addr
            && cur != 1
            && SAMPLED_TABLE[i].compare_exchange(cur, 1, Ordering::AcqRel, Ordering::Relaxed).is_ok()
        {
            SAMPLED_COUNT.fetch_sub(1, Ordering::Relaxed);
            return true;
        }
        i = (i + 1) % TABLE;
    }
    false
}

/// Clears the pending mark of a sample still live; false when it was freed meanwhile.
fn table_resolve(addr: u64) -> bool {
    let mut i = slot(addr);
    for _ in 0..TABLE {
        let cur = SAMPLED_TABLE[i].load(Ordering::Relaxed);
        if cur == 0 {
            return false;
        }
        if cur == addr | PENDING_TAG {
            return SAMPLED_TABLE[i].compare_exchange(cur, addr, Ordering::AcqRel, Ordering::Relaxed).is_ok();
        }
        i = (i + 1) % TABLE;
    }
    false
}

/// Gives this thread's samples taken without the GIL the current Python stack. Called inside
/// a MEM/OBJ hook (GIL held, nested allocations passing straight through).
#[inline(always)]
pub unsafe fn resolve_pending() {
    if PENDING_TOTAL.load(Ordering::Relaxed) <= 0 {
        return;
    }
    resolve_pending_slow();
}

#[cold]
unsafe fn resolve_pending_slow() {
    let n = PENDING_N.with(|c| c.get());
    if n == 0 {
        return;
    }
    PENDING_N.with(|c| c.set(0));
    PENDING_TOTAL.fetch_sub(n as i64, Ordering::Relaxed);
    let addrs = PENDING.with(|c| c.get());
    let mut frames = Vec::new();
    capture(1, &mut frames);
    for &addr in &addrs[..n] {
        if table_resolve(addr) && RECORDING.load(Ordering::Relaxed) {
            record_resolve(&frames, addr as usize);
        }
    }
}

/// This thread is inside a Python-allocator hook or tachy's own work.
fn nested() -> bool {
    // SAFETY: plain libc call.
    (GIL_IN_HOOK.load(Ordering::Relaxed) && HOOK_OWNER.load(Ordering::Relaxed) == unsafe { pthread_self() } as u64)
        || IN_PY_HOOK.with(|b| b.get())
        || IN_TACHY.with(|b| b.get())
}

/// Bytes left until the next native sample (set at start).
pub static NATIVE_SAMPLER: AtomicI64 = AtomicI64::new(0);

/// Counts a new block and, when C code took it directly, maybe samples it.
unsafe fn on_native_alloc(p: *mut c_void, size: usize) {
    let usable = malloc_usable_size(p) as i64;
    let live = NATIVE_LIVE.fetch_add(usable, Ordering::Relaxed) + usable;
    NATIVE_PEAK.fetch_max(live, Ordering::Relaxed);
    if nested() {
        return;
    }
    if let Some(weight) = native_sample_weight(p, size) {
        sample_native(p, size, weight);
    }
    // Counted after the sample is written, so a peak step this block makes finds it live.
    NATIVE_DIRECT.fetch_add(usable, Ordering::Relaxed);
    NATIVE_ALLOCS.fetch_add(1, Ordering::Relaxed);
    NATIVE_ALLOC_BYTES.fetch_add(size as u64, Ordering::Relaxed);
    let traced = live_now();
    if traced > 0 && traced as u64 > PEAK.load(Ordering::Relaxed) {
        new_peak(traced as u64);
    }
}

/// The sampling decision for a direct C allocation, and its weight.
fn native_sample_weight(p: *mut c_void, size: usize) -> Option<u64> {
    // SAFETY: written once at start.
    let mean = unsafe { SAMPLE_BYTES };
    if mean == 0 {
        return Some(size as u64);
    }
    let left = NATIVE_SAMPLER.fetch_sub(size as i64, Ordering::Relaxed) - size as i64;
    if left > 0 {
        return None;
    }
    let x = xorshift(now_us() ^ p as u64);
    NATIVE_SAMPLER.store(exponential(x, mean), Ordering::Relaxed);
    Some(weight_of(size, mean))
}

/// Records a sampled direct C allocation, with the Python stack when this thread holds the GIL.
unsafe fn sample_native(p: *mut c_void, size: usize, weight: u64) {
    if !RECORDING.load(Ordering::Relaxed) {
        return;
    }
    let Some(api) = (*std::ptr::addr_of!(API)).as_ref() else { return };
    let holds_gil = !(api.tstate)().is_null() && (api.gil_check)() != 0;
    // What follows is the hook's own work: the allocations it makes are not the program's.
    in_py_hook(|| {
        if holds_gil {
            // The C API calls below allocate through MEM/OBJ, which must pass straight through.
            let was = GIL_IN_HOOK.swap(true, Ordering::Relaxed);
            let mut frames = Vec::new();
            capture(1, &mut frames);
            if table_insert(p as u64) {
                record_sample(&frames, p as usize, size, weight);
            }
            drop(frames);
            GIL_IN_HOOK.store(was, Ordering::Relaxed);
        } else if table_insert(p as u64 | PENDING_TAG) {
            record_sample(&[], p as usize, size, weight);
            let n = PENDING_N.with(|c| c.get());
            if n < MAX_PENDING {
                PENDING.with(|c| {
                    let mut a = c.get();
                    a[n] = p as u64;
                    c.set(a);
                });
                PENDING_N.with(|c| c.set(n + 1));
                PENDING_TOTAL.fetch_add(1, Ordering::Relaxed);
            } else {
                table_resolve(p as u64);
            }
        }
    });
}

unsafe fn on_native_free(p: *mut c_void) {
    let usable = malloc_usable_size(p) as i64;
    NATIVE_LIVE.fetch_sub(usable, Ordering::Relaxed);
    if !nested() {
        NATIVE_DIRECT.fetch_sub(usable, Ordering::Relaxed);
    }
    if table_remove(p as u64) && RECORDING.load(Ordering::Relaxed) {
        record_free(p as usize);
    }
}

type Malloc = unsafe extern "C" fn(usize) -> *mut c_void;
type Calloc = unsafe extern "C" fn(usize, usize) -> *mut c_void;
type Realloc = unsafe extern "C" fn(*mut c_void, usize) -> *mut c_void;
type Free = unsafe extern "C" fn(*mut c_void);
type Memalign = unsafe extern "C" fn(usize, usize) -> *mut c_void;

fn active() -> bool {
    NATIVE.load(Ordering::Relaxed)
}

/// `malloc`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn malloc(size: usize) -> *mut c_void {
    let Some(real) = real!(REAL_MALLOC, Malloc) else { return arena_alloc(size) };
    let p = real(size);
    if active() && !p.is_null() {
        on_native_alloc(p, size);
    }
    p
}

/// `calloc`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn calloc(n: usize, size: usize) -> *mut c_void {
    let Some(real) = real!(REAL_CALLOC, Calloc) else {
        return n.checked_mul(size).map_or(std::ptr::null_mut(), arena_alloc);
    };
    let p = real(n, size);
    if active() && !p.is_null() {
        on_native_alloc(p, n.saturating_mul(size));
    }
    p
}

/// `realloc`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn realloc(p: *mut c_void, size: usize) -> *mut c_void {
    if in_arena(p) {
        let np = malloc(size);
        if !np.is_null() {
            let start = std::ptr::addr_of!(ARENA) as usize;
            let avail = start + ARENA_SIZE - p as usize;
            std::ptr::copy_nonoverlapping(p as *const u8, np as *mut u8, size.min(avail));
        }
        return np;
    }
    let Some(real) = real!(REAL_REALLOC, Realloc) else { return std::ptr::null_mut() };
    if !active() {
        return real(p, size);
    }
    if p.is_null() {
        return malloc(size);
    }
    let old = malloc_usable_size(p) as i64;
    let was_sampled = table_remove(p as u64);
    let np = real(p, size);
    if np.is_null() {
        if was_sampled {
            table_insert(p as u64);
        }
        return np;
    }
    NATIVE_LIVE.fetch_sub(old, Ordering::Relaxed);
    if !nested() {
        NATIVE_DIRECT.fetch_sub(old, Ordering::Relaxed);
    }
    if was_sampled && RECORDING.load(Ordering::Relaxed) {
        record_free(p as usize);
    }
    on_native_alloc(np, size);
    np
}

/// `free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn free(p: *mut c_void) {
    if p.is_null() || in_arena(p) {
        return;
    }
    let Some(real) = real!(REAL_FREE, Free) else { return };
    if active() {
        on_native_free(p);
    }
    real(p);
}

/// `memalign`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn memalign(align: usize, size: usize) -> *mut c_void {
    let Some(real) = real!(REAL_MEMALIGN, Memalign) else { return std::ptr::null_mut() };
    let p = real(align, size);
    if active() && !p.is_null() {
        on_native_alloc(p, size);
    }
    p
}

/// `aligned_alloc`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn aligned_alloc(align: usize, size: usize) -> *mut c_void {
    memalign(align, size)
}

/// `posix_memalign`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn posix_memalign(out: *mut *mut c_void, align: usize, size: usize) -> c_int {
    if align < std::mem::size_of::<*mut c_void>() || !align.is_power_of_two() {
        return 22; // EINVAL
    }
    let p = memalign(align, size);
    if p.is_null() {
        return 12; // ENOMEM
    }
    *out = p;
    0
}

/// `valloc`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn valloc(size: usize) -> *mut c_void {
    memalign(4096, size)
}
