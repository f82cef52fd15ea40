//! The harness itself: an object made by our allocator, read by the reference's C++.

use core::ffi::c_void;

use tvmffi_core::sys::{TVMFFIAny, TVMFFIFunctionCell};
use tvmffi_core::{Any, StaticObject, TypeIndex};

unsafe extern "C" fn answer(
    _handle: *mut c_void,
    _args: *const TVMFFIAny,
    _num_args: i32,
    result: *mut TVMFFIAny,
) -> i32 {
    // SAFETY: `result` is the caller's writable result slot.
    unsafe { tvmffi_core::call::write_result(result, Any::from(42i64)) };
    0
}

static ANSWER: StaticObject<TVMFFIFunctionCell> = StaticObject::new(
    TypeIndex::FUNCTION,
    TVMFFIFunctionCell { safe_call: Some(answer), cpp_call: core::ptr::null_mut() },
);

/// A new strong reference to a function object in static memory returning 42.
#[unsafe(no_mangle)]
pub extern "C" fn rs_smoke_answer_function() -> *mut c_void {
    ANSWER.new_ref().into_raw().cast()
}
