//! Strings, bytes, big integers and data-type strings.

use alloc::format;
use alloc::string::ToString;
use core::ffi::c_int;

use tvmffi_core::sys::{DLDataType, TVMFFIAny, TVMFFIByteArray};
use tvmffi_core::{Any, AnyView, DataType, TypeIndex};

use super::{Runtime, arg, arg_bytes, guard, out, raise};
use crate::big_int::BigInt;
use crate::error::Error;
use crate::function::Function;
use crate::runtime::read_globals;
use crate::string::{bytes_any_from_bytes, str_any_from_bytes, text_object};

/// `TVMFFIStringFromByteArray`: a string (inline up to 7 bytes, else an object) holding a
/// copy of the bytes, unchecked as in the reference.
///
/// # Safety
///
/// `input` is null or a valid byte array; `out` is null or writable.
#[inline]
pub unsafe fn string_from_byte_array<R: Runtime>(
    input: *const TVMFFIByteArray,
    out_any: *mut TVMFFIAny,
) -> c_int {
    // SAFETY: the caller's promises, forwarded.
    if unsafe { write_small(input, out_any, TypeIndex::SMALL_STR) } {
        return 0;
    }
    // SAFETY: as above.
    unsafe { string_object::<R>(input, out_any) }
}

/// `TVMFFIStringFromByteArray` for all but small content: an object, or the error.
/// `extern "C"` (it never unwinds), so the export reaches it with a tail jump.
///
/// # Safety
///
/// As [`string_from_byte_array`].
#[inline(never)]
unsafe extern "C" fn string_object<R: Runtime>(
    input: *const TVMFFIByteArray,
    out_any: *mut TVMFFIAny,
) -> c_int {
    // SAFETY: the caller's promises, forwarded.
    if unsafe { write_object::<true>(input, out_any) } {
        return 0;
    }
    guard::<R>(|| {
        const FUNC: &str = "TVMFFIStringFromByteArray";
        let out_any = out(out_any, FUNC, "out")?;
        // SAFETY: the caller's promise.
        let bytes = unsafe { arg_bytes(input, FUNC, "input")? };
        let any = str_any_from_bytes(bytes).map_err(|e| Error::runtime_error(e.to_string()))?;
        // SAFETY: writable (caller); ownership goes to the caller.
        unsafe { out_any.write(any.into_raw()) };
        Ok(())
    })
}

/// The fast path of the two functions above: content of at most 7 bytes from a valid
/// array into a valid slot becomes an inline value (`kind`, `SMALL_STR` or `SMALL_BYTES`),
/// straight-line, with no frame for errors. False for anything else, which the full path
/// handles (and reports).
///
/// # Safety
///
/// `input` is null or a valid byte array; `out_any` is null or writable.
#[inline]
unsafe fn write_small(
    input: *const TVMFFIByteArray,
    out_any: *mut TVMFFIAny,
    kind: TypeIndex,
) -> bool {
    // SAFETY: a non-null `input` is a valid byte array (caller).
    let Some(arr) = (unsafe { input.as_ref() }) else { return false };
    if out_any.is_null() || arr.data.is_null() || arr.size > Any::MAX_SMALL_LEN {
        return false;
    }
    // SAFETY: non-null and readable for `size` (at most 7) bytes (caller).
    let bytes = unsafe { core::slice::from_raw_parts(arr.data.cast::<u8>(), arr.size) };
    let Some(small) = Any::small_bytes(bytes) else { return false };
    let mut raw = small.into_raw();
    raw.type_index = kind.0;
    // SAFETY: writable (caller); a small value owns nothing.
    unsafe { out_any.write(raw) };
    true
}

/// The object path of the two functions above for valid arguments, which cannot fail
/// (an allocation failure aborts): no guard is needed. False for anything else, which the
/// guarded path reports.
///
/// # Safety
///
/// As [`write_small`].
#[inline]
unsafe fn write_object<const STR: bool>(
    input: *const TVMFFIByteArray,
    out_any: *mut TVMFFIAny,
) -> bool {
    // SAFETY: a non-null `input` is a valid byte array (caller).
    let Some(arr) = (unsafe { input.as_ref() }) else { return false };
    if out_any.is_null() || arr.data.is_null() {
        return false;
    }
    // SAFETY: non-null and readable for `size` bytes (caller); `text_object` checks the
    // size before anything reads them.
    let Some(any) = (unsafe { text_object::<STR>(arr.data.cast(), arr.size) }) else {
        return false;
    };
    // SAFETY: writable (caller); ownership goes to the caller.
    unsafe { out_any.write(any.into_raw()) };
    true
}

