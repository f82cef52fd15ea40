//! Rust access to a list's cell: one of a few spin locks picked by the object's address,
//! the locked cell that [`List`]'s methods work through, and the buffers replaced under the
//! lock, freed after it.

use core::ffi::c_void;

use spin::{Mutex, MutexGuard};
use tvmffi_core::Any;
use tvmffi_core::sys::TVMFFISeqCell;

use super::List;
use crate::seq::buffer::{self, MAX_CAPACITY};
use crate::seq::{SeqError, count, to_i64};

/// Locks for Rust access to list cells, picked by object address.
static LOCKS: [Mutex<()>; 16] = [const { Mutex::new(()) }; 16];

/// A buffer a list no longer uses, freed through its deleter when dropped (after the lock).
pub(super) struct OldBuffer {
    data: *mut c_void,
    deleter: Option<unsafe extern "C" fn(*mut c_void)>,
}

impl Drop for OldBuffer {
    fn drop(&mut self) {
        if let Some(deleter) = self.deleter {
            // SAFETY: the cell's own deleter for its former buffer, whose elements were
            // moved out; the reference frees replaced buffers the same way.
            unsafe { deleter(self.data) };
        }
    }
}

/// A locked list cell. No foreign or user code runs while it lives: removed elements and
/// replaced buffers are handed out and dropped by the caller after the lock is released.
pub(super) struct Locked<'a> {
    seq: &'a mut TVMFFISeqCell,
    _guard: MutexGuard<'static, ()>,
}

impl Locked<'_> {
    #[inline]
    pub(super) fn len(&self) -> usize {
        count(self.seq.size)
    }

    #[inline]
    pub(super) fn capacity(&self) -> usize {
        count(self.seq.capacity)
    }

    /// Element slot `i`, for `i <= capacity`.
    #[inline]
    pub(super) fn slot(&self, i: usize) -> *mut Any {
        self.seq.data.cast::<Any>().wrapping_add(i)
    }

    #[inline]
    pub(super) fn set_len(&mut self, len: usize) {
        self.seq.size = to_i64(len);
    }

    pub(super) fn index_error(&self, index: usize) -> SeqError {
        SeqError::IndexOutOfRange { index, len: self.len() }
    }

    /// Room for `extra` more elements, growing as the reference's `List::EnsureCapacity`:
    /// to twice the capacity, or to what is needed if that is more.
    pub(super) fn ensure_extra(&mut self, extra: usize) -> Result<Option<OldBuffer>, SeqError> {
        let needed = self.len().checked_add(extra).ok_or(SeqError::CapacityOverflow)?;
        if self.capacity() >= needed {
            return Ok(None);
        }
        let doubled = self.capacity().saturating_mul(2).min(MAX_CAPACITY);
        self.reallocate(doubled.max(needed)).map(Some)
    }

    /// Move the elements to a new buffer of `capacity` slots (at least the length), as the
    /// reference's `ListObj::Reserve` does, and install our deleter beside it. The old
    /// buffer, whoever allocated it, is returned to be freed through its own deleter.
    pub(super) fn reallocate(&mut self, capacity: usize) -> Result<OldBuffer, SeqError> {
        let len = self.len();
        debug_assert!(capacity >= len);
        let new = buffer::alloc(capacity)?;
        if len > 0 {
            // SAFETY: the old buffer holds `len` initialised elements, the new one has room
            // for `capacity >= len`; moving `Any` bits is a move (the old slots are then
            // only freed, never dropped).
            unsafe { core::ptr::copy_nonoverlapping(self.slot(0), new, len) };
        }
        let old = OldBuffer { data: self.seq.data, deleter: self.seq.data_deleter };
        self.seq.data = new.cast();
        self.seq.capacity = to_i64(capacity);
        self.seq.data_deleter = Some(buffer::DELETER);
        Ok(old)
    }
}

impl List {
    /// Lock the cell for Rust access.
    pub(super) fn lock(&self) -> Locked<'_> {
        let stripe = (self.obj.as_raw() as usize >> 6) % LOCKS.len();
        let guard = LOCKS[stripe].lock();
        // SAFETY: the lock excludes every other Rust access to this cell until `Locked` is
        // dropped, and our strong reference keeps the object alive meanwhile.
        let seq = unsafe { &mut *self.obj.seq.get() };
        Locked { seq, _guard: guard }
    }
}
