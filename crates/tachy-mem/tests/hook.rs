//! The hook inside real interpreters, through the library API: exact peaks, sites, leaks,
//! threads, a missing C API symbol, and a process killed mid-run.

use std::path::{Path, PathBuf};

use tachy_mem::{MemError, MemSettings};
use tachy_report::mem::MemEnd;

const MIB: u64 = 1024 * 1024;

fn script(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn settings(py: &Path, script: &Path) -> MemSettings {
    MemSettings::new(vec![py.into(), script.into()])
}

const TRUTH: &str = "\
LEAK = []

def make_peak():
    blocks = []
    for _ in range(100):
        blocks.append(bytearray(1 << 20))
    return len(blocks)

def leak():
    for _ in range(24):
        LEAK.append(bytearray(1 << 20))

make_peak()
leak()
";

fn interpreters() -> Vec<PathBuf> {
    let mut v = vec![tachy_test::python().to_path_buf()];
    if Path::new("/usr/bin/python3.11").exists() {
        v.push("/usr/bin/python3.11".into());
    }
    v
}

#[test]
fn peak_sites_and_leaks_are_right_on_every_interpreter() {
    let dir = tempfile::tempdir().unwrap();
    let s = script(dir.path(), "truth.py", TRUTH);
    for py in interpreters() {
        let out = tachy_mem::run(&settings(&py, &s)).unwrap();
        let r = out.report;
        assert_eq!(r.end, MemEnd::Exited, "{py:?}");
        assert!(
            r.peak.traced_bytes >= 100 * MIB && r.peak.traced_bytes <= 105 * MIB + 8 * MIB,
            "{py:?}: {}",
            r.peak.traced_bytes
        );
        let top = &r.peak_sites[0];
        assert_eq!((top.function.as_str(), top.line), ("make_peak", 6), "{py:?}: {top:?}");
        assert!(top.file.ends_with("truth.py"));
        let leak = &r.leak_sites[0];
        assert_eq!((leak.function.as_str(), leak.line), ("leak", 11), "{py:?}: {leak:?}");
        let leaked = r.leaked_bytes as f64 / MIB as f64;
        assert!((16.0..=32.0).contains(&leaked), "{py:?}: leaked {leaked} MiB (24 MiB, sampled)");
        assert!(r.python_version.as_deref().is_some_and(|v| v.starts_with("3.")));
    }
}

#[test]
fn every_allocation_is_recorded_with_exact() {
    let dir = tempfile::tempdir().unwrap();
    let s = script(dir.path(), "small.py", "def f():\n    return [str(i) for i in range(20000)]\nx = f()\n");
    let mut st = settings(tachy_test::python(), &s);
    st.sample_bytes = 0;
    let r = tachy_mem::run(&st).unwrap().report;
    assert_eq!(r.sample_bytes, 0);
    assert!(r.totals.samples >= 20000, "{}", r.totals.samples);
    assert!(r.allocated_sites.iter().any(|x| x.line == 2 && x.file.ends_with("small.py")));
}

#[test]
fn threads_are_traced() {
    let dir = tempfile::tempdir().unwrap();
    let s = script(
        dir.path(),
        "threads.py",
        "import threading\nKEEP = []\ndef work():\n    KEEP.append([bytearray(1 << 20) for _ in range(8)])\nts = [threading.Thread(target=work) for _ in range(4)]\nfor t in ts: t.start()\nfor t in ts: t.join()\n",
    );
    let r = tachy_mem::run(&settings(tachy_test::python(), &s)).unwrap().report;
    assert!(r.peak.traced_bytes >= 32 * MIB, "{}", r.peak.traced_bytes);
    assert!(r.peak_sites.iter().any(|x| x.line == 4), "{:?}", r.peak_sites);
}

#[test]
fn a_missing_symbol_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let s = script(dir.path(), "x.py", "x = 1\n");
    let mut st = settings(tachy_test::python(), &s);
    st.env.push(("TACHY_MEM_TEST_HIDE_SYMBOL".into(), "PyFrame_GetBack".into()));
    match tachy_mem::run(&st) {
        Err(MemError::HookFailed(msg)) => assert!(msg.contains("PyFrame_GetBack"), "{msg}"),
        other => panic!("expected a hook failure, got {other:?}"),
    }
}

