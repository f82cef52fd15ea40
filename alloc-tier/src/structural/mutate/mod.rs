//! Structural mutation (the reference's `extra/structural_mutate.h`): a mutator object
//! rebuilds a value with replacements, copying only the paths that change.
//!
//! - [`structural_map`] replaces values through typed callbacks before (pre-order) or after
//!   (post-order) their children are mapped: `mutate(x) = post(D(pre(x)))`, where `D` is the
//!   default descent.
//! - [`structural_mutate`] hands a matched value to its callback, which owns its mutation
//!   (recursing through the [`StructuralMutator`] it gets).
//!
//! The default descent of a value follows its type: the `__s_mutate__` /
//! `__s_maybe_inplace_mutate__` type attributes (built in for arrays, lists, maps and dicts,
//! whose elements or values are mutated, and for strings, bytes and big integers, which never
//! change), or else its reflected fields, on a shallow copy made by the type's
//! `__ffi_shallow_copy__` and kept only if a field changed. Free variables and DAG nodes are
//! mutated once: the mutator remembers what each became (`var_remap`), and a use of a
//! variable outside any definition region takes its definition's result.
//!
//! A value the caller owns alone (its only reference moved in) may be changed in place along
//! paths that are owned alone too ([`InplaceMode::ALLOW`]); shared values are never changed.
//!
//! The mutator object has the reference's layout (`StructuralMutatorObj`), so C++ hooks
//! mutate through ours inline and ours through C++ mutators.

mod hooks;
mod machine;

use alloc::vec::Vec;
use core::sync::atomic::{AtomicI32, AtomicUsize, Ordering};

use tvmffi_core::flags::DefRegionKind;
use tvmffi_core::sys::{TVMFFIAny, TVMFFIObject};
use tvmffi_core::{Any, AnyView, FromAnyView, Object, ObjectRef, Payload, TypeIndex};

use super::support::AddrMap;
use super::visit::{WalkOrder, error_or_mismatch, with_region};
use crate::error::Error;
use crate::function::Function;
use crate::heap;

pub(crate) use hooks::{MAYBE_INPLACE_MAP, MAYBE_INPLACE_SEQ, MUTATE_LEAF, MUTATE_MAP, MUTATE_SEQ};

/// Whether a mutation may change the value it is given (the reference's `InplaceMode`): an
/// open set of C integers.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(transparent)]
pub struct InplaceMode(pub i32);

impl InplaceMode {
    /// Never: copy on write.
    pub const DISALLOW: Self = Self(0);
    /// When the value is owned alone along its whole path.
    pub const ALLOW: Self = Self(1);
}

/// What mutating a value gave.
#[derive(Clone, Debug)]
pub enum Mutated {
    /// Keep the original (the reference's `Unchanged` marker).
    Unchanged,
    /// This replacement (which may be the original itself).
    Value(Any),
}

impl Mutated {
    /// The replacement, or `original` when unchanged.
    pub fn value_or(self, original: AnyView<'_>) -> Result<Any, Error> {
        match self {
            Self::Unchanged => Ok(crate::string::any_view_to_owned(original)?),
            Self::Value(v) => Ok(v),
        }
    }

    /// Whether the original may be kept: unchanged, or the very same value.
    pub fn unchanged_or_same_as(&self, original: &AnyView<'_>) -> bool {
        match self {
            Self::Unchanged => true,
            Self::Value(v) => same_as(&v.view(), original),
        }
    }

    /// As a raw owned value: the marker (type index 13) or the replacement.
    pub(crate) fn into_any(self) -> Any {
        match self {
            Self::Unchanged => unchanged_marker(),
            Self::Value(v) => v,
        }
    }

    /// From an owned value: the marker, or a replacement.
    pub(crate) fn from_any(v: Any) -> Self {
        if v.type_index() == TypeIndex::UNCHANGED { Self::Unchanged } else { Self::Value(v) }
    }
}

/// A mutation's outcome.
pub type MutateOutcome = Result<Mutated, Error>;

/// The reference's `Unchanged` marker as a value.
pub(crate) fn unchanged_marker() -> Any {
    let mut raw = TVMFFIAny::NONE;
    raw.type_index = TypeIndex::UNCHANGED.0;
    // SAFETY: an inline value of a reserved index, owning nothing.
    unsafe { Any::from_raw(raw) }
}

