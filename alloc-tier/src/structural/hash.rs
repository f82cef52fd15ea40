//! Structural hashing (the reference's `StructuralHash`, `src/ffi/extra/structural_hash.cc`),
//! consistent with [`structural_equal`](super::structural_equal) under the same options and
//! equal to the reference's value bit for bit.
//!
//! The hash folds values with `StableHashCombine`, starting each container or object from its
//! type's `type_key_hash`:
//!
//! - inline values hash their type index with their 8 value bytes (every NaN alike, inline
//!   strings as string objects do); text, big integers and tensor data by their bytes;
//! - sequences and shapes in order; maps independently of order (pairs sorted by key hash;
//!   keys whose hash depends on the traversal, objects not met yet, are left out);
//! - objects by their fields or their type's `__s_hash__` hook, each object once per hash
//!   (a second meeting reuses the first result); DAG nodes also mix in the order in which they
//!   were first met, free variables in a definition region theirs, and outside one their
//!   address.

use alloc::boxed::Box;
use alloc::rc::Rc;
use alloc::vec::Vec;

use tvmffi_core::flags::{DefRegionKind, SEqHashKind};

use tvmffi_core::sys::{TVMFFIAny, TVMFFIObject};
use tvmffi_core::{Any, AnyView, FromAnyView, ObjectHeader, ObjectRef, TypeIndex};

use super::equal::{hook_function, tensor_bytes};
use super::items::{MapLike, seq_cell};
use super::reflect::{Column, TypeCache, TypeData, field_region, ignored, push_field};
use super::support::{
    AddrMap, FIRST_CYCLE_CHECK, Lender, check_stack, cycle_error, first_repeat, push_frame,
    stack_position,
};
use super::{NO_REGION, Options};
use crate::error::Error;
use crate::function::Function;
use crate::map::stable_hash_bytes;
use crate::seq::List;
use crate::shape::Shape;
use crate::string::any_view_to_owned;
use crate::tensor::Tensor;

/// The `__s_hash__` hook column.
static S_HASH: Column = Column::new("__s_hash__");

const WHAT: &str = "StructuralHash";

/// `StableHashCombine(key, value)`.
#[inline]
pub(crate) const fn combine(key: u64, value: u64) -> u64 {
    key ^ value.wrapping_add(0x9e37_79b9).wrapping_add(key << 6).wrapping_add(key >> 2)
}

/// The structural hash of `value` (`StructuralHash::Hash`). The reference's
/// `ffi.StructuralHash` returns it as an `int64_t` with the same bits.
///
/// Errors as [`structural_equal`](super::structural_equal)'s.
///
/// ```
/// # #[cfg(feature = "runtime")] {
/// use tvmffi_alloc::Array;
/// use tvmffi_alloc::structural::{Options, structural_hash};
/// use tvmffi_core::{Any, AnyView};
///
/// let a = Array::from_vec(vec![Any::from(1i64), Any::from(2i64), Any::from(3i64)]);
/// // The reference gives the same number for `tvm_ffi.structural_hash([1, 2, 3])`.
/// assert_eq!(structural_hash(AnyView::from(&a), Options::default())?, 17457834911281713904);
/// # }
/// # Ok::<(), tvmffi_alloc::Error>(())
/// ```
pub fn structural_hash(value: AnyView<'_>, options: Options) -> Result<u64, Error> {
    let value = any_view_to_owned(value)?;
    HashState::new(options).hash(value.view())
}

