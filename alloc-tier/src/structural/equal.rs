//! Structural equality (the reference's `StructuralEqual`, `src/ffi/extra/structural_equal.cc`)
//! and the first mismatch as a pair of access paths (`GetFirstMismatch`).
//!
//! Values compare by content: text (inline or not) by bytes, floats by value with every NaN
//! equal, sequences element by element, maps key by key in any order, shapes by extents,
//! tensors by shape, data type and bytes. Objects compare by their type's structural kind:
//!
//! - tree nodes by their fields (those flagged `SEqHashIgnore` skipped), or through the type's
//!   `__s_equal__` hook; constant tree nodes are equal at once when identical;
//! - unique instances by identity;
//! - DAG nodes by fields, and once matched, each side's node only ever matches the other's;
//! - free variables by identity, unless inside a definition region (a field flagged
//!   `SEqHashDefPattern` or `SEqHashDefSimple`, or everywhere with `map_free_vars`), where a
//!   first meeting binds them to each other for the rest of the comparison.
//!
//! The comparison keeps its own stack, so depth costs heap, not native stack; see the
//! [module docs](super) for hooks and cycles.

use alloc::rc::Rc;
use alloc::vec::Vec;

use tvmffi_core::flags::{DefRegionKind, SEqHashKind};
use tvmffi_core::{Any, AnyView, FromAnyView, ObjectRef, TypeIndex};

use super::Options;
use super::path::{AccessPath, PendingStep, path_from_reversed};
use super::reflect::{Column, TypeCache, TypeData, field_name, field_region, get_field, ignored};
use super::support::{
    AddrMap, FIRST_CYCLE_CHECK, Lender, addr, check_stack, cycle_error, first_repeat,
    stack_position,
};
use crate::error::Error;
use crate::function::Function;
use crate::map::{Dict, Map};
use crate::seq::{Array, List};
use crate::shape::Shape;
use crate::string::any_view_to_owned;
use crate::tensor::Tensor;

/// The `__s_equal__` hook column.
static S_EQUAL: Column = Column::new("__s_equal__");

const WHAT: &str = "StructuralEqual";

/// Whether `lhs` and `rhs` are structurally equal.
///
/// Errors: a `TypeError` for an object whose type does not support structural equality (no
/// metadata, or kind `Unsupported`), errors of hooks and field getters, tensors that are not
/// contiguous CPU tensors (unless `skip_tensor_content`), and a `ValueError` for a value that
/// contains itself.
///
/// ```
/// # #[cfg(feature = "runtime")] {
/// use tvmffi_alloc::structural::{Options, structural_equal};
/// use tvmffi_alloc::{Array, Map};
/// use tvmffi_core::{Any, AnyView};
///
/// let a = Array::from_vec(vec![Any::from(1i64), Any::from(2.5f64)]);
/// let b = Array::from_vec(vec![Any::from(1i64), Any::from(2.5f64)]);
/// assert!(structural_equal(AnyView::from(&a), AnyView::from(&b), Options::default())?);
/// let m1: Map = [(1i64, 10i64), (2, 20)].into_iter().collect();
/// let m2: Map = [(2i64, 20i64), (1, 10)].into_iter().collect();
/// assert!(structural_equal(AnyView::from(&m1), AnyView::from(&m2), Options::default())?);
/// # }
/// # Ok::<(), tvmffi_alloc::Error>(())
/// ```
pub fn structural_equal(
    lhs: AnyView<'_>,
    rhs: AnyView<'_>,
    options: Options,
) -> Result<bool, Error> {
    let (lhs, rhs) = (owned(lhs)?, owned(rhs)?);
    EqState::new(options, false).compare(lhs.view(), rhs.view())
}