/// Whether two values are the same (`same_as`): identical objects, or identical bits.
pub(crate) fn same_as(a: &AnyView<'_>, b: &AnyView<'_>) -> bool {
    let (x, y) = (a.as_raw(), b.as_raw());
    // SAFETY: every value is fully initialised; the bits are read as integers.
    x.type_index == y.type_index && unsafe { x.value.v_int64 == y.value.v_int64 }
}

/// An outcome from a raw owned result: an error object fails, the marker is unchanged.
pub(crate) fn outcome_from_raw(raw: TVMFFIAny) -> MutateOutcome {
    // SAFETY: a mutation entry point returns an owned value.
    outcome_from_any(unsafe { Any::from_raw(raw) })
}

/// An outcome from a returned value (`CallExpected<Any>`, then `Expected` storage: a
/// returned error object is a failure).
pub(crate) fn outcome_from_any(v: Any) -> MutateOutcome {
    if v.type_index() == TypeIndex::ERROR {
        return Err(error_or_mismatch(v, TypeIndex::ERROR, "Any"));
    }
    Ok(Mutated::from_any(v))
}

/// An outcome as a raw owned value.
pub(crate) fn outcome_to_raw(outcome: MutateOutcome) -> TVMFFIAny {
    match outcome {
        Ok(m) => m.into_any().into_raw(),
        Err(e) => Any::from(e.into_object()).into_raw(),
    }
}

/// A mutation entry point (`FStructuralMutateABI`): the mutator object and a borrowed value;
/// the result is an owned replacement, the unchanged marker, or an error object.
pub type MutateFn = unsafe extern "C" fn(mutator: *mut TVMFFIObject, value: TVMFFIAny) -> TVMFFIAny;
/// A variable-remap lookup (`FStructuralVarRemapGet`): the owned replacement, `None`, or an
/// error object.
pub type RemapGetFn = unsafe extern "C" fn(mutator: *mut TVMFFIObject, var: TVMFFIAny) -> TVMFFIAny;
/// A variable-remap update (`FStructuralVarRemapSet`): `None`, or an error object.
pub type RemapSetFn =
    unsafe extern "C" fn(mutator: *mut TVMFFIObject, var: TVMFFIAny, value: TVMFFIAny) -> TVMFFIAny;

/// A mutator's dispatch table (`StructuralMutatorVTable`).
#[repr(C)]
#[derive(Debug)]
pub struct MutatorVTable {
    /// Mutate without changing the value.
    pub mutate: Option<MutateFn>,
    /// Mutate a value owned alone, possibly in place.
    pub maybe_inplace_mutate: Option<MutateFn>,
    /// Look up a variable's replacement.
    pub var_remap_get: Option<RemapGetFn>,
    /// Record a variable's replacement.
    pub var_remap_set: Option<RemapSetFn>,
}

/// The payload every mutator object starts with (`StructuralMutatorObj`'s members).
#[repr(C)]
#[derive(Debug)]
pub struct MutatorCell {
    /// The dispatch table; never null on a made mutator.
    pub vtable: *const MutatorVTable,
    /// The current def-region kind, read and written inline by C++ hooks too.
    pub def_region: AtomicI32,
}

// SAFETY: the vtable is immutable static data; the region is atomic.
unsafe impl Send for MutatorCell {}
// SAFETY: as above.
unsafe impl Sync for MutatorCell {}

crate::structural::support::builtin_type! {
    // SAFETY: the reference's key; every mutator object (ours and C++ subclasses, which do
    // not register types of their own) starts with these members.
    unsafe impl for MutatorCell { type_key = "ffi.StructuralMutator"; is_final = false; }
}

#[repr(C)]
struct MutatorLayout {
    header: tvmffi_core::ObjectHeader,
    cell: MutatorCell,
}

tvmffi_core::c_layout! {
    /// The layout of mutator objects, as the reference's C++ class.
    pub const LAYOUTS = [
        MutatorLayout as "tvm::ffi::StructuralMutatorObj" {
            size: 40 / 32,
            align: core::mem::align_of::<u64>(),
            fields: { vtable_ @ cell.vtable = 24 / 24, def_region_mode_ @ cell.def_region = 32 / 28 },
        },
    ];
}

