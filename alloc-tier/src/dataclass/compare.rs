//! `ffi.RecursiveEq`, `ffi.RecursiveLt`, `Le`, `Gt`, `Ge`: values compared by structure,
//! as the reference compares them (`RecursiveComparer` in `src/ffi/extra/dataclass.cc`).
//!
//! - `None` sorts first; strings and bytes compare by content whether inline or objects;
//!   integers compare with big integers by value; other values of different types are
//!   unequal and cannot be ordered (`TypeError`).
//! - Floats: `NaN` equals `NaN` for equality and cannot be ordered; `-0.0 == 0.0`.
//! - Sequences compare lexicographically; maps are equal when they have the same keys with
//!   equal values, and cannot be ordered unless equal.
//! - Reflected objects compare field by field (leaving out `CompareOff` fields), or through
//!   their type's `__ffi_eq__` (`(lhs, rhs, fn_eq) -> bool`, equality only) and
//!   `__ffi_compare__` (`(lhs, rhs, fn_cmp) -> int`) attributes.
//! - A pair of objects met again while being compared (a cycle) is equal for equality; an
//!   ordering through a cycle is a `ValueError`.

use alloc::collections::BTreeSet;
use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cmp::Ordering;

use tvmffi_core::flags::FieldFlags;
use tvmffi_core::{Any, AnyView, FromAnyView, ObjectHeader, ObjectRef, TypeIndex};

use super::walk::{self, MAX_HOOK_DEPTH, MAX_STACK_DEPTH};
use crate::BigInt;
use crate::error::Error;
use crate::function::Function;
use crate::map::{Dict, Map};
use crate::object_type::info::AttrColumn;
use crate::object_type::type_key;
use crate::seq::{Array, List};

/// Whether `lhs` and `rhs` are equal by structure (`ffi.RecursiveEq`).
///
/// ```
/// # #[cfg(feature = "runtime")] {
/// use tvmffi_alloc::dataclass::{recursive_cmp, recursive_eq};
/// use tvmffi_alloc::Array;
/// use tvmffi_core::Any;
///
/// let a = Any::from(Array::from_vec(vec![Any::from(1i64), Any::from(f64::NAN)]));
/// let b = Any::from(Array::from_vec(vec![Any::from(1i64), Any::from(f64::NAN)]));
/// assert!(recursive_eq(&a, &b).unwrap());
/// let c = Any::from(Array::from_vec(vec![Any::from(2i64)]));
/// assert_eq!(recursive_cmp(&a, &c).unwrap(), core::cmp::Ordering::Less);
/// # }
/// ```
pub fn recursive_eq(lhs: &Any, rhs: &Any) -> Result<bool, Error> {
    Comparer::new(true).compare(lhs, rhs).map(|c| c == 0)
}

/// The order of `lhs` and `rhs` by structure (`ffi.RecursiveLt` and its siblings).
pub fn recursive_cmp(lhs: &Any, rhs: &Any) -> Result<Ordering, Error> {
    Comparer::new(false).compare(lhs, rhs).map(|c| c.cmp(&0))
}

struct Shared {
    on_stack: BTreeSet<(usize, usize)>,
    hook_depth: usize,
}

#[derive(Clone)]
struct Comparer {
    eq_only: bool,
    shared: Arc<spin::Mutex<Shared>>,
    eq_column: Option<AttrColumn>,
    compare_column: Option<AttrColumn>,
}

#[derive(PartialEq, Eq, Clone, Copy)]
enum Kind {
    Sequence,
    Map,
    Object,
}

struct Frame {
    kind: Kind,
    pair: (usize, usize),
    children: Vec<(Any, Any)>,
    next: usize,
    sizes: (usize, usize),
}

fn order_error() -> Error {
    Error::type_error("Cannot order Map/Dict values")
}

fn sign(o: Ordering) -> i32 {
    match o {
        Ordering::Less => -1,
        Ordering::Equal => 0,
        Ordering::Greater => 1,
    }
}

impl Comparer {
    fn new(eq_only: bool) -> Self {
        Self {
            eq_only,
            shared: Arc::new(spin::Mutex::new(Shared { on_stack: BTreeSet::new(), hook_depth: 0 })),
            eq_column: AttrColumn::of("__ffi_eq__"),
            compare_column: AttrColumn::of("__ffi_compare__"),
        }
    }

