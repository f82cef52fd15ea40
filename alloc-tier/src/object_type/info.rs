//! The reflection of any registered type, read through the C API (`TVMFFIGetTypeInfo`,
//! `TVMFFIGetTypeAttrColumn`) whoever registered it (C++, Rust, Python): the reference's
//! `ForEachFieldInfo`, `FieldGetter`, `FieldSetter`, `CallFieldSetterToDefault`,
//! `TypeAttrColumn` and `CreateEmptyObject` (`reflection/accessor.h`, `creator.h`).
//!
//! Type infos live as long as the runtime's table (the process). As in the reference, a
//! type's field and method arrays are only stable once its registration is done: read
//! them after types are defined, not while they are.
//!
//! ```
//! # #[cfg(feature = "runtime")] {
//! use tvmffi_alloc::object_type::info::{TypeInfo, type_attr};
//! use tvmffi_core::TypeIndex;
//!
//! let array = TypeInfo::of(TypeIndex::ARRAY).unwrap();
//! assert_eq!(array.key(), "ffi.Array");
//! assert_eq!(array.depth(), 1);
//! assert!(type_attr("__ffi_convert__", TypeIndex::ARRAY).is_some());
//! # }
//! ```

use alloc::format;
use core::ffi::c_void;

use tvmffi_core::flags::FieldFlags;
use tvmffi_core::sys::{
    TVMFFIAny, TVMFFIByteArray, TVMFFIFieldInfo, TVMFFIFieldSetter, TVMFFIMethodInfo, TVMFFIObject,
    TVMFFITypeAttrColumn, TVMFFITypeInfo, TVMFFITypeMetadata, api,
};
use tvmffi_core::{Any, AnyView, FromAnyView, ObjectHeader, ObjectRef, TypeIndex};

use crate::error::{Error, bytes_of};
use crate::function::Function;

fn text(arr: &TVMFFIByteArray) -> &'static str {
    // SAFETY: strings in type infos live as long as the table and never change.
    let bytes: &'static [u8] = unsafe { bytes_of(arr) }.unwrap_or_default();
    core::str::from_utf8(bytes).unwrap_or_default()
}

fn raised(what: &str) -> Error {
    Error::take_raised().unwrap_or_else(|| Error::runtime_error(format!("{what} failed")))
}

/// A registered type's information (`TVMFFITypeInfo`).
#[derive(Clone, Copy)]
pub struct TypeInfo {
    raw: &'static TVMFFITypeInfo,
}

// SAFETY: the four wrappers below point at type-table entries, which live as long as the
// process and are not changed once the type is registered (the reference's contract too),
// so any thread may read them.
unsafe impl Send for TypeInfo {}
// SAFETY: as above.
unsafe impl Sync for TypeInfo {}
// SAFETY: as above.
unsafe impl Send for FieldInfo {}
// SAFETY: as above.
unsafe impl Sync for FieldInfo {}
// SAFETY: as above.
unsafe impl Send for MethodInfo {}
// SAFETY: as above.
unsafe impl Sync for MethodInfo {}
// SAFETY: as above; a column's values are registered once and never replaced.
unsafe impl Send for AttrColumn {}
// SAFETY: as above.
unsafe impl Sync for AttrColumn {}

impl core::fmt::Debug for TypeInfo {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TypeInfo")
            .field("index", &self.index())
            .field("key", &self.key())
            .finish_non_exhaustive()
    }
}

impl TypeInfo {
    /// The information of `index`, or `None` if no type has it.
    pub fn of(index: TypeIndex) -> Option<Self> {
        // SAFETY: the runtime returns null or an entry that lives as long as the process.
        let raw = unsafe { api::TVMFFIGetTypeInfo(index.0).as_ref() };
        if raw.is_none() {
            // A miss may leave an error behind; nobody asked for it.
            drop(Error::take_raised());
        }
        raw.map(|raw| Self { raw })
    }

