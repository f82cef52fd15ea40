//! [`Tensor`]: an n-dimensional array in a tensor object (`ffi.Tensor`, type index 70), the
//! reference's `tvm::ffi::Tensor` (`tvm/ffi/container/tensor.h`), and its DLPack exchange.
//!
//! A tensor object is the header followed by a `DLTensor`, which C++ (`TensorObj`), the
//! Python package and `TVMFFITensorGetDLTensorPtr` read inline. The tensors made here keep
//! their extents and strides inline after the object and own their data in one of three ways:
//! host memory from [`Tensor::empty`], a DLPack managed tensor taken over by
//! [`Tensor::from_dlpack`] (its deleter runs once, when the object dies), or another tensor
//! that a view shares memory with and keeps alive.
//!
//! Every tensor is checked on entry, whoever made it ([`Tensor::from_dlpack`], a C++ object
//! arriving in an [`Any`]): `ndim` in `0..=`[`MAX_NDIM`], non-negative extents, an element
//! count and byte extent that fit `int64_t`, a known data type with storage, and data that is
//! not null when there are elements. Bad input is a [`TensorError`], never a crash.
//!
//! Unlike the reference, imported tensors get their own copy of the extents and strides
//! (filled in compact row-major when the producer gave none): a producer that changes its
//! arrays later cannot change a tensor that passed the checks.

use alloc::borrow::Cow;
use core::ffi::c_void;
use core::fmt;
use core::mem::ManuallyDrop;
use core::ptr::NonNull;

use tvmffi_core::error::ConversionErrorKind;
use tvmffi_core::sys::{DLTensor, TVMFFIObject};
use tvmffi_core::{
    Any, AnyView, ConversionError, DataType, Device, FromAnyView, Object, ObjectRef, Payload,
    TypeIndex,
};

mod borrowed;
mod check;
mod dlpack;
mod error;
mod scan;
mod slice;
mod storage;
mod view;

pub use borrowed::TensorView;
pub use error::TensorError;
pub use slice::Element;

/// The most dimensions a tensor may have. DLPack sets no limit; this one only rejects
/// nonsense (`ndim = 2^31 - 1` would ask for 32 GiB of extents), far above what frameworks
/// use (NumPy allows 64).
pub const MAX_NDIM: i32 = 1024;

/// Alignment of the host memory [`Tensor::empty`] allocates, in bytes. `tvm-ffi` itself has
/// no allocator; this is TVM's `kAllocAlignment`, which kernels compiled by TVM assume.
pub const ALLOC_ALIGNMENT: usize = 64;

/// The part every tensor object has after its header: the `DLTensor` (`TensorObj`'s base).
///
/// What follows it differs between producers (a C++ allocator, a DLPack context, our
/// owner), so this is the view under which [`ObjectRef`] holds any tensor object.
#[repr(transparent)]
pub struct TensorObj(DLTensor);

// SAFETY: the `DLTensor` is never written after the object is made; the data it points to
// is only read through shared references ([`Tensor::as_slice`]) or reached through raw
// pointers, whose users answer for races as in C. What the object owns (host memory, a
// DLPack context, a source tensor) is released on whichever thread drops it last, as the
// reference does.
unsafe impl Send for TensorObj {}
// SAFETY: as for `Send`: shared access only reads.
unsafe impl Sync for TensorObj {}

// SAFETY: `TENSOR` objects (`TensorObj` and every C++ subclass of it) are the header then a
// `DLTensor`; `TensorObj` claims no more than that.
unsafe impl Payload for TensorObj {
    const TYPE_KEY: &'static str = "ffi.Tensor";

    #[inline]
    fn is_instance(type_index: TypeIndex) -> bool {
        type_index == TypeIndex::TENSOR
    }
}

impl TensorObj {
    /// The `DLTensor`.
    #[inline]
    pub fn as_dltensor(&self) -> &DLTensor {
        &self.0
    }
}

