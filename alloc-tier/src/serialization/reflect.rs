//! Reading reflected objects through the C API, as the reference's `reflection/accessor.h`
//! and `reflection/creator.h` do: type infos, fields in parent-to-child order, getters,
//! setters, defaults, creators and type attributes.
//!
//! Everything goes through `TVMFFIGetTypeInfo` / `TVMFFIGetTypeAttrColumn`, so it works
//! with whichever runtime provides the C API. Type infos and attribute columns live as
//! long as the runtime's type table, which is never freed: they are `'static` here.

use alloc::format;
use alloc::vec::Vec;
use core::ffi::c_void;
use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};

use tvmffi_core::flags::FieldFlags;
use tvmffi_core::sys::{
    TVMFFIAny, TVMFFIByteArray, TVMFFIFieldInfo, TVMFFIObject, TVMFFITypeAttrColumn,
    TVMFFITypeInfo, api,
};
use tvmffi_core::{Any, AnyView, ObjectHeader, ObjectRef, TypeIndex};

use crate::error::{Error, bytes_of};
use crate::function::Function;

/// The type info of `index`, if the runtime has one.
pub(super) fn type_info(index: TypeIndex) -> Option<&'static TVMFFITypeInfo> {
    // SAFETY: the runtime returns null or an info that lives as long as its type table.
    unsafe { api::TVMFFIGetTypeInfo(index.0).as_ref() }
}

