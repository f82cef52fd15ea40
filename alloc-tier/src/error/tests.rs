//! Error objects without a runtime: construction, fields, backtrace updates, formatting.

use alloc::string::ToString;
use alloc::vec;

use tvmffi_core::error::ConversionErrorKind;
use tvmffi_core::flags::BacktraceUpdateMode;
use tvmffi_core::sys::TVMFFIByteArray;
use tvmffi_core::{Any, AnyView, ConversionError, TypeIndex};

use super::*;

/// The cell as C reads it, through the object pointer.
fn cell(e: &Error) -> tvmffi_core::sys::TVMFFIErrorCell {
    // SAFETY: a live error object; read while nobody updates it.
    unsafe { e.as_object().payload().as_raw().read() }
}

fn c_bytes(arr: TVMFFIByteArray) -> vec::Vec<u8> {
    // SAFETY: arrays of a live error object.
    unsafe { bytes_of(&arr) }.unwrap().to_vec()
}

#[test]
fn fields_are_owned_nul_terminated_and_readable_as_c_sees_them() {
    let e = Error::from_parts(b"ValueError", b"bad value", b"frame a\n", None, None);
    assert_eq!(e.as_object().type_index(), TypeIndex::ERROR);
    let c = cell(&e);
    assert_eq!(c_bytes(c.kind), b"ValueError");
    assert_eq!(c_bytes(c.message), b"bad value");
    assert_eq!(c_bytes(c.backtrace), b"frame a\n");
    // C++ `what()` returns `message.data` as a C string: a NUL must follow each string.
    // SAFETY: the object stores a NUL right after each string.
    unsafe {
        assert_eq!(*c.kind.data.add(c.kind.size), 0);
        assert_eq!(*c.message.data.add(c.message.size), 0);
        assert_eq!(*c.backtrace.data.add(c.backtrace.size), 0);
    }
    assert!(c.update_backtrace.is_some());
    assert!(c.cause_chain.is_null() && c.extra_context.is_null());
    assert_eq!((e.kind(), e.message()), ("ValueError".into(), "bad value".into()));
    assert!(e.is_kind("ValueError") && !e.is_kind("TypeError"));
}

#[test]
fn standard_kinds() {
    let cases = [
        (Error::value_error("m"), "ValueError"),
        (Error::type_error("m"), "TypeError"),
        (Error::key_error("m"), "KeyError"),
        (Error::index_error("m"), "IndexError"),
        (Error::attribute_error("m"), "AttributeError"),
        (Error::runtime_error("m"), "RuntimeError"),
        (Error::internal_error("m"), "InternalError"),
        (Error::not_implemented_error("m"), "NotImplementedError"),
        (Error::overflow_error("m"), "OverflowError"),
    ];
    for (e, kind) in cases {
        assert_eq!(e.kind(), kind);
        assert_eq!(e.message(), "m");
    }
}

#[test]
fn backtrace_replace_and_append() {
    let e = Error::new("RuntimeError", "x");
    assert_eq!(e.backtrace(), "");
    e.update_backtrace(b"b\n", BacktraceUpdateMode::REPLACE).unwrap();
    e.update_backtrace(b"a\n", BacktraceUpdateMode::APPEND).unwrap();
    assert_eq!(e.backtrace(), "b\na\n");
    // Any other mode appends, as in the reference.
    e.update_backtrace(b"c\n", BacktraceUpdateMode(7)).unwrap();
    assert_eq!(e.backtrace(), "b\na\nc\n");
    // A clone shares the object, and C sees the same bytes.
    let clone = e.clone();
    clone.update_backtrace(b"z\n", BacktraceUpdateMode::REPLACE).unwrap();
    assert_eq!(e.backtrace(), "z\n");
    assert_eq!(c_bytes(cell(&e).backtrace), b"z\n");
}

#[test]
fn backtrace_update_through_the_c_entry_point() {
    let e = Error::new("RuntimeError", "x").with_backtrace("one\n");
    let update = cell(&e).update_backtrace.unwrap();
    let add = TVMFFIByteArray { data: c"two\n".as_ptr(), size: 4 };
    // SAFETY: the object and the byte array are live, as C would pass them.
    unsafe { update(e.as_object().as_raw().cast(), &add, BacktraceUpdateMode::APPEND.0) };
    assert_eq!(e.backtrace(), "one\ntwo\n");
    assert_eq!(c_bytes(cell(&e).backtrace), b"one\ntwo\n");
}

