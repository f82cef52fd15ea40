//! Compile the example's C kernel (`kernel/scale.c`) into a shared library with the C
//! compiler Cargo links with, and tell `main.rs` where it is (`RUST_HOST_KERNEL`).

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=kernel");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let lib = out.join("libscale_kernel.so");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(&cc)
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-O2", "-fPIC", "-shared", "-Ikernel"])
        .arg("kernel/scale.c")
        .arg("-o")
        .arg(&lib)
        .status()
        .unwrap_or_else(|e| panic!("cannot run the C compiler `{cc}`: {e}"));
    assert!(status.success(), "compiling kernel/scale.c failed: {status}");
    println!("cargo:rustc-env=RUST_HOST_KERNEL={}", lib.display());
}
