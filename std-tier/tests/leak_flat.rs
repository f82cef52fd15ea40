//! Repeated calls through the C API (a built-in, a Rust function, an error, a string) leave
//! the live allocations exactly and the resident set nearly where they were.

mod leaks;

use leaks::{call_c, pack};
use tvmffi_alloc::seq::Array;
use tvmffi_alloc::{Function, String as FfiString};
use tvmffi_core::AnyView;
// The process's runtime: the C API these tests call.
use tvmffi_std as _;

#[global_allocator]
static ALLOCATOR: leaks::Counting = leaks::Counting;

#[test]
fn repeated_calls_leave_live_allocations_and_the_resident_set_flat() {
    let f = pack();
    let array = Function::get_global("ffi.Array").unwrap();
    let text = FfiString::from("a string long enough to be an object");
    let one_pass = || {
        let a = call_c(&array, &[text.view(), AnyView::from(1i64), AnyView::from(2.5)]).unwrap();
        let packed = call_c(&f, &[a.view(), text.view()]).unwrap();
        assert_eq!(packed.get::<Array>().unwrap().len(), 2);
        let e = call_c(&f, &[AnyView::from(-5i64)]).unwrap_err();
        assert_eq!(e.kind(), "ValueError");
        let s = tvmffi_alloc::string::str_any_from_bytes(b"made through the C API's path").unwrap();
        assert!(s.as_str().is_ok());
    };
    for _ in 0..2_000 {
        one_pass();
    }
    let (live_before, _) = leaks::live();
    let rss_before = leaks::rss();
    for _ in 0..100_000 {
        one_pass();
    }
    let (live_after, _) = leaks::live();
    let rss_after = leaks::rss();
    println!(
        "flat: 100000 passes, live allocations {live_before} -> {live_after}, RSS {:?} -> {:?}",
        rss_before, rss_after
    );
    assert_eq!(live_after, live_before, "repeated calls leaked allocations");
    if let (Some(before), Some(after)) = (rss_before, rss_after) {
        // 100 000 passes make about a million objects: a leak of one 24-byte header per
        // pass alone would add 2.4 MB.
        assert!(after <= before + (2 << 20), "RSS grew from {before} to {after} bytes");
    }
}
