//! Raw memory blocks for objects and list buffers: the C library's `malloc` and `free` where
//! there is one, the Rust allocator with a size prefix elsewhere.
//!
//! Where there is a C library we use its heap, as the reference does (`AlignedAlloc` in
//! `tvm/ffi/memory.h` is `malloc`): an object is its block, with nothing before it, so our
//! blocks have the reference's sizes, and a buffer that C++ grows with `::operator new` or
//! frees with `::operator delete` (whose defaults are `malloc` and `free` in libstdc++,
//! libc++ and the MSVC runtime) shares one heap with ours.
//!
//! Targets without a C library (bare metal, `wasm32-unknown-unknown`) use the Rust
//! allocator, which needs a block's size to free it: each block starts with a prefix holding
//! its size (two pointers wide, keeping `malloc`'s alignment). No C or C++ there shares our heap.

use alloc::alloc::handle_alloc_error;
use core::alloc::Layout;
use core::ptr::NonNull;

#[cfg(any(unix, windows, target_os = "wasi"))]
pub(crate) use c_heap::{ALIGN, alloc, free};
#[cfg(not(any(unix, windows, target_os = "wasi")))]
pub(crate) use rust_heap::{ALIGN, alloc, free};

/// A block of `bytes` (non-zero) aligned to [`ALIGN`], or an abort through
/// `handle_alloc_error` where the heap has none, as `Box` and `Vec` do.
#[inline]
pub(crate) fn alloc_or_abort(bytes: usize) -> NonNull<u8> {
    NonNull::new(alloc(bytes)).unwrap_or_else(|| alloc_failed(bytes))
}

/// Abort for `bytes` the heap could not provide (`handle_alloc_error`).
#[cold]
pub(crate) fn alloc_failed(bytes: usize) -> ! {
    handle_alloc_error(Layout::from_size_align(bytes, ALIGN).unwrap_or(Layout::new::<u8>()))
}

/// The C library's heap, shared with C++'s default `::operator new`.
#[cfg(any(unix, windows, target_os = "wasi"))]
mod c_heap {
    use core::ffi::c_void;

    unsafe extern "C" {
        fn malloc(size: usize) -> *mut c_void;
        #[link_name = "free"]
        fn c_free(ptr: *mut c_void);
    }

    /// The alignment every block has at least, as much as objects and `TVMFFIAny` elements
    /// need: `malloc` aligns for any C scalar, 8 bytes or more on every C library (16 on
    /// most 64-bit ones, but not all: Miri's s390x gives 8).
    pub(crate) const ALIGN: usize = 8;

    /// A block of `bytes` (non-zero) aligned to [`ALIGN`], or null.
    #[inline]
    pub(crate) fn alloc(bytes: usize) -> *mut u8 {
        // SAFETY: `malloc` has no preconditions.
        unsafe { malloc(bytes) }.cast()
    }

    /// Free a block from [`alloc`](fn@alloc) (or from C++'s `::operator new`); null is ignored.
    ///
    /// # Safety
    ///
    /// `block` is null or a live block from `malloc` (directly or through `::operator new`).
    #[inline]
    pub(crate) unsafe extern "C" fn free(block: *mut c_void) {
        // SAFETY: the caller's contract is `free`'s.
        unsafe { c_free(block) }
    }
}

/// The Rust allocator, with the block's size stored in a prefix that [`free`] reads.
#[cfg_attr(any(unix, windows, target_os = "wasi"), allow(dead_code))]
mod rust_heap {
    use alloc::alloc::{alloc as rust_alloc, dealloc};
    use core::alloc::Layout;
    use core::ffi::c_void;

    /// Prefix size and block alignment: room for the size, and what `malloc` would give
    /// (8 bytes on 32-bit targets, 16 on 64-bit ones).
    pub(crate) const ALIGN: usize = 2 * core::mem::size_of::<usize>();

    /// A block of `bytes` (non-zero) aligned to [`ALIGN`], after a size prefix, or null.
    pub(crate) fn alloc(bytes: usize) -> *mut u8 {
        let Some(total) = bytes.checked_add(ALIGN) else { return core::ptr::null_mut() };
        let Ok(layout) = Layout::from_size_align(total, ALIGN) else {
            return core::ptr::null_mut();
        };
        // SAFETY: `layout` has a non-zero size (the prefix alone is 8 or 16 bytes).
        let base = unsafe { rust_alloc(layout) };
        if base.is_null() {
            return base;
        }
        // SAFETY: the block starts with `ALIGN` writable bytes, aligned for a `usize`.
        unsafe {
            base.cast::<usize>().write(total);
            base.add(ALIGN)
        }
    }

    /// Free a block from [`alloc`](fn@alloc); null is ignored.
    ///
    /// # Safety
    ///
    /// `block` is null or a live block from this module's [`alloc`](fn@alloc).
    pub(crate) unsafe extern "C" fn free(block: *mut c_void) {
        if block.is_null() {
            return;
        }
        // SAFETY: `block` sits `ALIGN` bytes into an allocation whose first `usize` is its
        // size, allocated with `ALIGN` alignment (the caller's contract).
        unsafe {
            let base = block.cast::<u8>().sub(ALIGN);
            let total = base.cast::<usize>().read();
            dealloc(base, Layout::from_size_align_unchecked(total, ALIGN));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::ffi::c_void;

    /// Fill blocks of a few sizes, read them back, free: Miri checks bounds, alignment and
    /// leaks.
    fn round_trip(
        alloc: fn(usize) -> *mut u8,
        free: unsafe extern "C" fn(*mut c_void),
        align: usize,
    ) {
        for n in [1usize, 3, 17, 4096] {
            let p = alloc(n * 8).cast::<u64>();
            assert!(!p.is_null());
            assert_eq!(p as usize % align, 0);
            for i in 0..n {
                // SAFETY: the block has room for `n` aligned u64 values.
                unsafe { p.add(i).write(i as u64 * 3) };
            }
            for i in 0..n {
                // SAFETY: written above.
                assert_eq!(unsafe { p.add(i).read() }, i as u64 * 3);
            }
            // SAFETY: a live block from `alloc`, freed once.
            unsafe { free(p.cast()) };
        }
        // SAFETY: null is accepted, as `::operator delete(nullptr)` is.
        unsafe { free(core::ptr::null_mut()) };
    }

    #[test]
    fn active_heap_round_trips() {
        round_trip(alloc, free, ALIGN);
    }

    #[test]
    fn rust_heap_round_trips() {
        round_trip(rust_heap::alloc, rust_heap::free, rust_heap::ALIGN);
    }
}
