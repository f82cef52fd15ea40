//! A kernel library in Rust: the reference's quickstart `add_one` (y = x + 1 on 1-D
//! float32 tensors), plus scalars, strings, arrays, a callback into the caller, and errors
//! of each kind. `run.py` beside this crate loads it with the reference Python package
//! (`tvm_ffi.load_module`) and calls everything with NumPy arrays.
//!
//! Each function is exported with `#[tvmffi::export]` as `__tvm_ffi_<name>`, with its type
//! schema (`Module.get_function_metadata`) and, from its doc comment, its doc string
//! (`Module.get_function_doc`).

use tvmffi::prelude::*;

// The tensors are borrowed for the call (`TensorView`, a `DLTensor*` to C++ callers), as
// the reference recommends for kernels: nothing is reference counted.
/// Perform vector add one: y = x + 1 (1-D float32).
#[tvmffi::export]
fn add_one(x: TensorView<'_>, y: TensorView<'_>) -> Result<(), Error> {
    if x.ndim() != 1 || x.shape() != y.shape() {
        return Err(Error::value_error(format!(
            "add_one expects two 1-D tensors of one shape, got {:?} and {:?}",
            x.shape(),
            y.shape()
        )));
    }
    let input = x.as_slice::<f32>()?;
    // SAFETY: `y` is the output buffer of this call; the caller does not touch it meanwhile
    // (the contract of the reference's kernels), and `x` is only read.
    let output = unsafe { y.as_mut_slice::<f32>()? };
    for (o, i) in output.iter_mut().zip(input) {
        *o = i + 1.0;
    }
    Ok(())
}

/// x + 1 for an integer.
#[tvmffi::export]
fn add_one_int(x: i64) -> Result<i64, Error> {
    x.checked_add(1).ok_or_else(|| Error::value_error(format!("{x} + 1 overflows int64")))
}

/// x + 1 for a float.
#[tvmffi::export]
fn add_one_float(x: f64) -> f64 {
    x + 1.0
}

/// A greeting for `name`.
#[tvmffi::export]
fn greet(name: tvmffi::String) -> tvmffi::String {
    format!("Hello, {name}, from Rust!").into()
}

/// Each element plus one.
#[tvmffi::export]
fn add_one_each(values: Array<i64>) -> Result<Array<i64>, Error> {
    values.iter().map(|v| add_one_int(v?)).collect()
}

/// The element at `index` (negative counts from the end), or an `IndexError`.
#[tvmffi::export]
fn element(values: Array<i64>, index: i64) -> Result<i64, Error> {
    let len = values.len() as i64;
    let i = if index < 0 { index + len } else { index };
    let i = usize::try_from(i).map_err(|_| {
        Error::index_error(format!("index {index} out of range for {len} elements"))
    })?;
    Ok(values.get(i)?)
}

/// `f(x)` for each `x`: a callback into the caller (a Python function, say).
#[tvmffi::export]
fn map_with(f: TypedFunction<(f64,), f64>, values: Array<f64>) -> Result<Array<f64>, Error> {
    values.iter().map(|v| f.call((v?,))).collect()
}

/// The total of a dict's values, and their count, as a new map.
#[tvmffi::export]
fn summarize(scores: Map<tvmffi::String, f64>) -> Result<Map<tvmffi::String, f64>, Error> {
    let mut total = 0.0;
    for pair in scores.iter() {
        total += pair?.1;
    }
    let mut out = Map::new();
    out.insert(tvmffi::String::try_new("total")?, total)?;
    out.insert(tvmffi::String::try_new("count")?, scores.len() as f64)?;
    Ok(out)
}

/// The value of `key` in a fixed table of constants, or a `KeyError`.
#[tvmffi::export]
fn constant(key: tvmffi::String) -> Result<f64, Error> {
    match key.as_str() {
        "pi" => Ok(core::f64::consts::PI),
        "e" => Ok(core::f64::consts::E),
        other => Err(Error::key_error(format!("no constant named {other:?}"))),
    }
}

/// The attribute `name` of a tensor (`ndim`, `numel`), or an `AttributeError`.
#[tvmffi::export]
fn tensor_attr(x: Tensor, name: tvmffi::String) -> Result<i64, Error> {
    match name.as_str() {
        "ndim" => Ok(x.ndim() as i64),
        "numel" => Ok(x.numel()),
        other => Err(Error::attribute_error(format!("a tensor has no attribute {other:?}"))),
    }
}

/// Raise an error of `kind` with `message`.
#[tvmffi::export]
fn raise_error(kind: tvmffi::String, message: tvmffi::String) -> Result<(), Error> {
    Err(Error::new(kind.as_str(), message.as_str()))
}

/// Panic with `message`; the caller gets a `RuntimeError`, never a crash.
#[tvmffi::export]
fn panic_with(message: tvmffi::String) {
    panic!("{message}");
}
