//! Devices: opening them by DLPack device, and the current-device guard (the reference's
//! `CUDADeviceGuard`).

mod common;

use common::fake::Fake;
use tvmffi_core::{Device, DeviceType};
use tvmffi_gpu::{Cpu, GpuDevice};

#[test]
fn the_cpu_is_always_a_device() {
    let cpu = GpuDevice::open(Device::CPU).unwrap();
    assert_eq!((cpu.device(), cpu.host_device(), cpu.id()), (Device::CPU, Device::CPU, 0));
    assert_eq!(cpu.name().unwrap(), "cpu");
    assert_eq!(cpu.backend().name(), "CPU");
    assert_eq!(GpuDevice::count(DeviceType::CPU).unwrap(), 1);
    assert_eq!(cpu, GpuDevice::with_backend(Cpu::get(), 0).unwrap());
    assert_eq!(format!("{cpu:?} / {cpu}"), "GpuDevice(CPU:0) / CPU device 0");
    cpu.synchronize().unwrap();
    // The CPU has one device, which is always current.
    let guard = cpu.guard().unwrap();
    assert_eq!(guard.original(), 0);
    guard.restore().unwrap();
}

#[test]
fn devices_that_do_not_exist_are_errors() {
    let err = GpuDevice::open(Device::new(DeviceType::CPU, 1)).unwrap_err();
    assert_eq!(
        (err.kind().as_ref(), err.message().as_ref()),
        ("ValueError", "CPU device 1 does not exist: there is 1 device")
    );
    assert!(GpuDevice::open(Device::new(DeviceType::CPU, -1)).is_err());
    let err = GpuDevice::with_backend(Fake::new(3), 3).unwrap_err();
    assert_eq!(err.message(), "Fake device 3 does not exist: there are 3 devices");
    let err = GpuDevice::open(Device::new(DeviceType::METAL, 0)).unwrap_err();
    assert_eq!(err.kind(), "NotImplementedError");
    assert!(err.message().starts_with("no backend for device type 8 (METAL)"), "{err}");
    assert!(GpuDevice::count(DeviceType(99)).is_err());

    let fake = Fake::new(2);
    fake.fail("device_count", 0);
    let err = GpuDevice::with_backend(fake, 0).unwrap_err();
    assert_eq!(err.message(), "injected failure in device_count");
}

#[test]
fn host_memory_types_are_not_devices() {
    for (host, name) in [(DeviceType::CUDA_HOST, "CUDA"), (DeviceType::ROCM_HOST, "ROCm")] {
        let err = GpuDevice::open(Device::new(host, 0)).unwrap_err();
        // With the driver: "...is CUDA host memory, not a device"; without it (or without the
        // feature), the reason it is missing.
        assert!(err.message().contains(name), "{err}");
    }
}

#[test]
fn device_guards_nest_and_restore() {
    let fake = Fake::new(4);
    let dev = |id| GpuDevice::with_backend(fake, id).unwrap();
    assert_eq!(fake.current(), 0);
    {
        let g2 = dev(2).guard().unwrap();
        assert_eq!((g2.original(), fake.current()), (0, 2));
        {
            let g3 = dev(3).guard().unwrap();
            assert_eq!((g3.original(), fake.current()), (2, 3));
        }
        assert_eq!(fake.current(), 2);
    }
    assert_eq!(fake.current(), 0);

    // The current device is left alone when the guard's device already is current.
    let _g = dev(1).guard().unwrap();
    fake.fail("set_device", 0);
    let same = dev(1).guard().unwrap();
    assert_eq!(same.original(), 1);
    drop(same);
    fake.fail("set_device", 1); // clear the injection
    assert_eq!(fake.current(), 1);
}

#[test]
fn the_current_device_is_per_thread() {
    let fake = Fake::new(2);
    let _g = GpuDevice::with_backend(fake, 1).unwrap().guard().unwrap();
    std::thread::spawn(move || {
        assert_eq!(fake.current(), 0, "a new thread starts on device 0");
        let _g = GpuDevice::with_backend(fake, 1).unwrap().guard().unwrap();
        assert_eq!(fake.current(), 1);
    })
    .join()
    .unwrap();
    assert_eq!(fake.current(), 1);
}

#[test]
fn guard_failures_are_errors() {
    let fake = Fake::new(2);
    let dev1 = GpuDevice::with_backend(fake, 1).unwrap();
    fake.fail("current_device", 0);
    assert_eq!(dev1.guard().unwrap_err().message(), "injected failure in current_device");
    fake.fail("set_device", 0);
    assert_eq!(dev1.guard().unwrap_err().message(), "injected failure in set_device");
    assert_eq!(fake.current(), 0);

    let guard = dev1.guard().unwrap();
    fake.fail("set_device", 0);
    assert_eq!(guard.restore().unwrap_err().message(), "injected failure in set_device");
    assert_eq!(fake.current(), 1, "the failed restore left the device as it was");
}