/// The first mismatch between `lhs` and `rhs` as the path to it on each side, or `None` when
/// they are structurally equal (`GetFirstMismatch`).
///
/// Missing parts show as `…_missing` steps: comparing `[1, 2, 3]` with `[1, 2]` gives
/// `<root>[2]` and `<root>[<missing:2>]`.
pub fn first_mismatch(
    lhs: AnyView<'_>,
    rhs: AnyView<'_>,
    options: Options,
) -> Result<Option<(AccessPath, AccessPath)>, Error> {
    let (lhs, rhs) = (owned(lhs)?, owned(rhs)?);
    let mut state = EqState::new(options, true);
    if state.compare(lhs.view(), rhs.view())? {
        return Ok(None);
    }
    let Trace { lhs, rhs } = state.trace.take().unwrap_or_default();
    Ok(Some((path_from_reversed(lhs)?, path_from_reversed(rhs)?)))
}

/// An owned value of a view (borrowed C strings and byte arrays become string objects).
fn owned(view: AnyView<'_>) -> Result<Any, Error> {
    any_view_to_owned(view).map_err(Error::from)
}

/// The mismatch steps recorded so far, deepest first.
#[derive(Default)]
struct Trace {
    lhs: Vec<PendingStep>,
    rhs: Vec<PendingStep>,
}

/// The state of one comparison, shared by its nested runs (through hooks).
struct EqState {
    region: DefRegionKind,
    skip_tensor_content: bool,
    trace: Option<Trace>,
    /// DAG nodes and free variables matched so far, both ways; the entries hold both
    /// objects so their addresses stay theirs.
    lhs_to_rhs: AddrMap<(ObjectRef, ObjectRef)>,
    rhs_to_lhs: AddrMap<(ObjectRef, ObjectRef)>,
    types: TypeCache,
    lender: Lender<EqState>,
    callback: Option<Function>,
    stack_base: usize,
}

/// What starting to compare two values gives: the answer, or a frame to work through.
enum Start {
    Done(bool),
    Frame(Frame),
}

/// What a frame asks for next.
enum Step<'a> {
    Child(AnyView<'a>, AnyView<'a>),
    Return(bool),
}

struct Frame {
    /// The addresses compared (for cycle detection) and the left type.
    key: (usize, usize),
    type_index: TypeIndex,
    kind: FrameKind,
}

enum FrameKind {
    Object(ObjectFrame),
    Seq(SeqFrame),
    Map(MapFrame),
}

struct ObjectFrame {
    lhs: ObjectRef,
    rhs: ObjectRef,
    ty: Rc<TypeData>,
    kind: SEqHashKind,
    /// The next field to look at, and the one being compared.
    next: usize,
    field: usize,
    /// The region to restore when the current field's comparison returns.
    child_region: Option<DefRegionKind>,
    /// A free variable's own region, restored when its fields are done.
    clamp: Option<DefRegionKind>,
    /// The current field's values, which the child comparison borrows.
    values: (Any, Any),
}

struct SeqFrame {
    lhs: Items,
    rhs: Items,
    index: usize,
}

/// A sequence's elements: an array's own (immutable), or a snapshot of a list's (which may
/// change while hooks run).
pub(crate) enum Items {
    Array(Array),
    Snapshot(Vec<Any>),
}

impl Items {
    pub(crate) fn of(view: &AnyView<'_>) -> Result<Self, Error> {
        Ok(if view.type_index() == TypeIndex::ARRAY {
            Self::Array(Array::from_any_view(*view)?)
        } else {
            Self::Snapshot(List::from_any_view(*view)?.to_vec())
        })
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Self::Array(a) => a.len(),
            Self::Snapshot(v) => v.len(),
        }
    }

    pub(crate) fn get(&self, i: usize) -> Option<AnyView<'_>> {
        match self {
            Self::Array(a) => a.get(i),
            Self::Snapshot(v) => v.get(i).map(Any::view),
        }
    }
}

struct MapFrame {
    lhs: MapLike,
    rhs: MapLike,
    pairs: Vec<(Any, Any)>,
    index: usize,
    /// The right side's key and value for the pair being compared.
    rhs_key: Any,
    rhs_value: Any,
}

/// An immutable map or a dict, looked up alike.
pub(crate) enum MapLike {
    Map(Map),
    Dict(Dict),
}

