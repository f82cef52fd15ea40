//! The one-pass check of a tensor's extents and strides, on the path of every import and
//! of every tensor argument from C: each value is read once (and, on import, copied in the
//! same pass), and the usual tensor is decided without a branch per axis. A scan that
//! meets anything unusual (an extent of 0 or less, a product or sum that overflows) leaves
//! the verdict to the careful checks of [`Dims::read`], which name the error.

use core::ptr::null_mut;

use tvmffi_core::sys::DLTensor;

use super::TensorError;
use super::check::{Dims, Extent, check_ndim, finish};

/// What a scan of the extents and strides found: the element count and the lowest and
/// highest element reached (relative to the first), or `None` where something was unusual.
///
/// Where it answers, [`extent`](super::check::extent) agrees: the partial products and sums
/// only grow in magnitude, so whether one overflows does not depend on the order of the
/// axes.
#[derive(Clone, Copy)]
pub(super) struct Scan(Option<(i64, i64, i64)>);

/// One axis of a scan.
#[inline(always)]
fn step((numel, lo, hi): (i64, i64, i64), extent: i64, stride: i64) -> Option<(i64, i64, i64)> {
    if extent <= 0 {
        return None;
    }
    let numel = numel.checked_mul(extent)?;
    let reach = (extent - 1).checked_mul(stride)?;
    Some(if reach < 0 {
        (numel, lo.checked_add(reach)?, hi)
    } else {
        (numel, lo, hi.checked_add(reach)?)
    })
}

/// The scan of compact row-major strides, from the last axis, one extent at a time: the
/// stride of each axis is the element count of the axes after it, so the reaches add up
/// to `numel - 1` (none negative), and none of them or their sum can overflow where the
/// count does not. Only the count is kept; [`compact_scan`] makes the [`Scan`].
#[inline(always)]
fn compact_step(numel: i64, extent: i64) -> Option<i64> {
    if extent <= 0 { None } else { numel.checked_mul(extent) }
}

/// The [`Scan`] of compact strides whose element count is `numel` (`None`: unusual).
#[inline(always)]
fn compact_scan(numel: Option<i64>) -> Scan {
    Scan(numel.map(|n| (n, 0, n - 1)))
}

impl Scan {
    /// An unusual scan, which leaves every check to [`Dims::read`].
    pub const UNUSUAL: Self = Self(None);

    /// Scan a whole tensor's arrays (`shape.len() == strides.len()`).
    #[inline]
    pub fn of(shape: &[i64], strides: &[i64]) -> Self {
        Self(shape.iter().zip(strides).try_fold((1, 0, 0), |acc, (&e, &s)| step(acc, e, s)))
    }

    /// The element count and the lowest and highest element reached, unless something was
    /// unusual.
    #[inline]
    pub fn usual(self) -> Option<(i64, i64, i64)> {
        self.0
    }

    /// Check the rest of `dl` against the scanned arrays ([`finish`]), or, where the scan
    /// found something unusual, leave the verdict to [`Dims::read`] on `dl`'s arrays (on
    /// its extents alone, with compact strides, where `compact`).
    ///
    /// # Safety
    ///
    /// The scan is of `dl`'s arrays (the values they hold now); they are readable as
    /// [`Dims::read`] needs.
    #[inline]
    pub unsafe fn verdict(self, dl: &DLTensor, compact: bool) -> Result<Extent, TensorError> {
        match self.0 {
            Some((numel, lo, hi)) => finish(dl, numel, lo, hi),
            // SAFETY: forwarded.
            None => unsafe { carefully(dl, compact) },
        }
    }
}

/// [`Scan::verdict`] for an unusual tensor: out of line, as its buffer would otherwise
/// enlarge every check's stack frame.
///
/// # Safety
///
/// As [`Scan::verdict`].
#[cold]
#[inline(never)]
unsafe fn carefully(dl: &DLTensor, compact: bool) -> Result<Extent, TensorError> {
    let dl = DLTensor { strides: if compact { null_mut() } else { dl.strides }, ..*dl };
    // SAFETY: forwarded.
    unsafe { Dims::read(&dl) }.map(|dims| dims.extent)
}

