//! Bindings of the reference's `testing.*` C++ types (its `libtvm_ffi_testing.so`), written
//! by the reference's stub generator, `tvm-ffi-stubgen --target rust`, into
//! `src/generated/testing/mod.rs`, against this repository's facade imported as `tvm_ffi`
//! (`Cargo.toml` renames it). The generated blocks are the generator's, byte for byte:
//! `ci/stubgen.sh` regenerates them with `--check` and fails when they are out of date, then
//! compiles this crate and runs `tests/testing_types.rs`, a Rust host on our runtime that
//! loads the C++ library and uses the bindings.

#[allow(
    dead_code,
    unused_imports,
    missing_docs,
    clippy::all,
    clippy::undocumented_unsafe_blocks,
    clippy::missing_safety_doc,
    rustdoc::broken_intra_doc_links
)]
#[rustfmt::skip] // the generator's layout, as it writes it
pub mod generated;
