//! Unit tests of the reflection registration that need no C API: the start-up path into a
//! table (which Miri runs).

use tvmffi_core::flags::FieldFlags;
use tvmffi_core::sys::{TVMFFIAny, TVMFFIFieldSetter, TVMFFIObject};
use tvmffi_core::{Any, AnyView, Object, TypeIndex};

use super::reflect::payload_offset;
use super::{FieldCell, ObjectDef, ObjectRoot, Reflect};
use crate::runtime::TypeTable;

#[repr(C)]
#[derive(Default, Clone)]
struct Base {
    id: i64,
}

#[repr(C)]
#[derive(Default, Clone)]
struct Leaf {
    base: Base,
    weight: FieldCell<f64>,
}

crate::object_type! {
    // SAFETY: unit-test keys; `Leaf` starts with `Base`.
    unsafe impl ObjectDef for Base { type_key = "unit.reflect.Base"; parent = ObjectRoot; }
}
crate::object_type! {
    // SAFETY: as above.
    unsafe impl ObjectDef for Leaf { type_key = "unit.reflect.Leaf"; parent = Base; }
}

#[test]
fn payload_offset_is_where_object_puts_the_payload() {
    let obj = Object::new(TypeIndex::OBJECT, None, Leaf::default());
    let start = (&raw const obj).cast::<u8>();
    let payload = core::ptr::from_ref(obj.payload()).cast::<u8>();
    assert_eq!(payload as usize - start as usize, payload_offset::<Leaf>());
    assert_eq!(payload_offset::<u8>(), core::mem::size_of::<TVMFFIObject>());
}

/// The start-up path: straight into a table, ancestors first, caches filled, nothing
/// through the C API (so this runs under Miri too).
#[test]
fn registration_into_a_table_fills_it_and_the_cache() {
    let mut table = TypeTable::new();
    let leaf = Reflect::<Leaf>::new()
        .doc("leaf")
        .shallow_copy()
        .def_rw(crate::field!(Leaf, weight).default(1.0))
        .register_into(&mut table)
        .unwrap();
    let base = table.key_to_index(b"unit.reflect.Base").unwrap();
    assert_eq!((base, leaf.0), (128, 129));
    assert_eq!(Base::type_index_cache().0.get(), Some(&128));
    assert_eq!(Leaf::type_index_cache().0.get(), Some(&129));
    // SAFETY: the table is alive and not changed while the info is read.
    let info = unsafe { &*table.type_info(leaf.0).unwrap() };
    assert_eq!(info.type_depth, 2);
    assert_eq!(info.num_fields, 1);
    // SAFETY: one field.
    let weight = unsafe { &*info.fields };
    assert_eq!(weight.offset as usize, 24 + core::mem::offset_of!(Leaf, weight));
    assert_eq!(FieldFlags(weight.flags), FieldFlags::WRITABLE | FieldFlags::HAS_DEFAULT);

    // Use the getter and setter the table holds on a real object.
    let obj = crate::heap::new_object(leaf, Leaf { base: Base { id: 1 }, weight: 2.5.into() });
    let addr = obj.as_raw().cast::<u8>().wrapping_add(weight.offset as usize).cast();
    let mut out = TVMFFIAny::NONE;
    // SAFETY: the field lives at `addr`; `out` is writable.
    assert_eq!(unsafe { (weight.getter.unwrap())(addr, &mut out) }, 0);
    // SAFETY: the getter wrote an owned float.
    assert_eq!(unsafe { Any::from_raw(out) }.get::<f64>().unwrap(), 2.5);
    // SAFETY: a plain C setter for a `FieldCell<f64>`.
    let setter: TVMFFIFieldSetter = unsafe { core::mem::transmute(weight.setter) };
    // SAFETY: as for the getter.
    assert_eq!(unsafe { setter(addr, AnyView::from(7.0).as_raw()) }, 0);
    assert_eq!(obj.weight.get(), 7.0);

    let final_column = table.attr_column(b"__ffi_type_final__").unwrap();
    // SAFETY: the column lives as long as the table; index 129 is within it.
    let is_final = unsafe {
        let offset = 129 - (*final_column).begin_index;
        assert!((0..(*final_column).size).contains(&offset));
        AnyView::from_raw(*(*final_column).data.add(offset as usize))
    };
    assert!(!is_final.get::<bool>().unwrap());
    // A second registration of the same reflection is refused.
    let e = Reflect::<Leaf>::new().register_into(&mut table).unwrap_err();
    assert_eq!(e.kind(), "RuntimeError");
}
