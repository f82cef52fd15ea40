//! [`Array`]: the reference's `ffi.Array` (`ArrayObj`), an immutable sequence whose elements
//! sit inline after the cell.

use alloc::vec::Vec;
use core::alloc::Layout;
use core::fmt;
use core::iter::FusedIterator;

use tvmffi_core::sys::TVMFFISeqCell;
use tvmffi_core::{
    Any, AnyView, ConversionError, FromAnyView, Object, ObjectRef, Payload, TypeIndex,
};

use super::{List, ListObj, SeqError, count, destroy, to_i64};
use crate::heap;

/// Capacity of an empty array made by [`Array::new`], as the reference's `Array()`
/// (`ArrayObj::kInitSize`), so C++ holding it alone can push without moving.
const INIT_CAPACITY: usize = 4;

/// The payload of an `ffi.Array` object: a `TVMFFISeqCell` whose `data` points at the
/// elements stored right after the object, with a null `data_deleter`.
///
/// Fields are private: use [`Array`]. C++ may change the cell in place (copy-on-write) only
/// while it holds the sole reference, so it never changes under a live [`Array`].
#[repr(C)]
pub struct ArrayCell {
    seq: TVMFFISeqCell,
}

/// An `ffi.Array` object: the header, then [`ArrayCell`], then the elements.
pub type ArrayObj = Object<ArrayCell>;

// SAFETY: the elements are `Any` values, which are `Send`; the raw pointer only addresses
// them. Nobody mutates the cell while another reference exists (the reference's
// copy-on-write rule), so sharing `&ArrayCell` across threads only shares reads.
unsafe impl Send for ArrayCell {}
// SAFETY: as above: shared access is read-only.
unsafe impl Sync for ArrayCell {}

// SAFETY: `kTVMFFIArray` objects are `ArrayObj`, the header followed by a `TVMFFISeqCell`,
// which is what `ArrayCell` is (`#[repr(C)]`, one field).
unsafe impl Payload for ArrayCell {
    const TYPE_KEY: &'static str = "ffi.Array";

    #[inline]
    fn is_instance(type_index: TypeIndex) -> bool {
        type_index == TypeIndex::ARRAY
    }
}

impl Drop for ArrayCell {
    fn drop(&mut self) {
        // SAFETY: the last strong reference is gone; the cell describes its elements as
        // whoever last wrote it left them (C++ may have changed `size` in place, or moved
        // them out and set `size` to 0), and a `data_deleter`, if any, owns `data`.
        unsafe { destroy(&mut self.seq) }
    }
}

/// An `ffi.Array`: a shared, immutable sequence of [`Any`] values.
///
/// Cloning shares the object; `==` compares identity (the same object), as the reference's
/// `ObjectRef` equality does. The elements sit inline after the object, so reading is a plain
/// slice access: [`as_slice`](Self::as_slice), [`get`](Self::get), [`iter`](Self::iter).
///
/// Our API never mutates an array. The reference's C++ `Array<T>` is copy-on-write: it edits
/// an `ArrayObj` in place only while it holds the sole reference, so never one an `Array`
/// here still points to; and when such an array is finally destroyed, exactly the elements
/// its cell then counts are dropped.
///
/// ```
/// use tvmffi_alloc::seq::Array;
/// use tvmffi_core::{Any, AnyView, TypeIndex};
///
/// let a: Array = [1i64, 2, 3].into_iter().collect();
/// assert_eq!(a.len(), 3);
/// assert_eq!(a.get_as::<i64>(1), Ok(2));
/// assert!(a.get(3).is_none());
///
/// let any = Any::from(a.clone());
/// assert_eq!(any.type_index(), TypeIndex::ARRAY);
/// let back: Array = any.get().unwrap();
/// assert_eq!(back, a); // the same object
/// let sum: i64 = back.iter().map(|v| v.get::<i64>().unwrap()).sum();
/// assert_eq!(sum, 6);
/// ```
#[derive(Clone)]
pub struct Array {
    obj: ObjectRef<ArrayObj>,
}

impl Array {
    /// An empty array, with room for 4 elements as the reference's `Array()`.
    pub fn new() -> Self {
        Self::with_slots(Vec::new(), INIT_CAPACITY)
    }

    /// An array of `items`, moved in without touching their reference counts; its capacity
    /// is its length, as the reference's `Array(first, last)`.
    pub fn from_vec(items: Vec<Any>) -> Self {
        let capacity = items.len();
        Self::with_slots(items, capacity)
    }