impl MapLike {
    pub(crate) fn of(view: &AnyView<'_>) -> Result<Self, Error> {
        Ok(if view.type_index() == TypeIndex::MAP {
            Self::Map(Map::from_any_view(*view)?)
        } else {
            Self::Dict(Dict::from_any_view(*view)?)
        })
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Self::Map(m) => m.len(),
            Self::Dict(d) => d.len(),
        }
    }

    /// The pairs in iteration order (a snapshot for dicts, which may change).
    pub(crate) fn pairs(&self) -> Vec<(Any, Any)> {
        match self {
            Self::Map(m) => m.iter().map(|(k, v)| (k.to_owned_any(), v.to_owned_any())).collect(),
            Self::Dict(d) => d.to_vec(),
        }
    }

    fn get(&self, key: &Any) -> Result<Option<Any>, Error> {
        Ok(match self {
            Self::Map(m) => m.get(key)?.map(|v| v.to_owned_any()),
            Self::Dict(d) => d.get(key)?,
        })
    }
}

/// Owning copies of values a container holds (never fails: they are owned values already).
trait ToOwnedAny {
    fn to_owned_any(&self) -> Any;
}

impl ToOwnedAny for AnyView<'_> {
    fn to_owned_any(&self) -> Any {
        self.to_owned().unwrap_or_default()
    }
}

impl EqState {
    fn new(options: Options, trace: bool) -> Self {
        Self {
            region: options.initial_region(),
            skip_tensor_content: options.skip_tensor_content,
            trace: trace.then(Trace::default),
            lhs_to_rhs: AddrMap::default(),
            rhs_to_lhs: AddrMap::default(),
            types: TypeCache::default(),
            lender: Lender::default(),
            callback: None,
            stack_base: stack_position(),
        }
    }

    fn record(&mut self, lhs: PendingStep, rhs: PendingStep) {
        if let Some(t) = &mut self.trace {
            t.lhs.push(lhs);
            t.rhs.push(rhs);
        }
    }

    fn tracing(&self) -> bool {
        self.trace.is_some()
    }

    /// Compare two owned values (`CompareAny`), working through nested frames on a stack.
    fn compare(&mut self, lhs: AnyView<'_>, rhs: AnyView<'_>) -> Result<bool, Error> {
        let mut stack: Vec<Frame> = Vec::new();
        let mut next_check = FIRST_CYCLE_CHECK;
        let mut child = match self.start(lhs, rhs)? {
            Start::Done(b) => return Ok(b),
            Start::Frame(f) => {
                stack.push(f);
                None
            }
        };
        loop {
            let Some(top) = stack.last_mut() else { return Ok(child.unwrap_or(true)) };
            let step = match &mut top.kind {
                FrameKind::Object(f) => self.resume_object(f, child)?,
                FrameKind::Seq(f) => self.resume_seq(f, child),
                FrameKind::Map(f) => self.resume_map(f, child)?,
            };
            match step {
                Step::Child(l, r) => match self.start(l, r)? {
                    Start::Done(b) => child = Some(b),
                    Start::Frame(f) => {
                        stack.push(f);
                        child = None;
                        if stack.len() >= next_check {
                            next_check = next_check.saturating_mul(2);
                            if let Some(key) = first_repeat(stack.iter().map(|f| f.key)) {
                                let ti = stack.iter().find(|f| f.key == key).map(|f| f.type_index);
                                return Err(cycle_error(WHAT, ti.unwrap_or(TypeIndex::OBJECT)));
                            }
                        }
                    }
                },
                Step::Return(b) => {
                    let done = stack.pop();
                    child = Some(match done.map(|f| f.kind) {
                        Some(FrameKind::Object(f)) => self.finish_object(&f, b),
                        _ => b,
                    });
                    if stack.is_empty() {
                        return Ok(child.unwrap_or(b));
                    }
                }
            }
        }
    }

