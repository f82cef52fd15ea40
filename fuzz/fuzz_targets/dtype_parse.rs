//! Data type strings: `DataType::parse` and `TVMFFIDataTypeFromString` on arbitrary bytes
//! agree, a parsed type prints and parses back to itself, and any `DLDataType` bit pattern
//! prints (or is refused by `TVMFFIDataTypeToString`) without breaking.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tvmffi_core::sys::api::{TVMFFIDataTypeFromString, TVMFFIDataTypeToString};
use tvmffi_core::sys::{DLDataType, TVMFFIAny, TVMFFIByteArray};
use tvmffi_core::{Any, DataType, DataTypeCode};
use tvmffi_fuzz::check_rc;

fuzz_target!(|data: &[u8]| {
    // The first 4 bytes double as a raw `DLDataType`.
    if let [code, bits, l0, l1, ..] = *data {
        let raw = DLDataType { code, bits, lanes: u16::from_le_bytes([l0, l1]) };
        print_and_reparse(DataType::from_raw(raw));
    }

    let arr = TVMFFIByteArray { data: data.as_ptr().cast(), size: data.len() };
    let mut out = DLDataType { code: 0, bits: 0, lanes: 0 };
    // SAFETY: `arr` describes `data`; `out` is writable.
    let rc = unsafe { TVMFFIDataTypeFromString(&arr, &mut out) };
    let c_result = check_rc("TVMFFIDataTypeFromString", rc).map_or(Ok(out), Err);
    let Ok(text) = core::str::from_utf8(data) else {
        assert!(c_result.is_err(), "non-UTF-8 dtype string accepted");
        return;
    };
    let parsed = DataType::parse(text);
    match (&parsed, &c_result) {
        (Ok(d), Ok(raw)) => assert_eq!(d.as_raw(), *raw),
        (Err(e), Err(c)) if !text.starts_with("custom") => {
            // The C API raises the parser's own message.
            assert_eq!(c.kind(), "ValueError");
            assert_eq!(c.message(), e.to_string());
        }
        // `custom[...]` names go to a registry the plain parser does not have.
        (Err(_), _) if text.contains("custom") => {}
        _ => panic!(
            "parse {:?} and the C API {:?} disagree on {text:?}",
            parsed,
            c_result.map_err(|e| e.message().into_owned())
        ),
    }
    if let Ok(d) = parsed {
        print_and_reparse(d);
    }
});

/// A type prints; a type the parser can spell parses back from its printing.
fn print_and_reparse(d: DataType) {
    let text = d.to_string();
    let mut out = TVMFFIAny::NONE;
    let raw = d.as_raw();
    // SAFETY: readable and writable arguments.
    let rc = unsafe { TVMFFIDataTypeToString(&raw, &mut out) };
    let printed = check_rc("TVMFFIDataTypeToString", rc).is_none();
    if printed {
        // SAFETY: success wrote an owned string value.
        let s = unsafe { Any::from_raw(out) };
        if d.code().0 < DataTypeCode::CUSTOM_BEGIN.0 {
            assert_eq!(s.as_str().ok(), Some(text.as_str()));
        }
    }
    if d.code().as_str().is_none() || !printed {
        return; // custom and unknown codes have no spelling the plain parser reads
    }
    let Some(want) = canonical(d) else { return };
    match DataType::parse(&text) {
        Ok(back) => assert_eq!(back, want, "{text:?} parses to {back:?}, printed from {d:?}"),
        Err(e) => panic!("{d:?} prints as {text:?}, which does not parse: {e}"),
    }
}

/// What the reference's spelling keeps of a type (`DLDataTypeToString`): no bits for the
/// small float formats and handles (their names fix the width), no lanes count of 0 or 1
/// (nor the vscale factor 1), and a zero width reads back as the type's default. `None`
/// where the reference's parser refuses its own printing too: `complex` types and scalable
/// small floats.
fn canonical(d: DataType) -> Option<DataType> {
    let code = d.code();
    let (bits, lanes) = (d.bits(), d.lanes() as i16);
    if code == DataTypeCode::OPAQUE_HANDLE {
        return Some(if bits == 0 && lanes == 0 { d } else { DataType::new(code, 64, 1) });
    }
    let small_float = code.0 >= DataTypeCode::FLOAT8_E3M4.0;
    if code == DataTypeCode::COMPLEX || (small_float && lanes < -1) {
        return None;
    }
    let lanes = if (-1..=1).contains(&lanes) { 1 } else { lanes as u16 };
    let bits = match code {
        DataTypeCode::FLOAT8_E3M4
        | DataTypeCode::FLOAT8_E4M3
        | DataTypeCode::FLOAT8_E4M3B11FNUZ
        | DataTypeCode::FLOAT8_E4M3FN
        | DataTypeCode::FLOAT8_E4M3FNUZ
        | DataTypeCode::FLOAT8_E5M2
        | DataTypeCode::FLOAT8_E5M2FNUZ
        | DataTypeCode::FLOAT8_E8M0FNU => 8,
        DataTypeCode::FLOAT6_E2M3FN | DataTypeCode::FLOAT6_E3M2FN => 6,
        DataTypeCode::FLOAT4_E2M1FN => 4,
        DataTypeCode::INT | DataTypeCode::UINT | DataTypeCode::FLOAT if bits == 0 => 32,
        DataTypeCode::BFLOAT if bits == 0 => 16,
        DataTypeCode::BOOL if bits == 0 => 8,
        _ => bits,
    };
    Some(DataType::new(code, bits, lanes))
}
