//! Storage a map keeps outside its object: the pairs of a small map that outgrew its inline
//! room, and the blocks of a dense map. Each buffer is freed through the `data_deleter`
//! stored beside it, as the reference frees its own (`BlockDeleter`, or the deleter a
//! switched-in map brought along), so C++ may free ours and we theirs.
//!
//! Buffers are heap blocks (`malloc`ed where there is a C library, as the reference's
//! `new Block[]` is), freed by the block heap's `free`.

use core::ffi::c_void;
use core::mem::size_of;
use core::ptr::NonNull;

use super::MapError;
use super::layout::{BLOCK_BYTES, BLOCK_CAP, EMPTY, Kv};
use crate::block;

/// A data deleter (`void (*)(void*)`).
pub(crate) type Deleter = unsafe extern "C" fn(*mut c_void);

/// The deleter of buffers from this module.
pub(crate) const DELETER: Deleter = block::free;

/// `bytes` uninitialised bytes, aligned for pairs; aborts through `handle_alloc_error` if
/// the heap fails, as `Vec` does.
fn alloc_bytes(bytes: usize) -> Result<NonNull<u8>, MapError> {
    // Sized by tables, which must also index them with `isize`.
    if bytes > isize::MAX as usize {
        return Err(MapError::CapacityOverflow);
    }
    const { assert!(align_of::<Kv>() <= block::ALIGN) };
    // A block is never empty (`malloc(0)` may return null).
    Ok(block::alloc_or_abort(bytes.max(1)))
}

/// Room for `slots` pairs, uninitialised.
pub(crate) fn alloc_pairs(slots: u64) -> Result<NonNull<Kv>, MapError> {
    let slots = usize::try_from(slots).map_err(|_| MapError::CapacityOverflow)?;
    let bytes = slots.checked_mul(size_of::<Kv>()).ok_or(MapError::CapacityOverflow)?;
    alloc_bytes(bytes).map(NonNull::cast)
}

/// The blocks for `slots` dense slots (`ceil(slots / 16)` blocks), every slot empty.
pub(crate) fn alloc_blocks(slots: u64) -> Result<NonNull<u8>, MapError> {
    let blocks =
        usize::try_from(slots.div_ceil(BLOCK_CAP)).map_err(|_| MapError::CapacityOverflow)?;
    let bytes = blocks.checked_mul(BLOCK_BYTES).ok_or(MapError::CapacityOverflow)?;
    let data = alloc_bytes(bytes)?;
    for b in 0..blocks {
        // SAFETY: block `b` starts `b * BLOCK_BYTES` bytes in, inside the buffer; its first
        // 16 bytes are the metadata.
        unsafe { data.as_ptr().add(b * BLOCK_BYTES).write_bytes(EMPTY, BLOCK_CAP as usize) };
    }
    Ok(data)
}

/// A buffer a map no longer uses, whose contents were moved out: freed through its own
/// deleter when dropped.
pub(crate) struct OldBuffer {
    data: *mut c_void,
    deleter: Option<Deleter>,
}

impl OldBuffer {
    /// # Safety
    ///
    /// `deleter`, if set, frees `data`, which nothing uses any more.
    pub(crate) unsafe fn new(data: *mut c_void, deleter: Option<Deleter>) -> Self {
        Self { data, deleter }
    }
}

impl Drop for OldBuffer {
    fn drop(&mut self) {
        if let Some(deleter) = self.deleter {
            // SAFETY: the buffer's own deleter; its pairs were moved out (`new` contract).
            unsafe { deleter(self.data) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_start_empty_and_buffers_round_trip() {
        let blocks = alloc_blocks(17).unwrap();
        // SAFETY: two blocks' metadata bytes were initialised.
        let metas = unsafe {
            (
                core::slice::from_raw_parts(blocks.as_ptr(), 16),
                core::slice::from_raw_parts(blocks.as_ptr().add(BLOCK_BYTES), 16),
            )
        };
        assert!(metas.0.iter().chain(metas.1).all(|&m| m == EMPTY));
        assert_eq!(blocks.as_ptr() as usize % block::ALIGN, 0);
        // SAFETY: freed once, nothing inside needs dropping.
        drop(unsafe { OldBuffer::new(blocks.as_ptr().cast(), Some(DELETER)) });
        let pairs = alloc_pairs(3).unwrap();
        // SAFETY: as above.
        drop(unsafe { OldBuffer::new(pairs.as_ptr().cast(), Some(DELETER)) });
        assert!(matches!(alloc_pairs(u64::MAX), Err(MapError::CapacityOverflow)));
        assert!(matches!(alloc_blocks(u64::MAX), Err(MapError::CapacityOverflow)));
        // SAFETY: null is accepted.
        unsafe { DELETER(core::ptr::null_mut()) };
    }
}