/// Copy a producer's extents, and its strides or compact row-major ones where it has none,
/// into `shape` and `strides`, and scan the copy in the same pass: each value is read
/// from the producer once, so the scan is of exactly what was copied. Where the scan
/// meets something unusual, the arrays are copied again in full ([`copy_all`]) and the
/// scan is unusual: it is then of the values [`Scan::verdict`] reads back.
///
/// # Safety
///
/// `ndim` is `dl.ndim`, checked; when it is above 0, `dl.shape` (and `dl.strides` if not
/// null) is readable for `ndim` values (no alignment needed), and `shape` and `strides` are
/// writable for `ndim` values.
#[inline(always)]
pub(super) unsafe fn copy_and_scan(
    dl: &DLTensor,
    ndim: usize,
    shape: *mut i64,
    strides: *mut i64,
) -> Scan {
    if dl.strides.is_null() {
        let mut numel = 1i64;
        for i in (0..ndim).rev() {
            // SAFETY: `i < ndim`: readable in the producer's array, writable in ours.
            let e = unsafe { dl.shape.add(i).read_unaligned() };
            // SAFETY: as above.
            unsafe { (shape.add(i).write(e), strides.add(i).write(numel)) };
            match compact_step(numel, e) {
                Some(n) => numel = n,
                // SAFETY: forwarded.
                None => return unsafe { copy_all(dl, ndim, shape, strides) },
            }
        }
        compact_scan(Some(numel))
    } else {
        let mut acc = (1, 0, 0);
        for i in 0..ndim {
            // SAFETY: `i < ndim`: readable in the producer's arrays, writable in ours.
            let (e, s) =
                unsafe { (dl.shape.add(i).read_unaligned(), dl.strides.add(i).read_unaligned()) };
            // SAFETY: as above.
            unsafe { (shape.add(i).write(e), strides.add(i).write(s)) };
            match step(acc, e, s) {
                Some(next) => acc = next,
                // SAFETY: forwarded.
                None => return unsafe { copy_all(dl, ndim, shape, strides) },
            }
        }
        Scan(Some(acc))
    }
}

/// [`copy_and_scan`] for an unusual tensor: copy everything, computing compact strides
/// wrapping (where they overflow, the careful check reports it, computing them checked),
/// and answer an unusual scan.
///
/// # Safety
///
/// As [`copy_and_scan`].
#[cold]
#[inline(never)]
unsafe fn copy_all(dl: &DLTensor, ndim: usize, shape: *mut i64, strides: *mut i64) -> Scan {
    let mut compact = 1i64;
    for i in (0..ndim).rev() {
        // SAFETY: `i < ndim`: readable in the producer's arrays, writable in ours.
        unsafe {
            let e = dl.shape.add(i).read_unaligned();
            let s = if dl.strides.is_null() { compact } else { dl.strides.add(i).read_unaligned() };
            shape.add(i).write(e);
            strides.add(i).write(s);
            compact = compact.wrapping_mul(e);
        }
    }
    Scan::UNUSUAL
}

