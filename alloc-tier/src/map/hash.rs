//! The reference's `AnyHash` and `AnyEqual` (`any.h`), which decide where a key sits in a
//! dense map and which stored key it matches. C++ inline code finds keys in our maps, and we
//! in its maps, only because both sides compute exactly these.
//!
//! - Strings hash by content, as `ffi.Str` whether inline (`SMALL_STR`) or an object, so
//!   both forms of one text are the same key; bytes likewise as `ffi.Bytes`. A string never
//!   equals bytes of the same content.
//! - Objects of a type with a `__any_hash__` / `__any_equal__` type attribute (`ffi.BigInt`
//!   in the reference) hash and compare through it ([`super::custom`]); other objects by
//!   address.
//! - Everything else hashes its type index with its 8 value bytes, and compares all 16
//!   bytes: `1` and `true` are different keys, as are `0.0` and `-0.0`, while a NaN equals
//!   itself.

use tvmffi_core::sys::TVMFFIAny;
use tvmffi_core::{Any, AnyView, ObjectHeader, TypeIndex};

/// `StableHashCombine(key, value)` (`base_detail.h`).
#[inline]
pub(crate) const fn combine(key: u64, value: u64) -> u64 {
    key ^ value.wrapping_add(0x9e37_79b9).wrapping_add(key << 6).wrapping_add(key >> 2)
}

/// `StableHashBytes` (`base_detail.h`): 8-byte little-endian words folded modulo 2^31 - 1,
/// the same on every platform.
pub(crate) fn stable_hash_bytes(bytes: &[u8]) -> u64 {
    const MULTIPLIER: u64 = 1_099_511_628_211;
    const MODULUS: u64 = 2_147_483_647;
    let step = |acc: u64, word: u64| acc.wrapping_mul(MULTIPLIER).wrapping_add(word) % MODULUS;
    let mut chunks = bytes.chunks_exact(8);
    let mut acc = 0u64;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        acc = step(acc, u64::from_le_bytes(word));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut word = [0u8; 8];
        word[..rest.len()].copy_from_slice(rest);
        acc = step(acc, u64::from_le_bytes(word));
    }
    acc
}

/// A key as hashing and equality see it: text (of either kind, inline, borrowed or in an
/// object) by content, anything else by its raw value.
#[derive(Clone, Copy)]
pub(crate) enum Norm<'a> {
    /// Text, with `kind` [`TypeIndex::STR`] or [`TypeIndex::BYTES`].
    Text { kind: TypeIndex, bytes: &'a [u8] },
    /// Any other value: its 16 bytes.
    Value(TVMFFIAny),
}

impl<'a> Norm<'a> {
    /// A stored key (or any owned value).
    #[inline]
    pub(crate) fn of_any(any: &'a Any) -> Self {
        Self::of_view(any.view(), || any.as_str_or_bytes().ok())
    }

    /// A borrowed value: C strings and byte arrays count as the text they hold, as the
    /// reference turns them into strings before looking them up, and an r-value reference
    /// as the object it refers to.
    #[inline]
    pub(crate) fn of_borrowed(view: &'a AnyView<'a>) -> Self {
        if view.type_index() == TypeIndex::OBJECT_RVALUE_REF {
            // SAFETY: an `OBJECT_RVALUE_REF` carries a pointer to an object-pointer slot,
            // readable while the view lives (`AnyView::from_raw` contract).
            let slot = unsafe { view.as_raw().value.v_ptr }.cast::<*mut ObjectHeader>();
            // SAFETY: as above; a null slot is left as the raw value.
            let obj = (!slot.is_null()).then(|| unsafe { slot.read() });
            if let Some(obj) = obj.and_then(core::ptr::NonNull::new) {
                // SAFETY: the slot holds a live object (the view's contract).
                let target = unsafe { AnyView::from_object_ptr(obj) };
                return Self::Value(*target.as_raw());
            }
        }
        Self::of_view(*view, || view.as_str_or_bytes().ok())
    }

