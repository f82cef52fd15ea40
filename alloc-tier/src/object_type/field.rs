//! Reflected fields of Rust-defined object types: the Rust types a field may have
//! ([`FieldType`]), storage that may change while the object is shared ([`FieldCell`]), and
//! the description of one field ([`Field`], made by [`field!`](crate::field!)).
//!
//! A reflected field is read and written by C, C++ and Python through two C functions the
//! type info carries (`TVMFFIFieldGetter`, `TVMFFIFieldSetter`), given the field's address.
//! This module generates both for every field type:
//!
//! - a plain field (`x: i64`, `name: String`) is read by cloning it into an [`Any`]; its
//!   setter overwrites it and may only run while nobody else uses the object (the
//!   reference's contract for `FieldSetter`: the built-in `__ffi_init__` and `ffi.DeepCopy`
//!   write fields of objects they have just made, which is when they call it);
//! - a [`FieldCell`] (`y: FieldCell<f64>`) may also be written while the object is shared:
//!   its getter, setter and Rust methods go through a lock, so a field that Python may set
//!   (`def_rw`) is a cell.
//!
//! The field types and their `field_static_type_index` follow the reference's
//! `TypeTraits<T>::field_static_type_index`: `int`, `float`, `bool`, `DataType` and
//! `Device` name their POD index, `ffi.Function`, `ffi.Shape`, `ffi.Array` and `ffi.List`
//! theirs, other object references `ffi.Object` (64), and values that may be held inline
//! or as an object (strings, bytes, big integers, `Any`, optionals) `Any` (-1).

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::ffi::{c_int, c_void};
use core::marker::PhantomData;

use tvmffi_core::flags::FieldFlags;
use tvmffi_core::sys::{TVMFFIAny, TVMFFIFieldGetter, TVMFFIFieldSetter};
use tvmffi_core::{Any, AnyView, DataType, Device, ObjectRef, ObjectType, TypeIndex};

use super::FieldCell;

use crate::error::Error;
use crate::function::{AbortOnPanic, Function, TypeStr, c_boundary};
use crate::typed;

/// A Rust type that a reflected field may have: it converts to and from an [`Any`] and
/// names itself in type schemas.
///
/// Implemented for integers up to 32 bits and `i64`, `f32`, `f64`, `bool`, [`DataType`],
/// [`Device`], [`Any`], the FFI strings, bytes, big integers, shapes, tensors, functions,
/// errors, containers (untyped and typed), object references and `Option`s of them.
///
/// [`get_any`](Self::get_any) runs while a [`FieldCell`]'s lock is held: it must not touch
/// another cell (the implementations here only count references).
pub trait FieldType: TypeStr + Send + Sync + Sized + 'static {
    /// The reference's `field_static_type_index` of the type: a hint for readers (the
    /// Python package picks a converter by it), not the runtime type of the value.
    const STATIC_TYPE_INDEX: TypeIndex;

    /// The value as an owned [`Any`] (a new reference for objects).
    fn get_any(&self) -> Any;

    /// The value that `view` holds, or the reference's `TypeError` for a failed cast.
    fn from_view(view: AnyView<'_>) -> Result<Self, Error>;
}

/// Field types that are plain values: cloned out, converted in with [`typed::cast`].
macro_rules! field_types {
    ($($t:ty => $index:ident),* $(,)?) => {$(
        impl FieldType for $t {
            const STATIC_TYPE_INDEX: TypeIndex = TypeIndex::$index;

            #[inline]
            fn get_any(&self) -> Any {
                Any::from(self.clone())
            }

            fn from_view(view: AnyView<'_>) -> Result<Self, Error> {
                typed::cast::<$t>(view)
            }
        }
    )*};
}

field_types! {
    i8 => INT, i16 => INT, i32 => INT, i64 => INT, u8 => INT, u16 => INT, u32 => INT,
    f32 => FLOAT, f64 => FLOAT, bool => BOOL, DataType => DATA_TYPE, Device => DEVICE,
    crate::String => ANY, crate::Bytes => ANY, crate::BigInt => ANY,
    Function => FUNCTION, crate::Shape => SHAPE, crate::Array => ARRAY, crate::List => LIST,
    crate::Map => OBJECT, crate::Dict => OBJECT, crate::Tensor => OBJECT, Error => OBJECT,
}

