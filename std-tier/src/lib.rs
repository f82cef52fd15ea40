//! The TVM-FFI runtime with `std`: the C API for Rust hosts and our drop-in
//! `libtvm_ffi.so` (`std-tier/cdylib`), the panic boundary, backtraces, and library modules.
//!
//! Exactly one runtime defines the C API (`c_api.h`, `extra/c_env_api.h`) in a process. With
//! the `runtime` feature this crate is that runtime ([`runtime::StdRuntime`]: one error slot
//! and environment per thread, panics caught at every export, symbolised backtraces); with
//! `links = "tvm_ffi"`, Cargo refuses a second copy in a graph. Without it (kernel
//! libraries), everything here reaches the runtime of the process that loaded the library
//! through the C API.
//!
//! - [`ffi_boundary`], [`CatchPanic`] and [`abort_on_panic`]: the panic boundary every C
//!   entry point runs in ([`boundary`]).
//! - [`backtrace`]: backtraces in the reference's format.
//! - [`module`]: loading shared libraries and the system library as `ffi.Module` objects.
//!
//! # Features
//!
//! | feature       | default | adds                                                         |
//! |---------------|---------|--------------------------------------------------------------|
//! | `runtime`     | no      | the C API's `TVMFFI*` symbols: this crate becomes the process's runtime (Rust hosts, the cdylib) |
//! | `backtrace`   | yes     | symbolised backtraces, C++ names demangled (the reference's libbacktrace build); without it a backtrace is only the caller's location |
//! | `symbol-list` | yes     | [`Module::function_names`](module::Module::function_names), read from the library file's export table |
//!
//! # Safety
//!
//! The exported C functions trust their pointer arguments as `c_api.h` documents them
//! (null where allowed, otherwise valid for the call); each one's `# Safety` section says
//! which. Everything reachable from Rust without `unsafe` is sound.
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
extern crate std;

pub mod backtrace;
pub mod boundary;
#[cfg(tvmffi_cxx_api)]
mod cxx_api;
pub mod module;
#[cfg(feature = "runtime")]
pub mod runtime;
mod runtime_hooks;

pub use boundary::{CatchPanic, abort_on_panic, ffi_boundary};
pub use module::{LoadError, LoadErrorKind, Module};
pub use tvmffi_alloc::Error;

pub use tvmffi_alloc as alloc_tier;
pub use tvmffi_core as core_tier;
