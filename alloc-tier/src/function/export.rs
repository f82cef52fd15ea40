//! Typed functions as library exports: what `#[tvmffi::export]` and `tvmffi::export!`
//! expand to calls of.
//!
//! A kernel library exports each function as `__tvm_ffi_<name>`, a bare `safe_call` entry
//! point (the reference's `TVM_FFI_DLL_EXPORT_TYPED_FUNC`), beside it
//! `__tvm_ffi__metadata_<name>` returning `{"type_schema": ...}`, and, for a documented
//! function, `__tvm_ffi__doc_<name>` returning the doc string. The macros generate only the
//! per-function part (the argument list, the call); everything else is here, once:
//! [`call_export`] runs a call in the panic boundary, [`ExportArgs`] checks and converts the
//! arguments with the reference's messages, [`write_metadata`] and [`write_doc`] answer the
//! loader.
//!
//! The metadata and doc strings are made by the host's runtime
//! (`TVMFFIStringFromByteArray`), as the reference does, so they do not point into the
//! library's code once returned.

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::ffi::c_int;

use tvmffi_core::call::{args_from_raw, write_result};
use tvmffi_core::sys::{TVMFFIAny, TVMFFIByteArray, api};
use tvmffi_core::{Any, AnyView, FromAnyView, TypeIndex};

use super::typed::{TypeStr, arg, arg_count_error, signature};
use super::{Boundary, c_boundary, check};
use crate::error::Error;

/// What a typed Rust function may return: a value that converts into [`Any`], or a
/// `Result` of one whose error converts into [`Error`] (raised with its kind).
///
/// ```
/// use tvmffi_alloc::error::Error;
/// use tvmffi_alloc::function::TypedReturn;
///
/// assert_eq!(7i64.into_result().unwrap(), 7);
/// let failed: Result<i64, Error> = Err(Error::key_error("no such key"));
/// assert_eq!(failed.into_result().unwrap_err().kind(), "KeyError");
/// ```
pub trait TypedReturn {
    /// The value on success.
    type Value: Into<Any> + TypeStr;

    /// The value, or the error to raise.
    fn into_result(self) -> Result<Self::Value, Error>;
}

impl<T: Into<Any> + TypeStr> TypedReturn for T {
    type Value = T;

    #[inline]
    fn into_result(self) -> Result<T, Error> {
        Ok(self)
    }
}

impl<T: Into<Any> + TypeStr, E: Into<Error>> TypedReturn for Result<T, E> {
    type Value = T;

    #[inline]
    fn into_result(self) -> Result<T, Error> {
        self.map_err(Into::into)
    }
}

/// Run an exported function's call: check the C arguments, run `body` on them, and write
/// its value to `result`, all under the panic policy `B`. 0 on success; -1 with the error
/// raised otherwise.
///
/// # Safety
///
/// The packed convention: `args` holds `num_args` valid values for the call, and `result`
/// is null or the caller's writable result slot.
///
/// Generic over the body (the macros pass `&|args| ...`), so that each export is one
/// function: the checks, the conversions and the call inline into it.
#[doc(hidden)]
#[inline]
pub unsafe fn call_export<B: Boundary>(
    args: *const TVMFFIAny,
    num_args: i32,
    result: *mut TVMFFIAny,
    body: &impl Fn(&[AnyView<'_>]) -> Result<Any, Error>,
) -> c_int {
    c_boundary::<B>(|| {
        check_result_slot(result)?;
        // SAFETY: the caller passes `num_args` values valid for the call (convention).
        let args = unsafe { args_from_raw(args, num_args) }
            .map_err(|e| Error::value_error(format!("{e}")))?;
        let value = body(args)?;
        // SAFETY: the slot is writable and holds no object (checked above).
        unsafe { write_result(result, value) };
        Ok(())
    })
}

/// The result slot must exist and, on entry, hold no object (which writing would leak).
#[inline]
fn check_result_slot(result: *mut TVMFFIAny) -> Result<(), Error> {
    if result.is_null() {
        return Err(Error::value_error("packed call with a null result slot"));
    }
    // SAFETY: non-null, and readable as the caller's slot (convention).
    if TypeIndex(unsafe { (*result).type_index }).is_object() {
        return Err(Error::internal_error(
            "the result slot of a packed call must not hold an object on entry",
        ));
    }
    Ok(())
}

/// The arguments of an export's call, read in order: [`new`](Self::new) checks their
/// count, [`read`](Self::read) converts the next one, each with the reference's `TypeError`
/// message naming the function, its signature, and the expected and actual types.
#[doc(hidden)]
pub struct ExportArgs<'s, 'a> {
    args: &'s [AnyView<'a>],
    index: usize,
    name: &'static str,
    signature: fn() -> String,
}

impl<'s, 'a> ExportArgs<'s, 'a> {
    /// The arguments of `name`, which takes `expected` of them.
    #[inline]
    pub fn new(
        name: &'static str,
        args: &'s [AnyView<'a>],
        expected: usize,
        signature: fn() -> String,
    ) -> Result<Self, Error> {
        if args.len() != expected {
            return Err(arg_count_error(name, signature(), expected, args.len()));
        }
        Ok(Self { args, index: 0, name, signature })
    }

    /// The next argument as a `T`.
    #[inline]
    pub fn read<T: FromAnyView<'a> + TypeStr>(&mut self) -> Result<T, Error> {
        let i = self.index;
        self.index += 1;
        arg(self.args, i, self.name, self.signature)
    }
}

/// The standard library's string, named for the code the export macros generate.
#[doc(hidden)]
pub type RustString = String;

