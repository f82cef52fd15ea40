//! Our visitor engines: the walk (callbacks before or after the children) and the
//! callback-owned visit, as visitor objects whose vtable runs a traversal with its own stack.
//!
//! A value reached by default descent (built-in containers, reflected fields) is visited
//! without native recursion; only hooks and callbacks that visit nested values themselves
//! re-enter the engine through its vtable, nesting one native frame each (bounded, see the
//! [module docs](crate::structural)).

use alloc::vec::Vec;
use core::sync::atomic::{AtomicI32, AtomicUsize, Ordering};

use tvmffi_core::flags::DefRegionKind;
use tvmffi_core::sys::{TVMFFIAny, TVMFFIObject};
use tvmffi_core::{Any, AnyView, Object, ObjectRef, Payload, TypeIndex};

use super::descent::{Children, call_hook, children_of, next_child};
use super::{
    StructuralVisitor, VisitOutcome, VisitorCell, VisitorVTable, WalkOrder, WalkResult,
    outcome_from_any, outcome_to_raw,
};
use crate::error::Error;
use crate::function::Function;
use crate::heap;
use crate::structural::context::attach;
use crate::structural::reflect::{TypeCache, type_index_match};
use crate::structural::support::{
    FIRST_CYCLE_CHECK, check_stack, cycle_error, first_repeat, stack_position,
};

const WHAT: &str = "StructuralVisit";

/// What an engine does at each value.
pub(crate) enum Engine {
    /// `ffi.StructuralWalk`: callbacks `(value)` or `(value, def_region_kind)` returning a
    /// [`WalkResult`], before or after the children.
    Walk {
        order: WalkOrder,
        plain: Vec<(TypeIndex, Function)>,
        with_kind: Vec<(TypeIndex, Function)>,
    },
    /// `ffi.StructuralVisit`: callbacks `(value, visitor)` owning the value's descent.
    Visit { callbacks: Vec<(TypeIndex, Function)> },
}

/// Our visitor objects: the C++-compatible cell, then the engine.
#[repr(C)]
pub(crate) struct EngineObj {
    cell: VisitorCell,
    engine: Engine,
    /// The native stack position of the outermost run (0 between runs).
    stack_base: AtomicUsize,
}

// SAFETY: private; allocated only with the visitor type's index, and only ever viewed as
// this type after `as_engine` found our vtable in the cell (C++ visitors of the same index
// have other vtables). The engine holds function objects, which are `Send` and `Sync`.
unsafe impl Payload for EngineObj {
    const TYPE_KEY: &'static str = "ffi.StructuralVisitor";

    #[inline]
    fn is_instance(type_index: TypeIndex) -> bool {
        VisitorCell::is_instance(type_index)
    }
}

static VTABLE: VisitorVTable = VisitorVTable { visit: Some(engine_visit) };

/// Our engine behind a visitor object, if it is one of ours.
pub(crate) fn as_engine(obj: &ObjectRef<Object<VisitorCell>>) -> Option<&EngineObj> {
    if !core::ptr::eq(obj.vtable, &VTABLE) {
        return None;
    }
    // SAFETY: only `new_engine` puts this vtable in a cell, in an `Object<EngineObj>`.
    Some(unsafe { (*obj.as_raw().cast::<Object<EngineObj>>()).payload() })
}

/// A new visitor object running `engine`.
fn new_engine(engine: Engine) -> Result<StructuralVisitor, Error> {
    let index = crate::structural::support::type_index::<VisitorCell>()?;
    let cell = VisitorCell { vtable: &VTABLE, def_region: AtomicI32::new(DefRegionKind::NONE.0) };
    let obj = heap::new_object(index, EngineObj { cell, engine, stack_base: AtomicUsize::new(0) });
    let raw = obj.into_raw();
    // SAFETY: never null; the object starts with `Object<VisitorCell>` (`EngineObj` is
    // `repr(C)` with the cell first) and the strong reference moves over.
    let obj = unsafe { ObjectRef::<Object<VisitorCell>>::from_raw(raw) };
    obj.map(StructuralVisitor::from_object)
        .ok_or_else(|| Error::internal_error("a new object had a null address"))
}

/// The vtable's visit entry point of our engines.
///
/// # Safety
///
/// `visitor` is one of our live engine objects; `value` a valid view.
unsafe extern "C" fn engine_visit(visitor: *mut TVMFFIObject, value: TVMFFIAny) -> TVMFFIAny {
    // SAFETY: the caller's promise: a live visitor object.
    let obj = unsafe { ObjectRef::<Object<VisitorCell>>::from_raw_borrowed(visitor) };
    let Some(engine) = obj.as_ref().and_then(as_engine) else {
        return outcome_to_raw(Err(Error::type_error("not a Rust structural visitor")));
    };
    let Some(obj) = obj.as_ref() else { return TVMFFIAny::NONE };
    // SAFETY: the caller's promise.
    outcome_to_raw(run(engine, obj, unsafe { AnyView::from_raw(value) }, true))
}

