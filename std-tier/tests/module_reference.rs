//! Our loader and runtime under a kernel library built with the reference's own C++ export
//! macros and linked with the reference `libtvm_ffi.so`
//! (`tests/fixtures/cpp/reference_macros.cc`). This test binary exports the C API, so the
//! library's calls bind to our runtime (the executable comes first in the global symbol
//! scope), as they would to our `libtvm_ffi.so`: the reference's inline C++ makes strings and
//! errors through our runtime, and its errors land in our slot. Also compares our backtrace
//! format with the reference's `TVMFFIBacktrace`.
#![cfg(not(miri))] // Miri cannot load shared libraries

mod common;

use core::ffi::c_int;

use libloading::Library;
use tvmffi_alloc::Error;
use tvmffi_core::AnyView;
use tvmffi_core::call::{CallError, call};
use tvmffi_core::sys::TVMFFIByteArray;
use tvmffi_std::module::Module;

fn fixture() -> Option<Module> {
    let path = common::fixture(common::cpp_reference_fixture())?;
    Some(Module::load_from_file(&path).expect("the C++ fixture loads"))
}

/// The reference runtime the fixture linked (already loaded with it; this adds a reference).
fn reference_runtime() -> Library {
    let dir = common::reference_lib_dir().expect("the fixture built, so the venv exists");
    // SAFETY: the reference runtime, already initialised in this process by the fixture.
    unsafe { Library::new(dir.join("libtvm_ffi.so")) }.expect("load the reference runtime")
}

fn text(array: &TVMFFIByteArray) -> String {
    // SAFETY: a byte array of a live object or of the runtime's thread-local storage.
    String::from_utf8_lossy(unsafe {
        core::slice::from_raw_parts(array.data.cast::<u8>(), array.size)
    })
    .into_owned()
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

#[test]
fn errors_raised_by_reference_kernels_reach_our_slot() {
    let Some(m) = fixture() else { return };
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

#[test]
#[cfg(feature = "backtrace")]
fn our_backtrace_format_matches_the_reference() {
    use core::ffi::c_char;
    let Some(_m) = fixture() else { return };
    let runtime = reference_runtime();
    type Backtrace =
        unsafe extern "C" fn(*const c_char, c_int, *const c_char, c_int) -> *const TVMFFIByteArray;
    // SAFETY: the signature of c_api.h.
    let theirs: libloading::Symbol<Backtrace> =
        unsafe { runtime.get(b"TVMFFIBacktrace\0") }.unwrap();
    let (file, func) = (c"kernel.cc", c"my_kernel");
    // SAFETY: valid C strings; the result is read before the next call on this thread.
    let reference = text(unsafe { &*theirs(file.as_ptr(), 42, func.as_ptr(), 1) });
    // SAFETY: as above, for our export.
    let ours = text(unsafe {
        &*tvmffi_core::sys::api::TVMFFIBacktrace(file.as_ptr(), 42, func.as_ptr(), 1)
    });
    let first = "  File \"kernel.cc\", line 42, in my_kernel\n";
    assert!(reference.starts_with(first), "{reference}");
    assert!(ours.starts_with(first), "{ours}");
    // Both walk on from the caller's caller: this test function (found by both, as both
    // read the test binary's debug info).
    let caller = "our_backtrace_format_matches_the_reference";
    let second = |bt: &str| bt.lines().nth(1).map(str::to_owned).unwrap_or_default();
    assert!(second(&reference).contains(caller), "{reference}");
    assert!(second(&ours).contains(caller), "{ours}");
    // The same file and line; the reference may print the file relative to the
    // compilation directory where we print it absolute.
    let file_line = |line: String| {
        let (file, rest) = line.trim_start_matches("  File \"").split_once("\", line ").unwrap();
        (file.rsplit('/').next().unwrap().to_owned(), rest.split(',').next().unwrap().to_owned())
    };
    assert_eq!(file_line(second(&reference)), file_line(second(&ours)));
}
