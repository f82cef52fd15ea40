//! The derives that `tvm-ffi-stubgen --target rust` writes (`tvm_ffi::derive::Object` and
//! `tvm_ffi::derive::ObjectRef`): mirrors of object types defined elsewhere, whose struct
//! holds the whole object, header included, behind a first field `base`.
//!
//! ```text
//! #[repr(C)]
//! #[derive(tvm_ffi::derive::Object)]
//! #[type_key = "testing.TestIntPair"]
//! #[type_final]
//! pub struct TestIntPairObj { base: Object, pub a: i64, pub b: i64 }
//!
//! #[repr(C)]
//! #[derive(tvm_ffi::derive::ObjectRef, Clone)]
//! pub struct TestIntPair { base: ObjectArc<TestIntPairObj> }
//! ```
//!
//! Both expand to one call of a `macro_rules!` macro of the facade (`__mirror_object!`,
//! `__mirror_object_ref!`), which holds the logic. The facade is named `tvm_ffi`, as in the
//! generator's output (a dependency renamed with `package = "tvmffi"`), unless
//! `#[tvmffi(crate = path)]` says otherwise.

use proc_macro2::TokenStream;
use quote::quote;
use syn::spanned::Spanned;
use syn::{
    Attribute, Data, DeriveInput, Fields, GenericArgument, LitStr, Path, PathArguments, Type,
};

use crate::errors::Errors;

/// `#[tvmffi(crate = path)]`, or `::tvm_ffi`.
fn krate(attrs: &[Attribute], errors: &mut Errors) -> Path {
    let mut krate: Path = syn::parse_quote!(::tvm_ffi);
    for attr in attrs.iter().filter(|a| a.path().is_ident("tvmffi")) {
        let result = attr.parse_nested_meta(|meta| {
            if !meta.path.is_ident("crate") {
                return Err(meta.error("expected `crate = path`"));
            }
            let value = meta.value()?;
            krate = if value.peek(LitStr) {
                value.parse::<LitStr>()?.parse()?
            } else {
                value.parse()?
            };
            Ok(())
        });
        if let Err(e) = result {
            errors.add(e);
        }
    }
    krate
}

/// The named fields of a non-generic struct, or errors.
fn struct_fields<'a>(
    input: &'a DeriveInput,
    what: &str,
    errors: &mut Errors,
) -> Vec<&'a syn::Field> {
    if !input.generics.params.is_empty() {
        errors.push(input.generics.span(), &format!("{what} cannot be generic"));
    }
    match &input.data {
        Data::Struct(s) => match &s.fields {
            Fields::Named(f) => f.named.iter().collect(),
            _ => {
                errors.push(input.ident.span(), &format!("{what} has named fields"));
                Vec::new()
            }
        },
        _ => {
            errors.push(input.ident.span(), &format!("{what} is a struct"));
            Vec::new()
        }
    }
}

/// `#[derive(tvm_ffi::derive::Object)]`: a `#[repr(C)]` mirror of an object, its first
/// field the parent's mirror (or the header, `tvm_ffi::Object`).
pub fn derive_mirror_object(input: TokenStream) -> TokenStream {
    let input = match syn::parse2::<DeriveInput>(input) {
        Ok(input) => input,
        Err(e) => return e.to_compile_error(),
    };
    let mut errors = Errors::default();
    let krate = krate(&input.attrs, &mut errors);
    let fields = struct_fields(&input, "an object mirror", &mut errors);
    let mut type_key = None;
    let mut is_final = false;
    for attr in &input.attrs {
        if attr.path().is_ident("type_key") {
            match &attr.meta {
                syn::Meta::NameValue(nv) => match &nv.value {
                    syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => {
                        type_key = Some(s.clone());
                    }
                    other => errors.push(other.span(), "expected `#[type_key = \"my.Type\"]`"),
                },
                other => errors.push(other.span(), "expected `#[type_key = \"my.Type\"]`"),
            }
        } else if attr.path().is_ident("type_final") {
            match &attr.meta {
                syn::Meta::Path(_) => is_final = true,
                other => errors.push(other.span(), "expected `#[type_final]`"),
            }
        }
    }
    if type_key.is_none() {
        errors.push(input.ident.span(), "an object mirror needs `#[type_key = \"my.Type\"]`");
    }
    let base = fields.first().and_then(|f| f.ident.clone().map(|i| (i, f.ty.clone())));
    if base.is_none()
        && matches!(&input.data, Data::Struct(s) if matches!(s.fields, Fields::Named(_)))
    {
        errors.push(
            input.ident.span(),
            "an object mirror starts with its parent: `base: tvm_ffi::Object` or the parent's mirror",
        );
    }
    if let Err(e) = errors.finish(()) {
        return e.to_compile_error();
    }
    let (base, base_ty) = base.expect("checked");
    let ident = &input.ident;
    quote! {
        #krate::__private::mirror_object! {
            #ident, #base: #base_ty, #type_key, #is_final
        }
    }
}

