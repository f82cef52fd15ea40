//! [`Rocm`]: HIP on AMD GPUs (`libamdhip64.so`), loaded on first use.
//!
//! HIP has one context per device, selected per thread with `hipSetDevice`. Every operation
//! selects its device for its duration and then restores the caller's, so nothing here
//! changes which device the calling thread's other code sees; only [`Backend::set_device`]
//! does.

mod sys;

use alloc::format;
use alloc::string::String;
use core::ffi::{CStr, c_char, c_void};
use core::ptr::{NonNull, null_mut};
use std::sync::OnceLock;

use sys::*;
use tvmffi_alloc::Error;
use tvmffi_core::DeviceType;

use super::driver::{Driver, c_text};
use super::{Backend, CopyKind, Memory, RawFunction, RawModule, RawStream, no_such_device};
use crate::launch::LaunchConfig;

/// Where HIP is looked for, in order: the unversioned development name, the SONAMEs of
/// recent releases, and the default install prefix (not always on the loader's path).
#[cfg(windows)]
const LIBRARY_NAMES: &[&str] = &["amdhip64_7.dll", "amdhip64_6.dll", "amdhip64.dll"];
#[cfg(not(windows))]
const LIBRARY_NAMES: &[&str] = &[
    "libamdhip64.so",
    "libamdhip64.so.7",
    "libamdhip64.so.6",
    "libamdhip64.so.5",
    "/opt/rocm/lib/libamdhip64.so",
];

/// The ROCm backend: device memory `kDLROCM`, pinned host memory `kDLROCMHost`.
#[derive(Debug)]
pub struct Rocm {
    api: HipApi,
    driver: Driver,
    count: i32,
}

/// The outcome of the one attempt per process to load HIP.
static ROCM: OnceLock<Result<Rocm, String>> = OnceLock::new();

impl Rocm {
    /// The ROCm backend, loading HIP and initialising it (`hipInit`) on first use.
    ///
    /// Without the library, or when it finds no device, this is a `RuntimeError` saying so
    /// (the same one on every call).
    pub fn get() -> Result<&'static Rocm, Error> {
        ROCM.get_or_init(|| Self::load(LIBRARY_NAMES)).as_ref().map_err(Error::runtime_error)
    }

    /// The backend with HIP loaded from `library` (a file name the loader searches for, or
    /// a path) instead of the usual names: one outside the loader's path, or a stand-in.
    /// The first load in a process decides; asking for another library afterwards is an
    /// error.
    pub fn with_library(library: &str) -> Result<&'static Rocm, Error> {
        let backend =
            ROCM.get_or_init(|| Self::load(&[library])).as_ref().map_err(Error::runtime_error)?;
        if backend.driver.name != library {
            return Err(Error::runtime_error(format!(
                "HIP is already loaded from {}, so it cannot be loaded from {library}",
                backend.driver.name
            )));
        }
        Ok(backend)
    }

    /// The file name HIP was loaded under.
    pub fn library(&self) -> &str {
        &self.driver.name
    }

    fn load(names: &[&str]) -> Result<Self, String> {
        let unavailable = |why: String| format!("ROCm is not available: {why}");
        let driver =
            Driver::open(names).map_err(|e| unavailable(format!("cannot load HIP ({e})")))?;
        // SAFETY: `HipApi` restates HIP's C signatures.
        let api = unsafe { HipApi::load(&driver) }.map_err(unavailable)?;
        let mut count = 0;
        // SAFETY: plain calls with a writable out-parameter.
        unsafe {
            check(&api, (api.hipInit)(0), "hipInit").map_err(unavailable)?;
            check(&api, (api.hipGetDeviceCount)(&mut count), "hipGetDeviceCount")
                .map_err(unavailable)?;
        }
        Ok(Self { api, driver, count })
    }

    fn check(&self, code: hipError_t, call: &str) -> Result<(), Error> {
        check(&self.api, code, call).map_err(Error::runtime_error)
    }

    fn check_device(&self, id: i32) -> Result<(), Error> {
        if (0..self.count).contains(&id) {
            Ok(())
        } else {
            Err(no_such_device(self, id, self.count))
        }
    }

    /// Run `f` with device `id` selected on this thread, then select the caller's again.
    fn with_device<T>(&self, id: i32, f: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
        self.check_device(id)?;
        let mut previous = 0;
        // SAFETY: a writable out-parameter.
        self.check(unsafe { (self.api.hipGetDevice)(&mut previous) }, "hipGetDevice")?;
        if previous == id {
            return f();
        }
        // SAFETY: a device in range.
        self.check(unsafe { (self.api.hipSetDevice)(id) }, "hipSetDevice")?;
        let result = f();
        // SAFETY: the device selected a moment ago.
        let restored = self.check(unsafe { (self.api.hipSetDevice)(previous) }, "hipSetDevice");
        let value = result?;
        restored.map(|()| value)
    }
}

