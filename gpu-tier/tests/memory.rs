//! Device memory as tensors: allocation with the right device types, ownership through
//! DLPack, copies between host and device, and their errors.

mod common;

use common::fake::Fake;
use tvmffi_alloc::Tensor;
use tvmffi_alloc::tensor::TensorError;
use tvmffi_core::{DataType, Device, DeviceType};
use tvmffi_gpu::backend::CopyKind;
use tvmffi_gpu::{GpuDevice, Stream};

fn fake_device(devices: i32, id: i32) -> (&'static Fake, GpuDevice) {
    let fake = Fake::new(devices);
    (fake, GpuDevice::with_backend(fake, id).unwrap())
}

#[test]
fn device_tensors_carry_the_device_and_are_not_host_readable() {
    let (fake, dev) = fake_device(2, 1);
    let t = dev.empty(&[4, 2], DataType::F32).unwrap();
    assert_eq!(t.device(), Device::new(DeviceType::EXT_DEV, 1));
    assert_eq!((t.shape(), &*t.strides()), (&[4i64, 2][..], &[2i64, 1][..]));
    assert!(t.is_aligned(64) && t.is_contiguous());
    assert_eq!(
        t.as_slice::<f32>().unwrap_err(),
        TensorError::NotHostAccessible(Device::new(DeviceType::EXT_DEV, 1))
    );
    assert_eq!(fake.live_allocations(), 1);
    drop(t);
    assert_eq!(fake.live_allocations(), 0, "freed with the last reference");
}

#[test]
fn pinned_tensors_are_host_memory_of_the_backend() {
    let (fake, dev) = fake_device(1, 0);
    let t = dev.empty_host(&[3], DataType::I32).unwrap();
    assert_eq!(t.device(), dev.host_device());
    assert_eq!(t.as_slice::<i32>().unwrap(), &[0, 0, 0], "zero-filled and readable");
    drop(t);
    assert_eq!(fake.live_allocations(), 0, "freed as host memory (the fake checks the kind)");
}

#[test]
fn dlpack_exports_keep_device_memory_alive() {
    let (fake, dev) = fake_device(1, 0);
    let t = dev.empty(&[8], DataType::U8).unwrap();
    let legacy = t.to_dlpack();
    let versioned = t.to_dlpack_versioned();
    drop(t);
    assert_eq!(fake.live_allocations(), 1);
    // SAFETY: an export we own; on success the new tensor owns it.
    let back = unsafe { Tensor::from_dlpack_versioned(versioned, 0, false) }.unwrap();
    assert_eq!(back.device(), Device::new(DeviceType::EXT_DEV, 0));
    drop(back);
    assert_eq!(fake.live_allocations(), 1);
    // SAFETY: the consumer calls the deleter once.
    unsafe { (*legacy).deleter.unwrap()(legacy) };
    assert_eq!(fake.live_allocations(), 0);
}

#[test]
fn tensors_without_elements_allocate_nothing() {
    let (fake, dev) = fake_device(1, 0);
    let t = dev.empty(&[0, 3], DataType::F64).unwrap();
    assert_eq!((t.numel(), t.data_ptr()), (0, core::ptr::null_mut()));
    assert_eq!(fake.live_allocations(), 0);
    let scalar = dev.empty(&[], DataType::F64).unwrap();
    assert_eq!((scalar.numel(), scalar.data_size()), (1, 8));
    assert_eq!(fake.live_allocations(), 1);
}

#[test]
fn allocation_failures_are_errors_and_leak_nothing() {
    let (fake, dev) = fake_device(1, 0);
    fake.fail("alloc", 0);
    assert_eq!(dev.empty(&[4], DataType::F32).unwrap_err().message(), "injected failure in alloc");
    assert_eq!(dev.empty(&[-4], DataType::F32).unwrap_err().kind(), "ValueError");
    assert_eq!(dev.empty(&[1 << 62, 4], DataType::F32).unwrap_err().kind(), "OverflowError");
    assert_eq!(fake.live_allocations(), 0);
    // A failure to free cannot be reported by a deleter; the tensor still goes away.
    let t = dev.empty(&[4], DataType::F32).unwrap();
    fake.fail("free", 0);
    drop(t);
    assert_eq!(fake.live_allocations(), 0);
}

