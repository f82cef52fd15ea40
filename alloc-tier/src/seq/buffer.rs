//! Element buffers of lists: allocated apart from the object and freed through the cell's
//! `data_deleter`.
//!
//! The reference's `ListObj::Reserve` (`container/list.h`) allocates a new buffer with
//! `::operator new`, frees the old one through whatever `data_deleter` the cell holds, and
//! keeps that deleter. So once C++ has grown a list we made, our deleter is asked to free a
//! buffer from `::operator new`, and a C++ list that we grew gets our buffer freed by
//! `::operator delete`. Both work because our buffers are [`crate::block`]s, `malloc`ed
//! wherever there is a C library. Where there is none no C++ shares our heap, so a list
//! grown by foreign code on such a target must not be handed back to us.

use core::ffi::c_void;
use core::mem::size_of;

use tvmffi_core::Any;

use super::SeqError;
use crate::block;

/// Bytes one element takes: a `TVMFFIAny`.
const ELEM: usize = size_of::<Any>();

/// The most elements a buffer may hold: its byte size must fit an `isize`, as Rust layouts
/// and `::operator new` sizes in practice do.
pub(super) const MAX_CAPACITY: usize = isize::MAX as usize / ELEM;

/// A buffer of `capacity` uninitialised elements, freed by [`DELETER`]; null for capacity 0,
/// as the reference's `ListObj::Empty(0)` leaves it.
///
/// When the allocator fails, [`SeqError::OutOfMemory`]: a capacity a caller asked for
/// (`ffi.ListReserve(l, 10**12)`) is refused with an error, as the reference's `bad_alloc`
/// is. Growth that cannot report errors (`push`) aborts through [`alloc_failed`], as `Vec`'s.
pub(super) fn alloc(capacity: usize) -> Result<*mut Any, SeqError> {
    if capacity > MAX_CAPACITY {
        return Err(SeqError::CapacityOverflow);
    }
    if capacity == 0 {
        return Ok(core::ptr::null_mut());
    }
    let ptr = block::alloc(capacity * ELEM);
    if ptr.is_null() {
        return Err(SeqError::OutOfMemory { capacity });
    }
    Ok(ptr.cast())
}

/// Abort for a buffer of `capacity` elements the allocator could not provide, as `Vec`
/// does (`handle_alloc_error`).
#[cold]
pub(super) fn alloc_failed(capacity: usize) -> ! {
    block::alloc_failed(capacity.saturating_mul(ELEM))
}

/// The `data_deleter` of buffers from [`alloc`](fn@alloc).
pub(super) const DELETER: unsafe extern "C" fn(*mut c_void) = block::free;

#[cfg(test)]
mod tests {
    use super::*;

    /// Fill `n` elements, read them back, free: Miri checks bounds, alignment and leaks.
    #[test]
    fn buffers_hold_elements() {
        for n in [1usize, 3, 17] {
            let p = alloc(n).unwrap();
            assert!(!p.is_null());
            assert_eq!(p as usize % core::mem::align_of::<Any>(), 0);
            for i in 0..n {
                // SAFETY: the buffer has room for `n` aligned elements.
                unsafe { p.add(i).write(Any::from(i as i64)) };
            }
            for i in 0..n {
                // SAFETY: written above; read out once so each is dropped once.
                let v = unsafe { p.add(i).read() };
                assert_eq!(v.get::<i64>(), Ok(i as i64));
            }
            // SAFETY: a live buffer from `alloc`, freed once.
            unsafe { DELETER(p.cast()) };
        }
    }

    #[test]
    fn zero_capacity_is_null_and_huge_is_an_error() {
        assert_eq!(alloc(0).map(|p| p.is_null()), Ok(true));
        assert_eq!(alloc(MAX_CAPACITY + 1), Err(SeqError::CapacityOverflow));
        assert_eq!(alloc(usize::MAX), Err(SeqError::CapacityOverflow));
    }
}
