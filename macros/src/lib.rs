//! The procedural macros of [tvmffi](https://docs.rs/tvmffi): use them through that crate
//! (`#[tvmffi::export]`), which has their documentation. The logic lives in
//! `tvmffi-macros-backend`.

use proc_macro::TokenStream;

/// Export a Rust function as a TVM-FFI library function; see `tvmffi::export`.
#[proc_macro_attribute]
pub fn export(attr: TokenStream, item: TokenStream) -> TokenStream {
    tvmffi_macros_backend::export(attr.into(), item.into()).into()
}
