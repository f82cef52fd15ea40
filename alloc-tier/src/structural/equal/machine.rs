//! The comparison machine: frames for the containers and objects being compared, on a stack
//! of the comparison's own.

use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::vec::Vec;

use tvmffi_core::flags::{DefRegionKind, SEqHashKind};
use tvmffi_core::sys::{TVMFFIAny, TVMFFIObject};
use tvmffi_core::{Any, AnyView, FromAnyView, ObjectHeader, ObjectRef, TypeIndex};

use super::{EqState, S_EQUAL, WHAT, pod_equal, tensor_bytes, text_equal_across_forms};
use crate::error::Error;
use crate::seq::List;
use crate::shape::Shape;
use crate::structural::NO_REGION;
use crate::structural::items::{MapLike, seq_cell};
use crate::structural::path::PendingStep;
use crate::structural::reflect::{TypeData, field_name, field_region, ignored, push_field};
use crate::structural::support::{FIRST_CYCLE_CHECK, cycle_error, first_repeat, push_frame};
use crate::tensor::Tensor;

/// One run of the machine (the outer comparison, or one a hook asked for): the pairs being
/// compared, innermost last, and what keeps their children alive.
struct Run {
    stack: Vec<Frame>,
    /// The field values each object frame is comparing: a pair (left, right) per object
    /// frame with a child.
    held: Vec<Any>,
    /// Lists' elements, copied (a hook may change a list), two per pair of lists.
    snapshots: Vec<Vec<Any>>,
    /// The pair of children the top frame asked for (raw views of values it keeps alive).
    next: (TVMFFIAny, TVMFFIAny),
}

impl Default for Run {
    fn default() -> Self {
        let none = TVMFFIAny::NONE;
        Self { stack: Vec::new(), held: Vec::new(), snapshots: Vec::new(), next: (none, none) }
    }
}

/// What comparing a pair gives at once: unequal, equal, or a frame pushed to work through.
const FALSE: u8 = 0;
const TRUE: u8 = 1;
const PUSHED: u8 = 2;
/// What a frame's step gives: its answer (`FALSE`, `TRUE`), or a pair of children to compare,
/// left in `Run::next`.
const CHILD: u8 = 2;

/// A pair of containers or objects being compared.
///
/// Frames borrow what they read: the roots from the caller, every other pair from the frame
/// below, which holds it (in the arrays it borrows, snapshots, `held`, or its map frame)
/// until the pair is done.
struct Frame {
    /// The objects' addresses (for cycle detection and, for objects, their fields).
    key: (usize, usize),
    kind: FrameKind,
}

enum FrameKind {
    Seq(SeqFrame),
    Object(ObjectFrame),
    Map(Box<MapFrame>),
}

/// Two sequences' elements (arrays' own, or the top two snapshots), compared up to `index`.
struct SeqFrame {
    lhs: *const TVMFFIAny,
    rhs: *const TVMFFIAny,
    lhs_len: usize,
    rhs_len: usize,
    index: usize,
    /// Whether the elements are the top two snapshots (lists), dropped with the frame.
    snapshots: usize,
}

