//! The DLPack exchange API (`DLPackExchangeAPI`, `dlpack.h`): the table of C functions a
//! tensor framework publishes as `__dlpack_c_exchange_api__` (PyTorch does), and what the
//! reference's Python package does with it.
//!
//! A consumer takes tensors from framework objects without going through Python
//! ([`ExchangeApi::tensor_from_py_object`]), hands results back as framework objects, and
//! runs kernels in the framework's context: the framework's current stream for the device
//! made the environment's current stream, and the framework's allocator made the
//! environment's, for the duration of the call ([`ExchangeApi::enter`], as
//! `TVMFFIPyCallManager::FuncCall` does). The "Python objects" are opaque pointers here
//! (`PyObject*` from PyO3, say); nothing in this crate needs Python.
//!
//! For a framework's own table, [`current_work_stream`] reports the environment's current
//! stream (what the reference's test tensor class publishes) and
//! [`dlpack_allocator`](crate::dlpack_allocator) allocates.

use alloc::format;
use core::ffi::{c_int, c_void};

use tvmffi_alloc::{Array, Error, List, Tensor};
use tvmffi_core::sys::{
    DLDeviceType, DLManagedTensorVersioned, DLPACK_MAJOR_VERSION, DLPackExchangeAPI,
    DLPackExchangeAPIHeader, DLPackManagedTensorAllocator, DLPackVersion, DLTensor, api,
};
use tvmffi_core::{AnyView, Device, DeviceType, TypeIndex};

use crate::backend::RawStream;
use crate::env::{AllocatorGuard, StreamGuard};

/// A `DLPackCurrentWorkStream` that reports the environment's current stream
/// (`TVMFFIEnvGetStream`), and null for the CPU, which has no streams to order.
///
/// # Safety
///
/// `out_current_stream` is null (an error: -1 with a `ValueError` raised) or writable.
pub unsafe extern "C" fn current_work_stream(
    device_type: DLDeviceType,
    device_id: i32,
    out_current_stream: *mut *mut c_void,
) -> c_int {
    if out_current_stream.is_null() {
        Error::value_error("DLPackCurrentWorkStream: out_current_stream is null").raise();
        return -1;
    }
    let stream = if device_type == DeviceType::CPU {
        core::ptr::null_mut()
    } else {
        // SAFETY: no pointer arguments.
        unsafe { api::TVMFFIEnvGetStream(device_type.0, device_id) }
    };
    // SAFETY: writable (caller).
    unsafe { out_current_stream.write(stream) };
    0
}

/// A framework's `DLPackExchangeAPI` table, of a DLPack major version this crate speaks.
#[derive(Clone, Copy, Debug)]
pub struct ExchangeApi {
    raw: &'static DLPackExchangeAPI,
}

// SAFETY: the table is immutable and lives for the process; its allocator and stream
// functions are called from whatever thread runs a kernel (the reference calls them with the
// GIL released), which `from_raw`'s contract covers.
unsafe impl Send for ExchangeApi {}
// SAFETY: as for `Send`: shared access only reads the table.
unsafe impl Sync for ExchangeApi {}

/// How many older tables [`ExchangeApi::from_raw`] follows before giving up on a chain.
const MAX_CHAIN: usize = 16;

impl ExchangeApi {
    /// The table at `api`, or the first older one in its `prev_api` chain whose major
    /// version is DLPack's (1). A null pointer, or a chain without such a table, is an
    /// error.
    ///
    /// # Safety
    ///
    /// `api` is null or a `DLPackExchangeAPIHeader` that, like every table its chain
    /// leads to, lives for the rest of the process (as `dlpack.h` requires); a table of
    /// major version 1 is a `DLPackExchangeAPI` whose non-null functions meet their
    /// contracts in `dlpack.h` on any thread (the allocator and `current_work_stream` without
    /// the GIL, as the reference calls them), and whose streams are live streams of their
    /// devices.
    pub unsafe fn from_raw(api: *const DLPackExchangeAPI) -> Result<Self, Error> {
        let mut header = api.cast::<DLPackExchangeAPIHeader>();
        let mut newest: Option<DLPackVersion> = None;
        for _ in 0..MAX_CHAIN {
            if header.is_null() {
                break;
            }
            // SAFETY: a live header (caller).
            let DLPackExchangeAPIHeader { version, prev_api } = unsafe { &*header };
            newest.get_or_insert(*version);
            if version.major == DLPACK_MAJOR_VERSION {
                // SAFETY: a major-1 table is a whole `DLPackExchangeAPI` that lives forever.
                return Ok(Self { raw: unsafe { &*header.cast::<DLPackExchangeAPI>() } });
            }
            header = *prev_api;
        }
        Err(match newest {
            None => Error::value_error("the DLPack exchange API pointer is null"),
            Some(v) => Error::value_error(format!(
                "the DLPack exchange API (version {}.{}) offers no table of major version \
                 {DLPACK_MAJOR_VERSION}",
                v.major, v.minor
            )),
        })
    }

