//! Object types whose layout is defined by the Python package (`@py_class`): the field
//! accessors it asks for (`ffi.MakeFieldGetter`, `ffi.MakeFieldSetter`) and the type
//! attributes that make such objects (`ffi._PyClassRegisterTypeAttrColumns`), as the
//! reference provides them in `src/ffi/extra/dataclass.cc`.
//!
//! Python lays a class's fields out after its parent's, each stored by its declared
//! `field_static_type_index`: PODs as themselves (`int64_t`, `double`, `bool`, `void*`,
//! `DLDataType`, `DLDevice`), object references as one pointer (null for `None`), anything
//! else as a 16-byte `TVMFFIAny`. Objects are zeroed (every field `None`/0) when made; the
//! deleter releases the `Any` and object fields through the type's field list.

use alloc::format;
use alloc::vec::Vec;
use core::alloc::Layout;
use core::ffi::{c_int, c_void};

use tvmffi_core::sys::{
    DLDataType, DLDevice, TVMFFIAny, TVMFFIFieldGetter, TVMFFIObject, TVMFFIObjectAllocHeader,
};
use tvmffi_core::{Any, AnyView, ObjectHeader, ObjectRef, TypeIndex};

use super::init::{auto_init, register_attr};
use super::walk;
use crate::error::Error;
use crate::function::{AbortOnPanic, Function, c_boundary};
use crate::object_type::info::{FieldInfo, TypeInfo};

/// How a Python-defined field is stored (`PyClassFieldStorageKind`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Storage {
    Pod,
    Any,
    Object,
}

fn storage(field: &FieldInfo) -> Storage {
    let index = field.static_type_index();
    // C++ parents may declare `Any` for a field stored as one object pointer.
    if index == TypeIndex::ANY {
        if field.raw().size == core::mem::size_of::<*mut c_void>() as i64 {
            return Storage::Object;
        }
        return Storage::Any;
    }
    // `None` fields hold an `Any` (what the getter and setter use); the reference forgets
    // to release them, which would leak.
    if index == TypeIndex::NONE {
        return Storage::Any;
    }
    if index.is_object() { Storage::Object } else { Storage::Pod }
}

/// Read the value of type `T` at `field` into `result`.
///
/// # Safety
///
/// `field` points to a valid `T`; `result` is writable.
unsafe extern "C" fn get_pod<T: Copy + Into<Any>>(
    field: *mut c_void,
    result: *mut TVMFFIAny,
) -> c_int {
    c_boundary::<AbortOnPanic>(|| {
        if field.is_null() || result.is_null() {
            return Err(Error::value_error("field getter called with a null pointer"));
        }
        // SAFETY: the caller's promise.
        unsafe { result.write(field.cast::<T>().read_unaligned().into().into_raw()) };
        Ok(())
    })
}

/// A C++ `bool` field (one byte).
///
/// # Safety
///
/// As [`get_pod`].
unsafe extern "C" fn get_bool(field: *mut c_void, result: *mut TVMFFIAny) -> c_int {
    c_boundary::<AbortOnPanic>(|| {
        if field.is_null() || result.is_null() {
            return Err(Error::value_error("field getter called with a null pointer"));
        }
        // SAFETY: the caller's promise.
        unsafe { result.write(Any::from(field.cast::<u8>().read() != 0).into_raw()) };
        Ok(())
    })
}

/// An `Any` field.
///
/// # Safety
///
/// `field` points to a valid, owned `TVMFFIAny`; `result` is writable.
unsafe extern "C" fn get_any(field: *mut c_void, result: *mut TVMFFIAny) -> c_int {
    c_boundary::<AbortOnPanic>(|| {
        if field.is_null() || result.is_null() {
            return Err(Error::value_error("field getter called with a null pointer"));
        }
        // SAFETY: the field holds a valid value, alive while it is copied.
        let value = unsafe { AnyView::from_ptr(field.cast::<TVMFFIAny>()) }.to_owned()?;
        // SAFETY: `result` is writable.
        unsafe { result.write(value.into_raw()) };
        Ok(())
    })
}

