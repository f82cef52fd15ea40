//! `Any` decoding and every checked conversion: values of every kind a C caller can pass
//! (unknown plain type indices, small strings with oversized lengths, null object pointers,
//! invalid UTF-8, byte arrays with null data or impossible sizes, moved r-value references),
//! read through each `FromAnyView` target, the text readers, `to_owned` in both tiers, the C
//! API's `TVMFFIAnyViewToOwnedAny`, map lookups and a packed call. Each answer is checked
//! against the type index: a conversion succeeds exactly for the kinds its table accepts.

#![no_main]

use core::ffi::{CStr, c_void};

use libfuzzer_sys::fuzz_target;
use tvmffi_alloc::map::{Dict, Map};
use tvmffi_alloc::seq::{Array, List};
use tvmffi_alloc::{BigInt, Bytes, Error, Function, Shape, String as FfiString, Tensor, typed};
use tvmffi_core::sys::{DLTensor, TVMFFIAny, TVMFFIByteArray};
use tvmffi_core::{Any, AnyView, DataType, Device, TypeIndex};
use tvmffi_fuzz::{Arena, ValueSpec, check_rc};

fuzz_target!(|specs: Vec<ValueSpec>| {
    let mut arena = Arena::default();
    for spec in specs.iter().take(4) {
        let view = arena.view(spec, 3);
        check_plain(view);
        check_text(view);
        check_objects(view);
        check_owned(view);
    }
});

/// A conversion succeeds exactly for the kinds its table accepts.
fn accepts<T>(
    r: &Result<T, tvmffi_core::ConversionError>,
    expected: bool,
    what: &str,
    ti: TypeIndex,
) {
    assert_eq!(r.is_ok(), expected, "{what} from type index {ti:?}");
    if let Err(e) = r {
        let _ = e.to_string();
    }
}

fn check_plain(view: AnyView<'_>) {
    let ti = view.type_index();
    let int = matches!(ti, TypeIndex::INT | TypeIndex::BOOL);
    let i = view.get::<i64>();
    accepts(&i, int, "i64", ti);
    accepts(&view.get::<bool>(), int, "bool", ti);
    accepts(&view.get::<f64>(), int || ti == TypeIndex::FLOAT, "f64", ti);
    accepts(&view.get::<f32>(), int || ti == TypeIndex::FLOAT, "f32", ti);
    if let Ok(i) = i {
        assert_eq!(view.get::<i8>().ok(), i8::try_from(i).ok());
        assert_eq!(view.get::<u8>().ok(), u8::try_from(i).ok());
        assert_eq!(view.get::<i32>().ok(), i32::try_from(i).ok());
        assert_eq!(view.get::<u32>().ok(), u32::try_from(i).ok());
        assert_eq!(view.get::<u64>().ok(), u64::try_from(i).ok());
        assert_eq!(view.get::<usize>().ok(), usize::try_from(i).ok());
        assert_eq!(view.get::<i128>().ok(), Some(i128::from(i)));
        assert_eq!(view.get::<bool>().ok(), Some(i != 0));
    } else {
        assert!(view.get::<u16>().is_err() && view.get::<isize>().is_err());
    }
    accepts(&view.get::<()>(), ti == TypeIndex::NONE, "None", ti);
    let ptr_ok = matches!(ti, TypeIndex::OPAQUE_PTR | TypeIndex::NONE);
    accepts(&view.get::<*mut c_void>(), ptr_ok, "void*", ti);
    accepts(&view.get::<*const c_void>(), ptr_ok, "const void*", ti);
    accepts(&view.get::<DataType>(), ti == TypeIndex::DATA_TYPE, "DataType", ti);
    accepts(&view.get::<Device>(), ti == TypeIndex::DEVICE, "Device", ti);
    let tensor_ok = ti == TypeIndex::DL_TENSOR_PTR
        || (ti == TypeIndex::TENSOR && view.as_object_ptr().is_some());
    accepts(&view.get::<*mut DLTensor>(), tensor_ok, "DLTensor*", ti);
    let opt = view.get::<Option<i64>>();
    assert_eq!(opt.is_ok(), int || ti == TypeIndex::NONE);
    if let Ok(d) = view.get::<DataType>() {
        let _ = d.to_string();
    }
    if let Ok(d) = view.get::<Device>() {
        let _ = format!("{d:?}");
    }
    let _ = format!("{view:?}");
}

