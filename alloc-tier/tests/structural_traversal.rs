//! Structural traversals where the reference crashes or cannot be compared line by line:
//! values that contain themselves (the reference recurses until the stack overflows: a
//! segfault), a chain a million levels deep, and the callback-driven visit and mutate
//! engines (their semantics follow the reference's Python tests, `test_structural.py`).

#[path = "structural/dsl.rs"]
mod dsl;
#[path = "structural/nodes.rs"]
mod nodes;

extern crate alloc;

use alloc::sync::Arc;
use std::sync::Mutex;

use tvmffi_alloc::structural::{
    InplaceMode, Options, StructuralKey, StructuralMutator, StructuralVisitor, VisitErrorContext,
    VisitInterrupt, WalkOrder, first_mismatch, structural_equal, structural_hash, structural_map,
    structural_mutate, structural_visit, structural_walk,
};
use tvmffi_alloc::{Array, Error, Function, List};
use tvmffi_core::flags::DefRegionKind;
use tvmffi_core::{Any, AnyView, ObjectRef, TypeIndex};

use nodes::{new_node, set, types};

fn assert_cycle_error(r: Result<impl core::fmt::Debug, Error>, what: &str, key: &str) {
    let e = r.expect_err("a value that contains itself is an error");
    assert_eq!(e.kind(), "ValueError", "{e}");
    let msg = e.message();
    assert!(msg.starts_with(what), "{msg}");
    assert!(msg.contains(&format!("a `{key}` object is reachable from its own")), "{msg}");
}

fn every_algorithm_refuses(v: &Any, key: &str) {
    let o = Options::default();
    assert_cycle_error(structural_hash(v.view(), o), "StructuralHash", key);
    assert_cycle_error(structural_equal(v.view(), v.view(), o), "StructuralEqual", key);
    assert_cycle_error(first_mismatch(v.view(), v.view(), o), "StructuralEqual", key);
    assert_cycle_error(StructuralKey::new(v.clone()).map(|_| ()), "StructuralHash", key);
    let noop = Function::from_packed(|_| Ok(Any::none()));
    let walk = structural_walk(v.view(), WalkOrder::PRE_ORDER, &[(TypeIndex::ANY, noop)], &[]);
    assert_cycle_error(walk, "StructuralVisit", key);
    assert_cycle_error(structural_visit(v.view(), &[]), "StructuralVisit", key);
    let add_one = Function::from_typed(|x: i64| x + 1);
    let mapped =
        structural_map(v.clone(), WalkOrder::POST_ORDER, &[(TypeIndex::INT, add_one)], &[]);
    assert_cycle_error(mapped, "StructuralMutate", key);
    assert_cycle_error(structural_mutate(v.clone(), &[]), "StructuralMutate", key);
}

#[test]
#[cfg_attr(miri, ignore = "found by the native-stack budget, which Miri cannot measure")]
fn values_that_contain_themselves_are_errors() {
    // A list appended to itself.
    let list = List::from_vec(vec![Any::from(1i64)]);
    list.push(Any::from(list.clone()));
    every_algorithm_refuses(&Any::from(list.clone()), "ffi.List");
    list.clear(); // break the cycle, so the list can be freed

    // An object whose field leads back to it through another object and an array.
    let t = types();
    let a = new_node(t.tree, vec![Any::from(1i64)]);
    let b = new_node(t.dag, vec![Any::from(Array::from_vec(vec![a.clone()]))]);
    set(&a, 1, b.clone());
    every_algorithm_refuses(&a, "test.structural.Tree");
    set(&a, 1, Any::none());

    // Comparing a finite value with a cyclic one that runs alongside it for a while ends,
    // as in the reference: the right side runs out first.
    let cyclic = List::from_vec(vec![Any::from(1i64)]);
    cyclic.push(Any::from(cyclic.clone()));
    let finite = dsl::parse("(list 1 (list 1 (list 1 2)))");
    let eq = structural_equal(AnyView::from(&cyclic), finite.view(), Options::default());
    assert!(!eq.unwrap());
    cyclic.clear();
}

