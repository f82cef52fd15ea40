//! The smallest wasm32 module that a host calls through the TVM-FFI ABI, for the size
//! budget `ci/wasm.sh` enforces: one packed function, `__tvm_ffi_add(self, args, num_args,
//! result)`, reading two `TVMFFIAny` integers from linear memory and writing their sum, or
//! returning -1 (the convention's error code) for anything else.
//!
//! Core tier only: no allocator, no error objects, no formatting, so what is measured is the
//! ABI path itself. The kernel beside it (`../kernel`) is what a real library with its own
//! runtime costs.
#![no_std]

use core::ffi::{c_int, c_void};

use tvmffi_core::Any;
use tvmffi_core::call;
use tvmffi_core::sys::TVMFFIAny;

/// `add(a: int, b: int) -> int` in the packed convention; -1 for other arguments.
///
/// # Safety
///
/// The packed convention: `args` holds `num_args` readable values and `result` is a writable
/// slot holding `None`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __tvm_ffi_add(
    _self: *mut c_void,
    args: *const TVMFFIAny,
    num_args: i32,
    result: *mut TVMFFIAny,
) -> c_int {
    // SAFETY: the convention's arguments (caller).
    let Ok([a, b]) = (unsafe { call::args_from_raw(args, num_args) }) else { return -1 };
    let (Ok(a), Ok(b)) = (a.get::<i64>(), b.get::<i64>()) else { return -1 };
    // SAFETY: the convention's result slot (caller).
    unsafe { call::write_result(result, Any::from(a.wrapping_add(b))) };
    0
}

/// A panic traps (none is reachable: nothing here formats or indexes).
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}
