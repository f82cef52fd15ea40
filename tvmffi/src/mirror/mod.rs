//! Mirrors: Rust structs that lay out a whole object, header included, for object types
//! defined elsewhere (in C++ mostly). This is what the reference's Rust stub generator
//! (`tvm-ffi-stubgen --target rust`) writes, against a crate it imports as `tvm_ffi`: name
//! this crate so in `Cargo.toml` and its output compiles as it is.
//!
//! ```toml
//! [dependencies]
//! tvm_ffi = { package = "tvmffi", version = "0.1", features = ["std"] }
//! ```
//!
//! A *complete* mirror holds every field at the offset C++ gave it, so Rust reads and writes
//! them as struct fields and can make objects that C++ reads; an *opaque* one holds only its
//! parent and reads fields through the reflected getters ([`FieldGetter`]):
//!
//! ```
//! use tvmffi::{Object, ObjectArc};
//!
//! // The built-in `ffi.Array`, opaque: its header, nothing more.
//! #[repr(C)]
//! #[derive(tvmffi::derive::Object)]
//! #[tvmffi(crate = tvmffi)] // the generator's code needs no such line: the crate is `tvm_ffi`
//! #[type_key = "ffi.Array"]
//! #[type_final]
//! pub struct ArrayObj {
//!     base: Object,
//! }
//!
//! #[repr(C)]
//! #[derive(tvmffi::derive::ObjectRef, Clone)]
//! #[tvmffi(crate = tvmffi)]
//! pub struct ArrayRef {
//!     base: ObjectArc<ArrayObj>,
//! }
//!
//! let any: tvmffi::Any = tvmffi::Array::<i64>::from_iter([1, 2]).into();
//! let r: ArrayRef = any.get().unwrap();
//! assert_eq!(tvmffi::Any::from(r).type_index(), tvmffi::TypeIndex::ARRAY);
//! let e = tvmffi::Any::from(1.5).get::<ArrayRef>().unwrap_err();
//! assert_eq!(e.to_string(), "Cannot convert from type `float` to `ffi.Array`");
//! ```
//!
//! | the generator writes | what it is here |
//! |---|---|
//! | `#[derive(tvm_ffi::derive::Object)]`, `#[type_key]`, `#[type_final]` | [`derive::Object`](crate::derive::Object): [`ObjectCore`] for the mirror, its index looked up by key |
//! | `#[derive(tvm_ffi::derive::ObjectRef)]` | [`derive::ObjectRef`](crate::derive::ObjectRef): [`ObjectRefCore`], conversions to and from [`Any`](crate::Any) |
//! | `base: Object`, `Object::new()` | [`Object`]: the header as a mirror's first field |
//! | `ObjectArc<T>`, `ObjectArc::new(obj)` | [`ObjectArc`]: a strong reference; `new` allocates the object |
//! | `Self::type_index()` with `ObjectCore` in scope | [`ObjectCore::type_index`] |
//! | `FieldGetter::new(..)?.get(self)` / `.get_any(self)` | [`FieldGetter`] |
//! | `ShallowCopy`, `UnsafeInit`, `reflection::drop_if_defined` | [`ShallowCopy`], [`UnsafeInit`], [`drop_if_defined`] |
//! | `tvm_ffi::impl_object_upcast!(A => B)` | [`impl_object_upcast!`](crate::impl_object_upcast): `From<A> for B` |
//! | `Result<T>` | [`Result`](crate::Result) |
//! | `String`, `Bytes`, `Any`, `Array<T>`, `Map<K, V>`, `object::ObjectRef`, `Option<T>` of a reference | this crate's types, whose layouts are the C++ fields' (asserted below) |
//! | `tvm_ffi::Optional<T>` (a non-object payload) | [`Optional`](crate::Optional): the 16-byte cell of C++ `Optional<T>` |
//! | `DLDevice`, `DLDataType` | [`Device`](crate::Device), [`DataType`](crate::DataType) |
//!
//! # 32-bit targets
//!
//! The generator computes its size assertions (`size_of::<XObj>() == 48`) and field widths
//! for 64-bit pointers: a mirror with an object field does not compile on a 32-bit target,
//! by design of its output, not by a fault of the layouts here. This crate's own layouts
//! (the header, [`ObjectArc`], [`Optional`](crate::Optional), the strings and containers) are the C++ ones on
//! 32-bit targets too, and are asserted on every target.
//!
//! # What a mirror trusts
//!
//! A mirror reads an object's bytes as its fields: it trusts the C++ side to keep them valid
//! values of the mirrored types. A C++ reference field may be null (a default-constructed
//! `ObjectRef`, or an object a creator made empty); mirror such a field as an `Option`
//! (the generator's `nullable` directive) unless C++ never leaves it null.

