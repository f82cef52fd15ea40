//! The object header and its reference-counting protocol.
//!
//! The protocol is the reference's, bit for bit, because C and C++ code increments and
//! decrements the same counter inline: strong count in the low 32 bits, weak count in the
//! high 32 bits, a fresh object at strong 1 / weak 1 (all strong references together own one
//! weak reference), increments `Relaxed`, decrements `Release` with an `Acquire` before any
//! deleter runs. Its steps are in `refcount.rs`, which loom checks.

use core::cell::UnsafeCell;
use core::ffi::c_void;
use core::ptr::NonNull;

use super::refcount::{self, Promote, Release};
use crate::TypeIndex;
use crate::atomic::{AtomicU64, Ordering};
use crate::flags::DeleterFlags;
use crate::sys::{TVMFFIObject, TVMFFIObjectDeleter, TVMFFIObjectDeleterUnion};

/// One strong reference in the combined counter.
pub const STRONG_ONE: u64 = 1;
/// One weak reference in the combined counter.
pub const WEAK_ONE: u64 = 1 << 32;
/// A fresh object: one strong reference and the weak reference the strong ones own.
pub const BOTH_ONE: u64 = STRONG_ONE | WEAK_ONE;
const COUNT_MASK: u64 = u32::MAX as u64;

/// The header every object starts with: `TVMFFIObject`, with the counter made atomic.
///
/// Objects are shared between threads and languages, so the header is only ever reached
/// through shared references and raw pointers; the counter sits in an `UnsafeCell` and is
/// only touched atomically. Atomic 64-bit access needs 8-byte alignment, which every
/// allocator of objects provides (this crate's statics and pools, `malloc`, the reference's
/// allocator), even on i686 where C aligns `uint64_t` fields to 4.
#[repr(C)]
pub struct ObjectHeader {
    combined_ref_count: UnsafeCell<u64>,
    type_index: i32,
    padding: u32,
    deleter: TVMFFIObjectDeleterUnion,
}

const _: () = {
    assert!(core::mem::size_of::<ObjectHeader>() == core::mem::size_of::<TVMFFIObject>());
    assert!(core::mem::align_of::<ObjectHeader>() == core::mem::align_of::<TVMFFIObject>());
    assert!(
        core::mem::offset_of!(ObjectHeader, type_index)
            == core::mem::offset_of!(TVMFFIObject, type_index)
    );
    assert!(
        core::mem::offset_of!(ObjectHeader, deleter)
            == core::mem::offset_of!(TVMFFIObject, deleter)
    );
};

c_layout! {
    /// `tvm::ffi::Object` is exactly the header (`header_`), for the C++ layout check.
    pub const CPP_LAYOUTS = [
        ObjectHeader as "tvm::ffi::Object" {
            size: 24 / 24,
            align: core::mem::align_of::<u64>(),
            fields: { header_ @ combined_ref_count = 0 / 0 },
        },
    ];
}

// SAFETY: the only interior mutability is the counter, which is accessed atomically; the
// other fields are written once before the object is shared.
unsafe impl Sync for ObjectHeader {}
// SAFETY: the header holds no thread-bound state; the deleter is a plain C function.
unsafe impl Send for ObjectHeader {}

impl ObjectHeader {
    /// A header for a fresh object (strong 1, weak 1) of `type_index`, freed by `deleter`.
    ///
    /// A `None` deleter means the object's memory is never reclaimed: use it for objects in
    /// `static` memory, which keep their first strong reference forever.
    pub const fn new(type_index: TypeIndex, deleter: Option<TVMFFIObjectDeleter>) -> Self {
        // Zero all 8 bytes first so the slot is deterministic on 32-bit targets.
        let mut slot = TVMFFIObjectDeleterUnion { __ensure_align: 0 };
        slot.deleter = deleter;
        Self {
            combined_ref_count: UnsafeCell::new(BOTH_ONE),
            type_index: type_index.0,
            padding: 0,
            deleter: slot,
        }
    }

    /// The object's type index.
    #[inline]
    pub fn type_index(&self) -> TypeIndex {
        TypeIndex(self.type_index)
    }

    /// The deleter, if any.
    #[inline]
    pub fn deleter(&self) -> Option<TVMFFIObjectDeleter> {
        // SAFETY: `new` always initialises the `deleter` variant (with the other bytes zero),
        // and C writers store a function pointer or null there too.
        unsafe { self.deleter.deleter }
    }

    /// The header as the C type.
    #[inline]
    pub fn as_raw(&self) -> *mut TVMFFIObject {
        (self as *const Self).cast_mut().cast()
    }

    #[inline]
    fn counter(&self) -> &AtomicU64 {
        let ptr = self.combined_ref_count.get();
        debug_assert!(ptr as usize % 8 == 0, "object header is not 8-byte aligned");
        // SAFETY: the pointer comes from a live `UnsafeCell<u64>`, every access to it goes
        // through atomics, and object allocations are 8-byte aligned (type-level docs).
        unsafe { AtomicU64::from_ptr(ptr) }
    }

    /// The raw combined counter (a snapshot).
    #[inline]
    pub fn combined_count(&self) -> u64 {
        self.counter().load(Ordering::Relaxed)
    }

