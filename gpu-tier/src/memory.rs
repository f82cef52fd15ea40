//! Device memory as tensors: allocation into DLPack managed tensors (the tensors of
//! [`GpuDevice::empty`] and of the environment allocator [`dlpack_allocator`]), and copies
//! between host and device.
//!
//! Device memory is never read or written by the host: its tensors carry the device's type
//! (`kDLCUDA`, `kDLROCM`), which [`Tensor::as_slice`] refuses, and it is only handed to the
//! driver. Pinned host memory (`kDLCUDAHost`, `kDLROCMHost`) is host memory and reads as
//! any other.

use alloc::boxed::Box;
use alloc::ffi::CString;
use alloc::format;
use core::ffi::{c_char, c_int, c_void};
use core::panic::AssertUnwindSafe;
use core::ptr::NonNull;

use tvmffi_alloc::tensor::MAX_NDIM;
use tvmffi_alloc::{Error, Tensor};
use tvmffi_core::sys::{
    DLManagedTensorVersioned, DLPACK_MAJOR_VERSION, DLPACK_MINOR_VERSION, DLPackVersion, DLTensor,
};
use tvmffi_core::{DataType, DataTypeCode, Device, DeviceType};

use crate::backend::{self, CopyKind, Memory};
use crate::{GpuDevice, Stream};

/// A managed tensor owning memory from a backend: the `DLManagedTensorVersioned` handed out
/// is the start of this allocation, which is also its `manager_ctx`.
#[repr(C)]
struct Allocation {
    managed: DLManagedTensorVersioned,
    device: GpuDevice,
    memory: Memory,
    /// Null for a tensor without bytes.
    data: Option<NonNull<c_void>>,
    /// The extents then the strides, which `managed` points into.
    dims: Box<[i64]>,
}

impl Drop for Allocation {
    fn drop(&mut self) {
        if let Some(data) = self.data {
            // SAFETY: allocated by this backend for this device; the deleter runs once, after
            // the consumer is done with the tensor. A failure cannot be reported from a
            // deleter; it happens when the driver is already torn down at exit, when the
            // memory is gone anyway.
            let _ = unsafe { self.device.backend().free(self.device.id(), data, self.memory) };
        }
    }
}

/// The deleter of the managed tensors made here.
unsafe extern "C" fn delete_allocation(managed: *mut DLManagedTensorVersioned) {
    if managed.is_null() {
        return;
    }
    tvmffi_std::abort_on_panic("the deleter of a tvmffi-gpu tensor", || {
        // SAFETY: `managed` starts an `Allocation` boxed by `allocate`; DLPack calls the
        // deleter once.
        drop(unsafe { Box::from_raw(managed.cast::<Allocation>()) });
    });
}

/// Bytes of `numel` elements of `dtype` (`GetDataSize`: sub-byte types packed, rounded up).
fn bytes_of(numel: i64, dtype: DataType) -> Option<i64> {
    let bits = i128::from(numel) * i128::from(dtype.bits()) * i128::from(dtype.lanes());
    i64::try_from((bits + 7) / 8).ok()
}

