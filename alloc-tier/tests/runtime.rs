//! The `runtime` feature's C API: objects, type table, reflection, owned values, init-once.
//!
//! One global error slot and type table: these tests run one at a time.

extern crate alloc;

use core::ffi::{c_int, c_void};
use core::ptr;
use core::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use tvmffi_alloc::error::Error;
use tvmffi_alloc::function::Function;
use tvmffi_core::flags::{FieldFlags, SEqHashKind};
use tvmffi_core::sys::{
    TVMFFIAny, TVMFFIByteArray, TVMFFIFieldInfo, TVMFFIMethodInfo, TVMFFITypeInfo,
    TVMFFITypeMetadata, TVMFFIVersion, api,
};
use tvmffi_core::{Any, AnyView, ObjectHeader, ObjectRef, TypeIndex};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    drop(Error::take_raised());
    guard
}

fn ba(s: &[u8]) -> TVMFFIByteArray {
    TVMFFIByteArray { data: s.as_ptr().cast(), size: s.len() }
}

fn raised() -> Error {
    Error::take_raised().expect("an error was raised")
}

fn bytes(arr: &TVMFFIByteArray) -> &[u8] {
    if arr.size == 0 {
        return &[];
    }
    // SAFETY: arrays the runtime handed out stay valid.
    unsafe { core::slice::from_raw_parts(arr.data.cast(), arr.size) }
}

fn key_to_index(key: &str) -> Result<i32, Error> {
    let mut out = -5;
    // SAFETY: valid key and out slot.
    match unsafe { api::TVMFFITypeKeyToIndex(&ba(key.as_bytes()), &mut out) } {
        0 => Ok(out),
        _ => Err(raised()),
    }
}

fn alloc(key: &str, depth: i32, slots: i32, overflow: bool, parent: i32) -> i32 {
    // SAFETY: a valid key.
    unsafe {
        api::TVMFFITypeGetOrAllocIndex(
            &ba(key.as_bytes()),
            -1,
            depth,
            slots,
            overflow.into(),
            parent,
        )
    }
}

fn info(index: i32) -> &'static TVMFFITypeInfo {
    // SAFETY: infos live for the rest of the program.
    unsafe { api::TVMFFIGetTypeInfo(index).as_ref() }.expect("registered")
}

fn ancestors(info: &TVMFFITypeInfo) -> Vec<i32> {
    (0..info.type_depth as usize)
        // SAFETY: `type_depth` entries, each a live info.
        .map(|d| unsafe { (**info.type_ancestors.add(d)).type_index })
        .collect()
}

#[test]
fn version_and_reference_counts() {
    let _s = serial();
    let mut v = TVMFFIVersion::default();
    // SAFETY: a writable struct; null is ignored.
    unsafe {
        api::TVMFFIGetVersion(&mut v);
        api::TVMFFIGetVersion(ptr::null_mut());
    }
    assert_eq!((v.major, v.minor, v.patch), (0, 1, 16));

    let e = Error::value_error("x");
    let h = e.as_object().as_raw().cast();
    // SAFETY: a live object.
    unsafe {
        assert_eq!(api::TVMFFIObjectIncRef(h), 0);
        assert_eq!(e.as_object().strong_count(), 2);
        assert_eq!(api::TVMFFIObjectDecRef(h), 0);
        assert_eq!(e.as_object().strong_count(), 1);
        assert_eq!(api::TVMFFIObjectDecRef(ptr::null_mut()), 0, "null is a no-op");
        assert_eq!(api::TVMFFIObjectIncRef(ptr::null_mut()), -1);
    }
    assert!(raised().message().contains("`obj` is null"));
}

#[test]
fn builtin_types_have_the_reference_keys_and_indices() {
    let _s = serial();
    for (key, index) in [
        ("ffi.Object", 64),
        ("None", 0),
        ("int", 1),
        ("bool", 2),
        ("float", 3),
        ("void*", 4),
        ("ffi.SmallStr", 11),
        ("ffi.String", 65),
        ("ffi.Bytes", 66),
        ("ffi.Error", 67),
        ("ffi.Function", 68),
        ("ffi.Tensor", 70),
        ("ffi.OpaquePyObject", 74),
        ("ffi.Dict", 76),
        ("ffi.BigInt", 78),
    ] {
        assert_eq!(key_to_index(key).unwrap(), index, "{key}");
        let i = info(index);
        assert_eq!(bytes(&i.type_key), key.as_bytes());
        assert_eq!(i.type_index, index);
    }
    let obj = info(64);
    assert_eq!((obj.type_depth, obj.num_fields, obj.num_methods), (0, 0, 0));
    // SAFETY: `ffi.Object` has metadata, set at start-up.
    let meta = unsafe { &*obj.metadata };
    assert_eq!(meta.total_size, 24);
    let f = info(68);
    assert_eq!((f.type_depth, ancestors(f)), (1, vec![64]));
    let e = key_to_index("test.no.such.type").unwrap_err();
    assert_eq!(e.to_string(), "InternalError: Cannot find type `test.no.such.type`");
}

