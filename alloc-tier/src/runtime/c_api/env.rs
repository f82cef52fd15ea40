//! The environment of `extra/c_env_api.h`: current streams, the DLPack tensor allocator, and
//! the host language's signal check.

use alloc::format;
use core::ffi::{CStr, c_char, c_int, c_void};
use core::sync::atomic::{AtomicPtr, Ordering};

use tvmffi_core::sys::{
    DLManagedTensorVersioned, DLPackManagedTensorAllocator, DLTensor, TVMFFIObjectHandle,
    TVMFFIStreamHandle,
};

use super::{Runtime, guard, null, out, raise};
use crate::error::Error;
use crate::tensor::Tensor;

/// `TVMFFIEnvSetStream`: set the calling thread's current stream for a device, writing the
/// one it replaces (null if none) to `opt_out_original_stream` when that is not null. A
/// negative device type or id raises a `ValueError`.
///
/// # Safety
///
/// `opt_out_original_stream` is null or writable.
pub unsafe fn set_stream<R: Runtime>(
    device_type: i32,
    device_id: i32,
    stream: TVMFFIStreamHandle,
    opt_out_original_stream: *mut TVMFFIStreamHandle,
) -> c_int {
    guard::<R>(|| {
        let old = R::with_local(|local| local.set_stream(device_type, device_id, stream))
            .ok_or_else(|| Error::runtime_error("TVMFFIEnvSetStream: the thread is exiting"))?
            .ok_or_else(|| {
                Error::value_error(format!(
                    "TVMFFIEnvSetStream: invalid device type {device_type} or id {device_id}"
                ))
            })?;
        if !opt_out_original_stream.is_null() {
            // SAFETY: non-null and writable (caller).
            unsafe { opt_out_original_stream.write(old) };
        }
        Ok(())
    })
}

/// `TVMFFIEnvGetStream`: the calling thread's current stream for a device, null if none.
///
/// # Safety
///
/// None (the signature matches the other bodies).
pub unsafe fn get_stream<R: Runtime>(device_type: i32, device_id: i32) -> TVMFFIStreamHandle {
    R::with_local(|local| local.stream(device_type, device_id)).unwrap_or(core::ptr::null_mut())
}

/// The allocator set with `write_to_global_context`, for threads that set none.
static GLOBAL_ALLOCATOR: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());

fn global_allocator() -> DLPackManagedTensorAllocator {
    let p = GLOBAL_ALLOCATOR.load(Ordering::Acquire);
    // SAFETY: only null or an allocator function pointer is ever stored; `Option<fn>` has
    // null as `None`.
    unsafe { core::mem::transmute::<*mut (), DLPackManagedTensorAllocator>(p) }
}

/// `TVMFFIEnvSetDLPackManagedTensorAllocator`: set the calling thread's tensor allocator
/// (and, with `write_to_global_context`, the process's default for threads that set none),
/// writing the thread's previous one (null if none) to `opt_out_original_allocator`.
///
/// # Safety
///
/// `allocator` follows its contract; `opt_out_original_allocator` is null or writable.
pub unsafe fn set_allocator<R: Runtime>(
    allocator: DLPackManagedTensorAllocator,
    write_to_global_context: c_int,
    opt_out_original_allocator: *mut DLPackManagedTensorAllocator,
) -> c_int {
    guard::<R>(|| {
        let old = R::with_local(|local| local.set_allocator(allocator)).ok_or_else(|| {
            Error::runtime_error("TVMFFIEnvSetDLPackManagedTensorAllocator: the thread is exiting")
        })?;
        if write_to_global_context != 0 {
            let p = allocator.map_or(core::ptr::null_mut(), |f| f as *mut ());
            GLOBAL_ALLOCATOR.store(p, Ordering::Release);
        }
        if !opt_out_original_allocator.is_null() {
            // SAFETY: non-null and writable (caller).
            unsafe { opt_out_original_allocator.write(old) };
        }
        Ok(())
    })
}

/// `TVMFFIEnvGetDLPackManagedTensorAllocator`: the calling thread's tensor allocator, else
/// the process's default, else null.
///
/// # Safety
///
/// None (the signature matches the other bodies).
pub unsafe fn get_allocator<R: Runtime>() -> DLPackManagedTensorAllocator {
    R::with_local(|local| local.allocator()).flatten().or_else(global_allocator)
}

/// The `SetError` callback handed to allocators: raise what they report.
unsafe extern "C" fn allocator_set_error<R: Runtime>(
    _error_ctx: *mut c_void,
    kind: *const c_char,
    message: *const c_char,
) {
    // SAFETY: the allocator passes null or C strings valid for the call.
    let text = |p: *const c_char, default: &'static str| unsafe {
        if p.is_null() { default.into() } else { CStr::from_ptr(p).to_string_lossy() }
    };
    raise::<R>(Error::new(&text(kind, "RuntimeError"), text(message, "")));
}