/// A compact row-major tensor of `shape` and `dtype` in `memory` of `device`, as a DLPack
/// 1.3 managed tensor the caller owns (its deleter frees the memory). Tensors without
/// elements allocate nothing and have a null data pointer.
pub(crate) fn allocate(
    device: &GpuDevice,
    memory: Memory,
    shape: &[i64],
    dtype: DataType,
) -> Result<NonNull<DLManagedTensorVersioned>, Error> {
    let ndim = i32::try_from(shape.len()).ok().filter(|&n| n <= MAX_NDIM).ok_or_else(|| {
        Error::value_error(format!(
            "cannot allocate a tensor of {} dimensions (at most {MAX_NDIM})",
            shape.len()
        ))
    })?;
    if let Some((axis, extent)) = shape.iter().enumerate().find(|(_, e)| **e < 0) {
        return Err(Error::value_error(format!("Tensor shape[{axis}] = {extent} is negative")));
    }
    let code = dtype.code();
    if dtype.bits() == 0
        || dtype.lanes() == 0
        || (code.as_str().is_none() && code.0 < DataTypeCode::CUSTOM_BEGIN.0)
    {
        return Err(Error::value_error(format!(
            "cannot allocate tensors of data type code {} bits {} lanes {}",
            code.0,
            dtype.bits(),
            dtype.lanes()
        )));
    }
    let overflow = || Error::overflow_error(format!("a tensor of shape {shape:?} is too large"));
    // Compact strides, then the element count; every partial product must fit `int64_t`.
    let mut dims = alloc::vec![0i64; 2 * shape.len()].into_boxed_slice();
    let (extents, strides) = dims.split_at_mut(shape.len());
    extents.copy_from_slice(shape);
    let mut numel: i64 = 1;
    for (extent, stride) in shape.iter().zip(strides.iter_mut()).rev() {
        *stride = numel;
        numel = numel.checked_mul(*extent).ok_or_else(overflow)?;
    }
    let bytes =
        bytes_of(numel, dtype).and_then(|b| usize::try_from(b).ok()).ok_or_else(overflow)?;
    let data =
        if bytes == 0 { None } else { Some(device.backend().alloc(device.id(), bytes, memory)?) };
    let device_type = match memory {
        Memory::Device => device.backend().device_type(),
        Memory::Host => device.backend().host_device_type(),
    };
    let mut allocation = Box::new(Allocation {
        managed: DLManagedTensorVersioned {
            version: DLPackVersion { major: DLPACK_MAJOR_VERSION, minor: DLPACK_MINOR_VERSION },
            manager_ctx: core::ptr::null_mut(),
            deleter: Some(delete_allocation),
            flags: 0,
            dl_tensor: DLTensor {
                data: data.map_or(core::ptr::null_mut(), NonNull::as_ptr),
                device: Device::new(device_type, device.id()).as_raw(),
                ndim,
                dtype: dtype.as_raw(),
                shape: core::ptr::null_mut(),
                strides: core::ptr::null_mut(),
                byte_offset: 0,
            },
        },
        device: *device,
        memory,
        data,
        dims,
    });
    if ndim > 0 {
        let (shape_ptr, strides_ptr) = {
            let (e, s) = allocation.dims.split_at_mut(shape.len());
            (e.as_mut_ptr(), s.as_mut_ptr())
        };
        allocation.managed.dl_tensor.shape = shape_ptr;
        allocation.managed.dl_tensor.strides = strides_ptr;
    }
    let allocation = NonNull::from(Box::leak(allocation));
    // SAFETY: just leaked, so live and ours alone; the context is the allocation itself.
    unsafe { (*allocation.as_ptr()).managed.manager_ctx = allocation.as_ptr().cast() };
    // The managed tensor is the allocation's first field (`repr(C)`), and the pointer keeps
    // the whole allocation's provenance for the deleter.
    Ok(allocation.cast())
}

/// A managed tensor of ours as a [`Tensor`] (which then owns it).
fn into_tensor(managed: NonNull<DLManagedTensorVersioned>) -> Result<Tensor, Error> {
    // SAFETY: a valid managed tensor we own; on success the tensor takes it over.
    unsafe { Tensor::from_dlpack_versioned(managed.as_ptr(), 0, false) }.map_err(|e| {
        // SAFETY: not taken over: ours to delete, once.
        unsafe { delete_allocation(managed.as_ptr()) };
        e.into()
    })
}

/// Which side of a copy a tensor is on, relative to a device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    Host,
    Device,
}

impl GpuDevice {
    /// A compact tensor of `shape` and `dtype` in the device's memory (`kDLCUDA:<id>`),
    /// uninitialised (zero-filled on the CPU backend). The memory is freed when the last
    /// reference to the tensor (or a DLPack export of it) is gone.
    pub fn empty(&self, shape: &[i64], dtype: DataType) -> Result<Tensor, Error> {
        into_tensor(allocate(self, Memory::Device, shape, dtype)?)
    }