/// A chain `Tree(i, Tree(i - 1, ... Tree(0, leaf)))`, built without recursion.
fn tree_chain(depth: usize, leaf: i64) -> Any {
    let tree = types().tree;
    let mut v = new_node(tree, vec![Any::from(leaf)]);
    for i in 0..depth {
        v = new_node(tree, vec![Any::from(i as i64), v]);
    }
    v
}

/// Free a chain link by link (dropping it whole would recurse once per level).
fn free_tree_chain(mut v: Any) {
    while v.type_index() != TypeIndex::NONE {
        let node: ObjectRef<tvmffi_core::Object<nodes::Node>> = v.get().unwrap();
        let next = node.get(1);
        set(&v, 1, Any::none());
        drop(node);
        v = next;
    }
}

/// A chain of lists `[i, [i - 1, ... [0]]]`.
fn list_chain(depth: usize) -> Any {
    let mut v = Any::from(List::from_vec(vec![Any::from(0i64)]));
    for i in 0..depth {
        v = Any::from(List::from_vec(vec![Any::from(i as i64), v]));
    }
    v
}

fn free_list_chain(mut v: Any) {
    while let Ok(list) = v.get::<List>() {
        let next = if list.len() > 1 { list.pop() } else { None };
        drop(list);
        v = next.unwrap_or_default();
    }
}

/// Deep enough that a recursive walk would overflow the native stack; Miri checks the same
/// code paths (not the stack) on a shorter chain.
const DEEP: usize = if cfg!(miri) { 300 } else { 1_000_000 };

#[test]
fn a_million_levels_deep_uses_no_deep_native_stack() {
    let (a, b) = (tree_chain(DEEP, 7), tree_chain(DEEP, 7));
    let o = Options::default();
    assert!(structural_equal(a.view(), b.view(), o).unwrap());
    assert_eq!(structural_hash(a.view(), o).unwrap(), structural_hash(b.view(), o).unwrap());
    // A difference at the very bottom: the mismatch path is a million steps long.
    let c = tree_chain(DEEP, 8);
    let (lp, rp) = first_mismatch(a.view(), c.view(), o).unwrap().expect("a mismatch");
    assert_eq!(lp.depth(), DEEP as i32 + 1);
    assert!(lp.path_equal(&rp).unwrap());
    let steps = lp.to_steps();
    assert_eq!(steps.len(), DEEP + 1);
    assert_eq!(steps.last().unwrap().key().as_str().unwrap(), "a");
    drop((lp, rp, steps)); // freed without recursion
    for v in [a, b, c] {
        free_tree_chain(v);
    }

    let l = list_chain(DEEP);
    let count = Arc::new(Mutex::new(0usize));
    let seen = count.clone();
    let counter = Function::from_packed(move |_| {
        *seen.lock().unwrap() += 1;
        Ok(Any::none())
    });
    let walked =
        structural_walk(l.view(), WalkOrder::POST_ORDER, &[(TypeIndex::ANY, counter)], &[]);
    assert!(walked.unwrap().is_none());
    assert_eq!(*count.lock().unwrap(), 2 * DEEP + 2); // every list and every int
    let add_one = Function::from_typed(|x: i64| x + 1);
    let mapped =
        structural_map(l.clone(), WalkOrder::POST_ORDER, &[(TypeIndex::INT, add_one)], &[])
            .unwrap();
    let top: List = mapped.get().unwrap();
    assert_eq!(top.get_as::<i64>(0).unwrap(), DEEP as i64);
    free_list_chain(mapped);
    free_list_chain(l);
}

type Trace = Arc<Mutex<Vec<String>>>;

fn trace() -> (Trace, Trace) {
    let t = Arc::new(Mutex::new(Vec::new()));
    (t.clone(), t)
}

