//! Memory for the host, and what a `no_std` wasm module needs from the language: an
//! allocator and a panic handler.
//!
//! A host writes arguments (the `TVMFFIAny` array, strings, `DLTensor`s and their buffers)
//! into the module's linear memory before a call. It asks for that memory with TVM's web
//! runtime convention, `void* TVMWasmAllocSpace(int size)` (8-byte aligned) and
//! `void TVMWasmFreeSpace(void* data)`, so JavaScript glue written for that runtime finds
//! the same two exports.

use core::alloc::Layout;
use core::ffi::{c_int, c_void};
use core::mem::size_of;

#[global_allocator]
static ALLOCATOR: dlmalloc::GlobalDlmalloc = dlmalloc::GlobalDlmalloc;

/// A panic traps: the host's call fails, and nothing unwinds into it.
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    core::arch::wasm32::unreachable()
}

/// The alignment of every space: that of `int64_t`, `double` and `TVMFFIAny`.
const ALIGN: usize = 8;
/// Each space starts with its total size (one aligned word), for `TVMWasmFreeSpace`.
const HEADER: usize = ALIGN;

const _: () = assert!(size_of::<usize>() <= HEADER);

/// The layout of a space of `size` bytes, header included; `None` when `size` is negative
/// or too large.
fn layout(size: c_int) -> Option<Layout> {
    let total = usize::try_from(size).ok()?.checked_add(HEADER)?;
    Layout::from_size_align(total, ALIGN).ok()
}

/// `TVMWasmAllocSpace`: `size` bytes, 8-byte aligned, uninitialised; null when `size` is
/// negative or memory is exhausted. Release it with [`TVMWasmFreeSpace`].
#[unsafe(no_mangle)]
pub extern "C" fn TVMWasmAllocSpace(size: c_int) -> *mut c_void {
    let Some(layout) = layout(size) else { return core::ptr::null_mut() };
    // SAFETY: `layout` has a non-zero size (it includes the header).
    let base = unsafe { alloc::alloc::alloc(layout) };
    if base.is_null() {
        return core::ptr::null_mut();
    }
    // SAFETY: `base` is valid for `layout.size() >= HEADER` bytes and aligned for `usize`.
    unsafe { base.cast::<usize>().write(layout.size()) };
    // SAFETY: within the allocation, since `layout.size() >= HEADER`.
    unsafe { base.add(HEADER) }.cast()
}

/// `TVMWasmFreeSpace`: release a space from [`TVMWasmAllocSpace`]; null is ignored.
///
/// # Safety
///
/// `data` is null, or a pointer `TVMWasmAllocSpace` returned that was not released yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn TVMWasmFreeSpace(data: *mut c_void) {
    if data.is_null() {
        return;
    }
    // SAFETY: `data` is `HEADER` bytes into an allocation of `TVMWasmAllocSpace` (caller).
    let base = unsafe { data.cast::<u8>().sub(HEADER) };
    // SAFETY: that allocation starts with its size, written at allocation.
    let total = unsafe { base.cast::<usize>().read() };
    // SAFETY: `base` came from `alloc` with this size and alignment (a valid layout then).
    unsafe { alloc::alloc::dealloc(base, Layout::from_size_align_unchecked(total, ALIGN)) };
}
