//! TVM-FFI on accelerators.
//!
//! This tier is not built yet; it is tracked by the project's GPU-tier issue. Until then it
//! only re-exports the std tier, so the workspace layout is the final one.

pub use tvmffi_std as std_tier;
