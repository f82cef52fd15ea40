//! `Dict` sharing and locking, storage that "foreign" code switched in (as the reference's
//! `InplaceSwitchTo` does), and keys hashed and compared through the `__any_hash__` /
//! `__any_equal__` type attributes, with function objects and with native functions.

extern crate alloc;

use core::ffi::c_void;
use core::mem::MaybeUninit;
use core::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once};

use tvmffi_alloc::Function;
use tvmffi_alloc::error::Error;
use tvmffi_alloc::map::{Dict, Map, MapError};
use tvmffi_alloc::object_type::{self, ObjectRoot};
use tvmffi_core::sys::{TVMFFIAny, TVMFFIByteArray, TVMFFIObject, api};
use tvmffi_core::{Any, AnyView, Object, ObjectRef, TypeIndex};

const fn scale(n: usize, miri: usize) -> usize {
    if cfg!(miri) { miri } else { n }
}

fn ints(d: &Dict) -> Vec<i64> {
    d.iter().map(|(k, _)| k.get::<i64>().unwrap()).collect()
}

// ---------------------------------------------------------------------------------------
// Sharing

#[test]
fn every_handle_sees_every_change() {
    let d = Dict::new();
    let alias = d.clone();
    for i in 0..scale(50, 10) as i64 {
        if i % 2 == 0 { &d } else { &alias }.insert(i, i * i).unwrap();
    }
    assert!(d.ptr_eq(&alias) && d == alias);
    assert_eq!(alias.len(), scale(50, 10));
    let snapshot = d.iter();
    assert_eq!(alias.remove(0i64).unwrap().unwrap().get::<i64>(), Ok(0));
    assert_eq!(snapshot.len(), scale(50, 10), "an iterator walks its snapshot");
    assert!(d.get(0i64).unwrap().is_none());
    assert_eq!(ints(&d), (1..scale(50, 10) as i64).collect::<Vec<_>>());
    let through_any: Dict = Any::from(alias).get().unwrap();
    assert!(through_any.ptr_eq(&d));
}

#[test]
#[cfg_attr(target_os = "wasi", ignore = "no threads on wasm32-wasip1")]
fn threads_share_one_dict() {
    let d = Dict::new();
    let per = scale(300, 20) as i64;
    std::thread::scope(|s| {
        for t in 0..4i64 {
            let d = d.clone();
            s.spawn(move || {
                for i in 0..per {
                    let k = t * per + i;
                    d.insert(k, k).unwrap();
                    if i % 3 == 0 {
                        assert_eq!(d.remove(k).unwrap().unwrap().get::<i64>(), Ok(k));
                    }
                    assert!(d.len() as i64 <= 4 * per);
                }
            });
        }
    });
    let expected = (0..4 * per).filter(|k| (k % per) % 3 != 0).count();
    assert_eq!(d.len(), expected);
    for k in 0..4 * per {
        assert_eq!(d.contains_key(k).unwrap(), (k % per) % 3 != 0);
    }
}

// ---------------------------------------------------------------------------------------
// Storage switched in by foreign code

static FREED: AtomicUsize = AtomicUsize::new(0);

/// Four pairs, allocated as C++ would allocate another map's storage.
type Foreign = [MaybeUninit<[TVMFFIAny; 2]>; 4];

