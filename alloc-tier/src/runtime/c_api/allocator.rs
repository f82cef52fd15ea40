//! The process-wide custom allocator registry (`TVMFFIGetCustomAllocator`,
//! `TVMFFISetCustomAllocator`) and its built-in default.
//!
//! As in the reference, the registry only stores the allocator for frontends and foreign
//! code that ask for it: objects made by this crate keep their own allocation scheme (the
//! reference's C++ `make_object` does not consult it either).

use alloc::alloc::{alloc, dealloc};
use core::alloc::Layout;
use core::ffi::{c_int, c_void};
use core::mem::size_of;
use core::sync::atomic::{AtomicPtr, Ordering};

use tvmffi_core::sys::{TVMFFICustomAllocator, TVMFFIObjectAllocHeader};

use super::Runtime;
use crate::error::Error;

/// The registered allocator; null means the built-in one.
static CURRENT: AtomicPtr<TVMFFICustomAllocator> = AtomicPtr::new(core::ptr::null_mut());

/// The built-in allocator, shared with C callers through a `*mut` they must not write.
struct Builtin(core::cell::UnsafeCell<TVMFFICustomAllocator>);
// SAFETY: never written after construction; the context is null.
unsafe impl Sync for Builtin {}
static BUILTIN: Builtin = Builtin(core::cell::UnsafeCell::new(TVMFFICustomAllocator {
    allocate: Some(builtin_allocate),
    context: core::ptr::null_mut(),
}));

/// `TVMFFIGetCustomAllocator`: the registered allocator, or the built-in default.
///
/// # Safety
///
/// None (the signature matches the other bodies).
pub unsafe fn get_custom_allocator<R: Runtime>() -> *mut TVMFFICustomAllocator {
    let current = CURRENT.load(Ordering::Acquire);
    if current.is_null() { BUILTIN.0.get() } else { current }
}

/// `TVMFFISetCustomAllocator`: register `allocator` (null restores the built-in default).
///
/// # Safety
///
/// `allocator` is null or valid, with its context, for the rest of the program.
pub unsafe fn set_custom_allocator<R: Runtime>(allocator: *mut TVMFFICustomAllocator) -> c_int {
    CURRENT.store(allocator, Ordering::Release);
    0
}

/// Bytes before the body: the size, the alignment and the alloc header, rounded up to the
/// alignment so the body stays aligned.
fn prefix(align: usize) -> usize {
    const WORDS: usize = 3 * size_of::<usize>();
    WORDS.next_multiple_of(align)
}

/// The built-in allocator: the body follows a prefix that ends with the
/// `TVMFFIObjectAllocHeader` the C API requires, whose `delete_space` frees the block.
unsafe extern "C" fn builtin_allocate(
    size: usize,
    alignment: usize,
    _type_index: i32,
    _context: *mut c_void,
) -> *mut c_void {
    let align = alignment.max(size_of::<usize>());
    let layout = (alignment == 0 || alignment.is_power_of_two())
        .then(|| prefix(align).checked_add(size))
        .flatten()
        .and_then(|total| Layout::from_size_align(total, align).ok());
    let Some(layout) = layout else {
        let e = Error::value_error(alloc::format!(
            "TVMFFICustomAllocator: cannot allocate {size} bytes aligned to {alignment}"
        ));
        e.raise();
        return core::ptr::null_mut();
    };
    // SAFETY: the layout has a non-zero size (the prefix alone is 24 bytes).
    let base = unsafe { alloc(layout) };
    if base.is_null() {
        Error::new("MemoryError", alloc::format!("failed to allocate {} bytes", layout.size()))
            .raise();
        return core::ptr::null_mut();
    }
    // SAFETY: the prefix lies inside the block and is usize-aligned; the body follows it.
    unsafe {
        let body = base.add(prefix(align));
        let words = body.cast::<usize>();
        words.sub(3).write(layout.size());
        words.sub(2).write(align);
        words
            .sub(1)
            .cast::<TVMFFIObjectAllocHeader>()
            .write(TVMFFIObjectAllocHeader { delete_space: Some(builtin_delete_space) });
        body.cast()
    }
}

/// `delete_space` for blocks of [`builtin_allocate`].
unsafe extern "C" fn builtin_delete_space(body: *mut c_void) {
    // SAFETY: `body` came from `builtin_allocate`, whose prefix records the layout.
    unsafe {
        let words = body.cast::<usize>();
        let (size, align) = (words.sub(3).read(), words.sub(2).read());
        let base = body.cast::<u8>().sub(prefix(align));
        dealloc(base, Layout::from_size_align_unchecked(size, align));
    }
}
