//! Structural visits and mutations (`src/ffi/extra/structural_visit.cc`,
//! `structural_mutate.cc`, `visit_error_context.cc`): the visitor, mutator, interrupt and
//! error-context types, their global functions (`ffi.StructuralWalk`, `ffi.StructuralVisit`,
//! `ffi.StructuralMap`, `ffi.StructuralMutate`, `ffi.StructuralVisitor*`,
//! `ffi.StructuralMutator*`, `ffi.VisitInterrupt`, `ffi.VisitErrorContext.FindAccessPaths`),
//! and the built-in container hooks (`__s_visit__`, `__s_mutate__`,
//! `__s_maybe_inplace_mutate__`). The engines are [`crate::structural`]'s.

use tvmffi_core::flags::DefRegionKind;
use tvmffi_core::{Any, AnyView, ObjectRef, TypeIndex};

use super::structural::{arg, def, key_schema, owned, schema, schema_raw};
use super::{Builtins, arity, wrong_type};
use crate::error::Error;
use crate::function::{Boundary, Function};
use crate::object_type::Reflect;
use crate::seq::Array;
use crate::structural::context::VisitErrorContextObj;
use crate::structural::mutate::{
    InplaceMode, MAYBE_INPLACE_MAP, MAYBE_INPLACE_SEQ, MUTATE_LEAF, MUTATE_MAP, MUTATE_SEQ,
    MutatorCell, StructuralMutator,
};
use crate::structural::visit::{
    StructuralVisitor, VisitInterrupt, VisitInterruptObj, VisitOutcome, VisitorCell, WalkOrder,
    callback_entries, visit_map_hook, visit_seq_hook,
};
use crate::structural::{
    VisitErrorContext, structural_map, structural_mutate, structural_visit, structural_walk,
};

const VISITOR: &str = "ffi.StructuralVisitor";
const MUTATOR: &str = "ffi.StructuralMutator";
const CONTEXT: &str = "ffi.VisitErrorContext";
const INTERRUPT: &str = "ffi.VisitInterrupt";
const ENTRIES: &str = "Array<Tuple<int, ffi.Function>>";
const ENTRIES3: &str = "Array<Tuple<int, ffi.Function, bool>>";

/// The types, in the reference's order of registration.
pub(super) fn register_types<B: Boundary>(b: &mut Builtins<'_, B>) {
    // Visitors and mutators are made by their engines only: no creator, no copy.
    registered(Reflect::<VisitorCell, B>::with_boundary().register_into(b.types()));
    let context = Reflect::<VisitErrorContextObj, B>::with_boundary()
        .default_creator()
        .shallow_copy()
        .def_ro(crate::field!(VisitErrorContextObj, reverse_visit_pattern))
        .def_ro(crate::field!(VisitErrorContextObj, prev_error_context));
    registered(context.register_into(b.types()));
    registered(Reflect::<MutatorCell, B>::with_boundary().register_into(b.types()));
    // The interrupt has a static index: take it before the reflection looks the key up.
    let taken = b.types().get_or_alloc_index(
        INTERRUPT.as_bytes(),
        TypeIndex::VISIT_INTERRUPT.0,
        1,
        0,
        false,
        TypeIndex::OBJECT.0,
    );
    drop(taken);
    let interrupt = Reflect::<VisitInterruptObj, B>::with_boundary()
        .default_creator()
        .shallow_copy()
        .def_ro(crate::field!(VisitInterruptObj, value).default(Any::none()));
    registered(interrupt.register_into(b.types()));
}

/// A built-in type's registration result: nothing to do at start-up but drop a failure (a
/// second registration of the same key, which the built-in tests would catch).
fn registered(r: Result<TypeIndex, Error>) {
    drop(r);
}

pub(super) fn register<B: Boundary>(b: &mut Builtins<'_, B>) {
    register_hooks(b);
    register_visit(b);
    register_mutate(b);
    const FIND: &str = "ffi.VisitErrorContext.FindAccessPaths(0: ffi.Object, 1: \
                        ffi.VisitErrorContext, 2: bool) -> Array<ffi.reflection.AccessPath>";
    let paths = r#"{"type":"ffi.Array","args":[{"type":"ffi.reflection.AccessPath"}]}"#;
    let find_schema = schema_raw(&["ffi.Object", CONTEXT, "bool"], paths);
    def(b, "ffi.VisitErrorContext.FindAccessPaths", FIND, &find_schema, |args| {
        let [root, ctx, prefix] = arity(FIND, args)?;
        let root: ObjectRef = arg(FIND, 0, *root, "ffi.Object")?;
        let ctx: VisitErrorContext = arg(FIND, 1, *ctx, CONTEXT)?;
        let prefix: bool = arg(FIND, 2, *prefix, "bool")?;
        let paths = ctx.find_access_paths(&root, prefix)?;
        Ok(Any::from(paths.into_iter().map(Any::from).collect::<Array>()))
    });
}

