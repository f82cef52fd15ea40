//! [`Reflect`]: the reflection of a Rust-defined object type, registered with the runtime
//! as the reference's `refl::ObjectDef<T>` registers a C++ type's (`reflection/registry.h`).
//!
//! A registration carries the type's metadata (doc, creator, total size, structural
//! equality kind), its fields (read-only or writable, with getters and setters generated
//! for their Rust types), methods, type attributes, and the attributes the reference's
//! `ObjectDef` adds by itself: `__ffi_shallow_copy__` (from `Clone`), `__ffi_new__` (from the
//! creator), the generated `__ffi_init__` (`ffi._RegisterFFIInit`, when the type has a
//! creator and no explicit init), and `__ffi_type_final__`.
//!
//! Two ways in:
//! - [`Reflect::register`], through the C API: for types registered by a program or a
//!   kernel library at run time, into whatever runtime hosts it;
//! - [`Reflect::register_into`], straight into a [`TypeTable`]: for the runtime's own
//!   built-in types, registered while the table is locked (the C API would wait for the
//!   start-up it is part of); the type's [`TypeIndexCache`](super::TypeIndexCache) gets the
//!   index the table gave it.

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::ffi::{c_int, c_void};
use core::marker::PhantomData;

use tvmffi_core::flags::{FieldFlags, SEqHashKind};
use tvmffi_core::sys::{
    TVMFFIAny, TVMFFIFieldGetter, TVMFFIFieldInfo, TVMFFIFieldSetter, TVMFFIMethodInfo,
    TVMFFIObject, TVMFFIObjectCreator, TVMFFIObjectHandle, TVMFFITypeMetadata,
};
use tvmffi_core::{Any, AnyView, Object, ObjectRef, Payload, TypeIndex};

use super::field::{Field, FieldStorage, FieldType, Info};
use super::target::{CApi, Table, Target, bytes, check};
use super::{ObjectDef, TypeAncestor};
use crate::error::Error;
use crate::function::{
    AbortOnPanic, Boundary, Function, PackedFn, TypeStr, TypedClosure, c_boundary,
};
use crate::runtime::TypeTable;

/// The name of the init method and attribute (`type_attr::kInit`).
pub const INIT: &str = "__ffi_init__";

/// A field waiting to be registered: everything `TVMFFIFieldInfo` needs, owned.
struct PendingField {
    name: Cow<'static, str>,
    doc: Option<Cow<'static, str>>,
    metadata: String,
    flags: FieldFlags,
    size: usize,
    alignment: usize,
    offset: usize,
    getter: TVMFFIFieldGetter,
    setter: TVMFFIFieldSetter,
    default: Option<Any>,
    static_type_index: TypeIndex,
}

/// A method waiting to be registered.
struct PendingMethod {
    name: Cow<'static, str>,
    doc: Option<Cow<'static, str>>,
    metadata: String,
    is_static: bool,
    function: Function,
}

