//! [`List<T>`]: a shared, mutable `ffi.List` of `T`s.

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::marker::PhantomData;

use tvmffi_core::{Any, AnyView, ConversionError, FromAnyView, TypeIndex};

use super::array::seq_mismatch;
use crate::function::TypeStr;
use crate::seq::{self, SeqError};

/// A shared, mutable `ffi.List` whose elements are `T`s: the reference's `List<T>`.
///
/// Converting a value into a `List<T>` checks every element, and shares an `ffi.List` (so
/// a kernel's changes are seen by its caller); an `ffi.Array` is copied into a new list, as
/// in the reference. Rust code can only store `T`s through this view, but whoever else
/// holds the list (C++, Python, an untyped [`seq::List`]) may store anything, so reads
/// return `Result`s.
///
/// ```
/// use tvmffi_alloc::typed::List;
/// use tvmffi_core::Any;
///
/// let names: List<tvmffi_alloc::String> = List::new();
/// names.push("ada".into());
/// names.push("grace".into());
/// let shared: List<tvmffi_alloc::String> = Any::from(names.clone()).get().unwrap();
/// shared.set(0, "alan".into()).unwrap();
/// assert_eq!(names.get(0).unwrap(), "alan"); // the same list
/// assert_eq!(names.pop().unwrap().unwrap(), "grace");
/// assert_eq!(names.len(), 1);
/// ```
pub struct List<T = Any> {
    inner: seq::List,
    _elements: PhantomData<fn() -> T>,
}

impl<T> List<T> {
    /// An empty list.
    pub fn new() -> Self {
        Self::from_untyped_unchecked(seq::List::new())
    }

    fn from_untyped_unchecked(inner: seq::List) -> Self {
        Self { inner, _elements: PhantomData }
    }

    /// The number of elements (a snapshot).
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether there are no elements (a snapshot).
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// Remove every element.
    pub fn clear(&self) {
        self.inner.clear();
    }

    /// Keep the first `len` elements.
    pub fn truncate(&self, len: usize) {
        self.inner.truncate(len);
    }

    /// The untyped list (the same object).
    #[inline]
    pub fn as_untyped(&self) -> &seq::List {
        &self.inner
    }

    /// The untyped list, giving up the typed view.
    #[inline]
    pub fn into_untyped(self) -> seq::List {
        self.inner
    }

    /// Whether both handles point to the same object (what `==` compares).
    #[inline]
    pub fn ptr_eq(&self, other: &Self) -> bool {
        self.inner.ptr_eq(&other.inner)
    }
}

impl<T: Into<Any>> List<T> {
    /// A list of `items`.
    pub fn from_vec(items: Vec<T>) -> Self {
        Self::from_iter(items)
    }

    /// Append `value`.
    ///
    /// # Panics
    ///
    /// If the length would exceed what one allocation can hold, as `Vec::push` does.
    pub fn push(&self, value: T) {
        self.inner.push(value);
    }

    /// Insert `value` before `index` (at most the length).
    pub fn insert(&self, index: usize, value: T) -> Result<(), SeqError> {
        self.inner.insert(index, value)
    }
}

impl<T: Into<Any> + for<'a> FromAnyView<'a>> List<T> {
    /// Replace the element at `index` with `value`, returning the old one.
    pub fn set(&self, index: usize, value: T) -> Result<T, SeqError> {
        Ok(self.inner.set(index, value)?.get::<T>()?)
    }
}

impl<T: for<'a> FromAnyView<'a>> List<T> {
    /// The untyped list `list` as a `List<T>` (the same object), after checking each
    /// element; a failing element's conversion error otherwise.
    pub fn try_from_untyped(list: seq::List) -> Result<Self, ConversionError> {
        for item in list.iter() {
            item.get::<T>()?;
        }
        Ok(Self::from_untyped_unchecked(list))
    }

    /// The element at `index` as a `T`.
    pub fn get(&self, index: usize) -> Result<T, SeqError> {
        self.inner.get_as::<T>(index)
    }

    /// Remove and return the last element; `None` when empty.
    pub fn pop(&self) -> Option<Result<T, SeqError>> {
        self.inner.pop().map(|v| v.get::<T>().map_err(SeqError::from))
    }

    /// Remove and return the element at `index`.
    pub fn remove(&self, index: usize) -> Result<T, SeqError> {
        Ok(self.inner.remove(index)?.get::<T>()?)
    }

    /// The elements in order, each as a `T`, read by index as [`seq::List::iter`] does.
    pub fn iter(&self) -> impl Iterator<Item = Result<T, SeqError>> + '_ {
        self.inner.iter().map(|v| v.get::<T>().map_err(SeqError::from))
    }

    /// The elements as `T`s (a snapshot).
    pub fn to_vec(&self) -> Result<Vec<T>, SeqError> {
        self.inner.to_vec().iter().map(|v| v.get::<T>().map_err(SeqError::from)).collect()
    }
}