/// The `T` of a field type written `ObjectArc<T>`.
fn object_arc_target(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last()?;
    if last.ident != "ObjectArc" {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else { return None };
    match args.args.first()? {
        GenericArgument::Type(t) if args.args.len() == 1 => Some(t),
        _ => None,
    }
}

/// `#[derive(tvm_ffi::derive::ObjectRef)]`: a reference type whose one field is an
/// `ObjectArc<TObj>`.
pub fn derive_mirror_object_ref(input: TokenStream) -> TokenStream {
    let input = match syn::parse2::<DeriveInput>(input) {
        Ok(input) => input,
        Err(e) => return e.to_compile_error(),
    };
    let mut errors = Errors::default();
    let krate = krate(&input.attrs, &mut errors);
    let fields = struct_fields(&input, "an object reference", &mut errors);
    let target = match fields.as_slice() {
        [only] => match (&only.ident, object_arc_target(&only.ty)) {
            (Some(name), Some(target)) => Some((name.clone(), target.clone())),
            _ => None,
        },
        _ => None,
    };
    if target.is_none() {
        errors.push(
            input.ident.span(),
            "an object reference has one field, `data: ObjectArc<TheObject>`",
        );
    }
    if let Err(e) = errors.finish(()) {
        return e.to_compile_error();
    }
    let (field, target) = target.expect("checked");
    let ident = &input.ident;
    quote! {
        #krate::__private::mirror_object_ref! { #ident, #field: #target }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_mirror_calls_the_facade_macro() {
        let out = derive_mirror_object(quote! {
            #[repr(C)]
            #[type_key = "testing.TestIntPair"]
            #[type_final]
            pub struct TestIntPairObj { base: Object, pub a: i64 }
        });
        assert_eq!(
            out.to_string(),
            quote! {
                ::tvm_ffi::__private::mirror_object! {
                    TestIntPairObj, base: Object, "testing.TestIntPair", true
                }
            }
            .to_string()
        );
        let out = derive_mirror_object(quote! {
            #[tvmffi(crate = crate)]
            #[type_key = "ffi.Enum"]
            struct FfiEnumObj { base: Object }
        });
        assert!(out.to_string().starts_with("crate :: __private :: mirror_object !"), "{out}");
        assert!(out.to_string().contains("false"), "{out}");
    }

    #[test]
    fn an_object_mirror_needs_a_key_and_a_base() {
        let out = derive_mirror_object(quote!(
            struct A {
                base: Object,
            }
        ));
        assert!(out.to_string().contains("needs `#[type_key"), "{out}");
        let out = derive_mirror_object(quote!(
            #[type_key = "k"]
            struct A {}
        ));
        assert!(out.to_string().contains("starts with its parent"), "{out}");
        let out = derive_mirror_object(quote!(
            #[type_key = 3]
            struct A {
                base: Object,
            }
        ));
        assert!(out.to_string().contains("expected `#[type_key"), "{out}");
        let out = derive_mirror_object(quote!(
            #[type_key = "k"]
            #[type_final = true]
            struct A {
                base: Object,
            }
        ));
        assert!(out.to_string().contains("expected `#[type_final]`"), "{out}");
        let out = derive_mirror_object(quote!(
            #[type_key = "k"]
            enum A {
                B,
            }
        ));
        assert!(out.to_string().contains("is a struct"), "{out}");
    }

    #[test]
    fn an_object_reference_wraps_one_object_arc() {
        let out = derive_mirror_object_ref(quote! {
            pub struct TestIntPair { base: ObjectArc<TestIntPairObj> }
        });
        assert_eq!(
            out.to_string(),
            quote! {
                ::tvm_ffi::__private::mirror_object_ref! { TestIntPair, base: TestIntPairObj }
            }
            .to_string()
        );
        let out = derive_mirror_object_ref(quote!(
            struct R {
                a: ObjectArc<A>,
                b: i64,
            }
        ));
        assert!(out.to_string().contains("one field"), "{out}");
        let out = derive_mirror_object_ref(quote!(
            struct R {
                a: Box<A>,
            }
        ));
        assert!(out.to_string().contains("one field"), "{out}");
    }
}