/// The reflection of the Rust object type `T`, built up and then registered (the
/// reference's `refl::ObjectDef<T>`). `B` is the panic policy of the functions it makes
/// (methods, `__ffi_new__`, `__ffi_shallow_copy__`, the creator).
///
/// ```
/// # #[cfg(feature = "runtime")] {
/// use tvmffi_alloc::object_type::{self, FieldCell, ObjectRoot, Reflect};
/// use tvmffi_core::sys::api;
/// use tvmffi_core::{Any, Object, ObjectRef};
///
/// #[repr(C)]
/// #[derive(Clone, Default)]
/// struct Point {
///     x: i64,
///     y: FieldCell<f64>,
/// }
/// tvmffi_alloc::object_type! {
///     // SAFETY: the key is unique to this example.
///     unsafe impl ObjectDef for Point { type_key = "example.reflect.Point"; parent = ObjectRoot; }
/// }
///
/// let index = Reflect::<Point>::new()
///     .doc("A point.")
///     .default_creator()
///     .shallow_copy()
///     .def_ro(tvmffi_alloc::field!(Point, x).doc("The x coordinate."))
///     .def_rw(tvmffi_alloc::field!(Point, y).default(0.0))
///     .def("norm1", |p: ObjectRef<Object<Point>>| p.x as f64 + p.y.get().abs())
///     .register()
///     .unwrap();
///
/// // Read a field back as C and Python do: through the getter in the type info.
/// let p = object_type::new_object(Point { x: 3, y: FieldCell::new(-4.0) }).unwrap();
/// // SAFETY: the runtime returns a live entry for a registered index.
/// let info = unsafe { &*api::TVMFFIGetTypeInfo(index.0) };
/// // SAFETY: `fields` holds `num_fields` entries.
/// let x = unsafe { &*info.fields };
/// let mut out = Any::none().into_raw();
/// // SAFETY: the field lives `offset` bytes into the object; `out` is writable.
/// let rc = unsafe { (x.getter.unwrap())(p.as_raw().cast::<u8>().add(x.offset as usize).cast(), &mut out) };
/// assert_eq!(rc, 0);
/// // SAFETY: the getter wrote an owned value.
/// assert_eq!(unsafe { Any::from_raw(out) }.get::<i64>().unwrap(), 3);
/// # }
/// ```
pub struct Reflect<T, B = AbortOnPanic> {
    doc: Option<Cow<'static, str>>,
    seq_hash_kind: SEqHashKind,
    creator: Option<TVMFFIObjectCreator>,
    shallow_copy: Option<fn(TypeIndex) -> Function>,
    auto_init: bool,
    explicit_init: bool,
    fields: Vec<PendingField>,
    methods: Vec<PendingMethod>,
    attrs: Vec<(Cow<'static, str>, Any)>,
    _types: PhantomData<fn(T) -> B>,
}

impl<T: ObjectDef + Payload> Reflect<T, AbortOnPanic> {
    /// An empty reflection of `T`, whose functions abort on a panic (the `no_std` policy).
    pub fn new() -> Self {
        Self::with_boundary()
    }
}

impl<T: ObjectDef + Payload> Default for Reflect<T, AbortOnPanic> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, B> core::fmt::Debug for Reflect<T, B> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Reflect")
            .field("fields", &self.fields.len())
            .field("methods", &self.methods.len())
            .field("attrs", &self.attrs.len())
            .finish_non_exhaustive()
    }
}

impl<T: ObjectDef + Payload, B: Boundary> Reflect<T, B> {
    /// An empty reflection of `T` whose functions run under the panic policy `B`.
    pub fn with_boundary() -> Self {
        Self {
            doc: None,
            seq_hash_kind: SEqHashKind::UNSUPPORTED,
            creator: None,
            shallow_copy: None,
            auto_init: true,
            explicit_init: false,
            fields: Vec::new(),
            methods: Vec::new(),
            attrs: Vec::new(),
            _types: PhantomData,
        }
    }

    /// The type's docstring.
    pub fn doc(mut self, doc: impl Into<Cow<'static, str>>) -> Self {
        self.doc = Some(doc.into());
        self
    }

    /// How structural equality and hashing treat the type (`_type_s_eq_hash_kind`; default
    /// [`SEqHashKind::UNSUPPORTED`]).
    pub fn structural_eq_hash_kind(mut self, kind: SEqHashKind) -> Self {
        self.seq_hash_kind = kind;
        self
    }

    /// Objects are created empty with `T::default()`: the type gets a creator, hence
    /// `__ffi_new__`, and (unless an init is given or suppressed) the generated
    /// `__ffi_init__`, which sets fields through their setters.
    pub fn default_creator(mut self) -> Self
    where
        T: Default,
    {
        self.creator = Some(create_default::<T, B>);
        self
    }

    /// A creator written by hand (`TVMFFITypeMetadata::creator`).
    ///
    /// # Safety
    ///
    /// `creator` makes a new object of this type (with `T`'s layout) and hands over one
    /// strong reference, or raises an error and returns non-zero.
    pub unsafe fn creator(mut self, creator: TVMFFIObjectCreator) -> Self {
        self.creator = Some(creator);
        self
    }

    /// Register `__ffi_shallow_copy__` from `T::clone` (the reference does so for every
    /// copy-constructible class): used by `ffi.DeepCopy` and Python's `copy.copy`.
    pub fn shallow_copy(mut self) -> Self
    where
        T: Clone,
    {
        self.shallow_copy = Some(shallow_copy_function::<T, B>);
        self
    }

    /// Do not generate `__ffi_init__` (`refl::ObjectDef<T>(refl::init(false))`).
    pub fn no_auto_init(mut self) -> Self {
        self.auto_init = false;
        self
    }

