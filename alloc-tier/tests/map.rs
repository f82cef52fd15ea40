//! `Map` and `Dict`: growth from small to dense, the reference's iteration order, erasure,
//! copy-on-write, reference counts, conversions, keys of every kind, and a differential
//! test against `std::collections::HashMap` plus a model of the reference's order
//! (`map/differential.rs`).

extern crate alloc;

#[path = "map/differential.rs"]
mod differential;
#[path = "map/model.rs"]
mod model;

use tvmffi_alloc::map::{Dict, Key, Map, MapError, MapObj};
use tvmffi_alloc::{Bytes, String as FfiString};
use tvmffi_core::error::ConversionErrorKind;
use tvmffi_core::sys::{TVMFFIFunctionCell, TVMFFIObject};
use tvmffi_core::{Any, AnyView, DataType, Device, DeviceType, ObjectRef, StaticObject, TypeIndex};

/// The `runtime` feature keeps one global error slot: tests that raise errors run one at a
/// time, or one may take an error another raised.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    drop(tvmffi_alloc::Error::take_raised());
    guard
}

/// A function object in static memory whose strong count tracks how many values hold it.
macro_rules! static_function {
    ($($name:ident),*) => {$(
        static $name: StaticObject<TVMFFIFunctionCell> = StaticObject::new(
            TypeIndex::FUNCTION,
            TVMFFIFunctionCell { safe_call: None, cpp_call: core::ptr::null_mut() },
        );
    )*};
}

fn fref(f: &'static StaticObject<TVMFFIFunctionCell>) -> Any {
    Any::from(f.new_ref())
}

fn strong(f: &StaticObject<TVMFFIFunctionCell>) -> u32 {
    f.header().strong_count()
}

const fn scale(n: usize, miri: usize) -> usize {
    if cfg!(miri) { miri } else { n }
}

fn text(s: &str) -> Any {
    FfiString::from(s).into()
}

/// The integer keys of a map, in iteration order.
fn int_keys(m: &Map) -> Vec<i64> {
    m.keys().map(|k| k.get::<i64>().unwrap()).collect()
}

fn dict_int_keys(d: &Dict) -> Vec<i64> {
    d.iter().map(|(k, _)| k.get::<i64>().unwrap()).collect()
}

/// Read a field of a map object as C++ does: at its byte offset from the object.
fn field<T: Copy>(obj: *mut TVMFFIObject, offset: usize) -> T {
    // SAFETY: the tests pass offsets inside live map objects.
    unsafe { obj.cast::<u8>().add(offset).cast::<T>().read_unaligned() }
}

const P: usize = size_of::<usize>();
/// `data_`, `size_`, `slots_` of `MapBaseObj` and the dense fields (64-bit and 32-bit
/// targets with 8-byte `int64_t`; i686 packs `int64_t` at 4).
const fn off(v64: usize, v32: usize, i686: usize) -> usize {
    if P == 8 {
        v64
    } else if align_of::<u64>() == 8 {
        v32
    } else {
        i686
    }
}

// ---------------------------------------------------------------------------------------
// Basics

#[test]
fn empty_maps_and_missing_keys() {
    let _s = serial();
    let m = Map::new();
    assert_eq!((m.len(), m.is_empty(), m.is_dense()), (0, true, false));
    assert!(m.get(1i64).unwrap().is_none());
    assert!(matches!(m.at("x"), Err(MapError::KeyNotFound)));
    assert!(!m.contains_key(AnyView::NONE).unwrap());
    assert_eq!(format!("{m:?}"), "Map{}");
    assert_eq!(m.iter().len(), 0);
    let d = Dict::new();
    assert!(d.is_empty() && !d.is_dense() && d.get("x").unwrap().is_none());
    assert!(matches!(d.at(0i64), Err(MapError::KeyNotFound)));
    assert_eq!(format!("{d:?}"), "Dict{}");
    assert_eq!(m, m.clone());
    assert_ne!(m, Map::new());
    let err = tvmffi_alloc::Error::from(m.at(3i64).unwrap_err());
    assert_eq!(err.to_string(), "KeyError: key is not in Map");
}

