//! The hashing machine: frames for the containers and objects being hashed, on a stack of
//! the hash's own, and the bookkeeping of objects (memo, free variables, DAG nodes).

use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::vec::Vec;

use tvmffi_core::flags::{DefRegionKind, SEqHashKind};
use tvmffi_core::sys::{TVMFFIAny, TVMFFIObject};
use tvmffi_core::{Any, AnyView, FromAnyView, ObjectHeader, ObjectRef, TypeIndex};

use super::{HashState, S_HASH, WHAT, combine, pod_hash, text_or_big_int_hash};
use crate::error::Error;
use crate::seq::List;
use crate::shape::Shape;
use crate::structural::items::{MapLike, seq_cell};
use crate::structural::reflect::{TypeData, field_region, ignored, push_field};
use crate::structural::support::{FIRST_CYCLE_CHECK, cycle_error, first_repeat, push_frame};
use crate::structural::{NO_REGION, enter_region};

/// One run of the hash machine (the outer hash, or one a hook asked for): the values being
/// hashed, innermost last, and what keeps their children alive.
#[derive(Default)]
struct Run {
    stack: Vec<Frame>,
    /// The field value each object frame is hashing, one per object frame with a child.
    held: Vec<Any>,
    /// Lists' elements, copied (a hook may change a list), one per list frame.
    snapshots: Vec<Vec<Any>>,
}

/// A container or object being hashed: its hash so far, and where it is.
///
/// Frames borrow what they read: the root from the caller, every other value from the frame
/// below, which holds it (in an array it borrows, a snapshot, or `held`) until it is done.
struct Frame {
    /// The object's address (for cycle detection and, for objects, its fields).
    key: usize,
    hash: u64,
    kind: FrameKind,
}

enum FrameKind {
    /// The elements `data[index..len]` of an array (or of the top snapshot).
    Seq {
        data: *const TVMFFIAny,
        len: usize,
        index: usize,
        snapshot: usize,
    },
    Object(ObjectFrame),
    Map(Box<MapFrame>),
}

struct ObjectFrame {
    ty: Rc<TypeData>,
    next: usize,
    kind: SEqHashKind,
    /// The region to restore when the current field's hash comes back ([`NO_REGION`]: none).
    child_region: DefRegionKind,
    /// A free variable's own region, restored when its fields are done ([`NO_REGION`]: none).
    clamp: DefRegionKind,
}

/// Map values to hash, in key-hash order; each key hash is mixed in before its value.
struct MapFrame {
    groups: Vec<(u64, Option<Any>)>,
    index: usize,
}
impl HashState {
    /// Hash a value (`HashAny`), working through nested frames on a stack of its own.
    pub(super) fn hash(&mut self, value: AnyView<'_>) -> Result<u64, Error> {
        let mut run = Run::default();
        if let Some(h) = self.enter(*value.as_raw(), &mut run)? {
            return Ok(h);
        }
        let mut next_check = FIRST_CYCLE_CHECK;
        loop {
            let Some(top) = run.stack.last_mut() else {
                return Err(Error::internal_error("StructuralHash: empty stack"));
            };
            let next = match &mut top.kind {
                // Sequences inline: they are most of the work in containers.
                FrameKind::Seq { data, len, index, .. } => {
                    let mut found = None;
                    let mut h = top.hash;
                    while *index < *len {
                        // SAFETY: `index < len` elements are initialised values that the
                        // frame's holder keeps alive and unchanged (see `Frame`).
                        let raw = unsafe { data.add(*index).read() };
                        *index += 1;
                        if raw.type_index >= TypeIndex::STATIC_OBJECT_BEGIN.0 {
                            found = Some(raw);
                            break;
                        }
                        h = combine(h, pod_hash(&raw));
                    }
                    top.hash = h;
                    found
                }
                FrameKind::Object(_) | FrameKind::Map(_) => self.advance(top, &mut run.held)?,
            };
            let h = match next {
                Some(raw) => match self.enter(raw, &mut run)? {
                    Some(h) => h,
                    None => {
                        if run.stack.len() >= next_check {
                            next_check = next_check.saturating_mul(2);
                            check_cycle(&run.stack)?;
                        }
                        continue;
                    }
                },
                None => {
                    // Read what the frame's end needs in place, then drop it there: moving a
                    // whole frame out copies it through the stack.
                    let Some(done) = run.stack.last() else { continue };
                    let (key, hash) = (done.key, done.hash);
                    let h = match &done.kind {
                        FrameKind::Seq { snapshot, .. } => {
                            if *snapshot != 0 {
                                run.snapshots.pop();
                            }
                            hash
                        }
                        FrameKind::Object(f) => {
                            let (kind, clamp) = (f.kind, f.clamp);
                            self.finish_object(key, kind, clamp, hash)
                        }
                        FrameKind::Map(_) => hash,
                    };
                    run.stack.truncate(run.stack.len().saturating_sub(1));
                    if run.stack.is_empty() {
                        return Ok(h);
                    }
                    h
                }
            };
            // Deliver the child's hash to its parent.
            if let Some(parent) = run.stack.last_mut() {
                if let FrameKind::Object(f) = &mut parent.kind {
                    run.held.pop();
                    if f.child_region != NO_REGION {
                        self.region = core::mem::replace(&mut f.child_region, NO_REGION);
                    }
                }
                parent.hash = combine(parent.hash, h);
            }
        }
    }

