//! Maps: [`Map`] (`ffi.Map`, immutable, copy-on-write) and [`Dict`] (`ffi.Dict`, mutable and
//! shared), laid out as the reference's `MapObj` and `DictObj` (`container/map_base.h`,
//! `map.h`, `dict.h`), keys and values [`Any`].
//!
//! Both use the reference's two layouts: up to 4 pairs in insertion order (small), then an
//! open-addressing table with fibonacci hashing, chained probing and an iteration list
//! (dense). C++ inline code reads, looks up, iterates and changes a map either side made,
//! so everything that decides where a pair lives is the reference's: the hash (`AnyHash`:
//! text by content, objects through their type's `__any_hash__` attribute or by address,
//! other values by their bits), the growth steps, the probing and the iteration order
//! (insertion order; setting a present key moves it last in a dense map, or in a full small
//! map of 4, which then becomes dense).
//!
//! ```text
//! small:  [header][data size slots|1<<63 data_deleter][k0 v0][k1 v1]…   (data -> the pairs)
//! dense:  [header][data size slots data_deleter][fib_shift head tail]   data -> blocks:
//!         [16 metadata bytes][16 × (key value prev next)] …
//! ```
//!
//! Looking up an object key reads its type's attributes through the C API
//! (`TVMFFIGetTypeAttrColumn`), so maps need a provider of it, as errors and global
//! functions do: the host's `libtvm_ffi.so`, `tvmffi-std`, or this crate's `runtime` feature.
//!
//! Errors are values ([`MapError`]): a missing key is the reference's `KeyError`, a value of
//! the wrong type a `TypeError`, and a failing `__any_hash__` / `__any_equal__` passes its
//! own error on.

use core::fmt;

use tvmffi_core::{Any, AnyView, ConversionError, TypeIndex};

use crate::error::{Error, kind};

mod custom;
mod dense;
mod dict;
pub(crate) mod hash;
mod immutable;
mod iter;
mod layout;
mod positional;
mod small;
mod storage;
mod table;

pub use dict::{Dict, DictCell, DictObj};
pub use immutable::{Map, MapCell, MapObj};
pub use iter::{DictIter, MapIntoIter, MapIter};
pub use layout::LAYOUTS;
pub(crate) use positional::{raw_values, set_values_if_unique};

/// Why a map operation failed.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum MapError {
    /// The key is not in the map (the reference's `KeyError`, "key is not in Map").
    KeyNotFound,
    /// The value is not of the type asked for (a `TypeError`).
    Conversion(ConversionError),
    /// A key's type attribute `__any_hash__` or `__any_equal__` failed (its error), or
    /// broke its contract (an `InternalError`).
    Custom(Error),
    /// The table asked for exceeds what one allocation can hold.
    CapacityOverflow,
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::KeyNotFound => f.write_str("key is not in Map"),
            Self::Conversion(e) => fmt::Display::fmt(e, f),
            Self::Custom(e) => fmt::Display::fmt(e, f),
            Self::CapacityOverflow => f.write_str("map capacity overflow"),
        }
    }
}

impl core::error::Error for MapError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Conversion(e) => Some(e),
            Self::Custom(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ConversionError> for MapError {
    fn from(e: ConversionError) -> Self {
        Self::Conversion(e)
    }
}

impl From<Error> for MapError {
    fn from(e: Error) -> Self {
        Self::Custom(e)
    }
}

impl From<MapError> for Error {
    /// The reference's error: `KeyError: key is not in Map`, the conversion's `TypeError`,
    /// the custom attribute's own error, or a `MemoryError`.
    fn from(e: MapError) -> Self {
        match e {
            MapError::KeyNotFound => Error::key_error("key is not in Map"),
            MapError::Conversion(c) => Error::from(c),
            MapError::Custom(e) => e,
            MapError::CapacityOverflow => Error::new(kind::MEMORY_ERROR, "map capacity overflow"),
        }
    }
}

/// Whether two values are equal as map keys (the reference's `AnyEqual`): text by content
/// (a string never equals bytes), objects through their type's `__any_equal__` or by
/// identity, other values by their bits.
///
/// With the `runtime` feature (objects may consult their type's attributes):
///
/// ```
/// # #[cfg(feature = "runtime")] {
/// use tvmffi_core::AnyView;
///
/// let long = tvmffi_alloc::String::try_new("more than seven bytes").unwrap();
/// let c = c"more than seven bytes";
/// assert!(tvmffi_alloc::map::any_equal(long.view(), AnyView::from(c)).unwrap());
/// assert!(!tvmffi_alloc::map::any_equal(AnyView::from(1i64), AnyView::from(1.0f64)).unwrap());
/// # }
/// ```
pub fn any_equal(a: AnyView<'_>, b: AnyView<'_>) -> Result<bool, Error> {
    custom::any_equal(&hash::Norm::of_borrowed(&a), &hash::Norm::of_borrowed(&b))
}

/// The hash of a value as a map key (the reference's `AnyHash`), consistent with
/// [`any_equal`].
pub fn any_hash(value: AnyView<'_>) -> Result<u64, Error> {
    custom::any_hash(&hash::Norm::of_borrowed(&value))
}

/// The reference's `StableHashBytes`: how text keys and big integers hash.
pub fn stable_hash_bytes(bytes: &[u8]) -> u64 {
    hash::stable_hash_bytes(bytes)
}

/// A broken invariant of this module, as an error rather than a panic.
fn internal(what: &str) -> MapError {
    MapError::Custom(Error::internal_error(alloc::format!("ffi.Map: {what}")))
}

// Handles and borrowed iterators travel between threads like the reference's objects.
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Map>();
    send_sync::<Dict>();
    send_sync::<MapIter<'static>>();
};