impl<T: Into<Any>> FromIterator<T> for List<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Self::from_untyped_unchecked(iter.into_iter().map(Into::into).collect())
    }
}

impl<T> Clone for List<T> {
    fn clone(&self) -> Self {
        Self::from_untyped_unchecked(self.inner.clone())
    }
}

impl<T> Default for List<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> PartialEq for List<T> {
    /// Identity: the same object, as for the untyped list.
    fn eq(&self, other: &Self) -> bool {
        self.ptr_eq(other)
    }
}

impl<T> Eq for List<T> {}

impl<T> fmt::Debug for List<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

impl<T> From<List<T>> for seq::List {
    fn from(l: List<T>) -> Self {
        l.inner
    }
}

impl<T> From<List<T>> for Any {
    fn from(l: List<T>) -> Self {
        Any::from(l.inner)
    }
}

impl<'a, T> From<&'a List<T>> for AnyView<'a> {
    fn from(l: &'a List<T>) -> Self {
        AnyView::from(&l.inner)
    }
}

/// An `ffi.List` whose elements all convert to `T` (shared), or a new list of an
/// `ffi.Array`'s elements that all do; the first failing element's error otherwise.
impl<T: for<'a> FromAnyView<'a>> FromAnyView<'_> for List<T> {
    fn from_any_view(view: AnyView<'_>) -> Result<Self, ConversionError> {
        match view.type_index() {
            TypeIndex::ARRAY | TypeIndex::LIST => Self::try_from_untyped(view.get()?),
            other => Err(ConversionError::mismatch("ffi.List", other)),
        }
    }
}

impl<T: for<'a> FromAnyView<'a>> TryFrom<Any> for List<T> {
    type Error = ConversionError;

    /// As [`FromAnyView`], keeping the value's reference for an `ffi.List`.
    fn try_from(any: Any) -> Result<Self, ConversionError> {
        match any.type_index() {
            TypeIndex::ARRAY | TypeIndex::LIST => Self::try_from_untyped(any.try_into()?),
            other => Err(ConversionError::mismatch("ffi.List", other)),
        }
    }
}

/// `List<int>`; schema `{"type":"ffi.List","args":[{"type":"int"}]}`.
impl<T: TypeStr + for<'a> FromAnyView<'a>> TypeStr for List<T> {
    fn type_str() -> Cow<'static, str> {
        Cow::Owned(format!("List<{}>", T::type_str()))
    }

    fn type_schema() -> String {
        format!(r#"{{"type":"ffi.List","args":[{}]}}"#, T::type_schema())
    }

    fn mismatch_type_info(view: AnyView<'_>) -> String {
        seq_mismatch::<T>("List", view)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_list_shares_the_object_and_checks_reads() {
        let raw = seq::List::new();
        raw.push(1i64);
        let ints = List::<i64>::try_from_untyped(raw.clone()).unwrap();
        ints.push(2);
        assert_eq!(raw.len(), 2);
        raw.push(0.5f64); // someone else breaks the promise
        assert!(List::<i64>::try_from_untyped(raw.clone()).is_err());
        assert_eq!(ints.get(1).unwrap(), 2);
        assert!(matches!(ints.get(2), Err(SeqError::Conversion(_))));
        assert!(matches!(ints.get(3), Err(SeqError::IndexOutOfRange { index: 3, len: 3 })));
        assert!(ints.to_vec().is_err());
        assert!(ints.pop().unwrap().is_err());
        assert_eq!(ints.iter().collect::<Result<Vec<_>, _>>().unwrap(), [1, 2]);
        assert!(List::<i64>::try_from_untyped(raw.clone()).is_ok(), "the float was popped");
    }

    #[test]
    fn arrays_convert_into_new_lists() {
        let a: seq::Array = [1i64, 2].into_iter().collect();
        let l: List<f64> = AnyView::from(&a).get().unwrap();
        l.push(3.5);
        assert_eq!(l.to_vec().unwrap(), [1.0, 2.0, 3.5]);
        assert_eq!(a.len(), 2);
        assert_eq!(l.remove(0).unwrap(), 1.0);
        assert_eq!(l.set(0, 9.0).unwrap(), 2.0);
        l.insert(0, 8.0).unwrap();
        assert_eq!(l.to_vec().unwrap(), [8.0, 9.0, 3.5]);
        l.truncate(1);
        assert_eq!(l.len(), 1);
        l.clear();
        assert!(l.is_empty());
    }

    #[test]
    fn names_and_schemas() {
        assert_eq!(List::<bool>::type_str(), "List<bool>");
        assert_eq!(List::<i64>::type_schema(), r#"{"type":"ffi.List","args":[{"type":"int"}]}"#);
    }
}
