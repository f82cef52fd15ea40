//! A kernel library for WebAssembly (`wasm32-unknown-unknown`) that is its own TVM-FFI
//! runtime: the functions below are exported with `#[tvmffi::export]` as
//! `__tvm_ffi_<name>`, and the facade's `alloc-runtime` feature defines the C API in the
//! module (`TVMFFIErrorMoveFromRaised`, `TVMFFIObjectDecRef`, `TVMFFIStringFromByteArray`,
//! `TVMFFITensorFromDLPack`...), so a host needs nothing but the module.
//!
//! A host (`host.py` beside this crate, with wasmtime) lays `TVMFFIAny` arguments out in the
//! module's linear memory, calls `__tvm_ffi_<name>(0, args, num_args, result)`, reads the
//! result there, and on -1 takes the error object from `TVMFFIErrorMoveFromRaised`.
//!
//! Why `wasm32-unknown-unknown` and not `wasm32-wasip1`: the module imports nothing (no
//! WASI, no JavaScript glue), so a browser, Node or any wasm engine instantiates it as is,
//! which is what an in-browser runtime needs. The ABI is the same on both targets.
//!
//! No `std`: allocation is `dlmalloc` (Rust's own wasm32 allocator), and a panic traps
//! (`unreachable`): it never unwinds into the host, whose call fails with a trap.
#![no_std]

extern crate alloc;

mod space;

use alloc::format;

use tvmffi::prelude::*;

/// `a + b`, or a `ValueError` when the sum does not fit in an int64.
#[tvmffi::export]
fn add_int(a: i64, b: i64) -> Result<i64, Error> {
    a.checked_add(b).ok_or_else(|| Error::value_error(format!("{a} + {b} overflows int64")))
}

/// `x * factor`.
#[tvmffi::export]
fn scale(x: f64, factor: f64) -> f64 {
    x * factor
}

/// A greeting for `name`.
#[tvmffi::export]
fn greet(name: tvmffi::String) -> tvmffi::String {
    format!("Hello, {name}, from wasm32!").into()
}

/// The number of bytes of `text` (a short string comes inline, a long one as an object).
#[tvmffi::export]
fn byte_len(text: tvmffi::String) -> i64 {
    text.len() as i64
}

/// `y = x + 1` elementwise, for float32 tensors of one shape (contiguous, on the CPU).
#[tvmffi::export]
fn add_one(x: Tensor, y: Tensor) -> Result<(), Error> {
    if x.shape() != y.shape() {
        return Err(Error::value_error(format!(
            "add_one expects tensors of one shape, got {:?} and {:?}",
            x.shape(),
            y.shape()
        )));
    }
    let input = x.as_slice::<f32>()?;
    // SAFETY: `y` is this call's output; the caller does not touch it during the call (the
    // contract of the reference's kernels), and `x` is only read.
    let output = unsafe { y.as_mut_slice::<f32>()? };
    for (o, i) in output.iter_mut().zip(input) {
        *o = i + 1.0;
    }
    Ok(())
}

/// The sum of a float32 tensor's elements.
#[tvmffi::export]
fn sum(x: Tensor) -> Result<f64, Error> {
    Ok(x.as_slice::<f32>()?.iter().map(|&v| f64::from(v)).sum())
}

/// Raise an error of `kind` (`ValueError`, `KeyError`...) with `message`.
#[tvmffi::export]
fn raise_error(kind: tvmffi::String, message: tvmffi::String) -> Result<(), Error> {
    Err(Error::new(kind.as_str(), message.as_str()))
}

/// Panic with `message`. Without `std` nothing catches it: the module traps, the host's
/// call fails with the trap, and this instance is not to be called again.
#[tvmffi::export]
fn panic_with(message: tvmffi::String) {
    panic!("{message}");
}
