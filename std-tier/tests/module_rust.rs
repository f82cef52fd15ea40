//! Loading a kernel library written in Rust (`tests/fixtures/rust-kernel`): its exports run
//! in the panic boundary, so errors and panics come back as return codes, never as unwinds.
#![cfg(not(miri))] // Miri cannot load shared libraries

mod common;

use tvmffi_core::AnyView;
use tvmffi_core::call::{CallError, call};
use tvmffi_std::module::Module;

fn kernel() -> Option<Module> {
    let path = common::fixture(common::rust_fixture())?;
    Some(Module::load_from_file(&path).expect("the Rust fixture loads"))
}

/// Ask the library whether its own error slot holds an error of `kind` mentioning `needle`
/// (it links its own copy of the runtime for now, so the error stays on its side).
fn library_raised(m: &Module, kind: &std::ffi::CStr, needle: &std::ffi::CStr) -> bool {
    let f = m.function("last_error_contains").unwrap();
    call(&f, &[AnyView::from(kind), AnyView::from(needle)]).unwrap().get::<bool>().unwrap()
}

#[test]
fn rust_kernels_return_values_errors_and_caught_panics() {
    let Some(m) = kernel() else { return };
    let add_one = m.function("add_one").unwrap();
    assert_eq!(call(&add_one, &[AnyView::from(41i64)]).unwrap().get::<i64>().unwrap(), 42);

    let fails = m.function("fails").unwrap();
    assert_eq!(call(&fails, &[AnyView::from(3i64)]).unwrap_err(), CallError::Raised { code: -1 });
    assert!(library_raised(&m, c"ValueError", c"refusing 3"));

    let panics = m.function("panics").unwrap();
    assert_eq!(call(&panics, &[AnyView::from(5i64)]).unwrap_err(), CallError::Raised { code: -1 });
    assert!(library_raised(&m, c"RuntimeError", c"kernel panicked on 5"));

    // A conversion error inside the kernel.
    assert_eq!(
        call(&add_one, &[AnyView::from(0.5f64)]).unwrap_err(),
        CallError::Raised { code: -1 }
    );
    assert!(library_raised(&m, c"TypeError", c""));

    // Still usable after all that.
    assert_eq!(call(&add_one, &[AnyView::from(1i64)]).unwrap().get::<i64>().unwrap(), 2);
    #[cfg(feature = "symbol-list")]
    assert_eq!(m.function_names().unwrap(), ["add_one", "fails", "last_error_contains", "panics"]);
}
