//! The panic boundary seen from C: exports that panic, error, or succeed; deleters that
//! panic; and unwinds that escape (the process must abort, never unwind into C).

extern crate alloc;

mod common;

use core::ffi::{c_int, c_void};

use tvmffi_alloc::Error;
use tvmffi_core::call::{CallError, call_raw};
use tvmffi_core::sys::TVMFFIAny;
use tvmffi_core::{Any, AnyView};
use tvmffi_std::{abort_on_panic, ffi_boundary};

/// A `safe_call` in Rust: `x / y` for two ints, raising on a zero divisor, panicking on
/// `i64::MIN / -1` (Rust's overflow panic stands for any bug in a kernel).
unsafe extern "C" fn divide(
    _: *mut c_void,
    args: *const TVMFFIAny,
    num_args: i32,
    result: *mut TVMFFIAny,
) -> c_int {
    ffi_boundary(|| {
        // SAFETY: the packed-call convention.
        let args = unsafe { tvmffi_core::call::args_from_raw(args, num_args) }
            .map_err(|e| Error::new("ValueError", e.to_string()))?;
        let [x, y] = args else { return Err(Error::new("TypeError", "two arguments")) };
        let (x, y) = (x.get::<i64>().unwrap(), y.get::<i64>().unwrap());
        if y == 0 {
            return Err(Error::new("ZeroDivisionError", "division by zero"));
        }
        let q = core::hint::black_box(x) / core::hint::black_box(y);
        // SAFETY: the convention's writable result slot.
        unsafe { tvmffi_core::call::write_result(result, Any::from(q)) };
        Ok(())
    })
}

fn divide_via_c(x: i64, y: i64) -> Result<i64, CallError> {
    // SAFETY: `divide` follows the convention and ignores its handle.
    let r =
        unsafe { call_raw(divide, core::ptr::null_mut(), &[AnyView::from(x), AnyView::from(y)]) }?;
    Ok(r.get::<i64>().unwrap())
}

#[test]
fn results_errors_and_panics_through_a_c_call() {
    assert_eq!(divide_via_c(7, 2), Ok(3));
    assert!(Error::take_raised().is_none());

    assert_eq!(divide_via_c(1, 0), Err(CallError::Raised { code: -1 }));
    let e = Error::take_raised().unwrap();
    assert_eq!((&*e.kind(), &*e.message()), ("ZeroDivisionError", "division by zero"));

    assert_eq!(divide_via_c(i64::MIN, -1), Err(CallError::Raised { code: -1 }));
    let e = Error::take_raised().unwrap();
    assert_eq!(e.kind(), "RuntimeError");
    assert!(e.message().starts_with("panic in Rust code: "), "{}", e.message());
    assert!(e.message().contains("overflow"), "{}", e.message());

    // The boundary keeps working after a panic.
    assert_eq!(divide_via_c(9, 3), Ok(3));
}

#[test]
#[cfg(all(feature = "backtrace", not(miri)))]
fn a_raised_error_carries_the_backtrace_of_the_export() {
    assert!(divide_via_c(1, 0).is_err());
    let bt = Error::take_raised().unwrap().backtrace();
    let lines: Vec<&str> = bt.lines().collect();
    // Taken where the error left Rust: the export, then its C caller.
    assert!(lines[0].ends_with("in boundary::divide"), "{bt}");
    assert!(lines[1].ends_with("in tvmffi_core::call::call_raw"), "{bt}");
    assert!(!bt.contains("tvmffi_std::"), "no boundary machinery: {bt}");
}

/// A deleter of a C handle that panics.
unsafe extern "C" fn panicking_deleter(_: *mut c_void) {
    abort_on_panic("the test deleter", || panic!("deleter exploded"));
}

#[test]
fn panicking_deleter_child() {
    if common::is_child("panicking_deleter_child") {
        // SAFETY: the deleter ignores its handle.
        unsafe { panicking_deleter(core::ptr::null_mut()) };
        unreachable!("abort_on_panic returned after a panic");
    }
}

#[cfg(all(unix, not(miri)))]
fn assert_aborted(out: &std::process::Output, message: &str) {
    use std::os::unix::process::ExitStatusExt;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGABRT),
        "status {:?}; stderr: {stderr}",
        out.status
    );
    assert!(stderr.contains(message), "stderr: {stderr}");
}

#[test]
#[cfg(all(unix, not(miri)))] // a child process
fn a_panic_in_a_deleter_aborts_with_a_message() {
    let out = common::run_child("panicking_deleter_child", &[]);
    assert_aborted(
        &out,
        "tvm-ffi: a Rust panic in the test deleter cannot be reported to the C caller; aborting: \
         deleter exploded",
    );
}

/// A panic payload whose destructor panics: dropping it after the catch unwinds again.
struct PanicsOnDrop;
impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("payload drop exploded");
    }
}

#[test]
fn escaping_unwind_child() {
    if common::is_child("escaping_unwind_child") {
        let code = ffi_boundary(|| -> Result<(), Error> { std::panic::panic_any(PanicsOnDrop) });
        unreachable!("the boundary returned {code} although an unwind escaped it");
    }
}

