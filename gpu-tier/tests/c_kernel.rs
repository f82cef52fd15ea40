//! A C kernel library compiled against the reference headers (`tests/fixtures/env_kernel.c`)
//! sees the stream and allocator the Rust host sets, and the host sees the stream it sets:
//! one environment, whichever side of the ABI uses it.
#![cfg(not(miri))] // Miri cannot load shared libraries

mod common;

use tvmffi_alloc::{Error, Tensor};
use tvmffi_core::call::{CallError, call};
use tvmffi_core::{AnyView, DataType, Device, DeviceType};
use tvmffi_gpu::{AllocatorGuard, GpuDevice, StreamGuard, env};
use tvmffi_std::Module;

fn kernels() -> Option<Module> {
    let path = common::env_kernel()?;
    Some(Module::load_from_file(&path).expect("the fixture loads"))
}

fn int_call(m: &Module, name: &str, args: &[i64]) -> Result<i64, Error> {
    let f = m.function(name).expect("exported");
    let args: Vec<AnyView<'_>> = args.iter().map(|&a| AnyView::from(a)).collect();
    match call(&f, &args) {
        Ok(v) => Ok(v.get::<i64>().expect("an int")),
        Err(CallError::Raised { .. }) => Err(Error::take_raised().expect("raised")),
        Err(e) => panic!("{e:?}"),
    }
}

#[test]
fn kernels_see_the_stream_the_host_sets() {
    let Some(m) = kernels() else { return };
    let cpu = GpuDevice::open(Device::CPU).unwrap();
    let stream = cpu.create_stream().unwrap();
    assert_eq!(int_call(&m, "current_stream", &[1, 0]).unwrap(), 0);
    {
        let _guard = StreamGuard::new(&stream).unwrap();
        assert_eq!(int_call(&m, "current_stream", &[1, 0]).unwrap(), stream.as_raw().addr() as i64);
        assert_eq!(int_call(&m, "current_stream", &[2, 0]).unwrap(), 0, "another device");
    }
    assert_eq!(int_call(&m, "current_stream", &[1, 0]).unwrap(), 0, "restored");
}

#[test]
fn the_host_sees_the_stream_a_kernel_sets() {
    let Some(m) = kernels() else { return };
    let rocm1 = Device::new(DeviceType::ROCM, 1);
    assert_eq!(int_call(&m, "set_stream", &[10, 1, 0x77]).unwrap(), 0);
    assert_eq!(env::current_stream(rocm1).addr(), 0x77);
    {
        // SAFETY: no work is launched on the handle.
        let guard =
            unsafe { StreamGuard::from_raw(rocm1, core::ptr::without_provenance_mut(0x88)) }
                .unwrap();
        assert_eq!(guard.previous().addr(), 0x77);
    }
    assert_eq!(int_call(&m, "set_stream", &[10, 1, 0]).unwrap(), 0x77, "the guard restored it");
    let err = int_call(&m, "set_stream", &[-1, 0, 0]).unwrap_err();
    assert_eq!(err.kind(), "ValueError");
}

#[test]
fn kernels_allocate_with_the_host_allocator() {
    let Some(m) = kernels() else { return };
    let alloc = m.function("alloc_f32").unwrap();
    let args = [AnyView::from(1i64), AnyView::from(0i64), AnyView::from(5i64)];
    assert!(call(&alloc, &args).is_err(), "no allocator yet");
    let err = Error::take_raised().unwrap();
    assert!(err.message().starts_with("TVMFFIEnvTensorAlloc: allocator is nullptr"), "{err}");

    let _guard = AllocatorGuard::install().unwrap();
    let t = call(&alloc, &args).unwrap().get::<Tensor>().unwrap();
    assert_eq!((t.shape(), t.dtype(), t.device()), (&[5i64][..], DataType::F32, Device::CPU));
    assert_eq!(t.as_slice::<f32>().unwrap(), &[0.0; 5]);

    // The allocator's own error reaches the kernel's caller unchanged.
    let args = [AnyView::from(7i64), AnyView::from(0i64), AnyView::from(5i64)];
    assert!(call(&alloc, &args).is_err());
    let err = Error::take_raised().unwrap();
    assert_eq!(err.kind(), "NotImplementedError");
    assert!(err.message().starts_with("no backend for device type 7"), "{err}");
}
