//! Loom model of the lock-free function registry (`SystemLib`, built with loom's atomics
//! and cells under `--cfg loom`): concurrent registration and lookup. Loom explores every
//! interleaving (bounded by `LOOM_MAX_PREEMPTIONS`) and reports any read of an entry that
//! does not happen after its write.
//!
//! Run with `RUSTFLAGS="--cfg loom" cargo test -p tvmffi-core --release --test loom_system_lib`.
#![cfg(loom)]

extern crate alloc;

use alloc::sync::Arc;
use core::ffi::c_void;
use core::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use tvmffi_core::sys::TVMFFIAny;
use tvmffi_core::system_lib::{RegistryFull, SystemFunction, SystemLib};

unsafe extern "C" fn f(_: *mut c_void, _: *const TVMFFIAny, _: i32, _: *mut TVMFFIAny) -> i32 {
    0
}

unsafe extern "C" fn g(_: *mut c_void, _: *const TVMFFIAny, _: i32, _: *mut TVMFFIAny) -> i32 {
    1
}

/// Which of the two an entry holds: `f` returns 0, `g` 1 (function addresses are not
/// unique enough to compare).
fn which(e: SystemFunction) -> i32 {
    // SAFETY: both ignore their arguments.
    unsafe { (e.safe_call())(core::ptr::null_mut(), core::ptr::null(), 0, core::ptr::null_mut()) }
}

/// Run `body` under loom, counting and reporting the interleavings explored (a counter of
/// its own: the test harness runs models in parallel).
fn model(name: &str, body: impl Fn() + Sync + Send + 'static) {
    let iterations = Arc::new(AtomicUsize::new(0));
    let counter = iterations.clone();
    loom::model(move || {
        counter.fetch_add(1, SeqCst);
        body();
    });
    println!("loom {name}: {} iterations", iterations.load(SeqCst));
}

#[test]
fn concurrent_registrations_and_a_lookup() {
    model("registry register/lookup", || {
        let lib = Arc::new(SystemLib::<2>::new());
        let (l1, l2) = (lib.clone(), lib.clone());
        // SAFETY: both entry points follow the packed convention.
        let t1 = loom::thread::spawn(move || unsafe { l1.register("a", f) }.unwrap());
        // SAFETY: as above.
        let t2 = loom::thread::spawn(move || unsafe { l2.register("b", g) }.unwrap());
        // A lookup while they run sees a registration completely or not at all.
        if let Some(found) = lib.get("a") {
            assert_eq!((found.name(), which(found)), ("a", 0));
        }
        assert!(lib.len() <= 2);
        t1.join().unwrap();
        t2.join().unwrap();
        assert_eq!(lib.get("a").map(which), Some(0));
        assert_eq!(lib.get("b").map(which), Some(1));
        // SAFETY: as above.
        assert_eq!(unsafe { lib.register("c", f) }, Err(RegistryFull { name: "c", capacity: 2 }));
    });
}

#[test]
fn racing_registrations_of_one_name_leave_one_visible() {
    model("registry shadowing race", || {
        let lib = Arc::new(SystemLib::<3>::new());
        let l1 = lib.clone();
        // SAFETY: both entry points follow the packed convention.
        let t1 = loom::thread::spawn(move || unsafe { l1.register("f", f) }.unwrap());
        // SAFETY: as above.
        unsafe { lib.register("f", g) }.unwrap();
        // Ours, or the other thread's if it came later: never a half-written entry.
        let seen = lib.get("f").expect("our own registration is visible");
        assert_eq!(seen.name(), "f");
        assert!(matches!(which(seen), 0 | 1));
        t1.join().unwrap();
        assert_eq!(lib.len(), 2, "a shadowed registration keeps its entry");
    });
}
