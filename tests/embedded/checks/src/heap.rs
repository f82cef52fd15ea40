//! The alloc tier on a microcontroller heap: strings, bytes, arrays, lists, maps, dicts,
//! closures, global functions and heap errors, with every byte given back.

use alloc::vec;
use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicUsize, Ordering};

use tvmffi_alloc::error::Error;
use tvmffi_alloc::function::Function;
use tvmffi_alloc::map::{Dict, Map};
use tvmffi_alloc::{Array, Bytes, List, String};
use tvmffi_core::{Any, AnyView, TypeIndex};

use crate::functions::SYSTEM_LIB;
use crate::report::Failure;

/// Bytes allocated through [`Counted`] and not yet freed.
static LIVE: AtomicUsize = AtomicUsize::new(0);
/// The most bytes ever live at once.
static PEAK: AtomicUsize = AtomicUsize::new(0);

/// The firmware's global allocator, `A` with its live bytes counted, so the checks can see
/// that everything they made was freed.
pub struct Counted<A>(pub A);

// SAFETY: every call is forwarded unchanged to `A`, which upholds the contract; the counter
// is bookkeeping only.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Counted<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's promises.
        let p = unsafe { self.0.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded with the caller's promises.
        unsafe { self.0.dealloc(ptr, layout) }
    }
}

/// Bytes live on the heap (through [`Counted`]).
pub fn live_bytes() -> usize {
    LIVE.load(Ordering::Relaxed)
}

/// The most bytes live on the heap at once (through [`Counted`]).
pub fn peak_bytes() -> usize {
    PEAK.load(Ordering::Relaxed)
}

/// Strings and bytes: inline when short, heap objects otherwise.
pub fn strings_and_bytes() -> Result<(), Failure> {
    let before = live_bytes();
    {
        let long = ok!(String::try_new("a string longer than seven bytes"));
        ensure!(!long.is_inline() && long.as_str() == "a string longer than seven bytes");
        ensure!(live_bytes() > before);
        let value = Any::from(long.clone());
        ensure!(value.type_index() == TypeIndex::STR);
        ensure!(ok!(value.as_str()) == long.as_str());
        let back: String = ok!(value.get());
        ensure!(back == long);

        let short = ok!(String::try_new("short"));
        ensure!(short.is_inline() && short.view().type_index() == TypeIndex::SMALL_STR);

        let blob: [u8; 20] = core::array::from_fn(|i| i as u8);
        let bytes = ok!(Bytes::try_new(&blob));
        ensure!(!bytes.is_inline() && bytes.as_bytes() == blob);
        ensure!(bytes.view().type_index() == TypeIndex::BYTES);
    }
    ensure!(live_bytes() == before);
    Ok(())
}

