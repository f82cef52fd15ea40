//! [`Optional<T>`]: an optional value, the reference's `Optional<T>`.

use core::mem::size_of;

use tvmffi_core::{Any, ObjectRef};

use super::{Array, List};
use crate::error::Error;
use crate::function::Function;
use crate::seq;
use crate::shape::Shape;
use crate::tensor::Tensor;

/// An optional value: `None`, or a `T` (the reference's `Optional<T>`).
///
/// It is Rust's `Option`, which already converts as the reference's `Optional` does
/// (`None` reads as `None`, anything else as a `T`; see
/// [`FromAnyView`](tvmffi_core::FromAnyView)) and is named `Optional<int>` in signatures.
/// For object types it is one pointer, null for `None`, exactly as the reference's
/// `Optional<ObjectRef>`; this is asserted at compile time for every object type of this
/// crate.
///
/// ```
/// use tvmffi_alloc::typed::Optional;
/// use tvmffi_alloc::Tensor;
/// use tvmffi_core::{Any, AnyView};
///
/// assert_eq!(size_of::<Optional<Tensor>>(), size_of::<*const ()>());
/// let none: Optional<i64> = AnyView::default().get().unwrap();
/// assert_eq!(none, None);
/// assert_eq!(Any::from(Some(3i64)).get::<Optional<i64>>().unwrap(), Some(3));
/// ```
pub type Optional<T> = Option<T>;

/// `Optional<T>` of each object type is a nullable pointer.
macro_rules! assert_pointer_sized {
    ($($t:ty),* $(,)?) => {
        const _: () = {$(
            assert!(size_of::<Optional<$t>>() == size_of::<*const ()>());
            assert!(size_of::<Optional<$t>>() == size_of::<$t>());
        )*};
    };
}

assert_pointer_sized!(
    ObjectRef,
    Function,
    Error,
    Tensor,
    Shape,
    seq::Array,
    seq::List,
    Array<i64>,
    Array<Any>,
    List<Tensor>,
);
