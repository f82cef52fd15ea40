//! `#[derive(Object)]`: a Rust struct becomes an FFI object type.
//!
//! The struct is the payload of its objects (`Object<T>`: the header, then the struct), so
//! it must be `#[repr(C)]`, and with a parent its first field holds the parent's payload.
//! The expansion implements the alloc tier's `ObjectDef` (type key, parent, finality, child
//! slots) and `Payload`, and registers the type's reflection from `ObjectDef::on_register`,
//! the moment its index is first handed out: every field (read-only, or writable when it is
//! a `FieldCell`), the doc comments, the structural equality kind, methods, and the
//! creator and `__ffi_shallow_copy__` when the struct is `Default` and `Clone`.

mod attrs;
mod expand;

use proc_macro2::TokenStream;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Expr, Fields, Ident, Type};

pub use attrs::{FieldAttrs, TypeAttrs};

use crate::errors::Errors;

/// A struct deriving `Object`, checked.
#[cfg_attr(test, derive(Debug))]
pub struct ObjectStruct {
    /// The struct.
    pub ident: Ident,
    /// Its `#[tvmffi(...)]` options.
    pub attrs: TypeAttrs,
    /// Its doc comment, one expression per line.
    pub docs: Vec<Expr>,
    /// The first field, holding the parent's payload, when there is a parent.
    pub parent_field: Option<(Ident, Type)>,
    /// The fields to reflect, in order.
    pub fields: Vec<ReflectedField>,
}

/// One reflected field.
#[cfg_attr(test, derive(Debug))]
pub struct ReflectedField {
    /// The member.
    pub ident: Ident,
    /// Its type.
    pub ty: Type,
    /// Its `#[tvmffi(...)]` options.
    pub attrs: FieldAttrs,
    /// Its doc comment.
    pub docs: Vec<Expr>,
    /// Whether C++ and Python may set it: a `FieldCell` not marked `read_only`.
    pub writable: bool,
}

/// `#[derive(Object)]` on `input`: the trait impls, or the compile errors.
pub fn derive_object(input: TokenStream) -> TokenStream {
    let input = match syn::parse2::<DeriveInput>(input) {
        Ok(input) => input,
        Err(e) => return e.to_compile_error(),
    };
    match ObjectStruct::from_input(&input) {
        Ok(s) => expand::expand(&s),
        Err(e) => e.to_compile_error(),
    }
}

/// The `#[doc = ...]` values of `attrs`.
pub fn docs(attrs: &[syn::Attribute]) -> Vec<Expr> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => Some(nv.value.clone()),
            _ => None,
        })
        .collect()
}

/// Whether `attrs` hold `#[repr(C)]` (possibly with other hints, e.g. `align`).
fn has_repr_c(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().filter(|a| a.path().is_ident("repr")).any(|a| {
        let mut c = false;
        let _ = a.parse_nested_meta(|meta| {
            c |= meta.path.is_ident("C");
            if meta.input.peek(syn::token::Paren) {
                let _ = meta.input.parse::<proc_macro2::Group>();
            }
            Ok(())
        });
        c
    })
}

/// Whether `ty` is written as a `FieldCell<...>` (by its last path segment).
fn is_field_cell(ty: &Type) -> bool {
    match ty {
        Type::Path(p) if p.qself.is_none() => {
            p.path.segments.last().is_some_and(|s| s.ident == "FieldCell")
        }
        Type::Group(g) => is_field_cell(&g.elem),
        Type::Paren(p) => is_field_cell(&p.elem),
        _ => false,
    }
}

