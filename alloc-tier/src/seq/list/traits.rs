//! [`List`]'s standard traits, its conversions to and from FFI values (an `ffi.Array`
//! converts by copy), and its iterator.

use alloc::vec::Vec;
use core::fmt;

use tvmffi_core::{Any, AnyView, ConversionError, FromAnyView, ObjectRef, TypeIndex};

use super::{List, ListObj};
use crate::seq::{Array, ArrayObj};

impl Default for List {
    fn default() -> Self {
        Self::new()
    }
}

impl PartialEq for List {
    /// Identity: the same object.
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.ptr_eq(other)
    }
}

impl Eq for List {}

impl From<Vec<Any>> for List {
    fn from(items: Vec<Any>) -> Self {
        Self::from_vec(items)
    }
}

impl<T: Into<Any>> FromIterator<T> for List {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Self::from_vec(iter.into_iter().map(Into::into).collect())
    }
}

impl fmt::Debug for List {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("List")?;
        f.debug_list().entries(self.to_vec()).finish()
    }
}

impl<'a> IntoIterator for &'a List {
    type Item = Any;
    type IntoIter = ListIter<'a>;

    fn into_iter(self) -> ListIter<'a> {
        self.iter()
    }
}

impl From<List> for Any {
    #[inline]
    fn from(l: List) -> Self {
        Any::from(l.obj)
    }
}

impl<'a> From<&'a List> for AnyView<'a> {
    #[inline]
    fn from(l: &'a List) -> Self {
        AnyView::from(&l.obj)
    }
}

/// An `ffi.List` (shared), or a new list holding an `ffi.Array`'s elements, as the
/// reference's `TypeTraits<List<Any>>::TryCastFromAnyView` converts (`kOtherTypeIndex`);
/// anything else is a mismatch.
impl FromAnyView<'_> for List {
    fn from_any_view(view: AnyView<'_>) -> Result<Self, ConversionError> {
        match view.type_index() {
            TypeIndex::LIST => view.get::<ObjectRef<ListObj>>().map(Self::from_object),
            TypeIndex::ARRAY => {
                let array = Array::from_object(view.get::<ObjectRef<ArrayObj>>()?);
                Ok(Self::from_vec(array.to_vec()))
            }
            other => Err(ConversionError::mismatch("List<Any>", other)),
        }
    }
}

impl TryFrom<Any> for List {
    type Error = ConversionError;

    /// As [`FromAnyView`], keeping the value's reference for an `ffi.List`.
    fn try_from(any: Any) -> Result<Self, ConversionError> {
        match any.into_object::<ListObj>() {
            Ok(obj) => Ok(Self::from_object(obj)),
            Err(any) => Self::from_any_view(any.view()),
        }
    }
}

/// Iterator over a [`List`]: owned copies, read by index, so it sees (and is not broken
/// by) changes made meanwhile; it ends at the first index past the then current end.
#[derive(Clone, Debug)]
pub struct ListIter<'a> {
    pub(super) list: &'a List,
    pub(super) index: usize,
}

impl Iterator for ListIter<'_> {
    type Item = Any;

    fn next(&mut self) -> Option<Any> {
        let item = self.list.get(self.index)?;
        self.index += 1;
        Some(item)
    }
}
