//! The soak test: 8 threads create, share, call and drop objects and functions for a
//! bounded time, after which nothing they made is still alive (`leaks::live`, the counting
//! allocator, is the live-object counter). The run's length comes from `TVMFFI_SOAK_SECS`
//! (default 1 s; `ci/reliability.sh` runs it for minutes); it bounds the work and is never
//! asserted on.

extern crate alloc;

use alloc::sync::Arc;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use core::time::Duration;
use std::sync::Mutex;
use std::time::Instant;

use tvmffi_alloc::map::{Dict, Map};
use tvmffi_alloc::seq::{Array, List};
use tvmffi_alloc::{Bytes, Error, Function, Shape, String as FfiString, Tensor};
use tvmffi_core::{Any, AnyView, ObjectRef};
// The process's runtime: the C API these tests call.
use tvmffi_std as _;

mod leaks;

use leaks::{call_c, pack};

#[global_allocator]
static ALLOCATOR: leaks::Counting = leaks::Counting;

fn soak_duration() -> Duration {
    let secs = std::env::var("TVMFFI_SOAK_SECS").ok().and_then(|s| s.parse().ok()).unwrap_or(1.0);
    Duration::from_secs_f64(secs)
}

/// Values the threads pass each other.
type Board = Mutex<Vec<Any>>;

/// One thread's round: make objects of every kind, share some, take others', call
/// functions directly, through the C API and by global name, raise and catch errors.
/// Returns the number of objects it made.
fn round(id: usize, i: u64, board: &Board, f: &Function) -> u64 {
    let mut made = 0;
    let text = FfiString::from(format!("thread {id} round {i}, long enough for an object"));
    let bytes = Bytes::from(vec![id as u8; 16]);
    let list = List::new();
    list.push(text.clone());
    list.push(i as i64);
    let mut map = Map::new();
    map.insert(text.clone(), bytes.clone()).unwrap();
    map.insert(i as i64, list.clone()).unwrap();
    let dict = Dict::new();
    dict.insert(FfiString::from("round"), i as i64).unwrap();
    let shape = Shape::new(&[2, id as i64 + 1]);
    let tensor = Tensor::from_slice(&[2], &[i as f32, id as f32]).unwrap();
    made += 8;

    // Calls: direct, through C, and through the registry.
    let packed = f.call(&[text.view(), AnyView::from(&map), shape.view()]).unwrap();
    let packed = packed.get::<Array>().unwrap();
    assert_eq!(packed.len(), 3);
    let via_c = call_c(f, &[AnyView::from(&dict), AnyView::from(&tensor)]).unwrap();
    assert_eq!(via_c.get::<Array>().unwrap().len(), 2);
    let global = Function::get_global(&format!("soak.f{}", id % 4)).expect("registered");
    let e = call_c(&global, &[AnyView::from(-1i64)]).unwrap_err();
    assert_eq!((&*e.kind(), &*e.message()), ("ValueError", "negative"));
    // Errors raised here are this thread's alone.
    assert!(Error::take_raised().is_none());
    let size = Function::get_global("ffi.MapSize").unwrap();
    assert_eq!(size.call(&[AnyView::from(&map)]).unwrap().get::<i64>().unwrap(), 2);
    made += 4; // the packed results, the error, the global's arrays

    // Weak references across threads.
    let obj: ObjectRef = text.clone().into_any().into_object().unwrap();
    let weak = obj.downgrade();
    // Share and take.
    {
        let mut b = board.lock().unwrap();
        b.push(map.into());
        b.push(Any::from(f.clone()));
        b.push(dict.into());
        if b.len() > 64 {
            let taken: Vec<Any> = b.drain(..32).collect();
            drop(b);
            for v in taken {
                if let Ok(g) = v.get::<Function>() {
                    assert_eq!(
                        g.call(&[AnyView::from(1i64)]).unwrap().get::<Array>().unwrap().len(),
                        1
                    );
                } else if v.type_index() == tvmffi_core::TypeIndex::DICT {
                    let d = v.get::<Dict>().unwrap();
                    d.insert(id as i64, i as i64).unwrap();
                }
            }
        }
    }
    drop(obj);
    assert!(weak.upgrade().is_some(), "`text` still holds it");
    drop((text, bytes, list, shape, tensor));
    made
}

#[test]
fn eight_threads_share_call_and_drop_and_nothing_they_made_stays_alive() {
    let f = pack();
    // Warm up: the built-ins, per-process caches and the globals the threads use exist
    // before the count starts.
    for id in 0..4 {
        Function::register_global(&format!("soak.f{id}"), &pack(), true).unwrap();
    }
    let board: Arc<Board> = Arc::default();
    // Threads too: the standard library keeps some state of its own once threads exist.
    // Joined, not scoped: a scope returns when its closures end, before the threads'
    // thread-local destructors have run, which would then free during the count.
    let warm_up: Vec<_> = (0..8)
        .map(|id| {
            let (board, f) = (board.clone(), f.clone());
            std::thread::spawn(move || round(id, 0, &board, &f))
        })
        .collect();
    for t in warm_up {
        t.join().expect("a warm-up thread failed");
    }
    *board.lock().unwrap() = Vec::new();
    let stop = Arc::new(AtomicBool::new(false));
    let created = Arc::new(AtomicU64::new(0));
    let calls = Arc::new(AtomicU64::new(0));
    let (live_before, bytes_before) = leaks::live();

    let started = Instant::now();
    let threads: Vec<_> = (0..8)
        .map(|id| {
            let (board, stop, created, calls, f) =
                (board.clone(), stop.clone(), created.clone(), calls.clone(), f.clone());
            std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    created.fetch_add(round(id, i, &board, &f), Ordering::Relaxed);
                    calls.fetch_add(5, Ordering::Relaxed);
                    i += 1;
                }
            })
        })
        .collect();
    std::thread::sleep(soak_duration());
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().expect("a soak thread failed");
    }
    let elapsed = started.elapsed();
    assert_no_cycles(&board);
    *board.lock().unwrap() = Vec::new();

    let (live_after, bytes_after) = leaks::live();
    println!(
        "soak: 8 threads, {:.1} s, {} objects created, {} calls, live allocations {} -> {} \
         ({} -> {} bytes)",
        elapsed.as_secs_f64(),
        created.load(Ordering::Relaxed),
        calls.load(Ordering::Relaxed),
        live_before,
        live_after,
        bytes_before,
        bytes_after
    );
    assert!(created.load(Ordering::Relaxed) > 0);
    // Counts, not bytes: a buffer that grew and stays (the board's vector, a table's
    // capacity) is no leak.
    assert_eq!(live_after, live_before, "objects or buffers made during the soak leaked");
}

/// The dicts on the board hold only integers, so no reference cycle (which reference
/// counting cannot free) keeps anything alive once the board is cleared.
fn assert_no_cycles(board: &Board) {
    for v in board.lock().unwrap().iter() {
        if v.type_index() == tvmffi_core::TypeIndex::DICT {
            let d = v.get::<Dict>().unwrap();
            assert!(d.iter().all(|(_, v)| v.type_index() == tvmffi_core::TypeIndex::INT));
        }
    }
}
