//! Structural traversals over C++ objects: the reference wheel's `libtvm_ffi_testing.so`,
//! loaded into our runtime, registers reflected types (`testing.TestVisitRegions` with
//! def-region field flags, `testing.TestVisitHook` with a C++ `__s_visit__` hook that visits
//! through our visitor object inline: its vtable and def-region field). The expected traces
//! are what the reference's Python package prints for the same walks (on the reference
//! runtime):
//!
//! ```python
//! g = tvm_ffi.get_global_func("testing.make_visit_region_graph")(with_hook)
//! tvm_ffi.structural_walk(g, with_def_region_kind=lambda v, k: ..., order=order)
//! ```
#![cfg(not(miri))] // Miri cannot load shared libraries

mod common;

extern crate alloc;

use alloc::sync::Arc;
use std::sync::Mutex;

use tvmffi_alloc::structural::{
    Options, WalkOrder, structural_hash, structural_map, structural_visit, structural_walk,
};
use tvmffi_alloc::{Array, Error, Function};
use tvmffi_core::sys::{TVMFFIAny, TVMFFIByteArray, TVMFFIObjectHandle, TVMFFITypeInfo, api};
use tvmffi_core::{Any, AnyView, ObjectRef, TypeIndex};
use tvmffi_std::module::{LoadOptions, Module};

/// Load the testing library once (its types and functions stay registered).
fn testing() -> Option<&'static Module> {
    static LIB: std::sync::OnceLock<Option<Module>> = std::sync::OnceLock::new();
    LIB.get_or_init(|| {
        let dir = match common::reference_lib_dir() {
            Ok(dir) => dir,
            Err(why) => {
                common::skip(&why);
                return None;
            }
        };
        let path = dir.join("libtvm_ffi_testing.so");
        if !path.exists() {
            common::skip(&format!("{} is missing", path.display()));
            return None;
        }
        Some(
            Module::load_dynamic_library(&path, LoadOptions::new())
                .expect("the testing library loads"),
        )
    })
    .as_ref()
}

fn graph(with_hook: bool) -> Any {
    let make = Function::get_global("testing.make_visit_region_graph").expect("registered");
    make.call(&[AnyView::from(with_hook)]).unwrap()
}

fn type_name(index: TypeIndex) -> String {
    let key = tvmffi_alloc::object_type::type_key(index);
    key.rsplit('.').next().unwrap().to_owned()
}

fn walk(root: &Any, order: WalkOrder) -> String {
    let trace = Arc::new(Mutex::new(Vec::<String>::new()));
    let sink = trace.clone();
    let record = Function::from_packed(move |args: &[AnyView<'_>]| {
        let (v, kind) = (args[0], args[1].get::<i64>()?);
        let label = match v.get::<i64>() {
            Ok(i) => i.to_string(),
            Err(_) => type_name(v.type_index()),
        };
        sink.lock().unwrap().push(format!("{kind}:{label}"));
        Ok(Any::none())
    });
    let r = structural_walk(root.view(), order, &[], &[(TypeIndex::ANY, record)]).unwrap();
    assert!(r.is_none());
    trace.lock().unwrap().join(" ")
}

#[test]
fn walks_see_cpp_field_flags_and_hooks() {
    if testing().is_none() {
        return;
    }
    let plain = graph(false);
    assert_eq!(walk(&plain, WalkOrder::PRE_ORDER), "0:TestVisitRegions 2:1 1:2 0:3");
    assert_eq!(walk(&plain, WalkOrder::POST_ORDER), "2:1 1:2 0:3 0:TestVisitRegions");
    // The C++ hook enters a simple region around its child through our visitor, inline,
    // and visits the sibling 4 after the region is restored.
    let hooked = graph(true);
    assert_eq!(
        walk(&hooked, WalkOrder::PRE_ORDER),
        "0:TestVisitHook 2:TestVisitRegions 2:1 1:2 2:3 0:4"
    );
    assert_eq!(
        walk(&hooked, WalkOrder::POST_ORDER),
        "2:1 1:2 2:3 2:TestVisitRegions 0:4 0:TestVisitHook"
    );
}