/// A key to look up, borrowed: any value, or text without making a string object.
///
/// C strings and byte arrays find the string or bytes keys of the same content, as the
/// reference, which turns them into strings first, finds them.
///
/// ```
/// use tvmffi_alloc::map::Key;
/// use tvmffi_core::Any;
///
/// let by_text = Key::from("a long key, more than seven bytes");
/// let by_int = Key::from(7i64);
/// let any = Any::from(2.5f64);
/// let by_value = Key::from(&any);
/// # let _ = (by_text, by_int, by_value);
/// ```
#[derive(Clone, Copy)]
pub struct Key<'a> {
    inner: KeyInner<'a>,
}

#[derive(Clone, Copy)]
enum KeyInner<'a> {
    View(AnyView<'a>),
    Text { kind: TypeIndex, bytes: &'a [u8] },
}

impl<'a> Key<'a> {
    /// A bytes key (`ffi.Bytes` content), which never equals a string key.
    pub fn bytes(bytes: &'a [u8]) -> Self {
        Self { inner: KeyInner::Text { kind: TypeIndex::BYTES, bytes } }
    }

    /// The raw value of a plain key ([`hash::is_plain`]), which needs no normalising: the
    /// common lookup (ints, floats, ...) goes straight to the table.
    #[inline]
    fn plain(&self) -> Option<&tvmffi_core::sys::TVMFFIAny> {
        match &self.inner {
            KeyInner::View(v) if hash::is_plain(v.type_index()) => Some(v.as_raw()),
            _ => None,
        }
    }

    /// The key as hashing and equality see it.
    #[inline]
    fn norm(&self) -> hash::Norm<'_> {
        match &self.inner {
            KeyInner::View(v) => hash::Norm::of_borrowed(v),
            KeyInner::Text { kind, bytes } => hash::Norm::Text { kind: *kind, bytes },
        }
    }
}

impl fmt::Debug for Key<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            KeyInner::View(v) => fmt::Debug::fmt(v, f),
            KeyInner::Text { kind, bytes } if *kind == TypeIndex::STR => {
                write!(f, "{:?}", alloc::string::String::from_utf8_lossy(bytes))
            }
            KeyInner::Text { bytes, .. } => write!(f, "b{bytes:?}"),
        }
    }
}

impl<'a> From<AnyView<'a>> for Key<'a> {
    fn from(view: AnyView<'a>) -> Self {
        Self { inner: KeyInner::View(view) }
    }
}

impl<'a> From<&'a Any> for Key<'a> {
    fn from(any: &'a Any) -> Self {
        Self::from(any.view())
    }
}

impl<'a> From<&'a str> for Key<'a> {
    fn from(s: &'a str) -> Self {
        Self { inner: KeyInner::Text { kind: TypeIndex::STR, bytes: s.as_bytes() } }
    }
}

impl<'a> From<&'a crate::String> for Key<'a> {
    fn from(s: &'a crate::String) -> Self {
        Self::from(s.view())
    }
}

impl<'a> From<&'a crate::Bytes> for Key<'a> {
    fn from(b: &'a crate::Bytes) -> Self {
        Self::from(b.view())
    }
}

macro_rules! key_from_value {
    ($($t:ty),*) => {$(
        impl From<$t> for Key<'_> {
            fn from(v: $t) -> Self {
                Self::from(AnyView::from(v))
            }
        }
    )*};
}

key_from_value!(i64, i32, u32, bool, f64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_read_like_the_reference() {
        assert_eq!(alloc::format!("{}", MapError::KeyNotFound), "key is not in Map");
        let e = Error::from(MapError::KeyNotFound);
        assert_eq!((e.kind().as_ref(), e.message().as_ref()), ("KeyError", "key is not in Map"));
        let c = ConversionError::mismatch("int", TypeIndex::FLOAT);
        assert_eq!(Error::from(MapError::from(c)).kind(), "TypeError");
        assert_eq!(Error::from(MapError::CapacityOverflow).kind(), "MemoryError");
    }

    #[test]
    fn text_keys_normalise_to_content() {
        let k = Key::from("abc");
        assert!(matches!(k.norm(), hash::Norm::Text { kind: TypeIndex::STR, bytes: b"abc" }));
        let b = Key::bytes(b"abc");
        assert!(matches!(b.norm(), hash::Norm::Text { kind: TypeIndex::BYTES, .. }));
        assert_eq!(alloc::format!("{k:?} {b:?}"), "\"abc\" b[97, 98, 99]");
        assert!(matches!(Key::from(3i64).norm(), hash::Norm::Value(_)));
    }
}
