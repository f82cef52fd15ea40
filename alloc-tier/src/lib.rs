//! TVM-FFI heap objects for `no_std` + `alloc`: strings, bytes, containers, errors, closures
//! and tensors, with the reference's exact layouts.
//!
//! This tier is not built yet; it is tracked by the project's alloc-tier issue. Until then
//! it only re-exports the core, so the workspace layout is the final one.
#![no_std]

extern crate alloc;

pub use tvmffi_core as core_tier;
