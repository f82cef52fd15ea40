//! What the macros' expansions name, through `::tvmffi::__private` (or `$crate`), so that a
//! crate using them needs no other dependency and no import. Not an API.

pub use alloc::borrow::Cow;

pub use tvmffi_alloc::function::export::{
    ExportArgs, RustString, call_export, export_result, export_signature, write_doc, write_metadata,
};
pub use tvmffi_alloc::function::schema::function_schema;
pub use tvmffi_alloc::function::{TypeStr, TypedReturn};
pub use tvmffi_core::sys::TVMFFIAny;

// `#[derive(Object)]`.
pub use crate::object_type::Reflection;
pub use crate::objects::{
    Probe, WithClone, WithDefault, WithoutClone, WithoutDefault, parent_eq_hash_kind, same_type,
};
pub use tvmffi_alloc::Error;
pub use tvmffi_alloc::field;
pub use tvmffi_alloc::object_type::{
    ObjectDef, ObjectRoot, TypeAncestor, TypeIndexCache, is_instance,
};
pub use tvmffi_core::flags::{FieldFlags, SEqHashKind};
pub use tvmffi_core::{ObjectType, Payload, TypeIndex};

// The mirror derives.
pub use crate::mirror::{
    MaybeUndefined, MirrorIndex, NullablePointer, mirror_is_instance, object_ref_into, upcast,
};
pub use crate::{__mirror_object as mirror_object, __mirror_object_ref as mirror_object_ref};

/// The panic policy of exports: a panic becomes a `RuntimeError`.
#[cfg(feature = "std")]
pub type DefaultBoundary = tvmffi_std::CatchPanic;

/// The panic policy of exports without `std`: a panic aborts (it never unwinds into C).
#[cfg(not(feature = "std"))]
pub type DefaultBoundary = tvmffi_alloc::function::AbortOnPanic;
