//! Checks on tensor metadata: what every tensor is validated against before an object is
//! made for it, and the reference's contiguity and alignment predicates.
//!
//! Everything here works on copies (`&[i64]`), so a producer changing its arrays later
//! cannot invalidate a tensor that passed.

use alloc::vec::Vec;
use core::ffi::c_void;

use tvmffi_core::sys::DLTensor;
use tvmffi_core::{DataType, DataTypeCode, Device, DeviceType};

use super::scan::Scan;
use super::{MAX_NDIM, TensorError};

/// Whether the device's data pointer is a plain address, so that its value tells the
/// alignment (`IsDirectAddressDevice`). The `<=` on the raw value is the reference's.
pub(super) fn is_direct_address(device: Device) -> bool {
    let t = device.device_type();
    t.0 <= DeviceType::CUDA_HOST.0
        || t == DeviceType::CUDA_MANAGED
        || t == DeviceType::ROCM
        || t == DeviceType::ROCM_HOST
}

/// Whether host code may read the data directly.
pub(super) fn is_host_readable(device: Device) -> bool {
    matches!(device.device_type(), DeviceType::CPU | DeviceType::CUDA_HOST | DeviceType::ROCM_HOST)
}

/// `IsContiguous`: compact row-major, ignoring the strides of extent-1 axes; a tensor with
/// no elements is always contiguous.
#[inline]
pub(super) fn is_contiguous(shape: &[i64], strides: &[i64]) -> bool {
    if shape.contains(&0) {
        return true;
    }
    let mut expected: i64 = 1;
    for (&extent, &stride) in shape.iter().zip(strides).rev() {
        if extent == 1 {
            continue;
        }
        if stride != expected {
            return false;
        }
        // Validated tensors have a product that fits; a wrap only makes later axes fail.
        expected = expected.wrapping_mul(extent);
    }
    true
}

/// `IsAligned`: `data + byte_offset` (or only `byte_offset` where `data` is a handle) is a
/// multiple of `alignment`. An alignment of 0 asks for nothing.
pub(super) fn is_aligned(
    device: Device,
    data: *mut c_void,
    byte_offset: u64,
    alignment: usize,
) -> bool {
    if alignment == 0 {
        return true;
    }
    let at = if is_direct_address(device) {
        (data.addr() as u64).wrapping_add(byte_offset)
    } else {
        byte_offset
    };
    at % alignment as u64 == 0
}

/// Reject data types without storage and codes DLPack does not define (the reference's
/// `DLDataTypeToString` rejects the same codes).
pub(super) fn check_dtype(dtype: DataType) -> Result<(), TensorError> {
    let code = dtype.code();
    if code.as_str().is_none() && code.0 < DataTypeCode::CUSTOM_BEGIN.0 {
        return Err(TensorError::UnknownTypeCode(code.0));
    }
    if dtype.bits() == 0 || dtype.lanes() == 0 {
        return Err(TensorError::EmptyDataType(dtype));
    }
    Ok(())
}

/// `ndim` as a count, within `0..=MAX_NDIM`.
pub(super) fn check_ndim(ndim: i32) -> Result<usize, TensorError> {
    if ndim < 0 {
        Err(TensorError::NegativeNdim(ndim))
    } else if ndim > MAX_NDIM {
        Err(TensorError::TooManyDims(ndim))
    } else {
        Ok(ndim as usize)
    }
}

/// `FillStridesFromShape`, with overflow reported instead of wrapping.
pub(super) fn compact_strides(shape: &[i64], out: &mut [i64]) -> Result<(), TensorError> {
    let mut stride: i64 = 1;
    for (extent, slot) in shape.iter().zip(out.iter_mut()).rev() {
        *slot = stride;
        stride = stride.checked_mul(*extent).ok_or(TensorError::Overflow)?;
    }
    Ok(())
}

/// Bytes of `n` packed elements (`GetDataSize`), exact in `i128`.
pub(super) fn bytes_of(n: i128, dtype: DataType) -> i128 {
    let bits = i128::from(dtype.bits()) * i128::from(dtype.lanes());
    (n * bits).div_euclid(8) + i128::from((n * bits).rem_euclid(8) != 0)
}

