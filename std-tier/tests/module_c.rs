//! Loading C kernel libraries (`tests/fixtures/c/`) through `Module` and calling them.
#![cfg(not(miri))] // Miri cannot load shared libraries

mod common;

use core::ffi::c_void;

use tvmffi_alloc::Error;
use tvmffi_core::call::{CallError, call};
use tvmffi_core::sys::{DLDataType, DLDevice, DLTensor};
use tvmffi_core::{Any, AnyView, DeviceType};
use tvmffi_std::LoadErrorKind;
use tvmffi_std::module::{LoadOptions, Module, register_context_symbol};

/// The kernels fixture, under its own file name (parallel tests that count calls or
/// unloading must not share a library).
fn kernels(name: &str) -> Option<Module> {
    let path = common::fixture(common::c_fixture("kernels", name, &[]))?;
    Some(Module::load_from_file(&path).expect("the kernels fixture loads"))
}

fn int(module: &Module, name: &str, args: &[AnyView<'_>]) -> i64 {
    let f = module.function(name).expect("function exists");
    call(&f, args).expect("call succeeds").get::<i64>().expect("an int")
}

#[test]
fn add_one_is_called_through_a_function_object() {
    let Some(m) = kernels("kernels_add_one") else { return };
    assert_eq!(m.kind(), "library");
    assert!(m.path().is_some_and(|p| p.ends_with("libkernels_add_one.so")));
    assert_eq!(int(&m, "add_one", &[AnyView::from(41i64)]), 42);
    assert_eq!(int(&m, "add_one", &[AnyView::from(-1i64)]), 0);
    assert_eq!(int(&m, "calls", &[]), 2);
    // The function object carries the C ABI's function type index.
    let f = m.function("add_one").unwrap();
    assert_eq!(f.type_index(), tvmffi_core::TypeIndex::FUNCTION);
}

#[test]
fn error_codes_pass_through_unchanged() {
    let Some(m) = kernels("kernels_errors") else { return };
    let f = m.function("fails").unwrap();
    assert_eq!(call(&f, &[]).unwrap_err(), CallError::Raised { code: -2 });
    let add_one = m.function("add_one").unwrap();
    assert_eq!(
        call(&add_one, &[AnyView::from(1.5f64)]).unwrap_err(),
        CallError::Raised { code: -1 }
    );
}

#[test]
fn missing_and_hidden_functions() {
    let Some(m) = kernels("kernels_missing") else { return };
    assert!(m.get_function("no_such_function").unwrap().is_none());
    assert!(m.get_function("hidden").unwrap().is_none(), "hidden visibility is not exported");
    let err = m.function("no_such_function").unwrap_err();
    assert_eq!(err.kind(), LoadErrorKind::MissingSymbol);
    assert!(err.message().contains("__tvm_ffi_no_such_function"), "{err}");
    assert!(err.message().contains("libkernels_missing.so"), "{err}");
    assert!(!m.implements_function("no_such_function", true));
    assert!(m.implements_function("add_one", false));
}

#[test]
fn reserved_symbols_are_not_functions() {
    let Some(m) = kernels("kernels_reserved") else { return };
    for name in [
        "_library_ctx",
        "_library_bin",
        "_abi_version",
        "_metadata_add_one",
        "_doc_add_one",
        "a\0b",
    ] {
        let err = m.get_function(name).unwrap_err();
        assert_eq!(err.kind(), LoadErrorKind::InvalidName, "{name:?}");
    }
    // One underscore is an ordinary function name.
    assert!(m.get_function("library_ctx").unwrap().is_some());
}

#[test]
fn metadata_and_doc_getters() {
    let Some(m) = kernels("kernels_metadata") else { return };
    let meta = m.function_metadata("add_one", false).unwrap().expect("metadata");
    assert_eq!(meta, r#"{"type_schema":"{\"type\":\"ffi.Function\"}"}"#);
    assert_eq!(
        m.function_doc("add_one", false).unwrap().as_deref(),
        Some("Add one to an integer.")
    );
    assert_eq!(m.function_metadata("calls", false).unwrap(), None);
    assert_eq!(m.function_doc("calls", false).unwrap(), None);
    let err = m.function_metadata("fails", false).unwrap_err();
    assert_eq!(err.kind(), LoadErrorKind::Getter);
    assert!(err.message().contains("__tvm_ffi__metadata_fails failed"), "{err}");
    let err = m.function_doc("fails", false).unwrap_err();
    assert!(err.message().contains("did not return a string"), "{err}");
}

#[test]
fn library_ctx_holds_the_module() {
    let Some(m) = kernels("kernels_ctx") else { return };
    let f = m.function("library_ctx").unwrap();
    let ctx = call(&f, &[]).unwrap().get::<*mut c_void>().unwrap();
    assert_eq!(ctx, m.as_raw().cast());
}

#[test]
fn tensor_kernel_writes_its_output() {
    let Some(m) = kernels("kernels_tensor") else { return };
    let mut x = [1.0f32, 2.5, -3.0];
    let mut y = [0.0f32; 3];
    let mut shape = [3i64];
    let tensor = |data: *mut f32, shape: *mut i64| DLTensor {
        data: data.cast(),
        device: DLDevice { device_type: DeviceType::CPU, device_id: 0 },
        ndim: 1,
        dtype: DLDataType { code: 2, bits: 32, lanes: 1 },
        shape,
        strides: core::ptr::null_mut(),
        byte_offset: 0,
    };
    let shape_ptr = shape.as_mut_ptr();
    let mut tx = tensor(x.as_mut_ptr(), shape_ptr);
    let mut ty = tensor(y.as_mut_ptr(), shape_ptr);
    let f = m.function("add_one_f32").unwrap();
    let out = call(&f, &[AnyView::from(&raw mut tx), AnyView::from(&raw mut ty)]).unwrap();
    assert!(out.is_none());
    assert_eq!(y, [2.0, 3.5, -2.0]);
}

#[test]
fn functions_keep_the_library_loaded_and_the_last_release_unloads_it() {
    let Some(path) = common::fixture(common::c_fixture("kernels", "kernels_unload", &[])) else {
        return;
    };
    let is_loaded = || {
        use libc::{RTLD_LAZY, RTLD_NOLOAD};
        use libloading::os::unix::Library;
        // SAFETY: RTLD_NOLOAD only looks the library up; it runs no initialiser.
        unsafe { Library::open(Some(&path), RTLD_LAZY | RTLD_NOLOAD) }.is_ok()
    };
    assert!(!is_loaded());
    let m = Module::load_from_file(&path).unwrap();
    let f = m.function("add_one").unwrap();
    drop(m);
    assert!(is_loaded(), "the function keeps its library");
    assert_eq!(call(&f, &[AnyView::from(1i64)]).unwrap().get::<i64>().unwrap(), 2);
    drop(f);
    assert!(!is_loaded(), "the last reference closes the library");
}

#[test]
fn load_errors() {
    let err = Module::load_from_file("/nonexistent/dir/libnothing.so").unwrap_err();
    assert_eq!(err.kind(), LoadErrorKind::Open);
    assert!(err.message().contains("/nonexistent/dir/libnothing.so"));
    assert!(err.message().contains("No such file or directory"), "{err}");

    let err = Module::load_from_file("/tmp/model.params").unwrap_err();
    assert_eq!(err.kind(), LoadErrorKind::UnknownFormat);
    assert!(err.message().contains("ffi.Module.load_from_file.params"), "{err}");
    let err = Module::load_from_file("no_extension").unwrap_err();
    assert!(err.message().starts_with("Failed to get file format"), "{err}");

    // A file that exists but is no library.
    let not_a_lib =
        std::env::temp_dir().join(format!("tvmffi-not-a-lib-{}.so", std::process::id()));
    std::fs::write(&not_a_lib, b"plain text").unwrap();
    let err = Module::load_from_file(&not_a_lib).unwrap_err();
    std::fs::remove_file(&not_a_lib).unwrap();
    assert_eq!(err.kind(), LoadErrorKind::Open);
    assert_eq!(err.ffi_kind(), "RuntimeError");
}

#[test]
fn a_library_for_another_abi_version_is_refused() {
    let Some(path) = common::fixture(common::c_fixture("abi_mismatch", "abi_mismatch", &[])) else {
        return;
    };
    let err = Module::load_from_file(&path).unwrap_err();
    assert_eq!(err.kind(), LoadErrorKind::IncompatibleAbi);
    let theirs = format!("C ABI {}.0.0", tvmffi_core::sys::TVM_FFI_VERSION_MAJOR + 1);
    assert!(err.message().contains(&theirs), "{err}");
}

#[test]
fn an_undefined_dependency_fails_only_with_bind_now() {
    let built = common::c_fixture("missing_dependency", "missing_dependency", &[]);
    let Some(path) = common::fixture(built) else { return };
    // Lazy binding, as the reference: loads; the function must not be called.
    let m = Module::load_dynamic_library(&path, LoadOptions::new()).unwrap();
    assert!(m.get_function("needs_dependency").unwrap().is_some());
    drop(m);
    let err = Module::load_dynamic_library(&path, LoadOptions::new().bind_now(true)).unwrap_err();
    assert_eq!(err.kind(), LoadErrorKind::Open);
    assert!(err.message().contains("tvmffi_fixture_undefined_dependency"), "{err}");
}

#[test]
#[cfg(feature = "symbol-list")]
fn function_names_list_the_exports() {
    let Some(m) = kernels("kernels_names") else { return };
    let names = m.function_names().unwrap();
    assert_eq!(names, ["add_one", "add_one_f32", "call_import", "calls", "fails", "library_ctx"]);
}

#[test]
fn imports_serve_lookups_from_library_code() {
    // The fixture reaches TVMFFIEnvModLookupFromImports through this context symbol.
    let lookup = tvmffi_core::sys::api::TVMFFIEnvModLookupFromImports as *mut c_void;
    register_context_symbol("tvmffi_fixture_lookup", lookup);
    let (Some(a), Some(b)) = (kernels("kernels_import_a"), kernels("kernels_import_b")) else {
        return;
    };
    a.import_module(&b).unwrap();
    assert_eq!(a.imports().len(), 1);
    assert!(a.implements_function("add_one", true));
    let call_import = a.function("call_import").unwrap();
    let name = c"add_one";
    let r = call(&call_import, &[AnyView::from(name), AnyView::from(9i64)]).unwrap();
    assert_eq!(r.get::<i64>().unwrap(), 10);
    assert_eq!(int(&b, "calls", &[]), 1, "the import's add_one ran");
    assert_eq!(int(&a, "calls", &[]), 0, "not the importer's own");
    // Cached: the second lookup returns the same function.
    call(&call_import, &[AnyView::from(name), AnyView::from(1i64)]).unwrap();
    assert_eq!(int(&b, "calls", &[]), 2);

    let missing = c"nowhere";
    let err = call(&call_import, &[AnyView::from(missing), AnyView::from(1i64)]).unwrap_err();
    assert_eq!(err, CallError::Raised { code: -1 });
    let raised = Error::take_raised().expect("the lookup raised");
    assert_eq!(raised.kind(), "RuntimeError");
    assert_eq!(
        raised.message(),
        "Cannot find function nowhere in the imported modules or global registry."
    );

    // Metadata is found through imports too.
    let c = kernels("kernels_import_c").unwrap();
    c.import_module(&a).unwrap();
    assert!(c.function_metadata("add_one", true).unwrap().is_some());

    // Cycles are refused.
    assert_eq!(b.import_module(&a).unwrap_err().kind(), LoadErrorKind::ImportCycle);
    assert_eq!(b.import_module(&b).unwrap_err().kind(), LoadErrorKind::ImportCycle);
    assert_eq!(b.import_module(&c).unwrap_err().kind(), LoadErrorKind::ImportCycle);
    a.clear_imports();
    assert!(a.imports().is_empty());
    b.import_module(&a).unwrap();
}

#[test]
fn library_bin_rebuilds_the_import_tree() {
    let built = common::c_fixture("library_bin", "library_bin_two", &["-DLIBRARY_BIN_TWO_LIBS"]);
    let Some(path) = common::fixture(built) else { return };
    let root = Module::load_from_file(&path).unwrap();
    let imports = root.imports();
    assert_eq!(imports.len(), 1);
    assert!(imports[0].imports().is_empty());
    assert!(!imports[0].ptr_eq(&root));
    // Each "_lib" module writes the context in turn: the last one (the import) stays.
    let ctx = call(&root.function("library_ctx").unwrap(), &[]).unwrap();
    assert_eq!(ctx.get::<*mut c_void>().unwrap(), imports[0].as_raw().cast());
}

#[test]
fn library_bin_with_an_unknown_kind_needs_a_loader() {
    let built = common::c_fixture("library_bin", "library_bin_cuda", &["-DLIBRARY_BIN_CUDA"]);
    let Some(path) = common::fixture(built) else { return };
    let err = Module::load_from_file(&path).unwrap_err();
    assert_eq!(err.kind(), LoadErrorKind::MissingLoader);
    assert!(err.message().contains("{cuda}"), "{err}");
    assert!(err.message().contains("ffi.Module.load_from_bytes.cuda"), "{err}");
}

#[test]
fn modules_travel_in_any() {
    let Some(m) = kernels("kernels_any") else { return };
    let any = Any::from(m.clone());
    assert_eq!(any.type_index(), tvmffi_core::TypeIndex::MODULE);
    let back = any.get::<Module>().unwrap();
    assert!(back.ptr_eq(&m));
    assert!(Any::from(3i64).get::<Module>().is_err());
    assert!(AnyView::from(&m).get::<Module>().unwrap().ptr_eq(&m));
}