    /// The information of the type registered as `key`.
    pub fn of_key(key: &str) -> Option<Self> {
        let arr = TVMFFIByteArray { data: key.as_ptr().cast(), size: key.len() };
        let mut index = -1;
        // SAFETY: `arr` describes a live string and `index` is writable.
        if unsafe { api::TVMFFITypeKeyToIndex(&arr, &mut index) } != 0 {
            drop(Error::take_raised());
            return None;
        }
        Self::of(TypeIndex(index))
    }

    /// The C struct.
    pub fn raw(&self) -> &'static TVMFFITypeInfo {
        self.raw
    }

    /// The type index.
    pub fn index(&self) -> TypeIndex {
        TypeIndex(self.raw.type_index)
    }

    /// The type key (empty if it is not UTF-8).
    pub fn key(&self) -> &'static str {
        text(&self.raw.type_key)
    }

    /// The hash of the key the runtime stores (`type_key_hash`).
    pub fn key_hash(&self) -> u64 {
        self.raw.type_key_hash
    }

    /// The depth in the type tree: 0 for `ffi.Object` and values, 1 for its children.
    pub fn depth(&self) -> i32 {
        self.raw.type_depth
    }

    /// The ancestor at `depth` (0 is the root), if `depth` is below this type's.
    pub fn ancestor(&self, depth: i32) -> Option<TypeInfo> {
        if depth < 0 || depth >= self.raw.type_depth || self.raw.type_ancestors.is_null() {
            return None;
        }
        let i = usize::try_from(depth).ok()?;
        // SAFETY: `type_ancestors` holds `type_depth` live entries.
        let raw = unsafe { (*self.raw.type_ancestors.add(i)).as_ref() }?;
        Some(Self { raw })
    }

    /// The parent type.
    pub fn parent(&self) -> Option<TypeInfo> {
        self.ancestor(self.depth() - 1)
    }

    /// Whether this type is `other` or derives from it.
    pub fn is_subtype_of(&self, other: TypeInfo) -> bool {
        self.index() == other.index()
            || self.ancestor(other.depth()).is_some_and(|a| a.index() == other.index())
    }

    /// The type's metadata, if registered.
    pub fn metadata(&self) -> Option<&'static TVMFFITypeMetadata> {
        // SAFETY: null or a live entry of the table.
        unsafe { self.raw.metadata.as_ref() }
    }

    /// The fields this type registered itself, in order.
    pub fn own_fields(&self) -> impl Iterator<Item = FieldInfo> + Clone + use<> {
        let owner = self.index();
        self.own_field_infos().iter().map(move |raw| FieldInfo { raw, owner })
    }

    fn own_field_infos(&self) -> &'static [TVMFFIFieldInfo] {
        let n = usize::try_from(self.raw.num_fields).unwrap_or(0);
        if n == 0 || self.raw.fields.is_null() {
            return &[];
        }
        // SAFETY: `fields` holds `num_fields` entries of the table.
        unsafe { core::slice::from_raw_parts(self.raw.fields, n) }
    }

    /// Every field of the type: its ancestors' (from the root down, skipping `ffi.Object`)
    /// then its own, as `ForEachFieldInfo` visits them.
    pub fn fields(&self) -> impl Iterator<Item = FieldInfo> + Clone + use<> {
        let this = *self;
        let owner = self.index();
        (1..self.depth())
            .filter_map(move |d| this.ancestor(d))
            .chain(core::iter::once(this))
            .flat_map(move |t| t.own_field_infos().iter().map(move |raw| FieldInfo { raw, owner }))
    }

    /// The field named `name` (the last one of that name, as a subclass's shadows).
    pub fn field(&self, name: &str) -> Option<FieldInfo> {
        self.fields().filter(|f| f.name_bytes() == name.as_bytes()).last()
    }

    /// The methods this type registered, in order.
    pub fn methods(&self) -> impl Iterator<Item = MethodInfo> + Clone + use<> {
        let n = usize::try_from(self.raw.num_methods).unwrap_or(0);
        let methods: &'static [TVMFFIMethodInfo] = if n == 0 || self.raw.methods.is_null() {
            &[]
        } else {
            // SAFETY: `methods` holds `num_methods` entries of the table.
            unsafe { core::slice::from_raw_parts(self.raw.methods, n) }
        };
        methods.iter().map(|raw| MethodInfo { raw })
    }

    /// The method named `name`.
    pub fn method(&self, name: &str) -> Option<MethodInfo> {
        self.methods().find(|m| m.name() == name)
    }
}

