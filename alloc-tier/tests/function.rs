//! Function objects: packed and typed closures, raw C entry points, calls, errors, globals.
//!
//! The `runtime` feature keeps one global error slot and registry, so these tests run one
//! at a time.

extern crate alloc;

use core::ffi::{c_int, c_void};
use core::ptr;
use core::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use alloc::sync::Arc;

use tvmffi_alloc::error::Error;
use tvmffi_alloc::function::Function;
use tvmffi_core::sys::{TVMFFIAny, TVMFFIByteArray, TVMFFIMethodInfo, api};
use tvmffi_core::{Any, AnyView, TypeIndex};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    drop(Error::take_raised());
    guard
}

fn ints(values: &[i64]) -> Vec<Any> {
    values.iter().map(|&v| Any::from(v)).collect()
}

fn views(values: &[Any]) -> Vec<AnyView<'_>> {
    values.iter().map(Any::view).collect()
}

fn adder() -> Function {
    Function::from_packed(|args: &[AnyView<'_>]| {
        let mut sum = 0i64;
        for a in args {
            sum += a.get::<i64>()?;
        }
        Ok(Any::from(sum))
    })
}

#[test]
fn packed_closure_is_a_function_object_that_computes() {
    let _s = serial();
    let f = adder();
    assert_eq!(f.as_object().type_index(), TypeIndex::FUNCTION);
    let args = ints(&[1, 2, 39]);
    assert_eq!(f.call(&views(&args)).unwrap().get::<i64>().unwrap(), 42);
    assert_eq!(f.call(&[]).unwrap().get::<i64>().unwrap(), 0);
}

#[test]
fn closure_errors_reach_the_caller_with_kind_and_message() {
    let _s = serial();
    let f = Function::from_packed(|_| Err(Error::key_error("no entry 'x'")));
    let e = f.call(&[]).unwrap_err();
    assert_eq!((e.kind().as_ref(), e.message().as_ref()), ("KeyError", "no entry 'x'"));
    assert!(Error::take_raised().is_none(), "the caller took the raised error");

    // A failed conversion inside the closure becomes the reference's TypeError.
    let args = [Any::from(1.5f64)];
    let e = adder().call(&views(&args)).unwrap_err();
    assert_eq!(e.to_string(), "TypeError: Cannot convert from type `float` to `int`");
}

