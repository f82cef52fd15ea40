//! Element buffers of lists: allocated apart from the object and freed through the cell's
//! `data_deleter`.
//!
//! The reference's `ListObj::Reserve` (`container/list.h`) allocates a new buffer with
//! `::operator new`, frees the old one through whatever `data_deleter` the cell holds, and
//! keeps that deleter. So once C++ has grown a list we made, our deleter is asked to free a
//! buffer from `::operator new`, and a C++ list that we grew gets our buffer freed by
//! `::operator delete`. Both only work if the two sides share one heap: where there is a C
//! library we allocate with `malloc` and free with `free`, which is what the default
//! `::operator new` / `::operator delete` of libstdc++, libc++ and the MSVC runtime use.
//!
//! Targets without a C library (bare metal, `wasm32-unknown-unknown`) use the Rust allocator
//! with a size prefix instead. No C++ there shares our heap, so a list grown by foreign code
//! on such a target must not be handed back to us.

use core::ffi::c_void;
use core::mem::size_of;

use tvmffi_core::Any;

use super::SeqError;

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
    let ptr = heap::alloc(capacity * ELEM);
    if ptr.is_null() {
        return Err(SeqError::OutOfMemory { capacity });
    }
    Ok(ptr.cast())
}

/// Abort for a buffer of `capacity` elements the allocator could not provide, as `Vec`
/// does (`handle_alloc_error`).
#[cold]
pub(super) fn alloc_failed(capacity: usize) -> ! {
    alloc::alloc::handle_alloc_error(heap::layout(capacity.saturating_mul(ELEM)))
}

/// The `data_deleter` of buffers from [`alloc`].
pub(super) const DELETER: unsafe extern "C" fn(*mut c_void) = heap::free;

#[cfg(any(unix, windows, target_os = "wasi"))]
use c_heap as heap;
#[cfg(not(any(unix, windows, target_os = "wasi")))]
use rust_heap as heap;

/// The C library's heap, shared with C++'s default `::operator new`.
#[cfg(any(unix, windows, target_os = "wasi"))]
mod c_heap {
    use core::alloc::Layout;
    use core::ffi::c_void;

    unsafe extern "C" {
        fn malloc(size: usize) -> *mut c_void;
        #[link_name = "free"]
        fn c_free(ptr: *mut c_void);
    }

    /// `bytes` of memory aligned for any C scalar (so for `TVMFFIAny`), or null.
    pub(super) fn alloc(bytes: usize) -> *mut u8 {
        // SAFETY: `malloc` has no preconditions; `bytes` is non-zero.
        unsafe { malloc(bytes) }.cast()
    }

    /// The layout to report when `alloc` fails.
    pub(super) fn layout(bytes: usize) -> Layout {
        Layout::from_size_align(bytes, 16).unwrap_or(Layout::new::<u8>())
    }

    /// Free a buffer from `alloc` (or from C++'s `::operator new`); null is ignored.
    ///
    /// # Safety
    ///
    /// `data` is null or a live block from `malloc` (directly or through `::operator new`).
    pub(super) unsafe extern "C" fn free(data: *mut c_void) {
        // SAFETY: the caller's contract is `free`'s.
        unsafe { c_free(data) }
    }
}

/// The Rust allocator, with the block's size stored in a prefix that the deleter reads.
#[cfg_attr(any(unix, windows, target_os = "wasi"), allow(dead_code))]
mod rust_heap {
    use alloc::alloc::{alloc as rust_alloc, dealloc};
    use core::alloc::Layout;
    use core::ffi::c_void;

    /// Prefix size and block alignment: room for the size, keeping elements 16-aligned.
    const PREFIX: usize = 16;

    pub(super) fn layout(bytes: usize) -> Layout {
        Layout::from_size_align(bytes.saturating_add(PREFIX), PREFIX).unwrap_or(Layout::new::<u8>())
    }

    /// `bytes` of memory after a size prefix, or null.
    pub(super) fn alloc(bytes: usize) -> *mut u8 {
        let Some(total) = bytes.checked_add(PREFIX) else { return core::ptr::null_mut() };
        let Ok(layout) = Layout::from_size_align(total, PREFIX) else {
            return core::ptr::null_mut();
        };
        // SAFETY: `layout` has a non-zero size (the prefix alone is 16 bytes).
        let base = unsafe { rust_alloc(layout) };
        if base.is_null() {
            return base;
        }
        // SAFETY: the block starts with `PREFIX` writable bytes, aligned for a `usize`.
        unsafe {
            base.cast::<usize>().write(total);
            base.add(PREFIX)
        }
    }

    /// Free a buffer from `alloc`; null is ignored.
    ///
    /// # Safety
    ///
    /// `data` is null or a live buffer from this module's `alloc`.
    pub(super) unsafe extern "C" fn free(data: *mut c_void) {
        if data.is_null() {
            return;
        }
        // SAFETY: `data` sits `PREFIX` bytes into a block whose first `usize` is the block's
        // size, allocated with `PREFIX` alignment (the caller's contract).
        unsafe {
            let base = data.cast::<u8>().sub(PREFIX);
            let total = base.cast::<usize>().read();
            dealloc(base, Layout::from_size_align_unchecked(total, PREFIX));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fill `n` elements, read them back, free: Miri checks bounds, alignment and leaks.
    fn round_trip(alloc: fn(usize) -> *mut u8, free: unsafe extern "C" fn(*mut c_void)) {
        for n in [1usize, 3, 17] {
            let p = alloc(n * ELEM).cast::<Any>();
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
            unsafe { free(p.cast()) };
        }
        // SAFETY: null is accepted, as `::operator delete(nullptr)` is.
        unsafe { free(core::ptr::null_mut()) };
    }

    #[test]
    fn active_heap_round_trips() {
        round_trip(heap::alloc, DELETER);
    }

    #[test]
    fn rust_heap_round_trips() {
        round_trip(rust_heap::alloc, rust_heap::free);
    }

    #[test]
    fn zero_capacity_is_null_and_huge_is_an_error() {
        assert_eq!(alloc(0).map(|p| p.is_null()), Ok(true));
        assert_eq!(alloc(MAX_CAPACITY + 1), Err(SeqError::CapacityOverflow));
        assert_eq!(alloc(usize::MAX), Err(SeqError::CapacityOverflow));
    }
}
