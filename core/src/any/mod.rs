//! [`Any`] and [`AnyView`]: the 16-byte tagged value that every call passes.
//!
//! Both are `#[repr(transparent)]` over [`TVMFFIAny`], so slices of them are slices of the C
//! struct. An [`AnyView`] borrows (it changes no reference count and may point at C strings,
//! byte arrays and tensors it does not own); an [`Any`] owns its value, and for object type
//! indices one strong reference.
//!
//! Values go in with `From` (or `TryFrom` where the range is checked) and come out with
//! [`FromAnyView`] through [`AnyView::get`] / [`Any::get`], following the reference's
//! conversion rules (`tvm/ffi/type_traits.h`): an `int` accepts `int` or `bool`, a `float`
//! accepts `float`, `int` or `bool`, a `void*` accepts `void*` or `None`, and so on. Unlike
//! the reference, narrowing integer conversions are range-checked instead of wrapping.
//!
//! # Bit-level invariants
//!
//! C code compares and hashes the raw bits of values, so every constructor here keeps the
//! reference's invariants: `zero_padding` is 0 for all but small strings and bytes, all 8
//! value bytes are zeroed before a narrower payload (a pointer on 32-bit targets, a
//! `DLDataType`) is written, and a bool is the integer 0 or 1.

use core::ffi::c_void;
use core::marker::PhantomData;
use core::mem::ManuallyDrop;
use core::ptr::NonNull;

use crate::sys::{TVMFFIAny, TVMFFIAnyPadding, TVMFFIAnyValue};
use crate::{ObjectHeader, TypeIndex};

mod debug;
mod from;
mod into;
mod object;
mod owned;
mod text;

pub use from::FromAnyView;
pub use text::ByteArray;

/// A borrowed value: a `TVMFFIAny` that owns nothing, valid for `'a`.
///
/// Copying a view changes no reference count. It may hold the borrowed kinds an [`Any`]
/// never holds: a C string (`RAW_STR`), a byte-array pointer (`BYTE_ARRAY_PTR`) and an
/// object r-value reference (`OBJECT_RVALUE_REF`). Turn it into an owned value with
/// [`AnyView::to_owned`].
#[repr(transparent)]
#[derive(Clone, Copy)]
pub struct AnyView<'a> {
    raw: TVMFFIAny,
    _borrow: PhantomData<&'a ()>,
}

/// An owned value: a `TVMFFIAny` that owns its payload.
///
/// For object type indices (64 and above) it owns one strong reference: `Clone` adds one,
/// `Drop` releases it. It never holds a borrowed kind (`RAW_STR`, `BYTE_ARRAY_PTR`,
/// `OBJECT_RVALUE_REF`): the safe constructors cannot make one, [`AnyView::to_owned`]
/// converts them, and [`Any::from_raw`] requires their absence. Like the reference, it may
/// hold a `DL_TENSOR_PTR` that [`AnyView::to_owned`] copied: a plain pointer that does not
/// keep the tensor alive.
#[repr(transparent)]
pub struct Any {
    raw: TVMFFIAny,
}

