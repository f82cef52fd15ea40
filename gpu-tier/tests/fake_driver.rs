//! The CUDA and ROCm backends end to end against a stand-in driver
//! (`tests/fixtures/fake_driver.c`, built here with the C compiler): the same code paths as
//! on a GPU (symbols, contexts and current devices, streams, memory, copies, modules,
//! launches, error texts), on any machine. The stand-in runs `add_one` on the host and
//! fails what a real driver fails, including device work without the device selected.
#![cfg(all(any(feature = "cuda", feature = "rocm"), target_os = "linux", not(miri)))]

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use tvmffi_alloc::Tensor;
use tvmffi_alloc::tensor::TensorError;
use tvmffi_core::{DataType, Device, DeviceType};
use tvmffi_gpu::{Backend, GpuDevice, LaunchConfig, Params, Stream, StreamGuard};

/// The stand-in driver, built once per test process; `None` (after `common::skip`)
/// without a C compiler.
fn fake_driver() -> Option<&'static str> {
    static BUILT: OnceLock<Result<String, String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tvmffi-gpu-fixtures");
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        // One file per test process: each loads its own copy.
        let output = dir.join(format!("libfake_driver.{}.so", std::process::id()));
        let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
        let status = Command::new(&cc)
            .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-O1", "-fPIC", "-shared"])
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fake_driver.c"))
            .arg("-o")
            .arg(&output)
            .status()
            .map_err(|e| format!("cannot run {cc}: {e}"))?;
        assert!(status.success(), "compiling fake_driver.c failed: {status}");
        Ok(output.to_str().expect("a UTF-8 path").to_owned())
    });
    built.as_deref().map_err(|why| common::skip(why)).ok()
}

/// The stand-in's add_one: any image that declares the entry point.
const ADD_ONE: &[u8] = common::ADD_ONE_PTX.as_bytes();

/// Run add_one over 0..n on `dev`, on the stream made current, and return the result.
fn add_one_on(dev: &GpuDevice, n: u32) -> Vec<f32> {
    let stream = dev.create_stream().unwrap();
    let _current = StreamGuard::new(&stream).unwrap();
    let values: Vec<f32> = (0..n).map(|i| i as f32).collect();
    let x = dev.to_device(&Tensor::from_slice(&[i64::from(n)], &values).unwrap(), &stream).unwrap();
    assert_eq!(x.device(), dev.device());
    assert_eq!(x.as_slice::<f32>().unwrap_err(), TensorError::NotHostAccessible(dev.device()));
    let module = dev.load_module(ADD_ONE).unwrap();
    let kernel = module.function("add_one").unwrap();
    // SAFETY: the guard keeps `stream` current and alive.
    let current = unsafe { Stream::current(dev) };
    let data = x.data_ptr();
    // SAFETY: add_one(float*, unsigned) over `x`'s n floats, which outlive the copy back.
    unsafe {
        kernel.launch(
            &LaunchConfig::for_elements(n, 32),
            &current,
            &mut Params::new().arg(&data).arg(&n),
        )
    }
    .unwrap();
    dev.to_host(&x, &current).unwrap().as_slice::<f32>().unwrap().to_vec()
}

#[cfg(feature = "cuda")]
mod cuda {
    use tvmffi_gpu::{AllocatorGuard, Cuda, env};

    use super::*;

