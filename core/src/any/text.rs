//! Strings and bytes: inline small values, borrowed byte arrays, and reading the content of
//! every text kind.
//!
//! The reference keeps text in three forms: borrowed (`RAW_STR` for a C string,
//! `BYTE_ARRAY_PTR` for a `TVMFFIByteArray*`), inline (`SMALL_STR`/`SMALL_BYTES`: at most 7
//! bytes in `v_bytes`, then a NUL, with the length in `small_str_len`), and objects (`STR`,
//! `BYTES`: the header, then a `TVMFFIByteArray` whose data ends in a NUL).

use core::ffi::{CStr, c_char};
use core::marker::PhantomData;

use super::{Any, AnyView, ptr};
use crate::TypeIndex;
use crate::error::{ConversionError, ConversionErrorKind};
use crate::sys::{TVMFFIAny, TVMFFIAnyPadding, TVMFFIAnyValue, TVMFFIByteArray, TVMFFIObject};

/// The longest string or bytes held inline: 7 bytes, then the NUL, in the 8 value bytes.
pub(super) const MAX_SMALL_LEN: usize = 7;

/// The inline encoding of `bytes` as `type_index`, or `None` when longer than 7 bytes.
#[inline]
pub(super) const fn small_raw(bytes: &[u8], type_index: TypeIndex) -> Option<TVMFFIAny> {
    if bytes.len() > MAX_SMALL_LEN {
        return None;
    }
    // Zero-filled, so the NUL after the content and the unused tail are both 0: the bits
    // are deterministic for C code that hashes or compares them.
    Some(TVMFFIAny {
        type_index: type_index.0,
        padding: TVMFFIAnyPadding { small_str_len: bytes.len() as u32 },
        value: TVMFFIAnyValue { v_bytes: small_word(bytes).to_le_bytes() },
    })
}

/// Up to 7 bytes as the low bytes of a little-endian word, the rest zero; straight-line
/// (two overlapping loads, or three single bytes), with no call to `memcpy`.
#[inline]
const fn small_word(b: &[u8]) -> u64 {
    let n = b.len();
    if n >= 4 {
        let lo = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64;
        let hi = u32::from_le_bytes([b[n - 4], b[n - 3], b[n - 2], b[n - 1]]) as u64;
        lo | hi << ((n - 4) * 8)
    } else if n > 0 {
        b[0] as u64 | (b[n / 2] as u64) << (n / 2 * 8) | (b[n - 1] as u64) << ((n - 1) * 8)
    } else {
        0
    }
}

impl Any {
    /// The longest string or bytes [`Any::small_str`] and [`Any::small_bytes`] hold inline.
    pub const MAX_SMALL_LEN: usize = MAX_SMALL_LEN;

    /// A string held inline (`SMALL_STR`), or `None` when longer than 7 bytes (that needs a
    /// string object, hence an allocator).
    #[inline]
    pub const fn small_str(s: &str) -> Option<Self> {
        match small_raw(s.as_bytes(), TypeIndex::SMALL_STR) {
            Some(raw) => Some(Self::from_pod(raw)),
            None => None,
        }
    }

    /// Bytes held inline (`SMALL_BYTES`), or `None` when longer than 7 bytes.
    #[inline]
    pub const fn small_bytes(b: &[u8]) -> Option<Self> {
        match small_raw(b, TypeIndex::SMALL_BYTES) {
            Some(raw) => Some(Self::from_pod(raw)),
            None => None,
        }
    }

    /// The text of a small string or string object; see [`AnyView::as_str`].
    #[inline]
    pub fn as_str(&self) -> Result<&str, ConversionError> {
        self.view_ref().as_str()
    }

    /// The content of small bytes or a bytes object; see [`AnyView::as_bytes`].
    #[inline]
    pub fn as_bytes(&self) -> Result<&[u8], ConversionError> {
        self.view_ref().as_bytes()
    }

    /// The content of any string or bytes; see [`AnyView::as_str_or_bytes`].
    #[inline]
    pub fn as_str_or_bytes(&self) -> Result<&[u8], ConversionError> {
        self.view_ref().as_str_or_bytes()
    }
}

/// A `TVMFFIByteArray` borrowing a Rust byte slice, to pass bytes as a view
/// (`BYTE_ARRAY_PTR`) without copying.
///
/// A view points at this struct, not at the bytes, so the struct must outlive the view.
#[repr(transparent)]
#[derive(Clone, Copy, Debug)]
pub struct ByteArray<'a> {
    raw: TVMFFIByteArray,
    _bytes: PhantomData<&'a [u8]>,
}

