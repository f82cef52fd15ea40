//! The TVM-FFI ABI on a microcontroller: the checks every firmware in this workspace runs on
//! its board under QEMU, reporting through semihosting or `defmt` and exiting with a
//! semihosting status that `ci/embedded.sh` asserts.
//!
//! [`CORE`] needs no allocator: values ([`Any`](tvmffi_core::Any)), objects in a `static`
//! and in a fixed pool with their refcounts, C entry points registered in a static system
//! library ([`SystemLib`](tvmffi_core::system_lib::SystemLib)) and function objects, all
//! called through the packed C convention, and errors raised and read through the C API.
//! [`ALLOC`] adds the alloc tier on a small heap.
//!
//! # Who provides the C API
//!
//! The kernels raise errors with `TVMFFIErrorSetRaisedFromCStr` and the checks read them
//! with `TVMFFIErrorMoveFromRaised`, exactly as C code would. A process has one provider of
//! those symbols:
//!
//! - `static-provider` (no allocator): [`provider`] defines them over the core's
//!   [`ErrorPool`](tvmffi_core::ffi_error::ErrorPool) and
//!   [`ErrorSlot`](tvmffi_core::ffi_error::ErrorSlot) in `static`s;
//! - `alloc`: `tvmffi-alloc`'s `runtime` defines them (and the global function registry)
//!   over the heap.
//!
//! # Atomics: what each firmware chose, and why
//!
//! The object refcount is a 64-bit atomic, and no microcontroller here has native 64-bit
//! atomics, so `tvmffi-core` uses `portable-atomic` on all of them (native `core` atomics
//! wherever the target has them, e.g. the host). How `portable-atomic` makes a 64-bit RMW,
//! or any compare-and-swap on a Cortex-M0, is the *firmware's* choice, never the library's:
//!
//! | firmware | core | choice | why |
//! | --- | --- | --- | --- |
//! | `microbit` | Cortex-M0, no CAS | `critical-section` feature, `cortex-m`'s single-core implementation | the portable choice: a multi-core M0 (RP2040) plugs in its HAL's implementation instead |
//! | `m0-minimal` | Cortex-M0, no CAS | `unsafe-assume-single-core` | the smallest and fastest on a single core: each RMW masks interrupts (PRIMASK) for a few instructions |
//! | `lm3s6965evb` | Cortex-M3, 32-bit CAS | `unsafe-assume-single-core` | without it, 64-bit RMWs use a global spinlock table, which deadlocks if an interrupt handler touches an object whose lock the interrupted code holds |
//! | `riscv32-virt` | RV32IMAC, 32-bit AMOs | `unsafe-assume-single-core` | as on the M3; QEMU's `virt` runs one hart in M-mode, where masking `mstatus.MIE` is allowed |
//!
//! Where a CAS exists (M3, RV32), `portable-atomic`'s `critical-section` feature changes
//! nothing, so the choice there is between the lock table and the single-core mode. C code
//! touching the same headers must go through these Rust functions, since an interrupt- or
//! lock-based counter is not compatible with native 64-bit atomics.
#![no_std]

#[cfg(feature = "alloc")]
extern crate alloc;

#[macro_use]
pub mod report;

pub mod errors;
pub mod functions;
#[cfg(feature = "alloc")]
pub mod heap;
pub mod objects;
#[cfg(feature = "static-provider")]
pub mod provider;
pub mod values;

#[cfg(all(feature = "static-provider", feature = "alloc"))]
compile_error!("`static-provider` and `alloc` both define the C API's error functions: pick one");

pub use report::{Check, Failure, Reporter, run};

/// Every check of the core ABI, in order (later ones use the kernels registered earlier).
pub const CORE: &[Check] = &[
    Check { name: "values", run: values::values },
    Check { name: "static objects", run: objects::static_objects },
    Check { name: "pool objects", run: objects::pool_objects },
    Check { name: "objects in values", run: objects::objects_in_values },
    Check { name: "system library registration", run: functions::register_kernels },
    Check { name: "packed calls through the C convention", run: functions::system_lib_calls },
    Check { name: "function objects", run: functions::function_objects },
    Check { name: "raised errors", run: errors::raised_errors },
    Check { name: "re-raised errors", run: errors::reraised_errors },
    #[cfg(feature = "static-provider")]
    Check { name: "error objects released", run: provider::errors_released },
];

/// The alloc tier's checks, after [`CORE`] (they use its kernels).
#[cfg(feature = "alloc")]
pub const ALLOC: &[Check] = &[
    Check { name: "strings and bytes", run: heap::strings_and_bytes },
    Check { name: "arrays and lists", run: heap::arrays_and_lists },
    Check { name: "maps and dicts", run: heap::maps_and_dicts },
    Check { name: "closures", run: heap::closures },
    Check { name: "global functions", run: heap::global_functions },
];