#[test]
fn typed_access_reports_type_errors() {
    let _s = serial();
    let mut m = Map::new();
    m.insert(text("n"), 1.5f64).unwrap();
    assert_eq!(m.get_as::<f64>("n").unwrap(), 1.5);
    let MapError::Conversion(e) = m.get_as::<i64>("n").unwrap_err() else { panic!() };
    assert_eq!(
        (e.kind(), e.expected(), e.actual()),
        (ConversionErrorKind::Mismatch, "int", TypeIndex::FLOAT)
    );
    assert_eq!(tvmffi_alloc::Error::from(MapError::Conversion(e)).kind(), "TypeError");
    assert!(matches!(m.get_as::<i64>("absent"), Err(MapError::KeyNotFound)));
    let d: Dict = [(text("n"), 2i64)].into_iter().collect();
    assert_eq!(d.get_as::<i64>("n").unwrap(), 2);
    assert!(matches!(d.get_as::<()>("n"), Err(MapError::Conversion(_))));
}

#[test]
fn small_then_dense_in_insertion_order() {
    let _s = serial();
    for n in 1..=scale(70, 12) as i64 {
        let mut m = Map::new();
        let d = Dict::new();
        for i in 0..n {
            assert!(m.insert(i * 7, i).unwrap().is_none());
            assert!(d.insert(i * 7, i).unwrap().is_none());
        }
        let want: Vec<i64> = (0..n).map(|i| i * 7).collect();
        assert_eq!(int_keys(&m), want);
        assert_eq!(dict_int_keys(&d), want);
        assert_eq!((m.len(), d.len()), (n as usize, n as usize));
        assert_eq!(m.is_dense(), n > 4, "dense from the fifth pair on");
        assert_eq!(d.is_dense(), n > 4);
        for i in 0..n {
            assert_eq!(m.get_as::<i64>(i * 7).unwrap(), i);
            assert_eq!(d.get_as::<i64>(i * 7).unwrap(), i);
        }
        for missing in [-1i64, 1, 3, n * 7] {
            assert!(m.get(missing).unwrap().is_none());
            assert!(!d.contains_key(missing).unwrap());
        }
    }
}

#[test]
fn large_maps_of_string_and_int_keys() {
    let _s = serial();
    let n = scale(5000, 150);
    let mut m = Map::with_capacity(n).unwrap();
    let start = m.as_object().as_raw();
    for i in 0..n {
        m.insert(text(&format!("key number {i}")), i as i64).unwrap();
        m.insert(i as i64, text(&format!("value {i}"))).unwrap();
    }
    assert_eq!(m.len(), 2 * n);
    assert_eq!(m.as_object().as_raw(), start, "a unique map grows in place");
    for i in (0..n).step_by(7) {
        assert_eq!(m.get_as::<i64>(format!("key number {i}").as_str()).unwrap(), i as i64);
        assert_eq!(m.at(i as i64).unwrap().as_str().unwrap(), format!("value {i}"));
    }
    let mut keys = m.keys();
    for i in 0..n {
        assert_eq!(keys.next().unwrap().as_str().unwrap(), format!("key number {i}"));
        assert_eq!(keys.next().unwrap().get::<i64>().unwrap(), i as i64);
    }
    assert!(keys.next().is_none());
}

// ---------------------------------------------------------------------------------------
// The reference's order and layout

