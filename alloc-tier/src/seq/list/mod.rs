//! [`List`]: the reference's `ffi.List` (`ListObj`), a mutable sequence shared by all its
//! holders, with its elements in a buffer of their own.
//!
//! Rust reaches the cell only under a lock ([`locked`]); [`traits`] holds the standard traits,
//! the conversions and the iterator.

use alloc::vec::Vec;
use core::cell::UnsafeCell;

use tvmffi_core::sys::TVMFFISeqCell;
use tvmffi_core::{Any, FromAnyView, Object, ObjectRef, Payload, TypeIndex};

use super::buffer;
use super::{SeqError, destroy, to_i64};
use crate::heap;

mod locked;
mod traits;

pub use traits::ListIter;

/// Capacity of a list made from elements, as the reference's `ListObj::kInitSize`.
const INIT_CAPACITY: usize = 4;

/// The payload of an `ffi.List` object: a `TVMFFISeqCell` whose `data` is a separate buffer
/// that `data_deleter` frees.
///
/// Fields are private: use [`List`]. The cell is in an `UnsafeCell` because every holder,
/// in Rust or C++, may change it through a shared object.
#[repr(C)]
pub struct ListCell {
    seq: UnsafeCell<TVMFFISeqCell>,
}

/// An `ffi.List` object: the header, then [`ListCell`].
pub type ListObj = Object<ListCell>;

// SAFETY: the elements are `Any` values, which are `Send`; the buffer belongs to the cell.
unsafe impl Send for ListCell {}
// SAFETY: every Rust access to the cell and its buffer goes through `List::lock` (a spin
// lock chosen by the object's address), except `Drop`, which has the object to itself.
// Concurrent C++ mutation is a race in the reference too ("List is not thread-safe").
unsafe impl Sync for ListCell {}

// SAFETY: `kTVMFFIList` objects are `ListObj`, the header followed by a `TVMFFISeqCell`,
// which is what `ListCell` is (`#[repr(C)]`, one field, `UnsafeCell` is transparent).
unsafe impl Payload for ListCell {
    const TYPE_KEY: &'static str = "ffi.List";

    #[inline]
    fn is_instance(type_index: TypeIndex) -> bool {
        type_index == TypeIndex::LIST
    }
}

impl Drop for ListCell {
    fn drop(&mut self) {
        // SAFETY: the last strong reference is gone; the cell describes its current buffer
        // (ours or one C++ put there) and the deleter that frees it.
        unsafe { destroy(self.seq.get_mut()) }
    }
}

/// An `ffi.List`: a mutable sequence of [`Any`] values, shared by every holder.
///
/// Unlike [`Array`](super::Array) there is no copy-on-write: as with the reference's `List<T>`, a change
/// made through any handle (a clone here, a C++ `List<Any>`, Python) is seen by all. So the
/// mutating methods take `&self`, and nothing hands out a borrow into the element buffer,
/// which another holder may reallocate at any time: [`get`](Self::get) and
/// [`iter`](Self::iter) return owned copies (objects gain a reference), and an iterator
/// reads by index, seeing changes made meanwhile (like iterating a Python list).
///
/// Rust access is serialised by a lock per object (one of a few spin locks picked by its
/// address), so handles may be shared and sent between threads. C++ takes no lock: as in
/// the reference, C++ must not mutate a list while another thread uses it. Element
/// destructors run after the lock is released, so they may use lists themselves.
///
/// A list that holds itself (directly or through other objects) is never freed: reference
/// counting cannot see cycles, as the reference warns.
///
/// Growth follows the reference (`container/list.h`): [`new`](Self::new) allocates nothing,
/// a list made from elements has room for at least 4, and a full list doubles its capacity
/// (or grows to what is needed, if more). Removing never shrinks the buffer.
///
/// ```
/// use tvmffi_alloc::seq::List;
/// use tvmffi_core::Any;
///
/// let list = List::new();
/// let alias = list.clone(); // the same list
/// list.push(1i64);
/// list.push(2i64);
/// alias.insert(0, Any::from(0i64)).unwrap();
/// assert_eq!(list.len(), 3);
/// assert_eq!(list.get_as::<i64>(0), Ok(0));
/// assert_eq!(list.remove(2).unwrap().get::<i64>(), Ok(2));
/// assert!(list.get(5).is_none());
/// let items: Vec<i64> = alias.iter().map(|v| v.get().unwrap()).collect();
/// assert_eq!(items, [0, 1]);
/// ```
#[derive(Clone)]
pub struct List {
    obj: ObjectRef<ListObj>,
}

