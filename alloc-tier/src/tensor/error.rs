//! [`TensorError`]: why a tensor could not be made, imported or read.

use core::fmt;

use tvmffi_core::{DataType, Device};

/// Why a tensor operation failed.
///
/// `Display` uses the reference's message where it has one (`FromDLPack: Tensor is not
/// contiguous.`); [`kind`](Self::kind) names the reference's error class for it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum TensorError {
    /// The managed tensor pointer is null.
    NullManagedTensor,
    /// A `DLManagedTensorVersioned` of a DLPack major version other than 1: its layout is
    /// unknown, so nothing but its deleter may be touched.
    UnsupportedVersion {
        /// Major version the producer wrote.
        major: u32,
        /// Minor version the producer wrote.
        minor: u32,
    },
    /// `ndim` is negative.
    NegativeNdim(i32),
    /// `ndim` is above [`MAX_NDIM`](super::MAX_NDIM).
    TooManyDims(i32),
    /// `shape` is null while `ndim > 0`.
    NullShape {
        /// The tensor's `ndim`.
        ndim: i32,
    },
    /// A tensor object's `shape` or `strides` pointer is not aligned for `int64_t`.
    UnalignedDims,
    /// An extent is negative.
    NegativeExtent {
        /// The axis.
        axis: usize,
        /// The extent there.
        extent: i64,
    },
    /// `data` is null but the tensor has elements.
    NullData {
        /// The element count.
        numel: i64,
    },
    /// The element count, a stride product or the byte extent overflows `int64_t` or the
    /// address space.
    Overflow,
    /// A type code DLPack does not define (below the custom range, which starts at 129).
    UnknownTypeCode(u8),
    /// A data type with zero bits or zero lanes.
    EmptyDataType(DataType),
    /// `data + byte_offset` is not a multiple of the required alignment.
    NotAligned(usize),
    /// The tensor is not compact row-major, and contiguity was required.
    NotContiguous,
    /// `DLPACK_FLAG_BITMASK_IS_SUBBYTE_TYPE_PADDED` is set.
    SubbytePadded,
    /// `shape` and `strides` have different lengths.
    StridesLength {
        /// Extents given.
        shape: usize,
        /// Strides given.
        strides: usize,
    },
    /// A view's element offset is negative.
    NegativeOffset(i64),
    /// A view would reach memory outside the tensor it views.
    ViewOutOfBounds,
    /// Memory can only be allocated here on the CPU.
    UnsupportedDevice(Device),
    /// The allocator returned null.
    AllocFailed {
        /// Bytes asked for.
        bytes: usize,
    },
    /// The data is not readable from the host (`as_slice` on a device tensor).
    NotHostAccessible(Device),
    /// The element type asked for is not the tensor's.
    DataTypeMismatch {
        /// The type asked for.
        expected: DataType,
        /// The tensor's type.
        actual: DataType,
    },
    /// A slice's length differs from the tensor's element count.
    LengthMismatch {
        /// The element count of the shape.
        numel: i64,
        /// The slice's length.
        len: usize,
    },
}

impl TensorError {
    /// The reference's error class for this error: `RuntimeError` for the DLPack import
    /// checks (as `Tensor::FromDLPack` throws), `ValueError` for bad metadata.
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::NotAligned(_)
            | Self::NotContiguous
            | Self::SubbytePadded
            | Self::AllocFailed { .. }
            | Self::NotHostAccessible(_) => "RuntimeError",
            Self::DataTypeMismatch { .. } => "TypeError",
            Self::ViewOutOfBounds => "IndexError",
            _ => "ValueError",
        }
    }
}

impl fmt::Display for TensorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::NullManagedTensor => f.write_str("FromDLPack: the managed tensor is null"),
            Self::UnsupportedVersion { major, minor } => write!(
                f,
                "FromDLPack: DLPack version {major}.{minor} is not supported (major version must \
                 be {})",
                tvmffi_core::sys::DLPACK_MAJOR_VERSION
            ),
            Self::NegativeNdim(n) => write!(f, "Tensor ndim must not be negative, got {n}"),
            Self::TooManyDims(n) => {
                write!(f, "Tensor ndim {n} exceeds the supported maximum {}", super::MAX_NDIM)
            }
            Self::NullShape { ndim } => write!(f, "Tensor shape is null but ndim is {ndim}"),
            Self::UnalignedDims => {
                f.write_str("Tensor shape or strides pointer is not aligned for int64_t")
            }
            Self::NegativeExtent { axis, extent } => {
                write!(f, "Tensor shape[{axis}] = {extent} is negative")
            }
            Self::NullData { numel } => {
                write!(f, "Tensor data is null but the tensor has {numel} elements")
            }
            Self::Overflow => f.write_str("Tensor size or byte extent overflows"),
            Self::UnknownTypeCode(code) => {
                write!(f, "DLDataType contains unknown type_code={code}")
            }
            Self::EmptyDataType(d) => write!(
                f,
                "DLDataType code={} bits={} lanes={} has no storage: bits and lanes must be \
                 non-zero",
                d.code().0,
                d.bits(),
                d.lanes()
            ),
            Self::NotAligned(n) => write!(f, "FromDLPack: Data is not aligned to {n} bytes."),
            Self::NotContiguous => f.write_str("FromDLPack: Tensor is not contiguous."),
            Self::SubbytePadded => f.write_str("Subbyte type padded is not yet supported"),
            Self::StridesLength { .. } => f.write_str("shape and strides must have the same size."),
            Self::NegativeOffset(o) => {
                write!(f, "Tensor view element offset must not be negative, got {o}")
            }
            Self::ViewOutOfBounds => {
                f.write_str("Tensor view reaches memory outside the tensor it views")
            }
            Self::UnsupportedDevice(d) => write!(
                f,
                "Cannot allocate a tensor on device type {} id {}: only CPU memory can be \
                 allocated here",
                d.device_type().0,
                d.device_id()
            ),
            Self::AllocFailed { bytes } => {
                write!(f, "Failed to allocate {bytes} bytes for a tensor")
            }
            Self::NotHostAccessible(d) => write!(
                f,
                "Tensor data on device type {} id {} is not readable from the host",
                d.device_type().0,
                d.device_id()
            ),
            Self::DataTypeMismatch { expected, actual } => {
                write!(f, "Tensor has dtype {actual}, not {expected}")
            }
            Self::LengthMismatch { numel, len } => {
                write!(f, "Tensor has {numel} elements but the slice has {len}")
            }
        }
    }
}

impl core::error::Error for TensorError {}
