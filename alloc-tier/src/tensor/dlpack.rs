//! DLPack exchange: taking over a producer's managed tensor (`Tensor::FromDLPack[Versioned]`,
//! `TVMFFITensorFromDLPack[Versioned]`) and handing ours out (`ToDLPack[Versioned]`).

use core::ptr::NonNull;

use tvmffi_core::flags::DLPackFlags;
use tvmffi_core::sys::{
    DLManagedTensor, DLManagedTensorVersioned, DLPACK_MAJOR_VERSION, DLPACK_MINOR_VERSION,
    DLPackVersion, TVMFFIObject,
};
use tvmffi_core::{ObjectHeader, ObjectRef};

use super::storage::{Owner, import};
use super::{Tensor, TensorError};
use crate::block;

/// The checks `FromDLPack` makes on request, in its order, on the imported tensor.
/// Always inlined: on the usual import, nothing is requested and nothing is left of it.
#[inline(always)]
fn import_checks(
    t: &Tensor,
    require_alignment: usize,
    require_contiguous: bool,
) -> Result<(), TensorError> {
    if !t.is_aligned(require_alignment) {
        return Err(TensorError::NotAligned(require_alignment));
    }
    if require_contiguous && !t.is_contiguous() {
        return Err(TensorError::NotContiguous);
    }
    Ok(())
}

impl Tensor {
    /// Take over a pre-1.0 DLPack tensor (`Tensor::FromDLPack`).
    ///
    /// On success the tensor owns `managed`: its deleter (if not null) runs exactly once,
    /// when the last reference to the tensor and its views is gone. On error nothing was
    /// taken or called: `managed` still belongs to the caller, who calls its deleter, as
    /// with the reference (which throws before taking the tensor over).
    ///
    /// `require_alignment` (0 for none) and `require_contiguous` ask for the checks of the
    /// reference; the metadata is always checked (see the [module docs](super)).
    ///
    /// # Safety
    ///
    /// `managed` is null or points to a valid `DLManagedTensor` whose ownership the caller
    /// holds. Where `ndim` is in range, non-null `shape` and `strides` are readable for
    /// `ndim` values (during this call: they are copied). The data is valid for what the
    /// tensor describes, readable from the host when the device is, and not written by
    /// anyone else while Rust code reads it, until the deleter runs.
    pub unsafe fn from_dlpack(
        managed: *mut DLManagedTensor,
        require_alignment: usize,
        require_contiguous: bool,
    ) -> Result<Self, TensorError> {
        let managed = NonNull::new(managed).ok_or(TensorError::NullManagedTensor)?;
        // SAFETY: a valid managed tensor (caller).
        let dl = unsafe { &(*managed.as_ptr()).dl_tensor };
        let checks = |t: &Tensor| import_checks(t, require_alignment, require_contiguous);
        // SAFETY: the arrays are readable (caller), and the data lives until the deleter,
        // which runs when the owner drops.
        unsafe { import(dl, checks, || Owner::Legacy(managed)) }
    }

    /// Take over a DLPack 1.x tensor (`Tensor::FromDLPackVersioned`).
    ///
    /// As [`from_dlpack`](Self::from_dlpack), and also rejected: a major version other than
    /// 1 (only the version is read then; the caller calls the deleter, which DLPack keeps
    /// at a stable offset), and `DLPACK_FLAG_BITMASK_IS_SUBBYTE_TYPE_PADDED` (as the
    /// reference). Other flags are accepted and not kept.
    ///
    /// # Safety
    ///
    /// As for [`from_dlpack`](Self::from_dlpack), for a `DLManagedTensorVersioned`; when its
    /// major version is not 1, only its `version` needs to be readable.
    pub unsafe fn from_dlpack_versioned(
        managed: *mut DLManagedTensorVersioned,
        require_alignment: usize,
        require_contiguous: bool,
    ) -> Result<Self, TensorError> {
        let managed = NonNull::new(managed).ok_or(TensorError::NullManagedTensor)?;
        // SAFETY: the version is readable in every DLPack version (caller).
        let DLPackVersion { major, minor } = unsafe { (*managed.as_ptr()).version };
        if major != DLPACK_MAJOR_VERSION {
            return Err(TensorError::UnsupportedVersion { major, minor });
        }
        // SAFETY: a valid 1.x managed tensor (caller).
        let (dl, flags) = unsafe {
            let m = managed.as_ptr();
            (&(*m).dl_tensor, DLPackFlags((*m).flags))
        };
        let checks = |t: &Tensor| {
            import_checks(t, require_alignment, require_contiguous)?;
            if flags.contains(DLPackFlags::IS_SUBBYTE_TYPE_PADDED) {
                return Err(TensorError::SubbytePadded);
            }
            Ok(())
        };
        // SAFETY: as in `from_dlpack`.
        unsafe { import(dl, checks, || Owner::Versioned(managed)) }
    }