/// Any mutator object, ours or C++'s: mutations go through its vtable.
#[derive(Clone, Debug)]
pub struct StructuralMutator {
    obj: ObjectRef<Object<MutatorCell>>,
}

impl StructuralMutator {
    fn vtable(&self) -> Option<&MutatorVTable> {
        // SAFETY: a mutator's vtable is null or static data that outlives it.
        unsafe { self.obj.vtable.as_ref() }
    }

    /// Mutate `value` (`MutateExpected`): in place only with [`InplaceMode::ALLOW`] and when
    /// the value is an object nobody else holds.
    pub fn mutate(&self, value: AnyView<'_>, mode: InplaceMode) -> MutateOutcome {
        let unique = value.as_object_ptr().is_some_and(|p| {
            // SAFETY: the view borrows a live object.
            unsafe { p.as_ref() }.strong_count() == 1
        });
        let entry = self.vtable().and_then(|v| {
            if mode == InplaceMode::ALLOW && unique { v.maybe_inplace_mutate } else { v.mutate }
        });
        let Some(f) = entry else {
            return Err(Error::type_error("the mutator has no mutate entry point"));
        };
        // SAFETY: the mutator is alive; its entry point takes it and a borrowed view.
        outcome_from_raw(unsafe { f(self.obj.as_raw(), *value.as_raw()) })
    }

    /// Mutate `value` as its type prescribes, without this mutator's dispatch for `value`
    /// itself (`DefaultMutateExpected`); `mode` is trusted (the caller checked ownership).
    pub fn default_mutate(&self, value: AnyView<'_>, mode: InplaceMode) -> MutateOutcome {
        machine::run_default(&self.obj, value, mode)
    }

    /// The replacement recorded for the variable `var` (`VarRemapGetExpected`): `None` when
    /// there is none.
    pub fn var_remap_get(&self, var: AnyView<'_>) -> Result<Option<Any>, Error> {
        let Some(f) = self.vtable().and_then(|v| v.var_remap_get) else {
            return Err(Error::type_error("the mutator has no var_remap_get entry point"));
        };
        // SAFETY: the mutator is alive; the entry point returns an owned value.
        let v = unsafe { Any::from_raw(f(self.obj.as_raw(), *var.as_raw())) };
        match v.type_index() {
            TypeIndex::NONE => Ok(None),
            TypeIndex::ERROR => Err(error_or_mismatch(v, TypeIndex::ERROR, "Any")),
            _ => Ok(Some(v)),
        }
    }

    /// Record `value` as the replacement of the variable `var` (`VarRemapSetExpected`).
    pub fn var_remap_set(&self, var: AnyView<'_>, value: AnyView<'_>) -> Result<(), Error> {
        let Some(f) = self.vtable().and_then(|v| v.var_remap_set) else {
            return Err(Error::type_error("the mutator has no var_remap_set entry point"));
        };
        // SAFETY: the mutator is alive; the entry point returns an owned value.
        let v = unsafe { Any::from_raw(f(self.obj.as_raw(), *var.as_raw(), *value.as_raw())) };
        match v.type_index() {
            TypeIndex::NONE => Ok(()),
            other => Err(error_or_mismatch(v, other, "None")),
        }
    }

    /// The current def-region kind.
    pub fn def_region_kind(&self) -> DefRegionKind {
        DefRegionKind(self.obj.def_region.load(Ordering::Relaxed))
    }

    /// Run `f` in def region `kind`; inside a pattern region the pattern stays.
    pub fn with_def_region_kind<R>(&self, kind: DefRegionKind, f: impl FnOnce() -> R) -> R {
        with_region(&self.obj.def_region, kind, f)
    }

    /// The object reference.
    pub fn as_object(&self) -> &ObjectRef<Object<MutatorCell>> {
        &self.obj
    }
}

impl<'a> FromAnyView<'a> for StructuralMutator {
    fn from_any_view(view: AnyView<'a>) -> Result<Self, tvmffi_core::ConversionError> {
        ObjectRef::from_any_view(view).map(|obj| Self { obj })
    }
}

