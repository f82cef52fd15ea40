//! The built-in mutation hooks, registered as native hooks as the reference registers its
//! own: arrays and lists mutate their elements, maps and dicts their values (keys are
//! anchors), strings, bytes and big integers never change.
//!
//! C++ code that mutates a container through any mutator runs these, recursing through the
//! mutator's vtable. Our own engines recognise them by address and do the same work on their
//! own stack instead.

use alloc::vec::Vec;

use tvmffi_core::sys::{TVMFFIAny, TVMFFIObject};
use tvmffi_core::{Any, AnyView, ObjectHeader, ObjectRef, TypeIndex};

use super::{InplaceMode, MutateFn, MutateOutcome, Mutated, StructuralMutator, outcome_to_raw};
use crate::error::Error;
use crate::map::{Dict, Map};
use crate::seq::{Array, List};
use crate::structural::items::{MapLike, seq_cell};

/// The built-in hooks, by address (the engines compare attribute values against these).
pub(crate) const MUTATE_SEQ: MutateFn = mutate_seq_hook;
pub(crate) const MAYBE_INPLACE_SEQ: MutateFn = maybe_inplace_seq_hook;
pub(crate) const MUTATE_MAP: MutateFn = mutate_map_hook;
pub(crate) const MAYBE_INPLACE_MAP: MutateFn = maybe_inplace_map_hook;
pub(crate) const MUTATE_LEAF: MutateFn = mutate_leaf_hook;

/// The elements of an array or list, as borrowed raw views (`TVMFFISeqCell`), read through
/// the view's own pointer (one made from an `&ObjectHeader` would cover the header only).
pub(crate) fn seq_slots(seq: AnyView<'_>) -> (*mut TVMFFIAny, usize) {
    match seq.as_object_ptr() {
        Some(obj) if matches!(seq.type_index(), TypeIndex::ARRAY | TypeIndex::LIST) => {
            let (data, len) = seq_cell(obj.as_ptr());
            (data.cast_mut(), len)
        }
        _ => (core::ptr::null_mut(), 0),
    }
}

/// Element `i` of an array or list, borrowed.
pub(crate) fn seq_slot<'a>(seq: AnyView<'a>, i: usize) -> Option<AnyView<'a>> {
    let (data, len) = seq_slots(seq);
    if i >= len {
        return None;
    }
    // SAFETY: the cell holds `len` initialised values at `data`, alive with the object.
    Some(unsafe { AnyView::from_raw(data.add(i).read()) })
}

/// Replace element `i` of an array or list nobody else holds; the value comes back when the
/// object is shared (or `i` out of range).
pub(crate) fn set_slot_if_unique(seq: AnyView<'_>, i: usize, value: Any) -> Result<(), Any> {
    let (data, len) = seq_slots(seq);
    // SAFETY: the view borrows a live object.
    let unique = seq.as_object_ptr().is_some_and(|obj| unsafe { obj.as_ref() }.is_unique());
    if i >= len || !unique {
        return Err(value);
    }
    // SAFETY: slot `i < len` holds an owned value; the caller's reference is the only one,
    // so nothing else reads or writes the sequence meanwhile.
    let old = unsafe { core::ptr::replace(data.add(i).cast::<Any>(), value) };
    drop(old);
    Ok(())
}

/// A new sequence of `items`, of the same kind (array or list) as `of`.
pub(crate) fn new_seq(of: TypeIndex, items: Vec<Any>) -> Any {
    if of == TypeIndex::LIST {
        Any::from(List::from_vec(items))
    } else {
        Any::from(Array::from_vec(items))
    }
}

/// A new map of the same kind as `of` with `pairs`.
pub(crate) fn new_map(of: TypeIndex, pairs: Vec<(Any, Any)>) -> Result<Any, Error> {
    Ok(if of == TypeIndex::DICT {
        Any::from(Dict::try_from_iter(pairs)?)
    } else {
        Any::from(Map::try_from_iter(pairs)?)
    })
}

