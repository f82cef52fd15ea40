//! The CUDA backend on a real device. Without the driver or a device each test says so and
//! passes (set `TVMFFI_REQUIRE_GPU=1` on GPU machines to make that a failure).
#![cfg(feature = "cuda")]

mod common;

use common::{ADD_ONE_PTX, gpu_or_skip};
use tvmffi_alloc::Tensor;
use tvmffi_alloc::tensor::TensorError;
use tvmffi_core::{DataType, Device, DeviceType};
use tvmffi_gpu::{
    AllocatorGuard, Backend, Cuda, GpuDevice, LaunchConfig, Params, Stream, StreamGuard, env,
};

fn cuda() -> Option<GpuDevice> {
    gpu_or_skip(DeviceType::CUDA)
}

#[test]
fn without_a_driver_the_error_says_why() {
    match Cuda::get() {
        Ok(cuda) => {
            assert!(cuda.library().starts_with("libcuda") || cuda.library() == "nvcuda.dll");
            assert_eq!(cuda.device_type(), DeviceType::CUDA);
        }
        Err(e) => {
            assert_eq!(e.kind(), "RuntimeError");
            assert!(e.message().starts_with("CUDA is not available: "), "{e}");
            assert_eq!(Cuda::get().unwrap_err().message(), e.message(), "the same every time");
            let open = GpuDevice::open(Device::new(DeviceType::CUDA, 0)).unwrap_err();
            assert_eq!(open.message(), e.message());
        }
    }
}

#[test]
fn devices_streams_and_guards() {
    let Some(dev) = cuda() else { return };
    assert!(!dev.name().unwrap().is_empty());
    let count = GpuDevice::count(DeviceType::CUDA).unwrap();
    assert!(count >= 1);
    let err = GpuDevice::open(Device::new(DeviceType::CUDA, count)).unwrap_err();
    assert_eq!(err.kind(), "ValueError");
    let err = GpuDevice::open(Device::new(DeviceType::CUDA_HOST, 0)).unwrap_err();
    assert!(err.message().contains("host memory, not a device"), "{err}");

    let stream = dev.create_stream().unwrap();
    assert!(!stream.as_raw().is_null());
    stream.synchronize().unwrap();
    dev.default_stream().synchronize().unwrap();
    dev.synchronize().unwrap();
    stream.destroy().unwrap();

    let backend = dev.backend();
    let last = GpuDevice::open(Device::new(DeviceType::CUDA, count - 1)).unwrap();
    let before = backend.current_device().unwrap();
    {
        let guard = last.guard().unwrap();
        assert_eq!(guard.original(), before);
        assert_eq!(backend.current_device().unwrap(), count - 1);
        // Work on another device leaves the current device alone.
        dev.create_stream().unwrap().synchronize().unwrap();
        assert_eq!(backend.current_device().unwrap(), count - 1);
    }
    assert_eq!(backend.current_device().unwrap(), before);
}

#[test]
fn device_and_pinned_tensors_carry_their_dlpack_types() {
    let Some(dev) = cuda() else { return };
    let stream = dev.create_stream().unwrap();
    let d = dev.empty(&[3, 4], DataType::F32).unwrap();
    assert_eq!((d.device().device_type().0, d.device().device_id()), (2, 0), "kDLCUDA");
    assert!(d.is_aligned(256), "cuMemAlloc aligns to 256 bytes");
    assert_eq!(d.as_slice::<f32>().unwrap_err(), TensorError::NotHostAccessible(d.device()));
    let p = dev.empty_host(&[12], DataType::F32).unwrap();
    assert_eq!(p.device().device_type().0, 3, "kDLCUDAHost");
    assert_eq!(p.as_slice::<f32>().unwrap(), &[0.0; 12]);

    let host = Tensor::from_slice(&[3, 4], &(0..12).map(|i| i as f32).collect::<Vec<_>>()).unwrap();
    let on_device = dev.to_device(&host, &stream).unwrap();
    let copy = dev.to_device(&on_device, &stream).unwrap();
    // SAFETY: nothing else touches `p`.
    unsafe { dev.copy(&p, &copy, &stream) }.unwrap();
    assert_eq!(p.as_slice::<f32>().unwrap(), host.as_slice::<f32>().unwrap());
    let back = dev.to_host(&p, &stream).unwrap();
    assert_eq!(back.as_slice::<f32>().unwrap(), host.as_slice::<f32>().unwrap());
}

