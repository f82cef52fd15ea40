//! The structural built-ins called by name, as the reference's Python package calls them:
//! `ffi.StructuralEqual` and friends, the reflected types (`ffi.reflection.AccessPath`, ...)
//! with their fields, methods and attributes, and the messages of bad calls (copied from the
//! reference).

#[path = "structural/dsl.rs"]
mod dsl;
#[path = "structural/nodes.rs"]
mod nodes;

extern crate alloc;

use tvmffi_alloc::map::Map;
use tvmffi_alloc::structural::{AccessPath, Options, StructuralKey, structural_hash};
use tvmffi_alloc::{Array, Error, Function};
use tvmffi_core::sys::{TVMFFIAny, TVMFFIByteArray, TVMFFIFieldInfo, TVMFFITypeInfo, api};
use tvmffi_core::{Any, AnyView, TypeIndex};

/// The `runtime` feature keeps one global error slot: tests that raise errors run one at a
/// time, or one may take an error another raised.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    drop(tvmffi_alloc::Error::take_raised());
    guard
}

fn call(name: &str, args: &[AnyView<'_>]) -> Result<Any, Error> {
    Function::get_global(name).unwrap_or_else(|| panic!("{name} is registered")).call(args)
}

fn s(text: &str) -> Any {
    Any::from(tvmffi_alloc::String::from(text))
}

fn type_info(key: &str) -> &'static TVMFFITypeInfo {
    let key = TVMFFIByteArray { data: key.as_ptr().cast(), size: key.len() };
    let mut index = 0;
    // SAFETY: live arguments.
    assert_eq!(unsafe { api::TVMFFITypeKeyToIndex(&key, &mut index) }, 0);
    // SAFETY: a registered type's info lives for the process.
    unsafe { &*api::TVMFFIGetTypeInfo(index) }
}

