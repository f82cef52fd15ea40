//! The support of the stub generator's output, without C++: lookup errors, objects made
//! from mirrors, `ShallowCopy`, `UnsafeInit` and `drop_if_defined`, and `Optional`, the
//! in-place C++ `Optional` cell (tests/stubgen runs the generator's real output).

use tvmffi::mirror::drop_if_defined;
use tvmffi::{
    Any, AnyView, Object, ObjectArc, ObjectCore, Optional, ShallowCopy, TypeIndex, UnsafeInit,
};

#[repr(C)]
#[derive(tvmffi::derive::Object)]
#[tvmffi(crate = tvmffi)]
#[type_key = "test.mirror.NeverRegistered"]
struct UnknownObj {
    base: Object,
    value: i64,
}

#[repr(C)]
#[derive(tvmffi::derive::Object)]
#[tvmffi(crate = tvmffi)]
#[type_key = "ffi.Map"]
struct MapObj {
    base: Object,
}

/// Wrong on purpose: `ffi.Array` does not derive from `ffi.Map`.
#[repr(C)]
#[derive(tvmffi::derive::Object)]
#[tvmffi(crate = tvmffi)]
#[type_key = "ffi.Array"]
struct ArrayUnderMapObj {
    base: MapObj,
}

#[test]
fn a_type_not_registered_or_misplaced_is_an_error_not_an_object() {
    let e = UnknownObj::type_index().unwrap_err();
    assert_eq!(
        e.message(),
        "type `test.mirror.NeverRegistered` is not registered: load the library that defines it \
         first"
    );
    let made = ObjectArc::try_new(UnknownObj { base: Object::new(), value: 1 });
    assert_eq!(made.unwrap_err().kind(), "RuntimeError");

    assert_eq!(MapObj::type_index().unwrap(), TypeIndex::MAP);
    let e = ArrayUnderMapObj::type_index().unwrap_err();
    assert_eq!(e.kind(), "TypeError");
    assert_eq!(
        e.message(),
        "type `ffi.Array` derives from `ffi.Object` at depth 1, but its mirror from `ffi.Map` at \
         depth 2"
    );
    let array = Any::from(tvmffi::Array::<i64>::new());
    assert!(ObjectArc::<ArrayUnderMapObj>::from_any_view(array.view()).is_err());
}

/// A complete mirror of a derived type, made from Rust and copied.
#[derive(tvmffi::Object, Clone, Default)]
#[tvmffi(type_key = "test.mirror.Pair")]
#[repr(C)]
struct Pair {
    first: tvmffi::String,
    second: Option<tvmffi::Array<i64>>,
}

#[repr(C)]
#[derive(tvmffi::derive::Object)]
#[tvmffi(crate = tvmffi)]
#[type_key = "test.mirror.Pair"]
struct PairObj {
    base: Object,
    first: tvmffi::String,
    second: Option<tvmffi::Array<i64>>,
}

impl ShallowCopy for PairObj {
    fn shallow_copy(&self) -> Self {
        Self {
            base: self.base.shallow_copy(),
            first: self.first.clone(),
            second: self.second.clone(),
        }
    }
}

// SAFETY: each field is dropped unless it holds all-zero bytes that are no value.
unsafe impl UnsafeInit for PairObj {
    unsafe fn drop_defined_fields(this: *mut Self) {
        // SAFETY: the caller's promise: fields hold values or zeros, and are not used after.
        unsafe {
            UnsafeInit::drop_defined_fields(&raw mut (*this).base);
            drop_if_defined(&raw mut (*this).first);
            drop_if_defined(&raw mut (*this).second);
        }
    }
}

#[test]
fn objects_made_from_mirrors_are_objects_of_the_type() {
    tvmffi::object_type::type_index::<Pair>().unwrap();
    let array = tvmffi::Array::from_iter([1i64, 2]);
    let made = ObjectArc::new(PairObj {
        base: Object::new(),
        first: "one".into(),
        second: Some(array.clone()),
    });
    assert_eq!(ObjectArc::type_index(&made), PairObj::type_index().unwrap());
    let copy = ObjectArc::shallow_copy(&made);
    assert_ne!(ObjectArc::as_ptr(&copy), ObjectArc::as_ptr(&made));
    assert_eq!(copy.first.as_str(), "one");
    // The derived type reads the mirror's object, and the copy shares the array.
    let derived: tvmffi::ObjectRef<tvmffi::object::Object<Pair>> =
        Any::from(ObjectArc::into_object_ref(copy)).get().unwrap();
    assert_eq!(derived.first.as_str(), "one");
    assert_eq!(derived.second.as_ref().unwrap().len(), 2);
    drop((made, derived));
    assert_eq!(array.as_untyped().as_object().strong_count(), 1, "every reference is released");
}

#[test]
fn drop_if_defined_skips_all_zero_references_and_drops_values() {
    let array = tvmffi::Array::from_iter([7i64]);
    let mut filled = core::mem::ManuallyDrop::new(PairObj {
        base: Object::new(),
        first: "a string longer than seven bytes".into(),
        second: Some(array.clone()),
    });
    assert_eq!(array.as_untyped().as_object().strong_count(), 2);
    // SAFETY: every field holds a value; the object is not used afterwards.
    unsafe { PairObj::drop_defined_fields(&raw mut *filled) };
    assert_eq!(array.as_untyped().as_object().strong_count(), 1, "the defined fields were dropped");

    let mut zeroed = core::mem::MaybeUninit::<PairObj>::zeroed();
    // SAFETY: all-zero fields: `None` for the string cell and the optional reference.
    unsafe { PairObj::drop_defined_fields(zeroed.as_mut_ptr()) };
    let mut null_ref = core::mem::MaybeUninit::<tvmffi::Array<i64>>::zeroed();
    // SAFETY: all-zero bytes are no array: skipped, not dropped.
    unsafe { drop_if_defined(null_ref.as_mut_ptr()) };
}

#[tvmffi::export]
fn maybe_twice(x: Optional<i64>) -> Optional<i64> {
    Option::from(x).map(|v: i64| v * 2).into()
}

#[test]
fn optional_is_the_cpp_cell_and_converts_like_option() {
    assert_eq!(size_of::<Optional<f64>>(), 16);
    assert_eq!(maybe_twice(Optional::some(4)).get().unwrap(), Some(8));
    let none = maybe_twice(Optional::none());
    assert!(none.is_none());
    // Through `Any`, with the reference's names and errors.
    assert_eq!(<Optional<i64> as tvmffi::TypeStr>::type_str(), "Optional<int>");
    let v: Optional<tvmffi::String> =
        AnyView::from(3.5f64).get().map_err(|e| e.to_string()).unwrap_or_default();
    assert!(v.is_none(), "a float is no optional string");
    assert_eq!(Optional::from(Some(1.5f64)), Optional::some(1.5));
    let cell = Any::from(Optional::some(true));
    assert_eq!(cell.get::<Optional<bool>>().unwrap().get().unwrap(), Some(true));
}