impl FieldType for Any {
    const STATIC_TYPE_INDEX: TypeIndex = TypeIndex::ANY;

    #[inline]
    fn get_any(&self) -> Any {
        self.clone()
    }

    fn from_view(view: AnyView<'_>) -> Result<Self, Error> {
        Ok(view.to_owned()?)
    }
}

impl<T: ObjectType + Send + Sync + 'static> FieldType for ObjectRef<T> {
    const STATIC_TYPE_INDEX: TypeIndex = TypeIndex::OBJECT;

    #[inline]
    fn get_any(&self) -> Any {
        Any::from(self.clone())
    }

    fn from_view(view: AnyView<'_>) -> Result<Self, Error> {
        typed::cast::<Self>(view)
    }
}

impl<T: FieldType + for<'a> tvmffi_core::FromAnyView<'a> + Clone> FieldType for typed::Array<T> {
    const STATIC_TYPE_INDEX: TypeIndex = TypeIndex::ARRAY;

    #[inline]
    fn get_any(&self) -> Any {
        Any::from(self.clone())
    }

    fn from_view(view: AnyView<'_>) -> Result<Self, Error> {
        typed::cast::<Self>(view)
    }
}

impl<T: FieldType + for<'a> tvmffi_core::FromAnyView<'a> + Clone> FieldType for typed::List<T> {
    const STATIC_TYPE_INDEX: TypeIndex = TypeIndex::LIST;

    #[inline]
    fn get_any(&self) -> Any {
        Any::from(self.clone())
    }

    fn from_view(view: AnyView<'_>) -> Result<Self, Error> {
        typed::cast::<Self>(view)
    }
}

/// `None` or the value (the reference's `Optional<T>`).
impl<T: FieldType> FieldType for Option<T> {
    const STATIC_TYPE_INDEX: TypeIndex = TypeIndex::ANY;

    #[inline]
    fn get_any(&self) -> Any {
        self.as_ref().map_or_else(Any::none, T::get_any)
    }

    fn from_view(view: AnyView<'_>) -> Result<Self, Error> {
        if view.is_none() {
            return Ok(None);
        }
        T::from_view(view).map(Some).map_err(|e| {
            if e.kind() == crate::error::kind::TYPE_ERROR {
                Error::type_error(format!(
                    "Cannot convert from type `{}` to `{}`",
                    T::mismatch_type_info(view),
                    Self::type_str()
                ))
            } else {
                e
            }
        })
    }
}

mod sealed {
    pub trait Sealed {}
    impl<T: super::FieldType> Sealed for T {}
    impl<T: super::FieldType> Sealed for super::FieldCell<T> {}
}

/// How a field is stored: plainly (any [`FieldType`]) or in a [`FieldCell`]. Gives the
/// getter and setter that the type info carries. Implemented by this crate only.
pub trait FieldStorage: sealed::Sealed + Send + Sync + 'static {
    /// The type of the value.
    type Value: FieldType;

    /// Whether the field may be written while its object is shared (a [`FieldCell`]).
    const SHARED_WRITE: bool;

    /// Reads the field (`TVMFFIFieldGetter`).
    const GETTER: TVMFFIFieldGetter;

    /// Writes the field (`TVMFFIFieldSetter`).
    const SETTER: TVMFFIFieldSetter;
}

impl<T: FieldType> FieldStorage for T {
    type Value = T;
    const SHARED_WRITE: bool = false;
    const GETTER: TVMFFIFieldGetter = get_plain::<T>;
    const SETTER: TVMFFIFieldSetter = set_plain::<T>;
}

impl<T: FieldType> FieldStorage for FieldCell<T> {
    type Value = T;
    const SHARED_WRITE: bool = true;
    const GETTER: TVMFFIFieldGetter = get_cell::<T>;
    const SETTER: TVMFFIFieldSetter = set_cell::<T>;
}

fn null_pointer() -> Error {
    Error::value_error("field accessor called with a null pointer")
}