    /// Compare what needs no frame, or set one up.
    fn start(&mut self, lhs: AnyView<'_>, rhs: AnyView<'_>) -> Result<Start, Error> {
        let (lt, rt) = (lhs.type_index(), rhs.type_index());
        if lt != rt {
            return Ok(Start::Done(text_equal_across_forms(&lhs, &rhs)));
        }
        if !lt.is_object() {
            return Ok(Start::Done(pod_equal(&lhs, &rhs)));
        }
        let key = (lhs.as_raw_addr(), rhs.as_raw_addr());
        let frame = |kind| Ok(Start::Frame(Frame { key, type_index: lt, kind }));
        match lt {
            TypeIndex::BIG_INT => {
                let (a, b) =
                    (crate::BigInt::from_any_view(lhs)?, crate::BigInt::from_any_view(rhs)?);
                Ok(Start::Done(a.words() == b.words()))
            }
            TypeIndex::STR | TypeIndex::BYTES => {
                Ok(Start::Done(lhs.as_str_or_bytes()? == rhs.as_str_or_bytes()?))
            }
            TypeIndex::ARRAY | TypeIndex::LIST => {
                let (l, r) = (Items::of(&lhs)?, Items::of(&rhs)?);
                if l.len() != r.len() && !self.tracing() {
                    return Ok(Start::Done(false));
                }
                frame(FrameKind::Seq(SeqFrame { lhs: l, rhs: r, index: 0 }))
            }
            TypeIndex::MAP | TypeIndex::DICT => {
                let (l, r) = (MapLike::of(&lhs)?, MapLike::of(&rhs)?);
                if l.len() != r.len() && !self.tracing() {
                    return Ok(Start::Done(false));
                }
                let pairs = l.pairs();
                frame(FrameKind::Map(MapFrame {
                    lhs: l,
                    rhs: r,
                    pairs,
                    index: 0,
                    rhs_key: Any::none(),
                    rhs_value: Any::none(),
                }))
            }
            TypeIndex::SHAPE => {
                let (a, b) = (Shape::from_any_view(lhs)?, Shape::from_any_view(rhs)?);
                Ok(Start::Done(a.as_slice() == b.as_slice()))
            }
            TypeIndex::TENSOR => self.tensor_equal(lhs, rhs).map(Start::Done),
            _ => self.start_object(lhs, rhs, lt),
        }
    }

    fn start_object(
        &mut self,
        lhs: AnyView<'_>,
        rhs: AnyView<'_>,
        ti: TypeIndex,
    ) -> Result<Start, Error> {
        let (lo, ro): (ObjectRef, ObjectRef) = (lhs.get()?, rhs.get()?);
        let same = lo.ptr_eq(&ro);
        let ty = self.types.get(ti)?;
        let kind = ty.supported_kind()?;
        match kind {
            SEqHashKind::UNIQUE_INSTANCE => return Ok(Start::Done(same)),
            SEqHashKind::CONST_TREE_NODE if same => return Ok(Start::Done(true)),
            SEqHashKind::DAG_NODE | SEqHashKind::FREE_VAR => {
                if let Some((_, mapped)) = self.lhs_to_rhs.get(&addr(&lo)) {
                    return Ok(Start::Done(mapped.ptr_eq(&ro)));
                }
                if self.rhs_to_lhs.contains_key(&addr(&ro)) {
                    return Ok(Start::Done(false));
                }
            }
            _ => {}
        }
        // A simple definition applies to the free variable itself; its fields are uses.
        let clamp = (kind == SEqHashKind::FREE_VAR && self.region == DefRegionKind::SIMPLE)
            .then(|| core::mem::replace(&mut self.region, DefRegionKind::NONE));
        let key = (addr(&lo), addr(&ro));
        let frame = ObjectFrame {
            lhs: lo,
            rhs: ro,
            ty,
            kind,
            next: 0,
            field: 0,
            child_region: None,
            clamp,
            values: (Any::none(), Any::none()),
        };
        if let Some(hook) = S_EQUAL.attr(ti) {
            let success = self.call_hook(hook, &lhs, &rhs)?;
            return Ok(Start::Done(self.finish_object(&frame, success)));
        }
        Ok(Start::Frame(Frame { key, type_index: ti, kind: FrameKind::Object(frame) }))
    }