impl crate::function::TypeStr for StructuralMutator {
    fn type_str() -> alloc::borrow::Cow<'static, str> {
        alloc::borrow::Cow::Borrowed("ffi.StructuralMutator")
    }
}

impl From<StructuralMutator> for Any {
    fn from(m: StructuralMutator) -> Self {
        Any::from(m.obj)
    }
}

/// What an engine does at each value.
pub(crate) enum Engine {
    /// `ffi.StructuralMap`: callbacks `(value)` or `(value, def_region_kind)` returning the
    /// replacement, before or after the default descent.
    Map {
        order: WalkOrder,
        plain: Vec<(TypeIndex, Function)>,
        with_kind: Vec<(TypeIndex, Function)>,
    },
    /// `ffi.StructuralMutate`: callbacks `(value, mutator[, inplace_mode])` owning the value's
    /// mutation; the flag says whether the callback takes the mode.
    Mutate { callbacks: Vec<(TypeIndex, Function, bool)> },
}

/// Our mutator objects: the C++-compatible cell, the engine, and its variable remap.
#[repr(C)]
pub(crate) struct EngineObj {
    cell: MutatorCell,
    engine: Engine,
    /// Each variable's (or DAG node's) replacement, holding the variable so its address
    /// stays its own.
    remap: spin::Mutex<AddrMap<(ObjectRef, Any)>>,
    stack_base: AtomicUsize,
}

// SAFETY: private; allocated only with the mutator type's index, and only viewed as this
// type after `as_engine` found our vtable in the cell.
unsafe impl Payload for EngineObj {
    const TYPE_KEY: &'static str = "ffi.StructuralMutator";

    #[inline]
    fn is_instance(type_index: TypeIndex) -> bool {
        MutatorCell::is_instance(type_index)
    }
}

static VTABLE: MutatorVTable = MutatorVTable {
    mutate: Some(machine::engine_mutate),
    maybe_inplace_mutate: Some(machine::engine_maybe_inplace_mutate),
    var_remap_get: Some(engine_remap_get),
    var_remap_set: Some(engine_remap_set),
};

/// Our engine behind a mutator object, if it is one of ours.
pub(crate) fn as_engine(obj: &ObjectRef<Object<MutatorCell>>) -> Option<&EngineObj> {
    if !core::ptr::eq(obj.vtable, &VTABLE) {
        return None;
    }
    // SAFETY: only `new_engine` puts this vtable in a cell, in an `Object<EngineObj>`.
    Some(unsafe { (*obj.as_raw().cast::<Object<EngineObj>>()).payload() })
}

fn new_engine(engine: Engine) -> Result<StructuralMutator, Error> {
    let index = crate::structural::support::type_index::<MutatorCell>()?;
    let cell = MutatorCell { vtable: &VTABLE, def_region: AtomicI32::new(DefRegionKind::NONE.0) };
    let payload = EngineObj {
        cell,
        engine,
        remap: spin::Mutex::new(AddrMap::default()),
        stack_base: AtomicUsize::new(0),
    };
    let raw = heap::new_object(index, payload).into_raw();
    // SAFETY: never null; the object starts with `Object<MutatorCell>` and the strong
    // reference moves over.
    let obj = unsafe { ObjectRef::<Object<MutatorCell>>::from_raw(raw) };
    obj.map(|obj| StructuralMutator { obj })
        .ok_or_else(|| Error::internal_error("a new object had a null address"))
}

/// A remap key: the variable object.
fn remap_key(var: AnyView<'_>) -> Result<ObjectRef, Error> {
    if !var.type_index().is_object() {
        return Err(Error::type_error("Variable-remap key must be an object-backed value"));
    }
    Ok(var.get::<ObjectRef>()?)
}

/// # Safety
///
/// `mutator` is one of our live engine objects; `var` a valid view.
unsafe extern "C" fn engine_remap_get(mutator: *mut TVMFFIObject, var: TVMFFIAny) -> TVMFFIAny {
    // SAFETY: the caller's promises.
    let (obj, var) = unsafe {
        (ObjectRef::<Object<MutatorCell>>::from_raw_borrowed(mutator), AnyView::from_raw(var))
    };
    let run = || -> Result<Any, Error> {
        let engine = obj.as_ref().and_then(as_engine).ok_or_else(not_ours)?;
        let key = remap_key(var)?;
        let found = engine.remap.lock().get(&(key.as_raw() as usize)).map(|(_, v)| v.clone());
        Ok(found.unwrap_or_default())
    };
    match run() {
        Ok(v) => v.into_raw(),
        Err(e) => Any::from(e.into_object()).into_raw(),
    }
}

