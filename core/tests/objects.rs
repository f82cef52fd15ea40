//! Owning and weak references, the deleter protocol, and allocator-free storage.
//!
//! Heap objects here are made with `Box` and a C-style deleter that logs every call, so the
//! tests see the exact flag sequence and the moment the payload is dropped.

extern crate alloc;

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ffi::{c_int, c_void};
use core::mem::MaybeUninit;
use core::ptr;
use core::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::thread;

use tvmffi_core::TypeIndex;
use tvmffi_core::flags::DeleterFlags;
use tvmffi_core::object::{
    Object, ObjectHeader, ObjectPool, ObjectRef, ObjectType, Payload, StaticObject, WeakRef,
};
use tvmffi_core::sys::{TVMFFIFunctionCell, TVMFFIObject};

const PROBE: TypeIndex = TypeIndex(TypeIndex::DYN_OBJECT_BEGIN.0 + 1);
const ALIVE: u64 = 0x5eed_f00d_cafe_b0ba;

fn iterations() -> usize {
    if cfg!(miri) { 50 } else { 10_000 }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    Deleter(DeleterFlags),
    PayloadDropped(u32),
}

type Log = Arc<Mutex<Vec<Event>>>;

fn new_log() -> Log {
    Arc::new(Mutex::new(Vec::new()))
}

fn events(log: &Log) -> Vec<Event> {
    log.lock().unwrap().clone()
}

/// A payload that logs its drop and carries a canary that its drop clears.
struct Probe {
    id: u32,
    canary: u64,
    log: Log,
}

impl Probe {
    fn new(id: u32, log: &Log) -> Self {
        Self { id, canary: ALIVE, log: log.clone() }
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        assert_eq!(self.canary, ALIVE, "payload dropped twice");
        self.canary = 0;
        self.log.lock().unwrap().push(Event::PayloadDropped(self.id));
    }
}

// SAFETY: these tests make objects of `PROBE` only with a `Probe` payload.
unsafe impl Payload for Probe {
    const TYPE_KEY: &'static str = "test.Probe";
    fn is_instance(type_index: TypeIndex) -> bool {
        type_index == PROBE
    }
}

/// A heap object: the object first, then what the deleter needs after the payload is gone.
/// Aligned to 8 for the atomic counter, which `Box` would not give on i686.
#[repr(C, align(8))]
struct Boxed {
    object: Object<Probe>,
    log: Log,
}

/// Logs the call, then drops the payload on `STRONG` and frees the box on `WEAK`.
///
/// # Safety
///
/// `ptr` is a `Boxed` from [`heap`], and the flags follow the object protocol.
unsafe extern "C" fn logging_deleter(ptr: *mut c_void, flags: c_int) {
    let flags = DeleterFlags(flags);
    let boxed = ptr.cast::<Boxed>();
    // SAFETY: the box is allocated until the `WEAK` step below; `log` is never dropped
    // before that, and only read here.
    let log = unsafe { &(*boxed).log }.clone();
    log.lock().unwrap().push(Event::Deleter(flags));
    if flags.contains(DeleterFlags::STRONG) {
        // SAFETY: `STRONG` comes once, after the last strong reference; the pointer is the
        // box's own and may write.
        unsafe { Object::drop_payload(boxed.cast::<Object<Probe>>()) };
    }
    if flags.contains(DeleterFlags::WEAK) {
        // SAFETY: no reference of either kind is left. Drop the log handle, then free the
        // memory without dropping the (already dropped) payload.
        unsafe {
            drop(ptr::read(&raw const (*boxed).log));
            drop(alloc::boxed::Box::from_raw(boxed.cast::<MaybeUninit<Boxed>>()));
        }
    }
}

fn heap(id: u32, log: &Log) -> ObjectRef<Object<Probe>> {
    let boxed = Box::new(Boxed {
        object: Object::new(PROBE, Some(logging_deleter), Probe::new(id, log)),
        log: log.clone(),
    });
    // SAFETY: a fresh object holds one strong reference, which `from_raw` takes over; the
    // box is 8-aligned and its deleter frees it.
    unsafe { ObjectRef::from_raw(Box::into_raw(boxed).cast()) }.unwrap()
}

