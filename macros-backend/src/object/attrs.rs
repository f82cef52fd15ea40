//! The `#[tvmffi(...)]` attributes of `#[derive(Object)]`, on the struct and on its fields.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, Ident, LitBool, LitInt, LitStr, Path, Type};

use super::Errors;

/// The structural equality kinds a type may name (`SEqHashKind`'s constants).
pub const EQ_HASH_KINDS: &[&str] =
    &["UNSUPPORTED", "TREE_NODE", "FREE_VAR", "DAG_NODE", "CONST_TREE_NODE", "UNIQUE_INSTANCE"];

/// The struct's attributes.
#[cfg_attr(test, derive(Debug))]
pub struct TypeAttrs {
    /// `type_key = "..."`.
    pub type_key: Option<LitStr>,
    /// `parent = Type`; `ffi.Object` without it.
    pub parent: Option<Type>,
    /// `final`.
    pub is_final: bool,
    /// `child_slots = N`.
    pub child_slots: Option<LitInt>,
    /// `can_overflow = bool`.
    pub can_overflow: Option<LitBool>,
    /// `eq_hash_kind = KIND`.
    pub eq_hash_kind: Option<Ident>,
    /// `methods = path`: a function adding methods to the reflection.
    pub methods: Option<Path>,
    /// `no_init`: no generated `__ffi_init__`.
    pub no_init: bool,
    /// `crate = path`.
    pub krate: Path,
}

/// A field's attributes.
#[derive(Default)]
#[cfg_attr(test, derive(Debug))]
pub struct FieldAttrs {
    /// `skip`: not reflected.
    pub skip: Option<Span>,
    /// `read_only`: a `FieldCell` that C++ and Python may not set.
    pub read_only: bool,
    /// `name = "..."`: the reflected name.
    pub name: Option<LitStr>,
    /// `default = expr`.
    pub default: Option<Expr>,
    /// `default_factory = expr` (a `Function` of no arguments).
    pub default_factory: Option<Expr>,
    /// `kw_only`.
    pub kw_only: bool,
    /// `init = bool`, `repr = bool`, `compare = bool`, `hash = bool`.
    pub switches: Vec<(Ident, LitBool)>,
    /// `metadata(key = value, ...)`.
    pub metadata: Vec<(LitStr, Expr)>,
    /// `structural = false`: ignored by structural equality and hashing.
    pub structural: Option<LitBool>,
}

fn is_ours(a: &Attribute) -> bool {
    a.path().is_ident("tvmffi")
}

impl TypeAttrs {
    /// Read every `#[tvmffi(...)]` of the struct; problems go to `errors`.
    pub fn parse(attrs: &[Attribute], errors: &mut Errors) -> Self {
        let mut out = Self {
            type_key: None,
            parent: None,
            is_final: false,
            child_slots: None,
            can_overflow: None,
            eq_hash_kind: None,
            methods: None,
            no_init: false,
            krate: syn::parse_quote!(::tvmffi),
        };
        let mut seen = Vec::<String>::new();
        for attr in attrs.iter().filter(|a| is_ours(a)) {
            let result = attr.parse_nested_meta(|meta| {
                let key = meta
                    .path
                    .get_ident()
                    .map(|i| syn::ext::IdentExt::unraw(i).to_string())
                    .unwrap_or_default();
                if seen.contains(&key) {
                    return Err(meta.error(format!("`{key}` is given twice")));
                }
                seen.push(key.clone());
                match key.as_str() {
                    "type_key" => out.type_key = Some(meta.value()?.parse()?),
                    "parent" => out.parent = Some(meta.value()?.parse()?),
                    "final" => out.is_final = true,
                    "child_slots" => out.child_slots = Some(meta.value()?.parse()?),
                    "can_overflow" => out.can_overflow = Some(meta.value()?.parse()?),
                    "eq_hash_kind" => {
                        let kind: Ident = meta.value()?.parse()?;
                        if !EQ_HASH_KINDS.contains(&kind.to_string().as_str()) {
                            return Err(syn::Error::new(
                                kind.span(),
                                format!(
                                    "unknown `eq_hash_kind`: expected one of {}",
                                    EQ_HASH_KINDS.join(", ")
                                ),
                            ));
                        }
                        out.eq_hash_kind = Some(kind);
                    }
                    "methods" => out.methods = Some(meta.value()?.parse()?),
                    "no_init" => out.no_init = true,
                    "crate" => {
                        let value = meta.value()?;
                        out.krate = if value.peek(LitStr) {
                            value.parse::<LitStr>()?.parse()?
                        } else {
                            value.parse()?
                        };
                    }
                    _ => {
                        return Err(meta.error(
                            "unknown `tvmffi` option: expected `type_key`, `parent`, `final`, \
                             `child_slots`, `can_overflow`, `eq_hash_kind`, `methods`, `no_init` \
                             or `crate`",
                        ));
                    }
                }
                Ok(())
            });
            if let Err(e) = result {
                errors.add(e);
            }
        }
        if let (true, Some(slots)) = (out.is_final, &out.child_slots) {
            if slots.base10_parse::<u32>().is_ok_and(|n| n > 0) {
                errors.push(slots.span(), "a `final` type has no subclasses to reserve slots for");
            }
        }
        out
    }
}