#[test]
fn visits_and_maps_through_cpp_objects() {
    if testing().is_none() {
        return;
    }
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let on_int = Function::from_packed(move |args: &[AnyView<'_>]| {
        let visitor: tvmffi_alloc::structural::StructuralVisitor = args[1].get()?;
        sink.lock().unwrap().push((args[0].get::<i64>()?, visitor.def_region_kind().0));
        Ok(Any::none())
    });
    structural_visit(graph(true).view(), &[(TypeIndex::INT, on_int)]).unwrap();
    assert_eq!(*seen.lock().unwrap(), [(1, 2), (2, 1), (3, 2), (4, 0)]);

    // These types have no structural kind: the reference's error.
    let e = structural_hash(graph(false).view(), Options::default()).unwrap_err();
    assert_eq!(
        e.message(),
        "_type_s_eq_hash_kind is not set for type `testing.TestVisitRegions`, so StructuralHash \
         is not supported for this type"
    );

    // Mapping copies the C++ object (its `__ffi_shallow_copy__`) and sets the changed fields
    // through their setters; the source stays as it was.
    let add_one = Function::from_typed(|v: i64| v + 1);
    for hook in [false, true] {
        let source = graph(hook);
        let mapped = structural_map(
            source.clone(),
            WalkOrder::POST_ORDER,
            &[(TypeIndex::INT, add_one.clone())],
            &[],
        )
        .unwrap();
        assert_ne!(mapped.as_object_ptr(), source.as_object_ptr());
        assert_eq!(mapped.type_index(), source.type_index());
        let ints = |v: &Any| {
            let t = walk(v, WalkOrder::POST_ORDER);
            t.split(' ')
                .filter_map(|e| e.split(':').nth(1)?.parse::<i64>().ok())
                .collect::<Vec<_>>()
        };
        assert_eq!(ints(&source), if hook { vec![1, 2, 3, 4] } else { vec![1, 2, 3] });
        // The hook's sibling 4 is not a field: mapping leaves it out.
        assert_eq!(ints(&mapped), if hook { vec![2, 3, 4, 4] } else { vec![2, 3, 4] });
    }
}

fn type_info(key: &str) -> &'static TVMFFITypeInfo {
    let key = TVMFFIByteArray { data: key.as_ptr().cast(), size: key.len() };
    let mut index = 0;
    // SAFETY: live arguments.
    assert_eq!(unsafe { api::TVMFFITypeKeyToIndex(&key, &mut index) }, 0);
    // SAFETY: registered types live for the process.
    unsafe { &*api::TVMFFIGetTypeInfo(index) }
}

/// Set field `name` of `obj` through the type's setter.
fn set_field(obj: &Any, key: &str, name: &str, value: AnyView<'_>) {
    let info = type_info(key);
    let mut all: Vec<tvmffi_core::sys::TVMFFIFieldInfo> = Vec::new();
    for level in 1..=info.type_depth as usize {
        let owner = if level == info.type_depth as usize {
            info
        } else {
            // SAFETY: `type_ancestors` holds `type_depth` entries.
            unsafe { &**info.type_ancestors.add(level) }
        };
        if owner.num_fields > 0 {
            // SAFETY: `fields` holds `num_fields` entries.
            let fields =
                unsafe { core::slice::from_raw_parts(owner.fields, owner.num_fields as usize) };
            all.extend_from_slice(fields);
        }
    }
    let field_name = |f: &tvmffi_core::sys::TVMFFIFieldInfo| {
        // SAFETY: names live in the type table.
        unsafe { core::slice::from_raw_parts(f.name.data.cast::<u8>(), f.name.size) }
    };
    let f = all.iter().find(|f| field_name(f) == name.as_bytes()).expect("the field");
    let addr = obj.as_object_ptr().unwrap().as_ptr().cast::<u8>().wrapping_add(f.offset as usize);
    type Setter = unsafe extern "C" fn(*mut core::ffi::c_void, *const TVMFFIAny) -> i32;
    // SAFETY: a C setter of this field of a live object (the testing types' setters are C
    // function pointers).
    let rc = unsafe {
        core::mem::transmute::<*mut core::ffi::c_void, Setter>(f.setter)(
            addr.cast(),
            value.as_raw(),
        )
    };
    assert_eq!(rc, 0);
}

#[test]
fn a_cpp_object_that_contains_itself_is_an_error() {
    if testing().is_none() {
        return;
    }
    const KEY: &str = "testing.TestObjectDerived";
    let info = type_info(KEY);
    // SAFETY: the metadata of a registered C++ type.
    let creator = unsafe { (*info.metadata).creator }.expect("a default-constructible type");
    let mut handle: TVMFFIObjectHandle = core::ptr::null_mut();
    // SAFETY: the creator writes an owned handle.
    assert_eq!(unsafe { creator(&mut handle) }, 0);
    // SAFETY: an owned reference to a live object.
    let obj = Any::from(
        unsafe { ObjectRef::<tvmffi_core::ObjectHeader>::from_raw(handle.cast()) }.unwrap(),
    );
    let map = tvmffi_alloc::Map::new();
    set_field(&obj, KEY, "v_map", AnyView::from(&map));
    let cycle = Array::from_vec(vec![obj.clone()]);
    set_field(&obj, KEY, "v_array", AnyView::from(&cycle));

    let noop = Function::from_packed(|_| Ok(Any::none()));
    let e = structural_walk(obj.view(), WalkOrder::PRE_ORDER, &[(TypeIndex::ANY, noop)], &[])
        .unwrap_err();
    assert_eq!(e.kind(), "ValueError");
    assert!(e.message().contains("a `testing.TestObjectDerived` object is reachable from its own"));
    let e: Error = structural_map(obj.clone(), WalkOrder::POST_ORDER, &[], &[]).unwrap_err();
    assert_eq!(e.kind(), "ValueError", "{e}");

    set_field(&obj, KEY, "v_array", AnyView::from(&Array::new())); // break the cycle
}
