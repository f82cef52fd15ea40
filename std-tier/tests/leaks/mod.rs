//! What the leak tests (`soak.rs`, `leak_flat.rs`) share: the live-allocation counter, a
//! global allocator that forwards to the system's and counts what is live (every object,
//! buffer, string and registry entry is one allocation, so "as many allocations live after
//! a run as before it" is a live-object counter that also sees every other leak), and the
//! function and C call they exercise.
//!
//! Each test binary that uses it holds exactly one test, so that nothing else (the test
//! harness's other threads) allocates while it measures.
#![allow(dead_code)] // each test uses its own subset

use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicUsize, Ordering};
use std::alloc::System;

use tvmffi_alloc::seq::Array;
use tvmffi_alloc::{Error, Function};
use tvmffi_core::sys::{TVMFFIAny, TVMFFIObjectHandle};
use tvmffi_core::{Any, AnyView};

/// Counts the allocations that are live: the test's live-object counter.
pub struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged; the counters are only statistics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(1, Ordering::Relaxed);
            LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            LIVE.fetch_add(1, Ordering::Relaxed);
            LIVE_BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded; `ptr` came from this allocator with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(1, Ordering::Relaxed);
        LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's arguments.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE_BYTES.fetch_add(new_size, Ordering::Relaxed);
            LIVE_BYTES.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        p
    }
}

/// The allocations live now, and their bytes.
pub fn live() -> (usize, usize) {
    (LIVE.load(Ordering::SeqCst), LIVE_BYTES.load(Ordering::SeqCst))
}

/// The resident set in bytes (Linux), for the flatness check.
pub fn rss() -> Option<usize> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: usize = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// A function that builds a container of its arguments, or raises on a negative first
/// argument: calling it makes objects and errors.
pub fn pack() -> Function {
    Function::from_packed(|args: &[AnyView<'_>]| {
        if args.first().and_then(|a| a.get::<i64>().ok()).is_some_and(|n| n < 0) {
            return Err(Error::value_error("negative"));
        }
        let items: Vec<Any> = args.iter().map(|a| a.to_owned().unwrap_or_default()).collect();
        Ok(Array::from_vec(items).into())
    })
}

/// Call `f` through the C API with `args`.
pub fn call_c(f: &Function, args: &[AnyView<'_>]) -> Result<Any, Error> {
    let mut raw: Vec<TVMFFIAny> = args.iter().map(|a| *a.as_raw()).collect();
    let mut result = TVMFFIAny::NONE;
    let handle: TVMFFIObjectHandle = f.as_object().as_raw().cast();
    // SAFETY: a live function, valid argument views, a writable result slot.
    let rc = unsafe {
        tvmffi_core::sys::api::TVMFFIFunctionCall(
            handle,
            raw.as_mut_ptr(),
            raw.len() as i32,
            &mut result,
        )
    };
    if rc == 0 {
        // SAFETY: success wrote an owned value.
        Ok(unsafe { Any::from_raw(result) })
    } else {
        Err(Error::take_raised().expect("a failed call raised"))
    }
}
