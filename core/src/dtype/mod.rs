//! Data types: the element type of a tensor, as DLPack describes it.

mod parse;

pub use parse::{DataTypeParseError, ParseErrorKind};

use crate::sys::DLDataType;

open_enum! {
    /// A DLPack type code (`DLDataTypeCode`), an open set: new float formats keep coming.
    pub struct DataTypeCode(u8);
    /// Signed integer.
    INT = 0 => "kDLInt";
    /// Unsigned integer.
    UINT = 1 => "kDLUInt";
    /// IEEE floating point.
    FLOAT = 2 => "kDLFloat";
    /// Opaque handle.
    OPAQUE_HANDLE = 3 => "kDLOpaqueHandle";
    /// bfloat16.
    BFLOAT = 4 => "kDLBfloat";
    /// Complex number (two floats of `bits / 2` each).
    COMPLEX = 5 => "kDLComplex";
    /// Boolean.
    BOOL = 6 => "kDLBool";
    /// FP8 e3m4.
    FLOAT8_E3M4 = 7 => "kDLFloat8_e3m4";
    /// FP8 e4m3.
    FLOAT8_E4M3 = 8 => "kDLFloat8_e4m3";
    /// FP8 e4m3b11fnuz.
    FLOAT8_E4M3B11FNUZ = 9 => "kDLFloat8_e4m3b11fnuz";
    /// FP8 e4m3fn.
    FLOAT8_E4M3FN = 10 => "kDLFloat8_e4m3fn";
    /// FP8 e4m3fnuz.
    FLOAT8_E4M3FNUZ = 11 => "kDLFloat8_e4m3fnuz";
    /// FP8 e5m2.
    FLOAT8_E5M2 = 12 => "kDLFloat8_e5m2";
    /// FP8 e5m2fnuz.
    FLOAT8_E5M2FNUZ = 13 => "kDLFloat8_e5m2fnuz";
    /// FP8 e8m0fnu.
    FLOAT8_E8M0FNU = 14 => "kDLFloat8_e8m0fnu";
    /// FP6 e2m3fn.
    FLOAT6_E2M3FN = 15 => "kDLFloat6_e2m3fn";
    /// FP6 e3m2fn.
    FLOAT6_E3M2FN = 16 => "kDLFloat6_e3m2fn";
    /// FP4 e2m1fn.
    FLOAT4_E2M1FN = 17 => "kDLFloat4_e2m1fn";
}

impl DataTypeCode {
    /// First code of the reference's custom data types (`kDLExtCustomBegin`).
    pub const CUSTOM_BEGIN: Self = Self(129);

    /// The name the reference prints for this code, e.g. `float` or `float8_e4m3fn`.
    pub const fn as_str(self) -> Option<&'static str> {
        Some(match self {
            Self::INT => "int",
            Self::UINT => "uint",
            Self::FLOAT => "float",
            Self::OPAQUE_HANDLE => "handle",
            Self::BFLOAT => "bfloat",
            Self::COMPLEX => "complex",
            Self::BOOL => "bool",
            Self::FLOAT8_E3M4 => "float8_e3m4",
            Self::FLOAT8_E4M3 => "float8_e4m3",
            Self::FLOAT8_E4M3B11FNUZ => "float8_e4m3b11fnuz",
            Self::FLOAT8_E4M3FN => "float8_e4m3fn",
            Self::FLOAT8_E4M3FNUZ => "float8_e4m3fnuz",
            Self::FLOAT8_E5M2 => "float8_e5m2",
            Self::FLOAT8_E5M2FNUZ => "float8_e5m2fnuz",
            Self::FLOAT8_E8M0FNU => "float8_e8m0fnu",
            Self::FLOAT6_E2M3FN => "float6_e2m3fn",
            Self::FLOAT6_E3M2FN => "float6_e3m2fn",
            Self::FLOAT4_E2M1FN => "float4_e2m1fn",
            _ => return None,
        })
    }
}

