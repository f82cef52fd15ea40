//! Function objects, packed calls, owned copies of values, and the global registry.

use alloc::boxed::Box;
use alloc::format;
use core::ffi::{c_int, c_void};

use tvmffi_core::sys::{
    TVMFFIAny, TVMFFIByteArray, TVMFFIMethodInfo, TVMFFIObject, TVMFFIObjectHandle,
    TVMFFISafeCallType,
};
use tvmffi_core::{AnyView, FunctionObj, ObjectHeader, ObjectRef, TypeIndex};

use super::{Runtime, arg, arg_bytes, guard, null, out, ready};
use crate::error::Error;
use crate::function::Function;
use crate::runtime::{GlobalEntry, read_globals, write_globals};

/// `TVMFFIFunctionCreate`: a function object over `safe_call` with the resource `self_`
/// and its `deleter` (see [`Function::from_extern_c`]).
///
/// # Safety
///
/// As [`Function::from_extern_c`]; `out` is null or writable.
#[inline]
pub unsafe fn create<R: Runtime>(
    self_: *mut c_void,
    safe_call: Option<TVMFFISafeCallType>,
    deleter: Option<unsafe extern "C" fn(self_: *mut c_void)>,
    out_fn: *mut TVMFFIObjectHandle,
) -> c_int {
    // Valid arguments cannot fail (allocation failure aborts): no guard needed.
    match safe_call {
        Some(safe_call) if !out_fn.is_null() => {
            // SAFETY: the caller's promise.
            let f = unsafe { Function::from_extern_c(self_, safe_call, deleter) };
            // SAFETY: writable (caller); the strong reference goes to the caller.
            unsafe { out_fn.write(f.into_object().into_raw().cast()) };
            0
        }
        _ => create_refused::<R>(safe_call.is_none(), out_fn.is_null()),
    }
}

/// Why `TVMFFIFunctionCreate` refused its arguments, raised; `extern "C"` (it never
/// unwinds), so the export reaches it with a tail jump.
#[cold]
#[inline(never)]
extern "C" fn create_refused<R: Runtime>(null_safe_call: bool, null_out: bool) -> c_int {
    const FUNC: &str = "TVMFFIFunctionCreate";
    guard::<R>(|| {
        if null_out {
            return Err(null(FUNC, "out"));
        }
        debug_assert!(null_safe_call);
        Err(null(FUNC, "safe_call"))
    })
}

/// `TVMFFIAnyViewToOwnedAny`: an owned copy of a view (see [`any_view_to_owned`](crate::any_view_to_owned)):
/// C strings and byte arrays become string and bytes objects.
///
/// # Safety
///
/// `any_view` is null or a valid view; `out` is null or writable.
pub unsafe fn any_view_to_owned<R: Runtime>(
    any_view: *const TVMFFIAny,
    out_any: *mut TVMFFIAny,
) -> c_int {
    guard::<R>(|| {
        const FUNC: &str = "TVMFFIAnyViewToOwnedAny";
        let out_any = out(out_any, FUNC, "out")?;
        // SAFETY: a valid view (caller).
        let view = unsafe { AnyView::from_raw(*arg(any_view, FUNC, "any_view")?) };
        let owned = crate::string::any_view_to_owned(view)?;
        // SAFETY: writable (caller); ownership goes to the caller.
        unsafe { out_any.write(owned.into_raw()) };
        Ok(())
    })
}

/// `TVMFFIFunctionCall`: call a function object with the packed convention.
///
/// # Safety
///
/// `func` is null or a live object; `args` holds `num_args` valid values; `result` is null
/// or the caller's writable result slot holding no object.
pub unsafe fn call<R: Runtime>(
    func: TVMFFIObjectHandle,
    args: *mut TVMFFIAny,
    num_args: i32,
    result: *mut TVMFFIAny,
) -> c_int {
    // The fast path is the reference's tail call plus three checks; everything that
    // builds an error is out of line, so this needs no stack frame (see `bench/`).
    if !func.is_null() && !result.is_null() {
        // SAFETY: a live object (caller).
        let header = unsafe { &*func.cast::<ObjectHeader>() };
        if header.type_index() == TypeIndex::FUNCTION {
            // SAFETY: a function object starts with the header and the function cell.
            if let Some(safe_call) = unsafe { &*func.cast::<FunctionObj>() }.payload().safe_call {
                // SAFETY: the convention, with the object as its own handle; the rest is
                // the caller's.
                return unsafe { safe_call(func, args, num_args, result) };
            }
        }
    }
    // SAFETY: the caller's promise, forwarded.
    unsafe { call_refused::<R>(func, result) }
}

