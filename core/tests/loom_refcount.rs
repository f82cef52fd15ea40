//! Loom models of the reference-counting protocol (`tvmffi_core::object::refcount`, the
//! code every `ObjectHeader` runs): clone/drop races, a weak upgrade racing the last strong
//! drop, and the last strong drop while weak references live.
//!
//! Loom runs each model under every interleaving and every outcome the C11 memory model
//! allows for the protocol's orderings (bounded by `LOOM_MAX_PREEMPTIONS`). The model
//! object keeps its payload and its "memory" in loom cells, so loom also reports any use of
//! the payload that does not happen before its destruction, and any access to the header
//! that does not happen before the memory is freed.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p tvmffi-core --release --test loom_refcount`
//! (`ci/reliability-short.sh` and `ci/reliability.sh` do).
#![cfg(loom)]

extern crate alloc;

use alloc::sync::Arc;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use loom::cell::UnsafeCell;
use loom::sync::atomic::AtomicU64;
use tvmffi_core::object::refcount::{self, Promote, Release};
use tvmffi_core::object::{BOTH_ONE, WEAK_ONE};

/// An object as the protocol sees it: the counter, a payload that strong references read
/// and the last one destroys, and a flag standing for the memory, freed by the last
/// reference of either kind. Shared through a std `Arc`, whose atomics loom does not see,
/// so it adds no ordering of its own.
struct Obj {
    count: AtomicU64,
    payload: UnsafeCell<Option<u64>>,
    freed: UnsafeCell<bool>,
    /// Bookkeeping outside the model: how often each deleter action ran.
    destroyed: AtomicUsize,
    freed_times: AtomicUsize,
}

// SAFETY: the cells are loom's, whose every access loom checks for races; the rest is
// atomic.
unsafe impl Sync for Obj {}
// SAFETY: as above; nothing in it is tied to a thread.
unsafe impl Send for Obj {}

impl Obj {
    /// A fresh object (strong 1, weak 1) plus `weak` weak references.
    fn new(weak: u64) -> Arc<Self> {
        Arc::new(Self {
            count: AtomicU64::new(BOTH_ONE + weak * WEAK_ONE),
            payload: UnsafeCell::new(Some(42)),
            freed: UnsafeCell::new(false),
            destroyed: AtomicUsize::new(0),
            freed_times: AtomicUsize::new(0),
        })
    }

    fn counter(&self) -> NonNull<AtomicU64> {
        NonNull::from(&self.count)
    }

    /// Touch the header, as every reference operation does: loom checks this read happens
    /// before the memory is freed.
    fn touch(&self) {
        // SAFETY: a plain read through loom's cell, which reports it if it races the free.
        let freed = self.freed.with(|f| unsafe { *f });
        assert!(!freed, "header used after free");
    }

    /// Use the payload through a strong reference.
    fn read_payload(&self) {
        // SAFETY: a plain read through loom's cell, which reports it if it races the destroy.
        let payload = self.payload.with(|p| unsafe { *p });
        assert_eq!(payload, Some(42), "payload used after destroy");
    }

    fn destroy(&self) {
        // SAFETY: a plain write through loom's cell, which reports it if it races a use.
        self.payload.with_mut(|p| unsafe { *p = None });
        self.destroyed.fetch_add(1, SeqCst);
    }

    fn free(&self) {
        // SAFETY: as above.
        self.freed.with_mut(|f| unsafe { *f = true });
        self.freed_times.fetch_add(1, SeqCst);
    }

    fn clone_strong(&self) {
        self.touch();
        assert!(refcount::inc_strong(&self.count));
    }

    fn clone_weak(&self) {
        self.touch();
        assert!(refcount::inc_weak(&self.count));
    }

    /// Drop a strong reference, doing what the protocol answers, as `ObjectHeader::dec_ref`.
    fn drop_strong(&self) {
        self.touch();
        // SAFETY: the caller owns a strong reference.
        match unsafe { refcount::release_strong(self.counter()) } {
            Release::Alive => {}
            Release::Both => {
                self.destroy();
                self.free();
            }
            Release::Strong => {
                self.destroy();
                self.drop_weak();
            }
        }
    }

    /// Drop a weak reference, as `ObjectHeader::dec_weak_ref`.
    fn drop_weak(&self) {
        self.touch();
        // SAFETY: the caller owns a weak reference.
        if unsafe { refcount::release_weak(self.counter()) } {
            self.free();
        }
    }

    /// Upgrade a weak reference; on success use the payload and drop the strong one.
    fn upgrade_and_use(&self) -> bool {
        self.touch();
        match refcount::promote(&self.count) {
            Promote::Alive => {
                self.read_payload();
                self.drop_strong();
                true
            }
            Promote::Dead => false,
            Promote::Overflow => unreachable!("two references cannot overflow"),
        }
    }

    /// After every reference is gone: destroyed once, freed once.
    fn check_end(&self) {
        assert_eq!(self.destroyed.load(SeqCst), 1, "payload destroyed exactly once");
        assert_eq!(self.freed_times.load(SeqCst), 1, "memory freed exactly once");
    }
}

/// Run `f` under loom, counting and reporting the interleavings explored (a counter of its
/// own: the test harness runs models in parallel).
fn model(name: &str, f: impl Fn() + Sync + Send + 'static) {
    let iterations = Arc::new(AtomicUsize::new(0));
    let counter = iterations.clone();
    loom::model(move || {
        counter.fetch_add(1, SeqCst);
        f();
    });
    println!("loom {name}: {} iterations", iterations.load(SeqCst));
}

#[test]
fn clones_and_drops_on_two_threads_destroy_once_after_every_use() {
    model("refcount clone/drop", || {
        let obj = Obj::new(0);
        obj.clone_strong();
        let other = obj.clone();
        let t = loom::thread::spawn(move || {
            other.read_payload();
            other.clone_strong();
            other.drop_strong();
            other.drop_strong();
        });
        obj.read_payload();
        obj.drop_strong();
        t.join().unwrap();
        obj.check_end();
    });
}

#[test]
fn an_upgrade_racing_the_last_strong_drop_never_resurrects() {
    model("refcount weak-upgrade race", || {
        let obj = Obj::new(1);
        let other = obj.clone();
        let t = loom::thread::spawn(move || {
            other.upgrade_and_use();
            other.drop_weak();
        });
        obj.drop_strong();
        t.join().unwrap();
        obj.check_end();
        // Once the strong count is zero, no upgrade succeeds.
        assert_eq!(refcount::promote(&obj.count), Promote::Dead);
    });
}

#[test]
fn the_last_strong_drop_with_weak_references_destroys_then_frees_once() {
    model("refcount last-strong-with-live-weak", || {
        let obj = Obj::new(1);
        let weak_holder = obj.clone();
        let t = loom::thread::spawn(move || {
            weak_holder.clone_weak();
            weak_holder.drop_weak();
            weak_holder.drop_weak();
        });
        obj.read_payload();
        obj.drop_strong();
        t.join().unwrap();
        obj.check_end();
    });
}

#[test]
fn upgrades_on_two_threads_race_the_last_drop() {
    model("refcount two upgrades", || {
        let obj = Obj::new(2);
        let (a, b) = (obj.clone(), obj.clone());
        let ta = loom::thread::spawn(move || {
            a.upgrade_and_use();
            a.drop_weak();
        });
        let tb = loom::thread::spawn(move || {
            b.upgrade_and_use();
            b.drop_weak();
        });
        obj.drop_strong();
        ta.join().unwrap();
        tb.join().unwrap();
        obj.check_end();
    });
}