/// `TVMFFIBytesFromByteArray`: as `TVMFFIStringFromByteArray`, for bytes.
///
/// # Safety
///
/// As [`string_from_byte_array`].
#[inline]
pub unsafe fn bytes_from_byte_array<R: Runtime>(
    input: *const TVMFFIByteArray,
    out_any: *mut TVMFFIAny,
) -> c_int {
    // SAFETY: the caller's promises, forwarded.
    if unsafe { write_small(input, out_any, TypeIndex::SMALL_BYTES) } {
        return 0;
    }
    // SAFETY: as above.
    unsafe { bytes_object::<R>(input, out_any) }
}

/// `TVMFFIBytesFromByteArray` for all but small content: an object, or the error.
/// `extern "C"` (it never unwinds), so the export reaches it with a tail jump.
///
/// # Safety
///
/// As [`bytes_from_byte_array`].
#[inline(never)]
unsafe extern "C" fn bytes_object<R: Runtime>(
    input: *const TVMFFIByteArray,
    out_any: *mut TVMFFIAny,
) -> c_int {
    // SAFETY: the caller's promises, forwarded.
    if unsafe { write_object::<false>(input, out_any) } {
        return 0;
    }
    guard::<R>(|| {
        const FUNC: &str = "TVMFFIBytesFromByteArray";
        let out_any = out(out_any, FUNC, "out")?;
        // SAFETY: the caller's promise.
        let bytes = unsafe { arg_bytes(input, FUNC, "input")? };
        let any = bytes_any_from_bytes(bytes).map_err(|e| Error::runtime_error(e.to_string()))?;
        // SAFETY: writable (caller); ownership goes to the caller.
        unsafe { out_any.write(any.into_raw()) };
        Ok(())
    })
}

/// `TVMFFIBigIntFromByteArray`: an integer from whole native-order 64-bit words, least
/// significant first; an `int` when it fits, else a big-integer object. A length that is
/// not a multiple of 8 raises a `ValueError`.
///
/// # Safety
///
/// As [`string_from_byte_array`].
pub unsafe fn big_int_from_byte_array<R: Runtime>(
    input: *const TVMFFIByteArray,
    out_any: *mut TVMFFIAny,
) -> c_int {
    guard::<R>(|| {
        const FUNC: &str = "TVMFFIBigIntFromByteArray";
        let out_any = out(out_any, FUNC, "out")?;
        // SAFETY: the caller's promise.
        let bytes = unsafe { arg_bytes(input, FUNC, "input")? };
        let value = BigInt::from_bytes(bytes).map_err(|e| Error::value_error(e.to_string()))?;
        // SAFETY: writable (caller); ownership goes to the caller.
        unsafe { out_any.write(value.into_any().into_raw()) };
        Ok(())
    })
}

/// `TVMFFIBigIntGetContentByteArray`: the words of an `int` (borrowed from `*value`
/// itself) or of a big-integer object (borrowed from the object). Anything else raises a
/// `TypeError` and returns an empty array (the reference does not check).
///
/// # Safety
///
/// `value` is null or a valid value that outlives the returned view.
pub unsafe fn big_int_content<R: Runtime>(value: *const TVMFFIAny) -> TVMFFIByteArray {
    const EMPTY: TVMFFIByteArray = TVMFFIByteArray { data: core::ptr::null(), size: 0 };
    // SAFETY: the caller's promise.
    let Some(raw) = (unsafe { value.as_ref() }) else {
        raise::<R>(super::null("TVMFFIBigIntGetContentByteArray", "value"));
        return EMPTY;
    };
    // SAFETY: a valid value (caller).
    let view = unsafe { AnyView::from_raw(*raw) };
    match view.type_index() {
        TypeIndex::INT => TVMFFIByteArray {
            // The union's 64-bit integer, inside the caller's value.
            data: (&raw const raw.value.v_int64).cast(),
            size: 8,
        },
        TypeIndex::BIG_INT => match view.get::<BigInt>() {
            // The words live in the object, which the caller's value keeps alive.
            Ok(big) => {
                let words = big.words();
                TVMFFIByteArray { data: words.as_ptr().cast(), size: core::mem::size_of_val(words) }
            }
            Err(e) => {
                raise::<R>(e.into());
                EMPTY
            }
        },
        other => {
            raise::<R>(Error::type_error(format!(
                "TVMFFIBigIntGetContentByteArray: expected an int or ffi.BigInt, got type index {}",
                other.0
            )));
            EMPTY
        }
    }
}