/// What a validated tensor addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Extent {
    /// Product of the shape.
    pub numel: i64,
    /// First byte addressed, relative to `data + byte_offset` (negative with negative
    /// strides); 0 when there are no elements.
    pub lo: i64,
    /// One past the last byte addressed, relative to `data + byte_offset`; 0 when there
    /// are no elements.
    pub hi: i64,
}

/// Check extents and strides, and measure what they address. Every count and byte offset
/// fits an `int64_t`, so C code doing the arithmetic in `int64_t` cannot overflow either.
pub(super) fn extent(
    shape: &[i64],
    strides: &[i64],
    dtype: DataType,
) -> Result<Extent, TensorError> {
    debug_assert_eq!(shape.len(), strides.len());
    if let Some((axis, &extent)) = shape.iter().enumerate().find(|(_, e)| **e < 0) {
        return Err(TensorError::NegativeExtent { axis, extent });
    }
    if shape.contains(&0) {
        return Ok(Extent { numel: 0, lo: 0, hi: 0 });
    }
    let mut numel: i64 = 1;
    let (mut lo, mut hi) = (0i64, 0i64);
    for (&extent, &stride) in shape.iter().zip(strides) {
        numel = numel.checked_mul(extent).ok_or(TensorError::Overflow)?;
        let reach = (extent - 1).checked_mul(stride).ok_or(TensorError::Overflow)?;
        if reach < 0 {
            lo = lo.checked_add(reach).ok_or(TensorError::Overflow)?;
        } else {
            hi = hi.checked_add(reach).ok_or(TensorError::Overflow)?;
        }
    }
    in_bytes(numel, lo, hi, dtype)
}

/// The [`Extent`] of `numel` elements reaching from element `lo` to element `hi`
/// (`numel >= 0`, `lo <= 0 <= hi`).
#[inline]
fn in_bytes(numel: i64, lo: i64, hi: i64, dtype: DataType) -> Result<Extent, TensorError> {
    // Bits per element: at most 255 * 65535, below 2^24.
    let bits = i64::from(dtype.bits()) * i64::from(dtype.lanes());
    // Every tensor of a sane size: below 2^39 elements each way, the bit counts stay below
    // 2^63, so one test on all three (negative values fail it as huge ones) replaces a
    // checked product each.
    if (numel | lo.wrapping_neg() | hi.wrapping_add(1)) as u64 >> 39 == 0 {
        // `>> 3` rounds down (`div_euclid(8)`); `+ 7` then rounds the end up.
        return Ok(Extent { numel, lo: (lo * bits) >> 3, hi: ((hi + 1) * bits + 7) >> 3 });
    }
    in_bytes_wide(numel, lo, hi, dtype)
}

/// [`in_bytes`] in `i128`, where the bit counts overflow `i64`.
#[cold]
#[inline(never)]
fn in_bytes_wide(numel: i64, lo: i64, hi: i64, dtype: DataType) -> Result<Extent, TensorError> {
    // Elements fit `i64`, so these products (at most 2^63 * 2^24) fit `i128`.
    let fit = |v: i128| i64::try_from(v).map_err(|_| TensorError::Overflow);
    fit(bytes_of(i128::from(numel), dtype))?;
    let lo_bits = i128::from(lo) * i128::from(dtype.bits()) * i128::from(dtype.lanes());
    let byte_lo = fit(lo_bits.div_euclid(8))?;
    let byte_hi = fit(bytes_of(i128::from(hi) + 1, dtype))?;
    Ok(Extent { numel, lo: byte_lo, hi: byte_hi })
}

/// Validate a whole tensor: data type, extents, strides, null data, and (for plain
/// addresses) that the addressed bytes do not wrap around the address space.
pub(super) fn check_tensor(
    data: *mut c_void,
    device: Device,
    dtype: DataType,
    byte_offset: u64,
    shape: &[i64],
    strides: &[i64],
) -> Result<Extent, TensorError> {
    check_dtype(dtype)?;
    let ext = extent(shape, strides, dtype)?;
    check_placement(data, device, byte_offset, ext)
}

/// The checks after a usual [`Scan`] (`numel` elements, reaching elements `lo..=hi`), in
/// [`check_tensor`]'s order: the data type, the byte extent, the placement.
#[inline]
pub(super) fn finish(dl: &DLTensor, numel: i64, lo: i64, hi: i64) -> Result<Extent, TensorError> {
    let dtype = DataType::from_raw(dl.dtype);
    check_dtype(dtype)?;
    let ext = in_bytes(numel, lo, hi, dtype)?;
    check_placement(dl.data, Device::from_raw(dl.device), dl.byte_offset, ext)
}

