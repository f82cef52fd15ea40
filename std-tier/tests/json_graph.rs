//! JSON and the JSON graph against the reference, live: the reference Python package in
//! `.venv` (on the reference `libtvm_ffi.so`) runs `tests/reference/json_graph.py`, and
//! this process (our runtime, with the reference's C++ test types from
//! `libtvm_ffi_testing.so` loaded into it) does the same work.
//!
//! - Graphs the reference writes load here and write back byte for byte.
//! - Graphs written here (containers built in Rust, and the reference's C++ objects made in
//!   this runtime) load in the reference and write back byte for byte there.
//! - `ffi.json.Parse` + `ffi.json.Stringify` give the same text or the same error message
//!   for a corpus of valid and invalid documents.
//!
//! Without the venv the tests pass as skipped, except under `CI`.
#![cfg(not(miri))] // Miri cannot load shared libraries or run processes

mod common;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use tvmffi_alloc::json;
use tvmffi_alloc::serialization::{from_json_graph_string, to_json_graph_string};
use tvmffi_alloc::{Array, Dict, Function, List, Map};
use tvmffi_core::{Any, AnyView};
use tvmffi_std::module::{LoadOptions, Module};

/// The venv's Python and the reference's test library, or why not.
fn reference() -> Result<(PathBuf, PathBuf), String> {
    let python = common::repo_root().join(".venv/bin/python");
    if !python.exists() {
        return Err(
            "the reference venv (.venv) is missing: run `source ci/lib.sh; ensure_venv`".into()
        );
    }
    let testing = common::reference_lib_dir()?.join("libtvm_ffi_testing.so");
    if !testing.exists() {
        return Err(format!("{} is missing", testing.display()));
    }
    Ok((python, testing))
}

/// Load the reference's C++ test types into this process's runtime, once.
fn load_testing_types(testing: &PathBuf) {
    static LOADED: OnceLock<Module> = OnceLock::new();
    LOADED.get_or_init(|| {
        Module::load_dynamic_library(testing, LoadOptions::new())
            .expect("libtvm_ffi_testing.so loads")
    });
}

/// Run the reference script in `mode` with `input` on stdin; its stdout lines.
fn run_reference(python: &PathBuf, mode: &str, input: &str) -> Vec<String> {
    let script = common::repo_root().join("std-tier/tests/reference/json_graph.py");
    let mut child = Command::new(python)
        .arg(script)
        .arg(mode)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the reference script");
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write to the script");
    let out = child.wait_with_output().expect("run the reference script");
    assert!(
        out.status.success(),
        "the reference script failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output").lines().map(str::to_owned).collect()
}

fn setup() -> Option<PathBuf> {
    match reference() {
        Ok((python, testing)) => {
            load_testing_types(&testing);
            Some(python)
        }
        Err(why) => {
            common::skip(&why);
            None
        }
    }
}

/// The metadata of a graph's text, to write it again with the same.
fn metadata_of(line: &str) -> Any {
    let graph: Map = json::parse(line.as_bytes()).unwrap().get().unwrap();
    graph.get("metadata").unwrap().map(|m| m.to_owned().unwrap()).unwrap_or_default()
}

#[test]
fn reference_graphs_load_here_and_write_back_identically() {
    let Some(python) = setup() else { return };
    let lines = run_reference(&python, "emit", "");
    assert!(lines.len() >= 15, "{lines:?}");
    for line in &lines {
        let value =
            from_json_graph_string(line.as_bytes()).unwrap_or_else(|e| panic!("{line}\n{e}"));
        let again = to_json_graph_string(value.view(), metadata_of(line).view()).unwrap();
        assert_eq!(String::from_utf8(again).unwrap(), *line);
    }
}

#[test]
fn our_graphs_load_in_the_reference_and_write_back_identically() {
    let Some(python) = setup() else { return };
    // Objects of the reference's C++ types, made in this runtime by loading its graphs.
    let reference_values: Vec<Any> = run_reference(&python, "emit", "")
        .iter()
        .map(|line| from_json_graph_string(line.as_bytes()).unwrap())
        .collect();
    let s = |t: &str| tvmffi_alloc::String::from(t).into_any();
    let dense = Map::try_from_iter(
        (0..30).map(|i| (s(&format!("field number {i}")), Any::from(i64::from(i) - 15))),
    )
    .unwrap();
    let dict = Dict::try_from_iter([(
        s("list"),
        Any::from(List::from_vec(vec![Any::from(1.5f64), s("é😀")])),
    )])
    .unwrap();
    let ours = [
        Any::from(Array::from_vec(reference_values.clone())),
        Any::from(dense.clone()),
        Any::from(Array::from_vec(vec![
            Any::from(dense),
            Any::from(dict),
            reference_values[1].clone(),
        ])),
        Any::from(List::from_vec(vec![
            s("a long enough string to be an object"),
            Any::from(i64::MIN),
        ])),
    ];
    let metadata = Any::from(Map::try_from_iter([(s("version"), s("0.1"))]).unwrap());
    let mut input = String::new();
    for (i, value) in ours.iter().enumerate() {
        let meta = if i == 0 { metadata.view() } else { AnyView::none() };
        let text = to_json_graph_string(value.view(), meta).unwrap();
        input.push_str(core::str::from_utf8(&text).unwrap());
        input.push('\n');
    }
    let results = run_reference(&python, "check", &input);
    assert_eq!(results.len(), ours.len());
    for (line, result) in input.lines().zip(results) {
        assert_eq!(result, "ok", "ours:      {line}");
    }
}