    /// Hash the value `raw` (kept alive by the caller or the top frame) at once, or push a
    /// frame for it and return `None`.
    #[inline]
    fn enter(&mut self, raw: TVMFFIAny, run: &mut Run) -> Result<Option<u64>, Error> {
        let ti = TypeIndex(raw.type_index);
        if ti == TypeIndex::ARRAY {
            // SAFETY: an array value carries its object.
            let obj = unsafe { raw.value.v_obj };
            if !obj.is_null() {
                let (data, len) = seq_cell(obj.cast());
                self.push_seq(run, obj as usize, ti, data, len, 0)?;
                return Ok(None);
            }
        }
        if !ti.is_object() {
            return Ok(Some(pod_hash(&raw)));
        }
        // SAFETY: the caller keeps the value alive.
        self.enter_other(unsafe { AnyView::from_raw(raw) }, run)
    }

    /// Push a frame for a sequence's elements (`snapshot`: they are the top snapshot).
    #[inline(always)]
    fn push_seq(
        &mut self,
        run: &mut Run,
        key: usize,
        ti: TypeIndex,
        data: *const TVMFFIAny,
        len: usize,
        snapshot: usize,
    ) -> Result<(), Error> {
        let hash = combine(self.types.key_hash(ti)?, len as u64);
        // The frame is built in its slot (see `push_frame`).
        push_frame(&mut run.stack, || Frame {
            key,
            hash,
            kind: FrameKind::Seq { data, len, index: 0, snapshot },
        });
        Ok(())
    }

    /// [`Self::enter`] for everything but arrays and inline values.
    fn enter_other(&mut self, value: AnyView<'_>, run: &mut Run) -> Result<Option<u64>, Error> {
        let ti = value.type_index();
        let Some(obj) = value.as_object_ptr() else { return Ok(Some(pod_hash(value.as_raw()))) };
        let key = obj.as_ptr() as usize;
        match ti {
            TypeIndex::BIG_INT | TypeIndex::STR | TypeIndex::BYTES => {
                text_or_big_int_hash(&value).map(Some)
            }
            TypeIndex::SHAPE => {
                let shape = Shape::from_any_view(value)?;
                let start = combine(self.types.key_hash(ti)?, shape.len() as u64);
                Ok(Some(shape.as_slice().iter().fold(start, |h, &d| combine(h, d as u64))))
            }
            TypeIndex::TENSOR => self.tensor_hash(value).map(Some),
            TypeIndex::ARRAY => {
                let (data, len) = seq_cell(obj.as_ptr());
                self.push_seq(run, key, ti, data, len, 0).map(|()| None)
            }
            TypeIndex::LIST => {
                let items = List::from_any_view(value)?.to_vec();
                let (data, len) = (items.as_ptr().cast::<TVMFFIAny>(), items.len());
                run.snapshots.push(items);
                self.push_seq(run, key, ti, data, len, 1).map(|()| None)
            }
            TypeIndex::MAP | TypeIndex::DICT => {
                let map = MapLike::of(&value)?;
                let hash = combine(self.types.key_hash(ti)?, map.len() as u64);
                let groups = self.map_groups(map.pairs())?;
                let kind = FrameKind::Map(Box::new(MapFrame { groups, index: 0 }));
                push_frame(&mut run.stack, || Frame { key, hash, kind });
                Ok(None)
            }
            _ => self.start_object(value, key, ti, run),
        }
    }

