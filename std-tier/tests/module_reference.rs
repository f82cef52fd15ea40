//! Our loader and runtime under a kernel library built with the reference's own C++ export
//! macros and linked with the reference `libtvm_ffi.so`
//! (`tests/fixtures/cpp/reference_macros.cc`). Before loading it, our loader puts the host's
//! stand-in `libtvm_ffi.so` in place, so the library's `DT_NEEDED` and its C API calls bind
//! to our runtime (the reference library is never loaded): the reference's inline C++ makes
//! strings and errors through our runtime, and its errors land in our slot. (`ci/std-abi.sh` compares
//! our backtrace format with the reference's, each in a process of its own.)
#![cfg(not(miri))] // Miri cannot load shared libraries

mod common;

use core::ffi::{c_char, c_int, c_void};

use tvmffi_alloc::map::{Dict, Map};
use tvmffi_alloc::{Array, Error, List, Tensor};
use tvmffi_core::AnyView;
use tvmffi_core::call::{CallError, call};
use tvmffi_core::sys::{DLManagedTensorVersioned, DLTensor};
use tvmffi_core::{Any, DataType, Device};
use tvmffi_std::module::Module;

fn fixture() -> Option<Module> {
    let path = common::fixture(common::cpp_reference_fixture())?;
    Some(Module::load_from_file(&path).expect("the C++ fixture loads"))
}

#[test]
fn reference_built_kernels_work_through_our_loader() {
    let Some(m) = fixture() else { return };
    let add_one = m.function("add_one").unwrap();
    assert_eq!(call(&add_one, &[AnyView::from(41i64)]).unwrap().get::<i64>().unwrap(), 42);

    // A long string made (and later freed) by the reference runtime.
    let greet = m.function("greet").unwrap();
    let name = c"a name long enough to need a string object";
    let out = call(&greet, &[AnyView::from(name)]).unwrap();
    assert_eq!(out.type_index(), tvmffi_core::TypeIndex::STR);
    assert_eq!(out.as_str().unwrap(), "hello, a name long enough to need a string object!");

    let meta = m.function_metadata("add_one", false).unwrap().expect("metadata");
    assert!(meta.starts_with(r#"{"type_schema":"#), "{meta}");
    assert!(meta.contains("int"), "{meta}");
    assert_eq!(
        m.function_doc("add_one", false).unwrap().as_deref(),
        Some("Add one to an integer.")
    );
    assert_eq!(m.function_doc("greet", false).unwrap(), None);
    #[cfg(feature = "symbol-list")]
    assert_eq!(
        m.function_names().unwrap(),
        [
            "add_one",
            "append_twice",
            "call_back",
            "dict_add",
            "double_in_place",
            "greet",
            "lengths",
            "lookup",
            "make_tensor",
            "sum_array",
            "throws"
        ]
    );
}

/// Whether the reference's own `libtvm_ffi.so` got loaded (it must not be: the stand-in
/// satisfies the fixture's dependency).
fn reference_library_loaded() -> bool {
    std::fs::read_to_string("/proc/self/maps").is_ok_and(|maps| {
        maps.lines().any(|l| l.ends_with("/libtvm_ffi.so") && l.contains("site-packages"))
    })
}

#[test]
fn errors_raised_by_reference_kernels_reach_our_slot() {
    let Some(m) = fixture() else { return };
    assert!(!reference_library_loaded(), "the reference runtime was loaded beside ours");
    let throws = m.function("throws").unwrap();
    let err = call(&throws, &[AnyView::from(c"out of range")]).unwrap_err();
    assert_eq!(err, CallError::Raised { code: -1 });
    let e = Error::take_raised().expect("the C++ kernel raised into our slot");
    assert_eq!((&*e.kind(), &*e.message()), ("ValueError", "out of range"));
    // The C++ `Error` captured its backtrace through our `TVMFFIBacktrace`.
    let backtrace = e.backtrace();
    assert!(backtrace.contains("throws"), "{backtrace}");
    for line in backtrace.lines() {
        assert!(
            line.starts_with("  File \"") && line.contains("\", line ") && line.contains(", in "),
            "{line}"
        );
    }

    // A type mismatch caught by the reference's argument unpacking.
    let add_one = m.function("add_one").unwrap();
    assert_eq!(call(&add_one, &[AnyView::from(c"x")]).unwrap_err(), CallError::Raised { code: -1 });
    let e = Error::take_raised().unwrap();
    assert_eq!(e.kind(), "TypeError");
    assert!(e.message().contains("add_one"), "{}", e.message());
}

fn text(s: &str) -> tvmffi_alloc::String {
    tvmffi_alloc::String::try_new(s).unwrap()
}

#[test]
fn containers_cross_both_ways() {
    let Some(m) = fixture() else { return };
    let f = |name: &str| m.function(name).unwrap();

    // Our array, read by the reference's inline `Array<int64_t>`.
    let xs = Array::from_vec((1..=100i64).map(Any::from).collect());
    let sum = call(&f("sum_array"), &[AnyView::from(xs.as_object())]).unwrap();
    assert_eq!(sum.get::<i64>().unwrap(), 5050);

    // A map built by C++, read by us.
    let words = Array::from_vec(vec![Any::from(text("tvm")), Any::from(text("a longer word"))]);
    let lengths: Map =
        call(&f("lengths"), &[AnyView::from(words.as_object())]).unwrap().get().unwrap();
    assert_eq!(lengths.len(), 2);
    assert_eq!(lengths.at("a longer word").unwrap().get::<i64>().unwrap(), 13);

    // Our map, looked up by C++; a missing key is a KeyError raised by C++ into our slot.
    let mut ours = Map::new();
    for i in 0..50i64 {
        drop(ours.insert(Any::from(text(&format!("key number {i}"))), Any::from(i)).unwrap());
    }
    let lookup = f("lookup");
    let mv = AnyView::from(ours.as_object());
    let v = call(&lookup, &[mv, text("key number 42").view()]).unwrap();
    assert_eq!(v.get::<i64>().unwrap(), 42);
    assert!(call(&lookup, &[mv, text("absent").view()]).is_err());
    assert_eq!(Error::take_raised().unwrap().kind(), "KeyError");

    // Shared mutable containers: C++ changes what we hold.
    let list = List::new();
    let value = text("shared value, longer than seven");
    call(&f("append_twice"), &[AnyView::from(list.as_object()), value.view()]).unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list.get(1).unwrap().as_str().unwrap(), "shared value, longer than seven");
    let dict = Dict::new();
    let n = call(&f("dict_add"), &[AnyView::from(dict.as_object()), text("k").view(), 7i64.into()]);
    assert_eq!(n.unwrap().get::<i64>().unwrap(), 1);
    assert_eq!(dict.at("k").unwrap().get::<i64>().unwrap(), 7);
}

/// A CPU allocator for `TVMFFIEnvTensorAlloc`: compact data of the prototype's shape.
unsafe extern "C" fn cpu_alloc(
    prototype: *mut DLTensor,
    out: *mut *mut DLManagedTensorVersioned,
    _error_ctx: *mut c_void,
    _set_error: Option<unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char)>,
) -> c_int {
    // SAFETY: the runtime passes a valid prototype.
    let proto = unsafe { &*prototype };
    // SAFETY: `ndim` extents.
    let shape = unsafe { core::slice::from_raw_parts(proto.shape, proto.ndim as usize) };
    let t = Tensor::empty(shape, DataType::from_raw(proto.dtype), Device::CPU).unwrap();
    // SAFETY: a writable out slot.
    unsafe { out.write(t.to_dlpack_versioned()) };
    0
}