impl List {
    /// An empty list with no buffer, as the reference's `List()`.
    pub fn new() -> Self {
        Self::with_buffer(core::ptr::null_mut(), 0)
    }

    /// An empty list with room for `capacity` elements.
    pub fn with_capacity(capacity: usize) -> Result<Self, SeqError> {
        Ok(Self::with_buffer(buffer::alloc(capacity)?, capacity))
    }

    /// A list of `items`, moved in without touching their reference counts, with room for
    /// at least 4 as the reference's `List(first, last)`.
    pub fn from_vec(mut items: Vec<Any>) -> Self {
        let len = items.len();
        // A vector of `len` elements exists, so `len` elements fit one allocation: only the
        // allocator can fail.
        let capacity = len.max(INIT_CAPACITY);
        let Ok(data) = buffer::alloc(capacity) else { buffer::alloc_failed(capacity) };
        // SAFETY: the buffer has room for `len` elements and is fresh; the vector forgets
        // them (length 0) so each is owned once, by the list.
        unsafe {
            core::ptr::copy_nonoverlapping(items.as_ptr(), data, len);
            items.set_len(0);
        }
        let list = Self::with_buffer(data, len.max(INIT_CAPACITY));
        // SAFETY: the object is not shared yet; its buffer now holds `len` elements.
        unsafe { (*list.obj.seq.get()).size = to_i64(len) };
        list
    }

    /// A new list object owning `data`, a buffer from `buffer::alloc(capacity)`.
    fn with_buffer(data: *mut Any, capacity: usize) -> Self {
        let seq = TVMFFISeqCell {
            data: data.cast(),
            size: 0,
            capacity: to_i64(capacity),
            data_deleter: Some(buffer::DELETER),
        };
        let obj = heap::new_object(TypeIndex::LIST, ListCell { seq: UnsafeCell::new(seq) });
        Self { obj }
    }

    /// The number of elements (a snapshot).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether there are no elements (a snapshot).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of element slots in the buffer (a snapshot).
    pub fn capacity(&self) -> usize {
        self.lock().capacity()
    }

    /// An owned copy of the element at `index`; `None` past the end.
    pub fn get(&self, index: usize) -> Option<Any> {
        let l = self.lock();
        if index >= l.len() {
            return None;
        }
        // SAFETY: `index < size`, so the slot holds an element; cloning only adds a
        // reference (no user code runs under the lock).
        Some(unsafe { (*l.slot(index)).clone() })
    }

    /// The element at `index` converted to `T` (see [`FromAnyView`]); `T` must not borrow,
    /// since the element is a copy.
    pub fn get_as<T: for<'a> FromAnyView<'a>>(&self, index: usize) -> Result<T, SeqError> {
        let item = {
            let l = self.lock();
            if index >= l.len() {
                return Err(l.index_error(index));
            }
            // SAFETY: as in `get`.
            unsafe { (*l.slot(index)).clone() }
        };
        Ok(item.get::<T>()?)
    }

    /// Append `value`, growing the buffer if full.
    ///
    /// # Panics
    ///
    /// If the length would exceed what one allocation can hold, as `Vec::push` does.
    pub fn push(&self, value: impl Into<Any>) {
        let value = value.into();
        let _old = {
            let mut l = self.lock();
            let old = match l.ensure_extra(1) {
                Ok(old) => old,
                Err(SeqError::OutOfMemory { capacity }) => buffer::alloc_failed(capacity),
                Err(_) => capacity_overflow(),
            };
            let len = l.len();
            // SAFETY: `ensure_extra` made slot `len` available.
            unsafe { l.slot(len).write(value) };
            l.set_len(len + 1);
            old
        };
    }