/// The state of one hash, shared by its nested runs (through hooks).
struct HashState {
    region: DefRegionKind,
    skip_tensor_content: bool,
    free_var_counter: u32,
    graph_node_counter: u32,
    /// Each object's hash once computed.
    memo: AddrMap<u64>,
    /// The objects in `memo`, held so their addresses stay theirs for the rest of the hash.
    memo_held: Vec<ObjectRef>,
    types: TypeCache,
    lender: Lender<HashState>,
    callback: Option<Function>,
    stack_base: usize,
}

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
    fn new(options: Options) -> Self {
        Self {
            region: options.initial_region(),
            skip_tensor_content: options.skip_tensor_content,
            free_var_counter: 0,
            graph_node_counter: 0,
            memo: AddrMap::default(),
            memo_held: Vec::new(),
            types: TypeCache::default(),
            lender: Lender::default(),
            callback: None,
            stack_base: stack_position(),
        }
    }

    /// Hash a value (`HashAny`), working through nested frames on a stack of its own.
    fn hash(&mut self, value: AnyView<'_>) -> Result<u64, Error> {
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
                        self.region = super::enter_region(self.region, kind);
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

    /// A map's pairs as the reference hashes them: keys with a hash independent of the
    /// traversal, sorted by it; a run of equal key hashes contributes its key hash once and
    /// no values (so the result does not depend on which of them comes first).
    fn map_groups(&self, pairs: Vec<(Any, Any)>) -> Result<Vec<(u64, Option<Any>)>, Error> {
        let mut items: Vec<(u64, Any)> = Vec::with_capacity(pairs.len());
        for (k, v) in pairs {
            if let Some(h) = self.order_independent_hash(&k.view())? {
                items.push((h, v));
            }
        }
        items.sort_unstable_by_key(|p| p.0);
        let mut groups = Vec::with_capacity(items.len());
        let mut it = items.into_iter().peekable();
        while let Some((h, v)) = it.next() {
            let mut tie = false;
            while it.peek().is_some_and(|p| p.0 == h) {
                it.next();
                tie = true;
            }
            groups.push((h, (!tie).then_some(v)));
        }
        Ok(groups)
    }

    /// `FindOrderIndependentHash`: the hash of a map key when it does not depend on where the
    /// traversal is; objects other than text and big integers only when already hashed.
    fn order_independent_hash(&self, key: &AnyView<'_>) -> Result<Option<u64>, Error> {
        let ti = key.type_index();
        if !ti.is_object() {
            return Ok(Some(if ti == TypeIndex::SMALL_STR {
                combine(TypeIndex::STR.0 as u64, stable_hash_bytes(key.as_str_or_bytes()?))
            } else {
                bits_hash(key)
            }));
        }
        match ti {
            TypeIndex::STR | TypeIndex::BYTES | TypeIndex::BIG_INT => {
                text_or_big_int_hash(key).map(Some)
            }
            _ => {
                Ok(key.as_object_ptr().and_then(|p| self.memo.get(&(p.as_ptr() as usize))).copied())
            }
        }
    }

    fn tensor_hash(&self, value: AnyView<'_>) -> Result<u64, Error> {
        let t = Tensor::from_any_view(value)?;
        let key_hash = super::reflect::type_info(value.type_index())?.type_key_hash;
        let mut h = combine(key_hash, t.ndim() as u64);
        for &d in t.shape() {
            h = combine(h, d as u64);
        }
        let dtype = t.dtype().as_raw();
        let bits =
            u64::from(dtype.code) | (u64::from(dtype.bits) << 8) | (u64::from(dtype.lanes) << 16);
        h = combine(h, bits);
        if !self.skip_tensor_content {
            h = combine(h, stable_hash_bytes(tensor_bytes(&t, "hash")?));
        }
        Ok(h)
    }

    /// Call a type's `__s_hash__` hook with the hash so far and the callback that hashes
    /// nested values.
    fn call_hook(
        &mut self,
        hook: AnyView<'static>,
        value: &AnyView<'_>,
        init: u64,
    ) -> Result<u64, Error> {
        let hook = hook_function(hook, "__s_hash__")?;
        check_stack(self.stack_base, WHAT)?;
        let callback = self.callback();
        let lender = self.lender.clone();
        let args = [*value, AnyView::from(init as i64), AnyView::from(callback.as_object())];
        let result = lender.lend(self, || hook.call(&args))?;
        if result.type_index() == TypeIndex::ERROR {
            if let Ok(e) = result.get::<ObjectRef<crate::error::ErrorObj>>() {
                return Err(Error::from_object(e));
            }
        }
        result.get::<i64>().map(|h| h as u64).map_err(|_| {
            Error::type_error(alloc::format!(
                "CallExpected: result type mismatch, expected int, but got {} (from __s_hash__)",
                crate::object_type::type_key(result.type_index())
            ))
        })
    }

    /// The callback hooks get: `(value, init_hash, def_region_kind) -> int`, hashing the
    /// nested value in this hash's state and combining it with `init_hash`.
    fn callback(&mut self) -> Function {
        if let Some(f) = &self.callback {
            return f.clone();
        }
        let lender = self.lender.clone();
        let f = Function::from_packed(move |args: &[AnyView<'_>]| {
            let [value, init, kind] = args else {
                return Err(Error::type_error(alloc::format!(
                    "the __s_hash__ callback takes 3 arguments (value, init_hash, \
                     def_region_kind), got {}",
                    args.len()
                )));
            };
            let init = init.get::<i64>()? as u64;
            let kind = DefRegionKind(kind.get::<i32>()?);
            let value = any_view_to_owned(*value)?;
            lender.borrow("__s_hash__", |st| {
                let saved = st.region;
                let entered = if kind == DefRegionKind::NONE { saved } else { kind };
                st.region = super::enter_region(saved, entered);
                let h = st.hash(value.view());
                st.region = saved;
                Ok(Any::from(combine(init, h?) as i64))
            })
        });
        self.callback = Some(f.clone());
        f
    }
}

