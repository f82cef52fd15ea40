//! What the `Any` tests share: raw values with explicit bits, the checks C code relies on,
//! byte arrays and `DLTensor`s to point values at.
#![allow(dead_code)] // each test file uses its own subset

use core::ffi::c_void;

use tvmffi_core::error::ConversionErrorKind as Kind;
use tvmffi_core::sys::{DLTensor, TVMFFIAny, TVMFFIAnyPadding, TVMFFIAnyValue, TVMFFIByteArray};
use tvmffi_core::{ConversionError, DataType, Device, TypeIndex};

/// Loop bound, small under Miri.
pub const N: i64 = if cfg!(miri) { 3 } else { 300 };

/// `(type_index, padding, value bytes)` of a raw value.
pub fn bits(raw: &TVMFFIAny) -> (i32, u32, [u8; 8]) {
    // SAFETY: every bit pattern is a valid `u32` and `[u8; 8]`.
    unsafe { (raw.type_index, raw.padding.zero_padding, raw.value.v_bytes) }
}

/// A POD value with explicit bits, for malformed or foreign inputs.
pub fn raw(type_index: TypeIndex, padding: u32, bytes: [u8; 8]) -> TVMFFIAny {
    TVMFFIAny {
        type_index: type_index.0,
        padding: TVMFFIAnyPadding { zero_padding: padding },
        value: TVMFFIAnyValue { v_bytes: bytes },
    }
}

pub fn raw_ptr(type_index: TypeIndex, p: *mut c_void) -> TVMFFIAny {
    let mut r = raw(type_index, 0, [0; 8]);
    r.value.v_ptr = p;
    r
}

/// Value bytes past a pointer's width must be zero (32-bit targets), whatever the endianness.
pub fn assert_ptr_bits(any: &TVMFFIAny, type_index: TypeIndex, p: *const c_void) {
    let (ti, pad, bytes) = bits(any);
    assert_eq!((ti, pad), (type_index.0, 0));
    assert!(bytes[size_of::<usize>()..].iter().all(|&b| b == 0));
    // SAFETY: pointer kinds carry `v_ptr`.
    assert_eq!(unsafe { any.value.v_ptr }.cast_const(), p);
}

pub fn err_kind<T: core::fmt::Debug>(r: Result<T, ConversionError>) -> Kind {
    r.unwrap_err().kind()
}

pub fn byte_array(bytes: &'static [u8]) -> TVMFFIByteArray {
    TVMFFIByteArray { data: bytes.as_ptr().cast(), size: bytes.len() }
}

pub fn tensor(shape: &mut [i64]) -> DLTensor {
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