/// # Safety
///
/// `mutator` is one of our live engine objects; `var` and `value` valid views.
unsafe extern "C" fn engine_remap_set(
    mutator: *mut TVMFFIObject,
    var: TVMFFIAny,
    value: TVMFFIAny,
) -> TVMFFIAny {
    // SAFETY: the caller's promises.
    let (obj, var, value) = unsafe {
        (
            ObjectRef::<Object<MutatorCell>>::from_raw_borrowed(mutator),
            AnyView::from_raw(var),
            AnyView::from_raw(value),
        )
    };
    let run = || -> Result<(), Error> {
        let engine = obj.as_ref().and_then(as_engine).ok_or_else(not_ours)?;
        let key = remap_key(var)?;
        let value = crate::string::any_view_to_owned(value)?;
        let old = engine.remap.lock().insert(key.as_raw() as usize, (key, value));
        // The replaced entry is dropped after the lock: its last reference may run code.
        drop(old);
        Ok(())
    };
    match run() {
        Ok(()) => TVMFFIAny::NONE,
        Err(e) => Any::from(e.into_object()).into_raw(),
    }
}

fn not_ours() -> Error {
    Error::type_error("not a Rust structural mutator")
}

/// Map `root` (the reference's `ffi.StructuralMap`): the first callback whose type matches
/// each value returns its replacement; `plain` callbacks get `(value)`, `with_kind` ones
/// `(value, def_region_kind)`. Pre-order callbacks see a value before its children are
/// mapped (and what they return is then descended into), post-order ones after.
///
/// `root` is taken by value: if it is the only reference, paths owned alone may be changed
/// in place; otherwise changed paths are copied and `root` is left as it was.
///
/// ```
/// # #[cfg(feature = "runtime")] {
/// use tvmffi_alloc::structural::{WalkOrder, structural_map};
/// use tvmffi_alloc::{Array, Function};
/// use tvmffi_core::{Any, TypeIndex};
///
/// let root = Array::from_vec(vec![Any::from(1i64), Any::from(Array::from_vec(vec![Any::from(2i64)]))]);
/// let add_one = Function::from_typed(|v: i64| v + 1);
/// let mapped = structural_map(Any::from(root.clone()), WalkOrder::POST_ORDER, &[(TypeIndex::INT, add_one)], &[])?;
/// let mapped: Array = mapped.get().unwrap();
/// assert_eq!(mapped.get(0).unwrap().get::<i64>().unwrap(), 2);
/// assert_eq!(root.get(0).unwrap().get::<i64>().unwrap(), 1); // shared: copied, not changed
/// # }
/// # Ok::<(), tvmffi_alloc::Error>(())
/// ```
pub fn structural_map(
    root: Any,
    order: WalkOrder,
    plain: &[(TypeIndex, Function)],
    with_kind: &[(TypeIndex, Function)],
) -> Result<Any, Error> {
    let mutator =
        new_engine(Engine::Map { order, plain: plain.to_vec(), with_kind: with_kind.to_vec() })?;
    let result = mutator.mutate(root.view(), InplaceMode::ALLOW)?;
    result.value_or(root.view())
}

/// Mutate `root` (the reference's `ffi.StructuralMutate`): the first callback whose type
/// matches a value gets `(value, mutator)`, or `(value, mutator, inplace_mode)` when its
/// flag is set, and returns its replacement, doing its own recursion through the mutator. A
/// value no callback matches takes the default descent. `root` as in [`structural_map`].
pub fn structural_mutate(
    root: Any,
    callbacks: &[(TypeIndex, Function, bool)],
) -> Result<Any, Error> {
    let mutator = new_engine(Engine::Mutate { callbacks: callbacks.to_vec() })?;
    let result = mutator.mutate(root.view(), InplaceMode::ALLOW)?;
    result.value_or(root.view())
}
