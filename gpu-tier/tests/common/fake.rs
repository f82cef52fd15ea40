//! [`Fake`]: a backend with several devices (`kDLExtDev`), backed by host memory, that counts
//! what it hands out, fails on request, and runs one kernel (`add_one`) on the CPU. The
//! safe layer's logic (guards, ownership, copies, launches) is checked against it.

use core::cell::Cell;
use core::ffi::{CStr, c_void};
use core::ptr::NonNull;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use tvmffi_core::DeviceType;
use tvmffi_gpu::backend::{CopyKind, RawFunction, RawModule, RawStream};
use tvmffi_gpu::{Backend, Error, LaunchConfig, Memory};

/// The code object the fake loads; its only kernel is `add_one(float* x, u32 n)`.
pub const FAKE_IMAGE: &[u8] = b"fake code object: add_one";

thread_local! {
    /// Each thread's current device, as drivers keep it.
    static CURRENT: Cell<i32> = const { Cell::new(0) };
}

/// The unit of the fake's memory: 64 zero bytes, 64-aligned.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Block([u8; 64]);

#[derive(Default)]
struct State {
    /// Address → (blocks, kind).
    allocations: HashMap<usize, (usize, Memory)>,
    streams: HashSet<usize>,
    modules: HashSet<usize>,
    /// Operation name → remaining calls before it fails once.
    fail: HashMap<&'static str, usize>,
    launches: Vec<LaunchConfig>,
    copies: Vec<CopyKind>,
}

/// A fake accelerator of `devices` devices.
#[derive(Debug)]
pub struct Fake {
    devices: i32,
    state: Mutex<State>,
}

impl core::fmt::Debug for State {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("State")
    }
}

impl Fake {
    /// A new fake, alive for the rest of the test process.
    pub fn new(devices: i32) -> &'static Fake {
        Box::leak(Box::new(Fake { devices, state: Mutex::default() }))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }

    /// Make the next call of `op` fail (after `skip` successful ones).
    pub fn fail(&self, op: &'static str, skip: usize) {
        self.state().fail.insert(op, skip);
    }

    fn maybe_fail(&self, op: &'static str) -> Result<(), Error> {
        let mut state = self.state();
        match state.fail.get_mut(op) {
            Some(0) => {
                state.fail.remove(op);
                Err(Error::runtime_error(format!("injected failure in {op}")))
            }
            Some(n) => {
                *n -= 1;
                Ok(())
            }
            None => Ok(()),
        }
    }

    fn check_device(&self, id: i32) -> Result<(), Error> {
        assert!((0..self.devices).contains(&id), "the safe layer passed device {id}");
        Ok(())
    }

    pub fn live_allocations(&self) -> usize {
        self.state().allocations.len()
    }

    pub fn live_streams(&self) -> usize {
        self.state().streams.len()
    }

    pub fn live_modules(&self) -> usize {
        self.state().modules.len()
    }

    pub fn launches(&self) -> Vec<LaunchConfig> {
        self.state().launches.clone()
    }

    pub fn copies(&self) -> Vec<CopyKind> {
        self.state().copies.clone()
    }

    pub fn current(&self) -> i32 {
        CURRENT.with(Cell::get)
    }
}