mod arc;
mod field;
mod init;

use core::sync::atomic::{AtomicI32, Ordering};

use alloc::format;

use tvmffi_alloc::Error;
use tvmffi_alloc::object_type::info::TypeInfo;
use tvmffi_core::{ObjectHeader, ObjectType, TypeIndex};

pub use arc::ObjectArc;
pub use field::{FieldGetter, TypeIndexArg};
pub use init::{MaybeUndefined, NullablePointer, ShallowCopy, UnsafeInit, drop_if_defined};

/// The object header as the first field of a mirror (`base: Object`): `TVMFFIObject`.
///
/// A mirror made on the stack (`XObj::new(..)`) is not an object yet: its header says
/// `None` until [`ObjectArc::new`] moves it into a heap object with its type's index.
#[repr(transparent)]
pub struct Object(ObjectHeader);

const _: () = {
    use core::mem::{align_of, size_of};
    assert!(size_of::<Object>() == size_of::<tvmffi_core::sys::TVMFFIObject>());
    assert!(align_of::<Object>() == align_of::<tvmffi_core::sys::TVMFFIObject>());
};

impl Object {
    /// A header that is not an object yet (type index `None`, no deleter).
    pub const fn new() -> Self {
        Self(ObjectHeader::new(TypeIndex::NONE, None))
    }

    /// The header.
    pub fn header(&self) -> &ObjectHeader {
        &self.0
    }
}

impl Default for Object {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for Object {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.0.fmt(f)
    }
}

// SAFETY: `Object` is the header (transparent), at offset 0 of itself; every object starts
// with one.
unsafe impl ObjectType for Object {
    const TYPE_KEY: &'static str = "ffi.Object";

    #[inline]
    fn is_instance(_: TypeIndex) -> bool {
        true
    }
}

/// A `#[repr(C)]` struct that is a whole object of a registered type: the header, through
/// its first field, then the type's fields. Implemented by [`Object`] (the root) and by
/// [`derive::Object`](crate::derive::Object).
///
/// # Safety
///
/// The struct starts (at offset 0) with its parent's mirror (or the header), `TYPE_DEPTH`
/// is the parent's plus one, and `is_instance` accepts only indices of this type and its
/// subclasses, whose objects all start with a valid `Self`.
pub unsafe trait ObjectCore: ObjectType + Sized + 'static {
    /// The depth in the type tree: 0 for `ffi.Object`.
    const TYPE_DEPTH: i32;
    /// Whether no type derives from this one.
    const TYPE_FINAL: bool = false;

    /// The runtime index of the type, looked up by its key (the library defining it must be
    /// loaded) and checked to sit where the mirror says.
    fn type_index() -> Result<TypeIndex, Error>;
}

// SAFETY: the root: depth 0, every object starts with the header.
unsafe impl ObjectCore for Object {
    const TYPE_DEPTH: i32 = 0;

    fn type_index() -> Result<TypeIndex, Error> {
        Ok(TypeIndex::OBJECT)
    }
}

/// The cached index of one mirrored type: looked up on first use, and again after a failed
/// lookup (the defining library may be loaded since).
#[derive(Debug)]
#[doc(hidden)]
pub struct MirrorIndex(AtomicI32);

impl MirrorIndex {
    /// Not looked up yet.
    pub const fn new() -> Self {
        Self(AtomicI32::new(-1))
    }

