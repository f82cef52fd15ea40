//! `String`, `Bytes` and `any_view_to_owned` against the reference's representation.

extern crate alloc;

use core::ffi::c_char;
use std::collections::HashSet;

use tvmffi_alloc::string::{LAYOUTS, TextError, bytes_any_from_bytes, str_any_from_bytes};
use tvmffi_alloc::{Bytes, String, any_view_to_owned, heap};
use tvmffi_core::error::ConversionErrorKind;
use tvmffi_core::sys::{
    TVMFFIAny, TVMFFIAnyPadding, TVMFFIAnyValue, TVMFFIByteArray, TVMFFIObject,
};
use tvmffi_core::{Any, AnyView, FromAnyView, Payload, TypeIndex};

/// The `TVMFFIByteArray` after an object's header (`TVMFFIBytesGetByteArrayPtr`).
fn byte_array(any: &Any) -> TVMFFIByteArray {
    let obj = any.as_object_ptr().expect("an object");
    // SAFETY: a live string or bytes object: the header, then a byte array.
    unsafe { obj.cast::<u8>().add(size_of::<TVMFFIObject>()).cast::<TVMFFIByteArray>().read() }
}

/// The small-string fields of a value.
fn small_fields(any: &Any) -> (u32, [u8; 8]) {
    // SAFETY: every bit pattern is a valid u32 / [u8; 8].
    unsafe { (any.as_raw().padding.small_str_len, any.as_raw().value.v_bytes) }
}

fn raw_small(type_index: TypeIndex, len: u32, bytes: [u8; 8]) -> TVMFFIAny {
    TVMFFIAny {
        type_index: type_index.0,
        padding: TVMFFIAnyPadding { small_str_len: len },
        value: TVMFFIAnyValue { v_bytes: bytes },
    }
}

/// A string object of 3 bytes, as C++ `String(std::string&&)` makes for short text: content
/// equality must not care whether text is inline.
#[allow(dead_code)] // read through the object pointer, as C reads it
struct ForeignText(TVMFFIByteArray);
// SAFETY: test payload: the byte-array layout of string objects, used with `STR` only.
unsafe impl Payload for ForeignText {
    const TYPE_KEY: &'static str = "test.ForeignStr";
    fn is_instance(t: TypeIndex) -> bool {
        t == TypeIndex::STR || t == TypeIndex::BYTES
    }
}

fn foreign_text(type_index: TypeIndex, content: &'static [u8]) -> Any {
    let cell = ForeignText(TVMFFIByteArray { data: content.as_ptr().cast(), size: content.len() });
    Any::from(heap::new_object(type_index, cell))
}

#[test]
fn seven_bytes_are_inline_eight_are_an_object() {
    let s7 = String::from("1234567");
    assert!(s7.is_inline());
    assert_eq!(s7.as_any().type_index(), TypeIndex::SMALL_STR);
    assert_eq!(small_fields(s7.as_any()), (7, *b"1234567\0"));

    let s8 = String::from("12345678");
    assert!(!s8.is_inline());
    assert_eq!(s8.as_any().type_index(), TypeIndex::STR);
    assert_eq!(s8.as_str(), "12345678");
    assert_eq!(s8.len(), 8);

    let b7 = Bytes::from(b"\0\0\0\0\0\0\0");
    assert_eq!(b7.as_any().type_index(), TypeIndex::SMALL_BYTES);
    assert_eq!(small_fields(b7.as_any()), (7, [0; 8]));
    let b8 = Bytes::from(b"\0\0\0\0\0\0\0\0");
    assert_eq!(b8.as_any().type_index(), TypeIndex::BYTES);
    assert_eq!(b8.as_bytes(), &[0; 8]);
}

#[test]
fn objects_end_in_a_nul_right_after_the_content() {
    for text in ["12345678", "a much longer string with some more bytes ☃"] {
        let s = String::from(text);
        let arr = byte_array(s.as_any());
        assert_eq!(arr.size, text.len());
        // SAFETY: the object holds `size` bytes and then its NUL.
        let with_nul = unsafe { core::slice::from_raw_parts(arr.data.cast::<u8>(), arr.size + 1) };
        assert_eq!(&with_nul[..text.len()], text.as_bytes());
        assert_eq!(with_nul[text.len()], 0);
        // The content follows the object (`sizeof(StringObj)`), as the reference lays it out.
        let obj = s.as_any().as_object_ptr().unwrap().as_ptr() as usize;
        assert_eq!(arr.data as usize, obj + LAYOUTS[0].size);
    }
}

