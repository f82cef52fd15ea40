//! Objects as the runtime's reflection describes them: type infos, their fields (ancestors'
//! first, as `ForEachFieldInfo` walks them) read through getters and written through
//! setters, and the type attribute columns that carry custom hooks.
//!
//! Everything is reached through the C API (`TVMFFIGetTypeInfo`, `TVMFFIGetTypeAttrColumn`),
//! so it works under whatever runtime hosts the code. A traversal resolves each type once
//! into a [`TypeData`] ([`TypeCache`]); columns are found once per process and read without
//! the runtime's lock, as the reference reads them.

use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::ffi::c_void;
use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};

use tvmffi_core::flags::{FieldFlags, SEqHashKind};
use tvmffi_core::sys::{
    TVMFFIAny, TVMFFIByteArray, TVMFFIFieldInfo, TVMFFIObject, TVMFFITypeAttrColumn,
    TVMFFITypeInfo, api,
};
use tvmffi_core::{Any, AnyView, TypeIndex};

use crate::error::{Error, bytes_of};

/// One type, resolved for a traversal.
pub(crate) struct TypeData {
    /// The runtime's information; lives as long as the process.
    pub(crate) info: &'static TVMFFITypeInfo,
    /// The structural kind; `None` when the type has no metadata.
    pub(crate) kind: Option<SEqHashKind>,
    /// Every field, ancestors' first. Copies: a type's field array moves when fields are
    /// added later, but the names, getters and setters it points to stay.
    pub(crate) fields: Vec<TVMFFIFieldInfo>,
}

impl TypeData {
    /// The type key.
    pub(crate) fn key(&self) -> &'static [u8] {
        // SAFETY: a registered type's key lives as long as its entry (the process).
        unsafe { bytes_of(&self.info.type_key) }.unwrap_or_default()
    }

    /// The type key as text, for messages.
    pub(crate) fn key_str(&self) -> String {
        String::from_utf8_lossy(self.key()).into_owned()
    }

    /// The type's hash of its key (`Object::GetTypeKeyHash`).
    #[inline]
    pub(crate) fn key_hash(&self) -> u64 {
        self.info.type_key_hash
    }

    /// The structural kind, or the reference's `TypeError` when the type has none.
    #[inline]
    pub(crate) fn supported_kind(&self) -> Result<SEqHashKind, Error> {
        match self.kind {
            Some(kind) if kind != SEqHashKind::UNSUPPORTED => Ok(kind),
            _ => Err(self.unsupported()),
        }
    }

    #[cold]
    fn unsupported(&self) -> Error {
        let what = if self.kind.is_none() { "Type metadata" } else { "_type_s_eq_hash_kind" };
        Error::type_error(alloc::format!(
            "{what} is not set for type `{}`, so StructuralHash is not supported for this type",
            self.key_str()
        ))
    }
}

/// The runtime's information of `index`, or its error.
pub(crate) fn type_info(index: TypeIndex) -> Result<&'static TVMFFITypeInfo, Error> {
    // SAFETY: the runtime returns null (raising an error) or an entry that lives as long as
    // the process and whose index, key and ancestors never change.
    let info = unsafe { api::TVMFFIGetTypeInfo(index.0).as_ref() };
    info.ok_or_else(|| {
        Error::take_raised().unwrap_or_else(|| {
            Error::internal_error(alloc::format!("Cannot find type info for type_index={index}"))
        })
    })
}

/// Resolve `index` into its structural description.
fn resolve(index: TypeIndex) -> Result<TypeData, Error> {
    let info = type_info(index)?;
    // SAFETY: metadata is null or a live record of the entry.
    let kind = unsafe { info.metadata.as_ref() }.map(|m| m.structural_eq_hash_kind);
    let mut fields = Vec::new();
    let depth = usize::try_from(info.type_depth).unwrap_or(0);
    for level in 1..=depth {
        let owner = if level == depth {
            info
        } else if info.type_ancestors.is_null() {
            continue;
        } else {
            // SAFETY: `type_ancestors` holds `type_depth` live entries.
            match unsafe { (*info.type_ancestors.add(level)).as_ref() } {
                Some(ancestor) => ancestor,
                None => continue,
            }
        };
        let n = usize::try_from(owner.num_fields).unwrap_or(0);
        if n > 0 && !owner.fields.is_null() {
            // SAFETY: `fields` holds `num_fields` entries, copied out here.
            fields.extend_from_slice(unsafe { core::slice::from_raw_parts(owner.fields, n) });
        }
    }
    Ok(TypeData { info, kind, fields })
}

/// The types a traversal has met, resolved once each.
#[derive(Default)]
pub(crate) struct TypeCache {
    slots: Vec<Option<Rc<TypeData>>>,
}

/// Type indices beyond this are resolved without caching (real tables stay far below).
const CACHED_INDICES: usize = 1 << 16;

impl TypeCache {
    /// The description of objects of `index`.
    #[inline]
    pub(crate) fn get(&mut self, index: TypeIndex) -> Result<Rc<TypeData>, Error> {
        if let Some(Some(data)) = Self::slot(index).and_then(|slot| self.slots.get(slot)) {
            return Ok(data.clone());
        }
        self.resolve_slow(index)
    }

