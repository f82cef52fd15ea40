//! [`Bytes`]: a byte string in the reference's bytes cell.

use alloc::vec::Vec;
use core::fmt;

use tvmffi_core::{Any, AnyView, ConversionError, FromAnyView, TypeIndex};

use super::{TextError, text_any, too_long};

/// An immutable byte string, laid out as the reference's `tvm::ffi::Bytes`: an [`Any`]
/// holding small bytes (7 or fewer, inline) or a bytes object (`ffi.Bytes`).
///
/// Any bytes are allowed, NUL included. Cloning shares the object; equality, ordering and
/// hashing go by content.
///
/// ```
/// use tvmffi_alloc::Bytes;
/// use tvmffi_core::{Any, TypeIndex};
///
/// let b = Bytes::from(b"\0\xff embedded NUL and non-UTF-8");
/// assert_eq!(&b[..2], b"\0\xff");
/// let any = Any::from(b.clone());
/// assert_eq!(any.type_index(), TypeIndex::BYTES);
/// assert_eq!(any.get::<Bytes>().unwrap(), b);
/// assert!(Bytes::from(&b"tiny"[..]).is_inline());
/// ```
#[derive(Clone)]
pub struct Bytes {
    /// `SMALL_BYTES` or `BYTES`.
    any: Any,
}

impl Bytes {
    /// Empty bytes (inline).
    #[inline]
    pub fn new() -> Self {
        // Cannot fail: nothing fits the inline form.
        Self { any: Any::small_bytes(b"").unwrap_or_default() }
    }

    /// A copy of `bytes`, or [`TextError::TooLong`] where `From<&[u8]>` would panic.
    #[inline]
    pub fn try_new(bytes: &[u8]) -> Result<Self, TextError> {
        text_any::<false>(bytes).map(|any| Self { any })
    }

    /// The content.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        // Cannot fail: `any` is small bytes or a bytes object.
        self.any.as_bytes().unwrap_or_default()
    }

    /// Length in bytes.
    #[inline]
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether there are no bytes.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the content is held inline (`SMALL_BYTES`) rather than in an object.
    #[inline]
    pub fn is_inline(&self) -> bool {
        self.any.type_index() == TypeIndex::SMALL_BYTES
    }

    /// The value.
    #[inline]
    pub fn as_any(&self) -> &Any {
        &self.any
    }

    /// The value, giving up the wrapper.
    #[inline]
    pub fn into_any(self) -> Any {
        self.any
    }

    /// A view of the value, borrowing `self`.
    #[inline]
    pub fn view(&self) -> AnyView<'_> {
        self.any.view()
    }
}

text_common!(Bytes, [u8], as_bytes);

impl From<&[u8]> for Bytes {
    /// # Panics
    ///
    /// Like `alloc`'s collections, when `bytes` is too long for any allocation (within 128
    /// bytes of `isize::MAX`); [`Bytes::try_new`] returns an error instead.
    #[inline]
    fn from(bytes: &[u8]) -> Self {
        Self::try_new(bytes).unwrap_or_else(|_| too_long())
    }
}

impl<const N: usize> From<&[u8; N]> for Bytes {
    #[inline]
    fn from(bytes: &[u8; N]) -> Self {
        Self::from(&bytes[..])
    }
}

impl From<&Vec<u8>> for Bytes {
    #[inline]
    fn from(bytes: &Vec<u8>) -> Self {
        Self::from(&bytes[..])
    }
}

impl From<Vec<u8>> for Bytes {
    /// Copies the bytes: the object holds them inline.
    #[inline]
    fn from(bytes: Vec<u8>) -> Self {
        Self::from(&bytes[..])
    }
}

impl From<&str> for Bytes {
    #[inline]
    fn from(s: &str) -> Self {
        Self::from(s.as_bytes())
    }
}

impl From<Bytes> for Vec<u8> {
    #[inline]
    fn from(b: Bytes) -> Self {
        b.as_bytes().into()
    }
}

impl<'a> FromAnyView<'a> for Bytes {
    /// What the reference's `TypeTraits<Bytes>` accepts: a bytes object (shared), small
    /// bytes, or a byte-array pointer (`BYTE_ARRAY_PTR`, copied). Strings are refused, as
    /// there.
    fn from_any_view(view: AnyView<'a>) -> Result<Self, ConversionError> {
        let b = view.as_bytes()?;
        if view.type_index() == TypeIndex::BYTES {
            return Ok(Self { any: view.to_owned()? });
        }
        // Copy borrowed bytes; re-encode small bytes so their unused bytes are zero.
        Self::try_new(b)
            .map_err(|_| ConversionError::out_of_range("bytes", view.type_index(), b.len() as i128))
    }
}

impl TryFrom<Any> for Bytes {
    type Error = ConversionError;

    /// As [`FromAnyView`], moving a bytes object's reference instead of adding one.
    fn try_from(any: Any) -> Result<Self, ConversionError> {
        if any.type_index() == TypeIndex::BYTES {
            any.as_bytes()?;
            return Ok(Self { any });
        }
        Self::from_any_view(any.view())
    }
}

impl fmt::Debug for Bytes {
    /// As a Rust byte string literal: `b"a\0\xff"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b\"{}\"", self.as_bytes().escape_ascii())
    }
}

impl fmt::Display for Bytes {
    /// The same as `Debug`: bytes have no text form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl PartialEq<[u8]> for Bytes {
    #[inline]
    fn eq(&self, other: &[u8]) -> bool {
        self.as_bytes() == other
    }
}

impl PartialEq<&[u8]> for Bytes {
    #[inline]
    fn eq(&self, other: &&[u8]) -> bool {
        self.as_bytes() == *other
    }
}

impl<const N: usize> PartialEq<[u8; N]> for Bytes {
    #[inline]
    fn eq(&self, other: &[u8; N]) -> bool {
        self.as_bytes() == other
    }
}

impl<const N: usize> PartialEq<&[u8; N]> for Bytes {
    #[inline]
    fn eq(&self, other: &&[u8; N]) -> bool {
        self.as_bytes() == *other
    }
}

impl PartialEq<Bytes> for [u8] {
    #[inline]
    fn eq(&self, other: &Bytes) -> bool {
        self == other.as_bytes()
    }
}