impl TryFrom<u32> for DataTypeCode {
    type Error = core::num::TryFromIntError;

    fn try_from(v: u32) -> Result<Self, Self::Error> {
        u8::try_from(v).map(Self)
    }
}

impl TryFrom<i32> for DataTypeCode {
    type Error = core::num::TryFromIntError;

    fn try_from(v: i32) -> Result<Self, Self::Error> {
        u8::try_from(v).map(Self)
    }
}

/// An element type: a code, a bit width and a lane count (1 for scalars).
///
/// `Display` and `Debug` use the reference's spelling (`float32x4`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(transparent)]
pub struct DataType(DLDataType);

impl DataType {
    /// `bool` as DLPack spells it: code `kDLBool`, 8 bits.
    pub const BOOL: Self = Self::new(DataTypeCode::BOOL, 8, 1);
    /// `int8`.
    pub const I8: Self = Self::int(8);
    /// `int16`.
    pub const I16: Self = Self::int(16);
    /// `int32`.
    pub const I32: Self = Self::int(32);
    /// `int64`.
    pub const I64: Self = Self::int(64);
    /// `uint8`.
    pub const U8: Self = Self::uint(8);
    /// `uint16`.
    pub const U16: Self = Self::uint(16);
    /// `uint32`.
    pub const U32: Self = Self::uint(32);
    /// `uint64`.
    pub const U64: Self = Self::uint(64);
    /// `float16`.
    pub const F16: Self = Self::float(16);
    /// `bfloat16`.
    pub const BF16: Self = Self::new(DataTypeCode::BFLOAT, 16, 1);
    /// `float32`.
    pub const F32: Self = Self::float(32);
    /// `float64`.
    pub const F64: Self = Self::float(64);

    /// A data type from its parts.
    #[inline]
    pub const fn new(code: DataTypeCode, bits: u8, lanes: u16) -> Self {
        Self(DLDataType { code: code.0, bits, lanes })
    }

    /// A signed integer scalar of `bits` bits.
    #[inline]
    pub const fn int(bits: u8) -> Self {
        Self::new(DataTypeCode::INT, bits, 1)
    }

    /// An unsigned integer scalar of `bits` bits.
    #[inline]
    pub const fn uint(bits: u8) -> Self {
        Self::new(DataTypeCode::UINT, bits, 1)
    }

    /// An IEEE float scalar of `bits` bits.
    #[inline]
    pub const fn float(bits: u8) -> Self {
        Self::new(DataTypeCode::FLOAT, bits, 1)
    }

    /// The same element type with `lanes` lanes.
    #[inline]
    pub const fn with_lanes(self, lanes: u16) -> Self {
        Self::new(self.code(), self.bits(), lanes)
    }

    /// The type code.
    #[inline]
    pub const fn code(self) -> DataTypeCode {
        DataTypeCode(self.0.code)
    }

    /// Bits of one lane.
    #[inline]
    pub const fn bits(self) -> u8 {
        self.0.bits
    }

    /// Number of lanes.
    #[inline]
    pub const fn lanes(self) -> u16 {
        self.0.lanes
    }

    /// Storage bytes of one element, rounding sub-byte types up to a whole byte.
    #[inline]
    pub const fn size_in_bytes(self) -> usize {
        (self.0.bits as usize * self.0.lanes as usize).div_ceil(8)
    }

    /// The C struct.
    #[inline]
    pub const fn as_raw(self) -> DLDataType {
        self.0
    }

    /// Wrap the C struct.
    #[inline]
    pub const fn from_raw(raw: DLDataType) -> Self {
        Self(raw)
    }
}

impl From<DLDataType> for DataType {
    fn from(raw: DLDataType) -> Self {
        Self(raw)
    }
}

impl From<DataType> for DLDataType {
    fn from(d: DataType) -> Self {
        d.0
    }
}