    /// The hash of the key of `index` (`type_key_hash`).
    #[inline]
    pub(crate) fn key_hash(&mut self, index: TypeIndex) -> Result<u64, Error> {
        if let Some(Some(data)) = Self::slot(index).and_then(|slot| self.slots.get(slot)) {
            return Ok(data.key_hash());
        }
        self.resolve_slow(index).map(|data| data.key_hash())
    }

    #[inline]
    fn slot(index: TypeIndex) -> Option<usize> {
        usize::try_from(index.0).ok().filter(|&i| i < CACHED_INDICES)
    }

    #[cold]
    fn resolve_slow(&mut self, index: TypeIndex) -> Result<Rc<TypeData>, Error> {
        let data = Rc::new(resolve(index)?);
        let Some(slot) = Self::slot(index) else { return Ok(data) };
        if self.slots.len() <= slot {
            self.slots.resize(slot.saturating_add(1), None);
        }
        if let Some(entry) = self.slots.get_mut(slot) {
            *entry = Some(data.clone());
        }
        Ok(data)
    }
}

/// A field's name as text.
pub(crate) fn field_name(field: &TVMFFIFieldInfo) -> &'static [u8] {
    // SAFETY: field names live in the type table for the process.
    unsafe { bytes_of(&field.name) }.unwrap_or_default()
}

/// Whether structural equality, hashing and traversal skip the field.
#[inline]
pub(crate) fn ignored(field: &TVMFFIFieldInfo) -> bool {
    FieldFlags(field.flags).contains(FieldFlags::SEQ_HASH_IGNORE)
}

/// The def region a field opens, if it carries one: simple wins over pattern.
#[inline]
pub(crate) fn field_region(field: &TVMFFIFieldInfo) -> Option<tvmffi_core::flags::DefRegionKind> {
    use tvmffi_core::flags::DefRegionKind;
    let flags = FieldFlags(field.flags);
    if flags.contains(FieldFlags::SEQ_HASH_DEF_SIMPLE) {
        Some(DefRegionKind::SIMPLE)
    } else if flags.contains(FieldFlags::SEQ_HASH_DEF_PATTERN) {
        Some(DefRegionKind::PATTERN)
    } else {
        None
    }
}

/// The address of a field of `obj`.
#[inline]
fn field_addr(obj: *mut TVMFFIObject, field: &TVMFFIFieldInfo) -> *mut c_void {
    obj.cast::<u8>().wrapping_offset(field.offset as isize).cast()
}

/// Read a field of the live object `obj` through its getter.
///
/// # Safety
///
/// `obj` points at a live object whose type (or an ancestor's) declares `field`, with
/// provenance over the whole object: a pointer made from an `&ObjectHeader` covers only
/// the header, so take it from the owning reference
/// ([`ObjectRef::as_raw`](tvmffi_core::ObjectRef::as_raw)) or the value.
#[inline]
pub(crate) unsafe fn get_field(
    obj: *mut TVMFFIObject,
    field: &TVMFFIFieldInfo,
) -> Result<Any, Error> {
    let Some(getter) = field.getter else { return Err(no_getter(field)) };
    let mut out = TVMFFIAny::NONE;
    // SAFETY: the field lives `offset` bytes into the object the type info describes, and
    // the getter writes an owned value into `out` on success.
    let code = unsafe { getter(field_addr(obj, field), &mut out) };
    if code != 0 {
        return Err(raised("a field getter"));
    }
    // SAFETY: the getter wrote an owned value.
    Ok(unsafe { Any::from_raw(out) })
}

/// Read a field of the live object `obj` through its getter into a new last element of
/// `held`: the getter writes straight into the vector, so the value is never copied.
///
/// # Safety
///
/// As for [`get_field`].
#[inline]
pub(crate) unsafe fn push_field(
    held: &mut Vec<Any>,
    obj: *mut TVMFFIObject,
    field: &TVMFFIFieldInfo,
) -> Result<(), Error> {
    let Some(getter) = field.getter else { return Err(no_getter(field)) };
    let len = held.len();
    if len == held.capacity() {
        held.reserve(1);
    }
    // SAFETY: after the reserve the slot at `len` is allocated (and not yet part of the
    // vector); `Any` is a `TVMFFIAny`.
    let slot = unsafe { held.as_mut_ptr().add(len) }.cast::<TVMFFIAny>();
    // SAFETY: the slot is writable; it holds `None` until the getter writes it.
    unsafe { slot.write(TVMFFIAny::NONE) };
    // SAFETY: the field lives `offset` bytes into the object the type info describes, and
    // the getter writes an owned value into the slot on success.
    let code = unsafe { getter(field_addr(obj, field), slot) };
    if code != 0 {
        return Err(raised("a field getter"));
    }
    // SAFETY: the slot now holds an owned value.
    unsafe { held.set_len(len + 1) };
    Ok(())
}

#[cold]
fn no_getter(field: &TVMFFIFieldInfo) -> Error {
    Error::type_error(alloc::format!(
        "field `{}` has no getter",
        String::from_utf8_lossy(field_name(field))
    ))
}

