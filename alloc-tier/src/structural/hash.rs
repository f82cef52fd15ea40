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

use alloc::rc::Rc;
use alloc::vec::Vec;

use tvmffi_core::flags::{DefRegionKind, SEqHashKind};
use tvmffi_core::{Any, AnyView, FromAnyView, ObjectRef, TypeIndex};

use super::Options;
use super::equal::{Items, MapLike, hook_function, tensor_bytes};
use super::reflect::{Column, TypeCache, TypeData, field_region, get_field, ignored};
use super::support::{
    AddrMap, FIRST_CYCLE_CHECK, Lender, addr, check_stack, cycle_error, first_repeat,
    stack_position,
};
use crate::error::Error;
use crate::function::Function;
use crate::map::stable_hash_bytes;
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
    /// Each object's hash once computed, holding the object so its address stays its own.
    memo: AddrMap<(ObjectRef, u64)>,
    types: TypeCache,
    lender: Lender<HashState>,
    callback: Option<Function>,
    stack_base: usize,
}

enum Start {
    Done(u64),
    Frame(Frame),
}

enum Step<'a> {
    Child(AnyView<'a>),
    Return(u64),
}

struct Frame {
    key: usize,
    type_index: TypeIndex,
    /// The hash so far.
    hash: u64,
    kind: FrameKind,
}

enum FrameKind {
    Object(ObjectFrame),
    Seq {
        items: Items,
        index: usize,
    },
    /// Map values to hash, in key-hash order; each key hash is mixed in before its value.
    Map {
        groups: Vec<(u64, Option<Any>)>,
        index: usize,
        waiting: bool,
    },
}

struct ObjectFrame {
    obj: ObjectRef,
    ty: Rc<TypeData>,
    kind: SEqHashKind,
    next: usize,
    child_region: Option<DefRegionKind>,
    clamp: Option<DefRegionKind>,
    value: Any,
}

impl HashState {
    fn new(options: Options) -> Self {
        Self {
            region: options.initial_region(),
            skip_tensor_content: options.skip_tensor_content,
            free_var_counter: 0,
            graph_node_counter: 0,
            memo: AddrMap::default(),
            types: TypeCache::default(),
            lender: Lender::default(),
            callback: None,
            stack_base: stack_position(),
        }
    }