struct ObjectFrame {
    ty: Rc<TypeData>,
    /// The next field to look at, and the one being compared.
    next: usize,
    field: usize,
    kind: SEqHashKind,
    /// The region to restore when the current field's comparison returns ([`NO_REGION`]:
    /// none).
    child_region: DefRegionKind,
    /// A free variable's own region, restored when its fields are done ([`NO_REGION`]: none).
    clamp: DefRegionKind,
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

impl EqState {
    /// Compare two owned values (`CompareAny`), working through nested frames on a stack.
    pub(super) fn compare(&mut self, lhs: AnyView<'_>, rhs: AnyView<'_>) -> Result<bool, Error> {
        let mut run = Run::default();
        match self.start(*lhs.as_raw(), *rhs.as_raw(), &mut run)? {
            PUSHED => {}
            b => return Ok(b == TRUE),
        }
        let mut next_check = FIRST_CYCLE_CHECK;
        let mut child = None;
        loop {
            let Some(top) = run.stack.last_mut() else { return Ok(child.unwrap_or(true)) };
            let step = match &mut top.kind {
                FrameKind::Seq(f) => self.resume_seq(f, child, &mut run.next),
                FrameKind::Object(f) => {
                    self.resume_object(top.key, f, child, &mut run.held, &mut run.next)?
                }
                FrameKind::Map(f) => self.resume_map(f, child, &mut run.next)?,
            };
            if step == CHILD {
                let (l, r) = run.next;
                child = match self.start(l, r, &mut run)? {
                    PUSHED => {
                        if run.stack.len() >= next_check {
                            next_check = next_check.saturating_mul(2);
                            check_cycle(&run.stack)?;
                        }
                        None
                    }
                    b => Some(b == TRUE),
                };
                continue;
            }
            // Read what the frame's end needs in place, then drop it there: moving a whole
            // frame out copies it through the stack.
            let Some(done) = run.stack.last() else { continue };
            let (key, b) = (done.key, step == TRUE);
            let b = match &done.kind {
                FrameKind::Seq(f) => {
                    if f.snapshots != 0 {
                        run.snapshots.pop();
                        run.snapshots.pop();
                    }
                    b
                }
                FrameKind::Object(f) => {
                    let (kind, clamp) = (f.kind, f.clamp);
                    self.finish_object(key, kind, clamp, b)
                }
                FrameKind::Map(_) => b,
            };
            run.stack.truncate(run.stack.len().saturating_sub(1));
            if run.stack.is_empty() {
                return Ok(b);
            }
            child = Some(b);
        }
    }

    /// Compare what needs no frame (`FALSE`, `TRUE`), or push one (`PUSHED`). The caller or
    /// the top frame keeps both values alive.
    #[inline]
    fn start(&mut self, l: TVMFFIAny, r: TVMFFIAny, run: &mut Run) -> Result<u8, Error> {
        if l.type_index == TypeIndex::ARRAY.0 && r.type_index == TypeIndex::ARRAY.0 {
            // SAFETY: array values carry their objects.
            let (lo, ro) = unsafe { (l.value.v_obj, r.value.v_obj) };
            if !lo.is_null() && !ro.is_null() {
                let ((ld, ln), (rd, rn)) = (seq_cell(lo.cast()), seq_cell(ro.cast()));
                if ln != rn && !self.tracing() {
                    return Ok(FALSE);
                }
                push_frame(&mut run.stack, || Frame {
                    key: (lo as usize, ro as usize),
                    kind: FrameKind::Seq(SeqFrame {
                        lhs: ld,
                        rhs: rd,
                        lhs_len: ln,
                        rhs_len: rn,
                        index: 0,
                        snapshots: 0,
                    }),
                });
                return Ok(PUSHED);
            }
        }
        if l.type_index < TypeIndex::STATIC_OBJECT_BEGIN.0 && l.type_index == r.type_index {
            return Ok(u8::from(pod_equal(&l, &r)));
        }
        // SAFETY: the caller keeps both values alive.
        let (l, r) = unsafe { (AnyView::from_raw(l), AnyView::from_raw(r)) };
        self.start_other(l, r, run)
    }

