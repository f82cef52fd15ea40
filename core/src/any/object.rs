//! Objects in values: typed references into [`Any`] and [`AnyView`], and checked casts back.

use core::ptr::NonNull;

use super::{Any, AnyView, FromAnyView};
use crate::error::ConversionError;
use crate::object::{ObjectHeader, ObjectRef, ObjectType};
use crate::sys::TVMFFIObject;

impl Any {
    /// Move an object reference into a value.
    #[inline]
    pub fn from_object<T: ObjectType>(obj: ObjectRef<T>) -> Self {
        let ptr = NonNull::new(obj.into_raw().cast::<ObjectHeader>());
        // SAFETY: an `ObjectRef` is never null and owns the strong reference we hand over;
        // its header's type index describes its layout.
        unsafe { Self::from_object_raw(ptr.expect("ObjectRef is never null")) }
    }

    /// Move the object out as a `T`, or get the value back when it is not a `T`.
    pub fn into_object<T: ObjectType + Send + Sync>(self) -> Result<ObjectRef<T>, Self> {
        if !self.type_index().is_object() || !T::is_instance(self.type_index()) {
            return Err(self);
        }
        let obj = self.into_object_raw().map_err(|_| unreachable_non_object())?;
        // SAFETY: we own the strong reference `into_object_raw` released, and `T` accepts
        // the object's type index.
        Ok(unsafe { ObjectRef::from_raw(obj.as_ptr().cast::<TVMFFIObject>()) }
            .expect("object pointer is never null"))
    }
}

#[cold]
fn unreachable_non_object() -> Any {
    unreachable!("an object type index always carries an object pointer")
}

impl<T: ObjectType> From<ObjectRef<T>> for Any {
    #[inline]
    fn from(obj: ObjectRef<T>) -> Self {
        Self::from_object(obj)
    }
}

impl<'a, T: ObjectType> From<&'a ObjectRef<T>> for AnyView<'a> {
    #[inline]
    fn from(obj: &'a ObjectRef<T>) -> Self {
        let ptr = NonNull::new(obj.as_raw().cast::<ObjectHeader>());
        // SAFETY: the object outlives `'a` through the borrowed reference; a view takes no
        // reference of its own.
        unsafe { AnyView::from_object_ptr(ptr.expect("ObjectRef is never null")) }
    }
}

/// A new strong reference to an object of type `T` (or a subtype the type accepts).
impl<'a, T: ObjectType + Send + Sync> FromAnyView<'a> for ObjectRef<T> {
    fn from_any_view(view: AnyView<'a>) -> Result<Self, ConversionError> {
        let actual = view.type_index();
        match view.as_object_ptr() {
            Some(obj) if T::is_instance(actual) => {
                // SAFETY: the view borrows a live object, which `T` accepts; the new
                // reference takes a strong count of its own.
                Ok(unsafe { ObjectRef::from_raw_borrowed(obj.as_ptr().cast::<TVMFFIObject>()) }
                    .expect("object pointer is never null"))
            }
            _ => Err(ConversionError::mismatch(T::TYPE_KEY, actual)),
        }
    }
}