/// The key of a type, as bytes.
pub(super) fn key_of(info: &'static TVMFFITypeInfo) -> &'static [u8] {
    // SAFETY: a type info's key is readable for the life of the table.
    unsafe { bytes_of(&info.type_key) }.unwrap_or_default()
}

/// The index of the type named `key`, if registered.
pub(super) fn index_of_key(key: &[u8]) -> Result<TypeIndex, Error> {
    let arr = TVMFFIByteArray { data: key.as_ptr().cast(), size: key.len() };
    let mut index = 0i32;
    // SAFETY: `arr` describes `key`; `index` is writable.
    crate::function::check(unsafe { api::TVMFFITypeKeyToIndex(&arr, &mut index) })?;
    Ok(TypeIndex(index))
}

/// The fields of `info`, its ancestors' first (from the root's child down), as the
/// reference's `ForEachFieldInfo` visits them.
pub(super) fn fields(info: &'static TVMFFITypeInfo) -> Vec<&'static TVMFFIFieldInfo> {
    let mut out = Vec::new();
    let mut push = |t: &'static TVMFFITypeInfo| {
        if t.fields.is_null() || t.num_fields <= 0 {
            return;
        }
        // SAFETY: `fields` holds `num_fields` infos that live as long as the table.
        let all = unsafe { core::slice::from_raw_parts(t.fields, t.num_fields as usize) };
        out.extend(all.iter());
    };
    if !info.type_ancestors.is_null() {
        for depth in 1..info.type_depth.max(1) {
            // SAFETY: `type_ancestors` holds `type_depth` entries.
            let parent = unsafe { *info.type_ancestors.add(depth as usize) };
            // SAFETY: non-null ancestors are live infos.
            if let Some(parent) = unsafe { parent.as_ref() } {
                push(parent);
            }
        }
    }
    push(info);
    out
}

/// A field's name.
pub(super) fn field_name(field: &'static TVMFFIFieldInfo) -> &'static [u8] {
    // SAFETY: field names live as long as the table.
    unsafe { bytes_of(&field.name) }.unwrap_or_default()
}

fn field_addr(obj: &ObjectRef<ObjectHeader>, field: &TVMFFIFieldInfo) -> *mut c_void {
    obj.as_raw().cast::<u8>().wrapping_offset(field.offset as isize).cast()
}

/// Read `field` of `obj` (the reference's `FieldGetter`).
///
/// # Safety
///
/// `field` is a field of `obj`'s type or of one of its ancestors.
pub(super) unsafe fn get_field(
    obj: &ObjectRef<ObjectHeader>,
    field: &TVMFFIFieldInfo,
) -> Result<Any, Error> {
    let getter = field.getter.ok_or_else(|| {
        Error::internal_error(format!(
            "field `{}` has no getter",
            alloc::string::String::from_utf8_lossy(field_name_of(field))
        ))
    })?;
    let mut out = TVMFFIAny::NONE;
    // SAFETY: the caller vouches that the field lies in `obj`; `out` takes an owned value.
    let code = unsafe { getter(field_addr(obj, field), &mut out) };
    crate::function::check(code)?;
    // SAFETY: a successful getter wrote an owned value.
    Ok(unsafe { Any::from_raw(out) })
}

fn field_name_of(field: &TVMFFIFieldInfo) -> &[u8] {
    // SAFETY: field names live as long as the table.
    unsafe { bytes_of(&field.name) }.unwrap_or_default()
}

/// Write `value` into `field` of `obj` (the reference's `CallFieldSetter`, its failure
/// passed on).
///
/// # Safety
///
/// As for [`get_field`]; `obj` is not shared yet (it is being built).
pub(super) unsafe fn set_field(
    obj: &ObjectRef<ObjectHeader>,
    field: &TVMFFIFieldInfo,
    value: AnyView<'_>,
) -> Result<(), Error> {
    let addr = field_addr(obj, field);
    if FieldFlags(field.flags).contains(FieldFlags::SETTER_IS_FUNCTION_OBJ) {
        let mut args = [TVMFFIAny::NONE, *value.as_raw()];
        args[0] = *AnyView::from(addr).as_raw();
        let mut result = TVMFFIAny::NONE;
        // SAFETY: the flag says `setter` is a live function object; the arguments are
        // views valid during the call; `result` takes an owned value.
        let code =
            unsafe { api::TVMFFIFunctionCall(field.setter, args.as_mut_ptr(), 2, &mut result) };
        crate::function::check(code)?;
        // SAFETY: a successful call wrote an owned value, released here.
        drop(unsafe { Any::from_raw(result) });
        return Ok(());
    }
    if field.setter.is_null() {
        return Err(Error::type_error(format!(
            "field `{}` is read-only: it has no setter",
            alloc::string::String::from_utf8_lossy(field_name_of(field))
        )));
    }
    // SAFETY: without the flag `setter` is a `TVMFFIFieldSetter`.
    let setter: tvmffi_core::sys::TVMFFIFieldSetter = unsafe { core::mem::transmute(field.setter) };
    // SAFETY: the field lies in `obj`; the value is a valid view for the call.
    crate::function::check(unsafe { setter(addr, value.as_raw()) })
}

/// Set `field` of `obj` to its default (the reference's `SetFieldToDefault`): the value,
/// or what its factory returns.
///
/// # Safety
///
/// As for [`set_field`]; the field has a default.
pub(super) unsafe fn set_default(
    obj: &ObjectRef<ObjectHeader>,
    field: &TVMFFIFieldInfo,
) -> Result<(), Error> {
    // SAFETY: a field with a default holds a valid view of it (kept by the table).
    let default = unsafe { AnyView::from_raw(field.default_value_or_factory) };
    if FieldFlags(field.flags).contains(FieldFlags::DEFAULT_FROM_FACTORY) {
        let factory: Function = default.get()?;
        let value = factory.call(&[])?;
        // SAFETY: the caller's promise.
        unsafe { set_field(obj, field, value.view()) }
    } else {
        // SAFETY: the caller's promise.
        unsafe { set_field(obj, field, default) }
    }
}

/// A type attribute column, looked up by name once found.
pub(super) struct Column {
    name: &'static str,
    cached: AtomicPtr<TVMFFITypeAttrColumn>,
}

impl Column {
    pub(super) const fn new(name: &'static str) -> Self {
        Self { name, cached: AtomicPtr::new(ptr::null_mut()) }
    }

    fn column(&self) -> Option<&'static TVMFFITypeAttrColumn> {
        let mut column = self.cached.load(Ordering::Acquire);
        if column.is_null() {
            let name = TVMFFIByteArray { data: self.name.as_ptr().cast(), size: self.name.len() };
            // SAFETY: `name` describes a live string; the runtime returns a column or null.
            column = unsafe { api::TVMFFIGetTypeAttrColumn(&name) }.cast_mut();
            if !column.is_null() {
                self.cached.store(column, Ordering::Release);
            }
        }
        // SAFETY: a column lives as long as the runtime's table (never freed).
        unsafe { column.as_ref() }
    }

    /// The attribute of `index`, unless it has none (`None` entries count as none).
    pub(super) fn get(&self, index: TypeIndex) -> Option<AnyView<'static>> {
        let column = self.column()?;
        let offset = index.0.checked_sub(column.begin_index)?;
        if offset < 0 || offset >= column.size || column.data.is_null() {
            return None;
        }
        // SAFETY: `0 <= offset < size` entries are readable; the table keeps the value
        // alive (attributes are never replaced).
        let raw = unsafe { column.data.add(offset as usize).read() };
        // SAFETY: entries are valid values owned by the table.
        let view = unsafe { AnyView::from_raw(raw) };
        (!view.is_none()).then_some(view)
    }

    /// The attribute of `index` as a function, if it has one.
    pub(super) fn function(&self, index: TypeIndex) -> Result<Option<Function>, Error> {
        match self.get(index) {
            None => Ok(None),
            Some(view) => view.get::<Function>().map(Some).map_err(|_| {
                Error::type_error(format!(
                    "type attribute `{}` of `{}` is not a function",
                    self.name,
                    crate::object_type::type_key(index)
                ))
            }),
        }
    }
}

