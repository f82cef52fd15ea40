//! Text and byte strings: [`String`] and [`Bytes`], and owning any view
//! ([`any_view_to_owned`]).
//!
//! The reference keeps both in an `Any`-shaped cell (`BytesBaseCell` in `tvm/ffi/string.h`):
//! up to 7 bytes live inline in the value (`SMALL_STR` / `SMALL_BYTES`, the length in
//! `small_str_len`, then a NUL), longer content in an object (`STR` = 65 / `BYTES` = 66) laid
//! out as the header, a `TVMFFIByteArray { data, size }`, and the bytes themselves with a
//! trailing NUL right after (`InitSpaceForSize`). Our wrappers hold the same [`Any`], so a
//! value crosses the ABI without copying, and C or C++ code reads it with its inline code.
//!
//! Text is checked to be UTF-8 wherever it becomes a [`String`]: Rust hands out `&str`. The
//! reference's C API (`TVMFFIStringFromByteArray`) and `AnyView -> Any` conversion copy bytes
//! without a check, and its Python side decodes strictly when reading; we follow both: the
//! raw constructors ([`str_any_from_bytes`], [`any_view_to_owned`]) copy as is, and reading
//! such a value as a [`String`] fails with [`InvalidUtf8`](ConversionErrorKind::InvalidUtf8).

use core::alloc::Layout;
use core::ffi::c_char;
use core::fmt;

use tvmffi_core::error::ConversionErrorKind;
use tvmffi_core::sys::TVMFFIByteArray;
use tvmffi_core::{Any, AnyView, ConversionError, Object, ObjectHeader, Payload, TypeIndex};

use crate::heap;

/// The traits [`String`] and [`Bytes`] share, all by content (`$content` is `str` or
/// `[u8]`, read with `$get`).
macro_rules! text_common {
    ($ty:ident, $content:ty, $get:ident) => {
        impl Default for $ty {
            #[inline]
            fn default() -> Self {
                Self::new()
            }
        }

        impl core::ops::Deref for $ty {
            type Target = $content;

            #[inline]
            fn deref(&self) -> &$content {
                self.$get()
            }
        }

        impl AsRef<$content> for $ty {
            #[inline]
            fn as_ref(&self) -> &$content {
                self.$get()
            }
        }

        impl core::borrow::Borrow<$content> for $ty {
            #[inline]
            fn borrow(&self) -> &$content {
                self.$get()
            }
        }

        impl PartialEq for $ty {
            #[inline]
            fn eq(&self, other: &Self) -> bool {
                self.$get() == other.$get()
            }
        }

        impl Eq for $ty {}

        impl PartialOrd for $ty {
            #[inline]
            fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl Ord for $ty {
            #[inline]
            fn cmp(&self, other: &Self) -> core::cmp::Ordering {
                self.$get().cmp(other.$get())
            }
        }

        impl core::hash::Hash for $ty {
            /// Hashes as the content does, so lookups by `&$content` work (`Borrow`).
            #[inline]
            fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
                self.$get().hash(state)
            }
        }

        impl From<$ty> for Any {
            #[inline]
            fn from(v: $ty) -> Self {
                v.into_any()
            }
        }

        impl<'a> From<&'a $ty> for AnyView<'a> {
            #[inline]
            fn from(v: &'a $ty) -> Self {
                v.view()
            }
        }
    };
}

mod bytes;
mod text;

pub use bytes::Bytes;
pub use text::String;

/// Why a [`String`] or [`Bytes`] could not be made.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum TextError {
    /// The bytes are not UTF-8; the first `valid_up_to` bytes are.
    InvalidUtf8 {
        /// Length of the longest valid UTF-8 prefix.
        valid_up_to: usize,
    },
    /// No object of this many bytes (plus its header and NUL) fits the address space.
    TooLong {
        /// The requested length.
        len: usize,
    },
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidUtf8 { valid_up_to } => {
                write!(f, "invalid UTF-8 after the first {valid_up_to} bytes")
            }
            Self::TooLong { len } => write!(f, "{len} bytes do not fit in one string object"),
        }
    }
}