/// A foreign `data_deleter`.
unsafe extern "C" fn free_foreign(data: *mut c_void) {
    // SAFETY: `data` came from `Box::into_raw` below; its pairs were moved out.
    drop(unsafe { Box::from_raw(data.cast::<Foreign>()) });
    FREED.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn storage_switched_in_by_foreign_code_is_freed_by_its_deleter() {
    let _s = serial();
    let d = Dict::new();
    d.insert(1i64, 10i64).unwrap();
    let obj = d.as_object().as_raw().cast::<u8>();
    let field = |offset: usize| obj.wrapping_add(offset);
    // `int64_t` is 8-aligned everywhere but on i686.
    let (data, size, slots, deleter) =
        if align_of::<u64>() == 8 { (24, 32, 40, 48) } else { (24, 28, 36, 44) };
    // What C++'s small-to-small `InplaceSwitchTo` leaves: the pairs in another buffer of 4
    // slots, with that buffer's deleter.
    let foreign = Box::into_raw(Box::new([MaybeUninit::<[TVMFFIAny; 2]>::uninit(); 4]));
    // SAFETY: the dict is not shared; its one pair moves bitwise to the new buffer.
    unsafe {
        let pairs = field(data).cast::<*mut [TVMFFIAny; 2]>().read_unaligned();
        (*foreign)[0].write(pairs.read());
        field(data).cast::<*mut c_void>().write_unaligned(foreign.cast());
        field(slots).cast::<u64>().write_unaligned((1 << 63) | 4);
        let f: unsafe extern "C" fn(*mut c_void) = free_foreign;
        field(deleter).cast::<Option<unsafe extern "C" fn(*mut c_void)>>().write_unaligned(Some(f));
        assert_eq!(field(size).cast::<u64>().read_unaligned(), 1);
    }
    let before = FREED.load(Ordering::SeqCst);
    for i in 2..=4i64 {
        d.insert(i, i * 10).unwrap(); // into the foreign buffer, which has room
    }
    assert_eq!(FREED.load(Ordering::SeqCst), before);
    d.insert(5i64, 50i64).unwrap(); // full small map of 4: dense, the buffer is freed
    assert_eq!(FREED.load(Ordering::SeqCst), before + 1);
    assert!(d.is_dense());
    assert_eq!(ints(&d), [1, 2, 3, 4, 5]);
    assert_eq!(d.get_as::<i64>(4i64).unwrap(), 40);

    // The same buffer switched in and left in place until the dict dies.
    let d = Dict::new();
    d.insert(7i64, 70i64).unwrap();
    let obj = d.as_object().as_raw().cast::<u8>();
    let foreign = Box::into_raw(Box::new([MaybeUninit::<[TVMFFIAny; 2]>::uninit(); 4]));
    // SAFETY: as above.
    unsafe {
        let pairs = obj.add(data).cast::<*mut [TVMFFIAny; 2]>().read_unaligned();
        (*foreign)[0].write(pairs.read());
        obj.add(data).cast::<*mut c_void>().write_unaligned(foreign.cast());
        obj.add(slots).cast::<u64>().write_unaligned((1 << 63) | 4);
        let f: unsafe extern "C" fn(*mut c_void) = free_foreign;
        obj.add(deleter)
            .cast::<Option<unsafe extern "C" fn(*mut c_void)>>()
            .write_unaligned(Some(f));
    }
    d.insert(8i64, 80i64).unwrap();
    drop(d);
    assert_eq!(FREED.load(Ordering::SeqCst), before + 2, "the destructor frees it");
}

// ---------------------------------------------------------------------------------------
// Type attributes

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    drop(Error::take_raised());
    guard
}

/// Equal by value, through function objects.
#[repr(C)]
struct Point {
    x: i64,
}

/// Equal by value, through native functions; a negative value cannot be hashed.
#[repr(C)]
struct Native {
    x: i64,
}

tvmffi_alloc::object_type! {
    // SAFETY: test-only key.
    unsafe impl ObjectDef for Point { type_key = "test.map.Point"; parent = ObjectRoot; }
}
tvmffi_alloc::object_type! {
    // SAFETY: test-only key.
    unsafe impl ObjectDef for Native { type_key = "test.map.Native"; parent = ObjectRoot; }
}

/// A dict the equality of points looks into, to show it runs outside the dict's lock.
static PROBE: Mutex<Option<Dict>> = Mutex::new(None);
static EQUAL_CALLS: AtomicUsize = AtomicUsize::new(0);

fn register(index: TypeIndex, name: &str, value: AnyView<'_>) {
    let name = TVMFFIByteArray { data: name.as_ptr().cast(), size: name.len() };
    // SAFETY: valid name and value.
    assert_eq!(unsafe { api::TVMFFITypeRegisterAttr(index.0, &name, value.as_raw()) }, 0);
}

fn native_x(key: *const TVMFFIAny) -> Option<i64> {
    // SAFETY: the map passes a live key.
    let view = unsafe { AnyView::from_raw(*key) };
    view.get::<ObjectRef<Object<Native>>>().ok().map(|n| n.x)
}

unsafe extern "C" fn native_hash(key: *const TVMFFIAny) -> TVMFFIAny {
    match native_x(key) {
        Some(x) if x >= 0 => Any::from(x).into_raw(),
        _ => Any::from(Error::value_error("cannot hash a negative Native")).into_raw(),
    }
}

unsafe extern "C" fn native_equal(a: *const TVMFFIAny, b: *const TVMFFIAny) -> TVMFFIAny {
    Any::from(native_x(a) == native_x(b)).into_raw()
}

fn setup() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let point = object_type::type_index::<Point>().unwrap();
        let x = |v: AnyView<'_>| v.get::<ObjectRef<Object<Point>>>().map(|p| p.x);
        let hash = Function::from_packed(move |args| Ok(Any::from(x(args[0])? * 31)));
        let equal = Function::from_packed(move |args| {
            EQUAL_CALLS.fetch_add(1, Ordering::SeqCst);
            if let Some(d) = PROBE.lock().unwrap().as_ref() {
                d.len(); // would deadlock if the dict were locked now
                d.contains_key(-1i64)?;
            }
            Ok(Any::from(x(args[0])? == x(args[1])?))
        });
        register(point, "__any_hash__", AnyView::from(hash.as_object()));
        register(point, "__any_equal__", AnyView::from(equal.as_object()));
        let native = object_type::type_index::<Native>().unwrap();
        let f: unsafe extern "C" fn(*const TVMFFIAny) -> TVMFFIAny = native_hash;
        register(native, "__any_hash__", AnyView::from(f as *mut c_void));
        let g: unsafe extern "C" fn(*const TVMFFIAny, *const TVMFFIAny) -> TVMFFIAny = native_equal;
        register(native, "__any_equal__", AnyView::from(g as *mut c_void));
    });
}

