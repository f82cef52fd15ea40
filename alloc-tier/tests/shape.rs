//! `Shape` against the reference's `ShapeObj`.

use core::ffi::c_void;
use std::collections::HashSet;

use tvmffi_alloc::shape::{LAYOUTS, ShapeError};
use tvmffi_alloc::{Shape, heap};
use tvmffi_core::error::ConversionErrorKind;
use tvmffi_core::sys::{TVMFFIObject, TVMFFISeqCell, TVMFFIShapeCell};
use tvmffi_core::{Any, AnyView, FromAnyView, Payload, TypeIndex};

/// The cell after a shape object's header (`TVMFFIShapeGetCellPtr`).
fn cell(s: &Shape) -> TVMFFIShapeCell {
    // SAFETY: a live shape object: the header, then a shape cell.
    unsafe {
        s.as_raw().cast::<u8>().add(size_of::<TVMFFIObject>()).cast::<TVMFFIShapeCell>().read()
    }
}

#[test]
fn extents_sit_inline_right_after_the_cell() {
    let s = Shape::new(&[2, -1, 7]);
    let c = cell(&s);
    assert_eq!(c.size, 3);
    assert_eq!(c.data as usize, s.as_raw() as usize + LAYOUTS[0].size);
    // SAFETY: three extents at `data`.
    assert_eq!(unsafe { core::slice::from_raw_parts(c.data, 3) }, [2, -1, 7]);
    assert_eq!(s.as_slice(), &[2, -1, 7]);
    assert_eq!(s.len(), 3);
    assert_eq!(s[1], -1, "Deref to [i64]");
}

#[test]
fn constructors_agree() {
    let expect = [4i64, 5, 6];
    let all = [
        Shape::new(&expect),
        Shape::from(expect),
        Shape::from(&expect),
        Shape::from(&expect[..]),
        Shape::from(expect.to_vec()),
        expect.iter().copied().collect(),
    ];
    for s in &all {
        assert_eq!(*s, expect);
    }
    let set: HashSet<Shape> = all.into_iter().collect();
    assert_eq!(set.len(), 1);
}

#[test]
fn empty_shape_is_a_scalar() {
    for s in [Shape::default(), Shape::new(&[])] {
        assert!(s.is_empty());
        assert_eq!(s.as_slice(), &[] as &[i64]);
        assert_eq!(s.product(), Ok(1));
        assert!(s.contiguous_strides().unwrap().is_empty());
        assert_eq!(s.to_string(), "[]");
    }
}

#[test]
fn product_checks_extents_and_overflow() {
    assert_eq!(Shape::from([2, 3, 4]).product(), Ok(24));
    assert_eq!(Shape::from([i64::MAX]).product(), Ok(i64::MAX));
    assert_eq!(Shape::from([i64::MAX, 2]).product(), Err(ShapeError::Overflow));
    assert_eq!(Shape::from([1 << 32, 1 << 31]).product(), Err(ShapeError::Overflow));
    assert_eq!(Shape::from([1 << 32, (1 << 31) - 1]).product(), Ok(i64::MAX - (1 << 32) + 1));
    // A zero extent empties the tensor whatever the others are.
    assert_eq!(Shape::from([i64::MAX, i64::MAX, 0]).product(), Ok(0));
    // Negative extents are allowed in a shape, not in a size.
    let symbolic = Shape::from([3, -1, 0]);
    assert_eq!(symbolic.as_slice(), &[3, -1, 0]);
    assert_eq!(symbolic.product(), Err(ShapeError::NegativeExtent { axis: 1, extent: -1 }));
    assert_eq!(
        symbolic.contiguous_strides(),
        Err(ShapeError::NegativeExtent { axis: 1, extent: -1 })
    );
    assert!(ShapeError::Overflow.to_string().contains("overflow"));
    assert!(ShapeError::NegativeExtent { axis: 1, extent: -1 }.to_string().contains("axis 1"));
}

#[test]
fn contiguous_strides_are_row_major() {
    assert_eq!(Shape::from([2, 3, 4]).contiguous_strides().unwrap(), [12, 4, 1]);
    assert_eq!(Shape::from([5]).contiguous_strides().unwrap(), [1]);
    assert_eq!(Shape::from([0, 3]).contiguous_strides().unwrap(), [3, 1]);
    // The first extent never enters a stride, so it cannot overflow one.
    assert_eq!(Shape::from([i64::MAX, 2]).contiguous_strides().unwrap(), [2, 1]);
    assert_eq!(Shape::from([2, i64::MAX, 2]).contiguous_strides(), Err(ShapeError::Overflow));
}

#[test]
fn round_trips_through_any_sharing_the_object() {
    let s = Shape::from([1, 2]);
    let view = AnyView::from(&s);
    assert_eq!(view.type_index(), TypeIndex::SHAPE);
    let shared = Shape::from_any_view(view).unwrap();
    assert_eq!(shared.as_raw(), s.as_raw());
    let any = Any::from(s.clone());
    assert_eq!(any.get::<Shape>().unwrap(), s);
    let moved = Shape::try_from(any).unwrap();
    assert_eq!(moved.as_raw(), s.as_raw());
    assert_eq!(format!("{s}"), "[1, 2]");
    assert_eq!(format!("{s:?}"), "Shape([1, 2])");
}

