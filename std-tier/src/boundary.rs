//! The panic boundary: the one trampoline through which everything C can call runs.
//!
//! Unwinding out of an `extern "C"` function aborts the process, and a C caller has no way to
//! handle a Rust panic anyway, so every exported `TVMFFI*` function, every
//! `__tvm_ffi_<name>` export and every Rust closure behind a function object runs its body in
//! [`ffi_boundary`]:
//!
//! | the body...           | the caller gets                                            |
//! |-----------------------|------------------------------------------------------------|
//! | returns `Ok(())`      | `0`                                                        |
//! | returns `Err(e)`      | `-1`, with `e` raised ([`RaiseError`])                     |
//! | panics                | `-1`, with a `RuntimeError` carrying the panic message     |
//! | unwinds past all that | an abort, with a message on stderr (see below)             |
//!
//! The last row covers a panic while raising or while dropping the panic's payload: a trap
//! armed for the whole call aborts rather than let the unwind reach C (PyO3's `PanicTrap`).
//!
//! C callers cannot receive an error from a deleter (`void (*)(void*)`) or from functions
//! with no error channel, so those run in [`abort_on_panic`]: a panic there prints a message
//! on stderr and aborts, the same as an exception escaping a `noexcept` C++ deleter.
//!
//! Built with `panic = "abort"`, a panic never returns here, and the trampoline costs only
//! the `match` on the body's result.

use alloc::boxed::Box;
use alloc::string::String;
use core::any::Any as PanicPayload;
use core::ffi::c_int;
use core::panic::AssertUnwindSafe;
use std::panic::catch_unwind;

use crate::raise::{RaiseError, RaisedError};

/// The error kind raised for a caught panic.
pub const PANIC_ERROR_KIND: &str = "RuntimeError";

/// Run `body` for a C caller: `0` on `Ok`, `-1` with the error raised on `Err` or on a panic.
///
/// The body is `AssertUnwindSafe`: after a panic nothing it touched is used again by this
/// call, and shared state it may have left half-updated is behind poisoning locks.
///
/// ```
/// use core::ffi::c_int;
/// use tvmffi_std::raise::{take_raised, RaisedError};
/// use tvmffi_std::ffi_boundary;
///
/// extern "C" fn checked_div(a: i64, b: i64, out: *mut i64) -> c_int {
///     ffi_boundary(|| {
///         if b == 0 {
///             return Err(RaisedError::new("ValueError", "division by zero"));
///         }
///         // SAFETY (example): the caller passes a writable `out`.
///         unsafe { out.write(a / b) };
///         Ok(())
///     })
/// }
///
/// let mut out = 0;
/// assert_eq!(checked_div(7, 2, &mut out), 0);
/// assert_eq!(out, 3);
/// assert_eq!(checked_div(1, 0, &mut out), -1);
/// assert_eq!(take_raised().unwrap().message, "division by zero");
/// ```
#[inline]
pub fn ffi_boundary<E: RaiseError>(body: impl FnOnce() -> Result<(), E>) -> c_int {
    let trap = AbortOnUnwind("an error being raised at the FFI boundary");
    let code = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => 0,
        Ok(Err(error)) => {
            raise_caught(error);
            -1
        }
        Err(payload) => {
            raise_panic(payload);
            -1
        }
    };
    trap.disarm();
    code
}

/// Raise `error`, turning a panic inside its `raise` (a `Display` that panics, say) into the
/// panic error instead.
#[inline]
fn raise_caught<E: RaiseError>(error: E) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| error.raise())) {
        raise_panic(payload);
    }
}

/// Raise the `RuntimeError` for a caught panic. Cold and shared by every instantiation.
#[cold]
#[inline(never)]
fn raise_panic(payload: Box<dyn PanicPayload + Send>) {
    let message = alloc::format!("panic in Rust code: {}", panic_message(&*payload));
    // Dropping the payload runs foreign `Drop` code that may panic again; the caller's trap
    // turns that into an abort.
    drop(payload);
    RaisedError::new(PANIC_ERROR_KIND, &message).raise();
}

/// The text of a panic payload: the message of `panic!("...")`, or a placeholder for
/// `panic_any` values that are not strings.
pub fn panic_message(payload: &(dyn PanicPayload + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "Box<dyn Any> (a panic payload that is not a string)"
    }
}

/// The std tier's panic policy for Rust code behind function objects and exports
/// ([`Boundary`](tvmffi_alloc::function::Boundary)): a panic in the body becomes a
/// `RuntimeError` carrying the panic message and the backtrace, so
/// `Function::from_packed_with::<CatchPanic, _>` never takes the process down.
///
/// ```
/// use tvmffi_alloc::function::Boundary;
/// use tvmffi_std::CatchPanic;
///
/// let err = CatchPanic::run(|| -> Result<(), tvmffi_alloc::Error> { panic!("boom") })
///     .unwrap_err();
/// assert_eq!(err.kind(), "RuntimeError");
/// assert_eq!(err.message(), "panic in Rust code: boom");
/// ```
#[derive(Debug, Clone, Copy)]
pub enum CatchPanic {}