#[test]
fn empty_values_are_inline_and_all_zero() {
    for s in [String::new(), String::from(""), String::default()] {
        assert!(s.is_empty() && s.is_inline());
        assert_eq!(s.as_str(), "");
        assert_eq!(small_fields(s.as_any()), (0, [0; 8]));
    }
    for b in [Bytes::new(), Bytes::from(&b""[..]), Bytes::default()] {
        assert!(b.is_empty() && b.is_inline());
        assert_eq!(b.as_any().type_index(), TypeIndex::SMALL_BYTES);
        assert_eq!(small_fields(b.as_any()), (0, [0; 8]));
    }
}

#[test]
fn invalid_utf8_is_rejected() {
    assert_eq!(String::from_utf8(b"\xff").unwrap_err(), TextError::InvalidUtf8 { valid_up_to: 0 });
    assert_eq!(
        String::from_utf8(b"abc\xe2\x82").unwrap_err(),
        TextError::InvalidUtf8 { valid_up_to: 3 }
    );
    let long = b"a long enough prefix, then \xc0\x80";
    assert_eq!(
        String::try_from(&long[..]).unwrap_err(),
        TextError::InvalidUtf8 { valid_up_to: 27 }
    );
    assert!(String::try_from(long.to_vec()).is_err());
    assert!(String::from_c_str(c"caf\xc3").is_err());
    assert_eq!(String::from_c_str(c"caf\xc3\xa9").unwrap(), "café");
    assert_eq!(String::from_utf8("☃".as_bytes()).unwrap(), "☃");
    assert!(TextError::InvalidUtf8 { valid_up_to: 3 }.to_string().contains("first 3 bytes"));
    assert!(TextError::TooLong { len: 9 }.to_string().contains("9 bytes"));
}

#[test]
fn string_from_views_of_every_text_kind() {
    // C strings are copied, short ones inline.
    let s = String::from_any_view(AnyView::from(c"hi")).unwrap();
    assert!(s.is_inline() && s == "hi");
    let long = c"a C string longer than seven bytes";
    let s = String::from_any_view(AnyView::from(long)).unwrap();
    assert_eq!(s.as_any().type_index(), TypeIndex::STR);
    assert_ne!(byte_array(s.as_any()).data, long.as_ptr(), "copied, not borrowed");

    // String objects are shared, not copied.
    let original = String::from("shared string object");
    let got: String = original.as_any().get().unwrap();
    assert_eq!(got.as_any().as_object_ptr(), original.as_any().as_object_ptr());
    let obj = original.as_any().as_object_ptr().unwrap();
    // SAFETY: alive through `original`.
    assert_eq!(unsafe { obj.as_ref() }.strong_count(), 2);
    drop(got);
    // SAFETY: as above.
    assert_eq!(unsafe { obj.as_ref() }.strong_count(), 1);

    // Bytes, byte arrays and other kinds are not strings.
    let arr = tvmffi_core::any::ByteArray::new(b"bytes");
    for view in [AnyView::from(&arr), Bytes::from(b"x").view(), AnyView::from(1i64), AnyView::NONE]
    {
        let e = String::from_any_view(view).unwrap_err();
        assert_eq!(e.kind(), ConversionErrorKind::Mismatch, "{view:?}");
    }
}

#[test]
fn reading_non_utf8_text_as_string_fails() {
    let raw = str_any_from_bytes(b"\xfe\xff and more than seven").unwrap();
    assert_eq!(raw.type_index(), TypeIndex::STR);
    assert_eq!(raw.get::<String>().unwrap_err().kind(), ConversionErrorKind::InvalidUtf8);
    assert_eq!(String::try_from(raw).unwrap_err().kind(), ConversionErrorKind::InvalidUtf8);

    let small = str_any_from_bytes(b"\xff").unwrap();
    assert_eq!(small.type_index(), TypeIndex::SMALL_STR);
    assert_eq!(small.get::<String>().unwrap_err().kind(), ConversionErrorKind::InvalidUtf8);

    let c = c"\xff\xfe";
    let e = String::from_any_view(AnyView::from(c)).unwrap_err();
    assert_eq!(e.kind(), ConversionErrorKind::InvalidUtf8);
}

