//! TVM-FFI in Rust, in one crate: the open ABI that machine-learning compilers, kernel
//! libraries and frameworks share (one 16-byte value type, reference-counted objects,
//! one calling convention, DLPack tensors), binary compatible with the reference
//! `apache-tvm-ffi` 0.1.15.post2.
//!
//! Add the crate and import the prelude; nothing else is needed to build a kernel library
//! that Python loads, a Rust host, or (without default features) firmware. No Python, no
//! `tvm-ffi-config`, no environment variable.
//!
//! ```toml
//! [lib]
//! crate-type = ["cdylib"]
//!
//! [dependencies]
//! tvmffi = "0.1"
//! ```
//!
//! ```
//! use tvmffi::prelude::*;
//!
//! /// y = x + 1, elementwise, for 1-D float32 tensors.
//! #[tvmffi::export]
//! fn add_one(x: TensorView<'_>, y: TensorView<'_>) -> Result<(), Error> {
//!     let input = x.as_slice::<f32>()?;
//!     // SAFETY: the caller hands `y` to this call alone, as the reference's kernels assume.
//!     let output = unsafe { y.as_mut_slice::<f32>()? };
//!     if input.len() != output.len() {
//!         return Err(Error::value_error("x and y differ in length"));
//!     }
//!     for (o, i) in output.iter_mut().zip(input) {
//!         *o = i + 1.0;
//!     }
//!     Ok(())
//! }
//!
//! /// The sum of an array of integers.
//! #[tvmffi::export]
//! fn sum(values: Array<i64>) -> Result<i64, Error> {
//!     Ok(values.to_vec()?.iter().sum())
//! }
//! # let x = Tensor::from_slice(&[2], &[1.0f32, 2.0]).unwrap();
//! # let y = Tensor::from_slice(&[2], &[0.0f32; 2]).unwrap();
//! # add_one(x.view(), y.view()).unwrap();
//! # assert_eq!(y.as_slice::<f32>().unwrap(), &[2.0, 3.0]);
//! # assert_eq!(sum(Array::from_iter([1, 2, 3])).unwrap(), 6);
//! ```
//!
//! Built as a `cdylib`, the library exports `__tvm_ffi_add_one` and `__tvm_ffi_sum` with
//! their metadata and docs, and Python calls them:
//!
//! ```python
//! import numpy as np, tvm_ffi
//! mod = tvm_ffi.load_module("libkernels.so")
//! x = np.array([1, 2, 3], dtype=np.float32); y = np.empty_like(x)
//! mod.add_one(tvm_ffi.from_dlpack(x), tvm_ffi.from_dlpack(y))   # y == [2, 3, 4]
//! mod.sum([1, 2, 3])                                             # 6
//! mod.add_one(1, 2)  # TypeError: Mismatched type on argument #0 when calling:
//!                    # `add_one(0: DLTensor*, 1: DLTensor*) -> void`. Expected `DLTensor*` but got `int`
//! ```
//!
//! # Exporting functions
//!
//! [`#[tvmffi::export]`](export) (and its `macro_rules!` twin [`exports!`]) turns a Rust
//! function into a library export, as the reference's `TVM_FFI_DLL_EXPORT_TYPED_FUNC` does
//! for C++. Arguments are any type that converts from an [`AnyView`] and has a reference name
//! ([`FromAnyView`] + [`TypeStr`]): integers, floats, `bool`, [`String`], [`TensorView`] (a
//! tensor borrowed for the call, as the reference recommends for kernels), [`Tensor`],
//! [`Array<T>`](Array), [`List<T>`](List), [`Map<K, V>`](Map), [`Dict<K, V>`](Dict),
//! [`Optional<T>`](Optional), [`Function`],
//! [`TypedFunction`], [`Any`], [`AnyView`]... The result is such a value, `()`, or a `Result`
//! whose error converts into [`Error`]: its kind (`ValueError`, `KeyError`...) becomes the
//! Python exception class. Wrong argument counts and types are `TypeError`s with the
//! reference's messages, and a panic is caught and raised as a `RuntimeError` (with `std`;
//! without it, a panic aborts rather than unwind into C).
//!
//! # Objects defined in Rust
//!
//! [`#[derive(Object)]`](derive@Object) makes a `#[repr(C)]` struct an object type with its type
//! key, parent and finality as attributes, and registers its reflection (fields, methods,
//! creator, copy) with its type index, so that C++, Python and the runtime's algorithms
//! (repr, structural equality and hashing, serialization, copies) use it as they use a C++
//! type. [`object_type`] has the builder underneath ([`object_type::Reflect`]), the type
//! information of any registered type ([`object_type::info`]) and [`register_types!`].
//!
//! # Bindings written by the reference's stub generator
//!
//! `tvm-ffi-stubgen --target rust` writes Rust mirrors of reflected C++ types against a crate
//! it imports as `tvm_ffi`: rename this one so (`tvm_ffi = { package = "tvmffi", .. }`) and
//! its output compiles and runs; [`mirror`] lists what it uses and how it maps here.
//!
//! # Tiers
//!
//! | crate | feature | what it adds |
//! |---|---|---|
//! | [`core_tier`] (`tvmffi-core`) | always | the ABI: [`Any`], objects, the calling convention, DLPack structs; `no_std`, no allocator |
//! | `alloc_tier` (`tvmffi-alloc`) | `alloc` | strings, containers, tensors, errors, function objects, typed views, exports |
//! | `std_tier` (`tvmffi-std`) | `std` | the panic boundary, backtraces, module loading; the runtime with `runtime` |
//! | `gpu_tier` (`tvmffi-gpu`) | `gpu` | devices, streams, driver loading |
//!
//! A kernel library leaves `runtime` off: the runtime is the process that loads it (the
//! reference's `libtvm_ffi.so` under Python, or ours), reached through the C API.
//!
//! # Features
#![doc = document_features::document_features!()]
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

