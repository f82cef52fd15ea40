//! Objects held in `Any` and `AnyView`, made by hand as C code makes them (a header, a
//! payload and a deleter that counts its calls): reference counts, threads, string, bytes and
//! tensor payloads, and r-value references moved out of their slot.

#[path = "any/support.rs"]
mod support;

use core::ffi::{c_int, c_void};
use core::ptr::NonNull;
use core::sync::atomic::{AtomicUsize, Ordering};

use support::{N, assert_ptr_bits, byte_array, err_kind, raw_ptr, tensor};
use tvmffi_core::error::ConversionErrorKind as Kind;
use tvmffi_core::flags::DeleterFlags;
use tvmffi_core::sys::{DLTensor, TVMFFIObject};
use tvmffi_core::{Any, AnyView, ObjectHeader, TypeIndex};

// ---------------------------------------------------------------------------------------
// Test objects: a header, a payload, and a counter the deleter bumps.

#[repr(C, align(8))]
struct TestObj<P> {
    header: ObjectHeader,
    payload: P,
    deletes: *const AtomicUsize,
}

unsafe extern "C" fn test_deleter<P>(obj: *mut c_void, flags: c_int) {
    // No test takes weak references, so the last strong release frees at once.
    assert_eq!(flags, DeleterFlags::BOTH.0);
    // SAFETY: `obj` came from `Box::into_raw` in `new_obj` and this is its last reference.
    let obj = unsafe { Box::from_raw(obj.cast::<TestObj<P>>()) };
    // SAFETY: the counter outlives the object (each test drops its objects first).
    unsafe { &*obj.deletes }.fetch_add(1, Ordering::Relaxed);
}

fn new_obj<P>(type_index: TypeIndex, payload: P, deletes: &AtomicUsize) -> NonNull<ObjectHeader> {
    let obj = Box::new(TestObj {
        header: ObjectHeader::new(type_index, Some(test_deleter::<P>)),
        payload,
        deletes,
    });
    NonNull::from(Box::leak(obj)).cast()
}

fn strong(obj: NonNull<ObjectHeader>) -> u32 {
    // SAFETY: callers only ask about objects they keep alive.
    unsafe { obj.as_ref() }.strong_count()
}
// ---------------------------------------------------------------------------------------
// Objects

#[test]
fn any_clone_and_drop_count_references_and_delete_once() {
    let deletes = AtomicUsize::new(0);
    let obj = new_obj(TypeIndex(200), 0u64, &deletes);
    // SAFETY: fresh object; its one strong reference moves into the Any.
    let any = unsafe { Any::from_object_raw(obj) };
    assert_ptr_bits(any.as_raw(), TypeIndex(200), obj.as_ptr().cast());
    assert_eq!(any.as_object_ptr(), Some(obj));
    assert_eq!(strong(obj), 1);

    let copies: Vec<Any> = (0..N).map(|_| any.clone()).collect();
    assert_eq!(strong(obj) as i64, 1 + N);
    drop(copies);
    assert_eq!(strong(obj), 1);

    // Views borrow; owning a view adds a reference.
    let view = any.view();
    assert_eq!(view.as_object_ptr(), Some(obj));
    assert_eq!(strong(obj), 1);
    let owned = view.to_owned().unwrap();
    assert_eq!(strong(obj), 2);
    drop(owned);
    let via_get: Any = any.get().unwrap();
    assert_eq!(strong(obj), 2);
    drop(via_get);

    // Ownership out and back in changes nothing.
    let raw = any.into_raw();
    assert_eq!(strong(obj), 1);
    // SAFETY: `raw` carries the strong reference `into_raw` gave up.
    let any = unsafe { Any::from_raw(raw) };
    let back = any.into_object_raw().unwrap();
    assert_eq!((back, strong(obj)), (obj, 1));
    // SAFETY: `back` is the strong reference `into_object_raw` gave up.
    let any = unsafe { Any::from_object_raw(back) };

    assert!(format!("{any:?}").starts_with("Any(object(type_index=200) @ 0x"));
    assert_eq!(err_kind(any.get::<i64>()), Kind::Mismatch);
    assert_eq!(deletes.load(Ordering::Relaxed), 0);
    drop(any);
    assert_eq!(deletes.load(Ordering::Relaxed), 1, "deleter runs exactly once");
}

#[test]
#[cfg_attr(target_os = "wasi", ignore = "wasm32-wasip1 has no threads")]
fn objects_cross_threads() {
    let deletes = AtomicUsize::new(0);
    // SAFETY: fresh object; its strong reference moves into the Any.
    let any = unsafe { Any::from_object_raw(new_obj(TypeIndex::OBJECT, (), &deletes)) };
    std::thread::scope(|s| {
        for _ in 0..2 {
            let copy = any.clone();
            s.spawn(move || drop(copy));
        }
    });
    assert_eq!(any.as_object_ptr().map(strong), Some(1));
    drop(any);
    assert_eq!(deletes.load(Ordering::Relaxed), 1);
}