    fn backend() -> Option<&'static Cuda> {
        Some(Cuda::with_library(fake_driver()?).expect("the stand-in loads as the CUDA driver"))
    }

    fn device(id: i32) -> GpuDevice {
        GpuDevice::open(Device::new(DeviceType::CUDA, id)).unwrap()
    }

    #[test]
    fn the_driver_is_found_and_describes_its_devices() {
        let Some(cuda) = backend() else { return };
        assert!(cuda.library().contains("libfake_driver"));
        assert_eq!(GpuDevice::count(DeviceType::CUDA).unwrap(), 2);
        // Device handles are not ordinals in the stand-in: names come by handle.
        assert_eq!(device(1).name().unwrap(), "Fake GPU 1");
        let err = GpuDevice::open(Device::new(DeviceType::CUDA, 2)).unwrap_err();
        assert_eq!(err.message(), "CUDA device 2 does not exist: there are 2 devices");
        let err = Cuda::with_library("libcuda.so.1").unwrap_err();
        assert!(err.message().starts_with("the CUDA driver is already loaded from"), "{err}");
    }

    #[test]
    fn operations_leave_the_current_device_alone_and_guards_change_it() {
        let Some(cuda) = backend() else { return };
        assert_eq!(cuda.current_device().unwrap(), 0, "no context yet: the runtime's device 0");
        let (dev0, dev1) = (device(0), device(1));
        dev1.create_stream().unwrap().synchronize().unwrap();
        dev1.synchronize().unwrap();
        assert_eq!(cuda.current_device().unwrap(), 0, "the work on device 1 restored it");
        {
            let guard = dev1.guard().unwrap();
            assert_eq!((guard.original(), cuda.current_device().unwrap()), (0, 1));
            dev0.empty(&[4], DataType::F32).unwrap();
            assert_eq!(cuda.current_device().unwrap(), 1);
        }
        assert_eq!(cuda.current_device().unwrap(), 0);
        std::thread::spawn(move || {
            let _guard = dev1.guard().unwrap();
            assert_eq!(Cuda::get().unwrap().current_device().unwrap(), 1);
        })
        .join()
        .unwrap();
        assert_eq!(cuda.current_device().unwrap(), 0, "the current device is per thread");
    }

    #[test]
    fn memory_carries_the_cuda_device_types() {
        if backend().is_none() {
            return;
        }
        let dev = device(1);
        let stream = dev.create_stream().unwrap();
        let d = dev.empty(&[6], DataType::I32).unwrap();
        assert_eq!(d.device(), Device::new(DeviceType::CUDA, 1));
        assert!(d.is_aligned(256));
        // The stand-in fills fresh pinned memory with 0xAB: the backend must zero it.
        let pinned = dev.empty_host(&[6], DataType::I32).unwrap();
        assert_eq!(pinned.device(), Device::new(DeviceType::CUDA_HOST, 1));
        assert_eq!(pinned.as_slice::<i32>().unwrap(), &[0; 6]);
        let host = Tensor::from_slice(&[6], &[1i32, 2, 3, 4, 5, 6]).unwrap();
        // SAFETY: nothing else touches `d` or `pinned`.
        unsafe {
            dev.copy(&d, &host, &stream).unwrap();
            dev.copy(&pinned, &dev.to_device(&d, &stream).unwrap(), &stream).unwrap();
        }
        assert_eq!(pinned.as_slice::<i32>().unwrap(), &[1, 2, 3, 4, 5, 6]);

        let _alloc = AllocatorGuard::install().unwrap();
        let t =
            env::tensor_alloc(&[2, 2], DataType::F32, Device::new(DeviceType::CUDA, 0)).unwrap();
        assert_eq!(t.device(), Device::new(DeviceType::CUDA, 0));
        let t =
            env::tensor_alloc(&[3], DataType::U8, Device::new(DeviceType::CUDA_HOST, 0)).unwrap();
        assert_eq!(t.as_slice::<u8>().unwrap(), &[0, 0, 0]);
    }

    #[test]
    fn ptx_add_one_runs_on_the_current_stream() {
        if backend().is_none() {
            return;
        }
        let expected: Vec<f32> = (1..=100).map(|i| i as f32).collect();
        assert_eq!(add_one_on(&device(0), 100), expected);
        assert_eq!(add_one_on(&device(1), 100), expected);
    }

    #[test]
    fn driver_errors_carry_the_driver_name_and_text() {
        if backend().is_none() {
            return;
        }
        let dev = device(0);
        let err = dev.load_module(b"// no kernels here").unwrap_err();
        assert_eq!(err.kind(), "RuntimeError");
        assert_eq!(
            err.message(),
            "CUDA Error: CUDA_ERROR_INVALID_PTX (218): a PTX JIT compilation failed (in \
             cuModuleLoadDataEx)\nJIT log:\nptxas fatal   : fake JIT found no add_one"
        );
        let module = dev.load_module(ADD_ONE).unwrap();
        assert_eq!(
            module.function("mul_two").unwrap_err().message(),
            "CUDA Error: CUDA_ERROR_NOT_FOUND (500): named symbol not found (in \
             cuModuleGetFunction \"mul_two\")"
        );
        let kernel = module.function("add_one").unwrap();
        let stream = dev.create_stream().unwrap();
        let (data, n) = (core::ptr::null_mut::<f32>(), 0u32);
        // SAFETY: the stand-in refuses the block before touching anything.
        let err = unsafe {
            kernel.launch(
                &LaunchConfig::new(1, 2048),
                &stream,
                &mut Params::new().arg(&data).arg(&n),
            )
        }
        .unwrap_err();
        assert!(err.message().starts_with("CUDA Error: CUDA_ERROR_INVALID_VALUE (1)"), "{err}");
        let err = dev.empty(&[1 << 50], DataType::U8).unwrap_err();
        assert_eq!(
            err.message(),
            "CUDA Error: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory (in cuMemAlloc_v2)"
        );
    }
}

#[cfg(feature = "rocm")]
mod rocm {
    use tvmffi_gpu::Rocm;

    use super::*;

    fn backend() -> Option<&'static Rocm> {
        Some(Rocm::with_library(fake_driver()?).expect("the stand-in loads as HIP"))
    }

    fn device(id: i32) -> GpuDevice {
        GpuDevice::open(Device::new(DeviceType::ROCM, id)).unwrap()
    }

    #[test]
    fn devices_streams_and_guards() {
        let Some(rocm) = backend() else { return };
        assert_eq!(GpuDevice::count(DeviceType::ROCM).unwrap(), 2);
        assert_eq!(device(1).name().unwrap(), "Fake GPU 1");
        let dev1 = device(1);
        dev1.create_stream().unwrap().destroy().unwrap();
        assert_eq!(rocm.current_device().unwrap(), 0, "the work on device 1 restored it");
        {
            let _guard = dev1.guard().unwrap();
            assert_eq!(rocm.current_device().unwrap(), 1);
        }
        assert_eq!(rocm.current_device().unwrap(), 0);
    }

    #[test]
    fn memory_and_kernels() {
        if backend().is_none() {
            return;
        }
        let dev = device(1);
        // Pinned memory comes from the newer allocation function the stand-in exports.
        let pinned = dev.empty_host(&[4], DataType::F32).unwrap();
        assert_eq!(pinned.device(), Device::new(DeviceType::ROCM_HOST, 1));
        assert_eq!(pinned.as_slice::<f32>().unwrap(), &[0.0; 4]);
        assert_eq!(dev.empty(&[4], DataType::F32).unwrap().device(), dev.device());
        let expected: Vec<f32> = (1..=40).map(|i| i as f32).collect();
        assert_eq!(add_one_on(&dev, 40), expected);
        let err = dev.load_module(b"not a code object").unwrap_err();
        assert_eq!(
            err.message(),
            "ROCm Error: hipErrorInvalidKernelFile (218): a PTX JIT compilation failed (in \
             hipModuleLoadData)"
        );
    }
}
