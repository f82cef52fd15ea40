//! The procedural macros of [tvmffi](https://docs.rs/tvmffi): use them through that crate
//! (`#[tvmffi::export]`, `#[derive(tvmffi::Object)]`, `tvmffi::derive::{Object, ObjectRef}`),
//! which has their documentation. The logic lives in `tvmffi-macros-backend`.
//!
//! # Features
//!
//! None: the facade's `macros` feature turns this crate on.

use proc_macro::TokenStream;

/// Export a Rust function as a TVM-FFI library function; see `tvmffi::export`.
#[proc_macro_attribute]
pub fn export(attr: TokenStream, item: TokenStream) -> TokenStream {
    tvmffi_macros_backend::export(attr.into(), item.into()).into()
}

/// Make a Rust struct an FFI object type; see `tvmffi::Object`.
#[proc_macro_derive(Object, attributes(tvmffi))]
pub fn derive_object(item: TokenStream) -> TokenStream {
    tvmffi_macros_backend::derive_object(item.into()).into()
}

/// Mirror an object type defined elsewhere, header included; see `tvmffi::derive::Object`.
#[proc_macro_derive(MirrorObject, attributes(type_key, type_final, tvmffi))]
pub fn derive_mirror_object(item: TokenStream) -> TokenStream {
    tvmffi_macros_backend::derive_mirror_object(item.into()).into()
}

/// A reference type over a mirrored object; see `tvmffi::derive::ObjectRef`.
#[proc_macro_derive(MirrorObjectRef, attributes(tvmffi))]
pub fn derive_mirror_object_ref(item: TokenStream) -> TokenStream {
    tvmffi_macros_backend::derive_mirror_object_ref(item.into()).into()
}
