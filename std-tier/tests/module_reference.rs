//! Our loader and runtime under a kernel library built with the reference's own C++ export
//! macros and linked with the reference `libtvm_ffi.so`
//! (`tests/fixtures/cpp/reference_macros.cc`). Before loading it, our loader puts the host's
//! stand-in `libtvm_ffi.so` in place, so the library's `DT_NEEDED` and its C API calls bind
//! to our runtime (the reference library is never loaded): the reference's inline C++ makes
//! strings and errors through our runtime, and its errors land in our slot. (`ci/std-abi.sh` compares
//! our backtrace format with the reference's, each in a process of its own.)
#![cfg(not(miri))] // Miri cannot load shared libraries

mod common;

use tvmffi_alloc::Error;
use tvmffi_core::AnyView;
use tvmffi_core::call::{CallError, call};
use tvmffi_std::module::Module;

fn fixture() -> Option<Module> {
    let path = common::fixture(common::cpp_reference_fixture())?;
    Some(Module::load_from_file(&path).expect("the C++ fixture loads"))
}

#[test]
fn reference_built_kernels_work_through_our_loader() {
    let Some(m) = fixture() else { return };
    let add_one = m.function("add_one").unwrap();
    assert_eq!(call(&add_one, &[AnyView::from(41i64)]).unwrap().get::<i64>().unwrap(), 42);

    // A long string made (and later freed) by the reference runtime.
    let greet = m.function("greet").unwrap();
    let name = c"a name long enough to need a string object";
    let out = call(&greet, &[AnyView::from(name)]).unwrap();
    assert_eq!(out.type_index(), tvmffi_core::TypeIndex::STR);
    assert_eq!(out.as_str().unwrap(), "hello, a name long enough to need a string object!");

    let meta = m.function_metadata("add_one", false).unwrap().expect("metadata");
    assert!(meta.starts_with(r#"{"type_schema":"#), "{meta}");
    assert!(meta.contains("int"), "{meta}");
    assert_eq!(
        m.function_doc("add_one", false).unwrap().as_deref(),
        Some("Add one to an integer.")
    );
    assert_eq!(m.function_doc("greet", false).unwrap(), None);
    #[cfg(feature = "symbol-list")]
    assert_eq!(m.function_names().unwrap(), ["add_one", "greet", "throws"]);
}

/// Whether the reference's own `libtvm_ffi.so` got loaded (it must not be: the stand-in
/// satisfies the fixture's dependency).
fn reference_library_loaded() -> bool {
    std::fs::read_to_string("/proc/self/maps").is_ok_and(|maps| {
        maps.lines().any(|l| l.ends_with("/libtvm_ffi.so") && l.contains("site-packages"))
    })
}

#[test]
fn errors_raised_by_reference_kernels_reach_our_slot() {
    let Some(m) = fixture() else { return };
    assert!(!reference_library_loaded(), "the reference runtime was loaded beside ours");
    let throws = m.function("throws").unwrap();
    let err = call(&throws, &[AnyView::from(c"out of range")]).unwrap_err();
    assert_eq!(err, CallError::Raised { code: -1 });
    let e = Error::take_raised().expect("the C++ kernel raised into our slot");
    assert_eq!((&*e.kind(), &*e.message()), ("ValueError", "out of range"));
    // The C++ `Error` captured its backtrace through our `TVMFFIBacktrace`.
    let backtrace = e.backtrace();
    assert!(backtrace.contains("throws"), "{backtrace}");
    for line in backtrace.lines() {
        assert!(
            line.starts_with("  File \"") && line.contains("\", line ") && line.contains(", in "),
            "{line}"
        );
    }

    // A type mismatch caught by the reference's argument unpacking.
    let add_one = m.function("add_one").unwrap();
    assert_eq!(call(&add_one, &[AnyView::from(c"x")]).unwrap_err(), CallError::Raised { code: -1 });
    let e = Error::take_raised().unwrap();
    assert_eq!(e.kind(), "TypeError");
    assert!(e.message().contains("add_one"), "{}", e.message());
}
