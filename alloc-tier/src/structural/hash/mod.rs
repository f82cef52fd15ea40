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
//!
//! The traversal itself is in `machine`, on a stack of its own; `hooks` calls a type's
//! `__s_hash__` hook and gives it the callback that hashes nested values.

mod hooks;
mod machine;

use alloc::vec::Vec;

use tvmffi_core::flags::DefRegionKind;

use tvmffi_core::sys::TVMFFIAny;
use tvmffi_core::{Any, AnyView, FromAnyView, ObjectRef, TypeIndex};

use super::Options;
use super::equal::tensor_bytes;
use super::reflect::{Column, TypeCache};
use super::support::{AddrMap, Lender, stack_position};
use crate::error::Error;
use crate::function::Function;
use crate::map::stable_hash_bytes;
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