struct DropCounter(Arc<AtomicUsize>);
impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn captured_state_lives_with_the_object_and_drops_once() {
    let _s = serial();
    let drops = Arc::new(AtomicUsize::new(0));
    let counter = DropCounter(drops.clone());
    let f = Function::from_packed(move |_| Ok(Any::from(counter.0.load(Ordering::SeqCst) as i64)));
    let g = f.clone();
    drop(f);
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    assert_eq!(g.call(&[]).unwrap().get::<i64>().unwrap(), 0);
    drop(g);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn the_trampoline_checks_its_raw_arguments() {
    let _s = serial();
    let f = adder();
    let obj = f.as_object();
    let safe_call = obj.payload().safe_call.unwrap();
    let handle = obj.as_raw().cast::<c_void>();
    let mut result = TVMFFIAny::NONE;
    // SAFETY: each call breaks one rule of the convention that the trampoline checks.
    unsafe {
        assert_eq!(safe_call(handle, ptr::null(), -1, &mut result), -1);
        assert!(Error::take_raised().unwrap().message().contains("negative argument count -1"));
        assert_eq!(safe_call(handle, ptr::null(), 2, &mut result), -1);
        assert!(Error::take_raised().unwrap().message().contains("null argument array"));
        assert_eq!(safe_call(handle, ptr::null(), 0, ptr::null_mut()), -1);
        assert!(Error::take_raised().unwrap().message().contains("null handle or result"));
        assert_eq!(safe_call(ptr::null_mut(), ptr::null(), 0, &mut result), -1);
        assert!(Error::take_raised().is_some());
        // An object in the result slot on entry would leak: refused as the reference does.
        let mut holding = Any::from(f.clone()).into_raw();
        assert_eq!(safe_call(handle, ptr::null(), 0, &mut holding), -1);
        assert_eq!(Error::take_raised().unwrap().kind(), "InternalError");
        drop(Any::from_raw(holding));
        // And a null array with no arguments is fine.
        assert_eq!(safe_call(handle, ptr::null(), 0, &mut result), 0);
        assert_eq!(Any::from_raw(result).get::<i64>().unwrap(), 0);
    }
}

#[test]
fn typed_closures_check_count_and_types_with_the_reference_messages() {
    let _s = serial();
    let f = Function::from_typed(|a: i64, b: f64| -> Result<f64, Error> { Ok(a as f64 * b) });
    let t = f.typed::<(i64, f64), f64>();
    assert_eq!(t.call((3, 0.5)).unwrap(), 1.5);
    // An int converts to float, as in the reference.
    assert_eq!(f.typed::<(i64, i64), f64>().call((3, 2)).unwrap(), 6.0);

    let e = f.typed::<(i64,), f64>().call((3,)).unwrap_err();
    assert_eq!(e.kind(), "TypeError");
    assert_eq!(
        e.message(),
        "Mismatched number of arguments when calling: `(0: int, 1: float) -> float`. \
         Expected 2 but got 1 arguments"
    );
    let e = f.typed::<(f64, f64), f64>().call((1.5, 2.0)).unwrap_err();
    assert_eq!(
        e.message(),
        "Mismatched type on argument #0 when calling: `(0: int, 1: float) -> float`. \
         Expected `int` but got `float`"
    );
    let e = f.typed::<(i64, Function), f64>().call((1, adder())).unwrap_err();
    assert!(e.message().ends_with("Expected `float` but got `ffi.Function`"), "{e}");

    let named = Function::from_typed_named("demo.scale", |x: i8| -> Result<(), Error> {
        let _ = x;
        Ok(())
    });
    let e = named.typed::<(i64, i64), ()>().call((1, 2)).unwrap_err();
    assert_eq!(
        e.message(),
        "Mismatched number of arguments when calling: `demo.scale(0: int) -> void`. \
         Expected 1 but got 2 arguments"
    );
    let e = named.typed::<(i64,), ()>().call((300,)).unwrap_err();
    assert_eq!(e.kind(), "OverflowError");
    assert!(
        e.message().starts_with("Invalid value on argument #0 when calling: `demo.scale"),
        "{e}"
    );
    named.typed::<(i64,), ()>().call((-5,)).unwrap();
}

#[test]
fn typed_closures_of_every_arity() {
    let _s = serial();
    let f0 = Function::from_typed(|| -> Result<i64, Error> { Ok(7) });
    assert_eq!(f0.typed::<(), i64>().call(()).unwrap(), 7);
    let f8 = Function::from_typed(
        |a: i64, b: i64, c: i64, d: i64, e: i64, f: i64, g: i64, h: bool| -> Result<i64, Error> {
            Ok(a + b + c + d + e + f + g + i64::from(h))
        },
    );
    let t = f8.typed::<(i64, i64, i64, i64, i64, i64, i64, bool), i64>();
    assert_eq!(t.call((1, 2, 3, 4, 5, 6, 7, true)).unwrap(), 29);
    // Optional arguments and object arguments.
    let opt = Function::from_typed(|x: Option<i64>, g: Function| -> Result<i64, Error> {
        let base = g.typed::<(i64,), i64>().call((1,))?;
        Ok(base + x.unwrap_or(100))
    });
    let t = opt.typed::<(Option<i64>, Function), i64>();
    assert_eq!(t.call((None, adder())).unwrap(), 101);
    assert_eq!(t.call((Some(1), adder())).unwrap(), 2);
    let e = opt.typed::<(bool, i64), i64>().call((true, 1)).unwrap_err();
    assert!(e.message().contains("`(0: Optional<int>, 1: ffi.Function) -> int`"), "{e}");
    // An error from inside propagates unchanged.
    let failing = Function::from_typed(|x: i64| -> Result<i64, Error> {
        Err(Error::value_error(format!("bad {x}")))
    });
    let e = failing.typed::<(i64,), i64>().call((4,)).unwrap_err();
    assert_eq!(e.to_string(), "ValueError: bad 4");
}

#[test]
fn typed_calls_check_the_result_type() {
    let _s = serial();
    let e = adder().typed::<(i64, i64), Function>().call((1, 2)).unwrap_err();
    assert_eq!(e.to_string(), "TypeError: Cannot convert from type `int` to `ffi.Function`");
}

#[test]
fn typed_calls_release_object_arguments_once() {
    let _s = serial();
    let inner = adder();
    let count = |f: &Function| f.as_object().strong_count();
    // The callee takes the function it is given and calls it.
    let apply = Function::from_typed(|f: Function, x: i64| f.call(&[x.into(), 1i64.into()]));
    let typed = apply.typed::<(Function, i64), i64>();
    assert_eq!(typed.call((inner.clone(), 41)).unwrap(), 42);
    assert_eq!(count(&inner), 1, "the argument's reference is released after the call");
    // Also when the call fails (the arguments do not convert).
    let wrong = apply.typed::<(i64, Function), i64>();
    assert!(wrong.call((1, inner.clone())).is_err());
    assert_eq!(count(&inner), 1);
}

static EXTERN_DROPS: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn extern_call(
    self_: *mut c_void,
    args: *const TVMFFIAny,
    n: i32,
    result: *mut TVMFFIAny,
) -> c_int {
    // SAFETY: `self_` is the boxed i64 handed over below; args are `n` valid values.
    unsafe {
        let base = *self_.cast::<i64>();
        let args = tvmffi_core::call::args_from_raw(args, n).unwrap();
        tvmffi_core::call::write_result(result, Any::from(base + args.len() as i64));
    }
    0
}

unsafe extern "C" fn extern_delete(self_: *mut c_void) {
    // SAFETY: the box handed over below, released once.
    drop(unsafe { Box::from_raw(self_.cast::<i64>()) });
    EXTERN_DROPS.fetch_add(1, Ordering::SeqCst);
}

unsafe extern "C" fn fails_silently(
    _: *mut c_void,
    _: *const TVMFFIAny,
    _: i32,
    _: *mut TVMFFIAny,
) -> c_int {
    -7
}

#[test]
fn extern_c_functions_forward_self_and_run_the_deleter_once() {
    let _s = serial();
    let state = Box::into_raw(Box::new(40i64)).cast::<c_void>();
    // SAFETY: `extern_call` reads the i64; `extern_delete` frees it.
    let f = unsafe { Function::from_extern_c(state, extern_call, Some(extern_delete)) };
    let args = ints(&[0, 0]);
    assert_eq!(f.call(&views(&args)).unwrap().get::<i64>().unwrap(), 42);
    let before = EXTERN_DROPS.load(Ordering::SeqCst);
    drop(f);
    assert_eq!(EXTERN_DROPS.load(Ordering::SeqCst), before + 1);

    // A callee that fails without raising gets a clear error.
    // SAFETY: no state; the entry point ignores its arguments.
    let f = unsafe { Function::from_extern_c(ptr::null_mut(), fails_silently, None) };
    assert!(f.as_object().payload().safe_call.is_some());
    let e = f.call(&[]).unwrap_err();
    assert_eq!(e.kind(), "RuntimeError");
    assert!(e.message().contains("error code -7 but raised no error"), "{e}");
}

#[test]
fn c_api_create_and_call() {
    let _s = serial();
    let state = Box::into_raw(Box::new(1i64)).cast::<c_void>();
    let mut h = ptr::null_mut();
    // SAFETY: as in the test above.
    let code =
        unsafe { api::TVMFFIFunctionCreate(state, extern_call, Some(extern_delete), &mut h) };
    assert_eq!(code, 0);
    let mut args = [TVMFFIAny::NONE; 3];
    let mut result = TVMFFIAny::NONE;
    // SAFETY: a live function object with three valid arguments.
    assert_eq!(unsafe { api::TVMFFIFunctionCall(h, args.as_mut_ptr(), 3, &mut result) }, 0);
    // SAFETY: the call's owned result.
    assert_eq!(unsafe { Any::from_raw(result) }.get::<i64>().unwrap(), 4);
    // SAFETY: release the reference the API handed out.
    assert_eq!(unsafe { api::TVMFFIObjectDecRef(h) }, 0);

    // Calling something that is not a function is refused.
    let e = Error::value_error("not callable");
    // SAFETY: a live object of the wrong type.
    let code = unsafe {
        api::TVMFFIFunctionCall(e.as_object().as_raw().cast(), args.as_mut_ptr(), 0, &mut result)
    };
    assert_eq!(code, -1);
    assert_eq!(Error::take_raised().unwrap().kind(), "TypeError");
    // SAFETY: null is refused.
    let code = unsafe { api::TVMFFIFunctionCall(ptr::null_mut(), ptr::null_mut(), 0, &mut result) };
    assert_eq!(code, -1);
    assert!(Error::take_raised().unwrap().message().contains("`func` is null"));
    // SAFETY: a null out slot is refused, and nothing is created.
    let code =
        unsafe { api::TVMFFIFunctionCreate(ptr::null_mut(), extern_call, None, ptr::null_mut()) };
    assert_eq!(code, -1);
    assert!(Error::take_raised().is_some());
}

#[test]
fn global_functions_register_look_up_and_override() {
    let _s = serial();
    assert!(Function::get_global("test.fn.missing").is_none());
    let f = adder();
    Function::register_global("test.fn.add", &f, false).unwrap();
    let got = Function::get_global("test.fn.add").unwrap();
    assert!(got.as_object().ptr_eq(f.as_object()));
    let e = Function::register_global("test.fn.add", &adder(), false).unwrap_err();
    assert_eq!(e.to_string(), "RuntimeError: Global Function `test.fn.add` is already registered");
    let g = Function::from_typed(|| -> Result<i64, Error> { Ok(5) });
    Function::register_global("test.fn.add", &g, true).unwrap();
    assert!(Function::get_global("test.fn.add").unwrap().as_object().ptr_eq(g.as_object()));
    drop(got);
    assert_eq!(f.as_object().strong_count(), 1, "the overridden function was released");
}

#[test]
fn global_functions_from_method_info_and_bad_input() {
    let _s = serial();
    let f = adder();
    let name = b"test.fn.method";
    let info = TVMFFIMethodInfo {
        name: TVMFFIByteArray { data: name.as_ptr().cast(), size: name.len() },
        doc: TVMFFIByteArray { data: b"adds".as_ptr().cast(), size: 4 },
        metadata: TVMFFIByteArray { data: ptr::null(), size: 0 },
        flags: 0,
        method: *AnyView::from(&f).as_raw(),
    };
    // SAFETY: a valid method info.
    assert_eq!(unsafe { api::TVMFFIFunctionSetGlobalFromMethodInfo(&info, 0) }, 0);
    assert!(Function::get_global("test.fn.method").unwrap().as_object().ptr_eq(f.as_object()));
    // SAFETY: as above; a second registration without override fails.
    assert_eq!(unsafe { api::TVMFFIFunctionSetGlobalFromMethodInfo(&info, 0) }, -1);
    assert!(
        Error::take_raised()
            .unwrap()
            .message()
            .starts_with("Global Function `test.fn.method` is already registered")
    );

    // A non-function object as the method is refused.
    let not_fn = Error::value_error("x");
    let info = TVMFFIMethodInfo { method: *AnyView::from(&not_fn).as_raw(), ..info };
    // SAFETY: a valid method info with the wrong kind of object.
    assert_eq!(unsafe { api::TVMFFIFunctionSetGlobalFromMethodInfo(&info, 1) }, -1);
    assert_eq!(Error::take_raised().unwrap().kind(), "TypeError");
    let n = TVMFFIByteArray { data: name.as_ptr().cast(), size: name.len() };
    // SAFETY: a non-function handle is refused.
    let code = unsafe { api::TVMFFIFunctionSetGlobal(&n, not_fn.as_object().as_raw().cast(), 1) };
    assert_eq!(code, -1);
    assert!(Error::take_raised().unwrap().message().contains("is not a function"));
    // SAFETY: null name and null out slots are refused.
    unsafe {
        assert_eq!(api::TVMFFIFunctionSetGlobal(ptr::null(), f.as_object().as_raw().cast(), 1), -1);
        assert!(Error::take_raised().is_some());
        let mut out = ptr::null_mut();
        assert_eq!(api::TVMFFIFunctionGetGlobal(ptr::null(), &mut out), -1);
        assert!(Error::take_raised().is_some());
        assert_eq!(api::TVMFFIFunctionGetGlobal(&n, ptr::null_mut()), -1);
        assert!(Error::take_raised().is_some());
    }
    assert!(Function::try_get_global("test.fn.none").unwrap().is_none());
}

#[test]
fn functions_in_values() {
    let _s = serial();
    let f = adder();
    let any = Any::from(f.clone());
    assert_eq!(any.type_index(), TypeIndex::FUNCTION);
    let g: Function = any.get().unwrap();
    assert!(g.as_object().ptr_eq(f.as_object()));
    assert!(Function::try_from(Any::from(1i64)).is_err());
    assert!(AnyView::from(2i64).get::<Function>().is_err());
    let h = Function::try_from(any).unwrap();
    let args = ints(&[2, 2]);
    assert_eq!(h.call(&views(&args)).unwrap().get::<i64>().unwrap(), 4);
}
