//! The core ABI path at its smallest, for the size budget `ci/embedded.sh` enforces: values,
//! a refcounted function object, one packed call through the C convention, and an error
//! code. Exits 0 through semihosting when each step behaved, else 1; a panic exits 101.
//!
//! No formatting anywhere (the panic handler ignores the message), so what is measured is
//! the ABI, not `core::fmt`.
//!
//! Atomics: `portable-atomic` with `unsafe-assume-single-core` (one core; each 64-bit RMW
//! masks interrupts for a few instructions).
#![no_std]
#![no_main]

use core::ffi::{c_int, c_void};
use core::panic::PanicInfo;
use core::ptr;

use cortex_m_rt::entry;
use tvmffi_core::call::{self, CallError};
use tvmffi_core::object::StaticObject;
use tvmffi_core::sys::{TVMFFIAny, TVMFFIFunctionCell};
use tvmffi_core::{Any, AnyView, TypeIndex};

/// `add(a: int, b: int) -> int`; -1 (the convention's error code) for anything else.
unsafe extern "C" fn add(
    _: *mut c_void,
    args: *const TVMFFIAny,
    num_args: i32,
    result: *mut TVMFFIAny,
) -> c_int {
    // SAFETY: the convention's arguments.
    let Ok([a, b]) = (unsafe { call::args_from_raw(args, num_args) }) else { return -1 };
    let (Ok(a), Ok(b)) = (a.get::<i64>(), b.get::<i64>()) else { return -1 };
    // SAFETY: the convention's result slot.
    unsafe { call::write_result(result, Any::from(a.wrapping_add(b))) };
    0
}

/// The function object, in flash-backed static memory.
static ADD: StaticObject<TVMFFIFunctionCell> = StaticObject::new(
    TypeIndex::FUNCTION,
    TVMFFIFunctionCell { safe_call: Some(add), cpp_call: ptr::null_mut() },
);

#[entry]
fn main() -> ! {
    let f = ADD.new_ref();
    let args = [AnyView::from(2i64), AnyView::from(40i32)];
    let sum = call::call(&f, &args);
    let summed = matches!(sum.as_ref().map(|v| v.get::<i64>()), Ok(Ok(42)));
    let refused = matches!(call::call(&f, &args[..1]), Err(CallError::Raised { code: -1 }));
    let counted = f.strong_count() == 2;
    drop(f);
    let released = ADD.header().strong_count() == 1;
    let ok = summed && refused && counted && released;
    semihosting::process::exit(if ok { 0 } else { 1 })
}

#[panic_handler]
fn panic(_: &PanicInfo<'_>) -> ! {
    semihosting::process::exit(101)
}
