//! [`TensorView`]: a tensor borrowed for a call, the reference's `tvm::ffi::TensorView`, and
//! the accessors that [`Tensor`] shares with it.

use alloc::borrow::Cow;
use core::ffi::c_void;
use core::fmt;
use core::ptr::NonNull;

use tvmffi_core::error::ConversionErrorKind;
use tvmffi_core::sys::{DLTensor, TVMFFIObject};
use tvmffi_core::{
    AnyView, ConversionError, DataType, Device, FromAnyView, Object, ObjectRef, TypeIndex,
};

use super::{Tensor, TensorError, TensorObj, check, check_foreign};

/// A tensor borrowed for as long as `'a`: a checked `DLTensor`, in a tensor object or not,
/// with no reference counted. The argument type the reference recommends for kernels
/// (`TensorView`), which callers pass as a `DLTensor*` or as a tensor object.
///
/// It is checked on entry as a [`Tensor`] is and has the same accessors (a [`Tensor`]'s are
/// its view's, [`Tensor::view`]); [`to_tensor`](Self::to_tensor) takes a reference when it is
/// an object.
///
/// ```
/// use tvmffi_alloc::tensor::{Tensor, TensorView};
/// use tvmffi_core::{AnyView, TypeIndex};
///
/// let t = Tensor::from_slice(&[3], &[1f32, 2., 3.]).unwrap();
/// // How C++ passes a `TensorView`: a `DLTensor*`.
/// let arg = t.as_dltensor_view();
/// assert_eq!(arg.type_index(), TypeIndex::DL_TENSOR_PTR);
/// let view: TensorView<'_> = arg.get().unwrap();
/// assert_eq!(view.as_slice::<f32>().unwrap(), &[1., 2., 3.]);
/// assert!(view.to_tensor().is_none(), "a bare DLTensor* has no object to share");
/// // A tensor object is taken as it is.
/// let view: TensorView<'_> = AnyView::from(&t).get().unwrap();
/// assert!(view.to_tensor().unwrap().ptr_eq(&t));
/// ```
#[derive(Clone, Copy)]
pub struct TensorView<'a> {
    /// Checked on entry, as a [`Tensor`]'s object is; its arrays and data live, unchanged,
    /// for `'a`.
    pub(super) dl: &'a DLTensor,
    /// The tensor object holding `dl`, if there is one.
    obj: Option<NonNull<TVMFFIObject>>,
}

// SAFETY: as for `TensorObj`: the `DLTensor` and its arrays are only read, and unchanged for
// `'a` (the view's invariant); the data is reached through checked slices or raw pointers,
// whose users answer for races as in C. A kernel may hand its views to scoped threads.
unsafe impl Send for TensorView<'_> {}
// SAFETY: as for `Send`.
unsafe impl Sync for TensorView<'_> {}

impl<'a> TensorView<'a> {
    /// A view of a checked tensor's `DLTensor` (`obj`: the object holding it).
    #[inline]
    pub(super) fn of_checked(dl: &'a DLTensor, obj: Option<NonNull<TVMFFIObject>>) -> Self {
        Self { dl, obj }
    }

    /// A view of a caller's `DLTensor`, checked as a foreign tensor object is.
    ///
    /// # Safety
    ///
    /// `dl`'s `shape` and (non-null) `strides` point to `ndim` readable values each, and
    /// they and the data stay valid and unchanged for `'a`, as for a C `TensorView`.
    pub unsafe fn from_dltensor(dl: &'a DLTensor) -> Result<Self, TensorError> {
        // SAFETY: the caller's promise.
        unsafe { check_foreign(dl) }?;
        Ok(Self::of_checked(dl, None))
    }