#[test]
fn display_follows_the_reference() {
    let e = Error::value_error("bad")
        .with_backtrace("  File \"b.rs\", line 2, in inner\n  File \"a.rs\", line 1, in outer\n");
    assert_eq!(e.to_string(), "ValueError: bad");
    assert_eq!(
        e.full_message(),
        "Traceback (most recent call last):\n  File \"a.rs\", line 1, in outer\n  File \"b.rs\", line 2, in inner\nValueError: bad\n"
    );
    // Without a trailing newline the last partial line is left out, as the reference does.
    let e = Error::value_error("bad").with_backtrace("x\n\ny");
    assert_eq!(e.traceback_most_recent_call_last(), "x\n");
    let dbg = alloc::format!("{e:?}");
    assert!(dbg.contains("ValueError") && dbg.contains("bad"), "{dbg}");
}

#[test]
fn cause_and_context_are_owned_and_released() {
    let cause = Error::key_error("missing");
    let ctx = Error::runtime_error("context object");
    let e = Error::type_error("outer")
        .with_cause(cause.clone())
        .with_extra_context(ctx.clone().into_object().upcast());
    assert_eq!(cause.as_object().strong_count(), 2);
    assert_eq!(ctx.as_object().strong_count(), 2);
    assert_eq!(e.cause().unwrap().message(), "missing");
    let got = e.extra_context().unwrap();
    assert!(got.ptr_eq(ctx.as_object()));
    drop(got);
    drop(e);
    assert_eq!(cause.as_object().strong_count(), 1, "the error released its cause");
    assert_eq!(ctx.as_object().strong_count(), 1, "the error released its context");
}

#[test]
fn conversions() {
    let e = Error::from(ConversionError::mismatch("int", TypeIndex::FLOAT));
    assert_eq!(e.to_string(), "TypeError: Cannot convert from type `float` to `int`");
    let e = Error::from(ConversionError::out_of_range("i8", TypeIndex::INT, 300));
    assert_eq!(e.kind(), "OverflowError");
    let e = Error::from(ConversionError::new(
        ConversionErrorKind::NeedsAllocator,
        "str",
        TypeIndex::RAW_STR,
    ));
    assert_eq!(e.kind(), "RuntimeError");

    let e = Error::value_error("v");
    let any = Any::from(e.clone());
    assert_eq!(any.type_index(), TypeIndex::ERROR);
    let back: Error = any.get().unwrap();
    assert!(back.as_object().ptr_eq(e.as_object()));
    let view = AnyView::from(&e);
    assert_eq!(view.get::<Error>().unwrap().message(), "v");
    assert!(AnyView::from(3i64).get::<Error>().is_err());
    assert!(Error::try_from(Any::from(3i64)).is_err());
    assert_eq!(Error::try_from(any).unwrap().message(), "v");
}

#[test]
fn foreign_errors_update_only_when_unshared() {
    // A stand-in for a C++ error: the same cell, another `update_backtrace`.
    unsafe extern "C" fn foreign_update(
        _: *mut core::ffi::c_void,
        _: *const TVMFFIByteArray,
        _: i32,
    ) {
    }
    let e = Error::new("E", "m");
    // SAFETY: test-only: swap the entry point so the object looks foreign.
    unsafe { (*e.as_object().payload().as_raw()).update_backtrace = Some(foreign_update) };
    assert!(!object::is_ours(e.as_object().payload()));
    assert!(e.update_backtrace(b"x", BacktraceUpdateMode::REPLACE).is_ok());
    let clone = e.clone();
    let err = e.update_backtrace(b"x", BacktraceUpdateMode::REPLACE).unwrap_err();
    assert!(err.message().contains("shared"), "{err}");
    drop(clone);
    // Reading a foreign backtrace reads the cell (unchanged by the no-op update).
    assert_eq!(e.backtrace(), "");
}

#[test]
fn non_utf8_bytes_survive_and_read_lossily() {
    let e = Error::from_parts(b"K\xff", b"m\xfe", b"", None, None);
    assert_eq!(e.kind_bytes(), b"K\xff");
    assert_eq!(e.message(), "m\u{fffd}");
}
