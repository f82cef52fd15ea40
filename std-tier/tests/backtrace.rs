//! `TVMFFIBacktrace` and captured backtraces: format, order, skipping, limits, boundaries.
#![cfg(all(feature = "backtrace", not(miri)))]

mod common;

use core::ffi::c_char;

use tvmffi_core::sys::api::TVMFFIBacktrace;
use tvmffi_std::backtrace::{Location, capture, capture_at};

/// Call the export and copy its result.
fn export(
    file: Option<&std::ffi::CStr>,
    line: i32,
    func: Option<&std::ffi::CStr>,
    cross: bool,
) -> String {
    let ptr =
        |s: Option<&std::ffi::CStr>| s.map_or(core::ptr::null(), |s| s.as_ptr()) as *const c_char;
    // SAFETY: null or valid C strings.
    let array = unsafe { &*TVMFFIBacktrace(ptr(file), line, ptr(func), i32::from(cross)) };
    // SAFETY: the array is valid until this thread's next call.
    let bytes = unsafe { core::slice::from_raw_parts(array.data.cast::<u8>(), array.size) };
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// Every line has the shape Python's `tvm_ffi/error.py` parses:
/// `File "(.+?)", line (\d+), in (.+)` after two spaces.
fn assert_reference_format(bt: &str) {
    assert!(bt.is_empty() || bt.ends_with('\n'), "{bt:?}");
    for line in bt.lines() {
        let rest = line.strip_prefix("  File \"").unwrap_or_else(|| panic!("bad line {line:?}"));
        let (file, rest) =
            rest.split_once("\", line ").unwrap_or_else(|| panic!("bad line {line:?}"));
        let (number, function) =
            rest.split_once(", in ").unwrap_or_else(|| panic!("bad line {line:?}"));
        assert!(!file.is_empty() && !function.is_empty(), "{line:?}");
        number.parse::<u32>().unwrap_or_else(|_| panic!("bad line number in {line:?}"));
    }
}

#[inline(never)]
fn first_frame_marker() -> String {
    let bt = capture(true);
    core::hint::black_box(bt)
}

#[test]
fn most_recent_call_first_starting_at_the_caller() {
    let bt = first_frame_marker();
    assert_reference_format(&bt);
    let lines: Vec<&str> = bt.lines().collect();
    assert!(lines[0].ends_with("in backtrace::first_frame_marker"), "{bt}");
    assert!(lines[0].contains("std-tier/tests/backtrace.rs"), "{bt}");
    assert!(lines[1].contains("most_recent_call_first_starting_at_the_caller"), "{bt}");
    for machinery in ["tvmffi_std::", "backtrace::trace", "TVMFFIBacktrace"] {
        assert!(!bt.contains(machinery), "{machinery} in {bt}");
    }
}

#[inline(never)]
fn described_by_location() -> String {
    let location = Location { file: "kernel.cc", line: 12, function: "my_kernel" };
    core::hint::black_box(capture_at(location, true))
}

#[test]
fn a_location_replaces_the_callers_frame() {
    let bt = described_by_location();
    assert_reference_format(&bt);
    let lines: Vec<&str> = bt.lines().collect();
    assert_eq!(lines[0], "  File \"kernel.cc\", line 12, in my_kernel");
    assert!(!bt.contains("described_by_location"), "{bt}");
    assert!(lines[1].contains("a_location_replaces_the_callers_frame"), "{bt}");
}

#[inline(never)]
fn through_the_export() -> String {
    core::hint::black_box(export(Some(c"op.cc"), 7, Some(c"op"), true))
}

#[test]
fn the_export_matches_the_rust_capture() {
    let bt = through_the_export();
    assert_reference_format(&bt);
    let lines: Vec<&str> = bt.lines().collect();
    assert_eq!(lines[0], "  File \"op.cc\", line 7, in op");
    // `export` is the C caller of TVMFFIBacktrace: skipped, as the location stands for it.
    assert!(lines[1].ends_with("in backtrace::through_the_export"), "{bt}");
    // Half a location is none: no first line, no skip.
    let bt = export(Some(c"op.cc"), 7, None, true);
    assert!(bt.lines().next().unwrap().ends_with("in backtrace::export"), "{bt}");
    // Excluded locations are dropped, as the reference's ShouldExcludeFrame does.
    let bt = export(Some(c"/x/include/tvm/ffi/function.h"), 1, Some(c"f"), true);
    assert!(!bt.contains("function.h"), "{bt}");
}

#[test]
fn the_exported_array_lives_until_the_next_call_on_its_thread() {
    let ptr = |s: &std::ffi::CStr| s.as_ptr();
    // SAFETY: valid C strings.
    let first = unsafe { &*TVMFFIBacktrace(ptr(c"a.cc"), 1, ptr(c"a"), 0) };
    let first_text = String::from_utf8_lossy(
        // SAFETY: valid until this thread's next call.
        unsafe { core::slice::from_raw_parts(first.data.cast::<u8>(), first.size) },
    )
    .into_owned();
    std::thread::spawn(|| {
        let other = export(Some(c"b.cc"), 2, Some(c"b"), false);
        assert!(other.starts_with("  File \"b.cc\""));
    })
    .join()
    .unwrap();
    // Another thread's call did not touch this thread's array.
    // SAFETY: still valid: no call on this thread since.
    let again = unsafe { core::slice::from_raw_parts(first.data.cast::<u8>(), first.size) };
    assert_eq!(String::from_utf8_lossy(again), first_text);
    assert!(first_text.starts_with("  File \"a.cc\", line 1, in a\n"));
}

/// Stands for the Python interpreter: `_Py*` frames are where the FFI boundary is.
#[unsafe(no_mangle)]
#[inline(never)]
extern "C" fn _PyTvmffiTestFakeInterpreter(cross: bool) -> *mut String {
    let bt = core::hint::black_box(capture(cross));
    Box::into_raw(Box::new(bt))
}

#[test]
fn the_walk_stops_at_the_ffi_boundary_unless_asked_to_cross() {
    let take = |cross| {
        // SAFETY: the function returns a fresh box.
        *unsafe { Box::from_raw(_PyTvmffiTestFakeInterpreter(cross)) }
    };
    let stopped = take(false);
    assert!(stopped.is_empty(), "nothing before the boundary frame itself: {stopped}");
    let crossed = take(true);
    assert!(crossed.contains("_PyTvmffiTestFakeInterpreter"), "{crossed}");
    assert!(
        crossed.contains("the_walk_stops_at_the_ffi_boundary_unless_asked_to_cross"),
        "{crossed}"
    );
}

#[test]
fn limit_child() {
    if !common::is_child("limit_child") {
        return;
    }
    let limit: usize = std::env::var("TVM_TRACEBACK_LIMIT").unwrap().parse().unwrap();
    let bt = capture_at(Location { file: "l.cc", line: 1, function: "l" }, true);
    println!("LINES={}", bt.lines().count());
    assert_eq!(bt.lines().count(), limit.max(1));
}

#[test]
fn the_frame_limit_comes_from_the_environment() {
    for (limit, expected) in [("2", 2), ("0", 1), ("1", 1)] {
        let out = common::run_child("limit_child", &[("TVM_TRACEBACK_LIMIT", limit)]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
        assert!(stdout.contains(&format!("LINES={expected}")), "limit {limit}: {stdout}");
    }
    // An invalid value means the default (512): more than a handful of frames.
    let out = common::run_child("limit_child_default", &[("TVM_TRACEBACK_LIMIT", "-5")]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let lines: usize =
        stdout.split("LINES=").nth(1).unwrap().split_whitespace().next().unwrap().parse().unwrap();
    assert!(lines > 5, "{stdout}");
}

#[test]
fn limit_child_default() {
    if !common::is_child("limit_child_default") {
        return;
    }
    println!("LINES={}", capture(true).lines().count());
}
