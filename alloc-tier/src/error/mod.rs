//! [`Error`]: the FFI error object (`ffi.Error`, type index 67), as Rust makes and reads it.
//!
//! An error carries a kind (`"ValueError"`), a message, a backtrace (most recent call first,
//! one frame per line), and optionally the error that caused it and an extra context object.
//! Errors cross the C ABI through the runtime's raised-error slot: a function that fails
//! raises its error ([`Error::raise`], `TVMFFIErrorSetRaised`) and returns non-zero, and the
//! caller fetches it ([`Error::take_raised`], `TVMFFIErrorMoveFromRaised`).
//!
//! Errors made here own their strings; errors made by C++ (`tvm::ffi::Error`) keep theirs in
//! C++ members. Both share the `TVMFFIErrorCell` after the header, which is all this type
//! reads, so the same [`Error`] wraps either.

mod convert;
mod object;
mod raise;

use alloc::borrow::Cow;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use tvmffi_core::call::{BadArguments, CallError};
use tvmffi_core::flags::BacktraceUpdateMode;
use tvmffi_core::sys::{TVMFFIByteArray, TVMFFIErrorCell, TVMFFIObject};
use tvmffi_core::{Any, AnyView, ConversionError, FromAnyView, ObjectHeader, ObjectRef};

pub use object::{ErrorCell, ErrorObj};

/// Layout of the error object against the reference's C++ class.
pub const LAYOUTS: &[tvmffi_core::CLayout] = object::ERROR_LAYOUTS;

/// The error kinds the reference uses; any other string is a valid kind too.
pub mod kind {
    /// A value has the right type but a wrong value.
    pub const VALUE_ERROR: &str = "ValueError";
    /// A value has the wrong type (failed conversions, mismatched arguments).
    pub const TYPE_ERROR: &str = "TypeError";
    /// A key is missing from a map.
    pub const KEY_ERROR: &str = "KeyError";
    /// An index is out of range.
    pub const INDEX_ERROR: &str = "IndexError";
    /// An attribute or field does not exist.
    pub const ATTRIBUTE_ERROR: &str = "AttributeError";
    /// Anything else that went wrong at run time.
    pub const RUNTIME_ERROR: &str = "RuntimeError";
    /// A broken invariant inside the FFI itself (the reference's failed `ICHECK`s).
    pub const INTERNAL_ERROR: &str = "InternalError";
    /// A feature is not implemented.
    pub const NOT_IMPLEMENTED_ERROR: &str = "NotImplementedError";
    /// An assertion failed.
    pub const ASSERTION_ERROR: &str = "AssertionError";
    /// Memory could not be allocated.
    pub const MEMORY_ERROR: &str = "MemoryError";
    /// A number does not fit its target type.
    pub const OVERFLOW_ERROR: &str = "OverflowError";
}

/// An FFI error object (`tvm::ffi::Error`): kind, message, backtrace, cause and context.
///
/// Cloning shares the object. `Display` prints `kind: message` (as Python shows an
/// exception); the alternate form `{:#}` prints the reference's full message, the traceback
/// (most recent call last) followed by `kind: message`.
///
/// ```
/// use tvmffi_alloc::error::{kind, Error};
///
/// let cause = Error::new(kind::KEY_ERROR, "no entry 'x'");
/// let err = Error::value_error("bad input").with_cause(cause.clone());
/// assert_eq!(err.kind(), "ValueError");
/// assert_eq!(err.to_string(), "ValueError: bad input");
/// assert_eq!(err.cause().unwrap().message(), "no entry 'x'");
///
/// err.update_backtrace(b"  File \"a.rs\", line 3, in f\n", Default::default()).unwrap();
/// assert_eq!(
///     format!("{err:#}"),
///     "Traceback (most recent call last):\n  File \"a.rs\", line 3, in f\nValueError: bad input\n"
/// );
/// ```
#[derive(Clone)]
pub struct Error {
    obj: ObjectRef<ErrorObj>,
}

/// The bytes a C byte array describes; `None` for a null `data` with a non-zero size or a
/// size beyond `isize::MAX`.
///
/// # Safety
///
/// A non-null `data` is readable for `size` bytes for `'a`.
pub unsafe fn bytes_of<'a>(arr: &TVMFFIByteArray) -> Option<&'a [u8]> {
    if arr.data.is_null() {
        return (arr.size == 0).then_some(&[]);
    }
    if arr.size > isize::MAX as usize {
        return None;
    }
    // SAFETY: non-null and readable for `size` bytes (caller).
    Some(unsafe { core::slice::from_raw_parts(arr.data.cast::<u8>(), arr.size) })
}