/// An object field: one pointer, null for `None`.
///
/// # Safety
///
/// `field` points to a null or live object pointer; `result` is writable.
unsafe extern "C" fn get_object(field: *mut c_void, result: *mut TVMFFIAny) -> c_int {
    c_boundary::<AbortOnPanic>(|| {
        if field.is_null() || result.is_null() {
            return Err(Error::value_error("field getter called with a null pointer"));
        }
        // SAFETY: the field holds null or a live object; a new reference is taken.
        let obj = unsafe {
            ObjectRef::<ObjectHeader>::from_raw_borrowed(field.cast::<*mut TVMFFIObject>().read())
        };
        // SAFETY: `result` is writable.
        unsafe { result.write(obj.map_or_else(Any::none, Any::from).into_raw()) };
        Ok(())
    })
}

/// The getter of a Python-defined field of static type `index` (`ffi.MakeFieldGetter`).
pub fn field_getter(index: TypeIndex) -> Result<TVMFFIFieldGetter, Error> {
    Ok(match index {
        TypeIndex::INT => get_pod::<i64>,
        TypeIndex::FLOAT => get_pod::<f64>,
        TypeIndex::BOOL => get_bool,
        TypeIndex::OPAQUE_PTR => get_pod::<*mut c_void>,
        TypeIndex::DATA_TYPE => get_pod::<DLDataType>,
        TypeIndex::DEVICE => get_pod::<DLDevice>,
        TypeIndex::ANY | TypeIndex::NONE => get_any,
        i if i.is_object() => get_object,
        i => {
            return Err(Error::value_error(format!(
                "Unsupported field type index for getter: {}",
                i.0
            )));
        }
    })
}

/// Write `value`, converted to the field's type, at `field` (`WriteFieldValue`).
///
/// # Safety
///
/// `field` points to a field of static type `index`, laid out as Python lays it out, that
/// nobody else uses during the call.
unsafe fn write_field(field: *mut c_void, index: TypeIndex, value: Any) -> Result<(), Error> {
    use crate::typed::cast;
    let v = value.view();
    // SAFETY: in every arm, the caller's promise of the layout and exclusive access.
    unsafe {
        match index {
            TypeIndex::INT => field.cast::<i64>().write_unaligned(cast::<i64>(v)?),
            TypeIndex::FLOAT => field.cast::<f64>().write_unaligned(cast::<f64>(v)?),
            TypeIndex::BOOL => field.cast::<u8>().write(u8::from(cast::<bool>(v)?)),
            TypeIndex::OPAQUE_PTR => {
                field.cast::<*mut c_void>().write_unaligned(v.get::<*mut c_void>()?)
            }
            TypeIndex::DATA_TYPE => {
                field.cast::<DLDataType>().write_unaligned(v.get::<DLDataType>()?)
            }
            TypeIndex::DEVICE => field.cast::<DLDevice>().write_unaligned(v.get::<DLDevice>()?),
            TypeIndex::ANY | TypeIndex::NONE => {
                let slot = field.cast::<TVMFFIAny>();
                let old = slot.read();
                slot.write(value.into_raw());
                drop(Any::from_raw(old));
            }
            i if i.is_object() => {
                let new = if v.is_none() {
                    core::ptr::null_mut()
                } else {
                    v.get::<ObjectRef<ObjectHeader>>()?.into_raw()
                };
                let slot = field.cast::<*mut TVMFFIObject>();
                let old = slot.read();
                slot.write(new);
                drop(ObjectRef::<ObjectHeader>::from_raw(old));
            }
            i => {
                return Err(Error::value_error(format!(
                    "Unsupported field type index for setter: {}",
                    i.0
                )));
            }
        }
    }
    Ok(())
}

/// The Python package's converter of a field value: `(converter, value, out) -> 0 | -1`,
/// the error raised on failure.
pub type FieldConvert = unsafe extern "C" fn(
    converter: *mut c_void,
    value: *const TVMFFIAny,
    out: *mut TVMFFIAny,
) -> c_int;

