//! Error objects through the runtime's C API: raising, fetching, creating from C.
//!
//! The `runtime` feature keeps one global error slot, so these tests run one at a time.

extern crate alloc;

use core::ffi::{c_char, c_void};
use core::ptr;
use std::sync::{Mutex, MutexGuard};

use tvmffi_alloc::error::{Error, ErrorObj};
use tvmffi_core::flags::BacktraceUpdateMode;
use tvmffi_core::sys::{TVMFFIByteArray, TVMFFIObject, TVMFFIObjectHandle, api};
use tvmffi_core::{ObjectHeader, ObjectRef, TypeIndex};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    drop(Error::take_raised());
    guard
}

fn ba(s: &[u8]) -> TVMFFIByteArray {
    TVMFFIByteArray { data: s.as_ptr().cast(), size: s.len() }
}

/// Take over an owned handle as an error.
fn owned_error(h: TVMFFIObjectHandle) -> Error {
    // SAFETY: an owned reference the C API handed out.
    let obj = unsafe { ObjectRef::<ObjectHeader>::from_raw(h.cast::<TVMFFIObject>()) }.unwrap();
    Error::from_object(obj.downcast::<ErrorObj>().unwrap())
}

fn raised() -> Error {
    Error::take_raised().expect("an error was raised")
}

#[test]
fn raise_then_take_round_trips_and_empties_the_slot() {
    let _s = serial();
    assert!(Error::take_raised().is_none());
    let e = Error::value_error("first");
    e.clone().raise();
    assert_eq!(e.as_object().strong_count(), 2, "the slot holds its own reference");
    let back = raised();
    assert!(back.as_object().ptr_eq(e.as_object()));
    assert!(Error::take_raised().is_none());
    drop(back);
    assert_eq!(e.as_object().strong_count(), 1);
}

#[test]
fn a_new_raise_replaces_and_releases_the_old_error() {
    let _s = serial();
    let first = Error::value_error("first");
    first.clone().raise();
    Error::type_error("second").raise();
    assert_eq!(first.as_object().strong_count(), 1, "replaced error released");
    assert_eq!(raised().message(), "second");
}

#[test]
fn set_raised_null_clears_and_non_errors_become_type_errors() {
    let _s = serial();
    Error::value_error("x").raise();
    // SAFETY: null is allowed.
    unsafe { api::TVMFFIErrorSetRaised(ptr::null_mut()) };
    assert!(Error::take_raised().is_none());

    let f = tvmffi_alloc::Function::from_packed(|_| Ok(tvmffi_core::Any::none()));
    // SAFETY: a live object, borrowed.
    unsafe { api::TVMFFIErrorSetRaised(f.as_object().as_raw().cast()) };
    let e = raised();
    assert_eq!(e.kind(), "TypeError");
    assert!(e.message().contains("not an ffi.Error"), "{e}");
    assert_eq!(f.as_object().strong_count(), 1);
}

#[test]
fn move_from_raised_with_null_result_keeps_the_error() {
    let _s = serial();
    Error::value_error("kept").raise();
    // SAFETY: null is allowed.
    unsafe { api::TVMFFIErrorMoveFromRaised(ptr::null_mut()) };
    assert_eq!(raised().message(), "kept");
    let mut h: TVMFFIObjectHandle = ptr::dangling_mut::<c_void>();
    // SAFETY: a writable slot.
    unsafe { api::TVMFFIErrorMoveFromRaised(&mut h) };
    assert!(h.is_null(), "an empty slot gives null");
}

#[test]
fn set_raised_from_c_strings() {
    let _s = serial();
    // SAFETY: valid C strings.
    unsafe { api::TVMFFIErrorSetRaisedFromCStr(c"KeyError".as_ptr(), c"no key 'a'".as_ptr()) };
    let e = raised();
    assert_eq!((e.kind().as_ref(), e.message().as_ref()), ("KeyError", "no key 'a'"));
    assert_eq!(e.backtrace(), "");

    // SAFETY: nulls are tolerated.
    unsafe { api::TVMFFIErrorSetRaisedFromCStr(ptr::null(), ptr::null()) };
    let e = raised();
    assert_eq!((e.kind().as_ref(), e.message().as_ref()), ("RuntimeError", ""));

    let parts: [*const c_char; 4] = [c"a=".as_ptr(), ptr::null(), c"1, ".as_ptr(), c"b".as_ptr()];
    // SAFETY: four readable entries, one null.
    unsafe { api::TVMFFIErrorSetRaisedFromCStrParts(c"ValueError".as_ptr(), parts.as_ptr(), 4) };
    assert_eq!(raised().message(), "a=1, b");

    // SAFETY: a negative count is refused before any read.
    unsafe { api::TVMFFIErrorSetRaisedFromCStrParts(c"E".as_ptr(), parts.as_ptr(), -1) };
    let e = raised();
    assert_eq!(e.kind(), "ValueError");
    assert!(e.message().contains("negative num_parts -1"), "{e}");
    // SAFETY: a null array with a positive count is refused.
    unsafe { api::TVMFFIErrorSetRaisedFromCStrParts(c"E".as_ptr(), ptr::null(), 2) };
    assert!(raised().message().contains("`message_parts` is null"));
    // SAFETY: zero parts may come with a null array.
    unsafe { api::TVMFFIErrorSetRaisedFromCStrParts(c"E".as_ptr(), ptr::null(), 0) };
    assert_eq!(raised().message(), "");
}

