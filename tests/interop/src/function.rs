//! Functions, errors and Rust-defined object types across the C ABI, with the reference's
//! `libtvm_ffi.so` as the runtime: its raised-error slot, its global registry, its type
//! table. (This library enables no `runtime` feature: the reference provides the C API.)

use core::ffi::{CStr, c_char, c_void};

use tvmffi_alloc::error::{Error, ErrorObj};
use tvmffi_alloc::function::Function;
use tvmffi_alloc::object_type::{self, ObjectRoot};
use tvmffi_core::sys::TVMFFIObject;
use tvmffi_core::{Any, AnyView, FunctionObj, Object, ObjectHeader, ObjectRef};

/// A borrowed C string as text.
///
/// # Safety
///
/// `s` is a readable NUL-terminated string.
unsafe fn text<'a>(s: *const c_char) -> &'a str {
    // SAFETY: the caller's promise.
    unsafe { CStr::from_ptr(s) }.to_str().unwrap_or("<not UTF-8>")
}

/// A function handle from C++, as a new `Function` reference.
///
/// # Safety
///
/// `f` is a live function object.
unsafe fn borrow_function(f: *mut c_void) -> Function {
    // SAFETY: the caller's promise; a new strong reference is taken.
    let obj = unsafe { ObjectRef::<FunctionObj>::from_raw_borrowed(f.cast::<TVMFFIObject>()) };
    Function::from_object(obj.expect("a function handle"))
}

/// A new reference to a packed Rust closure that sums its integer arguments.
#[unsafe(no_mangle)]
pub extern "C" fn rs_function_make_adder() -> *mut c_void {
    let f = Function::from_packed(|args: &[AnyView<'_>]| {
        let mut sum = 0i64;
        for a in args {
            sum += a.get::<i64>()?;
        }
        Ok(Any::from(sum))
    });
    f.into_object().into_raw().cast()
}

/// A new reference to a closure that fails with `ValueError: rust says no to <arg0>`.
#[unsafe(no_mangle)]
pub extern "C" fn rs_function_make_failing() -> *mut c_void {
    let f = Function::from_packed(|args: &[AnyView<'_>]| {
        let n = args.first().map(|a| a.get::<i64>()).transpose()?.unwrap_or(-1);
        Err(Error::value_error(format!("rust says no to {n}")))
    });
    f.into_object().into_raw().cast()
}

/// A new reference to a typed Rust closure `rs.scale(i64, f64) -> f64`.
#[unsafe(no_mangle)]
pub extern "C" fn rs_function_make_typed() -> *mut c_void {
    let f = Function::from_typed_named("rs.scale", |x: i64, k: f64| -> Result<f64, Error> {
        Ok(x as f64 * k)
    });
    f.into_object().into_raw().cast()
}

/// Call a C++ function `(i64, i64) -> i64` from Rust; 0 and the result on success.
///
/// # Safety
///
/// `f` is a live function object; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_function_call_typed(
    f: *mut c_void,
    a: i64,
    b: i64,
    out: *mut i64,
) -> i32 {
    // SAFETY: the caller's promise.
    let f = unsafe { borrow_function(f) };
    match f.typed::<(i64, i64), i64>().call((a, b)) {
        Ok(v) => {
            // SAFETY: writable (caller).
            unsafe { out.write(v) };
            0
        }
        Err(_) => 1,
    }
}

/// Call `f(1, 2)` and check that it fails with exactly `kind` and `message`, read from the
/// error the reference's slot handed over: 1 if so, 0 otherwise.
///
/// # Safety
///
/// `f` is a live function object; `kind` and `message` are readable C strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_function_expect_error(
    f: *mut c_void,
    kind: *const c_char,
    message: *const c_char,
) -> i32 {
    // SAFETY: the caller's promises.
    let (f, kind, message) = unsafe { (borrow_function(f), text(kind), text(message)) };
    let args = [Any::from(1i64), Any::from(2i64)];
    let views = [args[0].view(), args[1].view()];
    match f.call(&views) {
        Err(e) => {
            let slot_empty = Error::take_raised().is_none();
            i32::from(e.kind() == kind && e.message() == message && slot_empty)
        }
        Ok(_) => 0,
    }
}

/// Register the Rust adder as the global `name` in the reference's registry.
///
/// # Safety
///
/// `name` is a readable C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_function_register_global(
    name: *const c_char,
    allow_override: i32,
) -> i32 {
    // SAFETY: the caller's promise.
    let name = unsafe { text(name) };
    let raw = rs_function_make_adder();
    // SAFETY: a new reference just made.
    let f = Function::from_object(unsafe { ObjectRef::from_raw(raw.cast()) }.expect("non-null"));
    match Function::register_global(name, &f, allow_override != 0) {
        Ok(()) => 0,
        Err(e) if e.is_kind("RuntimeError") && e.message().contains("already registered") => 2,
        Err(_) => 1,
    }
}

/// Look up the global `name` (registered by C++) and call it with `(a, b)`; -1 if absent.
///
/// # Safety
///
/// `name` is a readable C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_function_call_global(name: *const c_char, a: i64, b: i64) -> i64 {
    // SAFETY: the caller's promise.
    let name = unsafe { text(name) };
    match Function::get_global(name) {
        Some(f) => f.typed::<(i64, i64), i64>().call((a, b)).unwrap_or(-2),
        None => -1,
    }
}