#[test]
fn string_and_bytes_objects_read_their_byte_array() {
    let deletes = AtomicUsize::new(0);
    let text = b"hello, world\0";
    let s = new_obj(TypeIndex::STR, byte_array(&text[..12]), &deletes);
    // SAFETY: fresh string object; its strong reference moves into the Any.
    let s = unsafe { Any::from_object_raw(s) };
    assert_eq!(s.type_index(), TypeIndex::STR);
    assert_eq!(s.as_str(), Ok("hello, world"));
    assert_eq!(s.view().as_str(), Ok("hello, world"));
    assert_eq!(s.as_str_or_bytes(), Ok(&text[..12]));
    assert_eq!(
        s.as_bytes().unwrap_err().to_string(),
        "Cannot convert from type `ffi.String` to `bytes`"
    );
    assert_eq!(format!("{s:?}"), "Any(ffi.String: \"hello, world\")");

    let b = new_obj(TypeIndex::BYTES, byte_array(b"\xff\xfe bytes"), &deletes);
    // SAFETY: as above.
    let b = unsafe { Any::from_object_raw(b) };
    assert_eq!(b.as_bytes(), Ok(&b"\xff\xfe bytes"[..]));
    assert_eq!(err_kind(b.as_str()), Kind::Mismatch);
    assert_eq!(format!("{b:?}"), "Any(ffi.Bytes: b\"\\xff\\xfe bytes\")");

    let bad = new_obj(TypeIndex::STR, byte_array(b"\xc0\xaf"), &deletes);
    // SAFETY: as above.
    let bad = unsafe { Any::from_object_raw(bad) };
    assert_eq!(err_kind(bad.as_str()), Kind::InvalidUtf8);

    drop((s, b, bad));
    assert_eq!(deletes.load(Ordering::Relaxed), 3);
}

#[test]
fn tensors_read_as_dltensor_pointers() {
    assert_eq!(core::mem::offset_of!(TestObj<DLTensor>, payload), size_of::<TVMFFIObject>());
    let deletes = AtomicUsize::new(0);
    let mut shape = [2, 3];
    let obj = new_obj(TypeIndex::TENSOR, tensor(&mut shape), &deletes);
    // SAFETY: fresh tensor object; its strong reference moves into the Any.
    let any = unsafe { Any::from_object_raw(obj) };
    let dl = any.get::<*mut DLTensor>().unwrap();
    let payload = obj.cast::<TestObj<DLTensor>>();
    // SAFETY: `payload` points into the live object the Any holds.
    assert_eq!(dl, unsafe { &raw mut (*payload.as_ptr()).payload });
    // SAFETY: the DLTensor lives as long as `any`.
    assert_eq!(unsafe { ((*dl).ndim, *(*dl).shape.add(1)) }, (2, 3));
    drop(any);
    assert_eq!(deletes.load(Ordering::Relaxed), 1);

    let mut t = tensor(&mut shape);
    let view = AnyView::from(&raw mut t);
    assert_ptr_bits(view.as_raw(), TypeIndex::DL_TENSOR_PTR, (&raw const t).cast());
    assert_eq!(view.get::<*mut DLTensor>(), Ok(&raw mut t));
    assert!(AnyView::from(core::ptr::null_mut::<DLTensor>()).is_none());
    let e = Any::from(1).get::<*mut DLTensor>().unwrap_err();
    assert_eq!(e.to_string(), "Cannot convert from type `int` to `DLTensor*`");
}

#[test]
fn rvalue_refs_move_out_of_their_slot_once() {
    let deletes = AtomicUsize::new(0);
    let obj = new_obj(TypeIndex(150), 1u8, &deletes);
    let mut slot: *mut TVMFFIObject = obj.as_ptr().cast();
    let rv = raw_ptr(TypeIndex::OBJECT_RVALUE_REF, (&raw mut slot).cast());
    // SAFETY: `slot` owns the object's strong reference and outlives the view.
    let view = unsafe { AnyView::from_raw(rv) };
    let owned = view.to_owned().unwrap();
    assert!(slot.is_null(), "the slot is emptied");
    assert_ptr_bits(owned.as_raw(), TypeIndex(150), obj.as_ptr().cast());
    assert_eq!(strong(obj), 1, "moved, not copied");
    let e = view.to_owned().unwrap_err();
    assert_eq!((e.kind(), e.actual()), (Kind::AlreadyMoved, TypeIndex::OBJECT_RVALUE_REF));
    assert!(e.to_string().contains("RValueRef already moved"));
    drop(owned);
    assert_eq!(deletes.load(Ordering::Relaxed), 1);
}
