//! `Array`: element ownership, bounds, building in place, conversions (also with `List`),
//! and cells changed by "foreign" code the way the reference's C++ changes them.

extern crate alloc;

#[macro_use]
#[path = "seq/support.rs"]
mod support;

use core::cell::Cell;

use support::{
    FOREIGN_CAP, FOREIGN_FREES, cell, foreign_buffer, foreign_free, fref, ints, scale, serial,
    strong,
};
use tvmffi_alloc::seq::{Array, ArrayObj, List, ListObj, SeqError};
use tvmffi_core::error::ConversionErrorKind;
use tvmffi_core::sys::{TVMFFIAny, TVMFFIFunctionCell, TVMFFIObject};
use tvmffi_core::{Any, AnyView, ObjectRef, StaticObject, TypeIndex};

#[test]
fn empty_arrays() {
    let _s = serial();
    let a = Array::new();
    assert_eq!((a.len(), a.capacity(), a.is_empty()), (0, 4, true));
    assert!(a.get(0).is_none() && a.as_slice().is_empty() && a.iter().next().is_none());
    assert_eq!(a.get_as::<i64>(0), Err(SeqError::IndexOutOfRange { index: 0, len: 0 }));
    let b = Array::from_vec(Vec::new());
    assert_eq!((b.len(), b.capacity()), (0, 0));
    assert_eq!(format!("{b:?}"), "Array[]");
    assert_ne!(a, b);
    assert_eq!(a, a.clone());
    let c: Array = Array::from_views(&[]).unwrap();
    assert!(c.is_empty());
}

#[test]
fn array_elements_are_released_exactly_once() {
    let _s = serial();
    static_function!(F);
    {
        let a: Array = (0..3).map(|_| fref(&F)).chain([Any::from(7i64)]).collect();
        assert_eq!(strong(&F), 4);
        let b = a.clone(); // shares the object: no element reference added
        assert_eq!(strong(&F), 4);
        let copies = b.to_vec();
        assert_eq!(strong(&F), 7);
        drop(copies);
        let view = a.get(1).unwrap();
        assert_eq!(view.type_index(), TypeIndex::FUNCTION);
        let f: ObjectRef<tvmffi_core::FunctionObj> = a.get_as(2).unwrap();
        assert_eq!(strong(&F), 5);
        drop((f, a));
        assert_eq!(strong(&F), 4, "the object lives on in `b`");
    }
    assert_eq!(strong(&F), 1, "each element released once, with the last handle");
}

#[test]
fn array_from_views_owns_copies() {
    let _s = serial();
    static_function!(F);
    let obj = F.new_ref();
    let views = [AnyView::from(&obj), AnyView::from(3i64), AnyView::from(2.5f64)];
    let a = Array::from_views(&views).unwrap();
    assert_eq!(strong(&F), 3);
    assert_eq!(a.get_as::<f64>(2), Ok(2.5));
    drop(obj);
    assert_eq!(a.get(0).unwrap().type_index(), TypeIndex::FUNCTION);
    drop(a);
    assert_eq!(strong(&F), 1);
    // A borrowed C string too long for a small string needs a string object.
    let long = c"a C string longer than seven bytes";
    let err = Array::from_views(&[AnyView::from(long)]).unwrap_err();
    assert_eq!(err.kind(), ConversionErrorKind::NeedsAllocator);
}

#[test]
fn large_array() {
    let _s = serial();
    let n = scale(100_000, 300);
    let a: Array = (0..n as i64).collect();
    assert_eq!((a.len(), a.capacity()), (n, n));
    assert_eq!(a.get_as::<i64>(n - 1), Ok(n as i64 - 1));
    assert!(a.get(n).is_none());
    assert!(a.iter().rev().map(|v| v.get::<i64>().unwrap()).eq((0..n as i64).rev()));
    assert_eq!(a.iter().len(), n);
}

/// An iterator over `items` that claims exactly `claimed` of them, truthfully or not.
struct Claims<I> {
    items: I,
    claimed: usize,
}

impl<I: Iterator<Item = Any>> Iterator for Claims<I> {
    type Item = Any;
    fn next(&mut self) -> Option<Any> {
        self.items.next()
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.claimed, Some(self.claimed))
    }
}

#[test]
fn arrays_built_in_place_survive_wrong_size_hints_and_failures() {
    let _s = serial();
    static_function!(F);
    // An exact hint builds in place; a short or a long one must not lose or leak elements.
    for (n, claimed) in [(3, 3), (3, 5), (5, 2), (0, 4), (4, 0)] {
        let items = (0..n).map(|_| fref(&F));
        let a: Array = Claims { items, claimed }.collect();
        assert_eq!(a.len(), n, "{n} items, {claimed} claimed");
        assert!(a.iter().all(|v| v.type_index() == TypeIndex::FUNCTION));
        assert_eq!(strong(&F) as usize, 1 + n);
        drop(a);
        assert_eq!(strong(&F), 1);
    }
    // A failure half way releases what was taken: an r-value reference moved twice.
    let mut slot: *mut TVMFFIObject = F.new_ref().into_raw().cast();
    let rvalue = TVMFFIAny {
        type_index: TypeIndex::OBJECT_RVALUE_REF.0,
        padding: tvmffi_core::sys::TVMFFIAnyPadding { zero_padding: 0 },
        value: tvmffi_core::sys::TVMFFIAnyValue { v_ptr: (&raw mut slot).cast() },
    };
    // SAFETY: the slot outlives the views, which only this test uses.
    let moved = unsafe { AnyView::from_raw(rvalue) };
    let held = F.new_ref();
    let views = [AnyView::from(&held), moved, AnyView::from(1i64), moved];
    let err = Array::from_views(&views).unwrap_err();
    assert_eq!(err.kind(), ConversionErrorKind::AlreadyMoved);
    assert!(slot.is_null(), "the first view moved the object out");
    drop(held);
    assert_eq!(strong(&F), 1, "the moved object and the copy were released");
}

