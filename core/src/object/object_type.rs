//! Which Rust types may stand for an object, and the header-then-payload layout.

use core::ops::Deref;

use super::ObjectHeader;
use crate::TypeIndex;
use crate::sys::{TVMFFIFunctionCell, TVMFFIObjectDeleter};

/// A Rust type that an object may be viewed as: [`ObjectRef<T>`](super::ObjectRef) points
/// to a `T`.
///
/// Implemented by [`ObjectHeader`] (the root, every object) and by [`Object<P>`] for every
/// [`Payload`] `P`. Hand-written object structs implement it directly.
///
/// # Safety
///
/// - `Self` is `#[repr(C)]` (or `#[repr(transparent)]`) with an [`ObjectHeader`] at offset 0.
/// - `is_instance(i)` returns `true` only if every object whose header carries the index `i`
///   starts with a valid `Self` (its own layout, or a subclass's whose prefix is `Self`).
///   [`ObjectRef::downcast`](super::ObjectRef::downcast) reinterprets pointers on that word.
///
/// References never drop a `Self` themselves: the object's deleter destroys it.
pub unsafe trait ObjectType {
    /// The type key, e.g. `"ffi.Function"`.
    const TYPE_KEY: &'static str;

    /// Whether an object of runtime index `type_index` may be viewed as `Self`.
    fn is_instance(type_index: TypeIndex) -> bool;
}

// SAFETY: the header is at offset 0 of itself, and every object starts with one.
unsafe impl ObjectType for ObjectHeader {
    const TYPE_KEY: &'static str = "ffi.Object";

    #[inline]
    fn is_instance(_: TypeIndex) -> bool {
        true
    }
}

/// The part of an object that follows its header, e.g. a `TVMFFIFunctionCell`.
///
/// A payload is dropped by the object's deleter, an `extern "C"` function that C code calls
/// and that has no way to report an error. So its `Drop` must not panic: if it does, the
/// panic's message is printed and the process aborts (Rust's "panic in a function that
/// cannot unwind"), rather than unwinding into C. The same holds for whatever a payload
/// owns, such as the state a Rust closure captures.
///
/// # Safety
///
/// `is_instance(i)` returns `true` only if every object whose header carries the index `i` is
/// laid out as [`Object<Self>`]: the header, then a valid `Self` at the offset `#[repr(C)]`
/// gives it. No two payload types may claim the same index with different layouts.
pub unsafe trait Payload {
    /// The type key, e.g. `"ffi.Function"`.
    const TYPE_KEY: &'static str;

    /// Whether an object of runtime index `type_index` has this payload.
    fn is_instance(type_index: TypeIndex) -> bool;
}

/// Function objects (`kTVMFFIFunction`, `"ffi.Function"`).
///
/// The cell holds raw pointers, so it is neither `Send` nor `Sync`: an
/// `ObjectRef<Object<TVMFFIFunctionCell>>` stays on its thread, and a function object cannot
/// sit in a `static` [`StaticObject`](super::StaticObject) (an
/// [`ObjectPool`](super::ObjectPool) of them can).
// SAFETY: the C ABI lays a function object out as the header followed by a
// `TVMFFIFunctionCell` (asserted below), and `kTVMFFIFunction` is reserved for it.
unsafe impl Payload for TVMFFIFunctionCell {
    const TYPE_KEY: &'static str = "ffi.Function";

    /// Only the static index: a runtime-registered subclass of `ffi.Function` would need the
    /// type table of a runtime to recognise.
    #[inline]
    fn is_instance(type_index: TypeIndex) -> bool {
        type_index == TypeIndex::FUNCTION
    }
}

/// An object laid out as its header, then a payload: how the C ABI lays out functions
/// (header + `TVMFFIFunctionCell`), errors, shapes and tensors.
///
/// Objects are shared, so the payload is only ever reached through `&P`; use cells or
/// atomics inside it for state that changes.
///
/// ```
/// use tvmffi_core::object::{Object, ObjectType};
/// use tvmffi_core::sys::TVMFFIFunctionCell;
/// use tvmffi_core::TypeIndex;
///
/// let cell = TVMFFIFunctionCell { safe_call: None, cpp_call: core::ptr::null_mut() };
/// let obj = Object::new(TypeIndex::FUNCTION, None, cell);
/// assert_eq!(obj.header().type_index(), TypeIndex::FUNCTION);
/// assert!(obj.safe_call.is_none()); // `Deref` to the payload
/// assert_eq!(<Object<TVMFFIFunctionCell>>::TYPE_KEY, "ffi.Function");
/// ```
#[repr(C)]
pub struct Object<P> {
    header: ObjectHeader,
    payload: P,
}

const _: () = {
    use core::mem::{align_of, offset_of, size_of};
    assert!(offset_of!(Object<TVMFFIFunctionCell>, header) == 0);
    assert!(offset_of!(Object<TVMFFIFunctionCell>, payload) == 24);
    assert!(size_of::<Object<TVMFFIFunctionCell>>() == pick!(40, 32));
    assert!(align_of::<Object<TVMFFIFunctionCell>>() == align_of::<ObjectHeader>());
};

impl<P> Object<P> {
    /// A fresh object (strong 1, weak 1) of `type_index`, freed by `deleter`.
    ///
    /// The value only becomes a shared object once it sits in memory that the deleter
    /// knows how to release; see [`StaticObject`](super::StaticObject) and
    /// [`ObjectPool`](super::ObjectPool) for storage that does that without an allocator.
    pub const fn new(
        type_index: TypeIndex,
        deleter: Option<TVMFFIObjectDeleter>,
        payload: P,
    ) -> Self {
        Self { header: ObjectHeader::new(type_index, deleter), payload }
    }

    /// The header.
    #[inline]
    pub const fn header(&self) -> &ObjectHeader {
        &self.header
    }

    /// The payload.
    #[inline]
    pub const fn payload(&self) -> &P {
        &self.payload
    }

    /// Drop the payload in place and leave the header for the weak references: what a
    /// deleter does on `STRONG`.
    ///
    /// Only the payload's bytes are touched (no `&mut Object<P>` is made), so other threads
    /// may go on reading the header's counter through weak references meanwhile.
    ///
    /// # Safety
    ///
    /// `this` points to an `Object<P>` whose payload is initialised, not yet dropped, and not
    /// referenced by anyone else, through a pointer that may write it (for `static` objects
    /// it may not: they live in shared memory). The payload must not be used afterwards.
    #[inline]
    pub unsafe fn drop_payload(this: *mut Self) {
        // SAFETY: the caller vouches for a valid, unshared, writable payload; `&raw mut`
        // projects to it without making a reference to the whole object.
        unsafe { core::ptr::drop_in_place(&raw mut (*this).payload) }
    }
}

impl<P> Deref for Object<P> {
    type Target = P;

    #[inline]
    fn deref(&self) -> &P {
        &self.payload
    }
}

// SAFETY: `#[repr(C)]` with the header first; `P::is_instance` vouches for the payload.
unsafe impl<P: Payload> ObjectType for Object<P> {
    const TYPE_KEY: &'static str = P::TYPE_KEY;

    #[inline]
    fn is_instance(type_index: TypeIndex) -> bool {
        P::is_instance(type_index)
    }
}

impl<P: core::fmt::Debug> core::fmt::Debug for Object<P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Object")
            .field("header", &self.header)
            .field("payload", &self.payload)
            .finish()
    }
}
