//! The derives that the reference's Rust stub generator (`tvm-ffi-stubgen --target rust`)
//! writes, by these paths, for mirrors of object types defined elsewhere: see
//! [`mirror`](crate::mirror). To define a new object type in Rust, use
//! [`#[derive(tvmffi::Object)]`](derive@crate::Object) instead.

/// A `#[repr(C)]` mirror of a registered object type, header included: the first field is
/// the parent's mirror (`base: tvm_ffi::Object` under `ffi.Object`), `#[type_key = "..."]`
/// names the type and `#[type_final]` says no type derives from it. It implements
/// [`ObjectCore`](crate::ObjectCore) (the index is looked up by key, and checked to sit
/// where the mirror says) and `ObjectType`, so `ObjectRef<TObj>` and [`ObjectArc<TObj>`]
/// hold such objects.
///
/// The expansion names this crate `tvm_ffi`, as the generator's output does; add
/// `#[tvmffi(crate = path)]` for another name.
///
/// ```
/// use tvmffi::{Object, ObjectArc, ObjectCore};
///
/// #[repr(C)]
/// #[derive(tvmffi::derive::Object)]
/// #[tvmffi(crate = tvmffi)]
/// #[type_key = "ffi.Shape"] // a built-in type with a fixed index
/// #[type_final]
/// struct ShapeMirror {
///     base: Object,
///     data: *const i64,
///     size: u64,
/// }
/// // SAFETY (of this example): the pointer is only read while the object lives.
/// unsafe impl Send for ShapeMirror {}
/// // SAFETY: as above.
/// unsafe impl Sync for ShapeMirror {}
///
/// assert_eq!(ShapeMirror::type_index().unwrap(), tvmffi::TypeIndex::SHAPE);
/// let shape = tvmffi::Any::from(tvmffi::Shape::from(&[2i64, 3][..]));
/// let mirror: ObjectArc<ShapeMirror> = ObjectArc::from_any_view(shape.view()).unwrap();
/// assert_eq!(mirror.size, 2);
/// ```
///
/// [`ObjectArc<TObj>`]: crate::ObjectArc
#[cfg(feature = "macros")]
pub use tvmffi_macros::MirrorObject as Object;

/// A reference type over a mirror: `struct T { base: ObjectArc<TObj> }`. It implements
/// [`ObjectRefCore`](crate::ObjectRefCore), conversions to and from
/// [`Any`](crate::Any)/[`AnyView`](crate::AnyView) (a function argument or result),
/// [`TypeStr`](crate::TypeStr), `From<T> for ObjectRef` and a checked
/// `TryFrom<ObjectRef> for T`. The crate is named as for [`Object`].
#[cfg(feature = "macros")]
pub use tvmffi_macros::MirrorObjectRef as ObjectRef;