/// One reflected field (`TVMFFIFieldInfo`), as seen from the type it was listed for.
#[derive(Clone, Copy)]
pub struct FieldInfo {
    raw: &'static TVMFFIFieldInfo,
    /// The type whose field list held it: objects of it or its subtypes have the field.
    owner: TypeIndex,
}

impl core::fmt::Debug for FieldInfo {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FieldInfo")
            .field("name", &self.name())
            .field("offset", &self.raw.offset)
            .field("flags", &self.flags())
            .finish_non_exhaustive()
    }
}

impl FieldInfo {
    /// The C struct.
    pub fn raw(&self) -> &'static TVMFFIFieldInfo {
        self.raw
    }

    /// The name (empty if it is not UTF-8).
    pub fn name(&self) -> &'static str {
        text(&self.raw.name)
    }

    /// The name's bytes.
    pub fn name_bytes(&self) -> &'static [u8] {
        // SAFETY: strings in type infos live as long as the table.
        unsafe { bytes_of(&self.raw.name) }.unwrap_or_default()
    }

    /// The docstring (empty if none).
    pub fn doc(&self) -> &'static str {
        text(&self.raw.doc)
    }

    /// The metadata JSON (empty if none).
    pub fn metadata(&self) -> &'static str {
        text(&self.raw.metadata)
    }

    /// The flags.
    pub fn flags(&self) -> FieldFlags {
        FieldFlags(self.raw.flags)
    }

    /// The declared type's static index.
    pub fn static_type_index(&self) -> TypeIndex {
        TypeIndex(self.raw.field_static_type_index)
    }

    /// The default value, or the default factory when the flags say so; `None` without a
    /// default.
    pub fn default_value(&self) -> Option<AnyView<'static>> {
        if !self.flags().contains(FieldFlags::HAS_DEFAULT) {
            return None;
        }
        // SAFETY: the table keeps the default alive as long as the entry.
        Some(unsafe { AnyView::from_raw(self.raw.default_value_or_factory) })
    }

    fn check_owner(&self, obj: &ObjectRef<ObjectHeader>) -> Result<(), Error> {
        let actual = obj.type_index();
        if actual == self.owner {
            return Ok(());
        }
        let fits = TypeInfo::of(actual)
            .zip(TypeInfo::of(self.owner))
            .is_some_and(|(a, owner)| a.is_subtype_of(owner));
        if fits {
            return Ok(());
        }
        Err(Error::type_error(format!(
            "field `{}` of `{}` read on an object of type `{}`",
            self.name(),
            super::type_key(self.owner),
            super::type_key(actual)
        )))
    }

    fn address(&self, obj: *const TVMFFIObject) -> Result<*mut c_void, Error> {
        let offset = usize::try_from(self.raw.offset).map_err(|_| {
            Error::value_error(format!("field `{}` has a negative offset", self.name()))
        })?;
        Ok(obj.cast::<u8>().cast_mut().wrapping_add(offset).cast())
    }

    /// Read the field of `obj` through its getter (the reference's `FieldGetter`). `obj`
    /// must be of the type the field was listed for, or a subtype.
    pub fn get(&self, obj: &ObjectRef<ObjectHeader>) -> Result<Any, Error> {
        self.check_owner(obj)?;
        // SAFETY: the object has the field (checked above) and is alive.
        unsafe { self.get_raw(obj.as_raw()) }
    }

    /// Read the field of the object at `obj`.
    ///
    /// # Safety
    ///
    /// `obj` is a live object of the type the field was listed for, or a subtype.
    pub unsafe fn get_raw(&self, obj: *const TVMFFIObject) -> Result<Any, Error> {
        let getter = self.raw.getter.ok_or_else(|| {
            Error::runtime_error(format!("field `{}` has no getter", self.name()))
        })?;
        let mut out = TVMFFIAny::NONE;
        // SAFETY: the field lives at its offset in the object (the caller's promise); `out`
        // is writable.
        let rc = unsafe { getter(self.address(obj)?, &mut out) };
        if rc != 0 {
            return Err(raised("field getter"));
        }
        // SAFETY: a successful getter wrote an owned value.
        Ok(unsafe { Any::from_raw(out) })
    }

    /// Write the field of `obj` through its setter (the reference's `CallFieldSetter`:
    /// a C function, or a function object called with the field's address and the value).
    ///
    /// # Safety
    ///
    /// As for the reference's `FieldSetter`: nobody else reads or writes the field during
    /// the call, and no Rust reference into it is alive, unless its storage allows writes to
    /// shared objects (a writable field of a Rust type, a Python-defined field).
    pub unsafe fn set(
        &self,
        obj: &ObjectRef<ObjectHeader>,
        value: AnyView<'_>,
    ) -> Result<(), Error> {
        self.check_owner(obj)?;
        let addr = self.address(obj.as_raw())?;
        if self.flags().contains(FieldFlags::SETTER_IS_FUNCTION_OBJ) {
            // SAFETY: the flag says the setter is a live function object kept by the table.
            let setter = unsafe {
                ObjectRef::<ObjectHeader>::from_raw_borrowed(self.raw.setter.cast::<TVMFFIObject>())
            }
            .ok_or_else(|| {
                Error::runtime_error(format!("field `{}` has no setter", self.name()))
            })?;
            let setter = Function::from_any_view(AnyView::from(&setter))?;
            return setter.call(&[AnyView::from(addr), value]).map(drop);
        }
        if self.raw.setter.is_null() {
            return Err(Error::runtime_error(format!("field `{}` has no setter", self.name())));
        }
        // SAFETY: without the flag, the setter is a `TVMFFIFieldSetter`.
        let setter: TVMFFIFieldSetter = unsafe { core::mem::transmute(self.raw.setter) };
        // SAFETY: the field lives at `addr`; exclusivity is the caller's promise.
        if unsafe { setter(addr, value.as_raw()) } != 0 {
            return Err(raised("field setter"));
        }
        Ok(())
    }

    /// Set the field of `obj` to its default, calling the factory if it has one (the
    /// reference's `SetFieldToDefault`). A field without a default is left alone.
    ///
    /// # Safety
    ///
    /// As for [`set`](Self::set).
    pub unsafe fn set_to_default(&self, obj: &ObjectRef<ObjectHeader>) -> Result<(), Error> {
        let Some(default) = self.default_value() else {
            return Ok(());
        };
        if self.flags().contains(FieldFlags::DEFAULT_FROM_FACTORY) {
            let factory = Function::from_any_view(default)?;
            let value = factory.call(&[])?;
            // SAFETY: the caller's promise.
            return unsafe { self.set(obj, value.view()) };
        }
        // SAFETY: the caller's promise.
        unsafe { self.set(obj, default) }
    }
}

