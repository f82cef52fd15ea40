//! The mutation traversal: the default descent (`DefaultMutateExpected`) and our engines'
//! dispatch around it (`StructuralMapDynEngine`, `StructuralMutateDynEngine`), with their own
//! stack.
//!
//! A frame names the value it works on by a borrowed view: its parent (or the caller) holds
//! the value until the frame is done, exactly as the reference's engines pass `AnyView`s. So
//! holding a frame never counts against a value being owned alone.

use alloc::rc::Rc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicI32, Ordering};

use tvmffi_core::flags::{DefRegionKind, SEqHashKind};
use tvmffi_core::sys::{TVMFFIAny, TVMFFIObject};
use tvmffi_core::{Any, AnyView, Object, ObjectRef, TypeIndex};

use super::hooks::{MAYBE_INPLACE_MAP, MAYBE_INPLACE_SEQ, MUTATE_LEAF, MUTATE_MAP, MUTATE_SEQ};
use super::{
    Engine, EngineObj, InplaceMode, MutateFn, MutateOutcome, Mutated, MutatorCell,
    StructuralMutator, as_engine, outcome_from_any, outcome_from_raw, outcome_to_raw,
};
use crate::error::Error;
use crate::function::Function;
use crate::structural::context::attach;
use crate::structural::items::{Items, MapLike};
use crate::structural::reflect::{Column, TypeCache, TypeData, type_index_match};
use crate::structural::support::{
    FIRST_CYCLE_CHECK, check_stack, cycle_error, first_repeat, native_hook, stack_position,
};
use crate::structural::visit::WalkOrder;

mod resume;

const WHAT: &str = "StructuralMutate";

static S_MUTATE: Column = Column::new("__s_mutate__");
static S_MAYBE_INPLACE: Column = Column::new("__s_maybe_inplace_mutate__");
static SHALLOW_COPY: Column = Column::new("__ffi_shallow_copy__");

/// The vtable's `mutate` of our engines.
///
/// # Safety
///
/// `mutator` is one of our live engine objects; `value` a valid view.
pub(super) unsafe extern "C" fn engine_mutate(
    mutator: *mut TVMFFIObject,
    value: TVMFFIAny,
) -> TVMFFIAny {
    // SAFETY: the caller's promises.
    unsafe { engine_entry(mutator, value, InplaceMode::DISALLOW) }
}

/// The vtable's `maybe_inplace_mutate` of our engines.
///
/// # Safety
///
/// As [`engine_mutate`], and the value is owned alone by the caller.
pub(super) unsafe extern "C" fn engine_maybe_inplace_mutate(
    mutator: *mut TVMFFIObject,
    value: TVMFFIAny,
) -> TVMFFIAny {
    // SAFETY: the caller's promises.
    unsafe { engine_entry(mutator, value, InplaceMode::ALLOW) }
}

/// # Safety
///
/// As [`engine_mutate`].
unsafe fn engine_entry(
    mutator: *mut TVMFFIObject,
    value: TVMFFIAny,
    mode: InplaceMode,
) -> TVMFFIAny {
    // SAFETY: the caller's promise: a live mutator object.
    let obj = unsafe { ObjectRef::<Object<MutatorCell>>::from_raw_borrowed(mutator) };
    let Some(obj) = obj else { return outcome_to_raw(Err(Error::value_error("null mutator"))) };
    // SAFETY: the caller's promise.
    let value = unsafe { AnyView::from_raw(value) };
    outcome_to_raw(run(&obj, |r| r.dispatch(value, mode)))
}

/// The default descent of `value` through any mutator.
pub(super) fn run_default(
    obj: &ObjectRef<Object<MutatorCell>>,
    value: AnyView<'_>,
    mode: InplaceMode,
) -> MutateOutcome {
    run(obj, |r| r.default(value, mode))
}