const _: () = {
    assert!(size_of::<Any>() == size_of::<TVMFFIAny>());
    assert!(align_of::<Any>() == align_of::<TVMFFIAny>());
    assert!(size_of::<AnyView<'_>>() == size_of::<TVMFFIAny>());
    assert!(align_of::<AnyView<'_>>() == align_of::<TVMFFIAny>());
};

// SAFETY: objects in TVM-FFI are shared across threads by design: their counters are
// atomic and the reference requires object payloads to be thread-safe. The other payloads
// are plain data or pointers (`void*`, `DLTensor*`) that `Any` never dereferences; what
// they point to is the concern of whoever dereferences them, as in the reference.
unsafe impl Send for Any {}
// SAFETY: `&Any` only reads the value and increments atomic counters (see `Send`).
unsafe impl Sync for Any {}

/// A value with every byte zero but the type index, and the given 8 value bytes.
#[inline]
const fn pod(type_index: TypeIndex, bits: u64) -> TVMFFIAny {
    TVMFFIAny {
        type_index: type_index.0,
        padding: TVMFFIAnyPadding { zero_padding: 0 },
        value: TVMFFIAnyValue { v_uint64: bits },
    }
}

/// An integer-carrying value (`INT`, `BOOL`).
#[inline]
const fn int(type_index: TypeIndex, v: i64) -> TVMFFIAny {
    pod(type_index, v as u64)
}

/// A pointer-carrying value, with the upper value bytes zero on 32-bit targets.
#[inline]
const fn ptr(type_index: TypeIndex, p: *mut c_void) -> TVMFFIAny {
    let mut raw = pod(type_index, 0);
    raw.value.v_ptr = p;
    raw
}

impl<'a> AnyView<'a> {
    /// `None`, with every byte zero.
    pub const NONE: Self = Self::from_pod(TVMFFIAny::NONE);

    /// `None`.
    #[inline]
    pub const fn none() -> Self {
        Self::NONE
    }

    /// Wrap a value built here, whose payload borrows nothing beyond `'a`.
    #[inline]
    const fn from_pod(raw: TVMFFIAny) -> Self {
        Self { raw, _borrow: PhantomData }
    }

    /// Wrap a C value.
    ///
    /// # Safety
    ///
    /// `raw` is a valid value as `c_api.h` defines it, and what it points to stays valid and
    /// unchanged for `'a`: a `RAW_STR` points to a NUL-terminated string, a `BYTE_ARRAY_PTR`
    /// to a `TVMFFIByteArray` whose `data` is readable for `size` bytes, an object index to a
    /// live object (with the layout of its type index: a `TVMFFIByteArray` after the header
    /// for strings and bytes), an `OBJECT_RVALUE_REF` to a writable object-pointer slot
    /// that no one else accesses while the view is in use.
    #[inline]
    pub const unsafe fn from_raw(raw: TVMFFIAny) -> Self {
        Self::from_pod(raw)
    }

    /// A view of an object, taking no reference.
    ///
    /// # Safety
    ///
    /// `obj` points to a live object with a type index of 64 or above that stays alive for
    /// `'a`.
    #[inline]
    pub unsafe fn from_object_ptr(obj: NonNull<ObjectHeader>) -> Self {
        // SAFETY: the caller guarantees the header is live.
        let type_index = unsafe { obj.as_ref() }.type_index();
        debug_assert!(type_index.is_object(), "object header with a non-object type index");
        Self { raw: ptr(type_index, obj.as_ptr().cast::<c_void>()), _borrow: PhantomData }
    }

    /// Copy a C value out of memory, e.g. an argument of a packed call.
    ///
    /// # Safety
    ///
    /// `ptr` is valid for reading a `TVMFFIAny`, and the value meets the requirements of
    /// [`AnyView::from_raw`].
    #[inline]
    pub unsafe fn from_ptr(ptr: *const TVMFFIAny) -> Self {
        // SAFETY: the caller guarantees `ptr` is readable and the value valid for `'a`.
        unsafe { Self::from_raw(ptr.read()) }
    }

    /// The C struct.
    #[inline]
    pub const fn as_raw(&self) -> &TVMFFIAny {
        &self.raw
    }

    /// The type index.
    #[inline]
    pub const fn type_index(&self) -> TypeIndex {
        TypeIndex(self.raw.type_index)
    }

    /// Whether this is `None`.
    #[inline]
    pub const fn is_none(&self) -> bool {
        self.raw.type_index == TypeIndex::NONE.0
    }

    /// Convert to `T` following the reference's rules; see [`FromAnyView`].
    #[inline]
    pub fn get<T: FromAnyView<'a>>(self) -> Result<T, crate::ConversionError> {
        T::from_any_view(self)
    }

    /// The object header, for object type indices (64 and above) with a non-null pointer.
    #[inline]
    pub fn as_object_ptr(&self) -> Option<NonNull<ObjectHeader>> {
        if self.type_index().is_object() {
            // SAFETY: object indices carry `v_obj`; any pointer value is a valid read.
            NonNull::new(unsafe { self.raw.value.v_obj }.cast::<ObjectHeader>())
        } else {
            None
        }
    }
}

impl Default for AnyView<'_> {
    #[inline]
    fn default() -> Self {
        Self::NONE
    }
}

impl<'a> From<&'a Any> for AnyView<'a> {
    #[inline]
    fn from(any: &'a Any) -> Self {
        any.view()
    }
}

impl Any {
    /// `None`, with every byte zero.
    pub const NONE: Self = Self::from_pod(TVMFFIAny::NONE);

    /// `None`.
    #[inline]
    pub const fn none() -> Self {
        Self::NONE
    }

    /// Wrap a value built here that is neither an object nor a borrowed kind.
    #[inline]
    const fn from_pod(raw: TVMFFIAny) -> Self {
        Self { raw }
    }