fn text(arr: &TVMFFIByteArray) -> String {
    if arr.size == 0 {
        return String::new();
    }
    // SAFETY: the table's strings live for the process.
    let bytes = unsafe { core::slice::from_raw_parts(arr.data.cast::<u8>(), arr.size) };
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn fields(info: &TVMFFITypeInfo) -> Vec<&TVMFFIFieldInfo> {
    if info.num_fields == 0 {
        return Vec::new();
    }
    // SAFETY: `fields` holds `num_fields` entries.
    unsafe { core::slice::from_raw_parts(info.fields, info.num_fields as usize) }.iter().collect()
}

/// Read field `name` of `obj` through its getter, as Python reads it.
fn read_field(obj: &Any, key: &str, name: &str) -> Any {
    let info = type_info(key);
    let f = fields(info).into_iter().find(|f| text(&f.name) == name).expect("the field");
    let mut out = TVMFFIAny::NONE;
    let addr = obj.as_object_ptr().unwrap().as_ptr().cast::<u8>().wrapping_add(f.offset as usize);
    // SAFETY: the field of a live object of this type; `out` is writable.
    assert_eq!(unsafe { (f.getter.unwrap())(addr.cast(), &mut out) }, 0);
    // SAFETY: the getter wrote an owned value.
    unsafe { Any::from_raw(out) }
}

/// Call method `name` of the type `key`.
fn method(key: &str, name: &str, args: &[AnyView<'_>]) -> Result<Any, Error> {
    let info = type_info(key);
    // SAFETY: `methods` holds `num_methods` entries.
    let methods = unsafe { core::slice::from_raw_parts(info.methods, info.num_methods as usize) };
    let m = methods.iter().find(|m| text(&m.name) == name).expect("the method");
    // SAFETY: a method's value is a live function view.
    let f: Function = unsafe { AnyView::from_raw(m.method) }.get().unwrap();
    f.call(args)
}

fn type_attr(index: i32, name: &str) -> Option<Any> {
    let key = TVMFFIByteArray { data: name.as_ptr().cast(), size: name.len() };
    // SAFETY: a live name; columns live for the process.
    let column = unsafe { api::TVMFFIGetTypeAttrColumn(&key).as_ref() }?;
    let offset = index - column.begin_index;
    if offset < 0 || offset >= column.size {
        return None;
    }
    // SAFETY: in range.
    let v = unsafe { AnyView::from_raw(column.data.add(offset as usize).read()) };
    (!v.is_none()).then(|| v.to_owned().unwrap())
}

#[test]
fn equality_hash_and_mismatch_by_name() {
    let _s = serial();
    let (a, b) = (dsl::parse(r#"{"a" [1 2 3]}"#), dsl::parse(r#"{"a" [1 2]}"#));
    let f = AnyView::from(false);
    let eq = call("ffi.StructuralEqual", &[a.view(), b.view(), f, f]).unwrap();
    assert!(!eq.get::<bool>().unwrap());
    let value = dsl::parse("[1 2 3]");
    let hash = call("ffi.StructuralHash", &[value.view(), f, f]).unwrap().get::<i64>().unwrap();
    // The reference's number on 64-bit targets (type key hashes are `size_t` hashes).
    let expected = if cfg!(target_pointer_width = "64") {
        17457834911281713904
    } else {
        structural_hash(value.view(), Options::default()).unwrap()
    };
    assert_eq!(hash as u64, expected);
    let pair = call("ffi.GetFirstStructuralMismatch", &[a.view(), b.view(), f, f]).unwrap();
    let pair: Array = pair.get().unwrap();
    let paths: Vec<String> =
        pair.iter().map(|p| p.get::<AccessPath>().unwrap().to_string()).collect();
    assert_eq!(paths, [r#"<root>["a"][2]"#, r#"<root>["a"][<missing:2>]"#]);
    let none = call("ffi.GetFirstStructuralMismatch", &[a.view(), a.view(), f, f]).unwrap();
    assert!(none.is_none());

    // Messages of bad calls, as the reference words them.
    let e = call("ffi.StructuralEqual", &[a.view()]).unwrap_err();
    assert_eq!(
        e.message(),
        "Mismatched number of arguments when calling: `ffi.StructuralEqual(0: Any, 1: Any, 2: \
         bool, 3: bool) -> bool`. Expected 4 but got 1 arguments"
    );
    let e = call("ffi.StructuralEqual", &[a.view(), a.view(), s("x").view(), f]).unwrap_err();
    assert_eq!(
        e.message(),
        "Mismatched type on argument #2 when calling: `ffi.StructuralEqual(0: Any, 1: Any, 2: \
         bool, 3: bool) -> bool`. Expected `bool` but got `ffi.SmallStr`"
    );
    let e = call("ffi.StructuralVisitorVisit", &[AnyView::from(1i64), a.view()]).unwrap_err();
    assert_eq!(
        e.message(),
        "Mismatched type on argument #0 when calling: `ffi.StructuralVisitorVisit(0: \
         ffi.StructuralVisitor, 1: AnyView) -> Optional<ffi.VisitInterrupt>`. Expected \
         `ffi.StructuralVisitor` but got `int`"
    );
    let e = call("ffi.StructuralHash", &[dsl::parse("(Unsup 1)").view(), f, f]).unwrap_err();
    assert_eq!(e.kind(), "TypeError");
}

#[test]
fn structural_keys_hash_by_structure_in_maps() {
    let _s = serial();
    let k1 = call("ffi.StructuralKey", &[dsl::parse(r#"{"x" [1 2] "y" [3]}"#).view()]).unwrap();
    let k2 = call("ffi.StructuralKey", &[dsl::parse(r#"{"y" [3] "x" [1 2]}"#).view()]).unwrap();
    let k3 = call("ffi.StructuralKey", &[dsl::parse(r#"{"x" [1 2] "y" [5]}"#).view()]).unwrap();
    // `test_structural_key_in_map`
    let m = Map::try_from_iter([(k1.clone(), 1i64), (k2.clone(), 2), (k3.clone(), 3)]).unwrap();
    assert_eq!(m.len(), 2);
    assert_eq!(m.get_as::<i64>(&k1).unwrap(), 2);
    assert_eq!(m.get_as::<i64>(&k3).unwrap(), 3);
    let eq = |a: &Any, b: &Any| call("ffi.StructuralKeyEqual", &[a.view(), b.view()]).unwrap();
    assert!(eq(&k1, &k2).get::<bool>().unwrap());
    assert!(!eq(&k1, &k3).get::<bool>().unwrap());
    // The fields, read as Python reads them.
    let key: StructuralKey = k1.get().unwrap();
    assert_eq!(
        read_field(&k1, "ffi.StructuralKey", "hash_i64").get::<i64>().unwrap() as u64,
        key.hash()
    );
    assert_eq!(
        read_field(&k1, "ffi.StructuralKey", "key").as_object_ptr(),
        key.key().as_object_ptr()
    );
    let e = call("ffi.StructuralKeyEqual", &[AnyView::from(1i64), k1.view()]).unwrap_err();
    assert_eq!(e.message(), "StructuralKeyEqual expects ffi.StructuralKey, got `int`");
    // The explicit init, as a static method and a type attribute.
    let made = method("ffi.StructuralKey", "__ffi_init__", &[dsl::parse("[1]").view()]).unwrap();
    let made: StructuralKey = made.get().unwrap();
    assert_eq!(made.hash(), StructuralKey::new(dsl::parse("[1]")).unwrap().hash());
}

#[test]
fn access_paths_through_their_methods_and_repr() {
    let _s = serial();
    const P: &str = "ffi.reflection.AccessPath";
    let root = method(P, "_root", &[]).unwrap();
    let a = method(P, "_attr", &[root.view(), s("layer").view()]).unwrap();
    let b = method(P, "_array_item", &[a.view(), AnyView::from(2i64)]).unwrap();
    let c = method(P, "_map_item", &[b.view(), s("k").view()]).unwrap();
    let d = method(P, "_map_item_missing", &[c.view(), AnyView::from(3i64)]).unwrap();
    let e = method(P, "_attr_missing", &[d.view(), s("zz").view()]).unwrap();
    let f = method(P, "_array_item_missing", &[e.view(), AnyView::from(5i64)]).unwrap();
    let path: AccessPath = f.get().unwrap();
    // What the reference prints for the same path.
    assert_eq!(
        path.to_string(),
        r#"<root>.layer[2]["k"][<missing:3>][<missing:"zz">][<missing:5>]"#
    );
    assert_eq!(read_field(&f, P, "depth").get::<i64>().unwrap(), 6);
    assert!(read_field(&root, P, "parent").is_none());
    let steps: Array = method(P, "_to_steps", &[f.view()]).unwrap().get().unwrap();
    assert_eq!(steps.len(), 6);
    let kinds: Vec<i64> = steps
        .iter()
        .map(|s| {
            read_field(&s.to_owned().unwrap(), "ffi.reflection.AccessStep", "kind").get().unwrap()
        })
        .collect();
    assert_eq!(kinds, [0, 1, 2, 5, 3, 4]);
    let prefix = method(P, "_is_prefix_of", &[b.view(), f.view()]).unwrap();
    assert!(prefix.get::<bool>().unwrap());
    let again = method(P, "_extend", &[a.view(), steps.get(1).unwrap()]).unwrap();
    assert!(method(P, "_path_equal", &[again.view(), b.view()]).unwrap().get::<bool>().unwrap());

    // `__ffi_repr__` prints with the printer it is given (the reference's `ReprPrint`).
    let index = type_info(P).type_index;
    let repr: Function = type_attr(index, "__ffi_repr__").unwrap().get().unwrap();
    let step_repr: Function =
        type_attr(type_info("ffi.reflection.AccessStep").type_index, "__ffi_repr__")
            .unwrap()
            .get()
            .unwrap();
    // A printer like `ReprPrint` for what paths hold: steps through their own repr, ints as
    // digits, text quoted.
    let keys = Function::from_packed(|args: &[AnyView<'_>]| {
        let v = args[0];
        Ok(s(&match v.get::<i64>() {
            Ok(i) => i.to_string(),
            Err(_) => format!("\"{}\"", v.as_str()?),
        }))
    });
    let printer = Function::from_packed(move |args: &[AnyView<'_>]| {
        step_repr.call(&[args[0], AnyView::from(&keys)])
    });
    let printed = repr.call(&[f.view(), AnyView::from(&printer)]).unwrap();
    assert_eq!(printed.as_str().unwrap(), path.to_string());
    assert!(type_attr(index, "__ffi_type_final__").unwrap().get::<bool>().unwrap());

    let e = method(P, "_attr", &[root.view(), AnyView::from(1i64)]).unwrap_err();
    assert_eq!(e.kind(), "TypeError");
}

#[test]
fn types_have_the_reference_fields_and_static_index() {
    let _s = serial();
    let interrupt = type_info("ffi.VisitInterrupt");
    assert_eq!(interrupt.type_index, TypeIndex::VISIT_INTERRUPT.0);
    // The dynamic indices the reference's library gives them (after its enum types, 128-131).
    let keys = [
        "ffi.reflection.AccessStep",
        "ffi.reflection.AccessPath",
        "ffi.StructuralVisitor",
        "ffi.VisitErrorContext",
        "ffi.StructuralMutator",
        "ffi.StructuralKey",
    ];
    let indices: Vec<i32> = keys.iter().map(|k| type_info(k).type_index).collect();
    assert_eq!(indices, [132, 133, 134, 135, 136, 137]);
    let names = |key: &str| -> Vec<String> {
        fields(type_info(key)).iter().map(|f| text(&f.name)).collect()
    };
    assert_eq!(names("ffi.reflection.AccessStep"), ["kind", "key"]);
    assert_eq!(names("ffi.reflection.AccessPath"), ["parent", "step", "depth"]);
    assert_eq!(names("ffi.StructuralKey"), ["key", "hash_i64"]);
    assert_eq!(names("ffi.VisitInterrupt"), ["value"]);
    assert_eq!(names("ffi.VisitErrorContext"), ["reverse_visit_pattern", "prev_error_context"]);
    assert!(names("ffi.StructuralVisitor").is_empty());
    assert!(names("ffi.StructuralMutator").is_empty());
    let offsets: Vec<i64> =
        fields(type_info("ffi.reflection.AccessPath")).iter().map(|f| f.offset).collect();
    assert_eq!(
        offsets,
        if cfg!(target_pointer_width = "64") { [24, 32, 40] } else { [24, 28, 32] }
    );

    let v = call("ffi.VisitInterrupt", &[AnyView::from(7i64)]).unwrap();
    assert_eq!(v.type_index(), TypeIndex::VISIT_INTERRUPT);
    assert_eq!(read_field(&v, "ffi.VisitInterrupt", "value").get::<i64>().unwrap(), 7);
    // Creators make empty objects, `__ffi_new__` calls them.
    let new: Function =
        type_attr(TypeIndex::VISIT_INTERRUPT.0, "__ffi_new__").unwrap().get().unwrap();
    assert!(read_field(&new.call(&[]).unwrap(), "ffi.VisitInterrupt", "value").is_none());
    // Container hooks are native function pointers, as C++ code expects.
    for (index, name) in [(TypeIndex::ARRAY, "__s_visit__"), (TypeIndex::DICT, "__s_mutate__")] {
        assert_eq!(type_attr(index.0, name).unwrap().type_index(), TypeIndex::OPAQUE_PTR);
    }
}

#[test]
fn walks_maps_and_visitors_by_name() {
    let _s = serial();
    let root = dsl::parse("[1 [2 3]]");
    let seen = alloc::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    let on_int = Function::from_packed(move |args: &[AnyView<'_>]| {
        sink.lock().unwrap().push(args[0].get::<i64>()?);
        Ok(Any::none())
    });
    let entry = |ti: i32, f: &Function| {
        Any::from(Array::from_vec(vec![Any::from(ti), Any::from(f.clone())]))
    };
    let callbacks = Array::from_vec(vec![entry(TypeIndex::INT.0, &on_int)]);
    let empty = Array::new();
    let r = call(
        "ffi.StructuralWalk",
        &[root.view(), AnyView::from(&callbacks), AnyView::from(&empty), AnyView::from(1i64)],
    );
    assert!(r.unwrap().is_none());
    assert_eq!(*seen.lock().unwrap(), [1, 2, 3]);

    let add_one = Function::from_typed(|v: i64| v + 1);
    let callbacks = Array::from_vec(vec![entry(TypeIndex::INT.0, &add_one)]);
    let mapped = call(
        "ffi.StructuralMap",
        &[root.view(), AnyView::from(&callbacks), AnyView::from(&empty), AnyView::from(0i64)],
    )
    .unwrap();
    let f = AnyView::from(false);
    let expected = dsl::parse("[2 [3 4]]");
    let eq = call("ffi.StructuralEqual", &[mapped.view(), expected.view(), f, f]).unwrap();
    assert!(eq.get::<bool>().unwrap());

    // A visitor handed to a callback works through the by-name functions.
    let probe = Function::from_packed(|args: &[AnyView<'_>]| {
        let visitor = args[1];
        let kind = call("ffi.StructuralVisitorDefRegionKind", &[visitor])?.get::<i64>()?;
        let inner = Function::from_packed(move |_| Ok(Any::none()));
        let with = call(
            "ffi.StructuralVisitorWithDefRegionKind",
            &[visitor, AnyView::from(2i64), AnyView::from(&inner)],
        )?;
        assert!(with.is_none());
        let first: Array = args[0].get()?;
        let r = call("ffi.StructuralVisitorVisit", &[visitor, first.get(0).unwrap()])?;
        assert!(r.is_none());
        Ok(Any::from(kind))
    });
    let callbacks = Array::from_vec(vec![entry(TypeIndex::ARRAY.0, &probe)]);
    let e = call("ffi.StructuralVisit", &[root.view(), AnyView::from(&callbacks)]).unwrap_err();
    assert_eq!(
        e.message(),
        "CallExpected: result type mismatch, expected Optional<ffi.VisitInterrupt>, but got int"
    );
    let bad = Array::from_vec(vec![Any::from(Array::from_vec(vec![Any::from(1i64)]))]);
    let e = call("ffi.StructuralVisit", &[root.view(), AnyView::from(&bad)]).unwrap_err();
    assert!(e.message().starts_with("Mismatched type on argument #1"), "{}", e.message());
}
