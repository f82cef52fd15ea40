//! Several compile errors found in one pass, reported together.

/// The errors found so far, combined into one `syn::Error`.
#[derive(Default)]
pub struct Errors(Option<syn::Error>);

impl Errors {
    /// Add an error at `span`.
    pub fn push(&mut self, span: proc_macro2::Span, message: &str) {
        self.add(syn::Error::new(span, message));
    }

    /// Add an error.
    pub fn add(&mut self, e: syn::Error) {
        match &mut self.0 {
            Some(all) => all.combine(e),
            None => self.0 = Some(e),
        }
    }

    /// `value`, or every error found.
    pub fn finish<T>(self, value: T) -> syn::Result<T> {
        match self.0 {
            Some(e) => Err(e),
            None => Ok(value),
        }
    }
}
