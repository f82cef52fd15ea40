//! [`ObjectPool`]: a fixed number of object slots in caller-provided memory, for objects
//! that come and go without an allocator.

use core::cell::UnsafeCell;
use core::ffi::{c_int, c_void};
use core::fmt;
use core::mem::MaybeUninit;
use core::ptr::{self, NonNull};

use super::{Object, ObjectRef, Payload};
use crate::TypeIndex;
use crate::atomic::{AtomicBool, Ordering};
use crate::flags::DeleterFlags;

/// One slot: the object at offset 0, so the deleter finds the flag from the object pointer.
///
/// 8-byte aligned for the 64-bit atomic counter, even on i686.
#[repr(C, align(8))]
struct Slot<P> {
    object: UnsafeCell<MaybeUninit<Object<P>>>,
    /// Taken from `alloc` until the deleter's `WEAK` step: the object or its header (for
    /// weak references) is still in use.
    in_use: AtomicBool,
}

const _: () = {
    use crate::sys::TVMFFIFunctionCell;
    assert!(core::mem::offset_of!(Slot<TVMFFIFunctionCell>, object) == 0);
    assert!(core::mem::align_of::<Slot<TVMFFIFunctionCell>>() == 8);
    assert!(core::mem::align_of::<Slot<u8>>() == 8);
};

impl<P> Slot<P> {
    const fn empty() -> Self {
        Self { object: UnsafeCell::new(MaybeUninit::uninit()), in_use: AtomicBool::new(false) }
    }
}

/// `N` object slots of payload `P`, e.g. in a `static`: [`alloc`](Self::alloc) makes an
/// object in a free slot, and the slot comes back once the object's last strong and weak
/// references are gone.
///
/// Each object's deleter is a C function specialised for `P`: on `STRONG` it drops the
/// payload, on `WEAK` it frees the slot. It runs as `extern "C"`, which cannot unwind, so a
/// panic in `P`'s `Drop` there aborts the process: prefer payloads whose `Drop` does not
/// panic.
///
/// ```
/// use tvmffi_core::object::{ObjectPool, Payload};
/// use tvmffi_core::TypeIndex;
///
/// struct Sample(i16);
/// // SAFETY: this example makes objects of index 200 only with a `Sample` payload.
/// unsafe impl Payload for Sample {
///     const TYPE_KEY: &'static str = "example.Sample";
///     fn is_instance(i: TypeIndex) -> bool {
///         i == TypeIndex(200)
///     }
/// }
///
/// static SAMPLES: ObjectPool<Sample, 2> = ObjectPool::new();
///
/// let a = SAMPLES.alloc(TypeIndex(200), Sample(1)).ok().unwrap();
/// let b = SAMPLES.alloc(TypeIndex(200), Sample(2)).ok().unwrap();
/// // Full: the payload comes back.
/// let Err(Sample(3)) = SAMPLES.alloc(TypeIndex(200), Sample(3)) else { panic!() };
/// drop(a);
/// assert_eq!(SAMPLES.available(), 1);
/// let c = SAMPLES.alloc(TypeIndex(200), Sample(4)).ok().unwrap();
/// assert_eq!((b.0, c.0), (2, 4));
/// ```
pub struct ObjectPool<P, const N: usize> {
    slots: [Slot<P>; N],
}

// SAFETY: sharing the pool shares only the slot flags, which are atomic; a slot's memory is
// written by the one thread that claimed it (`alloc`) or that dropped the last reference
// (the deleter), ordered by the Acquire claim and Release free of the flag. A `P` reaches
// other threads only through `ObjectRef<Object<P>>`, whose `Send`/`Sync` follow `P`'s.
unsafe impl<P, const N: usize> Sync for ObjectPool<P, N> {}

impl<P, const N: usize> ObjectPool<P, N> {
    /// An empty pool; `const`, so it can initialise a `static`.
    pub const fn new() -> Self {
        Self { slots: [const { Slot::empty() }; N] }
    }

    /// The number of slots.
    #[inline]
    pub const fn capacity(&self) -> usize {
        N
    }

    /// Free slots (a snapshot). A slot stays taken while weak references to its object
    /// remain, even after the payload is gone.
    pub fn available(&self) -> usize {
        self.slots.iter().filter(|slot| !slot.in_use.load(Ordering::Relaxed)).count()
    }
}

