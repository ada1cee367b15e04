//! Builds the allocator hook (`hook/hook.rs`) into a standalone shared library with the same
//! rustc, so the tachy binary can embed it and write it out at run time: one binary, no
//! per-Python-version build, no nested cargo.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=hook/hook.rs");
    println!("cargo:rerun-if-changed=hook/native.rs");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let lib = out.join("libtachy_mem_hook.so");
    let output = Command::new(rustc)
        .args(["--edition", "2024", "--crate-type", "cdylib", "--crate-name", "tachy_mem_hook"])
        .args(["-C", "opt-level=3", "-C", "panic=abort", "-C", "debuginfo=0", "-C", "strip=debuginfo"])
        .arg("-o")
        .arg(&lib)
        .arg("hook/hook.rs")
        .output()
        .expect("rustc runs");
    if !output.status.success() {
        panic!("building the tachy mem hook failed:\n{}", String::from_utf8_lossy(&output.stderr));
    }
}
