//! Structural equality, hashing and first mismatches against the reference's answers
//! (`structural/golden.txt`, made by `structural/golden.py` from the scenarios of
//! `structural/cases.txt`), walks and maps likewise, plus the properties the reference cannot show: values that
//! contain themselves and very deep values.

#[path = "structural/dsl.rs"]
mod dsl;
#[path = "structural/nodes.rs"]
mod nodes;

extern crate alloc;

use alloc::sync::Arc;
use core::fmt::Write as _;
use std::sync::Mutex;

use tvmffi_alloc::structural::{
    AccessKind, AccessPath, Options, VisitErrorContext, WalkOrder, first_mismatch,
    structural_equal, structural_hash, structural_map, structural_walk,
};
use tvmffi_alloc::{Error, Function};
use tvmffi_core::{Any, AnyView, Object, ObjectRef, TypeIndex};

use nodes::Node;

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

/// The hash of the value `text` describes, built twice: a number when both agree, `*` when
/// it depends on the objects' addresses (both copies stay alive, so their addresses differ).
fn hash_text(text: &str, opts: Options) -> String {
    let (a, b) = (dsl::parse(text), dsl::parse(text));
    let h = |v: &Any| structural_hash(v.view(), opts);
    match (h(&a), h(&b)) {
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

/// A walk callback's label of a value, as `golden.py` prints it (Python's `repr`, or the
/// type name of objects).
fn label(v: AnyView<'_>) -> String {
    match v.type_index() {
        TypeIndex::NONE => "None".into(),
        TypeIndex::BOOL => {
            if v.get::<bool>().unwrap() {
                "True".into()
            } else {
                "False".into()
            }
        }
        TypeIndex::INT => v.get::<i64>().unwrap().to_string(),
        TypeIndex::FLOAT => format!("{:?}", v.get::<f64>().unwrap()),
        TypeIndex::SMALL_STR | TypeIndex::STR => format!("'{}'", v.as_str().unwrap()),
        TypeIndex::SHAPE => {
            let s: tvmffi_alloc::Shape = v.get().unwrap();
            let dims: Vec<String> = s.as_slice().iter().map(i64::to_string).collect();
            format!("({})", dims.join(", "))
        }
        t => {
            let key = tvmffi_alloc::object_type::type_key(t);
            key.rsplit('.').next().unwrap().to_owned()
        }
    }
}

fn walk(name: &str, text: &str) -> String {
    let mut traces = vec![name.to_owned()];
    for order in [WalkOrder::PRE_ORDER, WalkOrder::POST_ORDER] {
        let trace = Arc::new(Mutex::new(Vec::<String>::new()));
        let sink = trace.clone();
        let record = Function::from_packed(move |args: &[AnyView<'_>]| {
            let kind = args[1].get::<i64>()?;
            sink.lock().unwrap().push(format!("{kind}:{}", label(args[0])));
            Ok(Any::none())
        });
        let value = dsl::parse(text);
        let r = structural_walk(value.view(), order, &[], &[(TypeIndex::ANY, record)]).unwrap();
        assert!(r.is_none());
        traces.push(trace.lock().unwrap().join(" "));
    }
    traces.join("\t")
}

fn map(name: &str, order: &str, text: &str) -> String {
    let order = if order == "pre" { WalkOrder::PRE_ORDER } else { WalkOrder::POST_ORDER };
    let add_one = Function::from_typed(|v: i64| v + 1);
    let value = dsl::parse(text);
    let result = structural_map(value.clone(), order, &[(TypeIndex::INT, add_one)], &[]).unwrap();
    let hash = structural_hash(result.view(), Options::default()).unwrap();
    let same = value.as_object_ptr().is_some() && value.as_object_ptr() == result.as_object_ptr();
    format!("{name}\t{hash}\t{same}")
}

fn trail(name: &str, text: &str) -> String {
    let fail_on_four = || {
        Function::from_packed(|args: &[AnyView<'_>]| {
            let v = args[0].get::<i64>()?;
            if v == 4 {
                return Err(Error::value_error("four"));
            }
            Ok(Any::from(v))
        })
    };
    let mut out = vec![name.to_owned()];
    for walk in [true, false] {
        let value = dsl::parse(text);
        let callbacks = [(TypeIndex::INT, fail_on_four())];
        let e = if walk {
            structural_walk(value.view(), WalkOrder::POST_ORDER, &callbacks, &[]).unwrap_err()
        } else {
            structural_map(value.clone(), WalkOrder::POST_ORDER, &callbacks, &[]).unwrap_err()
        };
        let ctx = VisitErrorContext::of_error(&e).expect("a visit context");
        for prefix in [false, true] {
            let paths = ctx.find_access_paths(&value.get().unwrap(), prefix).unwrap();
            let text: Vec<String> = paths.iter().map(path_repr).collect();
            out.push(if text.is_empty() { "-".into() } else { text.join(" ") });
        }
        out.push(ctx.reverse_visit_pattern().len().to_string());
    }
    out.join("\t")
}

fn run_any(line: &str) -> String {
    if let Some(rest) = line.strip_prefix("trail ") {
        let (name, text) = rest.split_once('|').unwrap();
        return trail(name.trim(), text.trim());
    }
    if let Some(rest) = line.strip_prefix("walk ") {
        let (name, text) = rest.split_once('|').unwrap();
        return walk(name.trim(), text.trim());
    }
    if let Some(rest) = line.strip_prefix("map ") {
        let parts: Vec<&str> = rest.split('|').map(str::trim).collect();
        return map(parts[0], parts[1], parts[2]);
    }
    run(line)
}

/// A golden line as this target can reproduce it. Hashes mix in type key hashes, which are
/// `std::hash` of the key, a 64-bit value on 64-bit targets only: elsewhere (a 32-bit build
/// of the reference included) the hash columns only show whether a hash was computed.
fn portable(case: &str, line: &str) -> String {
    if cfg!(target_pointer_width = "64") || case.starts_with("walk ") || case.starts_with("trail ")
    {
        return line.to_owned();
    }
    let hash_columns: &[usize] = if case.starts_with("map ") { &[1] } else { &[2, 3] };
    let fields = line.split('\t').enumerate().map(|(i, f)| {
        if hash_columns.contains(&i) && f.parse::<u64>().is_ok() { "<hash>" } else { f }
    });
    fields.collect::<Vec<_>>().join("\t")
}

#[test]
fn equality_hashes_and_mismatches_match_the_reference() {
    let cases = CASES.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#'));
    let golden: Vec<&str> = GOLDEN.lines().collect();
    let mut failures = Vec::new();
    let mut n = 0;
    for (case, expected) in cases.zip(&golden) {
        n += 1;
        let got = run_any(case);
        let (got, expected) = (portable(case, &got), portable(case, expected));
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