impl<P: Payload, const N: usize> ObjectPool<P, N> {
    /// A new object of `type_index` holding `payload` in a free slot, or the payload back
    /// when every slot is taken.
    ///
    /// # Panics
    ///
    /// If `P::is_instance(type_index)` is false: views that check only the index
    /// (downcasts, other languages) would read the payload as another type.
    pub fn alloc(
        &'static self,
        type_index: TypeIndex,
        payload: P,
    ) -> Result<ObjectRef<Object<P>>, P> {
        assert!(
            P::is_instance(type_index),
            "type index {type_index} does not hold a {}",
            P::TYPE_KEY
        );
        for slot in &self.slots {
            // A plain load first keeps a busy pool from bouncing every flag's cache line.
            if slot.in_use.load(Ordering::Relaxed)
                || slot
                    .in_use
                    .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                    .is_err()
            {
                continue;
            }
            // From the whole slot, so the deleter may reach `in_use` through the pointer.
            let object = ptr::from_ref(slot).cast_mut().cast::<Object<P>>();
            // SAFETY: we claimed the slot, so nobody else reads or writes its object (the
            // Acquire claim orders us after the previous occupant's deleter); the write is
            // inside the `UnsafeCell` at offset 0, aligned for `Object<P>`.
            unsafe { object.write(Object::new(type_index, Some(slot_deleter::<P>), payload)) };
            // SAFETY: a fresh object holds one strong reference, which the result owns; the
            // slot is `'static`, and its deleter follows the C protocol for this layout.
            return Ok(unsafe { ObjectRef::from_non_null(NonNull::new_unchecked(object)) });
        }
        Err(payload)
    }
}

impl<P, const N: usize> Default for ObjectPool<P, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<P, const N: usize> fmt::Debug for ObjectPool<P, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectPool")
            .field("capacity", &N)
            .field("available", &self.available())
            .finish()
    }
}

/// The deleter of pool objects: `STRONG` drops the payload, `WEAK` frees the slot.
///
/// # Safety
///
/// `ptr` is the object of a [`Slot<P>`] made by `ObjectPool::<P, _>::alloc`, reached with
/// the whole slot's provenance, and the counts allow what `flags` asks (the object protocol:
/// `STRONG` once when the last strong reference went, `WEAK` once after that when the last
/// weak one went, or `BOTH` once instead of the two).
unsafe extern "C" fn slot_deleter<P>(ptr: *mut c_void, flags: c_int) {
    let flags = DeleterFlags(flags);
    let slot = ptr.cast::<Slot<P>>();
    if flags.contains(DeleterFlags::STRONG) {
        // SAFETY: the object was initialised by `alloc` and its payload not yet dropped
        // (`STRONG` comes once); no reference to it is left, and the memory is in an
        // `UnsafeCell` we may write through.
        unsafe { Object::drop_payload(slot.cast::<Object<P>>()) };
    }
    if flags.contains(DeleterFlags::WEAK) {
        // SAFETY: the slot is alive (pools are `'static`). Release orders every use of the
        // object before the next `alloc` that claims the slot with Acquire.
        unsafe { (*slot).in_use.store(false, Ordering::Release) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Byte(u8);
    // SAFETY: tests make objects of index 300 only with a `Byte` payload.
    unsafe impl Payload for Byte {
        const TYPE_KEY: &'static str = "test.Byte";
        fn is_instance(i: TypeIndex) -> bool {
            i == TypeIndex(300)
        }
    }

    #[test]
    fn slots_are_aligned_and_objects_sit_at_their_start() {
        static POOL: ObjectPool<Byte, 3> = ObjectPool::new();
        let objects: [_; 3] =
            core::array::from_fn(|i| POOL.alloc(TypeIndex(300), Byte(i as u8)).ok().unwrap());
        for (i, o) in objects.iter().enumerate() {
            assert_eq!(o.as_raw() as usize % 8, 0);
            assert_eq!(o.as_raw().cast_const().cast::<u8>(), ptr::from_ref(&POOL.slots[i]).cast());
            assert_eq!(o.0, i as u8);
        }
        assert_eq!((POOL.available(), POOL.capacity()), (0, 3));
    }

    #[test]
    #[should_panic(expected = "does not hold a test.Byte")]
    #[cfg_attr(target_os = "wasi", ignore = "panics abort on wasm32-wasip1")]
    fn alloc_rejects_an_index_the_payload_does_not_claim() {
        static POOL: ObjectPool<Byte, 1> = ObjectPool::new();
        let _ = POOL.alloc(TypeIndex::FUNCTION, Byte(0));
    }
}
