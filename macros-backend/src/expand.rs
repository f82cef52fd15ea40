//! The tokens `#[tvmffi::export]` emits: the function as written, then its exports through
//! the facade's `__export_impl!`, which writes the C entry points.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{ItemFn, Path};

use crate::Export;

/// `function`, then `#krate::__export_impl! { ... }` for `export`.
pub fn expand(function: &ItemFn, export: &Export, krate: &Path) -> TokenStream {
    let Export { function: ident, name, args, ret, docs } = export;
    quote! {
        #function

        #krate::__export_impl! {
            name: #name,
            fn: #ident,
            args: [#(#args),*],
            ret: #ret,
            doc: [#(#docs),*],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_fn(attr: TokenStream, f: TokenStream) -> String {
        crate::export(attr, f).to_string()
    }

    #[test]
    fn emits_the_function_then_the_shared_export_macro() {
        let out = expand_fn(
            quote!(),
            quote! {
                /// Doc.
                fn add(a: i64, b: f64) -> f64 { a as f64 + b }
            },
        );
        let expected = quote! {
            /// Doc.
            fn add(a: i64, b: f64) -> f64 { a as f64 + b }
            ::tvmffi::__export_impl! {
                name: "add",
                fn: add,
                args: [i64, f64],
                ret: f64,
                doc: [r" Doc."],
            }
        };
        assert_eq!(out, expected.to_string());
    }

    #[test]
    fn options_rename_the_export_and_the_crate() {
        let out = expand_fn(quote!(name = "plus", crate = ::ffi), quote! { fn add() {} });
        assert!(out.contains(":: ffi :: __export_impl !"), "{out}");
        assert!(out.contains("name : \"plus\""), "{out}");
        assert!(out.contains("ret : ()"), "{out}");
    }

    #[test]
    fn errors_keep_the_item_and_add_compile_errors() {
        let out = expand_fn(quote!(), quote! { async fn f() {} });
        assert!(out.starts_with("async fn f () { }"), "{out}");
        assert!(out.contains("compile_error !"), "{out}");
        assert!(!out.contains("__export_impl"), "{out}");
        let out = expand_fn(quote!(bogus), quote! { fn f() {} });
        assert!(out.contains("unknown option `bogus`"), "{out}");
        let out = expand_fn(quote!(), quote! { struct S; });
        assert!(out.contains("applies to free functions"), "{out}");
    }
}