// SAFETY: memory is zero-filled host memory, 64-aligned, of the size asked, freed only by
// `free`; everything runs synchronously, so streams are always finished.
unsafe impl Backend for Fake {
    fn name(&self) -> &'static str {
        "Fake"
    }

    fn device_type(&self) -> DeviceType {
        DeviceType::EXT_DEV
    }

    fn host_device_type(&self) -> DeviceType {
        DeviceType::CPU
    }

    fn device_count(&self) -> Result<i32, Error> {
        self.maybe_fail("device_count")?;
        Ok(self.devices)
    }

    fn device_name(&self, id: i32) -> Result<String, Error> {
        self.check_device(id)?;
        Ok(format!("fake {id}"))
    }

    fn current_device(&self) -> Result<i32, Error> {
        self.maybe_fail("current_device")?;
        Ok(CURRENT.with(Cell::get))
    }

    fn set_device(&self, id: i32) -> Result<(), Error> {
        self.check_device(id)?;
        self.maybe_fail("set_device")?;
        CURRENT.with(|c| c.set(id));
        Ok(())
    }

    fn synchronize_device(&self, id: i32) -> Result<(), Error> {
        self.check_device(id)?;
        self.maybe_fail("synchronize_device")
    }

    fn create_stream(&self, id: i32) -> Result<RawStream, Error> {
        self.check_device(id)?;
        self.maybe_fail("create_stream")?;
        let stream = Box::into_raw(Box::new(id)).cast::<c_void>();
        self.state().streams.insert(stream.addr());
        Ok(stream)
    }

    unsafe fn destroy_stream(&self, id: i32, stream: RawStream) -> Result<(), Error> {
        self.check_device(id)?;
        assert!(self.state().streams.remove(&stream.addr()), "destroyed {stream:p} twice");
        // SAFETY: a box from `create_stream`, freed once.
        drop(unsafe { Box::from_raw(stream.cast::<i32>()) });
        self.maybe_fail("destroy_stream")
    }

    unsafe fn synchronize_stream(&self, id: i32, stream: RawStream) -> Result<(), Error> {
        self.check_device(id)?;
        assert!(stream.is_null() || self.state().streams.contains(&stream.addr()));
        self.maybe_fail("synchronize_stream")
    }

    fn alloc(&self, id: i32, bytes: usize, memory: Memory) -> Result<NonNull<c_void>, Error> {
        self.check_device(id)?;
        assert!(bytes > 0, "the safe layer asked for 0 bytes");
        self.maybe_fail("alloc")?;
        let blocks = bytes.div_ceil(64);
        let memory_blocks = Box::leak(vec![Block([0; 64]); blocks].into_boxed_slice());
        let ptr = NonNull::from(memory_blocks).cast::<c_void>();
        self.state().allocations.insert(ptr.addr().get(), (blocks, memory));
        Ok(ptr)
    }

    unsafe fn free(&self, id: i32, ptr: NonNull<c_void>, memory: Memory) -> Result<(), Error> {
        self.check_device(id)?;
        let (blocks, kind) =
            self.state().allocations.remove(&ptr.addr().get()).expect("freed twice or foreign");
        assert_eq!(kind, memory, "freed as the wrong kind of memory");
        let slice = core::ptr::slice_from_raw_parts_mut(ptr.as_ptr().cast::<Block>(), blocks);
        // SAFETY: a leaked boxed slice of `blocks` blocks, freed once.
        drop(unsafe { Box::from_raw(slice) });
        self.maybe_fail("free")
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
        self.check_device(id)?;
        assert!(stream.is_null() || self.state().streams.contains(&stream.addr()));
        self.maybe_fail("copy")?;
        self.state().copies.push(kind);
        // SAFETY: host memory of `bytes` bytes each (caller).
        unsafe { core::ptr::copy(src.cast::<u8>(), dst.cast::<u8>(), bytes) };
        Ok(())
    }

    fn load_module(&self, id: i32, image: &[u8]) -> Result<RawModule, Error> {
        self.check_device(id)?;
        if image != FAKE_IMAGE {
            return Err(Error::runtime_error("Fake Error: not a fake code object"));
        }
        let module = NonNull::from(Box::leak(Box::new(id))).cast::<c_void>();
        self.state().modules.insert(module.addr().get());
        Ok(module)
    }

    unsafe fn unload_module(&self, id: i32, module: RawModule) -> Result<(), Error> {
        self.check_device(id)?;
        assert!(self.state().modules.remove(&module.addr().get()), "unloaded twice");
        // SAFETY: a box from `load_module`, freed once.
        drop(unsafe { Box::from_raw(module.as_ptr().cast::<i32>()) });
        Ok(())
    }

    unsafe fn function(
        &self,
        id: i32,
        module: RawModule,
        name: &CStr,
    ) -> Result<RawFunction, Error> {
        self.check_device(id)?;
        assert!(self.state().modules.contains(&module.addr().get()));
        if name != c"add_one" {
            return Err(Error::runtime_error(format!("Fake Error: no kernel {name:?}")));
        }
        Ok(module)
    }

    unsafe fn launch(
        &self,
        id: i32,
        _: RawFunction,
        config: &LaunchConfig,
        stream: RawStream,
        params: *mut *mut c_void,
    ) -> Result<(), Error> {
        self.check_device(id)?;
        assert!(stream.is_null() || self.state().streams.contains(&stream.addr()));
        self.maybe_fail("launch")?;
        self.state().launches.push(*config);
        // add_one(float* x, unsigned n), one "thread" at a time.
        // SAFETY: the caller passes the kernel's two parameters.
        let (x, n) = unsafe { (*(*params).cast::<*mut f32>(), *(*params.add(1)).cast::<u32>()) };
        let threads = config.grid.volume() * config.block.volume();
        for i in 0..threads.min(u64::from(n)) {
            // SAFETY: the launcher promises `x` holds `n` floats of this device's memory,
            // which is host memory here.
            unsafe { *x.add(i as usize) += 1.0 };
        }
        Ok(())
    }
}