    /// The table.
    pub fn as_raw(&self) -> *const DLPackExchangeAPI {
        self.raw
    }

    /// Its DLPack version.
    pub fn version(&self) -> DLPackVersion {
        self.raw.header.version
    }

    /// The framework's tensor allocator, if it has one.
    pub fn allocator(&self) -> DLPackManagedTensorAllocator {
        self.raw.managed_tensor_allocator
    }

    /// The framework's current stream on `device` (`torch.cuda.current_stream`); null on
    /// the CPU, which the producer need not be asked about.
    pub fn current_work_stream(&self, device: Device) -> Result<RawStream, Error> {
        if device.device_type() == DeviceType::CPU {
            return Ok(core::ptr::null_mut());
        }
        let f = self.raw.current_work_stream.ok_or_else(|| missing("current_work_stream"))?;
        let mut stream = core::ptr::null_mut();
        // SAFETY: the producer's function (contract of `from_raw`), a writable slot.
        let code = unsafe { f(device.device_type(), device.device_id(), &mut stream) };
        if code != 0 {
            return Err(producer_failed("current_work_stream"));
        }
        Ok(stream)
    }

    /// Take a framework tensor as a [`Tensor`] sharing its memory, without synchronising
    /// (`managed_tensor_from_py_object_no_sync`): work on its data belongs on the
    /// framework's [`current_work_stream`](Self::current_work_stream). A tensor our
    /// checks refuse is released again.
    ///
    /// # Safety
    ///
    /// `object` is an object of the type the table was published by, alive for the call.
    pub unsafe fn tensor_from_py_object(&self, object: *mut c_void) -> Result<Tensor, Error> {
        let f = self
            .raw
            .managed_tensor_from_py_object_no_sync
            .ok_or_else(|| missing("managed_tensor_from_py_object_no_sync"))?;
        let mut managed = core::ptr::null_mut();
        // SAFETY: the producer's function and object (caller), a writable slot.
        if unsafe { f(object, &mut managed) } != 0 || managed.is_null() {
            return Err(producer_failed("managed_tensor_from_py_object_no_sync"));
        }
        // SAFETY: a fresh managed tensor we own; on success the tensor takes it over.
        unsafe { Tensor::from_dlpack_versioned(managed, 0, false) }.map_err(|e| {
            // SAFETY: not taken over, so ours to release, once.
            unsafe { release(managed) };
            e.into()
        })
    }

    /// Borrow a framework tensor's `DLTensor` (`dltensor_from_py_object_no_sync`); it stays
    /// valid only while the object does and is not changed.
    ///
    /// # Safety
    ///
    /// As for [`tensor_from_py_object`](Self::tensor_from_py_object); the returned
    /// pointers are used only while the object lives.
    pub unsafe fn dltensor_from_py_object(&self, object: *mut c_void) -> Result<DLTensor, Error> {
        let f = self
            .raw
            .dltensor_from_py_object_no_sync
            .ok_or_else(|| missing("dltensor_from_py_object_no_sync"))?;
        let mut out = DLTensor {
            data: core::ptr::null_mut(),
            device: Device::CPU.as_raw(),
            ndim: 0,
            dtype: tvmffi_core::DataType::F32.as_raw(),
            shape: core::ptr::null_mut(),
            strides: core::ptr::null_mut(),
            byte_offset: 0,
        };
        // SAFETY: the producer's function and object (caller), a writable `DLTensor`.
        if unsafe { f(object, &mut out) } != 0 {
            return Err(producer_failed("dltensor_from_py_object_no_sync"));
        }
        Ok(out)
    }

