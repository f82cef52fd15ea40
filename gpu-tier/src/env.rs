//! The environment of `extra/c_env_api.h`, from Rust: the calling thread's current stream
//! per device and its DLPack tensor allocator, and allocation through it.
//!
//! The state lives in the process's runtime (ours with `tvmffi-std`'s `runtime` feature,
//! the reference's `libtvm_ffi.so` under its Python package) and is reached only through the
//! C API, so a stream set here is the one C++ kernels compiled against the reference headers
//! read with `TVMFFIEnvGetStream`, and one the Python package sets (`use_torch_stream`,
//! a PyTorch tensor argument) is the one [`current_stream`] returns. Like the reference,
//! streams and the allocator are per thread; an allocator may also be set for the whole
//! process, for threads that set none.
//!
//! The guards set a value for a scope and put the previous one back when dropped, the way
//! the Python package wraps every call (`TVMFFIPyCallManager::FuncCall`).

use core::ffi::c_int;
use core::marker::PhantomData;

use tvmffi_alloc::tensor::TensorObj;
use tvmffi_alloc::{Error, Tensor};
use tvmffi_core::sys::{DLPackManagedTensorAllocator, DLTensor, TVMFFIObjectHandle, api};
use tvmffi_core::{DataType, Device, Object, ObjectHeader, ObjectRef};

use crate::Stream;
use crate::backend::RawStream;
use crate::memory::dlpack_allocator;

/// The error a failed C API call raised, or an internal error when it raised none.
pub(crate) fn raised(call: &str) -> Error {
    Error::take_raised().unwrap_or_else(|| {
        Error::internal_error(alloc::format!("{call} failed without raising an error"))
    })
}

fn check(code: c_int, call: &str) -> Result<(), Error> {
    if code == 0 { Ok(()) } else { Err(raised(call)) }
}

/// The calling thread's current stream for `device` (`TVMFFIEnvGetStream`); null when none
/// was set.
pub fn current_stream(device: Device) -> RawStream {
    // SAFETY: no pointer arguments.
    unsafe { api::TVMFFIEnvGetStream(device.device_type().0, device.device_id()) }
}

/// Set the calling thread's current stream for `device` (`TVMFFIEnvSetStream`), returning
/// the one it replaces. A negative device type or id is a `ValueError`.
///
/// # Safety
///
/// `stream` is null or a live stream of `device` for as long as it stays current: kernels
/// launch on it ([`StreamGuard`] is the safe way to set one).
pub unsafe fn set_current_stream(device: Device, stream: RawStream) -> Result<RawStream, Error> {
    let mut previous = core::ptr::null_mut();
    // SAFETY: `previous` is a writable slot.
    let code = unsafe {
        api::TVMFFIEnvSetStream(device.device_type().0, device.device_id(), stream, &mut previous)
    };
    check(code, "TVMFFIEnvSetStream")?;
    Ok(previous)
}

/// A stream made current for its device on this thread, until the guard drops: the
/// reference's `StreamContext` (`tvm_ffi.use_raw_stream`).
///
/// ```
/// use tvmffi_core::Device;
/// use tvmffi_gpu::{GpuDevice, StreamGuard, env};
///
/// let cpu = GpuDevice::open(Device::CPU).unwrap();
/// let stream = cpu.create_stream().unwrap();
/// {
///     let _guard = StreamGuard::new(&stream).unwrap();
///     assert_eq!(env::current_stream(Device::CPU), stream.as_raw());
/// }
/// assert!(env::current_stream(Device::CPU).is_null());
/// ```
///
/// The environment is per thread, so the guard cannot leave its thread. Guards restore in
/// the reverse order of their creation.
#[must_use = "the previous stream is restored when the guard drops"]
#[derive(Debug)]
pub struct StreamGuard<'s> {
    device: Device,
    previous: RawStream,
    _stream: PhantomData<&'s Stream>,
    _thread: PhantomData<*const ()>,
}

impl<'s> StreamGuard<'s> {
    /// Make `stream` its device's current stream; the borrow keeps it alive meanwhile.
    pub fn new(stream: &'s Stream) -> Result<Self, Error> {
        // SAFETY: the stream lives as long as the guard, which takes it out again.
        unsafe { Self::set(stream.device().device(), stream.as_raw()) }
    }

    /// # Safety
    ///
    /// As for [`set_current_stream`], until the guard drops.
    unsafe fn set(device: Device, stream: RawStream) -> Result<Self, Error> {
        // SAFETY: forwarded to the caller.
        let previous = unsafe { set_current_stream(device, stream) }?;
        Ok(Self { device, previous, _stream: PhantomData, _thread: PhantomData })
    }
}

impl StreamGuard<'static> {
    /// Make a raw handle `device`'s current stream (PyTorch's `cuda_stream`, say).
    ///
    /// # Safety
    ///
    /// As for [`set_current_stream`], until the guard drops.
    pub unsafe fn from_raw(device: Device, stream: RawStream) -> Result<Self, Error> {
        // SAFETY: forwarded to the caller.
        unsafe { Self::set(device, stream) }
    }
}

impl StreamGuard<'_> {
    /// The device whose stream is set.
    pub fn device(&self) -> Device {
        self.device
    }

    /// The stream that was current before, restored on drop.
    pub fn previous(&self) -> RawStream {
        self.previous
    }

    /// Restore the previous stream now, reporting a failure that dropping would ignore.
    pub fn restore(self) -> Result<(), Error> {
        core::mem::ManuallyDrop::new(self).restore_ref()
    }

    fn restore_ref(&self) -> Result<(), Error> {
        // SAFETY: the stream that was current before this guard, put back as it was.
        unsafe { set_current_stream(self.device, self.previous) }.map(drop)
    }
}

