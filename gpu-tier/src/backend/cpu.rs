//! [`Cpu`]: the host as a backend, so that everything above the driver layer runs and is
//! tested on machines without an accelerator.
//!
//! Work runs synchronously on the calling thread, so a stream is only an identity: a
//! number never handed out twice. The backend checks what a driver checks: streams and
//! allocations it did not hand out (or already released) are errors, not undefined
//! behaviour.

use alloc::alloc::{alloc_zeroed, dealloc};
use alloc::format;
use alloc::string::String;
use core::alloc::Layout;
use core::ffi::{CStr, c_void};
use core::ptr::NonNull;
use core::sync::atomic::{AtomicUsize, Ordering};
use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

use tvmffi_alloc::Error;
use tvmffi_alloc::error::kind;
use tvmffi_alloc::tensor::ALLOC_ALIGNMENT;
use tvmffi_core::DeviceType;

use super::{Backend, CopyKind, Memory, RawFunction, RawModule, RawStream, no_such_device};
use crate::launch::LaunchConfig;

/// The host CPU as a backend: one device (id 0), memory from the global allocator
/// (64-byte aligned, zero-filled), copies with `memmove`, no code loading.
#[derive(Debug)]
pub struct Cpu {
    /// Live streams, by number.
    streams: Mutex<HashSet<usize>>,
    /// The number of the next stream.
    next_stream: AtomicUsize,
    /// Live allocations, by address, with their layouts.
    allocations: Mutex<HashMap<usize, Layout>>,
}

static CPU: std::sync::OnceLock<Cpu> = std::sync::OnceLock::new();

/// The locked value, also after a panic elsewhere: the sets stay consistent because every
/// update is a single insert or remove.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Cpu {
    /// The CPU backend.
    pub fn get() -> &'static Cpu {
        CPU.get_or_init(|| Cpu {
            streams: Mutex::new(HashSet::new()),
            next_stream: AtomicUsize::new(1),
            allocations: Mutex::new(HashMap::new()),
        })
    }

    fn check_device(&self, id: i32) -> Result<(), Error> {
        if id == 0 { Ok(()) } else { Err(no_such_device(self, id, 1)) }
    }

    /// Whether `stream` is null or a live stream.
    fn check_stream(&self, stream: RawStream) -> Result<(), Error> {
        if stream.is_null() || lock(&self.streams).contains(&stream.addr()) {
            Ok(())
        } else {
            Err(Error::value_error(format!("{stream:p} is not a live CPU stream")))
        }
    }

    /// How many allocations are live (for leak checks in tests).
    pub fn live_allocations(&self) -> usize {
        lock(&self.allocations).len()
    }

    /// How many streams are live (for leak checks in tests).
    pub fn live_streams(&self) -> usize {
        lock(&self.streams).len()
    }
}

// SAFETY: one device type for both memories; allocations are zero-filled host memory of
// the size asked, 64-aligned, freed only by `free`; copies complete before returning, so
// every stream is always finished; stream handles are numbers, usable from any thread.
unsafe impl Backend for Cpu {
    fn name(&self) -> &'static str {
        "CPU"
    }

    fn device_type(&self) -> DeviceType {
        DeviceType::CPU
    }

    fn host_device_type(&self) -> DeviceType {
        DeviceType::CPU
    }

    fn device_count(&self) -> Result<i32, Error> {
        Ok(1)
    }

    fn device_name(&self, id: i32) -> Result<String, Error> {
        self.check_device(id)?;
        Ok("cpu".into())
    }

    fn current_device(&self) -> Result<i32, Error> {
        Ok(0)
    }

    fn set_device(&self, id: i32) -> Result<(), Error> {
        self.check_device(id)
    }

    fn synchronize_device(&self, id: i32) -> Result<(), Error> {
        self.check_device(id)
    }

    fn create_stream(&self, id: i32) -> Result<RawStream, Error> {
        self.check_device(id)?;
        // A number, not an address: a destroyed stream's handle never becomes valid again.
        let number = self.next_stream.fetch_add(1, Ordering::Relaxed);
        lock(&self.streams).insert(number);
        Ok(core::ptr::without_provenance_mut(number))
    }

    unsafe fn destroy_stream(&self, id: i32, stream: RawStream) -> Result<(), Error> {
        self.check_device(id)?;
        if lock(&self.streams).remove(&stream.addr()) {
            Ok(())
        } else {
            Err(Error::value_error(format!("cannot destroy {stream:p}: not a live CPU stream")))
        }
    }

    unsafe fn synchronize_stream(&self, id: i32, stream: RawStream) -> Result<(), Error> {
        self.check_device(id)?;
        self.check_stream(stream)
    }

    fn alloc(&self, id: i32, bytes: usize, _: Memory) -> Result<NonNull<c_void>, Error> {
        self.check_device(id)?;
        let layout = Layout::from_size_align(bytes.max(1), ALLOC_ALIGNMENT).map_err(|_| {
            Error::new(kind::MEMORY_ERROR, format!("cannot allocate {bytes} bytes on the CPU"))
        })?;
        // SAFETY: the layout's size is not zero.
        let ptr = NonNull::new(unsafe { alloc_zeroed(layout) }).ok_or_else(|| {
            Error::new(kind::MEMORY_ERROR, format!("out of memory allocating {bytes} bytes"))
        })?;
        lock(&self.allocations).insert(ptr.addr().get(), layout);
        Ok(ptr.cast())
    }

    unsafe fn free(&self, id: i32, ptr: NonNull<c_void>, _: Memory) -> Result<(), Error> {
        self.check_device(id)?;
        let layout = lock(&self.allocations).remove(&ptr.addr().get()).ok_or_else(|| {
            Error::value_error(format!("cannot free {ptr:p}: not a live CPU allocation"))
        })?;
        // SAFETY: a listed pointer came from `alloc_zeroed(layout)`; now unlisted, so freed
        // once.
        unsafe { dealloc(ptr.as_ptr().cast(), layout) };
        Ok(())
    }

    unsafe fn copy(
        &self,
        id: i32,
        dst: *mut c_void,
        src: *const c_void,
        bytes: usize,
        _: CopyKind,
        stream: RawStream,
    ) -> Result<(), Error> {
        self.check_device(id)?;
        self.check_stream(stream)?;
        // SAFETY: both are host memory valid for `bytes` bytes (caller); `copy` allows
        // overlap, as a device copy within one buffer would.
        unsafe { core::ptr::copy(src.cast::<u8>(), dst.cast::<u8>(), bytes) };
        Ok(())
    }

    fn load_module(&self, id: i32, _: &[u8]) -> Result<RawModule, Error> {
        self.check_device(id)?;
        Err(Error::not_implemented_error(
            "the CPU backend cannot load device code: modules need the CUDA or ROCm backend",
        ))
    }

    unsafe fn unload_module(&self, _: i32, _: RawModule) -> Result<(), Error> {
        Err(no_modules())
    }

    unsafe fn function(&self, _: i32, _: RawModule, _: &CStr) -> Result<RawFunction, Error> {
        Err(no_modules())
    }

    unsafe fn launch(
        &self,
        _: i32,
        _: RawFunction,
        _: &LaunchConfig,
        _: RawStream,
        _: *mut *mut c_void,
    ) -> Result<(), Error> {
        Err(no_modules())
    }
}

fn no_modules() -> Error {
    Error::internal_error("the CPU backend has no modules")
}
