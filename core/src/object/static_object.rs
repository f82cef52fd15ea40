//! [`StaticObject`]: an object in a `static`, shared without any allocator.

use core::ops::Deref;
use core::ptr::NonNull;

use super::{Object, ObjectHeader, ObjectRef, Payload};
use crate::TypeIndex;

/// An object that lives in a `static` (or other `'static` memory) and is never freed.
///
/// The static keeps the first strong reference forever and has no deleter, so the counts
/// never reach zero, the payload is never dropped through the object protocol, and the
/// memory is never released. [`new_ref`](Self::new_ref) hands out ordinary
/// [`ObjectRef`]s that C code may hold, inc-ref and dec-ref like any other.
///
/// Aligned to 8 bytes because the counter is a 64-bit atomic, even on i686 where C aligns
/// `uint64_t` fields to 4.
///
/// ```
/// use tvmffi_core::object::{Payload, StaticObject};
/// use tvmffi_core::TypeIndex;
///
/// struct Version(u32);
/// // SAFETY: this example makes objects of index 200 only with a `Version` payload.
/// unsafe impl Payload for Version {
///     const TYPE_KEY: &'static str = "example.Version";
///     fn is_instance(i: TypeIndex) -> bool {
///         i == TypeIndex(200)
///     }
/// }
///
/// static VERSION: StaticObject<Version> = StaticObject::new(TypeIndex(200), Version(3));
///
/// let r = VERSION.new_ref();
/// assert_eq!((r.0, r.strong_count()), (3, 2));
/// drop(r);
/// assert_eq!(VERSION.header().strong_count(), 1); // the static's own reference
/// ```
#[repr(C, align(8))]
pub struct StaticObject<P> {
    object: Object<P>,
}

const _: () = {
    use crate::sys::TVMFFIFunctionCell;
    assert!(core::mem::offset_of!(StaticObject<TVMFFIFunctionCell>, object) == 0);
    assert!(core::mem::align_of::<StaticObject<TVMFFIFunctionCell>>() == 8);
    assert!(core::mem::align_of::<StaticObject<u8>>() == 8);
};

impl<P> StaticObject<P> {
    /// An object of `type_index` holding `payload`, with no deleter.
    ///
    /// `type_index` must be one that `P::is_instance` accepts; [`new_ref`](Self::new_ref)
    /// checks it (a `const fn` cannot call trait methods).
    pub const fn new(type_index: TypeIndex, payload: P) -> Self {
        Self { object: Object::new(type_index, None, payload) }
    }

    /// The object.
    #[inline]
    pub const fn object(&self) -> &Object<P> {
        &self.object
    }

    /// The object header.
    #[inline]
    pub const fn header(&self) -> &ObjectHeader {
        self.object.header()
    }

    /// The payload.
    #[inline]
    pub const fn payload(&self) -> &P {
        self.object.payload()
    }
}

impl<P: Payload> StaticObject<P> {
    /// A new strong reference to the object.
    ///
    /// # Panics
    ///
    /// If the object's type index is not one `P::is_instance` accepts: views that check
    /// only the index (downcasts, other languages) would read the payload as another type.
    #[inline]
    pub fn new_ref(&'static self) -> ObjectRef<Object<P>> {
        let index = self.header().type_index();
        assert!(P::is_instance(index), "type index {index} does not hold a {}", P::TYPE_KEY);
        self.header().inc_ref();
        // SAFETY: the strong reference just added is the result's. The object is `'static`
        // with no deleter, so it stays alive and is never written except through the
        // header's atomic counter, which sits in an `UnsafeCell`.
        unsafe { ObjectRef::from_non_null(NonNull::from(&self.object)) }
    }
}

impl<P> Deref for StaticObject<P> {
    type Target = Object<P>;

    #[inline]
    fn deref(&self) -> &Object<P> {
        &self.object
    }
}

impl<P: core::fmt::Debug> core::fmt::Debug for StaticObject<P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("StaticObject").field(&self.object).finish()
    }
}
