//! `Any` and `AnyView`: every conversion both ways, every rejection, the bit-level
//! invariants C code relies on, and reference counting of objects held in values.

use core::ffi::{CStr, c_int, c_void};
use core::ptr::NonNull;
use core::sync::atomic::{AtomicUsize, Ordering};

use tvmffi_core::any::ByteArray;
use tvmffi_core::error::ConversionErrorKind as Kind;
use tvmffi_core::flags::DeleterFlags;
use tvmffi_core::sys::{
    DLDataType, DLDevice, DLTensor, TVMFFIAny, TVMFFIAnyPadding, TVMFFIAnyValue, TVMFFIByteArray,
    TVMFFIObject,
};
use tvmffi_core::{
    Any, AnyView, ConversionError, DataType, DataTypeCode, Device, DeviceType, ObjectHeader,
    TypeIndex,
};

/// Loop bound, small under Miri.
const N: i64 = if cfg!(miri) { 3 } else { 300 };

/// `(type_index, padding, value bytes)` of a raw value.
fn bits(raw: &TVMFFIAny) -> (i32, u32, [u8; 8]) {
    // SAFETY: every bit pattern is a valid `u32` and `[u8; 8]`.
    unsafe { (raw.type_index, raw.padding.zero_padding, raw.value.v_bytes) }
}

/// A POD value with explicit bits, for malformed or foreign inputs.
fn raw(type_index: TypeIndex, padding: u32, bytes: [u8; 8]) -> TVMFFIAny {
    TVMFFIAny {
        type_index: type_index.0,
        padding: TVMFFIAnyPadding { zero_padding: padding },
        value: TVMFFIAnyValue { v_bytes: bytes },
    }
}

fn raw_ptr(type_index: TypeIndex, p: *mut c_void) -> TVMFFIAny {
    let mut r = raw(type_index, 0, [0; 8]);
    r.value.v_ptr = p;
    r
}

/// Value bytes past a pointer's width must be zero (32-bit targets), whatever the endianness.
fn assert_ptr_bits(any: &TVMFFIAny, type_index: TypeIndex, p: *const c_void) {
    let (ti, pad, bytes) = bits(any);
    assert_eq!((ti, pad), (type_index.0, 0));
    assert!(bytes[size_of::<usize>()..].iter().all(|&b| b == 0));
    // SAFETY: pointer kinds carry `v_ptr`.
    assert_eq!(unsafe { any.value.v_ptr }.cast_const(), p);
}

fn err_kind<T: core::fmt::Debug>(r: Result<T, ConversionError>) -> Kind {
    r.unwrap_err().kind()
}

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

fn byte_array(bytes: &'static [u8]) -> TVMFFIByteArray {
    TVMFFIByteArray { data: bytes.as_ptr().cast(), size: bytes.len() }
}

// ---------------------------------------------------------------------------------------
// None, layout, basics

#[test]
fn none_is_all_zero_and_converts_to_unit_and_option() {
    for any in [Any::NONE, Any::none(), Any::default(), Any::from(()), Any::from(None::<i32>)] {
        assert!(any.is_none());
        assert_eq!(any.type_index(), TypeIndex::NONE);
        assert_eq!(bits(any.as_raw()), (0, 0, [0; 8]));
        assert_eq!(any.get::<()>(), Ok(()));
        assert_eq!(any.get::<Option<i64>>(), Ok(None));
    }
    assert!(AnyView::NONE.is_none() && AnyView::default().is_none() && AnyView::none().is_none());
    let e = Any::from(0).get::<()>().unwrap_err();
    assert_eq!((e.kind(), e.expected(), e.actual()), (Kind::Mismatch, "None", TypeIndex::INT));
    assert_eq!(err_kind(Any::NONE.get::<i64>()), Kind::Mismatch);
}