    /// The `DLTensor`.
    #[inline]
    pub fn as_dltensor(&self) -> &'a DLTensor {
        self.dl
    }

    /// A new reference to the tensor object, when the view is of one (`None` for a bare
    /// `DLTensor*`, which owns nothing).
    pub fn to_tensor(&self) -> Option<Tensor> {
        let obj = self.obj?;
        // SAFETY: a live tensor object for `'a` (the view's invariant), which `clone`
        // takes a new reference to without releasing the borrowed one.
        let borrowed = unsafe { ObjectRef::<Object<TensorObj>>::from_raw(obj.as_ptr()) }?;
        let borrowed = core::mem::ManuallyDrop::new(borrowed);
        Some(Tensor::of_checked((*borrowed).clone()))
    }

    /// The extents.
    #[inline]
    pub fn shape(&self) -> &'a [i64] {
        if self.dl.ndim == 0 {
            return &[];
        }
        // SAFETY: checked on entry: `shape` is aligned, non-null and holds `ndim` extents
        // that live, unchanged, for `'a`.
        unsafe { core::slice::from_raw_parts(self.dl.shape, self.dl.ndim as usize) }
    }

    /// The strides in elements; computed compact row-major where there are none
    /// (`strides == NULL`, allowed by DLPack; the tensors made here always have them).
    pub fn strides(&self) -> Cow<'a, [i64]> {
        let dl = self.dl;
        if dl.ndim == 0 {
            return Cow::Borrowed(&[]);
        }
        if dl.strides.is_null() {
            let mut strides = alloc::vec![0; dl.ndim as usize];
            // Cannot fail: the same computation passed on entry.
            let _ = check::compact_strides(self.shape(), &mut strides);
            return Cow::Owned(strides);
        }
        // SAFETY: checked on entry: non-null `strides` are aligned and hold `ndim` values
        // that live, unchanged, for `'a`.
        Cow::Borrowed(unsafe { core::slice::from_raw_parts(dl.strides, dl.ndim as usize) })
    }

    /// The element type.
    #[inline]
    pub fn dtype(&self) -> DataType {
        DataType::from_raw(self.dl.dtype)
    }

    /// Where the data lives.
    #[inline]
    pub fn device(&self) -> Device {
        Device::from_raw(self.dl.device)
    }

    /// The number of dimensions.
    #[inline]
    pub fn ndim(&self) -> usize {
        self.shape().len()
    }

    /// The number of elements (1 for a 0-d scalar, 0 when an extent is 0).
    #[inline]
    pub fn numel(&self) -> i64 {
        // Checked on entry to fit `i64`.
        self.shape().iter().fold(1i64, |n, &e| n.wrapping_mul(e))
    }

    /// Bytes of `numel` packed elements (`GetDataSize`), sub-byte types rounded up.
    #[inline]
    pub fn data_size(&self) -> u64 {
        // Checked on entry to fit `i64`.
        check::bytes_of(i128::from(self.numel()), self.dtype()) as u64
    }

    /// Byte offset of the first element from [`data_ptr`](Self::data_ptr).
    #[inline]
    pub fn byte_offset(&self) -> u64 {
        self.dl.byte_offset
    }

    /// The data pointer, without the byte offset (a device address or handle off the CPU).
    #[inline]
    pub fn data_ptr(&self) -> *mut c_void {
        self.dl.data
    }

    /// Whether the elements are compact row-major (`IsContiguous`): strides of extent-1
    /// axes do not matter, and a tensor without elements always is.
    #[inline]
    pub fn is_contiguous(&self) -> bool {
        let dl = self.dl;
        if dl.strides.is_null() || dl.ndim == 0 {
            return true; // compact row-major by definition
        }
        // SAFETY: checked on entry: non-null `strides` are aligned and hold `ndim` values
        // that live, unchanged, for `'a`.
        let strides = unsafe { core::slice::from_raw_parts(dl.strides, dl.ndim as usize) };
        check::is_contiguous(self.shape(), strides)
    }

    /// Whether `data + byte_offset` is a multiple of `alignment` (`IsAligned`; only the
    /// byte offset counts where the data pointer is a handle, e.g. OpenCL). An alignment
    /// of 0 is always met.
    pub fn is_aligned(&self, alignment: usize) -> bool {
        check::is_aligned(self.device(), self.dl.data, self.dl.byte_offset, alignment)
    }
}

