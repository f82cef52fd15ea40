//! `Array` and `List` across the boundary: objects our code builds, read and mutated by the
//! reference's C++ `Array<T>` / `List<T>`, and objects C++ builds, read, mutated and
//! dropped by ours. `cpp/seq.cc` is the other half.
//!
//! Checks on the Rust side return 0 on success, or the number of the first failed check.

use core::ffi::c_void;

use tvmffi_alloc::seq::{Array, ArrayObj, List, ListObj};
use tvmffi_core::sys::{TVMFFIAny, TVMFFIByteArray, TVMFFIFunctionCell, TVMFFIObject, api};
use tvmffi_core::{Any, AnyView, FunctionObj, ObjectRef, StaticObject, TypeIndex};

unsafe extern "C" fn seven(
    _handle: *mut c_void,
    _args: *const TVMFFIAny,
    _num_args: i32,
    result: *mut TVMFFIAny,
) -> i32 {
    // SAFETY: `result` is the caller's writable result slot.
    unsafe { tvmffi_core::call::write_result(result, Any::from(7i64)) };
    0
}

/// A function object in static memory: its strong count shows how many elements hold it.
static SEVEN: StaticObject<TVMFFIFunctionCell> = StaticObject::new(
    TypeIndex::FUNCTION,
    TVMFFIFunctionCell { safe_call: Some(seven), cpp_call: core::ptr::null_mut() },
);

/// A new strong reference to the static function object (returns 7).
#[unsafe(no_mangle)]
pub extern "C" fn rs_seq_function() -> *mut c_void {
    SEVEN.new_ref().into_raw().cast()
}

/// The static function object's strong count (1 when nothing else holds it).
#[unsafe(no_mangle)]
pub extern "C" fn rs_seq_function_strong() -> u32 {
    SEVEN.header().strong_count()
}

/// A string: inline when short, else an `ffi.String` made by the reference's C API.
fn text(s: &str) -> Any {
    if let Some(small) = Any::small_str(s) {
        return small;
    }
    let bytes = TVMFFIByteArray { data: s.as_ptr().cast(), size: s.len() };
    let mut out = TVMFFIAny::NONE;
    // SAFETY: `bytes` describes a live buffer and `out` is a writable value slot.
    let rc = unsafe { api::TVMFFIStringFromByteArray(&bytes, &mut out) };
    assert_eq!(rc, 0, "TVMFFIStringFromByteArray failed");
    // SAFETY: on success `out` owns a string object.
    unsafe { Any::from_raw(out) }
}

fn give<T: tvmffi_core::ObjectType>(obj: ObjectRef<T>) -> *mut c_void {
    obj.into_raw().cast()
}

/// `[1, 2.5, true, "hi", <long string>, <function>, [10, 20], None]`, owned by the caller.
#[unsafe(no_mangle)]
pub extern "C" fn rs_seq_make_mixed_array() -> *mut c_void {
    let nested: Array = [10i64, 20].into_iter().collect();
    let items = vec![
        Any::from(1i64),
        Any::from(2.5f64),
        Any::from(true),
        text("hi"),
        text("a string longer than seven bytes"),
        Any::from(SEVEN.new_ref()),
        Any::from(nested),
        Any::NONE,
    ];
    give(Array::from_vec(items).into_object())
}

/// `[0, 1, .., n - 1]`, capacity `n`, owned by the caller.
#[unsafe(no_mangle)]
pub extern "C" fn rs_seq_make_int_array(n: i64) -> *mut c_void {
    give((0..n).collect::<Array>().into_object())
}

/// `["a", <long string>, "c"]`, owned by the caller.
#[unsafe(no_mangle)]
pub extern "C" fn rs_seq_make_str_array() -> *mut c_void {
    let items = vec![text("a"), text("a long string in a Rust array"), text("c")];
    give(Array::from_vec(items).into_object())
}

/// A list `[0, 1, .., n - 1]` (capacity `max(n, 4)`), owned by the caller.
#[unsafe(no_mangle)]
pub extern "C" fn rs_seq_make_list(n: i64) -> *mut c_void {
    give((0..n).collect::<List>().into_object())
}

/// An empty list with no buffer (`List()`), owned by the caller.
#[unsafe(no_mangle)]
pub extern "C" fn rs_seq_make_empty_list() -> *mut c_void {
    give(List::new().into_object())
}

/// A new strong reference to the list behind a borrowed pointer.
///
/// # Safety
///
/// `obj` points to a live object that the caller keeps alive during the call.
unsafe fn borrow_list(obj: *mut c_void) -> Option<List> {
    // SAFETY: the caller keeps the object alive; the view only lives for this call.
    let view = unsafe { AnyView::from_object_ptr(core::ptr::NonNull::new(obj.cast())?) };
    view.get::<ObjectRef<ListObj>>().ok().map(List::from_object)
}

/// Check a list that C++ pushed onto: `[-1, 0, .., n - 1, <function>, "<long text>"]`.
///
/// # Safety
///
/// `obj` is a live object kept alive by the caller during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_seq_check_pushed_list(
    obj: *mut c_void,
    n: i64,
    text: *const u8,
) -> i32 {
    // SAFETY: the caller's contract.
    let Some(list) = (unsafe { borrow_list(obj) }) else { return 1 };
    let n_us = n as usize;
    if list.len() != n_us + 3 {
        return 2;
    }
    if list.get_as::<i64>(0) != Ok(-1) {
        return 3;
    }
    if !(0..n).all(|i| list.get_as::<i64>(i as usize + 1) == Ok(i)) {
        return 4;
    }
    let Ok(f) = list.get_as::<ObjectRef<FunctionObj>>(n_us + 1) else { return 5 };
    if tvmffi_core::call::call(&f, &[]).map(|r| r.get::<i64>()) != Ok(Ok(7)) {
        return 6;
    }
    // SAFETY: C++ passes a NUL-terminated string literal.
    let want = unsafe { core::ffi::CStr::from_ptr(text.cast()) }.to_bytes();
    match list.get(n_us + 2) {
        Some(s) if s.as_str().map(str::as_bytes) == Ok(want) => 0,
        _ => 7,
    }
}

