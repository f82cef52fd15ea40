//! TVM-FFI on accelerators: device streams, device memory, DLPack exchange and kernel
//! launches on CUDA and ROCm, with the drivers loaded at run time.
//!
//! Servers with accelerators use the same ABI as every other tier. The environment of
//! `extra/c_env_api.h` is the process runtime's, reached through the C API, so the Python
//! package, C++ kernels built against the reference headers and Rust code all see the same
//! current streams and allocator:
//!
//! - [`env`](mod@env): the calling thread's current stream per device ([`StreamGuard`]) and
//!   tensor allocator ([`AllocatorGuard`]), and [`env::tensor_alloc`] (`TVMFFIEnvTensorAlloc`).
//! - [`exchange`]: a framework's `DLPackExchangeAPI` (PyTorch's
//!   `__dlpack_c_exchange_api__`): its tensors, its stream and allocator for a call.
//! - [`GpuDevice`]: a device of a [`Backend`], with [`DeviceGuard`] (the reference's
//!   `CUDADeviceGuard`), [`Stream`]s, device and pinned tensors, copies, and [`Module`]s of
//!   device code whose [`Kernel`]s launch on a stream.
//! - [`dlpack_allocator`]: a `DLPackManagedTensorAllocator` over the backends.
//!
//! ```
//! use tvmffi_core::{DataType, Device};
//! use tvmffi_gpu::{AllocatorGuard, GpuDevice, StreamGuard, env};
//!
//! let dev = GpuDevice::open(Device::CPU)?; // or Device::new(DeviceType::CUDA, 0)
//! let stream = dev.create_stream()?;
//! let _stream = StreamGuard::new(&stream)?; // what kernels read with TVMFFIEnvGetStream
//! let _alloc = AllocatorGuard::install()?; // what they allocate with TVMFFIEnvTensorAlloc
//! let out = env::tensor_alloc(&[2, 3], DataType::F32, dev.device())?;
//! assert_eq!((out.shape(), out.device()), (&[2i64, 3][..], Device::CPU));
//! # Ok::<(), tvmffi_alloc::Error>(())
//! ```
//!
//! # Backends
//!
//! The [`Cpu`] backend is always present: the host as a device, so everything above the
//! driver layer runs (and is tested) without an accelerator. The GPU backends are features
//! and need nothing at build time: the driver library is opened on first use, and where it
//! or a device is missing, opening the device is an error that says so, never a crash.
//!
//! | feature | default | adds |
//! |---------|---------|------|
//! | `cuda`  | no      | `Cuda`: the driver API from `libcuda.so.1`; memory `kDLCUDA` (2) and pinned `kDLCUDAHost` (3); PTX, cubin and fatbin modules |
//! | `rocm`  | no      | `Rocm`: HIP from `libamdhip64.so`; memory `kDLROCM` (10) and pinned `kDLROCMHost` (11); code object modules |
//!
//! Both may be on: a device type picks its backend at run time.
//!
//! # Errors and panics
//!
//! Every fallible function returns a [`tvmffi_alloc::Error`]; driver failures carry the
//! driver's name and text for the code (`CUDA Error: CUDA_ERROR_OUT_OF_MEMORY (2): out of
//! memory (in cuMemAlloc_v2)`, the reference's wording). The C callbacks of this crate
//! ([`dlpack_allocator`], [`exchange::current_work_stream`], tensor deleters) never unwind.
//!
//! # Safety
//!
//! Device memory is never read or written by the host. What the compiler cannot check is
//! `unsafe`: launching a kernel (its parameters and the memory it touches), copying into a
//! tensor others may read, and handles that come from elsewhere (a framework's stream, the
//! environment's current stream).
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
extern crate std;

pub mod backend;
mod device;
pub mod env;
pub mod exchange;
mod launch;
mod memory;
mod module;
mod stream;

#[cfg(feature = "cuda")]
pub use backend::Cuda;
#[cfg(feature = "rocm")]
pub use backend::Rocm;
pub use backend::{Backend, Cpu, Memory};
pub use device::{DeviceGuard, GpuDevice};
pub use env::{AllocatorGuard, StreamGuard};
pub use exchange::{ExchangeApi, ExchangeGuard};
pub use launch::{Dim3, LaunchConfig, Params};
pub use memory::dlpack_allocator;
pub use module::{Kernel, Module};
pub use stream::Stream;
pub use tvmffi_alloc::Error;

pub use tvmffi_std as std_tier;