impl Error {
    /// An error of `kind` with `message` and no backtrace.
    pub fn new(kind: &str, message: impl AsRef<str>) -> Self {
        Self::from_parts(kind.as_bytes(), message.as_ref().as_bytes(), b"", None, None)
    }

    /// An error from raw parts, as `TVMFFIErrorCreateWithCauseAndExtraContext` makes them:
    /// the bytes need not be UTF-8. The error takes over `cause` and `extra_context`.
    ///
    /// Kind and message together beyond `isize::MAX / 2` bytes cannot be stored; the error
    /// is then a `MemoryError` saying so (such text cannot exist in memory twice anyway).
    pub fn from_parts(
        kind: &[u8],
        message: &[u8],
        backtrace: &[u8],
        cause: Option<Error>,
        extra_context: Option<ObjectRef>,
    ) -> Self {
        let cause = cause.map(|c| c.obj.upcast());
        Self { obj: object::new_error(kind, message, backtrace, cause, extra_context) }
    }

    /// A `ValueError`.
    pub fn value_error(message: impl AsRef<str>) -> Self {
        Self::new(kind::VALUE_ERROR, message)
    }

    /// A `TypeError`.
    pub fn type_error(message: impl AsRef<str>) -> Self {
        Self::new(kind::TYPE_ERROR, message)
    }

    /// A `KeyError`.
    pub fn key_error(message: impl AsRef<str>) -> Self {
        Self::new(kind::KEY_ERROR, message)
    }

    /// An `IndexError`.
    pub fn index_error(message: impl AsRef<str>) -> Self {
        Self::new(kind::INDEX_ERROR, message)
    }

    /// An `AttributeError`.
    pub fn attribute_error(message: impl AsRef<str>) -> Self {
        Self::new(kind::ATTRIBUTE_ERROR, message)
    }

    /// A `RuntimeError`.
    pub fn runtime_error(message: impl AsRef<str>) -> Self {
        Self::new(kind::RUNTIME_ERROR, message)
    }

    /// An `InternalError`.
    pub fn internal_error(message: impl AsRef<str>) -> Self {
        Self::new(kind::INTERNAL_ERROR, message)
    }

    /// A `NotImplementedError`.
    pub fn not_implemented_error(message: impl AsRef<str>) -> Self {
        Self::new(kind::NOT_IMPLEMENTED_ERROR, message)
    }

    /// An `OverflowError`.
    pub fn overflow_error(message: impl AsRef<str>) -> Self {
        Self::new(kind::OVERFLOW_ERROR, message)
    }

    /// The same error with `backtrace` (a new object: errors are immutable but for
    /// [`update_backtrace`](Self::update_backtrace)).
    pub fn with_backtrace(self, backtrace: &str) -> Self {
        let (cause, extra) = (self.cause(), self.extra_context());
        Self::from_parts(
            self.kind_bytes(),
            self.message_bytes(),
            backtrace.as_bytes(),
            cause,
            extra,
        )
    }

    /// The same error with `cause` as its cause chain (a new object).
    pub fn with_cause(self, cause: Error) -> Self {
        let extra = self.extra_context();
        let bt = self.backtrace_bytes();
        Self::from_parts(self.kind_bytes(), self.message_bytes(), &bt, Some(cause), extra)
    }

    /// The same error with `context` as its extra context (a new object).
    pub fn with_extra_context(self, context: ObjectRef) -> Self {
        let cause = self.cause();
        let bt = self.backtrace_bytes();
        Self::from_parts(self.kind_bytes(), self.message_bytes(), &bt, cause, Some(context))
    }

    /// The C cell. Fields are read one by one through this pointer, never through a
    /// reference to the whole cell: the backtrace field may change meanwhile.
    #[inline]
    fn raw_cell(&self) -> *mut TVMFFIErrorCell {
        self.obj.payload().as_raw()
    }

