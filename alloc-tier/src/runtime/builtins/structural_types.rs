//! The reflection of the structural object types (`ffi.reflection.AccessStep`,
//! `ffi.reflection.AccessPath`, `ffi.StructuralVisitor`, `ffi.VisitErrorContext`,
//! `ffi.StructuralMutator`, `ffi.StructuralKey`, `ffi.VisitInterrupt`), registered into the
//! type table at start-up as the reference's `refl::ObjectDef` registers them: metadata,
//! read-only fields with getters, methods, and the attributes `ObjectDef` adds
//! (`__ffi_shallow_copy__`, `__ffi_new__`, `__ffi_type_final__`).
//!
//! This is direct table registration with small declarations; it moves to the crate's
//! reflection facility for Rust-defined types once that exists.

use alloc::string::String;
use core::ffi::{c_int, c_void};

use tvmffi_core::flags::{FieldFlags, SEqHashKind};
use tvmffi_core::sys::{
    TVMFFIAny, TVMFFIByteArray, TVMFFIFieldGetter, TVMFFIFieldInfo, TVMFFIMethodInfo, TVMFFIObject,
    TVMFFIObjectCreator, TVMFFIObjectHandle, TVMFFITypeMetadata,
};
use tvmffi_core::{Any, AnyView, TypeIndex};

use super::Builtins;
use crate::function::{Boundary, Function};

/// What a field's getter reads.
#[derive(Clone, Copy)]
pub(super) enum FieldKind {
    /// An `Any`.
    Any,
    /// An `int32_t`.
    I32,
    /// An `int64_t`.
    I64,
    /// An object pointer, null for `None` (`ObjectRef`, `Optional<ObjectRef>`).
    Object,
}

/// One read-only field.
pub(super) struct FieldDecl {
    pub(super) name: &'static str,
    pub(super) offset: usize,
    pub(super) kind: FieldKind,
    /// The type schema, as the reference prints it (`{"type":"int"}`).
    pub(super) schema: &'static str,
    /// A default value, if the field has one.
    pub(super) default: Option<Any>,
}

/// Register the type `key` under `ffi.Object`, at `static_index` when given; its index.
pub(super) fn register_type<B: Boundary>(
    b: &mut Builtins<'_, B>,
    key: &str,
    static_index: Option<TypeIndex>,
    is_final: bool,
) -> i32 {
    let static_index = static_index.map_or(-1, |i| i.0);
    let index = b.types().get_or_alloc_index(
        key.as_bytes(),
        static_index,
        1,
        0,
        !is_final,
        TypeIndex::OBJECT.0,
    );
    let index = index.unwrap_or(-1);
    if index >= 0 {
        b.type_attr(TypeIndex(index), "__ffi_type_final__", AnyView::from(is_final));
    }
    index
}

/// Register the metadata of `index`.
pub(super) fn metadata<B: Boundary>(
    b: &mut Builtins<'_, B>,
    index: i32,
    kind: SEqHashKind,
    total_size: usize,
    creator: Option<TVMFFIObjectCreator>,
) {
    let info = TVMFFITypeMetadata {
        doc: TVMFFIByteArray { data: core::ptr::null(), size: 0 },
        creator,
        total_size: i32::try_from(total_size).unwrap_or(i32::MAX),
        structural_eq_hash_kind: kind,
    };
    // SAFETY: the doc is an empty array with a null pointer.
    let registered = unsafe { b.types().register_metadata(index, &info) };
    drop(registered); // once per type, at start-up
    if let Some(creator) = creator {
        let new = Function::from_packed_with::<B, _>(move |args: &[AnyView<'_>]| {
            let [] = super::arity("__ffi_new__() -> ffi.Object", args)?;
            let mut out: TVMFFIObjectHandle = core::ptr::null_mut();
            // SAFETY: a creator writes an owned object handle on success.
            if unsafe { creator(&mut out) } != 0 {
                return Err(crate::Error::take_raised().unwrap_or_else(|| {
                    crate::Error::runtime_error("the creator failed without raising an error")
                }));
            }
            // SAFETY: an owned handle of a live object.
            let obj = unsafe {
                tvmffi_core::ObjectRef::<tvmffi_core::ObjectHeader>::from_raw(out.cast())
            };
            Ok(obj.map(Any::from).unwrap_or_default())
        });
        b.type_attr(TypeIndex(index), "__ffi_new__", AnyView::from(&new));
    }
}