/// The mutator of a native hook's first argument.
fn hook_mutator(mutator: *mut TVMFFIObject) -> Result<StructuralMutator, Error> {
    // SAFETY: the hook's caller passes a live mutator object.
    let obj = unsafe { ObjectRef::<ObjectHeader>::from_raw_borrowed(mutator) }
        .ok_or_else(|| Error::value_error("__s_mutate__: null mutator"))?;
    AnyView::from(&obj)
        .get::<StructuralMutator>()
        .map_err(|_| Error::type_error("__s_mutate__: not a mutator"))
}

/// Copy-on-write mutation of a sequence's elements (`MutateSeqContainerRaw`).
fn mutate_seq(m: &StructuralMutator, value: AnyView<'_>) -> MutateOutcome {
    let obj = value.get::<ObjectRef>()?;
    let seq = AnyView::from(&obj);
    let (_, len) = seq_slots(seq);
    let mut out: Option<Vec<Any>> = None;
    for i in 0..len {
        let Some(item) = seq_slot(seq, i) else { break };
        let r = m.mutate(item, InplaceMode::DISALLOW)?;
        match &mut out {
            Some(out) => out.push(r.value_or(item)?),
            None if !r.unchanged_or_same_as(&item) => {
                let mut v = Vec::with_capacity(len);
                v.extend(
                    (0..i)
                        .filter_map(|j| seq_slot(seq, j))
                        .map(|x| x.to_owned().unwrap_or_default()),
                );
                v.push(r.value_or(item)?);
                out = Some(v);
            }
            None => {}
        }
    }
    Ok(match out {
        Some(items) => Mutated::Value(new_seq(value.type_index(), items)),
        None => Mutated::Unchanged,
    })
}

/// In-place mutation of a sequence owned alone (`MaybeInplaceMutateSeqContainerRaw`); if it
/// turns out shared, the rest is copied instead.
fn maybe_inplace_seq(m: &StructuralMutator, value: AnyView<'_>) -> MutateOutcome {
    // The object is read through the borrowed view: a reference of our own would count
    // against it being owned alone.
    let mut i = 0;
    while let Some(item) = seq_slot(value, i) {
        let r = m.mutate(item, InplaceMode::ALLOW)?;
        if !r.unchanged_or_same_as(&item) {
            let v = r.value_or(item)?;
            if let Err(v) = set_slot_if_unique(value, i, v) {
                // Shared after all (a callback kept it): copy from here on.
                let (_, len) = seq_slots(value);
                let mut items: Vec<Any> = (0..i)
                    .filter_map(|j| seq_slot(value, j))
                    .map(|x| x.to_owned().unwrap_or_default())
                    .collect();
                items.push(v);
                for j in i + 1..len {
                    let Some(item) = seq_slot(value, j) else { break };
                    items.push(m.mutate(item, InplaceMode::DISALLOW)?.value_or(item)?);
                }
                return Ok(Mutated::Value(new_seq(value.type_index(), items)));
            }
        }
        i += 1;
    }
    Ok(Mutated::Unchanged)
}

/// Copy-on-write mutation of a map's values (`MutateMapValuesRaw`).
fn mutate_map(m: &StructuralMutator, value: AnyView<'_>) -> MutateOutcome {
    let pairs = MapLike::of(&value)?.pairs();
    let mut changed = false;
    let mut out = Vec::with_capacity(pairs.len());
    for (k, v) in pairs {
        let r = m.mutate(v.view(), InplaceMode::DISALLOW)?;
        changed |= !r.unchanged_or_same_as(&v.view());
        let nv = r.value_or(v.view())?;
        out.push((k, nv));
    }
    if !changed {
        return Ok(Mutated::Unchanged);
    }
    Ok(Mutated::Value(new_map(value.type_index(), out)?))
}

