//! From a view to an owned value: the reference's `TVMFFIAnyViewToOwnedAny`
//! (`src/ffi/function.cc`, through `detail::InplaceConvertAnyViewToAny` in `any.h`), as far
//! as it goes without an allocator.

use core::ptr::NonNull;

use super::text::small_raw;
use super::{Any, AnyView};
use crate::error::{ConversionError, ConversionErrorKind};
use crate::sys::TVMFFIObject;
use crate::{ObjectHeader, TypeIndex};

impl AnyView<'_> {
    /// An owned copy of the value, as the reference's `TVMFFIAnyViewToOwnedAny` makes it:
    ///
    /// - values held inline (including a `DLTensor*`, which stays a plain pointer) are copied;
    /// - objects gain a strong reference;
    /// - a C string or byte-array pointer of at most 7 bytes becomes a small string or small
    ///   bytes; a longer one needs a string or bytes object, so this tier returns
    ///   [`NeedsAllocator`](ConversionErrorKind::NeedsAllocator) (the reference copies the
    ///   raw bytes without a UTF-8 check, and so does this);
    /// - an object r-value reference moves the object out of the slot it points to, leaving
    ///   null there, so a second conversion fails with
    ///   [`AlreadyMoved`](ConversionErrorKind::AlreadyMoved) (the reference's "RValueRef
    ///   already moved").
    ///
    /// The last case writes through the view: the slot belongs to the caller that made the
    /// view (see [`AnyView::from_raw`]).
    #[inline]
    pub fn to_owned(&self) -> Result<Any, ConversionError> {
        // Plain values and objects (nearly every argument) inline; the borrowed kinds out of
        // line.
        match self.type_index() {
            TypeIndex::RAW_STR | TypeIndex::BYTE_ARRAY_PTR | TypeIndex::OBJECT_RVALUE_REF => {
                self.borrowed_to_owned()
            }
            _ => {
                if let Some(obj) = self.as_object_ptr() {
                    // SAFETY: the view's object is alive for the view's lifetime.
                    unsafe { obj.as_ref() }.inc_ref();
                }
                // SAFETY: not a borrowed kind (handled above); an object gained the strong
                // reference the new `Any` owns.
                Ok(unsafe { Any::from_raw(self.raw) })
            }
        }
    }

    /// [`to_owned`](Self::to_owned) of a C string, a byte-array pointer or an r-value
    /// reference.
    #[inline(never)]
    fn borrowed_to_owned(&self) -> Result<Any, ConversionError> {
        let type_index = self.type_index();
        match type_index {
            TypeIndex::RAW_STR => {
                let s = self.c_str().ok_or_else(|| self.malformed("str"))?;
                small(s.to_bytes(), TypeIndex::SMALL_STR, "str", type_index)
            }
            TypeIndex::BYTE_ARRAY_PTR => {
                let b = self.byte_array().ok_or_else(|| self.malformed("bytes"))?;
                small(b, TypeIndex::SMALL_BYTES, "bytes", type_index)
            }
            _ => self.take_rvalue_ref(),
        }
    }

    /// Move the object out of the slot an `OBJECT_RVALUE_REF` points to.
    fn take_rvalue_ref(&self) -> Result<Any, ConversionError> {
        const EXPECTED: &str = "ffi.Object";
        // SAFETY: an `OBJECT_RVALUE_REF` carries `v_ptr`, a `TVMFFIObject**`.
        let slot = unsafe { self.raw.value.v_ptr }.cast::<*mut TVMFFIObject>();
        if slot.is_null() {
            return Err(self.malformed(EXPECTED));
        }
        // SAFETY: the slot is readable and writable, and only this view's user accesses it
        // (`from_raw` contract).
        let obj = unsafe { slot.read() };
        let Some(obj) = NonNull::new(obj.cast::<ObjectHeader>()) else {
            return Err(ConversionError::new(
                ConversionErrorKind::AlreadyMoved,
                EXPECTED,
                self.type_index(),
            ));
        };
        // SAFETY: as above; nulling the slot keeps a second move from stealing it again.
        unsafe { slot.write(core::ptr::null_mut()) };
        // SAFETY: the slot owned one strong reference to a live object, now ours.
        Ok(unsafe { Any::from_object_raw(obj) })
    }
}

fn small(
    bytes: &[u8],
    type_index: TypeIndex,
    expected: &'static str,
    actual: TypeIndex,
) -> Result<Any, ConversionError> {
    match small_raw(bytes, type_index) {
        Some(raw) => Ok(Any::from_pod(raw)),
        None => Err(ConversionError::new(ConversionErrorKind::NeedsAllocator, expected, actual)),
    }
}