/// A new error object made by Rust: kind, message, backtrace, and a cause with the same
/// kind and message `"root cause"`, plus an extra context (the cause itself, as an object).
///
/// # Safety
///
/// The arguments are readable C strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_error_make(
    kind: *const c_char,
    message: *const c_char,
    backtrace: *const c_char,
) -> *mut c_void {
    // SAFETY: the caller's promises.
    let (kind, message, backtrace) = unsafe { (text(kind), text(message), text(backtrace)) };
    let cause = Error::new(kind, "root cause");
    let context = cause.clone().into_object().upcast();
    let e = Error::new(kind, message)
        .with_backtrace(backtrace)
        .with_cause(cause)
        .with_extra_context(context);
    e.into_object().into_raw().cast()
}

/// Raise a Rust error into the reference's slot and return -1, as a failing C function
/// does; C++ rethrows it with `TVM_FFI_CHECK_SAFE_CALL`.
///
/// # Safety
///
/// The arguments are readable C strings.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_error_raise(kind: *const c_char, message: *const c_char) -> i32 {
    // SAFETY: the caller's promises.
    let (kind, message) = unsafe { (text(kind), text(message)) };
    Error::new(kind, message).raise();
    -1
}

/// Read an error object made by C++ with Rust's accessors: 1 when kind, message and
/// backtrace match, and the cause (if `cause_message` is not null) has that message.
///
/// # Safety
///
/// `err` is a live object; the strings are readable C strings, `cause_message` may be null.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_error_check(
    err: *mut c_void,
    kind: *const c_char,
    message: *const c_char,
    backtrace: *const c_char,
    cause_message: *const c_char,
) -> i32 {
    // SAFETY: a live object; a new reference is taken.
    let obj = unsafe { ObjectRef::<ObjectHeader>::from_raw_borrowed(err.cast::<TVMFFIObject>()) };
    let Some(Ok(obj)) = obj.map(|o| o.downcast::<ErrorObj>()) else { return 0 };
    let e = Error::from_object(obj);
    // SAFETY: the caller's promises.
    let (kind, message, backtrace) = unsafe { (text(kind), text(message), text(backtrace)) };
    let cause_ok = if cause_message.is_null() {
        e.cause().is_none()
    } else {
        // SAFETY: a readable C string (caller).
        e.cause().is_some_and(|c| c.message() == unsafe { text(cause_message) })
    };
    i32::from(e.kind() == kind && e.message() == message && e.backtrace() == backtrace && cause_ok)
}

/// Update the backtrace of a C++ error that Rust holds alone: through its own
/// `update_backtrace` (C++'s), allowed because the reference is unique. 1 on success.
///
/// # Safety
///
/// `err` is an owned reference to an error object, taken over here.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_error_append_backtrace_owned(
    err: *mut c_void,
    extra: *const c_char,
) -> *mut c_void {
    // SAFETY: the caller hands over its reference.
    let obj =
        unsafe { ObjectRef::<ErrorObj>::from_raw(err.cast::<TVMFFIObject>()) }.expect("non-null");
    let e = Error::from_object(obj);
    // SAFETY: a readable C string (caller).
    let extra = unsafe { text(extra) };
    let ok = e
        .update_backtrace(extra.as_bytes(), tvmffi_core::flags::BacktraceUpdateMode::APPEND)
        .is_ok();
    if ok { e.into_object().into_raw().cast() } else { core::ptr::null_mut() }
}

/// A Rust-defined object type and a subclass of it.
#[repr(C)]
pub struct Point {
    x: i64,
    y: i64,
}

/// A subclass of [`Point`].
#[repr(C)]
pub struct Point3 {
    base: Point,
    z: i64,
}

tvmffi_alloc::object_type! {
    // SAFETY: keys owned by this test library; `Point3` starts with `Point`.
    unsafe impl ObjectDef for Point { type_key = "rs.Point"; parent = ObjectRoot; child_slots = 4; }
}
tvmffi_alloc::object_type! {
    // SAFETY: as above.
    unsafe impl ObjectDef for Point3 { type_key = "rs.Point3"; parent = Point; }
}

/// The type index of `rs.Point` in the reference's type table (registering it), or -1.
#[unsafe(no_mangle)]
pub extern "C" fn rs_object_point_index() -> i32 {
    object_type::type_index::<Point>().map_or(-1, |i| i.0)
}

/// A new `rs.Point3` object (a subclass of `rs.Point`).
#[unsafe(no_mangle)]
pub extern "C" fn rs_object_make_point3(x: i64, y: i64, z: i64) -> *mut c_void {
    let p = object_type::new_object(Point3 { base: Point { x, y }, z }).expect("registered");
    p.into_raw().cast()
}

/// `x + y` of any object that is an `rs.Point` (a subclass too), or -1 if it is not one.
///
/// # Safety
///
/// `obj` is a live object.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_object_point_sum(obj: *mut c_void) -> i64 {
    // SAFETY: a live object; a new reference is taken.
    let obj = unsafe { ObjectRef::<ObjectHeader>::from_raw_borrowed(obj.cast::<TVMFFIObject>()) };
    match obj.map(|o| o.downcast::<Object<Point>>()) {
        Some(Ok(p)) => p.x + p.y,
        _ => -1,
    }
}

/// `z` of an `rs.Point3`, or -1.
///
/// # Safety
///
/// `obj` is a live object.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_object_point3_z(obj: *mut c_void) -> i64 {
    // SAFETY: a live object; a new reference is taken.
    let obj = unsafe { ObjectRef::<ObjectHeader>::from_raw_borrowed(obj.cast::<TVMFFIObject>()) };
    match obj.map(|o| o.downcast::<Object<Point3>>()) {
        Some(Ok(p)) => p.z,
        _ => -1,
    }
}
