//! The ROCm backend on a real device. Without HIP or a device each test says so and passes
//! (set `TVMFFI_REQUIRE_GPU=1` on GPU machines to make that a failure).
#![cfg(feature = "rocm")]

mod common;

use common::{ADD_ONE_HIP, gpu_or_skip, hiprtc};
use tvmffi_alloc::Tensor;
use tvmffi_alloc::tensor::TensorError;
use tvmffi_core::{DataType, Device, DeviceType};
use tvmffi_gpu::{
    AllocatorGuard, Backend, GpuDevice, LaunchConfig, Params, Rocm, Stream, StreamGuard, env,
};

fn rocm() -> Option<GpuDevice> {
    gpu_or_skip(DeviceType::ROCM)
}

#[test]
fn without_hip_the_error_says_why() {
    match Rocm::get() {
        Ok(rocm) => {
            assert!(rocm.library().contains("amdhip64"));
            assert_eq!(rocm.device_type(), DeviceType::ROCM);
        }
        Err(e) => {
            assert_eq!(e.kind(), "RuntimeError");
            assert!(e.message().starts_with("ROCm is not available: "), "{e}");
            assert!(e.message().contains("libamdhip64.so"), "{e}");
            let open = GpuDevice::open(Device::new(DeviceType::ROCM, 0)).unwrap_err();
            assert_eq!(open.message(), e.message());
        }
    }
}

#[test]
fn devices_streams_and_guards() {
    let Some(dev) = rocm() else { return };
    assert!(!dev.name().unwrap().is_empty());
    let count = GpuDevice::count(DeviceType::ROCM).unwrap();
    let stream = dev.create_stream().unwrap();
    stream.synchronize().unwrap();
    dev.synchronize().unwrap();
    stream.destroy().unwrap();
    let backend = dev.backend();
    let before = backend.current_device().unwrap();
    let last = GpuDevice::open(Device::new(DeviceType::ROCM, count - 1)).unwrap();
    {
        let _guard = last.guard().unwrap();
        assert_eq!(backend.current_device().unwrap(), count - 1);
        dev.create_stream().unwrap().synchronize().unwrap();
        assert_eq!(backend.current_device().unwrap(), count - 1);
    }
    assert_eq!(backend.current_device().unwrap(), before);
}

#[test]
fn device_and_pinned_tensors_carry_their_dlpack_types() {
    let Some(dev) = rocm() else { return };
    let stream = dev.create_stream().unwrap();
    let d = dev.empty(&[8], DataType::F32).unwrap();
    assert_eq!(d.device().device_type().0, 10, "kDLROCM");
    assert_eq!(d.as_slice::<f32>().unwrap_err(), TensorError::NotHostAccessible(d.device()));
    let p = dev.empty_host(&[8], DataType::F32).unwrap();
    assert_eq!(p.device().device_type().0, 11, "kDLROCMHost");
    assert_eq!(p.as_slice::<f32>().unwrap(), &[0.0; 8]);
    let host = Tensor::from_slice(&[8], &[1f32, 2., 3., 4., 5., 6., 7., 8.]).unwrap();
    let on_device = dev.to_device(&host, &stream).unwrap();
    let back = dev.to_host(&dev.to_device(&on_device, &stream).unwrap(), &stream).unwrap();
    assert_eq!(back.as_slice::<f32>().unwrap(), host.as_slice::<f32>().unwrap());

    let _guard = AllocatorGuard::install().unwrap();
    let t = env::tensor_alloc(&[16], DataType::F32, dev.device()).unwrap();
    assert_eq!(t.device(), dev.device());
}

#[test]
fn add_one_runs_on_the_current_stream() {
    let Some(dev) = rocm() else { return };
    let image = match hiprtc::compile(ADD_ONE_HIP, "add_one.hip") {
        Ok(image) => image,
        Err(why) => return common::skip(&why),
    };
    let n = 1000u32;
    let stream = dev.create_stream().unwrap();
    let _current = StreamGuard::new(&stream).unwrap();
    let values: Vec<f32> = (0..n).map(|i| i as f32).collect();
    let x = dev.to_device(&Tensor::from_slice(&[i64::from(n)], &values).unwrap(), &stream).unwrap();
    let module = dev.load_module(&image).unwrap();
    let kernel = module.function("add_one").unwrap();
    // SAFETY: the guard keeps `stream` current and alive.
    let current = unsafe { Stream::current(&dev) };
    let data = x.data_ptr();
    // SAFETY: add_one(float*, unsigned) over `x`'s `n` floats, which outlive the copy back.
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
    assert!(module.function("mul_two").is_err());
    assert!(dev.load_module(b"not a code object").is_err());
}