    /// `T`'s index: from the cache, or looked up by key and checked to sit under `parent`
    /// (the `ObjectCore` of the mirror's first field).
    pub fn get<T: ObjectCore, P: ObjectCore>(&self) -> Result<TypeIndex, Error> {
        let cached = self.0.load(Ordering::Acquire);
        if cached >= 0 {
            return Ok(TypeIndex(cached));
        }
        let index = lookup::<T, P>()?;
        self.0.store(index.0, Ordering::Release);
        Ok(index)
    }
}

impl Default for MirrorIndex {
    fn default() -> Self {
        Self::new()
    }
}

fn lookup<T: ObjectCore, P: ObjectCore>() -> Result<TypeIndex, Error> {
    let key = T::TYPE_KEY;
    let info = TypeInfo::of_key(key).ok_or_else(|| {
        Error::runtime_error(format!(
            "type `{key}` is not registered: load the library that defines it first"
        ))
    })?;
    let parent = P::type_index()?;
    let at_place = info.depth() == T::TYPE_DEPTH
        && info.ancestor(T::TYPE_DEPTH - 1).is_some_and(|p| p.index() == parent);
    if !at_place {
        let actual = info.parent().map_or("none", |p| p.key());
        return Err(Error::type_error(format!(
            "type `{key}` derives from `{actual}` at depth {}, but its mirror from `{}` at depth {}",
            info.depth(),
            P::TYPE_KEY,
            T::TYPE_DEPTH
        )));
    }
    Ok(info.index())
}

/// Whether an object of index `actual` is a `T` (the mirror's `ObjectType::is_instance`):
/// `T`'s own index, or (unless `T` is final) a type with `T` among its ancestors.
#[doc(hidden)]
pub fn mirror_is_instance<T: ObjectCore>(actual: TypeIndex) -> bool {
    let Ok(target) = T::type_index() else {
        return false;
    };
    if actual == target {
        return true;
    }
    if T::TYPE_FINAL || actual.0 < target.0 {
        return false;
    }
    TypeInfo::of(actual)
        .and_then(|info| info.ancestor(T::TYPE_DEPTH))
        .is_some_and(|a| a.index() == target)
}

/// A reference type over a mirrored object (`struct T { base: ObjectArc<TObj> }`).
/// Implemented by [`derive::ObjectRef`](crate::derive::ObjectRef).
///
/// # Safety
///
/// `from_data` and `into_data` move the same reference in and out, unchanged.
pub unsafe trait ObjectRefCore: Sized + Clone {
    /// The mirrored object.
    type ContainerType: ObjectCore;

    /// The reference.
    fn data(this: &Self) -> &ObjectArc<Self::ContainerType>;

    /// The reference, moved out.
    fn into_data(this: Self) -> ObjectArc<Self::ContainerType>;

    /// Wrap a reference.
    ///
    /// # Safety
    ///
    /// `data` satisfies any invariant `Self` adds to its object type (none, for the derive).
    unsafe fn from_data(data: ObjectArc<Self::ContainerType>) -> Self;

    /// Whether both refer to the same object.
    fn same_as<U: ObjectRefCore>(&self, other: &U) -> bool {
        ObjectArc::as_ptr(Self::data(self)).cast::<u8>()
            == ObjectArc::as_ptr(U::data(other)).cast::<u8>()
    }

    /// The same object as a `U`, if its type is one (a checked downcast, or an upcast).
    fn try_cast<U: ObjectRefCore>(self) -> Result<U, Error> {
        let arc = Self::into_data(self);
        match ObjectArc::try_cast::<U::ContainerType>(arc) {
            // SAFETY: the derive adds no invariant beyond the object type.
            Ok(data) => Ok(unsafe { U::from_data(data) }),
            Err(arc) => Err(Error::type_error(format!(
                "Cannot convert from type `{}` to `{}`",
                tvmffi_alloc::object_type::type_key(ObjectArc::type_index(&arc)),
                <U::ContainerType as ObjectType>::TYPE_KEY
            ))),
        }
    }
}

