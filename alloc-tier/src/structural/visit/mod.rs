//! Structural visits (the reference's `extra/structural_visit.h`): a visitor object carries
//! the dispatch of one traversal and its def-region state, and values are visited through it.
//!
//! - [`structural_walk`] calls typed callbacks before (pre-order) or after (post-order) each
//!   value's children; a callback continues, skips the children, or stops the walk with a
//!   [`VisitInterrupt`].
//! - [`structural_visit`] hands a matched value to its callback, which owns its descent: it
//!   visits the children it wants through the [`StructuralVisitor`] it gets.
//!
//! A value's children are its type's choice: the `__s_visit__` type attribute (a native hook
//! or a function; arrays, lists, maps' and dicts' values are built in), or else its
//! reflected fields (those flagged `SEqHashIgnore` skipped), entering the def region a field's
//! `SEqHashDefPattern` / `SEqHashDefSimple` flag names.
//!
//! The visitor object has the reference's layout (`StructuralVisitorObj`: the header, a vtable
//! pointer, the def-region kind), so C++ hooks visit through ours inline, and ours through
//! C++ visitors. Errors that leave a visit carry a [`VisitErrorContext`](super::VisitErrorContext)
//! naming the objects they passed through.

mod descent;
mod engine;

use alloc::vec::Vec;
use core::sync::atomic::{AtomicI32, Ordering};

use tvmffi_core::flags::DefRegionKind;
use tvmffi_core::sys::{TVMFFIAny, TVMFFIObject};
use tvmffi_core::{Any, AnyView, FromAnyView, Object, ObjectRef, Payload, TypeIndex};

use crate::error::Error;
use crate::function::Function;
use crate::heap;
use crate::object_type::{self, ObjectRoot};

pub(crate) use descent::{default_visit_raw, visit_map_hook, visit_seq_hook};
pub use engine::{structural_visit, structural_walk};

/// The visit entry point of a visitor's vtable (`FStructuralVisitABI`): `visitor` is the
/// visitor object, `value` a borrowed view; the result is an owned `None` (go on), a
/// [`VisitInterrupt`] (stop) or an error object (fail).
pub type VisitFn = unsafe extern "C" fn(visitor: *mut TVMFFIObject, value: TVMFFIAny) -> TVMFFIAny;

/// A visitor's dispatch table (`StructuralVisitorVTable`).
#[repr(C)]
#[derive(Debug)]
pub struct VisitorVTable {
    /// Visit one value.
    pub visit: Option<VisitFn>,
}

/// The payload every visitor object starts with (`StructuralVisitorObj`'s members).
#[repr(C)]
#[derive(Debug)]
pub struct VisitorCell {
    /// The dispatch table; never null on a made visitor.
    pub vtable: *const VisitorVTable,
    /// The current def-region kind, read and written inline by C++ hooks too.
    pub def_region: AtomicI32,
}

// SAFETY: the vtable is immutable static data; the region is atomic.
unsafe impl Send for VisitorCell {}
// SAFETY: as above.
unsafe impl Sync for VisitorCell {}

crate::structural::support::builtin_type! {
    // SAFETY: the reference's key; every visitor object (ours and C++ subclasses, which do
    // not register types of their own) starts with these members.
    unsafe impl for VisitorCell { type_key = "ffi.StructuralVisitor"; is_final = false; }
}

#[repr(C)]
struct VisitorLayout {
    header: tvmffi_core::ObjectHeader,
    cell: VisitorCell,
}

/// The payload of `ffi.VisitInterrupt` objects (`VisitInterruptObj`, static index 77).
#[repr(C)]
#[derive(Clone, Debug, Default)]
pub struct VisitInterruptObj {
    /// What the interrupt carries back to the caller; `None` for nothing.
    pub value: Any,
}

// SAFETY: `kTVMFFIVisitInterrupt` objects are the header followed by one `Any`, in the
// reference and here; the index is static.
unsafe impl Payload for VisitInterruptObj {
    const TYPE_KEY: &'static str = "ffi.VisitInterrupt";

    #[inline]
    fn is_instance(type_index: TypeIndex) -> bool {
        type_index == TypeIndex::VISIT_INTERRUPT
    }
}

// SAFETY: the reference's key at its static index (registered there at start-up, before
// any registration through this definition looks the key up); final; the payload is
// `VisitInterruptObj`'s layout (asserted in `LAYOUTS`).
unsafe impl crate::object_type::ObjectDef for VisitInterruptObj {
    const TYPE_KEY: &'static str = "ffi.VisitInterrupt";
    type Parent = ObjectRoot;
    const FINAL: bool = true;

    fn type_index_cache() -> &'static crate::object_type::TypeIndexCache {
        static CACHE: crate::object_type::TypeIndexCache =
            crate::object_type::TypeIndexCache::new();
        &CACHE
    }
}

#[repr(C)]
struct VisitInterruptLayout {
    header: tvmffi_core::ObjectHeader,
    payload: VisitInterruptObj,
}

