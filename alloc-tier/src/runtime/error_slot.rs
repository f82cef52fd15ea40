//! [`ErrorSlot`]: where a raised error waits for the caller (`TVMFFIErrorSetRaised` /
//! `TVMFFIErrorMoveFromRaised`).

use crate::error::Error;

/// One raised-error slot.
///
/// The reference keeps one per thread. Without `std` there are no thread-locals, so the
/// `runtime` feature keeps a single global slot: a program with several threads of execution
/// (RTOS tasks, interrupt handlers that call FFI functions) must not raise and fetch errors
/// concurrently, or it may take another's error. The std tier keeps one of these per thread.
///
/// ```
/// use tvmffi_alloc::error::Error;
/// use tvmffi_alloc::runtime::ErrorSlot;
///
/// let slot = ErrorSlot::new();
/// slot.set(Some(Error::value_error("late")));
/// assert_eq!(slot.take().unwrap().message(), "late");
/// assert!(slot.take().is_none());
/// ```
#[derive(Debug, Default)]
pub struct ErrorSlot {
    error: spin::Mutex<Option<Error>>,
}

impl ErrorSlot {
    /// An empty slot.
    pub const fn new() -> Self {
        Self { error: spin::Mutex::new(None) }
    }

    /// Put `error` in the slot (`None` clears it), replacing what was there.
    pub fn set(&self, error: Option<Error>) {
        let old = core::mem::replace(&mut *self.error.lock(), error);
        // Dropped after the lock is released: an error's last reference may release a cause
        // chain and context, whose deleters may call back into the runtime.
        drop(old);
    }

    /// Take the error out, leaving the slot empty.
    pub fn take(&self) -> Option<Error> {
        self.error.lock().take()
    }

    /// Whether an error is waiting.
    pub fn is_set(&self) -> bool {
        self.error.lock().is_some()
    }
}
