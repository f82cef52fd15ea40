//! Why a value could not be converted to or from an [`Any`](crate::Any).

use core::fmt;

use crate::TypeIndex;

/// What went wrong in a conversion.
///
/// A Rust-side classification, not a C value set, so it is an ordinary `enum`. New kinds may
/// be added.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ConversionErrorKind {
    /// The value's type is not one the target accepts (the reference's `TypeError`).
    Mismatch,
    /// An integer does not fit the target type (the reference's `OverflowError`).
    OutOfRange,
    /// Text that must be a Rust `str` is not valid UTF-8.
    InvalidUtf8,
    /// Making the value owned needs a heap allocation, which this tier does not have.
    NeedsAllocator,
    /// An `ObjectRValueRef` whose object was already moved out of its slot.
    AlreadyMoved,
    /// The value breaks the ABI: a null borrowed pointer, a small string longer than 7 bytes.
    Malformed,
}

/// A failed conversion to or from an [`Any`](crate::Any) or [`AnyView`](crate::AnyView).
///
/// `Display` follows the reference's wording where it has one, e.g.
/// ``Cannot convert from type `float` to `int` ``.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ConversionError {
    expected: &'static str,
    actual: TypeIndex,
    kind: ConversionErrorKind,
    value: Option<i128>,
}

impl ConversionError {
    /// An error of `kind` converting a value of type `actual` to `expected`.
    #[inline]
    pub const fn new(kind: ConversionErrorKind, expected: &'static str, actual: TypeIndex) -> Self {
        Self { expected, actual, kind, value: None }
    }

    /// A value of type `actual` is not one `expected` accepts.
    #[inline]
    pub const fn mismatch(expected: &'static str, actual: TypeIndex) -> Self {
        Self::new(ConversionErrorKind::Mismatch, expected, actual)
    }

    /// The integer `value` (held as `actual`) does not fit `expected`.
    #[inline]
    pub const fn out_of_range(expected: &'static str, actual: TypeIndex, value: i128) -> Self {
        Self { expected, actual, kind: ConversionErrorKind::OutOfRange, value: Some(value) }
    }

    /// What went wrong.
    #[inline]
    pub const fn kind(&self) -> ConversionErrorKind {
        self.kind
    }

    /// The target: the reference's type string (`int`, `str`, `DLTensor*`, ...), or the
    /// Rust type (`i8`, `u32`) for [`OutOfRange`](ConversionErrorKind::OutOfRange).
    #[inline]
    pub const fn expected(&self) -> &'static str {
        self.expected
    }

    /// The type index of the value that was converted.
    #[inline]
    pub const fn actual(&self) -> TypeIndex {
        self.actual
    }

    /// The offending integer of an [`OutOfRange`](ConversionErrorKind::OutOfRange) error,
    /// where it fits an `i128` (a `u128` above `i128::MAX` gives `None`).
    #[inline]
    pub const fn value(&self) -> Option<i128> {
        self.value
    }
}

impl fmt::Display for ConversionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (expected, actual) = (self.expected, self.actual);
        match self.kind {
            ConversionErrorKind::Mismatch => {
                write!(f, "Cannot convert from type `{actual}` to `{expected}`")
            }
            ConversionErrorKind::OutOfRange => match self.value {
                Some(v) => write!(f, "Integer value {v} is out of range for `{expected}`"),
                None => write!(f, "Integer value is out of range for `{expected}`"),
            },
            ConversionErrorKind::InvalidUtf8 => {
                write!(f, "Cannot convert from type `{actual}` to `{expected}`: invalid UTF-8")
            }
            ConversionErrorKind::NeedsAllocator => write!(
                f,
                "Cannot convert from type `{actual}` to an owned `{expected}` without an allocator"
            ),
            ConversionErrorKind::AlreadyMoved => {
                write!(
                    f,
                    "Cannot convert from type `{actual}` to `{expected}`: RValueRef already moved"
                )
            }
            ConversionErrorKind::Malformed => {
                write!(f, "Cannot convert from type `{actual}` to `{expected}`: malformed value")
            }
        }
    }
}

impl core::error::Error for ConversionError {}

#[cfg(test)]
mod tests {
    use super::*;
    extern crate alloc;
    use alloc::string::ToString;

    #[test]
    fn display_uses_the_reference_wording() {
        let e = ConversionError::mismatch("int", TypeIndex::FLOAT);
        assert_eq!(e.to_string(), "Cannot convert from type `float` to `int`");
        let e = ConversionError::out_of_range("i8", TypeIndex::INT, 300);
        assert_eq!(e.to_string(), "Integer value 300 is out of range for `i8`");
        assert_eq!(e.value(), Some(300));
        let e = ConversionError::new(ConversionErrorKind::OutOfRange, "int", TypeIndex::INT);
        assert_eq!(e.to_string(), "Integer value is out of range for `int`");
        let e = ConversionError::new(ConversionErrorKind::InvalidUtf8, "str", TypeIndex::SMALL_STR);
        assert!(e.to_string().ends_with("invalid UTF-8"));
        let e =
            ConversionError::new(ConversionErrorKind::NeedsAllocator, "str", TypeIndex::RAW_STR);
        assert!(e.to_string().contains("`const char*`") && e.to_string().contains("allocator"));
        let e = ConversionError::new(
            ConversionErrorKind::AlreadyMoved,
            "Any",
            TypeIndex::OBJECT_RVALUE_REF,
        );
        assert!(e.to_string().ends_with("RValueRef already moved"));
        let e = ConversionError::new(ConversionErrorKind::Malformed, "str", TypeIndex::SMALL_STR);
        assert!(e.to_string().ends_with("malformed value"));
    }
}
