//! `Map` and `Dict` across the boundary: maps our code builds, read, looked up, iterated
//! and changed by the reference's C++ `Map<K, V>` / `Dict<K, V>`; maps C++ builds, read and
//! changed by ours; and the same random operations replayed on both sides, whose tables
//! must then be identical slot for slot. `cpp/map.cc` is the other half.
//!
//! Checks on the Rust side return 0 on success, or the number of the first failed check.

use core::ffi::c_void;
use core::ptr::NonNull;

use tvmffi_alloc::BigInt;
use tvmffi_alloc::map::{Dict, DictObj, Key, Map, MapObj};
use tvmffi_alloc::seq::Array;
use tvmffi_core::sys::{TVMFFIAny, TVMFFIFunctionCell, TVMFFIObject};
use tvmffi_core::{Any, AnyView, ObjectRef, StaticObject, TypeIndex};

/// A function object in static memory: its strong count shows how many values hold it.
static FUNC: StaticObject<TVMFFIFunctionCell> = StaticObject::new(
    TypeIndex::FUNCTION,
    TVMFFIFunctionCell { safe_call: None, cpp_call: core::ptr::null_mut() },
);

/// A new strong reference to the static function object.
#[unsafe(no_mangle)]
pub extern "C" fn rs_map_function() -> *mut c_void {
    FUNC.new_ref().into_raw().cast()
}

/// The static function object's strong count (1 when nothing else holds it).
#[unsafe(no_mangle)]
pub extern "C" fn rs_map_function_strong() -> u32 {
    FUNC.header().strong_count()
}

fn text(s: &str) -> Any {
    tvmffi_alloc::String::from(s).into()
}

/// Key `i` of the maps both sides build: even `i` an int, odd `i` a string, short or long.
fn key(i: i64) -> Any {
    match i % 4 {
        1 => text(&format!("k{i}")),
        3 => text(&format!("a long string key number {i}")),
        _ => Any::from(i),
    }
}

/// A map (or dict) of `key(i) -> i * 10` for `i < n`, then `"fn" -> <function>`; owned
/// by the caller.
#[unsafe(no_mangle)]
pub extern "C" fn rs_map_make(n: i64, dict: bool) -> *mut c_void {
    let pairs = (0..n)
        .map(|i| (key(i), Any::from(i * 10)))
        .chain([(text("fn"), Any::from(FUNC.new_ref()))]);
    if dict {
        let d = Dict::new();
        for (k, v) in pairs {
            d.insert(k, v).unwrap();
        }
        d.into_object().into_raw().cast()
    } else {
        let mut m = Map::new();
        for (k, v) in pairs {
            m.insert(k, v).unwrap();
        }
        m.into_object().into_raw().cast()
    }
}

/// A view of a borrowed object.
///
/// # Safety
///
/// `obj` is a live object kept alive by the caller during the use of the view.
unsafe fn view<'a>(obj: *mut c_void) -> Option<AnyView<'a>> {
    // SAFETY: the caller's contract.
    NonNull::new(obj.cast()).map(|p| unsafe { AnyView::from_object_ptr(p) })
}

/// Check a map or dict that C++ built as `key(i) -> i * 10` for `i < n`: its iteration
/// order is `order` (an array of keys C++ iterated), every key is found, also by text.
///
/// # Safety
///
/// Both are live objects kept alive by the caller during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_map_check_cpp(obj: *mut c_void, order: *mut c_void, n: i64) -> i32 {
    // SAFETY: the caller's contract.
    let (Some(v), Some(order)) = (unsafe { view(obj) }, unsafe { view(order) }) else { return 1 };
    let Ok(order) = order.get::<Array>() else { return 2 };
    let pairs: Vec<(Any, Any)> = match v.type_index() {
        TypeIndex::MAP => match v.get::<Map>() {
            Ok(m) => m.into_iter().collect(),
            Err(_) => return 3,
        },
        TypeIndex::DICT => match v.get::<Dict>() {
            Ok(d) => d.iter().collect(),
            Err(_) => return 4,
        },
        _ => return 5,
    };
    if pairs.len() != n as usize || order.len() != pairs.len() {
        return 6;
    }
    // The same order, key for key (text by content).
    for ((k, _), want) in pairs.iter().zip(order.iter()) {
        if !same_key(k.as_raw(), want.as_raw()) {
            return 7;
        }
    }
    // Every key found, with its value.
    let lookup = |k: Key<'_>| -> Option<i64> {
        match v.type_index() {
            TypeIndex::MAP => v.get::<Map>().ok()?.get(k).ok()??.get().ok(),
            _ => v.get::<Dict>().ok()?.get(k).ok()??.get().ok(),
        }
    };
    for i in 0..n {
        let k = key(i);
        if lookup(Key::from(&k)) != Some(i * 10) {
            return 8;
        }
        if k.as_str().is_ok_and(|s| lookup(Key::from(s)) != Some(i * 10)) {
            return 9;
        }
    }
    if lookup(Key::from(n)).is_some() || lookup(Key::from("absent")).is_some() {
        return 10;
    }
    0
}