const STRONG: Event = Event::Deleter(DeleterFlags::STRONG);
const WEAK: Event = Event::Deleter(DeleterFlags::WEAK);
const BOTH: Event = Event::Deleter(DeleterFlags::BOTH);

#[test]
fn clone_and_drop_count_and_the_last_drop_destroys_and_frees_at_once() {
    let log = new_log();
    let a = heap(1, &log);
    assert_eq!((a.strong_count(), a.weak_count()), (1, 1));
    let clones: Vec<_> = (0..3).map(|_| a.clone()).collect();
    assert_eq!((a.strong_count(), a.weak_count()), (4, 1));
    assert!(clones.iter().all(|c| c.ptr_eq(&a) && c.id == 1));
    drop(clones);
    assert_eq!(a.strong_count(), 1);
    assert!(events(&log).is_empty());
    drop(a);
    assert_eq!(events(&log), [BOTH, Event::PayloadDropped(1)]);
}

#[test]
fn into_raw_and_from_raw_round_trip_without_touching_counts() {
    let log = new_log();
    let a = heap(2, &log);
    let keep = a.clone();
    let raw: *mut TVMFFIObject = a.into_raw();
    assert_eq!(raw, keep.as_raw());
    assert_eq!(keep.strong_count(), 2, "into_raw keeps the reference alive");

    // SAFETY: `raw` is alive (we hold `keep`), and we hold no reference through it.
    let borrowed = unsafe { ObjectRef::<ObjectHeader>::from_raw_borrowed(raw) }.unwrap();
    assert_eq!(keep.strong_count(), 3);
    drop(borrowed);

    // SAFETY: `raw` carries the strong reference `into_raw` gave away.
    let back = unsafe { ObjectRef::<Object<Probe>>::from_raw(raw) }.unwrap();
    assert!(back.ptr_eq(&keep));
    assert_eq!((back.strong_count(), back.type_index(), back.id), (2, PROBE, 2));
    // SAFETY: null is allowed and yields `None`.
    assert!(unsafe { ObjectRef::<ObjectHeader>::from_raw(ptr::null_mut()) }.is_none());
    // SAFETY: as above.
    assert!(unsafe { ObjectRef::<ObjectHeader>::from_raw_borrowed(ptr::null_mut()) }.is_none());
    drop((back, keep));
    assert_eq!(events(&log), [BOTH, Event::PayloadDropped(2)]);
}

#[test]
fn downcast_checks_the_type_index_and_gives_the_original_back() {
    let log = new_log();
    let any: ObjectRef = heap(3, &log).upcast();
    assert_eq!(any.type_index(), PROBE);

    let any = any.downcast::<Object<TVMFFIFunctionCell>>().unwrap_err();
    assert_eq!((any.strong_count(), any.type_index()), (1, PROBE), "failure changes nothing");

    let probe = any.downcast::<Object<Probe>>().unwrap();
    assert_eq!((probe.id, probe.strong_count()), (3, 1));
    let header = probe.clone().downcast::<ObjectHeader>().unwrap();
    assert!(header.ptr_eq(&probe));
    drop((probe, header));
    assert_eq!(events(&log), [BOTH, Event::PayloadDropped(3)]);
}

#[test]
fn last_strong_drop_with_weak_refs_destroys_now_and_frees_later() {
    let log = new_log();
    let strong = heap(4, &log);
    let weak = strong.downgrade();
    let weak2 = weak.clone();
    assert_eq!((strong.strong_count(), strong.weak_count()), (1, 3));

    let again = weak.upgrade().expect("alive");
    assert_eq!((again.id, again.strong_count()), (4, 2));
    drop(again);
    drop(strong);
    assert_eq!(events(&log), [STRONG, Event::PayloadDropped(4)], "payload dropped at once");

    // The memory is still there for the weak references: counts read, upgrade refuses.
    assert_eq!((weak.strong_count(), weak.weak_count()), (0, 2));
    assert!(weak.upgrade().is_none());
    assert!(weak2.upgrade().is_none());
    assert!(weak.ptr_eq(&weak2));
    drop(weak);
    assert_eq!(events(&log).len(), 2, "one weak reference is left");
    drop(weak2);
    assert_eq!(events(&log), [STRONG, Event::PayloadDropped(4), WEAK]);
}

