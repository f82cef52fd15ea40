//! [`ShallowCopy`] and [`UnsafeInit`]: what the generator writes for the mirrors of C++
//! types that a type defined in Rust may derive from.

use tvmffi_core::sys::TVMFFIAny;
use tvmffi_core::{Any, DataType, Device};

use super::{Object, ObjectArc, ObjectCore};

/// A copy of an object's fields, with a fresh header (the reference's
/// `__ffi_shallow_copy__`): references are shared, values copied.
/// [`ObjectArc::shallow_copy`] makes it a new object of the same type; the generator
/// writes it for the mirrors of C++ types that are not final.
///
/// ```
/// use tvmffi::{Object, ShallowCopy};
///
/// let header = Object::new();
/// let fresh = header.shallow_copy(); // a header is never copied: the copy gets its own
/// assert_eq!(fresh.header().strong_count(), 1);
/// ```
pub trait ShallowCopy: ObjectCore {
    /// The copy.
    fn shallow_copy(&self) -> Self;
}

impl ShallowCopy for Object {
    fn shallow_copy(&self) -> Self {
        Object::new()
    }
}

/// The drop of an object whose fields may still be all-zero bytes ("undefined"), as C++
/// leaves the references of an object it made with `UnsafeInit` until reflection sets them.
///
/// # Safety
///
/// `drop_defined_fields` drops every field that holds a value, the parent's included, and
/// no field that holds all-zero bytes which are not a value of its type.
pub unsafe trait UnsafeInit: ObjectCore {
    /// Drop the defined fields of the object at `this`, the parent's first.
    ///
    /// # Safety
    ///
    /// `this` points to an object whose every field holds a value or all-zero bytes, and
    /// which is not used afterwards.
    unsafe fn drop_defined_fields(this: *mut Self);
}

// SAFETY: the header holds nothing to drop.
unsafe impl UnsafeInit for Object {
    unsafe fn drop_defined_fields(_this: *mut Self) {}
}

/// A field type whose all-zero bytes may stand for "not set yet" ([`drop_if_defined`]).
///
/// # Safety
///
/// `is_undefined` reads only the bytes of the field, and returns `true` exactly when they
/// are not a valid value (so they must not be dropped); all-zero bytes of the type are
/// either a valid value or undefined.
pub unsafe trait MaybeUndefined {
    /// Whether the bytes at `field` are no value of the type (all-zero where the type has no
    /// all-zero value).
    ///
    /// # Safety
    ///
    /// `field` is readable for `size_of::<Self>()` bytes, which hold a value or zeros.
    unsafe fn is_undefined(field: *const Self) -> bool;
}

/// Types whose all-zero bytes are a value: never undefined.
macro_rules! zero_is_a_value {
    ($($t:ty),* $(,)?) => {$(
        // SAFETY: all-zero bytes are a valid value of the type.
        unsafe impl MaybeUndefined for $t {
            #[inline]
            unsafe fn is_undefined(_field: *const Self) -> bool {
                false
            }
        }
    )*};
}

zero_is_a_value!(bool, i8, i16, i32, i64, u8, u16, u32, u64, f32, f64, Device, DataType, Any);

/// Types that are one `TVMFFIAny` cell (strings, bytes, big integers): all-zero bytes are
/// the `None` cell, no value of the type, and nothing to drop.
macro_rules! any_cell {
    ($($t:ty),* $(,)?) => {$(
        // SAFETY: the type is one `TVMFFIAny` (asserted in `crate::layout`); all-zero bytes
        // are `None` (type index 0), which none of these types holds.
        unsafe impl MaybeUndefined for $t {
            #[inline]
            unsafe fn is_undefined(field: *const Self) -> bool {
                // SAFETY: the caller's promise; the type index is the cell's first word.
                unsafe { (*field.cast::<TVMFFIAny>()).type_index == 0 }
            }
        }
    )*};
}

any_cell!(tvmffi_alloc::String, tvmffi_alloc::Bytes, tvmffi_alloc::BigInt);

/// References (one non-null pointer): all-zero bytes are null, no reference.
macro_rules! reference {
    ($(impl[$($g:tt)*] $t:ty),* $(,)?) => {$(
        // SAFETY: the type is one non-null pointer (asserted in `crate::layout`), so
        // all-zero bytes are no value of it.
        unsafe impl<$($g)*> MaybeUndefined for $t {
            #[inline]
            unsafe fn is_undefined(field: *const Self) -> bool {
                // SAFETY: the caller's promise.
                unsafe { field.cast::<*const u8>().read().is_null() }
            }
        }

        // SAFETY: one non-null pointer (asserted in `crate::layout`).
        unsafe impl<$($g)*> NullablePointer for $t {}
    )*};
}

reference!(
    impl[T: ObjectCore] ObjectArc<T>,
    impl[T: tvmffi_core::ObjectType] tvmffi_core::ObjectRef<T>,
    impl[] tvmffi_alloc::Function,
    impl[] tvmffi_alloc::Tensor,
    impl[] tvmffi_alloc::Shape,
    impl[] tvmffi_alloc::Error,
    impl[T] tvmffi_alloc::typed::Array<T>,
    impl[T] tvmffi_alloc::typed::List<T>,
    impl[K, V] tvmffi_alloc::typed::Map<K, V>,
    impl[K, V] tvmffi_alloc::typed::Dict<K, V>,
);

/// An `Option` of a reference: all-zero bytes are `None` (the null pointer), a value.
// SAFETY: `Option<R>` of a non-null pointer type is the nullable pointer, zero for `None`.
unsafe impl<R: MaybeUndefined + NullablePointer> MaybeUndefined for Option<R> {
    #[inline]
    unsafe fn is_undefined(_field: *const Self) -> bool {
        false
    }
}

/// Reference types whose `Option` is a nullable pointer.
///
/// # Safety
///
/// `Self` is one non-null pointer, so `Option<Self>` is that pointer, null for `None`.
pub unsafe trait NullablePointer {}

/// Drop the field at `field` unless it is undefined (all-zero bytes that are no value).
///
/// # Safety
///
/// `field` is a field of an object, holding a value or zeros, and not used afterwards.
pub unsafe fn drop_if_defined<F: MaybeUndefined>(field: *mut F) {
    // SAFETY: the caller's promise.
    unsafe {
        if !F::is_undefined(field) {
            core::ptr::drop_in_place(field);
        }
    }
}
