//! Heap objects: one block holding an object and, optionally, an inline tail (a string's
//! bytes, an array's elements), freed by the object's deleter.
//!
//! ```text
//! block = object: [header][payload][tail]
//! ```
//!
//! The block comes from the crate's `block` module: `malloc`ed where there is a C library,
//! so that an object takes exactly the bytes the reference's would. The C header describes a
//! `TVMFFIObjectAllocHeader` before object bodies, for frontends' custom allocators; the
//! reference (0.1.15) does not write one before its own objects and nothing reads it before
//! an arbitrary object (its Python package keeps that "dormant" for this reason), so ours
//! carry none either.

use core::alloc::Layout;
use core::ffi::{c_int, c_void};
use core::mem::{align_of, size_of};

use tvmffi_core::flags::DeleterFlags;
use tvmffi_core::sys::{TVMFFIObject, TVMFFIObjectDeleter};
use tvmffi_core::{Object, ObjectRef, Payload, TypeIndex};

use crate::block;

/// Alignment of every heap object: 8, as 64-bit atomics on the header need, or the payload's
/// own alignment if larger; at most what a block guarantees.
const fn object_align<P>() -> usize {
    let a = align_of::<Object<P>>();
    let a = if a > 8 { a } else { 8 };
    assert!(a <= block::ALIGN, "objects are at most as aligned as a heap block");
    a
}

/// `n` rounded up to a multiple of `align`, a power of two (a `Layout`'s), with a mask
/// rather than a division; `n` is an object's size, far from overflowing.
#[inline]
const fn round_up(n: usize, align: usize) -> usize {
    (n + align - 1) & !(align - 1)
}

/// Allocate an `Object<P>` of `type_index` holding `payload`.
///
/// # Panics
///
/// When `P` does not accept `type_index` (so a later downcast can trust the index), or when
/// the allocation size overflows.
pub fn new_object<P: Payload>(type_index: TypeIndex, payload: P) -> ObjectRef<Object<P>> {
    // SAFETY: no tail is requested, so `init` may ignore its pointer.
    unsafe { new_object_with_tail(type_index, Layout::new::<()>(), |_| payload) }
}

/// Allocate an `Object<P>` followed by a tail laid out as `tail` (at most 8-byte aligned),
/// and build the payload with `init`, which gets the tail's address (uninitialised memory).
///
/// The payload owns what it puts in the tail: its `Drop` must drop any values stored there.
///
/// # Safety
///
/// `init` initialises whatever part of the tail the payload's methods and `Drop` later read.
///
/// # Panics
///
/// As [`new_object`]; also when `tail` needs more than 8-byte alignment.
#[inline]
pub unsafe fn new_object_with_tail<P: Payload>(
    type_index: TypeIndex,
    tail: Layout,
    init: impl FnOnce(*mut u8) -> P,
) -> ObjectRef<Object<P>> {
    // SAFETY: the deleter is `P`'s; `init` as the caller promises.
    unsafe { new_object_with_deleter(type_index, tail, deleter::<P>, init) }
}

/// [`new_object_with_tail`] with `deleter` as the object's deleter: a payload whose objects
/// must be recognised by their deleter's address passes a non-generic function of its own
/// (a generic one has a copy, and an address, in each crate that instantiates it).
///
/// # Safety
///
/// As [`new_object_with_tail`]; and `deleter` does what [`deleter::<P>`](deleter) does
/// (it calls it).
#[inline]
pub(crate) unsafe fn new_object_with_deleter<P: Payload>(
    type_index: TypeIndex,
    tail: Layout,
    deleter: TVMFFIObjectDeleter,
    init: impl FnOnce(*mut u8) -> P,
) -> ObjectRef<Object<P>> {
    // Inline, so that the index and the tail's alignment are constants where the callers
    // have them: these checks and the rounding below then fold away.
    assert!(
        P::is_instance(type_index),
        "{} objects cannot have type index {type_index:?}",
        P::TYPE_KEY
    );
    let align = const { object_align::<P>() };
    assert!(tail.align() <= align, "inline tails are at most 8-byte aligned");
    let body = round_up(size_of::<Object<P>>(), tail.align());
    let size = body.checked_add(tail.size()).expect("object size overflows usize");
    let obj = block::alloc_or_abort(size).as_ptr().cast::<Object<P>>();
    // Free the block if `init` panics; disarmed once the object owns it.
    struct Guard(*mut c_void);
    impl Drop for Guard {
        fn drop(&mut self) {
            // SAFETY: the block came from `block::alloc` and holds no live value.
            unsafe { block::free(self.0) };
        }
    }
    let guard = Guard(obj.cast());
    // SAFETY: `body <= size`, so the tail pointer stays inside the block.
    let tail_ptr = unsafe { obj.cast::<u8>().add(body) };
    let payload = init(tail_ptr);
    core::mem::forget(guard);
    // SAFETY: the block is aligned (`object_align` is at most `block::ALIGN`) and sized for
    // `Object<P>`.
    unsafe {
        obj.write(Object::new(type_index, Some(deleter), payload));
        ObjectRef::from_raw(obj.cast::<TVMFFIObject>()).expect("allocation is not null")
    }
}

