//! The raw C ABI: `#[repr(C)]` mirrors of `tvm/ffi/c_api.h`, `tvm/ffi/extra/c_env_api.h` and
//! `dlpack/dlpack.h` of `apache-tvm-ffi` 0.1.15.post2 (C API 0.1.16, DLPack 1.3), with the
//! C names verbatim.
//!
//! Every type here has its size, alignment and field offsets asserted at compile time for
//! 64-bit, 32-bit and i686 targets, and `ci/abi-check` compares the same numbers against the
//! reference headers with a C compiler. The safe layer ([`Any`](crate::Any),
//! [`ObjectRef`](crate::ObjectRef), ...) is built on top.
//!
//! # Safety
//!
//! These are plain data mirrors: reading a union field is only meaningful for the variant
//! the accompanying `type_index` selects, and raw pointers follow the ownership rules of the
//! C header (stated on each type).
#![allow(non_camel_case_types, non_snake_case, non_upper_case_globals)]

pub mod api;
mod c_api;
mod dlpack;

pub use c_api::*;
pub use dlpack::*;

use crate::macros::{CConstant, CLayout};

/// `TVM_FFI_VERSION_MAJOR`.
pub const TVM_FFI_VERSION_MAJOR: u32 = 0;
/// `TVM_FFI_VERSION_MINOR`.
pub const TVM_FFI_VERSION_MINOR: u32 = 1;
/// `TVM_FFI_VERSION_PATCH`.
pub const TVM_FFI_VERSION_PATCH: u32 = 16;
/// `DLPACK_MAJOR_VERSION`.
pub const DLPACK_MAJOR_VERSION: u32 = 1;
/// `DLPACK_MINOR_VERSION`.
pub const DLPACK_MINOR_VERSION: u32 = 3;

const fn c_const(c_name: &'static str, value: u32) -> CConstant {
    CConstant { c_name, value: value as i128 }
}

/// Version macros of the headers, for the C cross-check.
pub const VERSION_CONSTANTS: &[CConstant] = &[
    c_const("TVM_FFI_VERSION_MAJOR", TVM_FFI_VERSION_MAJOR),
    c_const("TVM_FFI_VERSION_MINOR", TVM_FFI_VERSION_MINOR),
    c_const("TVM_FFI_VERSION_PATCH", TVM_FFI_VERSION_PATCH),
    c_const("DLPACK_MAJOR_VERSION", DLPACK_MAJOR_VERSION),
    c_const("DLPACK_MINOR_VERSION", DLPACK_MINOR_VERSION),
];

/// Every mirrored struct, as Rust laid it out on this target.
pub const LAYOUTS: &[&[CLayout]] = &[c_api::C_API_LAYOUTS, dlpack::DLPACK_LAYOUTS];

/// Every named C constant that Rust declares.
pub const CONSTANTS: &[&[CConstant]] = &[
    VERSION_CONSTANTS,
    crate::TypeIndex::C_CONSTANTS,
    crate::DeviceType::C_CONSTANTS,
    crate::DataTypeCode::C_CONSTANTS,
    crate::flags::DeleterFlags::C_CONSTANTS,
    crate::flags::BacktraceUpdateMode::C_CONSTANTS,
    crate::flags::FieldFlags::C_CONSTANTS,
    crate::flags::SEqHashKind::C_CONSTANTS,
    crate::flags::DefRegionKind::C_CONSTANTS,
    crate::flags::DLPackFlags::C_CONSTANTS,
];

/// Alignment of `uint64_t` inside a C struct on this target (4 on i686, else 8).
const ALIGN_U64: usize = core::mem::align_of::<u64>();
/// Alignment of a pointer.
const ALIGN_PTR: usize = core::mem::align_of::<usize>();

#[cfg(not(any(target_pointer_width = "32", target_pointer_width = "64")))]
compile_error!("the TVM-FFI ABI is defined for 32-bit and 64-bit targets only");
