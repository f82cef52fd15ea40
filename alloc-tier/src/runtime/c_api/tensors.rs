//! Tensors and DLPack.

use alloc::format;
use core::ffi::c_int;

use core::mem::ManuallyDrop;
use core::ptr::NonNull;
use tvmffi_core::sys::{
    DLManagedTensor, DLManagedTensorVersioned, DLTensor, TVMFFIObject, TVMFFIObjectHandle,
};

use tvmffi_core::{ObjectHeader, TypeIndex};

use super::{Runtime, arg, guard, null, out};
use crate::error::Error;
use crate::tensor::Tensor;

/// The alignment a C caller asks for; negative is refused.
#[inline]
fn alignment(require_alignment: i32, func: &str) -> Result<usize, Error> {
    usize::try_from(require_alignment).map_err(|_| negative_alignment(func, require_alignment))
}

#[cold]
#[inline(never)]
fn negative_alignment(func: &str, require_alignment: i32) -> Error {
    Error::value_error(format!("{func}: require_alignment {require_alignment} is negative"))
}

/// A tensor object handle as a [`Tensor`], borrowed: the caller's reference keeps it alive
/// for the call, so none is taken (nor released: the result is never dropped).
///
/// # Safety
///
/// `handle` is null or a live object, alive for the call.
unsafe fn borrow_tensor(
    handle: TVMFFIObjectHandle,
    func: &str,
) -> Result<ManuallyDrop<Tensor>, Error> {
    let obj = NonNull::new(handle.cast::<TVMFFIObject>()).ok_or_else(|| null(func, "from"))?;
    // SAFETY: a live object (caller) starts with its header.
    let index = unsafe { obj.cast::<ObjectHeader>().as_ref() }.type_index();
    if index != TypeIndex::TENSOR {
        return Err(not_a_tensor(func, index));
    }
    // SAFETY: a live tensor object, alive for the call (caller).
    Ok(unsafe { Tensor::borrow_raw(obj) }?)
}

/// The `TypeError` for a handle that is not a tensor.
#[cold]
#[inline(never)]
fn not_a_tensor(func: &str, index: TypeIndex) -> Error {
    Error::type_error(format!("{func}: object of type index {} is not an ffi.Tensor", index.0))
}

/// Write a new tensor's strong reference to a C out-slot.
///
/// # Safety
///
/// `out` is writable.
unsafe fn write_tensor(out: *mut TVMFFIObjectHandle, tensor: Tensor) {
    // SAFETY: writable (caller); the strong reference goes to the caller.
    unsafe { out.write(tensor.into_object().into_raw().cast()) };
}

/// `TVMFFITensorFromDLPack`: take over a pre-1.0 DLPack tensor ([`Tensor::from_dlpack`]).
/// On error the caller keeps the managed tensor.
///
/// # Safety
///
/// As [`Tensor::from_dlpack`]; `out` is null or writable.
pub unsafe fn from_dlpack<R: Runtime>(
    from: *mut DLManagedTensor,
    require_alignment: i32,
    require_contiguous: i32,
    out_tensor: *mut TVMFFIObjectHandle,
) -> c_int {
    guard::<R>(|| {
        const FUNC: &str = "TVMFFITensorFromDLPack";
        let out_tensor = out(out_tensor, FUNC, "out")?;
        let align = alignment(require_alignment, FUNC)?;
        // SAFETY: the caller's promise.
        let tensor = unsafe { Tensor::from_dlpack(from, align, require_contiguous != 0)? };
        // SAFETY: checked writable.
        unsafe { write_tensor(out_tensor, tensor) };
        Ok(())
    })
}

/// `TVMFFITensorFromDLPackVersioned`: take over a DLPack 1.x tensor
/// ([`Tensor::from_dlpack_versioned`]). On error the caller keeps the managed tensor.
///
/// # Safety
///
/// As [`Tensor::from_dlpack_versioned`]; `out` is null or writable.
pub unsafe fn from_dlpack_versioned<R: Runtime>(
    from: *mut DLManagedTensorVersioned,
    require_alignment: i32,
    require_contiguous: i32,
    out_tensor: *mut TVMFFIObjectHandle,
) -> c_int {
    guard::<R>(|| {
        const FUNC: &str = "TVMFFITensorFromDLPackVersioned";
        let out_tensor = out(out_tensor, FUNC, "out")?;
        let align = alignment(require_alignment, FUNC)?;
        // SAFETY: the caller's promise.
        let tensor =
            unsafe { Tensor::from_dlpack_versioned(from, align, require_contiguous != 0)? };
        // SAFETY: checked writable.
        unsafe { write_tensor(out_tensor, tensor) };
        Ok(())
    })
}

/// `TVMFFITensorToDLPack`: a new pre-1.0 managed tensor sharing the tensor's data.
///
/// # Safety
///
/// `from` is null or a live object; `out` is null or writable.
pub unsafe fn to_dlpack<R: Runtime>(
    from: TVMFFIObjectHandle,
    out_managed: *mut *mut DLManagedTensor,
) -> c_int {
    guard::<R>(|| {
        const FUNC: &str = "TVMFFITensorToDLPack";
        let out_managed = out(out_managed, FUNC, "out")?;
        // SAFETY: the caller's promise.
        let tensor = unsafe { borrow_tensor(from, FUNC)? };
        // SAFETY: writable (caller); the managed tensor goes to the caller.
        unsafe { out_managed.write(tensor.to_dlpack()) };
        Ok(())
    })
}

/// `TVMFFITensorToDLPackVersioned`: a new DLPack 1.x managed tensor sharing the data.
///
/// # Safety
///
/// As [`to_dlpack`].
pub unsafe fn to_dlpack_versioned<R: Runtime>(
    from: TVMFFIObjectHandle,
    out_managed: *mut *mut DLManagedTensorVersioned,
) -> c_int {
    guard::<R>(|| {
        const FUNC: &str = "TVMFFITensorToDLPackVersioned";
        let out_managed = out(out_managed, FUNC, "out")?;
        // SAFETY: the caller's promise.
        let tensor = unsafe { borrow_tensor(from, FUNC)? };
        // SAFETY: writable (caller); the managed tensor goes to the caller.
        unsafe { out_managed.write(tensor.to_dlpack_versioned()) };
        Ok(())
    })
}

/// `TVMFFITensorCreateUnsafeView`: a tensor over `prototype`'s metadata that keeps `source`
/// alive ([`Tensor::create_unsafe_view`]).
///
/// # Safety
///
/// As [`Tensor::create_unsafe_view`]; `source` is null or a live object, `out` is null or
/// writable.
pub unsafe fn create_unsafe_view<R: Runtime>(
    source: TVMFFIObjectHandle,
    prototype: *const DLTensor,
    out_tensor: *mut TVMFFIObjectHandle,
) -> c_int {
    guard::<R>(|| {
        const FUNC: &str = "TVMFFITensorCreateUnsafeView";
        let out_tensor = out(out_tensor, FUNC, "out")?;
        // SAFETY: the caller's promises.
        let (source, prototype) =
            unsafe { (borrow_tensor(source, FUNC)?, arg(prototype, FUNC, "prototype")?) };
        // SAFETY: the caller's promise about the prototype's memory.
        let view = unsafe { source.create_unsafe_view(prototype)? };
        // SAFETY: checked writable.
        unsafe { write_tensor(out_tensor, view) };
        Ok(())
    })
}