#[test]
fn weak_references_keep_no_payload_alive_and_typed_weak_upgrades_typed() {
    let log = new_log();
    let strong = heap(5, &log);
    let weak: WeakRef<Object<Probe>> = strong.downgrade();
    let upgraded: ObjectRef<Object<Probe>> = weak.upgrade().unwrap();
    assert_eq!(upgraded.canary, ALIVE);
    drop((strong, upgraded));
    assert!(weak.upgrade().is_none());
    drop(weak);
    assert_eq!(events(&log), [STRONG, Event::PayloadDropped(5), WEAK]);
}

#[test]
fn pool_returns_the_payload_when_full_and_reuses_freed_slots() {
    static POOL: ObjectPool<Probe, 2> = ObjectPool::new();
    let log = new_log();
    assert_eq!((POOL.available(), POOL.capacity()), (2, 2));
    let a = POOL.alloc(PROBE, Probe::new(10, &log)).ok().unwrap();
    let b = POOL.alloc(PROBE, Probe::new(11, &log)).ok().unwrap();
    assert_eq!(POOL.available(), 0);

    let refused = POOL.alloc(PROBE, Probe::new(12, &log)).expect_err("pool is full");
    assert_eq!(refused.id, 12);
    drop(refused);
    assert_eq!(events(&log), [Event::PayloadDropped(12)]);

    // A weak reference keeps the slot taken after the payload is gone.
    let a_addr = a.as_raw();
    let weak = a.downgrade();
    drop(a);
    assert_eq!(events(&log)[1..], [Event::PayloadDropped(10)]);
    assert_eq!(POOL.available(), 0);
    assert!(weak.upgrade().is_none());
    drop(weak);
    assert_eq!(POOL.available(), 1);

    let c = POOL.alloc(PROBE, Probe::new(13, &log)).ok().unwrap();
    assert_eq!(c.as_raw(), a_addr, "the freed slot is reused");
    assert_eq!((c.id, c.strong_count(), c.weak_count()), (13, 1, 1));
    drop((b, c));
    assert_eq!(POOL.available(), 2);
    let mut dropped: Vec<_> = events(&log)
        .into_iter()
        .filter_map(|e| match e {
            Event::PayloadDropped(id) => Some(id),
            Event::Deleter(_) => None,
        })
        .collect();
    dropped.sort_unstable();
    assert_eq!(dropped, [10, 11, 12, 13], "every payload dropped exactly once");
}

#[test]
fn static_objects_are_never_freed_and_return_to_one_reference() {
    struct Config {
        drops: &'static AtomicUsize,
    }
    impl Drop for Config {
        fn drop(&mut self) {
            self.drops.fetch_add(1, Ordering::Relaxed);
        }
    }
    // SAFETY: this test makes objects of index 4000 only with a `Config` payload.
    unsafe impl Payload for Config {
        const TYPE_KEY: &'static str = "test.Config";
        fn is_instance(type_index: TypeIndex) -> bool {
            type_index == TypeIndex(4000)
        }
    }
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    static CONFIG: StaticObject<Config> =
        StaticObject::new(TypeIndex(4000), Config { drops: &DROPS });

    assert_eq!(CONFIG.header().as_raw() as usize % 8, 0);
    let refs: Vec<_> = (0..4).map(|_| CONFIG.new_ref()).collect();
    assert_eq!(CONFIG.header().strong_count(), 5);
    let weak = refs[0].downgrade();
    let any = refs[1].clone().upcast();
    drop(refs);
    drop(any);
    assert_eq!((CONFIG.header().strong_count(), CONFIG.header().weak_count()), (1, 2));
    assert!(weak.upgrade().is_some(), "the static's own reference keeps it alive");
    drop(weak);
    assert_eq!((CONFIG.header().strong_count(), CONFIG.header().weak_count()), (1, 1));
    assert_eq!(DROPS.load(Ordering::Relaxed), 0);
    assert!(CONFIG.header().deleter().is_none());
}

