//! Typed object references moving in and out of `Any` and `AnyView`.

use core::ptr;

use tvmffi_core::error::ConversionErrorKind;
use tvmffi_core::sys::TVMFFIFunctionCell;
use tvmffi_core::{Any, AnyView, FunctionObj, ObjectHeader, ObjectRef, StaticObject, TypeIndex};

static F: StaticObject<TVMFFIFunctionCell> = StaticObject::new(
    TypeIndex::FUNCTION,
    TVMFFIFunctionCell { safe_call: None, cpp_call: ptr::null_mut() },
);

#[test]
fn object_moves_into_any_and_back_without_touching_counts() {
    let base = F.header().strong_count();
    let any = Any::from(F.new_ref());
    assert_eq!(any.type_index(), TypeIndex::FUNCTION);
    assert_eq!(F.header().strong_count(), base + 1);

    let back: ObjectRef<FunctionObj> = any.into_object().unwrap();
    assert_eq!(F.header().strong_count(), base + 1, "a move must not change the count");
    drop(back);
    assert_eq!(F.header().strong_count(), base);
}

#[test]
fn into_object_of_the_wrong_type_gives_the_value_back() {
    let any = Any::from(5i64);
    let any = any.into_object::<ObjectHeader>().unwrap_err();
    assert_eq!(any.get::<i64>(), Ok(5));
}

#[test]
fn views_borrow_and_get_makes_a_new_reference() {
    let f = F.new_ref();
    let base = F.header().strong_count();
    let view = AnyView::from(&f);
    assert_eq!(view.type_index(), TypeIndex::FUNCTION);
    assert_eq!(F.header().strong_count(), base, "a view takes no reference");

    let g: ObjectRef<FunctionObj> = view.get().unwrap();
    assert!(g.ptr_eq(&f));
    assert_eq!(F.header().strong_count(), base + 1);
    let root: ObjectRef = view.get().unwrap();
    assert_eq!(root.type_index(), TypeIndex::FUNCTION);
}

#[test]
fn get_object_rejects_values_and_other_types() {
    let err = AnyView::from(1.5f64).get::<ObjectRef<FunctionObj>>().unwrap_err();
    assert_eq!(err.kind(), ConversionErrorKind::Mismatch);
    assert_eq!(err.expected(), "ffi.Function");
    assert_eq!(err.actual(), TypeIndex::FLOAT);
    assert_eq!(
        AnyView::NONE.get::<ObjectRef>().unwrap_err().to_string(),
        "Cannot convert from type `None` to `ffi.Object`"
    );
    assert_eq!(AnyView::NONE.get::<Option<ObjectRef>>().unwrap().map(|o| o.type_index()), None);
}
