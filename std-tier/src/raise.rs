//! Raising errors: the step that [`ffi_boundary`](crate::ffi_boundary) takes on `Err` and on a
//! panic.
//!
//! Every raise goes through [`RaiseError::raise`], and every implementation of it ends in
//! [`set_raised`], the one place that stores an error in this thread's slot. Until the FFI
//! `Error` object type lands, the slot holds the error's parts ([`RaisedError`]); the
//! integration replaces the body of [`set_raised`] with "build an `ffi.Error` object, then
//! `TVMFFIErrorSetRaised`", and [`take_raised`] with `TVMFFIErrorMoveFromRaised`. Nothing else
//! needs to change: implementations of [`RaiseError`] only ever build a [`RaisedError`] or
//! leave the slot alone.

use alloc::string::String;
use core::cell::RefCell;
use core::convert::Infallible;

use tvmffi_core::ConversionError;
use tvmffi_core::call::{BadArguments, CallError};

/// An error as the C API raises it: a kind (`"RuntimeError"`, `"TypeError"`...), a message,
/// and a backtrace in the reference's format, most recent call first (see
/// [`backtrace`](crate::backtrace)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaisedError {
    /// The error kind, e.g. `"RuntimeError"`; Python maps it to an exception class.
    pub kind: String,
    /// The message.
    pub message: String,
    /// `  File "<file>", line <n>, in <function>` lines, most recent call first.
    pub backtrace: String,
}

impl RaisedError {
    /// An error of `kind` with `message` and the current thread's backtrace, captured as
    /// `TVMFFIErrorSetRaisedFromCStr` does (stopping at the FFI boundary).
    pub fn new(kind: &str, message: &str) -> Self {
        Self {
            kind: kind.into(),
            message: message.into(),
            backtrace: crate::backtrace::capture(false),
        }
    }
}

/// How an error value is raised into this thread's error slot when it crosses to C.
///
/// Implemented for this crate's errors and for the core's call and conversion errors.
/// [`CallError::Raised`] leaves the slot alone: the callee already raised its error there,
/// and passing it on unchanged is what the reference's `TVM_FFI_CHECK_SAFE_CALL` does.
pub trait RaiseError {
    /// Store `self` as the raised error of the current thread (replacing any earlier one).
    fn raise(self);
}

impl RaiseError for RaisedError {
    fn raise(self) {
        set_raised(self);
    }
}

impl RaiseError for Infallible {
    fn raise(self) {
        match self {}
    }
}

impl RaiseError for CallError {
    fn raise(self) {
        match self {
            CallError::Raised { .. } => {}
            CallError::TooManyArguments { .. } => {
                RaisedError::new("ValueError", &alloc::format!("{self}")).raise();
            }
            _ => RaisedError::new("RuntimeError", &alloc::format!("{self}")).raise(),
        }
    }
}

impl RaiseError for BadArguments {
    fn raise(self) {
        RaisedError::new("ValueError", &alloc::format!("{self}")).raise();
    }
}

impl RaiseError for ConversionError {
    fn raise(self) {
        RaisedError::new("TypeError", &alloc::format!("{self}")).raise();
    }
}

std::thread_local! {
    /// The provisional slot; see the module docs.
    static RAISED: RefCell<Option<RaisedError>> = const { RefCell::new(None) };
}

/// Store `error` as the current thread's raised error.
///
/// The single point where an error enters the slot; the integration swaps its body for the
/// FFI `Error` object and `TVMFFIErrorSetRaised`.
pub fn set_raised(error: RaisedError) {
    // A thread being torn down has no slot left; the error has nowhere to go but away (the
    // reference's thread-local slot behaves the same during teardown).
    let _ = RAISED.try_with(|slot| *slot.borrow_mut() = Some(error));
}

/// Take the current thread's raised error, leaving the slot empty
/// (`TVMFFIErrorMoveFromRaised`).
pub fn take_raised() -> Option<RaisedError> {
    RAISED.try_with(|slot| slot.borrow_mut().take()).ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_error_raised_keeps_the_callee_error() {
        RaisedError {
            kind: "ValueError".into(),
            message: "from callee".into(),
            backtrace: "".into(),
        }
        .raise();
        CallError::Raised { code: -1 }.raise();
        let err = take_raised().expect("still raised");
        assert_eq!(err.message, "from callee");
        assert!(take_raised().is_none(), "taking empties the slot");
    }

    #[test]
    fn other_errors_replace_the_slot() {
        RaisedError::new("ValueError", "old").raise();
        BadArguments::NegativeCount(-3).raise();
        let err = take_raised().expect("raised");
        assert_eq!(err.kind, "ValueError");
        assert_eq!(err.message, "negative argument count -3");
        CallError::NullFunction.raise();
        assert_eq!(take_raised().expect("raised").kind, "RuntimeError");
    }

    #[test]
    fn slots_are_per_thread() {
        RaisedError::new("RuntimeError", "main").raise();
        std::thread::spawn(|| assert!(take_raised().is_none())).join().unwrap();
        assert_eq!(take_raised().unwrap().message, "main");
    }
}