#[test]
fn tensors_and_callbacks_cross_both_ways() {
    let Some(m) = fixture() else { return };
    let f = |name: &str| m.function(name).unwrap();

    let t = Tensor::from_slice(&[4], &[1f32, 2., 3., 4.]).unwrap();
    call(&f("double_in_place"), &[AnyView::from(t.as_object())]).unwrap();
    assert_eq!(t.as_slice::<f32>().unwrap(), &[2., 4., 6., 8.]);

    // A tensor C++ allocates through this thread's environment allocator.
    // SAFETY: the allocator follows the `DLPackManagedTensorAllocator` contract.
    unsafe {
        let rc = tvmffi_core::sys::api::TVMFFIEnvSetDLPackManagedTensorAllocator(
            Some(cpu_alloc),
            0,
            core::ptr::null_mut(),
        );
        assert_eq!(rc, 0);
    }
    let made: Tensor = call(&f("make_tensor"), &[AnyView::from(5i64)]).unwrap().get().unwrap();
    assert_eq!((made.shape(), made.dtype()), (&[5i64][..], DataType::F32));

    // C++ calls a Rust closure back.
    let square = tvmffi_alloc::Function::from_packed(|args| {
        let x: i64 = args[0].get()?;
        Ok(Any::from(x * x))
    });
    let r = call(&f("call_back"), &[AnyView::from(&square), AnyView::from(6i64)]).unwrap();
    assert_eq!(r.get::<i64>().unwrap(), 37);
}
