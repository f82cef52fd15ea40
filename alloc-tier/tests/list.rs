//! `List`: element ownership, bounds, growth like the reference's, handles sharing one
//! list across threads, buffers that "foreign" code allocated or replaced, destructors that
//! use the list, and a differential test against `Vec`.

extern crate alloc;

#[macro_use]
#[path = "seq/support.rs"]
mod support;

use core::cell::Cell;
use core::sync::atomic::{AtomicBool, Ordering};

use support::{
    FOREIGN_CAP, FOREIGN_FREES, cell, foreign_buffer, foreign_free, fref, ints, scale, serial,
    strong,
};
use tvmffi_alloc::seq::{List, ListObj, SeqError};
use tvmffi_core::sys::TVMFFIFunctionCell;
use tvmffi_core::{Any, Payload, StaticObject, TypeIndex};

#[test]
fn list_grows_and_shrinks_like_the_reference() {
    let _s = serial();
    let l = List::new();
    assert_eq!((l.len(), l.capacity()), (0, 0));
    let mut caps = Vec::new();
    for i in 0..9i64 {
        l.push(i);
        caps.push(l.capacity());
    }
    assert_eq!(caps, [1, 2, 4, 4, 8, 8, 8, 8, 16]);
    l.truncate(3);
    assert_eq!((ints(&l), l.capacity()), (vec![0, 1, 2], 16), "shrinking keeps the buffer");
    l.reserve(20).unwrap();
    assert_eq!(l.capacity(), 23, "reserve grows to exactly len + additional");
    l.reserve(5).unwrap();
    assert_eq!(l.capacity(), 23);
    l.clear();
    assert_eq!((l.len(), l.capacity()), (0, 23));
    l.truncate(5); // longer than the list: nothing

    assert_eq!(List::from_vec(vec![Any::from(1i64)]).capacity(), 4);
    assert_eq!(List::from_vec((0..10i64).map(Any::from).collect()).capacity(), 10);
    assert_eq!(List::with_capacity(6).unwrap().capacity(), 6);
    assert_eq!(List::with_capacity(0).unwrap().capacity(), 0);
    assert_eq!(List::with_capacity(usize::MAX).unwrap_err(), SeqError::CapacityOverflow);
    assert_eq!(l.reserve(usize::MAX).unwrap_err(), SeqError::CapacityOverflow);
    assert_eq!(l.reserve(usize::MAX / 2).unwrap_err(), SeqError::CapacityOverflow);
}

/// Found by the `c_api` fuzz target (`ffi.ListReserve(l, 1_700_000_000)`): a capacity the
/// allocator cannot provide aborted the process; it is an error, as the reference's
/// `bad_alloc` is.
#[test]
#[cfg_attr(miri, ignore = "Miri stops at an allocation this size instead of failing it")]
// 32-bit: every size within `isize` may be satisfiable, so no request is sure to fail.
#[cfg(target_pointer_width = "64")]
fn reserving_more_than_memory_is_an_error_not_an_abort() {
    let _s = serial();
    let l = List::from_vec(vec![Any::from(1i64)]);
    let huge = 1usize << 58; // 2^62 bytes: within `isize`, beyond any address space
    assert_eq!(l.reserve(huge).unwrap_err(), SeqError::OutOfMemory { capacity: huge + 1 });
    assert_eq!(List::with_capacity(huge).unwrap_err(), SeqError::OutOfMemory { capacity: huge });
    let e = tvmffi_alloc::Error::from(SeqError::OutOfMemory { capacity: huge });
    assert_eq!(e.kind(), "MemoryError");
    assert_eq!(e.message(), format!("cannot allocate room for {huge} elements"));
    // The list is untouched and still grows.
    l.push(2i64);
    assert_eq!(ints(&l), vec![1, 2]);
}

#[test]
fn list_elements_are_released_exactly_once() {
    let _s = serial();
    static_function!(F);
    let l = List::new();
    for _ in 0..5 {
        l.push(fref(&F));
    }
    l.push(1i64);
    assert_eq!(strong(&F), 6);
    let got = l.get(0).unwrap(); // a copy
    assert_eq!(strong(&F), 7);
    drop(got);
    let old = l.set(1, 2i64).unwrap();
    assert_eq!(strong(&F), 6, "the old element is handed back, not dropped twice");
    drop(old);
    assert_eq!(strong(&F), 5);
    drop(l.remove(0).unwrap());
    drop(l.pop().unwrap()); // the int
    assert_eq!((strong(&F), l.len()), (4, 4));
    l.insert(1, fref(&F)).unwrap();
    assert_eq!(strong(&F), 5);
    l.truncate(2); // [2, F]
    assert_eq!(strong(&F), 2);
    let alias = l.clone();
    drop(l);
    assert_eq!(strong(&F), 2, "the object lives on in `alias`");
    let copies = alias.to_vec();
    assert_eq!(strong(&F), 3);
    drop((copies, alias));
    assert_eq!(strong(&F), 1);
}