#[test]
fn setting_a_present_key_moves_it_last_only_where_the_reference_does() {
    let _s = serial();
    // Small below 4 pairs: the pair keeps its place.
    let mut m: Map = [(1i64, 0i64), (2, 0), (3, 0)].into_iter().collect();
    assert_eq!(m.insert(2i64, 9i64).unwrap().unwrap().get::<i64>(), Ok(0));
    assert_eq!((int_keys(&m), m.is_dense()), (vec![1, 2, 3], false));
    // A small map of 4 with 4 slots: setting any key makes it dense, the key last.
    m.insert(4i64, 0i64).unwrap();
    assert!(!m.is_dense());
    m.insert(2i64, 10i64).unwrap();
    assert_eq!((int_keys(&m), m.is_dense()), (vec![1, 3, 4, 2], true));
    assert_eq!(m.get_as::<i64>(2i64).unwrap(), 10);
    // Dense: setting moves the key last.
    m.insert(1i64, 11i64).unwrap();
    assert_eq!(int_keys(&m), vec![3, 4, 2, 1]);
    // The same in a dict.
    let d: Dict = (1..=4i64).map(|i| (i, i)).collect();
    d.insert(1i64, 0i64).unwrap();
    assert_eq!((dict_int_keys(&d), d.is_dense()), (vec![2, 3, 4, 1], true));
}

#[test]
fn building_from_pairs_dedupes_like_the_reference() {
    let _s = serial();
    // Below 4 pairs the map is small: a repeated key keeps its first place.
    let m: Map = [(1i64, 1i64), (2, 2), (1, 3)].into_iter().collect();
    assert_eq!(int_keys(&m), [1, 2]);
    assert_eq!(m.get_as::<i64>(1i64).unwrap(), 3);
    // From 4 pairs on it is dense from the start: the repeated key moves last.
    let m: Map = [(1i64, 1i64), (2, 2), (1, 3), (4, 4)].into_iter().collect();
    assert!(m.is_dense());
    assert_eq!(int_keys(&m), [2, 1, 4]);
    let d = Dict::try_from_iter([(5i64, 0i64), (6, 0), (5, 1), (7, 0), (8, 0)]).unwrap();
    assert_eq!(dict_int_keys(&d), [6, 5, 7, 8]);
}

#[test]
fn objects_are_laid_out_as_cpp_reads_them() {
    let _s = serial();
    let mut m = Map::new();
    m.insert(1i64, 10i64).unwrap();
    let obj = m.as_object().as_raw();
    let data: *mut u8 = field(obj, 24);
    let base = off(56, 56, 48);
    assert_eq!(data as usize, obj as usize + base, "pairs inline after SmallMapBaseObj");
    assert_eq!(field::<u64>(obj, off(32, 32, 28)), 1);
    assert_eq!(field::<u64>(obj, off(40, 40, 36)), (1 << 63) | 2, "2 slots, small tag");
    assert_eq!(field::<usize>(obj, off(48, 48, 44)), 0, "no data deleter for inline pairs");
    // SAFETY: the first pair sits at `data`.
    let (k, v) = unsafe { (&*data.cast::<Any>(), &*data.cast::<Any>().add(1)) };
    assert_eq!((k.get::<i64>(), v.get::<i64>()), (Ok(1), Ok(10)));

    for i in 2..=5i64 {
        m.insert(i, i * 10).unwrap();
    }
    assert_eq!(m.as_object().as_raw(), obj, "switched to dense in place");
    let slots: u64 = field(obj, off(40, 40, 36));
    assert_eq!(slots, 8, "CalcTableSize(4) = 8 slots, untagged");
    assert_eq!(field::<u32>(obj, off(56, 52, 48)), 61, "fib_shift for 8 slots");
    let blocks: *mut u8 = field(obj, 24);
    assert_ne!(field::<usize>(obj, off(48, 48, 44)), 0, "blocks freed by their deleter");
    // SAFETY: one block of 16 metadata bytes then 16 items of 48 bytes.
    let metas = unsafe { core::slice::from_raw_parts(blocks, 8) };
    let used: Vec<usize> = (0..8).filter(|&i| metas[i] != 0xFF).collect();
    assert_eq!(used.len(), 5);
    // The iteration list runs from `iter_list_head_` through the items' `next`.
    let mut at: u64 = field(obj, off(64, 56, 52));
    let mut order = Vec::new();
    while at != u64::MAX {
        let item = blocks.wrapping_add(16 + at as usize * 48);
        // SAFETY: an occupied slot's item: key, value, prev, next.
        order.push(unsafe { (*item.cast::<Any>()).get::<i64>().unwrap() });
        at = field(item.cast(), 40);
    }
    assert_eq!(order, [1, 2, 3, 4, 5]);
    assert_eq!(
        field::<u64>(obj, off(72, 64, 60)),
        used.iter()
            .map(|&u| u as u64)
            .find(|&u| {
                // SAFETY: as above.
                unsafe {
                    (*blocks.wrapping_add(16 + u as usize * 48).cast::<Any>()).get::<i64>() == Ok(5)
                }
            })
            .unwrap(),
        "iter_list_tail_ is the last pair's slot"
    );
}

