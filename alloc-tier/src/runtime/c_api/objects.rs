//! Version, object reference counts, opaque objects, and init-once handles.

use core::ffi::{c_int, c_void};
use core::ptr::NonNull;
use core::sync::atomic::{AtomicPtr, Ordering};

use tvmffi_core::sys::{
    TVM_FFI_VERSION_MAJOR, TVM_FFI_VERSION_MINOR, TVM_FFI_VERSION_PATCH, TVMFFIObjectHandle,
    TVMFFIVersion,
};
use tvmffi_core::{ObjectHeader, TypeIndex};

use super::{Runtime, guard, null, out};
use crate::error::Error;
use crate::object_type::OpaqueObject;

/// `TVMFFIGetVersion`: the C API version these functions implement. Null is ignored.
///
/// # Safety
///
/// `out_version` is null or writable.
pub unsafe fn get_version<R: Runtime>(out_version: *mut TVMFFIVersion) {
    if !out_version.is_null() {
        let v = TVMFFIVersion {
            major: TVM_FFI_VERSION_MAJOR,
            minor: TVM_FFI_VERSION_MINOR,
            patch: TVM_FFI_VERSION_PATCH,
        };
        // SAFETY: non-null and writable (caller).
        unsafe { out_version.write(v) };
    }
}

/// `TVMFFIObjectIncRef`: add a strong reference. Null raises a `ValueError`.
///
/// # Safety
///
/// `obj` is null or a live object on which the caller holds a reference.
pub unsafe fn inc_ref<R: Runtime>(obj: TVMFFIObjectHandle) -> c_int {
    // The fast path is one atomic add; errors are built out of line (see `bench/`).
    match NonNull::new(obj.cast::<ObjectHeader>()) {
        // SAFETY: a live object (caller).
        Some(header) if unsafe { header.as_ref() }.try_inc_ref() => 0,
        header => inc_ref_refused::<R>(header.is_none()),
    }
}

/// Why `TVMFFIObjectIncRef` failed, raised. `extern "C"` (it never unwinds), so the fast
/// path reaches it with a tail jump and needs no stack frame of its own.
#[cold]
#[inline(never)]
extern "C" fn inc_ref_refused<R: Runtime>(null_handle: bool) -> c_int {
    guard::<R>(|| {
        Err(if null_handle {
            null("TVMFFIObjectIncRef", "obj")
        } else {
            Error::runtime_error("TVMFFIObjectIncRef: the reference count overflowed")
        })
    })
}

/// `TVMFFIObjectDecRef`: release a strong reference; null does nothing, as in the
/// reference.
///
/// # Safety
///
/// `obj` is null or a live object whose strong reference the caller gives up.
pub unsafe fn dec_ref<R: Runtime>(obj: TVMFFIObjectHandle) -> c_int {
    if let Some(obj) = NonNull::new(obj.cast::<ObjectHeader>()) {
        // SAFETY: the caller owns this strong reference and gives it up.
        unsafe { ObjectHeader::dec_ref(obj) };
    }
    0
}

/// `TVMFFIObjectCreateOpaque`: an object owning a foreign handle. Only
/// `kTVMFFIOpaquePyObject` is supported, as in the reference.
///
/// # Safety
///
/// `out` is null or writable; `deleter` may be called once with `handle` from any thread.
pub unsafe fn create_opaque<R: Runtime>(
    handle: *mut c_void,
    type_index: i32,
    deleter: Option<unsafe extern "C" fn(handle: *mut c_void)>,
    out_obj: *mut TVMFFIObjectHandle,
) -> c_int {
    guard::<R>(|| {
        let out_obj = out(out_obj, "TVMFFIObjectCreateOpaque", "out")?;
        // SAFETY: the caller's promise about the deleter.
        let obj = unsafe { OpaqueObject::new(TypeIndex(type_index), handle, deleter)? };
        // SAFETY: writable (caller); the new strong reference goes to the caller.
        unsafe { out_obj.write(obj.into_object().into_raw().cast()) };
        Ok(())
    })
}

/// Serialises the slow path of `TVMFFIHandleInitOnce` and the swap of
/// `TVMFFIHandleDeinitOnce` (targets without atomic swap have load and store only).
static INIT_LOCK: spin::Mutex<()> = spin::Mutex::new(());

/// `TVMFFIHandleInitOnce`: if `*handle_addr` is null, run `init_func` to fill it, once.
/// A null result raises a `RuntimeError`; `init_func`'s own error code is passed through.
///
/// `init_func` runs under a global spin lock: it must not call this function itself.
///
/// # Safety
///
/// `handle_addr` is null or a pointer-aligned slot that is only accessed through these two
/// functions (or atomically); `init_func` follows its contract.
pub unsafe fn handle_init_once<R: Runtime>(
    handle_addr: *mut *mut c_void,
    init_func: Option<unsafe extern "C" fn(result: *mut *mut c_void) -> c_int>,
) -> c_int {
    const FUNC: &str = "TVMFFIHandleInitOnce";
    if handle_addr.is_null() {
        return guard::<R>(|| Err(null(FUNC, "handle_addr")));
    }
    // SAFETY: a valid, aligned slot accessed atomically by everyone (caller).
    let slot = unsafe { AtomicPtr::from_ptr(handle_addr) };
    if !slot.load(Ordering::Acquire).is_null() {
        return 0;
    }
    let Some(init_func) = init_func else {
        return guard::<R>(|| Err(null(FUNC, "init_func")));
    };
    let _lock = INIT_LOCK.lock();
    if !slot.load(Ordering::Acquire).is_null() {
        return 0;
    }
    let mut result = core::ptr::null_mut();
    // SAFETY: `result` is a writable slot; the function is the caller's.
    let code = unsafe { init_func(&mut result) };
    if code != 0 {
        return code;
    }
    if result.is_null() {
        return guard::<R>(|| Err(Error::runtime_error("init_func must return a non-NULL handle")));
    }
    slot.store(result, Ordering::Release);
    0
}

/// `TVMFFIHandleDeinitOnce`: take the handle out of `*handle_addr` (leaving null) and run
/// `deinit_func` on it, if it was set.
///
/// # Safety
///
/// As `TVMFFIHandleInitOnce`; `deinit_func` follows its contract.
pub unsafe fn handle_deinit_once<R: Runtime>(
    handle_addr: *mut *mut c_void,
    deinit_func: Option<unsafe extern "C" fn(handle: *mut c_void) -> c_int>,
) -> c_int {
    const FUNC: &str = "TVMFFIHandleDeinitOnce";
    if handle_addr.is_null() {
        return guard::<R>(|| Err(null(FUNC, "handle_addr")));
    }
    let Some(deinit_func) = deinit_func else {
        return guard::<R>(|| Err(null(FUNC, "deinit_func")));
    };
    // SAFETY: as in `TVMFFIHandleInitOnce`.
    let slot = unsafe { AtomicPtr::from_ptr(handle_addr) };
    let old = {
        let _lock = INIT_LOCK.lock();
        let old = slot.load(Ordering::Acquire);
        slot.store(core::ptr::null_mut(), Ordering::Release);
        old
    };
    if old.is_null() {
        return 0;
    }
    // SAFETY: the handle was made by the matching init function; the caller's contract.
    unsafe { deinit_func(old) }
}