    fn compare(&self, lhs: &Any, rhs: &Any) -> Result<i32, Error> {
        if let Some(c) = self.immediate(lhs, rhs)? {
            return Ok(c);
        }
        let mut stack: Vec<Frame> = Vec::new();
        if let Some(c) = self.push(&mut stack, lhs, rhs)? {
            return Ok(c);
        }
        loop {
            let Some(top) = stack.last_mut() else {
                return Err(Error::internal_error("RecursiveCompare: empty stack"));
            };
            if let Some((l, r)) = top.children.get(top.next).cloned() {
                top.next += 1;
                let result = match self.immediate(&l, &r)? {
                    Some(c) => c,
                    None => match self.push(&mut stack, &l, &r)? {
                        Some(c) => c,
                        None => continue,
                    },
                };
                if result != 0 {
                    return self.terminate(&mut stack, result);
                }
                continue;
            }
            let Some(frame) = stack.pop() else { continue };
            self.shared.lock().on_stack.remove(&frame.pair);
            let result = match frame.kind {
                Kind::Sequence => sign(frame.sizes.0.cmp(&frame.sizes.1)),
                _ => 0,
            };
            if stack.is_empty() {
                return Ok(result);
            }
            if result != 0 {
                return self.terminate(&mut stack, result);
            }
        }
    }

    /// A difference found: unwind (`PropagateNonZero`). Ordering through a map is refused.
    fn terminate(&self, stack: &mut Vec<Frame>, result: i32) -> Result<i32, Error> {
        let through_map = stack.iter().any(|f| f.kind == Kind::Map);
        {
            let mut shared = self.shared.lock();
            for f in stack.drain(..) {
                shared.on_stack.remove(&f.pair);
            }
        }
        if !self.eq_only && through_map {
            return Err(order_error());
        }
        Ok(result)
    }

    /// The result when no frame is needed (`TryCompareImmediate`).
    fn immediate(&self, lhs: &Any, rhs: &Any) -> Result<Option<i32>, Error> {
        let (li, ri) = (lhs.type_index(), rhs.type_index());
        let is_str = |i| matches!(i, TypeIndex::STR | TypeIndex::SMALL_STR);
        let is_bytes = |i| matches!(i, TypeIndex::BYTES | TypeIndex::SMALL_BYTES);
        match (li, ri) {
            (TypeIndex::NONE, TypeIndex::NONE) => return Ok(Some(0)),
            (TypeIndex::NONE, _) => return Ok(Some(-1)),
            (_, TypeIndex::NONE) => return Ok(Some(1)),
            _ => {}
        }
        if (is_str(li) && is_str(ri)) || (is_bytes(li) && is_bytes(ri)) {
            return Ok(Some(sign(lhs.as_str_or_bytes()?.cmp(rhs.as_str_or_bytes()?))));
        }
        if li != ri {
            if self.eq_only {
                return Ok(Some(1));
            }
            if matches!(
                (li, ri),
                (TypeIndex::INT, TypeIndex::BIG_INT) | (TypeIndex::BIG_INT, TypeIndex::INT)
            ) {
                let l = BigInt::from_any_view(lhs.view())?;
                let r = BigInt::from_any_view(rhs.view())?;
                return Ok(Some(sign(l.cmp(&r))));
            }
            return Err(Error::type_error(format!(
                "Cannot compare values of different types: {} vs {}",
                type_key(li),
                type_key(ri)
            )));
        }
        if !li.is_object() {
            return self.compare_pod(lhs, rhs).map(Some);
        }
        if li == TypeIndex::BIG_INT {
            let l = BigInt::from_any_view(lhs.view())?;
            let r = BigInt::from_any_view(rhs.view())?;
            return Ok(Some(if self.eq_only { i32::from(l != r) } else { sign(l.cmp(&r)) }));
        }
        let (Some(lo), Some(ro)) = (walk::object_of(lhs), walk::object_of(rhs)) else {
            return Ok(Some(0));
        };
        if lo.ptr_eq(&ro) {
            return Ok(Some(0));
        }
        if li == TypeIndex::SHAPE {
            let l = crate::Shape::from_any_view(lhs.view())?;
            let r = crate::Shape::from_any_view(rhs.view())?;
            return Ok(Some(sign(l.as_slice().cmp(r.as_slice()))));
        }
        let pair = (lo.as_raw() as usize, ro.as_raw() as usize);
        if self.shared.lock().on_stack.contains(&pair) {
            if self.eq_only {
                return Ok(Some(0));
            }
            return Err(Error::value_error(
                "RecursiveCompare: cyclic reference detected in ordering",
            ));
        }
        if li.0 >= TypeIndex::STATIC_OBJECT_END.0 {
            return self.custom_hook(&lo, &ro, pair);
        }
        Ok(None)
    }

