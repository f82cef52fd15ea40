//! The type table: indices, type information, and reflection.

use core::ffi::c_int;

use tvmffi_core::AnyView;
use tvmffi_core::sys::{
    TVMFFIAny, TVMFFIByteArray, TVMFFIFieldInfo, TVMFFIMethodInfo, TVMFFITypeAttrColumn,
    TVMFFITypeInfo, TVMFFITypeMetadata,
};

use super::{Runtime, arg, arg_bytes, guard, out, ready};
use crate::runtime::with_types;

/// `TVMFFITypeKeyToIndex`: the index registered for `type_key`; an unknown key raises an
/// `InternalError` ("Cannot find type `key`").
///
/// # Safety
///
/// `type_key` is null or a valid byte array; `out_tindex` is null or writable.
pub unsafe fn key_to_index<R: Runtime>(
    type_key: *const TVMFFIByteArray,
    out_tindex: *mut i32,
) -> c_int {
    ready::<R>();
    guard::<R>(|| {
        const FUNC: &str = "TVMFFITypeKeyToIndex";
        let out_tindex = out(out_tindex, FUNC, "out_tindex")?;
        // SAFETY: the caller's promise.
        let key = unsafe { arg_bytes(type_key, FUNC, "type_key")? };
        let index = with_types(|t| t.key_to_index(key))?;
        // SAFETY: writable (caller).
        unsafe { out_tindex.write(index) };
        Ok(())
    })
}

/// `TVMFFITypeGetOrAllocIndex`: see [`TypeTable::get_or_alloc_index`](crate::runtime::TypeTable::get_or_alloc_index).
/// Where the reference logs and exits on bad input, this raises the error and returns -1.
///
/// # Safety
///
/// `type_key` is null or a valid byte array.
pub unsafe fn get_or_alloc_index<R: Runtime>(
    type_key: *const TVMFFIByteArray,
    static_type_index: i32,
    type_depth: i32,
    num_child_slots: i32,
    child_slots_can_overflow: i32,
    parent_type_index: i32,
) -> i32 {
    ready::<R>();
    let mut index = -1;
    let code = guard::<R>(|| {
        // SAFETY: the caller's promise.
        let key = unsafe { arg_bytes(type_key, "TVMFFITypeGetOrAllocIndex", "type_key")? };
        index = with_types(|t| {
            t.get_or_alloc_index(
                key,
                static_type_index,
                type_depth,
                num_child_slots,
                child_slots_can_overflow != 0,
                parent_type_index,
            )
        })?;
        Ok(())
    });
    if code == 0 { index } else { -1 }
}

/// `TVMFFIGetTypeInfo`: the information of `type_index`, valid for the rest of the
/// program. An unknown index raises an `InternalError` and returns null (the reference
/// exits).
///
/// # Safety
///
/// None: every index is checked (the signature matches the other bodies).
pub unsafe fn type_info<R: Runtime>(type_index: i32) -> *const TVMFFITypeInfo {
    ready::<R>();
    let mut info = core::ptr::null();
    guard::<R>(|| {
        info = with_types(|t| t.type_info(type_index))?;
        Ok(())
    });
    info
}

/// `TVMFFITypeRegisterField`: add a reflected field (strings and default value copied).
///
/// # Safety
///
/// `info` is null or valid (see [`TypeTable::register_field`](crate::runtime::TypeTable::register_field)).
pub unsafe fn register_field<R: Runtime>(type_index: i32, info: *const TVMFFIFieldInfo) -> c_int {
    ready::<R>();
    guard::<R>(|| {
        // SAFETY: the caller's promises.
        let info = unsafe { arg(info, "TVMFFITypeRegisterField", "info")? };
        // SAFETY: as above.
        with_types(|t| unsafe { t.register_field(type_index, info) })
    })
}

/// `TVMFFITypeRegisterMethod`: add a reflected method (strings and method copied).
///
/// # Safety
///
/// `info` is null or valid (see [`TypeTable::register_method`](crate::runtime::TypeTable::register_method)).
pub unsafe fn register_method<R: Runtime>(type_index: i32, info: *const TVMFFIMethodInfo) -> c_int {
    ready::<R>();
    guard::<R>(|| {
        // SAFETY: the caller's promises.
        let info = unsafe { arg(info, "TVMFFITypeRegisterMethod", "info")? };
        // SAFETY: as above.
        with_types(|t| unsafe { t.register_method(type_index, info) })
    })
}

/// `TVMFFITypeRegisterMetadata`: set a type's metadata, once.
///
/// # Safety
///
/// `metadata` is null or valid, with a readable doc.
pub unsafe fn register_metadata<R: Runtime>(
    type_index: i32,
    metadata: *const TVMFFITypeMetadata,
) -> c_int {
    ready::<R>();
    guard::<R>(|| {
        // SAFETY: the caller's promises.
        let metadata = unsafe { arg(metadata, "TVMFFITypeRegisterMetadata", "metadata")? };
        // SAFETY: as above.
        with_types(|t| unsafe { t.register_metadata(type_index, metadata) })
    })
}

/// `TVMFFITypeRegisterAttr`: set attribute `attr_name` of `type_index` (0 only creates the
/// column); the value is copied.
///
/// # Safety
///
/// `attr_name` is null or a valid byte array; `attr_value` is null or a valid view.
pub unsafe fn register_attr<R: Runtime>(
    type_index: i32,
    attr_name: *const TVMFFIByteArray,
    attr_value: *const TVMFFIAny,
) -> c_int {
    ready::<R>();
    guard::<R>(|| {
        const FUNC: &str = "TVMFFITypeRegisterAttr";
        // SAFETY: the caller's promises.
        let (name, value) = unsafe {
            (
                arg_bytes(attr_name, FUNC, "attr_name")?,
                AnyView::from_raw(*arg(attr_value, FUNC, "attr_value")?),
            )
        };
        with_types(|t| t.register_attr(type_index, name, value))
    })
}

/// `TVMFFIGetTypeAttrColumn`: the column of `attr_name`, or null if no type has it (or the
/// name is null).
///
/// # Safety
///
/// `attr_name` is null or a valid byte array.
pub unsafe fn attr_column<R: Runtime>(
    attr_name: *const TVMFFIByteArray,
) -> *const TVMFFITypeAttrColumn {
    ready::<R>();
    // SAFETY: the caller's promise.
    let Ok(name) = (unsafe { arg_bytes(attr_name, "TVMFFIGetTypeAttrColumn", "attr_name") }) else {
        return core::ptr::null();
    };
    with_types(|t| t.attr_column(name)).unwrap_or(core::ptr::null())
}
