//! Views: new tensor objects that share a tensor's memory and keep it alive
//! (`TVMFFITensorCreateUnsafeView`, `Tensor::as_strided`).

use tvmffi_core::sys::DLTensor;
use tvmffi_core::{DataType, Device};

use super::check::{Dims, bytes_of, check_ndim, extent, is_direct_address};
use super::storage::{Owner, build};
use super::{Tensor, TensorError};

impl Tensor {
    /// A view with other extents and strides (in elements), starting `element_offset`
    /// elements further (`Tensor::as_strided`).
    ///
    /// Unlike the reference, the view is bounds-checked: every byte it addresses must be
    /// within the bytes this tensor addresses (else
    /// [`ViewOutOfBounds`](TensorError::ViewOutOfBounds)). As in the reference, on devices
    /// with plain addresses the byte offset is folded into the data pointer.
    pub fn as_strided(
        &self,
        shape: &[i64],
        strides: &[i64],
        element_offset: i64,
    ) -> Result<Tensor, TensorError> {
        if shape.len() != strides.len() {
            return Err(TensorError::StridesLength { shape: shape.len(), strides: strides.len() });
        }
        if element_offset < 0 {
            return Err(TensorError::NegativeOffset(element_offset));
        }
        let dtype = self.dtype();
        let skip = i64::try_from(bytes_of(i128::from(element_offset), dtype))
            .map_err(|_| TensorError::Overflow)?;
        let proto = self.prototype(shape.len(), dtype, skip)?;
        let dims = Dims::new(&proto, shape, Some(strides))?;
        if dims.extent.numel > 0 {
            // Checked on entry, so this cannot fail.
            let source = extent(self.shape(), &self.strides(), dtype)?;
            let lo = i128::from(skip) + i128::from(dims.extent.lo);
            let hi = i128::from(skip) + i128::from(dims.extent.hi);
            if lo < i128::from(source.lo) || hi > i128::from(source.hi) {
                return Err(TensorError::ViewOutOfBounds);
            }
        }
        // SAFETY: `dims` was checked against `proto`, and every byte the view addresses is
        // one this tensor addresses, valid while the source lives, which the owner ensures.
        Ok(unsafe { build(fold(proto), &dims, Owner::view_of(&self.obj)) })
    }

    /// A compact row-major view of `dtype`, `relative_byte_offset` bytes into this
    /// contiguous tensor's data (TVM's `NDArray::CreateView`): a reshape or reinterpretation.
    ///
    /// Fails with [`NotContiguous`](TensorError::NotContiguous) for a strided tensor and
    /// [`ViewOutOfBounds`](TensorError::ViewOutOfBounds) when the view does not fit.
    pub fn create_view(
        &self,
        shape: &[i64],
        dtype: DataType,
        relative_byte_offset: u64,
    ) -> Result<Tensor, TensorError> {
        if !self.is_contiguous() {
            return Err(TensorError::NotContiguous);
        }
        let skip = i64::try_from(relative_byte_offset).map_err(|_| TensorError::Overflow)?;
        let proto = self.prototype(shape.len(), dtype, skip)?;
        let dims = Dims::new(&proto, shape, None)?;
        let needed = i128::from(skip) + bytes_of(i128::from(dims.extent.numel), dtype);
        if dims.extent.numel > 0 && needed > i128::from(self.data_size()) {
            return Err(TensorError::ViewOutOfBounds);
        }
        // SAFETY: `dims` was checked against `proto`, and the view's bytes lie within this
        // tensor's compact data, valid while the source lives, which the owner ensures.
        Ok(unsafe { build(fold(proto), &dims, Owner::view_of(&self.obj)) })
    }

    /// A view described by `prototype`, keeping this tensor alive
    /// (`TVMFFITensorCreateUnsafeView`): its data pointer, device, dtype, extents, strides
    /// (compact row-major when null; the reference requires them) and byte offset are
    /// copied and checked, but not compared with this tensor's memory.
    ///
    /// # Safety
    ///
    /// Where `prototype.ndim` is in range, its non-null `shape` and `strides` are readable
    /// for `ndim` values (during this call). The memory it describes is memory this tensor
    /// keeps alive, readable from the host when the device is, and not written by anyone
    /// else while Rust code reads it.
    pub unsafe fn create_unsafe_view(&self, prototype: &DLTensor) -> Result<Tensor, TensorError> {
        // SAFETY: the arrays are readable as `Dims::read` needs (caller).
        let dims = unsafe { Dims::read(prototype) }?;
        // SAFETY: checked against the prototype, whose memory the source keeps alive
        // (caller); the owner keeps the source alive.
        Ok(unsafe { build(*prototype, &dims, Owner::view_of(&self.obj)) })
    }

    /// This tensor's metadata for a view of `ndim` axes and `dtype`, `skip` bytes further.
    fn prototype(&self, ndim: usize, dtype: DataType, skip: i64) -> Result<DLTensor, TensorError> {
        let ndim = check_ndim(i32::try_from(ndim).unwrap_or(i32::MAX))?;
        let mut proto = *self.as_dltensor();
        proto.ndim = ndim as i32;
        proto.dtype = dtype.as_raw();
        proto.byte_offset =
            proto.byte_offset.checked_add(skip as u64).ok_or(TensorError::Overflow)?;
        proto.shape = core::ptr::null_mut();
        proto.strides = core::ptr::null_mut();
        Ok(proto)
    }
}

/// Move the byte offset into the data pointer where the pointer is a plain address, as the
/// reference's `as_strided` does, so consumers that ignore `byte_offset` still work.
fn fold(mut proto: DLTensor) -> DLTensor {
    if proto.byte_offset != 0 && is_direct_address(Device::from_raw(proto.device)) {
        // Checked to stay in the address space; `wrapping` keeps it free of preconditions.
        proto.data = proto.data.wrapping_byte_add(proto.byte_offset as usize);
        proto.byte_offset = 0;
    }
    proto
}