impl tvmffi_alloc::function::Boundary for CatchPanic {
    #[inline]
    fn run<R>(
        body: impl FnOnce() -> Result<R, tvmffi_alloc::Error>,
    ) -> Result<R, tvmffi_alloc::Error> {
        let trap = AbortOnUnwind("a panic being turned into an error");
        let result = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|p| Err(panic_error(p)));
        trap.disarm();
        result
    }
}

/// The `RuntimeError` for a caught panic, with the backtrace of the code that caught it.
#[cold]
#[inline(never)]
fn panic_error(payload: Box<dyn PanicPayload + Send>) -> tvmffi_alloc::Error {
    let message = alloc::format!("panic in Rust code: {}", panic_message(&*payload));
    drop(payload); // may panic again: the caller's trap turns that into an abort
    tvmffi_alloc::Error::new(PANIC_ERROR_KIND, message)
        .with_backtrace(&crate::backtrace::capture(false))
}

/// Run `body`, which has no way to report an error to its C caller (a deleter, or a
/// function without a return code); a panic prints `what` and the panic message on stderr
/// and aborts the process.
///
/// ```
/// unsafe extern "C" fn free_counter(handle: *mut std::ffi::c_void) {
///     tvmffi_std::abort_on_panic("the counter's deleter", || {
///         // SAFETY (example): `handle` came from `Box::into_raw` in the constructor.
///         drop(unsafe { Box::from_raw(handle.cast::<u64>()) });
///     });
/// }
/// // SAFETY (example): a fresh box, freed once.
/// unsafe { free_counter(Box::into_raw(Box::new(7u64)).cast()) };
/// ```
#[inline]
pub fn abort_on_panic<R>(what: &'static str, body: impl FnOnce() -> R) -> R {
    let trap = AbortOnUnwind(what);
    let result = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(value) => value,
        Err(payload) => abort_after_panic(what, &*payload),
    };
    trap.disarm();
    result
}

#[cold]
#[inline(never)]
fn abort_after_panic(what: &str, payload: &(dyn PanicPayload + Send)) -> ! {
    abort_with(what, panic_message(payload))
}

/// Print why and abort. Shared by the trap and [`abort_on_panic`].
#[cold]
#[inline(never)]
fn abort_with(what: &str, message: &str) -> ! {
    // Printing cannot be avoided here: the process is about to die and stderr is the only
    // place left to say why. Errors writing it are ignored for the same reason.
    let _ = std::io::Write::write_fmt(
        &mut std::io::stderr(),
        format_args!(
            "tvm-ffi: a Rust panic in {what} cannot be reported to the C caller; aborting: \
             {message}\n"
        ),
    );
    std::process::abort()
}

/// Aborts the process when dropped during an unwind; [`disarm`](Self::disarm) it on the
/// normal path.
struct AbortOnUnwind(&'static str);

impl AbortOnUnwind {
    #[inline]
    fn disarm(self) {
        core::mem::forget(self);
    }
}

impl Drop for AbortOnUnwind {
    #[cold]
    fn drop(&mut self) {
        abort_with(self.0, "a panic escaped the panic boundary");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raise::take_raised;
    use core::fmt;

    #[test]
    fn ok_returns_zero_and_raises_nothing() {
        assert_eq!(ffi_boundary(|| Ok::<(), RaisedError>(())), 0);
        assert!(take_raised().is_none());
    }

    #[test]
    fn err_returns_minus_one_and_raises_it() {
        let code = ffi_boundary(|| Err(RaisedError::new("ValueError", "bad value")));
        assert_eq!(code, -1);
        let err = take_raised().expect("raised");
        assert_eq!((err.kind.as_str(), err.message.as_str()), ("ValueError", "bad value"));
    }

    #[test]
    fn str_and_string_panics_become_runtime_errors() {
        assert_eq!(ffi_boundary(|| -> Result<(), RaisedError> { panic!("static text") }), -1);
        let err = take_raised().expect("raised");
        assert_eq!(err.kind, "RuntimeError");
        assert_eq!(err.message, "panic in Rust code: static text");

        let n = 42;
        assert_eq!(ffi_boundary(|| -> Result<(), RaisedError> { panic!("formatted {n}") }), -1);
        assert_eq!(take_raised().unwrap().message, "panic in Rust code: formatted 42");

        let code = ffi_boundary(|| -> Result<(), RaisedError> { std::panic::panic_any(7u8) });
        assert_eq!(code, -1);
        assert!(take_raised().unwrap().message.contains("not a string"));
    }

    /// An error whose `Display` panics: raising it must not unwind into C.
    struct BadDisplay;
    impl fmt::Display for BadDisplay {
        fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
            panic!("Display exploded")
        }
    }
    impl RaiseError for BadDisplay {
        fn raise(self) {
            RaisedError::new("ValueError", &alloc::format!("{self}")).raise();
        }
    }

    #[test]
    fn a_panic_while_raising_becomes_the_panic_error() {
        assert_eq!(ffi_boundary(|| Err(BadDisplay)), -1);
        let err = take_raised().expect("raised");
        assert_eq!(err.kind, "RuntimeError");
        assert!(err.message.contains("Display exploded"), "{}", err.message);
    }

    #[test]
    fn abort_on_panic_passes_values_through() {
        assert_eq!(abort_on_panic("test", || 5), 5);
    }
}
