//! The built-in `ffi.*` global functions, called by name as the Python package calls them.

extern crate alloc;

use tvmffi_alloc::map::{Dict, Map};
use tvmffi_alloc::{Array, BigInt, Error, Function, List, Shape};
use tvmffi_core::sys::{TVMFFIByteArray, api};
use tvmffi_core::{Any, AnyView, Device, DeviceType, TypeIndex};

/// The `runtime` feature keeps one global error slot: tests that raise errors run one at a
/// time, or one may take an error another raised.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    drop(tvmffi_alloc::Error::take_raised());
    guard
}

fn global(name: &str) -> Function {
    Function::get_global(name).unwrap_or_else(|| panic!("{name} is registered"))
}

fn call(name: &str, args: &[AnyView<'_>]) -> Result<Any, Error> {
    global(name).call(args)
}

fn s(text: &str) -> tvmffi_alloc::String {
    tvmffi_alloc::String::try_new(text).unwrap()
}

#[test]
fn the_registry_lists_removes_and_describes_functions() {
    let _s = serial();
    let names = call("ffi.FunctionListGlobalNamesFunctor", &[]).unwrap();
    let names: Function = names.get().unwrap();
    let n = names.call(&[AnyView::from(-1i64)]).unwrap().get::<i64>().unwrap();
    let all: Vec<String> = (0..n)
        .map(|i| names.call(&[AnyView::from(i)]).unwrap().as_str().unwrap().to_owned())
        .collect();
    for expected in ["ffi.Array", "ffi.MapGetItem", "ffi.DictForwardIterFunctor", "ffi.String"] {
        assert!(all.iter().any(|n| n == expected), "{expected} in {all:?}");
    }
    let e = names.call(&[AnyView::from(n)]).unwrap_err();
    assert_eq!(e.kind(), "IndexError");

    let metadata = call("ffi.GetGlobalFuncMetadata", &[s("ffi.Array").view()]).unwrap();
    assert_eq!(metadata.as_str().unwrap(), r#"{"type_schema":"{\"type\":\"ffi.Function\"}"}"#);
    let e = call("ffi.GetGlobalFuncMetadata", &[s("no.such.function").view()]).unwrap_err();
    assert_eq!(e.message(), "Global Function is not found: no.such.function");

    let f = Function::from_packed(|_| Ok(Any::from(1i64)));
    Function::register_global("testing.builtins.removable", &f, false).unwrap();
    let removed = call("ffi.FunctionRemoveGlobal", &[s("testing.builtins.removable").view()]);
    assert!(removed.unwrap().get::<bool>().unwrap());
    assert!(Function::get_global("testing.builtins.removable").is_none());
    let again = call("ffi.FunctionRemoveGlobal", &[s("testing.builtins.removable").view()]);
    assert!(!again.unwrap().get::<bool>().unwrap());

    let e = call("ffi.FunctionRemoveGlobal", &[AnyView::from(3i64)]).unwrap_err();
    assert_eq!(
        e.message(),
        "Mismatched type on argument #0 when calling: `ffi.FunctionRemoveGlobal(0: str) -> \
         bool`. Expected `str` but got `int`"
    );
    let e = call("ffi.FunctionRemoveGlobal", &[]).unwrap_err();
    assert!(e.message().contains("Expected 1 but got 0 arguments"), "{}", e.message());
}

#[test]
fn strings_bytes_type_keys_and_sentinels() {
    let _s = serial();
    let long = call("ffi.String", &[AnyView::from(c"a C string longer than seven")]).unwrap();
    assert_eq!(long.type_index(), TypeIndex::STR);
    assert_eq!(long.as_str().unwrap(), "a C string longer than seven");
    let bytes = tvmffi_alloc::Bytes::try_new(b"\x00\x01\x02").unwrap();
    assert_eq!(call("ffi.Bytes", &[bytes.view()]).unwrap().as_bytes().unwrap(), b"\x00\x01\x02");
    assert_eq!(call("ffi.Bytes", &[s("text").view()]).unwrap_err().kind(), "TypeError");

    let keys: Array = call("ffi.GetRegisteredTypeKeys", &[]).unwrap().get().unwrap();
    let keys: Vec<&str> = keys.as_slice().iter().map(|k| k.as_str().unwrap()).collect();
    for key in ["ffi.Object", "ffi.Map", "ffi.Tensor", "int", "None"] {
        assert!(keys.contains(&key), "{key} in {keys:?}");
    }

    let missing = call("ffi.GetInvalidObject", &[]).unwrap();
    let again = call("ffi.GetInvalidObject", &[]).unwrap();
    let kwargs = call("ffi.GetKwargsObject", &[]).unwrap();
    assert_eq!(missing.type_index(), TypeIndex::OBJECT);
    assert_eq!(missing.as_object_ptr(), again.as_object_ptr(), "one sentinel for the process");
    assert_ne!(missing.as_object_ptr(), kwargs.as_object_ptr());
}

/// The attribute `name` of `index`, through the C API as C++ and Python read it.
fn type_attr(index: TypeIndex, name: &str) -> Option<Any> {
    let name = TVMFFIByteArray { data: name.as_ptr().cast(), size: name.len() };
    // SAFETY: a valid name; columns live for the process.
    let column = unsafe { api::TVMFFIGetTypeAttrColumn(&name).as_ref() }?;
    let offset = usize::try_from(index.0 - column.begin_index).ok()?;
    if offset >= column.size as usize {
        return None;
    }
    // SAFETY: within the column.
    let view = unsafe { AnyView::from_raw(*column.data.add(offset)) };
    view.to_owned().ok().filter(|a| !a.is_none())
}

#[test]
fn the_reference_columns_exist_and_convert_casts() {
    let _s = serial();
    for column in ["__ffi_enum__", "__ffi_repr__", "__s_equal__", "__data_to_json__", "__s_visit__"]
    {
        let name = TVMFFIByteArray { data: column.as_ptr().cast(), size: column.len() };
        // SAFETY: a valid name.
        assert!(!unsafe { api::TVMFFIGetTypeAttrColumn(&name) }.is_null(), "{column}");
    }
    let to_str: Function = type_attr(TypeIndex::STR, "__ffi_convert__").unwrap().get().unwrap();
    let converted = to_str.call(&[AnyView::from(c"from a C string, long")]).unwrap();
    assert_eq!(converted.as_str().unwrap(), "from a C string, long");
    let e = to_str.call(&[AnyView::from(1i64)]).unwrap_err();
    assert_eq!((&*e.kind(), &*e.message()), ("TypeError", "Cannot cast from `int` to `str`"));

    let to_shape: Function = type_attr(TypeIndex::SHAPE, "__ffi_convert__").unwrap().get().unwrap();
    let dims = Array::from_vec(vec![Any::from(2i64), Any::from(3i64)]);
    let shape: Shape = to_shape.call(&[dims.as_object().into()]).unwrap().get().unwrap();
    assert_eq!(shape.as_slice(), &[2, 3]);
    let bad = Array::from_vec(vec![Any::from(1.5f64)]);
    let e = to_shape.call(&[bad.as_object().into()]).unwrap_err();
    assert_eq!(e.message(), "Cannot cast from `ffi.Array` to `ffi.Shape`");

    let to_array: Function = type_attr(TypeIndex::ARRAY, "__ffi_convert__").unwrap().get().unwrap();
    let a = Array::from_vec(vec![Any::from(1i64)]);
    let same: Array = to_array.call(&[a.as_object().into()]).unwrap().get().unwrap();
    assert!(same.ptr_eq(&a));
    let l = List::new();
    let e = to_array.call(&[AnyView::from(l.as_object())]).unwrap_err();
    assert_eq!(e.message(), "Cannot cast from `ffi.List` to `ffi.Array`");
}

#[test]
fn arrays_and_shapes() {
    let _s = serial();
    let a: Array = call("ffi.Array", &[AnyView::from(1i64), s("two").view(), AnyView::from(3.0)])
        .unwrap()
        .get()
        .unwrap();
    let av = AnyView::from(a.as_object());
    assert_eq!(call("ffi.ArraySize", &[av]).unwrap().get::<i64>().unwrap(), 3);
    let item = call("ffi.ArrayGetItem", &[av, AnyView::from(1i64)]).unwrap();
    assert_eq!(item.as_str().unwrap(), "two");
    let e = call("ffi.ArrayGetItem", &[av, AnyView::from(3i64)]).unwrap_err();
    assert_eq!((&*e.kind(), &*e.message()), ("IndexError", "Index 3 out of bounds 3"));
    let e = call("ffi.ArrayGetItem", &[av, AnyView::from(-1i64)]).unwrap_err();
    assert_eq!(e.message(), "Index -1 out of bounds 3");
    // Text compares by content, whatever form it takes.
    let has = |v: AnyView<'_>| call("ffi.ArrayContains", &[av, v]).unwrap().get::<bool>().unwrap();
    assert!(has(AnyView::from(c"two")) && has(AnyView::from(3.0)) && !has(AnyView::from(3i64)));

    let shape: Shape =
        call("ffi.Shape", &[AnyView::from(2i64), AnyView::from(3i64)]).unwrap().get().unwrap();
    assert_eq!(shape.as_slice(), &[2, 3]);
    assert_eq!(call("ffi.Shape", &[AnyView::from(1.5)]).unwrap_err().kind(), "TypeError");
}

#[test]
fn lists_change_in_place() {
    let _s = serial();
    let l: List =
        call("ffi.List", &[AnyView::from(1i64), AnyView::from(2i64)]).unwrap().get().unwrap();
    let lv = AnyView::from(l.as_object());
    let ints = |l: &List| -> Vec<i64> { l.to_vec().iter().map(|v| v.get().unwrap()).collect() };
    let ok = |name: &str, args: &[AnyView<'_>]| drop(call(name, args).unwrap());
    ok("ffi.ListAppend", &[lv, AnyView::from(3i64)]);
    ok("ffi.ListInsert", &[lv, AnyView::from(0i64), AnyView::from(0i64)]);
    assert_eq!(ints(&l), [0, 1, 2, 3]);
    ok("ffi.ListSetItem", &[lv, AnyView::from(1i64), AnyView::from(10i64)]);
    let popped = call("ffi.ListPop", &[lv, AnyView::from(3i64)]).unwrap();
    assert_eq!(popped.get::<i64>().unwrap(), 3);
    assert_eq!(ints(&l), [0, 10, 2]);
    ok("ffi.ListReverse", &[lv]);
    assert_eq!(ints(&l), [2, 10, 0]);
    ok("ffi.ListErase", &[lv, AnyView::from(1i64)]);
    assert_eq!(ints(&l), [2, 0]);
    // Replace a slice with the list itself: copied first.
    ok("ffi.ListReplaceSlice", &[lv, AnyView::from(1i64), AnyView::from(2i64), lv]);
    assert_eq!(ints(&l), [2, 2, 0]);
    ok("ffi.ListEraseRange", &[lv, AnyView::from(0i64), AnyView::from(2i64)]);
    assert_eq!(ints(&l), [0]);
    ok("ffi.ListReserve", &[lv, AnyView::from(64i64)]);
    assert!(l.capacity() >= 64);
    assert!(call("ffi.ListContains", &[lv, AnyView::from(0i64)]).unwrap().get::<bool>().unwrap());
    ok("ffi.ListClear", &[lv]);
    assert_eq!(call("ffi.ListSize", &[lv]).unwrap().get::<i64>().unwrap(), 0);

    let e = call("ffi.ListInsert", &[lv, AnyView::from(2i64), AnyView::from(0i64)]).unwrap_err();
    assert_eq!(e.message(), "Index 2 out of bounds [0, 0]");
    let e = call("ffi.ListEraseRange", &[lv, AnyView::from(0i64), AnyView::from(1i64)]);
    assert_eq!(e.unwrap_err().message(), "Erase range [0, 1) out of bounds 0");
    ok("ffi.ListEraseRange", &[lv, AnyView::from(5i64), AnyView::from(5i64)]); // empty: fine
}

/// Every entry a forward-iteration functor walks through, as Python walks it: `size`
/// entries at most, stepping until the functor says none is left.
fn walk(functor: &Function, size: usize) -> Vec<(Any, Any)> {
    let mut out = Vec::new();
    for _ in 0..size {
        let k = functor.call(&[AnyView::from(0i64)]).unwrap();
        let v = functor.call(&[AnyView::from(1i64)]).unwrap();
        out.push((k, v));
        if !functor.call(&[AnyView::from(2i64)]).unwrap().get::<bool>().unwrap() {
            break;
        }
    }
    out
}

#[test]
fn maps_and_dicts() {
    let _s = serial();
    let m: Map =
        call("ffi.Map", &[s("a").view(), AnyView::from(1i64), s("b").view(), AnyView::from(2i64)])
            .unwrap()
            .get()
            .unwrap();
    let mv = AnyView::from(m.as_object());
    assert_eq!(call("ffi.MapSize", &[mv]).unwrap().get::<i64>().unwrap(), 2);
    let v = call("ffi.MapGetItem", &[mv, AnyView::from(c"b")]).unwrap();
    assert_eq!(v.get::<i64>().unwrap(), 2);
    let e = call("ffi.MapGetItem", &[mv, s("z").view()]).unwrap_err();
    assert_eq!((&*e.kind(), &*e.message()), ("KeyError", "key is not in Map"));
    assert_eq!(call("ffi.MapCount", &[mv, s("a").view()]).unwrap().get::<i64>().unwrap(), 1);
    let missing = call("ffi.MapGetItemOrMissing", &[mv, s("z").view()]).unwrap();
    let sentinel = call("ffi.GetInvalidObject", &[]).unwrap();
    assert_eq!(missing.as_object_ptr(), sentinel.as_object_ptr());
    let it: Function = call("ffi.MapForwardIterFunctor", &[mv]).unwrap().get().unwrap();
    let entries = walk(&it, 2);
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0].0.as_str().unwrap(), "a");
    assert!(call("ffi.Map", &[AnyView::from(1i64)]).is_err(), "odd argument count");

    let d: Dict = call("ffi.Dict", &[]).unwrap().get().unwrap();
    let dv = AnyView::from(d.as_object());
    drop(call("ffi.DictSetItem", &[dv, AnyView::from(7i64), s("seven").view()]).unwrap());
    drop(call("ffi.DictSetItem", &[dv, AnyView::from(8i64), s("eight").view()]).unwrap());
    assert_eq!(d.len(), 2, "the same dict, changed in place");
    let v = call("ffi.DictGetItem", &[dv, AnyView::from(7i64)]).unwrap();
    assert_eq!(v.as_str().unwrap(), "seven");
    assert_eq!(call("ffi.DictCount", &[dv, AnyView::from(9i64)]).unwrap().get::<i64>().unwrap(), 0);
    drop(call("ffi.DictErase", &[dv, AnyView::from(7i64)]).unwrap());
    let it: Function = call("ffi.DictForwardIterFunctor", &[dv]).unwrap().get().unwrap();
    assert_eq!(walk(&it, 1).len(), 1);
    drop(call("ffi.DictClear", &[dv]).unwrap());
    assert_eq!(call("ffi.DictSize", &[dv]).unwrap().get::<i64>().unwrap(), 0);
    let missing = call("ffi.DictGetItemOrMissing", &[dv, AnyView::from(1i64)]).unwrap();
    assert_eq!(missing.as_object_ptr(), sentinel.as_object_ptr());
}

/// `ffi.Map` and `ffi.Dict` size their table once they turn dense; the pairs and their
/// order must stay those of inserting one by one (the reference's `Set` loop): a small map
/// keeps an updated key in place, a dense one moves it to the end.
#[test]
fn ffi_map_and_dict_match_inserting_one_by_one() {
    let _s = serial();
    // "a" is updated while the map is small, "c" after it turned dense.
    let mut keys: Vec<Any> = ["a", "b", "a", "c", "d", "e"].map(|k| Any::from(s(k))).into();
    keys.extend((0..2000i64).map(|i| Any::from(i % 1500)));
    keys.push(Any::from(s("c")));
    let mut args = Vec::new();
    let mut expected = Map::new();
    for (i, key) in keys.iter().enumerate() {
        args.push(key.view());
        args.push(AnyView::from(i as i64));
        drop(expected.insert(key.clone(), i as i64).unwrap());
    }
    let expected: Vec<(String, i64)> =
        expected.iter().map(|(k, v)| (format!("{k:?}"), v.get::<i64>().unwrap())).collect();
    assert_eq!(expected.len(), 1505);
    let values: Vec<i64> = expected.iter().map(|(_, v)| *v).collect();
    assert_eq!(values[..3], [2, 1, 4], "\"a\" kept its place, \"c\" moved to the end");
    assert_eq!(values.last(), Some(&2006));

    let map: Map = call("ffi.Map", &args).unwrap().get().unwrap();
    assert!(map.is_dense());
    let got: Vec<(String, i64)> =
        map.iter().map(|(k, v)| (format!("{k:?}"), v.get::<i64>().unwrap())).collect();
    assert_eq!(got, expected, "ffi.Map");

    let dict: Dict = call("ffi.Dict", &args).unwrap().get().unwrap();
    assert!(dict.is_dense());
    let got: Vec<(String, i64)> = dict
        .to_vec()
        .iter()
        .map(|(k, v)| (format!("{:?}", k.view()), v.get::<i64>().unwrap()))
        .collect();
    assert_eq!(got, expected, "ffi.Dict");
}

#[test]
fn big_integers_are_keys_by_value() {
    let _s = serial();
    let big = |words: &[i64]| BigInt::from_words(words);
    let (a, b) = (big(&[5, 1]), big(&[5, 1]));
    assert_ne!(a.as_any().as_object_ptr(), b.as_any().as_object_ptr(), "two objects");
    let m = Map::try_from_iter([(a.into_any(), Any::from(1i64))]).unwrap();
    assert_eq!(m.get(b.as_any()).unwrap().unwrap().get::<i64>().unwrap(), 1);
}

#[test]
fn the_first_non_cpu_device_is_found_in_nested_containers() {
    let _s = serial();
    let cpu = tvmffi_alloc::Tensor::empty(&[1], tvmffi_core::DataType::F32, Device::CPU).unwrap();
    let inner = Array::from_vec(vec![Any::from(cpu.clone())]);
    let outer = List::from_vec(vec![Any::from(1i64), Any::from(inner)]);
    let found = call("ffi.ContainerFindFirstNonCPUDevice", &[AnyView::from(outer.as_object())]);
    let device: Device = found.unwrap().get().unwrap();
    assert_eq!(device.device_type(), DeviceType::CPU, "only CPU tensors: the CPU");
}
