//! Streams: the environment's current stream per device and thread (`TVMFFIEnvSetStream`,
//! `TVMFFIEnvGetStream`), the guards over it, and stream ownership.

mod common;

use core::ffi::c_void;

use common::fake::Fake;
use tvmffi_core::sys::api;
use tvmffi_core::{Device, DeviceType};
use tvmffi_gpu::{Backend, Cpu, GpuDevice, Stream, StreamGuard, env};

fn cpu() -> GpuDevice {
    GpuDevice::open(Device::CPU).unwrap()
}

/// A made-up handle for devices no stream is ever used on here.
fn token(n: usize) -> *mut c_void {
    core::ptr::without_provenance_mut(n)
}

#[test]
fn guards_set_and_restore_the_current_stream_in_nesting_order() {
    let cpu = cpu();
    let (s1, s2) = (cpu.create_stream().unwrap(), cpu.create_stream().unwrap());
    assert!(env::current_stream(Device::CPU).is_null(), "no stream before any is set");
    {
        let g1 = StreamGuard::new(&s1).unwrap();
        assert_eq!((g1.device(), g1.previous()), (Device::CPU, core::ptr::null_mut()));
        assert_eq!(env::current_stream(Device::CPU), s1.as_raw());
        {
            let g2 = StreamGuard::new(&s2).unwrap();
            assert_eq!(g2.previous(), s1.as_raw());
            assert_eq!(env::current_stream(Device::CPU), s2.as_raw());
        }
        assert_eq!(env::current_stream(Device::CPU), s1.as_raw());
        // The default stream can be made current too (null), and is undone like any other.
        let default = cpu.default_stream();
        let g3 = StreamGuard::new(&default).unwrap();
        assert!(env::current_stream(Device::CPU).is_null());
        g3.restore().unwrap();
        assert_eq!(env::current_stream(Device::CPU), s1.as_raw());
    }
    assert!(env::current_stream(Device::CPU).is_null());
}

#[test]
fn streams_are_kept_per_device() {
    let cuda1 = Device::new(DeviceType::CUDA, 1);
    let rocm0 = Device::new(DeviceType::ROCM, 0);
    // SAFETY: no work is launched on these handles.
    let _a = unsafe { StreamGuard::from_raw(cuda1, token(0x1000)) }.unwrap();
    // SAFETY: as above.
    let _b = unsafe { StreamGuard::from_raw(rocm0, token(0x2000)) }.unwrap();
    assert_eq!(env::current_stream(cuda1), token(0x1000));
    assert_eq!(env::current_stream(rocm0), token(0x2000));
    assert!(env::current_stream(Device::new(DeviceType::CUDA, 0)).is_null());
    assert!(env::current_stream(Device::new(DeviceType::CUDA, 7)).is_null(), "beyond the table");
    assert!(env::current_stream(Device::new(DeviceType(1000), 0)).is_null());
}

#[test]
fn each_thread_has_its_own_current_stream() {
    let cuda0 = Device::new(DeviceType::CUDA, 0);
    // SAFETY: no work is launched on these handles.
    let _main = unsafe { StreamGuard::from_raw(cuda0, token(0xA0)) }.unwrap();
    std::thread::spawn(move || {
        assert!(env::current_stream(cuda0).is_null(), "a new thread starts without streams");
        // SAFETY: as above.
        let _other = unsafe { StreamGuard::from_raw(cuda0, token(0xB0)) }.unwrap();
        assert_eq!(env::current_stream(cuda0), token(0xB0));
    })
    .join()
    .unwrap();
    assert_eq!(env::current_stream(cuda0), token(0xA0), "the other thread's guard stayed there");
}

#[test]
fn rust_and_c_callers_see_one_environment() {
    let cuda0 = Device::new(DeviceType::CUDA, 0);
    let mut previous = token(1);
    // SAFETY: a writable slot; the handle is never used.
    let code = unsafe { api::TVMFFIEnvSetStream(2, 0, token(0xC0), &mut previous) };
    assert_eq!((code, previous), (0, core::ptr::null_mut()));
    assert_eq!(env::current_stream(cuda0), token(0xC0), "set from C, read from Rust");
    {
        // SAFETY: as above.
        let guard = unsafe { StreamGuard::from_raw(cuda0, token(0xD0)) }.unwrap();
        assert_eq!(guard.previous(), token(0xC0));
        // SAFETY: no pointer arguments.
        assert_eq!(unsafe { api::TVMFFIEnvGetStream(2, 0) }, token(0xD0), "set from Rust");
    }
    assert_eq!(env::current_stream(cuda0), token(0xC0), "restored to what C had set");
    // SAFETY: resetting to none.
    let before = unsafe { env::set_current_stream(cuda0, core::ptr::null_mut()) }.unwrap();
    assert_eq!(before, token(0xC0));
}

