//! [`ObjectRef`]: one owned strong reference, the Rust face of the reference's `ObjectPtr`.

use core::fmt;
use core::mem::ManuallyDrop;
use core::ops::Deref;
use core::ptr::NonNull;

use super::{ObjectHeader, ObjectType, WeakRef};
use crate::TypeIndex;
use crate::sys::TVMFFIObject;

/// An owned strong reference to an object viewed as `T` (any object by default).
///
/// Cloning adds a strong reference, dropping removes one; the last drop runs the object's
/// deleter, which destroys the payload and, once no [`WeakRef`] is left either, releases
/// the memory. The counter is the object header's, shared with C and C++ code, so a
/// reference can leave for C ([`into_raw`](Self::into_raw)) and come back
/// ([`from_raw`](Self::from_raw)).
///
/// ```
/// use tvmffi_core::object::{ObjectHeader, ObjectPool, ObjectRef, Payload};
/// use tvmffi_core::TypeIndex;
///
/// struct Counter(u32);
/// // SAFETY: this example makes objects of index 200 only with a `Counter` payload.
/// unsafe impl Payload for Counter {
///     const TYPE_KEY: &'static str = "example.Counter";
///     fn is_instance(i: TypeIndex) -> bool {
///         i == TypeIndex(200)
///     }
/// }
///
/// static POOL: ObjectPool<Counter, 2> = ObjectPool::new();
/// let a = POOL.alloc(TypeIndex(200), Counter(7)).ok().unwrap();
/// let b = a.clone();
/// assert_eq!((a.strong_count(), b.0), (2, 7));
///
/// let any: ObjectRef = b.upcast(); // = ObjectRef<ObjectHeader>
/// let raw = any.into_raw(); // the strong reference leaves for C ...
/// // SAFETY: `raw` came from `into_raw` and its reference was not used since.
/// let back = unsafe { ObjectRef::<ObjectHeader>::from_raw(raw) }.unwrap(); // ... and returns
/// let counter = back.downcast::<tvmffi_core::object::Object<Counter>>().unwrap();
/// assert!(counter.ptr_eq(&a));
/// ```
pub struct ObjectRef<T: ObjectType = ObjectHeader> {
    ptr: NonNull<T>,
}

// SAFETY: like `Arc`: clones on other threads share `&T` (`Sync`), and the last drop may
// run `T`'s destructor on any thread (`Send`). The counter itself is atomic.
unsafe impl<T: ObjectType + Send + Sync> Send for ObjectRef<T> {}
// SAFETY: as for `Send`: `&ObjectRef<T>` hands out `&T` and can be cloned into an owner.
unsafe impl<T: ObjectType + Send + Sync> Sync for ObjectRef<T> {}

impl<T: ObjectType> ObjectRef<T> {
    /// Wrap a pointer whose strong reference the caller hands over.
    ///
    /// # Safety
    ///
    /// `ptr` points to a live object that starts with a valid `T`, and the caller owns one
    /// strong reference to it, which the result takes over.
    #[inline]
    pub(super) unsafe fn from_non_null(ptr: NonNull<T>) -> Self {
        Self { ptr }
    }

    #[inline]
    fn header_ptr(&self) -> NonNull<ObjectHeader> {
        self.ptr.cast()
    }

    /// The object header.
    #[inline]
    pub fn header(&self) -> &ObjectHeader {
        // SAFETY: `T: ObjectType` puts the header at offset 0, and our strong reference keeps
        // the object alive for as long as `self` is borrowed.
        unsafe { self.header_ptr().as_ref() }
    }

    /// The object's runtime type index.
    #[inline]
    pub fn type_index(&self) -> TypeIndex {
        self.header().type_index()
    }

    /// Strong references (a snapshot; other threads may change it at once).
    #[inline]
    pub fn strong_count(&self) -> u32 {
        self.header().strong_count()
    }

    /// Weak references as the header counts them (a snapshot): the live [`WeakRef`]s plus
    /// the one that all strong references own together, so 1 when there is no `WeakRef`.
    #[inline]
    pub fn weak_count(&self) -> u32 {
        self.header().weak_count()
    }

    /// Whether this is the only reference to the object, strong or weak (see
    /// [`ObjectHeader::is_unique`]).
    #[inline]
    pub fn is_unique(&self) -> bool {
        self.header().is_unique()
    }

    /// Whether both references point to the same object, whatever they view it as.
    #[inline]
    pub fn ptr_eq<U: ObjectType>(&self, other: &ObjectRef<U>) -> bool {
        self.header_ptr() == other.header_ptr()
    }

    /// The object as a C pointer, borrowed: no reference changes hands.
    #[inline]
    pub fn as_raw(&self) -> *mut TVMFFIObject {
        self.ptr.as_ptr().cast()
    }