    /// [`Self::start`] for everything but arrays and inline values of one type.
    fn start_other(
        &mut self,
        lhs: AnyView<'_>,
        rhs: AnyView<'_>,
        run: &mut Run,
    ) -> Result<u8, Error> {
        let (lt, rt) = (lhs.type_index(), rhs.type_index());
        if lt != rt {
            return Ok(u8::from(text_equal_across_forms(&lhs, &rhs)));
        }
        let (Some(lo), Some(ro)) = (lhs.as_object_ptr(), rhs.as_object_ptr()) else {
            return Ok(u8::from(pod_equal(lhs.as_raw(), rhs.as_raw())));
        };
        let key = (lo.as_ptr() as usize, ro.as_ptr() as usize);
        let kind = match lt {
            TypeIndex::BIG_INT => {
                let (a, b) =
                    (crate::BigInt::from_any_view(lhs)?, crate::BigInt::from_any_view(rhs)?);
                return Ok(u8::from(a.words() == b.words()));
            }
            TypeIndex::STR | TypeIndex::BYTES => {
                return Ok(u8::from(lhs.as_str_or_bytes()? == rhs.as_str_or_bytes()?));
            }
            TypeIndex::ARRAY | TypeIndex::LIST => {
                let (l, r) = (seq_items(lhs, run)?, seq_items(rhs, run)?);
                let snapshots = usize::from(lt == TypeIndex::LIST);
                if l.1 != r.1 && !self.tracing() {
                    if snapshots != 0 {
                        run.snapshots.pop();
                        run.snapshots.pop();
                    }
                    return Ok(FALSE);
                }
                let (lhs, lhs_len, rhs, rhs_len) = (l.0, l.1, r.0, r.1);
                FrameKind::Seq(SeqFrame { lhs, rhs, lhs_len, rhs_len, index: 0, snapshots })
            }
            TypeIndex::MAP | TypeIndex::DICT => {
                let (l, r) = (MapLike::of(&lhs)?, MapLike::of(&rhs)?);
                if l.len() != r.len() && !self.tracing() {
                    return Ok(FALSE);
                }
                let pairs = l.pairs();
                FrameKind::Map(Box::new(MapFrame {
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
                return Ok(u8::from(a.as_slice() == b.as_slice()));
            }
            TypeIndex::TENSOR => return self.tensor_equal(lhs, rhs).map(u8::from),
            _ => return self.start_object(lhs, rhs, key, lt, run),
        };
        push_frame(&mut run.stack, || Frame { key, kind });
        Ok(PUSHED)
    }

    /// A pair of objects: an answer from their kind, bindings or hook, or a frame pushed for
    /// their fields.
    fn start_object(
        &mut self,
        lhs: AnyView<'_>,
        rhs: AnyView<'_>,
        (lk, rk): (usize, usize),
        ti: TypeIndex,
        run: &mut Run,
    ) -> Result<u8, Error> {
        let same = lk == rk;
        let ty = self.types.get(ti)?;
        let kind = ty.supported_kind()?;
        match kind {
            SEqHashKind::UNIQUE_INSTANCE => return Ok(u8::from(same)),
            SEqHashKind::CONST_TREE_NODE if same => return Ok(TRUE),
            SEqHashKind::DAG_NODE | SEqHashKind::FREE_VAR => {
                if let Some((_, mapped)) = self.lhs_to_rhs.get(&lk) {
                    return Ok(u8::from(mapped.as_raw() as usize == rk));
                }
                if self.rhs_to_lhs.contains_key(&rk) {
                    return Ok(FALSE);
                }
            }
            _ => {}
        }
        // A simple definition applies to the free variable itself; its fields are uses.
        let clamp = if kind == SEqHashKind::FREE_VAR && self.region == DefRegionKind::SIMPLE {
            core::mem::replace(&mut self.region, DefRegionKind::NONE)
        } else {
            NO_REGION
        };
        if let Some(hook) = S_EQUAL.attr(ti) {
            let success = self.call_hook(hook, &lhs, &rhs)?;
            return Ok(u8::from(self.finish_object((lk, rk), kind, clamp, success)));
        }
        push_frame(&mut run.stack, || Frame {
            key: (lk, rk),
            kind: FrameKind::Object(ObjectFrame {
                ty,
                next: 0,
                field: 0,
                kind,
                child_region: NO_REGION,
                clamp,
            }),
        });
        Ok(PUSHED)
    }

    /// The next pair of fields to compare (inline values compared in place), or the answer.
    fn resume_object(
        &mut self,
        (lk, rk): (usize, usize),
        f: &mut ObjectFrame,
        child: Option<bool>,
        held: &mut Vec<Any>,
        next: &mut (TVMFFIAny, TVMFFIAny),
    ) -> Result<u8, Error> {
        if let Some(ok) = child {
            held.truncate(held.len().saturating_sub(2));
            if f.child_region != NO_REGION {
                self.region = core::mem::replace(&mut f.child_region, NO_REGION);
            }
            if !ok {
                return Ok(self.field_mismatch(f));
            }
        }
        // The keys are the objects' addresses, exposed when the frame was made.
        let (lo, ro) = (lk as *mut TVMFFIObject, rk as *mut TVMFFIObject);
        while let Some(field) = f.ty.fields.get(f.next) {
            f.field = f.next;
            f.next += 1;
            if ignored(field) {
                continue;
            }
            let base = held.len();
            // SAFETY: the frame's objects are alive while the frame is (see `Frame`), and
            // `field` is one of their type's.
            unsafe {
                push_field(held, lo, field)?;
                push_field(held, ro, field)?;
            }
            let Some([l, r]) = held.get(base..) else {
                return Err(Error::internal_error("StructuralEqual: field values lost"));
            };
            let (la, ra) = (l.as_raw(), r.as_raw());
            if la.type_index < TypeIndex::STATIC_OBJECT_BEGIN.0 && la.type_index == ra.type_index {
                let equal = pod_equal(la, ra);
                // SAFETY: the two values past `base` are inline values (they own nothing), so
                // forgetting them drops nothing.
                unsafe { held.set_len(base) };
                if equal {
                    continue;
                }
                return Ok(self.field_mismatch(f));
            }
            *next = (*la, *ra);
            if let Some(kind) = field_region(field) {
                f.child_region = self.region;
                self.region = crate::structural::enter_region(self.region, kind);
            }
            return Ok(CHILD);
        }
        Ok(TRUE)
    }

    /// The current field differs: record it and answer `false`.
    fn field_mismatch(&mut self, f: &ObjectFrame) -> u8 {
        if self.tracing() {
            if let Some(field) = f.ty.fields.get(f.field) {
                let name = field_name(field);
                self.record(PendingStep::Field(name), PendingStep::Field(name));
            }
        }
        FALSE
    }

    /// What an object's comparison means once its fields (or hook) answered `success`:
    /// DAG nodes and free variables that matched are bound to each other.
    fn finish_object(
        &mut self,
        (lk, rk): (usize, usize),
        kind: SEqHashKind,
        clamp: DefRegionKind,
        success: bool,
    ) -> bool {
        if clamp != NO_REGION {
            self.region = clamp;
        }
        match kind {
            SEqHashKind::FREE_VAR => {
                if !success {
                    return false;
                }
                let bind = lk == rk || self.region != DefRegionKind::NONE;
                if bind {
                    self.bind(lk, rk);
                }
                bind
            }
            SEqHashKind::DAG_NODE => {
                if success {
                    self.bind(lk, rk);
                }
                success
            }
            _ => success,
        }
    }

    /// Bind two live objects to each other, holding both.
    fn bind(&mut self, lk: usize, rk: usize) {
        // SAFETY: both objects are alive (held by the frame or the caller); new references.
        let held = unsafe {
            (
                ObjectRef::<ObjectHeader>::from_raw_borrowed(lk as *mut _),
                ObjectRef::<ObjectHeader>::from_raw_borrowed(rk as *mut _),
            )
        };
        if let (Some(l), Some(r)) = held {
            self.lhs_to_rhs.insert(lk, (l.clone(), r.clone()));
            self.rhs_to_lhs.insert(rk, (r, l));
        }
    }

    /// The next pair of elements to compare (inline values compared in place), or the answer.
    #[inline]
    fn resume_seq(
        &mut self,
        f: &mut SeqFrame,
        child: Option<bool>,
        next: &mut (TVMFFIAny, TVMFFIAny),
    ) -> u8 {
        if let Some(ok) = child {
            if !ok {
                return self.item_mismatch(f.index);
            }
            f.index += 1;
        }
        let n = f.lhs_len.min(f.rhs_len);
        while f.index < n {
            // SAFETY: `index < len` elements of each side are initialised values their
            // holders keep alive and unchanged (see `Frame`).
            let (l, r) = unsafe { (f.lhs.add(f.index).read(), f.rhs.add(f.index).read()) };
            if l.type_index < TypeIndex::STATIC_OBJECT_BEGIN.0 && l.type_index == r.type_index {
                if !pod_equal(&l, &r) {
                    return self.item_mismatch(f.index);
                }
                f.index += 1;
                continue;
            }
            *next = (l, r);
            return CHILD;
        }
        if f.lhs_len == f.rhs_len {
            return TRUE;
        }
        if f.lhs_len > f.rhs_len {
            let i = f.rhs_len as i64;
            self.record(PendingStep::ArrayItem(i), PendingStep::ArrayItemMissing(i));
        } else {
            let i = f.lhs_len as i64;
            self.record(PendingStep::ArrayItemMissing(i), PendingStep::ArrayItem(i));
        }
        FALSE
    }

    fn item_mismatch(&mut self, index: usize) -> u8 {
        let i = index as i64;
        self.record(PendingStep::ArrayItem(i), PendingStep::ArrayItem(i));
        FALSE
    }

    fn resume_map(
        &mut self,
        f: &mut MapFrame,
        child: Option<bool>,
        next: &mut (TVMFFIAny, TVMFFIAny),
    ) -> Result<u8, Error> {
        if let Some(ok) = child {
            if !ok {
                let lk = f.pairs.get(f.index).map(|p| p.0.clone()).unwrap_or_default();
                let rk = core::mem::take(&mut f.rhs_key);
                self.record(PendingStep::MapItem(lk), PendingStep::MapItem(rk));
                return Ok(FALSE);
            }
            f.index += 1;
        }
        if let Some((lk, lv)) = f.pairs.get(f.index) {
            let rk = self.map_across(lk, true);
            match f.rhs.get(&rk)? {
                None => {
                    self.record(PendingStep::MapItem(lk.clone()), PendingStep::MapItemMissing(rk));
                    return Ok(FALSE);
                }
                Some(rv) => {
                    let lv = *lv.as_raw();
                    f.rhs_key = rk;
                    f.rhs_value = rv;
                    *next = (lv, *f.rhs_value.as_raw());
                    return Ok(CHILD);
                }
            }
        }
        if f.lhs.len() == f.rhs.len() {
            return Ok(TRUE);
        }
        // Sizes differ and every left key matched: find a right key the left lacks.
        for (rk, _) in f.rhs.pairs() {
            let lk = self.map_across(&rk, false);
            if f.lhs.get(&lk)?.is_none() {
                self.record(PendingStep::MapItemMissing(lk), PendingStep::MapItem(rk));
                return Ok(FALSE);
            }
        }
        Ok(FALSE)
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
}

/// The elements of an array (its own) or a list (a snapshot pushed on `run.snapshots`).
fn seq_items(view: AnyView<'_>, run: &mut Run) -> Result<(*const TVMFFIAny, usize), Error> {
    if let (TypeIndex::ARRAY, Some(obj)) = (view.type_index(), view.as_object_ptr()) {
        return Ok(seq_cell(obj.as_ptr()));
    }
    let items = List::from_any_view(view)?.to_vec();
    let seq = (items.as_ptr().cast::<TVMFFIAny>(), items.len());
    run.snapshots.push(items);
    Ok(seq)
}

/// The error for a value that contains itself, when `stack` holds a pair twice.
fn check_cycle(stack: &[Frame]) -> Result<(), Error> {
    let Some(key) = first_repeat(stack.iter().map(|f| f.key)) else { return Ok(()) };
    // SAFETY: every frame's objects are alive while the frame is.
    let ti = unsafe { (*(key.0 as *const ObjectHeader)).type_index() };
    Err(cycle_error(WHAT, ti))
}
