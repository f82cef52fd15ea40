//! `Any` and `AnyView` with text and bytes (C strings, small inline strings and bytes, byte
//! arrays), and views turned into owned values.

#[path = "any/support.rs"]
mod support;

use core::ffi::CStr;

use support::{assert_ptr_bits, bits, err_kind, raw, raw_ptr, tensor};
use tvmffi_core::any::ByteArray;
use tvmffi_core::error::ConversionErrorKind as Kind;
use tvmffi_core::sys::{DLTensor, TVMFFIByteArray};
use tvmffi_core::{Any, AnyView, DataType, TypeIndex};

// ---------------------------------------------------------------------------------------
// Text and bytes

#[test]
fn raw_c_strings_are_views_read_as_str_not_bytes() {
    let s = c"hello";
    let view = AnyView::from(s);
    assert_ptr_bits(view.as_raw(), TypeIndex::RAW_STR, s.as_ptr().cast());
    assert_eq!(view.as_str(), Ok("hello"));
    assert_eq!(view.as_c_str().map(CStr::as_ptr), Ok(s.as_ptr()));
    assert_eq!(view.get::<&CStr>(), Ok(s));
    assert_eq!(view.as_str_or_bytes(), Ok(&b"hello"[..]));
    // The reference's Bytes does not take a str.
    let e = view.as_bytes().unwrap_err();
    assert_eq!(e.to_string(), "Cannot convert from type `const char*` to `bytes`");
    assert_eq!(err_kind(view.get::<i64>()), Kind::Mismatch);
    assert_eq!(err_kind(Any::small_str("x").unwrap().view().as_c_str()), Kind::Mismatch);

    let bad = c"ok\xff\xfe";
    let e = AnyView::from(bad).as_str().unwrap_err();
    assert_eq!((e.kind(), e.actual()), (Kind::InvalidUtf8, TypeIndex::RAW_STR));
    assert_eq!(AnyView::from(bad).as_str_or_bytes(), Ok(&b"ok\xff\xfe"[..]));
}

#[test]
fn small_strings_are_inline_with_nul_and_length() {
    let any = Any::small_str("hello").unwrap();
    assert_eq!(bits(any.as_raw()), (TypeIndex::SMALL_STR.0, 5, *b"hello\0\0\0"));
    // SAFETY: small strings carry `small_str_len`.
    assert_eq!(unsafe { any.as_raw().padding.small_str_len }, 5);
    assert_eq!(any.as_str(), Ok("hello"));
    assert_eq!(any.as_str_or_bytes(), Ok(&b"hello"[..]));
    assert_eq!(err_kind(any.as_bytes()), Kind::Mismatch);

    let empty = Any::small_str("").unwrap();
    assert_eq!(bits(empty.as_raw()), (TypeIndex::SMALL_STR.0, 0, [0; 8]));
    assert_eq!(empty.as_str(), Ok(""));

    let seven = Any::small_str("1234567").unwrap();
    assert_eq!(bits(seven.as_raw()), (TypeIndex::SMALL_STR.0, 7, *b"1234567\0"));
    assert_eq!(seven.as_str(), Ok("1234567"));
    assert!(Any::small_str("12345678").is_none(), "8 bytes do not fit inline");
    assert_eq!(Any::MAX_SMALL_LEN, 7);
    // Multi-byte UTF-8 counts bytes, not chars.
    assert_eq!(Any::small_str("héllo").unwrap().as_str(), Ok("héllo"));
    assert!(Any::small_str("héllo!!").is_none());
    // Usable in constants.
    const KEY: Option<Any> = Any::small_str("key");
    assert_eq!(KEY.unwrap().as_str(), Ok("key"));
}

#[test]
fn small_bytes_hold_any_bytes() {
    let any = Any::small_bytes(&[0xff, 0, 1]).unwrap();
    assert_eq!(bits(any.as_raw()), (TypeIndex::SMALL_BYTES.0, 3, [0xff, 0, 1, 0, 0, 0, 0, 0]));
    assert_eq!(any.as_bytes(), Ok(&[0xff, 0, 1][..]));
    assert_eq!(any.as_str_or_bytes(), Ok(&[0xff, 0, 1][..]));
    let e = any.as_str().unwrap_err();
    assert_eq!(e.to_string(), "Cannot convert from type `ffi.SmallBytes` to `str`");
    assert!(Any::small_bytes(&[0; 8]).is_none());
    assert_eq!(Any::small_bytes(&[7; 7]).unwrap().as_bytes(), Ok(&[7; 7][..]));
}