#[test]
fn host_data_round_trips_through_the_device() {
    let (fake, dev) = fake_device(1, 0);
    let stream = dev.create_stream().unwrap();
    let host = Tensor::from_slice(&[2, 3], &[0f32, 1., 2., 3., 4., 5.]).unwrap();
    let on_device = dev.to_device(&host, &stream).unwrap();
    assert_eq!(on_device.device(), dev.device());
    assert_ne!(on_device.data_ptr(), host.data_ptr());
    let copy = dev.to_device(&on_device, &stream).unwrap();
    let back = dev.to_host(&copy, &stream).unwrap();
    assert_eq!((back.device(), back.shape()), (Device::CPU, &[2i64, 3][..]));
    assert_eq!(back.as_slice::<f32>().unwrap(), &[0., 1., 2., 3., 4., 5.]);
    assert_eq!(
        fake.copies(),
        [CopyKind::HostToDevice, CopyKind::DeviceToDevice, CopyKind::DeviceToHost]
    );

    // Pinned memory is host memory for copies, and host-to-host copies need no driver.
    let pinned = dev.empty_host(&[6], DataType::F32).unwrap();
    // SAFETY: nothing else reads or writes `pinned` meanwhile.
    unsafe { dev.copy(&pinned, &back, &stream) }.unwrap();
    assert_eq!(pinned.as_slice::<f32>().unwrap(), &[0., 1., 2., 3., 4., 5.]);
    assert_eq!(fake.copies().len(), 3);
    drop((on_device, copy, pinned));
    assert_eq!(fake.live_allocations(), 0);
}

#[test]
fn the_cpu_backend_copies_too() {
    let cpu = GpuDevice::open(Device::CPU).unwrap();
    let stream = cpu.create_stream().unwrap();
    let host = Tensor::from_slice(&[3], &[7i64, 8, 9]).unwrap();
    let copy = cpu.to_device(&host, &stream).unwrap();
    assert_eq!(copy.as_slice::<i64>().unwrap(), &[7, 8, 9]);
    assert_ne!(copy.data_ptr(), host.data_ptr());
    let view = host.as_strided(&[2], &[1], 1).unwrap();
    let tail = cpu.to_host(&view, &stream).unwrap();
    assert_eq!(tail.as_slice::<i64>().unwrap(), &[8, 9], "the byte offset is honoured");
}

#[test]
fn copies_check_their_tensors_and_stream() {
    let (fake, dev) = fake_device(2, 0);
    let other = GpuDevice::with_backend(fake, 1).unwrap();
    let stream = dev.create_stream().unwrap();
    let host = Tensor::from_slice(&[4], &[1f32, 2., 3., 4.]).unwrap();
    let d4 = dev.empty(&[4], DataType::F32).unwrap();
    let d3 = dev.empty(&[3], DataType::F32).unwrap();
    let copy = |dst: &Tensor, src: &Tensor, s: &Stream| {
        // SAFETY: no destination here is shared.
        unsafe { dev.copy(dst, src, s) }
    };

    let err = copy(&d3, &host, &stream).unwrap_err();
    assert_eq!(err.message(), "cannot copy 16 bytes into a tensor of 12 bytes");
    let strided = Tensor::from_slice(&[8], &[0f32; 8]).unwrap().as_strided(&[4], &[2], 0).unwrap();
    let err = copy(&d4, &strided, &stream).unwrap_err();
    assert_eq!(err.message(), "copies need contiguous tensors");
    let elsewhere = other.empty(&[4], DataType::F32).unwrap();
    let err = copy(&d4, &elsewhere, &stream).unwrap_err();
    assert!(err.message().contains("neither on this device nor in host memory"), "{err}");
    let other_stream = other.create_stream().unwrap();
    let err = copy(&d4, &host, &other_stream).unwrap_err();
    assert_eq!(err.message(), "cannot copy on a stream of Fake device 1 with Fake device 0");
    fake.fail("copy", 0);
    assert_eq!(copy(&d4, &host, &stream).unwrap_err().message(), "injected failure in copy");
    fake.fail("synchronize_stream", 0);
    let err = dev.to_host(&d4, &stream).unwrap_err();
    assert_eq!(err.message(), "injected failure in synchronize_stream");
    assert_eq!(fake.copies(), [CopyKind::DeviceToHost], "the failed copy was not made");
    // Empty tensors copy nothing.
    let none = Tensor::from_slice::<f32>(&[0], &[]).unwrap();
    copy(&dev.empty(&[0], DataType::F32).unwrap(), &none, &stream).unwrap();
    drop((d4, d3, elsewhere));
    assert_eq!(fake.live_allocations(), 0);
}