    /// The next field of an object to compare, or its answer.
    fn resume_object<'f>(
        &mut self,
        f: &'f mut ObjectFrame,
        child: Option<bool>,
    ) -> Result<Step<'f>, Error> {
        if let Some(ok) = child {
            if let Some(region) = f.child_region.take() {
                self.region = region;
            }
            if !ok {
                if let Some(field) = f.ty.fields.get(f.field) {
                    let name = field_name(field);
                    self.record(PendingStep::Field(name), PendingStep::Field(name));
                }
                return Ok(Step::Return(false));
            }
        }
        while let Some(field) = f.ty.fields.get(f.next) {
            f.field = f.next;
            f.next += 1;
            if ignored(field) {
                continue;
            }
            f.values = (get_field(&f.lhs, field)?, get_field(&f.rhs, field)?);
            if let Some(kind) = field_region(field) {
                f.child_region = Some(self.region);
                self.region = super::enter_region(self.region, kind);
            }
            return Ok(Step::Child(f.values.0.view(), f.values.1.view()));
        }
        Ok(Step::Return(true))
    }

    /// What an object's comparison means once its fields (or hook) answered `success`:
    /// DAG nodes and free variables that matched are bound to each other.
    fn finish_object(&mut self, f: &ObjectFrame, success: bool) -> bool {
        if let Some(region) = f.clamp {
            self.region = region;
        }
        match f.kind {
            SEqHashKind::FREE_VAR => {
                if !success {
                    return false;
                }
                let bind = f.lhs.ptr_eq(&f.rhs) || self.region != DefRegionKind::NONE;
                if bind {
                    self.bind(&f.lhs, &f.rhs);
                }
                bind
            }
            SEqHashKind::DAG_NODE => {
                if success {
                    self.bind(&f.lhs, &f.rhs);
                }
                success
            }
            _ => success,
        }
    }

    fn bind(&mut self, lhs: &ObjectRef, rhs: &ObjectRef) {
        let (la, ra) = (addr(lhs), addr(rhs));
        self.lhs_to_rhs.insert(la, (lhs.clone(), rhs.clone()));
        self.rhs_to_lhs.insert(ra, (rhs.clone(), lhs.clone()));
    }

    fn resume_seq<'f>(&mut self, f: &'f mut SeqFrame, child: Option<bool>) -> Step<'f> {
        if let Some(ok) = child {
            if !ok {
                let i = f.index as i64;
                self.record(PendingStep::ArrayItem(i), PendingStep::ArrayItem(i));
                return Step::Return(false);
            }
            f.index += 1;
        }
        let (ln, rn) = (f.lhs.len(), f.rhs.len());
        if f.index < ln.min(rn) {
            if let (Some(l), Some(r)) = (f.lhs.get(f.index), f.rhs.get(f.index)) {
                return Step::Child(l, r);
            }
        }
        if ln == rn {
            return Step::Return(true);
        }
        if ln > rn {
            let i = rn as i64;
            self.record(PendingStep::ArrayItem(i), PendingStep::ArrayItemMissing(i));
        } else {
            let i = ln as i64;
            self.record(PendingStep::ArrayItemMissing(i), PendingStep::ArrayItem(i));
        }
        Step::Return(false)
    }

    fn resume_map<'f>(
        &mut self,
        f: &'f mut MapFrame,
        child: Option<bool>,
    ) -> Result<Step<'f>, Error> {
        if let Some(ok) = child {
            if !ok {
                let lk = f.pairs.get(f.index).map(|p| p.0.clone()).unwrap_or_default();
                let rk = core::mem::take(&mut f.rhs_key);
                self.record(PendingStep::MapItem(lk), PendingStep::MapItem(rk));
                return Ok(Step::Return(false));
            }
            f.index += 1;
        }
        while let Some((lk, _)) = f.pairs.get(f.index) {
            let rk = self.map_across(lk, true);
            match f.rhs.get(&rk)? {
                None => {
                    self.record(PendingStep::MapItem(lk.clone()), PendingStep::MapItemMissing(rk));
                    return Ok(Step::Return(false));
                }
                Some(rv) => {
                    f.rhs_key = rk;
                    f.rhs_value = rv;
                    let lv = f.pairs.get(f.index).map_or(AnyView::none(), |p| p.1.view());
                    return Ok(Step::Child(lv, f.rhs_value.view()));
                }
            }
        }
        if f.lhs.len() == f.rhs.len() {
            return Ok(Step::Return(true));
        }
        // Sizes differ and every left key matched: find a right key the left lacks.
        for (rk, _) in f.rhs.pairs() {
            let lk = self.map_across(&rk, false);
            if f.lhs.get(&lk)?.is_none() {
                self.record(PendingStep::MapItemMissing(lk), PendingStep::MapItem(rk));
                return Ok(Step::Return(false));
            }
        }
        Ok(Step::Return(false))
    }

    /// A map key as the other side knows it: a bound object is looked up as its partner
    /// (`MapLhsToRhs`, `MapRhsToLhs`).
    fn map_across(&self, key: &Any, left_to_right: bool) -> Any {
        let Some(obj) = key.as_object_ptr() else { return key.clone() };
        let map = if left_to_right { &self.lhs_to_rhs } else { &self.rhs_to_lhs };
        match map.get(&(obj.as_ptr() as usize)) {
            Some((_, partner)) => Any::from(partner.clone()),
            None => key.clone(),
        }
    }

    fn tensor_equal(&self, lhs: AnyView<'_>, rhs: AnyView<'_>) -> Result<bool, Error> {
        let (a, b) = (Tensor::from_any_view(lhs)?, Tensor::from_any_view(rhs)?);
        if a.ptr_eq(&b) {
            return Ok(true);
        }
        if a.shape() != b.shape() || a.dtype() != b.dtype() {
            return Ok(false);
        }
        if self.skip_tensor_content {
            return Ok(true);
        }
        Ok(tensor_bytes(&a, "compare")? == tensor_bytes(&b, "compare")?)
    }

    /// Call a type's `__s_equal__` hook with the callback that compares nested values.
    fn call_hook(
        &mut self,
        hook: AnyView<'static>,
        lhs: &AnyView<'_>,
        rhs: &AnyView<'_>,
    ) -> Result<bool, Error> {
        let hook = hook_function(hook, "__s_equal__")?;
        check_stack(self.stack_base, WHAT)?;
        let callback = self.callback();
        let lender = self.lender.clone();
        let result =
            lender.lend(self, || hook.call(&[*lhs, *rhs, AnyView::from(callback.as_object())]))?;
        result_bool(&result, "__s_equal__")
    }

    /// The callback hooks get (made once per comparison): `(lhs, rhs, def_region_kind,
    /// field_name) -> bool`, comparing the nested values in this comparison's state.
    fn callback(&mut self) -> Function {
        if let Some(f) = &self.callback {
            return f.clone();
        }
        let lender = self.lender.clone();
        let f = Function::from_packed(move |args: &[AnyView<'_>]| {
            let [l, r, kind, name] = args else {
                return Err(Error::type_error(alloc::format!(
                    "the __s_equal__ callback takes 4 arguments (lhs, rhs, def_region_kind, \
                     field_name), got {}",
                    args.len()
                )));
            };
            let kind = DefRegionKind(kind.get::<i32>()?);
            let (l, r) = (owned(*l)?, owned(*r)?);
            lender.borrow("__s_equal__", |st| st.nested(l.view(), r.view(), kind, *name))
        });
        self.callback = Some(f.clone());
        f
    }

    /// A comparison a hook asked for, in `kind`'s region (`None` keeps the current one).
    fn nested(
        &mut self,
        lhs: AnyView<'_>,
        rhs: AnyView<'_>,
        kind: DefRegionKind,
        name: AnyView<'_>,
    ) -> Result<Any, Error> {
        let saved = self.region;
        let entered = if kind == DefRegionKind::NONE { saved } else { kind };
        self.region = super::enter_region(saved, entered);
        let result = self.compare(lhs, rhs);
        self.region = saved;
        let ok = result?;
        if !ok && self.tracing() {
            let name = owned(name)?;
            if name.as_str().is_err() {
                return Err(Error::type_error(
                    "the __s_equal__ callback's field_name must be a str",
                ));
            }
            self.record(PendingStep::Named(name.clone()), PendingStep::Named(name));
        }
        Ok(Any::from(ok))
    }
}

