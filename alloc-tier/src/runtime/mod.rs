//! The runtime behind the C API: its state, the C functions' bodies, and (with the `runtime`
//! feature) a `no_std` runtime that defines them.
//!
//! Exactly one runtime defines the C API (`c_api.h`, `extra/c_env_api.h`) in a process.
//! Runtimes differ in three things only, which a [`Runtime`] names: where each thread's state
//! lives ([`LocalState`]: the raised error, the environment's streams and tensor allocator),
//! how a panic in an export is handled, and how a backtrace is taken. Everything else is
//! shared and lives here:
//!
//! - the state: the global function registry ([`GlobalFunctions`]) and the type table
//!   ([`TypeTable`]: indices, ancestry, reflection), one of each per process behind spin
//!   locks, and the per-thread [`LocalState`];
//! - [`c_api`]: the body of every C function, generic over the [`Runtime`];
//! - [`define_c_api!`](crate::define_c_api): the `#[no_mangle]` symbols, one line per
//!   function calling its body for a given runtime.
//!
//! Two runtimes use them: `tvmffi-std` (one [`LocalState`] per thread, panics caught,
//! symbolised backtraces) and, with this crate's `runtime` feature, `SpinRuntime` for
//! `no_std` + `alloc` programs with no other runtime (microcontrollers, wasm modules). Kernel
//! libraries enable neither: they reach the host's runtime through the declarations in
//! [`tvmffi_core::sys::api`].
//!
//! Differences from the reference, all on input it would crash or exit on: every function
//! checks its pointers, counts and indices, and bad input raises an error and returns -1 (or
//! null, or for `TVMFFITypeGetOrAllocIndex` -1), where the reference dereferences, or logs
//! and exits. Nothing here panics on bad input.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unreachable,
    clippy::todo,
    clippy::unimplemented
)]

mod builtins;
pub mod c_api;
mod error_slot;
mod globals;
mod local;
mod reflection;
#[cfg(feature = "runtime")]
mod spin_runtime;
mod type_table;

#[cfg(test)]
mod tests;

use alloc::string::String;

pub use builtins::Builtins;
pub use error_slot::ErrorSlot;
pub use globals::{GlobalEntry, GlobalFunctions};
pub use local::LocalState;
#[cfg(feature = "runtime")]
pub use spin_runtime::SpinRuntime;
pub use type_table::TypeTable;

use crate::function::Boundary;

/// A source location a caller vouches for: the first line of a backtrace
/// (`TVMFFIBacktrace(filename, lineno, func, ...)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location<'a> {
    /// The file.
    pub file: &'a str,
    /// The line.
    pub line: i32,
    /// The function.
    pub function: &'a str,
}

/// What a runtime defining the C API over this crate's state chooses.
///
/// # Safety
///
/// [`with_local`](Self::with_local) hands each thread a state no other thread uses at the
/// same time, or documents (as `SpinRuntime` does) that the program has one thread of
/// execution calling the C API.
pub unsafe trait Runtime: 'static {
    /// The panic policy of every exported function.
    type Boundary: Boundary;

    /// Run `f` on the calling thread's state; `None` when the thread has none left (it is
    /// being torn down).
    fn with_local<T>(f: impl FnOnce(&LocalState) -> T) -> Option<T>;

    /// The current backtrace in the reference's format (`  File "<file>", line <n>, in
    /// <function>` lines, most recent call first), `location` first when given; the walk
    /// stops at the FFI boundary unless `cross_ffi_boundary`. Empty where the stack cannot
    /// be walked.
    fn backtrace(location: Option<Location<'_>>, cross_ffi_boundary: bool) -> String;

    /// Register this runtime's own built-in functions and types, after this crate's, the
    /// first time the registry or the type table is used.
    fn register_builtins(builtins: &mut Builtins<'_, Self::Boundary>) {
        let _ = builtins;
    }
}

/// The process's global function registry.
static GLOBALS: spin::RwLock<GlobalFunctions> = spin::RwLock::new(GlobalFunctions::new());

/// The process's type table, built on first use (it allocates).
static TYPES: spin::Once<spin::Mutex<TypeTable>> = spin::Once::new();

/// Read the global function registry of the runtime defined over this crate.
///
/// Only meaningful in the program whose runtime this crate's state backs (`tvmffi-std`'s,
/// or `SpinRuntime`); a kernel library loaded by another runtime reaches that runtime's
/// registry through the C API instead. Do not call back into the runtime from `f`.
pub fn read_globals<T>(f: impl FnOnce(&GlobalFunctions) -> T) -> T {
    f(&GLOBALS.read())
}

/// Change the global function registry; see [`read_globals`]. Values that `f` removes
/// should be returned and dropped after the lock is released: a function's last reference
/// may run foreign code that calls the runtime.
pub fn write_globals<T>(f: impl FnOnce(&mut GlobalFunctions) -> T) -> T {
    f(&mut GLOBALS.write())
}

/// Use the type table of the runtime defined over this crate; see [`read_globals`].
pub fn with_types<T>(f: impl FnOnce(&mut TypeTable) -> T) -> T {
    f(&mut TYPES.call_once(|| spin::Mutex::new(TypeTable::new())).lock())
}