/// The setter of a Python-defined field (`ffi.MakeFieldSetter`): a function object taking
/// the field's address and a value, converting the value with `convert(converter, ...)`,
/// then writing it.
///
/// # Safety
///
/// `convert` may be called with `converter` from any thread while the function lives, and
/// every caller of the function passes the address of a field of static type `index`
/// laid out as Python lays it out, that nobody else uses during the call.
pub unsafe fn field_setter(
    index: TypeIndex,
    converter: *mut c_void,
    convert: FieldConvert,
) -> Function {
    let converter = converter as usize;
    Function::from_packed(move |args: &[AnyView<'_>]| {
        let [addr, value] = args else {
            return Err(Error::type_error(format!(
                "field setter takes 2 arguments (address, value), but {} were given",
                args.len()
            )));
        };
        let addr: *mut c_void = addr.get()?;
        if addr.is_null() {
            return Err(Error::value_error("field setter called with a null address"));
        }
        let mut out = TVMFFIAny::NONE;
        // SAFETY: the function's contract: `convert` accepts `converter`; the value is a
        // valid view and `out` is writable.
        if unsafe { convert(converter as *mut c_void, value.as_raw(), &mut out) } != 0 {
            return Err(Error::take_raised()
                .unwrap_or_else(|| Error::runtime_error("field conversion failed")));
        }
        // SAFETY: a successful conversion wrote an owned value.
        let converted = unsafe { Any::from_raw(out) };
        // SAFETY: the function's contract on `addr`.
        unsafe { write_field(addr, index, converted)? };
        Ok(Any::none())
    })
}

/// Bytes before an object: its allocation's size, then the `TVMFFIObjectAllocHeader` the
/// C header requires right before every object body.
const PREFIX: usize = (2 * core::mem::size_of::<usize>()).next_multiple_of(8);

fn block_layout(total_size: usize) -> Result<Layout, Error> {
    PREFIX
        .checked_add(total_size)
        .and_then(|size| Layout::from_size_align(size, 8).ok())
        .ok_or_else(|| Error::runtime_error(format!("Failed to allocate {total_size} bytes")))
}

/// Release the `Any` and object fields of a Python-defined object (`PyClassDeleter`'s
/// strong phase), reading its layout from the type's fields.
///
/// # Safety
///
/// `obj` is a Python-defined object made here whose last strong reference is gone.
unsafe fn release_fields(obj: *mut u8) {
    // SAFETY: the header is intact until the weak phase.
    let index = unsafe { (*obj.cast::<TVMFFIObject>()).type_index };
    let Some(info) = TypeInfo::of(TypeIndex(index)) else { return };
    for field in info.fields() {
        let Ok(offset) = usize::try_from(field.raw().offset) else { continue };
        let addr = obj.wrapping_add(offset);
        // SAFETY: the field was laid out by Python in this object, initialised to zero
        // (None / null) and only written by setters; it is released once, here.
        unsafe {
            match storage(&field) {
                Storage::Any => drop(Any::from_raw(addr.cast::<TVMFFIAny>().read())),
                Storage::Object => drop(ObjectRef::<ObjectHeader>::from_raw(
                    addr.cast::<*mut TVMFFIObject>().read(),
                )),
                Storage::Pod => {}
            }
        }
    }
}

/// The deleter of Python-defined objects.
unsafe extern "C" fn py_deleter(obj: *mut c_void, flags: c_int) {
    let flags = tvmffi_core::flags::DeleterFlags(flags);
    if flags.contains(tvmffi_core::flags::DeleterFlags::STRONG) {
        // SAFETY: the last strong reference is gone; the fields were not released yet.
        unsafe { release_fields(obj.cast()) };
    }
    if flags.contains(tvmffi_core::flags::DeleterFlags::WEAK) {
        // SAFETY: no reference is left; the block was made by `new_py_object`.
        unsafe { py_delete_space(obj) };
    }
}

/// `TVMFFIObjectAllocHeader::delete_space` of Python-defined objects.
unsafe extern "C" fn py_delete_space(obj: *mut c_void) {
    // SAFETY: `obj` is `PREFIX` bytes into a block from `new_py_object`, whose first word
    // holds the size it was allocated with.
    unsafe {
        let base = obj.cast::<u8>().sub(PREFIX);
        let size = base.cast::<usize>().read();
        alloc::alloc::dealloc(base, Layout::from_size_align_unchecked(size, 8));
    }
}

