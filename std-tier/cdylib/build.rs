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
}
