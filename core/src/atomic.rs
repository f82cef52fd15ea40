//! The one place that chooses the atomics behind reference counts.
//!
//! Native `core::sync::atomic` where the target has 64-bit atomics; `portable-atomic`
//! elsewhere (Cortex-M, RV32, i.e. every 32-bit microcontroller) or when the
//! `portable-atomic` feature asks for it. On targets with no compare-and-swap at all
//! (Cortex-M0, `thumbv6m`), the *firmware* picks how `portable-atomic` gets one: its
//! `critical-section` feature, or `--cfg portable_atomic_unsafe_assume_single_core`. This
//! library never picks for it.
//!
//! C code that updates the same headers must use the same kind of atomics: a portable
//! (lock-based) counter is compatible only with code that goes through this crate.

// Under `cfg(loom)` the system library takes loom's atomics instead (see `system_lib.rs`).
#[cfg_attr(loom, allow(unused_imports))]
#[cfg(all(target_has_atomic = "64", not(feature = "portable-atomic")))]
pub(crate) use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
#[cfg_attr(loom, allow(unused_imports))]
#[cfg(any(not(target_has_atomic = "64"), feature = "portable-atomic"))]
pub(crate) use portable_atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