    /// Give the strong reference away as a C pointer, e.g. to return it through the ABI.
    ///
    /// Whoever receives it must release it once: with `TVMFFIObjectDecRef`, or by taking it
    /// back with [`from_raw`](Self::from_raw).
    #[inline]
    #[must_use = "the reference leaks unless the pointer is released"]
    pub fn into_raw(self) -> *mut TVMFFIObject {
        ManuallyDrop::new(self).as_raw()
    }

    /// Take over the strong reference that `ptr` carries; `None` for null.
    ///
    /// # Safety
    ///
    /// `ptr` is null, or points to a live object (8-byte aligned, as every object allocation
    /// is) that starts with a valid `T` and whose type index satisfies `T::is_instance`
    /// (checked in debug builds), and the caller owns one strong reference to it, which
    /// the result takes over. If the object's real type is not `Send + Sync` the result
    /// must stay on the thread that may use it, even where `ObjectRef<T>` would allow more.
    #[inline]
    pub unsafe fn from_raw(ptr: *mut TVMFFIObject) -> Option<Self> {
        let ptr = NonNull::new(ptr)?;
        #[cfg(debug_assertions)]
        {
            // SAFETY: the object is alive (caller) and its header sits at the pointer.
            let index = unsafe { ptr.cast::<ObjectHeader>().as_ref() }.type_index();
            assert!(T::is_instance(index), "object of type index {index} is not a {}", T::TYPE_KEY);
        }
        // SAFETY: the caller hands over a strong reference to an object that is a `T`.
        Some(unsafe { Self::from_non_null(ptr.cast()) })
    }

    /// A new strong reference to the object behind a borrowed pointer; `None` for null.
    ///
    /// # Safety
    ///
    /// As for [`from_raw`](Self::from_raw), except that the caller only needs the object to
    /// stay alive during this call (someone holds a strong reference); none is taken over.
    #[inline]
    pub unsafe fn from_raw_borrowed(ptr: *mut TVMFFIObject) -> Option<Self> {
        let header = NonNull::new(ptr)?.cast::<ObjectHeader>();
        // SAFETY: the object is alive (caller), and its header sits at the pointer.
        unsafe { header.as_ref() }.inc_ref();
        // SAFETY: the strong reference just added is the one the result owns.
        unsafe { Self::from_raw(ptr) }
    }

    /// View the object as any object, giving up the static type.
    ///
    /// `T: Send + Sync` is required because an `ObjectRef<ObjectHeader>` may cross threads,
    /// and its last drop may destroy the `T` there.
    #[inline]
    pub fn upcast(self) -> ObjectRef<ObjectHeader>
    where
        T: Send + Sync,
    {
        let ptr = ManuallyDrop::new(self).header_ptr();
        // SAFETY: our strong reference moves into the result; every object is a header.
        unsafe { ObjectRef::from_non_null(ptr) }
    }

    /// View the object as `U` if its type index says it is one; otherwise give `self` back.
    ///
    /// Like [`upcast`](Self::upcast), needs `T: Send + Sync`: `U` may be a more shareable
    /// view of the same object (`ObjectHeader` is always `Send + Sync`).
    #[inline]
    pub fn downcast<U: ObjectType>(self) -> Result<ObjectRef<U>, Self>
    where
        T: Send + Sync,
    {
        if !U::is_instance(self.type_index()) {
            return Err(self);
        }
        let ptr = ManuallyDrop::new(self).ptr.cast::<U>();
        // SAFETY: `U::is_instance` vouches that the object starts with a valid `U`, and our
        // strong reference moves into the result.
        Ok(unsafe { ObjectRef::from_non_null(ptr) })
    }

    /// A new weak reference to the object.
    #[inline]
    pub fn downgrade(&self) -> WeakRef<T> {
        self.header().inc_weak_ref();
        // SAFETY: the weak reference just added is the one the result owns, and the object
        // is a `T` (we are one).
        unsafe { WeakRef::from_non_null(self.ptr) }
    }
}

impl<T: ObjectType> Clone for ObjectRef<T> {
    #[inline]
    fn clone(&self) -> Self {
        self.header().inc_ref();
        // SAFETY: the strong reference just added is the clone's.
        unsafe { Self::from_non_null(self.ptr) }
    }
}

impl<T: ObjectType> Drop for ObjectRef<T> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: we own one strong reference and give it up here; `self` is not used after.
        unsafe { ObjectHeader::dec_ref(self.header_ptr()) }
    }
}

impl<T: ObjectType> Deref for ObjectRef<T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: the object starts with a valid `T` (construction), and our strong reference
        // keeps it alive and undestroyed while `self` is borrowed.
        unsafe { self.ptr.as_ref() }
    }
}

impl<T: ObjectType> fmt::Debug for ObjectRef<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectRef")
            .field("type_key", &T::TYPE_KEY)
            .field("ptr", &self.ptr)
            .field("header", self.header())
            .finish()
    }
}

impl<T: ObjectType> fmt::Pointer for ObjectRef<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Pointer::fmt(&self.ptr, f)
    }
}
