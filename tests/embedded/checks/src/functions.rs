//! Packed functions as statically linked kernels: C entry points registered in a `static`
//! system library, and function objects in static memory and in a pool, all called through
//! the C calling convention.

use core::ffi::{CStr, c_char, c_int, c_void};
use core::fmt::{self, Write};
use core::ptr;

use tvmffi_core::call::{self, CallError};
use tvmffi_core::object::{ObjectPool, StaticObject};
use tvmffi_core::sys::{TVMFFIAny, TVMFFIFunctionCell, TVMFFISafeCallType, api};
use tvmffi_core::system_lib::SystemLib;
use tvmffi_core::{Any, AnyView, FunctionObj, ObjectRef, TypeIndex};

use crate::objects::{READING, READINGS, Reading};
use crate::report::Failure;

/// The firmware's system library: every kernel it links, by name.
pub static SYSTEM_LIB: SystemLib<4> = SystemLib::new();

/// Raise an error of `kind` through the C API, as a C kernel would, and return the
/// convention's error code. The message is formatted on the stack (cut at 95 bytes).
fn raise(kind: &CStr, message: fmt::Arguments<'_>) -> c_int {
    let mut text = CText { buf: [0; 96], len: 0 };
    let _ = text.write_fmt(message);
    // SAFETY: both are NUL-terminated: `kind` is a `CStr`, and `text` keeps its last byte 0.
    unsafe { api::TVMFFIErrorSetRaisedFromCStr(kind.as_ptr(), text.buf.as_ptr().cast::<c_char>()) };
    -1
}

/// A NUL-terminated message on the stack.
struct CText {
    buf: [u8; 96],
    len: usize,
}

impl Write for CText {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = self.buf.len() - 1 - self.len;
        let take = s.len().min(room);
        if let (Some(dst), Some(src)) =
            (self.buf.get_mut(self.len..self.len + take), s.as_bytes().get(..take))
        {
            dst.copy_from_slice(src);
            self.len += take;
        }
        Ok(())
    }
}

