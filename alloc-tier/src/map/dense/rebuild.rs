//! Whole-table operations of the dense layout: sizing a table, building one from pairs
//! (the reference's rebuild), copying, clearing and destroying.

use alloc::vec::Vec;
use core::mem::ManuallyDrop;
use core::ptr;

use tvmffi_core::Any;

use super::{Dense, Item, Kv, MapError};
use crate::map::layout::{EMPTY, INVALID};

/// `(fib_shift, slots)` for a table that holds `cap` pairs (`CalcTableSize`): the smallest
/// power of two above `cap`, doubled if that is less than twice `cap`.
pub(crate) fn table_size(cap: u64) -> (u32, u64) {
    let bits = u64::BITS - cap.leading_zeros();
    if bits >= 62 {
        return (0, 0); // no such table fits in memory; `Dense::empty` refuses 0 slots
    }
    let slots = 1u64 << bits;
    if slots < cap * 2 { (64 - bits - 1, slots << 1) } else { (64 - bits, slots) }
}

impl Dense {
    /// Take every pair out, in slot order, leaving the table empty (`clear`).
    pub(crate) fn take_all(&mut self) -> Vec<Kv> {
        let mut out = Vec::with_capacity(self.size as usize);
        for i in 0..self.slots {
            if Self::occupied(self.meta(i)) {
                self.set_meta(i, EMPTY);
                // SAFETY: an occupied slot holds a pair, taken out once (now marked empty).
                out.push(unsafe { ptr::read(&raw const (*self.item(i)).kv) });
            }
        }
        self.size = 0;
        self.head = INVALID;
        self.tail = INVALID;
        out
    }

