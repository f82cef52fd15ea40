//! Raising and reading errors through the C API: whichever provider the firmware links
//! (the core's static pool and slot, or the alloc tier's runtime), the same calls work.

use core::ffi::c_char;
use core::ptr;

use tvmffi_core::call::CallError;
use tvmffi_core::ffi_error::ErrorObj;
use tvmffi_core::object::{ObjectHeader, ObjectRef};
use tvmffi_core::sys::{TVMFFIObject, api};
use tvmffi_core::{AnyView, TypeIndex};

use crate::functions::SYSTEM_LIB;
use crate::report::Failure;

/// `TVMFFIErrorMoveFromRaised`, as an owned error object.
pub fn move_from_raised() -> Option<ObjectRef<ErrorObj>> {
    let mut handle = ptr::null_mut();
    // SAFETY: a writable handle slot.
    unsafe { api::TVMFFIErrorMoveFromRaised(&mut handle) };
    // SAFETY: null or a strong reference to an object, now ours.
    let obj = unsafe { ObjectRef::<ObjectHeader>::from_raw(handle.cast::<TVMFFIObject>()) }?;
    obj.downcast().ok()
}

/// A callee raises, the caller gets the error code, then moves the error out and reads it.
pub fn raised_errors() -> Result<(), Failure> {
    let div = ok!(SYSTEM_LIB.get("checked_div"));
    ensure!(move_from_raised().is_none());

    let code = div.call(&[AnyView::from(1i64), AnyView::from(0i64)]).err();
    ensure!(code == Some(CallError::Raised { code: -1 }));
    let error = ok!(move_from_raised());
    ensure!(error.type_index() == TypeIndex::ERROR && error.strong_count() == 1);
    ensure!(error.is_kind("ValueError") && error.message() == b"division by zero (1 / 0)");
    ensure!(move_from_raised().is_none());
    drop(error);

    // A conversion error becomes the message of a `TypeError`.
    ensure!(div.call(&[AnyView::from(1.5f64), AnyView::from(2i64)]).is_err());
    let error = ok!(move_from_raised());
    ensure!(error.is_kind("TypeError"));
    ensure!(error.message() == b"checked_div: Cannot convert from type `float` to `int`");
    ensure!(div.call(&[AnyView::from(1i64)]).is_err());
    let arity = ok!(move_from_raised());
    ensure!(arity.message() == b"checked_div expects 2 arguments, got 1");
    drop((error, arity));

    // A newer error replaces one nobody fetched.
    ensure!(
        div.call(&[]).is_err() && div.call(&[AnyView::from(4i64), AnyView::from(0i64)]).is_err()
    );
    ensure!(ok!(move_from_raised()).is_kind("ValueError") && move_from_raised().is_none());
    Ok(())
}

/// Re-raising an error object, and raising from message parts, as C code does.
pub fn reraised_errors() -> Result<(), Failure> {
    let parts = [c"sensor ".as_ptr(), ptr::null(), c"offline".as_ptr()];
    // SAFETY: a C kind and three parts, each null or a C string.
    unsafe {
        api::TVMFFIErrorSetRaisedFromCStrParts(c"IOError".as_ptr(), parts.as_ptr(), 3);
    }
    let error = ok!(move_from_raised());
    ensure!(error.is_kind("IOError") && error.message() == b"sensor offline");

    // The slot takes its own reference to a borrowed handle.
    // SAFETY: a live error object.
    unsafe { api::TVMFFIErrorSetRaised(error.as_raw().cast()) };
    ensure!(error.strong_count() == 2);
    let again = ok!(move_from_raised());
    ensure!(again.ptr_eq(&error) && error.strong_count() == 2);
    drop(again);
    ensure!(error.strong_count() == 1);

    // SAFETY: null strings are allowed: a `RuntimeError` with an empty message.
    unsafe { api::TVMFFIErrorSetRaisedFromCStr(ptr::null::<c_char>(), ptr::null()) };
    let error = ok!(move_from_raised());
    ensure!(error.is_kind("RuntimeError") && error.message().is_empty());
    Ok(())
}
