//! Library exports from the Rust side: what `call_export` does with well-formed and
//! malformed packed calls, and typed closures and views through packed calls. (Loading real
//! exports with the reference runtime is `tests/python/test_export_macro.py`.)
//!
//! The `runtime` feature keeps one global error slot, so these tests run one at a time.

use core::ptr;
use std::sync::{Mutex, MutexGuard};

use tvmffi_alloc::error::Error;
use tvmffi_alloc::function::export::{ExportArgs, call_export, export_result, export_signature};
use tvmffi_alloc::function::{AbortOnPanic, Function, TypeStr, TypedFunction};
use tvmffi_alloc::typed::{Array, List};
use tvmffi_core::sys::TVMFFIAny;
use tvmffi_core::{Any, AnyView};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    drop(Error::take_raised());
    guard
}

fn signature() -> String {
    export_signature(&[Array::<i64>::type_str(), i64::type_str()], &i64::return_type_str())
}

/// The body an export of `element(values: Array<int>, index: int) -> int` runs.
fn element(args: &[AnyView<'_>]) -> Result<Any, Error> {
    let mut args = ExportArgs::new("element", args, 2, signature)?;
    let values: Array<i64> = args.read()?;
    let index: i64 = args.read()?;
    let index = usize::try_from(index).map_err(|_| Error::index_error("negative index"))?;
    export_result(values.get(index).map_err(Error::from))
}

/// Call `element` as a loader would, returning the code and the result slot.
fn call(args: &[Any], result: *mut TVMFFIAny, num_args: i32) -> i32 {
    let raw = args.as_ptr().cast::<TVMFFIAny>();
    // SAFETY: `args` holds `num_args` values (or the test lies on purpose about a null
    // array); `result` is null or a writable slot.
    unsafe { call_export::<AbortOnPanic>(raw, num_args, result, &element) }
}

fn raised() -> (String, String) {
    let e = Error::take_raised().expect("an error was raised");
    (e.kind().into_owned(), e.message().into_owned())
}

#[test]
fn a_call_converts_runs_and_writes_its_result() {
    let _s = serial();
    let args = [Any::from(Array::<i64>::from_iter([10, 20, 30])), Any::from(2i64)];
    let mut result = TVMFFIAny::NONE;
    assert_eq!(call(&args, &mut result, 2), 0);
    // SAFETY: a successful call wrote an owned value.
    assert_eq!(unsafe { Any::from_raw(result) }.get::<i64>().unwrap(), 30);
    assert!(Error::take_raised().is_none());
}

#[test]
fn failures_are_raised_with_the_reference_messages() {
    let _s = serial();
    let array = Any::from(Array::<i64>::from_iter([10, 20, 30]));
    let mut result = TVMFFIAny::NONE;

    assert_eq!(call(core::slice::from_ref(&array), &mut result, 1), -1);
    assert_eq!(
        raised(),
        (
            "TypeError".into(),
            "Mismatched number of arguments when calling: `element(0: Array<int>, 1: int) -> int`. \
             Expected 2 but got 1 arguments"
                .into()
        )
    );

    assert_eq!(call(&[array.clone(), Any::from(0.5)], &mut result, 2), -1);
    assert_eq!(
        raised().1,
        "Mismatched type on argument #1 when calling: `element(0: Array<int>, 1: int) -> int`. \
         Expected `int` but got `float`"
    );

    let floats = Any::from(Array::<f64>::from_iter([1.5]));
    assert_eq!(call(&[floats, Any::from(0i64)], &mut result, 2), -1);
    assert!(raised().1.ends_with("Expected `Array<int>` but got `Array[index 0: float]`"));

    assert_eq!(call(&[array.clone(), Any::from(3i64)], &mut result, 2), -1);
    assert_eq!(raised(), ("IndexError".into(), "Index 3 out of bounds 3".into()));
    assert_eq!(call(&[array, Any::from(-1i64)], &mut result, 2), -1);
    assert_eq!(raised(), ("IndexError".into(), "negative index".into()));
    assert_eq!(result.type_index, TVMFFIAny::NONE.type_index, "no result on failure");
}

#[test]
fn malformed_calls_are_errors_not_crashes() {
    let _s = serial();
    let args = [Any::from(Array::<i64>::new()), Any::from(0i64)];
    let mut result = TVMFFIAny::NONE;

    assert_eq!(call(&args, ptr::null_mut(), 2), -1);
    assert_eq!(raised(), ("ValueError".into(), "packed call with a null result slot".into()));

    assert_eq!(call(&args, &mut result, -1), -1);
    assert_eq!(raised(), ("ValueError".into(), "negative argument count -1".into()));

    // SAFETY: a null array with a positive count, which `call_export` must refuse unread.
    let code = unsafe { call_export::<AbortOnPanic>(ptr::null(), 2, &mut result, &element) };
    assert_eq!(code, -1);
    assert_eq!(raised().1, "null argument array with 2 arguments");

    // An object already in the result slot would leak if overwritten.
    let held = Any::from(List::<i64>::new());
    let mut occupied = held.clone().into_raw();
    assert_eq!(call(&args, &mut occupied, 2), -1);
    assert_eq!(raised().0, "InternalError");
    // SAFETY: the slot still owns the reference it was given.
    drop(unsafe { Any::from_raw(occupied) });
}

#[test]
fn typed_closures_return_values_or_results() {
    let _s = serial();
    let add: TypedFunction<(i64, i64), i64> = TypedFunction::from_closure(|a: i64, b: i64| a + b);
    assert_eq!(add.call((2, 3)).unwrap(), 5);
    let first: TypedFunction<(List<i64>,), i64> =
        TypedFunction::from_closure(|l: List<i64>| -> Result<i64, Error> { Ok(l.get(0)?) });
    assert_eq!(first.call((List::from_iter([7]),)).unwrap(), 7);
    let err = first.call((List::new(),)).unwrap_err();
    assert_eq!((&*err.kind(), &*err.message()), ("IndexError", "Index 0 out of bounds 0"));

    // A typed function is an argument like any other: a function object, checked per call.
    let twice =
        Function::from_typed(|f: TypedFunction<(i64,), i64>, x: i64| -> Result<i64, Error> {
            f.call((f.call((x,))?,))
        });
    let inc = Function::from_typed(|x: i64| x + 1);
    let result = twice.call(&[AnyView::from(&inc), AnyView::from(5i64)]).unwrap();
    assert_eq!(result.get::<i64>().unwrap(), 7);
    let err = twice.call(&[AnyView::from(1i64), AnyView::from(5i64)]).unwrap_err();
    assert!(
        err.message().ends_with("Expected `(0: int) -> int` but got `int`"),
        "{}",
        err.message()
    );
}