#[test]
fn walk_callbacks_select_by_type_skip_and_interrupt() {
    // `test_structural_walk_typed_callbacks`
    let root = dsl::parse(r#"[1 2.5 "tag"]"#);
    let (log, sink) = trace();
    let on = |what: &'static str, sink: Arc<Mutex<Vec<String>>>| {
        Function::from_packed(move |args: &[AnyView<'_>]| {
            let v = args[0];
            let text = match v.type_index() {
                TypeIndex::ARRAY => format!("{}", v.get::<Array>()?.len()),
                TypeIndex::INT => v.get::<i64>()?.to_string(),
                TypeIndex::FLOAT => v.get::<f64>()?.to_string(),
                _ => v.as_str()?.to_owned(),
            };
            sink.lock().unwrap().push(format!("{what}:{text}"));
            Ok(Any::none())
        })
    };
    let callbacks = [
        (TypeIndex::ARRAY, on("array", sink.clone())),
        (TypeIndex::INT, on("number", sink.clone())),
        (TypeIndex::FLOAT, on("number", sink.clone())),
        (TypeIndex::STR, on("str", sink.clone())),
    ];
    assert!(structural_walk(root.view(), WalkOrder::PRE_ORDER, &callbacks, &[]).unwrap().is_none());
    assert_eq!(*log.lock().unwrap(), ["array:3", "number:1", "number:2.5", "str:tag"]);

    // `test_structural_walk_first_match_and_skip`: the first matching entry wins; skip
    // prunes the children.
    let (log, sink) = trace();
    let skip = Function::from_packed(move |_| {
        sink.lock().unwrap().push("array".into());
        Ok(Any::from(1i64))
    });
    let never = Function::from_packed(|_| Err(Error::runtime_error("children are skipped")));
    let root = dsl::parse("[1 2]");
    let callbacks = [(TypeIndex::ARRAY, skip), (TypeIndex::ANY, never)];
    assert!(structural_walk(root.view(), WalkOrder::PRE_ORDER, &callbacks, &[]).unwrap().is_none());
    assert_eq!(*log.lock().unwrap(), ["array"]);

    // `test_structural_walk_interrupt`: the payload comes back.
    let on_int = Function::from_typed(|v: i64| -> Any {
        if v == 2 { Any::from(VisitInterrupt::new(Any::from(v * 10))) } else { Any::none() }
    });
    let root = dsl::parse("[1 2 3]");
    let stop = structural_walk(root.view(), WalkOrder::PRE_ORDER, &[(TypeIndex::INT, on_int)], &[]);
    assert_eq!(stop.unwrap().expect("interrupted").value().get::<i64>().unwrap(), 20);

    // A callback returning something that is not a walk result.
    let bad = Function::from_packed(|_| Ok(Any::from(2.5f64)));
    let e = structural_walk(root.view(), WalkOrder::PRE_ORDER, &[(TypeIndex::ANY, bad)], &[]);
    assert_eq!(
        e.unwrap_err().message(),
        "CallExpected: result type mismatch, expected WalkResult, but got float"
    );
}

#[test]
fn visit_callbacks_own_descent() {
    // `test_structural_visit_default_visit_binding`
    let (log, sink) = trace();
    let s1 = sink.clone();
    let visit_array = Function::from_packed(move |args: &[AnyView<'_>]| {
        s1.lock().unwrap().push("array".into());
        let (value, visitor): (Array, StructuralVisitor) = (args[0].get()?, args[1].get()?);
        let first = value.get(0).unwrap();
        Ok(visitor.default_visit(first)?.map(Any::from).unwrap_or_default())
    });
    let interrupt_on_two = Function::from_packed(move |args: &[AnyView<'_>]| {
        let v = args[0].get::<i64>()?;
        sink.lock().unwrap().push(v.to_string());
        let done = tvmffi_alloc::String::from("done");
        Ok(if v == 2 { Any::from(VisitInterrupt::new(Any::from(done))) } else { Any::none() })
    });
    let root = dsl::parse("[[1 2 3]]");
    let callbacks = [(TypeIndex::ARRAY, visit_array), (TypeIndex::INT, interrupt_on_two)];
    let stop = structural_visit(root.view(), &callbacks).unwrap().expect("interrupted");
    assert_eq!(*log.lock().unwrap(), ["array", "1", "2"]);
    assert_eq!(stop.value().as_str().unwrap(), "done");

    // A failing callback's error comes out with the objects it passed through (the
    // reference's Python test shows the same trail for this value).
    let fail = Function::from_packed(|args: &[AnyView<'_>]| {
        if args[0].get::<i64>()? == 3 {
            return Err(Error::value_error("boom"));
        }
        Ok(Any::none())
    });
    let root = dsl::parse("[1 [2 3]]");
    let e = structural_visit(root.view(), &[(TypeIndex::INT, fail)]).unwrap_err();
    assert_eq!((e.kind().as_ref(), e.message().as_ref()), ("ValueError", "boom"));
    let ctx = VisitErrorContext::of_error(&e).expect("a visit context");
    let trail: Vec<Any> = ctx.reverse_visit_pattern().to_vec();
    let inner = root.get::<Array>().unwrap().get(1).unwrap().to_owned().unwrap();
    assert_eq!(trail.len(), 2);
    assert_eq!(trail[0].as_object_ptr(), inner.as_object_ptr());
    assert_eq!(trail[1].as_object_ptr(), root.as_object_ptr());
    assert!(ctx.prev_error_context().is_none());
}