    /// Take ownership of a C value, e.g. a call's result slot.
    ///
    /// # Safety
    ///
    /// `raw` is a valid value as `c_api.h` defines it and not a borrowed kind (`RAW_STR`,
    /// `BYTE_ARRAY_PTR`, `OBJECT_RVALUE_REF`). For an object type index, `v_obj` points to a
    /// live object (laid out as its type index says) and the caller transfers one strong
    /// reference to the new `Any`.
    #[inline]
    pub unsafe fn from_raw(raw: TVMFFIAny) -> Self {
        debug_assert!(
            !matches!(
                TypeIndex(raw.type_index),
                TypeIndex::RAW_STR | TypeIndex::BYTE_ARRAY_PTR | TypeIndex::OBJECT_RVALUE_REF
            ),
            "an owned Any cannot hold a borrowed kind"
        );
        Self { raw }
    }

    /// Take ownership of one strong reference to an object.
    ///
    /// # Safety
    ///
    /// `obj` points to a live object with a type index of 64 or above, laid out as that
    /// index says, and the caller transfers one strong reference to the new `Any`.
    #[inline]
    pub unsafe fn from_object_raw(obj: NonNull<ObjectHeader>) -> Self {
        // SAFETY: the caller guarantees the header is live.
        let type_index = unsafe { obj.as_ref() }.type_index();
        debug_assert!(type_index.is_object(), "object header with a non-object type index");
        Self { raw: ptr(type_index, obj.as_ptr().cast::<c_void>()) }
    }

    /// Give up ownership: the C value, e.g. to store in a result slot.
    ///
    /// An object's strong reference goes with it; release it with [`Any::from_raw`] or the C
    /// API.
    #[inline]
    pub fn into_raw(self) -> TVMFFIAny {
        let this = ManuallyDrop::new(self);
        this.raw
    }

    /// Give up ownership of the object's strong reference, or get `self` back when this is
    /// not an object.
    #[inline]
    pub fn into_object_raw(self) -> Result<NonNull<ObjectHeader>, Self> {
        match self.view().as_object_ptr() {
            Some(obj) => {
                core::mem::forget(self);
                Ok(obj)
            }
            None => Err(self),
        }
    }

    /// The C struct.
    #[inline]
    pub const fn as_raw(&self) -> &TVMFFIAny {
        &self.raw
    }

    /// The type index.
    #[inline]
    pub const fn type_index(&self) -> TypeIndex {
        TypeIndex(self.raw.type_index)
    }

    /// Whether this is `None`.
    #[inline]
    pub const fn is_none(&self) -> bool {
        self.raw.type_index == TypeIndex::NONE.0
    }

    /// A view of the value, borrowing `self`.
    #[inline]
    pub const fn view(&self) -> AnyView<'_> {
        AnyView::from_pod(self.raw)
    }

    /// The value seen as a view in place, so that inline content (small strings) can be
    /// borrowed for as long as `self`.
    #[inline]
    fn view_ref(&self) -> &AnyView<'_> {
        // SAFETY: both types are `repr(transparent)` over `TVMFFIAny` (the `PhantomData` is
        // zero-sized), and an `Any`'s payload stays valid while it is borrowed.
        unsafe { &*(self as *const Self).cast::<AnyView<'_>>() }
    }

    /// Convert to `T` following the reference's rules; see [`FromAnyView`].
    #[inline]
    pub fn get<'a, T: FromAnyView<'a>>(&'a self) -> Result<T, crate::ConversionError> {
        T::from_any_view(self.view())
    }

    /// The object header, for object type indices (64 and above).
    #[inline]
    pub fn as_object_ptr(&self) -> Option<NonNull<ObjectHeader>> {
        self.view().as_object_ptr()
    }
}

impl Default for Any {
    #[inline]
    fn default() -> Self {
        Self::NONE
    }
}

impl Clone for Any {
    #[inline]
    fn clone(&self) -> Self {
        if let Some(obj) = self.as_object_ptr() {
            // SAFETY: `self` owns a strong reference, so the object is alive.
            unsafe { obj.as_ref() }.inc_ref();
        }
        Self { raw: self.raw }
    }
}

impl Drop for Any {
    #[inline]
    fn drop(&mut self) {
        if let Some(obj) = self.as_object_ptr() {
            // SAFETY: `self` owns one strong reference, released here exactly once.
            unsafe { ObjectHeader::dec_ref(obj) };
        }
    }
}
