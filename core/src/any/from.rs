//! Values out of [`AnyView`]: the [`FromAnyView`] trait and its implementations, following
//! the reference's `TypeTraits<T>::TryCastFromAnyView` (`tvm/ffi/type_traits.h`).

use core::ffi::{CStr, c_void};

use super::{Any, AnyView};
use crate::error::ConversionError;
use crate::sys::{DLDataType, DLDevice, DLTensor, TVMFFIByteArray, TVMFFIObject};
use crate::{DataType, Device, TypeIndex};

/// A type that can be read out of an [`AnyView`], with the reference's conversion rules.
///
/// This is the reference's `AnyView::cast<T>()`: it may convert (an `int` becomes an `f64`,
/// an `int` a `bool`), and fails with a [`ConversionError`] where the reference raises a
/// `TypeError`. Call it through [`AnyView::get`] or [`Any::get`].
///
/// | target | accepts |
/// | --- | --- |
/// | `()` | `None` |
/// | `bool` | `bool`, `int` (non-zero is `true`) |
/// | `i8`..`i128`, `u8`..`u128`, `isize`, `usize` | `int`, `bool`; range-checked (the reference wraps) |
/// | `f32`, `f64` | `float`, `int`, `bool` |
/// | `*mut c_void`, `*const c_void` | `void*`, `None` (null) |
/// | [`DataType`], `DLDataType` | `DataType` (the reference also parses strings) |
/// | [`Device`], `DLDevice` | `Device` (the reference also parses strings) |
/// | `*mut DLTensor` | `DLTensor*`, `ffi.Tensor` (the `DLTensor` after the header) |
/// | `&CStr` | `const char*` |
/// | `&TVMFFIByteArray` | `TVMFFIByteArray*` |
/// | `Option<T>` | `None`, or what `T` accepts |
/// | [`AnyView`] | anything |
/// | [`Any`] | anything [`AnyView::to_owned`] can own |
///
/// Text and bytes are read in place with [`AnyView::as_str`] and [`AnyView::as_bytes`],
/// since a small string lives inside the view itself.
pub trait FromAnyView<'a>: Sized {
    /// Convert `view`, or say why not.
    fn from_any_view(view: AnyView<'a>) -> Result<Self, ConversionError>;
}

impl<'a> AnyView<'a> {
    /// The integer of an `int` or `bool`.
    #[inline]
    fn int_value(&self, expected: &'static str) -> Result<i64, ConversionError> {
        match self.type_index() {
            // SAFETY: `int` and `bool` carry `v_int64`.
            TypeIndex::INT | TypeIndex::BOOL => Ok(unsafe { self.raw.value.v_int64 }),
            other => Err(ConversionError::mismatch(expected, other)),
        }
    }

    /// The pointer of a `void*`, or null for `None`.
    #[inline]
    fn opaque_ptr(&self) -> Result<*mut c_void, ConversionError> {
        match self.type_index() {
            // SAFETY: `void*` carries `v_ptr`.
            TypeIndex::OPAQUE_PTR => Ok(unsafe { self.raw.value.v_ptr }),
            TypeIndex::NONE => Ok(core::ptr::null_mut()),
            other => Err(ConversionError::mismatch("void*", other)),
        }
    }
}

/// Integers: `int` or `bool`, range-checked into the target width.
macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl FromAnyView<'_> for $t {
            #[inline]
            fn from_any_view(view: AnyView<'_>) -> Result<Self, ConversionError> {
                let v = view.int_value("int")?;
                <$t>::try_from(v).map_err(|_| {
                    ConversionError::out_of_range(stringify!($t), view.type_index(), v.into())
                })
            }
        }
    )*};
}

from_int!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);

impl FromAnyView<'_> for () {
    #[inline]
    fn from_any_view(view: AnyView<'_>) -> Result<Self, ConversionError> {
        if view.is_none() {
            Ok(())
        } else {
            Err(ConversionError::mismatch("None", view.type_index()))
        }
    }
}

impl FromAnyView<'_> for bool {
    #[inline]
    fn from_any_view(view: AnyView<'_>) -> Result<Self, ConversionError> {
        view.int_value("bool").map(|v| v != 0)
    }
}

impl FromAnyView<'_> for f64 {
    #[inline]
    fn from_any_view(view: AnyView<'_>) -> Result<Self, ConversionError> {
        match view.type_index() {
            // SAFETY: `float` carries `v_float64`.
            TypeIndex::FLOAT => Ok(unsafe { view.raw.value.v_float64 }),
            // Like the reference's `static_cast<double>(int64_t)`: nearest representable.
            _ => view.int_value("float").map(|v| v as f64),
        }
    }
}