#[test]
fn static_function_cell_object_has_the_c_layout() {
    extern "C" fn call(
        _: *mut c_void,
        _: *const tvmffi_core::sys::TVMFFIAny,
        _: i32,
        _: *mut tvmffi_core::sys::TVMFFIAny,
    ) -> i32 {
        42
    }
    let cell = TVMFFIFunctionCell { safe_call: Some(call), cpp_call: ptr::null_mut() };
    // `TVMFFIFunctionCell` is not `Sync` (raw pointers), so leak one instead of a `static`.
    let leaked = Box::into_raw(Box::new(StaticObject::new(TypeIndex::FUNCTION, cell)));
    // SAFETY: the box is reclaimed below only after the last use of `f`.
    let f: &'static StaticObject<TVMFFIFunctionCell> = unsafe { &*leaked };
    let r = f.new_ref();
    assert_eq!(<Object<TVMFFIFunctionCell>>::TYPE_KEY, "ffi.Function");
    // The cell sits right after the 24-byte header, as C reads it.
    // SAFETY: the object is alive; offset 24 is the cell inside it.
    let c_cell = unsafe { &*r.as_raw().cast::<u8>().add(24).cast::<TVMFFIFunctionCell>() };
    // Function pointers have no stable identity to compare, so call it.
    // SAFETY: `call` ignores its arguments.
    let rc =
        unsafe { (c_cell.safe_call.unwrap())(ptr::null_mut(), ptr::null(), 0, ptr::null_mut()) };
    assert_eq!(rc, 42);
    assert!(<Object<TVMFFIFunctionCell>>::is_instance(r.type_index()));
    assert!(!<Object<TVMFFIFunctionCell>>::is_instance(TypeIndex::STR));
    drop(r);
    assert_eq!(f.header().strong_count(), 1);
    // SAFETY: every reference handed out is gone, so the leaked box may be reclaimed.
    drop(unsafe { Box::from_raw(leaked) });
}

#[test]
#[should_panic(expected = "does not hold a test.Marker")]
#[cfg_attr(target_os = "wasi", ignore = "panics abort on wasm32-wasip1")]
fn static_object_with_a_foreign_index_refuses_references() {
    struct Marker;
    // SAFETY: no object of index 4001 is made at all.
    unsafe impl Payload for Marker {
        const TYPE_KEY: &'static str = "test.Marker";
        fn is_instance(type_index: TypeIndex) -> bool {
            type_index == TypeIndex(4001)
        }
    }
    static BAD: StaticObject<Marker> = StaticObject::new(TypeIndex::FUNCTION, Marker);
    let _ = BAD.new_ref();
}

#[test]
#[cfg(debug_assertions)]
#[cfg_attr(target_os = "wasi", ignore = "panics abort on wasm32-wasip1")]
fn from_raw_checks_the_type_in_debug_builds() {
    let log = new_log();
    let raw = heap(6, &log).into_raw();
    let wrong = std::panic::catch_unwind(|| {
        // SAFETY: deliberately the wrong type; the debug check fires before any use.
        let _ = unsafe { ObjectRef::<Object<TVMFFIFunctionCell>>::from_raw(raw) };
    });
    assert!(wrong.is_err());
    // SAFETY: the check fired before taking the reference over, so it is still ours.
    drop(unsafe { ObjectRef::<Object<Probe>>::from_raw(raw) });
    assert_eq!(events(&log), [BOTH, Event::PayloadDropped(6)]);
}

#[test]
fn debug_output_names_type_and_counts() {
    let log = new_log();
    let a = heap(7, &log);
    let text = format!("{a:?} {:?}", a.downgrade());
    assert!(text.contains("test.Probe") && text.contains("strong: 1"), "{text}");
    assert!(format!("{:?}", ObjectPool::<Probe, 3>::new()).contains("available: 3"));
}

#[test]
fn references_are_send_and_sync_when_the_object_is() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<ObjectRef>();
    send_sync::<WeakRef>();
    send_sync::<ObjectRef<Object<Probe>>>();
    send_sync::<WeakRef<Object<Probe>>>();
    // A `static` pool only needs `Sync`, which holds even for payloads that are neither.
    fn sync<T: Sync>() {}
    sync::<ObjectPool<TVMFFIFunctionCell, 1>>();
    send_sync::<StaticObject<Probe>>();
}

