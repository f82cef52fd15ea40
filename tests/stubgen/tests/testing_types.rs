//! A Rust host on our runtime uses the generated bindings of the reference's `testing.*`
//! C++ types: it loads `libtvm_ffi_testing.so` (its C++ types and functions then register
//! in our type table, through the stand-in `libtvm_ffi.so`), reads fields of objects that
//! C++ made, and makes objects in Rust that C++ code reads (the types' C++ methods and
//! field getters).
//!
//! The library comes from the reference wheel (`.venv`, made by `ci/lib.sh`'s
//! `ensure_venv`), or `TVM_FFI_TESTING_LIB`. Without it a test prints why and passes as
//! skipped, except under CI (`CI` set), where it fails.

use std::path::PathBuf;
use std::sync::OnceLock;

use tvm_ffi::object_type::info::{TypeInfo, create_empty_object};
use tvm_ffi::{Any, AnyView, ObjectArc, ObjectCore, ObjectRefCore};
use tvmffi_stubgen_check::generated::testing::*;

fn testing_library() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("TVM_FFI_TESTING_LIB") {
        return Some(path.into());
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = std::process::Command::new(root.join(".venv/bin/tvm-ffi-config"))
        .arg("--libdir")
        .output()
        .ok()?;
    let dir = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    Some(dir.join("libtvm_ffi_testing.so")).filter(|p| p.exists())
}

/// Load the C++ library once; `false` (after saying why) when it is not there.
fn loaded() -> bool {
    static MODULE: OnceLock<Option<tvm_ffi::Module>> = OnceLock::new();
    MODULE
        .get_or_init(|| {
            let Some(path) = testing_library() else {
                let why = "libtvm_ffi_testing.so was not found: run `bash ci/stubgen.sh` (or \
                           `source ci/lib.sh; ensure_venv`), or set TVM_FFI_TESTING_LIB";
                if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
                    panic!("a prerequisite is missing under CI: {why}");
                }
                eprintln!("SKIPPED: {why}");
                return None;
            };
            Some(tvm_ffi::Module::load_from_file(&path).expect("load libtvm_ffi_testing.so"))
        })
        .is_some()
}

fn method(type_index: tvm_ffi::TypeIndex, name: &str) -> tvm_ffi::Function {
    TypeInfo::of(type_index).unwrap().method(name).unwrap().function().unwrap()
}

/// Set a field of `obj` through the setter C++ registered.
fn set(obj: &tvm_ffi::ObjectRef, name: &str, value: AnyView<'_>) {
    let info = TypeInfo::of(obj.type_index()).unwrap();
    // SAFETY: the object was just made, and only this thread holds it.
    unsafe { info.field(name).unwrap().set(obj, value).unwrap() };
}

/// Read a field of `obj` through the getter C++ registered.
fn get(obj: &tvm_ffi::ObjectRef, name: &str) -> Any {
    let info = TypeInfo::of(obj.type_index()).unwrap();
    info.field(name).unwrap().get(obj).unwrap()
}

#[test]
fn mirrors_find_the_cpp_types_in_our_table() {
    if !loaded() {
        return;
    }
    let pair = TestIntPairObj::type_index().unwrap();
    assert_eq!(TypeInfo::of(pair).unwrap().key(), "testing.TestIntPair");
    let derived = TestCxxClassDerivedDerivedObj::type_index().unwrap();
    let info = TypeInfo::of(derived).unwrap();
    assert_eq!(info.depth(), TestCxxClassDerivedDerivedObj::TYPE_DEPTH);
    assert_eq!(info.parent().unwrap().index(), TestCxxClassDerivedObj::type_index().unwrap());
    // The stand-ins of built-in parents sit where the C++ enum types put them.
    assert_eq!(TestCxxIntEnumObj::TYPE_DEPTH, 3);
    assert!(TestCxxIntEnumObj::type_index().is_ok());
}

#[test]
fn cpp_reads_objects_made_in_rust() {
    if !loaded() {
        return;
    }
    // A final type: `TestIntPair::new` allocates it in Rust, its C++ method reads it.
    let pair = TestIntPair::new(3, 4);
    assert_eq!((pair.a, pair.b), (3, 4));
    let sum = method(TestIntPairObj::type_index().unwrap(), "sum");
    assert_eq!(sum.call(&[AnyView::from(&pair)]).unwrap().get::<i64>().unwrap(), 7);

    // A type with a parent, made in Rust; the C++ getters read every level.
    let d = TestCxxClassDerivedDerived::new(1, 2, 3.5, 4.5, "rust", true);
    let obj: tvm_ffi::ObjectRef = d.clone().into();
    assert_eq!(get(&obj, "v_i64").get::<i64>().unwrap(), 1);
    assert_eq!(get(&obj, "v_i32").get::<i64>().unwrap(), 2);
    assert_eq!(get(&obj, "v_f64").get::<f64>().unwrap(), 3.5);
    assert_eq!(get(&obj, "v_f32").get::<f64>().unwrap(), 4.5);
    assert_eq!(get(&obj, "v_str").as_str().unwrap(), "rust");
    assert!(get(&obj, "v_bool").get::<bool>().unwrap());

    // A C++ method on an object Rust made: `TestObjectBase::AddI64` reads `v_i64`.
    let base = TestObjectBase::new(40, 0.5, "base");
    let add = method(TestObjectBaseObj::type_index().unwrap(), "add_i64");
    let r = add.call(&[AnyView::from(&base), AnyView::from(2i64)]).unwrap();
    assert_eq!(r.get::<i64>().unwrap(), 42);

    // Object fields: a reference and a null optional, read back by C++.
    let holder = TestObjectPtrHolder::new(base.clone(), None);
    let obj: tvm_ffi::ObjectRef = holder.into();
    let value: TestObjectBase = get(&obj, "value").get().unwrap();
    assert!(value.same_as(&base));
    assert!(get(&obj, "optional_value").is_none());
    let edges = TestDeepCopyEdges::new(Any::from(5i64), None);
    let obj: tvm_ffi::ObjectRef = edges.into();
    assert_eq!(get(&obj, "v_any").get::<i64>().unwrap(), 5);
}