    /// Remove and return the last element; `None` if empty.
    pub fn pop(&self) -> Option<Any> {
        let mut l = self.lock();
        let len = l.len().checked_sub(1)?;
        l.set_len(len);
        // SAFETY: slot `len` held the last element, which the cell no longer counts.
        Some(unsafe { l.slot(len).read() })
    }

    /// Insert `value` at `index`, shifting later elements up; `index == len` appends. An
    /// index past the length is an error (and `value` is dropped).
    ///
    /// # Panics
    ///
    /// As [`push`](Self::push).
    pub fn insert(&self, index: usize, value: impl Into<Any>) -> Result<(), SeqError> {
        let value = value.into();
        let _old = {
            let mut l = self.lock();
            let len = l.len();
            if index > len {
                return Err(l.index_error(index));
            }
            let old = match l.ensure_extra(1) {
                Ok(old) => old,
                Err(SeqError::OutOfMemory { capacity }) => buffer::alloc_failed(capacity),
                Err(_) => capacity_overflow(),
            };
            // SAFETY: slots `index..len` hold elements and slot `len` is free (capacity
            // ensured); `copy` handles the overlap, then the vacated slot is written.
            unsafe {
                core::ptr::copy(l.slot(index), l.slot(index + 1), len - index);
                l.slot(index).write(value);
            }
            l.set_len(len + 1);
            old
        };
        Ok(())
    }

    /// Remove and return the element at `index`, shifting later elements down.
    pub fn remove(&self, index: usize) -> Result<Any, SeqError> {
        let mut l = self.lock();
        let len = l.len();
        if index >= len {
            return Err(l.index_error(index));
        }
        // SAFETY: `index < len`: the element is read out, the tail shifted over it, and the
        // length lowered so the last slot, now a stale copy, is no longer counted.
        unsafe {
            let item = l.slot(index).read();
            core::ptr::copy(l.slot(index + 1), l.slot(index), len - index - 1);
            l.set_len(len - 1);
            Ok(item)
        }
    }

    /// Remove the elements of `start..stop` (the reference's `ListObj::erase(first, last)`),
    /// returning them in order; the caller drops them, after the lock. A range that is not
    /// within the list (`start > stop` or `stop > len`) is an error and removes nothing.
    pub fn remove_range(&self, start: usize, stop: usize) -> Result<Vec<Any>, SeqError> {
        let mut l = self.lock();
        let len = l.len();
        if stop > len {
            return Err(l.index_error(stop));
        }
        if start > stop {
            return Err(l.index_error(start));
        }
        let count = stop - start;
        let mut removed = Vec::new();
        removed.try_reserve_exact(count).map_err(|_| SeqError::CapacityOverflow)?;
        // SAFETY: `start <= stop <= len`: the elements of the range are read out, the tail
        // shifted over them, and the length lowered so the stale copies are not counted.
        unsafe {
            for i in start..stop {
                removed.push(l.slot(i).read());
            }
            core::ptr::copy(l.slot(stop), l.slot(start), len - stop);
        }
        l.set_len(len - count);
        Ok(removed)
    }

    /// Insert `items` at `index`, in order, shifting later elements up (the reference's
    /// `List::insert(pos, first, last)`); `index == len` appends. An index past the length
    /// is an error (and `items` are dropped).
    pub fn insert_all(&self, index: usize, items: Vec<Any>) -> Result<(), SeqError> {
        let _old = {
            let mut l = self.lock();
            let len = l.len();
            if index > len {
                return Err(l.index_error(index));
            }
            let old = l.ensure_extra(items.len())?;
            let n = items.len();
            // SAFETY: slots `index..len` hold elements and `n` slots past `len` are free
            // (capacity ensured); the tail moves up by `n`, then the gap is written.
            unsafe {
                core::ptr::copy(l.slot(index), l.slot(index + n), len - index);
                for (i, item) in items.into_iter().enumerate() {
                    l.slot(index + i).write(item);
                }
            }
            l.set_len(len + n);
            old
        };
        Ok(())
    }