#[test]
fn other_kinds_are_refused() {
    for view in [AnyView::from(3i64), AnyView::NONE, AnyView::from(c"[1, 2]")] {
        assert_eq!(Shape::from_any_view(view).unwrap_err().kind(), ConversionErrorKind::Mismatch);
    }
    let e = Shape::try_from(Any::from(1.5)).unwrap_err();
    assert_eq!(e.kind(), ConversionErrorKind::Mismatch);
}

/// A shape object made elsewhere: a cell pointing wherever its maker chose (C++'s
/// `ShapeObjStdImpl` points into a `std::vector`).
#[allow(dead_code)] // read through the object pointer, as C reads it
#[repr(C)]
struct ForeignShape(TVMFFIShapeCell, Vec<i64>);
// SAFETY: test payload with the shape cell first, as `ShapeObj` has; `SHAPE` only.
unsafe impl Payload for ForeignShape {
    const TYPE_KEY: &'static str = "test.ForeignShape";
    fn is_instance(t: TypeIndex) -> bool {
        t == TypeIndex::SHAPE
    }
}

fn foreign_shape(dims: Vec<i64>, data: Option<*const i64>, size: usize) -> Any {
    let cell = TVMFFIShapeCell { data: data.unwrap_or(dims.as_ptr()), size };
    Any::from(heap::new_object(TypeIndex::SHAPE, ForeignShape(cell, dims)))
}

#[test]
fn shapes_made_elsewhere_are_read_through_their_data_pointer() {
    let s = Shape::try_from(foreign_shape(vec![9, 8, 7], None, 3)).unwrap();
    assert_eq!(s, [9, 8, 7]);
    let empty = Shape::try_from(foreign_shape(vec![], Some(core::ptr::null()), 0)).unwrap();
    assert!(empty.is_empty());
    let e = Shape::try_from(foreign_shape(vec![], Some(core::ptr::null()), 2)).unwrap_err();
    assert_eq!(e.kind(), ConversionErrorKind::Malformed);
    let any = foreign_shape(vec![1], None, usize::MAX);
    assert_eq!(any.get::<Shape>().unwrap_err().kind(), ConversionErrorKind::Malformed);
}

/// An array object as the reference lays it out: the header, then a `TVMFFISeqCell`.
#[allow(dead_code)] // read through the object pointer, as C reads it
#[repr(C)]
struct FakeSeq(TVMFFISeqCell, Vec<Any>);
// SAFETY: test payload with the sequence cell first, as `SeqBaseObj` has.
unsafe impl Payload for FakeSeq {
    const TYPE_KEY: &'static str = "test.FakeSeq";
    fn is_instance(t: TypeIndex) -> bool {
        t == TypeIndex::ARRAY || t == TypeIndex::LIST
    }
}

fn fake_seq(type_index: TypeIndex, items: Vec<Any>, size: i64) -> Any {
    let cell = TVMFFISeqCell {
        data: items.as_ptr().cast_mut().cast::<c_void>(),
        size,
        capacity: items.len() as i64,
        data_deleter: None,
    };
    Any::from(heap::new_object(type_index, FakeSeq(cell, items)))
}

#[test]
fn arrays_and_lists_of_ints_convert_as_the_reference_fallback() {
    let items = vec![Any::from(2i64), Any::from(true), Any::from(-3i64)];
    let array = fake_seq(TypeIndex::ARRAY, items, 3);
    assert_eq!(array.get::<Shape>().unwrap(), [2, 1, -3]);
    let list = fake_seq(TypeIndex::LIST, vec![Any::from(5i64)], 1);
    assert_eq!(Shape::try_from(list).unwrap(), [5]);
    assert!(fake_seq(TypeIndex::ARRAY, vec![], 0).get::<Shape>().unwrap().is_empty());

    let mixed = fake_seq(TypeIndex::ARRAY, vec![Any::from(1i64), Any::from(2.0)], 2);
    assert_eq!(mixed.get::<Shape>().unwrap_err().kind(), ConversionErrorKind::Mismatch);
    let negative = fake_seq(TypeIndex::ARRAY, vec![], -1);
    assert_eq!(negative.get::<Shape>().unwrap_err().kind(), ConversionErrorKind::Malformed);
}

#[test]
fn layout_table_names_the_cpp_class() {
    assert_eq!(LAYOUTS[0].c_name, "tvm::ffi::ShapeObj");
    let wide = cfg!(target_pointer_width = "64");
    assert_eq!(LAYOUTS[0].size, if wide { 40 } else { 32 });
    assert_eq!(LAYOUTS[0].fields, &[("data", 24), ("size", if wide { 32 } else { 28 })]);
}