    /// Hash an owned value (`HashAny`), working through nested frames on a stack.
    fn hash(&mut self, value: AnyView<'_>) -> Result<u64, Error> {
        let mut stack: Vec<Frame> = Vec::new();
        let mut next_check = FIRST_CYCLE_CHECK;
        let mut child = match self.start(value)? {
            Start::Done(h) => return Ok(h),
            Start::Frame(f) => {
                stack.push(f);
                None
            }
        };
        loop {
            let Some(top) = stack.last_mut() else { return Ok(child.unwrap_or_default()) };
            let step = self.resume(top, child)?;
            match step {
                Step::Child(v) => match self.start(v)? {
                    Start::Done(h) => child = Some(h),
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
                Step::Return(h) => {
                    let h = match stack.pop().map(|f| f.kind) {
                        Some(FrameKind::Object(f)) => self.finish_object(f, h),
                        _ => h,
                    };
                    if stack.is_empty() {
                        return Ok(h);
                    }
                    child = Some(h);
                }
            }
        }
    }

    fn start(&mut self, value: AnyView<'_>) -> Result<Start, Error> {
        let ti = value.type_index();
        if !ti.is_object() {
            return Ok(Start::Done(pod_hash(&value)));
        }
        let key = value.as_object_ptr().map_or(0, |p| p.as_ptr() as usize);
        let frame = |hash, kind| Ok(Start::Frame(Frame { key, type_index: ti, hash, kind }));
        match ti {
            TypeIndex::BIG_INT | TypeIndex::STR | TypeIndex::BYTES => {
                Ok(Start::Done(text_or_big_int_hash(&value)?))
            }
            TypeIndex::ARRAY | TypeIndex::LIST => {
                let items = Items::of(&value)?;
                let hash = combine(self.types.get(ti)?.key_hash(), items.len() as u64);
                frame(hash, FrameKind::Seq { items, index: 0 })
            }
            TypeIndex::MAP | TypeIndex::DICT => {
                let map = MapLike::of(&value)?;
                let hash = combine(self.types.get(ti)?.key_hash(), map.len() as u64);
                let groups = self.map_groups(map.pairs())?;
                frame(hash, FrameKind::Map { groups, index: 0, waiting: false })
            }
            TypeIndex::SHAPE => {
                let shape = Shape::from_any_view(value)?;
                let start = combine(self.types.get(ti)?.key_hash(), shape.len() as u64);
                Ok(Start::Done(shape.as_slice().iter().fold(start, |h, &d| combine(h, d as u64))))
            }
            TypeIndex::TENSOR => self.tensor_hash(value).map(Start::Done),
            _ => self.start_object(value, ti),
        }
    }

    fn start_object(&mut self, value: AnyView<'_>, ti: TypeIndex) -> Result<Start, Error> {
        let obj: ObjectRef = value.get()?;
        let ty = self.types.get(ti)?;
        let kind = ty.supported_kind()?;
        if let Some((_, h)) = self.memo.get(&addr(&obj)) {
            return Ok(Start::Done(*h));
        }
        let clamp = (kind == SEqHashKind::FREE_VAR && self.region == DefRegionKind::SIMPLE)
            .then(|| core::mem::replace(&mut self.region, DefRegionKind::NONE));
        let key = addr(&obj);
        let init = ty.key_hash();
        let frame =
            ObjectFrame { obj, ty, kind, next: 0, child_region: None, clamp, value: Any::none() };
        if let Some(hook) = S_HASH.attr(ti) {
            let h = self.call_hook(hook, &value, init)?;
            return Ok(Start::Done(self.finish_object(frame, h)));
        }
        Ok(Start::Frame(Frame { key, type_index: ti, hash: init, kind: FrameKind::Object(frame) }))
    }

    fn resume<'f>(&mut self, top: &'f mut Frame, child: Option<u64>) -> Result<Step<'f>, Error> {
        match &mut top.kind {
            FrameKind::Object(f) => {
                if let Some(h) = child {
                    if let Some(region) = f.child_region.take() {
                        self.region = region;
                    }
                    top.hash = combine(top.hash, h);
                }
                while let Some(field) = f.ty.fields.get(f.next) {
                    f.next += 1;
                    if ignored(field) {
                        continue;
                    }
                    f.value = get_field(&f.obj, field)?;
                    if let Some(kind) = field_region(field) {
                        f.child_region = Some(self.region);
                        self.region = super::enter_region(self.region, kind);
                    }
                    return Ok(Step::Child(f.value.view()));
                }
                Ok(Step::Return(top.hash))
            }
            FrameKind::Seq { items, index } => {
                if let Some(h) = child {
                    top.hash = combine(top.hash, h);
                    *index += 1;
                }
                Ok(match items.get(*index) {
                    Some(v) => Step::Child(v),
                    None => Step::Return(top.hash),
                })
            }
            FrameKind::Map { groups, index, waiting } => {
                if let Some(h) = child.filter(|_| *waiting) {
                    top.hash = combine(top.hash, h);
                    *waiting = false;
                    *index += 1;
                }
                while let Some((key_hash, value)) = groups.get(*index) {
                    top.hash = combine(top.hash, *key_hash);
                    if let Some(v) = value {
                        *waiting = true;
                        return Ok(Step::Child(v.view()));
                    }
                    *index += 1;
                }
                Ok(Step::Return(top.hash))
            }
        }
    }

    /// An object's hash once its fields (or hook) gave `hash`: free variables and DAG nodes
    /// mix in their order of appearance (or a free use its address), and the result is kept.
    fn finish_object(&mut self, f: ObjectFrame, mut hash: u64) -> u64 {
        if let Some(region) = f.clamp {
            self.region = region;
        }
        if f.kind == SEqHashKind::FREE_VAR {
            hash = if self.region != DefRegionKind::NONE {
                let n = self.free_var_counter;
                self.free_var_counter = n.wrapping_add(1);
                combine(hash, u64::from(n))
            } else {
                addr(&f.obj) as u64
            };
        }
        if f.kind == SEqHashKind::DAG_NODE {
            let n = self.graph_node_counter;
            self.graph_node_counter = n.wrapping_add(1);
            hash = combine(hash, u64::from(n));
        }
        self.memo.insert(addr(&f.obj), (f.obj, hash));
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
            _ => Ok(key
                .as_object_ptr()
                .and_then(|p| self.memo.get(&(p.as_ptr() as usize)))
                .map(|(_, h)| *h)),
        }
    }

    fn tensor_hash(&self, value: AnyView<'_>) -> Result<u64, Error> {
        let t = Tensor::from_any_view(value)?;
        let key_hash = crate::structural::reflect::type_info(value.type_index())?.type_key_hash;
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

/// The hash of an inline value: NaNs alike, inline strings as strings, the rest by bits.
fn pod_hash(value: &AnyView<'_>) -> u64 {
    let ti = value.type_index();
    let raw = value.as_raw();
    if ti == TypeIndex::FLOAT {
        // SAFETY: a float value carries `v_float64`.
        if unsafe { raw.value.v_float64 }.is_nan() {
            return combine(ti.0 as u64, f64::NAN.to_bits());
        }
    }
    if ti == TypeIndex::SMALL_STR {
        // `StableHashSmallStrBytes`: the NUL-padded value bytes as one little-endian word,
        // which is the bytes' `StableHashBytes`.
        let bytes = value.as_str_or_bytes().unwrap_or_default();
        return combine(TypeIndex::STR.0 as u64, stable_hash_bytes(bytes));
    }
    bits_hash(value)
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