/// The default descent of `value` in our engine (`DefaultVisitExpected`).
pub(crate) fn run_default(
    engine: &EngineObj,
    obj: &ObjectRef<Object<VisitorCell>>,
    value: AnyView<'_>,
) -> VisitOutcome {
    run(engine, obj, value, false)
}

/// Walk `root` (the reference's `ffi.StructuralWalk`), calling the first callback whose type
/// matches each value: `plain` ones with `(value)`, then `with_kind` ones with `(value,
/// def_region_kind)`. Each returns what [`WalkResult::from_result`] reads; an interrupt ends
/// the walk and is returned.
///
/// ```
/// # #[cfg(feature = "runtime")] {
/// use std::sync::{Arc, Mutex};
/// use tvmffi_alloc::structural::{WalkOrder, structural_walk};
/// use tvmffi_alloc::{Array, Function};
/// use tvmffi_core::{Any, AnyView, TypeIndex};
///
/// let root = Array::from_vec(vec![Any::from(1i64), Any::from(Array::from_vec(vec![Any::from(2i64)]))]);
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let log = seen.clone();
/// let on_int = Function::from_typed(move |v: i64| log.lock().unwrap().push(v));
/// let interrupt = structural_walk(AnyView::from(&root), WalkOrder::PRE_ORDER, &[(TypeIndex::INT, on_int)], &[])?;
/// assert!(interrupt.is_none());
/// assert_eq!(*seen.lock().unwrap(), [1, 2]);
/// # }
/// # Ok::<(), tvmffi_alloc::Error>(())
/// ```
pub fn structural_walk(
    root: AnyView<'_>,
    order: WalkOrder,
    plain: &[(TypeIndex, Function)],
    with_kind: &[(TypeIndex, Function)],
) -> VisitOutcome {
    let visitor =
        new_engine(Engine::Walk { order, plain: plain.to_vec(), with_kind: with_kind.to_vec() })?;
    visitor.visit(root)
}

/// Visit `root` (the reference's `ffi.StructuralVisit`): the first callback whose type
/// matches a value gets `(value, visitor)` and owns its descent (it visits the children it
/// wants with [`StructuralVisitor::visit`], or all of them with
/// [`StructuralVisitor::default_visit`]); it returns `None` or a [`VisitInterrupt`]. A value
/// no callback matches is descended by default.
pub fn structural_visit(root: AnyView<'_>, callbacks: &[(TypeIndex, Function)]) -> VisitOutcome {
    let visitor = new_engine(Engine::Visit { callbacks: callbacks.to_vec() })?;
    visitor.visit(root)
}

/// A value being visited.
struct Frame {
    value: Any,
    children: Children,
    /// Whether this value went through the engine's dispatch (callbacks, error trail).
    dispatch: bool,
    /// The region to restore when the current child is done.
    child_region: Option<i32>,
    /// A free variable's own region, restored when its fields are done.
    clamp: Option<i32>,
}

enum Entered {
    Done(VisitOutcome),
    Frame(Frame),
}

/// One traversal through `engine`, from `root` (with the engine's dispatch for `root` itself
/// when `dispatch`).
fn run(
    engine: &EngineObj,
    obj: &ObjectRef<Object<VisitorCell>>,
    root: AnyView<'_>,
    dispatch: bool,
) -> VisitOutcome {
    let base = engine.stack_base.load(Ordering::Relaxed);
    let outermost = base == 0;
    if outermost {
        engine.stack_base.store(stack_position(), Ordering::Relaxed);
    } else {
        check_stack(base, WHAT)?;
    }
    let mut run = Run { engine, obj, types: TypeCache::default() };
    let outcome = run.traverse(root, dispatch);
    if outermost {
        engine.stack_base.store(0, Ordering::Relaxed);
    }
    outcome
}

struct Run<'e> {
    engine: &'e EngineObj,
    obj: &'e ObjectRef<Object<VisitorCell>>,
    types: TypeCache,
}

