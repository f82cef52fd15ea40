//! What `#[tvmffi::export]` refuses, and how it says so (trybuild compares the compiler's
//! output with `ui/*.stderr`; `TRYBUILD=overwrite` rewrites them after a deliberate change).
#![cfg(not(miri))]

#[test]
fn unsupported_signatures_are_compile_errors() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
