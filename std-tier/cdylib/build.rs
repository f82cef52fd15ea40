//! Give the shared library the reference's SONAME, so programs and Python extensions linked
//! against the reference `libtvm_ffi.so` load this one in its place.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    // ELF platforms; Mach-O uses an install name and Windows has no such field.
    if !matches!(os.as_str(), "macos" | "ios" | "windows") && env != "msvc" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libtvm_ffi.so");
    }
    export_cxx_api(&os, &env);
}

/// Export the C++ entry points of tvmffi-std's `cxx-api` shim (functions in `tvm::ffi`,
/// and the vtables and type infos of its exported classes). Rust exports only its own
/// symbols from a `cdylib`; a second version script adds these (only symbols the shim made
/// visible match: its helpers are hidden). Without the shim nothing matches.
fn export_cxx_api(os: &str, env: &str) {
    const PATTERNS: [&str; 4] = ["_ZN3tvm3ffi", "_ZTVN3tvm3ffi", "_ZTIN3tvm3ffi", "_ZTSN3tvm3ffi"];
    if matches!(os, "macos" | "ios") {
        for p in PATTERNS {
            println!("cargo:rustc-cdylib-link-arg=-Wl,-exported_symbol,_{p}*");
        }
    } else if os != "windows" && env != "msvc" {
        let out = std::path::PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default());
        let script = out.join("cxx_api_exports.map");
        let globs: String = PATTERNS.iter().map(|p| format!(" {p}*;")).collect();
        std::fs::write(&script, format!("{{ global:{globs} }};\n")).expect("write the export list");
        println!("cargo:rustc-cdylib-link-arg=-Wl,--version-script={}", script.display());
    }
}