    /// The slots in iteration order.
    pub(crate) fn order(&self) -> impl Iterator<Item = u64> + '_ {
        let mut next = self.head;
        (0..self.size).map_while(move |_| {
            let i = next;
            if i == INVALID || i >= self.slots {
                return None;
            }
            // SAFETY: a slot of the iteration list holds an item.
            next = unsafe { (*self.item(i)).next };
            Some(i)
        })
    }

    /// A table holding `sources` (distinct keys with their hashes), inserted in order into
    /// an empty table of `slots` slots, which doubles until all fit (the rebuild of
    /// `InsertMaybeReHash`). The pairs are copied bitwise: on success the table owns them,
    /// and the caller must forget the originals; on error nothing was taken.
    ///
    /// # Safety
    ///
    /// Each source points to a live pair that stays put during the call.
    pub(crate) unsafe fn build(
        sources: &[(u64, *const Kv)],
        fib_shift: u32,
        slots: u64,
    ) -> Result<Self, MapError> {
        // SAFETY: forwarded; every source has its hash.
        let built =
            unsafe { Self::build_from(|| sources.iter().map(|&s| Some(s)), fib_shift, slots) };
        built?.ok_or_else(|| crate::map::internal("a source without its hash"))
    }

    /// This table's pairs in iteration order, then `last`, in a new table of twice the size
    /// (doubling again until all fit), in one walk of the old table: a walk of a large table
    /// misses the cache at every step, so hashing every key first and moving the pairs
    /// after would take each miss twice. `hash` gives a stored key's hash, or `None` when
    /// that needs user code (which must not run while the table is being moved): then the
    /// result is `None` and nothing was taken. Copies bitwise, as [`build`](Self::build).
    ///
    /// # Safety
    ///
    /// `last` points to a live pair, not in this table, that stays put during the call.
    pub(crate) unsafe fn grown_with(
        &self,
        hash: impl Fn(&Any) -> Option<u64>,
        last: (u64, *const Kv),
    ) -> Result<Option<Self>, MapError> {
        let (fib_shift, slots) = (self.fib_shift.wrapping_sub(1), self.slots.saturating_mul(2));
        // SAFETY: forwarded (the caller).
        unsafe { self.moved(hash, Some(last), fib_shift, slots) }
    }

    /// This table's pairs in iteration order in a new table sized for `cap` pairs, as
    /// [`grown_with`](Self::grown_with) moves them; `Ok(None)` also when this table is
    /// already that large.
    pub(crate) fn resized_for(
        &self,
        hash: impl Fn(&Any) -> Option<u64>,
        cap: u64,
    ) -> Result<Option<Self>, MapError> {
        let (fib_shift, slots) = table_size(cap);
        if slots == 0 {
            return Err(MapError::CapacityOverflow);
        }
        if slots <= self.slots {
            return Ok(None);
        }
        // SAFETY: no extra pair.
        unsafe { self.moved(hash, None, fib_shift, slots) }
    }

    /// # Safety
    ///
    /// `last`, if any, points to a live pair, not in this table, that stays put.
    unsafe fn moved(
        &self,
        hash: impl Fn(&Any) -> Option<u64>,
        last: Option<(u64, *const Kv)>,
        fib_shift: u32,
        slots: u64,
    ) -> Result<Option<Self>, MapError> {
        let sources = || {
            let stored = self.order().map(|slot| {
                // SAFETY: slots of the iteration order hold items.
                let kv = unsafe { &raw const (*self.item(slot)).kv };
                // SAFETY: as above.
                hash(unsafe { &(*kv).key }).map(|h| (h, kv))
            });
            stored.chain(last.map(Some))
        };
        // SAFETY: the stored pairs stay put (nothing changes this table meanwhile), and
        // `last` too (the caller).
        unsafe { Self::build_from(sources, fib_shift, slots) }
    }

    /// [`build`](Self::build) from sources listed by `sources()` (called again whenever
    /// the table must double); `None` as soon as a source has no hash, with nothing taken.
    ///
    /// # Safety
    ///
    /// As [`build`](Self::build), for every source `sources()` lists.
    unsafe fn build_from<I: Iterator<Item = Option<(u64, *const Kv)>>>(
        sources: impl Fn() -> I,
        mut fib_shift: u32,
        mut slots: u64,
    ) -> Result<Option<Self>, MapError> {
        'grow: loop {
            let mut table = Self::empty(fib_shift, slots)?;
            for source in sources() {
                let Some((hash, kv)) = source else {
                    drop(table.into_old_buffer()); // copies only: the sources keep their pairs
                    return Ok(None);
                };
                let Some(placement) = table.plan(hash) else {
                    drop(table.into_old_buffer());
                    fib_shift = fib_shift.checked_sub(1).ok_or(MapError::CapacityOverflow)?;
                    slots = slots.checked_mul(2).ok_or(MapError::CapacityOverflow)?;
                    continue 'grow;
                };
                // SAFETY: the caller's pair, copied; ownership settles when the build ends.
                let kv = ManuallyDrop::new(unsafe { ptr::read(kv) });
                table.commit(placement, ManuallyDrop::into_inner(kv));
            }
            return Ok(Some(table));
        }
    }

    /// A copy of the table holding clones of its pairs, slot for slot (`CopyFrom`).
    pub(crate) fn clone_table(&self) -> Result<Self, MapError> {
        let copy =
            Self { head: self.head, tail: self.tail, ..Self::empty(self.fib_shift, self.slots)? };
        for i in 0..self.slots {
            let meta = self.meta(i);
            if !Self::occupied(meta) {
                continue; // left empty (a protected slot only exists mid-operation)
            }
            copy.set_meta(i, meta);
            // SAFETY: an occupied slot holds an item; the copy's slot is free.
            unsafe {
                let src = &*self.item(i);
                let kv = Kv { key: src.kv.key.clone(), value: src.kv.value.clone() };
                ptr::write(copy.item(i), Item { kv, prev: src.prev, next: src.next });
            }
        }
        Ok(Self { size: self.size, ..copy })
    }

    /// Drop every pair in place (the destructor).
    pub(crate) fn drop_all(&mut self) {
        if self.blocks.is_null() {
            return;
        }
        for i in 0..self.slots {
            if Self::occupied(self.meta(i)) {
                self.set_meta(i, EMPTY);
                // SAFETY: an occupied slot holds a pair, dropped once (now marked empty).
                unsafe { ptr::drop_in_place(&raw mut (*self.item(i)).kv) };
            }
        }
        self.size = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_sizes_follow_calc_table_size() {
        assert_eq!(table_size(4), (61, 8));
        assert_eq!(table_size(5), (60, 16));
        assert_eq!(table_size(7), (60, 16));
        assert_eq!(table_size(8), (60, 16));
        assert_eq!(table_size(9), (59, 32));
        assert_eq!(table_size(1000), (53, 2048));
        assert_eq!(table_size(1024), (53, 2048));
        assert_eq!(table_size(u64::MAX), (0, 0));
    }
}