impl Drop for StreamGuard<'_> {
    fn drop(&mut self) {
        // Only fails for a negative device, which `new` already refused.
        let _ = self.restore_ref();
    }
}

/// The tensor allocator `TVMFFIEnvTensorAlloc` uses on this thread
/// (`TVMFFIEnvGetDLPackManagedTensorAllocator`): the thread's own, else the process's,
/// else `None`.
pub fn current_allocator() -> DLPackManagedTensorAllocator {
    // SAFETY: no arguments.
    unsafe { api::TVMFFIEnvGetDLPackManagedTensorAllocator() }
}

/// Set the calling thread's tensor allocator (and, with `global`, the process's, for
/// threads that set none), returning the thread's previous one
/// (`TVMFFIEnvSetDLPackManagedTensorAllocator`).
///
/// # Safety
///
/// `allocator` is `None` or follows the `DLPackManagedTensorAllocator` contract
/// (`dlpack.h`) for as long as it is set.
pub unsafe fn set_allocator(
    allocator: DLPackManagedTensorAllocator,
    global: bool,
) -> Result<DLPackManagedTensorAllocator, Error> {
    let mut previous = None;
    // SAFETY: the allocator's contract is the caller's; `previous` is writable.
    let code = unsafe {
        api::TVMFFIEnvSetDLPackManagedTensorAllocator(allocator, c_int::from(global), &mut previous)
    };
    check(code, "TVMFFIEnvSetDLPackManagedTensorAllocator")?;
    Ok(previous)
}

/// Make this crate's allocator ([`dlpack_allocator`]: device memory from the built-in
/// backends) the calling thread's, and with `global` the process's default, returning the
/// thread's previous one.
pub fn install_allocator(global: bool) -> Result<DLPackManagedTensorAllocator, Error> {
    // SAFETY: `dlpack_allocator` follows the allocator contract.
    unsafe { set_allocator(Some(dlpack_allocator), global) }
}

/// A tensor allocator set on this thread until the guard drops, as the Python package sets
/// a framework's allocator around each call.
#[must_use = "the previous allocator is restored when the guard drops"]
#[derive(Debug)]
pub struct AllocatorGuard {
    previous: DLPackManagedTensorAllocator,
    _thread: PhantomData<*const ()>,
}

impl AllocatorGuard {
    /// Set this crate's allocator ([`dlpack_allocator`]) on this thread.
    pub fn install() -> Result<Self, Error> {
        // SAFETY: `dlpack_allocator` follows the allocator contract.
        unsafe { Self::install_raw(Some(dlpack_allocator)) }
    }

    /// Set `allocator` on this thread (`None` for none).
    ///
    /// # Safety
    ///
    /// As for [`set_allocator`], until the guard drops.
    pub unsafe fn install_raw(allocator: DLPackManagedTensorAllocator) -> Result<Self, Error> {
        // SAFETY: forwarded to the caller.
        let previous = unsafe { set_allocator(allocator, false) }?;
        Ok(Self { previous, _thread: PhantomData })
    }

    /// The allocator that was set before, restored on drop.
    pub fn previous(&self) -> DLPackManagedTensorAllocator {
        self.previous
    }

    /// Restore the previous allocator now, reporting a failure that dropping would ignore.
    pub fn restore(self) -> Result<(), Error> {
        core::mem::ManuallyDrop::new(self).restore_ref()
    }

    fn restore_ref(&self) -> Result<(), Error> {
        // SAFETY: the allocator that was set before (which met the contract then).
        unsafe { set_allocator(self.previous, false) }.map(drop)
    }
}

impl Drop for AllocatorGuard {
    fn drop(&mut self) {
        // Fails only on a thread that is exiting, where nothing is left to restore.
        let _ = self.restore_ref();
    }
}

/// A tensor from the environment's allocator (`TVMFFIEnvTensorAlloc`), the reference's
/// `Tensor::FromEnvAlloc`: what kernels use for their outputs, so that the framework calling
/// them (PyTorch through the Python package, or [`install_allocator`]) owns the memory.
///
/// Without an allocator this is the reference's `RuntimeError`; an allocator's own failure
/// is passed through.
pub fn tensor_alloc(shape: &[i64], dtype: DataType, device: Device) -> Result<Tensor, Error> {
    let ndim = i32::try_from(shape.len())
        .map_err(|_| Error::value_error("TVMFFIEnvTensorAlloc: too many dimensions"))?;
    let mut prototype = DLTensor {
        data: core::ptr::null_mut(),
        device: device.as_raw(),
        ndim,
        dtype: dtype.as_raw(),
        // Only read by the allocator.
        shape: shape.as_ptr().cast_mut(),
        strides: core::ptr::null_mut(),
        byte_offset: 0,
    };
    let mut out: TVMFFIObjectHandle = core::ptr::null_mut();
    // SAFETY: a prototype whose arrays are valid for the call, and a writable slot.
    check(unsafe { api::TVMFFIEnvTensorAlloc(&mut prototype, &mut out) }, "TVMFFIEnvTensorAlloc")?;
    // SAFETY: on success the slot holds a new strong reference to an object.
    let obj = unsafe { ObjectRef::<ObjectHeader>::from_raw(out.cast()) }
        .ok_or_else(|| Error::internal_error("TVMFFIEnvTensorAlloc returned no tensor"))?;
    let obj = obj.downcast::<Object<TensorObj>>().map_err(|other| {
        Error::internal_error(alloc::format!(
            "TVMFFIEnvTensorAlloc returned an object of type index {}, not a tensor",
            other.type_index().0
        ))
    })?;
    Ok(Tensor::from_object(obj)?)
}