/// The signature of a typed function, `(0: int, 1: float) -> str`.
#[doc(hidden)]
pub fn export_signature(params: &[Cow<'_, str>], ret: &str) -> String {
    signature(params, ret)
}

/// The result of a typed function as the value to hand back.
#[doc(hidden)]
#[inline]
pub fn export_result<R: TypedReturn>(value: R) -> Result<Any, Error> {
    value.into_result().map(Into::into)
}

/// Answer a `__tvm_ffi__metadata_<name>` call: write `{"type_schema": <schema()>}` to
/// `result` as a string made by the host's runtime.
///
/// # Safety
///
/// `result` is null or the caller's writable result slot.
#[doc(hidden)]
pub unsafe fn write_metadata<B: Boundary>(result: *mut TVMFFIAny, schema: fn() -> String) -> c_int {
    c_boundary::<B>(|| {
        check_result_slot(result)?;
        // SAFETY: checked above.
        unsafe { write_runtime_string(result, &super::schema::metadata_json(&schema())) }
    })
}

/// Answer a `__tvm_ffi__doc_<name>` call: write the doc comment `raw_doc` (as
/// [`doc_string`] tidies it) to `result`, as a string made by the host's runtime.
///
/// # Safety
///
/// `result` is null or the caller's writable result slot.
#[doc(hidden)]
pub unsafe fn write_doc<B: Boundary>(result: *mut TVMFFIAny, raw_doc: &str) -> c_int {
    c_boundary::<B>(|| {
        check_result_slot(result)?;
        // SAFETY: checked above.
        unsafe { write_runtime_string(result, &doc_string(raw_doc)) }
    })
}

/// Write `s` to `result` through `TVMFFIStringFromByteArray`.
///
/// # Safety
///
/// `result` is the caller's writable result slot, holding no object.
unsafe fn write_runtime_string(result: *mut TVMFFIAny, s: &str) -> Result<(), Error> {
    let bytes = TVMFFIByteArray { data: s.as_ptr().cast(), size: s.len() };
    // SAFETY: `bytes` describes a live string; `result` is writable (caller) and receives an
    // owned value, as the function's contract says.
    check(unsafe { api::TVMFFIStringFromByteArray(&bytes, result) })
}

/// A doc comment as documentation text: the lines of `#[doc = "..."]` attributes joined
/// with newlines, each stripped of the indentation all non-blank lines share (the space
/// after `///`), with blank lines at either end dropped, as rustdoc reads it.
///
/// ```
/// use tvmffi_alloc::function::doc_string;
///
/// let raw = " Add two integers.\n\n Parameters\n ----------\n a : int\n     First integer\n";
/// assert_eq!(
///     doc_string(raw),
///     "Add two integers.\n\nParameters\n----------\na : int\n    First integer"
/// );
/// ```
pub fn doc_string(raw: &str) -> String {
    let lines: Vec<&str> = raw.lines().collect();
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let body: Vec<&str> = lines
        .iter()
        .map(|l| if l.trim().is_empty() { "" } else { l.get(indent..).unwrap_or(l).trim_end() })
        .collect();
    let start = body.iter().position(|l| !l.is_empty()).unwrap_or(body.len());
    let end = body.iter().rposition(|l| !l.is_empty()).map_or(start, |i| i + 1);
    body[start..end].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_strings_lose_the_comment_indentation_only() {
        assert_eq!(doc_string(""), "");
        assert_eq!(doc_string(" \n  \n"), "");
        assert_eq!(doc_string(" One line."), "One line.");
        assert_eq!(doc_string("\n Title\n\n     code\n Tail  \n\n"), "Title\n\n    code\nTail");
        // Lines indented less than the rest (a `#[doc]` without the space) set the indent.
        assert_eq!(doc_string("no space\n two"), "no space\n two");
        // Tabs count as one column, as in rustdoc's unindent.
        assert_eq!(doc_string("\tA\n\t\tB"), "A\n\tB");
    }

    #[test]
    fn results_and_values_both_return() {
        assert_eq!(export_result(3i32).unwrap().get::<i64>().unwrap(), 3);
        assert!(export_result(()).unwrap().is_none());
        let err = export_result(Err::<i64, _>(Error::index_error("past the end"))).unwrap_err();
        assert_eq!((&*err.kind(), &*err.message()), ("IndexError", "past the end"));
        let conv = export_result(Err::<(), _>(tvmffi_core::ConversionError::mismatch(
            "int",
            TypeIndex::FLOAT,
        )));
        assert_eq!(conv.unwrap_err().kind(), "TypeError");
    }

    // Naming the actual type may ask the runtime about dynamic type indices.
    #[cfg(feature = "runtime")]
    #[test]
    fn argument_checks_use_the_reference_messages() {
        fn sig() -> String {
            export_signature(&[i64::type_str(), f64::type_str()], &bool::return_type_str())
        }
        let args = [AnyView::from(1i64)];
        let err = ExportArgs::new("add", &args, 2, sig).err().unwrap();
        assert_eq!(err.kind(), "TypeError");
        assert_eq!(
            err.message(),
            "Mismatched number of arguments when calling: `add(0: int, 1: float) -> bool`. \
             Expected 2 but got 1 arguments"
        );
        let args = [AnyView::from(1.5f64), AnyView::from(true)];
        let mut reader = ExportArgs::new("add", &args, 2, sig).unwrap();
        let err = reader.read::<i64>().unwrap_err();
        assert_eq!(
            err.message(),
            "Mismatched type on argument #0 when calling: `add(0: int, 1: float) -> bool`. \
             Expected `int` but got `float`"
        );
        assert_eq!(reader.read::<f64>().unwrap(), 1.0);
    }
}