/// Arrays and lists of mixed values, nested, with shared elements.
pub fn arrays_and_lists() -> Result<(), Failure> {
    let before = live_bytes();
    {
        let name = ok!(String::try_new("second element, on the heap"));
        let array =
            Array::from_vec(vec![Any::from(1i64), Any::from(name.clone()), Any::from(2.5f64)]);
        ensure!(array.len() == 3 && ok!(array.get_as::<i64>(0)) == 1);
        ensure!(ok!(ok!(array.get(1)).as_str()) == name.as_str());
        ensure!(ok!(array.get_as::<f64>(2)) == 2.5 && array.get(3).is_none());

        let list = List::new();
        list.push(7i64);
        list.push(array.clone());
        list.push(ok!(String::try_new("pushed")));
        ensure!(list.len() == 3);
        let inner: Array = ok!(list.get_as(1));
        ensure!(inner.ptr_eq(&array) && inner.len() == 3);
        ensure!(ok!(ok!(list.pop()).as_str()) == "pushed" && list.len() == 2);
        ok!(list.set(0, 8i64));
        ensure!(ok!(list.get_as::<i64>(0)) == 8);

        // Through the C convention: a kernel counts the elements of any value passed as a view.
        let count = ok!(SYSTEM_LIB.get("arg_count"));
        let items: [AnyView<'_>; 3] = [(&array).into(), (&list).into(), (&name).into()];
        ensure!(ok!(ok!(count.call(&items)).get::<i64>()) == 3);
    }
    ensure!(live_bytes() == before);
    Ok(())
}

/// Maps (copy on write) and dicts (shared), small and past the small layout, keyed by text
/// and by integers, and the `ffi.Map*` built-ins of the runtime.
pub fn maps_and_dicts() -> Result<(), Failure> {
    // The first look-up registers the runtime's built-ins, which live for the program.
    let size = ok!(Function::get_global("ffi.MapSize"));
    let before = live_bytes();
    {
        let mut map = Map::new();
        for i in 0..40i64 {
            drop(ok!(map.insert(Any::from(i), Any::from(i * i))));
        }
        ensure!(map.len() == 40 && map.is_dense());
        ensure!(ok!(ok!(map.at(7i64)).get::<i64>()) == 49);
        let shared = map.clone();
        drop(ok!(map.insert(Any::from(7i64), Any::from(0i64))));
        ensure!(ok!(ok!(shared.at(7i64)).get::<i64>()) == 49); // copy on write
        ensure!(ok!(map.remove(8i64)).is_some() && !ok!(map.contains_key(8i64)));

        let dict = Dict::new();
        let key = ok!(String::try_new("a key longer than seven bytes"));
        drop(ok!(dict.insert(Any::from(key.clone()), Any::from(1.5f64))));
        drop(ok!(dict.insert(Any::from(1i64), Any::from(key.clone()))));
        ensure!(dict.len() == 2);
        // Text keys are found by content, in any form.
        ensure!(ok!(ok!(dict.at("a key longer than seven bytes")).get::<f64>()) == 1.5);

        // The runtime's built-ins, by name, as C or Python would call them.
        ensure!(ok!(ok!(size.call(&[(&map).into()])).get::<i64>()) == 39);
    }
    ensure!(live_bytes() == before);
    Ok(())
}

/// Rust closures as function objects, typed and packed, and errors they return.
pub fn closures() -> Result<(), Failure> {
    let before = live_bytes();
    {
        let offset = 100i64;
        let shift = Function::from_packed(move |args: &[AnyView<'_>]| {
            let x: i64 = ok_or_type_error(args.first())?;
            Ok(Any::from(x + offset))
        });
        ensure!(ok!(ok!(shift.call(&[AnyView::from(5i64)])).get::<i64>()) == 105);
        let failed = shift.call(&[]).err();
        ensure!(failed.as_ref().is_some_and(|e| e.is_kind("TypeError")));
        ensure!(failed.as_ref().is_some_and(|e| e.message() == "shift expects an integer"));

        let scale = Function::from_typed(|x: i64, k: f64| -> Result<f64, Error> {
            if k == 0.0 { Err(Error::value_error("zero scale")) } else { Ok(x as f64 * k) }
        });
        ensure!(ok!(scale.typed::<(i64, f64), f64>().call((4, 0.5))) == 2.0);
        let zero = scale.typed::<(i64, f64), f64>().call((4, 0.0)).err();
        ensure!(zero.is_some_and(|e| e.is_kind("ValueError") && e.message() == "zero scale"));

        // A statically linked kernel wrapped as a function object; its C-raised error
        // arrives as a heap error object.
        let div = ok!(SYSTEM_LIB.get("checked_div"));
        // SAFETY: the kernel follows the packed convention and ignores its handle.
        let div = unsafe { Function::from_extern_c(core::ptr::null_mut(), div.safe_call(), None) };
        let err = div.call(&[AnyView::from(1i64), AnyView::from(0i64)]).err();
        ensure!(
            err.is_some_and(|e| e.is_kind("ValueError") && e.message().starts_with("division"))
        );
    }
    ensure!(live_bytes() == before);
    Ok(())
}

fn ok_or_type_error(arg: Option<&AnyView<'_>>) -> Result<i64, Error> {
    arg.and_then(|a| a.get::<i64>().ok())
        .ok_or_else(|| Error::type_error("shift expects an integer"))
}

/// Global functions in the alloc runtime's registry (they stay registered, so this check
/// does not count bytes).
pub fn global_functions() -> Result<(), Failure> {
    let twice = Function::from_typed(|x: i64| -> Result<i64, Error> { Ok(2 * x) });
    ok!(Function::register_global("firmware.twice", &twice, false));
    ensure!(Function::register_global("firmware.twice", &twice, false).is_err());
    let found = ok!(Function::get_global("firmware.twice"));
    ensure!(found.as_object().ptr_eq(twice.as_object()));
    ensure!(twice.as_object().strong_count() == 3);
    ensure!(ok!(found.typed::<(i64,), i64>().call((21,))) == 42);
    ensure!(Function::get_global("firmware.thrice").is_none());
    Ok(())
}
