//! Tensor objects made here: the header, the `DLTensor` C++ reads inline, then what keeps the
//! data alive; the extents and strides follow the object inline, as `TensorObjFromNDAlloc`
//! places them.
//!
//! ```text
//! [TVMFFIObject 24][DLTensor][Owner] [shape: ndim x i64][strides: ndim x i64]
//!                   shape ─────────────^               strides ─^
//! ```

use alloc::alloc::{alloc_zeroed, dealloc};
use core::alloc::Layout;
use core::cell::UnsafeCell;
use core::ffi::{c_int, c_void};
use core::mem::ManuallyDrop;
use core::ptr::NonNull;

use tvmffi_core::sys::{DLManagedTensor, DLManagedTensorVersioned, DLTensor, TVMFFIObject};
use tvmffi_core::{DataType, Device, DeviceType, Object, ObjectRef, Payload, TypeIndex};

use super::check::{Dims, bytes_of, check_ndim};
use super::scan::{Scan, copy_and_scan};
use super::{ALLOC_ALIGNMENT, Element, Tensor, TensorError, TensorObj};
use crate::heap;

/// What keeps a tensor's data alive, released when the object dies.
///
/// No variant holds a `Layout` (whose alignment would make the variant tag a niche to
/// decode) or a field with drop glue: the destructor is one match, which every DLPack
/// import's release goes through.
pub(super) enum Owner {
    /// Nothing to release (zero bytes allocated).
    Nothing,
    /// Memory from [`Tensor::empty`]: `size` bytes aligned to [`ALLOC_ALIGNMENT`].
    Heap { ptr: NonNull<u8>, size: usize },
    /// A pre-1.0 DLPack tensor: its deleter runs once, when the object dies.
    Legacy(NonNull<DLManagedTensor>),
    /// A DLPack 1.x tensor: its deleter runs once, when the object dies.
    Versioned(NonNull<DLManagedTensorVersioned>),
    /// A view: the tensor whose memory it shares, released by the destructor.
    View(ManuallyDrop<ObjectRef<Object<TensorObj>>>),
}

impl Owner {
    /// The owner of a view of `source`'s memory: a strong reference to `source`.
    pub(super) fn view_of(source: &ObjectRef<Object<TensorObj>>) -> Self {
        Self::View(ManuallyDrop::new(source.clone()))
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        match self {
            // SAFETY: `ptr` came from `alloc_zeroed` with this layout (valid then, so now),
            // and is freed only here.
            Self::Heap { ptr, size } => unsafe {
                dealloc(ptr.as_ptr(), Layout::from_size_align_unchecked(*size, ALLOC_ALIGNMENT));
            },
            // SAFETY: we took the managed tensor over (`from_dlpack`'s contract), so calling
            // its deleter once, here, is ours to do.
            Self::Legacy(m) => unsafe {
                if let Some(deleter) = (*m.as_ptr()).deleter {
                    deleter(m.as_ptr());
                }
            },
            // SAFETY: as for `Legacy`.
            Self::Versioned(m) => unsafe {
                if let Some(deleter) = (*m.as_ptr()).deleter {
                    deleter(m.as_ptr());
                }
            },
            // SAFETY: dropped only here, once, as the owner itself is.
            Self::View(source) => unsafe { ManuallyDrop::drop(source) },
            Self::Nothing => {}
        }
    }
}

/// The payload of the tensor objects made here. Its prefix is [`TensorObj`] (the `DLTensor`),
/// which is all anyone else sees.
///
/// The owner is only written by [`import`], before the object is shared: an import checks
/// the object it made, and only then takes the producer's tensor over.
#[repr(C)]
struct TensorCell {
    dl: DLTensor,
    owner: UnsafeCell<Owner>,
}