impl core::error::Error for TextError {}

impl From<core::str::Utf8Error> for TextError {
    fn from(e: core::str::Utf8Error) -> Self {
        Self::InvalidUtf8 { valid_up_to: e.valid_up_to() }
    }
}

/// The longest content an object may hold: the object, its NUL and the allocation prefix
/// must fit `isize::MAX` bytes, as every Rust allocation must.
const MAX_OBJECT_LEN: usize = isize::MAX as usize - 128;

/// The payload of string (`STR = true`) and bytes objects: the `TVMFFIByteArray` base of the
/// reference's `BytesObjBase`, pointing at the inline bytes that follow.
#[repr(transparent)]
struct TextCell<const STR: bool>(TVMFFIByteArray);

// SAFETY: the cell is immutable after construction and points at bytes the object owns.
unsafe impl<const STR: bool> Send for TextCell<STR> {}
// SAFETY: as for `Send`: shared access only reads.
unsafe impl<const STR: bool> Sync for TextCell<STR> {}

// SAFETY: `STR` and `BYTES` objects are laid out as the header and a `TVMFFIByteArray`
// (`BytesObjBase`, and `TVMFFIBytesGetByteArrayPtr` in `c_api.h`); each index is claimed by
// exactly one of the two cell types, and both have that layout.
unsafe impl<const STR: bool> Payload for TextCell<STR> {
    const TYPE_KEY: &'static str = if STR { "ffi.String" } else { "ffi.Bytes" };

    #[inline]
    fn is_instance(type_index: TypeIndex) -> bool {
        type_index == object_index(STR)
    }
}

const fn object_index(is_str: bool) -> TypeIndex {
    if is_str { TypeIndex::STR } else { TypeIndex::BYTES }
}

/// `bytes` as a small string / small bytes value when it fits 7 bytes, else as a new object
/// holding a copy and a trailing NUL (the reference's `InitSpaceForSize` + `InitData`).
///
/// No UTF-8 check: callers that promise text check first.
fn text_any<const STR: bool>(bytes: &[u8]) -> Result<Any, TextError> {
    let small = if STR { small_str(bytes) } else { Any::small_bytes(bytes) };
    if let Some(any) = small {
        return Ok(any);
    }
    // SAFETY: `bytes` is readable for its length.
    unsafe { text_object::<STR>(bytes.as_ptr(), bytes.len()) }
        .ok_or(TextError::TooLong { len: bytes.len() })
}

/// A string (`STR = true`) or bytes object holding a copy of the `len` bytes at `data` and
/// a trailing NUL; `None` (before reading anything) when `len` exceeds what one object may
/// hold. Allocation failure aborts, as Rust allocations do.
///
/// # Safety
///
/// `data` is readable for `len` bytes when `len` is at most the object limit.
#[inline]
pub(crate) unsafe fn text_object<const STR: bool>(data: *const u8, len: usize) -> Option<Any> {
    if len > MAX_OBJECT_LEN {
        return None;
    }
    // `len + 1` is below `isize::MAX`, so this is a valid layout.
    let tail = Layout::array::<u8>(len + 1).ok()?;
    let init = |dst: *mut u8| {
        // SAFETY: the tail has room for `len + 1` bytes and does not overlap `data`, which
        // is readable for `len` bytes (caller).
        unsafe {
            core::ptr::copy_nonoverlapping(data, dst, len);
            dst.add(len).write(0);
        }
        TextCell::<STR>(TVMFFIByteArray { data: dst.cast::<c_char>().cast_const(), size: len })
    };
    // SAFETY: `init` writes the whole tail (content and NUL), which is all the cell reads.
    let obj = unsafe { heap::new_object_with_tail(object_index(STR), tail, init) };
    Some(Any::from(obj))
}

#[cold]
#[inline(never)]
fn too_long() -> ! {
    panic!("string or bytes too long to allocate")
}