impl FieldAttrs {
    /// Read every `#[tvmffi(...)]` of a field; problems go to `errors`.
    pub fn parse(attrs: &[Attribute], errors: &mut Errors) -> Self {
        let mut out = Self::default();
        let mut seen = Vec::<String>::new();
        for attr in attrs.iter().filter(|a| is_ours(a)) {
            let result = attr.parse_nested_meta(|meta| {
                let key = meta.path.get_ident().map(ToString::to_string).unwrap_or_default();
                if seen.contains(&key) {
                    return Err(meta.error(format!("`{key}` is given twice")));
                }
                seen.push(key.clone());
                match key.as_str() {
                    "skip" => out.skip = Some(meta.path.span()),
                    "read_only" => out.read_only = true,
                    "name" => out.name = Some(meta.value()?.parse()?),
                    "default" => out.default = Some(meta.value()?.parse()?),
                    "default_factory" => out.default_factory = Some(meta.value()?.parse()?),
                    "kw_only" => out.kw_only = true,
                    "init" | "repr" | "compare" | "hash" => {
                        let ident = meta.path.get_ident().cloned().expect("checked above");
                        out.switches.push((ident, meta.value()?.parse()?));
                    }
                    "structural" => out.structural = Some(meta.value()?.parse()?),
                    "metadata" => meta.parse_nested_meta(|entry| {
                        let Some(key) = entry.path.get_ident() else {
                            return Err(
                                entry.error("a metadata key is a name: `metadata(unit = \"m\")`")
                            );
                        };
                        let key = LitStr::new(&key.to_string(), key.span());
                        out.metadata.push((key, entry.value()?.parse()?));
                        Ok(())
                    })?,
                    _ => {
                        return Err(meta.error(
                            "unknown `tvmffi` field option: expected `skip`, `read_only`, `name`, \
                             `default`, `default_factory`, `kw_only`, `init`, `repr`, `compare`, \
                             `hash`, `structural` or `metadata(...)`",
                        ));
                    }
                }
                Ok(())
            });
            if let Err(e) = result {
                errors.add(e);
            }
        }
        if let (Some(d), Some(_)) = (&out.default, &out.default_factory) {
            errors.push(d.span(), "a field has a `default` or a `default_factory`, not both");
        }
        if let Some(span) = out.skip {
            let others = out.read_only
                || out.name.is_some()
                || out.default.is_some()
                || out.default_factory.is_some()
                || out.kw_only
                || !out.switches.is_empty()
                || !out.metadata.is_empty()
                || out.structural.is_some();
            if others {
                errors.push(span, "a `skip`ped field is not reflected: it takes no other option");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::ToTokens;

    fn type_attrs(item: proc_macro2::TokenStream) -> (TypeAttrs, Option<String>) {
        let item: syn::DeriveInput = syn::parse2(item).unwrap();
        let mut errors = Errors::default();
        let attrs = TypeAttrs::parse(&item.attrs, &mut errors);
        (attrs, errors.finish(()).err().map(|e| e.to_string()))
    }

    #[test]
    fn reads_every_type_option() {
        let (a, err) = type_attrs(quote::quote! {
            #[tvmffi(type_key = "ex.Point", parent = Shape, final)]
            #[tvmffi(eq_hash_kind = TREE_NODE, methods = add_methods, no_init, crate = ::ffi)]
            struct P;
        });
        assert!(err.is_none(), "{err:?}");
        assert_eq!(a.type_key.unwrap().value(), "ex.Point");
        assert_eq!(a.parent.unwrap().to_token_stream().to_string(), "Shape");
        assert!(a.is_final && a.no_init);
        assert_eq!(a.eq_hash_kind.unwrap().to_string(), "TREE_NODE");
        assert_eq!(a.methods.unwrap().to_token_stream().to_string(), "add_methods");
        assert_eq!(a.krate.to_token_stream().to_string(), ":: ffi");

        let (a, err) = type_attrs(quote::quote! {
            #[tvmffi(type_key = "ex.Base", child_slots = 3, can_overflow = false)]
            struct B;
        });
        assert!(err.is_none(), "{err:?}");
        assert_eq!(a.child_slots.unwrap().base10_parse::<u32>().unwrap(), 3);
        assert!(!a.can_overflow.unwrap().value);
        assert_eq!(a.krate.to_token_stream().to_string(), ":: tvmffi");
    }

    #[test]
    fn refuses_unknown_repeated_and_contradictory_options() {
        let (_, err) = type_attrs(quote::quote! { #[tvmffi(typekey = "x")] struct P; });
        assert!(err.unwrap().starts_with("unknown `tvmffi` option"));
        let (_, err) = type_attrs(quote::quote! { #[tvmffi(final, final)] struct P; });
        assert_eq!(err.unwrap(), "`final` is given twice");
        let (_, err) = type_attrs(quote::quote! { #[tvmffi(eq_hash_kind = TREE)] struct P; });
        assert!(err.unwrap().starts_with("unknown `eq_hash_kind`"));
        let (_, err) = type_attrs(quote::quote! { #[tvmffi(final, child_slots = 2)] struct P; });
        assert_eq!(err.unwrap(), "a `final` type has no subclasses to reserve slots for");
    }

    fn field_attrs(field: proc_macro2::TokenStream) -> (FieldAttrs, Option<String>) {
        let item: syn::DeriveInput = syn::parse2(quote::quote!(struct S { #field })).unwrap();
        let syn::Data::Struct(s) = item.data else { unreachable!() };
        let mut errors = Errors::default();
        let attrs = FieldAttrs::parse(&s.fields.iter().next().unwrap().attrs, &mut errors);
        (attrs, errors.finish(()).err().map(|e| e.to_string()))
    }

    #[test]
    fn reads_every_field_option() {
        let (a, err) = field_attrs(quote::quote! {
            #[tvmffi(name = "label", default = 1 + 2, kw_only, init = false, repr = false)]
            #[tvmffi(read_only, metadata(unit = "m", rank = 2), structural = false)]
            x: i64
        });
        assert!(err.is_none(), "{err:?}");
        assert_eq!(a.name.unwrap().value(), "label");
        assert_eq!(a.default.unwrap().to_token_stream().to_string(), "1 + 2");
        assert!(a.kw_only && a.read_only);
        assert!(!a.structural.unwrap().value);
        let switches: Vec<_> = a.switches.iter().map(|(k, v)| (k.to_string(), v.value)).collect();
        assert_eq!(switches, [("init".into(), false), ("repr".into(), false)]);
        let meta: Vec<_> =
            a.metadata.iter().map(|(k, v)| (k.value(), v.to_token_stream().to_string())).collect();
        assert_eq!(meta, [("unit".into(), "\"m\"".into()), ("rank".into(), "2".into())]);
    }

    #[test]
    fn refuses_contradictory_field_options() {
        let (_, err) =
            field_attrs(quote::quote! { #[tvmffi(default = 1, default_factory = f())] x: i64 });
        assert_eq!(err.unwrap(), "a field has a `default` or a `default_factory`, not both");
        let (_, err) = field_attrs(quote::quote! { #[tvmffi(skip, kw_only)] x: i64 });
        assert_eq!(err.unwrap(), "a `skip`ped field is not reflected: it takes no other option");
        let (_, err) = field_attrs(quote::quote! { #[tvmffi(rw)] x: i64 });
        assert!(err.unwrap().starts_with("unknown `tvmffi` field option"));
    }
}
