//! TVM-FFI heap objects for `no_std` + `alloc`, with the reference's exact layouts: C and C++
//! kernels and the reference Python package read these objects with inline code, without
//! calling us, so every byte is where their headers say.
//!
//! - [`heap`]: one block per object, from the C library's `malloc` as the reference's
//!   objects are (the Rust allocator where there is no C library).
//! - [`string`]: [`String`] and [`Bytes`] (inline when short, objects otherwise), and
//!   [`any_view_to_owned`], the full `TVMFFIAnyViewToOwnedAny`.
//! - [`shape`]: [`Shape`], an immutable list of `int64_t` extents.
//! - [`big_int`]: [`BigInt`], integers beyond `int64_t` as two's-complement words.
//! - [`seq`]: [`Array`] and [`List`], the reference's `ArrayObj` and `ListObj`.
//! - [`map`]: [`Map`] and [`Dict`], the reference's `MapObj` and `DictObj`, small and dense,
//!   hashed as the reference hashes.
//! - [`tensor`]: [`Tensor`], n-dimensional arrays in `ffi.Tensor` objects, and DLPack
//!   exchange.
//! - [`error`]: the FFI error object ([`Error`]), raised and fetched through the runtime.
//! - [`function`]: function objects ([`Function`]) from Rust closures, typed or packed, and
//!   calls to any function object; global functions; type schemas and library exports.
//! - [`json`]: JSON text to and from values, as the reference's `ffi.json.Parse` and
//!   `ffi.json.Stringify`.
//! - [`serialization`]: the JSON graph of any value, as the reference's `ffi.ToJSONGraph`
//!   and `ffi.FromJSONGraph` write and read it.
//! - [`typed`]: typed views, `Array<T>`, `List<T>`, `Optional<T>`, and [`match_any!`](crate::match_any).
//! - [`object_type`](mod@object_type): object types defined in Rust, with their runtime type
//!   index, and opaque objects.
//! - [`structural`]: structural equality, hashing, access paths, and structural visits and
//!   mutations of any value (`ffi.StructuralEqual`, `ffi.StructuralHash`, ...).
//! - [`dataclass`]: generic algorithms over reflected objects: repr, deep copy, recursive
//!   comparison and hashing, the generated `__ffi_init__`, enum types.
//! - [`runtime`]: the runtime's state as reusable types and, with the `runtime` feature,
//!   the C API over them.
//!
//! Runtime services (the raised-error slot, global functions, the type table) are reached
//! through the C API ([`tvmffi_core::sys::api`]), whose one provider in a process is
//! `tvmffi-std`, this crate's `runtime` feature, or the host that loaded a kernel library.
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `runtime` | no | the C API's runtime functions (error slot, global functions, type table) defined in this crate, spin-locked, for `no_std` + `alloc` programs with no other runtime; off in kernel libraries and under `tvmffi-std` |
//! | `extra` | yes | the reference's `extra` built-ins registered at start-up (structural equality and hashing, dataclass utilities, JSON); firmware turns default features off to keep them out of flash (about 300 KiB on a Cortex-M3) |
//! | `defmt` | no | `defmt::Format` for the public value types |
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod big_int;
mod block;
pub mod dataclass;
pub mod error;
pub mod function;
pub mod heap;
pub mod json;
pub mod map;
pub mod object_type;
pub mod runtime;
pub mod seq;
pub mod serialization;
pub mod shape;
pub mod string;
// The crate-internal entry points here serve the `extra` built-ins only.
#[cfg_attr(not(feature = "extra"), allow(dead_code, unused_imports))]
pub mod structural;
pub mod tensor;
pub mod typed;

pub use big_int::BigInt;
pub use error::Error;
pub use function::Function;
pub use map::{Dict, Map};
pub use seq::{Array, List};
pub use shape::Shape;
pub use string::{Bytes, String, any_view_to_owned};
pub use tensor::{Tensor, TensorView};
pub use tvmffi_core as core_tier;

/// Every heap object's layout, named after the reference's C++ class, for `ci/abi-check`.
pub const LAYOUTS: &[&[tvmffi_core::CLayout]] = &[
    string::LAYOUTS,
    shape::LAYOUTS,
    big_int::LAYOUTS,
    seq::LAYOUTS,
    map::LAYOUTS,
    tensor::LAYOUTS,
    error::LAYOUTS,
    function::LAYOUTS,
    structural::path::LAYOUTS,
    structural::key::LAYOUTS,
    structural::context::LAYOUTS,
    structural::visit::LAYOUTS,
    structural::mutate::LAYOUTS,
];