#[test]
fn array_bad_indices_and_types_are_errors() {
    let _s = serial();
    let a: Array = [1i64, 2].into_iter().collect();
    for i in [2, 3, usize::MAX] {
        assert!(a.get(i).is_none());
        assert_eq!(a.get_as::<i64>(i), Err(SeqError::IndexOutOfRange { index: i, len: 2 }));
    }
    let err = a.get_as::<bool>(0).map(|_| ()).and(a.get_as::<()>(0));
    assert!(matches!(err, Err(SeqError::Conversion(_))));
}

#[test]
fn array_converts_with_any_both_ways() {
    let _s = serial();
    let a: Array = [10i64, 20].into_iter().collect();
    let view = AnyView::from(&a);
    assert_eq!(view.type_index(), TypeIndex::ARRAY);
    let b: Array = view.get().unwrap();
    assert_eq!(a, b);
    let any = Any::from(b);
    let c = Array::try_from(any).unwrap();
    assert_eq!(a, c);
    assert_eq!(a.as_object().strong_count(), 2);

    for bad in [Any::from(1i64), Any::NONE, Any::from(List::new())] {
        let r = bad.get::<ObjectRef<ArrayObj>>();
        assert_eq!(r.unwrap_err().kind(), ConversionErrorKind::Mismatch);
    }
    let err = Any::from(1.5f64).get::<Array>().unwrap_err();
    assert_eq!((err.kind(), err.expected()), (ConversionErrorKind::Mismatch, "Array<Any>"));
    assert!(Array::try_from(Any::from(true)).is_err());
    assert!(format!("{a:?}").starts_with("Array[AnyView(int: 10)"));
}

#[test]
fn arrays_and_lists_convert_into_each_other_by_copy() {
    let _s = serial();
    let list: List = [1i64, 2].into_iter().collect();
    let array: Array = Any::from(list.clone()).get().unwrap();
    list.push(3i64);
    assert_eq!((array.len(), array.capacity()), (2, 4), "a snapshot, reserved as Array()");
    let back: List = AnyView::from(&array).get().unwrap();
    back.push(9i64);
    assert_eq!(array.len(), 2, "the array is untouched");
    assert_eq!(ints(&back), [1, 2, 9]);
    assert!(List::try_from(Any::from(array.clone())).is_ok_and(|l| l.len() == 2));
    let err = Any::from(5i64).get::<List>().unwrap_err();
    assert_eq!(err.expected(), "List<Any>");
    // The strict object views accept one index each.
    assert!(Any::from(array).get::<ObjectRef<ListObj>>().is_err());
}

/// What the reference's `Array<T>` does to an `ArrayObj` it holds alone: `pop_back` and
/// `Set` in place, and `push_back` into spare capacity. The drop must follow the cell.
#[test]
fn array_drop_follows_in_place_changes() {
    let _s = serial();
    static_function!(F);
    let a: Array = [fref(&F), fref(&F), fref(&F)].into_iter().collect();
    let raw = a.into_object().into_raw(); // "C++" now holds the only reference
    let seq = cell(raw);
    // SAFETY: we own the object alone; the cell and its three elements are as built.
    unsafe {
        let data = (*seq).data.cast::<Any>();
        // pop_back: destroy the last element, then shrink.
        drop(data.add(2).read());
        (*seq).size = 2;
        // Set(0, 5): assign over the element.
        *data = Any::from(5i64);
    }
    assert_eq!(strong(&F), 2);
    // SAFETY: the reference goes back to an owner that drops it.
    let a = Array::from_object(unsafe { ObjectRef::from_raw(raw) }.unwrap());
    assert_eq!(a.get_as::<i64>(0), Ok(5));
    assert_eq!(a.len(), 2);
    drop(a);
    assert_eq!(strong(&F), 1);

    // push_back into the spare capacity of an empty `Array()`.
    let raw = Array::new().into_object().into_raw();
    let seq = cell(raw);
    // SAFETY: capacity 4, size 0: slot 0 is free; we own the object alone.
    unsafe {
        (*seq).data.cast::<Any>().write(fref(&F));
        (*seq).size = 1;
    }
    assert_eq!(strong(&F), 2);
    // SAFETY: as above.
    drop(unsafe { ObjectRef::<ArrayObj>::from_raw(raw) });
    assert_eq!(strong(&F), 1);
}

/// An `ArrayObj` whose elements were moved to a separate buffer with a deleter: the drop
/// must destroy them there and free the buffer through the deleter, as `~SeqBaseObj` does.
#[test]
fn array_with_a_data_deleter_frees_through_it() {
    let _s = serial();
    static_function!(F);
    let raw = Array::from_vec(vec![fref(&F), fref(&F)]).into_object().into_raw();
    let seq = cell(raw);
    let buf = foreign_buffer();
    // SAFETY: we own the object alone; move both elements out to the new buffer.
    unsafe {
        core::ptr::copy_nonoverlapping((*seq).data.cast::<Any>(), buf, 2);
        (*seq).data = buf.cast();
        (*seq).capacity = FOREIGN_CAP as i64;
        (*seq).data_deleter = Some(foreign_free);
    }
    // SAFETY: the reference goes back to an owner that drops it.
    let a = Array::from_object(unsafe { ObjectRef::from_raw(raw) }.unwrap());
    assert_eq!(a.iter().filter(|v| v.type_index() == TypeIndex::FUNCTION).count(), 2);
    assert_eq!(strong(&F), 3);
    drop(a);
    assert_eq!((strong(&F), FOREIGN_FREES.with(Cell::get)), (1, 1));
}
