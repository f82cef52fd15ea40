//! [`Backend`]: what a device runtime provides (streams, memory, copies, code loading and
//! launches), and the built-in backends.
//!
//! The trait is the driver layer: raw handles in, raw handles out, every driver failure an
//! [`Error`]. The safe types of this crate ([`GpuDevice`](crate::GpuDevice),
//! [`Stream`](crate::Stream), [`Module`](crate::Module)) are written once over it, so the
//! [`Cpu`] backend exercises all their logic on machines without an accelerator, and a test
//! can bring its own backend (failure injection, several devices).
//!
//! | backend | device memory | host memory | loaded from |
//! |---|---|---|---|
//! | [`Cpu`] | `kDLCPU` | `kDLCPU` | nothing (always present) |
//! | `Cuda` (feature `cuda`) | `kDLCUDA` | `kDLCUDAHost` (pinned) | `libcuda.so.1` (driver API) |
//! | `Rocm` (feature `rocm`) | `kDLROCM` | `kDLROCMHost` (pinned) | `libamdhip64.so` (HIP) |

use alloc::format;
use alloc::string::String;
use core::ffi::{CStr, c_void};
use core::fmt;
use core::ptr::NonNull;

use tvmffi_alloc::Error;
use tvmffi_core::DeviceType;

mod cpu;
#[cfg(feature = "cuda")]
mod cuda;
#[cfg(feature = "_gpu")]
mod driver;
#[cfg(feature = "rocm")]
mod rocm;

pub use cpu::Cpu;
#[cfg(feature = "cuda")]
pub use cuda::Cuda;
#[cfg(feature = "rocm")]
pub use rocm::Rocm;

use crate::launch::LaunchConfig;

/// A stream handle as the driver and `TVMFFIEnvSetStream` know it (`CUstream`,
/// `hipStream_t`); null is the device's default stream.
pub type RawStream = *mut c_void;
/// A loaded code object (`CUmodule`, `hipModule_t`).
pub type RawModule = NonNull<c_void>;
/// A kernel in a loaded code object (`CUfunction`, `hipFunction_t`).
pub type RawFunction = NonNull<c_void>;

/// Which memory of a backend an allocation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Memory {
    /// The device's own memory ([`Backend::device_type`]): never read by the host.
    Device,
    /// Page-locked host memory the device reaches directly ([`Backend::host_device_type`]),
    /// readable by the host.
    Host,
}

/// The direction of a copy the driver makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CopyKind {
    /// From host memory to the device.
    HostToDevice,
    /// From the device to host memory.
    DeviceToHost,
    /// Within the device.
    DeviceToDevice,
}