/// The getter of a plain field of type `T`.
///
/// # Safety
///
/// `field` points to a live `T` that nobody writes during the call; `result` is writable.
unsafe extern "C" fn get_plain<T: FieldType>(field: *mut c_void, result: *mut TVMFFIAny) -> c_int {
    c_boundary::<AbortOnPanic>(|| {
        // SAFETY: the caller's promise; null pointers are refused.
        let value = unsafe { field.cast::<T>().as_ref() }.ok_or_else(null_pointer)?.get_any();
        if result.is_null() {
            return Err(null_pointer());
        }
        // SAFETY: `result` is writable (the caller's promise) and not null.
        unsafe { result.write(value.into_raw()) };
        Ok(())
    })
}

/// The setter of a plain field of type `T`: converts, then overwrites.
///
/// # Safety
///
/// `field` points to a live `T` that nobody else reads or writes during the call (the
/// object is not shared, or its users wait); `value` is a valid view.
unsafe extern "C" fn set_plain<T: FieldType>(field: *mut c_void, value: *const TVMFFIAny) -> c_int {
    c_boundary::<AbortOnPanic>(|| {
        // SAFETY: the caller's promise; null is refused.
        let view = unsafe { value.as_ref() }.ok_or_else(null_pointer)?;
        // SAFETY: a valid view (the caller's promise).
        let new = T::from_view(unsafe { AnyView::from_raw(*view) })?;
        let field = field.cast::<T>();
        if field.is_null() {
            return Err(null_pointer());
        }
        // SAFETY: exclusive access to a live `T` (the caller's promise); the old value is
        // moved out and dropped.
        drop(unsafe { core::ptr::replace(field, new) });
        Ok(())
    })
}

/// The getter of a [`FieldCell<T>`].
///
/// # Safety
///
/// `field` points to a live `FieldCell<T>`; `result` is writable.
unsafe extern "C" fn get_cell<T: FieldType>(field: *mut c_void, result: *mut TVMFFIAny) -> c_int {
    c_boundary::<AbortOnPanic>(|| {
        // SAFETY: the caller's promise; null is refused.
        let cell = unsafe { field.cast::<FieldCell<T>>().as_ref() }.ok_or_else(null_pointer)?;
        // SAFETY: the lock gives sole access while the value is read.
        let value = cell.locked(|v| unsafe { (*v).get_any() });
        if result.is_null() {
            return Err(null_pointer());
        }
        // SAFETY: `result` is writable (the caller's promise) and not null.
        unsafe { result.write(value.into_raw()) };
        Ok(())
    })
}

/// The setter of a [`FieldCell<T>`]: converts, then swaps under the cell's lock.
///
/// # Safety
///
/// `field` points to a live `FieldCell<T>`; `value` is a valid view.
unsafe extern "C" fn set_cell<T: FieldType>(field: *mut c_void, value: *const TVMFFIAny) -> c_int {
    c_boundary::<AbortOnPanic>(|| {
        // SAFETY: the caller's promise; null is refused.
        let view = unsafe { value.as_ref() }.ok_or_else(null_pointer)?;
        // SAFETY: a valid view (the caller's promise).
        let new = T::from_view(unsafe { AnyView::from_raw(*view) })?;
        // SAFETY: the caller's promise; null is refused.
        let cell = unsafe { field.cast::<FieldCell<T>>().as_ref() }.ok_or_else(null_pointer)?;
        cell.set(new);
        Ok(())
    })
}

/// A metadata value of a field or method: the reference allows integers, booleans and
/// strings (`Metadata::ToJSON`).
#[derive(Debug, Clone, PartialEq)]
pub enum MetaValue {
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
    /// A string.
    Str(Cow<'static, str>),
}

impl From<i64> for MetaValue {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}

impl From<i32> for MetaValue {
    fn from(v: i32) -> Self {
        Self::Int(v.into())
    }
}

impl From<bool> for MetaValue {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}

impl From<&'static str> for MetaValue {
    fn from(v: &'static str) -> Self {
        Self::Str(Cow::Borrowed(v))
    }
}

impl From<String> for MetaValue {
    fn from(v: String) -> Self {
        Self::Str(Cow::Owned(v))
    }
}

