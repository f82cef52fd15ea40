//! Variant-style dispatch over [`Any`]: [`match_any!`](crate::match_any).

use tvmffi_core::{Any, AnyView};

/// A value [`match_any!`](crate::match_any) can look at: an [`Any`], an [`AnyView`], or a
/// reference to one.
pub trait AsAnyView {
    /// The value as a view.
    fn as_any_view(&self) -> AnyView<'_>;
}

impl AsAnyView for Any {
    #[inline]
    fn as_any_view(&self) -> AnyView<'_> {
        self.view()
    }
}

impl AsAnyView for AnyView<'_> {
    #[inline]
    fn as_any_view(&self) -> AnyView<'_> {
        *self
    }
}

impl<T: AsAnyView + ?Sized> AsAnyView for &T {
    #[inline]
    fn as_any_view(&self) -> AnyView<'_> {
        (**self).as_any_view()
    }
}

/// Match a value against types, as the reference's `Variant<...>` alternatives: the first
/// arm whose type the value converts to runs with the converted value bound; the final
/// `_` arm runs when none does.
///
/// ```text
/// match_any!(value,
///     name: Type => expression,
///     ...
///     _ => fallback,
/// )
/// ```
///
/// `value` is an [`Any`], an [`AnyView`] or a reference to one. Conversions are
/// [`FromAnyView`](tvmffi_core::FromAnyView)'s, tried in the order written; since they
/// convert (an `int` is also a `float` and a `bool`), put the narrower type first, as with
/// the reference's `Variant`, whose alternatives are tried in order too.
///
/// ```
/// use tvmffi_alloc::match_any;
/// use tvmffi_alloc::typed::Array;
/// use tvmffi_core::Any;
///
/// fn describe(value: &Any) -> String {
///     match_any!(value,
///         i: i64 => format!("int {i}"),
///         x: f64 => format!("float {x}"),
///         s: tvmffi_alloc::String => format!("str {s:?}"),
///         a: Array<i64> => format!("{} ints", a.len()),
///         _ => format!("a {}", value.type_index()),
///     )
/// }
///
/// assert_eq!(describe(&Any::from(3i64)), "int 3");
/// assert_eq!(describe(&Any::from(0.5f64)), "float 0.5");
/// assert_eq!(describe(&Any::from(tvmffi_alloc::String::from("hi"))), r#"str "hi""#);
/// assert_eq!(describe(&Any::from(Array::from_iter([1i64, 2]))), "2 ints");
/// assert_eq!(describe(&Any::from(())), "a None");
/// ```
#[macro_export]
macro_rules! match_any {
    (@arms $view:ident; _ => $fallback:expr $(,)?) => {
        $fallback
    };
    (@arms $view:ident; $bind:ident : $ty:ty => $arm:expr, $($rest:tt)+) => {
        match <$ty as $crate::core_tier::FromAnyView<'_>>::from_any_view($view) {
            ::core::result::Result::Ok($bind) => $arm,
            ::core::result::Result::Err(_) => $crate::match_any!(@arms $view; $($rest)+),
        }
    };
    ($value:expr, $($arms:tt)+) => {
        // A `match` keeps temporaries in `$value` alive for the arms.
        match &$value {
            value => {
                let view = $crate::typed::AsAnyView::as_any_view(value);
                $crate::match_any!(@arms view; $($arms)+)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use alloc::string::String;
    use tvmffi_core::{Any, AnyView};

    fn kind(v: AnyView<'_>) -> &'static str {
        crate::match_any!(v,
            _b: bool => "bool first",
            _i: i64 => "int",
            _ => "other",
        )
    }

    #[test]
    fn arms_are_tried_in_order_and_fall_back() {
        assert_eq!(kind(AnyView::from(1i64)), "bool first", "an int converts to bool");
        assert_eq!(kind(AnyView::from(2.5f64)), "other");
        let owned = Any::from(7i64);
        let n = crate::match_any!(owned, x: i64 => x * 2, _ => 0);
        assert_eq!(n, 14);
        let text: String =
            crate::match_any!(&owned, _s: crate::String => "s".into(), _ => "?".into());
        assert_eq!(text, "?");
    }
}