/// The reference's spelling (`TVMFFIDataTypeToString`): `float32`, `int8x4`, `bool`,
/// `float8_e4m3fn`, `handle`.
///
/// Custom codes print as `custom[<code>]`: their names live in a runtime's registry.
/// Codes the reference does not know (it raises an error for them) print as `unknown<code>`.
impl core::fmt::Display for DataType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let (code, bits, lanes) = (self.code(), self.bits(), self.lanes() as i16);
        if code == DataTypeCode::BOOL && bits == 8 && lanes == 1 {
            return f.write_str("bool");
        }
        if code == DataTypeCode::OPAQUE_HANDLE && bits == 0 && lanes == 0 {
            return Ok(()); // void
        }
        match code.as_str() {
            Some(name) => f.write_str(name)?,
            None if code.0 >= DataTypeCode::CUSTOM_BEGIN.0 => write!(f, "custom[{}]", code.0)?,
            None => write!(f, "unknown{}", code.0)?,
        }
        if code == DataTypeCode::OPAQUE_HANDLE {
            return Ok(());
        }
        // Float8/6/4 names carry their width; so does `bool` at 8 bits.
        if code.0 < DataTypeCode::FLOAT8_E3M4.0 && !(code == DataTypeCode::BOOL && bits == 8) {
            write!(f, "{bits}")?;
        }
        if lanes > 1 {
            write!(f, "x{lanes}")?;
        } else if lanes < -1 {
            write!(f, "xvscalex{}", -i32::from(lanes))?;
        }
        Ok(())
    }
}

impl core::fmt::Debug for DataType {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "DataType({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_round_sub_byte_types_up() {
        assert_eq!(DataType::F32.size_in_bytes(), 4);
        assert_eq!(DataType::F32.with_lanes(4).size_in_bytes(), 16);
        assert_eq!(DataType::new(DataTypeCode::FLOAT4_E2M1FN, 4, 1).size_in_bytes(), 1);
        assert_eq!(DataType::new(DataTypeCode::FLOAT4_E2M1FN, 4, 3).size_in_bytes(), 2);
        assert_eq!(DataType::BOOL.size_in_bytes(), 1);
    }

    #[test]
    fn display_matches_the_reference_spelling() {
        use alloc::string::ToString;
        let cases = [
            (DataType::F32, "float32"),
            (DataType::I8.with_lanes(4), "int8x4"),
            (DataType::U64, "uint64"),
            (DataType::BOOL, "bool"),
            (DataType::new(DataTypeCode::BOOL, 1, 1), "bool1"),
            (DataType::BF16, "bfloat16"),
            (DataType::new(DataTypeCode::FLOAT8_E4M3FN, 8, 1), "float8_e4m3fn"),
            (DataType::new(DataTypeCode::FLOAT4_E2M1FN, 4, 2), "float4_e2m1fnx2"),
            (DataType::new(DataTypeCode::OPAQUE_HANDLE, 64, 1), "handle"),
            (DataType::new(DataTypeCode::OPAQUE_HANDLE, 0, 0), ""),
            (DataType::new(DataTypeCode::FLOAT, 32, (-4i16) as u16), "float32xvscalex4"),
            (DataType::new(DataTypeCode(130), 16, 1), "custom[130]"),
            (DataType::new(DataTypeCode(60), 8, 1), "unknown60"),
        ];
        for (dtype, text) in cases {
            assert_eq!(dtype.to_string(), text, "{dtype:?}");
        }
    }

    #[test]
    fn code_conversions_are_range_checked() {
        assert_eq!(DataTypeCode::try_from(17u32), Ok(DataTypeCode::FLOAT4_E2M1FN));
        assert_eq!(DataTypeCode::try_from(200u32), Ok(DataTypeCode(200)));
        assert!(DataTypeCode::try_from(256u32).is_err());
        assert!(DataTypeCode::try_from(-1i32).is_err());
    }
}
