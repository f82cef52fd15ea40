//! `Any` and `AnyView`: the 16-byte tagged value, built and read back on the target.

use tvmffi_core::error::ConversionErrorKind;
use tvmffi_core::{Any, AnyView, DataType, DataTypeCode, Device, DeviceType, TypeIndex};

use crate::report::Failure;

/// Plain values: integers, floats, booleans, none, data types, devices, inline strings.
pub fn values() -> Result<(), Failure> {
    ensure!(core::mem::size_of::<Any>() == 16 && core::mem::align_of::<Any>() == 8);
    ensure!(core::mem::size_of::<AnyView<'_>>() == 16);

    let int = Any::from(-42i32);
    ensure!(int.type_index() == TypeIndex::INT);
    ensure!(ok!(int.get::<i64>()) == -42 && ok!(int.get::<i8>()) == -42);
    let big = Any::from(300u32);
    let overflow = big.get::<i8>().err();
    ensure!(overflow.map(|e| e.kind()) == Some(ConversionErrorKind::OutOfRange));
    ensure!(overflow.and_then(|e| e.value()) == Some(300));

    let float = Any::from(2.5f64);
    ensure!(float.type_index() == TypeIndex::FLOAT && ok!(float.get::<f64>()) == 2.5);
    let mismatch = float.get::<i64>().err();
    ensure!(mismatch.map(|e| e.kind()) == Some(ConversionErrorKind::Mismatch));
    ensure!(mismatch.map(|e| e.expected()) == Some("int"));

    ensure!(ok!(Any::from(true).get::<bool>()) && Any::from(true).type_index() == TypeIndex::BOOL);
    let none = Any::none();
    ensure!(none.is_none() && ok!(none.get::<Option<i64>>()).is_none());
    ensure!(ok!(Any::from(7i64).get::<Option<i64>>()) == Some(7));

    let dtype = DataType::F32.with_lanes(4);
    let value = Any::from(dtype);
    ensure!(value.type_index() == TypeIndex::DATA_TYPE);
    let back: DataType = ok!(value.get());
    ensure!(back == dtype && back.code() == DataTypeCode::FLOAT && back.lanes() == 4);
    ensure!(back.size_in_bytes() == 16);

    let device = Device::new(DeviceType::CUDA, 1);
    let back: Device = ok!(Any::from(device).get());
    ensure!(back.device_type() == DeviceType::CUDA && back.device_id() == 1);

    let small = ok!(Any::small_str("tvm"));
    ensure!(small.type_index() == TypeIndex::SMALL_STR && ok!(small.as_str()) == "tvm");
    ensure!(Any::small_str("12345678").is_none());
    let copy = small.clone();
    ensure!(ok!(copy.as_str()) == "tvm");

    let c_text = AnyView::from(c"a C string, borrowed");
    ensure!(c_text.type_index() == TypeIndex::RAW_STR);
    ensure!(ok!(c_text.as_str()) == "a C string, borrowed");
    ensure!(AnyView::from(1i64).as_str().is_err());
    Ok(())
}