/// `TVMFFIEnvTensorAlloc`: allocate a tensor like `prototype` with the current allocator
/// and wrap it in a tensor object. Without an allocator, or when it fails, a `RuntimeError`
/// is raised (an allocator's own error passes through unchanged).
///
/// # Safety
///
/// `prototype` is null or a valid tensor description; `out` is null or writable; the
/// allocator follows its contract.
pub unsafe fn tensor_alloc<R: Runtime>(
    prototype: *mut DLTensor,
    out_tensor: *mut TVMFFIObjectHandle,
) -> c_int {
    const FUNC: &str = "TVMFFIEnvTensorAlloc";
    let checked = (|| {
        let out_tensor = out(out_tensor, FUNC, "out")?;
        if prototype.is_null() {
            return Err(null(FUNC, "prototype"));
        }
        // SAFETY: no argument.
        let allocator = unsafe { get_allocator::<R>() }.ok_or_else(|| {
            Error::runtime_error(
                "TVMFFIEnvTensorAlloc: allocator is nullptr, likely because \
                 TVMFFIEnvSetDLPackManagedTensorAllocator has not been called.",
            )
        })?;
        Ok((out_tensor, allocator))
    })();
    let (out_tensor, allocator) = match checked {
        Ok(v) => v,
        Err(e) => return guard::<R>(|| Err(e)),
    };
    let mut managed: *mut DLManagedTensorVersioned = core::ptr::null_mut();
    // SAFETY: the allocator's contract; `managed` is a writable slot.
    let code = unsafe {
        allocator(prototype, &mut managed, core::ptr::null_mut(), Some(allocator_set_error::<R>))
    };
    if code != 0 {
        return code;
    }
    guard::<R>(|| {
        if managed.is_null() {
            return Err(Error::runtime_error(
                "TVMFFIEnvTensorAlloc: failed to allocate a tensor from the allocator",
            ));
        }
        // SAFETY: a fresh managed tensor from the allocator, ours to take over.
        let tensor = unsafe { Tensor::from_dlpack_versioned(managed, 0, false) };
        let tensor = tensor.inspect_err(|_| {
            // The allocator's tensor was not taken over: release it here.
            // SAFETY: non-null, from the allocator; its deleter is called once.
            unsafe {
                if let Some(deleter) = (*managed).deleter {
                    deleter(managed);
                }
            }
        })?;
        // SAFETY: writable (checked); the strong reference goes to the caller.
        unsafe { out_tensor.write(tensor.into_object().into_raw().cast()) };
        Ok(())
    })
}

/// The host language's functions (`TVMFFIEnvRegisterCAPI`), null until registered.
static CHECK_SIGNALS: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());
static GIL_ENSURE: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());
static GIL_RELEASE: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());

/// `TVMFFIEnvCheckSignals`: run the host's `PyErr_CheckSignals` (holding its GIL) when one
/// is registered; -1 when it reports a pending signal (it has set the host's error).
///
/// # Safety
///
/// The registered functions are the host's, with their C signatures.
pub unsafe fn check_signals<R: Runtime>() -> c_int {
    let check = CHECK_SIGNALS.load(Ordering::Acquire);
    if check.is_null() {
        return 0;
    }
    let (ensure, release) =
        (GIL_ENSURE.load(Ordering::Acquire), GIL_RELEASE.load(Ordering::Acquire));
    if ensure.is_null() || release.is_null() {
        return guard::<R>(|| {
            Err(Error::internal_error(
                "TVMFFIEnvCheckSignals: PyErr_CheckSignals is registered without \
                 PyGILState_Ensure and PyGILState_Release",
            ))
        });
    }
    // SAFETY: each pointer was registered under its name, with the matching signature
    // (the caller's promise in `register_c_api`).
    unsafe {
        let check: unsafe extern "C" fn() -> c_int = core::mem::transmute(check);
        let ensure: unsafe extern "C" fn() -> *mut c_void = core::mem::transmute(ensure);
        let release: unsafe extern "C" fn(*mut c_void) = core::mem::transmute(release);
        let state = ensure();
        let code = check();
        release(state);
        if code != 0 { -1 } else { 0 }
    }
}

/// `TVMFFIEnvRegisterCAPI`: register one of the host's functions by name:
/// `PyErr_CheckSignals`, `PyGILState_Ensure` or `PyGILState_Release`. Another name raises
/// a `ValueError` (`Unknown env API <name>`).
///
/// # Safety
///
/// `name` is null or a readable C string; `symbol` is null or that function, callable from
/// any thread for the rest of the program.
pub unsafe fn register_c_api<R: Runtime>(name: *const c_char, symbol: *mut c_void) -> c_int {
    guard::<R>(|| {
        if name.is_null() {
            return Err(null("TVMFFIEnvRegisterCAPI", "name"));
        }
        // SAFETY: a readable C string (caller).
        let name = unsafe { CStr::from_ptr(name) }.to_bytes();
        let slot = match name {
            b"PyErr_CheckSignals" => &CHECK_SIGNALS,
            b"PyGILState_Ensure" => &GIL_ENSURE,
            b"PyGILState_Release" => &GIL_RELEASE,
            other => {
                return Err(Error::value_error(format!(
                    "Unknown env API {}",
                    alloc::string::String::from_utf8_lossy(other)
                )));
            }
        };
        slot.store(symbol.cast(), Ordering::Release);
        Ok(())
    })
}