/// One reflected method (`TVMFFIMethodInfo`).
#[derive(Clone, Copy)]
pub struct MethodInfo {
    raw: &'static TVMFFIMethodInfo,
}

impl core::fmt::Debug for MethodInfo {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MethodInfo").field("name", &self.name()).finish_non_exhaustive()
    }
}

impl MethodInfo {
    /// The C struct.
    pub fn raw(&self) -> &'static TVMFFIMethodInfo {
        self.raw
    }

    /// The name.
    pub fn name(&self) -> &'static str {
        text(&self.raw.name)
    }

    /// The docstring (empty if none).
    pub fn doc(&self) -> &'static str {
        text(&self.raw.doc)
    }

    /// The metadata JSON.
    pub fn metadata(&self) -> &'static str {
        text(&self.raw.metadata)
    }

    /// Whether it is a static method.
    pub fn is_static(&self) -> bool {
        FieldFlags(self.raw.flags).contains(FieldFlags::IS_STATIC_METHOD)
    }

    /// The function.
    pub fn function(&self) -> Result<Function, Error> {
        // SAFETY: the table keeps the method alive as long as the entry.
        Function::from_any_view(unsafe { AnyView::from_raw(self.raw.method) }).map_err(Error::from)
    }
}

/// A type attribute column (`TVMFFITypeAttrColumn`): one attribute of every type.
#[derive(Clone, Copy)]
pub struct AttrColumn {
    raw: &'static TVMFFITypeAttrColumn,
}

