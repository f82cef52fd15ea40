//! Rust halves of the C++ interop tests in `cpp/`.
//!
//! Each module exports `rs_*` functions with C linkage. A test program in `cpp/` is compiled
//! against the reference wheel's headers, linked with this staticlib and the reference
//! `libtvm_ffi.so` (which provides the runtime, so this library defines none of it), and uses
//! the reference's inline C++ on objects we build, and our code on objects it builds.
//! `ci/interop-cpp.sh` builds and runs them all.

mod function;
mod map;
mod seq;
mod smoke;
mod strings;
mod tensor;