/// Check the arrays of a C `DLTensor` where they are, without copying them: the same
/// verdict as [`Dims::read`], in one pass for the usual tensor.
///
/// Every tensor argument of a Rust kernel is checked here (`Tensor::from_object`), so
/// this is on the path of each call from Python (see `bench/`).
///
/// # Safety
///
/// As [`Dims::read`].
#[inline]
pub(super) unsafe fn check_in_place(dl: &DLTensor) -> Result<(), TensorError> {
    let ndim = check_ndim(dl.ndim)?;
    if ndim > 0 && dl.shape.is_null() {
        return Err(TensorError::NullShape { ndim: dl.ndim });
    }
    let scan = if dl.strides.is_null() {
        // SAFETY: `i < ndim`; a non-null shape is readable for `ndim` values (caller).
        let extent = |i: usize| unsafe { dl.shape.add(i).read_unaligned() };
        compact_scan((0..ndim).rev().try_fold(1, |numel, i| compact_step(numel, extent(i))))
    } else {
        // SAFETY: as above, for both arrays.
        let axis = |i: usize| unsafe {
            (dl.shape.add(i).read_unaligned(), dl.strides.add(i).read_unaligned())
        };
        Scan((0..ndim).try_fold((1, 0, 0), |acc, i| {
            let (e, s) = axis(i);
            step(acc, e, s)
        }))
    };
    // SAFETY: the scan is of `dl`'s arrays, readable (caller); `Dims::read` itself takes
    // null strides as compact ones.
    unsafe { scan.verdict(dl, false) }.map(drop)
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;
    use core::ffi::c_void;

    use tvmffi_core::{DataType, DataTypeCode, Device};

    use super::*;

    /// Every combination of some usual and unusual extents, strides, dtypes and data.
    fn each_tensor(mut f: impl FnMut(&DLTensor)) {
        let mut data = [0u8; 64];
        let shapes: [&[i64]; 12] = [
            &[],
            &[4],
            &[2, 3],
            &[0, 5],
            &[3, -1],
            &[1 << 40, 1 << 40],
            &[1 << 62],
            &[7, 1, 9],
            &[i64::MAX, 2],
            &[0, 1 << 40, 1 << 40],
            &[1 << 31, 1 << 31, 4],
            &[-1, 1 << 40, 1 << 40],
        ];
        let strides: [Option<&[i64]>; 5] = [
            None,
            Some(&[1, 1, 1]),
            Some(&[-2, 5, i64::MAX]),
            Some(&[0, 0, 0]),
            Some(&[i64::MIN, -1, 1 << 40]),
        ];
        let dtypes = [
            DataType::F32,
            DataType::new(DataTypeCode(60), 8, 1),
            DataType::new(DataTypeCode::FLOAT4_E2M1FN, 4, 1),
            DataType::new(DataTypeCode::UINT, 255, 65535),
        ];
        for shape in shapes {
            for s in strides {
                for dtype in dtypes {
                    for data in [data.as_mut_ptr().cast::<c_void>(), core::ptr::null_mut()] {
                        let mut shape_v = shape.to_vec();
                        let mut strides_v = s.map(|s| s[..shape.len().min(s.len())].to_vec());
                        if strides_v.as_ref().is_some_and(|v| v.len() != shape.len()) {
                            continue;
                        }
                        f(&DLTensor {
                            data,
                            device: Device::CPU.as_raw(),
                            ndim: shape.len() as i32,
                            dtype: dtype.as_raw(),
                            shape: shape_v.as_mut_ptr(),
                            strides: strides_v.as_mut().map_or(null_mut(), |v| v.as_mut_ptr()),
                            byte_offset: 0,
                        });
                    }
                }
            }
        }
    }

    #[test]
    fn in_place_check_agrees_with_the_copying_one() {
        each_tensor(|dl| {
            // SAFETY: the arrays hold `ndim` values.
            let (copied, in_place) = unsafe { (Dims::read(dl).map(drop), check_in_place(dl)) };
            assert_eq!(copied, in_place, "{dl:?}");
        });
    }

    #[test]
    fn copy_and_scan_copies_and_agrees_with_the_copying_check() {
        each_tensor(|dl| {
            let ndim = dl.ndim as usize;
            let (mut shape, mut strides) = (Vec::from_iter(0..ndim as i64), alloc::vec![0; ndim]);
            // SAFETY: the arrays hold `ndim` values; ours are writable for as many.
            let scan = unsafe { copy_and_scan(dl, ndim, shape.as_mut_ptr(), strides.as_mut_ptr()) };
            let copy = DLTensor { shape: shape.as_mut_ptr(), strides: strides.as_mut_ptr(), ..*dl };
            // SAFETY: as above.
            let (expected, got) =
                unsafe { (Dims::read(dl), scan.verdict(&copy, dl.strides.is_null())) };
            assert_eq!(expected.as_ref().map(|d| d.extent).map_err(|e| *e), got, "{dl:?}");
            if let Ok(dims) = expected {
                assert_eq!((dims.shape(), dims.strides()), (&shape[..], &strides[..]), "{dl:?}");
            }
        });
    }
}
