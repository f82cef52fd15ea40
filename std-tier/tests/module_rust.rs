//! Loading a kernel library written in Rust (`tests/fixtures/rust-kernel`) in kernel-library
//! mode: it defines no runtime of its own, so its errors land in this process's slot and it
//! finds this process's global functions; its exports run in the panic boundary, so errors
//! and panics come back as return codes, never as unwinds.
#![cfg(not(miri))] // Miri cannot load shared libraries

mod common;

use tvmffi_alloc::{Error, Function};
use tvmffi_core::call::{CallError, call};
use tvmffi_core::{Any, AnyView};
use tvmffi_std::module::Module;

fn kernel() -> Option<Module> {
    let path = common::fixture(common::rust_fixture())?;
    Some(Module::load_from_file(&path).expect("the Rust fixture loads"))
}

fn raised() -> Error {
    Error::take_raised().expect("the kernel raised into this process's slot")
}

#[test]
fn rust_kernels_return_values_errors_and_caught_panics() {
    let Some(m) = kernel() else { return };
    let add_one = m.function("add_one").unwrap();
    assert_eq!(call(&add_one, &[AnyView::from(41i64)]).unwrap().get::<i64>().unwrap(), 42);

    let fails = m.function("fails").unwrap();
    assert_eq!(call(&fails, &[AnyView::from(3i64)]).unwrap_err(), CallError::Raised { code: -1 });
    let e = raised();
    assert_eq!((&*e.kind(), &*e.message()), ("ValueError", "refusing 3"));
    assert!(e.backtrace().contains("__tvm_ffi_fails"), "{}", e.backtrace());

    let panics = m.function("panics").unwrap();
    assert_eq!(call(&panics, &[AnyView::from(5i64)]).unwrap_err(), CallError::Raised { code: -1 });
    let e = raised();
    assert_eq!(
        (&*e.kind(), &*e.message()),
        ("RuntimeError", "panic in Rust code: kernel panicked on 5")
    );

    // A conversion error inside the kernel.
    assert_eq!(
        call(&add_one, &[AnyView::from(0.5f64)]).unwrap_err(),
        CallError::Raised { code: -1 }
    );
    assert_eq!(raised().kind(), "TypeError");

    // Still usable after all that.
    assert_eq!(call(&add_one, &[AnyView::from(1i64)]).unwrap().get::<i64>().unwrap(), 2);
    #[cfg(feature = "symbol-list")]
    assert_eq!(m.function_names().unwrap(), ["add_one", "call_global", "fails", "panics"]);
}

#[test]
fn rust_kernels_see_the_hosts_global_functions() {
    let Some(m) = kernel() else { return };
    let triple = Function::from_packed(|args| Ok(Any::from(args[0].get::<i64>()? * 3)));
    Function::register_global("testing.module_rust.triple", &triple, true).unwrap();
    let call_global = m.function("call_global").unwrap();
    let name = tvmffi_alloc::String::try_new("testing.module_rust.triple").unwrap();
    let r = call(&call_global, &[name.view(), AnyView::from(14i64)]).unwrap();
    assert_eq!(r.get::<i64>().unwrap(), 42);

    let missing = tvmffi_alloc::String::try_new("testing.module_rust.absent").unwrap();
    assert!(call(&call_global, &[missing.view(), AnyView::from(1i64)]).is_err());
    assert_eq!(raised().kind(), "KeyError");
}