/// Insert `k` more pairs `10000 + i -> i` into a borrowed dict (C++'s, growing it in place,
/// replacing its storage), set key 0 again and erase key `10000`; returns the length.
///
/// # Safety
///
/// `obj` is a live object kept alive by the caller during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_map_grow_dict(obj: *mut c_void, k: i64) -> i64 {
    // SAFETY: the caller's contract.
    let Some(d) = (unsafe { view(obj) }).and_then(|v| v.get::<ObjectRef<DictObj>>().ok()) else {
        return -1;
    };
    let d = Dict::from_object(d);
    for i in 0..k {
        if d.insert(10000 + i, i).is_err() {
            return -2;
        }
    }
    if d.insert(0i64, Any::from(FUNC.new_ref())).is_err() || d.remove(10000i64).is_err() {
        return -3;
    }
    d.len() as i64
}

/// Take a C++ map `{key(i): i * 10}`, insert, erase and hand it back changed (copied if
/// C++ still shares it). Returns null on a failed check.
///
/// # Safety
///
/// `obj` carries one strong reference, which the result carries back.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_map_edit_cpp_map(obj: *mut c_void) -> *mut c_void {
    // SAFETY: the caller hands over a strong reference.
    let Some(m) = (unsafe { ObjectRef::<MapObj>::from_raw(obj.cast::<TVMFFIObject>()) }) else {
        return core::ptr::null_mut();
    };
    let mut m = Map::from_object(m);
    let ok = m.insert(text("added by Rust"), Any::from(FUNC.new_ref())).is_ok()
        && m.remove(0i64).is_ok_and(|v| v.is_some())
        && m.insert(2i64, -2i64).is_ok_and(|old| old.is_some_and(|o| o.get() == Ok(20i64)));
    if ok { m.into_object().into_raw().cast() } else { core::ptr::null_mut() }
}

// ---------------------------------------------------------------------------------------
// Replay: the same random operations on both sides.

/// SplitMix64, as in `cpp/map.cc`.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// `n * 2^70 + n`: an `ffi.BigInt` object for `n > 0`, which the maps hash and compare
/// through the `__any_hash__` / `__any_equal__` the reference registers for it.
fn big(n: i64) -> Any {
    BigInt::from((i128::from(n) << 70) + i128::from(n)).into()
}

/// One random key, as `RandomKey` in `cpp/map.cc`.
fn random_key(rng: &mut Rng, domain: u64) -> Any {
    let n = rng.below(domain) as i64;
    match rng.below(6) {
        0 | 1 => Any::from(n - 8),
        2 => Any::from(n % 2 == 0),
        3 => text(&format!("k{n}")),
        4 => big(n),
        _ => text(&format!("a longer text key {n}")),
    }
}

/// A dict of `big(i) -> i` for `1 <= i <= n`; owned by the caller.
#[unsafe(no_mangle)]
pub extern "C" fn rs_map_make_big(n: i64) -> *mut c_void {
    let d = Dict::new();
    for i in 1..=n {
        d.insert(big(i), i).unwrap();
    }
    d.into_object().into_raw().cast()
}

/// Look up `big(i)` (new objects, equal by value) for `1 <= i <= n` in a borrowed dict
/// C++ built, then insert `big(i)` for `n < i <= 2n` (rehashing C++'s keys).
///
/// # Safety
///
/// `obj` is a live object kept alive by the caller during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_map_big_lookups(obj: *mut c_void, n: i64) -> i32 {
    // SAFETY: the caller's contract.
    let Some(d) = (unsafe { view(obj) }).and_then(|v| v.get::<Dict>().ok()) else { return 1 };
    for i in 1..=n {
        if d.get(&big(i)).ok().flatten().and_then(|v| v.get::<i64>().ok()) != Some(i) {
            return 2;
        }
    }
    if !matches!(d.get(&big(n + 1)), Ok(None)) {
        return 3;
    }
    for i in n + 1..=2 * n {
        if d.insert(big(i), i).is_err() {
            return 4;
        }
    }
    if (1..=2 * n).any(|i| d.get_as::<i64>(&big(i)).ok() != Some(i)) {
        return 5;
    }
    0
}

/// Build a map (or dict) by `ops` random sets and erases from `seed`, as C++'s
/// `Replay` does; owned by the caller.
#[unsafe(no_mangle)]
pub extern "C" fn rs_map_replay(seed: u64, ops: i64, domain: u64, dict: bool) -> *mut c_void {
    let mut rng = Rng(seed);
    let mut m = Map::new();
    let d = Dict::new();
    for _ in 0..ops {
        let k = random_key(&mut rng, domain);
        let set = rng.below(3) != 0;
        let v = rng.below(1000) as i64;
        match (set, dict) {
            (true, false) => drop(m.insert(k, v).unwrap()),
            (true, true) => drop(d.insert(k, v).unwrap()),
            (false, false) => drop(m.remove(&k).unwrap()),
            (false, true) => drop(d.remove(&k).unwrap()),
        }
    }
    if dict { d.into_object().into_raw().cast() } else { m.into_object().into_raw().cast() }
}