    fn compare_pod(&self, lhs: &Any, rhs: &Any) -> Result<i32, Error> {
        let (l, r) = (lhs.as_raw(), rhs.as_raw());
        // SAFETY: both hold the POD member their (equal) type index names.
        unsafe {
            Ok(match lhs.type_index() {
                TypeIndex::BOOL => {
                    i32::from(l.value.v_int64 != 0) - i32::from(r.value.v_int64 != 0)
                }
                TypeIndex::INT => sign(l.value.v_int64.cmp(&r.value.v_int64)),
                TypeIndex::FLOAT => {
                    let (a, b) = (l.value.v_float64, r.value.v_float64);
                    if a.is_nan() || b.is_nan() {
                        if self.eq_only {
                            return Ok(i32::from(!(a.is_nan() && b.is_nan())));
                        }
                        return Err(Error::type_error("Cannot order NaN values"));
                    }
                    sign(a.partial_cmp(&b).unwrap_or(Ordering::Equal))
                }
                TypeIndex::DATA_TYPE => {
                    let (a, b) = (l.value.v_dtype, r.value.v_dtype);
                    sign((a.code, a.bits, a.lanes).cmp(&(b.code, b.bits, b.lanes)))
                }
                TypeIndex::DEVICE => {
                    let (a, b) = (l.value.v_device, r.value.v_device);
                    sign((a.device_type.0, a.device_id).cmp(&(b.device_type.0, b.device_id)))
                }
                other => {
                    if l.padding.zero_padding == r.padding.zero_padding
                        && l.value.v_int64 == r.value.v_int64
                    {
                        0
                    } else if self.eq_only {
                        1
                    } else {
                        return Err(Error::type_error(format!(
                            "Cannot order values of type {}",
                            type_key(other)
                        )));
                    }
                }
            })
        }
    }

    /// `__ffi_eq__` / `__ffi_compare__` of the objects' type, when it has one.
    fn custom_hook(
        &self,
        lhs: &ObjectRef<ObjectHeader>,
        rhs: &ObjectRef<ObjectHeader>,
        pair: (usize, usize),
    ) -> Result<Option<i32>, Error> {
        let index = lhs.type_index();
        if index != rhs.type_index() {
            if self.eq_only {
                return Ok(Some(1));
            }
            return Err(Error::type_error(format!(
                "Cannot compare objects of different types: {} vs {}",
                type_key(index),
                type_key(rhs.type_index())
            )));
        }
        let hook = |column: &Option<AttrColumn>, name| match column {
            Some(c) => walk::hook(c, index, name),
            None => Ok(None),
        };
        if self.eq_only {
            if let Some(eq) = hook(&self.eq_column, "__ffi_eq__")? {
                let r = self.call_hook(lhs, rhs, pair, &eq, true)?;
                return Ok(Some(r));
            }
        }
        if let Some(cmp) = hook(&self.compare_column, "__ffi_compare__")? {
            return Ok(Some(self.call_hook(lhs, rhs, pair, &cmp, false)?));
        }
        Ok(None)
    }

    fn call_hook(
        &self,
        lhs: &ObjectRef<ObjectHeader>,
        rhs: &ObjectRef<ObjectHeader>,
        pair: (usize, usize),
        hook: &Function,
        is_eq: bool,
    ) -> Result<i32, Error> {
        {
            let mut shared = self.shared.lock();
            if shared.hook_depth >= MAX_HOOK_DEPTH {
                return Err(walk::hooks_too_deep("RecursiveCompare"));
            }
            shared.hook_depth += 1;
            shared.on_stack.insert(pair);
        }
        let comparer = self.clone();
        let name = if is_eq {
            "fn_eq(0: AnyView, 1: AnyView) -> bool"
        } else {
            "fn_cmp(0: AnyView, 1: AnyView) -> int"
        };
        let callback = Function::from_packed(move |args: &[AnyView<'_>]| {
            let [l, r] = args else {
                return Err(Error::type_error(format!(
                    "Mismatched number of arguments when calling: `{name}`. Expected 2 but got {} \
                     arguments",
                    args.len()
                )));
            };
            let c = comparer.compare(&l.to_owned()?, &r.to_owned()?)?;
            Ok(if is_eq { Any::from(c == 0) } else { Any::from(c) })
        });
        let result = hook.call(&[walk::view_of(lhs), walk::view_of(rhs), AnyView::from(&callback)]);
        {
            let mut shared = self.shared.lock();
            shared.hook_depth -= 1;
            shared.on_stack.remove(&pair);
        }
        let result = result?;
        if is_eq {
            Ok(i32::from(!crate::typed::cast::<bool>(result.view())?))
        } else {
            crate::typed::cast::<i32>(result.view())
        }
    }

