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