/// Documentation and metadata of a field or a method.
#[derive(Debug, Clone, Default)]
pub struct Info {
    pub(super) doc: Option<Cow<'static, str>>,
    pub(super) metadata: Vec<(Cow<'static, str>, MetaValue)>,
}

impl Info {
    /// No doc, no metadata.
    pub const fn new() -> Self {
        Self { doc: None, metadata: Vec::new() }
    }

    /// Set the docstring.
    pub fn doc(mut self, doc: impl Into<Cow<'static, str>>) -> Self {
        self.doc = Some(doc.into());
        self
    }

    /// Add a metadata entry (after the `type_schema` the registration puts first).
    pub fn metadata(
        mut self,
        key: impl Into<Cow<'static, str>>,
        value: impl Into<MetaValue>,
    ) -> Self {
        self.metadata.push((key.into(), value.into()));
        self
    }

    /// The metadata JSON (`Metadata::ToJSON`): `type_schema` first, then the entries.
    pub(super) fn json(&self, type_schema: &str) -> String {
        use crate::function::schema::json_string;
        let mut out = format!(r#"{{"type_schema":{}"#, json_string(type_schema));
        for (key, value) in &self.metadata {
            out.push_str(&format!(",\"{key}\":"));
            match value {
                MetaValue::Int(v) => out.push_str(&format!("{v}")),
                MetaValue::Bool(v) => out.push_str(if *v { "true" } else { "false" }),
                MetaValue::Str(v) => out.push_str(&json_string(v)),
            }
        }
        out.push('}');
        out
    }
}

/// One reflected field of the Rust type `T`, stored as `S` (a [`FieldType`] or a
/// [`FieldCell`]): its name, where it is, and the traits the reference attaches with
/// `def_ro`/`def_rw` arguments (doc, default, flags, metadata).
///
/// Made by [`field!`](crate::field!), which takes the offset and the type from the field
/// itself; registered by [`Reflect::def_ro`](super::Reflect::def_ro) or
/// [`def_rw`](super::Reflect::def_rw).
pub struct Field<T, S> {
    pub(super) name: Cow<'static, str>,
    /// Offset of the field inside `T` (the payload), not yet inside the object.
    pub(super) offset: usize,
    pub(super) info: Info,
    pub(super) flags: FieldFlags,
    pub(super) default: Option<Any>,
    pub(super) schema: Option<String>,
    _types: PhantomData<fn(&T) -> &S>,
}

impl<T, S> core::fmt::Debug for Field<T, S> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Field")
            .field("name", &self.name)
            .field("offset", &self.offset)
            .field("flags", &self.flags)
            .finish_non_exhaustive()
    }
}

impl<T, S: FieldStorage> Field<T, S> {
    /// The field named `name`, `offset` bytes into `T`. Use [`field!`](crate::field!).
    ///
    /// # Safety
    ///
    /// `offset` is the offset of a field of type `S` inside `T` (what `offset_of!` gives
    /// for the field that `_witness` borrows).
    #[doc(hidden)]
    pub unsafe fn __new(
        name: impl Into<Cow<'static, str>>,
        offset: usize,
        _witness: fn(&T) -> &S,
    ) -> Self {
        Self {
            name: name.into(),
            offset,
            info: Info::new(),
            flags: FieldFlags(0),
            default: None,
            schema: None,
            _types: PhantomData,
        }
    }

    /// Set the docstring.
    pub fn doc(mut self, doc: impl Into<Cow<'static, str>>) -> Self {
        self.info = self.info.doc(doc);
        self
    }

    /// Add a metadata entry (an integer, boolean or string).
    pub fn metadata(
        mut self,
        key: impl Into<Cow<'static, str>>,
        value: impl Into<MetaValue>,
    ) -> Self {
        self.info = self.info.metadata(key, value);
        self
    }

    /// The value the generated `__ffi_init__` uses when the argument is not given
    /// (`refl::default_value`).
    pub fn default(mut self, value: impl Into<Any>) -> Self {
        self.default = Some(value.into());
        self.flags = FieldFlags(
            (self.flags | FieldFlags::HAS_DEFAULT).0 & !FieldFlags::DEFAULT_FROM_FACTORY.0,
        );
        self
    }