/// Push `k` more ints (`100..100 + k`) onto a borrowed list, then pop one and remove the
/// element at 0: enough pushes make Rust replace a buffer some other code allocated.
/// Returns the capacity after the pushes, or -1 for a non-list.
///
/// # Safety
///
/// `obj` is a live object kept alive by the caller during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_seq_grow_list(obj: *mut c_void, k: i64) -> i64 {
    // SAFETY: the caller's contract.
    let Some(list) = (unsafe { borrow_list(obj) }) else { return -1 };
    for i in 0..k {
        list.push(100 + i);
    }
    let capacity = list.capacity() as i64;
    drop(list.pop());
    drop(list.remove(0));
    capacity
}

/// Take a C++ array `[1, "short", "<long text>", [2, 3], <function>, List[4, 5]]`, check it,
/// and drop it (the last reference runs the C++ destructor).
///
/// # Safety
///
/// `obj` carries one strong reference, which this call takes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_seq_consume_array(obj: *mut c_void, long_text: *const u8) -> i32 {
    // SAFETY: the caller hands over a strong reference.
    let Some(any) = core::ptr::NonNull::new(obj.cast()).map(|p| unsafe { Any::from_object_raw(p) })
    else {
        return 1;
    };
    let Ok(array) = Array::try_from(any) else { return 2 };
    // SAFETY: a NUL-terminated literal from C++.
    let long_text = unsafe { core::ffi::CStr::from_ptr(long_text.cast()) }.to_str();
    let checks = [
        array.len() == 6,
        array.get_as::<i64>(0) == Ok(1),
        array.get(1).map(|v| v.type_index()) == Some(TypeIndex::SMALL_STR),
        array.get(1).is_some_and(|v| v.as_str() == Ok("short")),
        array.get(2).map(|v| v.type_index()) == Some(TypeIndex::STR),
        array.get(2).is_some_and(|v| v.as_str().ok() == long_text.ok()),
        array.get_as::<Array>(3).is_ok_and(|a| {
            a.iter().map(|v| v.get::<i64>()).eq([Ok(2), Ok(3)]) && a.capacity() == 2
        }),
        array.get_as::<ObjectRef<FunctionObj>>(4).is_ok(),
        array.get_as::<List>(5).is_ok_and(|l| {
            l.iter().map(|v| v.get::<i64>()).eq([Ok(4), Ok(5)]) && l.capacity() == 4
        }),
        array.iter().count() == 6 && array.iter().rev().count() == 6,
        array.get(6).is_none() && array.get_as::<i64>(1).is_err(),
        // The reference's `Array` from a `List` is a copy, and the other way round.
        array.get_as::<Array>(5).is_ok_and(|a| a.len() == 2 && a.get_as::<i64>(1) == Ok(5)),
    ];
    match checks.iter().position(|ok| !ok) {
        Some(i) => 10 + i as i32,
        None => 0,
    }
}

/// Take a C++ list `[1, 2]` (capacity 4): push past its capacity (Rust replaces C++'s
/// buffer, freeing it through C++'s deleter), insert, set, remove, check, and give it back.
/// Returns null on a failed check.
///
/// # Safety
///
/// `obj` carries one strong reference, which the result carries back.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_seq_edit_cpp_list(obj: *mut c_void) -> *mut c_void {
    // SAFETY: the caller hands over a strong reference.
    let Some(list) = (unsafe { ObjectRef::<ListObj>::from_raw(obj.cast::<TVMFFIObject>()) }) else {
        return core::ptr::null_mut();
    };
    let list = List::from_object(list);
    let ok = list.len() == 2 && list.capacity() == 4;
    for i in 3..=5i64 {
        list.push(i);
    }
    let grown = list.capacity() == 8;
    let inserted = list.insert(0, text("front of a C++ list")).is_ok();
    let set = list.set(1, Any::from(SEVEN.new_ref())).is_ok_and(|old| old.get() == Ok(1i64));
    let removed = list.remove(2).is_ok_and(|old| old.get() == Ok(2i64));
    let bad = list.remove(99).is_err() && list.insert(99, 0i64).is_err();
    // Now ["front of a C++ list", <function>, 3, 4, 5].
    if ok && grown && inserted && set && removed && bad && list.len() == 5 {
        give(list.into_object())
    } else {
        core::ptr::null_mut()
    }
}

/// Convert a borrowed list or array to a new `Array`, as the reference's `Array<Any>` cast
/// does (a copy for a list); null for anything else.
///
/// # Safety
///
/// `obj` is a live object kept alive by the caller during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_seq_to_array(obj: *mut c_void) -> *mut c_void {
    let Some(ptr) = core::ptr::NonNull::new(obj.cast()) else { return core::ptr::null_mut() };
    // SAFETY: the caller keeps the object alive during the call.
    let view = unsafe { AnyView::from_object_ptr(ptr) };
    match view.get::<Array>() {
        Ok(a) => give::<ArrayObj>(a.into_object()),
        Err(_) => core::ptr::null_mut(),
    }
}
