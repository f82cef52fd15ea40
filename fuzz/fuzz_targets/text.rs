//! String and bytes creation from arbitrary bytes (invalid UTF-8, interior NULs, every
//! length across the inline/object boundary) through the Rust API and the C API, and byte
//! arrays whose `data` is null or whose length is huge (over `isize::MAX`, which no real
//! buffer has): each is refused with an error, never read.

#![no_main]

use std::ffi::CString;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tvmffi_alloc::{Bytes, String as FfiString};
use tvmffi_core::sys::api::{TVMFFIBytesFromByteArray, TVMFFIStringFromByteArray};
use tvmffi_core::sys::{TVMFFIAny, TVMFFIByteArray};
use tvmffi_core::{Any, TypeIndex};
use tvmffi_fuzz::check_rc;

#[derive(Arbitrary, Debug)]
struct Input {
    bytes: Vec<u8>,
    /// Replace the byte array's size with this (data null or size over `isize::MAX` only).
    size: Option<usize>,
    null_data: bool,
    null_out: bool,
}

fuzz_target!(|input: Input| {
    let bytes = &input.bytes;
    let utf8 = core::str::from_utf8(bytes).ok();

    // The Rust API: strings only from UTF-8, bytes from anything.
    let s = FfiString::try_from(&bytes[..]);
    assert_eq!(s.is_ok(), utf8.is_some());
    if let (Ok(s), Some(u)) = (&s, utf8) {
        assert_eq!(s.as_str(), u);
        assert_eq!(s.is_inline(), u.len() <= Any::MAX_SMALL_LEN);
        let any: Any = s.clone().into();
        assert_eq!(any.as_str().ok(), Some(u));
    }
    let b = Bytes::from(&bytes[..]);
    assert_eq!(b.as_bytes(), &bytes[..]);
    assert_eq!(b.is_inline(), bytes.len() <= Any::MAX_SMALL_LEN);
    if let Ok(c) = CString::new(bytes.clone()) {
        assert_eq!(FfiString::try_from(c.as_c_str()).is_ok(), utf8.is_some());
    }

    // The C API, as a C caller would call it.
    let size = match input.size {
        Some(n) if input.null_data || n > isize::MAX as usize => n,
        _ => bytes.len(),
    };
    let data = if input.null_data { core::ptr::null() } else { bytes.as_ptr().cast() };
    let arr = TVMFFIByteArray { data, size };
    let valid = !input.null_out && (!input.null_data || size == 0) && size <= isize::MAX as usize;
    for (name, bytes_kind) in
        [("TVMFFIStringFromByteArray", false), ("TVMFFIBytesFromByteArray", true)]
    {
        let mut out = TVMFFIAny::NONE;
        let out_ptr: *mut TVMFFIAny = if input.null_out { core::ptr::null_mut() } else { &mut out };
        // SAFETY: `arr` is readable, its data readable for its size whenever that is a
        // possible length (the cases above), and `out_ptr` is null or writable.
        let rc = unsafe {
            if bytes_kind {
                TVMFFIBytesFromByteArray(&arr, out_ptr)
            } else {
                TVMFFIStringFromByteArray(&arr, out_ptr)
            }
        };
        let err = check_rc(name, rc);
        if !valid {
            let e = err.unwrap_or_else(|| panic!("{name} accepted an invalid byte array"));
            assert_eq!(e.kind(), "ValueError", "{name}: {}", e.message());
            continue;
        }
        assert!(
            err.is_none(),
            "{name} refused valid bytes: {:?}",
            err.map(|e| e.message().into_owned())
        );
        // SAFETY: success wrote an owned value.
        let any = unsafe { Any::from_raw(out) };
        let content: &[u8] = if input.null_data { &[] } else { bytes };
        let small = content.len() <= Any::MAX_SMALL_LEN;
        let want = match (bytes_kind, small) {
            (false, true) => TypeIndex::SMALL_STR,
            (false, false) => TypeIndex::STR,
            (true, true) => TypeIndex::SMALL_BYTES,
            (true, false) => TypeIndex::BYTES,
        };
        assert_eq!(any.type_index(), want);
        assert_eq!(any.as_str_or_bytes().ok(), Some(content));
        // A string made by C is not checked, as in the reference; reading it as `str` is.
        if !bytes_kind {
            let as_str = any.as_str();
            assert_eq!(as_str.is_ok(), core::str::from_utf8(content).is_ok());
        }
    }

    // Null array pointer.
    let mut out = TVMFFIAny::NONE;
    // SAFETY: a null input is allowed by our checks; `out` is writable.
    let rc = unsafe { TVMFFIStringFromByteArray(core::ptr::null(), &mut out) };
    assert!(check_rc("TVMFFIStringFromByteArray(null)", rc).is_some());
});
