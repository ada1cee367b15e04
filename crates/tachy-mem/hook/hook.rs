//! The allocator hook that `tachy mem` injects into a Python process (built by `build.rs` as a
//! standalone `cdylib` with rustc and embedded in the tachy binary; loaded by a `sitecustomize`
//! bootstrap through `ctypes.PyDLL`, so the GIL is held while it installs itself).
//!
//! It wraps CPython's three allocator domains (RAW, MEM, OBJ) with `PyMem_SetAllocator`,
//! resolving every C API symbol with `dlsym` so one build serves every CPython 3.9+.
//!
//! * Exact accounting: each block gets a 16-byte header (requested size, sampled flag, and a
//!   check word keyed per process), so frees know their size and the live and peak byte
//!   counters are exact. Blocks allocated before the hook was installed have no valid header
//!   and pass straight through.
//! * Sampling: an allocation is sampled with probability `1 - exp(-size / mean)` (a Poisson
//!   process over allocated bytes, mean `sample_bytes`), weighted by the inverse of that
//!   probability so totals are unbiased; `sample_bytes == 0` records every allocation. The
//!   Python stack of a sample is read through the stable C API (`PyEval_GetFrame`,
//!   `PyFrame_GetCode`, `PyFrame_GetLineNumber`, `PyFrame_GetBack`) before the underlying
//!   allocation runs, with the cyclic GC disabled meanwhile, and only when this thread holds
//!   the GIL. The free of a sampled block is recorded too (the header carries the flag).
//! * Records stream through one buffered writer to `<dir>/<pid>.tmc` (format in
//!   `docs/mem-format.md`), flushed every 100 ms by a sampler thread that also records the
//!   live bytes and RSS every `interval_ms`, so a killed process loses at most 100 ms.

#![allow(clippy::missing_safety_doc, non_snake_case, unsafe_op_in_unsafe_fn)]

mod native;

use std::collections::HashMap;
use std::ffi::{CStr, c_char, c_int, c_void};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

type MallocFn = unsafe extern "C" fn(*mut c_void, usize) -> *mut c_void;
type CallocFn = unsafe extern "C" fn(*mut c_void, usize, usize) -> *mut c_void;
type ReallocFn = unsafe extern "C" fn(*mut c_void, *mut c_void, usize) -> *mut c_void;
type FreeFn = unsafe extern "C" fn(*mut c_void, *mut c_void);

#[repr(C)]
#[derive(Clone, Copy)]
struct Allocator {
    ctx: *mut c_void,
    malloc: Option<MallocFn>,
    calloc: Option<CallocFn>,
    realloc: Option<ReallocFn>,
    free: Option<FreeFn>,
}

const EMPTY: Allocator = Allocator { ctx: std::ptr::null_mut(), malloc: None, calloc: None, realloc: None, free: None };

unsafe extern "C" {
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    fn getpid() -> c_int;
    fn pthread_atfork(prepare: Option<unsafe extern "C" fn()>, parent: Option<unsafe extern "C" fn()>, child: Option<unsafe extern "C" fn()>) -> c_int;
    fn atexit(f: unsafe extern "C" fn()) -> c_int;
    fn gettid() -> c_int;
    fn getenv(name: *const c_char) -> *const c_char;
    fn pthread_self() -> usize;
}

/// The C API functions the hook calls, resolved at start.
struct Api {
    get_allocator: unsafe extern "C" fn(c_int, *mut Allocator),
    set_allocator: unsafe extern "C" fn(c_int, *mut Allocator),
    get_frame: unsafe extern "C" fn() -> *mut c_void,
    frame_code: unsafe extern "C" fn(*mut c_void) -> *mut c_void,
    frame_line: unsafe extern "C" fn(*mut c_void) -> c_int,
    frame_back: unsafe extern "C" fn(*mut c_void) -> *mut c_void,
    decref: unsafe extern "C" fn(*mut c_void),
    incref: unsafe extern "C" fn(*mut c_void),
    getattr: unsafe extern "C" fn(*mut c_void, *const c_char) -> *mut c_void,
    as_utf8: unsafe extern "C" fn(*mut c_void) -> *const c_char,
    gil_check: unsafe extern "C" fn() -> c_int,
    tstate: unsafe extern "C" fn() -> *mut c_void,
    err_fetch: unsafe extern "C" fn(*mut *mut c_void, *mut *mut c_void, *mut *mut c_void),
    err_restore: unsafe extern "C" fn(*mut c_void, *mut c_void, *mut c_void),
    gc_disable: Option<unsafe extern "C" fn() -> c_int>,
    gc_enable: Option<unsafe extern "C" fn() -> c_int>,
}

static mut API: Option<Api> = None;
static mut ORIG: [Allocator; 3] = [EMPTY; 3];
static mut KEY: u64 = 0;
static mut SAMPLE_BYTES: u64 = 0;
static mut START: Option<Instant> = None;
static mut ERROR: [u8; 256] = [0; 256];