#[test]
fn dynamic_types_take_parent_slots_then_overflow() {
    let _s = serial();
    let base = alloc("test.rt.Base", 1, 2, true, 64);
    assert!(base >= 128, "dynamic indices start at 128");
    assert_eq!(alloc("test.rt.Base", 9, 9, false, 3), base, "an existing key returns its index");
    let c1 = alloc("test.rt.C1", 2, 0, true, base);
    let c2 = alloc("test.rt.C2", 2, 0, true, base);
    let c3 = alloc("test.rt.C3", 2, 0, true, base);
    assert_eq!((c1, c2), (base + 1, base + 2), "children take the reserved slots");
    assert!(c3 > base + 2, "the third child overflows to a new index");
    for c in [c1, c2, c3] {
        let i = info(c);
        assert_eq!((i.type_depth, ancestors(i)), (2, vec![64, base]));
    }
    let g = alloc("test.rt.G", 3, 0, true, c3);
    assert_eq!(ancestors(info(g)), vec![64, base, c3]);
    assert_eq!(key_to_index("test.rt.G").unwrap(), g);
    // A look-up only (parent -2) of a missing key gives -2.
    assert_eq!(alloc("test.rt.Missing", 1, 0, true, -2), -2);
    assert_eq!(alloc("test.rt.Base", 1, 0, true, -2), base);
}

#[test]
fn type_registration_refuses_bad_input() {
    let _s = serial();
    let sealed = alloc("test.rt.Sealed", 1, 1, false, 64);
    let only = alloc("test.rt.Sealed.Only", 2, 0, true, sealed);
    assert_eq!(only, sealed + 1);
    assert_eq!(alloc("test.rt.Sealed.More", 2, 0, true, sealed), -1);
    assert_eq!(raised().message(), "Reach maximum number of sub-classes for test.rt.Sealed");
    // The child of a parent that cannot overflow cannot either.
    let only_child = alloc("test.rt.Sealed.Only.Child", 3, 0, true, only);
    assert_eq!(only_child, -1);
    assert!(raised().message().contains("maximum number of sub-classes for test.rt.Sealed.Only"));

    assert_eq!(alloc("test.rt.BadDepth", 3, 0, true, 64), -1);
    assert!(raised().message().contains("depth 3"));
    assert_eq!(alloc("test.rt.NoParent", 1, 0, true, 100_000), -1);
    assert!(raised().message().contains("type_index=100000"));
    assert_eq!(alloc("test.rt.NegSlots", 1, -3, true, 64), -1);
    assert!(raised().message().contains("invalid num_child_slots -3"));
    // SAFETY: a valid key; a taken static index conflicts.
    let taken = unsafe { api::TVMFFITypeGetOrAllocIndex(&ba(b"test.rt.Static"), 68, 1, 0, 0, 64) };
    assert_eq!(taken, -1);
    assert_eq!(
        raised().message(),
        "Conflicting static index 68 between ffi.Function and test.rt.Static"
    );
    // SAFETY: an out-of-range static index is refused.
    let far = unsafe { api::TVMFFITypeGetOrAllocIndex(&ba(b"test.rt.Far"), 1 << 30, 1, 0, 0, 64) };
    assert_eq!(far, -1);
    assert!(raised().message().contains("out of range"));
    // SAFETY: a free static index below 128 is accepted.
    let free = unsafe { api::TVMFFITypeGetOrAllocIndex(&ba(b"test.rt.Free"), 100, 1, 0, 0, 64) };
    assert_eq!(free, 100);
    // SAFETY: a null key is refused.
    assert_eq!(unsafe { api::TVMFFITypeGetOrAllocIndex(ptr::null(), -1, 1, 0, 1, 64) }, -1);
    assert!(raised().message().contains("`type_key` is null"));
    // SAFETY: any index may be asked for.
    assert!(unsafe { api::TVMFFIGetTypeInfo(-4) }.is_null());
    assert!(raised().message().contains("type_index=-4"));
    // SAFETY: as above; 120 is a reserved index no type has.
    assert!(unsafe { api::TVMFFIGetTypeInfo(120) }.is_null());
    assert_eq!(raised().kind(), "InternalError");
}

