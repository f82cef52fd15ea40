//! The system library registry and the `TVMFFIEnvMod*` C entry points.

use core::ffi::{c_int, c_void};

use tvmffi_alloc::Error;
use tvmffi_core::call::call;
use tvmffi_core::sys::api::{
    TVMFFIEnvModLookupFromImports, TVMFFIEnvModRegisterContextSymbol,
    TVMFFIEnvModRegisterSystemLibSymbol,
};
use tvmffi_core::sys::{TVMFFIAny, TVMFFIObjectHandle};
use tvmffi_core::{AnyView, TypeIndex};
use tvmffi_std::module::Module;

/// A statically linked kernel: returns its argument times ten.
unsafe extern "C" fn times_ten(
    _: *mut c_void,
    args: *const TVMFFIAny,
    num_args: i32,
    result: *mut TVMFFIAny,
) -> c_int {
    if num_args != 1 {
        return -1;
    }
    // SAFETY: one argument (checked) and a writable result, by the convention.
    unsafe {
        let x = (*args).value.v_int64;
        result.write(tvmffi_core::Any::from(x * 10).into_raw());
    }
    0
}

/// Another one, registered without the prefix: returns 7.
unsafe extern "C" fn seven(
    _: *mut c_void,
    _: *const TVMFFIAny,
    _: i32,
    result: *mut TVMFFIAny,
) -> c_int {
    // SAFETY: a writable result, by the convention.
    unsafe { result.write(tvmffi_core::Any::from(7i64).into_raw()) };
    0
}

fn register(name: &std::ffi::CStr, f: tvmffi_core::sys::TVMFFISafeCallType) {
    // SAFETY: a valid C string.
    assert_eq!(unsafe { TVMFFIEnvModRegisterSystemLibSymbol(name.as_ptr(), f as *mut c_void) }, 0);
}

#[test]
fn system_lib_serves_registered_functions_by_prefix() {
    register(c"__tvm_ffi_systest.times_ten", times_ten);
    register(c"__tvm_ffi_systest_plain_seven", seven);
    let m = Module::system_lib("systest.").unwrap();
    assert!(m.path().is_none());
    let f = m.function("times_ten").unwrap();
    assert_eq!(call(&f, &[AnyView::from(4i64)]).unwrap().get::<i64>().unwrap(), 40);
    // Without the prefix, as a fallback.
    let f = m.function("systest_plain_seven").unwrap();
    assert_eq!(call(&f, &[]).unwrap().get::<i64>().unwrap(), 7);
    assert!(m.get_function("absent").unwrap().is_none());
    // One module per prefix.
    assert!(Module::system_lib("systest.").unwrap().ptr_eq(&m));
    assert!(!Module::system_lib("other.").unwrap().ptr_eq(&m));
    #[cfg(feature = "symbol-list")]
    assert_eq!(m.function_names().unwrap(), ["times_ten"]);
}

#[test]
fn a_later_registration_wins_and_null_reads_as_absent() {
    register(c"__tvm_ffi_override_test.f", seven);
    register(c"__tvm_ffi_override_test.f", times_ten);
    let m = Module::system_lib("override_test.").unwrap();
    let f = m.function("f").unwrap();
    assert_eq!(call(&f, &[AnyView::from(2i64)]).unwrap().get::<i64>().unwrap(), 20);
    drop(f);
    // SAFETY: a valid C string; a null address.
    let rc = unsafe {
        TVMFFIEnvModRegisterSystemLibSymbol(
            c"__tvm_ffi_override_test.f".as_ptr(),
            core::ptr::null_mut(),
        )
    };
    assert_eq!(rc, 0);
    assert!(m.get_function("f").unwrap().is_none());
}

#[test]
fn bad_arguments_raise_errors() {
    // SAFETY: null is allowed and reported.
    let rc =
        unsafe { TVMFFIEnvModRegisterSystemLibSymbol(core::ptr::null(), core::ptr::null_mut()) };
    assert_eq!(rc, -1);
    let e = Error::take_raised().unwrap();
    assert_eq!((&*e.kind(), &*e.message()), ("ValueError", "the symbol name is null"));

    // SAFETY: a NUL-terminated string that is not UTF-8.
    let rc = unsafe { TVMFFIEnvModRegisterContextSymbol(c"\xff".as_ptr(), core::ptr::null_mut()) };
    assert_eq!(rc, -1);
    assert_eq!(Error::take_raised().unwrap().message(), "the symbol name is not UTF-8");

    let mut out: TVMFFIObjectHandle = core::ptr::null_mut();
    // SAFETY: a null context is allowed and reported.
    let rc =
        unsafe { TVMFFIEnvModLookupFromImports(core::ptr::null_mut(), c"f".as_ptr(), &mut out) };
    assert_eq!(rc, -1);
    let e = Error::take_raised().unwrap();
    assert_eq!(e.kind(), "RuntimeError");
    assert!(e.message().contains("not a library module"), "{}", e.message());
    assert!(out.is_null());

    // A live object of another type, and one with the module index made elsewhere.
    for type_index in [TypeIndex::STR, TypeIndex::MODULE] {
        let obj = tvmffi_alloc::heap::new_object(type_index, Foreign);
        // SAFETY: a live object; a valid name; a writable output.
        let rc =
            unsafe { TVMFFIEnvModLookupFromImports(obj.as_raw().cast(), c"f".as_ptr(), &mut out) };
        assert_eq!(rc, -1, "{type_index:?}");
        assert!(Error::take_raised().unwrap().message().contains("not a library module"));
        assert!(AnyView::from(&obj).get::<Module>().is_err(), "{type_index:?}");
        // SAFETY: a live object.
        assert!(unsafe { Module::from_raw_borrowed(obj.as_raw()) }.is_none());
    }
}

/// A payload standing for objects made by other code (a C++ `ModuleObj`, a string).
struct Foreign;
// SAFETY: test payload, only made with the indices above and never downcast.
unsafe impl tvmffi_core::Payload for Foreign {
    const TYPE_KEY: &'static str = "test.Foreign";
    fn is_instance(_: TypeIndex) -> bool {
        true
    }
}