// ---------------------------------------------------------------------------------------
// Erasure

#[test]
fn erase_patterns_keep_the_rest_reachable_and_in_order() {
    let _s = serial();
    let n = scale(600, 60) as i64;
    for dense in [false, true] {
        let count = if dense { n } else { 4 };
        // Inserted one by one: built from 4 pairs at once, a map would start dense.
        let mut m = Map::new();
        for i in 0..count {
            m.insert(i, -i).unwrap();
        }
        let mut want: Vec<i64> = (0..count).collect();
        // Every third, then from the back, then the rest.
        for pass in 0..3 {
            let victims: Vec<i64> = match pass {
                0 => want.iter().copied().filter(|k| k % 3 == 1).collect(),
                1 => want.iter().rev().copied().step_by(2).collect(),
                _ => want.clone(),
            };
            for k in victims {
                assert_eq!(m.remove(k).unwrap().unwrap().get::<i64>(), Ok(-k));
                assert!(m.remove(k).unwrap().is_none());
                want.retain(|&w| w != k);
                assert_eq!(m.len(), want.len());
            }
            assert_eq!(int_keys(&m), want);
            for &k in &want {
                assert_eq!(m.get_as::<i64>(k).unwrap(), -k);
            }
        }
        assert!(m.is_empty());
        assert_eq!(m.is_dense(), dense, "erasing never changes the layout");
        // The emptied table takes pairs again.
        for i in 0..count {
            m.insert(i, i).unwrap();
        }
        assert_eq!(int_keys(&m), (0..count).collect::<Vec<_>>());
    }
}

#[test]
fn dict_clear_keeps_the_layout() {
    let _s = serial();
    let d: Dict = (0..20i64).map(|i| (i, i)).collect();
    assert!(d.is_dense());
    let alias = d.clone();
    alias.clear();
    assert!(d.is_empty() && d.is_dense());
    d.insert(3i64, 4i64).unwrap();
    assert_eq!(alias.get_as::<i64>(3i64).unwrap(), 4);
    let mut m: Map = (0..20i64).map(|i| (i, i)).collect();
    m.clear();
    assert!(m.is_empty() && !m.is_dense(), "Map::clear starts a new empty map");
}

// ---------------------------------------------------------------------------------------
// Ownership

#[test]
fn every_key_and_value_is_released_exactly_once() {
    let _s = serial();
    static_function!(K1, K2, V1, V2);
    {
        let mut m = Map::new();
        let d = Dict::new();
        for i in 0..scale(40, 9) as i64 {
            m.insert(i, fref(&V1)).unwrap();
            d.insert(i, fref(&V1)).unwrap();
        }
        m.insert(fref(&K1), fref(&V2)).unwrap();
        d.insert(fref(&K1), fref(&V2)).unwrap();
        assert_eq!((strong(&K1), strong(&V2)), (3, 3));
        // Setting again keeps the stored key and releases the new one and the old value.
        let old = m.insert(fref(&K1), fref(&V1)).unwrap().unwrap();
        assert_eq!((strong(&K1), strong(&V2)), (3, 3));
        drop(old);
        assert_eq!(strong(&V2), 2);
        let snapshot = m.clone(); // shares the object
        m.insert(fref(&K2), 0i64).unwrap(); // copies: every pair gains a reference
        assert_eq!((strong(&K1), strong(&K2)), (4, 2));
        drop(snapshot);
        assert_eq!(strong(&K1), 3);
        let removed = d.remove(Key::from(AnyView::from(&K1.new_ref()))).unwrap().unwrap();
        assert_eq!((strong(&K1), strong(&V2)), (2, 2));
        drop(removed);
        assert_eq!(strong(&V2), 1);
        d.clear();
        let copies: Vec<(Any, Any)> = m.clone().into_iter().collect();
        assert_eq!(copies.len(), m.len());
        drop(copies);
    }
    for f in [&K1, &K2, &V1, &V2] {
        assert_eq!(strong(f), 1, "all released with the maps");
    }
}