/// Values of different type indices: only text in its two forms can still be equal.
fn text_equal_across_forms(lhs: &AnyView<'_>, rhs: &AnyView<'_>) -> bool {
    let form = |t: TypeIndex| match t {
        TypeIndex::STR | TypeIndex::SMALL_STR => Some(TypeIndex::STR),
        TypeIndex::BYTES | TypeIndex::SMALL_BYTES => Some(TypeIndex::BYTES),
        _ => None,
    };
    match (form(lhs.type_index()), form(rhs.type_index())) {
        (Some(a), Some(b)) if a == b => match (lhs.as_str_or_bytes(), rhs.as_str_or_bytes()) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        },
        _ => false,
    }
}

/// Two inline values of one type: NaNs are all equal, everything else compares its bits
/// (a small string's length and bytes).
fn pod_equal(lhs: &AnyView<'_>, rhs: &AnyView<'_>) -> bool {
    let (a, b) = (lhs.as_raw(), rhs.as_raw());
    if lhs.type_index() == TypeIndex::FLOAT {
        // SAFETY: a float value carries `v_float64`.
        let (x, y) = unsafe { (a.value.v_float64, b.value.v_float64) };
        if x.is_nan() {
            return y.is_nan();
        }
    }
    // SAFETY: every value is fully initialised; the bits are read as integers.
    unsafe {
        a.padding.zero_padding == b.padding.zero_padding && a.value.v_int64 == b.value.v_int64
    }
}

