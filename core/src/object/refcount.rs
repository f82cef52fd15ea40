//! The reference-counting protocol on the combined counter, written once over the few
//! atomic operations it needs ([`Counter`]).
//!
//! [`ObjectHeader`](super::ObjectHeader) runs it on the counter inside every object; the
//! loom models (`core/tests/loom_refcount.rs`, built with `--cfg loom`) run the very same
//! functions on loom's counter, which explores every interleaving and memory ordering the
//! C11 model allows. The header's counter lives in C's layout, so it cannot itself be a
//! loom type: the protocol is what is shared.
//!
//! The functions that may end an object's life take the counter by pointer and report what
//! to destroy: a reference to memory that is freed during a call must not be one of its
//! arguments.

use core::ptr::NonNull;

use super::header::{BOTH_ONE, STRONG_ONE, WEAK_ONE};
use crate::atomic::Ordering;

const COUNT_MASK: u64 = u32::MAX as u64;

/// The atomic operations the protocol uses on a 64-bit counter.
pub trait Counter {
    /// `load`.
    fn load(&self, order: Ordering) -> u64;
    /// `fetch_add`, returning the previous value.
    fn fetch_add(&self, value: u64, order: Ordering) -> u64;
    /// `fetch_sub`, returning the previous value.
    fn fetch_sub(&self, value: u64, order: Ordering) -> u64;
    /// `compare_exchange_weak`.
    fn compare_exchange_weak(
        &self,
        current: u64,
        new: u64,
        success: Ordering,
        failure: Ordering,
    ) -> Result<u64, u64>;
}

macro_rules! counter {
    ($t:ty) => {
        impl Counter for $t {
            #[inline]
            fn load(&self, order: Ordering) -> u64 {
                <$t>::load(self, order)
            }
            #[inline]
            fn fetch_add(&self, value: u64, order: Ordering) -> u64 {
                <$t>::fetch_add(self, value, order)
            }
            #[inline]
            fn fetch_sub(&self, value: u64, order: Ordering) -> u64 {
                <$t>::fetch_sub(self, value, order)
            }
            #[inline]
            fn compare_exchange_weak(
                &self,
                current: u64,
                new: u64,
                success: Ordering,
                failure: Ordering,
            ) -> Result<u64, u64> {
                <$t>::compare_exchange_weak(self, current, new, success, failure)
            }
        }
    };
}

counter!(crate::atomic::AtomicU64);
#[cfg(loom)]
counter!(loom::sync::atomic::AtomicU64);

/// Add a strong reference; false when the strong count overflowed (the counter is then
/// corrupt and the object must be leaked). The caller holds a strong reference, so a
/// relaxed increment suffices: nothing is published by it.
#[inline]
pub fn inc_strong(counter: &impl Counter) -> bool {
    counter.fetch_add(STRONG_ONE, Ordering::Relaxed) & COUNT_MASK != COUNT_MASK
}

/// Add a weak reference; false when the weak count overflowed. The caller holds a strong
/// or a weak reference.
#[inline]
pub fn inc_weak(counter: &impl Counter) -> bool {
    counter.fetch_add(WEAK_ONE, Ordering::Relaxed) >> 32 != COUNT_MASK
}

/// What promoting a weak reference found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Promote {
    /// A strong reference was added.
    Alive,
    /// The strong count was zero: the payload is gone (or going).
    Dead,
    /// The strong count is at its maximum.
    Overflow,
}

/// Add a strong reference if the strong count is not zero; the caller holds a weak one.
/// The successful exchange acquires, so the new strong holder sees the payload as the last
/// release before it left it.
#[inline]
pub fn promote(counter: &impl Counter) -> Promote {
    let mut old = counter.load(Ordering::Relaxed);
    loop {
        match old & COUNT_MASK {
            0 => return Promote::Dead,
            COUNT_MASK => return Promote::Overflow,
            _ => {}
        }
        match counter.compare_exchange_weak(
            old,
            old + STRONG_ONE,
            Ordering::AcqRel,
            Ordering::Relaxed,
        ) {
            Ok(_) => return Promote::Alive,
            Err(now) => old = now,
        }
    }
}

/// What releasing a strong reference asks of the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// Other strong references remain: nothing to do.
    Alive,
    /// That was the last reference of either kind: destroy the payload and free the
    /// memory (`DeleterFlags::BOTH`).
    Both,
    /// That was the last strong reference while weak ones remain: destroy the payload
    /// (`DeleterFlags::STRONG`), then release the weak reference the strong ones owned
    /// together with [`release_weak`].
    Strong,
}

/// Release a strong reference. The decrement releases, so every use of the object by this
/// holder happens before the destruction; the last holder's acquiring load (not a fence,
/// which ThreadSanitizer misreads) makes every other holder's uses happen before it too.
///
/// # Safety
///
/// `counter` points to a live counter and the caller owns one strong reference, which
/// this call consumes.
#[inline]
pub unsafe fn release_strong<C: Counter>(counter: NonNull<C>) -> Release {
    // SAFETY: alive while the caller's strong reference is; the reference ends with the
    // statement.
    let old = unsafe { counter.as_ref() }.fetch_sub(STRONG_ONE, Ordering::Release);
    if old == BOTH_ONE {
        // SAFETY: as above: nothing is freed before the caller acts on the answer.
        unsafe { counter.as_ref() }.load(Ordering::Acquire);
        Release::Both
    } else if old & COUNT_MASK == STRONG_ONE {
        // SAFETY: as above.
        unsafe { counter.as_ref() }.load(Ordering::Acquire);
        Release::Strong
    } else {
        Release::Alive
    }
}

/// Release a weak reference; true when it was the last reference of either kind, and the
/// caller must free the memory (`DeleterFlags::WEAK`).
///
/// # Safety
///
/// `counter` points to a live counter and the caller owns one weak reference, which this
/// call consumes.
#[inline]
pub unsafe fn release_weak<C: Counter>(counter: NonNull<C>) -> bool {
    // SAFETY: alive while the caller's weak reference is; the reference ends with the
    // statement.
    if unsafe { counter.as_ref() }.fetch_sub(WEAK_ONE, Ordering::Release) == WEAK_ONE {
        // SAFETY: as above.
        unsafe { counter.as_ref() }.load(Ordering::Acquire);
        true
    } else {
        false
    }
}