fn field(name: &'static [u8], flags: FieldFlags, default: TVMFFIAny) -> TVMFFIFieldInfo {
    TVMFFIFieldInfo {
        name: ba(name),
        doc: ba(b""),
        metadata: ba(b"{}"),
        flags: flags.0,
        size: 8,
        alignment: 8,
        offset: 24,
        getter: None,
        setter: ptr::null_mut(),
        default_value_or_factory: default,
        field_static_type_index: TypeIndex::INT.0,
    }
}

#[test]
fn reflection_fields_methods_and_metadata_are_copied() {
    let _s = serial();
    let t = alloc("test.rt.Reflected", 1, 0, true, 64);
    let default = Any::from(Error::value_error("default object"));
    let mut name = *b"x1";
    let f = field(b"", FieldFlags::HAS_DEFAULT, *default.as_raw());
    let f = TVMFFIFieldInfo { name: ba(&name), ..f };
    // SAFETY: a valid field info.
    assert_eq!(unsafe { api::TVMFFITypeRegisterField(t, &f) }, 0);
    name[1] = b'9'; // the table kept its own copy
    core::hint::black_box(&name);
    let g = field(b"y", FieldFlags::WRITABLE, TVMFFIAny::NONE);
    // SAFETY: as above.
    assert_eq!(unsafe { api::TVMFFITypeRegisterField(t, &g) }, 0);
    let fx = field(b"x1", FieldFlags::WRITABLE, TVMFFIAny::NONE);
    // SAFETY: a duplicate name is refused.
    assert_eq!(unsafe { api::TVMFFITypeRegisterField(t, &fx) }, -1);
    assert_eq!(raised().message(), "Duplicate field name \"x1\" in type \"test.rt.Reflected\"");
    let default_obj = default.as_object_ptr().unwrap();
    drop(default);
    // SAFETY: still alive: the table holds a reference to the default value.
    assert_eq!(unsafe { default_obj.as_ref() }.strong_count(), 1);

    let m = Function::from_typed(|| -> Result<i64, Error> { Ok(1) });
    let method = TVMFFIMethodInfo {
        name: ba(b"get"),
        doc: ba(b"returns one"),
        metadata: ba(b""),
        flags: FieldFlags::IS_STATIC_METHOD.0,
        method: *AnyView::from(&m).as_raw(),
    };
    // SAFETY: a valid method info.
    assert_eq!(unsafe { api::TVMFFITypeRegisterMethod(t, &method) }, 0);
    assert_eq!(m.as_object().strong_count(), 2, "the table keeps the method alive");

    let meta = TVMFFITypeMetadata {
        doc: ba(b"a reflected type"),
        creator: None,
        total_size: 32,
        structural_eq_hash_kind: SEqHashKind::TREE_NODE,
    };
    // SAFETY: a valid metadata; the second registration is refused.
    unsafe {
        assert_eq!(api::TVMFFITypeRegisterMetadata(t, &meta), 0);
        assert_eq!(api::TVMFFITypeRegisterMetadata(t, &meta), -1);
    }
    assert!(raised().message().starts_with("Overriding the metadata of test.rt.Reflected"));

    let i = info(t);
    assert_eq!((i.num_fields, i.num_methods), (2, 1));
    // SAFETY: arrays of `num_fields` / `num_methods` entries.
    let (fields, methods) = unsafe {
        (core::slice::from_raw_parts(i.fields, 2), core::slice::from_raw_parts(i.methods, 1))
    };
    assert_eq!(bytes(&fields[0].name), b"x1");
    assert_eq!(bytes(&fields[1].name), b"y");
    assert_eq!(bytes(&fields[0].metadata), b"{}");
    assert_eq!(fields[0].default_value_or_factory.type_index, TypeIndex::ERROR.0);
    assert_eq!(fields[1].default_value_or_factory.type_index, TypeIndex::NONE.0);
    assert_eq!(bytes(&methods[0].doc), b"returns one");
    // SAFETY: the stored method is a view of a live function.
    let stored: Function = unsafe { AnyView::from_raw(methods[0].method) }.get().unwrap();
    assert!(stored.as_object().ptr_eq(m.as_object()));
    // SAFETY: set above.
    let meta = unsafe { &*i.metadata };
    assert_eq!((bytes(&meta.doc), meta.total_size), (&b"a reflected type"[..], 32));
    // SAFETY: unknown types are refused.
    assert_eq!(unsafe { api::TVMFFITypeRegisterMethod(99_999, &method) }, -1);
    assert_eq!(raised().kind(), "InternalError");
    // SAFETY: null infos are refused.
    assert_eq!(unsafe { api::TVMFFITypeRegisterField(t, ptr::null()) }, -1);
    assert!(raised().message().contains("`info` is null"));
}