/// Register `fields` of `index`.
pub(super) fn fields<B: Boundary>(b: &mut Builtins<'_, B>, index: i32, fields: &[FieldDecl]) {
    for f in fields {
        let (getter, size, align, static_index): (TVMFFIFieldGetter, usize, usize, TypeIndex) =
            match f.kind {
                FieldKind::Any => (get_any as TVMFFIFieldGetter, 16, 8, TypeIndex::ANY),
                FieldKind::I32 => (get_i32, 4, 4, TypeIndex::INT),
                FieldKind::I64 => (get_i64, 8, 8, TypeIndex::INT),
                FieldKind::Object => {
                    (get_object, size_of::<usize>(), align_of::<usize>(), TypeIndex::ANY)
                }
            };
        let metadata = crate::function::schema::metadata_json(f.schema);
        let (flags, default) = match &f.default {
            Some(d) => (FieldFlags::HAS_DEFAULT, *d.as_raw()),
            None => (FieldFlags(0), TVMFFIAny::NONE),
        };
        let info = TVMFFIFieldInfo {
            name: bytes(f.name),
            doc: TVMFFIByteArray { data: core::ptr::null(), size: 0 },
            metadata: bytes(&metadata),
            flags: flags.0,
            size: size as i64,
            alignment: align as i64,
            offset: f.offset as i64,
            getter: Some(getter),
            setter: core::ptr::null_mut(),
            default_value_or_factory: default,
            field_static_type_index: static_index.0,
        };
        // SAFETY: the byte arrays describe live strings; the default (if any) is a valid
        // view the table copies; there is no setter.
        let registered = unsafe { b.types().register_field(index, &info) };
        drop(registered); // once per field, at start-up
    }
}

/// Register the method `name` of `index` (static when `is_static`), with its type schema.
pub(super) fn method<B: Boundary>(
    b: &mut Builtins<'_, B>,
    index: i32,
    name: &str,
    is_static: bool,
    f: &Function,
    schema: &str,
    doc: &str,
) {
    let metadata = crate::function::schema::metadata_json(schema);
    let flags = if is_static { FieldFlags::IS_STATIC_METHOD } else { FieldFlags(0) };
    let info = TVMFFIMethodInfo {
        name: bytes(name),
        doc: bytes(doc),
        flags: flags.0,
        method: *AnyView::from(f).as_raw(),
        metadata: bytes(&metadata),
    };
    // SAFETY: the byte arrays describe live strings and the method a live function, which
    // the table copies and keeps.
    let registered = unsafe { b.types().register_method(index, &info) };
    drop(registered); // once per method, at start-up
}

/// `__ffi_shallow_copy__` of `index`: `copy` makes a new object with the same payload.
pub(super) fn shallow_copy<B: Boundary>(
    b: &mut Builtins<'_, B>,
    index: i32,
    copy: fn(AnyView<'_>) -> Result<Any, crate::Error>,
) {
    let f = Function::from_packed_with::<B, _>(move |args: &[AnyView<'_>]| {
        let [value] = super::arity("__ffi_shallow_copy__(0: ffi.Object) -> ffi.Object", args)?;
        copy(*value)
    });
    b.type_attr(TypeIndex(index), "__ffi_shallow_copy__", AnyView::from(&f));
}

fn bytes(s: &str) -> TVMFFIByteArray {
    if s.is_empty() {
        return TVMFFIByteArray { data: core::ptr::null(), size: 0 };
    }
    TVMFFIByteArray { data: s.as_ptr().cast(), size: s.len() }
}

/// A JSON type schema of an object type: `{"type":"<key>"}`.
pub(super) fn key_schema(key: &str) -> String {
    alloc::format!(r#"{{"type":"{key}"}}"#)
}

/// Write `value` to a getter's result slot.
///
/// # Safety
///
/// `out` is the getter's writable result slot.
unsafe fn put(out: *mut TVMFFIAny, value: Any) -> c_int {
    if out.is_null() {
        return -1;
    }
    // SAFETY: the caller's promise.
    unsafe { out.write(value.into_raw()) };
    0
}

/// # Safety
///
/// `field` points at an `Any` of a live object; `out` is writable.
unsafe extern "C" fn get_any(field: *mut c_void, out: *mut TVMFFIAny) -> c_int {
    // SAFETY: the caller's promise; the value is cloned (objects gain a reference).
    let value = unsafe { (*field.cast::<Any>()).clone() };
    // SAFETY: as above.
    unsafe { put(out, value) }
}

/// # Safety
///
/// `field` points at an `int32_t` of a live object; `out` is writable.
unsafe extern "C" fn get_i32(field: *mut c_void, out: *mut TVMFFIAny) -> c_int {
    // SAFETY: the caller's promise.
    unsafe { put(out, Any::from(field.cast::<i32>().read())) }
}

/// # Safety
///
/// `field` points at an `int64_t` of a live object; `out` is writable.
unsafe extern "C" fn get_i64(field: *mut c_void, out: *mut TVMFFIAny) -> c_int {
    // SAFETY: the caller's promise.
    unsafe { put(out, Any::from(field.cast::<i64>().read())) }
}

/// # Safety
///
/// `field` points at a nullable object pointer of a live object (which holds a reference
/// to it); `out` is writable.
unsafe extern "C" fn get_object(field: *mut c_void, out: *mut TVMFFIAny) -> c_int {
    // SAFETY: the caller's promise.
    let ptr = unsafe { field.cast::<*mut TVMFFIObject>().read() };
    // SAFETY: a non-null pointer is a live object the field holds; a new reference is made.
    let obj =
        unsafe { tvmffi_core::ObjectRef::<tvmffi_core::ObjectHeader>::from_raw_borrowed(ptr) };
    // SAFETY: as above.
    unsafe { put(out, obj.map(Any::from).unwrap_or_default()) }
}