    /// An array of owned copies of `views` (objects gain a reference).
    ///
    /// Fails as [`AnyView::to_owned`] does, e.g. for a borrowed C string too long to be a
    /// small string.
    pub fn from_views(views: &[AnyView<'_>]) -> Result<Self, ConversionError> {
        Self::try_collect(views.len(), views.iter().map(AnyView::to_owned))
    }

    /// An array of the values `items` yields, written straight into a new object with room
    /// for `len` of them, as the reference's `Array(first, last)` fills its `ArrayObj`: no
    /// intermediate buffer, so a large array costs one allocation and one pass. The first
    /// error is returned (the values taken so far are dropped). Should `items` yield more
    /// than `len`, the rest are appended in a second object, so nothing is lost.
    pub(crate) fn try_collect<E>(
        len: usize,
        mut items: impl Iterator<Item = Result<Any, E>>,
    ) -> Result<Self, E> {
        let mut error = None;
        // Fails only for a length no allocation could hold, which collecting would not
        // survive either.
        let tail = Layout::array::<Any>(len).expect("array layout");
        let init = |tail: *mut u8| {
            let mut filled = Filled { data: tail.cast::<Any>(), len: 0 };
            for item in items.by_ref().take(len) {
                match item {
                    // SAFETY: `filled.len < len` slots are written so far, and the tail has
                    // room for `len` elements.
                    Ok(v) => unsafe { filled.push(v) },
                    Err(e) => {
                        error = Some(e);
                        break;
                    }
                }
            }
            ArrayCell { seq: filled.into_cell(len) }
        };
        // SAFETY: `init` initialises exactly the elements the cell counts (`Filled` drops
        // them again should `items` panic half way).
        let obj = unsafe { heap::new_object_with_tail(TypeIndex::ARRAY, tail, init) };
        let array = Self { obj };
        if let Some(e) = error {
            return Err(e); // dropping `array` drops the values taken
        }
        match items.next() {
            None => Ok(array),
            Some(extra) => {
                let mut all = array.to_vec();
                all.push(extra?);
                for item in items {
                    all.push(item?);
                }
                Ok(Self::from_vec(all))
            }
        }
    }

    /// An array holding `items` in an object with room for `capacity >= items.len()`.
    pub(super) fn with_slots(mut items: Vec<Any>, capacity: usize) -> Self {
        let len = items.len();
        let capacity = capacity.max(len);
        // The elements' bits move into the object; the vector keeps only its buffer. Should
        // the allocation below panic, the elements leak rather than drop twice.
        // SAFETY: lowering the length only forgets elements.
        unsafe { items.set_len(0) };
        let src = items.as_ptr();
        // Cannot fail for `len` (a vector of them exists); `capacity` is `len` or 4.
        let tail = Layout::array::<Any>(capacity).expect("array layout");
        let init = |tail: *mut u8| {
            // SAFETY: the tail has room for `capacity >= len` elements and does not overlap
            // the vector's buffer, whose first `len` slots hold initialised elements.
            unsafe { core::ptr::copy_nonoverlapping(src, tail.cast::<Any>(), len) };
            ArrayCell {
                seq: TVMFFISeqCell {
                    data: tail.cast(),
                    size: to_i64(len),
                    capacity: to_i64(capacity),
                    data_deleter: None,
                },
            }
        };
        // SAFETY: `init` initialises the `len` elements the cell counts; the rest of the
        // tail is never read before C++ (or nobody) initialises it.
        let obj = unsafe { heap::new_object_with_tail(TypeIndex::ARRAY, tail, init) };
        drop(items);
        Self { obj }
    }

    /// The number of elements.
    #[inline]
    pub fn len(&self) -> usize {
        count(self.obj.seq.size)
    }

    /// Whether there are no elements.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The number of element slots the object has.
    #[inline]
    pub fn capacity(&self) -> usize {
        count(self.obj.seq.capacity)
    }

    /// The elements.
    #[inline]
    pub fn as_slice(&self) -> &[Any] {
        let seq = &self.obj.seq;
        let len = count(seq.size);
        if len == 0 || seq.data.is_null() {
            return &[];
        }
        // SAFETY: `data` points at `size` initialised elements (our `init`, or the C++ that
        // made the object); our strong reference keeps them alive and, by the copy-on-write
        // rule, unchanged while `self` is borrowed.
        unsafe { core::slice::from_raw_parts(seq.data.cast::<Any>(), len) }
    }

    /// The element at `index`, borrowed; `None` past the end.
    #[inline]
    pub fn get(&self, index: usize) -> Option<AnyView<'_>> {
        self.as_slice().get(index).map(Any::view)
    }

    /// The element at `index` converted to `T` (see [`FromAnyView`]).
    pub fn get_as<'a, T: FromAnyView<'a>>(&'a self, index: usize) -> Result<T, SeqError> {
        match self.get(index) {
            Some(view) => Ok(view.get::<T>()?),
            None => Err(SeqError::IndexOutOfRange { index, len: self.len() }),
        }
    }

    /// The elements, borrowed, in order.
    #[inline]
    pub fn iter(&self) -> ArrayIter<'_> {
        ArrayIter { inner: self.as_slice().iter() }
    }

    /// Owned copies of the elements (objects gain a reference).
    pub fn to_vec(&self) -> Vec<Any> {
        self.as_slice().to_vec()
    }

    /// Whether both handles point to the same object (what `==` compares).
    #[inline]
    pub fn ptr_eq(&self, other: &Self) -> bool {
        self.obj.ptr_eq(&other.obj)
    }

    /// The object reference.
    #[inline]
    pub fn as_object(&self) -> &ObjectRef<ArrayObj> {
        &self.obj
    }

    /// The object reference, giving up the handle.
    #[inline]
    pub fn into_object(self) -> ObjectRef<ArrayObj> {
        self.obj
    }

    /// Wrap an array object reference.
    #[inline]
    pub fn from_object(obj: ObjectRef<ArrayObj>) -> Self {
        Self { obj }
    }
}

