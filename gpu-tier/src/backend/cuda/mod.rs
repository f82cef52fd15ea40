//! [`Cuda`]: the CUDA driver API (`libcuda.so.1`), loaded on first use.
//!
//! Each device is driven through its primary context, the one the CUDA runtime (and so
//! PyTorch) uses: the streams, memory and modules made here are the ones `cudaStream_t`
//! and `cudaMalloc` users share. Every operation makes the device's primary context current
//! for its duration and then restores the caller's, so nothing here changes which device
//! the calling thread's other code sees; only [`Backend::set_device`] does, as
//! `cudaSetDevice` would.

mod sys;

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::ffi::{CStr, c_char, c_void};
use core::ptr::{NonNull, null_mut};
use std::sync::OnceLock;

use sys::*;
use tvmffi_alloc::Error;
use tvmffi_core::DeviceType;

use super::driver::{Driver, c_text};
use super::{Backend, CopyKind, Memory, RawFunction, RawModule, RawStream, no_such_device};
use crate::launch::LaunchConfig;

/// Where the driver is looked for, in order.
#[cfg(windows)]
const LIBRARY_NAMES: &[&str] = &["nvcuda.dll"];
#[cfg(not(windows))]
const LIBRARY_NAMES: &[&str] = &["libcuda.so.1", "libcuda.so"];

/// Bytes of the JIT compiler's error log kept when a module fails to load.
const JIT_LOG_BYTES: usize = 8192;

/// The CUDA backend: device memory `kDLCUDA`, pinned host memory `kDLCUDAHost`.
#[derive(Debug)]
pub struct Cuda {
    api: CudaApi,
    driver: Driver,
    /// `CUdevice` of each ordinal.
    devices: Box<[CUdevice]>,
    /// Each device's primary context, retained on first use and never released (the
    /// runtime API keeps them for the life of the process too).
    contexts: Box<[OnceLock<Context>]>,
}

/// A `CUcontext`, an opaque driver handle.
#[derive(Debug, Clone, Copy)]
struct Context(CUcontext);

// SAFETY: a context handle may be made current on any thread; this crate never reads
// through it.
unsafe impl Send for Context {}
// SAFETY: as for `Send`.
unsafe impl Sync for Context {}

/// The outcome of the one attempt per process to load the driver.
static CUDA: OnceLock<Result<Cuda, String>> = OnceLock::new();

