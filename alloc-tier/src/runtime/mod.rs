//! The runtime state behind the C API, as reusable types, and (with the `runtime` feature)
//! the C API itself for programs that have no other runtime.
//!
//! - [`ErrorSlot`]: a raised-error slot (`TVMFFIErrorSetRaised` / `TVMFFIErrorMoveFromRaised`).
//! - [`GlobalFunctions`]: global functions by name (`TVMFFIFunctionSetGlobal` / `GetGlobal`).
//! - [`TypeTable`]: type indices, keys, ancestry and reflection (`TVMFFITypeGetOrAllocIndex`,
//!   `TVMFFIGetTypeInfo`, `TVMFFITypeRegister*`).
//!
//! None of them locks itself except the slot; a runtime puts them behind its locks. The std
//! tier reuses the registry and the type table and keeps one error slot per thread.
//!
//! # The `runtime` feature
//!
//! Exactly one provider of the C API may exist in a process. Kernel libraries loaded by a
//! host (Python's `libtvm_ffi.so`) use the host's, and `tvmffi-std` brings its own; a
//! `no_std` + `alloc` program (a microcontroller, a wasm module) with neither enables this
//! crate's `runtime` feature, which defines these functions with `#[no_mangle]`, over one
//! global error slot, registry and type table, each behind a spin lock:
//!
//! | area | functions |
//! | --- | --- |
//! | version, objects | `TVMFFIGetVersion`, `TVMFFIObjectIncRef`, `TVMFFIObjectDecRef`, `TVMFFIObjectCreateOpaque` |
//! | functions | `TVMFFIFunctionCreate`, `TVMFFIFunctionCall`, `TVMFFIAnyViewToOwnedAny`, `TVMFFIFunctionSetGlobal`, `TVMFFIFunctionSetGlobalFromMethodInfo`, `TVMFFIFunctionGetGlobal` |
//! | errors | `TVMFFIErrorSetRaised`, `TVMFFIErrorMoveFromRaised`, `TVMFFIErrorSetRaisedFromCStr`, `TVMFFIErrorSetRaisedFromCStrParts`, `TVMFFIErrorCreate`, `TVMFFIErrorCreateWithCauseAndExtraContext`, `TVMFFIBacktrace` |
//! | types | `TVMFFITypeKeyToIndex`, `TVMFFITypeGetOrAllocIndex`, `TVMFFIGetTypeInfo`, `TVMFFITypeRegisterField`, `TVMFFITypeRegisterMethod`, `TVMFFITypeRegisterMetadata`, `TVMFFITypeRegisterAttr`, `TVMFFIGetTypeAttrColumn` |
//! | start-up | `TVMFFIHandleInitOnce`, `TVMFFIHandleDeinitOnce` |
//!
//! Not defined here, because they need more than `alloc` or belong to other modules: the
//! tensor and DLPack conversions (`TVMFFITensorFromDLPack*`, `TVMFFITensorToDLPack*`,
//! `TVMFFITensorCreateUnsafeView`), the data-type strings (`TVMFFIDataTypeFromString`,
//! `TVMFFIDataTypeToString`), the custom allocator (`TVMFFIGetCustomAllocator`,
//! `TVMFFISetCustomAllocator`), the environment (`TVMFFIEnv*`: streams, tensor allocators,
//! signals, modules and system-library symbols), which the std tier provides; and the string,
//! bytes and big-integer constructors (`TVMFFIStringFromByteArray`,
//! `TVMFFIBytesFromByteArray`, `TVMFFIBigIntFromByteArray`,
//! `TVMFFIBigIntGetContentByteArray`), which belong with those objects.
//!
//! Differences from the reference, all on input it would crash or exit on:
//!
//! - Every function checks its pointers, counts and indices; bad input raises an error and
//!   returns -1 (or null, or for `TVMFFITypeGetOrAllocIndex` -1), where the reference
//!   dereferences, or logs and exits. Nothing here panics on bad input.
//! - `TVMFFIBacktrace` returns an empty backtrace: `no_std` cannot walk the stack.
//! - `TVMFFIAnyViewToOwnedAny` of a C string or byte array longer than 7 bytes needs a
//!   string object; until this crate makes them, it raises a `RuntimeError`.
//! - One error slot for the whole program (see [`ErrorSlot`]).
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::unreachable,
    clippy::todo,
    clippy::unimplemented
)]

mod error_slot;
mod globals;
mod reflection;
mod type_table;

#[cfg(feature = "runtime")]
mod exports;
#[cfg(test)]
mod tests;

pub use error_slot::ErrorSlot;
pub use globals::{GlobalEntry, GlobalFunctions};
pub use type_table::TypeTable;