impl<'a> ByteArray<'a> {
    /// Borrow `bytes`.
    #[inline]
    pub const fn new(bytes: &'a [u8]) -> Self {
        let raw = TVMFFIByteArray { data: bytes.as_ptr().cast::<c_char>(), size: bytes.len() };
        Self { raw, _bytes: PhantomData }
    }

    /// The C struct.
    #[inline]
    pub const fn as_raw(&self) -> &TVMFFIByteArray {
        &self.raw
    }

    /// The borrowed bytes.
    #[inline]
    pub const fn as_bytes(&self) -> &'a [u8] {
        // SAFETY: `new` took `data` and `size` from a slice borrowed for `'a`.
        unsafe { core::slice::from_raw_parts(self.raw.data.cast::<u8>(), self.raw.size) }
    }
}

impl<'a> From<&'a [u8]> for ByteArray<'a> {
    #[inline]
    fn from(bytes: &'a [u8]) -> Self {
        Self::new(bytes)
    }
}

impl<'a> From<&'a str> for ByteArray<'a> {
    #[inline]
    fn from(s: &'a str) -> Self {
        Self::new(s.as_bytes())
    }
}

impl<'a, 'b: 'a> From<&'a ByteArray<'b>> for AnyView<'a> {
    /// Borrowed bytes (`BYTE_ARRAY_PTR`). An [`Any`] cannot hold them: see
    /// [`AnyView::to_owned`].
    #[inline]
    fn from(bytes: &'a ByteArray<'b>) -> Self {
        let p = (&raw const bytes.raw).cast_mut().cast();
        Self::from_pod(ptr(TypeIndex::BYTE_ARRAY_PTR, p))
    }
}

/// The bytes a `TVMFFIByteArray` describes; `None` for a null `data` with a non-zero size.
///
/// # Safety
///
/// `arr` points to a `TVMFFIByteArray` whose `data` is readable for `size` bytes (when not
/// null), both valid and unchanged for `'b`.
unsafe fn byte_array_slice<'b>(arr: *const TVMFFIByteArray) -> Option<&'b [u8]> {
    // SAFETY: the caller guarantees `arr` is readable.
    let arr = unsafe { arr.read() };
    if arr.data.is_null() {
        return (arr.size == 0).then_some(&[][..]);
    }
    if arr.size > isize::MAX as usize {
        return None;
    }
    // SAFETY: the caller guarantees `data` is readable for `size` bytes for `'b`.
    Some(unsafe { core::slice::from_raw_parts(arr.data.cast::<u8>(), arr.size) })
}

/// Which text kinds a reader accepts.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Accept {
    Str,
    Bytes,
    Either,
}

impl<'a> AnyView<'a> {
    /// The text of a C string (`RAW_STR`), small string (`SMALL_STR`) or string object
    /// (`STR`), checked to be UTF-8.
    ///
    /// These are the kinds the reference's `String` accepts; a byte-array pointer is
    /// `bytes` there (what Python passes for `bytes`), so it is rejected here too. Use
    /// [`AnyView::as_str_or_bytes`] to take either.
    ///
    /// Errors: [`Mismatch`](ConversionErrorKind::Mismatch) for other kinds,
    /// [`InvalidUtf8`](ConversionErrorKind::InvalidUtf8) for text that is not UTF-8,
    /// [`Malformed`](ConversionErrorKind::Malformed) for a null pointer or a small string
    /// longer than 7 bytes.
    pub fn as_str(&self) -> Result<&str, ConversionError> {
        let bytes = self.content("str", Accept::Str)?;
        core::str::from_utf8(bytes).map_err(|_| {
            ConversionError::new(ConversionErrorKind::InvalidUtf8, "str", self.type_index())
        })
    }

    /// The content of a byte-array pointer (`BYTE_ARRAY_PTR`), small bytes (`SMALL_BYTES`)
    /// or a bytes object (`BYTES`): the kinds the reference's `Bytes` accepts. Strings are
    /// rejected, as there; see [`AnyView::as_str_or_bytes`].
    pub fn as_bytes(&self) -> Result<&[u8], ConversionError> {
        self.content("bytes", Accept::Bytes)
    }

    /// The content of any string or bytes kind, as the reference's `std::string`
    /// conversion accepts them; no UTF-8 check.
    pub fn as_str_or_bytes(&self) -> Result<&[u8], ConversionError> {
        self.content("str or bytes", Accept::Either)
    }

