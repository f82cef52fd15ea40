//! Host data as Rust slices: [`Element`] types and the checked [`TensorView::as_slice`]
//! (and [`Tensor::as_slice`]).

use tvmffi_core::DataType;

use super::check::is_host_readable;
use super::{Tensor, TensorError, TensorView};

mod sealed {
    pub trait Sealed {}
}

/// A Rust type that is a tensor element: every bit pattern is a valid value, and
/// [`DTYPE`](Self::DTYPE) is its DLPack type. Sealed: implemented for the fixed-width
/// integers and `f32`/`f64`.
///
/// `bool` is not one (DLPack `bool` bytes other than 0 and 1 would be undefined behaviour
/// as a Rust `bool`); read such data as `u8` through [`Tensor::data_ptr`].
pub trait Element: sealed::Sealed + Copy + 'static {
    /// The DLPack data type of this element.
    const DTYPE: DataType;
}

macro_rules! element {
    ($($t:ty => $d:expr),* $(,)?) => {$(
        impl sealed::Sealed for $t {}
        impl Element for $t {
            const DTYPE: DataType = $d;
        }
    )*};
}

element! {
    i8 => DataType::I8, i16 => DataType::I16, i32 => DataType::I32, i64 => DataType::I64,
    u8 => DataType::U8, u16 => DataType::U16, u32 => DataType::U32, u64 => DataType::U64,
    f32 => DataType::F32, f64 => DataType::F64,
}

impl<'a> TensorView<'a> {
    /// The elements in row-major order, for a contiguous tensor in host memory whose dtype
    /// is `T`'s.
    ///
    /// Errors: [`NotHostAccessible`](TensorError::NotHostAccessible) (other than CPU, CUDA
    /// host and ROCm host memory), [`DataTypeMismatch`](TensorError::DataTypeMismatch),
    /// [`NotContiguous`](TensorError::NotContiguous), [`NotAligned`](TensorError::NotAligned)
    /// (`data + byte_offset` misaligned for `T`), [`Overflow`](TensorError::Overflow) (more
    /// than `isize::MAX` bytes).
    ///
    /// Tensors are shared buffers: the slice relies on no one writing the data while it is
    /// borrowed. Safe Rust cannot (writes need [`as_mut_slice`](Self::as_mut_slice) or raw
    /// pointers); C code given the tensor must not race with Rust readers.
    pub fn as_slice<T: Element>(&self) -> Result<&'a [T], TensorError> {
        let (ptr, len) = self.host_elements::<T>()?;
        if len == 0 {
            return Ok(&[]);
        }
        // SAFETY: `host_elements` checked that `ptr` is non-null, aligned for `T` and the
        // start of `len` compact elements of `T`'s dtype in host memory, within `isize`;
        // every bit pattern is a `T`, and the tensor keeps the memory alive and (shared
        // buffer contract above) unwritten for `'a`.
        Ok(unsafe { core::slice::from_raw_parts(ptr.cast::<T>(), len) })
    }

    /// The elements as a mutable slice; checked as [`as_slice`](Self::as_slice).
    ///
    /// # Safety
    ///
    /// Nothing else reads or writes the data while the slice lives: no other slice from
    /// this tensor, its clones, views or DLPack exports, and no C code holding them.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn as_mut_slice<T: Element>(&self) -> Result<&'a mut [T], TensorError> {
        let (ptr, len) = self.host_elements::<T>()?;
        if len == 0 {
            return Ok(&mut []);
        }
        // SAFETY: as in `as_slice`, and the caller guarantees exclusive access.
        Ok(unsafe { core::slice::from_raw_parts_mut(ptr.cast::<T>(), len) })
    }

    /// The address of the first element and the element count, checked for reading the
    /// data as a `[T]`.
    #[inline]
    fn host_elements<T: Element>(&self) -> Result<(*mut u8, usize), TensorError> {
        let device = self.device();
        if !is_host_readable(device) {
            return Err(TensorError::NotHostAccessible(device));
        }
        if self.dtype() != T::DTYPE {
            return Err(TensorError::DataTypeMismatch { expected: T::DTYPE, actual: self.dtype() });
        }
        let (numel, contiguous) = self.numel_and_contiguity();
        if !contiguous {
            return Err(TensorError::NotContiguous);
        }
        let len = usize::try_from(numel).map_err(|_| TensorError::Overflow)?;
        if len == 0 {
            return Ok((core::ptr::null_mut(), 0));
        }
        if len.checked_mul(size_of::<T>()).is_none_or(|b| b > isize::MAX as usize) {
            return Err(TensorError::Overflow);
        }
        let offset = usize::try_from(self.byte_offset()).map_err(|_| TensorError::Overflow)?;
        // Checked on entry not to leave the address space; `wrapping` needs no more.
        let ptr = self.data_ptr().cast::<u8>().wrapping_add(offset);
        if !ptr.cast::<T>().is_aligned() {
            return Err(TensorError::NotAligned(align_of::<T>()));
        }
        Ok((ptr, len))
    }

    /// [`numel`](Self::numel) and [`is_contiguous`](Self::is_contiguous) in one pass over
    /// the extents and strides, for the slice accessors on every kernel call.
    #[inline]
    fn numel_and_contiguity(&self) -> (i64, bool) {
        let shape = self.shape();
        let dl = self.dl;
        let (mut numel, mut expected, mut compact) = (1i64, 1i64, true);
        for (i, &extent) in shape.iter().enumerate().rev() {
            if !dl.strides.is_null() && extent != 1 {
                // SAFETY: checked on entry: non-null `strides` are aligned and hold `ndim`
                // values, and `i < ndim`.
                compact &= unsafe { dl.strides.add(i).read() } == expected;
            }
            // Checked on entry to fit `i64`; a wrap only happens past a 0 extent.
            expected = expected.wrapping_mul(extent);
            numel = numel.wrapping_mul(extent);
        }
        // A tensor without elements is contiguous whatever its strides (`IsContiguous`).
        (numel, compact || numel == 0)
    }
}

impl Tensor {
    /// The elements in row-major order; see [`TensorView::as_slice`].
    #[inline]
    pub fn as_slice<T: Element>(&self) -> Result<&[T], TensorError> {
        self.view().as_slice()
    }

    /// The elements as a mutable slice; see [`TensorView::as_mut_slice`].
    ///
    /// # Safety
    ///
    /// As [`TensorView::as_mut_slice`].
    #[allow(clippy::mut_from_ref)]
    #[inline]
    pub unsafe fn as_mut_slice<T: Element>(&self) -> Result<&mut [T], TensorError> {
        // SAFETY: the caller's promise.
        unsafe { self.view().as_mut_slice() }
    }
}