// SAFETY: the type is private to this module, which only makes an `ObjectRef` to it through
// `new_cell` (for an object it lays out as `Object<TensorCell>`) and
// converts that at once to the `TensorObj` view that every `TENSOR` object has; no code can
// name it to downcast or convert some other tensor object to it.
unsafe impl Payload for TensorCell {
    const TYPE_KEY: &'static str = "ffi.Tensor";

    fn is_instance(type_index: TypeIndex) -> bool {
        type_index == TypeIndex::TENSOR
    }
}

const _: () = {
    // The `DLTensor` is right after the header, where `TVMFFITensorGetDLTensorPtr` and
    // `TensorObj` look, so the cell may be viewed through its `TensorObj` prefix.
    assert!(core::mem::offset_of!(TensorCell, dl) == 0);
    assert!(core::mem::size_of::<Object<TensorObj>>() == 24 + core::mem::size_of::<DLTensor>());
    assert!(core::mem::align_of::<TensorCell>() <= 8);
};

/// Make a tensor object with the metadata of `dl` (its `shape`/`strides` are ignored), the
/// checked extents and strides of `dims`, and `owner` keeping the data alive.
///
/// # Safety
///
/// `dims` was checked against `dl`'s data, device, dtype and byte offset, and the memory
/// `dl.data` points to stays valid for what `dims` addresses as long as `owner` lives.
pub(super) unsafe fn build(mut dl: DLTensor, dims: &Dims, owner: Owner) -> Tensor {
    let ndim = dims.shape().len();
    let tail = Layout::array::<i64>(2 * ndim).unwrap_or_else(|_| unreachable!("ndim is checked"));
    dl.ndim = ndim as i32;
    let init = |tail: *mut u8| {
        let shape = tail.cast::<i64>();
        // SAFETY: the tail holds `2 * ndim` aligned `i64`s; shape first, strides after.
        let strides = unsafe { shape.add(ndim) };
        for (i, (&e, &s)) in dims.shape().iter().zip(dims.strides()).enumerate() {
            // SAFETY: `i < ndim`, inside both halves of the tail.
            unsafe {
                shape.add(i).write(e);
                strides.add(i).write(s);
            }
        }
        // Pointers from the tail's own pointer, so C and Rust may read through them.
        dl.shape = shape;
        dl.strides = strides;
        TensorCell { dl, owner: UnsafeCell::new(owner) }
    };
    // SAFETY: `init` writes every value of the tail that the payload points to.
    let obj = unsafe { new_cell(tail, init) };
    into_tensor(obj)
}

/// The tensor view of an object made here.
fn into_tensor(obj: ObjectRef<Object<TensorCell>>) -> Tensor {
    let raw: *mut TVMFFIObject = obj.into_raw();
    // SAFETY: the strong reference moves over; a `TENSOR` object starts with the header
    // then a `DLTensor`, which is what `TensorObj` views.
    let obj = unsafe { ObjectRef::<Object<TensorObj>>::from_raw(raw) };
    Tensor { obj: obj.unwrap_or_else(|| unreachable!("new objects are not null")) }
}