    /// Strong references (a snapshot).
    #[inline]
    pub fn strong_count(&self) -> u32 {
        (self.combined_count() & COUNT_MASK) as u32
    }

    /// Weak references, including the one all strong references own together (a snapshot).
    #[inline]
    pub fn weak_count(&self) -> u32 {
        (self.combined_count() >> 32) as u32
    }

    /// Whether the caller's reference is the only one, strong or weak: the condition for
    /// changing the object in place (copy-on-write). The load acquires, so every change made
    /// through references released before is visible to the caller.
    #[inline]
    pub fn is_unique(&self) -> bool {
        self.counter().load(Ordering::Acquire) == BOTH_ONE
    }

    /// Add a strong reference. The caller must already hold one.
    ///
    /// # Panics
    ///
    /// When the strong count overflows (2^32 - 1 references held at once), as `Arc` does.
    #[inline]
    pub fn inc_ref(&self) {
        if !self.try_inc_ref() {
            count_overflow();
        }
    }

    /// Add a strong reference, returning false when the strong count overflowed instead of
    /// panicking (for callers that report errors as values, such as the C API). After an
    /// overflow the counter is corrupt: the object must be leaked, never released.
    #[inline]
    pub fn try_inc_ref(&self) -> bool {
        refcount::inc_strong(self.counter())
    }

    /// Add a weak reference. The caller must hold a strong or a weak reference.
    #[inline]
    pub fn inc_weak_ref(&self) {
        if !refcount::inc_weak(self.counter()) {
            count_overflow();
        }
    }

    /// Add a strong reference if the object is still alive; the caller holds a weak one.
    #[inline]
    pub fn try_promote_weak_ref(&self) -> bool {
        match refcount::promote(self.counter()) {
            Promote::Alive => true,
            Promote::Dead => false,
            Promote::Overflow => count_overflow(),
        }
    }

    /// Drop a strong reference, destroying the object when it was the last one and freeing
    /// it when no weak reference remains.
    ///
    /// # Safety
    ///
    /// `this` points to a live object header and the caller owns one strong reference to it,
    /// which this call consumes. The object may be freed before the call returns.
    #[inline]
    pub unsafe fn dec_ref(this: NonNull<Self>) {
        // SAFETY: the caller owns a strong reference, so the header is alive here.
        let counter = NonNull::from(unsafe { this.as_ref() }.counter());
        // SAFETY: the caller's strong reference is the one released.
        match unsafe { refcount::release_strong(counter) } {
            Release::Alive => {}
            // SAFETY: no reference is left, so the deleter may destroy and free.
            Release::Both => unsafe { Self::call_deleter(this, DeleterFlags::BOTH) },
            // SAFETY: the strong count reached zero while weak references remain.
            Release::Strong => unsafe { Self::release_with_weak(this) },
        }
    }

    /// The end of the strong references while weak ones remain: out of line, so that the
    /// common release (still alive, or the last reference of both kinds) needs no stack
    /// frame.
    ///
    /// # Safety
    ///
    /// The strong count of `this` just reached zero, and weak references remain.
    #[cold]
    #[inline(never)]
    unsafe fn release_with_weak(this: NonNull<Self>) {
        // SAFETY: destroy the payload only; the memory stays valid for the weak references.
        unsafe { Self::call_deleter(this, DeleterFlags::STRONG) };
        // Release the weak reference that the strong references owned together.
        // SAFETY: that weak reference is ours to drop; the header is still allocated.
        unsafe { Self::dec_weak_ref(this) };
    }

    /// Drop a weak reference, freeing the object's memory when it was the last reference.
    ///
    /// # Safety
    ///
    /// `this` points to a live object header and the caller owns one weak reference to it,
    /// which this call consumes. The memory may be freed before the call returns.
    #[inline]
    pub unsafe fn dec_weak_ref(this: NonNull<Self>) {
        // SAFETY: the caller owns a weak reference, so the memory is still allocated.
        let counter = NonNull::from(unsafe { this.as_ref() }.counter());
        // SAFETY: the caller's weak reference is the one released.
        if unsafe { refcount::release_weak(counter) } {
            // SAFETY: no reference of either kind is left: the memory may be freed.
            unsafe { Self::call_deleter(this, DeleterFlags::WEAK) };
        }
    }

    /// # Safety
    ///
    /// The reference counts allow the action `flags` describes.
    #[inline]
    unsafe fn call_deleter(this: NonNull<Self>, flags: DeleterFlags) {
        // SAFETY: still allocated: the deleter has not run for these flags yet.
        if let Some(deleter) = unsafe { this.as_ref() }.deleter() {
            // SAFETY: the deleter follows the C protocol for `flags`; the counts allow it.
            unsafe { deleter(this.as_ptr().cast::<c_void>(), flags.0) };
        }
    }
}

impl core::fmt::Debug for ObjectHeader {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ObjectHeader")
            .field("type_index", &self.type_index())
            .field("strong", &self.strong_count())
            .field("weak", &self.weak_count())
            .finish()
    }
}

#[cold]
#[inline(never)]
fn count_overflow() -> ! {
    // Like `Arc`: a count this high means references are leaked in a loop; going on would
    // wrap the counter into a use-after-free.
    panic!("TVM-FFI object reference count overflow")
}