#[test]
fn error_create_from_c_and_read_in_rust() {
    let _s = serial();
    let (kind, msg, bt) = (ba(b"IndexError"), ba(b"index 9 out of range"), ba(b"inner\nouter\n"));
    let mut h = ptr::null_mut();
    // SAFETY: valid arrays and out slot.
    assert_eq!(unsafe { api::TVMFFIErrorCreate(&kind, &msg, &bt, &mut h) }, 0);
    let e = owned_error(h);
    assert_eq!(e.kind(), "IndexError");
    assert_eq!(e.message(), "index 9 out of range");
    assert_eq!(e.traceback_most_recent_call_last(), "outer\ninner\n");
    e.update_backtrace(b"deeper\n", BacktraceUpdateMode::APPEND).unwrap();
    assert_eq!(e.backtrace(), "inner\nouter\ndeeper\n");

    // Cause and context are borrowed by the call: the new error takes its own references.
    let cause = Error::key_error("root");
    let ctx = Error::runtime_error("ctx");
    let mut h2 = ptr::null_mut();
    // SAFETY: valid arguments.
    let code = unsafe {
        api::TVMFFIErrorCreateWithCauseAndExtraContext(
            &kind,
            &msg,
            &bt,
            cause.as_object().as_raw().cast(),
            ctx.as_object().as_raw().cast(),
            &mut h2,
        )
    };
    assert_eq!(code, 0);
    let e2 = owned_error(h2);
    assert_eq!(cause.as_object().strong_count(), 2);
    assert_eq!(e2.cause().unwrap().message(), "root");
    assert!(e2.extra_context().unwrap().ptr_eq(ctx.as_object()));
    drop(e2);
    assert_eq!(cause.as_object().strong_count(), 1);
    assert_eq!(ctx.as_object().strong_count(), 1);
}

#[test]
fn error_create_refuses_bad_input() {
    let _s = serial();
    let (kind, msg) = (ba(b"E"), ba(b"m"));
    let mut h = ptr::null_mut();
    // SAFETY: a null backtrace is refused before any read.
    assert_eq!(unsafe { api::TVMFFIErrorCreate(&kind, &msg, ptr::null(), &mut h) }, -1);
    let e = raised();
    assert_eq!(e.kind(), "ValueError");
    assert!(e.message().contains("`backtrace` is null"), "{e}");
    assert!(h.is_null());

    let bad = TVMFFIByteArray { data: ptr::null(), size: 3 };
    // SAFETY: a null data pointer with a size is refused.
    assert_eq!(unsafe { api::TVMFFIErrorCreate(&kind, &bad, &kind, &mut h) }, -1);
    assert!(raised().message().contains("null pointer"));

    // SAFETY: a null out slot is refused.
    assert_eq!(unsafe { api::TVMFFIErrorCreate(&kind, &msg, &msg, ptr::null_mut()) }, -1);
    assert!(raised().message().contains("`out` is null"));

    let not_error = tvmffi_alloc::Function::from_packed(|_| Ok(tvmffi_core::Any::none()));
    // SAFETY: a live object that is not an error is refused as a cause.
    let code = unsafe {
        api::TVMFFIErrorCreateWithCauseAndExtraContext(
            &kind,
            &msg,
            &msg,
            not_error.as_object().as_raw().cast(),
            ptr::null_mut(),
            &mut h,
        )
    };
    assert_eq!(code, -1);
    assert_eq!(raised().kind(), "TypeError");
    assert_eq!(not_error.as_object().strong_count(), 1, "no reference leaked on failure");
}

#[test]
fn backtrace_without_std_is_the_callers_location() {
    let read = |bt: *const tvmffi_core::sys::TVMFFIByteArray| {
        // SAFETY: valid until the next call, which comes after this read.
        let bt = unsafe { &*bt };
        // SAFETY: `size` readable bytes.
        unsafe { core::slice::from_raw_parts(bt.data.cast::<u8>(), bt.size) }.to_vec()
    };
    // SAFETY: NUL-terminated strings.
    let bt = read(unsafe { api::TVMFFIBacktrace(c"f.cc".as_ptr(), 3, c"fn".as_ptr(), 0) });
    assert_eq!(bt, b"  File \"f.cc\", line 3, in fn\n");
    // Without a location, `no_std` has nothing to show.
    // SAFETY: null strings are allowed.
    let bt = read(unsafe { api::TVMFFIBacktrace(ptr::null(), 0, ptr::null(), 0) });
    assert!(bt.is_empty());
}

#[test]
fn errors_are_objects_of_index_67() {
    let e = Error::new("X", "y");
    assert_eq!(e.as_object().type_index(), TypeIndex::ERROR);
    assert_eq!(e.as_object().type_index().0, 67);
}
