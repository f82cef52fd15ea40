//! The TVM-FFI runtime with `std`.
//!
//! This tier is not built yet; it is tracked by the project's std-tier issue. Until then it
//! only re-exports the tiers below it, so the workspace layout is the final one.

extern crate std;

pub use tvmffi_alloc as alloc_tier;
pub use tvmffi_core as core_tier;