#[test]
fn malformed_small_strings_are_errors_not_panics() {
    // Invalid UTF-8 from C.
    // SAFETY: a small string borrows nothing.
    let any =
        unsafe { Any::from_raw(raw(TypeIndex::SMALL_STR, 2, [0xc3, 0x28, 0, 0, 0, 0, 0, 0])) };
    assert_eq!(err_kind(any.as_str()), Kind::InvalidUtf8);
    assert_eq!(any.as_str_or_bytes(), Ok(&[0xc3, 0x28][..]));
    assert!(format!("{any:?}").contains("b\"\\xc3(\""));
    // A length past 7 breaks the ABI.
    for len in [8, 9, u32::MAX] {
        // SAFETY: as above.
        let any = unsafe { Any::from_raw(raw(TypeIndex::SMALL_BYTES, len, *b"abcdefgh")) };
        assert_eq!(err_kind(any.as_bytes()), Kind::Malformed);
        assert!(format!("{any:?}").contains("<malformed>"));
    }
}

#[test]
fn byte_arrays_are_views_read_as_bytes_not_str() {
    let data = *b"bytes\xff\x00!";
    let arr = ByteArray::new(&data);
    assert_eq!(arr.as_bytes(), &data);
    assert_eq!(ByteArray::from("s").as_raw().size, 1);
    let view = AnyView::from(&arr);
    assert_ptr_bits(view.as_raw(), TypeIndex::BYTE_ARRAY_PTR, (&raw const *arr.as_raw()).cast());
    assert_eq!(view.as_bytes(), Ok(&data[..]));
    assert_eq!(view.as_str_or_bytes(), Ok(&data[..]));
    assert_eq!(view.get::<&TVMFFIByteArray>().map(|a| a.size), Ok(8));
    assert_eq!(view.as_byte_array().map(|a| a.data), Ok(data.as_ptr().cast()));
    assert_eq!(err_kind(view.as_str()), Kind::Mismatch);
    assert_eq!(err_kind(AnyView::from(c"s").as_byte_array()), Kind::Mismatch);
    // An empty array may have a null data pointer; a non-empty one may not.
    let empty = TVMFFIByteArray { data: core::ptr::null(), size: 0 };
    let broken = TVMFFIByteArray { data: core::ptr::null(), size: 4 };
    let p = |a: &TVMFFIByteArray| {
        raw_ptr(TypeIndex::BYTE_ARRAY_PTR, (a as *const TVMFFIByteArray).cast_mut().cast())
    };
    // SAFETY: both arrays outlive the views; neither is read past its (null) data.
    let (e, b) = unsafe { (AnyView::from_raw(p(&empty)), AnyView::from_raw(p(&broken))) };
    assert_eq!(e.as_bytes(), Ok(&[][..]));
    assert_eq!(err_kind(b.as_bytes()), Kind::Malformed);
    // SAFETY: a null borrowed pointer, never dereferenced.
    let null = unsafe { AnyView::from_raw(raw_ptr(TypeIndex::RAW_STR, core::ptr::null_mut())) };
    assert_eq!(err_kind(null.as_str()), Kind::Malformed);
    assert_eq!(err_kind(null.to_owned()), Kind::Malformed);
}

// ---------------------------------------------------------------------------------------
// View to owned

#[test]
fn to_owned_copies_pods_and_inlines_short_text() {
    for v in [AnyView::from(5), AnyView::from(2.5), AnyView::from(DataType::BOOL), AnyView::NONE] {
        let owned = v.to_owned().unwrap();
        assert_eq!(bits(owned.as_raw()), bits(v.as_raw()));
    }
    let owned = AnyView::from(c"hi").to_owned().unwrap();
    assert_eq!(bits(owned.as_raw()), (TypeIndex::SMALL_STR.0, 2, *b"hi\0\0\0\0\0\0"));
    assert_eq!(AnyView::from(c"1234567").get::<Any>().unwrap().as_str(), Ok("1234567"));
    let e = AnyView::from(c"12345678").to_owned().unwrap_err();
    assert_eq!(
        (e.kind(), e.expected(), e.actual()),
        (Kind::NeedsAllocator, "str", TypeIndex::RAW_STR)
    );
    assert!(e.to_string().contains("allocator"));

    let arr = ByteArray::new(b"\x01\x02");
    let owned = AnyView::from(&arr).to_owned().unwrap();
    assert_eq!(bits(owned.as_raw()), (TypeIndex::SMALL_BYTES.0, 2, [1, 2, 0, 0, 0, 0, 0, 0]));
    let long = ByteArray::new(b"12345678");
    assert_eq!(err_kind(AnyView::from(&long).to_owned()), Kind::NeedsAllocator);
    // Like the reference, a raw C string is copied without a UTF-8 check.
    let owned = AnyView::from(c"\xff").to_owned().unwrap();
    assert_eq!(err_kind(owned.as_str()), Kind::InvalidUtf8);

    // A DLTensor* stays a plain, non-owning pointer.
    let mut t = tensor(&mut [2]);
    let owned = AnyView::from(&raw mut t).to_owned().unwrap();
    assert_eq!(owned.type_index(), TypeIndex::DL_TENSOR_PTR);
    assert_eq!(owned.get::<*mut DLTensor>(), Ok(&raw mut t));
}
