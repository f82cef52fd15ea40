//! Function objects for a library's `__tvm_ffi_<name>` exports, and calls to its metadata
//! and doc getters.

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::String;
use core::ffi::{c_int, c_void};
use core::ptr::{NonNull, null_mut};

use tvmffi_alloc::heap;
use tvmffi_core::call::{FunctionObj, call_raw};
use tvmffi_core::sys::{TVMFFIAny, TVMFFIFunctionCell, TVMFFISafeCallType};
use tvmffi_core::{Object, ObjectRef, Payload, TypeIndex};

use super::Module;
use super::error::{LoadError, LoadErrorKind};
use super::library::Library;

/// A function object: the C `TVMFFIFunctionCell` first, as every reader of a function object
/// expects, then what the entry point needs.
#[repr(C)]
struct LibraryFunction {
    cell: TVMFFIFunctionCell,
    /// The library's `__tvm_ffi_<name>`.
    target: TVMFFISafeCallType,
    /// Keeps the library loaded while the function lives (the reference's lambda captures a
    /// strong reference to the module for the same reason).
    keep_alive: Module,
}

const _: () = assert!(core::mem::offset_of!(LibraryFunction, cell) == 0);

// SAFETY: `LibraryFunction` starts with the `TVMFFIFunctionCell` that every `kTVMFFIFunction`
// object has, so viewing one of these as a plain function object is sound. It claims the
// index only so that `heap::new_object` accepts it; the type is private and never used to
// downcast, so no foreign function object is ever read as a `LibraryFunction`.
unsafe impl Payload for LibraryFunction {
    const TYPE_KEY: &'static str = "ffi.Function";

    fn is_instance(type_index: TypeIndex) -> bool {
        type_index == TypeIndex::FUNCTION
    }
}

/// The `safe_call` of every library function: forward to the export with a null handle, as
/// the reference does (exports never use their handle).
///
/// No Rust code here can panic, so it needs no panic boundary: the return code and any
/// raised error are the export's own.
unsafe extern "C" fn call_library_function(
    handle: *mut c_void,
    args: *const TVMFFIAny,
    num_args: i32,
    result: *mut TVMFFIAny,
) -> c_int {
    // SAFETY: only `wrap` installs this entry point, and only in an `Object<LibraryFunction>`;
    // the convention passes that object as `handle` and keeps it alive for the call.
    let target = unsafe { &*handle.cast::<Object<LibraryFunction>>() }.target;
    // SAFETY: the arguments are the caller's, passed on unchanged under the same convention.
    unsafe { target(null_mut(), args, num_args, result) }
}

/// A function object calling the export at `address`, keeping `module` alive.
///
/// # Safety
///
/// `address` is a function of type `TVMFFISafeCallType` in `module`'s library.
pub(super) unsafe fn wrap(address: NonNull<c_void>, module: Module) -> ObjectRef<FunctionObj> {
    // SAFETY: the caller guarantees the symbol is a safe-call function.
    let target =
        unsafe { core::mem::transmute::<*mut c_void, TVMFFISafeCallType>(address.as_ptr()) };
    let cell = TVMFFIFunctionCell { safe_call: Some(call_library_function), cpp_call: null_mut() };
    let obj =
        heap::new_object(TypeIndex::FUNCTION, LibraryFunction { cell, target, keep_alive: module });
    // SAFETY: the object is a live function object whose payload starts with its
    // `TVMFFIFunctionCell` (asserted above), and `into_raw` hands over its reference.
    unsafe { ObjectRef::from_raw(obj.into_raw()) }.expect("a new object is not null")
}

/// Call the getter `symbol` (`__tvm_ffi__metadata_<name>` or `__tvm_ffi__doc_<name>`) of
/// `lib`, if it has one, and return its string.
pub(super) fn call_string_getter(lib: &Library, symbol: &str) -> Result<Option<String>, LoadError> {
    let Some(address) = lib.symbol(symbol) else { return Ok(None) };
    // SAFETY: by the convention of these names, the symbol is a safe-call function.
    let getter =
        unsafe { core::mem::transmute::<*mut c_void, TVMFFISafeCallType>(address.as_ptr()) };
    // SAFETY: getters are called with a null handle and no arguments, as the reference does.
    let value = unsafe { call_raw(getter, null_mut(), &[]) }.map_err(|e| {
        let detail = tvmffi_alloc::Error::from(e).message().into_owned();
        LoadError::new(LoadErrorKind::Getter, format!("{symbol} failed: {detail}"))
    })?;
    let text = value.as_str().map_err(|e| {
        LoadError::new(LoadErrorKind::Getter, format!("{symbol} did not return a string: {e}"))
    })?;
    Ok(Some(text.to_owned()))
}
