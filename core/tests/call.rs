//! The packed calling convention, driven from both sides through real `extern "C"` entry
//! points and function objects in static memory.

use core::ffi::{c_int, c_void};
use core::ptr;

use tvmffi_core::call::{self, BadArguments, CallError, FunctionObj};
use tvmffi_core::sys::{TVMFFIAny, TVMFFIFunctionCell};
use tvmffi_core::{Any, AnyView, ObjectRef, StaticObject, TypeIndex};

/// `sum(*ints) -> int`, or -1 when an argument is not an integer.
unsafe extern "C" fn sum(
    _handle: *mut c_void,
    args: *const TVMFFIAny,
    num_args: i32,
    result: *mut TVMFFIAny,
) -> c_int {
    // SAFETY: called by `call_raw`, which passes `num_args` valid values.
    let Ok(args) = (unsafe { call::args_from_raw(args, num_args) }) else { return -2 };
    let mut total = 0i64;
    for arg in args {
        match arg.get::<i64>() {
            Ok(v) => total += v,
            Err(_) => return -1,
        }
    }
    // SAFETY: `result` is the caller's writable slot.
    unsafe { call::write_result(result, Any::from(total)) };
    0
}

static SUM: StaticObject<TVMFFIFunctionCell> = StaticObject::new(
    TypeIndex::FUNCTION,
    TVMFFIFunctionCell { safe_call: Some(sum), cpp_call: ptr::null_mut() },
);

#[test]
fn function_object_call_sums_its_arguments() {
    let f: ObjectRef<FunctionObj> = SUM.new_ref();
    let args = [AnyView::from(1i32), AnyView::from(true), AnyView::from(40u8)];
    let out = call::call(&f, &args).unwrap();
    assert_eq!(out.get::<i64>(), Ok(42));
    assert_eq!(call::call(&f, &[]).unwrap().get::<i64>(), Ok(0));
}

#[test]
fn callee_error_code_comes_back() {
    let f = SUM.new_ref();
    let err = call::call(&f, &[AnyView::from(1.5f64)]).unwrap_err();
    assert_eq!(err, CallError::Raised { code: -1 });
}

#[test]
fn null_entry_point_is_an_error_not_a_crash() {
    static NULL_FN: StaticObject<TVMFFIFunctionCell> = StaticObject::new(
        TypeIndex::FUNCTION,
        TVMFFIFunctionCell { safe_call: None, cpp_call: ptr::null_mut() },
    );
    assert_eq!(call::call(&NULL_FN.new_ref(), &[]).unwrap_err(), CallError::NullFunction);
}

/// Returns the `SUM` function object itself, then fails with an object left in `result`
/// when called with an argument: both results must be owned and released by the caller.
unsafe extern "C" fn hand_out_sum(
    _handle: *mut c_void,
    _args: *const TVMFFIAny,
    num_args: i32,
    result: *mut TVMFFIAny,
) -> c_int {
    let f = Any::from_object(SUM.new_ref());
    // SAFETY: `result` is the caller's writable slot.
    unsafe { call::write_result(result, f) };
    if num_args == 0 { 0 } else { -1 }
}

#[test]
fn results_are_owned_on_success_and_released_on_failure() {
    static HAND_OUT: StaticObject<TVMFFIFunctionCell> = StaticObject::new(
        TypeIndex::FUNCTION,
        TVMFFIFunctionCell { safe_call: Some(hand_out_sum), cpp_call: ptr::null_mut() },
    );
    let f = HAND_OUT.new_ref();
    let before = SUM.header().strong_count();

    let out = call::call(&f, &[]).unwrap();
    assert_eq!(out.type_index(), TypeIndex::FUNCTION);
    assert_eq!(SUM.header().strong_count(), before + 1);
    drop(out);
    assert_eq!(SUM.header().strong_count(), before);

    assert_eq!(call::call(&f, &[AnyView::NONE]).unwrap_err(), CallError::Raised { code: -1 });
    assert_eq!(SUM.header().strong_count(), before, "a failing call must not leak its result");
}

#[test]
fn raw_arguments_are_validated() {
    // SAFETY: no memory is read for a call with no arguments.
    let none = unsafe { call::args_from_raw(ptr::null(), 0) };
    assert_eq!(none.unwrap().len(), 0);
    // SAFETY: a negative count is rejected before any memory is read.
    let negative = unsafe { call::args_from_raw(ptr::null(), -3) };
    assert_eq!(negative.unwrap_err(), BadArguments::NegativeCount(-3));
    // SAFETY: a null array is rejected before any memory is read.
    let null = unsafe { call::args_from_raw(ptr::null(), 2) };
    assert_eq!(null.unwrap_err(), BadArguments::NullArray(2));
    let raw = [TVMFFIAny::NONE; 2];
    // SAFETY: `raw` holds two initialised values that outlive the slice.
    let views = unsafe { call::args_from_raw(raw.as_ptr(), 2) }.unwrap();
    assert!(views.iter().all(|v| v.is_none()));
}

#[test]
fn call_raw_passes_the_handle_through() {
    unsafe extern "C" fn echo_handle(
        handle: *mut c_void,
        _args: *const TVMFFIAny,
        _num_args: i32,
        result: *mut TVMFFIAny,
    ) -> c_int {
        // SAFETY: `result` is the caller's writable slot.
        unsafe { call::write_result(result, Any::from(handle)) };
        0
    }
    let mut marker = 7u8;
    let handle = (&raw mut marker).cast::<c_void>();
    // SAFETY: `echo_handle` follows the convention and never dereferences the handle.
    let out = unsafe { call::call_raw(echo_handle, handle, &[]) }.unwrap();
    assert_eq!(out.get::<*mut c_void>(), Ok(handle));
}