#[test]
fn a_killed_program_keeps_what_was_captured() {
    let dir = tempfile::tempdir().unwrap();
    let s = script(
        dir.path(),
        "die.py",
        "import os, signal, time\nkeep = [bytearray(1 << 20) for _ in range(30)]\ntime.sleep(0.3)\nos.kill(os.getpid(), signal.SIGKILL)\n",
    );
    let r = tachy_mem::run(&settings(tachy_test::python(), &s)).unwrap().report;
    assert_eq!(r.end, MemEnd::Killed);
    assert!(r.peak.traced_bytes >= 30 * MIB, "{}", r.peak.traced_bytes);
    assert!(r.notes.iter().any(|n| n.contains("signal 9")), "{:?}", r.notes);
}

#[test]
fn a_program_that_is_not_python_is_refused() {
    let err = tachy_mem::run(&MemSettings::new(vec!["/bin/true".into()])).unwrap_err();
    assert!(matches!(err, MemError::NotPython { .. }), "{err}");
    assert!(err.to_string().contains("no Python process"));
}

/// Threads start and stop (thread states come from the RAW domain, without the GIL) while
/// the main thread allocates and frees: with dense sampling, nothing may crash or corrupt the
/// heap (this once aborted with "munmap_chunk(): invalid pointer").
#[test]
fn threads_starting_and_stopping_under_dense_sampling() {
    let dir = tempfile::tempdir().unwrap();
    let s = script(
        dir.path(),
        "stress.py",
        "import json, sys, threading, time\n\
         def work(i):\n    data = [{'k': str(j) * 50, 'v': list(range(20))} for j in range(200)]\n    json.loads(json.dumps(data))\n    time.sleep(0.001)\n\
         for round in range(int(sys.argv[1])):\n    ts = [threading.Thread(target=work, args=(i,)) for i in range(8)]\n    for t in ts: t.start()\n    junk = [bytearray(4096) for _ in range(500)]\n    del junk\n    for t in ts: t.join()\n\
         print('ok')\n",
    );
    for (sample_bytes, rounds) in [(512, "20"), (0, "2")] {
        let mut st = settings(tachy_test::python(), &s);
        st.command.push(rounds.into());
        st.sample_bytes = sample_bytes;
        let r = tachy_mem::run(&st).unwrap().report;
        assert_eq!((r.end, r.exit_code), (MemEnd::Exited, Some(0)), "sample_bytes {sample_bytes}: {:?}", r.notes);
        assert!(r.totals.samples > 0);
    }
}

/// `--native`: memory taken straight from the C allocator (here `malloc` through ctypes with
/// the GIL held) is counted in the C heap and sampled at its Python line.
#[test]
fn native_allocations_are_seen_with_native() {
    let dir = tempfile::tempdir().unwrap();
    let s = script(
        dir.path(),
        "native.py",
        "import ctypes\n\
         libc = ctypes.PyDLL(None)\n\
         libc.malloc.restype = ctypes.c_void_p\n\
         libc.malloc.argtypes = [ctypes.c_size_t]\n\
         libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]\n\
         def native_block():\n    blocks = []\n    for _ in range(40):\n        p = libc.malloc(1 << 20)\n        libc.memset(p, 1, 1 << 20)\n        blocks.append(p)\n    return blocks\n\
         kept = native_block()\n",
    );
    let mut st = settings(tachy_test::python(), &s);
    st.native = true;
    let r = tachy_mem::run(&st).unwrap().report;
    assert_eq!(r.exit_code, Some(0), "{:?}", r.notes);
    let native = r.native.expect("--native reports the C heap");
    assert!(native.peak_bytes >= 40 * MIB, "{}", native.peak_bytes);
    let site = r.peak_sites.iter().find(|x| x.function == "native_block").expect("the malloc line is a site");
    assert_eq!(site.line, 9, "{site:?}");
    let mb = site.bytes as f64 / MIB as f64;
    assert!(
        (30.0..=50.0).contains(&mb),
        "{mb} MiB sampled for 40 MiB: {:?} {:?} {:?}",
        r.peak,
        r.totals,
        r.allocated_sites
    );
    assert!(r.peak.traced_bytes >= 40 * MIB, "C blocks count in the traced peak: {}", r.peak.traced_bytes);
    // With --no-native the C allocator is not seen.
    let mut st = settings(tachy_test::python(), &s);
    st.native = false;
    let r = tachy_mem::run(&st).unwrap().report;
    assert!(r.native.is_none());
    assert!(!r.peak_sites.iter().any(|x| x.function == "native_block"));
    assert!(r.peak.traced_bytes < 40 * MIB, "{}", r.peak.traced_bytes);
}

