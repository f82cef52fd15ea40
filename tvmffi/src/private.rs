//! What the export macros' expansions name, through `::tvmffi::__private` (or `$crate`), so
//! that a crate using them needs no other dependency and no import. Not an API.

pub use tvmffi_alloc::function::export::{
    ExportArgs, RustString, call_export, export_result, export_signature, write_doc, write_metadata,
};
pub use tvmffi_alloc::function::schema::function_schema;
pub use tvmffi_alloc::function::{TypeStr, TypedReturn};
pub use tvmffi_core::sys::TVMFFIAny;

/// The panic policy of exports: a panic becomes a `RuntimeError`.
#[cfg(feature = "std")]
pub type DefaultBoundary = tvmffi_std::CatchPanic;

/// The panic policy of exports without `std`: a panic aborts (it never unwinds into C).
#[cfg(not(feature = "std"))]
pub type DefaultBoundary = tvmffi_alloc::function::AbortOnPanic;
