//! Storage a map keeps outside its object: the pairs of a small map that outgrew its inline
//! room, and the blocks of a dense map. Each buffer is freed through the `data_deleter`
//! stored beside it, as the reference frees its own (`BlockDeleter`, or the deleter a
//! switched-in map brought along), so C++ may free ours and we theirs.
//!
//! Buffers come from the Rust allocator, with their size in a prefix the deleter reads.

use alloc::alloc::{alloc, dealloc, handle_alloc_error};
use core::alloc::Layout;
use core::ffi::c_void;
use core::mem::size_of;
use core::ptr::NonNull;

use super::MapError;
use super::layout::{BLOCK_BYTES, BLOCK_CAP, EMPTY, Kv};

/// Room for the size, keeping what follows 16-aligned.
const PREFIX: usize = 16;

/// A data deleter (`void (*)(void*)`).
pub(crate) type Deleter = unsafe extern "C" fn(*mut c_void);

/// The deleter of buffers from this module.
pub(crate) const DELETER: Deleter = free;

/// `bytes` uninitialised bytes, 16-aligned; aborts through `handle_alloc_error` if the
/// allocator fails, as `Vec` does.
fn alloc_bytes(bytes: usize) -> Result<NonNull<u8>, MapError> {
    let total = bytes.checked_add(PREFIX).ok_or(MapError::CapacityOverflow)?;
    let layout = Layout::from_size_align(total, PREFIX).map_err(|_| MapError::CapacityOverflow)?;
    // SAFETY: the size is non-zero (the prefix alone is 16 bytes).
    let base = unsafe { alloc(layout) };
    if base.is_null() {
        handle_alloc_error(layout);
    }
    // SAFETY: the block starts with `PREFIX` writable bytes, aligned for a `usize`.
    unsafe {
        base.cast::<usize>().write(total);
        Ok(NonNull::new_unchecked(base.add(PREFIX)))
    }
}

/// Free a buffer from this module; null is ignored.
///
/// # Safety
///
/// `data` is null or a live buffer from this module, not used afterwards.
unsafe extern "C" fn free(data: *mut c_void) {
    if data.is_null() {
        return;
    }
    // SAFETY: `data` sits `PREFIX` bytes into a block whose first `usize` is its size,
    // allocated with `PREFIX` alignment (the caller's contract).
    unsafe {
        let base = data.cast::<u8>().sub(PREFIX);
        let total = base.cast::<usize>().read();
        dealloc(base, Layout::from_size_align_unchecked(total, PREFIX));
    }
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
    // Block arrays are sized by the table, which must also index them with `isize`.
    if bytes > isize::MAX as usize - PREFIX {
        return Err(MapError::CapacityOverflow);
    }
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
        assert_eq!(blocks.as_ptr() as usize % 16, 0);
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