/// `From<A> for B` for reference types whose objects derive: `A`'s object type is `B`'s or a
/// subclass of it, which the generator knows from the ancestors and checks here at run time
/// too (the conversion cannot fail, so a wrong declaration aborts nothing: it is refused
/// when the mirror of `A` is checked against the runtime's types).
///
/// ```
/// use tvmffi::{Object, ObjectArc, ObjectRefCore};
///
/// // Any object, seen through the header alone.
/// #[repr(C)]
/// #[derive(tvmffi::derive::ObjectRef, Clone)]
/// #[tvmffi(crate = tvmffi)]
/// pub struct AnyObject { base: ObjectArc<Object> }
///
/// #[repr(C)]
/// #[derive(tvmffi::derive::Object)]
/// #[tvmffi(crate = tvmffi)]
/// #[type_key = "ffi.Array"]
/// #[type_final]
/// pub struct ArrayMirrorObj { base: Object }
/// #[repr(C)]
/// #[derive(tvmffi::derive::ObjectRef, Clone)]
/// #[tvmffi(crate = tvmffi)]
/// pub struct ArrayMirror { base: ObjectArc<ArrayMirrorObj> }
///
/// tvmffi::impl_object_upcast!(ArrayMirror => AnyObject);
///
/// let array: ArrayMirror = tvmffi::Any::from(tvmffi::Array::<i64>::new()).get().unwrap();
/// let root: AnyObject = array.clone().into();
/// assert!(root.same_as(&array));
/// let back: ArrayMirror = root.clone().try_cast().unwrap(); // a checked downcast
/// assert!(back.same_as(&array));
/// let map: AnyObject = tvmffi::Any::from(tvmffi::Map::<i64, i64>::new()).get().unwrap();
/// let e = map.try_cast::<ArrayMirror>().unwrap_err();
/// assert_eq!(e.message(), "Cannot convert from type `ffi.Map` to `ffi.Array`");
/// ```
#[macro_export]
macro_rules! impl_object_upcast {
    ($($source:ty => $target:ty),+ $(,)?) => {$(
        impl ::core::convert::From<$source> for $target {
            #[inline]
            fn from(value: $source) -> Self {
                $crate::__private::upcast::<$source, $target>(value)
            }
        }

        impl ::core::convert::From<&$source> for $target {
            #[inline]
            fn from(value: &$source) -> Self {
                $crate::__private::upcast::<$source, $target>(::core::clone::Clone::clone(value))
            }
        }
    )+};
}

/// Any object reference as the reference type `R`, if the object's type is `R`'s.
#[doc(hidden)]
pub fn object_ref_into<R: ObjectRefCore>(r: tvmffi_core::ObjectRef) -> Result<R, Error> {
    // Every object is an `Object` (its `is_instance` accepts any index).
    match r.downcast::<Object>() {
        Ok(r) => ObjectArc::into_ref(ObjectArc::from_object_ref(r)),
        Err(_) => Err(Error::internal_error("an object that is not an `Object`")),
    }
}

/// `impl_object_upcast!`'s body: `value` as a `B`.
///
/// # Panics
///
/// Never for a declaration the generator wrote from the type's ancestors. For a wrong
/// hand-written one (`B`'s object type is not an ancestor of `A`'s), with a message naming
/// both, rather than viewing the object as a type it is not.
#[doc(hidden)]
pub fn upcast<A: ObjectRefCore, B: ObjectRefCore>(value: A) -> B {
    match value.try_cast::<B>() {
        Ok(b) => b,
        Err(e) => panic!("impl_object_upcast!: {e}"),
    }
}

