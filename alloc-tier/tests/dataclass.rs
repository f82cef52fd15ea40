//! The dataclass built-ins called by name, as the Python package calls them: `ffi.ReprPrint`,
//! `ffi.RecursiveHash`, `ffi.RecursiveEq`/`Lt`/`Le`/`Gt`/`Ge` and `ffi.DeepCopy` on values,
//! containers and Rust-defined reflected objects (with their hooks), against outputs the
//! reference produced (`tests/dataclass/values.golden`, from `gen_golden.py`).

extern crate alloc;

use std::collections::HashMap;

use tvmffi_alloc::map::{Dict, Map};
use tvmffi_alloc::object_type::{self, FieldCell, ObjectRoot, Reflect};
use tvmffi_alloc::{Array, BigInt, Error, Function, List, Shape, Tensor};
use tvmffi_core::{Any, AnyView, DataType, Device, DeviceType, Object, ObjectRef, TypeIndex};

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
    tvmffi_alloc::String::from(text).into()
}

fn b(bytes: &[u8]) -> Any {
    tvmffi_alloc::Bytes::try_new(bytes).unwrap().into()
}

fn arr(items: Vec<Any>) -> Any {
    Array::from_vec(items).into()
}

fn list(items: Vec<Any>) -> Any {
    List::from_vec(items).into()
}

fn map(pairs: Vec<(Any, Any)>) -> Any {
    Map::try_from_iter(pairs).unwrap().into()
}

fn cycle_list() -> Any {
    let l = List::from_vec(vec![Any::from(1i64)]);
    l.push(l.clone());
    l.into()
}

/// Clear every list and dict reachable from `v`, so that cycles built by a case are freed
/// (Miri reports the leak otherwise).
fn unlink(v: &Any) {
    let mut stack = vec![v.clone()];
    let mut seen = std::collections::HashSet::new();
    while let Some(v) = stack.pop() {
        let Some(p) = v.as_object_ptr() else { continue };
        if !seen.insert(p.as_ptr() as usize) {
            continue;
        }
        match v.type_index() {
            TypeIndex::LIST => {
                let l: List = v.try_into().unwrap();
                stack.extend(l.to_vec());
                l.clear();
            }
            TypeIndex::DICT => {
                let d: Dict = v.try_into().unwrap();
                stack.extend(d.to_vec().into_iter().flat_map(|(k, v)| [k, v]));
                d.clear();
            }
            TypeIndex::ARRAY => stack.extend(Array::try_from(v).unwrap().to_vec()),
            _ => {}
        }
    }
}

