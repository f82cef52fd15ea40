//! [`Stream`]: an ordered queue of work on a device, owned (destroyed on drop) or borrowed
//! (the default stream, a framework's stream, the environment's current one).

use core::fmt;

use tvmffi_alloc::Error;

use crate::backend::RawStream;
use crate::{GpuDevice, env};

/// A stream of a device: work enqueued on it runs in order.
///
/// Streams made by [`Stream::new`] are owned and destroyed on drop (after the work already
/// enqueued finishes, as the drivers do). Others are borrowed: the device's default stream
/// (null), or a handle someone else owns ([`from_raw`](Self::from_raw),
/// [`current`](Self::current)).
///
/// Drivers allow a stream to be used from any thread, so streams are `Send` and `Sync`.
pub struct Stream {
    device: GpuDevice,
    raw: RawStream,
    owned: bool,
}

// SAFETY: backends are `Send + Sync` and their streams may be used from any thread (CUDA and
// HIP streams are thread-safe; the CPU backend's are only identities).
unsafe impl Send for Stream {}
// SAFETY: as for `Send`; every operation goes through the thread-safe driver.
unsafe impl Sync for Stream {}

impl Stream {
    /// A new stream on `device`, not synchronising with the default stream
    /// (`CU_STREAM_NON_BLOCKING`), owned.
    pub fn new(device: &GpuDevice) -> Result<Self, Error> {
        let raw = device.backend().create_stream(device.id())?;
        Ok(Self { device: *device, raw, owned: true })
    }

    /// The device's default stream (the null handle), borrowed.
    pub fn default_stream(device: &GpuDevice) -> Self {
        Self { device: *device, raw: core::ptr::null_mut(), owned: false }
    }

    /// A stream someone else owns (PyTorch's `cuda_stream`, say), borrowed.
    ///
    /// # Safety
    ///
    /// `raw` is null or a live stream of `device`, and stays alive as long as the returned
    /// value.
    pub unsafe fn from_raw(device: &GpuDevice, raw: RawStream) -> Self {
        Self { device: *device, raw, owned: false }
    }

    /// The calling thread's current stream for `device` in the environment
    /// (`TVMFFIEnvGetStream`): the one kernels are expected to launch on. Null (the default
    /// stream) when none was set.
    ///
    /// # Safety
    ///
    /// The environment holds whatever C code or a [`StreamGuard`](crate::StreamGuard) put
    /// there; it must be a stream of `device` that outlives the returned value (what the
    /// code that set it promises, as with the reference).
    pub unsafe fn current(device: &GpuDevice) -> Self {
        // SAFETY: forwarded to the caller.
        unsafe { Self::from_raw(device, env::current_stream(device.device())) }
    }

    /// The device.
    #[inline]
    pub fn device(&self) -> &GpuDevice {
        &self.device
    }

    /// The handle (`CUstream`, `hipStream_t`), still owned by `self`.
    #[inline]
    pub fn as_raw(&self) -> RawStream {
        self.raw
    }

    /// Whether this is the default stream.
    #[inline]
    pub fn is_default(&self) -> bool {
        self.raw.is_null()
    }

    /// Whether dropping this destroys the stream.
    #[inline]
    pub fn is_owned(&self) -> bool {
        self.owned
    }

    /// Wait until everything enqueued so far has finished.
    pub fn synchronize(&self) -> Result<(), Error> {
        // SAFETY: null or a live stream of this device (the type's invariant).
        unsafe { self.device.backend().synchronize_stream(self.device.id(), self.raw) }
    }

    /// Give up ownership: the handle is returned and no longer destroyed here.
    pub fn into_raw(self) -> RawStream {
        core::mem::ManuallyDrop::new(self).raw
    }

    /// Destroy an owned stream now, reporting a failure that dropping would ignore;
    /// borrowed streams are only forgotten.
    pub fn destroy(self) -> Result<(), Error> {
        let this = core::mem::ManuallyDrop::new(self);
        this.destroy_ref()
    }

    fn destroy_ref(&self) -> Result<(), Error> {
        if !self.owned || self.raw.is_null() {
            return Ok(());
        }
        // SAFETY: made by `create_stream` for this device, destroyed once (by `destroy`,
        // which forgets `self`, or by `drop`).
        unsafe { self.device.backend().destroy_stream(self.device.id(), self.raw) }
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        // A destructor cannot report: `destroy` is the way to see the error. A stream that
        // fails to be destroyed is leaked, which is all that can be done.
        let _ = self.destroy_ref();
    }
}

impl fmt::Debug for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stream")
            .field("device", &self.device)
            .field("raw", &self.raw)
            .field("owned", &self.owned)
            .finish()
    }
}

impl GpuDevice {
    /// A new owned stream on this device ([`Stream::new`]).
    pub fn create_stream(&self) -> Result<Stream, Error> {
        Stream::new(self)
    }

    /// The default stream ([`Stream::default_stream`]).
    pub fn default_stream(&self) -> Stream {
        Stream::default_stream(self)
    }
}