    /// A compact, zero-filled tensor in page-locked host memory that the device reaches
    /// directly (`kDLCUDAHost`), readable from the host.
    pub fn empty_host(&self, shape: &[i64], dtype: DataType) -> Result<Tensor, Error> {
        into_tensor(allocate(self, Memory::Host, shape, dtype)?)
    }

    /// Where `tensor` is for copies: this device, or host memory (the CPU, or this
    /// backend's pinned memory of any device).
    fn side(&self, tensor: &Tensor) -> Result<Side, Error> {
        let device = tensor.device();
        if device == self.device() {
            Ok(Side::Device)
        } else if device.device_type() == DeviceType::CPU
            || device.device_type() == self.backend().host_device_type()
        {
            Ok(Side::Host)
        } else {
            Err(Error::value_error(format!(
                "cannot copy a tensor on device type {} id {} with {self}: it is neither on \
                 this device nor in host memory",
                device.device_type().0,
                device.device_id()
            )))
        }
    }

    /// Copy the elements of `src` into `dst`, ordered on `stream`, and wait for the copy
    /// (and what the stream had before it) to finish. Either side may be this device or host
    /// memory; both must be contiguous and of the same byte size.
    ///
    /// # Safety
    ///
    /// Nothing reads or writes `dst`'s memory meanwhile: no slice of it (or of a clone, a
    /// view or an export) is alive, and no kernel on another stream touches it.
    pub unsafe fn copy(&self, dst: &Tensor, src: &Tensor, stream: &Stream) -> Result<(), Error> {
        if stream.device() != self {
            return Err(Error::value_error(format!(
                "cannot copy on a stream of {} with {self}",
                stream.device()
            )));
        }
        let bytes = src.data_size();
        if dst.data_size() != bytes {
            return Err(Error::value_error(format!(
                "cannot copy {bytes} bytes into a tensor of {} bytes",
                dst.data_size()
            )));
        }
        if !src.is_contiguous() || !dst.is_contiguous() {
            return Err(Error::value_error("copies need contiguous tensors"));
        }
        let (from, to) = (self.side(src)?, self.side(dst)?);
        let bytes = usize::try_from(bytes).map_err(|_| Error::overflow_error("copy too large"))?;
        if bytes == 0 {
            return Ok(());
        }
        // Checked on entry into the tensors not to leave the address space.
        let at = |t: &Tensor| t.data_ptr().wrapping_byte_add(t.byte_offset() as usize);
        let (src_ptr, dst_ptr) = (at(src), at(dst));
        let kind = match (from, to) {
            (Side::Host, Side::Host) => {
                // Pending work on the stream may still write either buffer.
                stream.synchronize()?;
                // SAFETY: host memory of `bytes` bytes each, kept alive by the tensors;
                // nothing touches `dst` (caller); `copy` allows overlap.
                unsafe { core::ptr::copy(src_ptr.cast::<u8>(), dst_ptr.cast::<u8>(), bytes) };
                return Ok(());
            }
            (Side::Host, Side::Device) => CopyKind::HostToDevice,
            (Side::Device, Side::Host) => CopyKind::DeviceToHost,
            (Side::Device, Side::Device) => CopyKind::DeviceToDevice,
        };
        // SAFETY: both sides hold `bytes` bytes where `kind` says, kept alive by the tensors
        // until the synchronisation below; the stream is one of this device.
        unsafe {
            self.backend().copy(self.id(), dst_ptr, src_ptr, bytes, kind, stream.as_raw())?;
        }
        stream.synchronize()
    }

    /// A copy of `src` (host memory or this device) in this device's memory, made on
    /// `stream`; returns when it is done.
    pub fn to_device(&self, src: &Tensor, stream: &Stream) -> Result<Tensor, Error> {
        let dst = self.empty(src.shape(), src.dtype())?;
        // SAFETY: `dst` is new and not shared yet.
        unsafe { self.copy(&dst, src, stream) }?;
        Ok(dst)
    }