#[test]
#[cfg_attr(target_os = "wasi", ignore = "wasm32-wasip1 has no threads")]
fn concurrent_clones_and_drops_end_with_exact_counts_and_one_destruction() {
    let log = new_log();
    let root = heap(8, &log);
    let n = iterations() / 8;
    thread::scope(|s| {
        for t in 0..8 {
            let root = &root;
            s.spawn(move || {
                let mut held = Vec::new();
                let mut weak = Vec::new();
                for i in 0..n {
                    held.push(root.clone());
                    if i % 3 == t % 3 {
                        weak.push(root.downgrade());
                    }
                    if i % 4 == 3 {
                        held.truncate(held.len() / 2);
                        assert!(weak.pop().is_none_or(|w| w.upgrade().is_some()));
                    }
                }
            });
        }
    });
    assert_eq!((root.strong_count(), root.weak_count()), (1, 1));
    assert!(events(&log).is_empty());
    drop(root);
    assert_eq!(events(&log), [BOTH, Event::PayloadDropped(8)]);
}

#[test]
#[cfg_attr(target_os = "wasi", ignore = "wasm32-wasip1 has no threads")]
fn upgrade_racing_the_last_drop_never_resurrects() {
    let mut upgraded = 0;
    for i in 0..iterations().min(2_000) {
        let log = new_log();
        let strong = heap(i as u32, &log);
        let weak = strong.downgrade();
        let won = thread::scope(|s| {
            s.spawn(move || drop(strong));
            let upgrader = s.spawn(|| match weak.upgrade() {
                Some(r) => {
                    // Alive: the payload is intact and not yet dropped.
                    assert_eq!(r.canary, ALIVE);
                    assert!(!events(&log).contains(&Event::PayloadDropped(i as u32)));
                    true
                }
                None => {
                    assert_eq!(weak.strong_count(), 0);
                    false
                }
            });
            upgrader.join().unwrap()
        });
        upgraded += usize::from(won);
        assert!(weak.upgrade().is_none(), "both strong references are gone");
        drop(weak);
        assert_eq!(events(&log), [STRONG, Event::PayloadDropped(i as u32), WEAK]);
    }
    // Either outcome is fine; this only shows which ones the run saw.
    std::println!("upgrade won {upgraded} races");
}

#[test]
#[cfg_attr(target_os = "wasi", ignore = "wasm32-wasip1 has no threads")]
fn pool_shared_by_threads_never_hands_out_a_slot_twice_and_drops_each_payload_once() {
    static POOL: ObjectPool<Probe, 4> = ObjectPool::new();
    let log = new_log();
    let made = AtomicUsize::new(0);
    let n = iterations() / 8;
    let id = |t: usize, i: usize| (t * 1_000_000 + i) as u32;
    thread::scope(|s| {
        for t in 0..8 {
            let (log, made) = (&log, &made);
            s.spawn(move || {
                let mut held = Vec::new();
                for i in 0..n {
                    match POOL.alloc(PROBE, Probe::new(id(t, i), log)) {
                        Ok(r) => {
                            made.fetch_add(1, Ordering::Relaxed);
                            held.push((id(t, i), r));
                        }
                        Err(p) => assert_eq!(p.id, id(t, i)),
                    }
                    if held.len() > 1 || i % 2 == 1 {
                        // A slot given to two threads would show the other's payload here.
                        for (expected, r) in held.drain(..) {
                            assert_eq!((r.id, r.canary, r.strong_count()), (expected, ALIVE, 1));
                        }
                    }
                }
            });
        }
    });
    assert_eq!(POOL.available(), 4);
    let made = made.load(Ordering::Relaxed);
    assert!(made >= 4, "threads allocated {made}");
    // Refused payloads are dropped by the threads, made ones by the pool's deleter: each
    // exactly once either way.
    let mut dropped: Vec<u32> = events(&log)
        .into_iter()
        .map(|e| match e {
            Event::PayloadDropped(id) => id,
            Event::Deleter(_) => panic!("pool objects do not use the logging deleter"),
        })
        .collect();
    dropped.sort_unstable();
    let all: Vec<u32> = (0..8).flat_map(|t| (0..n).map(move |i| id(t, i))).collect();
    assert_eq!(dropped, all);
}