/// The error for a value that contains itself, when `stack` holds an object twice.
fn check_cycle(stack: &[Frame]) -> Result<(), Error> {
    let Some(key) = first_repeat(stack.iter().map(|f| f.key)) else { return Ok(()) };
    // SAFETY: every frame's object is alive while the frame is.
    let ti = unsafe { (*(key as *const ObjectHeader)).type_index() };
    Err(cycle_error(WHAT, ti))
}

/// The hash of an inline value: NaNs alike, inline strings as strings, the rest by bits.
#[inline]
fn pod_hash(raw: &TVMFFIAny) -> u64 {
    let ti = TypeIndex(raw.type_index);
    if ti == TypeIndex::FLOAT {
        // SAFETY: a float value carries `v_float64`.
        if unsafe { raw.value.v_float64 }.is_nan() {
            return combine(ti.0 as u64, f64::NAN.to_bits());
        }
    } else if ti == TypeIndex::SMALL_STR {
        // `StableHashSmallStrBytes`: the NUL-padded value bytes as one little-endian word,
        // which is the bytes' `StableHashBytes`.
        // SAFETY: a small string lives in the value itself.
        let view = unsafe { AnyView::from_raw(*raw) };
        let bytes = view.as_str_or_bytes().unwrap_or_default();
        return combine(TypeIndex::STR.0 as u64, stable_hash_bytes(bytes));
    }
    // SAFETY: every value is fully initialised; read as an integer.
    combine(raw.type_index as i64 as u64, unsafe { raw.value.v_uint64 })
}

/// The hash of a value by its type index and 8 value bytes.
fn bits_hash(value: &AnyView<'_>) -> u64 {
    // SAFETY: every value is fully initialised; read as an integer.
    combine(value.type_index().0 as i64 as u64, unsafe { value.as_raw().value.v_uint64 })
}

/// Text and big integers: their type index with the hash of their bytes.
fn text_or_big_int_hash(value: &AnyView<'_>) -> Result<u64, Error> {
    let ti = value.type_index();
    let h = if ti == TypeIndex::BIG_INT {
        let big = crate::BigInt::from_any_view(*value)?;
        stable_hash_bytes(big.to_bytes())
    } else {
        stable_hash_bytes(value.as_str_or_bytes()?)
    };
    Ok(combine(ti.0 as u64, h))
}