#[test]
fn small_values_from_elsewhere_are_reencoded_and_checked() {
    // Garbage after the length and its NUL: the reference never reads it; we zero it.
    let raw = raw_small(TypeIndex::SMALL_STR, 2, *b"ab\0XYZW\0");
    // SAFETY: a valid small string (the bytes past the length are unused).
    let s = String::from_any_view(unsafe { AnyView::from_raw(raw) }).unwrap();
    assert_eq!(small_fields(s.as_any()), (2, *b"ab\0\0\0\0\0\0"));
    // SAFETY: as above; `Any` may hold a small string.
    let b = Bytes::try_from(unsafe {
        Any::from_raw(raw_small(TypeIndex::SMALL_BYTES, 1, *b"zXXXXXXX"))
    })
    .unwrap();
    assert_eq!(small_fields(b.as_any()), (1, *b"z\0\0\0\0\0\0\0"));
    // A length past 7 is malformed.
    let bad = raw_small(TypeIndex::SMALL_STR, 8, *b"abcdefgh");
    // SAFETY: the value is only inspected, never trusted beyond 8 bytes.
    let e = String::from_any_view(unsafe { AnyView::from_raw(bad) }).unwrap_err();
    assert_eq!(e.kind(), ConversionErrorKind::Malformed);
}

#[test]
fn short_text_in_an_object_equals_inline_text() {
    let obj = foreign_text(TypeIndex::STR, b"abc");
    let from_obj = String::try_from(obj).unwrap();
    assert!(!from_obj.is_inline());
    let inline = String::from("abc");
    assert!(inline.is_inline());
    assert_eq!(from_obj, inline);
    assert_eq!(from_obj.cmp(&inline), core::cmp::Ordering::Equal);
    let set: HashSet<String> = [from_obj].into_iter().collect();
    assert!(set.contains(&inline));
    assert!(set.contains("abc"), "Borrow<str> hashes as str");

    let bytes = Bytes::try_from(foreign_text(TypeIndex::BYTES, b"\0b")).unwrap();
    assert_eq!(bytes, Bytes::from(b"\0b"));
    let set: HashSet<Bytes> = [bytes].into_iter().collect();
    assert!(set.contains(&b"\0b"[..]));
}

#[test]
fn ordering_is_by_unsigned_bytes() {
    let mut v: Vec<String> =
        ["b", "é", "a", "ba", "", "abcdefghij", "z"].into_iter().map(String::from).collect();
    v.sort();
    let sorted: Vec<&str> = v.iter().map(String::as_str).collect();
    assert_eq!(sorted, ["", "a", "abcdefghij", "b", "ba", "z", "é"]);
    assert_eq!(Bytes::from(b"\x80").cmp(&Bytes::from(b"\x7f")), core::cmp::Ordering::Greater);
}

#[test]
fn display_debug_and_conversions() {
    let s = String::from("tab\there");
    assert_eq!(format!("{s}"), "tab\there");
    assert_eq!(format!("{s:?}"), "\"tab\\there\"");
    assert_eq!(format!("{:>10}", String::from("ab")), "        ab");
    let b = Bytes::from(b"a\0\xff\"");
    assert_eq!(format!("{b:?}"), "b\"a\\x00\\xff\\\"\"");
    assert_eq!(format!("{b}"), format!("{b:?}"));

    let std_string: alloc::string::String =
        String::from(alloc::string::String::from("round")).into();
    assert_eq!(std_string, "round");
    assert_eq!(String::from(&std_string), std_string);
    assert_eq!(Vec::<u8>::from(Bytes::from(vec![1u8, 2, 3])), [1, 2, 3]);
    assert_eq!(Bytes::from(&vec![0u8; 9]), [0u8; 9]);
    assert_eq!(Bytes::from("text"), b"text");
    assert_eq!(&*String::from("deref"), "deref");
    assert!(String::from("prefix-rest").starts_with("prefix"));
    assert_eq!("eq", String::from("eq"));
}