    /// The C string of a `RAW_STR`, the only kind the reference's `const char*` accepts.
    pub fn as_c_str(&self) -> Result<&'a CStr, ConversionError> {
        const EXPECTED: &str = "const char*";
        if self.type_index() != TypeIndex::RAW_STR {
            return Err(ConversionError::mismatch(EXPECTED, self.type_index()));
        }
        self.c_str().ok_or_else(|| self.malformed(EXPECTED))
    }

    /// The `TVMFFIByteArray` of a `BYTE_ARRAY_PTR`, the only kind the reference's
    /// `TVMFFIByteArray*` accepts.
    pub fn as_byte_array(&self) -> Result<&'a TVMFFIByteArray, ConversionError> {
        const EXPECTED: &str = "TVMFFIByteArray*";
        if self.type_index() != TypeIndex::BYTE_ARRAY_PTR {
            return Err(ConversionError::mismatch(EXPECTED, self.type_index()));
        }
        // SAFETY: a `BYTE_ARRAY_PTR` carries `v_ptr`.
        let p = unsafe { self.raw.value.v_ptr }.cast::<TVMFFIByteArray>();
        // SAFETY: non-null, it points to a byte array valid for `'a` (`from_raw` contract).
        unsafe { p.as_ref() }.ok_or_else(|| self.malformed(EXPECTED))
    }

    pub(super) fn malformed(&self, expected: &'static str) -> ConversionError {
        ConversionError::new(ConversionErrorKind::Malformed, expected, self.type_index())
    }

    /// The string of a `RAW_STR`; `None` when the pointer is null.
    pub(super) fn c_str(&self) -> Option<&'a CStr> {
        // SAFETY: a `RAW_STR` carries `v_c_str`.
        let p = unsafe { self.raw.value.v_c_str };
        // SAFETY: non-null, it is a NUL-terminated string valid for `'a` (`from_raw`
        // contract; the safe constructor takes a `&'a CStr`).
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) })
    }

    /// The inline content of a small string or bytes; `None` when the length exceeds 7.
    pub(super) fn small(&self) -> Option<&[u8]> {
        // SAFETY: every bit pattern is a valid `u32` and `[u8; 8]`.
        let (len, bytes) = unsafe { (self.raw.padding.small_str_len, &self.raw.value.v_bytes) };
        bytes.get(..len as usize).filter(|b| b.len() <= MAX_SMALL_LEN)
    }

    /// The bytes of a `BYTE_ARRAY_PTR`; `None` for null pointers.
    pub(super) fn byte_array(&self) -> Option<&'a [u8]> {
        // SAFETY: a `BYTE_ARRAY_PTR` carries `v_ptr`.
        let p = unsafe { self.raw.value.v_ptr }.cast::<TVMFFIByteArray>();
        // SAFETY: non-null, it points to a byte array valid for `'a` (`from_raw` contract;
        // the safe constructor takes a `&'a ByteArray`).
        (!p.is_null()).then(|| unsafe { byte_array_slice(p) }).flatten()
    }

    /// The bytes of a string or bytes object; `None` for null pointers.
    fn object_bytes(&self) -> Option<&'a [u8]> {
        let obj = self.as_object_ptr()?;
        // The byte array follows the header (`TVMFFIBytesGetByteArrayPtr`).
        let arr = obj.as_ptr().cast::<u8>().wrapping_add(size_of::<TVMFFIObject>());
        // SAFETY: a live string or bytes object (valid for `'a` by the `from_raw` contract)
        // is laid out as a header followed by a byte array describing its content.
        unsafe { byte_array_slice(arr.cast::<TVMFFIByteArray>()) }
    }

    fn content(&self, expected: &'static str, accept: Accept) -> Result<&[u8], ConversionError> {
        let (want_str, want_bytes) = (accept != Accept::Bytes, accept != Accept::Str);
        let found = match self.type_index() {
            TypeIndex::RAW_STR if want_str => self.c_str().map(CStr::to_bytes),
            TypeIndex::SMALL_STR if want_str => self.small(),
            TypeIndex::STR if want_str => self.object_bytes(),
            TypeIndex::BYTE_ARRAY_PTR if want_bytes => self.byte_array(),
            TypeIndex::SMALL_BYTES if want_bytes => self.small(),
            TypeIndex::BYTES if want_bytes => self.object_bytes(),
            other => return Err(ConversionError::mismatch(expected, other)),
        };
        found.ok_or_else(|| self.malformed(expected))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_words_hold_the_bytes_then_zeros() {
        let text = *b"abcdefg";
        for n in 0..=MAX_SMALL_LEN {
            let mut expected = [0u8; 8];
            expected[..n].copy_from_slice(&text[..n]);
            assert_eq!(small_word(&text[..n]).to_le_bytes(), expected, "{n} bytes");
        }
        assert!(small_raw(b"12345678", TypeIndex::SMALL_STR).is_none());
    }
}