impl FromAnyView<'_> for f32 {
    #[inline]
    fn from_any_view(view: AnyView<'_>) -> Result<Self, ConversionError> {
        match view.type_index() {
            // SAFETY: `float` carries `v_float64`.
            // The reference's `static_cast<float>(double)`: rounds, or becomes infinite.
            TypeIndex::FLOAT => Ok(unsafe { view.raw.value.v_float64 } as f32),
            _ => view.int_value("float").map(|v| v as f32),
        }
    }
}

impl FromAnyView<'_> for *mut c_void {
    #[inline]
    fn from_any_view(view: AnyView<'_>) -> Result<Self, ConversionError> {
        view.opaque_ptr()
    }
}

impl FromAnyView<'_> for *const c_void {
    #[inline]
    fn from_any_view(view: AnyView<'_>) -> Result<Self, ConversionError> {
        view.opaque_ptr().map(<*mut c_void>::cast_const)
    }
}

impl FromAnyView<'_> for DLDataType {
    #[inline]
    fn from_any_view(view: AnyView<'_>) -> Result<Self, ConversionError> {
        match view.type_index() {
            // SAFETY: `DataType` carries `v_dtype`.
            TypeIndex::DATA_TYPE => Ok(unsafe { view.raw.value.v_dtype }),
            other => Err(ConversionError::mismatch("DataType", other)),
        }
    }
}

impl FromAnyView<'_> for DataType {
    #[inline]
    fn from_any_view(view: AnyView<'_>) -> Result<Self, ConversionError> {
        DLDataType::from_any_view(view).map(Self::from_raw)
    }
}

impl FromAnyView<'_> for DLDevice {
    #[inline]
    fn from_any_view(view: AnyView<'_>) -> Result<Self, ConversionError> {
        match view.type_index() {
            // SAFETY: `Device` carries `v_device`.
            TypeIndex::DEVICE => Ok(unsafe { view.raw.value.v_device }),
            other => Err(ConversionError::mismatch("Device", other)),
        }
    }
}

impl FromAnyView<'_> for Device {
    #[inline]
    fn from_any_view(view: AnyView<'_>) -> Result<Self, ConversionError> {
        DLDevice::from_any_view(view).map(Self::from_raw)
    }
}

impl FromAnyView<'_> for *mut DLTensor {
    /// A `DLTensor*` as is, or the `DLTensor` that follows the header of a tensor object
    /// (`TVMFFITensorGetDLTensorPtr`). Neither is dereferenced here.
    #[inline]
    fn from_any_view(view: AnyView<'_>) -> Result<Self, ConversionError> {
        match view.type_index() {
            // SAFETY: `DLTensor*` carries `v_ptr`.
            TypeIndex::DL_TENSOR_PTR => Ok(unsafe { view.raw.value.v_ptr }.cast()),
            TypeIndex::TENSOR => match view.as_object_ptr() {
                // Offset arithmetic only; `wrapping_add` keeps it free of preconditions.
                Some(obj) => {
                    Ok(obj.as_ptr().cast::<u8>().wrapping_add(size_of::<TVMFFIObject>()).cast())
                }
                None => Err(view.malformed("DLTensor*")),
            },
            other => Err(ConversionError::mismatch("DLTensor*", other)),
        }
    }
}

impl<'a> FromAnyView<'a> for &'a CStr {
    #[inline]
    fn from_any_view(view: AnyView<'a>) -> Result<Self, ConversionError> {
        view.as_c_str()
    }
}

impl<'a> FromAnyView<'a> for &'a TVMFFIByteArray {
    #[inline]
    fn from_any_view(view: AnyView<'a>) -> Result<Self, ConversionError> {
        view.as_byte_array()
    }
}

impl<'a, T: FromAnyView<'a>> FromAnyView<'a> for Option<T> {
    #[inline]
    fn from_any_view(view: AnyView<'a>) -> Result<Self, ConversionError> {
        if view.is_none() { Ok(None) } else { T::from_any_view(view).map(Some) }
    }
}

impl<'a> FromAnyView<'a> for AnyView<'a> {
    #[inline]
    fn from_any_view(view: AnyView<'a>) -> Result<Self, ConversionError> {
        Ok(view)
    }
}

impl<'a> FromAnyView<'a> for Any {
    /// [`AnyView::to_owned`].
    #[inline]
    fn from_any_view(view: AnyView<'a>) -> Result<Self, ConversionError> {
        view.to_owned()
    }
}