/// Why `TVMFFIFunctionCall` cannot call `func`, raised. `extern "C"` (it never unwinds),
/// so the fast path reaches it with a tail jump and needs no stack frame of its own.
///
/// # Safety
///
/// `func` is null or a live object.
#[cold]
#[inline(never)]
unsafe extern "C" fn call_refused<R: Runtime>(
    func: TVMFFIObjectHandle,
    result: *mut TVMFFIAny,
) -> c_int {
    const FUNC: &str = "TVMFFIFunctionCall";
    guard::<R>(|| {
        // SAFETY: a live object (caller).
        let header = unsafe { arg(func.cast::<ObjectHeader>().cast_const(), FUNC, "func")? };
        if header.type_index() != TypeIndex::FUNCTION {
            return Err(Error::type_error(format!(
                "{FUNC}: object of type index {} is not a function",
                header.type_index().0
            )));
        }
        out(result, FUNC, "result")?;
        Err(Error::value_error(format!("{FUNC}: the function has no safe_call")))
    })
}

/// A function object handle as a `Function`, taking a new reference.
///
/// # Safety
///
/// `f` is null or a live object.
unsafe fn borrow_function(f: TVMFFIObjectHandle, func: &str) -> Result<Function, Error> {
    // SAFETY: a live object (caller).
    let obj = unsafe { ObjectRef::<ObjectHeader>::from_raw_borrowed(f.cast::<TVMFFIObject>()) }
        .ok_or_else(|| null(func, "f"))?;
    obj.downcast::<FunctionObj>().map(Function::from_object).map_err(|o| {
        Error::type_error(format!(
            "{func}: object of type index {} is not a function",
            o.type_index().0
        ))
    })
}

/// `TVMFFIFunctionSetGlobal`: register `f` as `name`. A taken name raises a `RuntimeError`
/// unless `allow_override` is non-zero.
///
/// # Safety
///
/// `name` is null or a valid byte array; `f` is null or a live object.
pub unsafe fn set_global<R: Runtime>(
    name: *const TVMFFIByteArray,
    f: TVMFFIObjectHandle,
    allow_override: c_int,
) -> c_int {
    guard::<R>(|| {
        ready::<R>();
        const FUNC: &str = "TVMFFIFunctionSetGlobal";
        // SAFETY: the caller's promises.
        let (name, f) = unsafe { (arg_bytes(name, FUNC, "name")?, borrow_function(f, FUNC)?) };
        let old = write_globals(|g| g.set(name, f, allow_override != 0))?;
        drop(old); // after the lock: the last reference may run foreign code
        Ok(())
    })
}

/// `TVMFFIFunctionSetGlobalFromMethodInfo`: register `method_info.method` (a function
/// object) under `method_info.name`, keeping its doc, metadata and flags.
///
/// # Safety
///
/// `method_info` is null or valid: readable byte arrays, a valid view as `method`.
pub unsafe fn set_global_from_method_info<R: Runtime>(
    method_info: *const TVMFFIMethodInfo,
    allow_override: c_int,
) -> c_int {
    guard::<R>(|| {
        ready::<R>();
        const FUNC: &str = "TVMFFIFunctionSetGlobalFromMethodInfo";
        // SAFETY: the caller's promises.
        let (info, name, doc, metadata) = unsafe {
            let info = arg(method_info, FUNC, "method_info")?;
            (
                info,
                arg_bytes(&info.name, FUNC, "name")?,
                arg_bytes(&info.doc, FUNC, "doc")?,
                arg_bytes(&info.metadata, FUNC, "metadata")?,
            )
        };
        // SAFETY: a valid view (caller).
        let function: Function = unsafe { AnyView::from_raw(info.method) }.get()?;
        let entry = GlobalEntry {
            function,
            doc: Box::from(doc),
            metadata: Box::from(metadata),
            flags: info.flags,
        };
        let old = write_globals(|g| g.set_entry(name, entry, allow_override != 0))?;
        drop(old);
        Ok(())
    })
}

/// `TVMFFIFunctionGetGlobal`: a new reference to the function registered as `name`, or
/// null in `out` when there is none.
///
/// # Safety
///
/// `name` is null or a valid byte array; `out` is null or writable.
pub unsafe fn get_global<R: Runtime>(
    name: *const TVMFFIByteArray,
    out_fn: *mut TVMFFIObjectHandle,
) -> c_int {
    guard::<R>(|| {
        ready::<R>();
        const FUNC: &str = "TVMFFIFunctionGetGlobal";
        let out_fn = out(out_fn, FUNC, "out")?;
        // SAFETY: the caller's promise.
        let name = unsafe { arg_bytes(name, FUNC, "name")? };
        let found = read_globals(|g| g.get(name).map(|e| e.function.clone()));
        let handle = found.map_or(core::ptr::null_mut(), |f| f.into_object().into_raw().cast());
        // SAFETY: writable (caller); the strong reference, if any, goes to the caller.
        unsafe { out_fn.write(handle) };
        Ok(())
    })
}