/// C code that releases the GIL around an allocation (as numpy does to zero-fill a large
/// array; here `ctypes.CDLL`, which always releases it): the block counts in the traced peak
/// at once, and its sample gets the Python stack when the thread is back under the GIL, so
/// the site is the calling line, live at the peak, and a leak when kept.
#[test]
fn native_allocations_without_the_gil_get_their_python_line() {
    let dir = tempfile::tempdir().unwrap();
    let s = script(
        dir.path(),
        "nogil.py",
        r#"import ctypes
libc = ctypes.CDLL(None)
libc.calloc.restype = ctypes.c_void_p
libc.calloc.argtypes = [ctypes.c_size_t, ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
KEPT = []
def transient():
    p = libc.calloc(1, 64 << 20)
    libc.free(p)
def kept():
    for _ in range(3):
        KEPT.append(libc.calloc(1, 8 << 20))
transient()
kept()
"#,
    );
    let r = tachy_mem::run(&settings(tachy_test::python(), &s)).unwrap().report;
    assert_eq!(r.exit_code, Some(0), "{:?}", r.notes);
    let mib = |b: u64| b as f64 / MIB as f64;
    assert!((64.0..=64.0 * 1.05 + 8.0).contains(&mib(r.peak.traced_bytes)), "{} MiB", mib(r.peak.traced_bytes));
    let top = &r.peak_sites[0];
    assert_eq!((top.function.as_str(), top.line), ("transient", 8), "{top:?}");
    assert!((60.0..=70.0).contains(&mib(top.bytes)), "{} MiB", mib(top.bytes));
    let leak = &r.leak_sites[0];
    assert_eq!((leak.function.as_str(), leak.line), ("kept", 12), "{leak:?}");
    assert!((20.0..=28.0).contains(&mib(leak.bytes)), "{} MiB", mib(leak.bytes));
}

/// `--native` under threads, subprocesses and dense sampling: nothing crashes.
#[test]
fn native_under_threads_and_dense_sampling() {
    let dir = tempfile::tempdir().unwrap();
    let s = script(
        dir.path(),
        "stress.py",
        "import json, subprocess, sys, threading, zlib\n\
         def work(i):\n    data = [{'k': str(j) * 50} for j in range(300)]\n    zlib.compress(json.dumps(data).encode())\n\
         for _ in range(10):\n    ts = [threading.Thread(target=work, args=(i,)) for i in range(6)]\n    for t in ts: t.start()\n    for t in ts: t.join()\n\
         subprocess.run(['sh', '-c', 'echo child'], check=True, stdout=subprocess.DEVNULL)\n\
         print('ok')\n",
    );
    let mut st = settings(tachy_test::python(), &s);
    st.native = true;
    st.sample_bytes = 1024;
    let r = tachy_mem::run(&st).unwrap().report;
    assert_eq!((r.end, r.exit_code), (MemEnd::Exited, Some(0)), "{:?}", r.notes);
    assert!(r.native.is_some_and(|n| n.peak_bytes > 0));
}