/// An n-dimensional array in a tensor object, shared by reference counting.
///
/// ```
/// use tvmffi_alloc::tensor::Tensor;
/// use tvmffi_core::{Any, DataType, Device, TypeIndex};
///
/// let t = Tensor::from_slice(&[2, 3], &[0f32, 1., 2., 3., 4., 5.]).unwrap();
/// assert_eq!((t.shape(), &*t.strides()), (&[2i64, 3][..], &[3i64, 1][..]));
/// assert_eq!((t.dtype(), t.device(), t.numel()), (DataType::F32, Device::CPU, 6));
/// assert!(t.is_contiguous() && t.is_aligned(64));
///
/// // A strided view shares the memory and keeps the tensor alive.
/// let col = t.as_strided(&[2], &[3], 1).unwrap();
/// assert_eq!(col.as_slice::<f32>().unwrap_err().to_string(), "FromDLPack: Tensor is not contiguous.");
///
/// // Through DLPack and back: the data is shared, not copied.
/// let managed = t.to_dlpack_versioned();
/// // SAFETY: `managed` is a valid DLPack tensor we own; on success it is taken over.
/// let back = unsafe { Tensor::from_dlpack_versioned(managed, 64, true) }.unwrap();
/// assert_eq!(back.data_ptr(), t.data_ptr());
/// assert_eq!(back.as_slice::<f32>().unwrap(), &[0., 1., 2., 3., 4., 5.]);
///
/// let any = Any::from(back);
/// assert_eq!(any.type_index(), TypeIndex::TENSOR);
/// assert_eq!(any.get::<Tensor>().unwrap().shape(), &[2, 3]);
/// ```
#[derive(Clone)]
pub struct Tensor {
    /// Checked on entry: `ndim` in `0..=MAX_NDIM`, `shape` aligned and non-null when
    /// `ndim > 0`, `strides` aligned or null, and the metadata passes `check_tensor`.
    obj: ObjectRef<Object<TensorObj>>,
}

impl Tensor {
    /// A tensor from an object reference, checking its metadata as on import.
    ///
    /// Tensor objects made by other code (the reference's C++) are trusted to be alive and
    /// to point at readable arrays, as any object is; their values are still checked.
    /// Objects made here were checked when they were made, and are taken as they are.
    #[inline]
    pub fn from_object(obj: ObjectRef<Object<TensorObj>>) -> Result<Self, TensorError> {
        Self::check_object(&obj)?;
        Ok(Self { obj })
    }

    /// The tensor object a C caller passes, borrowed: checked as
    /// [`from_object`](Self::from_object) checks, and taking no reference (the caller's
    /// keeps the object alive; the result is never dropped, so it releases none either).
    ///
    /// # Safety
    ///
    /// `obj` is a live object of type index `TENSOR` that stays alive while the result is
    /// used.
    pub(crate) unsafe fn borrow_raw(
        obj: NonNull<TVMFFIObject>,
    ) -> Result<ManuallyDrop<Self>, TensorError> {
        // SAFETY: a live tensor object (caller); wrapped so that it is never released.
        let obj = unsafe { ObjectRef::<Object<TensorObj>>::from_raw(obj.as_ptr()) };
        let obj = ManuallyDrop::new(obj.unwrap_or_else(|| unreachable!("the pointer is not null")));
        Self::check_object(&obj)?;
        Ok(ManuallyDrop::new(Self { obj: ManuallyDrop::into_inner(obj) }))
    }

    #[inline]
    fn check_object(obj: &ObjectRef<Object<TensorObj>>) -> Result<(), TensorError> {
        if storage::built_here(obj) {
            return Ok(());
        }
        // SAFETY: a live tensor object's arrays are readable for `ndim` values (the C++
        // class invariant) where `ndim` is in range and the pointer is not null.
        unsafe { check_foreign(obj.as_dltensor()) }
    }

    /// A tensor of an object known to pass [`check_object`](Self::check_object).
    #[inline]
    fn of_checked(obj: ObjectRef<Object<TensorObj>>) -> Self {
        Self { obj }
    }