    /// Reverse the elements in place.
    pub fn reverse(&self) {
        let l = self.lock();
        let len = l.len();
        if len > 1 {
            // SAFETY: the buffer holds `len` initialised elements, reversed by swaps.
            unsafe { core::slice::from_raw_parts_mut(l.slot(0), len) }.reverse();
        }
    }

    /// Replace the element at `index`, returning the old one.
    pub fn set(&self, index: usize, value: impl Into<Any>) -> Result<Any, SeqError> {
        let value = value.into();
        let l = self.lock();
        if index >= l.len() {
            return Err(l.index_error(index));
        }
        // SAFETY: `index < len`, so the slot holds an element, swapped out whole.
        Ok(unsafe { core::ptr::replace(l.slot(index), value) })
    }

    /// Drop the elements from `len` on, last first (as the reference's `ShrinkBy`); nothing
    /// if the list is not longer. The capacity is kept.
    ///
    /// The elements are dropped one by one outside the lock, so a destructor may use the
    /// list; what it pushes meanwhile stays (the count to drop is taken at the start).
    pub fn truncate(&self, len: usize) {
        let excess = self.len().saturating_sub(len);
        for _ in 0..excess {
            match self.pop_above(len) {
                Some(item) => drop(item),
                None => break,
            }
        }
    }

    fn pop_above(&self, len: usize) -> Option<Any> {
        let mut l = self.lock();
        let last = l.len().checked_sub(1).filter(|&last| last >= len)?;
        l.set_len(last);
        // SAFETY: slot `last` held the last element, which the cell no longer counts.
        Some(unsafe { l.slot(last).read() })
    }

    /// Drop every element, last first; the capacity is kept. See [`truncate`](Self::truncate).
    pub fn clear(&self) {
        self.truncate(0);
    }

    /// Make room for at least `additional` more elements, growing the buffer to exactly
    /// `len + additional` if it is smaller (the reference's `List::reserve(len + additional)`).
    pub fn reserve(&self, additional: usize) -> Result<(), SeqError> {
        let _old = {
            let mut l = self.lock();
            let needed = l.len().checked_add(additional).ok_or(SeqError::CapacityOverflow)?;
            if needed <= l.capacity() {
                return Ok(());
            }
            l.reallocate(needed)?
        };
        Ok(())
    }

    /// Owned copies of the elements, taken at one moment.
    pub fn to_vec(&self) -> Vec<Any> {
        let l = self.lock();
        let mut out = Vec::with_capacity(l.len());
        for i in 0..l.len() {
            // SAFETY: `i < len`; cloning only adds references.
            out.push(unsafe { (*l.slot(i)).clone() });
        }
        out
    }

    /// Owned copies of the elements, read one by one by index; see the type's docs.
    pub fn iter(&self) -> ListIter<'_> {
        ListIter { list: self, index: 0 }
    }

    /// Whether both handles point to the same object (what `==` compares).
    #[inline]
    pub fn ptr_eq(&self, other: &Self) -> bool {
        self.obj.ptr_eq(&other.obj)
    }

    /// The object reference.
    #[inline]
    pub fn as_object(&self) -> &ObjectRef<ListObj> {
        &self.obj
    }

    /// The object reference, giving up the handle.
    #[inline]
    pub fn into_object(self) -> ObjectRef<ListObj> {
        self.obj
    }

    /// Wrap a list object reference.
    #[inline]
    pub fn from_object(obj: ObjectRef<ListObj>) -> Self {
        Self { obj }
    }
}

#[cold]
#[inline(never)]
fn capacity_overflow() -> ! {
    panic!("ffi.List capacity overflow")
}
