//! The alloc tier's errors as FFI errors, so `?` carries them out of a typed function with
//! the kind the reference raises for the same failure.

use alloc::format;

use super::{Error, kind};
use crate::seq::SeqError;
use crate::shape::ShapeError;
use crate::string::TextError;
use crate::tensor::TensorError;

impl From<TensorError> for Error {
    /// The kind [`TensorError::kind`] names, with the error's message.
    fn from(e: TensorError) -> Self {
        Error::new(e.kind(), format!("{e}"))
    }
}

impl From<SeqError> for Error {
    /// `IndexError` for an index out of range (the reference's `Array::at`), the
    /// conversion's error for an element of the wrong type, `MemoryError` for a capacity
    /// beyond one allocation.
    fn from(e: SeqError) -> Self {
        match e {
            SeqError::IndexOutOfRange { .. } => Error::index_error(format!("{e}")),
            SeqError::Conversion(c) => Error::from(c),
            _ => Error::new(kind::MEMORY_ERROR, format!("{e}")),
        }
    }
}

impl From<TextError> for Error {
    /// `ValueError` for bytes that are not UTF-8 (Python's `UnicodeDecodeError` is one),
    /// `MemoryError` for text too long for one object.
    fn from(e: TextError) -> Self {
        match e {
            TextError::InvalidUtf8 { .. } => Error::value_error(format!("{e}")),
            _ => Error::new(kind::MEMORY_ERROR, format!("{e}")),
        }
    }
}

impl From<ShapeError> for Error {
    /// `ValueError`: a negative extent or an element count beyond `int64_t`.
    fn from(e: ShapeError) -> Self {
        Error::value_error(format!("{e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tvmffi_core::{ConversionError, TypeIndex};

    #[test]
    fn kinds_follow_the_reference() {
        let e = Error::from(SeqError::IndexOutOfRange { index: 5, len: 2 });
        assert_eq!((&*e.kind(), &*e.message()), ("IndexError", "Index 5 out of bounds 2"));
        let e = Error::from(SeqError::Conversion(ConversionError::mismatch("int", TypeIndex::STR)));
        assert_eq!(e.kind(), "TypeError");
        assert_eq!(Error::from(SeqError::CapacityOverflow).kind(), "MemoryError");
        assert_eq!(Error::from(TensorError::NotContiguous).kind(), "RuntimeError");
        assert_eq!(Error::from(TextError::InvalidUtf8 { valid_up_to: 1 }).kind(), "ValueError");
        assert_eq!(Error::from(ShapeError::Overflow).kind(), "ValueError");
    }
}
