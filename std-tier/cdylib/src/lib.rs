//! `libtvm_ffi.so`: the TVM-FFI C API from `tvmffi-std`, as a shared library with the
//! reference's file name and SONAME.
//!
//! Everything is in `tvmffi-std`; this crate only links it into a `cdylib`, which exports
//! every `#[unsafe(no_mangle)] pub extern "C"` function of its dependencies. `ci/std-abi.sh`
//! builds it and compares its `TVMFFI*` exports with the reference's.
#![no_std]

// Linking the crate is what brings its exported functions into the library.
pub use tvmffi_std;
