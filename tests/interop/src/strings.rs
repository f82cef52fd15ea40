//! Strings, bytes, shapes and big integers: built here and read by the reference's
//! `tvm::ffi::String`, `Bytes`, `Shape` and `BigInt`, and the reverse.
//!
//! Builders write an owned value into `*out` (the caller releases it) and return 0, or a
//! negative code. Readers borrow a value and return 1 (as expected), 0 (different), or a
//! negative code when the value does not convert.

use core::ffi::{CStr, c_char};

use tvmffi_alloc::shape::ShapeError;
use tvmffi_alloc::{BigInt, Bytes, Shape, String, any_view_to_owned};
use tvmffi_core::sys::TVMFFIAny;
use tvmffi_core::{Any, AnyView, FromAnyView};

/// The bytes of a C buffer.
///
/// # Safety
///
/// `data` is readable for `len` bytes (or `len` is 0).
unsafe fn bytes<'a>(data: *const c_char, len: usize) -> &'a [u8] {
    if len == 0 {
        return &[];
    }
    // SAFETY: the caller's promise.
    unsafe { core::slice::from_raw_parts(data.cast::<u8>(), len) }
}

/// # Safety
///
/// `value` points to a valid value that outlives the returned view.
unsafe fn view<'a>(value: *const TVMFFIAny) -> AnyView<'a> {
    // SAFETY: the caller's promise.
    unsafe { AnyView::from_ptr(value) }
}

/// # Safety
///
/// `out` is writable.
unsafe fn put(out: *mut TVMFFIAny, value: impl Into<Any>) -> i32 {
    // SAFETY: the caller's promise; ownership moves to the caller.
    unsafe { out.write(value.into().into_raw()) };
    0
}

/// A [`String`] of the `len` bytes at `data`; -1 when they are not UTF-8.
///
/// # Safety
///
/// `data` is readable for `len` bytes, `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_strings_new_str(
    data: *const c_char,
    len: usize,
    out: *mut TVMFFIAny,
) -> i32 {
    // SAFETY: the caller's promise.
    match String::from_utf8(unsafe { bytes(data, len) }) {
        // SAFETY: the caller's promise.
        Ok(s) => unsafe { put(out, s) },
        Err(_) => -1,
    }
}

/// [`Bytes`] of the `len` bytes at `data`.
///
/// # Safety
///
/// `data` is readable for `len` bytes, `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_strings_new_bytes(
    data: *const c_char,
    len: usize,
    out: *mut TVMFFIAny,
) -> i32 {
    // SAFETY: the caller's promise.
    unsafe { put(out, Bytes::from(bytes(data, len))) }
}

/// Whether `value` reads as a [`String`] holding exactly the `len` bytes at `data`; -1 for a
/// kind that is not a string, -2 for text that is not UTF-8.
///
/// # Safety
///
/// `value` is a valid value; `data` is readable for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_strings_str_equals(
    value: *const TVMFFIAny,
    data: *const c_char,
    len: usize,
) -> i32 {
    // SAFETY: the caller's promise.
    match String::from_any_view(unsafe { view(value) }) {
        // SAFETY: the caller's promise.
        Ok(s) => i32::from(s.as_bytes() == unsafe { bytes(data, len) }),
        Err(e) if e.kind() == tvmffi_core::error::ConversionErrorKind::InvalidUtf8 => -2,
        Err(_) => -1,
    }
}

/// Whether `value` reads as [`Bytes`] holding exactly the `len` bytes at `data`; -1 when it
/// does not convert.
///
/// # Safety
///
/// `value` is a valid value; `data` is readable for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_strings_bytes_equals(
    value: *const TVMFFIAny,
    data: *const c_char,
    len: usize,
) -> i32 {
    // SAFETY: the caller's promise.
    match Bytes::from_any_view(unsafe { view(value) }) {
        // SAFETY: the caller's promise.
        Ok(b) => i32::from(b.as_bytes() == unsafe { bytes(data, len) }),
        Err(_) => -1,
    }
}