    /// Push the frame comparing a pair of containers or objects of one type, or the result
    /// at once (maps of different keys, `PushPairFrame`).
    fn push(&self, stack: &mut Vec<Frame>, lhs: &Any, rhs: &Any) -> Result<Option<i32>, Error> {
        if stack.len() >= MAX_STACK_DEPTH {
            return Err(Error::value_error(format!(
                "RecursiveCompare: maximum stack depth ({MAX_STACK_DEPTH}) exceeded"
            )));
        }
        let (Some(lo), Some(ro)) = (walk::object_of(lhs), walk::object_of(rhs)) else {
            return Err(Error::internal_error("RecursiveCompare: not objects"));
        };
        let pair = (lo.as_raw() as usize, ro.as_raw() as usize);
        self.shared.lock().on_stack.insert(pair);
        let frame =
            |kind, children: Vec<(Any, Any)>, sizes| Frame { kind, pair, children, next: 0, sizes };
        let mismatch = || {
            self.shared.lock().on_stack.remove(&pair);
            if self.eq_only { Ok(Some(1)) } else { Err(order_error()) }
        };
        match lhs.type_index() {
            TypeIndex::ARRAY => {
                let (l, r) = (Array::from_any_view(lhs.view())?, Array::from_any_view(rhs.view())?);
                let pairs = l.to_vec().into_iter().zip(r.to_vec()).collect();
                stack.push(frame(Kind::Sequence, pairs, (l.len(), r.len())));
            }
            TypeIndex::LIST => {
                let (l, r) = (List::from_any_view(lhs.view())?, List::from_any_view(rhs.view())?);
                let (lv, rv) = (l.to_vec(), r.to_vec());
                let sizes = (lv.len(), rv.len());
                stack.push(frame(Kind::Sequence, lv.into_iter().zip(rv).collect(), sizes));
            }
            TypeIndex::MAP => {
                let (l, r) = (Map::from_any_view(lhs.view())?, Map::from_any_view(rhs.view())?);
                if l.len() != r.len() {
                    return mismatch();
                }
                let mut pairs = Vec::with_capacity(l.len());
                for (k, v) in l.iter() {
                    let Some(other) = r.get(k)? else { return mismatch() };
                    pairs.push((v.to_owned()?, other.to_owned()?));
                }
                stack.push(frame(Kind::Map, pairs, (l.len(), r.len())));
            }
            TypeIndex::DICT => {
                let (l, r) = (Dict::from_any_view(lhs.view())?, Dict::from_any_view(rhs.view())?);
                if l.len() != r.len() {
                    return mismatch();
                }
                let mut pairs = Vec::with_capacity(l.len());
                for (k, v) in l.to_vec() {
                    let Some(other) = r.get(&k)? else { return mismatch() };
                    pairs.push((v, other));
                }
                stack.push(frame(Kind::Map, pairs, (l.len(), r.len())));
            }
            index => {
                if index != ro.type_index() {
                    self.shared.lock().on_stack.remove(&pair);
                    if self.eq_only {
                        return Ok(Some(1));
                    }
                    return Err(Error::type_error(format!(
                        "Cannot compare objects of different types: {} vs {}",
                        type_key(index),
                        type_key(ro.type_index())
                    )));
                }
                let info = walk::type_info(index)?;
                let mut pairs = Vec::new();
                for f in info.fields() {
                    if f.flags().contains(FieldFlags::COMPARE_OFF) {
                        continue;
                    }
                    pairs.push((f.get(&lo)?, f.get(&ro)?));
                }
                let n = pairs.len();
                stack.push(frame(Kind::Object, pairs, (n, n)));
            }
        }
        Ok(None)
    }
}
