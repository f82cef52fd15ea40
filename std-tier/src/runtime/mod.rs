//! [`StdRuntime`]: this crate as the process's runtime (the `runtime` feature).
//!
//! The C API's bodies and state come from the alloc tier ([`tvmffi_alloc::runtime`]); this
//! runtime keeps one [`LocalState`] per thread (the reference's thread-local
//! `SafeCallContext` and `EnvContext`), catches panics in every export ([`CatchPanic`]), and
//! walks the stack for backtraces ([`crate::backtrace`]). The module functions of
//! `c_env_api.h` are defined here too, over [`crate::module`].

use alloc::string::String;
use core::ffi::{c_char, c_int, c_void};

use tvmffi_alloc::runtime::{Builtins, LocalState, Location, Runtime};
use tvmffi_core::sys::TVMFFIObjectHandle;

mod host;

pub(crate) use host::ensure_exported;

use crate::CatchPanic;
use crate::module::system_lib;

/// The runtime of Rust hosts and of our `libtvm_ffi.so`.
#[derive(Debug, Clone, Copy)]
pub enum StdRuntime {}

std::thread_local! {
    /// The calling thread's raised error, streams, tensor allocator and last backtrace.
    static LOCAL: LocalState = const { LocalState::new() };
}

// SAFETY: every thread gets its own state.
unsafe impl Runtime for StdRuntime {
    type Boundary = CatchPanic;

    #[inline]
    fn with_local<T>(f: impl FnOnce(&LocalState) -> T) -> Option<T> {
        LOCAL.try_with(f).ok()
    }

    fn backtrace(location: Option<Location<'_>>, cross_ffi_boundary: bool) -> String {
        crate::backtrace::build(location, cross_ffi_boundary)
    }

    fn register_builtins(builtins: &mut Builtins<'_, CatchPanic>) {
        crate::module::builtins::register(builtins);
        // `ffi.ReprPrint` again, reading `TVM_FFI_REPR_WITH_ADDR` at each call as the
        // reference does (the alloc tier's has no environment to read).
        builtins.def("ffi.ReprPrint", |value: tvmffi_core::Any| {
            let show_addr = std::env::var_os("TVM_FFI_REPR_WITH_ADDR").is_some_and(|v| v == "1");
            let options = tvmffi_alloc::dataclass::ReprOptions { show_addr };
            tvmffi_alloc::dataclass::repr(&value, options).map(tvmffi_alloc::String::from)
        });
    }
}

tvmffi_alloc::define_c_api!(crate::runtime::StdRuntime);

/// `TVMFFIEnvModRegisterSystemLibSymbol` (see [`crate::module::register_system_symbol`]).
///
/// # Safety
///
/// `name` is null or a NUL-terminated string valid for the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TVMFFIEnvModRegisterSystemLibSymbol(
    name: *const c_char,
    symbol: *mut c_void,
) -> c_int {
    // SAFETY: forwarded.
    unsafe { system_lib::register_system_lib_symbol_c(name, symbol) }
}

/// `TVMFFIEnvModRegisterContextSymbol` (see [`crate::module::register_context_symbol`]).
///
/// # Safety
///
/// `name` is null or a NUL-terminated string valid for the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TVMFFIEnvModRegisterContextSymbol(
    name: *const c_char,
    symbol: *mut c_void,
) -> c_int {
    // SAFETY: forwarded.
    unsafe { system_lib::register_context_symbol_c(name, symbol) }
}

/// `TVMFFIEnvModLookupFromImports`: a function from the imports of a library's module, or
/// the global registry, as a handle borrowed from the module.
///
/// # Safety
///
/// `library_ctx` is null or a live object; `func_name` is null or a NUL-terminated string;
/// `out` is null or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TVMFFIEnvModLookupFromImports(
    library_ctx: TVMFFIObjectHandle,
    func_name: *const c_char,
    out: *mut TVMFFIObjectHandle,
) -> c_int {
    // SAFETY: forwarded.
    unsafe { system_lib::lookup_from_imports_c(library_ctx, func_name, out) }
}
