//! The JSON graph through the built-in functions `ffi.ToJSONGraph*` / `ffi.FromJSONGraph*`,
//! on this crate's runtime: expected text and messages as the reference produces them
//! (`std-tier/tests/json_graph.rs` compares with the reference live, objects included).

use tvmffi_alloc::serialization::{from_json_graph_string, to_json_graph_string};
use tvmffi_alloc::{Array, BigInt, Bytes, Dict, Function, List, Map, Shape};
use tvmffi_core::{Any, AnyView, DataType, Device, DeviceType, TypeIndex};

fn call(name: &str, args: &[AnyView<'_>]) -> Result<Any, tvmffi_alloc::Error> {
    Function::get_global(name).unwrap_or_else(|| panic!("{name} is not registered")).call(args)
}

fn to_graph(value: &Any, metadata: &Any) -> String {
    let s = call("ffi.ToJSONGraphString", &[value.view(), metadata.view()]).unwrap();
    s.as_str().unwrap().to_owned()
}

fn from_graph(text: &str) -> Result<Any, tvmffi_alloc::Error> {
    call("ffi.FromJSONGraphString", &[AnyView::from(&tvmffi_alloc::String::from(text))])
}

fn s(text: &str) -> Any {
    tvmffi_alloc::String::from(text).into_any()
}

#[test]
fn containers_and_primitives_match_the_reference_text() {
    let shared = s("hello world!!");
    let inner =
        Map::try_from_iter([(s("k"), Any::from(Array::from_vec(vec![Any::from(1i64)])))]).unwrap();
    let value = Any::from(Array::from_vec(vec![
        Any::from(1i64),
        Any::from(2.5f64),
        Any::from(true),
        Any::none(),
        s("ab"),
        shared.clone(),
        shared,
        Bytes::from(&b"xyz"[..]).into_any(),
        Any::from(inner),
        Any::from(Shape::new(&[2, 3])),
        Any::from(Device::new(DeviceType::CUDA, 1)),
        Any::from(DataType::parse("float32").unwrap()),
    ]));
    let metadata = Any::from(Map::try_from_iter([(s("meta"), Any::from(1i64))]).unwrap());
    // Printed by the reference's `tvm_ffi.serialization.to_json_graph_str` for the same value.
    let expected = r#"{"root_index":13,"nodes":[{"type":"int","data":1},{"type":"float","data":2.5},{"type":"bool","data":true},{"type":"None"},{"type":"ffi.String","data":"ab"},{"type":"ffi.String","data":"hello world!!"},{"type":"ffi.Bytes","data":"eHl6"},{"type":"ffi.String","data":"k"},{"type":"ffi.Array","data":[0]},{"type":"ffi.Map","data":[7,8]},{"type":"ffi.Shape","data":[2,3]},{"type":"Device","data":[2,1]},{"type":"DataType","data":"float32"},{"type":"ffi.Array","data":[0,1,2,3,4,5,5,6,9,10,11,12]}],"metadata":{"meta":1}}"#;
    assert_eq!(to_graph(&value, &metadata), expected);

    // And back: the same text again, without the metadata.
    let loaded = from_graph(expected).unwrap();
    let again = to_graph(&loaded, &Any::none());
    assert_eq!(again, expected.replace(r#","metadata":{"meta":1}"#, ""));
    let loaded: Array = loaded.get().unwrap();
    assert_eq!(loaded.get_as::<Bytes>(7).unwrap(), b"xyz");
    assert_eq!(loaded.get(10).unwrap().get::<Device>().unwrap(), Device::new(DeviceType::CUDA, 1));
    assert_eq!(loaded.get(11).unwrap().get::<DataType>().unwrap().to_string(), "float32");
}

#[test]
fn lists_dicts_and_big_integers() {
    let list = Any::from(List::from_vec(vec![Any::from(1i64), Any::from(1i64), Any::from(2i64)]));
    assert_eq!(
        to_graph(&list, &Any::none()),
        r#"{"root_index":2,"nodes":[{"type":"int","data":1},{"type":"int","data":2},{"type":"ffi.List","data":[0,0,1]}]}"#
    );
    let dict = Any::from(Dict::try_from_iter([(s("a"), Any::from(1i64))]).unwrap());
    let text = to_graph(&dict, &Any::none());
    assert_eq!(
        text,
        r#"{"root_index":2,"nodes":[{"type":"ffi.String","data":"a"},{"type":"int","data":1},{"type":"ffi.Dict","data":[0,1]}]}"#
    );
    assert_eq!(from_graph(&text).unwrap().type_index(), TypeIndex::DICT);
    let big: BigInt = "1208925819614629174706176".parse().unwrap();
    let text = to_graph(&big.clone().into_any(), &Any::none());
    assert_eq!(
        text,
        r#"{"root_index":0,"nodes":[{"type":"ffi.BigInt","data":"1208925819614629174706176"}]}"#
    );
    assert_eq!(from_graph(&text).unwrap().get::<BigInt>().unwrap(), big);
    assert_eq!(
        to_graph(&Any::none(), &Any::none()),
        r#"{"root_index":0,"nodes":[{"type":"None"}]}"#
    );
}

#[test]
fn sharing_survives_a_round_trip() {
    let shared = Any::from(Array::from_vec(vec![s("x")]));
    let outer = Any::from(Array::from_vec(vec![shared.clone(), shared]));
    let loaded: Array = from_graph(&to_graph(&outer, &Any::none())).unwrap().get().unwrap();
    let (a, b): (Array, Array) = (loaded.get_as(0).unwrap(), loaded.get_as(1).unwrap());
    assert!(a.ptr_eq(&b));
}

#[test]
fn cycles_are_refused_both_ways() {
    let list = List::new();
    list.push(Any::from(list.clone()));
    let e = call("ffi.ToJSONGraph", &[AnyView::from(&list), AnyView::none()]).unwrap_err();
    assert_eq!(e.kind(), "ValueError");
    assert_eq!(e.message(), "Cycle detected during serialization: a List contains itself");
    list.clear();

    let dict = Dict::new();
    dict.insert(s("me"), Any::from(dict.clone())).unwrap();
    let e = call("ffi.ToJSONGraph", &[AnyView::from(&dict), AnyView::none()]).unwrap_err();
    assert_eq!(e.message(), "Cycle detected during serialization: a Dict contains itself");
    dict.clear();

    // A node inside its own data: the reference recurses until it crashes.
    let e =
        from_graph(r#"{"root_index":0,"nodes":[{"type":"ffi.Array","data":[0,0]}]}"#).unwrap_err();
    assert_eq!(e.kind(), "ValueError");
    assert_eq!(e.message(), "Invalid JSON Object Graph: node 0 is part of its own data (a cycle)");
}

#[test]
fn long_chains_take_no_stack() {
    // Under Miri a node takes tens of milliseconds: a short chain runs the same code.
    let depth = if cfg!(miri) { 20 } else { 50_000 };
    let mut text = String::from(r#"{"root_index":"#);
    text.push_str(&depth.to_string());
    text.push_str(r#","nodes":[{"type":"None"}"#);
    for i in 0..depth {
        text.push_str(&format!(r#",{{"type":"ffi.Array","data":[{i}]}}"#));
    }
    text.push_str("]}");
    let value = from_graph(&text).unwrap();
    assert_eq!(to_json_graph_string(value.view(), AnyView::none()).unwrap(), text.as_bytes());
    unwind(value);
    let value = from_json_graph_string(text.as_bytes()).unwrap();
    assert_eq!(value.type_index(), TypeIndex::ARRAY);
    unwind(value);
}

/// Take a chain of one-element arrays apart from the outside, so dropping it recurses
/// nowhere (dropping an array drops its elements).
fn unwind(mut v: Any) {
    while let Ok(a) = v.get::<Array>() {
        let inner = a.as_slice().first().cloned().unwrap_or_default();
        drop(a);
        v = inner;
    }
}

#[test]
fn bad_graphs_have_the_reference_messages() {
    // (graph, error kind, message) as the reference's `ffi.FromJSONGraphString` raises them.
    let cases = [
        ("[]", "ValueError", "Invalid JSON Object Graph, expected an object"),
        ("{}", "ValueError", "Invalid JSON Object Graph, expected `root_index` integer field"),
        (
            r#"{"root_index": 0}"#,
            "ValueError",
            "Invalid JSON Object Graph, expected `nodes` array field",
        ),
        (
            r#"{"root_index": "a", "nodes": []}"#,
            "ValueError",
            "Invalid JSON Object Graph, expected `root_index` integer field",
        ),
        (
            r#"{"root_index": 0, "nodes": {}}"#,
            "ValueError",
            "Invalid JSON Object Graph, expected `nodes` array field",
        ),
        (
            r#"{"root_index": 0, "nodes": []}"#,
            "ValueError",
            "Invalid JSON Object Graph: invalid node index 0",
        ),
        (
            r#"{"root_index": -1, "nodes": [{"type":"None"}]}"#,
            "ValueError",
            "Invalid JSON Object Graph: invalid node index -1",
        ),
        (
            r#"{"root_index": 0, "nodes": [1]}"#,
            "TypeError",
            "Cannot convert from type `int` to `Map<Any, Any>`",
        ),
        (r#"{"root_index": 0, "nodes": [{}]}"#, "KeyError", "key is not in Map"),
        (
            r#"{"root_index": 0, "nodes": [{"type": 1}]}"#,
            "TypeError",
            "Cannot convert from type `int` to `str`",
        ),
        (r#"{"root_index": 0, "nodes": [{"type": "int"}]}"#, "KeyError", "key is not in Map"),
        (
            r#"{"root_index": 0, "nodes": [{"type": "int", "data": "x"}]}"#,
            "TypeError",
            "Cannot convert from type `ffi.SmallStr` to `int`",
        ),
        (
            r#"{"root_index": 0, "nodes": [{"type": "int", "data": 1.5}]}"#,
            "TypeError",
            "Cannot convert from type `float` to `int`",
        ),
        (
            r#"{"root_index": 0, "nodes": [{"type": "Device", "data": [1]}]}"#,
            "ValueError",
            "Invalid JSON Object Graph: Device data must be an array of [device_type, device_id], got 1 element(s)",
        ),
        (
            r#"{"root_index": 0, "nodes": [{"type": "Device", "data": ["a", 1]}]}"#,
            "TypeError",
            "Cannot convert from type `Array[index 0: ffi.SmallStr]` to `Array<int>`",
        ),
        (
            r#"{"root_index": 0, "nodes": [{"type": "Device", "data": 5}]}"#,
            "TypeError",
            "Cannot convert from type `int` to `Array<int>`",
        ),
        (
            r#"{"root_index": 0, "nodes": [{"type": "ffi.String", "data": 5}]}"#,
            "TypeError",
            "Cannot convert from type `int` to `str`",
        ),
        (
            r#"{"root_index": 0, "nodes": [{"type": "ffi.Array", "data": [5]}]}"#,
            "ValueError",
            "Invalid JSON Object Graph: invalid node index 5",
        ),
        (
            r#"{"root_index": 0, "nodes": [{"type": "ffi.Array", "data": ["x"]}]}"#,
            "TypeError",
            "Cannot convert from type `ffi.SmallStr` to `int`",
        ),
        (
            r#"{"root_index": 0, "nodes": [{"type": "ffi.Map", "data": [0]}]}"#,
            "ValueError",
            "Invalid JSON Object Graph: Map/Dict data must contain an even number of [key, value] entries, got 1",
        ),
        (
            r#"{"root_index": 0, "nodes": [{"type": "ffi.Shape", "data": [1, "a"]}]}"#,
            "TypeError",
            "Cannot convert from type `Array[index 1: ffi.SmallStr]` to `Array<int>`",
        ),
        (
            r#"{"root_index": 0, "nodes": [{"type": "ffi.Function", "data": {}}]}"#,
            "RuntimeError",
            "Type `ffi.Function` does not support reflection creation (no native creator or __ffi_new__ type attr)",
        ),
        (
            r#"{"root_index": 0, "nodes": [{"type": "void*", "data": 1}]}"#,
            "RuntimeError",
            "Type `void*` does not support reflection creation (no native creator or __ffi_new__ type attr)",
        ),
        (
            r#"{"root_index": 0, "nodes": [{"type": "ffi.BigInt", "data": "12x"}]}"#,
            "ValueError",
            "Invalid decimal string for ffi.BigInt",
        ),
        (
            r#"{"root_index": 0, "nodes": [{"type": "ffi.BigInt", "data": " 12"}]}"#,
            "ValueError",
            "Invalid decimal string for ffi.BigInt",
        ),
        (
            r#"{"root_index": 0, "nodes": [{"type": "ffi.BigInt", "data": 12}]}"#,
            "TypeError",
            "Cannot treat type `int` as type `str`",
        ),
        (
            r#"{"root_index": 0, "nodes": [{"type": "ffi.Array", "data": 1}]}"#,
            "TypeError",
            "Cannot convert from type `int` to `Array<Any>`",
        ),
        // Ours is stricter than the reference here (it reads bad base64 as zero bits).
        (
            r#"{"root_index": 0, "nodes": [{"type": "ffi.Bytes", "data": "ab!="}]}"#,
            "ValueError",
            "Invalid JSON Object Graph: ffi.Bytes data is not valid base64",
        ),
    ];
    for (graph, kind, message) in cases {
        let e = from_graph(graph).expect_err(graph);
        assert_eq!((e.kind().as_ref(), e.message().as_ref()), (kind, message), "{graph}");
    }
    // An unknown type key (the reference passes on its type table's "Cannot find type").
    let unknown =
        r#"{"root_index": 1, "nodes": [{"type": "None"}, {"type": "nosuch.Type", "data": 1}]}"#;
    let e = from_graph(unknown).unwrap_err();
    assert_eq!(e.kind(), "RuntimeError");
    assert_eq!(
        e.message(),
        "Cannot find type `nosuch.Type` (node 1 of the JSON graph): no type of that key is \
         registered; load the library that defines it first"
    );
    // Lenient conversions the reference makes too.
    let ok = |graph: &str| from_graph(graph).unwrap();
    assert_eq!(
        ok(r#"{"root_index": 0, "nodes": [{"type": "int", "data": true}]}"#).get::<i64>().unwrap(),
        1
    );
    assert!(
        ok(r#"{"root_index": 0, "nodes": [{"type": "bool", "data": 2}]}"#).get::<bool>().unwrap()
    );
    assert_eq!(
        ok(r#"{"root_index": 0, "nodes": [{"type": "float", "data": 2}]}"#).get::<f64>().unwrap(),
        2.0
    );
    assert_eq!(
        ok(r#"{"root_index": 0, "nodes": [{"type": "ffi.BigInt", "data": "+12"}]}"#)
            .get::<i64>()
            .unwrap(),
        12
    );
}

#[test]
fn values_that_cannot_be_written() {
    let f = Function::get_global("ffi.String").unwrap();
    let e = call("ffi.ToJSONGraph", &[AnyView::from(&f), AnyView::none()]).unwrap_err();
    assert_eq!(e.kind(), "TypeError");
    assert_eq!(
        e.message(),
        "Type `ffi.Function` does not support ToJSONGraph (no native creator or __ffi_new__ type attr)"
    );
    let e = call(
        "ffi.ToJSONGraph",
        &[AnyView::from(core::ptr::null_mut::<core::ffi::c_void>()), AnyView::none()],
    )
    .unwrap_err();
    assert_eq!(
        (e.kind().as_ref(), e.message().as_ref()),
        ("RuntimeError", "Cannot serialize type `void*`")
    );
}

#[test]
fn json_builtins_check_their_arguments() {
    let parse =
        |text: &str| call("ffi.json.Parse", &[AnyView::from(&tvmffi_alloc::String::from(text))]);
    assert_eq!(parse("[1]").unwrap().get::<Array>().unwrap().len(), 1);
    let e = call("ffi.json.Parse", &[AnyView::from(1i64)]).unwrap_err();
    assert_eq!(
        e.message(),
        "Mismatched type on argument #0 when calling: `ffi.json.Parse(0: str) -> Any`. Expected `str` but got `int`"
    );
    let stringify = |args: &[AnyView<'_>]| call("ffi.json.Stringify", args);
    let v = parse(r#"{"a":[1]}"#).unwrap();
    assert_eq!(stringify(&[v.view(), AnyView::none()]).unwrap().as_str().unwrap(), r#"{"a":[1]}"#);
    assert_eq!(
        stringify(&[v.view(), AnyView::from(1i64)]).unwrap().as_str().unwrap(),
        "{\n \"a\": [\n  1\n ]\n}"
    );
    let e = stringify(&[v.view()]).unwrap_err();
    assert_eq!(
        e.message(),
        "Mismatched number of arguments when calling: `ffi.json.Stringify(0: Any, 1: Optional<int>) -> str`. Expected 2 but got 1 arguments"
    );
    let e = stringify(&[v.view(), AnyView::from(1.5f64)]).unwrap_err();
    assert_eq!(
        e.message(),
        "Mismatched type on argument #1 when calling: `ffi.json.Stringify(0: Any, 1: Optional<int>) -> str`. Expected `Optional<int>` but got `float`"
    );
    let e = parse("[1,").unwrap_err();
    assert_eq!(
        (e.kind().as_ref(), e.message().as_ref()),
        ("ValueError", "Syntax error near: line 1 column 4 (char 3)")
    );
}