    /// A new pre-1.0 managed tensor sharing this tensor's data (`ToDLPack`).
    ///
    /// It holds a strong reference to the tensor object; its deleter releases that and frees
    /// the managed tensor. The consumer calls the deleter exactly once.
    #[must_use = "the tensor stays alive until the managed tensor's deleter is called"]
    #[inline]
    pub fn to_dlpack(&self) -> *mut DLManagedTensor {
        new_block(DLManagedTensor {
            dl_tensor: *self.as_dltensor(),
            manager_ctx: self.obj.clone().into_raw().cast(),
            deleter: Some(delete_legacy),
        })
    }

    /// A new DLPack 1.x managed tensor sharing this tensor's data (`ToDLPackVersioned`):
    /// version 1.3, no flags (as the reference: not read-only, not a copy).
    ///
    /// Ownership as for [`to_dlpack`](Self::to_dlpack).
    #[must_use = "the tensor stays alive until the managed tensor's deleter is called"]
    #[inline]
    pub fn to_dlpack_versioned(&self) -> *mut DLManagedTensorVersioned {
        new_block(DLManagedTensorVersioned {
            version: DLPackVersion { major: DLPACK_MAJOR_VERSION, minor: DLPACK_MINOR_VERSION },
            manager_ctx: self.obj.clone().into_raw().cast(),
            deleter: Some(delete_versioned),
            flags: 0,
            dl_tensor: *self.as_dltensor(),
        })
    }
}

/// `value` moved into a new heap block (straight from the C heap where there is one,
/// without the Rust allocator's layers), which the deleters free with [`block::free`].
#[inline]
fn new_block<T>(value: T) -> *mut T {
    const { assert!(align_of::<T>() <= block::ALIGN, "managed tensors fit a heap block") };
    let ptr = block::alloc_or_abort(size_of::<T>()).as_ptr().cast::<T>();
    // SAFETY: a fresh block, sized and aligned for `T`.
    unsafe { ptr.write(value) };
    ptr
}

/// Release the strong reference a managed tensor's `manager_ctx` holds.
///
/// # Safety
///
/// `ctx` came from `ObjectRef::into_raw` in `to_dlpack[_versioned]` and is released once.
unsafe fn release(ctx: *mut core::ffi::c_void) {
    // SAFETY: the caller hands over the strong reference.
    drop(unsafe { ObjectRef::<ObjectHeader>::from_raw(ctx.cast::<TVMFFIObject>()) });
}

/// Deleter of the managed tensors [`Tensor::to_dlpack`] makes.
unsafe extern "C" fn delete_legacy(managed: *mut DLManagedTensor) {
    if managed.is_null() {
        return;
    }
    // SAFETY: DLPack calls the deleter once with the tensor it belongs to, which
    // `to_dlpack` put in a block (holding no drop glue); its context is our strong
    // reference.
    unsafe {
        release((*managed).manager_ctx);
        block::free(managed.cast());
    }
}

/// Deleter of the managed tensors [`Tensor::to_dlpack_versioned`] makes.
unsafe extern "C" fn delete_versioned(managed: *mut DLManagedTensorVersioned) {
    if managed.is_null() {
        return;
    }
    // SAFETY: as in `delete_legacy`.
    unsafe {
        release((*managed).manager_ctx);
        block::free(managed.cast());
    }
}