impl PartialEq for Array {
    /// Identity: the same object.
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.ptr_eq(other)
    }
}

impl Eq for Array {}

impl Default for Array {
    fn default() -> Self {
        Self::new()
    }
}

impl From<Vec<Any>> for Array {
    fn from(items: Vec<Any>) -> Self {
        Self::from_vec(items)
    }
}

impl<T: Into<Any>> FromIterator<T> for Array {
    /// Built in place when the iterator knows its length (ranges, slices, vectors, maps
    /// over them), else collected into a vector first.
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let iter = iter.into_iter().map(Into::into);
        match iter.size_hint() {
            (lower, Some(upper)) if lower == upper => {
                let Ok(array) =
                    Self::try_collect(lower, iter.map(Ok::<_, core::convert::Infallible>));
                array
            }
            _ => Self::from_vec(iter.collect()),
        }
    }
}

/// The elements written so far into a new array's tail; dropped (with them) should the
/// source panic before the cell takes them over.
struct Filled {
    data: *mut Any,
    len: usize,
}

impl Filled {
    /// Write the next element.
    ///
    /// # Safety
    ///
    /// The tail has room for one more element.
    #[inline]
    unsafe fn push(&mut self, v: Any) {
        // SAFETY: slot `len` is inside the tail (caller) and not yet initialised.
        unsafe { self.data.add(self.len).write(v) };
        self.len += 1;
    }

    /// The cell owning the elements written, in a tail of `capacity` slots.
    fn into_cell(self, capacity: usize) -> TVMFFISeqCell {
        let this = core::mem::ManuallyDrop::new(self);
        TVMFFISeqCell {
            data: this.data.cast(),
            size: to_i64(this.len),
            capacity: to_i64(capacity),
            data_deleter: None,
        }
    }
}

impl Drop for Filled {
    fn drop(&mut self) {
        // SAFETY: the first `len` slots hold elements nothing else owns (unwinding only).
        unsafe { core::ptr::slice_from_raw_parts_mut(self.data, self.len).drop_in_place() };
    }
}

impl fmt::Debug for Array {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Array")?;
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for &'a Array {
    type Item = AnyView<'a>;
    type IntoIter = ArrayIter<'a>;

    fn into_iter(self) -> ArrayIter<'a> {
        self.iter()
    }
}

impl From<Array> for Any {
    #[inline]
    fn from(a: Array) -> Self {
        Any::from(a.obj)
    }
}

impl<'a> From<&'a Array> for AnyView<'a> {
    #[inline]
    fn from(a: &'a Array) -> Self {
        AnyView::from(&a.obj)
    }
}

/// An `ffi.Array`, or a copy of an `ffi.List`'s current elements, as the reference's
/// `TypeTraits<Array<Any>>::TryCastFromAnyView` converts (`kOtherTypeIndex`); anything else
/// is a mismatch.
impl FromAnyView<'_> for Array {
    fn from_any_view(view: AnyView<'_>) -> Result<Self, ConversionError> {
        match view.type_index() {
            TypeIndex::ARRAY => view.get::<ObjectRef<ArrayObj>>().map(Self::from_object),
            TypeIndex::LIST => {
                let list = List::from_object(view.get::<ObjectRef<ListObj>>()?);
                // The reference reserves `size` on a fresh `Array()` (capacity 4).
                Ok(Self::with_slots(list.to_vec(), INIT_CAPACITY))
            }
            other => Err(ConversionError::mismatch("Array<Any>", other)),
        }
    }
}

impl TryFrom<Any> for Array {
    type Error = ConversionError;

    /// As [`FromAnyView`], keeping the value's reference for an `ffi.Array`.
    fn try_from(any: Any) -> Result<Self, ConversionError> {
        match any.into_object::<ArrayObj>() {
            Ok(obj) => Ok(Self::from_object(obj)),
            Err(any) => Self::from_any_view(any.view()),
        }
    }
}

/// Iterator over an [`Array`]'s elements, borrowed.
#[derive(Clone, Debug)]
pub struct ArrayIter<'a> {
    inner: core::slice::Iter<'a, Any>,
}

impl<'a> Iterator for ArrayIter<'a> {
    type Item = AnyView<'a>;

    #[inline]
    fn next(&mut self) -> Option<AnyView<'a>> {
        self.inner.next().map(Any::view)
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl DoubleEndedIterator for ArrayIter<'_> {
    #[inline]
    fn next_back(&mut self) -> Option<Self::Item> {
        self.inner.next_back().map(Any::view)
    }
}

impl ExactSizeIterator for ArrayIter<'_> {}
impl FusedIterator for ArrayIter<'_> {}