/// A CPU tensor's bytes, for content comparison and hashing; other tensors are the
/// reference's `InternalError`s.
pub(crate) fn tensor_bytes<'t>(t: &'t Tensor, verb: &str) -> Result<&'t [u8], Error> {
    if t.device().device_type() != tvmffi_core::DeviceType::CPU {
        return Err(Error::internal_error(alloc::format!("can only {verb} CPU tensor")));
    }
    if !t.is_contiguous() {
        return Err(Error::internal_error(alloc::format!("Can only {verb} contiguous tensor")));
    }
    let size = usize::try_from(t.data_size())
        .map_err(|_| Error::value_error("the tensor is larger than the address space"))?;
    if size == 0 {
        return Ok(&[]);
    }
    let offset = usize::try_from(t.byte_offset())
        .map_err(|_| Error::value_error("the tensor's byte offset exceeds the address space"))?;
    let data = t.data_ptr().cast::<u8>().cast_const().wrapping_add(offset);
    if data.is_null() {
        return Err(Error::value_error("the tensor has elements but a null data pointer"));
    }
    // SAFETY: a contiguous CPU tensor's `data + byte_offset` holds `data_size` readable
    // bytes for as long as the tensor lives (the DLPack contract every tensor object keeps).
    Ok(unsafe { core::slice::from_raw_parts(data, size) })
}

/// A hook attribute as a function: the reference accepts only function objects for
/// `__s_equal__` and `__s_hash__`.
pub(crate) fn hook_function(hook: AnyView<'_>, name: &str) -> Result<Function, Error> {
    match hook.get::<ObjectRef<tvmffi_core::FunctionObj>>() {
        Ok(f) => Ok(Function::from_object(f)),
        Err(_) => Err(Error::type_error(alloc::format!(
            "{name} must be an ffi.Function, got `{}`",
            crate::object_type::type_key(hook.type_index())
        ))),
    }
}

/// A hook's boolean answer (a returned error object is its failure).
fn result_bool(result: &Any, what: &str) -> Result<bool, Error> {
    if result.type_index() == TypeIndex::ERROR {
        if let Ok(e) = result.get::<ObjectRef<crate::error::ErrorObj>>() {
            return Err(Error::from_object(e));
        }
    }
    result.get::<bool>().map_err(|_| {
        Error::type_error(alloc::format!(
            "CallExpected: result type mismatch, expected bool, but got {} (from {what})",
            crate::object_type::type_key(result.type_index())
        ))
    })
}

/// The address a value's payload points at: an object's address, 0 for inline values.
trait RawAddr {
    fn as_raw_addr(&self) -> usize;
}

impl RawAddr for AnyView<'_> {
    fn as_raw_addr(&self) -> usize {
        self.as_object_ptr().map_or(0, |p| p.as_ptr() as usize)
    }
}
