//! Enum singletons (`ffi.Enum`, `ffi.IntEnum`, `tvm/ffi/enum.h`) in graphs: written as
//! their canonical index (the integer for `ffi.IntEnum` types, the string for other
//! `ffi.Enum` types) and read back as the registered singleton with that index, found in
//! the type's `__ffi_enum__` state.
//!
//! The objects are the reference's C++ classes, read at the offsets its header fixes:
//! `EnumObj { int64_t _int_index; String _str_index; }` and `EnumStateObj { List entries;
//! Dict indexes; ... }`, each after the object header. (The reference reflects these
//! fields too, but only in its own library, so a runtime hosting C++ enums may not.)

use alloc::format;

use tvmffi_core::sys::{TVMFFIAny, TVMFFIObject, TVMFFITypeInfo};
use tvmffi_core::{Any, AnyView, ObjectHeader, ObjectRef, TypeIndex};

use super::reflect::{self, Column};
use crate::error::Error;
use crate::map::{Dict, DictObj};

static ENUM_STATE: Column = Column::new("__ffi_enum__");

/// Where the fields after an object header start.
const BODY: usize = core::mem::size_of::<TVMFFIObject>().next_multiple_of(8);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Str,
}

/// Whether `info` is an enum type, and which index it uses.
fn kind(info: &'static TVMFFITypeInfo) -> Option<Kind> {
    let mut found = None;
    let depth = usize::try_from(info.type_depth).unwrap_or(0);
    let ancestors = (0..depth).filter_map(|d| {
        if info.type_ancestors.is_null() {
            return None;
        }
        // SAFETY: `type_ancestors` holds `type_depth` entries; non-null ones are live.
        unsafe { (*info.type_ancestors.add(d)).as_ref() }
    });
    for t in ancestors.chain(core::iter::once(info)) {
        match reflect::key_of(t) {
            b"ffi.IntEnum" => return Some(Kind::Int),
            b"ffi.Enum" => found = Some(Kind::Str),
            _ => {}
        }
    }
    found
}

/// The canonical index of an enum singleton, or `None` if `obj` is not an enum.
pub(super) fn to_json(
    obj: &ObjectRef<ObjectHeader>,
    info: &'static TVMFFITypeInfo,
) -> Result<Option<Any>, Error> {
    let base = obj.as_raw().cast::<u8>();
    Ok(match kind(info) {
        None => None,
        // SAFETY: an `EnumObj` holds its `int64_t` index right after the header.
        Some(Kind::Int) => Some(Any::from(unsafe { base.add(BODY).cast::<i64>().read() })),
        Some(Kind::Str) => {
            // SAFETY: an `EnumObj` holds its `String` index (an Any-shaped cell) after the
            // integer; the object keeps it alive while we copy it.
            let raw = unsafe { base.add(BODY + 8).cast::<TVMFFIAny>().read() };
            // SAFETY: the cell is a valid string value.
            Some(unsafe { AnyView::from_raw(raw) }.to_owned()?)
        }
    })
}

/// The singleton of enum type `info` with the index in `data`, or `None` if `info` is not
/// an enum (the reference's `EnumObj::_GetByIntIndex` / `_GetByStrIndex`).
pub(super) fn from_json(
    info: &'static TVMFFITypeInfo,
    data: AnyView<'_>,
) -> Result<Option<Any>, Error> {
    let Some(kind) = kind(info) else { return Ok(None) };
    let key = match kind {
        Kind::Int => Any::from(data.get::<i64>().map_err(|_| super::cast_error("int", data))?),
        Kind::Str => {
            if !matches!(data.type_index(), TypeIndex::SMALL_STR | TypeIndex::STR) {
                return Err(super::cast_error("str", data));
            }
            data.to_owned()?
        }
    };
    let index = TypeIndex(info.type_index);
    if let Some(state) = ENUM_STATE.get(index).and_then(|s| s.as_object_ptr()) {
        // SAFETY: an `EnumStateObj` holds its `indexes` dict (an object pointer) right
        // after `entries`; the state lives in the type's attribute for the process.
        let dict = unsafe {
            let slot = state.as_ptr().cast::<u8>().add(BODY + 8).cast::<*mut TVMFFIObject>();
            ObjectRef::<DictObj>::from_raw_borrowed(slot.read())
        };
        if let Some(found) = dict.map(Dict::from_object).map(|d| d.get(&key)).transpose()?.flatten()
        {
            return Ok(Some(found));
        }
    }
    let shown = match kind {
        Kind::Int => format!("{}", key.get::<i64>().unwrap_or_default()),
        Kind::Str => {
            alloc::string::String::from_utf8_lossy(key.as_str_or_bytes().unwrap_or_default())
                .into_owned()
        }
    };
    Err(Error::value_error(format!(
        "Enum `{}` has no instance with index {shown}",
        alloc::string::String::from_utf8_lossy(reflect::key_of(info))
    )))
}