/// The built-in hooks of containers and immutable leaves, as native function pointers.
fn register_hooks<B: Boundary>(b: &mut Builtins<'_, B>) {
    let ptr = |f: usize| AnyView::from(f as *const core::ffi::c_void);
    let seq_visit = visit_seq_hook as crate::structural::visit::VisitFn as usize;
    let map_visit = visit_map_hook as crate::structural::visit::VisitFn as usize;
    for (index, hook) in [
        (TypeIndex::ARRAY, seq_visit),
        (TypeIndex::LIST, seq_visit),
        (TypeIndex::MAP, map_visit),
        (TypeIndex::DICT, map_visit),
    ] {
        b.type_attr(index, "__s_visit__", ptr(hook));
    }
    for (index, mutate, inplace) in [
        (TypeIndex::BIG_INT, MUTATE_LEAF, MUTATE_LEAF),
        (TypeIndex::STR, MUTATE_LEAF, MUTATE_LEAF),
        (TypeIndex::BYTES, MUTATE_LEAF, MUTATE_LEAF),
        (TypeIndex::ARRAY, MUTATE_SEQ, MAYBE_INPLACE_SEQ),
        (TypeIndex::LIST, MUTATE_SEQ, MAYBE_INPLACE_SEQ),
        (TypeIndex::MAP, MUTATE_MAP, MAYBE_INPLACE_MAP),
        (TypeIndex::DICT, MUTATE_MAP, MAYBE_INPLACE_MAP),
    ] {
        b.type_attr(index, "__s_mutate__", ptr(mutate as usize));
        b.type_attr(index, "__s_maybe_inplace_mutate__", ptr(inplace as usize));
    }
}

/// A visit's outcome as a returned value: `None` or the interrupt.
fn outcome(o: VisitOutcome) -> Result<Any, Error> {
    Ok(o?.map(Any::from).unwrap_or_default())
}

/// The callback entries of argument `i`.
fn entries(
    sig: &str,
    i: usize,
    view: AnyView<'_>,
    width: usize,
) -> Result<alloc::vec::Vec<(TypeIndex, Function, bool)>, Error> {
    let expected = if width == 3 { ENTRIES3 } else { ENTRIES };
    callback_entries(view, width).ok_or_else(|| wrong_type(sig, i, expected, view.type_index()))
}

fn pairs(
    v: alloc::vec::Vec<(TypeIndex, Function, bool)>,
) -> alloc::vec::Vec<(TypeIndex, Function)> {
    v.into_iter().map(|(t, f, _)| (t, f)).collect()
}

