//! `tvmffi_alloc::json`: values, errors and output compared with what the reference's
//! `ffi.json.Parse` / `ffi.json.Stringify` produce (expected strings taken from the
//! reference; `std-tier/tests/json_reference.rs` compares with it live).

use tvmffi_alloc::json::{self, MAX_DEPTH, ParseErrorKind};
use tvmffi_alloc::{Array, Dict, List, Map, Shape};
use tvmffi_core::{Any, AnyView, TypeIndex};

/// `n`, or `miri` under Miri (which runs everything a hundred times slower).
const fn scale(n: usize, miri: usize) -> usize {
    if cfg!(miri) { miri } else { n }
}

fn parse(text: &str) -> Any {
    json::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

fn parse_error(text: &str) -> String {
    match json::parse(text.as_bytes()) {
        Ok(v) => panic!("{text:?} parsed as {v:?}"),
        Err(e) => e.to_string(),
    }
}

fn compact(v: &Any) -> String {
    json::stringify(v.view(), None).unwrap()
}

#[test]
fn values_have_the_reference_types() {
    let v = parse(r#"{"a": [1, -2, 2.5, "s", true, false, null], "b": {}}"#);
    assert_eq!(v.type_index(), TypeIndex::MAP);
    let map: Map = v.get().unwrap();
    let a: Array = map.get_as("a").unwrap();
    let kinds: Vec<TypeIndex> = a.iter().map(|x| x.type_index()).collect();
    use TypeIndex as T;
    assert_eq!(kinds, [T::INT, T::INT, T::FLOAT, T::SMALL_STR, T::BOOL, T::BOOL, T::NONE]);
    assert_eq!(a.get_as::<i64>(1).unwrap(), -2);
    assert_eq!(map.get_as::<Map>("b").unwrap().len(), 0);
    // Integers beyond int64_t are floats, as `strtoimax` overflow falls back to `strtod`.
    assert_eq!(parse("9223372036854775807").get::<i64>().unwrap(), i64::MAX);
    assert_eq!(parse("-9223372036854775808").get::<i64>().unwrap(), i64::MIN);
    let big = parse("9223372036854775808");
    assert_eq!(big.type_index(), TypeIndex::FLOAT);
    assert_eq!(big.get::<f64>().unwrap(), 9223372036854775808.0);
    assert_eq!(
        parse("123456789012345678901234567890").get::<f64>().unwrap(),
        1.2345678901234568e29
    );
    // The reference's leniencies (C's number syntax) and extensions.
    assert_eq!(parse("01").get::<i64>().unwrap(), 1);
    assert_eq!(parse("+1").get::<i64>().unwrap(), 1);
    assert_eq!(parse("-0").type_index(), TypeIndex::INT);
    assert_eq!(parse("1.").get::<f64>().unwrap(), 1.0);
    assert_eq!(parse(".5").get::<f64>().unwrap(), 0.5);
    assert!(parse("NaN").get::<f64>().unwrap().is_nan());
    assert_eq!(parse("-Infinity").get::<f64>().unwrap(), f64::NEG_INFINITY);
    assert_eq!(parse(" \t\r\n Infinity \n").get::<f64>().unwrap(), f64::INFINITY);
}

#[test]
fn repeated_keys_keep_the_last_value_in_first_position() {
    let map: Map = parse(r#"{"a": 1, "b": 2, "a": 3}"#).get().unwrap();
    assert_eq!(map.get_as::<i64>("a").unwrap(), 3);
    assert_eq!(compact(&Any::from(map)), r#"{"a":3,"b":2}"#);
}

#[test]
fn escapes_and_unicode() {
    let s = parse(r#""a\"b\\c\/d\b\f\n\r\t\u0041\u00e9\u4e2d\uD83D\uDE00\u0000""#);
    assert_eq!(s.as_str().unwrap(), "a\"b\\c/d\u{8}\u{c}\n\r\tAé中😀\0");
    // Raw UTF-8 passes through both ways; `/` and DEL are escaped on the way out.
    let raw = parse("\"é中😀/\u{7f}\"");
    assert_eq!(compact(&raw), "\"é中😀\\/\\u007f\"");
    // Upper- and lower-case hex digits.
    assert_eq!(parse(r#""\u00C9\u00e9""#).as_str().unwrap(), "Éé");
    // A long string without escapes becomes a string object.
    let long = "x".repeat(1000);
    assert_eq!(parse(&format!("\"{long}\"")).as_str().unwrap(), long);
}

#[test]
fn syntax_errors_have_the_reference_messages() {
    // Each message as the reference's `ffi.json.Parse` raises it.
    let cases = [
        ("1e400", "Expecting value: line 1 column 1 (char 0)"),
        ("1e-400", "Expecting value: line 1 column 1 (char 0)"),
        ("5e-324", "Expecting value: line 1 column 1 (char 0)"),
        ("[1,]", "Expecting value: line 1 column 4 (char 3)"),
        ("[1", "Expecting ',' delimiter: line 1 column 3 (char 2)"),
        ("[1,", "Syntax error near: line 1 column 4 (char 3)"),
        ("{", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
        ("{\"a\"", "Expecting ':' delimiter: line 1 column 5 (char 4)"),
        ("{\"a\":1", "Expecting ',' delimiter: line 1 column 7 (char 6)"),
        ("{\"a\":1,", "Syntax error near: line 1 column 8 (char 7)"),
        (
            "{\"a\":1,}",
            "Expecting property name enclosed in double quotes: line 1 column 8 (char 7)",
        ),
        ("", "Expecting value: line 1 column 1 (char 0)"),
        ("   ", "Expecting value: line 1 column 4 (char 3)"),
        ("tru", "Expecting value: line 1 column 1 (char 0)"),
        ("truex", "Extra data: line 1 column 5 (char 4)"),
        ("\"abc", "Unterminated string starting at: line 1 column 1 (char 0)"),
        ("\"a\\x\"", "Invalid \\escape: line 1 column 4 (char 3)"),
        ("\"a\\", "Invalid \\escape: line 1 column 4 (char 3)"),
        ("\"\\u12\"", "Invalid \\uXXXX escape: line 1 column 3 (char 2)"),
        ("\"\\uD800\"", "Invalid surrogate pair of \\uXXXX escapes: line 1 column 3 (char 2)"),
        (
            "\"\\uD800\\u0041\"",
            "Invalid surrogate pair of \\uXXXX escapes: line 1 column 10 (char 9)",
        ),
        ("\"\\uDC00\"", "Invalid surrogate pair of \\uXXXX escapes: line 1 column 3 (char 2)"),
        ("\"a\nb\"", "Invalid control character at: line 1 column 3 (char 2)"),
        ("[\n 1,\n 2 x]", "Expecting ',' delimiter: line 3 column 4 (char 9)"),
        ("-NaN", "Expecting value: line 1 column 1 (char 0)"),
        ("-Inf", "Expecting value: line 1 column 1 (char 0)"),
        ("nul", "Expecting value: line 1 column 1 (char 0)"),
        ("1 2", "Extra data: line 1 column 3 (char 2)"),
        ("0x10", "Extra data: line 1 column 2 (char 1)"),
        ("--1", "Expecting value: line 1 column 1 (char 0)"),
        ("1-2", "Expecting value: line 1 column 1 (char 0)"),
        ("- 1", "Expecting value: line 1 column 1 (char 0)"),
        ("[1,\n\n  ]", "Expecting value: line 3 column 3 (char 7)"),
        ("{\"a\" 1}", "Expecting ':' delimiter: line 1 column 6 (char 5)"),
        ("{1:2}", "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"),
    ];
    for (text, expected) in cases {
        assert_eq!(parse_error(text), expected, "{text:?}");
    }
    let e = json::parse(b"[\n 1,\n 2 x]").unwrap_err();
    assert_eq!(
        (e.kind(), e.line(), e.column(), e.offset()),
        (ParseErrorKind::ExpectingComma, 3, 4, 9)
    );
    // As an FFI error: the reference's `ValueError`.
    let e = tvmffi_alloc::Error::from(e);
    assert_eq!(e.kind(), "ValueError");
    assert_eq!(e.message(), "Expecting ',' delimiter: line 3 column 4 (char 9)");
}

#[test]
#[cfg_attr(miri, ignore = "a thousand levels take most of a minute under Miri")]
#[cfg_attr(
    target_os = "wasi",
    ignore = "dropping 1000 nested containers (each drop recursing into its elements) needs more \
              than wasmtime's 512 KiB stack in a debug build"
)]
fn nesting_up_to_max_depth_is_read() {
    for (open, close) in [("[", "]"), ("{\"k\":", "}")] {
        let ok = format!("{}1{}", open.repeat(MAX_DEPTH), close.repeat(MAX_DEPTH));
        let v = parse(&ok);
        assert_eq!(json::stringify(v.view(), None).unwrap(), ok);
    }
}

#[test]
fn deeper_nesting_is_an_error_not_a_stack_overflow() {
    for open in ["[", "{\"k\":"] {
        // Nothing deep is built: containers are made when they close.
        let too_deep = format!("{}1", open.repeat(MAX_DEPTH + 1));
        let e = json::parse(too_deep.as_bytes()).unwrap_err();
        assert_eq!(e.kind(), ParseErrorKind::TooDeep);
        assert_eq!(e.offset(), MAX_DEPTH * open.len());
    }
    let huge = "[".repeat(scale(1_000_000, 2 * MAX_DEPTH));
    let e = json::parse(huge.as_bytes()).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "Nesting too deep (more than {MAX_DEPTH} levels): line 1 column {} (char {MAX_DEPTH})",
            MAX_DEPTH + 1
        )
    );
}

#[test]
fn writing_any_depth_takes_no_stack() {
    // Deeper than the parser accepts: values built in code.
    let mut v = Any::from(1i64);
    let depth = scale(100_000, 300);
    for _ in 0..depth {
        v = Any::from(Array::from_vec(vec![v]));
    }
    let text = json::stringify(v.view(), None).unwrap();
    assert_eq!(text.len(), 2 * depth + 1);
    // Unwind without recursion, so the test itself does not overflow dropping it.
    while let Ok(a) = v.get::<Array>() {
        let inner = a.as_slice().first().cloned();
        drop(a);
        match inner {
            Some(inner) => v = inner,
            None => break,
        }
    }
}

#[test]
fn indentation_matches_the_reference() {
    let v = parse(r#"[1,[2,{"a":[]}],{}]"#);
    assert_eq!(
        json::stringify(v.view(), Some(2)).unwrap(),
        "[\n  1,\n  [\n    2,\n    {\n      \"a\": [\n      ]\n    }\n  ],\n  {\n  }\n]"
    );
    let indent = |text: &str, n: i32| json::stringify(parse(text).view(), Some(n)).unwrap();
    assert_eq!(indent("[]", 2), "[\n]");
    assert_eq!(indent("{}", 2), "{\n}");
    assert_eq!(indent("[[]]", 2), "[\n  [\n  ]\n]");
    assert_eq!(indent(r#"{"x":{}}"#, 3), "{\n   \"x\": {\n   }\n}");
    assert_eq!(indent("[1,2]", -2), "[\n1,\n2\n]");
    assert_eq!(indent("[1,2]", 0), "[1,2]");
    assert_eq!(
        indent(r#"{"a":1,"b":[true,false,null]}"#, 1),
        "{\n \"a\": 1,\n \"b\": [\n  true,\n  false,\n  null\n ]\n}"
    );
}

#[test]
fn round_trips_keep_types_and_bits() {
    let text = r#"{"i":[0,-1,9223372036854775807],"f":[0.1,1.0,-0.0,1e+300,2.2250738585072014e-308,NaN,-Infinity],"s":"\u0001\/\"","n":null,"b":[true,false],"nested":{"x":{"y":[[],{}]}}}"#;
    let v = parse(text);
    let once = compact(&v);
    let twice = compact(&parse(&once));
    assert_eq!(once, twice);
    let map: Map = parse(&once).get().unwrap();
    let floats: Array = map.get_as("f").unwrap();
    let bits: Vec<u64> = floats.iter().map(|f| f.get::<f64>().unwrap().to_bits()).collect();
    // (Subnormals are written but, like the reference, not read: `strtod` flags them.)
    let expected = [0.1f64, 1.0, -0.0, 1e300, f64::MIN_POSITIVE, f64::NAN, f64::NEG_INFINITY];
    for (b, e) in bits.iter().zip(expected) {
        assert!(*b == e.to_bits() || (e.is_nan() && f64::from_bits(*b).is_nan()), "{e}");
    }
    assert_eq!(floats.get(1).unwrap().type_index(), TypeIndex::FLOAT);
}

#[test]
fn lists_are_written_and_unsupported_values_refused() {
    let list = List::from_vec(vec![Any::from(1i64), Any::from(Map::new())]);
    assert_eq!(compact(&Any::from(list.clone())), "[1,{}]");
    // A list inside itself.
    list.push(Any::from(list.clone()));
    let e = json::stringify(AnyView::from(&list), None).unwrap_err();
    assert_eq!(
        (e.kind().as_ref(), e.message().as_ref()),
        ("ValueError", "Cycle detected: List contains itself")
    );
    list.clear();
    // The same list twice, side by side, is not a cycle.
    let outer = List::from_vec(vec![Any::from(list.clone()), Any::from(list.clone())]);
    assert_eq!(compact(&Any::from(outer)), "[[],[]]");

    let unsupported = |v: Any, expected: &str| {
        let e = json::stringify(v.view(), None).unwrap_err();
        assert_eq!((e.kind().as_ref(), e.message().as_ref()), ("ValueError", expected));
    };
    unsupported(Any::from(Shape::new(&[1, 2])), "Unsupported type: `ffi.Shape`");
    unsupported(
        tvmffi_alloc::Bytes::from(&b"xx"[..]).into_any(),
        "Unsupported type: `ffi.SmallBytes`",
    );
    unsupported(Any::from(Dict::new()), "Unsupported type: `ffi.Dict`");
    let int_key = Map::try_from_iter([(Any::from(1i64), Any::from(2i64))]).unwrap();
    unsupported(Any::from(int_key), "Expect key to be string, got `int`");
}

fn raw(v: &Any) -> Vec<u8> {
    let mut out = Vec::new();
    json::write(&mut out, v.view(), None).unwrap();
    out
}

/// A small deterministic generator for the mutation test.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn mutated_documents_never_panic() {
    let seed = br#"{"a": [1, -2.5e3, "x\u00e9\n", true, null, {"b": [NaN, -Infinity, ""]}], "c": "\uD83D\uDE00"}"#;
    let alphabet = b"{}[],:\"\\u0123456789abcdefABCDEF.eE+-tnINx \n\x01\xff";
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut parsed = 0;
    for _ in 0..scale(20_000, 100) {
        let mut doc = seed.to_vec();
        for _ in 0..(rng.next() % 4 + 1) {
            let at = (rng.next() as usize) % (doc.len() + 1);
            let b = alphabet[(rng.next() as usize) % alphabet.len()];
            match rng.next() % 3 {
                0 if at < doc.len() => doc[at] = b,
                1 if at < doc.len() => {
                    doc.remove(at);
                }
                _ => doc.insert(at, b),
            }
        }
        if let Ok(v) = json::parse(&doc) {
            parsed += 1;
            // Whatever parses writes and parses back to the same text.
            let once = raw(&v);
            assert_eq!(raw(&json::parse(&once).unwrap()), once);
        }
    }
    assert!(parsed > 0);
}
