//! Reflection helpers under the paths the stub generator's output names
//! (`tvm_ffi::reflection::*`): [`drop_if_defined`], and mirrors of the built-in
//! `ffi.reflection.AccessPath` and `ffi.reflection.AccessStep` (opaque handles; their
//! fields are read through [`FieldGetter`](crate::FieldGetter)).
//!
//! The reflection of any registered type is read with
//! [`object_type::info`](crate::object_type::info).

pub use crate::mirror::{MaybeUndefined, drop_if_defined};

use crate::mirror::{Object, ObjectArc};

/// A path from a root value to a nested one (`ffi.reflection.AccessPath`).
#[repr(C)]
#[derive(tvmffi_macros::MirrorObject)]
#[tvmffi(crate = crate)]
#[type_key = "ffi.reflection.AccessPath"]
#[type_final]
pub struct AccessPathObj {
    base: Object,
}

/// A reference to an [`AccessPathObj`].
#[repr(C)]
#[derive(tvmffi_macros::MirrorObjectRef, Clone)]
#[tvmffi(crate = crate)]
pub struct AccessPath {
    base: ObjectArc<AccessPathObj>,
}

/// One step of an [`AccessPath`] (`ffi.reflection.AccessStep`).
#[repr(C)]
#[derive(tvmffi_macros::MirrorObject)]
#[tvmffi(crate = crate)]
#[type_key = "ffi.reflection.AccessStep"]
#[type_final]
pub struct AccessStepObj {
    base: Object,
}

/// A reference to an [`AccessStepObj`].
#[repr(C)]
#[derive(tvmffi_macros::MirrorObjectRef, Clone)]
#[tvmffi(crate = crate)]
pub struct AccessStep {
    base: ObjectArc<AccessStepObj>,
}