#[test]
fn def_regions_nest_and_patterns_stay() {
    let (log, sink) = trace();
    let record = Function::from_packed(move |args: &[AnyView<'_>]| {
        let (visitor, kind): (StructuralVisitor, i64) = (args[1].get()?, 0);
        let _ = kind;
        let before = visitor.def_region_kind();
        let inner =
            visitor.with_def_region_kind(DefRegionKind::SIMPLE, || visitor.def_region_kind());
        let in_pattern = visitor.with_def_region_kind(DefRegionKind::PATTERN, || {
            visitor.with_def_region_kind(DefRegionKind::SIMPLE, || visitor.def_region_kind())
        });
        sink.lock().unwrap().push(format!("{}{}{}", before.0, inner.0, in_pattern.0));
        Ok(Any::none())
    });
    let root = dsl::parse("[1]");
    structural_visit(root.view(), &[(TypeIndex::INT, record)]).unwrap();
    // None outside; simple inside; a pattern region stays a pattern.
    assert_eq!(*log.lock().unwrap(), ["021"]);
}

#[test]
fn mutate_callbacks_own_recursion() {
    // `test_structural_mutate_callback_owned_recursion_and_errors`
    let (log, sink) = trace();
    let s1 = sink.clone();
    let mutate_array = Function::from_packed(move |args: &[AnyView<'_>]| {
        s1.lock().unwrap().push("array".into());
        let (value, m): (Array, StructuralMutator) = (args[0].get()?, args[1].get()?);
        let first = value.get(0).unwrap();
        let mutated = m.mutate(first, InplaceMode::DISALLOW)?.value_or(first)?;
        Ok(Any::from(Array::from_vec(vec![mutated, Any::from(10i64)])))
    });
    let mutate_int = Function::from_packed(move |args: &[AnyView<'_>]| {
        let v = args[0].get::<i64>()?;
        sink.lock().unwrap().push(v.to_string());
        Ok(Any::from(v + 1))
    });
    let callbacks =
        [(TypeIndex::ARRAY, mutate_array, false), (TypeIndex::INT, mutate_int.clone(), false)];
    let mapped = structural_mutate(dsl::parse("[1 2]"), &callbacks).unwrap();
    let expected = dsl::parse("[2 10]");
    assert!(structural_equal(mapped.view(), expected.view(), Options::default()).unwrap());
    assert_eq!(*log.lock().unwrap(), ["array", "1"]);

    // Unmatched values take the default descent; a shared root is copied.
    let root = dsl::parse("[3 4]");
    let mapped = structural_mutate(root.clone(), &[(TypeIndex::INT, mutate_int, false)]).unwrap();
    assert_ne!(mapped.as_object_ptr(), root.as_object_ptr());
    let expected = dsl::parse("[4 5]");
    assert!(structural_equal(mapped.view(), expected.view(), Options::default()).unwrap());
    assert!(structural_equal(root.view(), dsl::parse("[3 4]").view(), Options::default()).unwrap());

    // The mode a callback gets: DISALLOW for a shared value, ALLOW for one owned alone.
    let (log, sink) = trace();
    let with_mode = Function::from_packed(move |args: &[AnyView<'_>]| {
        let mode = args[2].get::<i64>()?;
        sink.lock().unwrap().push(mode.to_string());
        let m: StructuralMutator = args[1].get()?;
        m.default_mutate(args[0], InplaceMode(mode as i32))?.value_or(args[0])
    });
    let callbacks = [(TypeIndex::ARRAY, with_mode, true)];
    let shared = dsl::parse("[1]");
    structural_mutate(shared.clone(), &callbacks).unwrap();
    structural_mutate(dsl::parse("[1]"), &callbacks).unwrap();
    assert_eq!(*log.lock().unwrap(), ["0", "1"]);
}

