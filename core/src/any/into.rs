//! Values into [`Any`] and [`AnyView`]: `From` for what always fits, `TryFrom` for integers
//! that may not fit an `int64_t`, and the borrowed kinds into views only.

use core::ffi::{CStr, c_void};

use super::{Any, AnyView, int, pod, ptr};
use crate::error::{ConversionError, ConversionErrorKind};
use crate::sys::{DLDataType, DLDevice, DLTensor, TVMFFIAny};
use crate::{DataType, Device, TypeIndex};

#[inline]
fn float(v: f64) -> TVMFFIAny {
    pod(TypeIndex::FLOAT, v.to_bits())
}

#[inline]
fn dtype(d: DLDataType) -> TVMFFIAny {
    // `DLDataType` is 4 bytes: the other 4 stay zero, as the reference's hashing expects.
    let mut raw = pod(TypeIndex::DATA_TYPE, 0);
    raw.value.v_dtype = d;
    raw
}

#[inline]
fn device(d: DLDevice) -> TVMFFIAny {
    let mut raw = pod(TypeIndex::DEVICE, 0);
    raw.value.v_device = d;
    raw
}

/// `From<T>` for both `Any` and `AnyView`, from an expression building the raw value.
macro_rules! into_value {
    ($($t:ty => |$v:ident| $e:expr;)*) => {$(
        impl From<$t> for Any {
            #[inline]
            fn from($v: $t) -> Self {
                Self::from_pod($e)
            }
        }

        impl From<$t> for AnyView<'_> {
            #[inline]
            fn from($v: $t) -> Self {
                Self::from_pod($e)
            }
        }
    )*};
}

into_value! {
    () => |_v| pod(TypeIndex::NONE, 0);
    bool => |v| int(TypeIndex::BOOL, v as i64);
    i8 => |v| int(TypeIndex::INT, v.into());
    i16 => |v| int(TypeIndex::INT, v.into());
    i32 => |v| int(TypeIndex::INT, v.into());
    i64 => |v| int(TypeIndex::INT, v);
    // Pointers are at most 64 bits wide (`sys` rejects other targets), so this is lossless.
    isize => |v| int(TypeIndex::INT, v as i64);
    u8 => |v| int(TypeIndex::INT, v.into());
    u16 => |v| int(TypeIndex::INT, v.into());
    u32 => |v| int(TypeIndex::INT, v.into());
    f32 => |v| float(v.into());
    f64 => |v| float(v);
    DataType => |v| dtype(v.as_raw());
    DLDataType => |v| dtype(v);
    Device => |v| device(v.as_raw());
    DLDevice => |v| device(v);
    *mut c_void => |v| ptr(TypeIndex::OPAQUE_PTR, v);
    *const c_void => |v| ptr(TypeIndex::OPAQUE_PTR, v.cast_mut());
}

/// `TryFrom<T>` for both `Any` and `AnyView`, for integers that may exceed `int64_t`: the
/// reference raises `OverflowError` where we return [`ConversionErrorKind::OutOfRange`].
macro_rules! try_into_int {
    ($($t:ty),*) => {$(
        impl TryFrom<$t> for Any {
            type Error = ConversionError;

            #[inline]
            fn try_from(v: $t) -> Result<Self, ConversionError> {
                match i64::try_from(v) {
                    Ok(v) => Ok(Self::from_pod(int(TypeIndex::INT, v))),
                    Err(_) => Err(too_large(i128::try_from(v).ok())),
                }
            }
        }

        impl TryFrom<$t> for AnyView<'_> {
            type Error = ConversionError;

            #[inline]
            fn try_from(v: $t) -> Result<Self, ConversionError> {
                Any::try_from(v).map(|any| Self::from_pod(any.into_raw()))
            }
        }
    )*};
}

try_into_int!(u64, usize, i128, u128);

#[cold]
fn too_large(value: Option<i128>) -> ConversionError {
    match value {
        Some(v) => ConversionError::out_of_range("int", TypeIndex::INT, v),
        None => ConversionError::new(ConversionErrorKind::OutOfRange, "int", TypeIndex::INT),
    }
}

impl<T: Into<Any>> From<Option<T>> for Any {
    /// `None` becomes the FFI `None`.
    #[inline]
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::NONE, Into::into)
    }
}

impl<'a, T: Into<AnyView<'a>>> From<Option<T>> for AnyView<'a> {
    /// `None` becomes the FFI `None`.
    #[inline]
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::NONE, Into::into)
    }
}

impl<'a> From<&'a CStr> for AnyView<'a> {
    /// A borrowed C string (`RAW_STR`). An [`Any`] cannot hold one: see
    /// [`AnyView::to_owned`].
    #[inline]
    fn from(s: &'a CStr) -> Self {
        Self::from_pod(ptr(TypeIndex::RAW_STR, s.as_ptr().cast_mut().cast()))
    }
}

impl From<*mut DLTensor> for AnyView<'_> {
    /// A borrowed tensor (`DL_TENSOR_PTR`); a null pointer becomes `None`, since the
    /// reference rejects a null `DLTensor*` and C callees would dereference it.
    ///
    /// The view never dereferences the pointer, so this is safe; whoever reads the tensor
    /// through it vouches for its validity.
    #[inline]
    fn from(t: *mut DLTensor) -> Self {
        if t.is_null() {
            Self::NONE
        } else {
            Self::from_pod(ptr(TypeIndex::DL_TENSOR_PTR, t.cast()))
        }
    }
}