#[test]
fn copy_on_write_copies_only_shared_maps() {
    let _s = serial();
    let mut m: Map = (0..3i64).map(|i| (i, i)).collect();
    let snapshot = m.clone();
    assert!(m.remove(99i64).unwrap().is_none());
    assert!(m.ptr_eq(&snapshot), "removing an absent key copies nothing");
    m.insert(3i64, 3i64).unwrap();
    assert!(!m.ptr_eq(&snapshot));
    assert_eq!((snapshot.len(), m.len()), (3, 4));
    let obj = m.as_object().as_raw();
    m.insert(4i64, 4i64).unwrap(); // unique: in place, even to dense
    assert_eq!(m.as_object().as_raw(), obj);
    let weak = m.as_object().downgrade();
    m.insert(5i64, 5i64).unwrap(); // a weak reference could upgrade: copy
    assert_ne!(m.as_object().as_raw(), obj);
    assert!(weak.upgrade().is_none(), "the old object was released after the copy");
    assert_eq!(int_keys(&m), [0, 1, 2, 3, 4, 5]);
    // A dense copy keeps every pair in its slot, so removing works on the copy.
    let shared = m.clone();
    assert_eq!(m.remove(2i64).unwrap().unwrap().get::<i64>(), Ok(2));
    assert_eq!((int_keys(&shared), int_keys(&m)), (vec![0, 1, 2, 3, 4, 5], vec![0, 1, 3, 4, 5]));
}

#[test]
#[cfg_attr(target_os = "wasi", ignore = "no threads on wasm32-wasip1")]
fn changes_never_race_with_readers_on_other_threads() {
    let _s = serial();
    let mut m: Map = (0..8i64).map(|i| (i, i)).collect();
    for round in 0..scale(10, 3) as i64 {
        let shared = m.clone();
        let reader = std::thread::spawn(move || {
            shared.values().map(|v| v.get::<i64>().unwrap()).sum::<i64>()
        });
        // Wait (with relaxed loads, which synchronise nothing) until the reader let go.
        while m.as_object().strong_count() != 1 {
            std::thread::yield_now();
        }
        // Ours alone again: changed in place, ordered after the reader's reads only by the
        // reference count (its release, our acquire). Miri reports a data race otherwise.
        let obj = m.as_object().as_raw();
        m.insert(100 + round, 1i64).unwrap();
        assert_eq!(m.as_object().as_raw(), obj);
        assert_eq!(reader.join().unwrap(), 28 + round);
    }
}

// ---------------------------------------------------------------------------------------
// Conversions

