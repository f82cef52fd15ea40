//! The arguments of `#[tvmffi::export(...)]`.

use syn::parse::{Parse, ParseStream};
use syn::{LitStr, Path, Token};

/// `name = "exported_name"` and `crate = path::to::tvmffi`, both optional.
#[cfg_attr(test, derive(Debug))]
pub struct Options {
    /// The export name when it differs from the function's (`__tvm_ffi_<name>`).
    pub name: Option<LitStr>,
    /// Where the facade is, for a crate that renamed its `tvmffi` dependency.
    pub krate: Path,
}

impl Default for Options {
    fn default() -> Self {
        Self { name: None, krate: syn::parse_quote!(::tvmffi) }
    }
}

impl Parse for Options {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut options = Options::default();
        let (mut seen_name, mut seen_crate) = (false, false);
        while !input.is_empty() {
            if input.peek(Token![crate]) {
                let key: Token![crate] = input.parse()?;
                once(&mut seen_crate, key.span, "crate")?;
                input.parse::<Token![=]>()?;
                options.krate = if input.peek(LitStr) {
                    input.parse::<LitStr>()?.parse()?
                } else {
                    input.parse()?
                };
            } else {
                let key: syn::Ident = input.parse()?;
                if key != "name" {
                    return Err(syn::Error::new(
                        key.span(),
                        format!(
                            "unknown option `{key}`: expected `name = \"...\"` or `crate = path`"
                        ),
                    ));
                }
                once(&mut seen_name, key.span(), "name")?;
                input.parse::<Token![=]>()?;
                options.name = Some(input.parse()?);
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(options)
    }
}

fn once(seen: &mut bool, span: proc_macro2::Span, key: &str) -> syn::Result<()> {
    if core::mem::replace(seen, true) {
        return Err(syn::Error::new(span, format!("`{key}` is given twice")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::ToTokens;

    fn parse(tokens: proc_macro2::TokenStream) -> syn::Result<Options> {
        syn::parse2(tokens)
    }

    #[test]
    fn defaults_to_the_facade_and_the_function_name() {
        let o = parse(quote::quote!()).unwrap();
        assert!(o.name.is_none());
        assert_eq!(o.krate.to_token_stream().to_string(), ":: tvmffi");
    }

    #[test]
    fn reads_name_and_crate_in_any_order() {
        let o = parse(quote::quote!(crate = ::my::ffi, name = "add")).unwrap();
        assert_eq!(o.name.unwrap().value(), "add");
        assert_eq!(o.krate.to_token_stream().to_string(), ":: my :: ffi");
        let o = parse(quote::quote!(name = "x", crate = "renamed",)).unwrap();
        assert_eq!(o.krate.to_token_stream().to_string(), "renamed");
    }

    #[test]
    fn rejects_unknown_and_repeated_options() {
        let e = parse(quote::quote!(nmae = "x")).unwrap_err();
        assert!(e.to_string().starts_with("unknown option `nmae`"), "{e}");
        let e = parse(quote::quote!(name = "a", name = "b")).unwrap_err();
        assert_eq!(e.to_string(), "`name` is given twice");
        assert!(parse(quote::quote!(name = 3)).is_err());
    }
}