impl Cuda {
    /// The CUDA backend, loading the driver and initialising it (`cuInit`) on first use.
    ///
    /// Without the driver library, or when it finds no device, this is a `RuntimeError`
    /// saying so (the same one on every call).
    pub fn get() -> Result<&'static Cuda, Error> {
        CUDA.get_or_init(|| Self::load(LIBRARY_NAMES)).as_ref().map_err(Error::runtime_error)
    }

    /// The backend with the CUDA driver loaded from `library` (a file name the loader
    /// searches for, or a path) instead of the usual names: one outside the loader's path
    /// (CUDA's forward-compatibility `libcuda.so.1`), or a stand-in. The first load in a
    /// process decides; asking for another library afterwards is an error.
    pub fn with_library(library: &str) -> Result<&'static Cuda, Error> {
        let backend =
            CUDA.get_or_init(|| Self::load(&[library])).as_ref().map_err(Error::runtime_error)?;
        if backend.driver.name != library {
            return Err(Error::runtime_error(format!(
                "the CUDA driver is already loaded from {}, so it cannot be loaded from {library}",
                backend.driver.name
            )));
        }
        Ok(backend)
    }

    /// The file name the driver was loaded under.
    pub fn library(&self) -> &str {
        &self.driver.name
    }

    fn load(names: &[&str]) -> Result<Self, String> {
        let unavailable = |why: String| format!("CUDA is not available: {why}");
        let driver = Driver::open(names)
            .map_err(|e| unavailable(format!("cannot load the CUDA driver ({e})")))?;
        // SAFETY: `CudaApi` restates the driver API's C signatures.
        let api = unsafe { CudaApi::load(&driver) }.map_err(unavailable)?;
        // SAFETY: plain driver calls with writable out-parameters.
        unsafe {
            check(&api, (api.cuInit)(0), "cuInit").map_err(unavailable)?;
            let mut count = 0;
            check(&api, (api.cuDeviceGetCount)(&mut count), "cuDeviceGetCount")
                .map_err(unavailable)?;
            let mut devices = Vec::with_capacity(count.max(0) as usize);
            for ordinal in 0..count {
                let mut device = 0;
                check(&api, (api.cuDeviceGet)(&mut device, ordinal), "cuDeviceGet")
                    .map_err(unavailable)?;
                devices.push(device);
            }
            let contexts = devices.iter().map(|_| OnceLock::new()).collect();
            Ok(Self { api, driver, devices: devices.into(), contexts })
        }
    }

    /// `Ok` for `CUDA_SUCCESS`, else the driver's name and text for `code`.
    fn check(&self, code: CUresult, call: &str) -> Result<(), Error> {
        check(&self.api, code, call).map_err(Error::runtime_error)
    }

    fn device(&self, id: i32) -> Result<CUdevice, Error> {
        let count = self.devices.len() as i32;
        usize::try_from(id)
            .ok()
            .and_then(|i| self.devices.get(i).copied())
            .ok_or_else(|| no_such_device(self, id, count))
    }

    /// The primary context of device `id`, retained on first use.
    fn primary(&self, id: i32) -> Result<CUcontext, Error> {
        let device = self.device(id)?;
        let slot = &self.contexts[id as usize];
        if let Some(ctx) = slot.get() {
            return Ok(ctx.0);
        }
        let mut ctx = null_mut();
        // SAFETY: a valid device and a writable out-parameter.
        let code = unsafe { (self.api.cuDevicePrimaryCtxRetain)(&mut ctx, device) };
        self.check(code, "cuDevicePrimaryCtxRetain")?;
        // A racing thread retained the same (unique) primary context; either value is it.
        Ok(slot.get_or_init(|| Context(ctx)).0)
    }

    /// Run `f` with device `id`'s primary context current, then restore the caller's.
    fn with_context<T>(&self, id: i32, f: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
        let ctx = self.primary(id)?;
        let mut previous = null_mut();
        // SAFETY: a writable out-parameter.
        self.check(unsafe { (self.api.cuCtxGetCurrent)(&mut previous) }, "cuCtxGetCurrent")?;
        if previous == ctx {
            return f();
        }
        // SAFETY: a retained context.
        self.check(unsafe { (self.api.cuCtxSetCurrent)(ctx) }, "cuCtxSetCurrent")?;
        let result = f();
        // SAFETY: the context (or null) that was current on this thread a moment ago.
        let restored =
            self.check(unsafe { (self.api.cuCtxSetCurrent)(previous) }, "cuCtxSetCurrent");
        let value = result?;
        restored.map(|()| value)
    }
}

/// `Ok` for `CUDA_SUCCESS`, else the message the reference's `TVM_FFI_CHECK_CUDA_ERROR`
/// writes (`CUDA Error: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory`) and the call.
fn check(api: &CudaApi, code: CUresult, call: &str) -> Result<(), String> {
    if code == CUDA_SUCCESS {
        return Ok(());
    }
    let (mut name, mut text) = (core::ptr::null(), core::ptr::null());
    // SAFETY: writable out-parameters; the driver leaves them null for unknown codes and
    // otherwise points them at static strings.
    let (name, text) = unsafe {
        (api.cuGetErrorName)(code, &mut name);
        (api.cuGetErrorString)(code, &mut text);
        (c_text(name, "CUDA_ERROR_UNKNOWN"), c_text(text, "unrecognized error code"))
    };
    Err(format!("CUDA Error: {name} ({code}): {text} (in {call})"))
}

/// A device address as a pointer: an address in the device's space, never dereferenced.
fn device_ptr(address: CUdeviceptr) -> Option<NonNull<c_void>> {
    NonNull::new(core::ptr::without_provenance_mut(address))
}