impl core::fmt::Debug for AttrColumn {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AttrColumn").finish_non_exhaustive()
    }
}

impl AttrColumn {
    /// The column named `name`, if any type has the attribute (or the column was made).
    pub fn of(name: &str) -> Option<Self> {
        let arr = TVMFFIByteArray { data: name.as_ptr().cast(), size: name.len() };
        // SAFETY: `arr` describes a live string; the column lives as long as the table.
        let raw = unsafe { api::TVMFFIGetTypeAttrColumn(&arr).as_ref() };
        if raw.is_none() {
            drop(Error::take_raised());
        }
        raw.map(|raw| Self { raw })
    }

    /// The attribute of `index`, or `None` (also when the stored value is `None`).
    pub fn get(&self, index: TypeIndex) -> Option<AnyView<'static>> {
        let offset = index.0.checked_sub(self.raw.begin_index)?;
        if offset < 0 || offset >= self.raw.size || self.raw.data.is_null() {
            return None;
        }
        // SAFETY: `data` holds `size` values; a stored value stays alive as long as the
        // table (attributes are never replaced), so the copied view stays valid.
        let view = unsafe { AnyView::from_ptr(self.raw.data.add(offset as usize)) };
        (!view.is_none()).then_some(view)
    }
}

/// The attribute `name` of the type `index` (the reference's `TypeAttrColumn(name)[index]`),
/// or `None`.
pub fn type_attr(name: &str, index: TypeIndex) -> Option<AnyView<'static>> {
    AttrColumn::of(name)?.get(index)
}

/// A new empty object of `info`'s type, from its creator or its `__ffi_new__` attribute
/// (the reference's `CreateEmptyObject`); fields hold what the creator put there.
pub fn create_empty_object(info: TypeInfo) -> Result<ObjectRef<ObjectHeader>, Error> {
    if let Some(creator) = info.metadata().and_then(|m| m.creator) {
        return super::reflect::call_creator(creator);
    }
    if let Some(new) = type_attr("__ffi_new__", info.index()) {
        if let Ok(new) = Function::from_any_view(new) {
            let obj = new.call(&[])?;
            return obj.get::<ObjectRef<ObjectHeader>>().map_err(|_| {
                Error::type_error(format!(
                    "`__ffi_new__` of `{}` returned `{}`, not an object",
                    info.key(),
                    super::type_key(obj.type_index())
                ))
            });
        }
    }
    Err(Error::runtime_error(format!(
        "Type `{}` does not support reflection creation (no native creator or __ffi_new__ type \
         attr)",
        info.key()
    )))
}

/// Whether objects of `info`'s type can be made empty (the reference's `HasCreator`).
pub fn has_creator(info: TypeInfo) -> bool {
    info.metadata().is_some_and(|m| m.creator.is_some())
        || type_attr("__ffi_new__", info.index())
            .is_some_and(|v| v.type_index() == TypeIndex::FUNCTION)
}
