//! [`String`]: UTF-8 text in the reference's string cell.

use alloc::vec::Vec;
use core::ffi::CStr;
use core::fmt;

use tvmffi_core::{Any, AnyView, ConversionError, FromAnyView, TypeIndex};

use super::{TextError, text_any, too_long};

/// An immutable UTF-8 string, laid out as the reference's `tvm::ffi::String`: an [`Any`]
/// holding a small string (7 bytes or fewer, inline) or a string object (`ffi.String`).
///
/// Cloning shares the object. Equality, ordering and hashing go by content, so a short
/// string that C++ built as an object equals the same text held inline. Ordering compares
/// bytes as unsigned (code point order; the reference's `compare` uses plain `char`, whose
/// sign depends on the platform).
///
/// ```
/// use tvmffi_alloc::String;
/// use tvmffi_core::{Any, TypeIndex};
///
/// let short = String::from("tvm");
/// let long = String::from("a string of more than seven bytes");
/// assert_eq!(short.as_str(), "tvm");
/// assert_eq!(long.len(), 33);
///
/// let any = Any::from(long.clone());
/// assert_eq!(any.type_index(), TypeIndex::STR);
/// assert_eq!(any.get::<String>().unwrap(), long);
/// assert!(String::from_utf8(b"\xc3\x28").is_err());
/// ```
#[derive(Clone)]
pub struct String {
    /// `SMALL_STR` or `STR`, holding valid UTF-8.
    any: Any,
}

impl String {
    /// The empty string (inline).
    #[inline]
    pub fn new() -> Self {
        // Cannot fail: nothing fits the inline form.
        Self { any: Any::small_str("").unwrap_or_default() }
    }

    /// A copy of `s`, or [`TextError::TooLong`] where `From<&str>` would panic.
    #[inline]
    pub fn try_new(s: &str) -> Result<Self, TextError> {
        text_any::<true>(s.as_bytes()).map(|any| Self { any })
    }

    /// A copy of `bytes`, checked to be UTF-8.
    #[inline]
    pub fn from_utf8(bytes: &[u8]) -> Result<Self, TextError> {
        Self::try_new(core::str::from_utf8(bytes)?)
    }

    /// A copy of a C string's bytes (without its NUL), checked to be UTF-8.
    #[inline]
    pub fn from_c_str(s: &CStr) -> Result<Self, TextError> {
        Self::from_utf8(s.to_bytes())
    }

    /// The text.
    #[inline]
    pub fn as_str(&self) -> &str {
        // Cannot fail: `any` is a small string or a string object.
        let bytes = self.any.as_str_or_bytes().unwrap_or_default();
        // SAFETY: every constructor checks UTF-8 (or starts from a `&str`), and neither the
        // inline value nor the object's content ever changes.
        unsafe { core::str::from_utf8_unchecked(bytes) }
    }

    /// The text as bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        self.as_str().as_bytes()
    }

    /// Length in bytes.
    #[inline]
    pub fn len(&self) -> usize {
        self.as_str().len()
    }

    /// Whether the string is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the text is held inline (`SMALL_STR`) rather than in an object.
    #[inline]
    pub fn is_inline(&self) -> bool {
        self.any.type_index() == TypeIndex::SMALL_STR
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

text_common!(String, str, as_str);

impl From<&str> for String {
    /// # Panics
    ///
    /// Like `alloc`'s collections, when `s` is too long for any allocation (within 128
    /// bytes of `isize::MAX`); [`String::try_new`] returns an error instead.
    #[inline]
    fn from(s: &str) -> Self {
        Self::try_new(s).unwrap_or_else(|_| too_long())
    }
}

impl From<&alloc::string::String> for String {
    #[inline]
    fn from(s: &alloc::string::String) -> Self {
        Self::from(s.as_str())
    }
}

impl From<alloc::string::String> for String {
    /// Copies the text: the object holds its bytes inline.
    #[inline]
    fn from(s: alloc::string::String) -> Self {
        Self::from(s.as_str())
    }
}

impl From<String> for alloc::string::String {
    #[inline]
    fn from(s: String) -> Self {
        s.as_str().into()
    }
}

impl TryFrom<&[u8]> for String {
    type Error = TextError;

    #[inline]
    fn try_from(bytes: &[u8]) -> Result<Self, TextError> {
        Self::from_utf8(bytes)
    }
}

impl TryFrom<Vec<u8>> for String {
    type Error = TextError;

    #[inline]
    fn try_from(bytes: Vec<u8>) -> Result<Self, TextError> {
        Self::from_utf8(&bytes)
    }
}

impl TryFrom<&CStr> for String {
    type Error = TextError;

    #[inline]
    fn try_from(s: &CStr) -> Result<Self, TextError> {
        Self::from_c_str(s)
    }
}

impl<'a> FromAnyView<'a> for String {
    /// What the reference's `TypeTraits<String>` accepts: a string object (shared), a small
    /// string, or a C string (`RAW_STR`, copied), each checked to be UTF-8. A byte-array
    /// pointer is `bytes`, not `str`, and is refused as there.
    fn from_any_view(view: AnyView<'a>) -> Result<Self, ConversionError> {
        let s = view.as_str()?;
        if view.type_index() == TypeIndex::STR {
            return Ok(Self { any: view.to_owned()? });
        }
        // Copy a C string; re-encode a small string so its unused bytes are zero.
        Self::try_new(s)
            .map_err(|_| ConversionError::out_of_range("str", view.type_index(), s.len() as i128))
    }
}

impl TryFrom<Any> for String {
    type Error = ConversionError;

    /// As [`FromAnyView`], moving a string object's reference instead of adding one.
    fn try_from(any: Any) -> Result<Self, ConversionError> {
        if any.type_index() == TypeIndex::STR {
            any.as_str()?;
            return Ok(Self { any });
        }
        Self::from_any_view(any.view())
    }
}

impl fmt::Display for String {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl fmt::Debug for String {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq<str> for String {
    #[inline]
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for String {
    #[inline]
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for str {
    #[inline]
    fn eq(&self, other: &String) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<String> for &str {
    #[inline]
    fn eq(&self, other: &String) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<alloc::string::String> for String {
    #[inline]
    fn eq(&self, other: &alloc::string::String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl AsRef<[u8]> for String {
    #[inline]
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}