/// A device runtime: the raw operations the safe types of this crate are built on.
///
/// Device ids passed in are in `0..device_count()` (the safe types check). Handles passed
/// back (streams, pointers, modules, functions) are ones this backend returned for the same
/// device and has not released. Every failure is an [`Error`], never a panic.
///
/// # Safety
///
/// Implementations promise what the safe layer relies on to stay sound:
/// - [`device_type`](Self::device_type) and [`host_device_type`](Self::host_device_type)
///   never change, and [`device_count`](Self::device_count) never shrinks;
/// - [`alloc`](Self::alloc) returns memory of at least `bytes` bytes, aligned to 64, valid
///   until [`free`](Self::free); when the memory's device type is one the host reads
///   (`kDLCPU`, `kDLCUDAHost`, `kDLROCMHost`) it is host memory, zero-filled;
/// - the handles it returns (streams, modules, functions) may be used from any thread;
/// - [`copy`](Self::copy) and [`launch`](Self::launch) only touch the memory they are given,
///   ordered on the stream given, and [`synchronize_stream`](Self::synchronize_stream)
///   returns once everything enqueued on the stream before it has finished.
pub unsafe trait Backend: Send + Sync + fmt::Debug + 'static {
    /// A short name for messages: `"CPU"`, `"CUDA"`, `"ROCm"`.
    fn name(&self) -> &'static str;

    /// The DLPack device type of the device's memory (`kDLCUDA`).
    fn device_type(&self) -> DeviceType;

    /// The DLPack device type of its page-locked host memory (`kDLCUDAHost`).
    fn host_device_type(&self) -> DeviceType;

    /// How many devices there are.
    fn device_count(&self) -> Result<i32, Error>;

    /// The device's name, as the driver reports it.
    fn device_name(&self, id: i32) -> Result<String, Error>;

    /// The calling thread's current device (`cudaGetDevice`): the one that code not naming
    /// a device uses.
    fn current_device(&self) -> Result<i32, Error>;

    /// Make `id` the calling thread's current device (`cudaSetDevice`).
    fn set_device(&self, id: i32) -> Result<(), Error>;

    /// Wait for all work on the device.
    fn synchronize_device(&self, id: i32) -> Result<(), Error>;

    /// A new stream on the device, not synchronising with its default stream.
    fn create_stream(&self, id: i32) -> Result<RawStream, Error>;

    /// Destroy a stream made by [`create_stream`](Self::create_stream).
    ///
    /// # Safety
    ///
    /// `stream` came from `create_stream(id)` and is not used again.
    unsafe fn destroy_stream(&self, id: i32, stream: RawStream) -> Result<(), Error>;

    /// Wait for everything enqueued on `stream` (null: the default stream).
    ///
    /// # Safety
    ///
    /// `stream` is null or a live stream of device `id`.
    unsafe fn synchronize_stream(&self, id: i32, stream: RawStream) -> Result<(), Error>;

    /// Allocate `bytes > 0` bytes of `memory` (see the trait's safety contract).
    fn alloc(&self, id: i32, bytes: usize, memory: Memory) -> Result<NonNull<c_void>, Error>;

    /// Free what [`alloc`](Self::alloc) returned.
    ///
    /// # Safety
    ///
    /// `ptr` came from `alloc(id, _, memory)`, is not used again, and no work still pending
    /// on a stream touches it.
    unsafe fn free(&self, id: i32, ptr: NonNull<c_void>, memory: Memory) -> Result<(), Error>;

    /// Copy `bytes` bytes from `src` to `dst`, ordered on `stream`; the copy may still be
    /// running when this returns.
    ///
    /// # Safety
    ///
    /// `src` and `dst` are valid for `bytes` bytes on the sides `kind` names (host memory
    /// for the host side, memory of device `id` otherwise) until the stream has finished
    /// the copy, and `stream` is null or a live stream of device `id`.
    unsafe fn copy(
        &self,
        id: i32,
        dst: *mut c_void,
        src: *const c_void,
        bytes: usize,
        kind: CopyKind,
        stream: RawStream,
    ) -> Result<(), Error>;

    /// Load a code object (PTX text, a cubin, a fatbin, an AMD code object) on the device.
    fn load_module(&self, id: i32, image: &[u8]) -> Result<RawModule, Error>;

    /// Unload a module.
    ///
    /// # Safety
    ///
    /// `module` came from `load_module(id, _)`; neither it nor its functions are used again.
    unsafe fn unload_module(&self, id: i32, module: RawModule) -> Result<(), Error>;

    /// The kernel `name` of a module.
    ///
    /// # Safety
    ///
    /// `module` is a live module of device `id`.
    unsafe fn function(
        &self,
        id: i32,
        module: RawModule,
        name: &CStr,
    ) -> Result<RawFunction, Error>;

    /// Launch a kernel on `stream`.
    ///
    /// # Safety
    ///
    /// `function` is a kernel of a live module of device `id`; `params` points to one
    /// pointer per kernel parameter, each to a value of that parameter's type, readable
    /// during the call; the kernel only touches memory that stays valid until the stream
    /// has finished it; `stream` is null or a live stream of device `id`.
    unsafe fn launch(
        &self,
        id: i32,
        function: RawFunction,
        config: &LaunchConfig,
        stream: RawStream,
        params: *mut *mut c_void,
    ) -> Result<(), Error>;
}

/// The built-in backend serving memory of `device_type`, and which of its memories that is:
/// `kDLCPU` is the [`Cpu`] backend, `kDLCUDA`/`kDLCUDAHost` CUDA, `kDLROCM`/`kDLROCMHost`
/// ROCm (each loading its driver on first use). Other device types, and backends not
/// compiled in, are errors that say so.
pub fn for_device_type(device_type: DeviceType) -> Result<(&'static dyn Backend, Memory), Error> {
    let memory = |device| if device { Memory::Device } else { Memory::Host };
    match device_type {
        DeviceType::CPU => Ok((Cpu::get(), Memory::Device)),
        DeviceType::CUDA | DeviceType::CUDA_HOST => {
            Ok((cuda()?, memory(device_type == DeviceType::CUDA)))
        }
        DeviceType::ROCM | DeviceType::ROCM_HOST => {
            Ok((rocm()?, memory(device_type == DeviceType::ROCM)))
        }
        other => Err(Error::not_implemented_error(format!(
            "no backend for device type {} ({}): tvmffi-gpu serves kDLCPU, kDLCUDA, \
             kDLCUDAHost, kDLROCM and kDLROCMHost",
            other.0,
            other.name().unwrap_or("unknown")
        ))),
    }
}

#[cfg(feature = "cuda")]
fn cuda() -> Result<&'static dyn Backend, Error> {
    Ok(Cuda::get()?)
}

#[cfg(not(feature = "cuda"))]
fn cuda() -> Result<&'static dyn Backend, Error> {
    Err(not_compiled_in("CUDA", "cuda"))
}

#[cfg(feature = "rocm")]
fn rocm() -> Result<&'static dyn Backend, Error> {
    Ok(Rocm::get()?)
}

#[cfg(not(feature = "rocm"))]
fn rocm() -> Result<&'static dyn Backend, Error> {
    Err(not_compiled_in("ROCm", "rocm"))
}

#[cfg(not(all(feature = "cuda", feature = "rocm")))]
fn not_compiled_in(name: &str, feature: &str) -> Error {
    Error::not_implemented_error(format!(
        "{name} support is not compiled in: build tvmffi-gpu with its `{feature}` feature"
    ))
}

/// The error for a device id out of range.
pub(crate) fn no_such_device(backend: &dyn Backend, id: i32, count: i32) -> Error {
    Error::value_error(format!(
        "{} device {id} does not exist: there {} {count} device{}",
        backend.name(),
        if count == 1 { "is" } else { "are" },
        if count == 1 { "" } else { "s" },
    ))
}
