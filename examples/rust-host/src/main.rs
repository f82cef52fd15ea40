//! A Rust host: this program is its own TVM-FFI runtime (the facade's `runtime` feature),
//! loads a C kernel library (built by `build.rs` from `kernel/scale.c`), calls it with
//! tensors made in Rust, and catches the error it raises. No Python, no `libtvm_ffi.so`, no
//! environment variable: the runtime puts a stand-in `libtvm_ffi.so` in the process before
//! the library loads, so the kernel binds to this program.

use tvmffi::prelude::*;

fn main() -> Result<(), Error> {
    let module = Module::load_from_file(env!("RUST_HOST_KERNEL"))
        .map_err(|e| Error::runtime_error(e.to_string()))?;
    let scale: Function =
        Any::from(module.function("scale").map_err(|e| Error::runtime_error(e.to_string()))?)
            .get()?;

    let x = Tensor::from_slice(&[4], &[1.0f32, 2.0, 3.0, 4.0])?;
    let y = Tensor::from_slice(&[4], &[0.0f32; 4])?;
    scale.call(&[AnyView::from(&x), AnyView::from(&y), AnyView::from(2.5)])?;
    println!("scale(x, 2.5) = {:?}", y.as_slice::<f32>()?);
    assert_eq!(y.as_slice::<f32>()?, &[2.5, 5.0, 7.5, 10.0]);

    // The kernel raises through this program's runtime; the call returns the error.
    let short = Tensor::from_slice(&[2], &[0.0f32; 2])?;
    let e =
        scale.call(&[AnyView::from(&x), AnyView::from(&short), AnyView::from(1.0)]).unwrap_err();
    println!("caught: {e}");
    assert_eq!(e.kind(), "ValueError");
    assert_eq!(e.message(), "x and y must be float32 vectors of one length");
    let e = scale.call(&[AnyView::from(1i64)]).unwrap_err();
    assert_eq!(e.kind(), "TypeError");
    Ok(())
}