    fn push_field<S: FieldStorage>(mut self, field: Field<T, S>, writable: bool) -> Self {
        let schema = field.schema.unwrap_or_else(<S::Value as TypeStr>::type_schema);
        let metadata = field.info.json(&schema);
        let mut flags = field.flags;
        if writable {
            flags |= FieldFlags::WRITABLE;
        }
        self.fields.push(PendingField {
            name: field.name,
            doc: field.info.doc,
            metadata,
            flags,
            size: core::mem::size_of::<S>(),
            alignment: core::mem::align_of::<S>(),
            offset: payload_offset::<T>().saturating_add(field.offset),
            getter: S::GETTER,
            setter: S::SETTER,
            default: field.default,
            static_type_index: <S::Value as FieldType>::STATIC_TYPE_INDEX,
        });
        self
    }

    /// A field that C++ and Python read but do not set (`def_ro`). It is still set while an
    /// object is being made (the generated `__ffi_init__`, `ffi.DeepCopy`).
    pub fn def_ro<S: FieldStorage>(self, field: Field<T, S>) -> Self {
        self.push_field(field, false)
    }

    /// A field that C++ and Python may set on shared objects (`def_rw`): its storage is a
    /// [`FieldCell`](super::FieldCell).
    pub fn def_rw<V: FieldType>(self, field: Field<T, super::FieldCell<V>>) -> Self {
        self.push_field(field, true)
    }

    fn push_method(
        mut self,
        name: impl Into<Cow<'static, str>>,
        is_static: bool,
        function: Function,
        type_schema: &str,
        info: Info,
    ) -> Self {
        self.methods.push(PendingMethod {
            name: name.into(),
            metadata: info.json(type_schema),
            doc: info.doc,
            is_static,
            function,
        });
        self
    }

    /// A typed function named `T.name` (its argument-conversion messages say so).
    fn typed<Args, R, F: TypedClosure<Args, R>>(name: &str, f: F) -> Function {
        let qualified = format!("{}.{name}", <T as ObjectDef>::TYPE_KEY);
        Function::from_packed_with::<B, _>(move |args: &[AnyView<'_>]| {
            f.call_packed(&qualified, args)
        })
    }

    /// A method: `f` takes the object first (`ObjectRef<Object<T>>`), then the arguments.
    pub fn def<Args, R, F: TypedClosure<Args, R>>(
        self,
        name: impl Into<Cow<'static, str>>,
        f: F,
    ) -> Self {
        self.def_with(name, f, Info::new())
    }

    /// A method with a docstring or metadata.
    pub fn def_with<Args, R, F: TypedClosure<Args, R>>(
        self,
        name: impl Into<Cow<'static, str>>,
        f: F,
        info: Info,
    ) -> Self {
        let name = name.into();
        let function = Self::typed(&name, f);
        self.push_method(name, false, function, &F::type_schema(), info)
    }

    /// A static method (`def_static`).
    pub fn def_static<Args, R, F: TypedClosure<Args, R>>(
        self,
        name: impl Into<Cow<'static, str>>,
        f: F,
    ) -> Self {
        self.def_static_with(name, f, Info::new())
    }

    /// A static method with a docstring or metadata.
    pub fn def_static_with<Args, R, F: TypedClosure<Args, R>>(
        self,
        name: impl Into<Cow<'static, str>>,
        f: F,
        info: Info,
    ) -> Self {
        let name = name.into();
        let function = Self::typed(&name, f);
        self.push_method(name, true, function, &F::type_schema(), info)
    }

