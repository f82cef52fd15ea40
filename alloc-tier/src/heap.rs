//! Heap objects: one allocation holding an object and, optionally, an inline tail (a string's
//! bytes, an array's elements), freed through the `TVMFFIObjectAllocHeader` that the C header
//! requires right before every object body.
//!
//! ```text
//! base ── [allocation size: usize] … [TVMFFIObjectAllocHeader] ── object: [header][payload][tail]
//! ```

use alloc::alloc::{alloc, dealloc, handle_alloc_error};
use core::alloc::Layout;
use core::ffi::{c_int, c_void};
use core::mem::{align_of, size_of};

use tvmffi_core::flags::DeleterFlags;
use tvmffi_core::sys::{TVMFFIObject, TVMFFIObjectAllocHeader, TVMFFIObjectDeleter};
use tvmffi_core::{Object, ObjectHeader, ObjectRef, Payload, TypeIndex};

/// Alignment of every heap object: 8, as 64-bit atomics on the header need, or the payload's
/// own alignment if larger.
const fn object_align<P>() -> usize {
    let a = align_of::<Object<P>>();
    if a > 8 { a } else { 8 }
}

/// Bytes from the allocation's start to the object: room for the size and the alloc header,
/// rounded up to the object's alignment.
const fn prefix<P>() -> usize {
    let raw = 2 * size_of::<usize>();
    raw.next_multiple_of(object_align::<P>())
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
    // Inline, so that the index and the tail's alignment are constants where the callers
    // have them: these checks and the rounding below then fold away.
    assert!(
        P::is_instance(type_index),
        "{} objects cannot have type index {type_index:?}",
        P::TYPE_KEY
    );
    assert!(tail.align() <= object_align::<P>(), "inline tails are at most 8-byte aligned");
    let body = round_up(size_of::<Object<P>>(), tail.align());
    let size = prefix::<P>()
        .checked_add(body)
        .and_then(|s| s.checked_add(tail.size()))
        .expect("object size overflows usize");
    let layout = Layout::from_size_align(size, object_align::<P>()).expect("object layout");
    // SAFETY: `layout` has a non-zero size (the header alone is 24 bytes).
    let base = unsafe { alloc(layout) };
    if base.is_null() {
        handle_alloc_error(layout);
    }
    // Free the block if `init` panics; disarmed once the object owns it.
    struct Guard(*mut u8, Layout);
    impl Drop for Guard {
        fn drop(&mut self) {
            // SAFETY: the block came from `alloc` with this layout and holds no live value.
            unsafe { dealloc(self.0, self.1) };
        }
    }
    let guard = Guard(base, layout);
    // SAFETY: `prefix + body <= size`, so both pointers stay inside the block.
    let (obj, tail_ptr) = unsafe {
        let obj = base.add(prefix::<P>()).cast::<Object<P>>();
        (obj, obj.cast::<u8>().add(body))
    };
    let payload = init(tail_ptr);
    core::mem::forget(guard);
    // SAFETY: the prefix is writable, `usize`-aligned (the base is 8-aligned and the size
    // slot sits at offset 0), and the alloc header sits right before the object as the C
    // header requires; the object slot is aligned and sized for `Object<P>`.
    unsafe {
        base.cast::<usize>().write(size);
        alloc_header(obj.cast())
            .write(TVMFFIObjectAllocHeader { delete_space: Some(delete_space::<P>) });
        obj.write(Object::new(type_index, Some(deleter::<P>), payload));
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

/// Whether the object was made by [`new_object_with_tail`] (or [`new_object`]) with a
/// payload whose deleter has the same code as `P`'s: its deleter is that function.
///
/// `false` proves nothing (one generic function may be instantiated more than once), and
/// `true` may also mean another payload whose deleter compiled to the same code (LLVM
/// merges such functions): callers pair it with what only `P` can have, such as a type
/// index no other payload of this crate accepts.
#[inline]
pub fn made_for<P: Payload>(header: &ObjectHeader) -> bool {
    header.deleter().is_some_and(|d| core::ptr::fn_addr_eq(d, deleter::<P> as TVMFFIObjectDeleter))
}

/// # Safety
///
/// `obj` is the body of an allocation from this module.
unsafe fn alloc_header(obj: *mut u8) -> *mut TVMFFIObjectAllocHeader {
    // SAFETY: the alloc header is the last pointer-sized slot of the prefix.
    unsafe { obj.sub(size_of::<TVMFFIObjectAllocHeader>()).cast() }
}

/// The object's deleter: destroy the payload when the strong count ends, reclaim the block
/// when the weak count ends.
///
/// The block is reclaimed by [`delete_space`] directly: it is what this module wrote into
/// the alloc header, for C code that frees objects through it, and nothing changes that
/// slot, so reading it back would only add a load and an indirect call.
unsafe extern "C" fn deleter<P>(obj: *mut c_void, flags: c_int) {
    let flags = DeleterFlags(flags);
    if flags.contains(DeleterFlags::STRONG) {
        // SAFETY: the last strong reference is gone and the payload was not dropped yet.
        unsafe { Object::<P>::drop_payload(obj.cast()) };
    }
    if flags.contains(DeleterFlags::WEAK) {
        // SAFETY: no reference of any kind is left; the block came from
        // `new_object_with_tail::<P>`, whose `delete_space` this is.
        unsafe { delete_space::<P>(obj) };
    }
}

/// `TVMFFIObjectAllocHeader::delete_space` for blocks from this module.
unsafe extern "C" fn delete_space<P>(obj: *mut c_void) {
    // SAFETY: `obj` is the body of a block from `new_object_with_tail::<P>`, whose first
    // `usize` holds its size; the layout is rebuilt exactly as it was allocated.
    unsafe {
        let base = obj.cast::<u8>().sub(prefix::<P>());
        let size = base.cast::<usize>().read();
        dealloc(base, Layout::from_size_align_unchecked(size, object_align::<P>()));
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