/// Whether two keys or values are the same: text by content, the rest by all 16 bytes.
fn same_key(a: &TVMFFIAny, b: &TVMFFIAny) -> bool {
    // SAFETY: both are live values of live maps (or arrays).
    let (va, vb) = unsafe { (AnyView::from_raw(*a), AnyView::from_raw(*b)) };
    if va.type_index() == TypeIndex::BIG_INT && vb.type_index() == TypeIndex::BIG_INT {
        return va.get::<BigInt>().ok().map(|b| b.words().to_vec())
            == vb.get::<BigInt>().ok().map(|b| b.words().to_vec());
    }
    match (va.as_str_or_bytes(), vb.as_str_or_bytes()) {
        (Ok(x), Ok(y)) => x == y && text_kind(va) == text_kind(vb),
        // SAFETY: plain data; every value is fully initialised.
        _ => unsafe {
            core::mem::transmute::<TVMFFIAny, [u64; 2]>(*a)
                == core::mem::transmute::<TVMFFIAny, [u64; 2]>(*b)
        },
    }
}

fn text_kind(v: AnyView<'_>) -> bool {
    matches!(v.type_index(), TypeIndex::STR | TypeIndex::SMALL_STR)
}

/// Read a field of a map object at its 64-bit offset (the interop runs on x86-64).
///
/// # Safety
///
/// `obj` is a live map object.
unsafe fn field<T: Copy>(obj: *const u8, offset: usize) -> T {
    // SAFETY: the caller's contract; the offsets are the header's.
    unsafe { obj.add(offset).cast::<T>().read() }
}

/// Compare two map objects byte for byte where it matters, as C++ would read them: the
/// layout, counts, for a small map the pairs in order, for a dense one every slot's
/// metadata, pair and list links, and the list's ends. Returns 0 when identical.
///
/// # Safety
///
/// Both are live map objects kept alive by the caller during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_map_same_layout(a: *mut c_void, b: *mut c_void) -> i32 {
    let (a, b) = (a.cast::<u8>().cast_const(), b.cast::<u8>().cast_const());
    // SAFETY: live map objects (the caller's contract); offsets of `MapBaseObj` and
    // `DenseMapBaseObj` on 64-bit.
    unsafe {
        let (size, slots) = (field::<u64>(a, 32), field::<u64>(a, 40));
        if (size, slots) != (field::<u64>(b, 32), field::<u64>(b, 40)) {
            eprintln!(
                "map layouts differ: size/slots {size}/{slots:#x} vs {}/{:#x}",
                field::<u64>(b, 32),
                field::<u64>(b, 40)
            );
            return 1;
        }
        let (da, db) = (field::<*const u8>(a, 24), field::<*const u8>(b, 24));
        if slots & (1 << 63) != 0 {
            for i in 0..size as usize {
                let (pa, pb) =
                    (da.add(i * 32).cast::<TVMFFIAny>(), db.add(i * 32).cast::<TVMFFIAny>());
                if !same_key(&*pa, &*pb) || !same_key(&*pa.add(1), &*pb.add(1)) {
                    eprintln!("small map pair {i} differs");
                    return 2;
                }
            }
            return 0;
        }
        // `fib_shift_` is 4 bytes; the 4 after it are padding.
        let dense = |p| (field::<u32>(p, 56), field::<u64>(p, 64), field::<u64>(p, 72));
        if dense(a) != dense(b) {
            eprintln!("dense fields differ: {:?} vs {:?}", dense(a), dense(b));
            return 3;
        }
        for i in 0..slots as usize {
            let block = i / 16 * 784;
            let (ma, mb) = (*da.add(block + i % 16), *db.add(block + i % 16));
            if ma != mb {
                eprintln!("slot {i}: metadata {ma:#x} vs {mb:#x}");
                return 4;
            }
            if ma == 0xFF || ma == 0xFE {
                continue;
            }
            let item = block + 16 + i % 16 * 48;
            let (ia, ib) = (da.add(item).cast::<TVMFFIAny>(), db.add(item).cast::<TVMFFIAny>());
            if !same_key(&*ia, &*ib) || !same_key(&*ia.add(1), &*ib.add(1)) {
                eprintln!("slot {i}: pair differs");
                return 5;
            }
            let links = |p: *const u8| {
                (p.add(item + 32).cast::<u64>().read(), p.add(item + 40).cast::<u64>().read())
            };
            if links(da) != links(db) {
                eprintln!("slot {i}: list links differ");
                return 6;
            }
        }
        0
    }
}
