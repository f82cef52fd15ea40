//! With the `runtime` feature, this crate's own test binaries export the C API's symbols
//! (`--export-dynamic-symbol=TVMFFI*`), as a host program must for the kernel libraries it
//! loads to bind to its runtime: executables export nothing by default.
//!
//! The script also exists because the manifest's `links = "tvm_ffi"` (one C API runtime per
//! program) requires one.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let runtime = std::env::var_os("CARGO_FEATURE_RUNTIME").is_some();
    if runtime && matches!(os.as_str(), "linux" | "android" | "freebsd" | "netbsd" | "openbsd") {
        println!("cargo:rustc-link-arg-tests=-Wl,--export-dynamic-symbol=TVMFFI*");
    }
}