tvmffi_core::c_layout! {
    /// The layouts of visitor and interrupt objects, as the reference's C++ classes.
    pub const LAYOUTS = [
        VisitorLayout as "tvm::ffi::StructuralVisitorObj" {
            size: 40 / 32,
            align: core::mem::align_of::<u64>(),
            fields: { vtable_ @ cell.vtable = 24 / 24, def_region_mode_ @ cell.def_region = 32 / 28 },
        },
        VisitInterruptLayout as "tvm::ffi::VisitInterruptObj" {
            size: 40 / 40,
            align: core::mem::align_of::<u64>(),
            fields: { value @ payload.value = 24 / 24 },
        },
    ];
}

/// A signal that stops a structural visit, carrying a value back to its caller.
#[derive(Clone, Debug)]
pub struct VisitInterrupt {
    obj: ObjectRef<Object<VisitInterruptObj>>,
}

impl VisitInterrupt {
    /// An interrupt carrying `value`.
    pub fn new(value: Any) -> Self {
        Self { obj: heap::new_object(TypeIndex::VISIT_INTERRUPT, VisitInterruptObj { value }) }
    }

    /// What the interrupt carries.
    pub fn value(&self) -> AnyView<'_> {
        self.obj.value.view()
    }

    /// The object reference.
    pub fn as_object(&self) -> &ObjectRef<Object<VisitInterruptObj>> {
        &self.obj
    }
}

impl crate::function::TypeStr for VisitInterrupt {
    fn type_str() -> alloc::borrow::Cow<'static, str> {
        alloc::borrow::Cow::Borrowed("ffi.VisitInterrupt")
    }
}

impl crate::function::TypeStr for StructuralVisitor {
    fn type_str() -> alloc::borrow::Cow<'static, str> {
        alloc::borrow::Cow::Borrowed("ffi.StructuralVisitor")
    }
}

impl From<VisitInterrupt> for Any {
    fn from(v: VisitInterrupt) -> Self {
        Any::from(v.obj)
    }
}

impl<'a> FromAnyView<'a> for VisitInterrupt {
    fn from_any_view(view: AnyView<'a>) -> Result<Self, tvmffi_core::ConversionError> {
        ObjectRef::from_any_view(view).map(|obj| Self { obj })
    }
}

/// When a walk calls its callbacks (the reference's `WalkOrder`): an open set of C integers.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(transparent)]
pub struct WalkOrder(pub i32);

impl WalkOrder {
    /// Before the children.
    pub const PRE_ORDER: Self = Self(0);
    /// After the children.
    pub const POST_ORDER: Self = Self(1);
}

/// What a walk callback asks for.
#[derive(Clone, Debug)]
pub enum WalkResult {
    /// Go on, into this value's children.
    Advance,
    /// Go on, but not into this value's children (pre-order only).
    Skip,
    /// Stop the walk.
    Interrupt(VisitInterrupt),
}

impl WalkResult {
    /// A callback's result as the reference's `WalkResult` reads it: `None` advances, an
    /// integer (or `bool`) is a tag (1 skips, anything else advances; truncated to 32 bits),
    /// a [`VisitInterrupt`] stops, an error object fails; anything else is a `TypeError`.
    pub fn from_result(result: Any) -> Result<Self, Error> {
        match result.type_index() {
            TypeIndex::NONE => Ok(Self::Advance),
            TypeIndex::INT | TypeIndex::BOOL => {
                // SAFETY: integers and booleans carry `v_int64`.
                let tag = unsafe { result.as_raw().value.v_int64 } as i32;
                Ok(if tag == 1 { Self::Skip } else { Self::Advance })
            }
            TypeIndex::VISIT_INTERRUPT => Ok(Self::Interrupt(result.get()?)),
            other => Err(error_or_mismatch(result, other, "WalkResult")),
        }
    }
}

impl From<WalkResult> for Any {
    fn from(r: WalkResult) -> Self {
        match r {
            WalkResult::Advance => Any::from(0i64),
            WalkResult::Skip => Any::from(1i64),
            WalkResult::Interrupt(i) => Any::from(i),
        }
    }
}

/// A returned error object as the error; any other value as the reference's mismatch.
pub(crate) fn error_or_mismatch(result: Any, actual: TypeIndex, expected: &str) -> Error {
    if actual == TypeIndex::ERROR {
        if let Ok(e) = result.get::<ObjectRef<crate::error::ErrorObj>>() {
            return Error::from_object(e);
        }
    }
    Error::type_error(alloc::format!(
        "CallExpected: result type mismatch, expected {expected}, but got {}",
        object_type::type_key(actual)
    ))
}

/// A visit's outcome: go on (`None`), stop (an interrupt), or fail.
pub type VisitOutcome = Result<Option<VisitInterrupt>, Error>;

/// An outcome from a raw `Expected<Optional<VisitInterrupt>>` value.
pub(crate) fn outcome_from_raw(raw: TVMFFIAny) -> VisitOutcome {
    // SAFETY: the raw result of a visit entry point is an owned value.
    outcome_from_any(unsafe { Any::from_raw(raw) })
}