/// The small string encoding of raw bytes (the core offers it for `&str` only).
fn small_str(bytes: &[u8]) -> Option<Any> {
    // The same encoding as small bytes, under another type index.
    let mut raw = Any::small_bytes(bytes)?.into_raw();
    raw.type_index = TypeIndex::SMALL_STR.0;
    // SAFETY: a small string is a plain inline value, like the small bytes it came from.
    Some(unsafe { Any::from_raw(raw) })
}

/// A string value (`SMALL_STR` or `STR`) holding a copy of `bytes`, which need not be UTF-8:
/// the reference's `TVMFFIStringFromByteArray`, for C API implementations.
///
/// Reading it back as a [`String`] checks the text; see the module docs.
///
/// ```
/// use tvmffi_alloc::string::str_any_from_bytes;
/// use tvmffi_core::TypeIndex;
///
/// let any = str_any_from_bytes(b"\xff not UTF-8, and longer than 7 bytes").unwrap();
/// assert_eq!(any.type_index(), TypeIndex::STR);
/// assert!(any.get::<tvmffi_alloc::String>().is_err());
/// ```
pub fn str_any_from_bytes(bytes: &[u8]) -> Result<Any, TextError> {
    text_any::<true>(bytes)
}

/// A bytes value (`SMALL_BYTES` or `BYTES`) holding a copy of `bytes`: the reference's
/// `TVMFFIBytesFromByteArray`. The same as [`Bytes::try_new`] as an [`Any`].
pub fn bytes_any_from_bytes(bytes: &[u8]) -> Result<Any, TextError> {
    text_any::<false>(bytes)
}

/// An owned copy of any view: the reference's `TVMFFIAnyViewToOwnedAny` (`src/ffi/function.cc`,
/// through `InplaceConvertAnyViewToAny` in `tvm/ffi/any.h`).
///
/// Everything [`AnyView::to_owned`] can own is owned as it does (objects gain a reference,
/// inline values are copied, an r-value reference is moved out of its slot). What it refuses
/// for want of an allocator becomes an object here: a C string (`RAW_STR`) longer than 7
/// bytes becomes a string object, a byte-array pointer (`BYTE_ARRAY_PTR`) a bytes object.
/// Like the reference, the bytes are copied without a UTF-8 check.
///
/// Errors: those of [`AnyView::to_owned`] (a null borrowed pointer, an r-value reference
/// already moved), and [`OutOfRange`](ConversionErrorKind::OutOfRange) for content too long
/// to allocate.
///
/// ```
/// use tvmffi_alloc::any_view_to_owned;
/// use tvmffi_core::{AnyView, TypeIndex};
///
/// let text = c"longer than seven bytes";
/// let owned = any_view_to_owned(AnyView::from(text)).unwrap();
/// assert_eq!(owned.type_index(), TypeIndex::STR);
/// assert_eq!(owned.as_str().unwrap(), "longer than seven bytes");
/// ```
#[inline]
pub fn any_view_to_owned(view: AnyView<'_>) -> Result<Any, ConversionError> {
    match view.type_index() {
        TypeIndex::RAW_STR | TypeIndex::BYTE_ARRAY_PTR => text_view_to_owned(view),
        _ => view.to_owned(),
    }
}

/// [`any_view_to_owned`] of a C string or a byte-array pointer.
#[inline(never)]
fn text_view_to_owned(view: AnyView<'_>) -> Result<Any, ConversionError> {
    match view.to_owned() {
        Err(e) if e.kind() == ConversionErrorKind::NeedsAllocator => {
            let actual = view.type_index();
            let (made, len) = match actual {
                TypeIndex::RAW_STR => {
                    let s = view.as_c_str()?.to_bytes();
                    (str_any_from_bytes(s), s.len())
                }
                TypeIndex::BYTE_ARRAY_PTR => {
                    let b = view.as_bytes()?;
                    (bytes_any_from_bytes(b), b.len())
                }
                _ => return Err(e),
            };
            made.map_err(|_| ConversionError::out_of_range(e.expected(), actual, len as i128))
        }
        other => other,
    }
}