fn entries_schema(width: usize) -> alloc::string::String {
    let flag = if width == 3 { r#",{"type":"bool"}"# } else { "" };
    alloc::format!(
        r#"{{"type":"ffi.Array","args":[{{"type":"Tuple","args":[{{"type":"int"}},{{"type":"ffi.Function"}}{flag}]}}]}}"#
    )
}

fn optional_interrupt() -> alloc::string::String {
    alloc::format!(r#"{{"type":"Optional","args":[{}]}}"#, key_schema(INTERRUPT))
}

fn register_visit<B: Boundary>(b: &mut Builtins<'_, B>) {
    const NEW: &str = "ffi.VisitInterrupt(0: Any) -> ffi.VisitInterrupt";
    def(b, "ffi.VisitInterrupt", NEW, &schema(&["Any"], INTERRUPT), |args| {
        let [v] = arity(NEW, args)?;
        Ok(Any::from(VisitInterrupt::new(owned(*v)?)))
    });
    let opt = optional_interrupt();
    const VISIT: &str = "ffi.StructuralVisitorVisit(0: ffi.StructuralVisitor, 1: AnyView) -> \
                         Optional<ffi.VisitInterrupt>";
    def(b, "ffi.StructuralVisitorVisit", VISIT, &schema_raw(&[VISITOR, "AnyView"], &opt), |args| {
        let [v, value] = arity(VISIT, args)?;
        let v: StructuralVisitor = arg(VISIT, 0, *v, VISITOR)?;
        outcome(v.visit(*value))
    });
    const DEFAULT: &str = "ffi.StructuralVisitorDefaultVisit(0: ffi.StructuralVisitor, 1: \
                           AnyView) -> Optional<ffi.VisitInterrupt>";
    let sch = schema_raw(&[VISITOR, "AnyView"], &opt);
    def(b, "ffi.StructuralVisitorDefaultVisit", DEFAULT, &sch, |args| {
        let [v, value] = arity(DEFAULT, args)?;
        let v: StructuralVisitor = arg(DEFAULT, 0, *v, VISITOR)?;
        outcome(v.default_visit(*value))
    });
    const KIND: &str = "ffi.StructuralVisitorDefRegionKind(0: ffi.StructuralVisitor) -> int";
    def(b, "ffi.StructuralVisitorDefRegionKind", KIND, &schema(&[VISITOR], "int"), |args| {
        let [v] = arity(KIND, args)?;
        let v: StructuralVisitor = arg(KIND, 0, *v, VISITOR)?;
        Ok(Any::from(v.def_region_kind().0))
    });
    const WITH: &str = "ffi.StructuralVisitorWithDefRegionKind(0: ffi.StructuralVisitor, 1: int, \
                        2: ffi.Function) -> Any";
    let sch = schema(&[VISITOR, "int", "ffi.Function"], "Any");
    def(b, "ffi.StructuralVisitorWithDefRegionKind", WITH, &sch, |args| {
        let [v, kind, f] = arity(WITH, args)?;
        let v: StructuralVisitor = arg(WITH, 0, *v, VISITOR)?;
        let kind = DefRegionKind(arg(WITH, 1, *kind, "int")?);
        let f: ObjectRef<tvmffi_core::FunctionObj> = arg(WITH, 2, *f, "ffi.Function")?;
        v.with_def_region_kind(kind, || Function::from_object(f).call(&[]))
    });
    const WALK: &str = "ffi.StructuralWalk(0: AnyView, 1: Array<Tuple<int, ffi.Function>>, 2: \
                        Array<Tuple<int, ffi.Function>>, 3: int) -> Optional<ffi.VisitInterrupt>";
    let e = entries_schema(2);
    let sch = schema_raw(&["AnyView", &e, &e, "int"], &opt);
    def(b, "ffi.StructuralWalk", WALK, &sch, |args| {
        let [root, plain, with_kind, order] = arity(WALK, args)?;
        let plain = pairs(entries(WALK, 1, *plain, 2)?);
        let with_kind = pairs(entries(WALK, 2, *with_kind, 2)?);
        let order = WalkOrder(arg(WALK, 3, *order, "int")?);
        outcome(structural_walk(*root, order, &plain, &with_kind))
    });
    const VISIT_ALL: &str = "ffi.StructuralVisit(0: AnyView, 1: Array<Tuple<int, ffi.Function>>) \
                             -> Optional<ffi.VisitInterrupt>";
    let sch = schema_raw(&["AnyView", &e], &opt);
    def(b, "ffi.StructuralVisit", VISIT_ALL, &sch, |args| {
        let [root, callbacks] = arity(VISIT_ALL, args)?;
        let callbacks = pairs(entries(VISIT_ALL, 1, *callbacks, 2)?);
        outcome(structural_visit(*root, &callbacks))
    });
}

fn register_mutate<B: Boundary>(b: &mut Builtins<'_, B>) {
    const MUTATE: &str = "ffi.StructuralMutatorMutate(0: ffi.StructuralMutator, 1: AnyView) -> Any";
    def(b, "ffi.StructuralMutatorMutate", MUTATE, &schema(&[MUTATOR, "AnyView"], "Any"), |args| {
        let [m, value] = arity(MUTATE, args)?;
        let m: StructuralMutator = arg(MUTATE, 0, *m, MUTATOR)?;
        m.mutate(*value, InplaceMode::DISALLOW)?.value_or(*value)
    });
    const DEFAULT: &str =
        "ffi.StructuralMutatorDefaultMutate(0: ffi.StructuralMutator, 1: AnyView) -> Any";
    let sch = schema(&[MUTATOR, "AnyView"], "Any");
    def(b, "ffi.StructuralMutatorDefaultMutate", DEFAULT, &sch, |args| {
        let [m, value] = arity(DEFAULT, args)?;
        let m: StructuralMutator = arg(DEFAULT, 0, *m, MUTATOR)?;
        m.default_mutate(*value, InplaceMode::DISALLOW)?.value_or(*value)
    });
    const GET: &str =
        "ffi.StructuralMutatorVarRemapGet(0: ffi.StructuralMutator, 1: AnyView) -> Any";
    def(
        b,
        "ffi.StructuralMutatorVarRemapGet",
        GET,
        &schema(&[MUTATOR, "AnyView"], "Any"),
        |args| {
            let [m, var] = arity(GET, args)?;
            let m: StructuralMutator = arg(GET, 0, *m, MUTATOR)?;
            Ok(m.var_remap_get(*var)?.unwrap_or_default())
        },
    );
    const SET: &str = "ffi.StructuralMutatorVarRemapSet(0: ffi.StructuralMutator, 1: AnyView, 2: \
                       AnyView) -> void";
    let sch = schema(&[MUTATOR, "AnyView", "AnyView"], "None");
    def(b, "ffi.StructuralMutatorVarRemapSet", SET, &sch, |args| {
        let [m, var, value] = arity(SET, args)?;
        let m: StructuralMutator = arg(SET, 0, *m, MUTATOR)?;
        m.var_remap_set(*var, *value)?;
        Ok(Any::none())
    });
    const KIND: &str = "ffi.StructuralMutatorDefRegionKind(0: ffi.StructuralMutator) -> int";
    def(b, "ffi.StructuralMutatorDefRegionKind", KIND, &schema(&[MUTATOR], "int"), |args| {
        let [m] = arity(KIND, args)?;
        let m: StructuralMutator = arg(KIND, 0, *m, MUTATOR)?;
        Ok(Any::from(m.def_region_kind().0))
    });
    const WITH: &str = "ffi.StructuralMutatorWithDefRegionKind(0: ffi.StructuralMutator, 1: int, \
                        2: ffi.Function) -> Any";
    let sch = schema(&[MUTATOR, "int", "ffi.Function"], "Any");
    def(b, "ffi.StructuralMutatorWithDefRegionKind", WITH, &sch, |args| {
        let [m, kind, f] = arity(WITH, args)?;
        let m: StructuralMutator = arg(WITH, 0, *m, MUTATOR)?;
        let kind = DefRegionKind(arg(WITH, 1, *kind, "int")?);
        let f: ObjectRef<tvmffi_core::FunctionObj> = arg(WITH, 2, *f, "ffi.Function")?;
        m.with_def_region_kind(kind, || Function::from_object(f).call(&[]))
    });
    const MAP: &str = "ffi.StructuralMap(0: Any, 1: Array<Tuple<int, ffi.Function>>, 2: \
                       Array<Tuple<int, ffi.Function>>, 3: int) -> Any";
    let e = entries_schema(2);
    def(
        b,
        "ffi.StructuralMap",
        MAP,
        &schema_raw(&["Any", &e, &e, "int"], &key_schema("Any")),
        |args| {
            let [root, plain, with_kind, order] = arity(MAP, args)?;
            let plain = pairs(entries(MAP, 1, *plain, 2)?);
            let with_kind = pairs(entries(MAP, 2, *with_kind, 2)?);
            let order = WalkOrder(arg(MAP, 3, *order, "int")?);
            // Owned: a moved-in root (Python's `_move()`) stays the only reference.
            structural_map(owned(*root)?, order, &plain, &with_kind)
        },
    );
    const MUTATE_ALL: &str =
        "ffi.StructuralMutate(0: Any, 1: Array<Tuple<int, ffi.Function, bool>>) -> Any";
    let e3 = entries_schema(3);
    def(
        b,
        "ffi.StructuralMutate",
        MUTATE_ALL,
        &schema_raw(&["Any", &e3], &key_schema("Any")),
        |args| {
            let [root, callbacks] = arity(MUTATE_ALL, args)?;
            let callbacks = entries(MUTATE_ALL, 1, *callbacks, 3)?;
            structural_mutate(owned(*root)?, &callbacks)
        },
    );
}
