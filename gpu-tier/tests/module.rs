//! Modules and kernel launches, end to end on the fake backend (which runs `add_one` on the
//! CPU): data to the device, a stream made current, the kernel launched on the stream a
//! kernel library would read from the environment, and the result back.

mod common;

use common::fake::{FAKE_IMAGE, Fake};
use tvmffi_alloc::Tensor;
use tvmffi_core::{DataType, Device};
use tvmffi_gpu::{Dim3, GpuDevice, LaunchConfig, Params, Stream, StreamGuard};

#[test]
fn add_one_runs_on_the_environment_stream() {
    let fake = Fake::new(2);
    let dev = GpuDevice::with_backend(fake, 1).unwrap();
    let stream = dev.create_stream().unwrap();
    let _current = StreamGuard::new(&stream).unwrap();

    let host = Tensor::from_slice(&[10], &[0f32, 1., 2., 3., 4., 5., 6., 7., 8., 9.]).unwrap();
    let x = dev.to_device(&host, &stream).unwrap();
    let module = dev.load_module(FAKE_IMAGE).unwrap();
    let kernel = module.function("add_one").unwrap();
    assert_eq!(kernel.name(), "add_one");
    assert_eq!(kernel.module().device(), &dev);

    // What a kernel library does: launch on the stream the caller made current.
    // SAFETY: the guard keeps `stream` current and alive.
    let current = unsafe { Stream::current(&dev) };
    assert_eq!(current.as_raw(), stream.as_raw());
    let (data, n) = (x.data_ptr(), 10u32);
    let config = LaunchConfig::for_elements(n, 4);
    // SAFETY: `add_one(float*, unsigned)` with `x`'s 10 floats, alive until the stream
    // finishes (the copy back synchronises).
    unsafe { kernel.launch(&config, &current, &mut Params::new().arg(&data).arg(&n)) }.unwrap();
    let y = dev.to_host(&x, &current).unwrap();
    assert_eq!(y.as_slice::<f32>().unwrap(), &[1., 2., 3., 4., 5., 6., 7., 8., 9., 10.]);
    assert_eq!(fake.launches(), [LaunchConfig::new(3, 4)]);

    drop(kernel);
    module.unload().unwrap();
    assert_eq!(fake.live_modules(), 0);
}

#[test]
fn launches_are_checked_before_the_driver_sees_them() {
    let fake = Fake::new(2);
    let dev = GpuDevice::with_backend(fake, 0).unwrap();
    let other = GpuDevice::with_backend(fake, 1).unwrap();
    let module = dev.load_module(FAKE_IMAGE).unwrap();
    let kernel = module.function("add_one").unwrap();
    let x = dev.empty(&[4], DataType::F32).unwrap();
    let (data, n) = (x.data_ptr(), 4u32);
    let mut params = Params::new().arg(&data).arg(&n);

    let stream = dev.create_stream().unwrap();
    let empty = LaunchConfig { grid: Dim3::new(1, 0, 1), ..LaunchConfig::new(1, 4) };
    // SAFETY: add_one's parameters, `x` outliving the synchronisation (as below).
    let err = unsafe { kernel.launch(&empty, &stream, &mut params) }.unwrap_err();
    assert_eq!(err.kind(), "ValueError");
    let foreign = other.create_stream().unwrap();
    // SAFETY: as above.
    let err =
        unsafe { kernel.launch(&LaunchConfig::new(1, 4), &foreign, &mut params) }.unwrap_err();
    assert_eq!(
        err.message(),
        "cannot launch add_one of Fake device 0 on a stream of Fake device 1"
    );
    fake.fail("launch", 0);
    // SAFETY: as above.
    let err = unsafe { kernel.launch(&LaunchConfig::new(1, 4), &stream, &mut params) }.unwrap_err();
    assert_eq!(err.message(), "injected failure in launch");
    assert!(fake.launches().is_empty());
    // The default stream works as any other.
    // SAFETY: as above.
    unsafe { kernel.launch(&LaunchConfig::new(1, 4), &dev.default_stream(), &mut params) }.unwrap();
    dev.default_stream().synchronize().unwrap();
    assert_eq!(fake.launches().len(), 1);
}

#[test]
fn modules_report_load_and_lookup_failures() {
    let fake = Fake::new(1);
    let dev = GpuDevice::with_backend(fake, 0).unwrap();
    let err = dev.load_module(b"not code").unwrap_err();
    assert_eq!(err.message(), "Fake Error: not a fake code object");
    let module = dev.load_module(FAKE_IMAGE).unwrap();
    assert_eq!(fake.live_modules(), 1);
    assert!(module.function("mul_two").unwrap_err().message().contains("no kernel"));
    let err = module.function("add\0one").unwrap_err();
    assert_eq!(err.message(), "kernel name \"add\\0one\" contains a NUL byte");
    drop(module);
    assert_eq!(fake.live_modules(), 0, "unloaded on drop");
}

#[test]
fn the_cpu_backend_loads_no_device_code() {
    let cpu = GpuDevice::open(Device::CPU).unwrap();
    let err = cpu.load_module(b"anything").unwrap_err();
    assert_eq!(err.kind(), "NotImplementedError");
    assert!(err.message().starts_with("the CPU backend cannot load device code"), "{err}");
}
