//! Structural equality, hashing and first mismatches against the reference's answers
//! (`structural/golden.txt`, made by `structural/golden.py` from the scenarios of
//! `structural/cases.txt`), plus the properties the reference cannot show: values that
//! contain themselves and very deep values.

#[path = "structural/dsl.rs"]
mod dsl;
#[path = "structural/nodes.rs"]
mod nodes;

use std::fmt::Write as _;

use tvmffi_alloc::structural::{
    AccessKind, AccessPath, Options, first_mismatch, structural_equal, structural_hash,
};
use tvmffi_alloc::{Array, Error, List};
use tvmffi_core::{Any, AnyView, Object, ObjectRef, TypeIndex};

use nodes::{Node, new_node, types};

const CASES: &str = include_str!("structural/cases.txt");
const GOLDEN: &str = include_str!("structural/golden.txt");

/// A path as the reference's `repr` prints it: `ReprPrint` of map keys, which for the test
/// nodes is `type_key(field=repr, ...)`.
fn path_repr(path: &AccessPath) -> String {
    let mut out = String::from("<root>");
    for step in path.to_steps() {
        let key = step.key();
        match step.kind() {
            AccessKind::ATTR => write!(out, ".{}", key.as_str().unwrap()).unwrap(),
            AccessKind::ARRAY_ITEM => write!(out, "[{}]", key.get::<i64>().unwrap()).unwrap(),
            AccessKind::ARRAY_ITEM_MISSING => {
                write!(out, "[<missing:{}>]", key.get::<i64>().unwrap()).unwrap()
            }
            AccessKind::MAP_ITEM => write!(out, "[{}]", value_repr(key)).unwrap(),
            _ => write!(out, "[<missing:{}>]", value_repr(key)).unwrap(),
        }
    }
    out
}

fn value_repr(v: AnyView<'_>) -> String {
    if let Ok(node) = v.get::<ObjectRef<Object<Node>>>() {
        let key = tvmffi_alloc::object_type::type_key(v.type_index());
        let name = node.get(0);
        return format!("{key}(name={})", value_repr(name.view()));
    }
    let mut s = String::new();
    tvmffi_alloc::structural::path::write_key(&mut s, v).unwrap();
    s
}

fn options(text: &str) -> Options {
    let parts: Vec<&str> = text.split('+').collect();
    Options { map_free_vars: parts.contains(&"map"), skip_tensor_content: parts.contains(&"skip") }
}

fn error_text(e: &Error) -> String {
    format!("error: {}: {}", e.kind(), e.message())
}

fn hash_text(text: &str, opts: Options) -> String {
    let h = |v: Any| structural_hash(v.view(), opts);
    match (h(dsl::parse(text)), h(dsl::parse(text))) {
        (Ok(a), Ok(b)) if a == b => a.to_string(),
        (Ok(_), Ok(_)) => "*".into(),
        (Err(e), _) | (_, Err(e)) => error_text(&e),
    }
}

/// Our answer to one scenario, in the golden file's format.
fn run(line: &str) -> String {
    let parts: Vec<&str> = line.split('|').map(str::trim).collect();
    let [name, opts, lhs_text, rhs_text] = parts[..] else { panic!("bad case {line}") };
    let opts = options(opts);
    let mut lhs_hash = hash_text(lhs_text, opts);
    if rhs_text == "-" {
        return [name, "-", &lhs_hash, "-", "-", "-"].join("\t");
    }
    let lhs = dsl::parse(lhs_text);
    let rhs = if rhs_text == "=" { lhs.clone() } else { dsl::parse(rhs_text) };
    let mut rhs_hash = if rhs_text == "=" { lhs_hash.clone() } else { hash_text(rhs_text, opts) };
    if lhs_hash.starts_with("error") || rhs_hash.starts_with("error") {
        lhs_hash = "-".into();
        rhs_hash = "-".into();
    }
    let answer = structural_equal(lhs.view(), rhs.view(), opts)
        .and_then(|eq| Ok((eq, first_mismatch(lhs.view(), rhs.view(), opts)?)));
    match answer {
        Err(e) => [name, &error_text(&e), "-", "-", "-", "-"].join("\t"),
        Ok((eq, mismatch)) => {
            let (l, r) = match mismatch {
                None => ("-".into(), "-".into()),
                Some((l, r)) => (path_repr(&l), path_repr(&r)),
            };
            [name, if eq { "true" } else { "false" }, &lhs_hash, &rhs_hash, &l, &r].join("\t")
        }
    }
}

#[test]
fn equality_hashes_and_mismatches_match_the_reference() {
    let cases = CASES.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#'));
    let golden: Vec<&str> = GOLDEN.lines().collect();
    let mut failures = Vec::new();
    let mut n = 0;
    for (case, expected) in cases.zip(&golden) {
        n += 1;
        let got = run(case);
        if got != *expected {
            failures.push(format!("  expected: {expected}\n  got:      {got}"));
        }
    }
    assert_eq!(n, golden.len(), "cases.txt and golden.txt disagree: run golden.py");
    assert!(
        failures.is_empty(),
        "{} of {n} scenarios differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