fn check_text(view: AnyView<'_>) {
    let ti = view.type_index();
    let strs = matches!(ti, TypeIndex::RAW_STR | TypeIndex::SMALL_STR | TypeIndex::STR);
    let bytes = matches!(ti, TypeIndex::BYTE_ARRAY_PTR | TypeIndex::SMALL_BYTES | TypeIndex::BYTES);
    let either = view.as_str_or_bytes();
    if !(strs || bytes) {
        assert!(either.is_err() && view.as_str().is_err() && view.as_bytes().is_err());
    }
    if let Ok(s) = view.as_str() {
        assert!(strs);
        assert_eq!(either.as_deref().ok(), Some(s.as_bytes()));
        let owned = view.get::<FfiString>().expect("a readable string converts");
        assert_eq!(owned.as_str(), s);
        if ti != TypeIndex::RAW_STR {
            // Small strings hold at most 7 bytes.
            assert!(ti != TypeIndex::SMALL_STR || s.len() <= Any::MAX_SMALL_LEN);
        }
    } else if let Ok(content) = either {
        // Text that is there but is not UTF-8 is refused by every string reader.
        assert!(bytes || core::str::from_utf8(content).is_err());
        assert!(view.get::<FfiString>().is_err());
    }
    if let Ok(b) = view.as_bytes() {
        assert!(bytes);
        let owned = view.get::<Bytes>().expect("readable bytes convert");
        assert_eq!(owned.as_bytes(), b);
    }
    accepts(&view.as_c_str().map(CStr::to_bytes), ti == TypeIndex::RAW_STR, "const char*", ti);
    let arr = view.get::<&TVMFFIByteArray>();
    assert_eq!(arr.is_ok(), ti == TypeIndex::BYTE_ARRAY_PTR);
}

fn check_objects(view: AnyView<'_>) {
    let ti = view.type_index();
    let _ = view.get::<Array>();
    let _ = view.get::<List>();
    let _ = view.get::<Map>();
    let _ = view.get::<Dict>();
    let _ = view.get::<Shape>();
    let _ = view.get::<Tensor>();
    let _ = view.get::<Error>().map(|e| (e.kind().into_owned(), e.message().into_owned()));
    let _ = view.get::<BigInt>();
    let _ = view.get::<typed::Array<i64>>();
    let _ = view.get::<typed::Array<FfiString>>();
    let _ = view.get::<typed::List<Option<f64>>>();
    let _ = view.get::<typed::Map<FfiString, i64>>();
    let _ = view.get::<typed::Dict<i64, typed::Array<Bytes>>>();
    if let Ok(a) = view.get::<Array>() {
        // An array, or a copy of a list (the reference converts lists too).
        assert!(matches!(ti, TypeIndex::ARRAY | TypeIndex::LIST), "Array from {ti:?}");
        for item in a.iter() {
            check_plain(item);
            check_text(item);
        }
    }
    if let Ok(m) = view.get::<Map>() {
        // A map, or a copy of a dict (the reference converts dicts too).
        assert!(matches!(ti, TypeIndex::MAP | TypeIndex::DICT), "Map from {ti:?}");
        for (k, v) in m.iter() {
            assert!(m.get(k).expect("built-in keys").is_some());
            check_plain(v);
        }
    }
    if let Ok(f) = view.get::<Function>() {
        assert_eq!(ti, TypeIndex::FUNCTION);
        let r = f.call(&[view, AnyView::from(1i64)]);
        assert_eq!(r.ok().and_then(|r| r.get::<i64>().ok()), Some(2));
    }
    // Every value can be a key: lookups in empty and filled maps refuse or answer, never
    // break.
    let map = Map::try_from_iter([(Any::from(1i64), Any::from(2i64))]).unwrap();
    let _ = map.get(view);
    let dict = Dict::new();
    if let Ok(owned) = view.to_owned() {
        let key = owned.clone();
        if dict.insert(owned, 7i64).is_ok() {
            let found = |k| dict.get(k).ok().flatten().and_then(|v| v.get::<i64>().ok());
            assert_eq!(found(key.view()), Some(7), "{key:?} as a key");
            // The view itself finds it too, unless converting moved its object out.
            if view.type_index() != TypeIndex::OBJECT_RVALUE_REF {
                assert_eq!(found(view), Some(7), "{view:?} as a key");
            }
        }
    }
}

fn check_owned(view: AnyView<'_>) {
    let ti = view.type_index();
    // The alloc tier's conversion copies long borrowed text into objects.
    match tvmffi_alloc::any_view_to_owned(view) {
        Ok(owned) => {
            let back = owned.view();
            if let Ok(s) = view.as_str() {
                assert_eq!(back.as_str().ok(), Some(s));
            }
            let _ = format!("{owned:?}");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    // And the C API's, on the same value.
    let mut out = TVMFFIAny::NONE;
    // SAFETY: the view's value is valid (the arena keeps what it points to) and `out` is a
    // writable slot.
    let rc = unsafe { tvmffi_core::sys::api::TVMFFIAnyViewToOwnedAny(view.as_raw(), &mut out) };
    if check_rc("TVMFFIAnyViewToOwnedAny", rc).is_none() {
        // SAFETY: success wrote an owned value.
        let owned = unsafe { Any::from_raw(out) };
        assert!(!matches!(
            owned.type_index(),
            TypeIndex::RAW_STR | TypeIndex::BYTE_ARRAY_PTR | TypeIndex::OBJECT_RVALUE_REF
        ));
        if ti != TypeIndex::OBJECT_RVALUE_REF && !ti.is_object() {
            let _ = owned.get::<i64>();
        }
    }
    // A packed call passes the view through the C convention untouched.
    let f = Function::from_packed(|args: &[AnyView<'_>]| {
        let [a] = args else { return Err(Error::type_error("one argument")) };
        Ok(Any::from(a.type_index().0 as i64))
    });
    if let Ok(r) = f.call(&[view]) {
        assert_eq!(r.get::<i64>().ok(), Some(i64::from(view.type_index().0)));
    }
}
