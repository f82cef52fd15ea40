//! `ffi.RecursiveHash`: a hash of a value's structure, consistent with `ffi.RecursiveEq`
//! (equal values hash equal), as the reference computes it (`RecursiveHasher` in
//! `src/ffi/extra/dataclass.cc`).
//!
//! Strings and bytes hash by content whether inline or objects; `1` and `True` differ;
//! floats hash `NaN`s alike and `-0.0` as `0.0`; sequences by element and position; maps by
//! their entries in any order; reflected objects by their type and fields (leaving out
//! `HashOff` and `CompareOff` ones). A type's `__ffi_hash__` attribute, `(self, fn_hash) ->
//! int`, replaces the field walk; a type with `__ffi_eq__` or `__ffi_compare__` but no
//! `__ffi_hash__` cannot be hashed. An object met again while it is being hashed (a cycle)
//! contributes its type's key hash.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;

use tvmffi_core::flags::FieldFlags;
use tvmffi_core::{Any, AnyView, ObjectHeader, ObjectRef, TypeIndex};

use super::walk::{self, Kind, MAX_HOOK_DEPTH, MAX_STACK_DEPTH};
use crate::error::Error;
use crate::function::Function;
use crate::map::hash::{combine, stable_hash_bytes};
use crate::object_type::info::AttrColumn;

/// The structural hash of `value` (`ffi.RecursiveHash`).
///
/// ```
/// # #[cfg(feature = "runtime")] {
/// use tvmffi_alloc::dataclass::recursive_hash;
/// use tvmffi_alloc::{Array, List};
/// use tvmffi_core::Any;
///
/// let a = Any::from(Array::from_vec(vec![Any::from(1i64), Any::from(2i64)]));
/// let b = Any::from(Array::from_vec(vec![Any::from(1i64), Any::from(2i64)]));
/// assert_eq!(recursive_hash(&a).unwrap(), recursive_hash(&b).unwrap());
/// let l = Any::from(List::from_vec(vec![Any::from(1i64), Any::from(2i64)]));
/// assert_ne!(recursive_hash(&a).unwrap(), recursive_hash(&l).unwrap());
/// # }
/// ```
pub fn recursive_hash(value: &Any) -> Result<i64, Error> {
    Hasher::new().hash(value).map(|h| h as i64)
}

struct Shared {
    on_stack: BTreeSet<usize>,
    /// Hashes of objects done, with the objects kept alive so their addresses stay theirs.
    memo: BTreeMap<usize, (u64, Any)>,
    hook_depth: usize,
}

#[derive(Clone)]
struct Hasher {
    shared: Arc<spin::Mutex<Shared>>,
    hash_column: Option<AttrColumn>,
    eq_column: Option<AttrColumn>,
    compare_column: Option<AttrColumn>,
}

struct Frame {
    addr: usize,
    value: Any,
    kind: Kind,
    children: Vec<Any>,
    next: usize,
    hash: u64,
    entry_hashes: Vec<u64>,
    key_hash: Option<u64>,
}

impl Hasher {
    fn new() -> Self {
        Self {
            shared: Arc::new(spin::Mutex::new(Shared {
                on_stack: BTreeSet::new(),
                memo: BTreeMap::new(),
                hook_depth: 0,
            })),
            hash_column: AttrColumn::of("__ffi_hash__"),
            eq_column: AttrColumn::of("__ffi_eq__"),
            compare_column: AttrColumn::of("__ffi_compare__"),
        }
    }

    fn hash(&self, value: &Any) -> Result<u64, Error> {
        if let Some(h) = self.immediate(value)? {
            return Ok(h);
        }
        let mut stack: Vec<Frame> = Vec::new();
        self.push(&mut stack, value)?;
        loop {
            let Some(top) = stack.last_mut() else {
                return Err(Error::internal_error("RecursiveHash: empty stack"));
            };
            if let Some(child) = top.children.get(top.next).cloned() {
                top.next += 1;
                match self.immediate(&child)? {
                    Some(h) => feed(top, h),
                    None => self.push(&mut stack, &child)?,
                }
                continue;
            }
            let Some(mut frame) = stack.pop() else { continue };
            if frame.kind == Kind::Map {
                frame.entry_hashes.sort_unstable();
                for &e in &frame.entry_hashes {
                    frame.hash = combine(frame.hash, e);
                }
            }
            {
                let mut shared = self.shared.lock();
                shared.on_stack.remove(&frame.addr);
                shared.memo.insert(frame.addr, (frame.hash, frame.value));
            }
            match stack.last_mut() {
                Some(parent) => feed(parent, frame.hash),
                None => return Ok(frame.hash),
            }
        }
    }

    fn push(&self, stack: &mut Vec<Frame>, value: &Any) -> Result<(), Error> {
        if stack.len() >= MAX_STACK_DEPTH {
            return Err(walk::too_deep("ObjectGraphDFS"));
        }
        let obj = walk::object_of(value)
            .ok_or_else(|| Error::internal_error("RecursiveHash: not an object"))?;
        let addr = obj.as_raw() as usize;
        self.shared.lock().on_stack.insert(addr);
        let c = walk::children(value, &obj, FieldFlags::HASH_OFF | FieldFlags::COMPARE_OFF)?;
        let key_hash = walk::type_info(obj.type_index())?.key_hash();
        let hash = if c.kind == Kind::Object { key_hash } else { combine(key_hash, c.len as u64) };
        stack.push(Frame {
            addr,
            value: value.clone(),
            kind: c.kind,
            children: c.items,
            next: 0,
            hash,
            entry_hashes: Vec::new(),
            key_hash: None,
        });
        Ok(())
    }