/// An outcome from a returned value: `None`, an interrupt, or an error object.
pub(crate) fn outcome_from_any(result: Any) -> VisitOutcome {
    match result.type_index() {
        TypeIndex::NONE => Ok(None),
        TypeIndex::VISIT_INTERRUPT => Ok(Some(result.get()?)),
        other => Err(error_or_mismatch(result, other, "Optional<ffi.VisitInterrupt>")),
    }
}

/// An outcome as a raw owned value.
pub(crate) fn outcome_to_raw(outcome: VisitOutcome) -> TVMFFIAny {
    match outcome {
        Ok(None) => TVMFFIAny::NONE,
        Ok(Some(i)) => Any::from(i).into_raw(),
        Err(e) => Any::from(e.into_object()).into_raw(),
    }
}

/// Any visitor object, ours or C++'s: visits go through its vtable.
#[derive(Clone, Debug)]
pub struct StructuralVisitor {
    obj: ObjectRef<Object<VisitorCell>>,
}

impl StructuralVisitor {
    /// Visit `value` through this visitor's dispatch (`Visit`).
    pub fn visit(&self, value: AnyView<'_>) -> VisitOutcome {
        let Some(visit) = self.vtable().and_then(|v| v.visit) else {
            return Err(Error::type_error("the visitor has no visit entry point"));
        };
        // SAFETY: the visitor is alive; its entry point takes it and a borrowed view.
        outcome_from_raw(unsafe { visit(self.obj.as_raw(), *value.as_raw()) })
    }

    /// Visit `value`'s children as its type prescribes, without this visitor's dispatch for
    /// `value` itself (`DefaultVisitExpected`); the children go through the dispatch.
    ///
    /// Called on the value whose own `__s_visit__` hook is running, this runs that hook
    /// again (as in the reference): do not.
    pub fn default_visit(&self, value: AnyView<'_>) -> VisitOutcome {
        match engine::as_engine(&self.obj) {
            Some(engine) => engine::run_default(engine, &self.obj, value),
            None => {
                // SAFETY: the visitor object is alive for the call.
                outcome_from_raw(unsafe { default_visit_raw(self.obj.as_raw(), *value.as_raw()) })
            }
        }
    }

    /// The current def-region kind.
    pub fn def_region_kind(&self) -> DefRegionKind {
        DefRegionKind(self.obj.def_region.load(Ordering::Relaxed))
    }

    /// Run `f` in def region `kind` (`WithDefRegionKind`); inside a pattern region the
    /// pattern stays.
    pub fn with_def_region_kind<R>(&self, kind: DefRegionKind, f: impl FnOnce() -> R) -> R {
        with_region(&self.obj.def_region, kind, f)
    }

    fn vtable(&self) -> Option<&VisitorVTable> {
        // SAFETY: a visitor's vtable is null or static data that outlives it.
        unsafe { self.obj.vtable.as_ref() }
    }

    /// The object reference.
    pub fn as_object(&self) -> &ObjectRef<Object<VisitorCell>> {
        &self.obj
    }

    pub(crate) fn from_object(obj: ObjectRef<Object<VisitorCell>>) -> Self {
        Self { obj }
    }
}

impl<'a> FromAnyView<'a> for StructuralVisitor {
    fn from_any_view(view: AnyView<'a>) -> Result<Self, tvmffi_core::ConversionError> {
        ObjectRef::from_any_view(view).map(|obj| Self { obj })
    }
}

impl From<StructuralVisitor> for Any {
    fn from(v: StructuralVisitor) -> Self {
        Any::from(v.obj)
    }
}

/// Run `f` with `region` set to `kind`, unless it is a pattern region (which stays), and
/// restore it after, even when `f` fails.
pub(crate) fn with_region<R>(region: &AtomicI32, kind: DefRegionKind, f: impl FnOnce() -> R) -> R {
    let old = region.load(Ordering::Relaxed);
    if old == DefRegionKind::PATTERN.0 {
        return f();
    }
    region.store(kind.0, Ordering::Relaxed);
    let r = f();
    region.store(old, Ordering::Relaxed);
    r
}

/// Callback entries of the reference's dynamic engines: `(type index, function)` pairs (and
/// a flag, when `width` is 3) from an `Array<Tuple<int, Function[, bool]>>`; `None` when the
/// value is not one.
pub(crate) fn callback_entries(
    view: AnyView<'_>,
    width: usize,
) -> Option<Vec<(TypeIndex, Function, bool)>> {
    let list = crate::seq::Array::from_any_view(view).ok()?;
    let mut out = Vec::with_capacity(list.len());
    for entry in &list {
        let tuple = crate::seq::Array::from_any_view(entry).ok().filter(|t| t.len() == width)?;
        let ti = tuple.get(0)?.get::<i32>().ok()?;
        let f = tuple.get(1)?.get::<ObjectRef<tvmffi_core::FunctionObj>>().ok()?;
        let flag = match tuple.get(2) {
            Some(v) => v.get::<bool>().ok()?,
            None => false,
        };
        out.push((TypeIndex(ti), Function::from_object(f), flag));
    }
    Some(out)
}