/// The cases of `gen_golden.py`, built the same way.
fn value(name: &str) -> Any {
    let i = |v: i64| Any::from(v);
    match name {
        "none" => Any::none(),
        "true" => Any::from(true),
        "false" => Any::from(false),
        "zero" => i(0),
        "neg" => i(-5),
        "i64max" => i(i64::MAX),
        "f_one" => Any::from(1.0),
        "f_tenth" => Any::from(0.1),
        "f_pi" => Any::from("3.14159265".parse::<f64>().unwrap()), // not PI: the golden case
        "f_big" => Any::from(1e20),
        "f_small" => Any::from(1e-5),
        "f_1e8" => Any::from(123456789.0),
        "f_nan" => Any::from(f64::NAN),
        "f_inf" => Any::from(f64::INFINITY),
        "f_ninf" => Any::from(f64::NEG_INFINITY),
        "f_negzero" => Any::from(-0.0),
        "f_huge" => Any::from(1.5e300),
        "f_denorm" => Any::from(5e-324),
        "s_short" => s("hi"),
        "s_empty" => s(""),
        "s_long" => s("a string long enough to live in an object"),
        "s_escapes" => s("a\"b\\c\n\t\x01\u{e9}\u{20ac}\u{1f600}"),
        "s_ansi" => s("\x1b[31mred\x1b[0m"),
        "b_short" => b(b"ab\x00\xff\""),
        "b_long" => b(b"bytes long enough to live in an object \x01"),
        "arr2" => arr(vec![i(1), i(2)]),
        "arr1" => arr(vec![i(1)]),
        "arr0" => arr(vec![]),
        "arr_nested" => arr(vec![i(1), arr(vec![Any::from(2.5), s("x")]), Any::none()]),
        "list2" => list(vec![i(1), s("a")]),
        "list0" => list(vec![]),
        "map1" => map(vec![(s("a"), i(1))]),
        "map_mixed" => {
            map(vec![(s("b"), i(1)), (s("a"), arr(vec![i(1)])), (i(3), i(4)), (Any::none(), i(5))])
        }
        "dict1" => Dict::try_from_iter([(i(1), i(2))]).unwrap().into(),
        "shape3" => Shape::new(&[1, 2, 3]).into(),
        "shape0" => Shape::new(&[]).into(),
        "dt_f32" => Any::from(DataType::F32),
        "dt_i8x4" => Any::from(DataType::new(tvmffi_core::DataTypeCode::INT, 8, 4)),
        "dt_bool" => Any::from(DataType::BOOL),
        "dev_cuda1" => Any::from(Device::new(DeviceType::CUDA, 1)),
        "dev_cpu0" => Any::from(Device::CPU),
        "big_pos" => BigInt::from_words(&[0, 64]).into(),
        "big_neg" => BigInt::from_words(&[0, -64]).into(),
        "func" => Function::get_global("ffi.String").unwrap().into(),
        "missing" => call("ffi.GetInvalidObject", &[]).unwrap(),
        "kwargs" => call("ffi.GetKwargsObject", &[]).unwrap(),
        "cycle_list" => cycle_list(),
        "cycle_dict" => {
            let d = Dict::new();
            d.insert(s("self"), d.clone()).unwrap();
            d.into()
        }
        "shared" => {
            let inner = list(vec![i(1), i(2)]);
            arr(vec![inner.clone(), inner])
        }
        "nested_cycle" => {
            let l = List::new();
            let a = arr(vec![l.clone().into(), i(3)]);
            l.push(a.clone());
            a
        }
        "tensor23" => Tensor::empty(&[2, 3], DataType::F32, Device::CPU).unwrap().into(),
        "tensor_scalar" => Tensor::empty(&[], DataType::I8, Device::CPU).unwrap().into(),
        other => panic!("no case {other}"),
    }
}

fn pair(name: &str) -> (Any, Any) {
    let i = |v: i64| Any::from(v);
    match name {
        "int_int" => (i(1), i(1)),
        "int_lt" => (i(1), i(2)),
        "int_bool" => (i(1), Any::from(true)),
        "int_str" => (i(1), s("a")),
        "str_bytes" => (s("a"), b(b"a")),
        "float_int" => (Any::from(1.0), i(1)),
        "nan_nan" => (Any::from(f64::NAN), Any::from(f64::NAN)),
        "nan_one" => (Any::from(f64::NAN), Any::from(1.0)),
        "zeros" => (Any::from(-0.0), Any::from(0.0)),
        "none_int" => (Any::none(), i(1)),
        "int_none" => (i(1), Any::none()),
        "str_str" => (s("abc"), s("abd")),
        "str_prefix" => (s("ab"), s("abc")),
        "str_small_long" => (s("a"), s("a string long enough to live in an object")),
        "bytes_bytes" => (b(b"a"), b(b"b")),
        "arr_arr" => (arr(vec![i(1), i(2)]), arr(vec![i(1), i(3)])),
        "arr_prefix" => (arr(vec![i(1)]), arr(vec![i(1), i(2)])),
        "arr_same" => (arr(vec![i(1), s("x")]), arr(vec![i(1), s("x")])),
        "arr_list" => (arr(vec![i(1)]), list(vec![i(1)])),
        // Python converts the inner lists to `ffi.List` too.
        "list_list" => (list(vec![i(1), list(vec![i(2)])]), list(vec![i(1), list(vec![i(3)])])),
        "map_same" => (map(vec![(s("a"), i(1))]), map(vec![(s("a"), i(1))])),
        "map_diff" => (map(vec![(s("a"), i(1))]), map(vec![(s("a"), i(2))])),
        "map_keys" => (map(vec![(s("a"), i(1))]), map(vec![(s("b"), i(1))])),
        "map_size" => (map(vec![(s("a"), i(1))]), map(vec![(s("a"), i(1)), (s("b"), i(2))])),
        "dict_same" => {
            let d = || -> Any { Dict::try_from_iter([(i(1), list(vec![i(1)]))]).unwrap().into() };
            (d(), d())
        }
        "arr_in_map" => {
            (arr(vec![map(vec![(s("a"), i(1))])]), arr(vec![map(vec![(s("a"), i(2))])]))
        }
        "int_big" => (i(5), BigInt::from_words(&[0, 64]).into()),
        "big_big" => (BigInt::from_words(&[0, -64]).into(), BigInt::from_words(&[0, 64]).into()),
        "shape_shape" => (Shape::new(&[1, 2]).into(), Shape::new(&[1, 3]).into()),
        "dtype_dtype" => (Any::from(DataType::F32), Any::from(DataType::F16)),
        "dev_dev" => (
            Any::from(Device::new(DeviceType::CUDA, 1)),
            Any::from(Device::new(DeviceType::CUDA, 0)),
        ),
        "cycles" => (cycle_list(), cycle_list()),
        "func_func" => (
            Function::get_global("ffi.String").unwrap().into(),
            Function::get_global("ffi.Bytes").unwrap().into(),
        ),
        other => panic!("no pair {other}"),
    }
}