#[test]
fn list_bad_indices_are_errors() {
    let _s = serial();
    let l: List = [1i64, 2].into_iter().collect();
    for i in [2usize, 3, usize::MAX] {
        let oob = SeqError::IndexOutOfRange { index: i, len: 2 };
        assert!(l.get(i).is_none());
        assert_eq!(l.get_as::<i64>(i), Err(oob));
        assert_eq!(l.set(i, 0i64).unwrap_err(), oob);
        assert_eq!(l.remove(i).unwrap_err(), oob);
    }
    for i in [3usize, usize::MAX] {
        let oob = SeqError::IndexOutOfRange { index: i, len: 2 };
        assert_eq!(l.insert(i, 0i64), Err(oob));
    }
    assert!(matches!(l.get_as::<f64>(0), Ok(1.0)));
    assert!(matches!(l.get_as::<()>(0), Err(SeqError::Conversion(_))));
    assert_eq!(ints(&l), [1, 2]);
    l.clear();
    assert!(l.pop().is_none());
    assert!(l.get(0).is_none());
    assert_eq!(l.insert(0, 4i64), Ok(()));
    assert_eq!(format!("{l:?}"), "List[Any(int: 4)]");
}

#[test]
fn list_handles_share_one_list() {
    let _s = serial();
    let a = List::new();
    let b = a.clone();
    a.push(1i64);
    b.push(2i64);
    assert_eq!((ints(&a), a == b), (vec![1, 2], true));
    // An iterator reads by index and sees changes made meanwhile.
    let mut seen = Vec::new();
    for v in &a {
        let v = v.get::<i64>().unwrap();
        if v < 4 {
            b.push(v + 2);
        }
        seen.push(v);
    }
    assert_eq!(seen, [1, 2, 3, 4, 5]);
    let c = List::try_from(Any::from(b.clone())).unwrap();
    assert!(c.ptr_eq(&a));
    assert_ne!(c, List::new());
}

#[test]
#[cfg_attr(target_os = "wasi", ignore = "wasm32-wasip1 has no threads")]
fn list_threads_push_through_clones() {
    let _s = serial();
    let (threads, per) = (4, scale(500, 10));
    let list = List::new();
    std::thread::scope(|s| {
        for t in 0..threads {
            let l = list.clone();
            s.spawn(move || {
                for i in 0..per {
                    l.push((t * per + i) as i64);
                    assert!(l.get(0).is_some());
                }
            });
        }
    });
    let mut all = ints(&list);
    all.sort();
    assert!(all.into_iter().eq(0..(threads * per) as i64));
}

/// A list buffer "someone else" allocated: we read it, grow away from it (freeing it once
/// through its deleter), and free our own buffer at the end.
#[test]
fn list_accepts_a_foreign_buffer() {
    let _s = serial();
    static_function!(F);
    let l: List = [fref(&F), Any::from(1i64)].into_iter().collect();
    let seq = cell(l.as_object().as_raw());
    let buf = foreign_buffer();
    // SAFETY: no Rust access is in progress; this is what the reference's `Reserve` does,
    // with a foreign deleter installed beside the foreign buffer.
    unsafe {
        core::ptr::copy_nonoverlapping((*seq).data.cast::<Any>(), buf, 2);
        ((*seq).data_deleter.unwrap())((*seq).data);
        (*seq).data = buf.cast();
        (*seq).capacity = FOREIGN_CAP as i64;
        (*seq).data_deleter = Some(foreign_free);
    }
    for i in 2..FOREIGN_CAP as i64 {
        l.push(i);
    }
    assert_eq!((FOREIGN_FREES.with(Cell::get), l.capacity()), (0, FOREIGN_CAP));
    l.push(99i64); // grows: the foreign buffer is freed through its deleter
    assert_eq!((FOREIGN_FREES.with(Cell::get), l.capacity()), (1, 2 * FOREIGN_CAP));
    assert_eq!(l.get(0).unwrap().type_index(), TypeIndex::FUNCTION);
    assert_eq!(l.get_as::<i64>(FOREIGN_CAP), Ok(99));
    assert_eq!(strong(&F), 2);
    drop(l);
    assert_eq!((strong(&F), FOREIGN_FREES.with(Cell::get)), (1, 1));
}

/// The reference's `ListObj::Reserve` on a list we made: a new buffer from `::operator new`
/// (`malloc`), the old one freed through our deleter, and our deleter kept beside the new
/// buffer, so our deleter later frees C++'s buffer.
#[cfg(any(unix, windows))]
#[test]
fn list_grown_the_way_cpp_grows_it() {
    let _s = serial();
    unsafe extern "C" {
        fn malloc(size: usize) -> *mut core::ffi::c_void;
    }
    static_function!(F);
    let l = List::new();
    l.push(fref(&F));
    let seq = cell(l.as_object().as_raw());
    // SAFETY: no Rust access is in progress; malloc'd room for 5 elements, one moved in.
    unsafe {
        let new = malloc(5 * size_of::<Any>()).cast::<Any>();
        assert!(!new.is_null());
        core::ptr::copy_nonoverlapping((*seq).data.cast::<Any>(), new, 1);
        ((*seq).data_deleter.unwrap())((*seq).data);
        (*seq).data = new.cast();
        (*seq).capacity = 5;
    }
    for i in 0..6i64 {
        l.push(i); // the sixth push grows again, freeing C++'s buffer through our deleter
    }
    assert_eq!((l.len(), l.capacity()), (7, 10));
    assert_eq!(l.get(0).unwrap().type_index(), TypeIndex::FUNCTION);
    drop(l);
    assert_eq!(strong(&F), 1);
}