    /// A method (or static method) taking packed arguments; its schema is a bare
    /// `ffi.Function`.
    pub fn def_packed(
        self,
        name: impl Into<Cow<'static, str>>,
        is_static: bool,
        f: impl PackedFn,
        info: Info,
    ) -> Self {
        let function = Function::from_packed_with::<B, _>(f);
        self.push_method(name, is_static, function, r#"{"type":"ffi.Function"}"#, info)
    }

    /// An explicit constructor (`def(refl::init<Args...>())`): the static method
    /// `__ffi_init__`, also stored as the type's `__ffi_init__` attribute, in place of the
    /// generated one.
    pub fn init<Args, R, F: TypedClosure<Args, R>>(mut self, f: F) -> Self {
        self.explicit_init = true;
        let function = Self::typed(INIT, f);
        self.push_method(INIT, true, function, &F::type_schema(), Info::new())
    }

    /// A type attribute (`def_type_attr`): `value` in the column `name` at this type.
    pub fn type_attr(mut self, name: impl Into<Cow<'static, str>>, value: impl Into<Any>) -> Self {
        self.attrs.push((name.into(), value.into()));
        self
    }

    /// Register through the C API, allocating the type index if needed; returns it.
    ///
    /// Fails (with the runtime's error) if the type already has reflection registered, or a
    /// field name repeats.
    pub fn register(self) -> Result<TypeIndex, Error> {
        let index = super::type_index::<T>()?;
        self.register_with(index, &mut CApi)?;
        Ok(index)
    }

    /// Register for `index`, the index [`type_index`](super::type_index) gave `T`, without
    /// asking for it again: for [`ObjectDef::on_register`], which runs while the index is
    /// being given out. Fails if `index` is not `T`'s type key.
    pub fn register_at(self, index: TypeIndex) -> Result<TypeIndex, Error> {
        let key = <T as ObjectDef>::TYPE_KEY;
        if super::type_key(index) != key {
            return Err(Error::runtime_error(format!("type index {} is not `{key}`'s", index.0)));
        }
        self.register_with(index, &mut CApi)?;
        Ok(index)
    }

    /// Register straight into `types`, as the runtime's start-up does for built-in types;
    /// `T`'s ancestors are registered there first if needed, and `T`'s index cache filled.
    pub fn register_into(self, types: &mut TypeTable) -> Result<TypeIndex, Error> {
        let index = table_index::<T>(types)?;
        self.register_with(index, &mut Table(types))?;
        Ok(index)
    }

    fn register_with(self, index: TypeIndex, target: &mut impl Target) -> Result<(), Error> {
        let doc = self.doc.as_deref().unwrap_or_default();
        let metadata = TVMFFITypeMetadata {
            doc: bytes(doc),
            creator: self.creator,
            total_size: i32::try_from(core::mem::size_of::<Object<T>>()).map_err(|_| {
                Error::value_error(format!("`{}` is too large", <T as ObjectDef>::TYPE_KEY))
            })?,
            structural_eq_hash_kind: self.seq_hash_kind,
        };
        target.metadata(index, &metadata)?;
        for f in &self.fields {
            let default = f.default.as_ref().map_or(TVMFFIAny::NONE, |d| *d.as_raw());
            let info = TVMFFIFieldInfo {
                name: bytes(&f.name),
                doc: bytes(f.doc.as_deref().unwrap_or_default()),
                metadata: bytes(&f.metadata),
                flags: f.flags.0,
                size: f.size as i64,
                alignment: f.alignment as i64,
                offset: f.offset as i64,
                getter: Some(f.getter),
                setter: f.setter as *mut c_void,
                default_value_or_factory: default,
                field_static_type_index: f.static_type_index.0,
            };
            target.field(index, &info)?;
        }
        for m in &self.methods {
            let info = TVMFFIMethodInfo {
                name: bytes(&m.name),
                doc: bytes(m.doc.as_deref().unwrap_or_default()),
                metadata: bytes(&m.metadata),
                flags: if m.is_static { FieldFlags::IS_STATIC_METHOD.0 } else { 0 },
                method: *AnyView::from(&m.function).as_raw(),
            };
            target.method(index, &info)?;
            if m.name == INIT && m.is_static {
                target.attr(index, INIT, AnyView::from(&m.function))?;
            }
        }
        for (name, value) in &self.attrs {
            target.attr(index, name, value.view())?;
        }
        // What the reference's `ObjectDef` destructor adds.
        if let Some(make) = self.shallow_copy {
            let copy = make(index);
            target.attr(index, "__ffi_shallow_copy__", AnyView::from(&copy))?;
        }
        if let Some(creator) = self.creator {
            let new = new_function::<B>(creator);
            target.attr(index, "__ffi_new__", AnyView::from(&new))?;
            if self.auto_init && !self.explicit_init {
                target.auto_init(index)?;
            }
        }
        target.attr(index, "__ffi_type_final__", AnyView::from(T::FINAL))
    }
}

/// Where `T` starts inside an `Object<T>`: after the header, at `T`'s alignment (the
/// `#[repr(C)]` layout of [`Object`]).
pub(super) const fn payload_offset<T>() -> usize {
    core::mem::size_of::<TVMFFIObject>().next_multiple_of(core::mem::align_of::<T>())
}

/// `T`'s index in `types`, registering it (and its ancestors) there if needed, and filling
/// its index cache.
pub(super) fn table_index<T: ObjectDef>(types: &mut TypeTable) -> Result<TypeIndex, Error> {
    let parent = <T::Parent as TypeAncestor>::index_in(types)?;
    let depth = <T as TypeAncestor>::DEPTH;
    let slots = i32::try_from(T::CHILD_SLOTS).map_err(|_| {
        Error::value_error(format!("too many child slots for `{}`", <T as ObjectDef>::TYPE_KEY))
    })?;
    let index = types.get_or_alloc_index(
        <T as ObjectDef>::TYPE_KEY.as_bytes(),
        -1,
        depth,
        slots,
        T::CHILD_SLOTS_CAN_OVERFLOW,
        parent.0,
    )?;
    let info_ptr = types.type_info(index)?;
    // SAFETY: entries of the table live as long as it; their index, depth and ancestors are
    // fixed at registration.
    super::check_place::<T>(unsafe { &*info_ptr }, parent)?;
    let cached = *T::type_index_cache().0.call_once(|| index);
    if cached != index {
        return Err(Error::runtime_error(format!(
            "type `{}` already has type index {cached}, not {index}",
            <T as ObjectDef>::TYPE_KEY
        )));
    }
    Ok(TypeIndex(index))
}

/// `T::default()` as a new object (a `TVMFFIObjectCreator`).
///
/// # Safety
///
/// `result` is writable.
unsafe extern "C" fn create_default<T: ObjectDef + Payload + Default, B: Boundary>(
    result: *mut TVMFFIObjectHandle,
) -> c_int {
    c_boundary::<B>(|| {
        if result.is_null() {
            return Err(Error::value_error("object creator called with a null result pointer"));
        }
        let obj = super::new_object(T::default())?;
        // SAFETY: `result` is writable (the caller's promise) and not null; the strong
        // reference moves to the caller.
        unsafe { result.write(obj.into_raw().cast()) };
        Ok(())
    })
}

/// Call a creator: a new empty object (the reference's `CreateEmptyObject` fast path).
pub(crate) fn call_creator(
    creator: TVMFFIObjectCreator,
) -> Result<ObjectRef<tvmffi_core::ObjectHeader>, Error> {
    let mut handle: TVMFFIObjectHandle = core::ptr::null_mut();
    // SAFETY: `handle` is writable; the creator's contract hands over one reference.
    check(unsafe { creator(&mut handle) })?;
    // SAFETY: a successful creator wrote an owned object handle (or null, refused here).
    unsafe { ObjectRef::from_raw(handle.cast()) }
        .ok_or_else(|| Error::runtime_error("object creator returned null"))
}

/// `__ffi_new__`: the creator as a function of no arguments.
fn new_function<B: Boundary>(creator: TVMFFIObjectCreator) -> Function {
    Function::from_packed_with::<B, _>(move |args: &[AnyView<'_>]| {
        if !args.is_empty() {
            return Err(Error::type_error(format!(
                "Mismatched number of arguments when calling: `__ffi_new__() -> Object`. \
                 Expected 0 but got {} arguments",
                args.len()
            )));
        }
        Ok(Any::from(call_creator(creator)?))
    })
}

/// `__ffi_shallow_copy__`: a new object of exactly type `index` holding `T::clone`.
fn shallow_copy_function<T: ObjectDef + Payload + Clone, B: Boundary>(
    index: TypeIndex,
) -> Function {
    let name = format!("{}.__ffi_shallow_copy__", <T as ObjectDef>::TYPE_KEY);
    Function::from_packed_with::<B, _>(move |args: &[AnyView<'_>]| {
        let sig = "(0: Object) -> Object";
        let [src] = args else {
            return Err(Error::type_error(format!(
                "Mismatched number of arguments when calling: `{name}{sig}`. Expected 1 but \
                 got {} arguments",
                args.len()
            )));
        };
        if src.type_index() != index {
            return Err(Error::type_error(format!(
                "Mismatched type on argument #0 when calling: `{name}{sig}`. Expected `{}` \
                 but got `{}`",
                <T as ObjectDef>::TYPE_KEY,
                super::type_key(src.type_index())
            )));
        }
        let obj: ObjectRef<Object<T>> = src.get()?;
        Ok(Any::from(crate::heap::new_object(index, T::clone(&obj))))
    })
}