/// A JSON string literal's content (the golden files escape with `json.dumps`).
fn unjson(lit: &str) -> String {
    let inner = lit.strip_prefix('"').and_then(|l| l.strip_suffix('"')).expect("a JSON string");
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next().unwrap() {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'u' => {
                let hex: String = chars.by_ref().take(4).collect();
                let mut cp = u32::from_str_radix(&hex, 16).unwrap();
                if (0xD800..0xDC00).contains(&cp) {
                    assert_eq!((chars.next(), chars.next()), (Some('\\'), Some('u')));
                    let low: String = chars.by_ref().take(4).collect();
                    let low = u32::from_str_radix(&low, 16).unwrap();
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                }
                out.push(char::from_u32(cp).unwrap());
            }
            other => out.push(other),
        }
    }
    out
}

/// The golden lines: (op, case) to the expected text.
fn golden() -> Vec<(String, String, String)> {
    include_str!("dataclass/values.golden")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let mut parts = l.splitn(3, '\t');
            let (op, case, result) =
                (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
            (op.to_owned(), case.to_owned(), unjson(result))
        })
        .collect()
}

/// A result as the golden file spells it.
fn shown(r: Result<Any, Error>) -> String {
    match r {
        Ok(v) if v.type_index() == TypeIndex::BOOL => {
            if v.get::<bool>().unwrap() { "True" } else { "False" }.to_owned()
        }
        Ok(v) if v.type_index() == TypeIndex::INT => v.get::<i64>().unwrap().to_string(),
        Ok(v) => {
            v.as_str().map(str::to_owned).unwrap_or_else(|_| format!("<{:?}>", v.type_index()))
        }
        Err(e) => format!("!{}: {}", e.kind(), e.message()),
    }
}