/// The address of the tail of an object made by [`new_object_with_tail`] with `tail_align`.
///
/// Derived from the object's raw pointer, which covers the whole block. A pointer derived
/// from a `&Object<P>` covers only the object's own bytes, so payloads that reach into their
/// tail keep the pointer `init` got, as the reference's layouts do (`data` fields).
///
/// # Safety
///
/// `obj` was made by [`new_object_with_tail`] with a tail of this alignment.
pub unsafe fn tail_of<P: Payload>(obj: &ObjectRef<Object<P>>, tail_align: usize) -> *mut u8 {
    let body = round_up(size_of::<Object<P>>(), tail_align);
    // SAFETY: the tail starts `body` bytes into the object's block (the caller's promise).
    unsafe { obj.as_raw().cast::<u8>().add(body) }
}

/// The object's deleter: destroy the payload when the strong count ends, free the block
/// when the weak count ends.
///
/// # Safety
///
/// `obj` is an object made here for `P`; `flags` says which counts ended, each once.
pub(crate) unsafe extern "C" fn deleter<P>(obj: *mut c_void, flags: c_int) {
    let flags = DeleterFlags(flags);
    if flags.contains(DeleterFlags::STRONG) {
        // SAFETY: the last strong reference is gone and the payload was not dropped yet.
        unsafe { Object::<P>::drop_payload(obj.cast()) };
    }
    if flags.contains(DeleterFlags::WEAK) {
        // SAFETY: no reference of any kind is left; the object is the block
        // `new_object_with_tail::<P>` allocated.
        unsafe { block::free(obj) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::rc::Rc;
    use core::cell::Cell;
    use core::ptr;

    struct Probe(Rc<Cell<u32>>);
    impl Drop for Probe {
        fn drop(&mut self) {
            self.0.set(self.0.get() + 1);
        }
    }
    // SAFETY: test payload, only ever made with this index.
    unsafe impl Payload for Probe {
        const TYPE_KEY: &'static str = "test.Probe";
        fn is_instance(t: TypeIndex) -> bool {
            t == TypeIndex(1000)
        }
    }

    #[test]
    fn payload_dropped_once_and_block_freed_after_weak_refs() {
        let drops = Rc::new(Cell::new(0));
        let obj = new_object(TypeIndex(1000), Probe(drops.clone()));
        assert_eq!(obj.type_index(), TypeIndex(1000));
        assert_eq!(obj.as_raw() as usize % 8, 0);
        let weak = obj.downgrade();
        drop(obj);
        assert_eq!(drops.get(), 1, "payload dropped with the last strong reference");
        assert!(weak.upgrade().is_none());
        drop(weak); // frees the block: Miri reports a leak or a bad free otherwise
        assert_eq!(drops.get(), 1);
    }

    #[test]
    fn tail_is_inside_the_block_and_aligned() {
        let init = |tail: *mut u8| {
            for i in 0..3 {
                // SAFETY: the tail has room for three aligned u64 values.
                unsafe { tail.cast::<u64>().add(i).write(i as u64 * 7) };
            }
            Probe(Rc::new(Cell::new(0)))
        };
        // SAFETY: `init` fills the three u64 values the test reads back.
        let obj = unsafe {
            new_object_with_tail(TypeIndex(1000), Layout::array::<u64>(3).unwrap(), init)
        };
        // SAFETY: made above with an 8-aligned tail.
        let tail = unsafe { tail_of(&obj, core::mem::align_of::<u64>()) };
        assert_eq!(tail as usize % core::mem::align_of::<u64>(), 0);
        // SAFETY: `init` wrote three u64 values there.
        let values: [u64; 3] = unsafe { ptr::read(tail.cast()) };
        assert_eq!(values, [0, 7, 14]);
    }

    #[test]
    #[should_panic(expected = "cannot have type index")]
    #[cfg_attr(target_os = "wasi", ignore = "panics abort on wasm32-wasip1")]
    fn wrong_index_is_refused() {
        let _ = new_object(TypeIndex(5), Probe(Rc::new(Cell::new(0))));
    }
}
