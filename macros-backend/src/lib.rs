//! The logic of tvmffi's procedural macros, kept out of the `proc-macro` crate so that it is
//! an ordinary library with unit tests (PyO3's `pyo3-macros-backend` split).
//!
//! - [`export`] implements `#[tvmffi::export]`: it checks that the function can be exported
//!   (one concrete, synchronous, safe signature), then emits the function unchanged and a
//!   call of the facade's hidden `__export_impl!` with the export name, the argument and
//!   return types, and the doc comment. That `macro_rules!` macro, shared with
//!   `tvmffi::exports!`, writes the `__tvm_ffi_<name>`, `__tvm_ffi__metadata_<name>` and
//!   `__tvm_ffi__doc_<name>` entry points, so both macros export exactly the same way.
//! - [`derive_object`] implements `#[derive(tvmffi::Object)]`: a Rust struct becomes an
//!   object type (`ObjectDef`, `Payload`, and its reflection registered with its index).
//! - [`derive_mirror_object`] and [`derive_mirror_object_ref`] implement the derives that the
//!   reference's Rust stub generator writes (`tvm_ffi::derive::{Object, ObjectRef}`).
//!
//! # Features
//!
//! None.

mod errors;
mod expand;
mod mirror;
mod object;
mod options;
mod signature;

use proc_macro2::TokenStream;

pub use mirror::{derive_mirror_object, derive_mirror_object_ref};
pub use object::{ObjectStruct, derive_object};
pub use options::Options;
pub use signature::Export;

/// `#[tvmffi::export(attr)] item`: the function, then its exports; or the function and a
/// `compile_error!` naming what cannot be exported.
pub fn export(attr: TokenStream, item: TokenStream) -> TokenStream {
    let options = match syn::parse2::<Options>(attr) {
        Ok(options) => options,
        Err(e) => return with_error(item, e),
    };
    let function = match syn::parse2::<syn::ItemFn>(item.clone()) {
        Ok(function) => function,
        Err(e) => {
            let e = syn::Error::new(
                e.span(),
                "#[tvmffi::export] applies to free functions: `fn name(args) -> type { ... }`",
            );
            return with_error(item, e);
        }
    };
    match Export::from_fn(&function, options.name.as_ref()) {
        Ok(export) => expand::expand(&function, &export, &options.krate),
        Err(e) => with_error(quote::ToTokens::to_token_stream(&function), e),
    }
}

/// The item as written, so that its other uses still resolve, and the error.
fn with_error(item: TokenStream, error: syn::Error) -> TokenStream {
    let error = error.to_compile_error();
    quote::quote! { #item #error }
}