/// The body of a packed entry point: arguments as views in, a value or an error code out.
///
/// # Safety
///
/// `args`, `num_args` and `result` are those of a packed call.
unsafe fn packed(
    name: &str,
    args: *const TVMFFIAny,
    num_args: i32,
    result: *mut TVMFFIAny,
    body: impl FnOnce(&[AnyView<'_>]) -> Result<Any, c_int>,
) -> c_int {
    // SAFETY: the convention's arguments (caller).
    let args = match unsafe { call::args_from_raw(args, num_args) } {
        Ok(args) => args,
        Err(e) => return raise(c"ValueError", format_args!("{name}: {e}")),
    };
    match body(args) {
        Ok(value) => {
            // SAFETY: the convention's result slot (caller).
            unsafe { call::write_result(result, value) };
            0
        }
        Err(code) => code,
    }
}

/// Two integer arguments, or a raised `TypeError`.
fn two_ints(name: &str, args: &[AnyView<'_>]) -> Result<(i64, i64), c_int> {
    let [a, b] = args else {
        return Err(raise(
            c"TypeError",
            format_args!("{name} expects 2 arguments, got {}", args.len()),
        ));
    };
    match (a.get::<i64>(), b.get::<i64>()) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (Err(e), _) | (_, Err(e)) => Err(raise(c"TypeError", format_args!("{name}: {e}"))),
    }
}

/// `add(a: int, b: int) -> int`.
unsafe extern "C" fn add(
    _: *mut c_void,
    args: *const TVMFFIAny,
    num_args: i32,
    result: *mut TVMFFIAny,
) -> c_int {
    // SAFETY: forwarded from the packed call.
    unsafe {
        packed("add", args, num_args, result, |args| {
            let (a, b) = two_ints("add", args)?;
            Ok(Any::from(a.wrapping_add(b)))
        })
    }
}

/// `checked_div(a: int, b: int) -> int`, raising `ValueError` on division by zero.
unsafe extern "C" fn checked_div(
    _: *mut c_void,
    args: *const TVMFFIAny,
    num_args: i32,
    result: *mut TVMFFIAny,
) -> c_int {
    // SAFETY: forwarded from the packed call.
    unsafe {
        packed("checked_div", args, num_args, result, |args| {
            let (a, b) = two_ints("checked_div", args)?;
            match a.checked_div(b) {
                Some(q) => Ok(Any::from(q)),
                None => Err(raise(c"ValueError", format_args!("division by zero ({a} / {b})"))),
            }
        })
    }
}

/// `make_reading(celsius: float) -> firmware.Reading`: an object from the pool, returned
/// through the convention's result slot.
unsafe extern "C" fn make_reading(
    _: *mut c_void,
    args: *const TVMFFIAny,
    num_args: i32,
    result: *mut TVMFFIAny,
) -> c_int {
    // SAFETY: forwarded from the packed call.
    unsafe {
        packed("make_reading", args, num_args, result, |args| {
            let [celsius] = args else {
                return Err(raise(c"TypeError", format_args!("make_reading expects 1 argument")));
            };
            let celsius =
                celsius.get::<f32>().map_err(|e| raise(c"TypeError", format_args!("{e}")))?;
            match READINGS.alloc(READING, Reading { celsius }) {
                Ok(obj) => Ok(Any::from(obj)),
                Err(_) => Err(raise(c"RuntimeError", format_args!("no free reading object"))),
            }
        })
    }
}

/// `arg_count(...) -> int`.
unsafe extern "C" fn arg_count(
    _: *mut c_void,
    args: *const TVMFFIAny,
    num_args: i32,
    result: *mut TVMFFIAny,
) -> c_int {
    // SAFETY: forwarded from the packed call.
    unsafe { packed("arg_count", args, num_args, result, |args| Ok(Any::from(args.len() as i64))) }
}

/// Register the firmware's kernels, as a system library's static initialisers would.
pub fn register_kernels() -> Result<(), Failure> {
    let kernels = [
        ("add", add as TVMFFISafeCallType),
        ("checked_div", checked_div),
        ("make_reading", make_reading),
        ("arg_count", arg_count),
    ];
    for (name, entry) in kernels {
        // SAFETY: every kernel here follows the packed convention and ignores its handle.
        ok!(unsafe { SYSTEM_LIB.register(name, entry) });
    }
    // SAFETY: as above.
    ensure!(unsafe { SYSTEM_LIB.register("one_too_many", add) }.is_err());
    ensure!(SYSTEM_LIB.len() == 4 && SYSTEM_LIB.get("sub").is_none());
    Ok(())
}

/// Calls through the registry and through the raw C convention.
pub fn system_lib_calls() -> Result<(), Failure> {
    let add = ok!(SYSTEM_LIB.get("add"));
    let sum = ok!(add.call(&[AnyView::from(40i64), AnyView::from(2i32)]));
    ensure!(ok!(sum.get::<i64>()) == 42);

    // The convention by hand, as C code calls a `__tvm_ffi_add` symbol.
    let args = [AnyView::from(-5i64), AnyView::from(8u8)];
    let mut raw = TVMFFIAny::NONE;
    // SAFETY: two valid views, a `None` result slot, and the system library's null handle.
    let code = unsafe { (add.safe_call())(ptr::null_mut(), args.as_ptr().cast(), 2, &mut raw) };
    // SAFETY: on success the slot holds an owned value.
    let sum = unsafe { Any::from_raw(raw) };
    ensure!(code == 0 && ok!(sum.get::<i64>()) == 3);

    let count = ok!(SYSTEM_LIB.get("arg_count"));
    ensure!(ok!(ok!(count.call(&[])).get::<i64>()) == 0);
    let many = [AnyView::none(); 9];
    ensure!(ok!(ok!(count.call(&many)).get::<i64>()) == 9);

    // An object made by the callee comes back owned by the caller.
    let make = ok!(SYSTEM_LIB.get("make_reading"));
    let value = ok!(make.call(&[AnyView::from(36.6f32)]));
    ensure!(value.type_index() == READING && READINGS.available() == 1);
    let reading: ObjectRef<tvmffi_core::Object<Reading>> = ok!(value.into_object());
    ensure!(reading.celsius == 36.6 && reading.strong_count() == 1);
    drop(reading);
    ensure!(READINGS.available() == 2);
    Ok(())
}

/// `add` as a function object in static memory.
static ADD_FUNCTION: StaticObject<TVMFFIFunctionCell> = StaticObject::new(
    TypeIndex::FUNCTION,
    TVMFFIFunctionCell { safe_call: Some(add), cpp_call: ptr::null_mut() },
);

/// Room for one function object made at run time.
static FUNCTIONS: ObjectPool<TVMFFIFunctionCell, 1> = ObjectPool::new();

/// Function objects: static and pooled, called with the object as the handle.
pub fn function_objects() -> Result<(), Failure> {
    let add = ADD_FUNCTION.new_ref();
    ensure!(add.type_index() == TypeIndex::FUNCTION && add.strong_count() == 2);
    let sum = ok!(call::call(&add, &[AnyView::from(1i64), AnyView::from(2i64)]));
    ensure!(ok!(sum.get::<i64>()) == 3 && add.strong_count() == 2);

    let cell = TVMFFIFunctionCell { safe_call: Some(checked_div), cpp_call: ptr::null_mut() };
    let div: ObjectRef<FunctionObj> = ok!(FUNCTIONS.alloc(TypeIndex::FUNCTION, cell));
    // Passed around as a value, like any object.
    let as_value = Any::from(div.clone());
    ensure!(as_value.type_index() == TypeIndex::FUNCTION && div.strong_count() == 2);
    let f: ObjectRef<FunctionObj> = ok!(as_value.into_object());
    let q = ok!(call::call(&f, &[AnyView::from(17i64), AnyView::from(5i64)]));
    ensure!(ok!(q.get::<i64>()) == 3);
    drop((f, div, add));
    ensure!(FUNCTIONS.available() == 1 && ADD_FUNCTION.header().strong_count() == 1);
    let null = TVMFFIFunctionCell { safe_call: None, cpp_call: ptr::null_mut() };
    let empty: ObjectRef<FunctionObj> = ok!(FUNCTIONS.alloc(TypeIndex::FUNCTION, null));
    ensure!(call::call(&empty, &[]).err() == Some(CallError::NullFunction));
    Ok(())
}