/// `TVMFFIDataTypeFromString`: parse the reference's spelling of a data type
/// ([`DataType::parse`]); `custom[<name>]` asks the global function
/// `dtype.get_custom_type_code`. Bad strings raise a `ValueError`.
///
/// # Safety
///
/// `str` is null or a valid byte array; `out` is null or writable.
pub unsafe fn data_type_from_string<R: Runtime>(
    str: *const TVMFFIByteArray,
    out_dtype: *mut DLDataType,
) -> c_int {
    guard::<R>(|| {
        const FUNC: &str = "TVMFFIDataTypeFromString";
        let out_dtype = out(out_dtype, FUNC, "out")?;
        // SAFETY: the caller's promise.
        let bytes = unsafe { arg_bytes(str, FUNC, "str")? };
        let text = core::str::from_utf8(bytes)
            .map_err(|_| Error::value_error("unknown dtype: the string is not UTF-8"))?;
        let dtype = DataType::parse_with_custom(text, custom_code)
            .map_err(|e| Error::value_error(e.to_string()))?;
        // SAFETY: writable (caller).
        unsafe { out_dtype.write(dtype.as_raw()) };
        Ok(())
    })
}

/// The code of a custom data type, from the global `dtype.get_custom_type_code`.
fn custom_code(name: &str) -> Option<u8> {
    let f = global("dtype.get_custom_type_code")?;
    let name = crate::String::try_new(name).ok()?;
    let code = f.call(&[name.view()]).ok()?;
    code.get::<u8>().ok()
}

/// `TVMFFIDataTypeToString`: the reference's spelling of a data type, as a string value.
/// Custom codes are named by the global `dtype.get_custom_type_name` when registered; an
/// unknown built-in code raises a `ValueError`, as in the reference.
///
/// # Safety
///
/// `dtype` is null or readable; `out` is null or writable.
pub unsafe fn data_type_to_string<R: Runtime>(
    dtype: *const DLDataType,
    out_any: *mut TVMFFIAny,
) -> c_int {
    guard::<R>(|| {
        const FUNC: &str = "TVMFFIDataTypeToString";
        let out_any = out(out_any, FUNC, "out")?;
        // SAFETY: the caller's promise.
        let dtype = DataType::from_raw(unsafe { *arg(dtype, FUNC, "dtype")? });
        let text = spell(dtype)?;
        let any =
            str_any_from_bytes(text.as_bytes()).map_err(|e| Error::runtime_error(e.to_string()))?;
        // SAFETY: writable (caller); ownership goes to the caller.
        unsafe { out_any.write(any.into_raw()) };
        Ok(())
    })
}

/// `Display`, with custom names from the registry and unknown codes refused.
fn spell(dtype: DataType) -> Result<alloc::string::String, Error> {
    let code = dtype.code();
    let plain = dtype.to_string();
    if code.0 >= tvmffi_core::DataTypeCode::CUSTOM_BEGIN.0 {
        let name = global("dtype.get_custom_type_name")
            .map(|f| f.call(&[AnyView::from(i64::from(code.0))]))
            .transpose()?
            .map(|n| n.get::<crate::String>().map(|s| s.as_str().to_string()))
            .transpose()?;
        if let Some(name) = name {
            return Ok(plain.replacen(
                &format!("custom[{}]", code.0),
                &format!("custom[{name}]"),
                1,
            ));
        }
    } else if code.as_str().is_none() && !plain.is_empty() {
        return Err(Error::value_error(format!(
            "DLDataType contains unknown type_code={}",
            code.0
        )));
    }
    Ok(plain)
}

/// The global function `name`, if registered.
fn global(name: &str) -> Option<Function> {
    read_globals(|g| g.get(name.as_bytes()).map(|e| e.function.clone()))
}