#[test]
fn type_attributes_form_columns() {
    let _s = serial();
    let name = ba(b"test.rt.attr");
    // SAFETY: valid arguments throughout.
    unsafe {
        assert!(api::TVMFFIGetTypeAttrColumn(&name).is_null());
        assert_eq!(api::TVMFFITypeRegisterAttr(0, &name, &TVMFFIAny::NONE), 0);
        let col = &*api::TVMFFIGetTypeAttrColumn(&name);
        assert_eq!((col.size, col.begin_index), (0, 0));
        let v = Any::from(5i64);
        assert_eq!(api::TVMFFITypeRegisterAttr(68, &name, v.as_raw()), 0);
        // A column starts at the first type index it holds...
        let col = &*api::TVMFFIGetTypeAttrColumn(&name);
        assert_eq!((col.size, col.begin_index), (1, 68));
        assert_eq!(AnyView::from_raw(*col.data).get::<i64>().unwrap(), 5);
        // ... and grows both ways, keeping what it held.
        let w = Any::from(6i64);
        assert_eq!(api::TVMFFITypeRegisterAttr(64, &name, w.as_raw()), 0);
        assert_eq!(api::TVMFFITypeRegisterAttr(70, &name, w.as_raw()), 0);
        let col = &*api::TVMFFIGetTypeAttrColumn(&name);
        assert_eq!((col.size, col.begin_index), (7, 64));
        let data = core::slice::from_raw_parts(col.data, 7);
        let ints: Vec<Option<i64>> =
            data.iter().map(|a| AnyView::from_raw(*a).get::<i64>().ok()).collect();
        assert_eq!(ints, [Some(6), None, None, None, Some(5), None, Some(6)]);
        assert_eq!(api::TVMFFITypeRegisterAttr(68, &name, v.as_raw()), -1);
        assert!(
            raised()
                .message()
                .starts_with("TypeAttr `test.rt.attr` is already registered for type index 68")
        );
        assert_eq!(api::TVMFFITypeRegisterAttr(-3, &name, v.as_raw()), -1);
        assert!(Error::take_raised().is_some());
        assert_eq!(api::TVMFFITypeRegisterAttr(1, &name, ptr::null()), -1);
        assert!(raised().message().contains("`attr_value` is null"));
        assert!(api::TVMFFIGetTypeAttrColumn(ptr::null()).is_null());
    }
}

/// Found by the `c_api` fuzz target: a registration that grew the column and then failed
/// (here on an r-value reference already moved from) left the C column pointing at the
/// vector's old, freed buffer.
#[test]
fn a_failed_attribute_registration_leaves_the_column_readable() {
    let _s = serial();
    let name = ba(b"test.rt.attr_after_failure");
    let v = Any::from(9i64);
    let mut moved: *mut tvmffi_core::sys::TVMFFIObject = ptr::null_mut();
    let mut rvalue = TVMFFIAny::NONE;
    rvalue.type_index = TypeIndex::OBJECT_RVALUE_REF.0;
    rvalue.value.v_ptr = (&raw mut moved).cast();
    // SAFETY: valid arguments; the r-value reference points at a writable, empty slot.
    unsafe {
        assert_eq!(api::TVMFFITypeRegisterAttr(1, &name, v.as_raw()), 0);
        for index in [TypeIndex::OBJECT.0, TypeIndex::DICT.0] {
            assert_eq!(api::TVMFFITypeRegisterAttr(index, &name, &rvalue), -1);
            assert_eq!(raised().kind(), "TypeError");
            let col = &*api::TVMFFIGetTypeAttrColumn(&name);
            // The column describes the grown vector: every value is readable.
            assert_eq!((col.begin_index, col.size), (1, index));
            let data = core::slice::from_raw_parts(col.data, col.size as usize);
            assert_eq!(AnyView::from_raw(data[0]).get::<i64>().unwrap(), 9);
            assert!(data[1..].iter().all(|a| AnyView::from_raw(*a).is_none()));
        }
    }
}