    /// The kind, as bytes (C++ errors may hold any bytes).
    pub fn kind_bytes(&self) -> &[u8] {
        // SAFETY: the kind is readable for as long as the object lives, and never changes.
        unsafe { bytes_of(&(*self.raw_cell()).kind) }.unwrap_or_default()
    }

    /// The message, as bytes.
    pub fn message_bytes(&self) -> &[u8] {
        // SAFETY: as for the kind.
        unsafe { bytes_of(&(*self.raw_cell()).message) }.unwrap_or_default()
    }

    /// The kind, e.g. `"ValueError"` (invalid UTF-8 replaced by U+FFFD).
    pub fn kind(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(self.kind_bytes())
    }

    /// The message (invalid UTF-8 replaced by U+FFFD).
    pub fn message(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(self.message_bytes())
    }

    /// Whether the kind is `kind`.
    pub fn is_kind(&self, kind: &str) -> bool {
        self.kind_bytes() == kind.as_bytes()
    }

    /// A copy of the backtrace: most recent call first, one frame per line.
    ///
    /// A copy, because [`update_backtrace`](Self::update_backtrace) may replace the storage
    /// from another clone of this error at any time.
    pub fn backtrace_bytes(&self) -> Vec<u8> {
        if object::is_ours(self.obj.payload()) {
            // SAFETY: `is_ours` identified one of our objects.
            return unsafe { object::our_backtrace(&self.obj) };
        }
        // SAFETY: foreign errors are only updated by their sole owner (see
        // `update_backtrace`), so nobody rewrites the field while this borrow reads it.
        let bt = unsafe { (*self.raw_cell()).backtrace };
        // SAFETY: the backtrace is readable while the object lives and is not updated.
        unsafe { bytes_of(&bt) }.map(<[u8]>::to_vec).unwrap_or_default()
    }

    /// The backtrace as text (invalid UTF-8 replaced by U+FFFD).
    pub fn backtrace(&self) -> String {
        String::from_utf8_lossy(&self.backtrace_bytes()).into_owned()
    }

    /// The traceback in Python's order, most recent call last (the reference's
    /// `TracebackMostRecentCallLast`): the backtrace's lines reversed, empty lines dropped.
    pub fn traceback_most_recent_call_last(&self) -> String {
        let bt = self.backtrace();
        let mut out = String::with_capacity(bt.len() + 1);
        // Only the text before the last newline is made of complete lines.
        let complete = bt.rfind('\n').map_or("", |end| &bt[..end]);
        for line in complete.rsplit('\n').filter(|l| !l.is_empty()) {
            out.push_str(line);
            out.push('\n');
        }
        out
    }

    /// The reference's `FullMessage`: the traceback, then `kind: message` and a newline.
    pub fn full_message(&self) -> String {
        alloc::format!("{self:#}")
    }

    /// Replace ([`BacktraceUpdateMode::REPLACE`]) or extend (any other mode) the backtrace,
    /// through the object's own `update_backtrace`.
    ///
    /// Errors made here serialise updates with a lock, so any clone may update. A C++ error
    /// updates without synchronisation, so it is only updated here when this is its only
    /// reference (no clone, no weak reference); otherwise a `RuntimeError` says why.
    pub fn update_backtrace(
        &self,
        backtrace: &[u8],
        mode: BacktraceUpdateMode,
    ) -> Result<(), Error> {
        let ours = object::is_ours(self.obj.payload());
        if !ours && !self.obj.is_unique() {
            return Err(Error::runtime_error(
                "cannot update the backtrace of a shared error object made outside Rust",
            ));
        }
        // SAFETY: an immutable field of the live cell.
        let Some(update) = (unsafe { (*self.raw_cell()).update_backtrace }) else {
            return Err(Error::runtime_error("the error object has no update_backtrace"));
        };
        let arr = TVMFFIByteArray { data: backtrace.as_ptr().cast(), size: backtrace.len() };
        // SAFETY: the object is alive, `arr` describes a live slice, and the update is
        // serialised (ours) or exclusive (a sole foreign reference).
        unsafe { update(self.obj.as_raw().cast(), &arr, mode.0) };
        Ok(())
    }