/// The checks of [`check_tensor`] that follow the extent: null data, and the addressed
/// bytes fitting `int64_t` and (for plain addresses) the address space.
#[inline]
fn check_placement(
    data: *mut c_void,
    device: Device,
    byte_offset: u64,
    ext: Extent,
) -> Result<Extent, TensorError> {
    if ext.numel > 0 && data.is_null() {
        return Err(TensorError::NullData { numel: ext.numel });
    }
    // `lo <= 0 <= hi`: the last byte ends at `byte_offset + hi`, which must fit `int64_t`.
    let end = i64::try_from(byte_offset)
        .ok()
        .and_then(|offset| offset.checked_add(ext.hi))
        .ok_or(TensorError::Overflow)?;
    if ext.numel > 0 && is_direct_address(device) {
        // The bytes `[data + offset + lo, data + end)` lie in the address space.
        let addr = data.addr() as u128;
        let start = end - ext.hi + ext.lo; // `offset + lo`: no overflow, `offset >= 0 >= lo`
        if addr < u128::from(start.min(0).unsigned_abs())
            || addr + end as u128 > usize::MAX as u128 + 1
        {
            return Err(TensorError::Overflow);
        }
    }
    Ok(ext)
}

/// Dimensions kept inline by [`Dims`]; tensors with more go to the heap. Six covers
/// nearly every tensor in practice, and keeps `Dims` at 128 bytes of stack.
const INLINE_NDIM: usize = 6;

/// A tensor's extents then its strides, copied and checked.
///
/// Up to [`INLINE_NDIM`] dimensions live on the stack: every import, export and conversion
/// of a tensor checks its metadata, and an allocation there used to cost more than the
/// rest of the import (see `bench/`).
pub(super) struct Dims {
    buf: DimsBuf,
    pub extent: Extent,
}

/// The storage of [`Dims`]: `2 * ndim` values, extents first.
enum DimsBuf {
    Inline { ndim: usize, values: [i64; 2 * INLINE_NDIM] },
    Heap(Vec<i64>),
}

impl DimsBuf {
    /// `2 * ndim` zeros.
    fn zeroed(ndim: usize) -> Self {
        if ndim <= INLINE_NDIM {
            Self::Inline { ndim, values: [0; 2 * INLINE_NDIM] }
        } else {
            Self::Heap(alloc::vec![0; 2 * ndim])
        }
    }

    fn as_slice(&self) -> &[i64] {
        match self {
            Self::Inline { ndim, values } => values.get(..2 * ndim).unwrap_or(&[]),
            Self::Heap(v) => v,
        }
    }

    fn as_mut_slice(&mut self) -> &mut [i64] {
        match self {
            Self::Inline { ndim, values } => values.get_mut(..2 * *ndim).unwrap_or(&mut []),
            Self::Heap(v) => v,
        }
    }
}

impl Dims {
    /// The extents.
    pub fn shape(&self) -> &[i64] {
        let all = self.buf.as_slice();
        &all[..all.len() / 2]
    }

    /// The strides.
    pub fn strides(&self) -> &[i64] {
        let all = self.buf.as_slice();
        &all[all.len() / 2..]
    }

    /// Copy `shape` and `strides` (compact row-major when `None`) and check the tensor.
    pub fn new(dl: &DLTensor, shape: &[i64], strides: Option<&[i64]>) -> Result<Self, TensorError> {
        let ndim = shape.len();
        if let Some(s) = strides.filter(|s| s.len() != ndim) {
            return Err(TensorError::StridesLength { shape: ndim, strides: s.len() });
        }
        // Built in place and returned once: moving it around costs more than checking it.
        let mut dims = Self::zeroed(ndim);
        let (shape_out, strides_out) = dims.buf.as_mut_slice().split_at_mut(ndim);
        shape_out.copy_from_slice(shape);
        match strides {
            Some(s) => strides_out.copy_from_slice(s),
            None => compact_strides(shape_out, strides_out)?,
        }
        dims.extent = dims.check(dl)?;
        Ok(dims)
    }

    #[inline]
    fn zeroed(ndim: usize) -> Self {
        Self { buf: DimsBuf::zeroed(ndim), extent: Extent { numel: 0, lo: 0, hi: 0 } }
    }