fn point(x: i64) -> Any {
    Any::from(object_type::new_object(Point { x }).unwrap())
}

fn native(x: i64) -> Any {
    Any::from(object_type::new_object(Native { x }).unwrap())
}

#[test]
fn keys_with_custom_equality_find_equal_objects() {
    let _s = serial();
    setup();
    let n = scale(40, 8) as i64;
    let mut m = Map::new();
    let d = Dict::new();
    let first = point(0);
    m.insert(first.clone(), -1i64).unwrap();
    d.insert(first.clone(), -1i64).unwrap();
    for i in 0..n {
        // Distinct objects with equal content are one key: the first object stays.
        m.insert(point(i), i).unwrap();
        d.insert(point(i), i).unwrap();
        d.insert(native(i), i).unwrap();
    }
    assert_eq!((m.len(), d.len()), (n as usize, 2 * n as usize));
    assert!(m.is_dense() && d.is_dense());
    // SAFETY: both hold a live object.
    let same =
        |a: &Any, b: AnyView<'_>| unsafe { a.as_raw().value.v_obj == b.as_raw().value.v_obj };
    assert!(same(&first, m.keys().next().unwrap()), "the stored key object stays");
    for i in 0..n {
        assert_eq!(m.get_as::<i64>(&point(i)).unwrap(), i);
        assert_eq!(d.get_as::<i64>(&point(i)).unwrap(), i);
        assert_eq!(d.get_as::<i64>(&native(i)).unwrap(), i);
    }
    assert!(m.get(&point(n)).unwrap().is_none());
    assert!(d.remove(&point(3)).unwrap().is_some());
    assert!(!d.contains_key(&point(3)).unwrap() && d.contains_key(&native(3)).unwrap());
    drop((m, d, first));
}

#[test]
fn custom_equality_runs_outside_the_dict_lock() {
    let _s = serial();
    setup();
    let d = Dict::new();
    *PROBE.lock().unwrap() = Some(d.clone());
    let calls = EQUAL_CALLS.load(Ordering::SeqCst);
    for i in 0..scale(12, 6) as i64 {
        d.insert(point(i), i).unwrap();
        d.insert(point(i), i + 100).unwrap(); // found through `__any_equal__`
    }
    assert!(EQUAL_CALLS.load(Ordering::SeqCst) > calls);
    assert_eq!(d.get_as::<i64>(&point(2)).unwrap(), 102);
    *PROBE.lock().unwrap() = None; // the dict held itself through the probe
}

#[test]
fn failing_custom_hash_is_an_error_not_a_panic() {
    let _s = serial();
    setup();
    // Small maps compare without hashing, as the reference's do.
    let small = Dict::new();
    small.insert(native(-1), 0i64).unwrap();
    assert_eq!(small.get_as::<i64>(&native(-1)).unwrap(), 0);
    let d = Dict::new();
    for i in 0..6i64 {
        d.insert(native(i), i).unwrap();
    }
    assert!(d.is_dense());
    let err = d.get(&native(-5)).unwrap_err();
    let MapError::Custom(e) = &err else { panic!("{err:?}") };
    assert_eq!(
        (e.kind().as_ref(), e.message().as_ref()),
        ("ValueError", "cannot hash a negative Native")
    );
    assert!(matches!(d.insert(native(-7), 1i64), Err(MapError::Custom(_))));
    assert_eq!(d.len(), 6, "a failed insertion changes nothing");
    // Growing rehashes every stored key: the negative one stored while small fails it.
    let mut m = Map::new();
    m.insert(native(-2), 0i64).unwrap();
    for i in 0..3i64 {
        m.insert(native(i), i).unwrap();
    }
    let before: Vec<_> = m.values().map(|v| v.get::<i64>().unwrap()).collect();
    assert!(matches!(m.insert(native(9), 9i64), Err(MapError::Custom(_))));
    assert!(!m.is_dense() && m.len() == 4, "left as it was");
    assert_eq!(m.values().map(|v| v.get::<i64>().unwrap()).collect::<Vec<_>>(), before);
    assert_eq!(Error::from(err).kind(), "ValueError");
}

#[test]
fn stored_custom_keys_are_rehashed_when_a_dict_grows() {
    let _s = serial();
    setup();
    let d = Dict::new();
    let n = scale(200, 30) as i64;
    for i in 0..n {
        d.insert(point(i), i).unwrap(); // grows through several rebuilds
    }
    for i in (0..n).rev() {
        assert_eq!(d.get_as::<i64>(&point(i)).unwrap(), i);
    }
    let keys: Vec<i64> =
        d.iter().map(|(k, _)| k.get::<ObjectRef<Object<Point>>>().unwrap().x).collect();
    assert_eq!(keys, (0..n).collect::<Vec<_>>());
    let raw: *mut TVMFFIObject = d.as_object().as_raw();
    assert!(!raw.is_null());
}
