//! Nothing to build: the script exists because the manifest's `links = "tvm_ffi"` (one C API
//! runtime per program) requires one.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
}