#[test]
fn values_are_layout_compatible_with_the_c_struct() {
    assert_eq!(size_of::<Any>(), size_of::<TVMFFIAny>());
    assert_eq!(size_of::<AnyView<'_>>(), 16);
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Any>();
    // A slice of `Any` reads as a C array of `TVMFFIAny`.
    let args = [Any::from(1), Any::from(2.5), Any::small_str("x").unwrap()];
    let base = args.as_ptr().cast::<TVMFFIAny>();
    // SAFETY: `Any` is `repr(transparent)` over `TVMFFIAny`; the array lives on.
    let views: Vec<AnyView<'_>> =
        (0..3).map(|i| unsafe { AnyView::from_ptr(base.add(i)) }).collect();
    assert_eq!(views[0].get::<i32>(), Ok(1));
    assert_eq!(views[1].get::<f64>(), Ok(2.5));
    assert_eq!(views[2].as_str(), Ok("x"));
}

#[test]
fn into_raw_and_from_raw_round_trip() {
    let raw = Any::from(-7i64).into_raw();
    // SAFETY: a POD int, owned by nothing else.
    let any = unsafe { Any::from_raw(raw) };
    assert_eq!(any.get::<i64>(), Ok(-7));
    // SAFETY: a plain int borrows nothing.
    let view = unsafe { AnyView::from_raw(raw) };
    assert_eq!(view.get::<i64>(), Ok(-7));
    assert_eq!(AnyView::from(&any).as_raw().type_index, TypeIndex::INT.0);
    assert!(Any::from(1).into_object_raw().is_err());
}

// ---------------------------------------------------------------------------------------
// Integers and bools

macro_rules! round_trip {
    ($($t:ty),*) => {$(
        for v in [<$t>::MIN, <$t>::MAX, 0 as $t, 1 as $t] {
            let any = Any::from(v);
            assert_eq!(bits(any.as_raw()).0, TypeIndex::INT.0, "{}", stringify!($t));
            assert_eq!(bits(any.as_raw()).1, 0);
            // SAFETY: `int` carries `v_int64`.
            assert_eq!(unsafe { any.as_raw().value.v_int64 }, v as i64);
            assert_eq!(any.get::<$t>(), Ok(v));
            assert_eq!(AnyView::from(v).get::<$t>(), Ok(v));
            assert_eq!(any.get::<i64>(), Ok(v as i64));
            assert_eq!(any.get::<i128>(), Ok(v as i128));
        }
    )*};
}

#[test]
fn integers_round_trip_through_int() {
    round_trip!(i8, i16, i32, i64, isize, u8, u16, u32);
}

macro_rules! rejects_outside {
    ($($t:ty),*) => {$(
        let (lo, hi) = (<$t>::MIN as i128 - 1, <$t>::MAX as i128 + 1);
        for v in [lo, hi] {
            if let Ok(v64) = i64::try_from(v) {
                let e = Any::from(v64).get::<$t>().unwrap_err();
                assert_eq!(e.kind(), Kind::OutOfRange, "{} from {}", stringify!($t), v64);
                assert_eq!((e.expected(), e.value(), e.actual()), (stringify!($t), Some(v), TypeIndex::INT));
                assert_eq!(e.to_string(), format!("Integer value {v} is out of range for `{}`", stringify!($t)));
            }
        }
        assert_eq!(Any::from(<$t>::MIN as i64).get::<$t>(), Ok(<$t>::MIN));
    )*};
}

#[test]
fn narrowing_is_range_checked_never_wrapped() {
    rejects_outside!(i8, i16, i32, isize, u8, u16, u32, usize, u64);
    // Unsigned targets reject every negative value, u64 and u128 included.
    for v in [-1i64, i64::MIN] {
        assert_eq!(err_kind(Any::from(v).get::<u64>()), Kind::OutOfRange);
        assert_eq!(err_kind(Any::from(v).get::<u128>()), Kind::OutOfRange);
        assert_eq!(err_kind(Any::from(v).get::<usize>()), Kind::OutOfRange);
    }
    assert_eq!(Any::from(i64::MAX).get::<u64>(), Ok(i64::MAX as u64));
    // Sweep around the i8/u8 edges.
    for v in -N..=N {
        assert_eq!(Any::from(v).get::<i8>().ok(), i8::try_from(v).ok(), "{v}");
        assert_eq!(Any::from(v).get::<u8>().ok(), u8::try_from(v).ok(), "{v}");
    }
    assert_eq!(err_kind(Any::from(300).get::<i8>()), Kind::OutOfRange);
}

#[test]
fn wide_integers_into_values_are_range_checked() {
    assert_eq!(Any::try_from(i64::MAX as u64).unwrap().get::<i64>(), Ok(i64::MAX));
    let e = Any::try_from(i64::MAX as u64 + 1).unwrap_err();
    assert_eq!((e.kind(), e.expected(), e.value()), (Kind::OutOfRange, "int", Some(1i128 << 63)));
    assert_eq!(err_kind(Any::try_from(u64::MAX)), Kind::OutOfRange);
    assert_eq!(Any::try_from(usize::MAX >> 1).unwrap().get::<usize>(), Ok(usize::MAX >> 1));
    if size_of::<usize>() == 8 {
        assert_eq!(err_kind(Any::try_from(usize::MAX)), Kind::OutOfRange);
    }
    assert_eq!(Any::try_from(i64::MIN as i128).unwrap().get::<i64>(), Ok(i64::MIN));
    assert_eq!(
        Any::try_from(i64::MIN as i128 - 1).unwrap_err().value(),
        Some(i64::MIN as i128 - 1)
    );
    assert_eq!(Any::try_from(5u128).unwrap().get::<u128>(), Ok(5));
    let e = Any::try_from(u128::MAX).unwrap_err();
    assert_eq!((e.kind(), e.value()), (Kind::OutOfRange, None));
    assert_eq!(AnyView::try_from(7u64).unwrap().get::<u8>(), Ok(7));
    assert_eq!(err_kind(AnyView::try_from(u64::MAX)), Kind::OutOfRange);
}

#[test]
fn bools_are_stored_as_0_or_1_and_convert_with_ints() {
    for (b, n) in [(false, 0i64), (true, 1)] {
        let any = Any::from(b);
        assert_eq!(bits(any.as_raw()).0, TypeIndex::BOOL.0);
        assert_eq!(bits(any.as_raw()).1, 0);
        // SAFETY: `bool` carries `v_int64`.
        assert_eq!(unsafe { any.as_raw().value.v_int64 }, n);
        assert_eq!(any.get::<bool>(), Ok(b));
        assert_eq!(AnyView::from(b).get::<bool>(), Ok(b));
        // int accepts bool, and bool accepts int (non-zero is true).
        assert_eq!(any.get::<i32>(), Ok(n as i32));
        assert_eq!(any.get::<u8>(), Ok(n as u8));
        assert_eq!(Any::from(n).get::<bool>(), Ok(b));
    }
    assert_eq!(Any::from(-5).get::<bool>(), Ok(true));
    let e = Any::from(1.0).get::<bool>().unwrap_err();
    assert_eq!(e.to_string(), "Cannot convert from type `float` to `bool`");
    assert_eq!(err_kind(Any::NONE.get::<bool>()), Kind::Mismatch);
}

// ---------------------------------------------------------------------------------------
// Floats

#[test]
fn floats_accept_float_int_and_bool() {
    let any = Any::from(1.5f64);
    assert_eq!(bits(any.as_raw()), (TypeIndex::FLOAT.0, 0, 1.5f64.to_bits().to_ne_bytes()));
    assert_eq!(any.get::<f64>(), Ok(1.5));
    assert_eq!(any.get::<f32>(), Ok(1.5));
    let any = Any::from(0.1f32);
    assert_eq!(any.get::<f64>(), Ok(f64::from(0.1f32)));
    assert_eq!(any.get::<f32>(), Ok(0.1f32));
    assert_eq!(AnyView::from(-2.0f32).get::<f64>(), Ok(-2.0));
    assert_eq!(Any::from(3).get::<f64>(), Ok(3.0));
    assert_eq!(Any::from(-3).get::<f32>(), Ok(-3.0));
    assert_eq!(Any::from(true).get::<f64>(), Ok(1.0));
    assert_eq!(Any::from(f64::MAX).get::<f32>(), Ok(f32::INFINITY));
    assert!(Any::from(f64::NAN).get::<f64>().unwrap().is_nan());
    // float is not an int, and the message is the reference's.
    let e = Any::from(1.5).get::<i64>().unwrap_err();
    assert_eq!((e.kind(), e.expected(), e.actual()), (Kind::Mismatch, "int", TypeIndex::FLOAT));
    assert_eq!(e.to_string(), "Cannot convert from type `float` to `int`");
    assert_eq!(err_kind(Any::NONE.get::<f64>()), Kind::Mismatch);
    assert_eq!(err_kind(Any::small_str("1").unwrap().get::<f32>()), Kind::Mismatch);
}

// ---------------------------------------------------------------------------------------
// Pointers, data types, devices

#[test]
fn opaque_pointers_zero_the_upper_bytes_and_accept_none() {
    let mut x = 5u32;
    let p = (&raw mut x).cast::<c_void>();
    let any = Any::from(p);
    assert_ptr_bits(any.as_raw(), TypeIndex::OPAQUE_PTR, p);
    assert_eq!(any.get::<*mut c_void>(), Ok(p));
    assert_eq!(any.get::<*const c_void>(), Ok(p.cast_const()));
    let view = AnyView::from(p.cast_const());
    assert_ptr_bits(view.as_raw(), TypeIndex::OPAQUE_PTR, p);
    assert_eq!(view.get::<Option<*mut c_void>>(), Ok(Some(p)));
    // A null pointer stays an opaque pointer, as in the reference.
    let null = Any::from(core::ptr::null_mut::<c_void>());
    assert_eq!(bits(null.as_raw()), (TypeIndex::OPAQUE_PTR.0, 0, [0; 8]));
    // void* accepts None as null; Option<void*> reads None as None.
    assert_eq!(Any::NONE.get::<*mut c_void>(), Ok(core::ptr::null_mut()));
    assert_eq!(Any::NONE.get::<Option<*mut c_void>>(), Ok(None));
    let e = Any::from(1).get::<*mut c_void>().unwrap_err();
    assert_eq!(e.to_string(), "Cannot convert from type `int` to `void*`");
}

#[test]
fn data_types_and_devices_round_trip_strictly() {
    let dt = DataType::F32.with_lanes(4);
    let any = Any::from(dt);
    let (ti, pad, bytes) = bits(any.as_raw());
    assert_eq!((ti, pad), (TypeIndex::DATA_TYPE.0, 0));
    assert_eq!(bytes[4..], [0; 4], "bytes past the 4-byte DLDataType are zero");
    assert_eq!((bytes[0], bytes[1]), (DataTypeCode::FLOAT.0, 32));
    assert_eq!(any.get::<DataType>(), Ok(dt));
    assert_eq!(any.get::<DLDataType>(), Ok(dt.as_raw()));
    let raw_dt = DLDataType { code: 0, bits: 8, lanes: 1 };
    assert_eq!(AnyView::from(raw_dt).get::<DataType>(), Ok(DataType::I8));

    let dev = Device::new(DeviceType::CUDA, 3);
    let any = Any::from(dev);
    assert_eq!(bits(any.as_raw()).0, TypeIndex::DEVICE.0);
    assert_eq!(bits(any.as_raw()).1, 0);
    assert_eq!(any.get::<Device>(), Ok(dev));
    assert_eq!(any.get::<DLDevice>(), Ok(dev.as_raw()));
    assert_eq!(AnyView::from(dev.as_raw()).get::<Device>(), Ok(dev));

    // Strict: no cross-conversion, and no string parsing (the reference parses).
    assert_eq!(
        Any::from(dev).get::<DataType>().unwrap_err().to_string(),
        "Cannot convert from type `Device` to `DataType`"
    );
    assert_eq!(err_kind(Any::from(dt).get::<Device>()), Kind::Mismatch);
    assert_eq!(err_kind(Any::small_str("cpu").unwrap().get::<Device>()), Kind::Mismatch);
    assert_eq!(err_kind(Any::from(2).get::<DataType>()), Kind::Mismatch);
}

#[test]
fn options_map_none_both_ways() {
    assert_eq!(Any::from(Some(3i32)).get::<i32>(), Ok(3));
    assert!(Any::from(None::<f64>).is_none());
    assert!(AnyView::from(None::<&CStr>).is_none());
    assert_eq!(AnyView::from(Some(c"x")).type_index(), TypeIndex::RAW_STR);
    assert_eq!(Any::from(Some(3i32)).get::<Option<i32>>(), Ok(Some(3)));
    assert_eq!(Any::NONE.get::<Option<Option<i32>>>(), Ok(None));
    assert_eq!(err_kind(Any::from(1.5).get::<Option<i32>>()), Kind::Mismatch);
}

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

fn tensor(shape: &mut [i64]) -> DLTensor {
    DLTensor {
        data: core::ptr::null_mut(),
        device: Device::CPU.as_raw(),
        ndim: shape.len() as i32,
        dtype: DataType::F32.as_raw(),
        shape: shape.as_mut_ptr(),
        strides: core::ptr::null_mut(),
        byte_offset: 0,
    }
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

// ---------------------------------------------------------------------------------------
// Debug

#[test]
fn debug_shows_type_key_and_value() {
    assert_eq!(format!("{:?}", Any::NONE), "Any(None)");
    assert_eq!(format!("{:?}", Any::from(5)), "Any(int: 5)");
    assert_eq!(format!("{:?}", AnyView::from(true)), "AnyView(bool: true)");
    assert_eq!(format!("{:?}", Any::from(1.5)), "Any(float: 1.5)");
    assert_eq!(format!("{:?}", Any::small_str("hi").unwrap()), "Any(ffi.SmallStr: \"hi\")");
    assert_eq!(
        format!("{:?}", Any::small_bytes(b"a\n").unwrap()),
        "Any(ffi.SmallBytes: b\"a\\n\")"
    );
    assert_eq!(format!("{:?}", AnyView::from(c"c")), "AnyView(const char*: \"c\")");
    assert_eq!(
        format!("{:?}", Any::from(DataType::I8)),
        format!("Any(DataType: {})", DataType::I8)
    );
    assert_eq!(format!("{:?}", Any::from(Device::CPU)), format!("Any(Device: {:?})", Device::CPU));
    assert!(
        format!("{:?}", Any::from(core::ptr::null_mut::<c_void>())).starts_with("Any(void*: 0x")
    );
    // SAFETY: an unknown POD index borrows nothing.
    let odd = unsafe { AnyView::from_raw(raw(TypeIndex(40), 0, [1, 0, 0, 0, 0, 0, 0, 0])) };
    assert!(format!("{odd:?}").starts_with("AnyView(TypeIndex(40): 0x"));
}
