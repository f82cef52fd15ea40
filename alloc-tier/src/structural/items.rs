//! The children of containers as the traversals read them: sequence elements and map pairs.

use alloc::vec::Vec;

use tvmffi_core::sys::{TVMFFIAny, TVMFFISeqCell};
use tvmffi_core::{Any, AnyView, FromAnyView, ObjectHeader, TypeIndex};

use crate::error::Error;
use crate::map::{Dict, Map};
use crate::seq::{Array, List};

/// A sequence's elements.
pub(crate) enum Items {
    /// An array's own elements, held.
    Array(Array),
    /// A snapshot of a list's elements (lists may change while hooks run).
    Snapshot(Vec<Any>),
}

impl Items {
    /// The elements of an array or list, holding the array.
    pub(crate) fn of(view: &AnyView<'_>) -> Result<Self, Error> {
        Ok(if view.type_index() == TypeIndex::ARRAY {
            Self::Array(Array::from_any_view(*view)?)
        } else {
            Self::Snapshot(List::from_any_view(*view)?.to_vec())
        })
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Self::Array(a) => a.len(),
            Self::Snapshot(v) => v.len(),
        }
    }

    pub(crate) fn get(&self, i: usize) -> Option<AnyView<'_>> {
        match self {
            Self::Array(a) => a.get(i),
            Self::Snapshot(v) => v.get(i).map(Any::view),
        }
    }
}

/// The elements of a live array or list object: `TVMFFISeqCell`'s `data` and `size`.
pub(crate) fn seq_cell(obj: *mut ObjectHeader) -> (*const TVMFFIAny, usize) {
    let cell = obj.cast::<u8>().wrapping_add(size_of::<ObjectHeader>()).cast::<TVMFFISeqCell>();
    // SAFETY: array and list objects are the header followed by a `TVMFFISeqCell`, read
    // field by field through the raw pointer.
    let (data, size) = unsafe { ((*cell).data, (*cell).size) };
    let len = usize::try_from(size).unwrap_or(0);
    if data.is_null() { (core::ptr::null(), 0) } else { (data.cast_const().cast(), len) }
}

/// An immutable map or a dict, looked up alike.
pub(crate) enum MapLike {
    Map(Map),
    Dict(Dict),
}

impl MapLike {
    pub(crate) fn of(view: &AnyView<'_>) -> Result<Self, Error> {
        Ok(if view.type_index() == TypeIndex::MAP {
            Self::Map(Map::from_any_view(*view)?)
        } else {
            Self::Dict(Dict::from_any_view(*view)?)
        })
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            Self::Map(m) => m.len(),
            Self::Dict(d) => d.len(),
        }
    }

    /// The pairs in iteration order (a snapshot for dicts, which may change).
    pub(crate) fn pairs(&self) -> Vec<(Any, Any)> {
        match self {
            Self::Map(m) => m.iter().map(|(k, v)| (owned(k), owned(v))).collect(),
            Self::Dict(d) => d.to_vec(),
        }
    }

    /// The value of `key`, compared as map keys are.
    pub(crate) fn get(&self, key: &Any) -> Result<Option<Any>, Error> {
        Ok(match self {
            Self::Map(m) => m.get(key)?.map(owned),
            Self::Dict(d) => d.get(key)?,
        })
    }
}

/// An owned copy of a value a container holds (already owned, so this never fails).
fn owned(v: AnyView<'_>) -> Any {
    v.to_owned().unwrap_or_default()
}