    /// An object: its memoised hash, its hook's answer, or a frame pushed for its fields.
    fn start_object(
        &mut self,
        value: AnyView<'_>,
        key: usize,
        ti: TypeIndex,
        run: &mut Run,
    ) -> Result<Option<u64>, Error> {
        let ty = self.types.get(ti)?;
        let kind = ty.supported_kind()?;
        if let Some(h) = self.memo.get(&key) {
            return Ok(Some(*h));
        }
        let clamp = if kind == SEqHashKind::FREE_VAR && self.region == DefRegionKind::SIMPLE {
            core::mem::replace(&mut self.region, DefRegionKind::NONE)
        } else {
            NO_REGION
        };
        let init = ty.key_hash();
        if let Some(hook) = S_HASH.attr(ti) {
            let h = self.call_hook(hook, &value, init)?;
            return Ok(Some(self.finish_object(key, kind, clamp, h)));
        }
        push_frame(&mut run.stack, || Frame {
            key,
            hash: init,
            kind: FrameKind::Object(ObjectFrame {
                ty,
                next: 0,
                kind,
                child_region: NO_REGION,
                clamp,
            }),
        });
        Ok(None)
    }

    /// Hash the frame's inline children in place; stop at the first child that needs hashing
    /// of its own (returned as a raw view of a value the frame keeps alive), or at the end.
    #[inline]
    fn advance(
        &mut self,
        top: &mut Frame,
        held: &mut Vec<Any>,
    ) -> Result<Option<TVMFFIAny>, Error> {
        match &mut top.kind {
            FrameKind::Object(f) => {
                // The key is the object's address, exposed when the frame was made.
                let obj = top.key as *mut TVMFFIObject;
                while let Some(field) = f.ty.fields.get(f.next) {
                    f.next += 1;
                    if ignored(field) {
                        continue;
                    }
                    // SAFETY: the frame's object is alive while its frame is (see `Frame`),
                    // and `field` is one of its type's.
                    unsafe { push_field(held, obj, field) }?;
                    let Some(value) = held.last() else {
                        return Err(Error::internal_error("StructuralHash: field value lost"));
                    };
                    if !value.type_index().is_object() {
                        top.hash = combine(top.hash, pod_hash(value.as_raw()));
                        // SAFETY: the last value is an inline value (it owns nothing), so
                        // forgetting it drops nothing.
                        unsafe { held.set_len(held.len().saturating_sub(1)) };
                        continue;
                    }
                    let raw = *value.as_raw();
                    if let Some(kind) = field_region(field) {
                        f.child_region = self.region;
                        self.region = enter_region(self.region, kind);
                    }
                    return Ok(Some(raw));
                }
                Ok(None)
            }
            // Handled inline by `hash`.
            FrameKind::Seq { .. } => Ok(None),
            FrameKind::Map(m) => {
                while let Some((key_hash, value)) = m.groups.get(m.index) {
                    m.index += 1;
                    top.hash = combine(top.hash, *key_hash);
                    if let Some(v) = value {
                        return Ok(Some(*v.as_raw()));
                    }
                }
                Ok(None)
            }
        }
    }

    /// An object's hash once its fields (or hook) gave `hash`: free variables and DAG nodes
    /// mix in their order of appearance (or a free use its address), and the result is kept.
    fn finish_object(
        &mut self,
        key: usize,
        kind: SEqHashKind,
        clamp: DefRegionKind,
        mut hash: u64,
    ) -> u64 {
        if clamp != NO_REGION {
            self.region = clamp;
        }
        if kind == SEqHashKind::FREE_VAR {
            hash = if self.region != DefRegionKind::NONE {
                let n = self.free_var_counter;
                self.free_var_counter = n.wrapping_add(1);
                combine(hash, u64::from(n))
            } else {
                key as u64
            };
        }
        if kind == SEqHashKind::DAG_NODE {
            let n = self.graph_node_counter;
            self.graph_node_counter = n.wrapping_add(1);
            hash = combine(hash, u64::from(n));
        }
        // SAFETY: the object is alive (borrowed by the frame); a new reference is made.
        if let Some(held) = unsafe { ObjectRef::<ObjectHeader>::from_raw_borrowed(key as *mut _) } {
            self.memo.insert(key, hash);
            self.memo_held.push(held);
        }
        hash
    }
}

/// The error for a value that contains itself, when `stack` holds an object twice.
fn check_cycle(stack: &[Frame]) -> Result<(), Error> {
    let Some(key) = first_repeat(stack.iter().map(|f| f.key)) else { return Ok(()) };
    // SAFETY: every frame's object is alive while the frame is.
    let ti = unsafe { (*(key as *const ObjectHeader)).type_index() };
    Err(cycle_error(WHAT, ti))
}
