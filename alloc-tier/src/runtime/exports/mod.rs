//! The `#[no_mangle]` C API of the `runtime` feature, over one global error slot, registry
//! and type table. One module per section of `c_api.h`; see the parent module for the list.
//!
//! Every function runs its body through [`c_boundary`] (an `Err` is raised into the slot
//! and -1 returned) and validates each pointer, count and index it is given before use.

mod errors;
mod functions;
mod objects;
mod types;

use alloc::format;
use core::ffi::c_int;

use tvmffi_core::sys::TVMFFIByteArray;

use super::{ErrorSlot, GlobalFunctions, TypeTable};
use crate::error::{Error, bytes_of};
use crate::function::{AbortOnPanic, c_boundary};

/// The program's one raised-error slot.
static ERRORS: ErrorSlot = ErrorSlot::new();

/// The global function registry.
static GLOBALS: spin::Mutex<GlobalFunctions> = spin::Mutex::new(GlobalFunctions::new());

/// The type table, built on first use (it allocates).
static TYPES: spin::Once<spin::Mutex<TypeTable>> = spin::Once::new();

fn types() -> spin::MutexGuard<'static, TypeTable> {
    TYPES.call_once(|| spin::Mutex::new(TypeTable::new())).lock()
}

/// Run an export's body: 0 on success; on error raise it and return -1.
#[inline]
fn guard(body: impl FnOnce() -> Result<(), Error>) -> c_int {
    c_boundary::<AbortOnPanic>(body)
}

/// `Err` for a null argument.
fn null(func: &str, what: &str) -> Error {
    Error::value_error(format!("{func}: `{what}` is null"))
}

/// A reference to what a C argument points to, or a `ValueError` when it is null.
///
/// # Safety
///
/// A non-null `p` points to a valid `T` for `'a`.
unsafe fn arg<'a, T>(p: *const T, func: &str, what: &str) -> Result<&'a T, Error> {
    // SAFETY: the caller's promise.
    unsafe { p.as_ref() }.ok_or_else(|| null(func, what))
}

/// A writable C out-pointer, or a `ValueError` when it is null.
fn out<T>(p: *mut T, func: &str, what: &str) -> Result<*mut T, Error> {
    if p.is_null() { Err(null(func, what)) } else { Ok(p) }
}

/// The bytes a C byte-array argument describes.
///
/// # Safety
///
/// A non-null `p` points to a byte array whose non-null `data` is readable for `size`
/// bytes, for `'a`.
unsafe fn arg_bytes<'a>(
    p: *const TVMFFIByteArray,
    func: &str,
    what: &str,
) -> Result<&'a [u8], Error> {
    // SAFETY: the caller's promise.
    let arr = unsafe { arg(p, func, what)? };
    // SAFETY: the caller's promise.
    unsafe { bytes_of(arr) }.ok_or_else(|| {
        Error::value_error(format!("{func}: `{what}` has a null pointer or an oversized length"))
    })
}