#[test]
fn values_round_trip_through_any() {
    for text in ["", "short", "something longer than seven"] {
        let s = String::from(text);
        let any = Any::from(s.clone());
        assert_eq!(any.as_str().unwrap(), text);
        assert_eq!(any.get::<String>().unwrap(), s);
        assert_eq!(String::try_from(any).unwrap(), s);
        assert_eq!(AnyView::from(&s).get::<String>().unwrap(), s);
    }
    for content in [&b""[..], b"\0", b"1234567\0 and on"] {
        let b = Bytes::from(content);
        let any = Any::from(b.clone());
        assert_eq!(any.as_bytes().unwrap(), content);
        assert_eq!(Bytes::try_from(any).unwrap(), b);
    }
    // Moving out of an `Any` keeps the single reference.
    let any = Any::from(String::from("moved, not shared"));
    let obj = any.as_object_ptr().unwrap();
    let s = String::try_from(any).unwrap();
    // SAFETY: alive through `s`.
    assert_eq!(unsafe { obj.as_ref() }.strong_count(), 1);
    drop(s);
    assert_eq!(Bytes::try_from(Any::from(3i64)).unwrap_err().kind(), ConversionErrorKind::Mismatch);
    assert_eq!(
        String::try_from(Any::from(Bytes::from(b"b"))).unwrap_err().kind(),
        ConversionErrorKind::Mismatch
    );
}

#[test]
fn bytes_from_views_of_every_bytes_kind() {
    let content = b"\0embedded\0NULs\0";
    let arr = tvmffi_core::any::ByteArray::new(content);
    let b = Bytes::from_any_view(AnyView::from(&arr)).unwrap();
    assert_eq!(b.as_any().type_index(), TypeIndex::BYTES);
    assert_eq!(b, content);
    assert_eq!(b.len(), content.len());
    let short = tvmffi_core::any::ByteArray::new(b"\0\0");
    assert!(Bytes::from_any_view(AnyView::from(&short)).unwrap().is_inline());

    let obj = Bytes::from(&content[..]);
    let shared: Bytes = obj.view().get().unwrap();
    assert_eq!(shared.as_any().as_object_ptr(), obj.as_any().as_object_ptr());

    for view in [String::from("str").view(), AnyView::from(c"raw"), AnyView::from(2.5)] {
        let e = Bytes::from_any_view(view).unwrap_err();
        assert_eq!(e.kind(), ConversionErrorKind::Mismatch);
    }
}

#[test]
fn any_view_to_owned_makes_objects_for_long_borrowed_text() {
    let short = any_view_to_owned(AnyView::from(c"seven!!")).unwrap();
    assert_eq!(short.type_index(), TypeIndex::SMALL_STR);
    let long = any_view_to_owned(AnyView::from(c"eight!!!")).unwrap();
    assert_eq!(long.type_index(), TypeIndex::STR);
    assert_eq!(long.as_str().unwrap(), "eight!!!");

    // No UTF-8 check, as in the reference.
    let raw = any_view_to_owned(AnyView::from(c"\xff\xfe not UTF-8")).unwrap();
    assert_eq!(raw.type_index(), TypeIndex::STR);
    assert_eq!(raw.as_str_or_bytes().unwrap(), b"\xff\xfe not UTF-8");

    let content = [0u8, 1, 2, 3, 4, 5, 6, 7, 0];
    let arr = tvmffi_core::any::ByteArray::new(&content);
    let b = any_view_to_owned(AnyView::from(&arr)).unwrap();
    assert_eq!(b.type_index(), TypeIndex::BYTES);
    assert_eq!(b.as_bytes().unwrap(), content);
    let arr7 = tvmffi_core::any::ByteArray::new(&content[..7]);
    assert_eq!(
        any_view_to_owned(AnyView::from(&arr7)).unwrap().type_index(),
        TypeIndex::SMALL_BYTES
    );
    let empty = tvmffi_core::any::ByteArray::new(b"");
    assert_eq!(any_view_to_owned(AnyView::from(&empty)).unwrap().as_bytes().unwrap(), b"");

    // Everything else as the core does it: inline values copied, objects shared.
    assert_eq!(any_view_to_owned(AnyView::from(7i64)).unwrap().get::<i64>(), Ok(7));
    let s = String::from("an object already");
    let owned = any_view_to_owned(s.view()).unwrap();
    assert_eq!(owned.as_object_ptr(), s.as_any().as_object_ptr());
}