    /// The tensor borrowed as a [`TensorView`].
    #[inline]
    pub fn view(&self) -> TensorView<'_> {
        let obj = NonNull::new(self.obj.as_raw()).unwrap_or_else(|| unreachable!("not null"));
        TensorView::of_checked(self.obj.as_dltensor(), Some(obj))
    }

    /// The object reference.
    #[inline]
    pub fn as_object(&self) -> &ObjectRef<Object<TensorObj>> {
        &self.obj
    }

    /// Give up the wrapper, keeping the object reference.
    #[inline]
    pub fn into_object(self) -> ObjectRef<Object<TensorObj>> {
        self.obj
    }

    /// The `DLTensor` inside the object.
    #[inline]
    pub fn as_dltensor(&self) -> &DLTensor {
        self.obj.as_dltensor()
    }

    /// A pointer to the `DLTensor` inside the object, borrowed: valid while `self` lives
    /// (`TVMFFITensorGetDLTensorPtr`). C code must not write through it.
    #[inline]
    pub fn as_dltensor_ptr(&self) -> *mut DLTensor {
        // Derived from the object pointer, whose provenance covers the whole object.
        self.obj.as_raw().cast::<u8>().wrapping_add(size_of::<TVMFFIObject>()).cast()
    }

    /// The tensor as a borrowed `DLTensor*` value (`kTVMFFIDLTensorPtr`), how the reference
    /// passes a `TensorView`.
    #[inline]
    pub fn as_dltensor_view(&self) -> AnyView<'_> {
        AnyView::from(self.as_dltensor_ptr())
    }

    /// The extents.
    #[inline]
    pub fn shape(&self) -> &[i64] {
        self.view().shape()
    }

    /// The strides in elements; computed compact row-major where the object has none
    /// (`strides == NULL`, allowed by DLPack; the tensors made here always have them).
    #[inline]
    pub fn strides(&self) -> Cow<'_, [i64]> {
        self.view().strides()
    }

    /// The element type.
    #[inline]
    pub fn dtype(&self) -> DataType {
        self.view().dtype()
    }

    /// Where the data lives.
    #[inline]
    pub fn device(&self) -> Device {
        self.view().device()
    }

    /// The number of dimensions.
    #[inline]
    pub fn ndim(&self) -> usize {
        self.view().ndim()
    }

    /// The number of elements (1 for a 0-d scalar, 0 when an extent is 0).
    #[inline]
    pub fn numel(&self) -> i64 {
        self.view().numel()
    }

    /// Bytes of `numel` packed elements (`GetDataSize`), sub-byte types rounded up.
    #[inline]
    pub fn data_size(&self) -> u64 {
        self.view().data_size()
    }

    /// Byte offset of the first element from [`data_ptr`](Self::data_ptr).
    #[inline]
    pub fn byte_offset(&self) -> u64 {
        self.view().byte_offset()
    }

    /// The data pointer, without the byte offset (a device address or handle off the CPU).
    #[inline]
    pub fn data_ptr(&self) -> *mut c_void {
        self.view().data_ptr()
    }

    /// Whether the elements are compact row-major (`IsContiguous`): strides of extent-1
    /// axes do not matter, and a tensor without elements always is.
    #[inline]
    pub fn is_contiguous(&self) -> bool {
        self.view().is_contiguous()
    }

    /// Whether `data + byte_offset` is a multiple of `alignment` (`IsAligned`; only the
    /// byte offset counts where the data pointer is a handle, e.g. OpenCL). An alignment
    /// of 0 is always met.
    #[inline]
    pub fn is_aligned(&self, alignment: usize) -> bool {
        self.view().is_aligned(alignment)
    }

    /// Whether both are the same object.
    #[inline]
    pub fn ptr_eq(&self, other: &Self) -> bool {
        self.obj.ptr_eq(&other.obj)
    }
}

/// Check a `DLTensor` that code other than ours made, where it is: its arrays' alignment,
/// then their values as on import.
///
/// # Safety
///
/// `shape` and non-null `strides` point to `ndim` readable values each (where `ndim` is in
/// range and the pointers are aligned and not null).
unsafe fn check_foreign(dl: &DLTensor) -> Result<(), TensorError> {
    let aligned = |p: *mut i64| p.is_null() || p.is_aligned();
    if !aligned(dl.shape) || !aligned(dl.strides) {
        return Err(TensorError::UnalignedDims);
    }
    // SAFETY: the caller's promise.
    unsafe { scan::check_in_place(dl) }
}

impl fmt::Debug for Tensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.view().debug_as("Tensor", f)
    }
}

impl From<Tensor> for Any {
    #[inline]
    fn from(t: Tensor) -> Self {
        Any::from(t.obj)
    }
}

impl<'a> From<&'a Tensor> for AnyView<'a> {
    #[inline]
    fn from(t: &'a Tensor) -> Self {
        AnyView::from(&t.obj)
    }
}

/// A new reference to an `ffi.Tensor` object, checked as on import (a malformed one is a
/// [`Malformed`](ConversionErrorKind::Malformed) error). A `DLTensor*` is not accepted: it
/// owns nothing to keep alive.
impl FromAnyView<'_> for Tensor {
    fn from_any_view(view: AnyView<'_>) -> Result<Self, ConversionError> {
        let obj = view.get::<ObjectRef<Object<TensorObj>>>()?;
        Tensor::from_object(obj).map_err(|_| {
            ConversionError::new(ConversionErrorKind::Malformed, "ffi.Tensor", view.type_index())
        })
    }
}

/// The layout of a tensor object as C++ sees it, for the table below.
#[repr(C)]
struct TensorObjLayout {
    header: TVMFFIObject,
    dl: DLTensor,
}

const _: () = {
    assert!(size_of::<TensorObjLayout>() == size_of::<Object<TensorObj>>());
    assert!(align_of::<TensorObjLayout>() == align_of::<Object<TensorObj>>());
};

tvmffi_core::c_layout! {
    /// Layout of the tensor object, against the reference's C++ class (`TensorObj : Object,
    /// DLTensor`).
    pub const LAYOUTS = [
        TensorObjLayout as "tvm::ffi::TensorObj" {
            size: 72 / 64 / 60,
            align: align_of::<u64>(),
            fields: {
                data @ dl.data = 24 / 24,
                device @ dl.device = 32 / 28,
                ndim @ dl.ndim = 40 / 36,
                dtype @ dl.dtype = 44 / 40,
                shape @ dl.shape = 48 / 44,
                strides @ dl.strides = 56 / 48,
                byte_offset @ dl.byte_offset = 64 / 56 / 52,
            },
        },
    ];
}
