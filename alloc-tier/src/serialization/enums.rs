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

/// The reference's `EnumObj` (`enum.h`), for its field offsets on this target.
#[repr(C)]
struct EnumLayout {
    header: TVMFFIObject,
    int_index: i64,
    str_index: TVMFFIAny,
}

/// The reference's `EnumStateObj`, up to the field read here.
#[repr(C)]
struct EnumStateLayout {
    header: TVMFFIObject,
    entries: *mut TVMFFIObject,
    indexes: *mut TVMFFIObject,
}

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
        Some(Kind::Int) => {
            let at = core::mem::offset_of!(EnumLayout, int_index);
            // SAFETY: an `EnumObj` holds its `int64_t` index there.
            Some(Any::from(unsafe { base.add(at).cast::<i64>().read_unaligned() }))
        }
        Some(Kind::Str) => {
            let at = core::mem::offset_of!(EnumLayout, str_index);
            // SAFETY: an `EnumObj` holds its `String` index (an Any-shaped cell) there; the
            // object keeps it alive while we copy it.
            let raw = unsafe { base.add(at).cast::<TVMFFIAny>().read_unaligned() };
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
    if let Some(found) = state_indexes(index)?.map(|d| d.get(&key)).transpose()?.flatten() {
        return Ok(Some(found));
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

/// The `indexes` dict of the enum state of type `index`, if it has one.
fn state_indexes(index: TypeIndex) -> Result<Option<Dict>, Error> {
    let Some(state) = ENUM_STATE.get(index) else { return Ok(None) };
    let Some(state) = state.as_object_ptr() else { return Ok(None) };
    let at = core::mem::offset_of!(EnumStateLayout, indexes);
    // SAFETY: the type's `__ffi_enum__` is an `EnumStateObj`, alive for the process (the
    // attribute keeps it), holding its `indexes` dict pointer there.
    let dict =
        unsafe { state.as_ptr().cast::<u8>().add(at).cast::<*mut TVMFFIObject>().read_unaligned() };
    // SAFETY: a non-null field is a live object; check it is a dict before using it as one.
    let Some(dict) = (unsafe { ObjectRef::<ObjectHeader>::from_raw_borrowed(dict) }) else {
        return Ok(None);
    };
    match dict.downcast::<DictObj>() {
        Ok(d) => Ok(Some(Dict::from_object(d))),
        Err(other) => Err(Error::internal_error(format!(
            "the enum state of `{}` holds a `{}` where its indexes dict should be",
            crate::object_type::type_key(index),
            crate::object_type::type_key(other.type_index())
        ))),
    }
}