#[test]
fn any_view_to_owned() {
    let _s = serial();
    let mut out = TVMFFIAny::NONE;
    // SAFETY: valid views and out slots.
    unsafe {
        assert_eq!(api::TVMFFIAnyViewToOwnedAny(AnyView::from(7i64).as_raw(), &mut out), 0);
        assert_eq!(Any::from_raw(out).get::<i64>().unwrap(), 7);
        assert_eq!(api::TVMFFIAnyViewToOwnedAny(AnyView::from(c"short").as_raw(), &mut out), 0);
        assert_eq!(Any::from_raw(out).as_str().unwrap(), "short");
        let e = Error::value_error("obj");
        assert_eq!(api::TVMFFIAnyViewToOwnedAny(AnyView::from(&e).as_raw(), &mut out), 0);
        assert_eq!(e.as_object().strong_count(), 2);
        drop(Any::from_raw(out));
        // A long C string becomes a string object.
        let long = AnyView::from(c"a string longer than seven bytes");
        assert_eq!(api::TVMFFIAnyViewToOwnedAny(long.as_raw(), &mut out), 0);
        let owned = Any::from_raw(out);
        assert_eq!(owned.type_index(), TypeIndex::STR);
        assert_eq!(owned.as_str().unwrap(), "a string longer than seven bytes");
        assert_eq!(api::TVMFFIAnyViewToOwnedAny(ptr::null(), &mut out), -1);
        assert!(raised().message().contains("`any_view` is null"));
    }
}

static DELETED: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn count_delete(handle: *mut c_void) {
    assert_eq!(handle as usize, 0x1234);
    DELETED.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn opaque_objects_release_their_handle() {
    let _s = serial();
    let mut h = ptr::null_mut();
    let handle = ptr::without_provenance_mut::<c_void>(0x1234);
    // SAFETY: the deleter only counts.
    unsafe {
        assert_eq!(api::TVMFFIObjectCreateOpaque(handle, 74, Some(count_delete), &mut h), 0);
        let obj = ObjectRef::<ObjectHeader>::from_raw(h.cast()).unwrap();
        assert_eq!(obj.type_index(), TypeIndex::OPAQUE_PY_OBJECT);
        let before = DELETED.load(Ordering::SeqCst);
        drop(obj);
        assert_eq!(DELETED.load(Ordering::SeqCst), before + 1);
        assert_eq!(api::TVMFFIObjectCreateOpaque(handle, 75, Some(count_delete), &mut h), -1);
    }
    assert_eq!(raised().message(), "Only kTVMFFIOpaquePyObject is supported for now");
}

static INITS: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn init_ok(out: *mut *mut c_void) -> c_int {
    INITS.fetch_add(1, Ordering::SeqCst);
    // SAFETY: a writable slot.
    unsafe { out.write(ptr::without_provenance_mut(0x40)) };
    0
}

unsafe extern "C" fn init_null(_: *mut *mut c_void) -> c_int {
    0
}

unsafe extern "C" fn init_fails(_: *mut *mut c_void) -> c_int {
    // SAFETY: valid C strings.
    unsafe { api::TVMFFIErrorSetRaisedFromCStr(c"ValueError".as_ptr(), c"init failed".as_ptr()) };
    -1
}

unsafe extern "C" fn deinit(handle: *mut c_void) -> c_int {
    assert_eq!(handle as usize, 0x40);
    3
}

#[test]
fn handles_initialise_once() {
    let _s = serial();
    let mut slot: *mut c_void = ptr::null_mut();
    // SAFETY: a valid slot and functions.
    unsafe {
        assert_eq!(api::TVMFFIHandleInitOnce(&mut slot, Some(init_ok)), 0);
        assert_eq!(api::TVMFFIHandleInitOnce(&mut slot, Some(init_ok)), 0);
        assert_eq!((slot as usize, INITS.load(Ordering::SeqCst)), (0x40, 1));
        assert_eq!(api::TVMFFIHandleDeinitOnce(&mut slot, Some(deinit)), 3);
        assert!(slot.is_null());
        assert_eq!(api::TVMFFIHandleDeinitOnce(&mut slot, Some(deinit)), 0, "already empty");

        assert_eq!(api::TVMFFIHandleInitOnce(&mut slot, Some(init_null)), -1);
        assert_eq!(raised().message(), "init_func must return a non-NULL handle");
        assert_eq!(api::TVMFFIHandleInitOnce(&mut slot, Some(init_fails)), -1);
        assert_eq!(raised().message(), "init failed");
        assert_eq!(api::TVMFFIHandleInitOnce(&mut slot, None), -1);
        assert!(raised().message().contains("`init_func` is null"));
        assert_eq!(api::TVMFFIHandleInitOnce(ptr::null_mut(), Some(init_ok)), -1);
        assert!(Error::take_raised().is_some());
        assert!(slot.is_null());
    }
}