/// Import a producer's tensor: copy its metadata (extents, and strides or compact ones)
/// into a new object, checking the copy as it is made (with [`Dims::read`]'s verdict and
/// errors), then `checks` (the import's options), and only then take the producer's
/// tensor over with `owner`. On error the object is dropped without an owner, so nothing
/// of the producer's is called. Each of the producer's values is read once: what was
/// checked is what the object holds, whatever the producer does to its arrays later.
///
/// # Safety
///
/// Where `dl.ndim` is in `1..=MAX_NDIM` and `dl.shape` (or `dl.strides`) is not null, it is
/// readable for `ndim` values (no alignment needed). The memory `dl.data` points to stays
/// valid for what the metadata addresses as long as the owner lives.
#[inline]
pub(super) unsafe fn import(
    dl: &DLTensor,
    checks: impl FnOnce(&Tensor) -> Result<(), TensorError>,
    owner: impl FnOnce() -> Owner,
) -> Result<Tensor, TensorError> {
    let ndim = check_ndim(dl.ndim)?;
    if ndim > 0 && dl.shape.is_null() {
        return Err(TensorError::NullShape { ndim: dl.ndim });
    }
    let tail = Layout::array::<i64>(2 * ndim).unwrap_or_else(|_| unreachable!("ndim is checked"));
    let mut scan = Scan::UNUSUAL;
    let init = |tail: *mut u8| {
        let shape = tail.cast::<i64>();
        // SAFETY: the tail holds `2 * ndim` aligned `i64`s; shape first, strides after.
        let strides = unsafe { shape.add(ndim) };
        // SAFETY: `ndim` is checked, the producer's arrays are readable (caller), and the
        // tail's two halves are writable.
        scan = unsafe { copy_and_scan(dl, ndim, shape, strides) };
        let meta = DLTensor { ndim: ndim as i32, shape, strides, ..*dl };
        TensorCell { dl: meta, owner: UnsafeCell::new(Owner::Nothing) }
    };
    // SAFETY: `init` writes every value of the tail that the payload points to.
    let obj = unsafe { new_cell(tail, init) };
    // SAFETY: the scan is of the object's own arrays, which hold `ndim` values each
    // (aligned, never null); their strides were computed where the producer had none.
    unsafe { scan.verdict(&obj.dl, dl.strides.is_null()) }?;
    let owner_slot = obj.owner.get();
    let tensor = into_tensor(obj);
    checks(&tensor)?;
    // SAFETY: the object is ours alone (not shared yet), and its owner is `Nothing`, which
    // owns nothing: overwritten without a drop (the drop would only match on it). From
    // here on the owner is only read, by the destructor.
    unsafe { owner_slot.write(owner()) };
    Ok(tensor)
}

/// A tensor object with a tail laid out as `tail`, its payload built by `init`.
///
/// # Safety
///
/// As `heap::new_object_with_tail`.
#[inline]
unsafe fn new_cell(
    tail: Layout,
    init: impl FnOnce(*mut u8) -> TensorCell,
) -> ObjectRef<Object<TensorCell>> {
    // SAFETY: `delete_cell` is `TensorCell`'s heap deleter; `init` as the caller promises.
    unsafe { heap::new_object_with_deleter(TypeIndex::TENSOR, tail, delete_cell, init) }
}

/// The deleter of every tensor object made here. Not generic, so it has one address in a
/// program however many crates inline the code that makes or checks tensors: that address
/// tells [`built_here`] an object is ours.
unsafe extern "C" fn delete_cell(obj: *mut c_void, flags: c_int) {
    // SAFETY: `new_cell` gives this deleter to `TensorCell` objects only.
    unsafe { heap::deleter::<TensorCell>(obj, flags) }
}

/// Whether a tensor object was made by [`build`] or [`import`], whose metadata was checked
/// then and is never written after: its deleter is ours. (The caller has checked the type
/// index, and `TensorCell` is this crate's only payload with it.)
#[inline]
pub(super) fn built_here(obj: &ObjectRef<Object<TensorObj>>) -> bool {
    let ours = delete_cell as unsafe extern "C" fn(*mut c_void, c_int);
    obj.header().deleter().is_some_and(|d| core::ptr::fn_addr_eq(d, ours))
}

