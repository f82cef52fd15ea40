//! Values replaced in place by their iteration position, keeping keys and order: what the
//! reference's structural mutation does through map iterators on a map it holds alone.

use alloc::vec::Vec;

use tvmffi_core::{Any, ObjectHeader, TypeIndex};

use super::layout::RawMap;
use super::table;

/// Replace values of the map or dict object `obj` by iteration position, if nobody else
/// holds it (one strong reference, no weak one); returns whether it did. The replaced values
/// are dropped after the map is consistent again.
pub(crate) fn set_values_if_unique(obj: &ObjectHeader, values: Vec<(usize, Any)>) -> bool {
    if !matches!(obj.type_index(), TypeIndex::MAP | TypeIndex::DICT) || !obj.is_unique() {
        return false;
    }
    // SAFETY: a live map or dict object, through its raw pointer (which covers the whole
    // allocation); the sole reference is the caller's, so nothing else reads or writes the
    // map meanwhile (a dict's lock guards shared handles, and there are none).
    let m = unsafe { RawMap::new(obj.as_raw().cast()) };
    let mut old = Vec::with_capacity(values.len());
    let mut pos = table::first(m);
    let mut at = 0usize;
    for (index, value) in values {
        while at < index {
            pos = pos.and_then(|p| table::next(m, p));
            at += 1;
        }
        let Some(p) = pos else { break };
        // SAFETY: `p` is an iteration position of the map: it holds a pair.
        let kv = unsafe { &mut *table::pair(m, p) };
        old.push(core::mem::replace(&mut kv.value, value));
    }
    drop(old);
    true
}

/// The values of the map or dict object `obj` in iteration order, as borrowed raw views:
/// valid while the object lives and nobody changes it (the caller holds it alone).
pub(crate) fn raw_values(obj: &ObjectHeader) -> Vec<tvmffi_core::sys::TVMFFIAny> {
    if !matches!(obj.type_index(), TypeIndex::MAP | TypeIndex::DICT) {
        return Vec::new();
    }
    // SAFETY: a live map or dict object, through its raw pointer; only read.
    let m = unsafe { RawMap::new(obj.as_raw().cast()) };
    let mut out = Vec::with_capacity(table::len(m));
    let mut pos = table::first(m);
    while let Some(p) = pos {
        // SAFETY: `p` is an iteration position: it holds a pair.
        out.push(*unsafe { &*table::pair(m, p) }.value.as_raw());
        pos = table::next(m, p);
    }
    out
}