    fn immediate(&self, value: &Any) -> Result<Option<u64>, Error> {
        let index = value.type_index();
        let raw = value.as_raw();
        Ok(Some(match index {
            TypeIndex::NONE => combine(0, 0),
            TypeIndex::SMALL_STR | TypeIndex::STR => {
                combine(TypeIndex::STR.0 as u64, stable_hash_bytes(value.as_str_or_bytes()?))
            }
            TypeIndex::SMALL_BYTES | TypeIndex::BYTES => {
                combine(TypeIndex::BYTES.0 as u64, stable_hash_bytes(value.as_str_or_bytes()?))
            }
            // SAFETY: a value below the object range carries a POD member; each arm reads
            // the one its index names.
            i if !i.is_object() => unsafe {
                let ti = i.0 as u64;
                match i {
                    TypeIndex::BOOL => combine(ti, u64::from(raw.value.v_int64 != 0)),
                    TypeIndex::INT => combine(ti, raw.value.v_int64 as u64),
                    TypeIndex::FLOAT => {
                        let v = raw.value.v_float64;
                        let bits = if v.is_nan() {
                            f64::NAN.to_bits()
                        } else if v == 0.0 {
                            0.0f64.to_bits()
                        } else {
                            v.to_bits()
                        };
                        combine(ti, bits)
                    }
                    TypeIndex::DATA_TYPE => {
                        let d = raw.value.v_dtype;
                        let h = combine(ti, u64::from(d.code));
                        combine(combine(h, u64::from(d.bits)), u64::from(d.lanes))
                    }
                    TypeIndex::DEVICE => {
                        let d = raw.value.v_device;
                        let h = combine(ti, i64::from(d.device_type.0) as u64);
                        combine(h, i64::from(d.device_id) as u64)
                    }
                    _ => combine(ti, raw.value.v_uint64),
                }
            },
            _ => return self.object_immediate(value),
        }))
    }

    fn object_immediate(&self, value: &Any) -> Result<Option<u64>, Error> {
        let Some(obj) = walk::object_of(value) else { return Ok(Some(combine(0, 0))) };
        let addr = obj.as_raw() as usize;
        let index = obj.type_index();
        {
            let shared = self.shared.lock();
            if let Some((h, _)) = shared.memo.get(&addr) {
                return Ok(Some(*h));
            }
            if shared.on_stack.contains(&addr) {
                drop(shared);
                return Ok(Some(walk::type_info(index)?.key_hash()));
            }
        }
        if index == TypeIndex::SHAPE {
            let shape = <crate::Shape as tvmffi_core::FromAnyView>::from_any_view(value.view())?;
            let key_hash = walk::type_info(index)?.key_hash();
            let mut h = combine(key_hash, shape.len() as u64);
            for &d in shape.as_slice() {
                h = combine(h, d as u64);
            }
            self.shared.lock().memo.insert(addr, (h, value.clone()));
            return Ok(Some(h));
        }
        if let Some(hook) = self
            .hash_column
            .as_ref()
            .map(|c| walk::hook(c, index, "__ffi_hash__"))
            .transpose()?
            .flatten()
        {
            let h = self.call_hook(&obj, addr, &hook)? as u64;
            self.shared.lock().memo.insert(addr, (h, value.clone()));
            return Ok(Some(h));
        }
        if index.0 >= TypeIndex::STATIC_OBJECT_END.0 {
            let has = |c: &Option<AttrColumn>| c.as_ref().is_some_and(|c| c.get(index).is_some());
            if has(&self.eq_column) || has(&self.compare_column) {
                return Err(Error::value_error(format!(
                    "RecursiveHash: type '{}' defines __ffi_eq__ or __ffi_compare__ but not \
                     __ffi_hash__. Add a __ffi_hash__ hook to maintain the invariant \
                     RecursiveEq(a,b) => RecursiveHash(a)==RecursiveHash(b).",
                    walk::type_info(index)?.key()
                )));
            }
        }
        Ok(None)
    }

    /// Call `__ffi_hash__(obj, fn_hash)`.
    fn call_hook(
        &self,
        obj: &ObjectRef<ObjectHeader>,
        addr: usize,
        hook: &Function,
    ) -> Result<i64, Error> {
        {
            let mut shared = self.shared.lock();
            if shared.hook_depth >= MAX_HOOK_DEPTH {
                return Err(walk::hooks_too_deep("RecursiveHash"));
            }
            shared.hook_depth += 1;
            shared.on_stack.insert(addr);
        }
        let hasher = self.clone();
        let fn_hash = Function::from_packed(move |args: &[AnyView<'_>]| {
            let [arg] = args else {
                return Err(Error::type_error(format!(
                    "Mismatched number of arguments when calling: `fn_hash(0: AnyView) -> int`. \
                     Expected 1 but got {} arguments",
                    args.len()
                )));
            };
            Ok(Any::from(hasher.hash(&arg.to_owned()?)? as i64))
        });
        let result = hook.call(&[walk::view_of(obj), AnyView::from(&fn_hash)]);
        {
            let mut shared = self.shared.lock();
            shared.hook_depth -= 1;
            shared.on_stack.remove(&addr);
        }
        crate::typed::cast::<i64>(result?.view())
    }
}

fn feed(f: &mut Frame, h: u64) {
    match f.kind {
        Kind::Sequence => {
            let i = f.next.saturating_sub(1) as u64;
            f.hash = combine(f.hash, combine(h, i));
        }
        Kind::Map => match f.key_hash.take() {
            None => f.key_hash = Some(h),
            Some(k) => f.entry_hashes.push(combine(k, h)),
        },
        Kind::Object => f.hash = combine(f.hash, h),
    }
}
