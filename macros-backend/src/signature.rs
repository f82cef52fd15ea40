//! What an exported function must look like, and what its export needs from it.

use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{Expr, FnArg, Ident, ItemFn, LitStr, ReturnType, Type};

use crate::errors::Errors;

/// An exportable function: its name, the export name, and its types with named lifetimes
/// made `'_` (the export's code names them outside the function).
#[cfg_attr(test, derive(Debug))]
pub struct Export {
    /// The function.
    pub function: Ident,
    /// The name after `__tvm_ffi_`.
    pub name: String,
    /// The argument types, in order.
    pub args: Vec<Type>,
    /// The return type (`()` when none is written).
    pub ret: Type,
    /// The values of the `#[doc = ...]` attributes (a `///` line each), in order.
    pub docs: Vec<Expr>,
}

impl Export {
    /// Check `f` and take what its export needs; every problem found is reported at once.
    pub fn from_fn(f: &ItemFn, name: Option<&LitStr>) -> syn::Result<Self> {
        let mut errors = Errors::default();
        let sig = &f.sig;
        if let Some(t) = &sig.asyncness {
            errors.push(t.span(), "an exported function cannot be `async`: C calls it and waits");
        }
        if let Some(t) = &sig.unsafety {
            errors.push(
                t.span(),
                "an exported function cannot be `unsafe`: its C callers cannot keep a contract; \
                 write a safe function with the `unsafe` block inside",
            );
        }
        if let Some(abi) = &sig.abi {
            errors.push(
                abi.span(),
                "remove the `extern` ABI: #[tvmffi::export] writes the `extern \"C\"` entry point",
            );
        }
        if let Some(v) = &sig.variadic {
            errors.push(v.span(), "an exported function cannot be variadic");
        }
        let generic =
            sig.generics.params.iter().find(|p| !matches!(p, syn::GenericParam::Lifetime(_)));
        if let Some(p) = generic {
            errors.push(
                p.span(),
                "an exported function cannot be generic: its export needs one concrete signature",
            );
        }
        if let Some(w) = &sig.generics.where_clause {
            errors.push(w.span(), "an exported function cannot have a `where` clause");
        }

        let mut args = Vec::new();
        for input in &sig.inputs {
            match input {
                FnArg::Receiver(r) => errors.push(
                    r.span(),
                    "an exported function cannot take `self`: export a free function",
                ),
                FnArg::Typed(t) => {
                    if let Some(span) = impl_trait(&t.ty) {
                        errors.push(
                            span,
                            "an exported function cannot take `impl Trait`: name the argument's type",
                        );
                    }
                    args.push(elide_lifetimes((*t.ty).clone()));
                }
            }
        }
        let ret = match &sig.output {
            ReturnType::Default => syn::parse_quote!(()),
            ReturnType::Type(_, ty) => {
                if let Some(span) = impl_trait(ty) {
                    errors.push(
                        span,
                        "an exported function cannot return `impl Trait`: name the return type",
                    );
                }
                elide_lifetimes((**ty).clone())
            }
        };

        let name = match name {
            Some(lit) => {
                let value = lit.value();
                if !is_c_identifier(&value) {
                    errors.push(
                        lit.span(),
                        "the export name must be a C identifier (letters, digits, `_`; not \
                         starting with a digit): it is the symbol `__tvm_ffi_<name>`",
                    );
                }
                value
            }
            None => sig.ident.unraw().to_string(),
        };
        let docs = f
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("doc"))
            .filter_map(|a| match &a.meta {
                syn::Meta::NameValue(nv) => Some(nv.value.clone()),
                _ => None,
            })
            .collect();
        errors.finish(Self { function: sig.ident.clone(), name, args, ret, docs })
    }
}

/// Where `ty` uses `impl Trait`, if anywhere.
fn impl_trait(ty: &Type) -> Option<proc_macro2::Span> {
    struct Find(Option<proc_macro2::Span>);
    impl syn::visit::Visit<'_> for Find {
        fn visit_type_impl_trait(&mut self, t: &syn::TypeImplTrait) {
            self.0.get_or_insert(t.span());
        }
    }
    let mut find = Find(None);
    syn::visit::visit_type(&mut find, ty);
    find.0
}

