//! [`Array<T>`]: an `ffi.Array` whose elements are `T`s.

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::marker::PhantomData;

use tvmffi_core::{Any, AnyView, ConversionError, FromAnyView, TypeIndex};

use crate::function::TypeStr;
use crate::seq::{self, SeqError};

/// An immutable `ffi.Array` whose elements are `T`s: the reference's `Array<T>`.
///
/// Converting a value into an `Array<T>` checks that every element converts to `T` (an
/// `ffi.List` is copied into a new array, as in the reference); the object is shared, never
/// copied element by element. Reading converts again, so an element that cannot change
/// (ints, strings, tensors) always reads back; one that can (a `List` inside) may fail later,
/// which is why [`get`](Self::get) returns a `Result`.
///
/// ```
/// use tvmffi_alloc::typed::Array;
/// use tvmffi_core::{Any, TypeIndex};
///
/// let a: Array<i64> = Array::from_iter([1, 2, 3]);
/// assert_eq!(a.len(), 3);
/// assert_eq!(a.get(1).unwrap(), 2);
/// assert_eq!(a.iter().map(Result::unwrap).sum::<i64>(), 6);
///
/// // Across the ABI as an ordinary `ffi.Array`, and back with its elements checked.
/// let any = Any::from(a.clone());
/// assert_eq!(any.type_index(), TypeIndex::ARRAY);
/// let floats: Array<f64> = any.get().unwrap(); // ints read as floats, as in the reference
/// assert_eq!(floats.to_vec().unwrap(), [1.0, 2.0, 3.0]);
/// assert!(any.get::<Array<bool>>().is_ok()); // ints are bools too
/// assert!(Any::from(Array::<f64>::from_iter([0.5])).get::<Array<i64>>().is_err());
/// ```
pub struct Array<T = Any> {
    inner: seq::Array,
    _elements: PhantomData<fn() -> T>,
}

impl<T> Array<T> {
    /// An empty array.
    pub fn new() -> Self {
        Self::from_untyped_unchecked(seq::Array::new())
    }

    /// The untyped array, taken on trust: every element must convert to `T` (or a reader
    /// gets the conversion error).
    fn from_untyped_unchecked(inner: seq::Array) -> Self {
        Self { inner, _elements: PhantomData }
    }

    /// The number of elements.
    #[inline]
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether there are no elements.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// The untyped array (the same object).
    #[inline]
    pub fn as_untyped(&self) -> &seq::Array {
        &self.inner
    }

    /// The untyped array, giving up the typed view.
    #[inline]
    pub fn into_untyped(self) -> seq::Array {
        self.inner
    }

    /// Whether both handles point to the same object (what `==` compares).
    #[inline]
    pub fn ptr_eq(&self, other: &Self) -> bool {
        self.inner.ptr_eq(&other.inner)
    }
}

impl<T: for<'a> FromAnyView<'a>> Array<T> {
    /// The untyped array `array` as an `Array<T>`, after checking each element; a failing
    /// element's conversion error otherwise.
    pub fn try_from_untyped(array: seq::Array) -> Result<Self, ConversionError> {
        for item in array.iter() {
            T::from_any_view(item)?;
        }
        Ok(Self::from_untyped_unchecked(array))
    }

    /// The element at `index` as a `T`.
    pub fn get(&self, index: usize) -> Result<T, SeqError> {
        self.inner.get_as::<T>(index)
    }

    /// The elements in order, each as a `T`.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Result<T, SeqError>> + '_ {
        self.inner.iter().map(|v| T::from_any_view(v).map_err(SeqError::from))
    }

    /// The elements as `T`s.
    pub fn to_vec(&self) -> Result<Vec<T>, SeqError> {
        self.iter().collect()
    }
}

impl<T: Into<Any>> Array<T> {
    /// An array of `items`.
    pub fn from_vec(items: Vec<T>) -> Self {
        Self::from_iter(items)
    }
}

impl<T: Into<Any>> FromIterator<T> for Array<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Self::from_untyped_unchecked(iter.into_iter().map(Into::into).collect())
    }
}

impl<T> Clone for Array<T> {
    fn clone(&self) -> Self {
        Self::from_untyped_unchecked(self.inner.clone())
    }
}

impl<T> Default for Array<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> PartialEq for Array<T> {
    /// Identity: the same object, as for the untyped array.
    fn eq(&self, other: &Self) -> bool {
        self.ptr_eq(other)
    }
}

impl<T> Eq for Array<T> {}

impl<T> fmt::Debug for Array<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

impl<T> From<Array<T>> for seq::Array {
    fn from(a: Array<T>) -> Self {
        a.inner
    }
}

impl<T> From<Array<T>> for Any {
    fn from(a: Array<T>) -> Self {
        Any::from(a.inner)
    }
}