#[test]
fn builtin_values_match_the_reference() {
    let _s = serial();
    let mut failures = Vec::new();
    let mut count = HashMap::new();
    for (op, case, expected) in golden() {
        *count.entry(op.clone()).or_insert(0) += 1;
        let got = match op.as_str() {
            "repr" | "hash" | "deepcopy" => {
                let v = value(&case);
                let name = match op.as_str() {
                    "repr" => "ffi.ReprPrint",
                    "hash" => "ffi.RecursiveHash",
                    _ => "ffi.DeepCopy",
                };
                let got = shown(call(name, &[v.view()]));
                unlink(&v);
                got
            }
            op => {
                let (l, r) = pair(&case);
                let name = format!("ffi.Recursive{}{}", op[..1].to_uppercase(), &op[1..]);
                let got = shown(call(&name, &[l.view(), r.view()]));
                unlink(&l);
                unlink(&r);
                got
            }
        };
        if got != expected {
            failures.push(format!("{op} {case}: got {got:?}, the reference {expected:?}"));
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
    assert!(count["repr"] > 40 && count["eq"] > 20 && count["hash"] > 10, "{count:?}");
}

#[test]
fn hashes_agree_with_equality() {
    let _s = serial();
    let cases =
        ["arr_arr", "arr_same", "map_same", "dict_same", "cycles", "zeros", "nan_nan", "func_func"];
    for case in cases {
        let (l, r) = pair(case);
        let eq = call("ffi.RecursiveEq", &[l.view(), r.view()]).unwrap().get::<bool>().unwrap();
        let hl = call("ffi.RecursiveHash", &[l.view()]).unwrap().get::<i64>().unwrap();
        let hr = call("ffi.RecursiveHash", &[r.view()]).unwrap().get::<i64>().unwrap();
        if eq {
            assert_eq!(hl, hr, "{case}: equal values hash alike");
        }
        unlink(&l);
        unlink(&r);
    }
    // Map entries hash in any order.
    let m1 = map(vec![(s("a"), Any::from(1i64)), (s("b"), Any::from(2i64))]);
    let m2 = map(vec![(s("b"), Any::from(2i64)), (s("a"), Any::from(1i64))]);
    let h = |v: &Any| call("ffi.RecursiveHash", &[v.view()]).unwrap().get::<i64>().unwrap();
    assert_eq!(h(&m1), h(&m2));
    assert_ne!(
        h(&arr(vec![Any::from(1i64), Any::from(2i64)])),
        h(&arr(vec![Any::from(2i64), Any::from(1i64)]))
    );
}

// --- Rust-defined reflected types ---------------------------------------------------

#[repr(C)]
#[derive(Clone, Default)]
struct Node {
    name: tvmffi_alloc::String,
    weight: f64,
    next: FieldCell<Option<ObjectRef<Object<Node>>>>,
    hidden: i64,
    note: FieldCell<Any>,
}

#[repr(C)]
#[derive(Clone, Default)]
struct Celsius {
    degrees: f64,
}

#[repr(C)]
#[derive(Default)]
struct Opaque {
    id: i64,
}

tvmffi_alloc::object_type! {
    // SAFETY: test-only keys.
    unsafe impl ObjectDef for Node { type_key = "test.dataclass.Node"; parent = ObjectRoot; }
}
tvmffi_alloc::object_type! {
    // SAFETY: as above.
    unsafe impl ObjectDef for Celsius { type_key = "test.dataclass.Celsius"; parent = ObjectRoot; }
}
tvmffi_alloc::object_type! {
    // SAFETY: as above.
    unsafe impl ObjectDef for Opaque { type_key = "test.dataclass.Opaque"; parent = ObjectRoot; }
}

fn registered() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        Reflect::<Node>::new()
            .default_creator()
            .shallow_copy()
            .def_ro(tvmffi_alloc::field!(Node, name))
            .def_ro(tvmffi_alloc::field!(Node, weight))
            .def_rw(tvmffi_alloc::field!(Node, next))
            .def_ro(tvmffi_alloc::field!(Node, hidden).repr(false).compare(false).hash(false))
            .def_rw(tvmffi_alloc::field!(Node, note).hash(false))
            .register()
            .unwrap();
        // A value type with hooks: printed in degrees, equal and hashed by rounded value.
        let repr = Function::from_packed(|args: &[AnyView<'_>]| {
            let c: ObjectRef<Object<Celsius>> = args[0].get()?;
            let f: Function = args[1].get()?;
            let inner = f.call(&[AnyView::from(c.degrees)])?;
            Ok(tvmffi_alloc::String::from(format!("{}C", inner.as_str()?)).into())
        });
        let rounded = |v: &AnyView<'_>| -> Result<i64, Error> {
            Ok(v.get::<ObjectRef<Object<Celsius>>>()?.degrees.round() as i64)
        };
        let eq = Function::from_packed(move |args: &[AnyView<'_>]| {
            Ok(Any::from(rounded(&args[0])? == rounded(&args[1])?))
        });
        let cmp = Function::from_packed(move |args: &[AnyView<'_>]| {
            Ok(Any::from(rounded(&args[0])?.cmp(&rounded(&args[1])?) as i32))
        });
        let hash = Function::from_packed(move |args: &[AnyView<'_>]| {
            let f: Function = args[1].get()?;
            f.call(&[AnyView::from(rounded(&args[0])?)])
        });
        Reflect::<Celsius>::new()
            .default_creator()
            .shallow_copy()
            .def_ro(tvmffi_alloc::field!(Celsius, degrees))
            .type_attr("__ffi_repr__", repr)
            .type_attr("__ffi_eq__", eq)
            .type_attr("__ffi_compare__", cmp)
            .type_attr("__ffi_hash__", hash)
            .register()
            .unwrap();
        Reflect::<Opaque>::new().def_ro(tvmffi_alloc::field!(Opaque, id)).register().unwrap();
    });
}