/// `ty` with every named lifetime but `'static` made `'_`.
fn elide_lifetimes(mut ty: Type) -> Type {
    struct Elide;
    impl VisitMut for Elide {
        fn visit_lifetime_mut(&mut self, l: &mut syn::Lifetime) {
            if l.ident != "static" {
                l.ident = Ident::new("_", l.ident.span());
            }
        }
    }
    Elide.visit_type_mut(&mut ty);
    ty
}

fn is_c_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::ToTokens;

    fn export(f: proc_macro2::TokenStream) -> syn::Result<Export> {
        Export::from_fn(&syn::parse2(f).unwrap(), None)
    }

    fn errors(f: proc_macro2::TokenStream) -> Vec<String> {
        export(f).unwrap_err().into_iter().map(|e| e.to_string()).collect()
    }

    fn text(t: &impl ToTokens) -> String {
        t.to_token_stream().to_string()
    }

    #[test]
    fn takes_types_name_and_docs() {
        let e = export(quote::quote! {
            /// Add one.
            ///
            /// Twice documented.
            #[inline]
            pub fn add_one(x: i64, (a, b): (f64, f64)) -> Result<i64, Error> { Ok(x + 1) }
        })
        .unwrap();
        assert_eq!(e.name, "add_one");
        assert_eq!(e.function, "add_one");
        assert_eq!(e.args.iter().map(text).collect::<Vec<_>>(), ["i64", "(f64 , f64)"]);
        assert_eq!(text(&e.ret), "Result < i64 , Error >");
        let docs: Vec<_> = e
            .docs
            .iter()
            .map(|d| syn::parse2::<LitStr>(d.to_token_stream()).unwrap().value())
            .collect();
        assert_eq!(docs, [" Add one.", "", " Twice documented."]);
    }

    #[test]
    fn no_return_type_is_unit_and_raw_names_lose_their_prefix() {
        let e = export(quote::quote! { fn r#type() {} }).unwrap();
        assert_eq!((e.name.as_str(), text(&e.ret).as_str()), ("type", "()"));
        assert_eq!(e.function.to_string(), "r#type");
    }

    #[test]
    fn named_lifetimes_are_elided_static_stays() {
        let e = export(quote::quote! {
            fn f<'a>(v: AnyView<'a>, s: &'a core::ffi::CStr, k: &'static str) -> AnyView<'a> { v }
        })
        .unwrap();
        let args: Vec<_> = e.args.iter().map(text).collect();
        assert_eq!(args, ["AnyView < '_ >", "& '_ core :: ffi :: CStr", "& 'static str"]);
        assert_eq!(text(&e.ret), "AnyView < '_ >");
    }

    #[test]
    fn rejects_what_cannot_be_exported_all_at_once() {
        let errs = errors(quote::quote! {
            async unsafe extern "C" fn f<T: Copy>(x: impl Into<i64>) -> impl Copy where T: Send {}
        });
        assert_eq!(errs.len(), 7, "{errs:#?}");
        for needle in [
            "`async`",
            "`unsafe`",
            "`extern` ABI",
            "generic",
            "`where`",
            "take `impl",
            "return `impl",
        ] {
            assert!(errs.iter().any(|e| e.contains(needle)), "{needle}: {errs:#?}");
        }
        let errs = errors(quote::quote! { fn m(&self, n: i64) {} });
        assert_eq!(errs, ["an exported function cannot take `self`: export a free function"]);
        let errs = errors(quote::quote! { fn c<const N: usize>() {} });
        assert!(errs[0].contains("generic"));
    }

    #[test]
    fn export_names_are_c_identifiers() {
        let f: ItemFn = syn::parse_quote! { fn f() {} };
        let ok: LitStr = syn::parse_quote!("_add1");
        assert_eq!(Export::from_fn(&f, Some(&ok)).unwrap().name, "_add1");
        for bad in ["", "1st", "a.b", "a-b", "é"] {
            let lit = LitStr::new(bad, proc_macro2::Span::call_site());
            assert!(Export::from_fn(&f, Some(&lit)).is_err(), "{bad:?}");
        }
    }
}
