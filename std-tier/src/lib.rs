//! The TVM-FFI runtime with `std`: the panic boundary, backtraces, and library modules; the
//! crate behind our drop-in `libtvm_ffi.so` (`std-tier/cdylib`).
//!
//! Exactly one runtime defines the C API (`c_api.h`, `extra/c_env_api.h`) in a process, and
//! this crate is one (with `links = "tvm_ffi"`, Cargo refuses a second copy in a graph).
//! What it exports so far:
//!
//! | C function                              | Rust side                                  |
//! |-----------------------------------------|--------------------------------------------|
//! | `TVMFFIBacktrace`                       | [`backtrace`]                              |
//! | `TVMFFIEnvModRegisterSystemLibSymbol`   | [`module::register_system_symbol`]         |
//! | `TVMFFIEnvModRegisterContextSymbol`     | [`module::register_context_symbol`]        |
//! | `TVMFFIEnvModLookupFromImports`         | [`module::Module::import_module`]          |
//!
//! - [`ffi_boundary`] and [`abort_on_panic`]: the one panic boundary every C entry point
//!   runs in ([`boundary`]).
//! - [`raise`]: raising errors into the thread-local slot.
//! - [`backtrace`]: backtraces in the reference's format.
//! - [`module`]: loading shared libraries and the system library as `ffi.Module` objects.
//!
//! # Features
//!
//! | feature       | default | adds                                                         |
//! |---------------|---------|--------------------------------------------------------------|
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
pub mod module;
pub mod raise;
mod runtime_hooks;

pub use boundary::{CatchPanic, abort_on_panic, ffi_boundary};
pub use module::{LoadError, LoadErrorKind, Module};
pub use raise::{RaiseError, RaisedError};

pub use tvmffi_alloc as alloc_tier;
pub use tvmffi_core as core_tier;
