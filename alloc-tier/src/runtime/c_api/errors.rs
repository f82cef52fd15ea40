//! The raised-error slot, error objects, and the backtrace.

use alloc::string::String;
use alloc::vec::Vec;
use core::ffi::{CStr, c_char, c_int};

use tvmffi_core::sys::{TVMFFIByteArray, TVMFFIObject, TVMFFIObjectHandle};
use tvmffi_core::{ObjectHeader, ObjectRef};

use super::{Runtime, arg_bytes, guard, null, out, raise};
use crate::error::{Error, ErrorObj};
use crate::runtime::Location;

/// `TVMFFIErrorSetRaised`: put `error` in the raised-error slot, taking a new reference;
/// null clears the slot. An object that is not an error is replaced by a `TypeError` that
/// says so.
///
/// # Safety
///
/// `error` is null or a live object.
pub unsafe fn set_raised<R: Runtime>(error: TVMFFIObjectHandle) {
    // SAFETY: a live object (caller); the new reference is ours.
    let obj = unsafe { ObjectRef::<ObjectHeader>::from_raw_borrowed(error.cast::<TVMFFIObject>()) };
    let error = obj.map(|obj| {
        obj.downcast::<ErrorObj>().map(Error::from_object).unwrap_or_else(|other| {
            Error::type_error(alloc::format!(
                "TVMFFIErrorSetRaised: object of type index {} is not an ffi.Error",
                other.type_index().0
            ))
        })
    });
    let _ = R::with_local(move |local| local.error().set(error));
}

/// `TVMFFIErrorMoveFromRaised`: move the raised error (or null) to `*result`, emptying the
/// slot. A null `result` leaves the slot as it is.
///
/// # Safety
///
/// `result` is null or writable.
pub unsafe fn move_from_raised<R: Runtime>(result: *mut TVMFFIObjectHandle) {
    if result.is_null() {
        return;
    }
    let error = R::with_local(|local| local.error().take()).flatten();
    let handle = error.map_or(core::ptr::null_mut(), |e| e.into_object().into_raw().cast());
    // SAFETY: writable (caller); the strong reference goes to the caller.
    unsafe { result.write(handle) };
}

/// The bytes of a C string, or `default` for null.
///
/// # Safety
///
/// `s` is null or NUL-terminated and readable for `'a`.
unsafe fn c_str_or<'a>(s: *const c_char, default: &'static [u8]) -> &'a [u8] {
    // SAFETY: the caller's promise.
    if s.is_null() { default } else { unsafe { CStr::from_ptr(s) }.to_bytes() }
}

/// `TVMFFIErrorSetRaisedFromCStr`: raise a new error of `kind` with `message` and the
/// caller's backtrace. A null kind is `RuntimeError`, a null message empty.
///
/// # Safety
///
/// Each pointer is null or a readable NUL-terminated string.
pub unsafe fn set_raised_from_c_str<R: Runtime>(kind: *const c_char, message: *const c_char) {
    // SAFETY: the caller's promises.
    let (kind, message) = unsafe { (c_str_or(kind, b"RuntimeError"), c_str_or(message, b"")) };
    raise_with_backtrace::<R>(kind, message);
}

/// Raise a new error with the current backtrace, as the reference's C-string raises do.
fn raise_with_backtrace<R: Runtime>(kind: &[u8], message: &[u8]) {
    let backtrace = R::backtrace(None, false);
    raise::<R>(Error::from_parts(kind, message, backtrace.as_bytes(), None, None));
}

/// `TVMFFIErrorSetRaisedFromCStrParts`: as `TVMFFIErrorSetRaisedFromCStr` with the message
/// concatenated from `num_parts` strings (null parts skipped). A negative count, or a null
/// array with a positive count, raises a `ValueError` instead.
///
/// # Safety
///
/// `kind` as above; `message_parts` is null or holds `num_parts` pointers, each null or a
/// readable NUL-terminated string.
pub unsafe fn set_raised_from_c_str_parts<R: Runtime>(
    kind: *const c_char,
    message_parts: *const *const c_char,
    num_parts: i32,
) {
    const FUNC: &str = "TVMFFIErrorSetRaisedFromCStrParts";
    let Ok(count) = usize::try_from(num_parts) else {
        return raise::<R>(Error::value_error(alloc::format!(
            "{FUNC}: negative num_parts {num_parts}"
        )));
    };
    if count > 0 && message_parts.is_null() {
        return raise::<R>(null(FUNC, "message_parts"));
    }
    let parts: &[*const c_char] = if count == 0 {
        &[]
    } else {
        // SAFETY: non-null with `count` readable pointers (caller).
        unsafe { core::slice::from_raw_parts(message_parts, count) }
    };
    let mut message = Vec::new();
    for &part in parts {
        // SAFETY: each part is null or a readable C string (caller).
        message.extend_from_slice(unsafe { c_str_or(part, b"") });
    }
    // SAFETY: the caller's promise.
    let kind = unsafe { c_str_or(kind, b"RuntimeError") };
    raise_with_backtrace::<R>(kind, &message);
}

