//! The runtime's state types on their own, without the `runtime` feature: each test builds
//! its own table, so Miri also checks that dropping one frees everything it holds.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::panic
)]

use alloc::vec::Vec;

use tvmffi_core::flags::{FieldFlags, SEqHashKind};
use tvmffi_core::sys::{
    TVMFFIAny, TVMFFIByteArray, TVMFFIFieldInfo, TVMFFITypeInfo, TVMFFITypeMetadata,
};
use tvmffi_core::{Any, AnyView, TypeIndex};

use super::{ErrorSlot, TypeTable};
use crate::error::Error;

fn ba(s: &[u8]) -> TVMFFIByteArray {
    TVMFFIByteArray { data: s.as_ptr().cast(), size: s.len() }
}

fn info(table: &TypeTable, index: i32) -> &TVMFFITypeInfo {
    // SAFETY: the table outlives the borrow and is not modified meanwhile.
    unsafe { &*table.type_info(index).unwrap() }
}

fn key(info: &TVMFFITypeInfo) -> &[u8] {
    // SAFETY: keys are never empty and live as long as the table.
    unsafe { core::slice::from_raw_parts(info.type_key.data.cast(), info.type_key.size) }
}

fn ancestors(info: &TVMFFITypeInfo) -> Vec<i32> {
    (0..info.type_depth as usize)
        // SAFETY: `type_depth` live entries.
        .map(|d| unsafe { (**info.type_ancestors.add(d)).type_index })
        .collect()
}

#[test]
fn a_fresh_table_has_the_reference_builtins() {
    let mut table = TypeTable::new();
    let keys: Vec<&[u8]> = table.type_keys().collect();
    assert_eq!(keys.len(), 28, "ffi.Object, 14 inline values, 13 static objects");
    assert_eq!(keys[0], b"None");
    for index in [0, 1, 13, 64, 65, 68, 74, 76, 78] {
        let i = info(&table, index);
        assert_eq!(key(i), TypeIndex(index).static_type_key().unwrap().as_bytes());
        assert_eq!(i.type_index, index);
    }
    assert_eq!(ancestors(info(&table, 71)), [64]);
    assert!(info(&table, 1).type_ancestors.is_null());
    // VisitInterrupt (77) is not reserved at start-up by the reference either.
    assert!(table.type_info(77).is_err());
    // Static object types cannot get subclasses: no slots, no overflow.
    let e = table.get_or_alloc_index(b"t.SubFn", -1, 2, 0, true, 68).unwrap_err();
    assert_eq!(e.message(), "Reach maximum number of sub-classes for ffi.Function");
}

#[test]
fn hashes_follow_keys_and_tables_are_independent() {
    let mut a = TypeTable::new();
    let mut b = TypeTable::new();
    let ia = a.get_or_alloc_index(b"t.Same", -1, 1, 0, true, 64).unwrap();
    assert!(b.key_to_index(b"t.Same").is_err());
    let ib = b.get_or_alloc_index(b"t.Same", -1, 1, 0, true, 64).unwrap();
    assert_eq!(ia, ib);
    assert_eq!(info(&a, ia).type_key_hash, info(&b, ib).type_key_hash);
    let other = a.get_or_alloc_index(b"t.Other", -1, 1, 0, true, 64).unwrap();
    assert_ne!(info(&a, ia).type_key_hash, info(&a, other).type_key_hash);
    // libstdc++'s `std::hash<std::string_view>`, as the reference's wheel stores it (the
    // values were printed by a C++ program built with g++).
    #[cfg(target_pointer_width = "64")]
    {
        let array = a.key_to_index(b"ffi.Array").unwrap();
        assert_eq!(info(&a, array).type_key_hash, 0x8113_00c1_0428_4401);
        let derived = a.get_or_alloc_index(b"testing.TestObjectDerived", -1, 1, 0, true, 64);
        assert_eq!(info(&a, derived.unwrap()).type_key_hash, 0xb096_4a10_8466_f9a3);
    }
    #[cfg(target_pointer_width = "32")]
    {
        let array = a.key_to_index(b"ffi.Array").unwrap();
        assert_eq!(info(&a, array).type_key_hash, 0x06d8_870c);
        let derived = a.get_or_alloc_index(b"testing.TestObjectDerived", -1, 1, 0, true, 64);
        assert_eq!(info(&a, derived.unwrap()).type_key_hash, 0x2def_6685);
    }
}