#[test]
fn the_env_allocator_serves_cuda_prototypes() {
    let Some(dev) = cuda() else { return };
    let _guard = AllocatorGuard::install().unwrap();
    let t = env::tensor_alloc(&[1024], DataType::F16, dev.device()).unwrap();
    assert_eq!((t.device(), t.data_size()), (dev.device(), 2048));
    let pinned = env::tensor_alloc(&[4], DataType::I32, dev.host_device()).unwrap();
    assert_eq!(pinned.as_slice::<i32>().unwrap(), &[0; 4]);
}

#[test]
fn add_one_ptx_runs_on_the_current_stream() {
    let Some(dev) = cuda() else { return };
    let n = 1000u32;
    let stream = dev.create_stream().unwrap();
    let _current = StreamGuard::new(&stream).unwrap();
    let values: Vec<f32> = (0..n).map(|i| i as f32).collect();
    let host = Tensor::from_slice(&[i64::from(n)], &values).unwrap();
    let x = dev.to_device(&host, &stream).unwrap();
    let module = dev.load_module(ADD_ONE_PTX.as_bytes()).unwrap();
    let kernel = module.function("add_one").unwrap();
    // SAFETY: the guard keeps `stream` current and alive.
    let current = unsafe { Stream::current(&dev) };
    assert_eq!(current.as_raw(), stream.as_raw());
    let data = x.data_ptr();
    // SAFETY: add_one(float*, unsigned) over `x`'s `n` floats, which outlive the copy back
    // (it synchronises the stream).
    unsafe {
        kernel.launch(
            &LaunchConfig::for_elements(n, 256),
            &current,
            &mut Params::new().arg(&data).arg(&n),
        )
    }
    .unwrap();
    let y = dev.to_host(&x, &current).unwrap();
    let expected: Vec<f32> = values.iter().map(|v| v + 1.0).collect();
    assert_eq!(y.as_slice::<f32>().unwrap(), &expected[..]);

    // Twice more on the default stream, with one thread per block.
    let default = dev.default_stream();
    let mut params = Params::new().arg(&data).arg(&n);
    for _ in 0..2 {
        // SAFETY: as above.
        unsafe { kernel.launch(&LaunchConfig::new(n, 1), &default, &mut params) }.unwrap();
    }
    let y = dev.to_host(&x, &default).unwrap();
    assert_eq!(y.as_slice::<f32>().unwrap()[999], 1002.0);
}

#[test]
fn driver_errors_are_errors() {
    let Some(dev) = cuda() else { return };
    let err = dev.load_module(b"this is not PTX").unwrap_err();
    assert_eq!(err.kind(), "RuntimeError");
    assert!(err.message().starts_with("CUDA Error: CUDA_ERROR_"), "{err}");
    assert!(err.message().contains("cuModuleLoadDataEx"), "{err}");

    let module = dev.load_module(ADD_ONE_PTX.as_bytes()).unwrap();
    let err = module.function("mul_two").unwrap_err();
    assert!(err.message().contains("CUDA_ERROR_NOT_FOUND"), "{err}");

    let kernel = module.function("add_one").unwrap();
    let x = dev.empty(&[4], DataType::F32).unwrap();
    let (data, n) = (x.data_ptr(), 4u32);
    let stream = dev.create_stream().unwrap();
    // SAFETY: add_one's parameters; the driver refuses the block before anything runs.
    let err = unsafe {
        kernel.launch(
            &LaunchConfig::new(1, 1 << 16),
            &stream,
            &mut Params::new().arg(&data).arg(&n),
        )
    }
    .unwrap_err();
    assert!(err.message().contains("cuLaunchKernel"), "{err}");

    // A petabyte is more than any device has.
    let err = dev.empty(&[1 << 50], DataType::U8).unwrap_err();
    assert!(err.message().contains("CUDA_ERROR_OUT_OF_MEMORY"), "{err}");
}