#[test]
fn negative_devices_are_a_value_error() {
    for device in [Device::new(DeviceType(-1), 0), Device::new(DeviceType::CUDA, -3)] {
        // SAFETY: refused before anything is stored.
        let err = unsafe { StreamGuard::from_raw(device, token(0xE0)) }.unwrap_err();
        assert_eq!(err.kind(), "ValueError");
        assert_eq!(
            err.message(),
            format!(
                "TVMFFIEnvSetStream: invalid device type {} or id {}",
                device.device_type().0,
                device.device_id()
            )
        );
    }
}

#[test]
fn owned_streams_are_destroyed_once_and_borrowed_ones_never() {
    let fake = Fake::new(2);
    let dev = GpuDevice::with_backend(fake, 1).unwrap();
    let s = dev.create_stream().unwrap();
    assert!(s.is_owned() && !s.is_default());
    assert_eq!(s.device(), &dev);
    assert_eq!(fake.live_streams(), 1);
    s.synchronize().unwrap();
    drop(s);
    assert_eq!(fake.live_streams(), 0, "dropping destroys");

    let s = dev.create_stream().unwrap();
    let raw = s.into_raw();
    assert_eq!(fake.live_streams(), 1, "into_raw gives ownership away");
    // SAFETY: `raw` is a live stream of device 1, outliving the borrow.
    let borrowed = unsafe { Stream::from_raw(&dev, raw) };
    assert!(!borrowed.is_owned());
    borrowed.synchronize().unwrap();
    drop(borrowed);
    assert_eq!(fake.live_streams(), 1, "borrowed streams are not destroyed");
    // SAFETY: made by this backend for device 1, not used again.
    unsafe { fake.destroy_stream(1, raw) }.unwrap();

    let default = dev.default_stream();
    assert!(default.is_default() && !default.is_owned());
    default.synchronize().unwrap();
    default.destroy().unwrap();
    assert_eq!(fake.live_streams(), 0);
}

#[test]
fn the_current_stream_is_borrowed_from_the_environment() {
    let fake = Fake::new(1);
    let dev = GpuDevice::with_backend(fake, 0).unwrap();
    let s = dev.create_stream().unwrap();
    let _guard = StreamGuard::new(&s).unwrap();
    assert_eq!(env::current_stream(Device::new(DeviceType::EXT_DEV, 0)), s.as_raw());
    // SAFETY: the guard keeps `s` current and alive.
    let current = unsafe { Stream::current(&dev) };
    assert_eq!(current.as_raw(), s.as_raw());
    assert!(!current.is_owned());
    drop(current);
    assert_eq!(fake.live_streams(), 1, "only its owner destroys it");
}

#[test]
fn stream_failures_are_errors() {
    let fake = Fake::new(1);
    let dev = GpuDevice::with_backend(fake, 0).unwrap();
    fake.fail("create_stream", 0);
    assert_eq!(dev.create_stream().unwrap_err().message(), "injected failure in create_stream");
    let s = dev.create_stream().unwrap();
    fake.fail("synchronize_stream", 0);
    assert_eq!(s.synchronize().unwrap_err().message(), "injected failure in synchronize_stream");
    fake.fail("destroy_stream", 0);
    assert_eq!(s.destroy().unwrap_err().message(), "injected failure in destroy_stream");
    assert_eq!(fake.live_streams(), 0);
}

#[test]
fn the_cpu_backend_checks_stream_handles() {
    let cpu = cpu();
    let s = cpu.create_stream().unwrap();
    s.synchronize().unwrap();
    assert!(Cpu::get().live_streams() >= 1);
    let raw = s.into_raw();
    // SAFETY: made for device 0 and not used again.
    unsafe { Cpu::get().destroy_stream(0, raw) }.unwrap();
    // The handle is gone now: the CPU backend says so instead of touching freed memory.
    // SAFETY: the backend checks the handle before using it.
    let stale = unsafe { Stream::from_raw(&cpu, raw) };
    let err = stale.synchronize().unwrap_err();
    assert_eq!(err.kind(), "ValueError");
    assert!(err.message().ends_with("is not a live CPU stream"), "{err}");
    // SAFETY: as above.
    let err = unsafe { Cpu::get().destroy_stream(0, raw) }.unwrap_err();
    assert!(err.message().starts_with("cannot destroy"), "{err}");
}

#[test]
fn streams_move_between_threads() {
    let cpu = cpu();
    let s = cpu.create_stream().unwrap();
    let raw = s.as_raw();
    let s = std::thread::spawn(move || {
        s.synchronize().unwrap();
        s
    })
    .join()
    .unwrap();
    assert_eq!(s.as_raw(), raw);
}
