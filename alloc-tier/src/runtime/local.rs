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
        slot_index(device_type, device_id)
            .and_then(|(t, d)| env.streams.get(t)?.get(d).copied())
            .map_or(core::ptr::null_mut(), |s| s.0)
    }

    /// Set the current stream of a device (`TVMFFIEnvSetStream`), returning the one it
    /// replaces (null if none); `None` for a negative device type or id.
    pub fn set_stream(
        &self,
        device_type: i32,
        device_id: i32,
        stream: TVMFFIStreamHandle,
    ) -> Option<TVMFFIStreamHandle> {
        let (t, d) = slot_index(device_type, device_id)?;
        let mut env = self.env.lock();
        if env.streams.len() <= t {
            env.streams.resize_with(t.checked_add(1)?, Vec::new);
        }
        let row = env.streams.get_mut(t)?;
        if row.len() <= d {
            row.resize(d.checked_add(1)?, Stream(core::ptr::null_mut()));
        }
        let cell = row.get_mut(d)?;
        Some(core::mem::replace(cell, Stream(stream)).0)
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

/// Indices into the stream table; the reference indexes its vectors without a check, so a
/// negative value is refused here.
fn slot_index(device_type: i32, device_id: i32) -> Option<(usize, usize)> {
    Some((usize::try_from(device_type).ok()?, usize::try_from(device_id).ok()?))
}

/// The environment part of the state.
#[derive(Debug, Default)]
struct Env {
    /// `streams[device_type][device_id]`.
    streams: Vec<Vec<Stream>>,
    allocator: DLPackManagedTensorAllocator,
}

/// A stream handle: an opaque token this crate stores and hands back, never dereferences.
#[derive(Debug, Clone, Copy)]
struct Stream(TVMFFIStreamHandle);

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
