//! What the sequence tests share: serialisation of tests that may raise errors, static
//! function objects whose strong count tracks how many elements hold them, the cell as C++
//! reaches it, and a buffer "someone else" allocated with the deleter that frees it.

use alloc::alloc::{alloc, dealloc};
use core::alloc::Layout;
use core::cell::Cell;
use core::ffi::c_void;
use core::mem::size_of;

use tvmffi_alloc::seq::List;
use tvmffi_core::sys::{TVMFFIAny, TVMFFIFunctionCell, TVMFFIObject, TVMFFISeqCell};
use tvmffi_core::{Any, StaticObject};

/// The `runtime` feature keeps one global error slot: tests whose calls may raise errors run
/// one at a time, or one may take an error another raised. (No error is fetched here: these
/// tests also run without a runtime, in the workspace's build and on wasm32.)
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// A function object in static memory whose strong count tracks how many elements hold it.
macro_rules! static_function {
    ($name:ident) => {
        static $name: StaticObject<TVMFFIFunctionCell> = StaticObject::new(
            TypeIndex::FUNCTION,
            TVMFFIFunctionCell { safe_call: None, cpp_call: core::ptr::null_mut() },
        );
    };
}

pub fn fref(f: &'static StaticObject<TVMFFIFunctionCell>) -> Any {
    Any::from(f.new_ref())
}

pub fn strong(f: &StaticObject<TVMFFIFunctionCell>) -> u32 {
    f.header().strong_count()
}

/// The cell of a sequence object, as C++ reaches it: right after the 24-byte header.
pub fn cell(obj: *mut TVMFFIObject) -> *mut TVMFFISeqCell {
    obj.cast::<u8>().wrapping_add(size_of::<TVMFFIObject>()).cast()
}

pub fn ints(list: &List) -> Vec<i64> {
    list.iter().map(|v| v.get::<i64>().unwrap()).collect()
}

pub const fn scale(n: usize, miri: usize) -> usize {
    if cfg!(miri) { miri } else { n }
}

thread_local! {
    pub static FOREIGN_FREES: Cell<usize> = const { Cell::new(0) };
}
pub const FOREIGN_CAP: usize = 8;

fn foreign_layout() -> Layout {
    Layout::array::<TVMFFIAny>(FOREIGN_CAP).unwrap()
}

/// A buffer "someone else" allocated, with the deleter that frees it.
pub fn foreign_buffer() -> *mut Any {
    // Each test counts its own frees; on single-threaded targets (wasm) tests share a thread.
    FOREIGN_FREES.with(|c| c.set(0));
    // SAFETY: non-zero size.
    let p = unsafe { alloc(foreign_layout()) };
    assert!(!p.is_null());
    p.cast()
}

pub unsafe extern "C" fn foreign_free(data: *mut c_void) {
    if !data.is_null() {
        // SAFETY: every non-null pointer handed here came from `foreign_buffer`.
        unsafe { dealloc(data.cast(), foreign_layout()) };
    }
    FOREIGN_FREES.with(|c| c.set(c.get() + 1));
}