impl<'a, T> From<&'a Array<T>> for AnyView<'a> {
    fn from(a: &'a Array<T>) -> Self {
        AnyView::from(&a.inner)
    }
}

/// An `ffi.Array` whose elements all convert to `T` (shared), or a new array of an
/// `ffi.List`'s elements that all do; the first failing element's error otherwise.
impl<T: for<'a> FromAnyView<'a>> FromAnyView<'_> for Array<T> {
    fn from_any_view(view: AnyView<'_>) -> Result<Self, ConversionError> {
        match view.type_index() {
            TypeIndex::ARRAY | TypeIndex::LIST => Self::try_from_untyped(view.get()?),
            other => Err(ConversionError::mismatch("ffi.Array", other)),
        }
    }
}

impl<T: for<'a> FromAnyView<'a>> TryFrom<Any> for Array<T> {
    type Error = ConversionError;

    /// As [`FromAnyView`], keeping the value's reference for an `ffi.Array`.
    fn try_from(any: Any) -> Result<Self, ConversionError> {
        match any.type_index() {
            TypeIndex::ARRAY | TypeIndex::LIST => Self::try_from_untyped(any.try_into()?),
            other => Err(ConversionError::mismatch("ffi.Array", other)),
        }
    }
}

/// `Array<int>`; schema `{"type":"ffi.Array","args":[{"type":"int"}]}`.
impl<T: TypeStr + for<'a> FromAnyView<'a>> TypeStr for Array<T> {
    fn type_str() -> Cow<'static, str> {
        Cow::Owned(format!("Array<{}>", T::type_str()))
    }

    fn type_schema() -> String {
        format!(r#"{{"type":"ffi.Array","args":[{}]}}"#, T::type_schema())
    }

    fn mismatch_type_info(view: AnyView<'_>) -> String {
        seq_mismatch::<T>("Array", view)
    }
}

/// The reference's `GetMismatchTypeInfo` of a typed sequence: the first element that does
/// not convert, as `Array[index 1: float]`; the value's type key when it is no sequence.
pub(super) fn seq_mismatch<T: TypeStr + for<'a> FromAnyView<'a>>(
    name: &str,
    view: AnyView<'_>,
) -> String {
    let items = match view.type_index() {
        TypeIndex::ARRAY | TypeIndex::LIST => view.get::<seq::Array>().ok(),
        _ => None,
    };
    let bad = items.and_then(|items| {
        let mut elements = items.iter().enumerate();
        let (i, item) = elements.find(|(_, item)| T::from_any_view(*item).is_err())?;
        Some((i, T::mismatch_type_info(item)))
    });
    match bad {
        Some((i, info)) => format!("{name}[index {i}: {info}]"),
        None => crate::object_type::type_key(view.type_index()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::string::String as FfiString;
    use alloc::string::ToString;

    #[test]
    fn elements_are_checked_on_entry_and_the_object_is_shared() {
        let raw: seq::Array = [Any::from(1i64), Any::from(2.5f64)].into_iter().collect();
        assert!(Array::<f64>::try_from_untyped(raw.clone()).is_ok());
        let err = Array::<i64>::try_from_untyped(raw.clone()).unwrap_err();
        assert_eq!(err.to_string(), "Cannot convert from type `float` to `int`");
        let typed: Array<Any> = Any::from(raw.clone()).get().unwrap();
        assert!(typed.as_untyped().ptr_eq(&raw));
        assert!(Any::from(5i64).get::<Array<i64>>().is_err());
    }

    #[test]
    fn lists_convert_into_new_arrays() {
        let list: seq::List = [1i64, 2].into_iter().collect();
        let a: Array<i64> = AnyView::from(&list).get().unwrap();
        assert_eq!(a.to_vec().unwrap(), [1, 2]);
        list.push(3i64);
        assert_eq!(a.len(), 2, "a copy, not the list itself");
    }

    #[test]
    fn names_and_schemas_nest() {
        assert_eq!(Array::<i64>::type_str(), "Array<int>");
        assert_eq!(Array::<Array<FfiString>>::type_str(), "Array<Array<str>>");
        assert_eq!(
            Array::<Option<f64>>::type_schema(),
            r#"{"type":"ffi.Array","args":[{"type":"Optional","args":[{"type":"float"}]}]}"#
        );
        assert_eq!(Array::<Any>::type_schema(), r#"{"type":"ffi.Array","args":[{"type":"Any"}]}"#);
    }

    #[test]
    fn an_empty_array_is_an_array_of_anything() {
        let e: Array<FfiString> = Array::new();
        assert!(e.is_empty());
        let back: Array<crate::tensor::Tensor> = Any::from(e).get().unwrap();
        assert_eq!(back.len(), 0);
    }
}
