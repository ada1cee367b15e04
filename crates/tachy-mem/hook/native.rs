//! `tachy mem --native`: the same library, preloaded with `LD_PRELOAD`, interposes the C
//! allocator (`malloc`, `calloc`, `realloc`, `free`, `posix_memalign`, `aligned_alloc`,
//! `memalign`, `valloc`) so memory that C code takes directly (extension buffers, numpy arrays)
//! is seen too. Loaded by `ctypes` without `LD_PRELOAD`, these symbols stay local to the
//! library and interpose nothing.
//!
//! * Every call forwards to the next definition (`dlsym(RTLD_NEXT)`, resolved on first use;
//!   calls made while resolving are served from a small static arena).
//! * Once tracing started: the native heap's live bytes are counted exactly with
//!   `malloc_usable_size`, and allocations are sampled like Python ones (Poisson over bytes).
//!   A sample takes the Python stack only on the thread holding the GIL and never inside one of
//!   the Python-allocator hooks (those blocks are already counted there); sampled addresses go
//!   to a fixed lock-free table so their frees are recorded. Nothing here allocates.

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

fn table_insert(addr: u64) -> bool {
    let mut i = slot(addr);
    for _ in 0..TABLE {
        let cur = SAMPLED_TABLE[i].load(Ordering::Relaxed);
        if (cur == 0 || cur == 1)
            && SAMPLED_TABLE[i].compare_exchange(cur, addr, Ordering::AcqRel, Ordering::Relaxed).is_ok()
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
        if cur == addr && SAMPLED_TABLE[i].compare_exchange(cur, 1, Ordering::AcqRel, Ordering::Relaxed).is_ok() {
            SAMPLED_COUNT.fetch_sub(1, Ordering::Relaxed);
            return true;
        }
        i = (i + 1) % TABLE;
    }
    false
}

/// Bytes left until the next native sample (set at start).
pub static NATIVE_SAMPLER: AtomicI64 = AtomicI64::new(0);

/// Counts a new block and maybe samples it (with the Python stack, when this thread holds the
/// GIL and is not inside a Python-allocator hook).
unsafe fn on_native_alloc(p: *mut c_void, size: usize) {
    let usable = malloc_usable_size(p) as i64;
    let live = NATIVE_LIVE.fetch_add(usable, Ordering::Relaxed) + usable;
    NATIVE_PEAK.fetch_max(live, Ordering::Relaxed);
    let mean = SAMPLE_BYTES;
    let weight = if mean == 0 {
        size as u64
    } else {
        let left = NATIVE_SAMPLER.fetch_sub(size as i64, Ordering::Relaxed) - size as i64;
        if left > 0 {
            return;
        }
        let x = xorshift(now_us() ^ p as u64);
        NATIVE_SAMPLER.store(exponential(x, mean), Ordering::Relaxed);
        weight_of(size, mean)
    };
    if !RECORDING.load(Ordering::Relaxed)
        || GIL_IN_HOOK.load(Ordering::Relaxed)
        || IN_RAW.with(|r| r.get())
        || IN_TACHY.with(|r| r.get())
    {
        return;
    }
    let Some(api) = (*std::ptr::addr_of!(API)).as_ref() else { return };
    if (api.tstate)().is_null() || (api.gil_check)() == 0 {
        return;
    }
    // This thread holds the GIL: the C API calls below allocate through MEM/OBJ, which must
    // pass straight through, and through malloc, which must not sample again.
    GIL_IN_HOOK.store(true, Ordering::Relaxed);
    let mut frames = Vec::new();
    capture(1, &mut frames);
    if table_insert(p as u64) {
        record_sample(&frames, p as usize, size, weight);
    }
    GIL_IN_HOOK.store(false, Ordering::Relaxed);
}

unsafe fn on_native_free(p: *mut c_void) {
    let usable = malloc_usable_size(p) as i64;
    NATIVE_LIVE.fetch_sub(usable, Ordering::Relaxed);
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