    /// `text` reads the content, only for the text type indices.
    #[inline]
    fn of_view(view: AnyView<'_>, text: impl FnOnce() -> Option<&'a [u8]>) -> Self {
        let kind = match view.type_index() {
            TypeIndex::STR | TypeIndex::SMALL_STR | TypeIndex::RAW_STR => TypeIndex::STR,
            TypeIndex::BYTES | TypeIndex::SMALL_BYTES | TypeIndex::BYTE_ARRAY_PTR => {
                TypeIndex::BYTES
            }
            _ => return Self::Value(*view.as_raw()),
        };
        match text() {
            Some(bytes) => Self::Text { kind, bytes },
            // Malformed text (a null pointer, an overlong small string): its raw bits.
            None => Self::Value(*view.as_raw()),
        }
    }

    /// The raw value when the key equals a stored key exactly when their 16 bytes do: a
    /// value that is neither text (compared by content) nor an object (which may compare
    /// through `__any_equal__`). [`builtin_equal`] of such a key and any stored key is
    /// [`same_bits`]: a stored key with the same bits normalises as this one does, so it is
    /// no text either.
    #[inline]
    pub(crate) fn compares_by_bits(&self) -> Option<&TVMFFIAny> {
        match self {
            Self::Value(raw) if !TypeIndex(raw.type_index).is_object() => Some(raw),
            _ => None,
        }
    }

    /// The object type index whose custom attributes may apply, if any.
    #[inline]
    pub(crate) fn object_type(&self) -> Option<TypeIndex> {
        match self {
            Self::Value(raw) if TypeIndex(raw.type_index).is_object() => {
                Some(TypeIndex(raw.type_index))
            }
            _ => None,
        }
    }
}

/// Whether a value of this type index is a plain value, which hashes by its bits and
/// equals exactly the values with the same 16 bytes ([`Norm::compares_by_bits`]) without
/// being normalised first: no object, no text (content), no r-value reference (the object
/// it points to).
#[inline]
pub(crate) fn is_plain(type_index: TypeIndex) -> bool {
    !type_index.is_object()
        && !matches!(
            type_index,
            TypeIndex::SMALL_STR
                | TypeIndex::RAW_STR
                | TypeIndex::SMALL_BYTES
                | TypeIndex::BYTE_ARRAY_PTR
                | TypeIndex::OBJECT_RVALUE_REF
        )
}

/// The hash that needs no type attribute: text by content, other values by their bits;
/// `None` for objects, whose type may have a `__any_hash__`.
pub(crate) fn builtin_hash(key: &Norm<'_>) -> Option<u64> {
    match key {
        Norm::Text { kind, bytes } => Some(combine(kind.0 as u64, stable_hash_bytes(bytes))),
        Norm::Value(raw) if TypeIndex(raw.type_index).is_object() => None,
        Norm::Value(raw) => Some(bits_hash(raw)),
    }
}

/// The hash of a value by its type index and 8 value bytes.
#[inline]
pub(crate) fn bits_hash(raw: &TVMFFIAny) -> u64 {
    // SAFETY: every bit pattern is a valid `u64`; values are fully initialised.
    combine(raw.type_index as i64 as u64, unsafe { raw.value.v_uint64 })
}

/// All 16 bytes of a value: type index, padding (a small string's length) and payload.
pub(crate) type Bits = (i32, u32, u64);

/// The 16 bytes of a value.
#[inline]
pub(crate) fn bits(raw: &TVMFFIAny) -> Bits {
    // SAFETY: every bit pattern is a valid `u32` and `u64`; values are fully initialised.
    unsafe { (raw.type_index, raw.padding.zero_padding, raw.value.v_uint64) }
}

/// Whether two values have the same 16 bytes, the reference's fast path for equality.
#[inline]
pub(crate) fn same_bits(a: &TVMFFIAny, b: &TVMFFIAny) -> bool {
    bits(a) == bits(b)
}

