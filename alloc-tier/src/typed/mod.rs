//! Typed views: the reference's `Array<T>`, `List<T>` and `Optional<T>` over the untyped
//! containers and values, and variant-style dispatch over [`Any`](tvmffi_core::Any)
//! ([`match_any!`](crate::match_any)).
//!
//! A typed view is the untyped object plus a promise checked where the value enters Rust:
//! converting an `ffi.Array` into an [`Array<i64>`](Array) checks every element, as the
//! reference's `TypeTraits<Array<T>>` does, so a typed function refuses a bad argument with
//! the reference's message (`` Expected `Array<int>` but got `Array[index 1: str]` ``). The
//! object itself is shared, not copied, and the types carry their reference names and
//! schemas ([`TypeStr`]) into signatures and function metadata.
//!
//! - [`Array<T>`](Array): an immutable `ffi.Array` whose elements are `T`s.
//! - [`List<T>`](List): a shared, mutable `ffi.List` of `T`s. Others holding the same list
//!   may still store other values, so element reads return `Result`s.
//! - [`Optional<T>`](Optional): `Option<T>`, pointer-sized for object types as the
//!   reference's `Optional<ObjectRef>` is.
//! - [`cast`]: any view as a `T`, failing with the reference's `TypeError` wording that names
//!   the expected and the actual type.
//! - [`match_any!`](crate::match_any): try a value as each of several types in turn.
//!
//! - [`Map<K, V>`](Map), [`Dict<K, V>`](Dict): maps whose keys and values are typed.

mod array;
mod list;
mod map;
mod optional;
mod variant;

use alloc::format;

use tvmffi_core::{AnyView, FromAnyView};

use crate::error::Error;
use crate::function::TypeStr;

pub use array::Array;
pub use list::List;
pub use map::{Dict, Map};
pub use optional::Optional;
pub use variant::AsAnyView;

/// `view` as a `T`, or the reference's `TypeError` for the failed cast, naming both types:
/// ``Cannot convert from type `Array[index 1: float]` to `Array<int>` ``. Other failures
/// (an integer out of range, invalid UTF-8) keep their own kind and message.
///
/// Naming a dynamic type asks the runtime (this example runs with the `runtime` feature):
///
/// ```
/// # #[cfg(feature = "runtime")] {
/// use tvmffi_alloc::typed::{Array, cast};
/// use tvmffi_core::{Any, AnyView};
///
/// let mixed: Array = Array::from_iter([Any::from(1i64), tvmffi_alloc::String::from("twenty-two").into()]);
/// let any = Any::from(mixed);
/// assert_eq!(cast::<Array>(any.view()).unwrap().len(), 2);
/// let err = cast::<Array<i64>>(any.view()).unwrap_err();
/// assert_eq!(err.kind(), "TypeError");
/// assert_eq!(err.message(), "Cannot convert from type `Array[index 1: ffi.String]` to `Array<int>`");
/// let err = cast::<Array<bool>>(AnyView::from(1.5)).unwrap_err();
/// assert_eq!(err.message(), "Cannot convert from type `float` to `Array<bool>`");
/// # }
/// ```
pub fn cast<'a, T: FromAnyView<'a> + TypeStr>(view: AnyView<'a>) -> Result<T, Error> {
    T::from_any_view(view).map_err(|e| {
        if e.kind() == tvmffi_core::error::ConversionErrorKind::Mismatch {
            Error::type_error(format!(
                "Cannot convert from type `{}` to `{}`",
                T::mismatch_type_info(view),
                T::type_str()
            ))
        } else {
            Error::from(e)
        }
    })
}
