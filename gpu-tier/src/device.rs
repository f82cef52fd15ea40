//! [`GpuDevice`]: one device of a backend, the handle everything else hangs off, and
//! [`DeviceGuard`], which makes it the calling thread's current device for a scope.

use alloc::format;
use alloc::string::String;
use core::fmt;
use core::marker::PhantomData;

use tvmffi_alloc::Error;
use tvmffi_core::{Device, DeviceType};

use crate::backend::{self, Backend, Memory, no_such_device};

/// A device of a [`Backend`]: CUDA device 0, ROCm device 1, or the CPU.
///
/// Cheap to copy. Opening one checks that it exists; the driver behind it was loaded by
/// then and stays loaded for the life of the process.
///
/// ```
/// use tvmffi_core::{Device, DeviceType};
/// use tvmffi_gpu::GpuDevice;
///
/// let cpu = GpuDevice::open(Device::CPU).unwrap();
/// assert_eq!((cpu.device(), cpu.name().unwrap().as_str()), (Device::CPU, "cpu"));
/// // Without the driver (or the `cuda` feature) CUDA is an error, never a crash.
/// if let Err(e) = GpuDevice::open(Device::new(DeviceType::CUDA, 0)) {
///     assert!(e.message().contains("CUDA"), "{e}");
/// }
/// ```
#[derive(Clone, Copy)]
pub struct GpuDevice {
    backend: &'static dyn Backend,
    id: i32,
}

impl GpuDevice {
    /// The device `device` names, on its built-in backend ([`backend::for_device_type`]):
    /// `kDLCUDA`, `kDLROCM` or `kDLCPU`. Host memory types (`kDLCUDAHost`) are not devices
    /// and are refused, as are ids out of range and backends without a driver.
    pub fn open(device: Device) -> Result<Self, Error> {
        let (backend, memory) = backend::for_device_type(device.device_type())?;
        if memory == Memory::Host {
            return Err(Error::value_error(format!(
                "device type {} is {} host memory, not a device: open device type {} instead",
                device.device_type().0,
                backend.name(),
                backend.device_type().0
            )));
        }
        Self::with_backend(backend, device.device_id())
    }

    /// Device `id` of `backend`; an id out of range is a `ValueError`.
    pub fn with_backend(backend: &'static dyn Backend, id: i32) -> Result<Self, Error> {
        let count = backend.device_count()?;
        if !(0..count).contains(&id) {
            return Err(no_such_device(backend, id, count));
        }
        Ok(Self { backend, id })
    }

    /// How many devices of `device_type` there are (an error when its backend has no
    /// driver here).
    pub fn count(device_type: DeviceType) -> Result<i32, Error> {
        backend::for_device_type(device_type)?.0.device_count()
    }

    /// The backend.
    #[inline]
    pub fn backend(&self) -> &'static dyn Backend {
        self.backend
    }

    /// The device index.
    #[inline]
    pub fn id(&self) -> i32 {
        self.id
    }

    /// The DLPack device of its memory (`kDLCUDA:0`).
    pub fn device(&self) -> Device {
        Device::new(self.backend.device_type(), self.id)
    }

    /// The DLPack device of its page-locked host memory (`kDLCUDAHost:0`).
    pub fn host_device(&self) -> Device {
        Device::new(self.backend.host_device_type(), self.id)
    }

    /// The device's name, as the driver reports it.
    pub fn name(&self) -> Result<String, Error> {
        self.backend.device_name(self.id)
    }

    /// Wait until all work on the device is done.
    pub fn synchronize(&self) -> Result<(), Error> {
        self.backend.synchronize_device(self.id)
    }

    /// Make this the calling thread's current device until the guard drops.
    pub fn guard(&self) -> Result<DeviceGuard, Error> {
        DeviceGuard::new(self)
    }
}

impl PartialEq for GpuDevice {
    fn eq(&self, other: &Self) -> bool {
        // The same backend object (compared by address, not vtable) and index.
        core::ptr::addr_eq(self.backend, other.backend) && self.id == other.id
    }
}

impl Eq for GpuDevice {}

impl fmt::Debug for GpuDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GpuDevice({}:{})", self.backend.name(), self.id)
    }
}

impl fmt::Display for GpuDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} device {}", self.backend.name(), self.id)
    }
}

/// The calling thread's current device, set for a scope and restored when the guard
/// drops: the reference's `CUDADeviceGuard` (`cudaGetDevice`, then `cudaSetDevice` only
/// when the device differs, and back on drop), for any backend.
///
/// The current device is per thread, so the guard cannot leave its thread. Guards restore
/// in the reverse order of their creation.
#[must_use = "the previous device is restored when the guard drops"]
pub struct DeviceGuard {
    backend: &'static dyn Backend,
    original: i32,
    target: i32,
    _thread: PhantomData<*const ()>,
}

impl DeviceGuard {
    /// Make `device` current on this thread, remembering the device that was.
    pub fn new(device: &GpuDevice) -> Result<Self, Error> {
        let original = device.backend.current_device()?;
        if original != device.id {
            device.backend.set_device(device.id)?;
        }
        Ok(Self { backend: device.backend, original, target: device.id, _thread: PhantomData })
    }

    /// The device that was current before.
    pub fn original(&self) -> i32 {
        self.original
    }

    /// Restore the previous device now, reporting a failure that dropping would ignore.
    pub fn restore(self) -> Result<(), Error> {
        let this = core::mem::ManuallyDrop::new(self);
        this.restore_ref()
    }

    fn restore_ref(&self) -> Result<(), Error> {
        if self.original != self.target { self.backend.set_device(self.original) } else { Ok(()) }
    }
}

impl Drop for DeviceGuard {
    fn drop(&mut self) {
        // A destructor cannot report: `restore` is the way to see the error. Failing to
        // select a device that was current a moment ago means the driver is gone.
        let _ = self.restore_ref();
    }
}

impl fmt::Debug for DeviceGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceGuard")
            .field("backend", &self.backend.name())
            .field("original", &self.original)
            .field("target", &self.target)
            .finish()
    }
}
