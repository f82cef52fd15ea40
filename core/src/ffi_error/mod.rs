//! FFI error objects (`ffi.Error`) without an allocator: reading any implementation's, making
//! them in `static` memory, and the raised-error slot.
//!
//! A packed call that fails returns non-zero after *raising* an error object: it leaves it
//! in the runtime's slot (`TVMFFIErrorSetRaisedFromCStr`, `TVMFFIErrorSetRaised`), and the
//! caller moves it out (`TVMFFIErrorMoveFromRaised`) and reads its kind and message. Those
//! functions belong to the program's one C API provider. The std tier and the alloc tier's
//! `runtime` keep heap errors; a program with no allocator provides them over these pieces:
//!
//! - [`ErrorCell`] / [`ErrorObj`]: the view of any error object (C++, the alloc tier's, ours)
//!   as its header and `TVMFFIErrorCell`, with [`kind`](ErrorCell::kind) and
//!   [`message`](ErrorCell::message).
//! - [`ErrorPool`]: `N` error objects of up to `CAP` bytes of text each, in a `static`;
//!   slots come back when the last reference goes.
//! - [`ErrorSlot`]: the raised error, one for the whole program.
//!
//! ```
//! use tvmffi_core::ffi_error::{ErrorPool, ErrorSlot};
//!
//! static ERRORS: ErrorPool<2, 64> = ErrorPool::new();
//! static RAISED: ErrorSlot = ErrorSlot::new();
//!
//! // The callee: what `TVMFFIErrorSetRaisedFromCStr(kind, message)` does, then `return -1`.
//! RAISED.set(Some(ERRORS.new_error("ValueError", format_args!("expected {} arguments", 2))));
//!
//! // The caller, after the non-zero return code: `TVMFFIErrorMoveFromRaised`.
//! let error = RAISED.take().unwrap();
//! assert_eq!(error.kind(), b"ValueError");
//! assert_eq!(error.message(), b"expected 2 arguments");
//! assert_eq!(ERRORS.available(), 1);
//! drop(error);
//! assert_eq!(ERRORS.available(), 2);
//! ```

mod pool;
mod slot;

use core::cell::UnsafeCell;
use core::fmt;

pub use pool::ErrorPool;
pub use slot::ErrorSlot;

use crate::TypeIndex;
use crate::object::{Object, Payload};
use crate::sys::{TVMFFIByteArray, TVMFFIErrorCell};

/// The payload every error object has after its header: the C `TVMFFIErrorCell`.
///
/// In an `UnsafeCell` because an object's own `update_backtrace` may rewrite the cell's
/// `backtrace` while it is shared; this view reads only the fields that never change once an
/// error object is shared (kind, message), in every implementation.
#[repr(transparent)]
pub struct ErrorCell(UnsafeCell<TVMFFIErrorCell>);

/// An error object as every implementation lays it out: the header, then the cell.
pub type ErrorObj = Object<ErrorCell>;

// SAFETY: this view only reads kind and message, which no implementation changes after the
// object is shared (the backtrace, which `update_backtrace` may rewrite, is reached only
// through `as_raw`). The cause and context are owned references with atomic counts.
unsafe impl Send for ErrorCell {}
// SAFETY: as for `Send`.
unsafe impl Sync for ErrorCell {}

// SAFETY: `kTVMFFIError` objects are the header followed by a `TVMFFIErrorCell` in every
// implementation (C++ `ErrorObj : Object, TVMFFIErrorCell`, the alloc tier's, this module's),
// and the reference reserves the index with no child slots, so no other layout claims it.
unsafe impl Payload for ErrorCell {
    const TYPE_KEY: &'static str = "ffi.Error";

    #[inline]
    fn is_instance(type_index: TypeIndex) -> bool {
        type_index == TypeIndex::ERROR
    }
}

const _: () = assert!(core::mem::size_of::<ErrorCell>() == core::mem::size_of::<TVMFFIErrorCell>());

impl ErrorCell {
    /// A cell holding `cell`, for error objects made in Rust.
    #[inline]
    pub const fn new(cell: TVMFFIErrorCell) -> Self {
        Self(UnsafeCell::new(cell))
    }

    /// The C cell. Kind, message, cause and context may be read through it; the backtrace
    /// only by whoever owns the object alone, since `update_backtrace` may rewrite it.
    #[inline]
    pub fn as_raw(&self) -> *mut TVMFFIErrorCell {
        self.0.get()
    }

    /// The error kind, e.g. `ValueError` (bytes, as the ABI carries them; UTF-8 in practice).
    #[inline]
    pub fn kind(&self) -> &[u8] {
        // SAFETY: kind is immutable once the object is shared (type-level docs).
        unsafe { bytes_of(&(*self.0.get()).kind) }
    }

    /// The message.
    #[inline]
    pub fn message(&self) -> &[u8] {
        // SAFETY: message is immutable once the object is shared (type-level docs).
        unsafe { bytes_of(&(*self.0.get()).message) }
    }

    /// Whether the error is of `kind`.
    #[inline]
    pub fn is_kind(&self, kind: &str) -> bool {
        self.kind() == kind.as_bytes()
    }
}

/// The bytes a cell's byte array describes.
///
/// # Safety
///
/// `array` belongs to a live error object: `data` is valid for `size` bytes (or `size` is 0)
/// and unchanged for as long as the object is borrowed.
unsafe fn bytes_of(array: &TVMFFIByteArray) -> &[u8] {
    if array.size == 0 || array.data.is_null() {
        return &[];
    }
    // SAFETY: the caller's promise about the object.
    unsafe { core::slice::from_raw_parts(array.data.cast::<u8>(), array.size) }
}

/// `Kind: message`, with invalid UTF-8 shown as U+FFFD (like the reference's `what()`).
impl fmt::Display for ErrorCell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_lossy(f, self.kind())?;
        f.write_str(": ")?;
        write_lossy(f, self.message())
    }
}

impl fmt::Debug for ErrorCell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ErrorCell({self})")
    }
}

fn write_lossy(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    for chunk in bytes.utf8_chunks() {
        f.write_str(chunk.valid())?;
        if !chunk.invalid().is_empty() {
            f.write_str("\u{FFFD}")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn cell(kind: &'static [u8], message: &'static [u8]) -> ErrorCell {
        let array = |b: &'static [u8]| TVMFFIByteArray { data: b.as_ptr().cast(), size: b.len() };
        ErrorCell::new(TVMFFIErrorCell {
            kind: array(kind),
            message: array(message),
            backtrace: TVMFFIByteArray { data: core::ptr::null(), size: 0 },
            update_backtrace: None,
            cause_chain: core::ptr::null_mut(),
            extra_context: core::ptr::null_mut(),
        })
    }

    #[test]
    fn kind_and_message_read_the_cell_and_display_is_lossy() {
        let c = cell(b"TypeError", b"bad \xff byte");
        assert_eq!((c.kind(), c.message()), (&b"TypeError"[..], &b"bad \xff byte"[..]));
        assert!(c.is_kind("TypeError") && !c.is_kind("Type"));
        assert_eq!(c.to_string(), "TypeError: bad \u{FFFD} byte");
        assert_eq!(alloc::format!("{c:?}"), "ErrorCell(TypeError: bad \u{FFFD} byte)");
        let empty = cell(b"", b"");
        assert_eq!((empty.kind(), empty.message()), (&b""[..], &b""[..]));
    }
}
