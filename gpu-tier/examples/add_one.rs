//! `add_one` on a GPU, the way a kernel library runs under a framework: a stream made
//! current with a guard, the kernel launched on the environment's current stream (what
//! `TVMFFIEnvGetStream` returns to C++ kernels too), and the result copied back.
//!
//! ```sh
//! cargo run -p tvmffi-gpu --example add_one --features cuda   # or rocm, or both
//! ```
//!
//! Without a GPU (or without either feature) it says so and exits successfully.

#[cfg(feature = "rocm")]
#[path = "../tests/common/hiprtc.rs"]
mod hiprtc;

use std::process::ExitCode;

use tvmffi_alloc::{Error, Tensor};
use tvmffi_gpu::{GpuDevice, LaunchConfig, Params, Stream, StreamGuard};

/// A device and the `add_one` code object for it, or why there is none.
fn pick() -> Result<(GpuDevice, Vec<u8>), Vec<String>> {
    let mut why = Vec::new();
    #[cfg(feature = "cuda")]
    {
        let cuda0 = tvmffi_core::Device::new(tvmffi_core::DeviceType::CUDA, 0);
        match GpuDevice::open(cuda0) {
            Ok(dev) => return Ok((dev, include_bytes!("../kernels/add_one.ptx").to_vec())),
            Err(e) => why.push(e.to_string()),
        }
    }
    #[cfg(feature = "rocm")]
    {
        let rocm0 = tvmffi_core::Device::new(tvmffi_core::DeviceType::ROCM, 0);
        match GpuDevice::open(rocm0) {
            Ok(dev) => {
                let source = include_str!("../kernels/add_one.hip");
                match hiprtc::compile(source, "add_one.hip") {
                    Ok(image) => return Ok((dev, image)),
                    Err(e) => why.push(e),
                }
            }
            Err(e) => why.push(e.to_string()),
        }
    }
    if why.is_empty() {
        why.push("built without the `cuda` and `rocm` features (add `--features cuda`)".into());
    }
    Err(why)
}

fn run(dev: GpuDevice, image: &[u8]) -> Result<(), Error> {
    let n = 8u32;
    println!("device: {} ({})", dev.name()?, dev);
    let stream = dev.create_stream()?;
    let _current = StreamGuard::new(&stream)?;

    let host = Tensor::from_slice(&[i64::from(n)], &[0f32, 1., 2., 3., 4., 5., 6., 7.])?;
    let x = dev.to_device(&host, &stream)?;
    println!("x on {:?}: {:?}", x.device(), host.as_slice::<f32>()?);

    let module = dev.load_module(image)?;
    let add_one = module.function("add_one")?;
    // A kernel library launches on whatever stream its caller made current.
    // SAFETY: the guard keeps `stream` current and alive until the end of `run`.
    let current = unsafe { Stream::current(&dev) };
    let data = x.data_ptr();
    // SAFETY: add_one(float* x, unsigned n) with `x`'s n floats, which outlive the copy back
    // (it waits for the stream).
    unsafe {
        add_one.launch(
            &LaunchConfig::for_elements(n, 128),
            &current,
            &mut Params::new().arg(&data).arg(&n),
        )?;
    }
    let y = dev.to_host(&x, &current)?;
    println!("add_one(x): {:?}", y.as_slice::<f32>()?);
    assert_eq!(y.as_slice::<f32>()?, &[1., 2., 3., 4., 5., 6., 7., 8.]);
    Ok(())
}

fn main() -> ExitCode {
    match pick() {
        Ok((dev, image)) => match run(dev, &image) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("add_one failed: {e:#}");
                ExitCode::FAILURE
            }
        },
        Err(why) => {
            println!("no GPU to run add_one on, nothing to do:");
            for reason in why {
                println!("  {reason}");
            }
            ExitCode::SUCCESS
        }
    }
}