    /// Check `dl`'s data, device, dtype and byte offset against these dimensions.
    fn check(&self, dl: &DLTensor) -> Result<Extent, TensorError> {
        let scan = Scan::of(self.shape(), self.strides());
        if let Some((numel, lo, hi)) = scan.usual() {
            return finish(dl, numel, lo, hi);
        }
        check_tensor(
            dl.data,
            Device::from_raw(dl.device),
            DataType::from_raw(dl.dtype),
            dl.byte_offset,
            self.shape(),
            self.strides(),
        )
    }

    /// Copy and check the arrays of a C `DLTensor`.
    ///
    /// # Safety
    ///
    /// Where `dl.ndim` is in `1..=MAX_NDIM` and `dl.shape` (or `dl.strides`) is not null,
    /// it is readable for `ndim` values (no alignment needed).
    #[inline]
    pub unsafe fn read(dl: &DLTensor) -> Result<Self, TensorError> {
        let ndim = check_ndim(dl.ndim)?;
        if ndim > 0 && dl.shape.is_null() {
            return Err(TensorError::NullShape { ndim: dl.ndim });
        }
        let mut dims = Self::zeroed(ndim);
        let (shape, strides) = dims.buf.as_mut_slice().split_at_mut(ndim);
        let copy = |p: *const i64, out: &mut [i64]| {
            for (i, slot) in out.iter_mut().enumerate() {
                // SAFETY: non-null arrays are readable for `ndim` values (caller).
                *slot = unsafe { p.add(i).read_unaligned() };
            }
        };
        copy(dl.shape, shape);
        if dl.strides.is_null() || ndim == 0 {
            compact_strides(shape, strides)?;
        } else {
            copy(dl.strides, strides);
        }
        dims.extent = dims.check(dl)?;
        Ok(dims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contiguity_follows_the_reference() {
        assert!(is_contiguous(&[2, 3], &[3, 1]));
        assert!(!is_contiguous(&[2, 3], &[1, 2]));
        assert!(is_contiguous(&[1, 3], &[99, 1]), "extent-1 strides are ignored");
        assert!(is_contiguous(&[4, 0, 4], &[0, 0, 0]), "empty tensors are contiguous");
        assert!(is_contiguous(&[], &[]));
        assert!(!is_contiguous(&[2, 2], &[2, 2]));
    }

    #[test]
    fn alignment_uses_the_address_only_on_direct_devices() {
        let p = core::ptr::without_provenance_mut::<c_void>(64);
        assert!(is_aligned(Device::CPU, p, 0, 64));
        assert!(!is_aligned(Device::CPU, p, 4, 64));
        assert!(is_aligned(Device::CPU, p, 4, 4));
        assert!(is_aligned(Device::CPU, p, 4, 0));
        let opencl = Device::new(DeviceType::OPENCL, 0);
        let odd = core::ptr::without_provenance_mut::<c_void>(3);
        assert!(is_aligned(opencl, odd, 128, 64), "a handle's value says nothing");
        assert!(!is_aligned(opencl, odd, 8, 64));
        assert!(is_direct_address(Device::new(DeviceType::CUDA_MANAGED, 0)));
        assert!(!is_direct_address(Device::new(DeviceType::VULKAN, 0)));
    }

    #[test]
    fn extents_measure_and_overflow() {
        let f32 = DataType::F32;
        assert_eq!(extent(&[2, 3], &[3, 1], f32), Ok(Extent { numel: 6, lo: 0, hi: 24 }));
        assert_eq!(extent(&[3, 2], &[1, 3], f32), Ok(Extent { numel: 6, lo: 0, hi: 24 }));
        assert_eq!(extent(&[3], &[-2], f32), Ok(Extent { numel: 3, lo: -16, hi: 4 }));
        assert_eq!(extent(&[], &[], f32), Ok(Extent { numel: 1, lo: 0, hi: 4 }));
        assert_eq!(extent(&[4, 0], &[1, 1], f32), Ok(Extent { numel: 0, lo: 0, hi: 0 }));
        let nibble = DataType::new(DataTypeCode::FLOAT4_E2M1FN, 4, 1);
        assert_eq!(extent(&[3], &[1], nibble), Ok(Extent { numel: 3, lo: 0, hi: 2 }));
        assert_eq!(extent(&[4], &[-1], nibble), Ok(Extent { numel: 4, lo: -2, hi: 1 }));
        assert_eq!(
            extent(&[2, -1], &[1, 1], f32),
            Err(TensorError::NegativeExtent { axis: 1, extent: -1 })
        );
        assert_eq!(extent(&[1 << 32, 1 << 32], &[1, 1], f32), Err(TensorError::Overflow));
        assert_eq!(extent(&[3], &[i64::MAX], f32), Err(TensorError::Overflow));
        assert_eq!(extent(&[1 << 62], &[1], f32), Err(TensorError::Overflow), "bytes overflow");
        // a broadcast (stride 0) addresses one element but still counts them all
        assert_eq!(extent(&[1 << 40], &[0], f32), Ok(Extent { numel: 1 << 40, lo: 0, hi: 4 }));
    }

    #[test]
    fn placement_agrees_with_wide_arithmetic() {
        // The definition, in i128.
        let wide = |addr: usize, offset: u64, ext: Extent| {
            let offset = i128::from(offset);
            if offset + i128::from(ext.hi) > i128::from(i64::MAX) {
                return Err(TensorError::Overflow);
            }
            let base = addr as i128 + offset;
            if ext.numel > 0
                && (base + i128::from(ext.lo) < 0
                    || base + i128::from(ext.hi) > usize::MAX as i128 + 1)
            {
                return Err(TensorError::Overflow);
            }
            Ok(ext)
        };
        let addrs = [1usize, 64, 1 << 20, usize::MAX / 2, usize::MAX - 64, usize::MAX];
        let offsets = [0u64, 4, 1 << 40, i64::MAX as u64 - 8, i64::MAX as u64, u64::MAX];
        let extents =
            [(0, 0), (0, 4), (-16, 4), (-(1 << 40), 1 << 40), (i64::MIN, 8), (0, i64::MAX)];
        for addr in addrs {
            for offset in offsets {
                for (lo, hi) in extents {
                    let ext = Extent { numel: 1, lo, hi };
                    let p = core::ptr::without_provenance_mut::<c_void>(addr);
                    assert_eq!(
                        check_placement(p, Device::CPU, offset, ext),
                        wide(addr, offset, ext),
                        "{addr:#x} {offset:#x} {lo} {hi}"
                    );
                }
            }
        }
    }

    #[test]
    fn compact_strides_overflow_is_an_error() {
        let mut out = [0; 3];
        compact_strides(&[2, 3, 4], &mut out).unwrap();
        assert_eq!(out, [12, 4, 1]);
        let mut out = [0; 3];
        assert_eq!(compact_strides(&[0, 1 << 40, 1 << 40], &mut out), Err(TensorError::Overflow));
    }

    #[test]
    fn dtypes_need_a_known_code_and_storage() {
        assert_eq!(check_dtype(DataType::F32), Ok(()));
        assert_eq!(check_dtype(DataType::new(DataTypeCode(130), 8, 1)), Ok(()));
        assert_eq!(
            check_dtype(DataType::new(DataTypeCode(60), 8, 1)),
            Err(TensorError::UnknownTypeCode(60))
        );
        let void = DataType::new(DataTypeCode::OPAQUE_HANDLE, 0, 0);
        assert_eq!(check_dtype(void), Err(TensorError::EmptyDataType(void)));
        assert!(check_dtype(DataType::F32.with_lanes(0)).is_err());
    }

    #[test]
    fn in_bytes_agrees_with_wide_arithmetic() {
        let dtypes = [
            DataType::F32,
            DataType::new(DataTypeCode::FLOAT4_E2M1FN, 4, 1),
            DataType::new(DataTypeCode::UINT, 1, 3),
            DataType::new(DataTypeCode::UINT, 255, 65535),
        ];
        let edge =
            [0, 1, 7, (1 << 39) - 2, (1 << 39) - 1, 1 << 39, 1 << 50, i64::MAX - 1, i64::MAX];
        for dtype in dtypes {
            for numel in edge.into_iter().filter(|&n| n > 0) {
                for lo in edge.map(|v| -v).into_iter().chain([i64::MIN]) {
                    for hi in edge {
                        assert_eq!(
                            in_bytes(numel, lo, hi, dtype),
                            in_bytes_wide(numel, lo, hi, dtype),
                            "{numel} {lo} {hi} {dtype:?}"
                        );
                    }
                }
            }
        }
    }
}