    /// A function of no arguments called for a fresh default each time
    /// (`refl::default_factory`), for mutable defaults such as lists.
    pub fn default_factory(mut self, factory: Function) -> Self {
        self.default = Some(Any::from(factory));
        self.flags |= FieldFlags::HAS_DEFAULT | FieldFlags::DEFAULT_FROM_FACTORY;
        self
    }

    fn flag(mut self, flag: FieldFlags, on: bool) -> Self {
        if on {
            self.flags |= flag;
        } else {
            self.flags = FieldFlags(self.flags.0 & !flag.0);
        }
        self
    }

    /// Whether the field shows in `ffi.ReprPrint` (`refl::repr`; default yes).
    pub fn repr(self, show: bool) -> Self {
        self.flag(FieldFlags::REPR_OFF, !show)
    }

    /// Whether recursive comparison looks at the field (`refl::compare`; default yes).
    pub fn compare(self, include: bool) -> Self {
        self.flag(FieldFlags::COMPARE_OFF, !include)
    }

    /// Whether recursive hashing looks at the field (`refl::hash`; default yes).
    pub fn hash(self, include: bool) -> Self {
        self.flag(FieldFlags::HASH_OFF, !include)
    }

    /// Whether the generated `__ffi_init__` takes the field (`refl::init`; default yes).
    pub fn init(self, include: bool) -> Self {
        self.flag(FieldFlags::INIT_OFF, !include)
    }

    /// Whether the generated `__ffi_init__` takes the field by keyword only
    /// (`refl::kw_only`; default no).
    pub fn kw_only(self, kw_only: bool) -> Self {
        self.flag(FieldFlags::KW_ONLY, kw_only)
    }

    /// Use `schema` as the field's type schema in its metadata, in place of its Rust
    /// type's: for a field typed more precisely in C++ than in Rust (a `List` of objects
    /// is `{"type":"ffi.List","args":[{"type":"ffi.Object"}]}`).
    pub fn type_schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// Add flags (e.g. [`FieldFlags::SEQ_HASH_IGNORE`], [`FieldFlags::SEQ_HASH_DEF_PATTERN`],
    /// the reference's `AttachFieldFlag`). The registration decides `WRITABLE`, and the
    /// default methods the default flags.
    pub fn flags(mut self, flags: FieldFlags) -> Self {
        self.flags |= flags;
        self
    }
}

/// Describe a field of a Rust-defined object type for
/// [`Reflect::def_ro`](crate::object_type::Reflect::def_ro) or
/// [`def_rw`](crate::object_type::Reflect::def_rw): `field!(Type, name)` is the field
/// `name`, reflected under the same name; `field!(Type, path.to.field, "name")` reaches
/// into nested structs (a parent's payload) and names the field explicitly.
///
/// The offset comes from `core::mem::offset_of!` and the type from the field itself, so a
/// field cannot be described with the wrong type or place.
///
/// ```
/// use tvmffi_alloc::object_type::{FieldCell, ObjectRoot};
///
/// #[repr(C)]
/// struct Point {
///     x: i64,
///     y: FieldCell<f64>,
/// }
/// tvmffi_alloc::object_type! {
///     // SAFETY: the key is unique to this example.
///     unsafe impl ObjectDef for Point { type_key = "example.field.Point"; parent = ObjectRoot; }
/// }
///
/// let x = tvmffi_alloc::field!(Point, x).doc("The x coordinate.");
/// let y = tvmffi_alloc::field!(Point, y, "ordinate").default(0.0);
/// # let _ = (x, y);
/// ```
#[macro_export]
macro_rules! field {
    ($ty:ty, $field:ident $(,)?) => {
        $crate::field!($ty, $field, ::core::stringify!($field))
    };
    ($ty:ty, $($path:ident).+, $name:expr $(,)?) => {{
        let name = $name;
        let offset = ::core::mem::offset_of!($ty, $($path).+);
        let witness: fn(&$ty) -> &_ = |this| &this.$($path).+;
        // SAFETY: the offset and the witness name the same field of the same type.
        unsafe { $crate::object_type::Field::__new(name, offset, witness) }
    }};
}