/// In-place mutation of a map's values when owned alone (`MaybeInplaceMutateMapValuesRaw`).
fn maybe_inplace_map(m: &StructuralMutator, value: AnyView<'_>) -> MutateOutcome {
    let mut replaced = Vec::new();
    for (i, raw) in crate::map::raw_values(value).into_iter().enumerate() {
        // SAFETY: the map is held alone and not changed before the writes below.
        let v = unsafe { AnyView::from_raw(raw) };
        let r = m.mutate(v, InplaceMode::ALLOW)?;
        if !r.unchanged_or_same_as(&v) {
            replaced.push((i, r.value_or(v)?));
        }
    }
    finish_map_in_place(value, replaced)
}

/// Write replaced values into a map owned alone, or (shared after all) into a copy.
pub(crate) fn finish_map_in_place(
    value: AnyView<'_>,
    replaced: Vec<(usize, Any)>,
) -> MutateOutcome {
    if replaced.is_empty() {
        return Ok(Mutated::Unchanged);
    }
    let Some(ptr) = value.as_object_ptr() else { return Ok(Mutated::Unchanged) };
    // SAFETY: the view borrows a live object for the call.
    let obj = unsafe { ptr.as_ref() };
    if obj.is_unique() {
        crate::map::set_values_if_unique(value, replaced);
        return Ok(Mutated::Unchanged);
    }
    let mut pairs = MapLike::of(&value)?.pairs();
    for (i, v) in replaced {
        if let Some(p) = pairs.get_mut(i) {
            p.1 = v;
        }
    }
    Ok(Mutated::Value(new_map(value.type_index(), pairs)?))
}

/// Run a native hook body on its raw arguments.
///
/// # Safety
///
/// `value` is a valid view for the call.
unsafe fn hook(
    mutator: *mut TVMFFIObject,
    value: TVMFFIAny,
    body: fn(&StructuralMutator, AnyView<'_>) -> MutateOutcome,
) -> TVMFFIAny {
    // SAFETY: the caller's promise.
    let value = unsafe { AnyView::from_raw(value) };
    outcome_to_raw(hook_mutator(mutator).and_then(|m| body(&m, value)))
}

/// # Safety
///
/// `mutator` is a live mutator object; `value` a valid view of an array or list.
unsafe extern "C" fn mutate_seq_hook(mutator: *mut TVMFFIObject, value: TVMFFIAny) -> TVMFFIAny {
    // SAFETY: the caller's promises.
    unsafe { hook(mutator, value, mutate_seq) }
}

/// # Safety
///
/// As [`mutate_seq_hook`], and the sequence is owned alone by the caller.
unsafe extern "C" fn maybe_inplace_seq_hook(
    mutator: *mut TVMFFIObject,
    value: TVMFFIAny,
) -> TVMFFIAny {
    // SAFETY: the caller's promises.
    unsafe { hook(mutator, value, maybe_inplace_seq) }
}

/// # Safety
///
/// `mutator` is a live mutator object; `value` a valid view of a map or dict.
unsafe extern "C" fn mutate_map_hook(mutator: *mut TVMFFIObject, value: TVMFFIAny) -> TVMFFIAny {
    // SAFETY: the caller's promises.
    unsafe { hook(mutator, value, mutate_map) }
}

/// # Safety
///
/// As [`mutate_map_hook`], and the map is owned alone by the caller.
unsafe extern "C" fn maybe_inplace_map_hook(
    mutator: *mut TVMFFIObject,
    value: TVMFFIAny,
) -> TVMFFIAny {
    // SAFETY: the caller's promises.
    unsafe { hook(mutator, value, maybe_inplace_map) }
}

/// Strings, bytes and big integers are immutable leaves (`MutateImmutableLeaf`).
///
/// # Safety
///
/// None: the arguments are not read.
unsafe extern "C" fn mutate_leaf_hook(_mutator: *mut TVMFFIObject, _value: TVMFFIAny) -> TVMFFIAny {
    super::unchanged_marker().into_raw()
}