#[test]
fn maps_change_in_place_only_what_the_caller_owns_alone() {
    // `test_structural_map_array_ownership`
    let add_one = || [(TypeIndex::INT, Function::from_typed(|v: i64| v + 1))];
    let shared_child = dsl::parse("[1]");
    let root = Any::from(Array::from_vec(vec![shared_child.clone()]));
    let mapped = structural_map(root.clone(), WalkOrder::POST_ORDER, &add_one(), &[]).unwrap();
    assert_ne!(mapped.as_object_ptr(), root.as_object_ptr());
    let inner = mapped.get::<Array>().unwrap().get(0).unwrap().to_owned().unwrap();
    assert_ne!(inner.as_object_ptr(), shared_child.as_object_ptr());
    assert!(
        structural_equal(shared_child.view(), dsl::parse("[1]").view(), Options::default())
            .unwrap()
    );

    // Moved in (the only reference): the same array comes back, changed in place.
    let moved = dsl::parse("[1 [2] {\"k\" 3}]");
    let address = moved.as_object_ptr();
    let mapped = structural_map(moved, WalkOrder::POST_ORDER, &add_one(), &[]).unwrap();
    assert_eq!(mapped.as_object_ptr(), address);
    let expected = dsl::parse("[2 [3] {\"k\" 4}]");
    assert!(structural_equal(mapped.view(), expected.view(), Options::default()).unwrap());

    // A map nobody changes comes back as it is.
    let unchanged = dsl::parse("{\"value\" [1]}");
    let same = [(TypeIndex::INT, Function::from_typed(|v: i64| v))];
    let mapped = structural_map(unchanged.clone(), WalkOrder::POST_ORDER, &same, &[]).unwrap();
    assert_eq!(mapped.as_object_ptr(), unchanged.as_object_ptr());
}

#[test]
fn mutation_errors_name_their_path() {
    let fail = Function::from_packed(|args: &[AnyView<'_>]| {
        if args[0].get::<i64>()? == 3 {
            return Err(Error::value_error("cannot map 3"));
        }
        Ok(args[0].to_owned()?)
    });
    let root = dsl::parse("(Tree 1 [2 3] none)");
    let e = structural_map(root.clone(), WalkOrder::POST_ORDER, &[(TypeIndex::INT, fail)], &[])
        .unwrap_err();
    assert_eq!(e.message(), "cannot map 3");
    let ctx = VisitErrorContext::of_error(&e).expect("a visit context");
    // The array, then the tree (the int is not an object); containers never match a path
    // (the reference's `FindAccessPaths` only matches reflected objects), so the strict
    // search finds nothing and the prefix search the deepest matched object's field.
    assert_eq!(ctx.reverse_visit_pattern().len(), 2);
    let root_obj: ObjectRef = root.get().unwrap();
    assert!(ctx.find_access_paths(&root_obj, false).unwrap().is_empty());

    // Reflected fields without a setter cannot change.
    let shared = dsl::parse("[1]");
    let mapped = structural_mutate(shared, &[]).unwrap();
    assert!(structural_equal(mapped.view(), dsl::parse("[1]").view(), Options::default()).unwrap());
}