impl TensorView<'_> {
    /// The metadata as a struct named `name`: the `Debug` of views and of [`Tensor`]s.
    pub(super) fn debug_as(&self, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(name)
            .field("shape", &self.shape())
            .field("strides", &self.strides())
            .field("dtype", &self.dtype())
            .field("device", &self.device())
            .field("data", &self.data_ptr())
            .field("byte_offset", &self.byte_offset())
            .finish()
    }
}

impl fmt::Debug for TensorView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.debug_as("TensorView", f)
    }
}

/// A `DLTensor*` (`DL_TENSOR_PTR`) or a tensor object, borrowed and checked as on import (a
/// malformed one is a [`Malformed`](ConversionErrorKind::Malformed) error), as the
/// reference's `TensorView` accepts both.
impl<'a> FromAnyView<'a> for TensorView<'a> {
    fn from_any_view(view: AnyView<'a>) -> Result<Self, ConversionError> {
        let malformed =
            || ConversionError::new(ConversionErrorKind::Malformed, "DLTensor*", view.type_index());
        if view.type_index() == TypeIndex::TENSOR {
            let obj = view.as_object_ptr().ok_or_else(malformed)?.cast::<TVMFFIObject>();
            // SAFETY: a tensor object in a view lives for `'a` (`AnyView::from_raw`).
            let tensor = unsafe { Tensor::borrow_raw(obj) }.map_err(|_| malformed())?;
            // SAFETY: the `DLTensor` inside the object lives as long as the object.
            let dl = unsafe { &*tensor.as_dltensor_ptr() };
            return Ok(Self::of_checked(dl, Some(obj)));
        }
        let ptr = view.get::<*mut DLTensor>()?;
        // SAFETY: a `DLTensor*` in a view points to a tensor whose arrays and data stay
        // valid for the view's lifetime (`AnyView::from_raw`, and the C `TensorView`
        // contract of the caller).
        let dl = unsafe { ptr.as_ref() }.ok_or_else(malformed)?;
        // SAFETY: as above.
        unsafe { Self::from_dltensor(dl) }.map_err(|_| malformed())
    }
}

/// How the reference passes a `TensorView`: a `DLTensor*` (`DL_TENSOR_PTR`).
impl<'a> From<TensorView<'a>> for AnyView<'a> {
    #[inline]
    fn from(t: TensorView<'a>) -> Self {
        AnyView::from(core::ptr::from_ref(t.dl).cast_mut())
    }
}

impl<'a> From<&'a Tensor> for TensorView<'a> {
    #[inline]
    fn from(t: &'a Tensor) -> Self {
        t.view()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_reads_as_its_tensor() {
        let t = Tensor::from_slice(&[2, 2], &[1i32, 2, 3, 4]).unwrap();
        let v = t.view();
        assert_eq!((v.shape(), &*v.strides(), v.numel()), (&[2i64, 2][..], &[2i64, 1][..], 4));
        assert_eq!(v.as_slice::<i32>().unwrap(), &[1, 2, 3, 4]);
        assert!(v.to_tensor().unwrap().ptr_eq(&t));
    }

    #[test]
    #[cfg_attr(target_os = "wasi", ignore = "wasm32-wasip1 has no threads")]
    fn views_go_to_scoped_threads() {
        let t = Tensor::from_slice(&[4], &[1i64, 2, 3, 4]).unwrap();
        let v = t.view();
        let sum = std::thread::scope(|s| {
            s.spawn(|| v.as_slice::<i64>().unwrap().iter().sum::<i64>()).join()
        });
        assert_eq!(sum.unwrap(), 10);
    }
}