    /// The error that caused this one, if any.
    pub fn cause(&self) -> Option<Error> {
        // SAFETY: an immutable field of the live cell.
        let cause = unsafe { (*self.raw_cell()).cause_chain }.cast::<TVMFFIObject>();
        // SAFETY: the cell owns a strong reference to a non-null cause, alive while we are.
        let obj = unsafe { ObjectRef::<ObjectHeader>::from_raw_borrowed(cause) }?;
        obj.downcast::<ErrorObj>().ok().map(|obj| Self { obj })
    }

    /// The extra context object, if any.
    pub fn extra_context(&self) -> Option<ObjectRef> {
        // SAFETY: an immutable field of the live cell.
        let ctx = unsafe { (*self.raw_cell()).extra_context }.cast::<TVMFFIObject>();
        // SAFETY: the cell owns a strong reference to a non-null context, alive while we are.
        unsafe { ObjectRef::from_raw_borrowed(ctx) }
    }

    /// The object reference.
    #[inline]
    pub fn as_object(&self) -> &ObjectRef<ErrorObj> {
        &self.obj
    }

    /// Give up the wrapper for the object reference.
    #[inline]
    pub fn into_object(self) -> ObjectRef<ErrorObj> {
        self.obj
    }

    /// Wrap an error object reference.
    #[inline]
    pub fn from_object(obj: ObjectRef<ErrorObj>) -> Self {
        Self { obj }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            f.write_str("Traceback (most recent call last):\n")?;
            f.write_str(&self.traceback_most_recent_call_last())?;
        }
        write!(f, "{}: {}", self.kind(), self.message())?;
        if f.alternate() { f.write_str("\n") } else { Ok(()) }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind())
            .field("message", &self.message())
            .field("backtrace", &self.backtrace())
            .field("cause", &self.cause())
            .finish_non_exhaustive()
    }
}

impl core::error::Error for Error {}

impl From<ConversionError> for Error {
    /// The reference's error for the same failure: an `OverflowError` for an integer out of
    /// range (`TypeTraits<uint64_t>` in `any.h`), a `RuntimeError` for a value that needs an
    /// allocator, a `TypeError` otherwise, each with the conversion's message (``Cannot
    /// convert from type `float` to `int` ``).
    fn from(e: ConversionError) -> Self {
        use tvmffi_core::error::ConversionErrorKind as K;
        let kind = match e.kind() {
            K::OutOfRange => kind::OVERFLOW_ERROR,
            K::NeedsAllocator => kind::RUNTIME_ERROR,
            _ => kind::TYPE_ERROR,
        };
        Self::new(kind, alloc::format!("{e}"))
    }
}

impl From<CallError> for Error {
    /// What a failed call means to its caller: the callee's raised error (taken from the
    /// runtime's slot) for [`CallError::Raised`], a `ValueError` for too many arguments, a
    /// `RuntimeError` otherwise.
    fn from(e: CallError) -> Self {
        match e {
            CallError::Raised { code } => Error::take_raised().unwrap_or_else(|| {
                Error::runtime_error(alloc::format!(
                    "the function returned error code {code} but raised no error"
                ))
            }),
            CallError::TooManyArguments { .. } => Error::value_error(alloc::format!("{e}")),
            other => Error::runtime_error(alloc::format!("{other}")),
        }
    }
}

impl From<BadArguments> for Error {
    /// A `ValueError`: the caller broke the packed convention.
    fn from(e: BadArguments) -> Self {
        Error::value_error(alloc::format!("{e}"))
    }
}

impl From<Error> for Any {
    #[inline]
    fn from(e: Error) -> Self {
        Any::from(e.obj)
    }
}

impl<'a> From<&'a Error> for AnyView<'a> {
    #[inline]
    fn from(e: &'a Error) -> Self {
        AnyView::from(&e.obj)
    }
}

impl<'a> FromAnyView<'a> for Error {
    /// An `ffi.Error` object (a new reference to it).
    fn from_any_view(view: AnyView<'a>) -> Result<Self, ConversionError> {
        ObjectRef::<ErrorObj>::from_any_view(view).map(|obj| Self { obj })
    }
}

impl TryFrom<Any> for Error {
    type Error = Any;

    /// The error in `any`, or `any` back when it holds something else.
    fn try_from(any: Any) -> Result<Self, Any> {
        any.into_object::<ErrorObj>().map(|obj| Self { obj })
    }
}

// Errors travel between threads (std's `Box<dyn Error + Send + Sync>`).
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<Error>();
};

#[cfg(test)]
mod tests;