impl ObjectStruct {
    /// Check `input` and take what the expansion needs; every problem is reported at once.
    pub fn from_input(input: &DeriveInput) -> syn::Result<Self> {
        let mut errors = Errors::default();
        let attrs = TypeAttrs::parse(&input.attrs, &mut errors);
        if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
            errors.push(
                input.generics.span(),
                "an object type cannot be generic: its type key names one concrete layout",
            );
        }
        if !has_repr_c(&input.attrs) {
            errors.push(
                input.ident.span(),
                "an object type needs `#[repr(C)]`: C++ and Python find its fields at fixed \
                 offsets, and a subclass starts with its parent's layout",
            );
        }
        if attrs.type_key.is_none() {
            errors.push(
                input.ident.span(),
                "an object type needs a type key: `#[tvmffi(type_key = \"my.Type\")]`",
            );
        }
        let named = match &input.data {
            Data::Struct(s) => match &s.fields {
                Fields::Named(f) => f.named.iter().collect(),
                Fields::Unit => Vec::new(),
                Fields::Unnamed(f) => {
                    errors.push(
                        f.span(),
                        "an object type has named fields (C++ and Python find them by name)",
                    );
                    Vec::new()
                }
            },
            Data::Enum(e) => {
                errors.push(e.enum_token.span, "#[derive(Object)] applies to structs");
                Vec::new()
            }
            Data::Union(u) => {
                errors.push(u.union_token.span, "#[derive(Object)] applies to structs");
                Vec::new()
            }
        };
        let mut named = named.into_iter();
        let parent_field = match &attrs.parent {
            None => None,
            Some(parent) => match named.next() {
                Some(first) => {
                    if let Some(a) = first.attrs.iter().find(|a| a.path().is_ident("tvmffi")) {
                        errors.push(
                            a.span(),
                            "the first field holds the parent's payload, which the parent \
                             reflects: it takes no `tvmffi` options",
                        );
                    }
                    first.ident.clone().map(|i| (i, first.ty.clone()))
                }
                None => {
                    errors.push(
                        parent.span(),
                        "a type with a parent starts with the parent's payload: add a first \
                         field of the parent's type, e.g. `base: Parent`",
                    );
                    None
                }
            },
        };
        let mut fields = Vec::new();
        for f in named {
            let field_attrs = FieldAttrs::parse(&f.attrs, &mut errors);
            let Some(ident) = f.ident.clone() else { continue };
            if field_attrs.skip.is_some() {
                continue;
            }
            let writable = is_field_cell(&f.ty) && !field_attrs.read_only;
            if field_attrs.read_only && !is_field_cell(&f.ty) {
                errors.push(
                    f.ty.span(),
                    "`read_only` is for `FieldCell` fields: other fields are read-only already",
                );
            }
            fields.push(ReflectedField {
                ident,
                ty: f.ty.clone(),
                attrs: field_attrs,
                docs: docs(&f.attrs),
                writable,
            });
        }
        let docs = docs(&input.attrs);
        errors.finish(Self { ident: input.ident.clone(), attrs, docs, parent_field, fields })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(item: TokenStream) -> syn::Result<ObjectStruct> {
        ObjectStruct::from_input(&syn::parse2(item).unwrap())
    }

    fn errors(item: TokenStream) -> Vec<String> {
        parse(item).unwrap_err().into_iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn takes_fields_parent_and_writability() {
        let s = parse(quote::quote! {
            /// A square.
            #[derive(Clone)]
            #[tvmffi(type_key = "ex.Square", parent = Shape)]
            #[repr(C, align(8))]
            struct Square {
                base: Shape,
                /// The side.
                side: FieldCell<f64>,
                #[tvmffi(read_only)]
                fixed: tvmffi::object_type::FieldCell<i64>,
                #[tvmffi(skip)]
                cache: i64,
                r#type: i64,
            }
        })
        .unwrap();
        assert_eq!(s.parent_field.as_ref().unwrap().0, "base");
        let names: Vec<_> = s.fields.iter().map(|f| (f.ident.to_string(), f.writable)).collect();
        assert_eq!(
            names,
            [("side".into(), true), ("fixed".into(), false), ("r#type".into(), false)]
        );
        assert_eq!(s.docs.len(), 1);
        assert_eq!(s.fields[0].docs.len(), 1);
    }

    #[test]
    fn reports_every_problem_at_once() {
        let errs = errors(quote::quote! {
            struct Bad<T> { x: T }
        });
        assert_eq!(errs.len(), 3, "{errs:?}");
        assert!(errs[0].contains("cannot be generic"));
        assert!(errs[1].contains("needs `#[repr(C)]`"));
        assert!(errs[2].contains("needs a type key"));

        let errs = errors(quote::quote! {
            #[tvmffi(type_key = "k", parent = P)]
            #[repr(C)]
            struct NoBase;
        });
        assert!(errs[0].contains("starts with the parent's payload"), "{errs:?}");

        let errs = errors(quote::quote! {
            #[tvmffi(type_key = "k")]
            #[repr(C)]
            struct Tuple(i64);
        });
        assert!(errs[0].contains("named fields"), "{errs:?}");

        let errs = errors(quote::quote! {
            #[tvmffi(type_key = "k")]
            #[repr(C)]
            enum E { A }
        });
        assert!(errs[0].contains("applies to structs"), "{errs:?}");

        let errs = errors(quote::quote! {
            #[tvmffi(type_key = "k")]
            #[repr(C)]
            struct S { #[tvmffi(read_only)] x: i64 }
        });
        assert!(errs[0].contains("`read_only` is for `FieldCell` fields"), "{errs:?}");

        let errs = errors(quote::quote! {
            #[tvmffi(type_key = "k", parent = P)]
            #[repr(C)]
            struct S { #[tvmffi(kw_only)] base: P }
        });
        assert!(errs[0].contains("takes no `tvmffi` options"), "{errs:?}");
    }

    #[test]
    fn repr_c_is_found_among_other_hints() {
        let input: DeriveInput = syn::parse_quote! { #[repr(align(16), C)] struct S; };
        assert!(has_repr_c(&input.attrs));
        let input: DeriveInput = syn::parse_quote! { #[repr(transparent)] struct S; };
        assert!(!has_repr_c(&input.attrs));
    }
}