#[test]
#[cfg(all(unix, not(miri)))] // a child process
fn an_unwind_escaping_the_boundary_aborts() {
    let out = common::run_child("escaping_unwind_child", &[]);
    assert_aborted(&out, "a panic escaped the panic boundary");
}

// --- Rust callbacks, object deleters, and errors per thread --------------------------------

/// Call `f` through the C API, as C or Python code calls a function object.
fn call_via_c_api(f: &tvmffi_alloc::Function, args: &[AnyView<'_>]) -> Result<Any, Error> {
    let mut raw: Vec<TVMFFIAny> = args.iter().map(|a| *a.as_raw()).collect();
    let mut result = TVMFFIAny::NONE;
    // SAFETY: a live function object, valid argument views, a writable result slot.
    let rc = unsafe {
        tvmffi_core::sys::api::TVMFFIFunctionCall(
            f.as_object().as_raw().cast(),
            raw.as_mut_ptr(),
            raw.len() as i32,
            &mut result,
        )
    };
    if rc == 0 {
        // SAFETY: success wrote an owned value.
        Ok(unsafe { Any::from_raw(result) })
    } else {
        assert_eq!(rc, -1);
        Err(Error::take_raised().expect("a failed call raised an error"))
    }
}

#[test]
fn a_panicking_rust_callback_is_an_error_to_its_caller() {
    let f = tvmffi_alloc::Function::from_packed_with::<tvmffi_std::CatchPanic, _>(
        |args: &[AnyView<'_>]| {
            let n: i64 = args[0].get()?;
            assert!(n >= 0, "callback exploded on {n}");
            Ok(Any::from(n * 2))
        },
    );
    // Through the C API, as C++ and Python call it, and from Rust.
    let e = call_via_c_api(&f, &[AnyView::from(-3i64)]).unwrap_err();
    assert_eq!(e.kind(), "RuntimeError");
    assert!(
        e.message().starts_with("panic in Rust code: callback exploded on -3"),
        "{}",
        e.message()
    );
    let e = f.call(&[AnyView::from(-4i64)]).unwrap_err();
    assert!(e.message().contains("callback exploded on -4"), "{}", e.message());
    // Registered as a global and found by name, it behaves the same.
    tvmffi_alloc::Function::register_global("test.boundary.callback", &f, true).unwrap();
    let g = tvmffi_alloc::Function::get_global("test.boundary.callback").unwrap();
    assert!(call_via_c_api(&g, &[AnyView::from(-1i64)]).is_err());
    // The function, and the boundary, keep working.
    assert_eq!(call_via_c_api(&g, &[AnyView::from(21i64)]).unwrap().get::<i64>().unwrap(), 42);
    assert!(Error::take_raised().is_none());
}

/// Captured state whose destructor panics.
struct PanicsWhenDropped;
impl Drop for PanicsWhenDropped {
    fn drop(&mut self) {
        panic!("captured state exploded");
    }
}

#[test]
fn panicking_object_deleter_child() {
    if common::is_child("panicking_object_deleter_child") {
        let state = PanicsWhenDropped;
        let f = tvmffi_alloc::Function::from_packed_with::<tvmffi_std::CatchPanic, _>(
            move |_: &[AnyView<'_>]| {
                let _ = &state;
                Ok(Any::none())
            },
        );
        // The last reference runs the object's deleter, an `extern "C"` function.
        drop(f);
        unreachable!("a panic in an object's deleter returned");
    }
}

/// The documented policy for a panic in an object's destructor (README, "Reliability"):
/// the deleter is called by C and has no way to report an error, so the panic's message
/// is printed and the process aborts, never unwinding into C.
#[test]
#[cfg(all(unix, not(miri)))] // a child process
fn a_panic_in_an_objects_destructor_aborts_with_its_message() {
    let out = common::run_child("panicking_object_deleter_child", &[]);
    assert_aborted(&out, "captured state exploded");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("panic in a function that cannot unwind"), "stderr: {stderr}");
}

#[test]
fn errors_raised_on_one_thread_are_never_seen_by_another() {
    use std::sync::Barrier;
    let barrier = alloc::sync::Arc::new(Barrier::new(2));
    let b = barrier.clone();
    let other = std::thread::spawn(move || {
        Error::value_error("raised on the other thread").raise();
        b.wait(); // raised, not yet taken
        b.wait(); // the main thread looked
        let e = Error::take_raised().expect("its own error is still there");
        assert_eq!(e.message(), "raised on the other thread");
    });
    Error::take_raised(); // nothing of ours
    barrier.wait();
    assert!(Error::take_raised().is_none(), "another thread's error was seen here");
    // A failing call here raises into this thread's slot only.
    assert!(divide_via_c(1, 0).is_err());
    barrier.wait();
    other.join().unwrap();
    let e = Error::take_raised().expect("this thread's own error");
    assert_eq!(e.kind(), "ZeroDivisionError");
}