// SAFETY: `kDLCUDA`/`kDLCUDAHost` always; allocations are `cuMemAlloc` (256-aligned) and
// `cuMemHostAlloc` (page-aligned, zero-filled here) of the size asked; copies and launches
// go to the stream given, which `cuStreamSynchronize` waits for.
unsafe impl Backend for Cuda {
    fn name(&self) -> &'static str {
        "CUDA"
    }

    fn device_type(&self) -> DeviceType {
        DeviceType::CUDA
    }

    fn host_device_type(&self) -> DeviceType {
        DeviceType::CUDA_HOST
    }

    fn device_count(&self) -> Result<i32, Error> {
        Ok(self.devices.len() as i32)
    }

    fn device_name(&self, id: i32) -> Result<String, Error> {
        let device = self.device(id)?;
        let mut name = [0 as c_char; 256];
        // SAFETY: a buffer of the length passed.
        let code =
            unsafe { (self.api.cuDeviceGetName)(name.as_mut_ptr(), name.len() as i32, device) };
        self.check(code, "cuDeviceGetName")?;
        *name.last_mut().unwrap_or(&mut 0) = 0;
        // SAFETY: NUL-terminated (the last byte at least).
        Ok(unsafe { c_text(name.as_ptr(), "") })
    }

    fn current_device(&self) -> Result<i32, Error> {
        let mut ctx = null_mut();
        // SAFETY: a writable out-parameter.
        self.check(unsafe { (self.api.cuCtxGetCurrent)(&mut ctx) }, "cuCtxGetCurrent")?;
        if ctx.is_null() {
            // No context yet: the runtime API's answer, device 0.
            return Ok(0);
        }
        let mut device = 0;
        // SAFETY: a writable out-parameter.
        self.check(unsafe { (self.api.cuCtxGetDevice)(&mut device) }, "cuCtxGetDevice")?;
        Ok(self.devices.iter().position(|&d| d == device).map_or(device, |i| i as i32))
    }

    fn set_device(&self, id: i32) -> Result<(), Error> {
        let ctx = self.primary(id)?;
        // SAFETY: a retained context.
        self.check(unsafe { (self.api.cuCtxSetCurrent)(ctx) }, "cuCtxSetCurrent")
    }

    fn synchronize_device(&self, id: i32) -> Result<(), Error> {
        self.with_context(id, || {
            // SAFETY: no arguments; a context is current.
            self.check(unsafe { (self.api.cuCtxSynchronize)() }, "cuCtxSynchronize")
        })
    }

    fn create_stream(&self, id: i32) -> Result<RawStream, Error> {
        self.with_context(id, || {
            let mut stream = null_mut();
            // SAFETY: a writable out-parameter; a context is current.
            let code = unsafe { (self.api.cuStreamCreate)(&mut stream, CU_STREAM_NON_BLOCKING) };
            self.check(code, "cuStreamCreate")?;
            Ok(stream)
        })
    }

    unsafe fn destroy_stream(&self, id: i32, stream: RawStream) -> Result<(), Error> {
        self.with_context(id, || {
            // SAFETY: a stream of this device, not used again (caller).
            self.check(unsafe { (self.api.cuStreamDestroy)(stream) }, "cuStreamDestroy_v2")
        })
    }

    unsafe fn synchronize_stream(&self, id: i32, stream: RawStream) -> Result<(), Error> {
        self.with_context(id, || {
            // SAFETY: null or a live stream of this device (caller).
            self.check(unsafe { (self.api.cuStreamSynchronize)(stream) }, "cuStreamSynchronize")
        })
    }

    fn alloc(&self, id: i32, bytes: usize, memory: Memory) -> Result<NonNull<c_void>, Error> {
        self.with_context(id, || match memory {
            Memory::Device => {
                let mut address = 0;
                // SAFETY: a writable out-parameter; a context is current.
                let code = unsafe { (self.api.cuMemAlloc)(&mut address, bytes) };
                self.check(code, "cuMemAlloc_v2")?;
                device_ptr(address).ok_or_else(|| null_allocation("cuMemAlloc_v2"))
            }
            Memory::Host => {
                let mut ptr = null_mut();
                // SAFETY: a writable out-parameter; a context is current.
                let code =
                    unsafe { (self.api.cuMemHostAlloc)(&mut ptr, bytes, CU_MEMHOSTALLOC_PORTABLE) };
                self.check(code, "cuMemHostAlloc")?;
                let ptr = NonNull::new(ptr).ok_or_else(|| null_allocation("cuMemHostAlloc"))?;
                // SAFETY: `bytes` bytes of fresh host memory; the host may read them, so
                // they are initialised.
                unsafe { ptr.cast::<u8>().write_bytes(0, bytes) };
                Ok(ptr)
            }
        })
    }

    unsafe fn free(&self, id: i32, ptr: NonNull<c_void>, memory: Memory) -> Result<(), Error> {
        self.with_context(id, || {
            // SAFETY: an allocation of ours of this kind, not used again (caller).
            let (code, call) = unsafe {
                match memory {
                    Memory::Device => ((self.api.cuMemFree)(ptr.as_ptr().addr()), "cuMemFree_v2"),
                    Memory::Host => ((self.api.cuMemFreeHost)(ptr.as_ptr()), "cuMemFreeHost"),
                }
            };
            self.check(code, call)
        })
    }

    unsafe fn copy(
        &self,
        id: i32,
        dst: *mut c_void,
        src: *const c_void,
        bytes: usize,
        kind: CopyKind,
        stream: RawStream,
    ) -> Result<(), Error> {
        let api = &self.api;
        self.with_context(id, || {
            // SAFETY: the memory and stream are valid as the copy needs (caller).
            let (code, call) = unsafe {
                match kind {
                    CopyKind::HostToDevice => (
                        (api.cuMemcpyHtoDAsync)(dst.addr(), src, bytes, stream),
                        "cuMemcpyHtoDAsync_v2",
                    ),
                    CopyKind::DeviceToHost => (
                        (api.cuMemcpyDtoHAsync)(dst, src.addr(), bytes, stream),
                        "cuMemcpyDtoHAsync_v2",
                    ),
                    CopyKind::DeviceToDevice => (
                        (api.cuMemcpyDtoDAsync)(dst.addr(), src.addr(), bytes, stream),
                        "cuMemcpyDtoDAsync_v2",
                    ),
                }
            };
            self.check(code, call)
        })
    }

    fn load_module(&self, id: i32, image: &[u8]) -> Result<RawModule, Error> {
        if image.is_empty() {
            return Err(Error::value_error("cannot load an empty code object"));
        }
        // PTX is text the driver reads up to a NUL; binaries (cubin, fatbin) carry their
        // size and ignore a byte more.
        let owned;
        let image = if image.last() == Some(&0) {
            image
        } else {
            owned = [image, &[0]].concat();
            &owned[..]
        };
        let mut log = alloc::vec![0u8; JIT_LOG_BYTES];
        let mut options = [CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES];
        // The size option's value is the integer itself, in the pointer.
        let mut values =
            [log.as_mut_ptr().cast::<c_void>(), core::ptr::without_provenance_mut(log.len())];
        self.with_context(id, || {
            let mut module = null_mut();
            // SAFETY: a NUL-terminated image, two options with their values (a buffer of
            // the size given), and a writable out-parameter.
            let code = unsafe {
                (self.api.cuModuleLoadDataEx)(
                    &mut module,
                    image.as_ptr().cast(),
                    options.len() as u32,
                    options.as_mut_ptr(),
                    values.as_mut_ptr(),
                )
            };
            if let Err(e) = self.check(code, "cuModuleLoadDataEx") {
                let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
                let jit = String::from_utf8_lossy(&log[..end]);
                let jit = jit.trim();
                return Err(if jit.is_empty() {
                    e
                } else {
                    Error::runtime_error(format!("{}\nJIT log:\n{jit}", e.message()))
                });
            }
            NonNull::new(module).ok_or_else(|| null_allocation("cuModuleLoadDataEx"))
        })
    }

    unsafe fn unload_module(&self, id: i32, module: RawModule) -> Result<(), Error> {
        self.with_context(id, || {
            // SAFETY: a live module, not used again (caller).
            self.check(unsafe { (self.api.cuModuleUnload)(module.as_ptr()) }, "cuModuleUnload")
        })
    }

    unsafe fn function(
        &self,
        id: i32,
        module: RawModule,
        name: &CStr,
    ) -> Result<RawFunction, Error> {
        self.with_context(id, || {
            let mut function = null_mut();
            // SAFETY: a live module (caller), a C string and a writable out-parameter.
            let code = unsafe {
                (self.api.cuModuleGetFunction)(&mut function, module.as_ptr(), name.as_ptr())
            };
            self.check(code, &format!("cuModuleGetFunction \"{}\"", name.to_string_lossy()))?;
            NonNull::new(function).ok_or_else(|| null_allocation("cuModuleGetFunction"))
        })
    }

    unsafe fn launch(
        &self,
        id: i32,
        function: RawFunction,
        config: &LaunchConfig,
        stream: RawStream,
        params: *mut *mut c_void,
    ) -> Result<(), Error> {
        let LaunchConfig { grid, block, shared_mem_bytes } = *config;
        self.with_context(id, || {
            // SAFETY: a live kernel, its parameters and the stream (caller).
            let code = unsafe {
                (self.api.cuLaunchKernel)(
                    function.as_ptr(),
                    grid.x,
                    grid.y,
                    grid.z,
                    block.x,
                    block.y,
                    block.z,
                    shared_mem_bytes,
                    stream,
                    params,
                    null_mut(),
                )
            };
            self.check(code, "cuLaunchKernel")
        })
    }
}

fn null_allocation(call: &str) -> Error {
    Error::internal_error(format!("{call} succeeded but returned null"))
}