#[test]
fn any_view_to_owned_moves_rvalue_refs_and_reports_bad_views() {
    let s = String::from("moved through an r-value reference");
    let mut slot = s.clone().into_any().into_object_raw().ok().unwrap().as_ptr();
    let raw = TVMFFIAny {
        type_index: TypeIndex::OBJECT_RVALUE_REF.0,
        padding: TVMFFIAnyPadding { zero_padding: 0 },
        value: TVMFFIAnyValue { v_ptr: (&raw mut slot).cast() },
    };
    // SAFETY: the slot holds a strong reference and only this test touches it.
    let view = unsafe { AnyView::from_raw(raw) };
    let moved = any_view_to_owned(view).unwrap();
    assert_eq!(moved.get::<String>().unwrap(), s);
    assert!(slot.is_null());
    assert_eq!(any_view_to_owned(view).unwrap_err().kind(), ConversionErrorKind::AlreadyMoved);

    let null_str = TVMFFIAny {
        type_index: TypeIndex::RAW_STR.0,
        padding: TVMFFIAnyPadding { zero_padding: 0 },
        value: TVMFFIAnyValue { v_c_str: core::ptr::null::<c_char>() },
    };
    // SAFETY: a null C string is malformed but safe to inspect.
    let e = any_view_to_owned(unsafe { AnyView::from_raw(null_str) }).unwrap_err();
    assert_eq!(e.kind(), ConversionErrorKind::Malformed);
}

#[test]
fn huge_byte_arrays_are_rejected_without_allocating() {
    // A length no allocation can have: refused before any copy is attempted.
    let arr = TVMFFIByteArray { data: b"x".as_ptr().cast(), size: usize::MAX };
    let raw = TVMFFIAny {
        type_index: TypeIndex::BYTE_ARRAY_PTR.0,
        padding: TVMFFIAnyPadding { zero_padding: 0 },
        value: TVMFFIAnyValue { v_ptr: (&raw const arr).cast_mut().cast() },
    };
    // SAFETY: the view is only inspected; its size is rejected before `data` is read.
    let view = unsafe { AnyView::from_raw(raw) };
    assert_eq!(any_view_to_owned(view).unwrap_err().kind(), ConversionErrorKind::Malformed);
    assert_eq!(Bytes::from_any_view(view).unwrap_err().kind(), ConversionErrorKind::Malformed);
}

#[test]
fn raw_constructors_follow_the_c_api() {
    let b = bytes_any_from_bytes(b"0123456789").unwrap();
    assert_eq!(b.type_index(), TypeIndex::BYTES);
    assert_eq!(bytes_any_from_bytes(b"").unwrap().type_index(), TypeIndex::SMALL_BYTES);
    assert_eq!(str_any_from_bytes(b"ok").unwrap().as_str().unwrap(), "ok");
}

#[test]
fn clones_share_the_object() {
    let a = String::from("shared between clones");
    let b = a.clone();
    assert_eq!(a.as_any().as_object_ptr(), b.as_any().as_object_ptr());
    let obj = a.as_any().as_object_ptr().unwrap();
    // SAFETY: alive through `a`.
    assert_eq!(unsafe { obj.as_ref() }.strong_count(), 2);
}

#[test]
fn layout_table_names_the_cpp_classes() {
    let names: Vec<&str> = LAYOUTS.iter().map(|l| l.c_name).collect();
    assert_eq!(names, ["tvm::ffi::detail::StringObj", "tvm::ffi::detail::BytesObj"]);
    let wide = cfg!(target_pointer_width = "64");
    assert_eq!(LAYOUTS[0].size, if wide { 40 } else { 32 });
    assert_eq!(LAYOUTS[0].fields, &[("data", 24), ("size", if wide { 32 } else { 28 })]);
}