/// A new zeroed object of a Python-defined type of `total_size` bytes (header included);
/// `fill` may write its fields (given the object's start) before it is shared.
fn new_py_object(
    index: TypeIndex,
    total_size: usize,
    fill: impl FnOnce(*mut u8),
) -> Result<ObjectRef<ObjectHeader>, Error> {
    let layout = block_layout(total_size)?;
    // SAFETY: the layout is at least `PREFIX + 24` bytes.
    let base = unsafe { alloc::alloc::alloc_zeroed(layout) };
    if base.is_null() {
        return Err(Error::runtime_error(format!(
            "Failed to allocate {total_size} bytes for type {}",
            crate::object_type::type_key(index)
        )));
    }
    // SAFETY: the block is `PREFIX + total_size` bytes, 8-aligned: the size word, the alloc
    // header right before the object, and the object's header at its start all fit; the
    // zeroed fields are `None` / null / 0 until `fill` writes them.
    unsafe {
        base.cast::<usize>().write(layout.size());
        let obj = base.add(PREFIX);
        obj.sub(core::mem::size_of::<TVMFFIObjectAllocHeader>())
            .cast::<TVMFFIObjectAllocHeader>()
            .write(TVMFFIObjectAllocHeader { delete_space: Some(py_delete_space) });
        obj.cast::<ObjectHeader>().write(ObjectHeader::new(index, Some(py_deleter)));
        fill(obj);
        ObjectRef::from_raw(obj.cast::<TVMFFIObject>())
            .ok_or_else(|| Error::internal_error("a new object is never null"))
    }
}

/// Register `__ffi_init__`, `__ffi_new__` and `__ffi_shallow_copy__` for the Python-defined
/// type `index` whose objects are `total_size` bytes (`ffi._PyClassRegisterTypeAttrColumns`).
pub fn register_py_class(index: TypeIndex, total_size: i32) -> Result<(), Error> {
    let info = walk::type_info(index)?;
    if index.0 < TypeIndex::DYN_OBJECT_BEGIN.0 {
        return Err(Error::value_error(format!("`{}` is not a dynamic object type", info.key())));
    }
    let total = usize::try_from(total_size)
        .ok()
        .filter(|&t| t >= core::mem::size_of::<TVMFFIObject>())
        .ok_or_else(|| {
            Error::value_error(format!("invalid total size {total_size} for type {}", info.key()))
        })?;
    let init = auto_init::<AbortOnPanic>(index);
    register_attr(index, "__ffi_init__", AnyView::from(&init))?;
    let new = Function::from_packed(move |args: &[AnyView<'_>]| {
        if !args.is_empty() {
            return Err(Error::type_error(format!(
                "Mismatched number of arguments when calling: `__ffi_new__() -> Object`. Expected 0 but got {} arguments",
                args.len()
            )));
        }
        Ok(Any::from(new_py_object(index, total, |_| {})?))
    });
    register_attr(index, "__ffi_new__", AnyView::from(&new))?;
    let copy = Function::from_packed(move |args: &[AnyView<'_>]| {
        let [src] = args else {
            return Err(Error::type_error(format!(
                "Mismatched number of arguments when calling: `__ffi_shallow_copy__(0: Object) -> Object`. Expected 1 but got {} arguments",
                args.len()
            )));
        };
        let src: ObjectRef<ObjectHeader> = src.get()?;
        if src.type_index() != index {
            return Err(Error::type_error(format!(
                "`__ffi_shallow_copy__` of `{}` called on `{}`",
                crate::object_type::type_key(index),
                crate::object_type::type_key(src.type_index())
            )));
        }
        let fields: Vec<FieldInfo> = walk::type_info(index)?.fields().collect();
        let from = src.as_raw().cast::<u8>();
        let copy = new_py_object(index, total, |to| {
            for field in &fields {
                let (Ok(offset), Ok(size)) =
                    (usize::try_from(field.raw().offset), usize::try_from(field.raw().size))
                else {
                    continue;
                };
                if offset.saturating_add(size) > total {
                    continue;
                }
                let (s, d) = (from.wrapping_add(offset), to.wrapping_add(offset));
                // SAFETY: both objects are `total` bytes of this type's layout; the source
                // field holds a valid value of its storage kind, copied with a new
                // reference into the zeroed destination.
                unsafe {
                    match storage(field) {
                        Storage::Any => {
                            let v = AnyView::from_ptr(s.cast::<TVMFFIAny>()).to_owned();
                            d.cast::<TVMFFIAny>().write(v.unwrap_or_default().into_raw());
                        }
                        Storage::Object => {
                            let o = ObjectRef::<ObjectHeader>::from_raw_borrowed(
                                s.cast::<*mut TVMFFIObject>().read(),
                            );
                            d.cast::<*mut TVMFFIObject>()
                                .write(o.map_or(core::ptr::null_mut(), ObjectRef::into_raw));
                        }
                        Storage::Pod => core::ptr::copy_nonoverlapping(s, d, size),
                    }
                }
            }
        })?;
        Ok(Any::from(copy))
    });
    register_attr(index, "__ffi_shallow_copy__", AnyView::from(&copy))
}