#[test]
fn rust_reads_objects_made_by_cpp() {
    if !loaded() {
        return;
    }
    // `TestIntPair`'s C++ `__ffi_init__`.
    let init = method(TestIntPairObj::type_index().unwrap(), "__ffi_init__");
    let pair: TestIntPair =
        init.call(&[AnyView::from(5i64), AnyView::from(6i64)]).unwrap().get().unwrap();
    assert_eq!((pair.a, pair.b), (5, 6));

    // Made empty by the C++ creator, filled through the C++ setters, read as struct fields.
    let info = TypeInfo::of(TestCxxClassDerivedObj::type_index().unwrap()).unwrap();
    let obj = create_empty_object(info).unwrap();
    set(&obj, "v_i64", AnyView::from(11i64));
    set(&obj, "v_i32", AnyView::from(12i64));
    set(&obj, "v_f64", AnyView::from(1.25));
    set(&obj, "v_f32", AnyView::from(2.5));
    let d: TestCxxClassDerived = obj.try_into().unwrap();
    assert_eq!((d.v_i64, d.v_i32, d.v_f64, d.v_f32), (11, 12, 1.25, 2.5));

    // An opaque type (a variant field has no mirror): read through the accessors.
    let make_with = method(SchemaAllTypesObj::type_index().unwrap(), "make_with");
    let s: SchemaAllTypes = make_with
        .call(&[AnyView::from(7i64), AnyView::from(0.5), tvm_ffi::String::from("cpp").view()])
        .unwrap()
        .get()
        .unwrap();
    assert_eq!(s.v_int().unwrap(), 7);
    assert_eq!(s.v_float().unwrap(), 0.5);
    assert_eq!(s.v_string().unwrap(), "cpp");
    assert_eq!(s.v_opt_int().unwrap(), None);
    assert_eq!(s.v_arr_int().unwrap().len(), 0);

    // Another opaque one (a field C++ does not reflect): made by C++, read by the getters.
    let info = TypeInfo::of(TestCxxClassHiddenFieldObj::type_index().unwrap()).unwrap();
    let obj = create_empty_object(info).unwrap();
    set(&obj, "v_i64", AnyView::from(-3i64));
    let h: TestCxxClassHiddenField = obj.try_into().unwrap();
    assert_eq!(h.v_i64().unwrap(), -3);
}

#[test]
fn casts_copies_and_errors() {
    if !loaded() {
        return;
    }
    let d = TestCxxClassDerivedDerived::new(1, 2, 3.0, 4.0, "x", false);
    // The generated upcasts, and a checked downcast back.
    let base: TestCxxClassBase = d.clone().into();
    assert_eq!(base.v_i64, 1);
    let back: TestCxxClassDerivedDerived = base.clone().try_cast().unwrap();
    assert!(back.same_as(&d));
    let plain = TestCxxClassBase::new(9, 9);
    let e = plain.try_cast::<TestCxxClassDerived>().unwrap_err();
    assert_eq!(
        e.message(),
        "Cannot convert from type `testing.TestCxxClassBase` to `testing.TestCxxClassDerived`"
    );

    // The generated `ShallowCopy`: a new object of the same type, the fields copied.
    let copy = ObjectArc::shallow_copy(TestCxxClassDerivedDerived::data(&d));
    assert_eq!(
        ObjectArc::type_index(&copy),
        ObjectArc::type_index(TestCxxClassDerivedDerived::data(&d))
    );
    assert_eq!((copy.v_i64, copy.v_str.as_str()), (1, "x"));

    // A getter on an object of another type, and a mirror that is no object yet.
    let getter =
        tvm_ffi::FieldGetter::new(TestCxxClassHiddenFieldObj::type_index(), "v_i64").unwrap();
    let e = getter.get::<_, i64>(&**TestCxxClassDerivedDerived::data(&d)).unwrap_err();
    assert_eq!(e.kind(), "TypeError");
    let e = tvm_ffi::FieldGetter::new(TestIntPairObj::type_index(), "c").unwrap_err();
    assert_eq!(e.message(), "type `testing.TestIntPair` has no reflected field `c`");
    // The value of a Rust-made object through `Any`, as a function argument would see it.
    let echo = tvm_ffi::Function::get_global("testing.echo").unwrap();
    let pair: TestIntPair =
        echo.call(&[AnyView::from(&TestIntPair::new(1, 2))]).unwrap().get().unwrap();
    assert_eq!(pair.b, 2);
    let e = Any::from(1i64).get::<TestIntPair>().unwrap_err();
    assert!(e.to_string().contains("testing.TestIntPair"), "{e}");
}