#[test]
fn json_text_matches_the_reference() {
    let Some(python) = setup() else { return };
    let corpus: &[(&str, Option<i64>)] = &[
        (r#"{"a": [1, 2.5, "x", null, true, false], "b": {"c": {}}, "d": []}"#, None),
        (r#"{"a": [1, 2.5, "x", null, true, false], "b": {"c": {}}, "d": []}"#, Some(2)),
        (r#"[[], {}, [[]], {"x": {}}]"#, Some(3)),
        ("[1, 2]", Some(-2)),
        ("[0.1, 1e300, -0.0, 1e16, 1e-5, 123.456, 9007199254740993, 1.5e-7, NaN, -Infinity]", None),
        ("[9223372036854775807, -9223372036854775808, 9223372036854775808, 01, +1, 1., .5]", None),
        (r#""\u0041\u00e9\u4e2d\uD83D\uDE00 \/ \b\f\n\r\t \u0001 \u007f""#, None),
        ("\"é中😀\"", None),
        (r#"{"k": 1, "k": 2, "j": 3}"#, None),
        (r#"{"k0":0,"k1":1,"k2":2,"k3":3,"k4":4,"k5":5,"k6":6,"k7":7,"k8":8,"k9":9}"#, None),
        (" \n\t 42 \r\n", None),
        ("", None),
        ("   ", None),
        ("[1,]", None),
        ("[1", None),
        ("[1,", None),
        ("{", None),
        ("{\"a\"", None),
        ("{\"a\":1,", None),
        ("{\"a\":1,}", None),
        ("{1:2}", None),
        ("tru", None),
        ("truex", None),
        ("\"abc", None),
        ("\"a\\x\"", None),
        ("\"a\\", None),
        ("\"\\u12\"", None),
        ("\"\\uD800\"", None),
        ("\"\\uD800\\u0041\"", None),
        ("\"\\uDC00\"", None),
        ("\"a\nb\"", None),
        ("[\n 1,\n 2 x]", None),
        ("{\n  \"a\": 1\n  \"b\": 2\n}", None),
        ("-NaN", None),
        ("-Inf", None),
        ("1e400", None),
        ("1e-400", None),
        ("2e-308", None),
        ("0x10", None),
        ("1-2", None),
        ("[1 2]", None),
        ("[true false]", None),
        ("{\"a\" 1}", None),
        ("nul", None),
        // No comments, no trailing commas, no single quotes: as in RFC 8259.
        ("[1, // one\n 2]", None),
        ("/* c */ 1", None),
        ("['a']", None),
        ("{\"a\": 1,}", None),
    ];
    let mut input = String::from("[");
    for (i, (text, indent)) in corpus.iter().enumerate() {
        if i > 0 {
            input.push(',');
        }
        let mut quoted = Vec::new();
        json::escape_string(&mut quoted, text.as_bytes());
        let indent = indent.map_or("null".to_owned(), |n| n.to_string());
        input.push_str(&format!("[{},{indent}]", String::from_utf8(quoted).unwrap()));
    }
    input.push(']');
    let expected = run_reference(&python, "json", &input);
    assert_eq!(expected.len(), corpus.len());
    let parse = Function::get_global("ffi.json.Parse").unwrap();
    let stringify = Function::get_global("ffi.json.Stringify").unwrap();
    for ((text, indent), expected) in corpus.iter().zip(expected) {
        let expected = json::parse(expected.as_bytes()).unwrap();
        let ours = parse.call(&[AnyView::from(&tvmffi_alloc::String::from(*text))]).and_then(|v| {
            stringify.call(&[v.view(), indent.map_or(AnyView::none(), AnyView::from)])
        });
        let ours = match ours {
            Ok(s) => format!("ok: {}", s.as_str().unwrap()),
            Err(e) => format!("error: {}: {}", e.kind(), e.message()),
        };
        assert_eq!(ours, expected.as_str().unwrap(), "input {text:?} indent {indent:?}");
    }
}