/// `TVMFFIErrorCreate`: a new error object from kind, message and backtrace.
///
/// # Safety
///
/// Each byte array is null or valid; `out` is null or writable.
pub unsafe fn create<R: Runtime>(
    kind: *const TVMFFIByteArray,
    message: *const TVMFFIByteArray,
    backtrace: *const TVMFFIByteArray,
    out_err: *mut TVMFFIObjectHandle,
) -> c_int {
    // SAFETY: the caller's promises.
    unsafe {
        create_with_cause_and_extra_context::<R>(
            kind,
            message,
            backtrace,
            core::ptr::null_mut(),
            core::ptr::null_mut(),
            out_err,
        )
    }
}

/// `TVMFFIErrorCreateWithCauseAndExtraContext`: as `TVMFFIErrorCreate`, with a cause (an
/// error object, or null) and an extra context object (or null), both borrowed: the new
/// error takes its own references. A cause that is not an error raises a `TypeError`.
///
/// # Safety
///
/// As `TVMFFIErrorCreate`; `cause_chain` and `extra_context` are null or live objects.
pub unsafe fn create_with_cause_and_extra_context<R: Runtime>(
    kind: *const TVMFFIByteArray,
    message: *const TVMFFIByteArray,
    backtrace: *const TVMFFIByteArray,
    cause_chain: TVMFFIObjectHandle,
    extra_context: TVMFFIObjectHandle,
    out_err: *mut TVMFFIObjectHandle,
) -> c_int {
    guard::<R>(|| {
        const FUNC: &str = "TVMFFIErrorCreate";
        let out_err = out(out_err, FUNC, "out")?;
        // SAFETY: the caller's promises.
        let (kind, message, backtrace) = unsafe {
            (
                arg_bytes(kind, FUNC, "kind")?,
                arg_bytes(message, FUNC, "message")?,
                arg_bytes(backtrace, FUNC, "backtrace")?,
            )
        };
        // SAFETY: live objects or null (caller); new references are taken.
        let (cause, extra) = unsafe {
            (
                ObjectRef::<ObjectHeader>::from_raw_borrowed(cause_chain.cast::<TVMFFIObject>()),
                ObjectRef::<ObjectHeader>::from_raw_borrowed(extra_context.cast::<TVMFFIObject>()),
            )
        };
        let cause = match cause.map(|c| c.downcast::<ErrorObj>()) {
            None => None,
            Some(Ok(c)) => Some(Error::from_object(c)),
            Some(Err(other)) => {
                return Err(Error::type_error(alloc::format!(
                    "{FUNC}: cause_chain of type index {} is not an ffi.Error",
                    other.type_index().0
                )));
            }
        };
        let error = Error::from_parts(kind, message, backtrace, cause, extra);
        // SAFETY: writable (caller); the strong reference goes to the caller.
        unsafe { out_err.write(error.into_object().into_raw().cast()) };
        Ok(())
    })
}

/// `TVMFFIBacktrace`: the current backtrace (see [`Runtime::backtrace`]) as a byte array
/// owned by the calling thread's state, valid until its next call. With both `filename` and
/// `func` given, `  File "<filename>", line <lineno>, in <func>` is the first line.
///
/// # Safety
///
/// `filename` and `func` are each null or a readable NUL-terminated string.
pub unsafe fn backtrace<R: Runtime>(
    filename: *const c_char,
    lineno: c_int,
    func: *const c_char,
    cross_ffi_boundary: c_int,
) -> *const TVMFFIByteArray {
    // SAFETY: the caller's promises.
    let (file, function) = unsafe { (c_str_or(filename, b""), c_str_or(func, b"")) };
    let (file, function) = (String::from_utf8_lossy(file), String::from_utf8_lossy(function));
    let location = (!filename.is_null() && !func.is_null()).then(|| Location {
        file: &file,
        line: lineno,
        function: &function,
    });
    let text = R::backtrace(location, cross_ffi_boundary != 0);
    R::with_local(|local| local.keep_backtrace(text.into_bytes()))
        .unwrap_or(&raw const EMPTY_BACKTRACE.0)
}

/// What `TVMFFIBacktrace` returns on a thread whose state is gone.
struct EmptyBacktrace(TVMFFIByteArray);
// SAFETY: an immutable byte array over a `'static` empty string.
unsafe impl Sync for EmptyBacktrace {}
static EMPTY_BACKTRACE: EmptyBacktrace =
    EmptyBacktrace(TVMFFIByteArray { data: c"".as_ptr(), size: 0 });
