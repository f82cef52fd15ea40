//! The panic boundary: the one trampoline through which everything C can call runs.
//!
//! Unwinding out of an `extern "C"` function aborts the process, and a C caller has no way to
//! handle a Rust panic anyway, so every exported `TVMFFI*` function, every
//! `__tvm_ffi_<name>` export and every Rust closure behind a function object runs its body in
//! [`ffi_boundary`] (or, for closures, under [`CatchPanic`]):
//!
//! | the body...           | the caller gets                                            |
//! |-----------------------|------------------------------------------------------------|
//! | returns `Ok(())`      | `0`                                                        |
//! | returns `Err(e)`      | `-1`, with `e` raised as an FFI [`Error`]                  |
//! | panics                | `-1`, with a `RuntimeError` carrying the panic message     |
//! | unwinds past all that | an abort, with a message on stderr (see below)             |
//!
//! The last row covers a panic while raising or while dropping the panic's payload: a trap
//! armed for the whole call aborts rather than let the unwind reach C (PyO3's `PanicTrap`).
//!
//! Errors are raised through the C API (`TVMFFIErrorSetRaised`), so they land in the slot of
//! whichever runtime the process uses: this crate's with the `runtime` feature, the host's
//! in a kernel library.
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

use tvmffi_alloc::Error;

/// The error kind raised for a caught panic.
pub const PANIC_ERROR_KIND: &str = "RuntimeError";

/// Run `body` for a C caller: `0` on `Ok`, `-1` with the error raised on `Err` or on a panic.
///
/// The body is `AssertUnwindSafe`: after a panic nothing it touched is used again by this
/// call, and shared state it may have left half-updated is behind poisoning locks.
///
/// ```
/// use core::ffi::c_int;
/// use tvmffi_alloc::Error;
/// use tvmffi_std::ffi_boundary;
///
/// extern "C" fn checked_div(a: i64, b: i64, out: *mut i64) -> c_int {
///     ffi_boundary(|| {
///         if b == 0 {
///             return Err(Error::value_error("division by zero"));
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
/// assert_eq!(Error::take_raised().unwrap().message(), "division by zero");
/// ```
#[inline]
pub fn ffi_boundary<E: Into<Error>>(body: impl FnOnce() -> Result<(), E>) -> c_int {
    let trap = AbortOnUnwind("an error being raised at the FFI boundary");
    let code = match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => 0,
        Ok(Err(error)) => {
            raise_caught(error);
            -1
        }
        Err(payload) => {
            panic_error(payload).raise();
            -1
        }
    };
    trap.disarm();
    code
}

/// Raise `error` with a backtrace of where it crossed the boundary (if it has none), turning
/// a panic inside its conversion (a `Display` that panics, say) into the panic error.
#[inline]
fn raise_caught<E: Into<Error>>(error: E) {
    match catch_unwind(AssertUnwindSafe(|| with_backtrace(error.into()))) {
        Ok(error) => error.raise(),
        Err(payload) => panic_error(payload).raise(),
    }
}

/// `error`, with the current backtrace when it carries none: what the reference's errors
/// carry from their `throw`. Rust errors are plain values until they reach C, so the stack
/// is taken here, where the error leaves Rust, by the process's runtime
/// (`TVMFFIBacktrace`: ours, or the host's in a kernel library).
#[cold]
#[inline(never)]
fn with_backtrace(error: Error) -> Error {
    if !error.backtrace_bytes().is_empty() {
        return error;
    }
    // SAFETY: null location strings are allowed; the array is read before the next call on
    // this thread.
    let backtrace = unsafe {
        let array =
            &*tvmffi_core::sys::api::TVMFFIBacktrace(core::ptr::null(), 0, core::ptr::null(), 0);
        tvmffi_alloc::error::bytes_of(array).map(String::from_utf8_lossy).unwrap_or_default()
    };
    error.with_backtrace(&backtrace)
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
    fn run<R>(body: impl FnOnce() -> Result<R, Error>) -> Result<R, Error> {
        match catch_unwind(AssertUnwindSafe(body)) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(trapped(move || with_backtrace(e))),
            Err(payload) => Err(trapped(move || panic_error(payload))),
        }
    }
}

/// Build the error for a failed call, aborting if that panics: no error could be reported
/// then. Only the failing paths set the trap, so the successful call pays nothing for it.
#[cold]
#[inline(never)]
fn trapped(build: impl FnOnce() -> Error) -> Error {
    let trap = AbortOnUnwind("a panic being turned into an error");
    let error = build();
    trap.disarm();
    error
}

/// The `RuntimeError` for a caught panic, with the backtrace of the code that caught it.
#[cold]
#[inline(never)]
fn panic_error(payload: Box<dyn PanicPayload + Send>) -> Error {
    let message = alloc::format!("panic in Rust code: {}", panic_message(&*payload));
    drop(payload); // may panic again: the caller's trap turns that into an abort
    Error::new(PANIC_ERROR_KIND, message).with_backtrace(&crate::backtrace::capture(false))
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
    use core::fmt;

    fn take() -> Error {
        Error::take_raised().expect("raised")
    }

    #[test]
    fn ok_returns_zero_and_raises_nothing() {
        assert_eq!(ffi_boundary(|| Ok::<(), Error>(())), 0);
        assert!(Error::take_raised().is_none());
    }

    #[test]
    fn err_returns_minus_one_and_raises_it() {
        let code = ffi_boundary(|| Err(Error::value_error("bad value")));
        assert_eq!(code, -1);
        let err = take();
        assert_eq!((&*err.kind(), &*err.message()), ("ValueError", "bad value"));
    }

    #[test]
    fn str_and_string_panics_become_runtime_errors() {
        assert_eq!(ffi_boundary(|| -> Result<(), Error> { panic!("static text") }), -1);
        let err = take();
        assert_eq!(err.kind(), "RuntimeError");
        assert_eq!(err.message(), "panic in Rust code: static text");

        let n = 42;
        assert_eq!(ffi_boundary(|| -> Result<(), Error> { panic!("formatted {n}") }), -1);
        assert_eq!(take().message(), "panic in Rust code: formatted 42");

        let code = ffi_boundary(|| -> Result<(), Error> { std::panic::panic_any(7u8) });
        assert_eq!(code, -1);
        assert!(take().message().contains("not a string"));
    }

    /// An error whose conversion panics: raising it must not unwind into C.
    struct BadDisplay;
    impl fmt::Display for BadDisplay {
        fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
            panic!("Display exploded")
        }
    }
    impl From<BadDisplay> for Error {
        fn from(e: BadDisplay) -> Self {
            Error::value_error(alloc::format!("{e}"))
        }
    }

    #[test]
    fn a_panic_while_raising_becomes_the_panic_error() {
        assert_eq!(ffi_boundary(|| Err(BadDisplay)), -1);
        let err = take();
        assert_eq!(err.kind(), "RuntimeError");
        assert!(err.message().contains("Display exploded"), "{}", err.message());
    }

    #[test]
    fn abort_on_panic_passes_values_through() {
        assert_eq!(abort_on_panic("test", || 5), 5);
    }
}