fn node(
    name: &str,
    weight: f64,
    next: Option<&ObjectRef<Object<Node>>>,
) -> ObjectRef<Object<Node>> {
    registered();
    object_type::new_object(Node {
        name: name.into(),
        weight,
        next: FieldCell::new(next.cloned()),
        hidden: 7,
        note: FieldCell::new(Any::none()),
    })
    .unwrap()
}

fn celsius(degrees: f64) -> Any {
    registered();
    object_type::new_object(Celsius { degrees }).unwrap().into()
}

fn repr(v: &Any) -> String {
    call("ffi.ReprPrint", &[v.view()]).unwrap().as_str().unwrap().to_owned()
}

fn eq(a: &Any, b: &Any) -> bool {
    call("ffi.RecursiveEq", &[a.view(), b.view()]).unwrap().get().unwrap()
}

#[test]
fn reflected_objects_print_their_fields() {
    let _s = serial();
    let tail = node("tail", 0.5, None);
    let head = node("head", 2.0, Some(&tail));
    assert_eq!(
        repr(&Any::from(head.clone())),
        r#"test.dataclass.Node(name="head", weight=2, next=test.dataclass.Node(name="tail", weight=0.5, next=None, note=None), note=None)"#
    );
    // A cycle through a writable field.
    tail.next.set(Some(head.clone()));
    assert_eq!(
        repr(&Any::from(head.clone())),
        r#"test.dataclass.Node(name="head", weight=2, next=test.dataclass.Node(name="tail", weight=0.5, next=..., note=None), note=None)"#
    );
    tail.next.set(None);
    // A type without fields in repr prints its key alone.
    registered();
    let o = object_type::new_object(Opaque { id: 1 }).unwrap();
    assert_eq!(repr(&Any::from(o)), "test.dataclass.Opaque(id=1)");
    // Hooks, also when nested in containers.
    let c = celsius(21.5);
    assert_eq!(repr(&arr(vec![c.clone(), c])), "(21.5C, 21.5C)");
}

#[test]
fn reflected_objects_compare_and_hash_by_fields_and_hooks() {
    let _s = serial();
    let a = Any::from(node("n", 1.0, None));
    let b = Any::from(node("n", 1.0, None));
    let c = Any::from(node("n", 2.0, None));
    assert!(eq(&a, &b));
    assert!(!eq(&a, &c));
    let lt = |x: &Any, y: &Any| {
        call("ffi.RecursiveLt", &[x.view(), y.view()]).unwrap().get::<bool>().unwrap()
    };
    assert!(lt(&a, &c) && !lt(&c, &a));
    // `hidden` is CompareOff and HashOff; `note` HashOff only.
    let h = |v: &Any| call("ffi.RecursiveHash", &[v.view()]).unwrap().get::<i64>().unwrap();
    let an: ObjectRef<Object<Node>> = a.get().unwrap();
    an.note.set(Any::from(5i64));
    assert!(!eq(&a, &b), "note is compared");
    assert_eq!(h(&a), h(&b), "but not hashed");

    // Hooks decide for Celsius: 21.4 and 20.6 round alike.
    let (x, y, z) = (celsius(21.4), celsius(20.6), celsius(25.0));
    assert!(eq(&x, &y) && !eq(&x, &z));
    assert!(lt(&x, &z));
    assert_eq!(h(&x), h(&y));
    assert_eq!(h(&x), h(&Any::from(21i64)), "the hook hashes the rounded integer");
    // Different reflected types are unequal, and cannot be ordered.
    assert!(!eq(&a, &x));
    let e = call("ffi.RecursiveLt", &[a.view(), x.view()]).unwrap_err();
    assert_eq!(e.kind(), "TypeError");
    assert_eq!(
        e.message(),
        "Cannot compare values of different types: test.dataclass.Node vs test.dataclass.Celsius"
    );
}