/// The `ObjectType` and `ObjectCore` impls of a mirror (`derive::Object`'s expansion).
#[doc(hidden)]
#[macro_export]
macro_rules! __mirror_object {
    ($ty:ident, $base:ident : $base_ty:ty, $key:expr, $final:expr) => {
        const _: () = {
            ::core::assert!(
                ::core::mem::offset_of!($ty, $base) == 0,
                "a mirror's first field is its parent",
            );
            ::core::assert!(
                !<$base_ty as $crate::ObjectCore>::TYPE_FINAL,
                "the parent type is final: no type derives from it",
            );
        };

        // SAFETY: the parent's mirror is the first field (asserted above), so the header is
        // at offset 0; `is_instance` accepts this type's index and its subclasses'.
        #[automatically_derived]
        unsafe impl $crate::__private::ObjectType for $ty {
            const TYPE_KEY: &'static str = $key;

            #[inline]
            fn is_instance(type_index: $crate::TypeIndex) -> bool {
                $crate::__private::mirror_is_instance::<$ty>(type_index)
            }
        }

        // SAFETY: as above; the depth follows the parent's.
        #[automatically_derived]
        unsafe impl $crate::ObjectCore for $ty {
            const TYPE_DEPTH: i32 = <$base_ty as $crate::ObjectCore>::TYPE_DEPTH + 1;
            const TYPE_FINAL: bool = $final;

            fn type_index() -> ::core::result::Result<$crate::TypeIndex, $crate::Error> {
                static INDEX: $crate::__private::MirrorIndex =
                    $crate::__private::MirrorIndex::new();
                INDEX.get::<$ty, $base_ty>()
            }
        }
    };
}

/// The impls of a reference type over a mirror (`derive::ObjectRef`'s expansion).
#[doc(hidden)]
#[macro_export]
macro_rules! __mirror_object_ref {
    ($ty:ident, $field:ident : $target:ty) => {
        // SAFETY: the one field holds the reference, moved in and out unchanged.
        #[automatically_derived]
        unsafe impl $crate::ObjectRefCore for $ty {
            type ContainerType = $target;

            #[inline]
            fn data(this: &Self) -> &$crate::ObjectArc<$target> {
                &this.$field
            }

            #[inline]
            fn into_data(this: Self) -> $crate::ObjectArc<$target> {
                this.$field
            }

            #[inline]
            unsafe fn from_data(data: $crate::ObjectArc<$target>) -> Self {
                Self { $field: data }
            }
        }

        impl ::core::convert::From<$ty> for $crate::Any {
            #[inline]
            fn from(value: $ty) -> Self {
                $crate::Any::from($crate::ObjectArc::into_object_ref(value.$field))
            }
        }

        impl<'a> ::core::convert::From<&'a $ty> for $crate::AnyView<'a> {
            #[inline]
            fn from(value: &'a $ty) -> Self {
                $crate::AnyView::from($crate::ObjectArc::as_object_ref(&value.$field))
            }
        }

        impl<'a> $crate::FromAnyView<'a> for $ty {
            #[inline]
            fn from_any_view(
                view: $crate::AnyView<'a>,
            ) -> ::core::result::Result<Self, $crate::ConversionError> {
                $crate::ObjectArc::<$target>::from_any_view(view).map(|data| Self { $field: data })
            }
        }

        impl $crate::TypeStr for $ty {
            fn type_str() -> $crate::__private::Cow<'static, str> {
                $crate::__private::Cow::Borrowed(
                    <$target as $crate::__private::ObjectType>::TYPE_KEY,
                )
            }
        }

        impl ::core::convert::From<$ty> for $crate::ObjectRef {
            #[inline]
            fn from(value: $ty) -> Self {
                $crate::ObjectArc::into_object_ref(value.$field).upcast()
            }
        }

        impl ::core::convert::TryFrom<$crate::ObjectRef> for $ty {
            type Error = $crate::Error;

            fn try_from(value: $crate::ObjectRef) -> ::core::result::Result<Self, $crate::Error> {
                $crate::__private::object_ref_into::<Self>(value)
            }
        }

        const _: () = ::core::assert!(
            ::core::mem::size_of::<::core::option::Option<$ty>>()
                == ::core::mem::size_of::<*const ()>(),
            "a reference type is one nullable pointer",
        );

        // SAFETY: the one field is a non-null pointer (asserted above through its `Option`).
        unsafe impl $crate::__private::MaybeUndefined for $ty {
            #[inline]
            unsafe fn is_undefined(field: *const Self) -> bool {
                // SAFETY: the caller's promise: readable, a value or zeros.
                unsafe { field.cast::<*const u8>().read().is_null() }
            }
        }

        // SAFETY: as above: `Option<Self>` is the nullable pointer.
        unsafe impl $crate::__private::NullablePointer for $ty {}

        impl ::core::fmt::Debug for $ty {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::core::fmt::Debug::fmt(&self.$field, f)
            }
        }
    };
}