#[test]
fn infos_stay_put_while_the_table_grows() {
    let mut table = TypeTable::new();
    let root = table.get_or_alloc_index(b"t.Root", -1, 1, 0, true, 64).unwrap();
    let root_info: *const TVMFFITypeInfo = table.type_info(root).unwrap();
    let meta = TVMFFITypeMetadata {
        doc: ba(b"root"),
        creator: None,
        total_size: 40,
        structural_eq_hash_kind: SEqHashKind::TREE_NODE,
    };
    // SAFETY: a valid doc.
    unsafe { table.register_metadata(root, &meta) }.unwrap();
    // SAFETY: the info lives as long as the table.
    let meta_ptr = unsafe { (*root_info).metadata };
    let mut last = root;
    let n = if cfg!(miri) { 20 } else { 300 };
    for i in 0..n {
        let k = alloc::format!("t.Chain{i}");
        last = table.get_or_alloc_index(k.as_bytes(), -1, 2, 0, true, root).unwrap();
        let f = field(b"f", FieldFlags::WRITABLE);
        // SAFETY: a valid field.
        unsafe { table.register_field(last, &f) }.unwrap();
    }
    assert_eq!(last, root + n);
    // The old pointers still read the same, after the entry vector reallocated.
    // SAFETY: infos and metadata live as long as the table.
    unsafe {
        assert_eq!((*root_info).type_index, root);
        assert_eq!(key(&*root_info), b"t.Root");
        assert_eq!((*meta_ptr).total_size, 40);
        assert_eq!(ancestors(info(&table, last)), [64, root]);
        assert_eq!(*ancestors(info(&table, last)).last().unwrap(), (*root_info).type_index);
    }
}

fn field(name: &'static [u8], flags: FieldFlags) -> TVMFFIFieldInfo {
    TVMFFIFieldInfo {
        name: ba(name),
        doc: ba(b"a field"),
        metadata: ba(b""),
        flags: flags.0,
        size: 8,
        alignment: 8,
        offset: 24,
        getter: None,
        setter: core::ptr::null_mut(),
        default_value_or_factory: TVMFFIAny::NONE,
        field_static_type_index: 1,
    }
}

#[test]
fn dropping_a_table_releases_what_it_kept() {
    let kept = Any::from(Error::value_error("kept by the table"));
    let obj = kept.as_object_ptr().unwrap();
    {
        let mut table = TypeTable::new();
        let t = table.get_or_alloc_index(b"t.Holder", -1, 1, 0, true, 64).unwrap();
        let f = TVMFFIFieldInfo {
            default_value_or_factory: *kept.as_raw(),
            ..field(b"d", FieldFlags::HAS_DEFAULT)
        };
        // SAFETY: a valid field with a valid default.
        unsafe { table.register_field(t, &f) }.unwrap();
        table.register_attr(t, b"t.attr", AnyView::from(&kept)).unwrap();
        // SAFETY: the object is alive.
        assert_eq!(unsafe { obj.as_ref() }.strong_count(), 3);
        let column = table.attr_column(b"t.attr").unwrap();
        // SAFETY: the column lives as long as the table.
        let (begin, size) = unsafe { ((*column).begin_index, (*column).size) };
        // Only the one type's slot: a column starts at the first index it holds.
        assert_eq!((begin, size), (t, 1));
    }
    // SAFETY: still alive through `kept`.
    assert_eq!(unsafe { obj.as_ref() }.strong_count(), 1);
}

#[test]
fn error_slot_replaces_and_takes() {
    let slot = ErrorSlot::new();
    assert!(!slot.is_set());
    let first = Error::value_error("one");
    slot.set(Some(first.clone()));
    slot.set(Some(Error::type_error("two")));
    assert_eq!(first.as_object().strong_count(), 1);
    assert!(slot.is_set());
    assert_eq!(slot.take().unwrap().message(), "two");
    slot.set(None);
    assert!(slot.take().is_none());
}