/// [`any_view_to_owned`] of a borrowed value; -1 when it fails.
///
/// # Safety
///
/// `value` is a valid view, `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_strings_view_to_owned(
    value: *const TVMFFIAny,
    out: *mut TVMFFIAny,
) -> i32 {
    // SAFETY: the caller's promise.
    match any_view_to_owned(unsafe { view(value) }) {
        // SAFETY: the caller's promise.
        Ok(any) => unsafe { put(out, any) },
        Err(_) => -1,
    }
}

/// A [`Shape`] of the `n` extents at `dims`.
///
/// # Safety
///
/// `dims` is readable for `n` extents, `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_strings_shape_new(
    dims: *const i64,
    n: usize,
    out: *mut TVMFFIAny,
) -> i32 {
    let dims = if n == 0 {
        &[][..]
    } else {
        // SAFETY: the caller's promise.
        unsafe { core::slice::from_raw_parts(dims, n) }
    };
    // SAFETY: the caller's promise.
    unsafe { put(out, Shape::new(dims)) }
}

/// Whether `value` reads as a [`Shape`] with exactly the `n` extents at `dims`; -1 when it
/// does not convert.
///
/// # Safety
///
/// `value` is a valid value; `dims` is readable for `n` extents.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_strings_shape_equals(
    value: *const TVMFFIAny,
    dims: *const i64,
    n: usize,
) -> i32 {
    // SAFETY: the caller's promise.
    let Ok(shape) = Shape::from_any_view(unsafe { view(value) }) else {
        return -1;
    };
    let expect = if n == 0 {
        &[][..]
    } else {
        // SAFETY: the caller's promise.
        unsafe { core::slice::from_raw_parts(dims, n) }
    };
    i32::from(shape.as_slice() == expect)
}

/// [`Shape::product`] of `value` into `*out`; -1 when it is not a shape, -2 for a negative
/// extent, -3 for overflow.
///
/// # Safety
///
/// `value` is a valid value, `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_strings_shape_product(value: *const TVMFFIAny, out: *mut i64) -> i32 {
    // SAFETY: the caller's promise.
    let Ok(shape) = Shape::from_any_view(unsafe { view(value) }) else {
        return -1;
    };
    match shape.product() {
        Ok(p) => {
            // SAFETY: the caller's promise.
            unsafe { out.write(p) };
            0
        }
        Err(ShapeError::NegativeExtent { .. }) => -2,
        Err(_) => -3,
    }
}

/// A [`BigInt`] parsed from decimal text; -1 when the text is not a decimal integer.
///
/// # Safety
///
/// `text` is a NUL-terminated string, `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_strings_bigint_from_decimal(
    text: *const c_char,
    out: *mut TVMFFIAny,
) -> i32 {
    // SAFETY: the caller's promise.
    let text = unsafe { CStr::from_ptr(text) };
    match text.to_str().ok().and_then(|t| t.parse::<BigInt>().ok()) {
        // SAFETY: the caller's promise.
        Some(v) => unsafe { put(out, v) },
        None => -1,
    }
}

/// The decimal text of `value` as a [`BigInt`], NUL-terminated into `buf`; its length, -1
/// when it does not convert, -2 when `buf` is too small.
///
/// # Safety
///
/// `value` is a valid value; `buf` is writable for `cap` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_strings_bigint_to_decimal(
    value: *const TVMFFIAny,
    buf: *mut c_char,
    cap: usize,
) -> i64 {
    // SAFETY: the caller's promise.
    let Ok(v) = BigInt::from_any_view(unsafe { view(value) }) else {
        return -1;
    };
    let text = v.to_string();
    if text.len() >= cap {
        return -2;
    }
    // SAFETY: `buf` has room for the text and its NUL (checked above).
    unsafe {
        core::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), text.len());
        buf.add(text.len()).write(0);
    }
    text.len() as i64
}

/// A [`BigInt`] of the byte content `TVMFFIBigIntFromByteArray` takes; -1 for a length that
/// is not whole words.
///
/// # Safety
///
/// `data` is readable for `len` bytes, `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_strings_bigint_from_bytes(
    data: *const c_char,
    len: usize,
    out: *mut TVMFFIAny,
) -> i32 {
    // SAFETY: the caller's promise.
    match BigInt::from_bytes(unsafe { bytes(data, len) }) {
        // SAFETY: the caller's promise.
        Ok(v) => unsafe { put(out, v) },
        Err(_) => -1,
    }
}