impl Tensor {
    /// A zero-filled tensor in host memory aligned to [`ALLOC_ALIGNMENT`] (64) bytes, with
    /// compact row-major strides.
    ///
    /// Only the CPU device is supported (other devices give
    /// [`UnsupportedDevice`](TensorError::UnsupportedDevice)). A tensor without elements
    /// allocates nothing; its data pointer is then a dangling, 64-aligned address.
    pub fn empty(shape: &[i64], dtype: DataType, device: Device) -> Result<Self, TensorError> {
        if device.device_type() != DeviceType::CPU {
            return Err(TensorError::UnsupportedDevice(device));
        }
        let ndim = i32::try_from(shape.len()).unwrap_or(i32::MAX);
        check_ndim(ndim)?;
        let dangling = core::ptr::without_provenance_mut::<c_void>(ALLOC_ALIGNMENT);
        let mut dl = DLTensor {
            data: dangling,
            device: device.as_raw(),
            ndim,
            dtype: dtype.as_raw(),
            shape: core::ptr::null_mut(),
            strides: core::ptr::null_mut(),
            byte_offset: 0,
        };
        let dims = Dims::new(&dl, shape, None)?;
        let bytes = usize::try_from(bytes_of(i128::from(dims.extent.numel), dtype))
            .map_err(|_| TensorError::Overflow)?;
        let owner = if bytes == 0 {
            Owner::Nothing
        } else {
            let layout = Layout::from_size_align(bytes, ALLOC_ALIGNMENT)
                .map_err(|_| TensorError::Overflow)?;
            // SAFETY: `layout` has a non-zero size.
            let ptr = NonNull::new(unsafe { alloc_zeroed(layout) })
                .ok_or(TensorError::AllocFailed { bytes })?;
            dl.data = ptr.as_ptr().cast();
            Owner::Heap { ptr, size: bytes }
        };
        // SAFETY: `dims` was checked with the same metadata (a non-null data pointer either
        // way), and the owner holds `bytes` zeroed bytes, all that compact strides address.
        Ok(unsafe { build(dl, &dims, owner) })
    }

    /// A CPU tensor of `shape` holding a copy of `data` (row-major).
    ///
    /// Fails with [`LengthMismatch`](TensorError::LengthMismatch) when `data.len()` is not
    /// the shape's element count.
    pub fn from_slice<T: Element>(shape: &[i64], data: &[T]) -> Result<Self, TensorError> {
        let tensor = Self::empty(shape, T::DTYPE, Device::CPU)?;
        let numel = tensor.numel();
        if usize::try_from(numel).ok() != Some(data.len()) {
            return Err(TensorError::LengthMismatch { numel, len: data.len() });
        }
        if !data.is_empty() {
            // SAFETY: the tensor is new and not shared yet; its data holds `numel` values of
            // `T` (64-aligned), and `data` is another allocation.
            unsafe {
                core::ptr::copy_nonoverlapping(
                    data.as_ptr(),
                    tensor.data_ptr().cast::<T>(),
                    data.len(),
                );
            }
        }
        Ok(tensor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Another payload that claims the `TENSOR` index, as a downstream crate's could.
    struct Other {
        _dl: DLTensor,
    }

    // SAFETY: a test payload laid out as a tensor object (a `DLTensor` first).
    unsafe impl Payload for Other {
        const TYPE_KEY: &'static str = "ffi.Tensor";

        fn is_instance(type_index: TypeIndex) -> bool {
            type_index == TypeIndex::TENSOR
        }
    }

    #[test]
    fn tensors_made_here_are_known_by_their_deleter() {
        let cpu = Device::new(DeviceType::CPU, 0);
        let made = Tensor::empty(&[2, 3], DataType::F32, cpu).unwrap();
        let managed = made.to_dlpack_versioned();
        // SAFETY: a valid managed tensor, handed over once.
        let imported = unsafe { Tensor::from_dlpack_versioned(managed, 0, false) }.unwrap();
        // Rust does not promise one address per function, and Miri gives each use its own
        // (then every tensor takes the full check, which is only slower).
        if !cfg!(miri) {
            assert!(built_here(made.as_object()));
            assert!(built_here(imported.as_object()));
        }

        let other = heap::new_object(TypeIndex::TENSOR, Other { _dl: *made.as_dltensor() });
        // SAFETY: the reference moves over; `Other` starts with the `DLTensor`.
        let other = unsafe { ObjectRef::<Object<TensorObj>>::from_raw(other.into_raw()) };
        assert!(!built_here(&other.unwrap()));
    }
}
