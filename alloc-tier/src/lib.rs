//! TVM-FFI heap objects for `no_std` + `alloc`, with the reference's exact layouts: C and C++
//! kernels and the reference Python package read these objects with inline code, without
//! calling us, so every byte is where their headers say.
//!
//! - [`heap`]: one allocation per object, freed through the `TVMFFIObjectAllocHeader` that
//!   precedes every object body.
//! - [`tensor`]: [`Tensor`], n-dimensional arrays in `ffi.Tensor` objects, and DLPack
//!   exchange.
//!
//! Runtime services (the raised-error slot, global functions, the type table) are reached
//! through the C API ([`tvmffi_core::sys::api`]), whose one provider in a process is
//! `tvmffi-std`, this crate's `runtime` feature, or the host that loaded a kernel library.
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

extern crate alloc;
#[cfg(test)]
extern crate std;

pub mod heap;
pub mod tensor;

pub use tensor::Tensor;

pub use tvmffi_core as core_tier;