/// Recording is on (off after a fork in the child, and after the final record).
static RECORDING: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicI64 = AtomicI64::new(0);
static PEAK: AtomicU64 = AtomicU64::new(0);
static PEAK_AT_US: AtomicU64 = AtomicU64::new(0);
static MARKED_PEAK: AtomicU64 = AtomicU64::new(0);
static ALLOCS: AtomicU64 = AtomicU64::new(0);
static ALLOC_BYTES: AtomicU64 = AtomicU64::new(0);
static RAW_ALLOCS: AtomicU64 = AtomicU64::new(0);
static RAW_ALLOC_BYTES: AtomicU64 = AtomicU64::new(0);
static SAMPLES: AtomicU64 = AtomicU64::new(0);

const HEADER: usize = 16;
const SAMPLED: u64 = 1 << 63;
const MAX_DEPTH: usize = 128;

struct State {
    out: BufWriter<File>,
    codes: HashMap<usize, (u32, u32)>,
    strings: HashMap<Vec<u8>, u32>,
    stacks: HashMap<Vec<(u32, u32, u32)>, u32>,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);

/// Sampling state of one allocation path.
struct Sampler {
    /// Bytes left until the next sample.
    countdown: AtomicI64,
    rng: AtomicU64,
}

/// MEM and OBJ are only called with the GIL held, so their state needs no atomic
/// read-modify-write and no thread-local: the GIL serialises every update (relaxed loads and
/// stores are plain moves). RAW may be called without the GIL: it uses atomic adds.
static GIL_SAMPLER: Sampler = Sampler { countdown: AtomicI64::new(i64::MIN), rng: AtomicU64::new(0) };
static RAW_SAMPLER: Mutex<(i64, u64)> = Mutex::new((i64::MIN, 0));
/// Inside a MEM/OBJ hook (the GIL holder): nested calls, such as pymalloc handing a large
/// block to the RAW domain or the C API calls made while reading a stack, pass through.
static GIL_IN_HOOK: AtomicBool = AtomicBool::new(false);
/// Under `--native`: the thread (`pthread_self`) that set [`GIL_IN_HOOK`], so the C allocator
/// can tell the GIL holder's nested calls from other threads' without a thread-local lookup
/// on the hot MEM/OBJ path.
static HOOK_OWNER: AtomicU64 = AtomicU64::new(0);
/// `PYTHONMALLOC` makes MEM/OBJ call the C allocator directly (no pymalloc in between).
static MEM_CALLS_MALLOC: AtomicBool = AtomicBool::new(false);
thread_local! {
    /// Under `--native`: this thread is inside a RAW hook (any thread may call one) or the
    /// hook's own sampling work, so the C allocations below it belong to Python's accounting
    /// (or to tachy) and must be neither counted again nor sampled as C allocations. MEM/OBJ
    /// hooks use [`GIL_IN_HOOK`] with [`HOOK_OWNER`] instead.
    static IN_PY_HOOK: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// This thread is inside the hook's own bookkeeping (writer, pending frees): a C allocation
    /// it makes (a Vec growing) must not be sampled, or it would take those locks again.
    static IN_TACHY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` marked as the hook's own work (see `IN_TACHY`).
fn own<R>(f: impl FnOnce() -> R) -> R {
    let was = IN_TACHY.with(|b| b.replace(true));
    let r = f();
    IN_TACHY.with(|b| b.set(was));
    r
}

/// Live bytes of the MEM/OBJ domains (updated under the GIL).
static GIL_LIVE: AtomicI64 = AtomicI64::new(0);

fn now_us() -> u64 {
    // SAFETY: START is written once before recording starts.
    unsafe { (*std::ptr::addr_of!(START)).map_or(0, |s| s.elapsed().as_micros() as u64) }
}

fn xorshift(mut x: u64) -> u64 {
    if x == 0 {
        x = (now_us() ^ 0x9E37_79B9_7F4A_7C15) | 1;
        // SAFETY: plain syscall.
        x ^= unsafe { gettid() } as u64 * 0x2545_F491_4F6C_DD1D;
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x
}

fn exponential(x: u64, mean: u64) -> i64 {
    let u = ((x >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    (-(u.ln()) * mean as f64) as i64 + 1
}

fn weight_of(size: usize, mean: u64) -> u64 {
    let p = 1.0 - (-(size as f64) / mean as f64).exp();
    if p > 0.0 { (size as f64 / p).round() as u64 } else { mean }
}

/// Decides whether an allocation of `size` is sampled (MEM/OBJ, under the GIL), and its
/// weight in bytes.
#[inline(always)]
fn sample_weight_gil(size: usize) -> Option<u64> {
    // SAFETY: written once at start.
    let mean = unsafe { SAMPLE_BYTES };
    if mean == 0 {
        return Some(size as u64);
    }
    let s = &GIL_SAMPLER;
    let mut left = s.countdown.load(Ordering::Relaxed);
    if left == i64::MIN {
        let x = xorshift(s.rng.load(Ordering::Relaxed));
        s.rng.store(x, Ordering::Relaxed);
        left = exponential(x, mean);
    }
    left -= size as i64;
    if left > 0 {
        s.countdown.store(left, Ordering::Relaxed);
        return None;
    }
    let x = xorshift(s.rng.load(Ordering::Relaxed));
    s.rng.store(x, Ordering::Relaxed);
    s.countdown.store(exponential(x, mean), Ordering::Relaxed);
    Some(weight_of(size, mean))
}

/// The same for RAW, which may run without the GIL.
fn sample_weight_raw(size: usize) -> Option<u64> {
    // SAFETY: written once at start.
    let mean = unsafe { SAMPLE_BYTES };
    if mean == 0 {
        return Some(size as u64);
    }
    let mut g = RAW_SAMPLER.lock().unwrap_or_else(|e| e.into_inner());
    if g.0 == i64::MIN {
        g.1 = xorshift(g.1);
        g.0 = exponential(g.1, mean);
    }
    g.0 -= size as i64;
    if g.0 > 0 {
        return None;
    }
    g.1 = xorshift(g.1);
    g.0 = exponential(g.1, mean);
    Some(weight_of(size, mean))
}

/// Traced live bytes: the Python allocators, plus C allocations made outside them under
/// `--native`.
fn live_now() -> i64 {
    GIL_LIVE.load(Ordering::Relaxed) + LIVE.load(Ordering::Relaxed) + native::NATIVE_DIRECT.load(Ordering::Relaxed)
}

#[inline(always)]
fn on_alloc(gil: bool, size: usize) {
    if gil {
        GIL_LIVE.store(GIL_LIVE.load(Ordering::Relaxed) + size as i64, Ordering::Relaxed);
        ALLOCS.store(ALLOCS.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        ALLOC_BYTES.store(ALLOC_BYTES.load(Ordering::Relaxed) + size as u64, Ordering::Relaxed);
    } else {
        LIVE.fetch_add(size as i64, Ordering::Relaxed);
        RAW_ALLOCS.fetch_add(1, Ordering::Relaxed);
        RAW_ALLOC_BYTES.fetch_add(size as u64, Ordering::Relaxed);
    }
    let now = live_now();
    if now > 0 && now as u64 > PEAK.load(Ordering::Relaxed) {
        new_peak(now as u64);
    }
}

#[inline(always)]
fn on_free(gil: bool, size: usize) {
    if gil {
        GIL_LIVE.store(GIL_LIVE.load(Ordering::Relaxed) - size as i64, Ordering::Relaxed);
    } else {
        LIVE.fetch_sub(size as i64, Ordering::Relaxed);
    }
}

#[cold]
fn new_peak(live: u64) {
    let prev = PEAK.fetch_max(live, Ordering::Relaxed);
    if live <= prev {
        return;
    }
    let marked = MARKED_PEAK.load(Ordering::Relaxed);
    let step = (marked / 128).clamp(64 << 10, 1 << 20);
    if live >= marked + step && RECORDING.load(Ordering::Relaxed) {
        MARKED_PEAK.store(live, Ordering::Relaxed);
        PEAK_AT_US.store(now_us(), Ordering::Relaxed);
        with_state(|st| {
            let _ = st.out.write_all(&[b'P']);
            let _ = st.out.write_all(&now_us().to_le_bytes());
            let _ = st.out.write_all(&live.to_le_bytes());
        });
    }
}

/// Frees of sampled blocks that could not take the writer lock (made while it was held,
/// e.g. by a reference dropped while a stack was being recorded). Written first by the next
/// writer, so a free always precedes a later sample at the same address.
static PENDING_FREES: Mutex<Vec<(u64, u64)>> = Mutex::new(Vec::new());

fn with_state(f: impl FnOnce(&mut State)) {
    own(|| {
        if let Ok(mut guard) = STATE.lock()
            && let Some(st) = guard.as_mut()
        {
            drain_pending(st);
            f(st);
        }
    })
}

fn drain_pending(st: &mut State) {
    let mut pending = PENDING_FREES.lock().unwrap_or_else(|e| e.into_inner());
    for (t, addr) in pending.drain(..) {
        let _ = st.out.write_all(&[b'F']);
        let _ = st.out.write_all(&t.to_le_bytes());
        let _ = st.out.write_all(&addr.to_le_bytes());
    }
}

unsafe fn write_header(base: *mut u8, size: usize, sampled: bool) {
    let word = size as u64 | if sampled { SAMPLED } else { 0 };
    (base as *mut u64).write(word);
    (base.add(8) as *mut u64).write(word ^ KEY);
}

/// The header of a block we allocated: (size, sampled), or `None` for a foreign block.
#[inline(always)]
unsafe fn read_header(p: *mut c_void) -> Option<(usize, bool)> {
    let base = (p as *mut u8).sub(HEADER);
    let word = (base as *const u64).read();
    let check = (base.add(8) as *const u64).read();
    if word ^ KEY == check { Some(((word & !SAMPLED) as usize, word & SAMPLED != 0)) } else { None }
}

unsafe fn clear_header(p: *mut c_void) {
    let base = (p as *mut u8).sub(HEADER);
    (base.add(8) as *mut u64).write(0);
}

/// Reads the current Python stack: (code object, line) pairs, innermost first.
unsafe fn capture(domain: usize, frames: &mut Vec<(usize, u32)>) {
    let Some(api) = (*std::ptr::addr_of!(API)).as_ref() else { return };
    if (api.tstate)().is_null() {
        return;
    }
    if domain == 0 && (api.gil_check)() == 0 {
        return;
    }
    // A RAW allocation on the GIL holder: the C API calls below allocate through MEM/OBJ,
    // which must pass straight through, as they do inside a MEM/OBJ hook.
    let raw = domain == 0;
    if raw {
        GIL_IN_HOOK.store(true, Ordering::Relaxed);
    }
    let gc_was = api.gc_disable.map(|f| f());
    let (mut t, mut v, mut tb) = (std::ptr::null_mut(), std::ptr::null_mut(), std::ptr::null_mut());
    (api.err_fetch)(&mut t, &mut v, &mut tb);
    let mut frame = (api.get_frame)();
    if !frame.is_null() {
        (api.incref)(frame);
    }
    while !frame.is_null() && frames.len() < MAX_DEPTH {
        let code = (api.frame_code)(frame);
        let line = (api.frame_line)(frame);
        frames.push((code as usize, line.max(0) as u32));
        let back = (api.frame_back)(frame);
        (api.decref)(frame);
        frame = back;
        if !code.is_null() {
            (api.decref)(code);
        }
    }
    if !frame.is_null() {
        (api.decref)(frame);
    }
    (api.err_restore)(t, v, tb);
    if gc_was == Some(1)
        && let Some(enable) = api.gc_enable
    {
        enable();
    }
    if raw {
        GIL_IN_HOOK.store(false, Ordering::Relaxed);
    }
}

unsafe fn intern(st: &mut State, text: &[u8]) -> u32 {
    if let Some(id) = st.strings.get(text) {
        return *id;
    }
    let id = st.strings.len() as u32;
    st.strings.insert(text.to_vec(), id);
    let _ = st.out.write_all(&[b'S']);
    let _ = st.out.write_all(&id.to_le_bytes());
    let _ = st.out.write_all(&(text.len() as u32).to_le_bytes());
    let _ = st.out.write_all(text);
    id
}

unsafe fn attr_text(api: &Api, obj: *mut c_void, name: &CStr) -> Vec<u8> {
    let v = (api.getattr)(obj, name.as_ptr());
    if v.is_null() {
        let (mut t, mut e, mut tb) = (std::ptr::null_mut(), std::ptr::null_mut(), std::ptr::null_mut());
        (api.err_fetch)(&mut t, &mut e, &mut tb);
        for o in [t, e, tb] {
            if !o.is_null() {
                (api.decref)(o);
            }
        }
        return b"?".to_vec();
    }
    let s = (api.as_utf8)(v);
    let out = if s.is_null() { b"?".to_vec() } else { CStr::from_ptr(s).to_bytes().to_vec() };
    (api.decref)(v);
    out
}

/// Writes a sample record (and any new strings and stack it needs).
unsafe fn record_sample(frames: &[(usize, u32)], addr: usize, size: usize, weight: u64) {
    let Some(api) = (*std::ptr::addr_of!(API)).as_ref() else { return };
    SAMPLES.fetch_add(1, Ordering::Relaxed);
    let t = now_us();
    let tid = gettid() as u32;
    with_state(|st| {
        let stack = stack_id(api, st, frames);
        let _ = st.out.write_all(&[b'A']);
        let _ = st.out.write_all(&t.to_le_bytes());
        let _ = st.out.write_all(&(addr as u64).to_le_bytes());
        let _ = st.out.write_all(&(size as u64).to_le_bytes());
        let _ = st.out.write_all(&weight.to_le_bytes());
        let _ = st.out.write_all(&stack.to_le_bytes());
        let _ = st.out.write_all(&tid.to_le_bytes());
    });
}

/// Gives the sample at `addr` (recorded earlier without a stack) the stack `frames`.
unsafe fn record_resolve(frames: &[(usize, u32)], addr: usize) {
    let Some(api) = (*std::ptr::addr_of!(API)).as_ref() else { return };
    let t = now_us();
    with_state(|st| {
        let stack = stack_id(api, st, frames);
        let _ = st.out.write_all(&[b'R']);
        let _ = st.out.write_all(&t.to_le_bytes());
        let _ = st.out.write_all(&(addr as u64).to_le_bytes());
        let _ = st.out.write_all(&stack.to_le_bytes());
    });
}

/// The id of a stack, writing it (and its new strings) the first time it is seen.
unsafe fn stack_id(api: &Api, st: &mut State, frames: &[(usize, u32)]) -> u32 {
    {
        let mut key = Vec::with_capacity(frames.len());
        for &(code, line) in frames {
            let names = match st.codes.get(&code) {
                Some(n) => *n,
                None => {
                    let (t0, e0, tb0) = {
                        let (mut a, mut b, mut c) = (std::ptr::null_mut(), std::ptr::null_mut(), std::ptr::null_mut());
                        (api.err_fetch)(&mut a, &mut b, &mut c);
                        (a, b, c)
                    };
                    let obj = code as *mut c_void;
                    let mut func = attr_text(api, obj, c"co_qualname");
                    if func == b"?" {
                        func = attr_text(api, obj, c"co_name");
                    }
                    let file = attr_text(api, obj, c"co_filename");
                    (api.err_restore)(t0, e0, tb0);
                    // Keep the code object alive so its address is never reused for another.
                    (api.incref)(obj);
                    let n = (intern(st, &func), intern(st, &file));
                    st.codes.insert(code, n);
                    n
                }
            };
            key.push((names.0, names.1, line));
        }
        let stack = match st.stacks.get(&key) {
            Some(id) => *id,
            None => {
                let id = st.stacks.len() as u32;
                let _ = st.out.write_all(&[b'K']);
                let _ = st.out.write_all(&id.to_le_bytes());
                let _ = st.out.write_all(&(key.len() as u16).to_le_bytes());
                for (f, file, line) in &key {
                    let _ = st.out.write_all(&f.to_le_bytes());
                    let _ = st.out.write_all(&file.to_le_bytes());
                    let _ = st.out.write_all(&line.to_le_bytes());
                }
                st.stacks.insert(key, id);
                id
            }
        };
        stack
    }
}

/// Records the free of a sampled block; never blocks on the writer (a free can happen while
/// this thread holds it), deferring the record instead.
fn record_free(addr: usize) {
    own(|| record_free_inner(addr))
}

fn record_free_inner(addr: usize) {
    let t = now_us();
    match STATE.try_lock() {
        Ok(mut guard) => {
            if let Some(st) = guard.as_mut() {
                drain_pending(st);
                let _ = st.out.write_all(&[b'F']);
                let _ = st.out.write_all(&t.to_le_bytes());
                let _ = st.out.write_all(&(addr as u64).to_le_bytes());
            }
        }
        Err(_) => PENDING_FREES.lock().unwrap_or_else(|e| e.into_inner()).push((t, addr as u64)),
    }
}

/// Sampling decision and stack, taken before the underlying allocation runs.
#[inline(always)]
unsafe fn before_alloc(d: usize, size: usize) -> Option<(u64, Vec<(usize, u32)>)> {
    let weight = if d == 0 { sample_weight_raw(size) } else { sample_weight_gil(size) }?;
    if !RECORDING.load(Ordering::Relaxed) {
        return None;
    }
    Some(take_stack(d, weight))
}

#[cold]
unsafe fn take_stack(d: usize, weight: u64) -> (u64, Vec<(usize, u32)>) {
    let mut frames = Vec::new();
    capture(d, &mut frames);
    (weight, frames)
}

#[inline(always)]
unsafe fn after_alloc(d: usize, sample: Option<(u64, Vec<(usize, u32)>)>, p: *mut c_void, size: usize) {
    // The sample is written before the counters move, so a peak step this block makes finds
    // it live (a single large block may be the whole peak).
    if let Some((weight, frames)) = sample {
        // RAW with a stack means this thread holds the GIL: name lookups must not re-enter.
        let raw_with_stack = d == 0 && !frames.is_empty();
        if raw_with_stack {
            GIL_IN_HOOK.store(true, Ordering::Relaxed);
        }
        record_sample(&frames, p as usize, size, weight);
        if raw_with_stack {
            GIL_IN_HOOK.store(false, Ordering::Relaxed);
        }
    }
    on_alloc(d != 0, size);
}

unsafe fn hook_malloc_inner(d: usize, size: usize) -> *mut c_void {
    let orig = ORIG[d];
    let Some(total) = size.checked_add(HEADER) else { return std::ptr::null_mut() };
    let sample = before_alloc(d, size);
    let base = (orig.malloc.unwrap_unchecked())(orig.ctx, total) as *mut u8;
    if base.is_null() {
        return std::ptr::null_mut();
    }
    write_header(base, size, sample.is_some());
    let p = base.add(HEADER) as *mut c_void;
    after_alloc(d, sample, p, size);
    p
}

unsafe fn hook_calloc_inner(d: usize, nelem: usize, elsize: usize) -> *mut c_void {
    let orig = ORIG[d];
    let Some(size) = nelem.checked_mul(elsize) else { return std::ptr::null_mut() };
    let Some(total) = size.checked_add(HEADER) else { return std::ptr::null_mut() };
    let sample = before_alloc(d, size);
    let base = (orig.calloc.unwrap_unchecked())(orig.ctx, 1, total) as *mut u8;
    if base.is_null() {
        return std::ptr::null_mut();
    }
    write_header(base, size, sample.is_some());
    let p = base.add(HEADER) as *mut c_void;
    after_alloc(d, sample, p, size);
    p
}

/// Realloc keeping headers and counts right; `sampling` false takes no sample (nested calls,
/// and RAW calls that may run beside a MEM/OBJ hook on another thread).
unsafe fn hook_realloc_inner(d: usize, p: *mut c_void, size: usize, sampling: bool) -> *mut c_void {
    let orig = ORIG[d];
    if p.is_null() && sampling {
        return hook_malloc_inner(d, size);
    }
    let Some((old, was_sampled)) = (if p.is_null() { None } else { read_header(p) }) else {
        // A block from before the hook (or a nested one): it stays untracked.
        return (orig.realloc.unwrap_unchecked())(orig.ctx, p, size);
    };
    let Some(total) = size.checked_add(HEADER) else { return std::ptr::null_mut() };
    let sample = if sampling { before_alloc(d, size) } else { None };
    clear_header(p);
    let base = (orig.realloc.unwrap_unchecked())(orig.ctx, (p as *mut u8).sub(HEADER) as *mut c_void, total) as *mut u8;
    if base.is_null() {
        write_header((p as *mut u8).sub(HEADER), old, was_sampled);
        return std::ptr::null_mut();
    }
    on_free(d != 0, old);
    if was_sampled && RECORDING.load(Ordering::Relaxed) {
        record_free(p as usize);
    }
    write_header(base, size, sample.is_some());
    let np = base.add(HEADER) as *mut c_void;
    after_alloc(d, sample, np, size);
    np
}

unsafe fn hook_free_inner(d: usize, p: *mut c_void) {
    let orig = ORIG[d];
    if p.is_null() {
        return;
    }
    match read_header(p) {
        Some((size, sampled)) => {
            clear_header(p);
            on_free(d != 0, size);
            if sampled && RECORDING.load(Ordering::Relaxed) {
                record_free(p as usize);
            }
            (orig.free.unwrap_unchecked())(orig.ctx, (p as *mut u8).sub(HEADER) as *mut c_void);
        }
        None => (orig.free.unwrap_unchecked())(orig.ctx, p),
    }
}

/// Runs `inner`, or `direct` for an allocation nested inside a MEM/OBJ hook (RAW calls made
/// by pymalloc, and every allocation made while a stack is read): those get no header.
/// Frees and reallocs always look for a header (a nested call may free a block we
/// allocated): a realloc's direct path does too, it only takes no sample.
///
/// Under `--native` the thread is marked as inside a Python-allocator hook, so the C
/// allocations below count as Python's: RAW calls with a thread-local flag, MEM/OBJ calls (the
/// GIL holder) with [`HOOK_OWNER`]. A MEM/OBJ call first gives a stack to this thread's C
/// samples taken while it had released the GIL.
#[inline(always)]
unsafe fn guarded<R>(d: usize, direct: impl FnOnce() -> R, inner: impl FnOnce(bool) -> R) -> R {
    let native = native::NATIVE.load(Ordering::Relaxed);
    if native && d == 0 {
        return in_py_hook(|| guarded_inner(d, direct, inner, true));
    }
    guarded_inner(d, direct, inner, native)
}

#[inline(always)]
unsafe fn guarded_inner<R>(
    d: usize,
    direct: impl FnOnce() -> R,
    inner: impl FnOnce(bool) -> R,
    native: bool,
) -> R {
    if GIL_IN_HOOK.load(Ordering::Relaxed) {
        return direct();
    }
    if d == 0 {
        return inner(false);
    }
    GIL_IN_HOOK.store(true, Ordering::Relaxed);
    if native {
        HOOK_OWNER.store(pthread_self() as u64, Ordering::Relaxed);
        native::resolve_pending();
    }
    let r = inner(true);
    GIL_IN_HOOK.store(false, Ordering::Relaxed);
    r
}

/// Runs `f` as the GIL holder inside a MEM/OBJ hook (see `HOOK_OWNER`), unless it already is.
#[inline(always)]
unsafe fn in_gil_hook<R>(f: impl FnOnce() -> R) -> R {
    if GIL_IN_HOOK.load(Ordering::Relaxed) {
        return f();
    }
    GIL_IN_HOOK.store(true, Ordering::Relaxed);
    HOOK_OWNER.store(pthread_self() as u64, Ordering::Relaxed);
    let r = f();
    GIL_IN_HOOK.store(false, Ordering::Relaxed);
    r
}

/// Runs `f` with this thread marked as inside a Python-allocator hook (see `IN_PY_HOOK`).
#[inline(always)]
fn in_py_hook<R>(f: impl FnOnce() -> R) -> R {
    let was = IN_PY_HOOK.with(|b| b.replace(true));
    let r = f();
    IN_PY_HOOK.with(|b| b.set(was));
    r
}

unsafe extern "C" fn hook_malloc(ctx: *mut c_void, size: usize) -> *mut c_void {
    let d = ctx as usize;
    let orig = ORIG[d];
    guarded(d, || (orig.malloc.unwrap_unchecked())(orig.ctx, size), |_| hook_malloc_inner(d, size))
}

unsafe extern "C" fn hook_calloc(ctx: *mut c_void, nelem: usize, elsize: usize) -> *mut c_void {
    let d = ctx as usize;
    let orig = ORIG[d];
    guarded(d, || (orig.calloc.unwrap_unchecked())(orig.ctx, nelem, elsize), |_| hook_calloc_inner(d, nelem, elsize))
}

unsafe extern "C" fn hook_realloc(ctx: *mut c_void, p: *mut c_void, size: usize) -> *mut c_void {
    let d = ctx as usize;
    // A nested realloc still looks for a header (the block may be ours): it only takes no sample.
    guarded(d, || hook_realloc_inner(d, p, size, false), |sampling| hook_realloc_inner(d, p, size, sampling))
}

unsafe extern "C" fn hook_free(ctx: *mut c_void, p: *mut c_void) {
    if native::NATIVE.load(Ordering::Relaxed) {
        // With pymalloc, a MEM/OBJ free reaches `free` only through the RAW domain, which
        // marks itself; without it (PYTHONMALLOC=malloc) the free goes straight to `free`.
        if ctx as usize == 0 {
            return in_py_hook(|| hook_free_inner(0, p));
        }
        if MEM_CALLS_MALLOC.load(Ordering::Relaxed) {
            return in_gil_hook(|| hook_free_inner(ctx as usize, p));
        }
    }
    hook_free_inner(ctx as usize, p)
}

fn set_error(msg: &str) {
    // SAFETY: only written before recording starts, from the thread that starts.
    unsafe {
        let buf = &mut *std::ptr::addr_of_mut!(ERROR);
        let n = msg.len().min(buf.len() - 1);
        buf[..n].copy_from_slice(&msg.as_bytes()[..n]);
        buf[n] = 0;
    }
}

unsafe fn sym(name: &CStr) -> Result<*mut c_void, String> {
    // Tests make a symbol look missing, as on an interpreter that does not export it.
    let hidden = getenv(c"TACHY_MEM_TEST_HIDE_SYMBOL".as_ptr());
    if !hidden.is_null() && CStr::from_ptr(hidden) == name {
        return Err(name.to_string_lossy().into_owned());
    }
    let p = dlsym(std::ptr::null_mut(), name.as_ptr());
    if p.is_null() { Err(name.to_string_lossy().into_owned()) } else { Ok(p) }
}

unsafe fn resolve() -> Result<Api, String> {
    macro_rules! f {
        ($name:literal) => {
            std::mem::transmute::<*mut c_void, _>(sym($name)?)
        };
    }
    let tstate = match sym(c"PyThreadState_GetUnchecked") {
        Ok(p) => p,
        Err(_) => sym(c"_PyThreadState_UncheckedGet")?,
    };
    Ok(Api {
        get_allocator: f!(c"PyMem_GetAllocator"),
        set_allocator: f!(c"PyMem_SetAllocator"),
        get_frame: f!(c"PyEval_GetFrame"),
        frame_code: f!(c"PyFrame_GetCode"),
        frame_line: f!(c"PyFrame_GetLineNumber"),
        frame_back: f!(c"PyFrame_GetBack"),
        decref: f!(c"Py_DecRef"),
        incref: f!(c"Py_IncRef"),
        getattr: f!(c"PyObject_GetAttrString"),
        as_utf8: f!(c"PyUnicode_AsUTF8"),
        gil_check: f!(c"PyGILState_Check"),
        tstate: std::mem::transmute::<*mut c_void, unsafe extern "C" fn() -> *mut c_void>(tstate),
        err_fetch: f!(c"PyErr_Fetch"),
        err_restore: f!(c"PyErr_Restore"),
        gc_disable: sym(c"PyGC_Disable").ok().map(|p| std::mem::transmute::<*mut c_void, unsafe extern "C" fn() -> c_int>(p)),
        gc_enable: sym(c"PyGC_Enable").ok().map(|p| std::mem::transmute::<*mut c_void, unsafe extern "C" fn() -> c_int>(p)),
    })
}

fn rss_bytes() -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/self/statm") else { return 0 };
    let pages: u64 = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    pages * 4096
}

/// Allocations made: Python allocators and, under `--native`, direct C ones.
fn total_allocs() -> u64 {
    ALLOCS.load(Ordering::Relaxed) + RAW_ALLOCS.load(Ordering::Relaxed) + native::NATIVE_ALLOCS.load(Ordering::Relaxed)
}

/// Bytes of [`total_allocs`].
fn total_alloc_bytes() -> u64 {
    ALLOC_BYTES.load(Ordering::Relaxed)
        + RAW_ALLOC_BYTES.load(Ordering::Relaxed)
        + native::NATIVE_ALLOC_BYTES.load(Ordering::Relaxed)
}

fn counter_record(st: &mut State) {
    let _ = st.out.write_all(&[b'C']);
    let _ = st.out.write_all(&now_us().to_le_bytes());
    let _ = st.out.write_all(&(live_now().max(0) as u64).to_le_bytes());
    let _ = st.out.write_all(&rss_bytes().to_le_bytes());
    let _ = st.out.write_all(&total_allocs().to_le_bytes());
    let _ = st.out.write_all(&total_alloc_bytes().to_le_bytes());
    if native::NATIVE.load(Ordering::Relaxed) {
        let _ = st.out.write_all(&[b'N']);
        let _ = st.out.write_all(&now_us().to_le_bytes());
        let _ = st.out.write_all(&(native::NATIVE_LIVE.load(Ordering::Relaxed).max(0) as u64).to_le_bytes());
        let _ = st.out.write_all(&(native::NATIVE_PEAK.load(Ordering::Relaxed).max(0) as u64).to_le_bytes());
    }
}

unsafe extern "C" fn in_child() {
    // A forked child shares the parent's file: it stops recording (headers still work).
    RECORDING.store(false, Ordering::SeqCst);
}

unsafe extern "C" fn at_c_exit() {
    tachy_mem_finish();
}

/// Starts tracing into `<dir>/<pid>.tmc`. Returns 0, or 1 with [`tachy_mem_error`] set.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tachy_mem_start(dir: *const c_char, sample_bytes: u64, interval_ms: u64) -> c_int {
    if RECORDING.load(Ordering::SeqCst) {
        return 0;
    }
    let api = match resolve() {
        Ok(api) => api,
        Err(name) => {
            set_error(&format!("this Python does not export the C API symbol {name} that tachy mem needs"));
            return 1;
        }
    };
    let dir = CStr::from_ptr(dir).to_string_lossy().into_owned();
    let pid = getpid();
    let path = format!("{dir}/{pid}.tmc");
    let file = match File::create(&path) {
        Ok(f) => f,
        Err(e) => {
            set_error(&format!("cannot create {path}: {e}"));
            return 1;
        }
    };
    START = Some(Instant::now());
    SAMPLE_BYTES = sample_bytes;
    let seed = (std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64))
        ^ (pid as u64).rotate_left(32)
        ^ (&path as *const String as u64);
    KEY = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let start_unix_ns =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    let _ = out.write_all(b"TACHYMEM");
    let _ = out.write_all(&2u32.to_le_bytes());
    let _ = out.write_all(&(pid as u32).to_le_bytes());
    let _ = out.write_all(&sample_bytes.to_le_bytes());
    let _ = out.write_all(&start_unix_ns.to_le_bytes());
    *STATE.lock().unwrap_or_else(|e| e.into_inner()) =
        Some(State { out, codes: HashMap::new(), strings: HashMap::new(), stacks: HashMap::new() });
    for d in 0..3 {
        let mut a = EMPTY;
        (api.get_allocator)(d as c_int, &mut a);
        ORIG[d] = a;
    }
    API = Some(api);
    let api = (*std::ptr::addr_of!(API)).as_ref().unwrap_unchecked();
    let native_env = getenv(c"TACHY_MEM_NATIVE".as_ptr());
    let pymalloc_env = getenv(c"PYTHONMALLOC".as_ptr());
    if !pymalloc_env.is_null() && CStr::from_ptr(pymalloc_env).to_bytes().starts_with(b"malloc") {
        MEM_CALLS_MALLOC.store(true, Ordering::SeqCst);
    }
    if !native_env.is_null() && CStr::from_ptr(native_env).to_bytes() == b"1" {
        if sample_bytes > 0 {
            native::NATIVE_SAMPLER.store(exponential(xorshift(KEY), sample_bytes), Ordering::SeqCst);
        }
        native::NATIVE.store(true, Ordering::SeqCst);
    }
    RECORDING.store(true, Ordering::SeqCst);
    for d in 0..3 {
        let mut a = Allocator {
            ctx: d as *mut c_void,
            malloc: Some(hook_malloc),
            calloc: Some(hook_calloc),
            realloc: Some(hook_realloc),
            free: Some(hook_free),
        };
        (api.set_allocator)(d as c_int, &mut a);
    }
    pthread_atfork(None, None, Some(in_child));
    atexit(at_c_exit);
    let interval = Duration::from_millis(interval_ms.max(1));
    let _ = std::thread::Builder::new().name("tachy-mem".into()).spawn(move || {
        let mut last_flush = Instant::now();
        while RECORDING.load(Ordering::Relaxed) {
            std::thread::sleep(interval);
            if !RECORDING.load(Ordering::Relaxed) {
                break;
            }
            with_state(|st| {
                counter_record(st);
                if last_flush.elapsed() >= Duration::from_millis(100) {
                    let _ = st.out.flush();
                    last_flush = Instant::now();
                }
            });
        }
    });
    0
}

/// The last start error, as a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tachy_mem_error() -> *const c_char {
    std::ptr::addr_of!(ERROR) as *const c_char
}

/// Marks the moment the program's code finished (Python `atexit`): what is live now leaked.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tachy_mem_exit_marker() {
    if !RECORDING.load(Ordering::SeqCst) {
        return;
    }
    with_state(|st| {
        counter_record(st);
        let _ = st.out.write_all(&[b'X']);
        let _ = st.out.write_all(&now_us().to_le_bytes());
        let _ = st.out.flush();
    });
}

/// Writes the final record and stops recording (C `atexit`, after Python finalised).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tachy_mem_finish() {
    if !RECORDING.load(Ordering::SeqCst) {
        return;
    }
    with_state(|st| {
        counter_record(st);
        let _ = st.out.write_all(&[b'E']);
        let _ = st.out.write_all(&now_us().to_le_bytes());
        let _ = st.out.write_all(&PEAK.load(Ordering::Relaxed).to_le_bytes());
        let _ = st.out.write_all(&PEAK_AT_US.load(Ordering::Relaxed).to_le_bytes());
        let _ = st.out.write_all(&total_allocs().to_le_bytes());
        let _ = st.out.write_all(&total_alloc_bytes().to_le_bytes());
        let _ = st.out.write_all(&SAMPLES.load(Ordering::Relaxed).to_le_bytes());
        let _ = st.out.flush();
    });
    RECORDING.store(false, Ordering::SeqCst);
}
