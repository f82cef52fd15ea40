//! The C API's error functions for a firmware without an allocator, over the core's static
//! error pool and raised-error slot: the program's one provider of these symbols, as
//! `tvmffi-std` or `tvmffi-alloc`'s `runtime` are elsewhere. C kernels linked into the
//! firmware raise through them unchanged.
//!
//! Same contracts as the other providers: null strings read as `RuntimeError` / empty, a
//! non-error object passed to `TVMFFIErrorSetRaised` is replaced by a `TypeError`, and no
//! input panics. The message of an error is cut at the pool's capacity.

use core::ffi::{CStr, c_char};

use tvmffi_core::ffi_error::{ErrorObj, ErrorPool, ErrorSlot};
use tvmffi_core::object::{ObjectHeader, ObjectRef};
use tvmffi_core::sys::{TVMFFIObject, TVMFFIObjectHandle};

/// Two error objects of up to 96 bytes of text: one raised, one being read.
pub static ERRORS: ErrorPool<2, 96> = ErrorPool::new();
/// The raised error.
pub static RAISED: ErrorSlot = ErrorSlot::new();

/// The bytes of a C string, or `default` for null.
///
/// # Safety
///
/// `s` is null or NUL-terminated and readable for `'a`.
unsafe fn c_str_or<'a>(s: *const c_char, default: &'static [u8]) -> &'a [u8] {
    // SAFETY: the caller's promise.
    if s.is_null() { default } else { unsafe { CStr::from_ptr(s) }.to_bytes() }
}

/// `TVMFFIErrorSetRaisedFromCStr`: raise a new error of `kind` with `message`.
///
/// # Safety
///
/// Each pointer is null or a readable NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TVMFFIErrorSetRaisedFromCStr(kind: *const c_char, message: *const c_char) {
    // SAFETY: the caller's promises.
    let (kind, message) = unsafe { (c_str_or(kind, b"RuntimeError"), c_str_or(message, b"")) };
    RAISED.set(Some(ERRORS.new_error_from_parts(kind, [message])));
}

/// `TVMFFIErrorSetRaisedFromCStrParts`: as above, the message joined from `num_parts`
/// strings (null parts skipped). A negative count or a null array raises a `ValueError`.
///
/// # Safety
///
/// `kind` as above; `message_parts` is null or holds `num_parts` pointers, each null or a
/// readable NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TVMFFIErrorSetRaisedFromCStrParts(
    kind: *const c_char,
    message_parts: *const *const c_char,
    num_parts: i32,
) {
    let parts: &[*const c_char] = match usize::try_from(num_parts) {
        Ok(0) => &[],
        Ok(n) if !message_parts.is_null() => {
            // SAFETY: non-null with `n` readable pointers (caller).
            unsafe { core::slice::from_raw_parts(message_parts, n) }
        }
        _ => {
            let error = ERRORS.new_error(
                "ValueError",
                format_args!(
                    "TVMFFIErrorSetRaisedFromCStrParts: {num_parts} parts at {message_parts:p}"
                ),
            );
            return RAISED.set(Some(error));
        }
    };
    // SAFETY: each part is null or a readable C string (caller).
    let message = parts.iter().map(|&part| unsafe { c_str_or(part, b"") });
    // SAFETY: the caller's promise.
    let kind = unsafe { c_str_or(kind, b"RuntimeError") };
    RAISED.set(Some(ERRORS.new_error_from_parts(kind, message)));
}

/// `TVMFFIErrorSetRaised`: raise `error` (borrowed: the slot takes its own reference); null
/// empties the slot.
///
/// # Safety
///
/// `error` is null or a live object.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TVMFFIErrorSetRaised(error: TVMFFIObjectHandle) {
    // SAFETY: a live object (caller); the new reference is ours.
    let obj = unsafe { ObjectRef::<ObjectHeader>::from_raw_borrowed(error.cast::<TVMFFIObject>()) };
    let error = obj.map(|obj| {
        obj.downcast::<ErrorObj>().unwrap_or_else(|other| {
            ERRORS.new_error(
                "TypeError",
                format_args!(
                    "TVMFFIErrorSetRaised: object of type index {} is not an ffi.Error",
                    other.type_index().0
                ),
            )
        })
    });
    RAISED.set(error);
}

/// `TVMFFIErrorMoveFromRaised`: move the raised error (or null) to `*result`.
///
/// # Safety
///
/// `result` is null (then nothing happens) or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TVMFFIErrorMoveFromRaised(result: *mut TVMFFIObjectHandle) {
    if result.is_null() {
        return;
    }
    let handle = RAISED.take().map_or(core::ptr::null_mut(), |e| e.into_raw().cast());
    // SAFETY: writable (caller); the strong reference goes to the caller.
    unsafe { result.write(handle) };
}

/// Every error object has come back to the pool.
pub fn errors_released() -> Result<(), crate::report::Failure> {
    ensure!(!RAISED.is_set() && ERRORS.available() == 2);
    Ok(())
}