#[test]
fn deep_copies_preserve_sharing_and_cycles() {
    let _s = serial();
    let tail = node("tail", 0.5, None);
    let head = node("head", 2.0, Some(&tail));
    tail.next.set(Some(head.clone())); // head -> tail -> head
    let shared = List::from_vec(vec![Any::from(head.clone())]);
    let root = arr(vec![Any::from(head.clone()), shared.clone().into(), shared.clone().into()]);
    let copy: Array = call("ffi.DeepCopy", &[root.view()]).unwrap().try_into().unwrap();
    let h2: ObjectRef<Object<Node>> = copy.get_as(0).unwrap();
    assert!(!h2.ptr_eq(&head), "a new head");
    let t2 = h2.next.get().unwrap();
    assert!(!t2.ptr_eq(&tail), "a new tail");
    assert!(t2.next.get().unwrap().ptr_eq(&h2), "the cycle closes on the copy");
    let (l1, l2): (List, List) = (copy.get_as(1).unwrap(), copy.get_as(2).unwrap());
    assert!(l1.ptr_eq(&l2) && !l1.ptr_eq(&shared), "one new list for the shared one");
    let inner: ObjectRef<Object<Node>> = l1.get_as(0).unwrap();
    assert!(inner.ptr_eq(&h2), "the head inside the list is the same copy");
    assert_eq!((h2.name.as_str(), h2.weight, h2.hidden), ("head", 2.0, 7));
    assert!(eq(&root, &copy.clone().into()));
    tail.next.set(None); // break the original cycle so it can be freed
    t2.next.set(None);

    // Leaves are shared; an array inside a cycle through a list is fixed up.
    let l = List::new();
    let a = arr(vec![l.clone().into(), s("a string long enough to live in an object")]);
    l.push(a.clone());
    let a2: Array = call("ffi.DeepCopy", &[a.view()]).unwrap().try_into().unwrap();
    let l2: List = a2.get_as(0).unwrap();
    let back: Array = l2.get_as(0).unwrap();
    assert!(back.ptr_eq(&a2), "the list's element is the copied array, not the original");
    let orig: Array = a.clone().try_into().unwrap();
    assert_eq!(
        a2.get(1).unwrap().as_object_ptr(),
        orig.get(1).unwrap().as_object_ptr(),
        "strings are shared"
    );
    l.clear();
    l2.clear();

    // A dict whose keys and values are copied (a cycle through a value).
    let d = Dict::new();
    let key = List::from_vec(vec![Any::from(1i64)]);
    d.insert(key.clone(), d.clone()).unwrap();
    let d2: Dict =
        call("ffi.DeepCopy", &[Any::from(d.clone()).view()]).unwrap().try_into().unwrap();
    let (k2, v2) = d2.to_vec().pop().unwrap();
    let k2: List = k2.try_into().unwrap();
    assert!(!k2.ptr_eq(&key));
    assert!(Dict::try_from(v2).unwrap().ptr_eq(&d2));
    d.clear();
    d2.clear();

    // Hook types copy with their shallow copy; a type without one is refused.
    let c = celsius(3.0);
    let c2 = call("ffi.DeepCopy", &[c.view()]).unwrap();
    assert_ne!(c2.as_object_ptr(), c.as_object_ptr());
    registered();
    let o = Any::from(object_type::new_object(Opaque { id: 1 }).unwrap());
    let e = call("ffi.DeepCopy", &[arr(vec![o]).view()]).unwrap_err();
    assert_eq!(e.kind(), "InternalError");
    assert!(
        e.message().contains("\"test.dataclass.Opaque\" because it is not copy-constructible"),
        "{e}"
    );
}

/// Run `f` on a thread with a small stack: the traversals must not recurse natively.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new().stack_size(256 * 1024).spawn(f).unwrap().join().unwrap()
}