// A program with `std` gets `tvmffi-std`'s runtime (`runtime`: an error slot per thread,
// panics caught); the `no_std` runtime's single global slot would be the wrong choice there.
#[cfg(all(feature = "std", feature = "alloc-runtime"))]
compile_error!(
    "`alloc-runtime` is the C API for `no_std` programs; with `std`, enable `runtime` instead \
     (and `default-features = false` for firmware)"
);

pub mod prelude;

#[cfg(feature = "alloc")]
#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
#[cfg(feature = "alloc")]
pub mod derive;
#[cfg(feature = "alloc")]
mod exports;
#[cfg(feature = "alloc")]
mod layout;
#[cfg(feature = "alloc")]
pub mod mirror;
#[cfg(feature = "alloc")]
pub mod object_type;
#[cfg(feature = "alloc")]
mod objects;
#[cfg(feature = "alloc")]
mod optional;
#[cfg(feature = "alloc")]
pub mod reflection;
#[cfg(feature = "alloc")]
mod register;

#[cfg(feature = "alloc")]
extern crate alloc;

pub use tvmffi_core as core_tier;
pub use tvmffi_core::{
    Any, AnyView, ConversionError, DataType, DataTypeCode, Device, DeviceType, FromAnyView,
    ObjectRef, TypeIndex, WeakRef, call, object, sys,
};

#[cfg(feature = "alloc")]
pub use tvmffi_alloc as alloc_tier;
#[cfg(feature = "alloc")]
pub use tvmffi_alloc::function::{TypeStr, TypedFunction, TypedReturn};
#[cfg(feature = "alloc")]
pub use tvmffi_alloc::typed::{Array, Dict, List, Map};
#[cfg(feature = "alloc")]
pub use tvmffi_alloc::{
    BigInt, Bytes, Error, Function, Shape, String, Tensor, TensorView, error, function, match_any,
    seq, tensor, typed,
};

#[cfg(feature = "alloc")]
pub use optional::{Optional, OptionalValue};

/// A `Result` whose error is an FFI [`Error`] by default.
#[cfg(feature = "alloc")]
pub type Result<T, E = Error> = core::result::Result<T, E>;

#[cfg(feature = "alloc")]
pub use tvmffi_alloc::error::kind::{
    ATTRIBUTE_ERROR, INDEX_ERROR, INTERNAL_ERROR, KEY_ERROR, RUNTIME_ERROR, TYPE_ERROR, VALUE_ERROR,
};

// The names the stub generator's output uses (see `mirror`).
#[cfg(feature = "alloc")]
pub use mirror::{
    FieldGetter, Object, ObjectArc, ObjectCore, ObjectRefCore, ShallowCopy, UnsafeInit,
};
/// The stub generator's name for [`Device`] (`DLDevice`, which it wraps).
pub type DLDevice = Device;
/// The stub generator's name for [`DataType`] (`DLDataType`, which it wraps).
pub type DLDataType = DataType;

#[cfg(feature = "std")]
pub use tvmffi_std as std_tier;
#[cfg(feature = "std")]
pub use tvmffi_std::{CatchPanic, Module, module};

#[cfg(feature = "gpu")]
pub use tvmffi_gpu as gpu_tier;

/// Export a Rust function from a kernel library as `__tvm_ffi_<name>`, with the metadata
/// (`__tvm_ffi__metadata_<name>`) and, for a documented function, the doc string
/// (`__tvm_ffi__doc_<name>`) the reference's loader reads.
///
/// ```
/// use tvmffi::prelude::*;
///
/// /// Greet someone.
/// #[tvmffi::export]
/// fn greet(name: tvmffi::String, times: i64) -> Result<tvmffi::String, Error> {
///     let times = usize::try_from(times).map_err(|_| Error::value_error("negative count"))?;
///     Ok(format!("hello {name}! ").repeat(times).trim_end().into())
/// }
///
/// /// Exported as `__tvm_ffi_version`: the name differs from the function's.
/// #[tvmffi::export(name = "version")]
/// fn library_version() -> i64 {
///     3
/// }
/// # assert_eq!(greet("ada".into(), 2).unwrap(), "hello ada! hello ada!");
/// # assert_eq!(library_version(), 3);
/// ```
///
/// The function stays an ordinary Rust function. It must be a free function with one
/// concrete signature: not generic, `async`, `unsafe` or `extern`, without `self`.
/// Options: `name = "..."` (the export name, a C identifier), `crate = path` (where this
/// crate is, when renamed). The doc comment, tidied as rustdoc reads it, is the function's
/// doc string (`Module.get_function_doc`); the metadata is
/// `{"type_schema": "<the signature as JSON>"}` (`Module.get_function_metadata`), byte for
/// byte what the reference's C++ export of the same signature returns.
#[cfg(feature = "macros")]
pub use tvmffi_macros::export;

#[cfg(feature = "macros")]
#[doc = include_str!("derive_object.md")]
pub use tvmffi_macros::Object;
