//! [`LocalState`]: what the reference keeps per thread (`SafeCallContext` for the raised
//! error, `EnvContext` for streams and the tensor allocator, the last backtrace).

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::ptr::NonNull;

use tvmffi_core::sys::{DLPackManagedTensorAllocator, TVMFFIByteArray, TVMFFIStreamHandle};

use super::ErrorSlot;

/// One thread's runtime state: its raised error, its current stream per device, its tensor
/// allocator, and the text of the last backtrace it asked for.
///
/// `tvmffi-std` keeps one per thread; `SpinRuntime` (the `runtime` feature) keeps one for the
/// whole program.
#[derive(Debug, Default)]
pub struct LocalState {
    pub(crate) error: ErrorSlot,
    env: spin::Mutex<Env>,
    /// The last backtrace handed out, as a raw allocation: C holds a pointer into it until
    /// the next call, so it must not be moved or retagged as a unique `Box` meanwhile.
    backtrace: spin::Mutex<KeptBacktrace>,
}

impl LocalState {
    /// An empty state: no error, no streams, no allocator.
    pub const fn new() -> Self {
        Self {
            error: ErrorSlot::new(),
            env: spin::Mutex::new(Env { streams: Vec::new(), allocator: None }),
            backtrace: spin::Mutex::new(KeptBacktrace(None)),
        }
    }

    /// The raised-error slot.
    pub fn error(&self) -> &ErrorSlot {
        &self.error
    }

    /// The current stream of a device (`TVMFFIEnvGetStream`): null unless one was set.
    pub fn stream(&self, device_type: i32, device_id: i32) -> TVMFFIStreamHandle {
        let env = self.env.lock();
        env.streams
            .iter()
            .find(|s| (s.device_type, s.device_id) == (device_type, device_id))
            .map_or(core::ptr::null_mut(), |s| s.stream)
    }

    /// Set the current stream of a device (`TVMFFIEnvSetStream`), returning the one it
    /// replaces (null if none); `None` for a negative device type or id.
    pub fn set_stream(
        &self,
        device_type: i32,
        device_id: i32,
        stream: TVMFFIStreamHandle,
    ) -> Option<TVMFFIStreamHandle> {
        if device_type < 0 || device_id < 0 {
            return None;
        }
        let mut env = self.env.lock();
        let key = (device_type, device_id);
        match env.streams.iter_mut().find(|s| (s.device_type, s.device_id) == key) {
            Some(s) => Some(core::mem::replace(&mut s.stream, stream)),
            None => {
                env.streams.push(Stream { device_type, device_id, stream });
                Some(core::ptr::null_mut())
            }
        }
    }

    /// This thread's tensor allocator, if one was set on it.
    pub fn allocator(&self) -> DLPackManagedTensorAllocator {
        self.env.lock().allocator
    }

    /// Set this thread's tensor allocator, returning the one it replaces.
    pub fn set_allocator(
        &self,
        allocator: DLPackManagedTensorAllocator,
    ) -> DLPackManagedTensorAllocator {
        core::mem::replace(&mut self.env.lock().allocator, allocator)
    }

    /// Keep `text` as this thread's last backtrace and return a byte array over it, valid
    /// until the next call on this state (`TVMFFIBacktrace`'s lifetime rule).
    pub(crate) fn keep_backtrace(&self, text: Vec<u8>) -> *const TVMFFIByteArray {
        let kept = NonNull::from(Box::leak(Box::new(BacktraceText {
            array: TVMFFIByteArray { data: text.as_ptr().cast(), size: text.len() },
            _text: text,
        })));
        // SAFETY: a live allocation; only a raw pointer to its field is taken.
        let array = unsafe { &raw const (*kept.as_ptr()).array };
        // The old text is freed here, after the new one is in place: the previous pointer
        // is documented to be invalidated by this call.
        let old = self.backtrace.lock().0.replace(kept);
        drop(KeptBacktrace(old));
        array
    }
}

/// The environment part of the state.
#[derive(Debug, Default)]
struct Env {
    /// The streams set so far, one per device. A list, not a table indexed by device type
    /// and id as in the reference: those are the caller's integers, and a table sized by
    /// them (`TVMFFIEnvSetStream(i32::MAX, i32::MAX, ...)`) would need gigabytes. A
    /// thread uses a handful of devices, so the scan is as fast as an index. Negative
    /// values, which the reference indexes without a check, are refused.
    streams: Vec<Stream>,
    allocator: DLPackManagedTensorAllocator,
}

/// A device's stream handle: an opaque token this crate stores and hands back, never
/// dereferences.
#[derive(Debug, Clone, Copy)]
struct Stream {
    device_type: i32,
    device_id: i32,
    stream: TVMFFIStreamHandle,
}

// SAFETY: the handle is only stored and returned, never used here.
unsafe impl Send for Stream {}

/// The kept backtrace, freed when replaced or when the state goes.
#[derive(Debug, Default)]
struct KeptBacktrace(Option<NonNull<BacktraceText>>);

// SAFETY: owns its allocation; nothing in it is tied to a thread.
unsafe impl Send for KeptBacktrace {}

impl Drop for KeptBacktrace {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            // SAFETY: made by `Box::leak` in `keep_backtrace`, freed once, here.
            drop(unsafe { Box::from_raw(p.as_ptr()) });
        }
    }
}

/// A backtrace's text and the byte array handed out over it.
#[derive(Debug)]
struct BacktraceText {
    array: TVMFFIByteArray,
    /// Owns what `array` points at.
    _text: Vec<u8>,
}

// SAFETY: `array` points into `text`, which this value owns; nothing is tied to a thread.
unsafe impl Send for BacktraceText {}