impl Run<'_> {
    fn region(&self) -> &AtomicI32 {
        &self.engine.cell.def_region
    }

    fn traverse(&mut self, root: AnyView<'_>, dispatch: bool) -> VisitOutcome {
        let mut stack: Vec<Frame> = Vec::new();
        let mut next_check = FIRST_CYCLE_CHECK;
        let mut child = match self.enter(root, dispatch) {
            Entered::Done(o) => return o,
            Entered::Frame(f) => {
                stack.push(f);
                None
            }
        };
        loop {
            let Some(top) = stack.last_mut() else { return child.unwrap_or(Ok(None)) };
            if let Some(outcome) = child.take() {
                if let Some(region) = top.child_region.take() {
                    self.region().store(region, Ordering::Relaxed);
                }
                if !matches!(outcome, Ok(None)) {
                    let Some(frame) = stack.pop() else { return outcome };
                    child = Some(self.leave(frame, outcome));
                    if stack.is_empty() {
                        return child.unwrap_or(Ok(None));
                    }
                    continue;
                }
            }
            match next_child(&mut top.children) {
                Ok(Some((value, kind))) => {
                    if let Some(kind) = kind {
                        let old = self.region().load(Ordering::Relaxed);
                        if old != DefRegionKind::PATTERN.0 {
                            top.child_region = Some(old);
                            self.region().store(kind.0, Ordering::Relaxed);
                        }
                    }
                    match self.enter(value, true) {
                        Entered::Done(o) => child = Some(o),
                        Entered::Frame(f) => {
                            stack.push(f);
                            if stack.len() >= next_check {
                                next_check = next_check.saturating_mul(2);
                                if let Some(ti) = repeated(&stack) {
                                    return Err(cycle_error(WHAT, ti));
                                }
                            }
                        }
                    }
                }
                done => {
                    let outcome = done.map(|_| None);
                    let Some(frame) = stack.pop() else { return outcome };
                    child = Some(self.leave(frame, outcome));
                    if stack.is_empty() {
                        return child.unwrap_or(Ok(None));
                    }
                }
            }
        }
    }

    /// Start visiting `value`: callbacks that decide at once, hooks, or a frame for its
    /// children.
    fn enter(&mut self, value: AnyView<'_>, dispatch: bool) -> Entered {
        if value.is_none() {
            return Entered::Done(Ok(None));
        }
        if dispatch {
            match &self.engine.engine {
                Engine::Walk { order, .. } if *order == WalkOrder::PRE_ORDER => {
                    match self.walk_callback(value) {
                        Some(Ok(WalkResult::Advance)) | None => {}
                        Some(Ok(WalkResult::Skip)) => return Entered::Done(Ok(None)),
                        Some(Ok(WalkResult::Interrupt(i))) => return Entered::Done(Ok(Some(i))),
                        Some(Err(e)) => return Entered::Done(Err(attach(e, value))),
                    }
                }
                Engine::Walk { .. } => {}
                Engine::Visit { callbacks } => {
                    let found =
                        callbacks.iter().find(|(t, _)| type_index_match(value.type_index(), *t));
                    if let Some((_, f)) = found {
                        let outcome =
                            f.call(&[value, AnyView::from(self.obj)]).and_then(outcome_from_any);
                        return Entered::Done(outcome.map_err(|e| attach(e, value)));
                    }
                }
            }
        }
        let region = DefRegionKind(self.region().load(Ordering::Relaxed));
        let (children, clamp) = match children_of(&mut self.types, value, region) {
            Ok(c) => c,
            Err(e) => return Entered::Done(Err(if dispatch { attach(e, value) } else { e })),
        };
        let owned = value.to_owned().unwrap_or_default();
        let mut frame = Frame { value: owned, children, dispatch, child_region: None, clamp: None };
        if clamp {
            frame.clamp = Some(self.region().swap(DefRegionKind::NONE.0, Ordering::Relaxed));
        }
        match &frame.children {
            Children::Hook(hook) => {
                let outcome = call_hook(*hook, self.obj, value);
                Entered::Done(self.leave(frame, outcome))
            }
            Children::Leaf => Entered::Done(self.leave(frame, Ok(None))),
            _ => Entered::Frame(frame),
        }
    }

    /// Finish a value whose descent gave `outcome`: restore its region, run a post-order
    /// callback, and name the value in a failure's trail.
    fn leave(&mut self, frame: Frame, outcome: VisitOutcome) -> VisitOutcome {
        if let Some(region) = frame.clamp {
            self.region().store(region, Ordering::Relaxed);
        }
        let value = frame.value.view();
        let outcome = match (&self.engine.engine, outcome) {
            (Engine::Walk { order, .. }, Ok(None))
                if *order != WalkOrder::PRE_ORDER && frame.dispatch =>
            {
                match self.walk_callback(value) {
                    Some(Ok(WalkResult::Interrupt(i))) => Ok(Some(i)),
                    Some(Ok(_)) | None => Ok(None),
                    Some(Err(e)) => Err(e),
                }
            }
            (_, outcome) => outcome,
        };
        match outcome {
            Err(e) if frame.dispatch => Err(attach(e, value)),
            other => other,
        }
    }

    /// Run the first matching walk callback on `value`; `None` when none matches.
    fn walk_callback(&self, value: AnyView<'_>) -> Option<Result<WalkResult, Error>> {
        let Engine::Walk { plain, with_kind, .. } = &self.engine.engine else { return None };
        let ti = value.type_index();
        if let Some((_, f)) = plain.iter().find(|(t, _)| type_index_match(ti, *t)) {
            return Some(f.call(&[value]).and_then(WalkResult::from_result));
        }
        let (_, f) = with_kind.iter().find(|(t, _)| type_index_match(ti, *t))?;
        let kind = AnyView::from(self.region().load(Ordering::Relaxed));
        Some(f.call(&[value, kind]).and_then(WalkResult::from_result))
    }
}

/// The type of an object that is on the stack twice (the value contains itself).
fn repeated(stack: &[Frame]) -> Option<TypeIndex> {
    let p = first_repeat(stack.iter().filter_map(|f| f.value.as_object_ptr()))?;
    let frame = stack.iter().find(|f| f.value.as_object_ptr() == Some(p));
    Some(frame.map_or(TypeIndex::OBJECT, |f| f.value.type_index()))
}
