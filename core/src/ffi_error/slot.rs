//! [`ErrorSlot`]: where a raised error waits for the caller.

use core::fmt;
use core::ptr;

use super::ErrorObj;
use crate::atomic::{AtomicPtr, Ordering};
use crate::object::ObjectRef;
use crate::sys::TVMFFIObject;

/// One raised error (a strong reference), or none: what `TVMFFIErrorSetRaised` fills and
/// `TVMFFIErrorMoveFromRaised` empties.
///
/// The reference keeps one slot per thread. Without `std` there are no thread-locals, so a
/// program keeps one slot for everything: several threads of execution (RTOS tasks, interrupt
/// handlers that call packed functions) must not raise and fetch errors concurrently, or one
/// may take another's error. Each operation is a single atomic swap, so the slot itself never
/// tears or leaks. It holds any implementation's error objects.
pub struct ErrorSlot {
    raised: AtomicPtr<TVMFFIObject>,
}

impl ErrorSlot {
    /// An empty slot; `const`, so it can initialise a `static`.
    pub const fn new() -> Self {
        Self { raised: AtomicPtr::new(ptr::null_mut()) }
    }

    /// Put `error` in the slot (`None` empties it), releasing the error it held.
    pub fn set(&self, error: Option<ObjectRef<ErrorObj>>) {
        let new = error.map_or(ptr::null_mut(), ObjectRef::into_raw);
        let old = self.raised.swap(new, Ordering::AcqRel);
        // SAFETY: the slot only ever holds null or a strong reference to an error object,
        // which the swap handed to us.
        drop(unsafe { ObjectRef::<ErrorObj>::from_raw(old) });
    }

    /// Take the error out, leaving the slot empty.
    pub fn take(&self) -> Option<ObjectRef<ErrorObj>> {
        let old = self.raised.swap(ptr::null_mut(), Ordering::AcqRel);
        // SAFETY: as in `set`.
        unsafe { ObjectRef::from_raw(old) }
    }

    /// Whether an error is waiting (a snapshot).
    pub fn is_set(&self) -> bool {
        !self.raised.load(Ordering::Relaxed).is_null()
    }
}

impl Default for ErrorSlot {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for ErrorSlot {
    fn drop(&mut self) {
        self.set(None);
    }
}

impl fmt::Debug for ErrorSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErrorSlot").field("is_set", &self.is_set()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TypeIndex;
    use crate::ffi_error::{ErrorCell, ErrorPool};
    use crate::object::StaticObject;
    use crate::sys::{TVMFFIByteArray, TVMFFIErrorCell};

    #[test]
    fn set_replaces_and_releases_take_empties_drop_releases() {
        static POOL: ErrorPool<1, 24> = ErrorPool::new();
        let slot = ErrorSlot::new();
        assert!(!slot.is_set() && slot.take().is_none());
        slot.set(Some(POOL.new_error("A", format_args!("first"))));
        assert!(slot.is_set() && POOL.available() == 0);
        // Replacing releases the first error: its slot in the pool is free for the second.
        slot.set(None);
        assert_eq!(POOL.available(), 1);
        slot.set(Some(POOL.new_error("B", format_args!("second"))));
        let taken = slot.take().unwrap();
        assert_eq!((taken.kind(), taken.message()), (&b"B"[..], &b"second"[..]));
        assert_eq!(taken.strong_count(), 1);
        assert!(!slot.is_set() && slot.take().is_none());

        slot.set(Some(taken));
        slot.set(Some(STATIC_ERROR.new_ref()));
        assert_eq!(POOL.available(), 1, "replaced and released");
        assert!(slot.take().unwrap().is_kind("Static"));

        slot.set(Some(POOL.new_error("C", format_args!("dropped with the slot"))));
        drop(slot);
        assert_eq!(POOL.available(), 1);
        assert_eq!(alloc::format!("{:?}", ErrorSlot::new()), "ErrorSlot { is_set: false }");
    }

    /// Another implementation's error object: the slot holds any.
    static STATIC_ERROR: StaticObject<ErrorCell> = StaticObject::new(
        TypeIndex::ERROR,
        ErrorCell::new(TVMFFIErrorCell {
            kind: TVMFFIByteArray { data: c"Static".as_ptr(), size: 6 },
            message: TVMFFIByteArray { data: c"".as_ptr(), size: 0 },
            backtrace: TVMFFIByteArray { data: c"".as_ptr(), size: 0 },
            update_backtrace: None,
            cause_chain: ptr::null_mut(),
            extra_context: ptr::null_mut(),
        }),
    );
}
