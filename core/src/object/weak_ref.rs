//! [`WeakRef`]: one owned weak reference, the reference's `WeakObjectPtr`.

use core::fmt;
use core::ptr::NonNull;

use super::{ObjectHeader, ObjectRef, ObjectType};

/// An owned weak reference: keeps the object's memory, not its payload.
///
/// [`upgrade`](Self::upgrade) gives a strong reference while any strong reference is left,
/// and `None` for good once the last one is gone. A weak reference never looks past the
/// header, since the payload may already be destroyed.
///
/// ```
/// use tvmffi_core::object::{ObjectPool, Payload};
/// use tvmffi_core::TypeIndex;
///
/// struct Level(u8);
/// // SAFETY: this example makes objects of index 200 only with a `Level` payload.
/// unsafe impl Payload for Level {
///     const TYPE_KEY: &'static str = "example.Level";
///     fn is_instance(i: TypeIndex) -> bool {
///         i == TypeIndex(200)
///     }
/// }
///
/// static POOL: ObjectPool<Level, 1> = ObjectPool::new();
/// let strong = POOL.alloc(TypeIndex(200), Level(5)).ok().unwrap();
/// let weak = strong.downgrade();
/// assert_eq!(weak.upgrade().unwrap().0, 5);
/// drop(strong); // the payload is destroyed here; the slot stays taken for `weak`
/// assert!(weak.upgrade().is_none());
/// assert_eq!(POOL.available(), 0);
/// drop(weak); // now the slot is free again
/// assert_eq!(POOL.available(), 1);
/// ```
pub struct WeakRef<T: ObjectType = ObjectHeader> {
    ptr: NonNull<T>,
}

// SAFETY: a weak reference only touches the atomic header, but upgrades to an
// `ObjectRef<T>` on whatever thread holds it, so it needs what `ObjectRef<T>` needs.
unsafe impl<T: ObjectType + Send + Sync> Send for WeakRef<T> {}
// SAFETY: as for `Send`: `&WeakRef<T>` can upgrade and clone.
unsafe impl<T: ObjectType + Send + Sync> Sync for WeakRef<T> {}

impl<T: ObjectType> WeakRef<T> {
    /// Wrap a pointer whose weak reference the caller hands over.
    ///
    /// # Safety
    ///
    /// `ptr` points to an object whose memory is still allocated, that was created as a `T`,
    /// and the caller owns one weak reference to it, which the result takes over.
    #[inline]
    pub(super) unsafe fn from_non_null(ptr: NonNull<T>) -> Self {
        Self { ptr }
    }

    #[inline]
    fn header(&self) -> &ObjectHeader {
        // SAFETY: our weak reference keeps the memory allocated, and the header is never
        // destroyed (only the payload is, and the header sits at offset 0 before it).
        unsafe { self.ptr.cast::<ObjectHeader>().as_ref() }
    }

    /// A strong reference, if the object is still alive.
    #[inline]
    pub fn upgrade(&self) -> Option<ObjectRef<T>> {
        if self.header().try_promote_weak_ref() {
            // SAFETY: the promotion added a strong reference to a live object that is a `T`.
            Some(unsafe { ObjectRef::from_non_null(self.ptr) })
        } else {
            None
        }
    }

    /// Strong references (a snapshot); 0 once the object is destroyed.
    #[inline]
    pub fn strong_count(&self) -> u32 {
        self.header().strong_count()
    }

    /// Weak references as the header counts them (a snapshot); see
    /// [`ObjectRef::weak_count`].
    #[inline]
    pub fn weak_count(&self) -> u32 {
        self.header().weak_count()
    }

    /// Whether both weak references point to the same object.
    #[inline]
    pub fn ptr_eq<U: ObjectType>(&self, other: &WeakRef<U>) -> bool {
        self.ptr.cast::<ObjectHeader>() == other.ptr.cast::<ObjectHeader>()
    }
}

impl<T: ObjectType> Clone for WeakRef<T> {
    #[inline]
    fn clone(&self) -> Self {
        self.header().inc_weak_ref();
        // SAFETY: the weak reference just added is the clone's.
        unsafe { Self::from_non_null(self.ptr) }
    }
}

impl<T: ObjectType> Drop for WeakRef<T> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: we own one weak reference and give it up here; `self` is not used after.
        unsafe { ObjectHeader::dec_weak_ref(self.ptr.cast()) }
    }
}

impl<T: ObjectType> fmt::Debug for WeakRef<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakRef")
            .field("type_key", &T::TYPE_KEY)
            .field("ptr", &self.ptr)
            .field("header", self.header())
            .finish()
    }
}
