//! The packed calling convention, from both sides.
//!
//! Every function in TVM-FFI has one C signature, [`TVMFFISafeCallType`]:
//! `int safe_call(void* handle, const TVMFFIAny* args, int32_t num_args, TVMFFIAny* result)`.
//! Arguments are borrowed views; `result` starts as `None` and, on success, receives an
//! owned value; a non-zero return code means an error was raised into the runtime's
//! thread-local slot (fetched with `TVMFFIErrorMoveFromRaised` by the std tier).
//!
//! Caller side: [`call_raw`] calls an entry point, [`call`] a function object.
//! Callee side: [`args_from_raw`] and [`write_result`] turn the raw C arguments into Rust
//! values and back, rejecting null and negative argument arrays instead of trusting them.

use core::ffi::c_void;
use core::fmt;

use crate::object::{Object, ObjectRef};
use crate::sys::{TVMFFIAny, TVMFFIFunctionCell, TVMFFISafeCallType};
use crate::{Any, AnyView};

/// A function object: the header, then `TVMFFIFunctionCell`.
pub type FunctionObj = Object<TVMFFIFunctionCell>;

/// Why a packed call did not produce a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum CallError {
    /// The callee returned this non-zero code and raised an error into the runtime's slot.
    Raised {
        /// The return code (the convention uses -1).
        code: i32,
    },
    /// More arguments than an `int32_t` can count.
    TooManyArguments {
        /// How many were passed.
        count: usize,
    },
    /// The function object has a null `safe_call`.
    NullFunction,
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Raised { code } => write!(f, "the callee raised an error (return code {code})"),
            Self::TooManyArguments { count } => {
                write!(f, "{count} arguments do not fit the int32_t argument count")
            }
            Self::NullFunction => f.write_str("the function object has no safe_call entry point"),
        }
    }
}

impl core::error::Error for CallError {}

/// Call a `safe_call` entry point with `args`, returning the owned result.
///
/// # Safety
///
/// `safe_call` must follow the packed convention for `handle` (for a function object,
/// `handle` is the object itself and must stay alive for the call).
#[inline]
pub unsafe fn call_raw(
    safe_call: TVMFFISafeCallType,
    handle: *mut c_void,
    args: &[AnyView<'_>],
) -> Result<Any, CallError> {
    let num_args = arg_count(args.len())?;
    let mut result = TVMFFIAny::NONE;
    // SAFETY: `AnyView` is `repr(transparent)` over `TVMFFIAny`, so the slice is a valid array
    // of `num_args` values for the call; `result` is a writable `None`; the caller vouches
    // for `safe_call` and `handle`.
    let code = unsafe { safe_call(handle, args.as_ptr().cast(), num_args, &mut result) };
    // SAFETY: by the convention `result` holds an owned value (still `None` on failure);
    // taking ownership either way releases anything a failing callee left there.
    let result = unsafe { Any::from_raw(result) };
    if code == 0 { Ok(result) } else { Err(CallError::Raised { code }) }
}

/// The `int32_t` argument count for `len` arguments.
#[inline]
fn arg_count(len: usize) -> Result<i32, CallError> {
    i32::try_from(len).map_err(|_| CallError::TooManyArguments { count: len })
}

/// Call a function object with `args`.
///
/// A function object's cell promises a `safe_call` that follows the convention with the
/// object as `handle`; that promise is what the `unsafe extern "C"` type of the entry point
/// documents, and it is upheld by whoever wrote the entry point.
#[inline]
pub fn call(function: &ObjectRef<FunctionObj>, args: &[AnyView<'_>]) -> Result<Any, CallError> {
    let safe_call = function.payload().safe_call.ok_or(CallError::NullFunction)?;
    // SAFETY: the object is alive for the whole call (we hold a strong reference) and is the
    // handle its own entry point expects.
    unsafe { call_raw(safe_call, function.as_raw().cast(), args) }
}

/// Why the raw arguments of a call were rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum BadArguments {
    /// `num_args` was negative.
    NegativeCount(i32),
    /// `args` was null with a positive `num_args`.
    NullArray(i32),
}

impl fmt::Display for BadArguments {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NegativeCount(n) => write!(f, "negative argument count {n}"),
            Self::NullArray(n) => write!(f, "null argument array with {n} arguments"),
        }
    }
}

impl core::error::Error for BadArguments {}

/// The arguments of a `safe_call` as a slice of views, checking what can be checked.
///
/// # Safety
///
/// When `num_args > 0` and `args` is not null, `args` points to `num_args` initialised
/// values that stay valid and unchanged for `'a`.
pub unsafe fn args_from_raw<'a>(
    args: *const TVMFFIAny,
    num_args: i32,
) -> Result<&'a [AnyView<'a>], BadArguments> {
    let len = usize::try_from(num_args).map_err(|_| BadArguments::NegativeCount(num_args))?;
    if len == 0 {
        return Ok(&[]);
    }
    if args.is_null() {
        return Err(BadArguments::NullArray(num_args));
    }
    // SAFETY: non-null, `len` values valid for `'a` (caller), and `AnyView` is
    // `repr(transparent)` over `TVMFFIAny`.
    Ok(unsafe { core::slice::from_raw_parts(args.cast::<AnyView<'a>>(), len) })
}

/// Hand `value` to the caller through a `safe_call`'s `result` pointer.
///
/// # Safety
///
/// `result` is the non-null, writable result slot of the current call, holding a
/// non-object value as the convention requires on entry (it is overwritten, not dropped).
pub unsafe fn write_result(result: *mut TVMFFIAny, value: Any) {
    // SAFETY: the caller guarantees a writable slot; ownership moves to the caller of the
    // packed function.
    unsafe { result.write(value.into_raw()) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argument_counts_beyond_int32_are_rejected() {
        assert_eq!(arg_count(3), Ok(3));
        assert_eq!(arg_count(i32::MAX as usize), Ok(i32::MAX));
        assert_eq!(
            arg_count(i32::MAX as usize + 1),
            Err(CallError::TooManyArguments { count: i32::MAX as usize + 1 })
        );
    }
}
