//! The tokens `#[derive(Object)]` emits: `ObjectDef` and `Payload` impls whose
//! `on_register` registers the reflection, and compile-time checks of the layout contract.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Expr, Lit};

use super::{ObjectStruct, ReflectedField};

/// The doc comment as one string expression: tidied as rustdoc reads `///` lines when they
/// are all literals (one leading space dropped, lines joined, blank ends trimmed), else the
/// lines concatenated as written.
pub fn doc_string(docs: &[Expr]) -> Option<TokenStream> {
    if docs.is_empty() {
        return None;
    }
    let literals: Option<Vec<String>> = docs
        .iter()
        .map(|d| match d {
            Expr::Lit(syn::ExprLit { lit: Lit::Str(s), .. }) => Some(s.value()),
            _ => None,
        })
        .collect();
    Some(match literals {
        Some(lines) => {
            let lines: Vec<&str> =
                lines.iter().map(|l| l.strip_prefix(' ').unwrap_or(l).trim_end()).collect();
            let text = lines.join("\n");
            let text = text.trim_matches('\n');
            quote!(#text)
        }
        None => quote!(::core::concat!(#(#docs, "\n"),*)),
    })
}

/// The chain of builder calls describing one field, then its registration (`def_ro` or
/// `def_rw`), spanned at the field's type so that an unsupported type is reported there.
fn field_tokens(f: &ReflectedField) -> TokenStream {
    let ident = &f.ident;
    let name = match &f.attrs.name {
        Some(lit) => lit.to_token_stream(),
        None => {
            let plain = syn::ext::IdentExt::unraw(ident).to_string();
            quote!(#plain)
        }
    };
    let mut calls = TokenStream::new();
    if let Some(doc) = doc_string(&f.docs) {
        calls.extend(quote!(.doc(#doc)));
    }
    if let Some(d) = &f.attrs.default {
        calls.extend(quote_spanned!(d.span()=> .default(#d)));
    }
    if let Some(d) = &f.attrs.default_factory {
        calls.extend(quote_spanned!(d.span()=> .default_factory(#d)));
    }
    if f.attrs.kw_only {
        calls.extend(quote!(.kw_only(true)));
    }
    for (switch, value) in &f.attrs.switches {
        calls.extend(quote!(.#switch(#value)));
    }
    if f.attrs.structural.as_ref().is_some_and(|b| !b.value) {
        calls.extend(quote!(.flags(__tvmffi::FieldFlags::SEQ_HASH_IGNORE)));
    }
    for (key, value) in &f.attrs.metadata {
        calls.extend(quote_spanned!(value.span()=> .metadata(#key, #value)));
    }
    let def = if f.writable { quote!(def_rw) } else { quote!(def_ro) };
    quote_spanned! {f.ty.span()=>
        let r = r.#def(__tvmffi::field!(Self, #ident, #name) #calls);
    }
}

/// `#[derive(Object)]`'s output for a checked struct.
pub fn expand(s: &ObjectStruct) -> TokenStream {
    let ObjectStruct { ident, attrs, docs, parent_field, fields } = s;
    let krate = &attrs.krate;
    let key = attrs.type_key.as_ref().expect("checked");
    let parent = match &attrs.parent {
        Some(p) => p.to_token_stream(),
        None => quote!(__tvmffi::ObjectRoot),
    };
    let is_final = attrs.is_final;
    let child_slots = attrs.child_slots.as_ref().map(|n| quote!(const CHILD_SLOTS: u32 = #n;));
    let can_overflow =
        attrs.can_overflow.as_ref().map(|b| quote!(const CHILD_SLOTS_CAN_OVERFLOW: bool = #b;));

    let parent_checks = parent_field.as_ref().map(|(base, base_ty)| {
        let parent = attrs.parent.as_ref().expect("a parent field implies a parent");
        quote_spanned! {base_ty.span()=>
            const _: () = __tvmffi::same_type::<#parent, #base_ty>();
            const _: () = ::core::assert!(
                ::core::mem::offset_of!(#ident, #base) == 0,
                "the parent's payload is the first field",
            );
        }
    });
    let parent_not_final = quote_spanned! {parent.span()=>
        const _: () = ::core::assert!(
            !<#parent as __tvmffi::TypeAncestor>::FINAL,
            "the parent type is `final`: no type may derive from it",
        );
    };

    let mut reflect = TokenStream::new();
    if let Some(doc) = doc_string(docs) {
        reflect.extend(quote!(let r = r.doc(#doc);));
    }
    match (&attrs.eq_hash_kind, &attrs.parent) {
        (Some(kind), _) => {
            reflect.extend(quote!(let r = r.structural_eq_hash_kind(__tvmffi::SEqHashKind::#kind);))
        }
        // As a C++ subclass inherits `_type_s_eq_hash_kind`.
        (None, Some(_)) => reflect.extend(
            quote!(let r = r.structural_eq_hash_kind(__tvmffi::parent_eq_hash_kind(index));),
        ),
        (None, None) => {}
    }
    reflect.extend(quote! {
        let r = (&&__tvmffi::Probe::<Self>::new()).__tvmffi_creator(r);
        let r = (&&__tvmffi::Probe::<Self>::new()).__tvmffi_shallow_copy(r);
    });
    if attrs.no_init {
        reflect.extend(quote!(let r = r.no_auto_init();));
    }
    for f in fields {
        reflect.extend(field_tokens(f));
    }
    if let Some(methods) = &attrs.methods {
        reflect.extend(quote_spanned!(methods.span()=> let r = #methods(r);));
    }

    quote! {
        #[allow(unsafe_code, clippy::needless_update)]
        const _: () = {
            use #krate::__private as __tvmffi;

            #parent_checks
            #parent_not_final

            // SAFETY: the derive checked `#[repr(C)]`, and with a parent the checks above
            // put its payload first; the key is the user's, and registering the reflection
            // fails for a key whose type another library has already described.
            #[automatically_derived]
            unsafe impl __tvmffi::ObjectDef for #ident {
                const TYPE_KEY: &'static str = #key;
                type Parent = #parent;
                #child_slots
                #can_overflow
                const FINAL: bool = #is_final;

                fn type_index_cache() -> &'static __tvmffi::TypeIndexCache {
                    static CACHE: __tvmffi::TypeIndexCache = __tvmffi::TypeIndexCache::new();
                    &CACHE
                }

                fn on_register(
                    index: __tvmffi::TypeIndex,
                ) -> ::core::result::Result<(), __tvmffi::Error> {
                    #[allow(unused_imports)]
                    use __tvmffi::{WithClone as _, WithDefault as _, WithoutClone as _, WithoutDefault as _};
                    let r = __tvmffi::Reflection::<Self>::with_boundary();
                    #reflect
                    __tvmffi::Reflection::<Self>::register_at(r, index).map(|_| ())
                }
            }

            // SAFETY: `is_instance` accepts this type's index and its subclasses' only,
            // which `ObjectDef` lays out as `Object<Self>`.
            #[automatically_derived]
            unsafe impl __tvmffi::Payload for #ident {
                const TYPE_KEY: &'static str = #key;

                #[inline]
                fn is_instance(type_index: __tvmffi::TypeIndex) -> bool {
                    __tvmffi::is_instance::<Self>(type_index)
                }
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_item(item: TokenStream) -> String {
        crate::object::derive_object(item).to_string()
    }

    #[test]
    fn implements_object_def_and_payload_through_the_private_path() {
        let out = expand_item(quote! {
            /// A point.
            ///
            /// In the plane.
            #[tvmffi(type_key = "ex.Point", final, eq_hash_kind = TREE_NODE)]
            #[repr(C)]
            struct Point {
                /// Abscissa.
                x: i64,
                #[tvmffi(default = 0.5, kw_only, repr = false, metadata(unit = "m"))]
                y: FieldCell<f64>,
            }
        });
        for needle in [
            "use :: tvmffi :: __private as __tvmffi ;",
            "unsafe impl __tvmffi :: ObjectDef for Point",
            "const TYPE_KEY : & 'static str = \"ex.Point\" ;",
            "type Parent = __tvmffi :: ObjectRoot ;",
            "const FINAL : bool = true ;",
            "let r = r . doc (\"A point.\\n\\nIn the plane.\") ;",
            "structural_eq_hash_kind (__tvmffi :: SEqHashKind :: TREE_NODE)",
            "let r = r . def_ro (__tvmffi :: field ! (Self , x , \"x\") . doc (\"Abscissa.\")) ;",
            "let r = r . def_rw (__tvmffi :: field ! (Self , y , \"y\") . default (0.5) . \
             kw_only (true) . repr (false) . metadata (\"unit\" , \"m\")) ;",
            "unsafe impl __tvmffi :: Payload for Point",
            "__tvmffi :: is_instance :: < Self > (type_index)",
        ] {
            assert!(out.contains(needle), "missing `{needle}` in {out}");
        }
        assert!(!out.contains("offset_of"), "no parent, no parent check: {out}");
    }

    #[test]
    fn a_parent_is_checked_first_and_not_reflected_again() {
        let out = expand_item(quote! {
            #[tvmffi(type_key = "ex.Square", parent = Shape, child_slots = 2, methods = extra)]
            #[tvmffi(no_init, crate = ::ffi)]
            #[repr(C)]
            struct Square { base: Shape, side: f64 }
        });
        for needle in [
            "use :: ffi :: __private as __tvmffi ;",
            "__tvmffi :: same_type :: < Shape , Shape > ()",
            ":: core :: mem :: offset_of ! (Square , base) == 0",
            "! < Shape as __tvmffi :: TypeAncestor > :: FINAL",
            "type Parent = Shape ;",
            "const CHILD_SLOTS : u32 = 2 ;",
            "let r = r . no_auto_init () ;",
            "let r = extra (r) ;",
        ] {
            assert!(out.contains(needle), "missing `{needle}` in {out}");
        }
        assert!(!out.contains("field ! (Self , base"), "{out}");
    }

    #[test]
    fn raw_names_and_explicit_names_and_computed_docs() {
        let out = expand_item(quote! {
            #[doc = include_str!("point.md")]
            #[tvmffi(type_key = "ex.T")]
            #[repr(C)]
            struct T { r#type: i64, #[tvmffi(name = "other")] x: i64 }
        });
        assert!(out.contains("field ! (Self , r#type , \"type\")"), "{out}");
        assert!(out.contains("field ! (Self , x , \"other\")"), "{out}");
        assert!(
            out.contains(":: core :: concat ! (include_str ! (\"point.md\") , \"\\n\")"),
            "{out}"
        );
    }

    #[test]
    fn errors_become_compile_errors() {
        let out = expand_item(quote!(
            struct S;
        ));
        assert!(out.contains("compile_error"), "{out}");
        assert!(!out.contains("ObjectDef"), "{out}");
    }
}