/// Equality that needs no type attribute; `None` when both are distinct objects of one
/// type, which compare through that type's `__any_equal__` if it has one.
pub(crate) fn builtin_equal(a: &Norm<'_>, b: &Norm<'_>) -> Option<bool> {
    match (a, b) {
        (Norm::Text { kind: ka, bytes: ba }, Norm::Text { kind: kb, bytes: bb }) => {
            Some(ka == kb && ba == bb)
        }
        (Norm::Value(x), Norm::Value(y)) => {
            if same_bits(x, y) {
                Some(true)
            } else if x.type_index == y.type_index && TypeIndex(x.type_index).is_object() {
                None
            } else {
                Some(false)
            }
        }
        _ => Some(false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_hash_matches_hand_computed_values() {
        assert_eq!(stable_hash_bytes(b""), 0);
        // One word: the little-endian value modulo 2^31 - 1.
        assert_eq!(stable_hash_bytes(b"a"), 97);
        assert_eq!(stable_hash_bytes(b"ab"), 97 + 98 * 256);
        let w = u64::from_le_bytes(*b"abcdefgh");
        let first = w % 2_147_483_647;
        assert_eq!(stable_hash_bytes(b"abcdefgh"), first);
        let second = (first.wrapping_mul(1_099_511_628_211) + 105) % 2_147_483_647;
        assert_eq!(stable_hash_bytes(b"abcdefghi"), second);
        assert_eq!(combine(0, 0), 0x9e37_79b9);
        assert_eq!(combine(1, 2), 1 ^ (2 + 0x9e37_79b9 + 64));
    }

    #[test]
    fn inline_and_object_text_hash_alike_and_compare_by_content() {
        let small = Any::small_str("key").unwrap();
        let small_bytes = Any::small_bytes(b"key").unwrap();
        let (s, b) = (Norm::of_any(&small), Norm::of_any(&small_bytes));
        let text = Norm::Text { kind: TypeIndex::STR, bytes: b"key" };
        assert_eq!(builtin_hash(&s), builtin_hash(&text));
        assert_ne!(builtin_hash(&s), builtin_hash(&b));
        assert_eq!(builtin_equal(&s, &text), Some(true));
        assert_eq!(builtin_equal(&s, &b), Some(false));
        // The reference hashes a small string as its 8 value bytes modulo 2^31 - 1.
        let raw = u64::from_le_bytes(*b"key\0\0\0\0\0") % 2_147_483_647;
        assert_eq!(builtin_hash(&s), Some(combine(65, raw)));
        let c = c"key";
        let view = AnyView::from(c);
        assert_eq!(builtin_equal(&Norm::of_borrowed(&view), &s), Some(true));
    }

    #[test]
    fn values_compare_by_bits() {
        fn norm(a: &Any) -> Norm<'_> {
            Norm::of_any(a)
        }
        let (one, t) = (Any::from(1i64), Any::from(true));
        assert_eq!(builtin_equal(&norm(&one), &norm(&t)), Some(false));
        assert_eq!(builtin_equal(&norm(&one), &norm(&Any::from(1i64))), Some(true));
        let (z, nz) = (Any::from(0.0f64), Any::from(-0.0f64));
        assert_eq!(builtin_equal(&norm(&z), &norm(&nz)), Some(false));
        let nan = Any::from(f64::NAN);
        assert_eq!(builtin_equal(&norm(&nan), &norm(&nan)), Some(true));
        assert_eq!(builtin_hash(&norm(&one)), Some(combine(1, 1)));
        assert_eq!(builtin_hash(&norm(&Any::NONE)), Some(combine(0, 0)));
        assert_eq!(norm(&one).object_type(), None);
    }

    #[test]
    fn plain_values_are_those_that_compare_by_their_bits() {
        let values = [
            Any::from(1i64),
            Any::from(2.5f64),
            Any::from(true),
            Any::NONE,
            Any::small_str("key").unwrap(),
            Any::small_bytes(b"key").unwrap(),
        ];
        for v in &values {
            let plain = is_plain(v.type_index());
            assert_eq!(plain, Norm::of_any(v).compares_by_bits().is_some(), "{v:?}");
        }
        assert!(!is_plain(TypeIndex::STR) && !is_plain(TypeIndex::OBJECT_RVALUE_REF));
        assert!(!is_plain(TypeIndex::RAW_STR) && !is_plain(TypeIndex::BYTE_ARRAY_PTR));
    }
}