#[test]
#[cfg_attr(target_os = "wasi", ignore = "wasm32-wasip1 has no threads")]
#[cfg_attr(miri, ignore = "stack sizes mean nothing under Miri, and 20k levels take hours")]
fn deep_input_does_not_exhaust_the_stack() {
    let _s = serial();
    // Deep enough that any per-level native recursion would overflow the small stack.
    const DEPTH: usize = 20_000;
    // Values are built and dropped on a thread with a large stack: dropping nests as deep
    // as the value (the containers' own `Drop`); the traversals run on a small one.
    let big = std::thread::Builder::new().stack_size(512 << 20);
    let handle = big.spawn(|| {
        let build = || {
            let mut v = Any::from(1i64);
            for _ in 0..DEPTH {
                v = List::from_vec(vec![v]).into();
            }
            v
        };
        let (a, b) = (build(), build());
        // SAFETY: both are lists (objects); their addresses cross to the small thread, which
        // only reads them while this thread keeps them alive (it joins before dropping).
        let (pa, pb) =
            unsafe { (a.as_raw().value.v_ptr as usize, b.as_raw().value.v_ptr as usize) };
        let result = on_small_stack(move || {
            let view = |p: usize| {
                let obj = core::ptr::NonNull::new(p as *mut tvmffi_core::ObjectHeader).unwrap();
                // SAFETY: a live list kept by the spawning thread.
                unsafe { AnyView::from_object_ptr(obj) }
            };
            let (a, b) = (view(pa), view(pb));
            let eq = call("ffi.RecursiveEq", &[a, b]).unwrap().get::<bool>().unwrap();
            let ha = call("ffi.RecursiveHash", &[a]).unwrap().get::<i64>().unwrap();
            let hb = call("ffi.RecursiveHash", &[b]).unwrap().get::<i64>().unwrap();
            let text = call("ffi.ReprPrint", &[a]).unwrap();
            let copy_eq = {
                let copy = call("ffi.DeepCopy", &[a]).unwrap();
                let same =
                    call("ffi.RecursiveEq", &[a, copy.view()]).unwrap().get::<bool>().unwrap();
                // The copy is as deep: hand it back to be dropped on the large stack.
                (same, copy.into_raw())
            };
            (eq, ha == hb, text.as_str().unwrap().len(), copy_eq.0, SendRaw(copy_eq.1))
        });
        // SAFETY: the copy's owned value, handed over by the small thread.
        drop(unsafe { Any::from_raw(result.4.0) });
        drop((a, b));
        (result.0, result.1, result.2, result.3)
    });
    let (eq, same_hash, text_len, copy_eq) = handle.unwrap().join().unwrap();
    assert!(eq && same_hash && copy_eq);
    assert_eq!(text_len, 2 * DEPTH + 1);
}

/// An owned value crossing threads by hand (`Any` holds raw pointers).
struct SendRaw(tvmffi_core::sys::TVMFFIAny);
// SAFETY: the value is owned by whoever holds this, and objects are thread-safe.
unsafe impl Send for SendRaw {}

#[test]
#[cfg_attr(target_os = "wasi", ignore = "wasm32-wasip1 has no threads")]
fn hooks_nest_only_so_deep() {
    let _s = serial();
    // A hook that prints itself through fn_repr recurses without end: refused, not a crash.
    #[repr(C)]
    #[derive(Default)]
    struct Mirror;
    tvmffi_alloc::object_type! {
        // SAFETY: a test-only key.
        unsafe impl ObjectDef for Mirror { type_key = "test.dataclass.Mirror"; parent = ObjectRoot; }
    }
    let hook = Function::from_packed(|args: &[AnyView<'_>]| {
        let f: Function = args[1].get()?;
        // A fresh object each time, so the printer never sees a cycle.
        let other = object_type::new_object(Mirror)?;
        f.call(&[AnyView::from(&other)])
    });
    Reflect::<Mirror>::new().type_attr("__ffi_repr__", hook).register().unwrap();
    let m = Any::from(object_type::new_object(Mirror).unwrap());
    // Each level runs the hook and a nested print on the native stack: the bound keeps that
    // within a thread's stack: about 1.7 KiB a level in release builds, 9.4 KiB in debug
    // ones, so 128 levels fit Rust's default 2 MiB (a main thread has 8).
    let run = move || call("ffi.ReprPrint", &[m.view()]).unwrap_err().to_string();
    let e = std::thread::Builder::new().stack_size(2 << 20).spawn(run).unwrap().join().unwrap();
    assert!(e.contains("custom hooks nested more than"), "{e}");
}