/// One traversal through the mutator `obj`, starting with `first`.
fn run(
    obj: &ObjectRef<Object<MutatorCell>>,
    first: impl FnOnce(&mut Run<'_>) -> Entered,
) -> MutateOutcome {
    let engine = as_engine(obj);
    let base = engine.map_or(0, |e| e.stack_base.load(Ordering::Relaxed));
    let outermost = base == 0;
    match engine {
        Some(e) if outermost => e.stack_base.store(stack_position(), Ordering::Relaxed),
        Some(_) => check_stack(base, WHAT)?,
        None => {}
    }
    let handle = StructuralMutator { obj: obj.clone() };
    let mut r = Run { obj, handle, engine, types: TypeCache::default() };
    let entered = first(&mut r);
    let outcome = r.traverse(entered);
    if let (Some(e), true) = (engine, outermost) {
        e.stack_base.store(0, Ordering::Relaxed);
    }
    outcome
}

/// Starting on a value: its outcome at once, or a frame to work through.
enum Entered {
    Done(MutateOutcome),
    Frame(Frame),
}

/// What a frame asks for next.
enum Step {
    /// Mutate this borrowed value through the mutator (`MutateExpected`).
    Child(TVMFFIAny, InplaceMode),
    /// The default descent of this borrowed value (`DefaultMutateExpected`).
    Default(TVMFFIAny, InplaceMode),
    Finish(MutateOutcome),
}

struct Frame {
    /// The value this frame works on, borrowed (see the module docs).
    node: TVMFFIAny,
    kind: FrameKind,
}

impl Frame {
    fn node(&self) -> AnyView<'_> {
        // SAFETY: the parent frame (or the caller) keeps the value alive while this frame
        // exists; the view does not outlive the frame's borrow.
        unsafe { AnyView::from_raw(self.node) }
    }
}

enum FrameKind {
    /// Map engine, pre-order: the callback gave `mapped`; waiting for the descent into it.
    Pre { mapped: Any, mode: InplaceMode, started: bool },
    /// Map engine, post-order: waiting for the descent, then the callback.
    Post { mode: InplaceMode, started: bool },
    /// The default descent of a sequence, copying from the first change.
    SeqCopy { items: Items, index: usize, out: Option<Vec<Any>> },
    /// The default descent of a sequence owned alone, changed in place (or, if it turns
    /// out shared, copied from then on).
    SeqInPlace { index: usize, out: Option<Vec<Any>> },
    /// The default descent of a map's values (raw views of `snapshot`'s values, or of the
    /// map's own when it is owned alone and written in place at the end).
    Map {
        /// Keeps the copied-out values alive for `values` (unused when in place).
        _snapshot: Vec<Any>,
        values: Vec<TVMFFIAny>,
        index: usize,
        changed: Vec<(usize, Any)>,
        in_place: bool,
    },
    /// The default descent of an object's reflected fields, on its shallow copy.
    Fields(FieldsFrame),
}

struct FieldsFrame {
    copy: ObjectRef,
    ty: Rc<TypeData>,
    next: usize,
    field: usize,
    current: Any,
    changed: bool,
    child_region: Option<i32>,
    clamp: Option<i32>,
    /// A free variable or DAG node: its result is recorded in the variable remap.
    remapped: bool,
    dag: bool,
}

struct Run<'a> {
    obj: &'a ObjectRef<Object<MutatorCell>>,
    handle: StructuralMutator,
    engine: Option<&'a EngineObj>,
    types: TypeCache,
}