/// C++ mirror of `tvm::ffi::detail::StringObj` and `BytesObj`, for the layout table only:
/// `Object<TextCell>` is the same `#[repr(C)]` sequence (asserted below).
#[repr(C)]
struct StringObj {
    header: ObjectHeader,
    data: *const c_char,
    size: usize,
}

/// See [`StringObj`].
#[repr(C)]
struct BytesObj {
    header: ObjectHeader,
    data: *const c_char,
    size: usize,
}

const _: () = {
    assert!(size_of::<Object<TextCell<true>>>() == size_of::<StringObj>());
    assert!(align_of::<Object<TextCell<true>>>() == align_of::<StringObj>());
    assert!(size_of::<Object<TextCell<false>>>() == size_of::<BytesObj>());
    assert!(size_of::<TextCell<true>>() == size_of::<TVMFFIByteArray>());
};

tvmffi_core::c_layout! {
    /// Layouts of the string and bytes objects, against the reference's C++ classes. The
    /// inline content starts at `sizeof(StringObj)`.
    pub const LAYOUTS = [
        StringObj as "tvm::ffi::detail::StringObj" {
            size: 40 / 32,
            align: align_of::<u64>(),
            fields: { data = 24 / 24, size = 32 / 28 },
        },
        BytesObj as "tvm::ffi::detail::BytesObj" {
            size: 40 / 32,
            align: align_of::<u64>(),
            fields: { data = 24 / 24, size = 32 / 28 },
        },
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `TVMFFIByteArray` of a string or bytes object, given its header.
    ///
    /// # Safety
    ///
    /// `obj` points to a live `STR` or `BYTES` object.
    unsafe fn object_byte_array(obj: core::ptr::NonNull<ObjectHeader>) -> TVMFFIByteArray {
        // SAFETY: such objects hold a byte array right after the header (caller's promise).
        unsafe { obj.cast::<u8>().add(size_of::<ObjectHeader>()).cast::<TVMFFIByteArray>().read() }
    }

    #[test]
    fn objects_hold_a_nul_after_the_content_right_after_the_cell() {
        for len in [8usize, 9, 100] {
            let content: alloc::vec::Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            let any = text_any::<false>(&content).unwrap();
            assert_eq!(any.type_index(), TypeIndex::BYTES);
            let obj = any.as_object_ptr().unwrap();
            // SAFETY: a live bytes object made above.
            let arr = unsafe { object_byte_array(obj) };
            assert_eq!(arr.size, len);
            // The content sits inline, right after the cell, as `InitSpaceForSize` puts it.
            assert_eq!(arr.data as usize, obj.as_ptr() as usize + size_of::<BytesObj>());
            // SAFETY: the object holds `len` bytes and a NUL at `data`.
            let with_nul = unsafe { core::slice::from_raw_parts(arr.data.cast::<u8>(), len + 1) };
            assert_eq!(&with_nul[..len], &content[..]);
            assert_eq!(with_nul[len], 0);
        }
    }

    #[test]
    fn seven_bytes_stay_inline_eight_make_an_object() {
        let a = text_any::<true>(b"1234567").unwrap();
        assert_eq!(a.type_index(), TypeIndex::SMALL_STR);
        // SAFETY: every bit pattern is a valid u32 / [u8; 8].
        let (len, bytes) = unsafe { (a.as_raw().padding.small_str_len, a.as_raw().value.v_bytes) };
        assert_eq!((len, &bytes), (7, b"1234567\0"));
        let b = text_any::<true>(b"12345678").unwrap();
        assert_eq!(b.type_index(), TypeIndex::STR);
        let e = text_any::<true>(b"").unwrap();
        assert_eq!(e.type_index(), TypeIndex::SMALL_STR);
        // SAFETY: as above.
        assert_eq!(unsafe { e.as_raw().value.v_uint64 }, 0);
    }
}
