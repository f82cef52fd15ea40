//! The names most programs need, for `use tvmffi::prelude::*;`.
//!
//! It leaves out [`String`](crate::String) (it would shadow the standard `String`); write
//! `tvmffi::String` for the FFI string.

pub use tvmffi_core::object::Object;
pub use tvmffi_core::{
    Any, AnyView, DataType, Device, DeviceType, FromAnyView, ObjectRef, TypeIndex,
};

#[cfg(feature = "alloc")]
pub use crate::{
    Array, Bytes, Dict, Error, Function, List, Map, Optional, Shape, Tensor, TensorView, TypeStr,
    TypedFunction, exports, match_any,
};

#[cfg(feature = "alloc")]
pub use crate::object_type::FieldCell;

#[cfg(feature = "macros")]
pub use crate::export;
/// The derive alone (the macro namespace), so that `Object<T>` above stays the object type.
#[cfg(feature = "macros")]
pub use tvmffi_macros::Object;

#[cfg(feature = "std")]
pub use crate::Module;