static FFI_NEW: Column = Column::new("__ffi_new__");

/// Whether objects of `info` can be made empty, to be filled field by field (the
/// reference's `HasCreator`): a native creator, or a `__ffi_new__` function.
pub(super) fn has_creator(info: &'static TVMFFITypeInfo) -> bool {
    // SAFETY: metadata, when present, lives as long as the table.
    if unsafe { info.metadata.as_ref() }.is_some_and(|m| m.creator.is_some()) {
        return true;
    }
    FFI_NEW.get(TypeIndex(info.type_index)).is_some_and(|v| v.type_index() == TypeIndex::FUNCTION)
}

/// A new empty object of `info` (the reference's `CreateEmptyObject`).
pub(super) fn create_empty(
    info: &'static TVMFFITypeInfo,
) -> Result<ObjectRef<ObjectHeader>, Error> {
    // SAFETY: as in `has_creator`.
    if let Some(creator) = unsafe { info.metadata.as_ref() }.and_then(|m| m.creator) {
        let mut handle = ptr::null_mut();
        // SAFETY: a creator writes an owned handle on success.
        crate::function::check(unsafe { creator(&mut handle) })?;
        // SAFETY: the handle is an owned reference to a new object.
        return unsafe { ObjectRef::from_raw(handle.cast::<TVMFFIObject>()) }
            .ok_or_else(|| Error::internal_error("an object creator returned null"));
    }
    if let Some(new) = FFI_NEW.function(TypeIndex(info.type_index))? {
        let made = new.call(&[])?;
        if let Some(obj) = made.as_object_ptr() {
            // SAFETY: the value holds a live object, borrowed: take our own reference.
            if let Some(obj) = unsafe { ObjectRef::from_raw_borrowed(obj.as_ptr().cast()) } {
                return Ok(obj);
            }
        }
    }
    Err(Error::runtime_error(format!(
        "Type `{}` does not support reflection creation (no native creator or __ffi_new__ type \
         attr)",
        alloc::string::String::from_utf8_lossy(key_of(info))
    )))
}
