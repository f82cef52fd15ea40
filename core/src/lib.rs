//! The TVM-FFI open ABI, `no_std` and without an allocator.
//!
//! TVM-FFI is the stable C ABI that machine-learning compilers, kernel libraries and
//! frameworks speak to each other: a 16-byte tagged value, reference-counted objects with a
//! common header, one packed calling convention, errors through a thread-local slot, and
//! DLPack tensors. This crate is its foundation, binary compatible with the reference
//! implementation (`apache-tvm-ffi` 0.1.15.post2, C API 0.1.16): the same layouts, type
//! indices and refcount protocol, down to a Cortex-M0.
//!
//! - [`sys`]: the C structs, with layouts asserted at compile time on 64-bit and 32-bit.
//! - [`TypeIndex`], [`DeviceType`], [`DataTypeCode`] and the [`flags`]: open C value sets
//!   as integer newtypes.
//! - [`Any`] and [`AnyView`]: the 16-byte tagged value, owned and borrowed, with checked
//!   conversions to and from Rust types.
//! - [`object`]: the object header and its atomic strong/weak counter, [`ObjectRef`] and
//!   [`WeakRef`], and storage without an allocator ([`StaticObject`], [`ObjectPool`]).
//! - [`call`]: the packed calling convention, from the caller's and the callee's side.
//! - [`ffi_error`]: FFI error objects read from any implementation, made in `static`
//!   memory, and the raised-error slot, for programs without an allocator.
//! - [`system_lib`]: packed functions registered by name in a fixed-capacity `static` (the
//!   reference's system library), for programs without an allocator.
//!
//! Heap objects (strings, containers, closures, tensors) live in `tvmffi-alloc`; the runtime
//! (error slot, registries, module loading, the exported C API) in `tvmffi-std`.
//!
//! # Atomics
//!
//! The counter is a 64-bit atomic. Targets without native 64-bit atomics use
//! `portable-atomic`; see the `atomic` module notes in the README for what a firmware must
//! choose on cores without compare-and-swap.
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `defmt` | no | `defmt::Format` for the public value types, for logging on microcontrollers |
//! | `portable-atomic` | no | the reference counter through `portable-atomic` even where the target has native 64-bit atomics (targets without them always use it) |
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(test)]
extern crate alloc;
#[cfg(test)]
extern crate std;

#[macro_use]
mod macros;

pub mod any;
mod atomic;
pub mod call;
pub mod device;
pub mod dtype;
pub mod error;
pub mod ffi_error;
pub mod flags;
pub mod object;
pub mod sys;
pub mod system_lib;
pub mod type_index;

pub use any::{Any, AnyView, FromAnyView};
pub use call::{CallError, FunctionObj};
pub use device::{Device, DeviceType};
pub use dtype::{DataType, DataTypeCode, DataTypeParseError};
pub use error::ConversionError;
pub use macros::{CConstant, CLayout};
pub use object::{
    Object, ObjectHeader, ObjectPool, ObjectRef, ObjectType, Payload, StaticObject, WeakRef,
};
pub use type_index::TypeIndex;

/// The README's examples, compiled and run as doctests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