/// Write a field of the live object `obj` through its setter (`CallFieldSetter`).
///
/// # Safety
///
/// As for [`get_field`].
pub(crate) unsafe fn set_field(
    obj: *mut TVMFFIObject,
    field: &TVMFFIFieldInfo,
    value: AnyView<'_>,
) -> Result<(), Error> {
    let addr = field_addr(obj, field);
    let code = if FieldFlags(field.flags).contains(FieldFlags::SETTER_IS_FUNCTION_OBJ) {
        let mut args = [*AnyView::from(addr.cast_const()).as_raw(), *value.as_raw()];
        let mut result = TVMFFIAny::NONE;
        // SAFETY: the setter is a live function object owned by the type table; the
        // arguments are valid views for the call.
        let code =
            unsafe { api::TVMFFIFunctionCall(field.setter, args.as_mut_ptr(), 2, &mut result) };
        // SAFETY: on success the result is an owned value (dropped here).
        drop(unsafe { Any::from_raw(if code == 0 { result } else { TVMFFIAny::NONE }) });
        code
    } else if field.setter.is_null() {
        return Err(Error::type_error("the field has no setter"));
    } else {
        type Setter = unsafe extern "C" fn(*mut c_void, *const TVMFFIAny) -> core::ffi::c_int;
        // SAFETY: without the function-object flag, `setter` is a C setter of this field.
        let setter = unsafe { core::mem::transmute::<*mut c_void, Setter>(field.setter) };
        // SAFETY: the field lives at `addr`; `value` is a valid view.
        unsafe { setter(addr, value.as_raw()) }
    };
    if code != 0 {
        return Err(raised("a field setter"));
    }
    Ok(())
}

/// The error a failed C call raised, or one saying it raised none.
#[cold]
pub(crate) fn raised(what: &str) -> Error {
    Error::take_raised().unwrap_or_else(|| {
        Error::runtime_error(alloc::format!("{what} failed without raising an error"))
    })
}

/// A type attribute column, found once and then read without the runtime's lock.
pub(crate) struct Column {
    name: &'static str,
    cached: AtomicPtr<TVMFFITypeAttrColumn>,
}

impl Column {
    /// The column `name`.
    pub(crate) const fn new(name: &'static str) -> Self {
        Self { name, cached: AtomicPtr::new(ptr::null_mut()) }
    }

    fn get(&self) -> *const TVMFFITypeAttrColumn {
        let cached = self.cached.load(Ordering::Acquire);
        if !cached.is_null() {
            return cached;
        }
        let name = TVMFFIByteArray { data: self.name.as_ptr().cast(), size: self.name.len() };
        // SAFETY: `name` describes a live string; the runtime returns a column or null.
        let column = unsafe { api::TVMFFIGetTypeAttrColumn(&name) };
        if !column.is_null() {
            self.cached.store(column.cast_mut(), Ordering::Release);
        }
        column
    }

    /// The attribute of `index`; `None` when it has none (a `None` entry counts as none).
    pub(crate) fn attr(&self, index: TypeIndex) -> Option<AnyView<'static>> {
        // SAFETY: a non-null column stays valid for the process (columns are never freed);
        // its entries are read as the reference reads them, without a lock.
        let column = unsafe { self.get().as_ref() }?;
        let offset = index.0.checked_sub(column.begin_index)?;
        if offset < 0 || offset >= column.size || column.data.is_null() {
            return None;
        }
        // SAFETY: `0 <= offset < size` entries are readable; the table keeps the value alive
        // for the process.
        let entry = unsafe { AnyView::from_raw(column.data.add(offset as usize).read()) };
        (!entry.is_none()).then_some(entry)
    }
}

/// Whether a value of `actual` index matches a callback registered for `target`
/// (`RuntimeTypeIndexMatch`): the same index, `Any` (-1) for everything, `str`/`bytes` for
/// their inline forms too, `ffi.Object` for every object, else an ancestor object type.
pub(crate) fn type_index_match(actual: TypeIndex, target: TypeIndex) -> bool {
    if actual == target || target == TypeIndex::ANY {
        return true;
    }
    match target {
        TypeIndex::STR => return actual == TypeIndex::SMALL_STR,
        TypeIndex::BYTES => return actual == TypeIndex::SMALL_BYTES,
        TypeIndex::OBJECT => return actual.is_object(),
        _ => {}
    }
    if !actual.is_object() || !target.is_object() || actual.0 < target.0 {
        return false;
    }
    let (Ok(a), Ok(t)) = (type_info(actual), type_info(target)) else {
        return false;
    };
    if a.type_depth <= t.type_depth || a.type_ancestors.is_null() {
        return false;
    }
    let Ok(depth) = usize::try_from(t.type_depth) else { return false };
    // SAFETY: `type_ancestors` holds `type_depth` live entries, and `depth < type_depth`.
    let ancestor = unsafe { (*a.type_ancestors.add(depth)).as_ref() };
    ancestor.is_some_and(|anc| anc.type_index == target.0)
}