impl Run<'_> {
    fn region(&self) -> &AtomicI32 {
        &self.obj.def_region
    }

    fn traverse(&mut self, entered: Entered) -> MutateOutcome {
        let mut stack: Vec<Frame> = Vec::new();
        let mut next_check = FIRST_CYCLE_CHECK;
        let mut child = match entered {
            Entered::Done(o) => return o,
            Entered::Frame(f) => {
                stack.push(f);
                None
            }
        };
        loop {
            let Some(top) = stack.last_mut() else {
                return child.unwrap_or(Ok(Mutated::Unchanged));
            };
            let step = self.resume(top, child.take());
            let entered = match step {
                Step::Child(v, mode) => {
                    // SAFETY: the view borrows a value the top frame keeps alive.
                    self.mutate(unsafe { AnyView::from_raw(v) }, mode)
                }
                Step::Default(v, mode) => {
                    // SAFETY: as above.
                    self.default(unsafe { AnyView::from_raw(v) }, mode)
                }
                Step::Finish(outcome) => {
                    let Some(frame) = stack.pop() else { return outcome };
                    let outcome = self.leave(&frame, outcome);
                    if stack.is_empty() {
                        return outcome;
                    }
                    child = Some(outcome);
                    continue;
                }
            };
            match entered {
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
    }

    /// `MutateExpected`: in place only when allowed and the value is owned alone.
    fn mutate(&mut self, value: AnyView<'_>, mode: InplaceMode) -> Entered {
        // SAFETY: the view borrows a live object.
        let unique = value.as_object_ptr().is_some_and(|p| unsafe { p.as_ref() }.is_unique());
        let mode = if mode == InplaceMode::ALLOW && unique { mode } else { InplaceMode::DISALLOW };
        if self.engine.is_none() {
            return Entered::Done(self.handle.mutate(value, mode));
        }
        self.dispatch(value, mode)
    }

    /// Our engine's dispatch of `value` (`MutateImplRaw` / `MaybeInplaceMutateImplRaw`).
    fn dispatch(&mut self, value: AnyView<'_>, mode: InplaceMode) -> Entered {
        let Some(engine) = self.engine else { return self.default(value, mode) };
        match &engine.engine {
            Engine::Map { order, .. } if *order == WalkOrder::PRE_ORDER => {
                let Some(result) = self.map_callback(value) else {
                    return self.default(value, mode);
                };
                match result {
                    Err(e) => Entered::Done(Err(attach(e, value))),
                    Ok(mapped) => Entered::Frame(Frame {
                        node: *value.as_raw(),
                        kind: FrameKind::Pre { mapped, mode, started: false },
                    }),
                }
            }
            Engine::Map { .. } => Entered::Frame(Frame {
                node: *value.as_raw(),
                kind: FrameKind::Post { mode, started: false },
            }),
            Engine::Mutate { callbacks } => {
                let ti = value.type_index();
                let Some((_, f, with_mode)) = callbacks.iter().find(|c| type_index_match(ti, c.0))
                else {
                    return self.default(value, mode);
                };
                let mutator = AnyView::from(self.obj);
                let result = if *with_mode {
                    f.call(&[value, mutator, AnyView::from(mode.0)])
                } else {
                    f.call(&[value, mutator])
                };
                Entered::Done(result.and_then(outcome_from_any).map_err(|e| attach(e, value)))
            }
        }
    }

    /// Run the first matching map callback on `value`; `None` when none matches.
    fn map_callback(&self, value: AnyView<'_>) -> Option<Result<Any, Error>> {
        let Engine::Map { plain, with_kind, .. } = &self.engine?.engine else { return None };
        let ti = value.type_index();
        let result = if let Some((_, f)) = plain.iter().find(|(t, _)| type_index_match(ti, *t)) {
            f.call(&[value])
        } else {
            let (_, f) = with_kind.iter().find(|(t, _)| type_index_match(ti, *t))?;
            f.call(&[value, AnyView::from(self.region().load(Ordering::Relaxed))])
        };
        Some(result.and_then(|r| {
            if r.type_index() == TypeIndex::ERROR {
                outcome_from_any(r).map(Mutated::into_any)
            } else {
                Ok(r)
            }
        }))
    }

    /// The default descent of `value` (`DefaultMutateExpected`).
    fn default(&mut self, value: AnyView<'_>, mode: InplaceMode) -> Entered {
        let node = *value.as_raw();
        let frame = |kind| Entered::Frame(Frame { node, kind });
        let ti = value.type_index();
        if mode == InplaceMode::ALLOW {
            if let Some(hook) = S_MAYBE_INPLACE.attr(ti) {
                return match native_hook(&hook) {
                    Some(f) if f.addr() == MAYBE_INPLACE_SEQ as usize => {
                        frame(FrameKind::SeqInPlace { index: 0, out: None })
                    }
                    Some(f) if f.addr() == MAYBE_INPLACE_MAP as usize => {
                        let values = crate::map::raw_values(value);
                        let snapshot = Vec::new();
                        let changed = Vec::new();
                        frame(FrameKind::Map {
                            _snapshot: snapshot,
                            values,
                            index: 0,
                            changed,
                            in_place: true,
                        })
                    }
                    Some(f) if f.addr() == MUTATE_LEAF as usize => {
                        Entered::Done(Ok(Mutated::Unchanged))
                    }
                    _ if is_hook(&hook) => Entered::Done(self.call_hook(hook, value)),
                    _ => self.default(value, InplaceMode::DISALLOW),
                };
            }
        }
        if let Some(hook) = S_MUTATE.attr(ti) {
            return match native_hook(&hook) {
                Some(f) if f.addr() == MUTATE_SEQ as usize => match Items::of(&value) {
                    Ok(items) => frame(FrameKind::SeqCopy { items, index: 0, out: None }),
                    Err(e) => Entered::Done(Err(attach(e, value))),
                },
                Some(f) if f.addr() == MUTATE_MAP as usize => match MapLike::of(&value) {
                    Ok(m) => {
                        let snapshot: Vec<Any> = m.pairs().into_iter().map(|(_, v)| v).collect();
                        let values = snapshot.iter().map(|v| *v.as_raw()).collect();
                        let changed = Vec::new();
                        frame(FrameKind::Map {
                            _snapshot: snapshot,
                            values,
                            index: 0,
                            changed,
                            in_place: false,
                        })
                    }
                    Err(e) => Entered::Done(Err(attach(e, value))),
                },
                Some(f) if f.addr() == MUTATE_LEAF as usize => {
                    Entered::Done(Ok(Mutated::Unchanged))
                }
                _ if is_hook(&hook) => Entered::Done(self.call_hook(hook, value)),
                _ => Entered::Done(Err(attach(
                    Error::type_error("__s_mutate__ must be a direct hook pointer or ffi.Function"),
                    value,
                ))),
            };
        }
        if !ti.is_object() {
            return Entered::Done(Ok(Mutated::Value(value.to_owned().unwrap_or_default())));
        }
        match self.start_fields(value) {
            Ok(entered) => entered,
            Err(e) => Entered::Done(Err(attach(e, value))),
        }
    }

    /// Call a foreign hook, naming `value` in a failure's trail.
    fn call_hook(&self, hook: AnyView<'static>, value: AnyView<'_>) -> MutateOutcome {
        let outcome = if let Some(p) = native_hook(&hook).filter(|p| !p.is_null()) {
            // SAFETY: a native mutation attribute is a `FStructuralMutateABI` function.
            let f = unsafe { core::mem::transmute::<*mut core::ffi::c_void, MutateFn>(p) };
            // SAFETY: the mutator and the value are alive for the call.
            outcome_from_raw(unsafe { f(self.obj.as_raw(), *value.as_raw()) })
        } else {
            match hook.get::<ObjectRef<tvmffi_core::FunctionObj>>() {
                Ok(f) => Function::from_object(f)
                    .call(&[AnyView::from(self.obj), value])
                    .and_then(outcome_from_any),
                Err(_) => Err(Error::type_error(
                    "__s_mutate__ must be a direct hook pointer or ffi.Function",
                )),
            }
        };
        outcome.map_err(|e| attach(e, value))
    }

    /// The reflected-field descent of an object (`DefaultMutateRawTail`): the variable
    /// remap first, then the fields of a shallow copy.
    fn start_fields(&mut self, value: AnyView<'_>) -> Result<Entered, Error> {
        let ty = self.types.get(value.type_index())?;
        let kind = ty.kind.unwrap_or(SEqHashKind::UNSUPPORTED);
        let (free_var, dag) = (kind == SEqHashKind::FREE_VAR, kind == SEqHashKind::DAG_NODE);
        if free_var || dag {
            if let Some(mapped) = self.handle.var_remap_get(value)? {
                return Ok(Entered::Done(outcome_from_any(mapped)));
            }
        }
        let region = self.region().load(Ordering::Relaxed);
        if free_var && region == DefRegionKind::NONE.0 {
            return Ok(Entered::Done(Ok(Mutated::Unchanged)));
        }
        let copy = shallow_copy(value)?;
        let clamp = (free_var && region == DefRegionKind::SIMPLE.0)
            .then(|| self.region().swap(DefRegionKind::NONE.0, Ordering::Relaxed));
        Ok(Entered::Frame(Frame {
            node: *value.as_raw(),
            kind: FrameKind::Fields(FieldsFrame {
                copy,
                ty,
                next: 0,
                field: 0,
                current: Any::none(),
                changed: false,
                child_region: None,
                clamp,
                remapped: free_var || dag,
                dag,
            }),
        }))
    }
}

/// The type of a value that is on the stack twice (it contains itself, or a callback keeps
/// re-creating it). A value's engine frame and its default descent frame are told apart.
fn repeated(stack: &[Frame]) -> Option<TypeIndex> {
    let key = |f: &Frame| {
        let engine = matches!(f.kind, FrameKind::Pre { .. } | FrameKind::Post { .. });
        f.node().as_object_ptr().map(|p| (p, engine))
    };
    let (p, _) = first_repeat(stack.iter().filter_map(key))?;
    let frame = stack.iter().find(|f| f.node().as_object_ptr() == Some(p));
    Some(frame.map_or(TypeIndex::OBJECT, |f| f.node().type_index()))
}

fn is_hook(hook: &AnyView<'_>) -> bool {
    matches!(hook.type_index(), TypeIndex::OPAQUE_PTR | TypeIndex::FUNCTION)
}

/// `__ffi_shallow_copy__` of an object: a distinct object of the same type.
fn shallow_copy(value: AnyView<'_>) -> Result<ObjectRef, Error> {
    let Some(hook) = SHALLOW_COPY.attr(value.type_index()) else {
        return Err(Error::type_error("__ffi_shallow_copy__ must be an ffi.Function"));
    };
    let Ok(f) = hook.get::<ObjectRef<tvmffi_core::FunctionObj>>() else {
        return Err(Error::type_error("__ffi_shallow_copy__ must be an ffi.Function"));
    };
    let result = Function::from_object(f).call(&[value])?;
    let bad = || {
        Error::type_error(
            "Shallow copy callback must return a distinct object with the same type as its input",
        )
    };
    if result.type_index() != value.type_index() || result.as_object_ptr() == value.as_object_ptr()
    {
        return Err(bad());
    }
    result.get::<ObjectRef>().map_err(|_| bad())
}
