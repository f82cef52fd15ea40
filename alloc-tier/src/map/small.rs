//! The small layout (`SmallMapBaseObj`): up to 4 pairs in insertion order, searched
//! linearly. A fresh map keeps them inline after its object (`data_deleter` null); one that
//! outgrew that room keeps them in a buffer of its own, freed through `data_deleter`.

use alloc::vec::Vec;
use core::ptr;

use tvmffi_core::Any;

use super::MapError;
use super::layout::{Kv, MapFields, RawMap, SMALL_TAG};
use super::storage::{self, Deleter, OldBuffer};

/// The most slots a small map has (`kMaxSize`); a full one becomes dense.
pub(crate) const MAX_SLOTS: u64 = 4;
/// The fewest slots a small map has (`kInitSize`), so its object can switch to dense.
pub(crate) const MIN_SLOTS: u64 = 2;

/// A small map's state, loaded from an object's fields.
pub(crate) struct Small {
    pub data: *mut Kv,
    pub size: u64,
    pub slots: u64,
    pub deleter: Option<Deleter>,
}

impl Small {
    /// The pairs of a small map object.
    pub(crate) fn load(m: RawMap) -> Self {
        Self {
            data: m.data().cast(),
            size: m.size(),
            slots: m.slots_raw() & !SMALL_TAG,
            deleter: m.deleter(),
        }
    }

    /// The pairs a destructor finds.
    pub(crate) fn from_fields(f: &MapFields) -> Self {
        Self {
            data: f.data.cast(),
            size: f.size,
            slots: f.slots & !SMALL_TAG,
            deleter: f.data_deleter,
        }
    }

    /// Write the state into a map object, which becomes (or stays) small.
    pub(crate) fn store(&self, m: RawMap) {
        m.set_data(self.data.cast());
        m.set_size(self.size);
        m.set_slots_raw(self.slots | SMALL_TAG);
        m.set_deleter(self.deleter);
    }

    /// Pair `i`, for `i < slots`.
    #[inline]
    pub(crate) fn pair(&self, i: u64) -> *mut Kv {
        self.data.wrapping_add(i as usize)
    }

    /// The index of `key`, comparing with `eq(stored_key)` in order.
    #[inline]
    pub(crate) fn find<E>(
        &self,
        mut eq: impl FnMut(&Any) -> Result<bool, E>,
    ) -> Result<Option<u64>, E> {
        for i in 0..self.size {
            // SAFETY: the first `size` pairs are initialised.
            if eq(unsafe { &(*self.pair(i)).key })? {
                return Ok(Some(i));
            }
        }
        Ok(None)
    }

    /// Append a pair; `size < slots`.
    pub(crate) fn append(&mut self, kv: Kv) {
        debug_assert!(self.size < self.slots);
        // SAFETY: slot `size` is inside the buffer and free.
        unsafe { self.pair(self.size).write(kv) };
        self.size += 1;
    }

    /// Replace the value of pair `i`, keeping its place; returns the old value.
    pub(crate) fn set_value(&mut self, i: u64, value: Any) -> Any {
        // SAFETY: `i < size`: an initialised pair.
        unsafe { core::mem::replace(&mut (*self.pair(i)).value, value) }
    }

    /// Take pair `i` out, moving the later ones down to keep the order (`Erase`).
    pub(crate) fn remove(&mut self, i: u64) -> Kv {
        // SAFETY: `i < size`; the later pairs' bits move down one slot, so each is still
        // owned once, and the last slot is no longer counted.
        unsafe {
            let kv = self.pair(i).read();
            ptr::copy(self.pair(i + 1), self.pair(i), (self.size - i - 1) as usize);
            self.size -= 1;
            kv
        }
    }

    /// Take every pair out, in order, keeping the storage (`clear`).
    pub(crate) fn take_all(&mut self) -> Vec<Kv> {
        let mut out = Vec::with_capacity(self.size as usize);
        for i in 0..self.size {
            // SAFETY: the first `size` pairs are initialised; each is read once, and the
            // count is reset below.
            out.push(unsafe { self.pair(i).read() });
        }
        self.size = 0;
        out
    }

    /// Move the pairs to a buffer of `slots` of our own; returns the old storage, which
    /// the caller frees once the map no longer points at it.
    pub(crate) fn grow(&mut self, slots: u64) -> Result<Option<OldBuffer>, MapError> {
        debug_assert!(slots >= self.size);
        let data = storage::alloc_pairs(slots)?.as_ptr();
        // SAFETY: the old buffer holds `size` pairs and the new one has room for them; the
        // bits move, and the old buffer is only freed afterwards.
        unsafe { ptr::copy_nonoverlapping(self.data, data, self.size as usize) };
        // SAFETY: the old storage's own deleter, if any (inline pairs have none).
        let old = self.deleter.map(|d| unsafe { OldBuffer::new(self.data.cast(), Some(d)) });
        self.data = data;
        self.slots = slots;
        self.deleter = Some(storage::DELETER);
        Ok(old)
    }

    /// The storage, after its pairs were moved elsewhere (`size` is then 0).
    pub(crate) fn into_old_buffer(self) -> Option<OldBuffer> {
        // SAFETY: the deleter frees this storage, whose pairs were moved out.
        self.deleter.map(|d| unsafe { OldBuffer::new(self.data.cast(), Some(d)) })
    }

    /// Drop every pair in place, then free the storage (the destructor).
    pub(crate) fn destroy(mut self) {
        let size = core::mem::replace(&mut self.size, 0);
        if !self.data.is_null() {
            for i in 0..size {
                // SAFETY: the first `size` pairs are initialised and dropped once.
                unsafe { ptr::drop_in_place(self.pair(i)) };
            }
        }
        drop(self.into_old_buffer());
    }
}
