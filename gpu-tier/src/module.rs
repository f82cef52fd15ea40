//! [`Module`]: device code loaded from PTX, a cubin or fatbin, or an AMD code object; and its
//! [`Kernel`]s, launched on a stream.

use alloc::ffi::CString;
use alloc::format;
use alloc::string::String;
use core::fmt;

use tvmffi_alloc::Error;

use crate::backend::{RawFunction, RawModule};
use crate::launch::{LaunchConfig, Params};
use crate::{GpuDevice, Stream};

/// Code loaded on a device, unloaded on drop.
///
/// CUDA takes PTX text (compiled for the device by the driver), cubins and fatbins; ROCm
/// takes code objects (`hipcc --genco`, hipRTC). A failure to load (bad PTX, a binary for
/// another architecture) is an error with the driver's message and, for PTX, the JIT
/// compiler's log.
pub struct Module {
    device: GpuDevice,
    raw: RawModule,
}

// SAFETY: a module belongs to its device, not to a thread; drivers allow using it (and its
// functions) from any thread.
unsafe impl Send for Module {}
// SAFETY: as for `Send`.
unsafe impl Sync for Module {}

impl Module {
    /// Load `image` on `device`.
    pub fn load(device: &GpuDevice, image: &[u8]) -> Result<Self, Error> {
        let raw = device.backend().load_module(device.id(), image)?;
        Ok(Self { device: *device, raw })
    }

    /// The device it is loaded on.
    pub fn device(&self) -> &GpuDevice {
        &self.device
    }

    /// The kernel `name` (its symbol: `extern "C"` kernels keep their source name). An
    /// unknown name is the driver's not-found error.
    pub fn function(&self, name: &str) -> Result<Kernel<'_>, Error> {
        let c_name = CString::new(name)
            .map_err(|_| Error::value_error(format!("kernel name {name:?} contains a NUL byte")))?;
        // SAFETY: a live module of this device.
        let raw = unsafe { self.device.backend().function(self.device.id(), self.raw, &c_name) }?;
        Ok(Kernel { module: self, raw, name: name.into() })
    }

    /// Unload now, reporting a failure that dropping would ignore.
    pub fn unload(self) -> Result<(), Error> {
        let this = core::mem::ManuallyDrop::new(self);
        // SAFETY: loaded on this device; `this` is forgotten, so unloaded once, and no
        // kernel borrows it (they borrow `self`, which was moved in).
        unsafe { this.device.backend().unload_module(this.device.id(), this.raw) }
    }
}

impl Drop for Module {
    fn drop(&mut self) {
        // SAFETY: as in `unload`. A failure cannot be reported from `drop`; it leaves the
        // module loaded, which is all that can be done.
        let _ = unsafe { self.device.backend().unload_module(self.device.id(), self.raw) };
    }
}

impl fmt::Debug for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Module").field("device", &self.device).field("raw", &self.raw).finish()
    }
}

impl GpuDevice {
    /// Load code on this device ([`Module::load`]).
    pub fn load_module(&self, image: &[u8]) -> Result<Module, Error> {
        Module::load(self, image)
    }
}

/// A kernel of a loaded [`Module`], which it borrows.
pub struct Kernel<'m> {
    module: &'m Module,
    raw: RawFunction,
    name: String,
}

impl Kernel<'_> {
    /// The kernel's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The module it belongs to.
    pub fn module(&self) -> &Module {
        self.module
    }

    /// Launch on `stream`, which must belong to the module's device. Returns once the
    /// launch is enqueued; [`Stream::synchronize`] waits for it. Empty grids or blocks are a
    /// `ValueError`; what the driver refuses (too many threads a block, too much shared
    /// memory) is its error.
    ///
    /// # Safety
    ///
    /// `params` holds exactly the kernel's parameters, each of its type. Every memory the
    /// kernel touches (device pointers among the parameters) stays valid until the stream
    /// has finished it, and nothing else accesses what it writes meanwhile; the module stays
    /// loaded until then too. The kernel is code this crate cannot check.
    pub unsafe fn launch(
        &self,
        config: &LaunchConfig,
        stream: &Stream,
        params: &mut Params<'_>,
    ) -> Result<(), Error> {
        config.check()?;
        let device = self.module.device();
        if stream.device() != device {
            return Err(Error::value_error(format!(
                "cannot launch {} of {device} on a stream of {}",
                self.name,
                stream.device()
            )));
        }
        // SAFETY: a kernel of a live module of this device, a stream of the same device,
        // and the parameters and memory as the caller promises.
        unsafe {
            device.backend().launch(
                device.id(),
                self.raw,
                config,
                stream.as_raw(),
                params.as_mut_ptr(),
            )
        }
    }
}

impl fmt::Debug for Kernel<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Kernel").field("name", &self.name).field("module", self.module).finish()
    }
}