    /// A copy of `src` (this device or host memory) in CPU memory (`kDLCPU`), made on
    /// `stream`; returns when it is done.
    pub fn to_host(&self, src: &Tensor, stream: &Stream) -> Result<Tensor, Error> {
        let dst = Tensor::empty(src.shape(), src.dtype(), Device::CPU)?;
        // SAFETY: `dst` is new and not shared yet.
        unsafe { self.copy(&dst, src, stream) }?;
        Ok(dst)
    }
}

/// The `DLPackManagedTensorAllocator` of this crate: compact tensors in the memory the
/// prototype's device names (`kDLCUDA`/`kDLCUDAHost` from CUDA, `kDLROCM`/`kDLROCMHost` from
/// ROCm, `kDLCPU` from the CPU backend), owned by the managed tensor.
///
/// Install it with [`install_allocator`](crate::env::install_allocator) or
/// [`AllocatorGuard::install`](crate::AllocatorGuard::install), or put it in a
/// `DLPackExchangeAPI` table. Only the prototype's `dtype`, `ndim`, `shape` and `device`
/// are read. On failure it returns -1 after calling `set_error` once (or raising the error
/// in the runtime when `set_error` is null); it never unwinds.
///
/// # Safety
///
/// `prototype` is null or a `DLTensor` whose `shape` is readable for `ndim` values; `out` is
/// null or writable; `set_error` is null or callable with `error_ctx`.
pub unsafe extern "C" fn dlpack_allocator(
    prototype: *mut DLTensor,
    out: *mut *mut DLManagedTensorVersioned,
    error_ctx: *mut c_void,
    set_error: Option<unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char)>,
) -> c_int {
    tvmffi_std::abort_on_panic("reporting an error of the tvmffi-gpu allocator", || {
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: forwarded from the caller.
            unsafe { allocate_like(prototype, out) }
        }))
        .unwrap_or_else(|payload| {
            Err(Error::runtime_error(format!(
                "tvmffi-gpu allocator panicked: {}",
                tvmffi_std::boundary::panic_message(&*payload)
            )))
        });
        let Err(error) = result else { return 0 };
        match set_error {
            Some(set_error) => {
                let c = |s: &str| CString::new(s.replace('\0', " ")).unwrap_or_default();
                let (kind, message) = (c(&error.kind()), c(&error.message()));
                // SAFETY: callable with `error_ctx` (caller); the strings live for the call.
                unsafe { set_error(error_ctx, kind.as_ptr(), message.as_ptr()) };
            }
            None => error.raise(),
        }
        -1
    })
}

/// The body of [`dlpack_allocator`].
///
/// # Safety
///
/// As for [`dlpack_allocator`].
unsafe fn allocate_like(
    prototype: *mut DLTensor,
    out: *mut *mut DLManagedTensorVersioned,
) -> Result<(), Error> {
    const WHAT: &str = "DLPackManagedTensorAllocator";
    if out.is_null() || prototype.is_null() {
        let which = if out.is_null() { "out" } else { "prototype" };
        return Err(Error::value_error(format!("{WHAT}: {which} is null")));
    }
    // SAFETY: a readable `DLTensor` (caller); copied.
    let proto = unsafe { *prototype };
    let ndim = usize::try_from(proto.ndim)
        .ok()
        .filter(|&n| n <= MAX_NDIM as usize)
        .ok_or_else(|| Error::value_error(format!("{WHAT}: invalid ndim {}", proto.ndim)))?;
    if ndim > 0 && proto.shape.is_null() {
        return Err(Error::value_error(format!("{WHAT}: shape is null but ndim is {ndim}")));
    }
    // SAFETY: `shape` is readable for `ndim` values (caller); read without assuming alignment.
    let shape: alloc::vec::Vec<i64> =
        (0..ndim).map(|i| unsafe { proto.shape.add(i).read_unaligned() }).collect();
    let device = Device::from_raw(proto.device);
    let (backend, memory) = backend::for_device_type(device.device_type())?;
    let gpu = GpuDevice::with_backend(backend, device.device_id())?;
    let managed = allocate(&gpu, memory, &shape, DataType::from_raw(proto.dtype))?;
    // SAFETY: writable (caller); the managed tensor goes to the caller.
    unsafe { out.write(managed.as_ptr()) };
    Ok(())
}