    /// A framework tensor sharing `tensor`'s memory (`managed_tensor_to_py_object_no_sync`),
    /// as a new reference to the framework's object.
    ///
    /// # Safety
    ///
    /// The table's producer accepts a tensor of this device (the caller knows which
    /// framework it is).
    pub unsafe fn tensor_to_py_object(&self, tensor: &Tensor) -> Result<*mut c_void, Error> {
        let f = self
            .raw
            .managed_tensor_to_py_object_no_sync
            .ok_or_else(|| missing("managed_tensor_to_py_object_no_sync"))?;
        let managed = tensor.to_dlpack_versioned();
        let mut object = core::ptr::null_mut();
        // SAFETY: the producer's function (contract of `from_raw`); it takes the managed
        // tensor over on success.
        if unsafe { f(managed, &mut object) } != 0 {
            // As the reference does: on failure the export is still ours to release.
            // SAFETY: not taken over; released once.
            unsafe { release(managed) };
            return Err(producer_failed("managed_tensor_to_py_object_no_sync"));
        }
        Ok(object)
    }

    /// Run in the framework's context until the guard drops: for a `device` other than the
    /// CPU, the framework's current stream becomes the environment's current stream; the
    /// framework's allocator (if any) becomes this thread's tensor allocator. Both are put
    /// back on drop, stream first, as the reference's `FuncCall` does around every call
    /// that gets a framework tensor.
    pub fn enter(&self, device: Option<Device>) -> Result<ExchangeGuard, Error> {
        let device = device.filter(|d| d.device_type() != DeviceType::CPU);
        let stream = match device {
            Some(device) => {
                let stream = self.current_work_stream(device)?;
                // SAFETY: the framework's current stream of `device` (contract of
                // `from_raw`), current for the guard's lifetime.
                Some(unsafe { StreamGuard::from_raw(device, stream) }?)
            }
            None => None,
        };
        let allocator = match self.allocator() {
            // SAFETY: the framework's allocator meets its contract (`from_raw`).
            Some(f) => Some(unsafe { AllocatorGuard::install_raw(Some(f)) }?),
            None => None,
        };
        Ok(ExchangeGuard { stream, allocator })
    }

    /// [`enter`](Self::enter) for a call with `args`: on the device of the first tensor not
    /// on the CPU among them ([`first_non_cpu_device`]), as the Python package picks it.
    pub fn enter_for(&self, args: &[AnyView<'_>]) -> Result<ExchangeGuard, Error> {
        self.enter(first_non_cpu_device(args))
    }
}

/// The device of the first tensor not on the CPU among `args`, looking into arrays and lists
/// too: the device whose stream the reference's Python package makes current for a call
/// (`ffi.ContainerFindFirstNonCPUDevice` for containers). Maps are not looked into.
pub fn first_non_cpu_device(args: &[AnyView<'_>]) -> Option<Device> {
    args.iter().find_map(|arg| non_cpu_device(*arg))
}

fn non_cpu_device(arg: AnyView<'_>) -> Option<Device> {
    match arg.type_index() {
        TypeIndex::TENSOR => {
            let device = arg.get::<Tensor>().ok()?.device();
            (device.device_type() != DeviceType::CPU).then_some(device)
        }
        TypeIndex::ARRAY => arg.get::<Array>().ok()?.iter().find_map(non_cpu_device),
        TypeIndex::LIST => {
            arg.get::<List>().ok()?.iter().find_map(|item| non_cpu_device(AnyView::from(&item)))
        }
        _ => None,
    }
}

/// A framework's stream and allocator set in the environment; see [`ExchangeApi::enter`].
#[must_use = "the framework's context is left when the guard drops"]
#[derive(Debug)]
pub struct ExchangeGuard {
    // Dropped in this order: the stream first, as the reference restores them.
    stream: Option<StreamGuard<'static>>,
    allocator: Option<AllocatorGuard>,
}

impl ExchangeGuard {
    /// Leave the framework's context now, reporting a failure that dropping would ignore.
    pub fn restore(self) -> Result<(), Error> {
        let Self { stream, allocator } = self;
        let stream = stream.map_or(Ok(()), StreamGuard::restore);
        let allocator = allocator.map_or(Ok(()), AllocatorGuard::restore);
        stream.and(allocator)
    }
}

/// Call a managed tensor's deleter, if it has one.
///
/// # Safety
///
/// `managed` is a live managed tensor we own; it is not used again.
unsafe fn release(managed: *mut DLManagedTensorVersioned) {
    // SAFETY: as the caller promises.
    unsafe {
        if let Some(deleter) = (*managed).deleter {
            deleter(managed);
        }
    }
}

fn missing(function: &str) -> Error {
    Error::not_implemented_error(format!("the DLPack exchange API has no {function}"))
}

fn producer_failed(function: &str) -> Error {
    Error::runtime_error(format!(
        "the DLPack exchange API's {function} failed (the producer has set a Python exception)"
    ))
}
