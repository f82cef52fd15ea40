//! The dataclass built-ins called by name, as the Python package calls them: `ffi.ReprPrint`,
//! `ffi.RecursiveHash`, `ffi.RecursiveEq`/`Lt`/`Le`/`Gt`/`Ge` and `ffi.DeepCopy` on values and
//! containers, against outputs the reference produced (`tests/dataclass/values.golden`, from
//! `gen_golden.py`), and on values nested too deep for native recursion. Rust-defined
//! reflected objects and their hooks are in `dataclass_objects.rs`.

extern crate alloc;

#[path = "dataclass/support.rs"]
mod support;

use std::collections::HashMap;

use support::{arr, call, s, serial};
use tvmffi_alloc::map::{Dict, Map};
use tvmffi_alloc::{Array, BigInt, Error, Function, List, Shape, Tensor};
use tvmffi_core::{Any, AnyView, DataType, Device, DeviceType, TypeIndex};

fn b(bytes: &[u8]) -> Any {
    tvmffi_alloc::Bytes::try_new(bytes).unwrap().into()
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