/// `Ok` for `hipSuccess`, else HIP's name and text for `code` and the call.
fn check(api: &HipApi, code: hipError_t, call: &str) -> Result<(), String> {
    if code == HIP_SUCCESS {
        return Ok(());
    }
    // SAFETY: HIP returns static strings (or null for codes it does not know).
    let (name, text) = unsafe {
        (
            c_text((api.hipGetErrorName)(code), "hipErrorUnknown"),
            c_text((api.hipGetErrorString)(code), "unknown error"),
        )
    };
    Err(format!("ROCm Error: {name} ({code}): {text} (in {call})"))
}

fn null_result(call: &str) -> Error {
    Error::internal_error(format!("{call} succeeded but returned null"))
}

// SAFETY: `kDLROCM`/`kDLROCMHost` always; allocations are `hipMalloc` (256-aligned) and
// `hipHostMalloc` (page-aligned, zero-filled here) of the size asked; copies and launches
// go to the stream given, which `hipStreamSynchronize` waits for.
unsafe impl Backend for Rocm {
    fn name(&self) -> &'static str {
        "ROCm"
    }

    fn device_type(&self) -> DeviceType {
        DeviceType::ROCM
    }

    fn host_device_type(&self) -> DeviceType {
        DeviceType::ROCM_HOST
    }

    fn device_count(&self) -> Result<i32, Error> {
        Ok(self.count)
    }

    fn device_name(&self, id: i32) -> Result<String, Error> {
        self.check_device(id)?;
        let mut device = 0;
        // SAFETY: a writable out-parameter.
        self.check(unsafe { (self.api.hipDeviceGet)(&mut device, id) }, "hipDeviceGet")?;
        let mut name = [0 as c_char; 256];
        // SAFETY: a buffer of the length passed.
        let code =
            unsafe { (self.api.hipDeviceGetName)(name.as_mut_ptr(), name.len() as i32, device) };
        self.check(code, "hipDeviceGetName")?;
        *name.last_mut().unwrap_or(&mut 0) = 0;
        // SAFETY: NUL-terminated (the last byte at least).
        Ok(unsafe { c_text(name.as_ptr(), "") })
    }

    fn current_device(&self) -> Result<i32, Error> {
        let mut id = 0;
        // SAFETY: a writable out-parameter.
        self.check(unsafe { (self.api.hipGetDevice)(&mut id) }, "hipGetDevice")?;
        Ok(id)
    }

    fn set_device(&self, id: i32) -> Result<(), Error> {
        self.check_device(id)?;
        // SAFETY: a device in range.
        self.check(unsafe { (self.api.hipSetDevice)(id) }, "hipSetDevice")
    }

    fn synchronize_device(&self, id: i32) -> Result<(), Error> {
        self.with_device(id, || {
            // SAFETY: no arguments.
            self.check(unsafe { (self.api.hipDeviceSynchronize)() }, "hipDeviceSynchronize")
        })
    }

    fn create_stream(&self, id: i32) -> Result<RawStream, Error> {
        self.with_device(id, || {
            let mut stream = null_mut();
            // SAFETY: a writable out-parameter.
            let code = unsafe {
                (self.api.hipStreamCreateWithFlags)(&mut stream, HIP_STREAM_NON_BLOCKING)
            };
            self.check(code, "hipStreamCreateWithFlags")?;
            Ok(stream)
        })
    }

    unsafe fn destroy_stream(&self, id: i32, stream: RawStream) -> Result<(), Error> {
        self.with_device(id, || {
            // SAFETY: a stream of this device, not used again (caller).
            self.check(unsafe { (self.api.hipStreamDestroy)(stream) }, "hipStreamDestroy")
        })
    }

    unsafe fn synchronize_stream(&self, id: i32, stream: RawStream) -> Result<(), Error> {
        self.with_device(id, || {
            // SAFETY: null or a live stream of this device (caller).
            self.check(unsafe { (self.api.hipStreamSynchronize)(stream) }, "hipStreamSynchronize")
        })
    }

    fn alloc(&self, id: i32, bytes: usize, memory: Memory) -> Result<NonNull<c_void>, Error> {
        self.with_device(id, || {
            let mut ptr = null_mut();
            match memory {
                Memory::Device => {
                    // SAFETY: a writable out-parameter.
                    self.check(unsafe { (self.api.hipMalloc)(&mut ptr, bytes) }, "hipMalloc")?;
                    NonNull::new(ptr).ok_or_else(|| null_result("hipMalloc"))
                }
                Memory::Host => {
                    // SAFETY: a writable out-parameter.
                    let code = unsafe {
                        (self.api.hipHostMalloc)(&mut ptr, bytes, HIP_HOST_MALLOC_PORTABLE)
                    };
                    self.check(code, "hipHostMalloc")?;
                    let ptr = NonNull::new(ptr).ok_or_else(|| null_result("hipHostMalloc"))?;
                    // SAFETY: `bytes` bytes of fresh host memory; the host may read them,
                    // so they are initialised.
                    unsafe { ptr.cast::<u8>().write_bytes(0, bytes) };
                    Ok(ptr)
                }
            }
        })
    }

    unsafe fn free(&self, id: i32, ptr: NonNull<c_void>, memory: Memory) -> Result<(), Error> {
        self.with_device(id, || {
            // SAFETY: an allocation of ours of this kind, not used again (caller).
            let (code, call) = unsafe {
                match memory {
                    Memory::Device => ((self.api.hipFree)(ptr.as_ptr()), "hipFree"),
                    Memory::Host => ((self.api.hipHostFree)(ptr.as_ptr()), "hipHostFree"),
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
        let kind = match kind {
            CopyKind::HostToDevice => HIP_MEMCPY_HOST_TO_DEVICE,
            CopyKind::DeviceToHost => HIP_MEMCPY_DEVICE_TO_HOST,
            CopyKind::DeviceToDevice => HIP_MEMCPY_DEVICE_TO_DEVICE,
        };
        self.with_device(id, || {
            // SAFETY: the memory and stream are valid as the copy needs (caller).
            let code = unsafe { (self.api.hipMemcpyAsync)(dst, src, bytes, kind, stream) };
            self.check(code, "hipMemcpyAsync")
        })
    }

    fn load_module(&self, id: i32, image: &[u8]) -> Result<RawModule, Error> {
        if image.is_empty() {
            return Err(Error::value_error("cannot load an empty code object"));
        }
        self.with_device(id, || {
            let mut module = null_mut();
            // SAFETY: the image is readable; HIP reads the code object's own size from it.
            let code = unsafe { (self.api.hipModuleLoadData)(&mut module, image.as_ptr().cast()) };
            self.check(code, "hipModuleLoadData")?;
            NonNull::new(module).ok_or_else(|| null_result("hipModuleLoadData"))
        })
    }

    unsafe fn unload_module(&self, id: i32, module: RawModule) -> Result<(), Error> {
        self.with_device(id, || {
            // SAFETY: a live module, not used again (caller).
            self.check(unsafe { (self.api.hipModuleUnload)(module.as_ptr()) }, "hipModuleUnload")
        })
    }

    unsafe fn function(
        &self,
        id: i32,
        module: RawModule,
        name: &CStr,
    ) -> Result<RawFunction, Error> {
        self.with_device(id, || {
            let mut function = null_mut();
            // SAFETY: a live module (caller), a C string and a writable out-parameter.
            let code = unsafe {
                (self.api.hipModuleGetFunction)(&mut function, module.as_ptr(), name.as_ptr())
            };
            self.check(code, &format!("hipModuleGetFunction \"{}\"", name.to_string_lossy()))?;
            NonNull::new(function).ok_or_else(|| null_result("hipModuleGetFunction"))
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
        self.with_device(id, || {
            // SAFETY: a live kernel, its parameters and the stream (caller).
            let code = unsafe {
                (self.api.hipModuleLaunchKernel)(
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
            self.check(code, "hipModuleLaunchKernel")
        })
    }
}