/// An element whose destructor pushes onto the list being cleared: destructors run outside
/// the list's lock, so this neither deadlocks nor corrupts the list.
#[test]
fn element_destructors_may_use_the_list() {
    let _s = serial();
    struct PushOnDrop(tvmffi_core::WeakRef<ListObj>);
    impl Drop for PushOnDrop {
        fn drop(&mut self) {
            if let Some(list) = self.0.upgrade() {
                List::from_object(list).push(42i64);
            }
            DROPPED.store(true, Ordering::Relaxed);
        }
    }
    // SAFETY: test payload, only ever made with this index.
    unsafe impl Payload for PushOnDrop {
        const TYPE_KEY: &'static str = "test.PushOnDrop";
        fn is_instance(t: TypeIndex) -> bool {
            t == TypeIndex(1001)
        }
    }
    static DROPPED: AtomicBool = AtomicBool::new(false);

    let l = List::new();
    let obj =
        tvmffi_alloc::heap::new_object(TypeIndex(1001), PushOnDrop(l.as_object().downgrade()));
    l.push(obj);
    l.push(1i64);
    l.clear();
    assert!(DROPPED.load(Ordering::Relaxed));
    assert_eq!(ints(&l), [42]);
    let obj =
        tvmffi_alloc::heap::new_object(TypeIndex(1001), PushOnDrop(l.as_object().downgrade()));
    l.push(Any::from(0i64));
    drop(l.set(0, obj).unwrap());
    drop(l.remove(1).unwrap());
    l.truncate(0);
    assert_eq!(ints(&l), [42]);
}

/// A small deterministic PRNG (xorshift64*), so the differential test needs no crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Random operations on a `List` and a `Vec` (plus a model of the reference's capacity),
/// compared after every step; function references check that nothing leaks or is freed
/// twice.
#[test]
fn list_matches_vec_under_random_operations() {
    let _s = serial();
    static_function!(F);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let list = List::new();
    // `None` stands for a reference to F.
    let mut model: Vec<Option<i64>> = Vec::new();
    let mut cap = 0usize;
    let to_any = |v: Option<i64>| v.map_or_else(|| fref(&F), Any::from);
    let from_any = |a: &Any| a.get::<i64>().ok();
    let grow = |cap: usize, needed: usize| if cap >= needed { cap } else { (cap * 2).max(needed) };

    for step in 0..scale(20_000, 400) {
        let len = model.len();
        let value = if rng.below(4) == 0 { None } else { Some(rng.below(1000) as i64) };
        match rng.below(11) {
            0..=2 => {
                list.push(to_any(value));
                cap = grow(cap, len + 1);
                model.push(value);
            }
            3 => assert_eq!(list.pop().as_ref().map(from_any), model.pop()),
            4 => {
                let i = rng.below(len + 2);
                let r = list.insert(i, to_any(value));
                if i <= len {
                    assert_eq!(r, Ok(()));
                    cap = grow(cap, len + 1);
                    model.insert(i, value);
                } else {
                    assert_eq!(r, Err(SeqError::IndexOutOfRange { index: i, len }));
                }
            }
            5 => {
                let i = rng.below(len + 1);
                let r = list.remove(i);
                if i < len {
                    assert_eq!(from_any(&r.unwrap()), model.remove(i));
                } else {
                    assert!(r.is_err());
                }
            }
            6 => {
                let i = rng.below(len + 1);
                let r = list.set(i, to_any(value));
                if i < len {
                    assert_eq!(from_any(&r.unwrap()), core::mem::replace(&mut model[i], value));
                } else {
                    assert!(r.is_err());
                }
            }
            7 => {
                let n = rng.below(len + 2);
                list.truncate(n);
                model.truncate(n);
            }
            8 => {
                let extra = rng.below(8);
                list.reserve(extra).unwrap();
                cap = cap.max(len + extra);
            }
            9 => {
                let i = rng.below(len + 1);
                assert_eq!(list.get(i).as_ref().map(from_any), model.get(i).copied());
            }
            _ => {
                if rng.below(20) == 0 {
                    list.clear();
                    model.clear();
                }
            }
        }
        assert_eq!((list.len(), list.capacity()), (model.len(), cap), "step {step}");
        if step % 64 == 0 {
            assert_eq!(list.iter().map(|a| from_any(&a)).collect::<Vec<_>>(), model);
        }
        let refs = model.iter().filter(|v| v.is_none()).count();
        assert_eq!(strong(&F) as usize, 1 + refs, "step {step}");
    }
    drop(list);
    assert_eq!(strong(&F), 1);
}
