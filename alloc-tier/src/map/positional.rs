//! Values replaced in place by their iteration position, keeping keys and order: what the
//! reference's structural mutation does through map iterators on a map it holds alone.

use alloc::vec::Vec;
use core::ptr::NonNull;

use tvmffi_core::{Any, AnyView, ObjectHeader, TypeIndex};

use super::layout::RawMap;
use super::table;

/// The map or dict `value` borrows, through the view's own pointer (which covers the whole
/// object, unlike one made from an `&ObjectHeader`).
fn map_object(value: AnyView<'_>) -> Option<NonNull<ObjectHeader>> {
    value.as_object_ptr().filter(|_| matches!(value.type_index(), TypeIndex::MAP | TypeIndex::DICT))
}

/// Replace values of the map or dict `value` borrows by iteration position, if nobody else
/// holds it (one strong reference, no weak one); returns whether it did. The replaced values
/// are dropped after the map is consistent again.
pub(crate) fn set_values_if_unique(value: AnyView<'_>, values: Vec<(usize, Any)>) -> bool {
    let Some(obj) = map_object(value) else { return false };
    // SAFETY: the view borrows a live object.
    if !unsafe { obj.as_ref() }.is_unique() {
        return false;
    }
    // SAFETY: a live map or dict object; the sole reference is the caller's, so nothing
    // else reads or writes the map meanwhile (a dict's lock guards shared handles, and there
    // are none).
    let m = unsafe { RawMap::new(obj.as_ptr().cast()) };
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

/// The values of the map or dict `value` borrows in iteration order, as borrowed raw views:
/// valid while the object lives and nobody changes it (the caller holds it alone).
pub(crate) fn raw_values(value: AnyView<'_>) -> Vec<tvmffi_core::sys::TVMFFIAny> {
    let Some(obj) = map_object(value) else { return Vec::new() };
    // SAFETY: a live map or dict object (the view borrows it); only read.
    let m = unsafe { RawMap::new(obj.as_ptr().cast()) };
    let mut out = Vec::with_capacity(table::len(m));
    let mut pos = table::first(m);
    while let Some(p) = pos {
        // SAFETY: `p` is an iteration position: it holds a pair.
        out.push(*unsafe { &*table::pair(m, p) }.value.as_raw());
        pos = table::next(m, p);
    }
    out
}