#[test]
fn maps_and_dicts_round_trip_through_any() {
    let _s = serial();
    let m: Map = [(text("a"), 1i64), (text("b"), 2i64)].into_iter().collect();
    let any = Any::from(m.clone());
    assert_eq!(any.type_index(), TypeIndex::MAP);
    assert_eq!(any.get::<Map>().unwrap(), m);
    assert_eq!(Map::try_from(any).unwrap(), m);
    assert_eq!(AnyView::from(&m).get::<Map>().unwrap(), m);
    assert_eq!(m.as_object().strong_count(), 1);

    let d: Dict = (0..9i64).map(|i| (i, i)).collect();
    let any = Any::from(d.clone());
    assert_eq!(any.type_index(), TypeIndex::DICT);
    assert_eq!(Dict::try_from(any.clone()).unwrap(), d);
    // Across the two types: a copy, with the same pairs in the same order.
    let as_map: Map = any.get().unwrap();
    assert_eq!(int_keys(&as_map), dict_int_keys(&d));
    d.insert(100i64, 0i64).unwrap();
    assert_eq!(as_map.len(), 9, "a copy");
    let as_dict: Dict = AnyView::from(&m).get().unwrap();
    assert_eq!(as_dict.get_as::<i64>("b").unwrap(), 2);
    assert!(!as_dict.is_dense());

    for bad in [Any::from(1i64), Any::NONE, text("x")] {
        let e = bad.get::<Map>().unwrap_err();
        assert_eq!((e.kind(), e.expected()), (ConversionErrorKind::Mismatch, "Map<Any, Any>"));
        assert_eq!(Dict::try_from(bad).unwrap_err().expected(), "Dict<Any, Any>");
    }
    assert!(Any::from(Dict::new()).get::<ObjectRef<MapObj>>().is_err());
    assert!(format!("{m:?}").starts_with("Map{AnyView(ffi.SmallStr"), "{m:?}");
}

#[test]
fn keys_of_every_kind_compare_as_in_the_reference() {
    let _s = serial();
    static_function!(F, G);
    let long = "a string key longer than seven bytes";
    let mut m = Map::new();
    let keys: Vec<(Any, i64)> = vec![
        (Any::from(1i64), 1),
        (Any::from(true), 2),
        (Any::from(0.0f64), 3),
        (Any::from(-0.0f64), 4),
        (Any::from(f64::NAN), 5),
        (Any::NONE, 6),
        (text("short"), 7),
        (text(long), 8),
        (Bytes::try_new(b"short").unwrap().into(), 9),
        (fref(&F), 10),
        (fref(&G), 11),
        (Any::from(DataType::float(32)), 12),
        (Any::from(Device::new(DeviceType::CPU, 0)), 13),
    ];
    for (k, v) in &keys {
        assert!(m.insert(k.clone(), *v).unwrap().is_none(), "{k:?} is a new key");
    }
    assert_eq!(m.len(), keys.len());
    for (k, v) in &keys {
        assert_eq!(m.get_as::<i64>(k).unwrap(), *v, "{k:?}");
    }
    // Text finds text of the same kind and content, however it is held.
    assert_eq!(m.get_as::<i64>("short").unwrap(), 7);
    assert_eq!(m.get_as::<i64>(long).unwrap(), 8);
    assert_eq!(m.get_as::<i64>(&FfiString::from(long)).unwrap(), 8);
    assert_eq!(m.get_as::<i64>(AnyView::from(c"short")).unwrap(), 7);
    assert_eq!(m.get_as::<i64>(Key::bytes(b"short")).unwrap(), 9);
    assert!(m.get(Key::bytes(long.as_bytes())).unwrap().is_none());
    // Objects by identity.
    assert_eq!(m.get_as::<i64>(AnyView::from(&F.new_ref())).unwrap(), 10);
    assert_eq!(m.get_as::<i64>(Key::from(2i32 - 1)).unwrap(), 1);
    assert!(m.get(2i64).unwrap().is_none() && m.get(false).unwrap().is_none());
    drop(m);
    drop(keys);
    assert_eq!((strong(&F), strong(&G)), (1, 1));
}

#[test]
fn capacity_requests_are_checked() {
    let _s = serial();
    assert!(!Map::with_capacity(3).unwrap().is_dense());
    assert!(Map::with_capacity(4).unwrap().is_dense());
    assert!(Dict::with_capacity(100).unwrap().is_dense());
    assert!(matches!(Map::with_capacity(usize::MAX), Err(MapError::CapacityOverflow)));
    assert!(matches!(Dict::with_capacity(usize::MAX / 2), Err(MapError::CapacityOverflow)));
}
