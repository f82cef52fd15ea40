//! `Any` and `AnyView` with values that own nothing: none, integers, bools, floats, opaque
//! pointers, data types and devices, every conversion both ways, every rejection, the
//! bit-level invariants C code relies on, and how values print.

#[path = "any/support.rs"]
mod support;

use core::ffi::{CStr, c_void};

use support::{N, assert_ptr_bits, bits, err_kind, raw};
use tvmffi_core::error::ConversionErrorKind as Kind;
use tvmffi_core::sys::{DLDataType, DLDevice, TVMFFIAny};
use tvmffi_core::{Any, AnyView, DataType, DataTypeCode, Device, DeviceType, TypeIndex};

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
