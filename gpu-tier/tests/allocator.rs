//! The DLPack tensor allocator: this crate's `dlpack_allocator`, installed on a thread with
//! `TVMFFIEnvSetDLPackManagedTensorAllocator`, and tensors from `TVMFFIEnvTensorAlloc`.
//! (The process-wide allocator is tested alone, in `process_allocator.rs`.)

use core::cell::RefCell;
use core::ffi::{CStr, c_char, c_void};

use tvmffi_core::sys::{
    DLManagedTensorVersioned, DLPACK_MAJOR_VERSION, DLPACK_MINOR_VERSION,
    DLPackManagedTensorAllocator, DLTensor,
};
use tvmffi_core::{DataType, DataTypeCode, Device, DeviceType};
use tvmffi_gpu::{AllocatorGuard, Error, GpuDevice, dlpack_allocator, env};

fn is_ours(allocator: DLPackManagedTensorAllocator) -> bool {
    allocator.map(|f| f as usize) == Some(dlpack_allocator as *const () as usize)
}

#[test]
fn without_an_allocator_env_alloc_is_the_reference_error() {
    assert!(env::current_allocator().is_none());
    let err = env::tensor_alloc(&[4], DataType::F32, Device::CPU).unwrap_err();
    assert_eq!(err.kind(), "RuntimeError");
    assert_eq!(
        err.message(),
        "TVMFFIEnvTensorAlloc: allocator is nullptr, likely because \
         TVMFFIEnvSetDLPackManagedTensorAllocator has not been called."
    );
}

#[test]
fn the_guard_installs_ours_on_this_thread_only_and_restores() {
    {
        let guard = AllocatorGuard::install().unwrap();
        assert!(guard.previous().is_none());
        assert!(is_ours(env::current_allocator()));
        std::thread::spawn(|| assert!(env::current_allocator().is_none(), "per thread"))
            .join()
            .unwrap();
        let inner = AllocatorGuard::install().unwrap();
        assert!(is_ours(inner.previous()));
        inner.restore().unwrap();
        assert!(is_ours(env::current_allocator()));
    }
    assert!(env::current_allocator().is_none());
}

#[test]
fn env_alloc_makes_compact_zeroed_cpu_tensors() {
    let _guard = AllocatorGuard::install().unwrap();
    let t = env::tensor_alloc(&[2, 3], DataType::F32, Device::CPU).unwrap();
    assert_eq!((t.shape(), &*t.strides()), (&[2i64, 3][..], &[3i64, 1][..]));
    assert_eq!((t.dtype(), t.device(), t.byte_offset()), (DataType::F32, Device::CPU, 0));
    assert!(t.is_contiguous() && t.is_aligned(64));
    assert_eq!(t.as_slice::<f32>().unwrap(), &[0.0; 6]);

    let scalar = env::tensor_alloc(&[], DataType::I64, Device::CPU).unwrap();
    assert_eq!((scalar.ndim(), scalar.numel()), (0, 1));
    assert_eq!(scalar.as_slice::<i64>().unwrap(), &[0]);

    let empty = env::tensor_alloc(&[0, 5], DataType::F32, Device::CPU).unwrap();
    assert_eq!((empty.numel(), empty.data_ptr()), (0, core::ptr::null_mut()));
    assert_eq!(empty.as_slice::<f32>().unwrap(), &[] as &[f32]);

    // Sub-byte types are packed and rounded up, as `GetDataSize` counts them.
    let nibbles = DataType::new(DataTypeCode::INT, 4, 1);
    assert_eq!(env::tensor_alloc(&[3], nibbles, Device::CPU).unwrap().data_size(), 2);
}

/// The error of an env allocation of `shape` on `device` with ours installed.
fn alloc_error(shape: &[i64], dtype: DataType, device: Device) -> Error {
    let _guard = AllocatorGuard::install().unwrap();
    env::tensor_alloc(shape, dtype, device).unwrap_err()
}

#[test]
fn allocator_errors_pass_through_env_alloc() {
    let err = alloc_error(&[4], DataType::F32, Device::new(DeviceType::VULKAN, 0));
    assert_eq!(err.kind(), "NotImplementedError");
    assert!(err.message().starts_with("no backend for device type 7 (VULKAN)"), "{err}");

    let err = alloc_error(&[4], DataType::F32, Device::new(DeviceType::CPU, 3));
    assert_eq!(err.kind(), "ValueError");
    assert_eq!(err.message(), "CPU device 3 does not exist: there is 1 device");

    let err = alloc_error(&[2, -2], DataType::F32, Device::CPU);
    assert_eq!(
        (err.kind().as_ref(), err.message().as_ref()),
        ("ValueError", "Tensor shape[1] = -2 is negative")
    );

    let err = alloc_error(&[i64::MAX, 2], DataType::F32, Device::CPU);
    assert_eq!(err.kind(), "OverflowError");
    let err = alloc_error(&[0, i64::MAX, 4], DataType::F32, Device::CPU);
    assert_eq!(err.kind(), "OverflowError", "strides must fit even without elements");

    let err = alloc_error(&[2], DataType::F32.with_lanes(0), Device::CPU);
    assert_eq!(err.message(), "cannot allocate tensors of data type code 2 bits 32 lanes 0");
    let err = alloc_error(&[2], DataType::new(DataTypeCode(77), 8, 1), Device::CPU);
    assert_eq!(err.kind(), "ValueError");

    let err = alloc_error(&vec![1; 1025], DataType::F32, Device::CPU);
    assert_eq!(err.kind(), "ValueError");

    // Without its feature, or without the driver, CUDA and ROCm are errors that say so.
    for t in [DeviceType::CUDA, DeviceType::CUDA_HOST, DeviceType::ROCM, DeviceType::ROCM_HOST] {
        if GpuDevice::count(t).is_ok() {
            continue; // a driver is here: allocation is tested in gpu_*.rs
        }
        let err = alloc_error(&[4], DataType::F32, Device::new(t, 0));
        let name = if t.0 < DeviceType::ROCM.0 { "CUDA" } else { "ROCm" };
        assert!(err.message().starts_with(name), "{err}");
    }
}

thread_local! {
    static REPORTED: RefCell<Vec<(String, String)>> = const { RefCell::new(Vec::new()) };
}

unsafe extern "C" fn record_error(ctx: *mut c_void, kind: *const c_char, message: *const c_char) {
    assert_eq!(ctx.addr(), 0x5EED, "the error context is passed through");
    // SAFETY: C strings valid for the call.
    let text = |p| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
    REPORTED.with(|r| r.borrow_mut().push((text(kind), text(message))));
}

fn call(prototype: *mut DLTensor, out: *mut *mut DLManagedTensorVersioned) -> i32 {
    let ctx = core::ptr::without_provenance_mut(0x5EED);
    // SAFETY: the arguments are null or valid, as each test sets them up.
    unsafe { dlpack_allocator(prototype, out, ctx, Some(record_error)) }
}

fn prototype(shape: &mut [i64], device: Device) -> DLTensor {
    DLTensor {
        data: core::ptr::null_mut(),
        device: device.as_raw(),
        ndim: shape.len() as i32,
        dtype: DataType::F32.as_raw(),
        shape: shape.as_mut_ptr(),
        strides: core::ptr::null_mut(),
        byte_offset: 0,
    }
}

#[test]
fn the_allocator_follows_the_dlpack_contract() {
    let mut shape = [3i64, 4];
    let mut proto = prototype(&mut shape, Device::CPU);
    // Fields the contract says are ignored.
    proto.data = core::ptr::without_provenance_mut(8);
    proto.byte_offset = 16;
    let mut out = core::ptr::null_mut();
    assert_eq!(call(&mut proto, &mut out), 0);
    REPORTED.with(|r| assert!(r.borrow().is_empty(), "no error on success"));
    // SAFETY: a managed tensor we own.
    unsafe {
        let m = &*out;
        assert_eq!(
            (m.version.major, m.version.minor),
            (DLPACK_MAJOR_VERSION, DLPACK_MINOR_VERSION)
        );
        assert_eq!(m.flags, 0);
        assert_eq!(m.manager_ctx, out.cast(), "the context is the allocation");
        let dl = &m.dl_tensor;
        assert_eq!((dl.ndim, dl.byte_offset, Device::from_raw(dl.device)), (2, 0, Device::CPU));
        assert_eq!(core::slice::from_raw_parts(dl.shape, 2), &[3, 4]);
        assert_eq!(core::slice::from_raw_parts(dl.strides, 2), &[4, 1]);
        assert!(dl.data.addr() % 64 == 0 && dl.data != proto.data);
        assert_eq!(core::slice::from_raw_parts(dl.data.cast::<f32>(), 12), &[0.0; 12]);
        m.deleter.unwrap()(out);
    }
}

#[test]
fn allocator_failures_call_set_error_once() {
    let mut shape = [2i64];
    let mut out = core::ptr::null_mut();
    assert_eq!(call(core::ptr::null_mut(), &mut out), -1);
    let mut proto = prototype(&mut shape, Device::new(DeviceType::OPENCL, 0));
    assert_eq!(call(&mut proto, &mut out), -1);
    assert!(out.is_null(), "nothing is written on failure");
    let mut proto = prototype(&mut shape, Device::CPU);
    assert_eq!(call(&mut proto, core::ptr::null_mut()), -1);
    proto.ndim = 1;
    proto.shape = core::ptr::null_mut();
    assert_eq!(call(&mut proto, &mut out), -1);
    proto.ndim = -1;
    assert_eq!(call(&mut proto, &mut out), -1);
    let reported = REPORTED.with(|r| r.take());
    let expected: Vec<(&str, &str)> = vec![
        ("ValueError", "DLPackManagedTensorAllocator: prototype is null"),
        ("NotImplementedError", ""),
        ("ValueError", "DLPackManagedTensorAllocator: out is null"),
        ("ValueError", "DLPackManagedTensorAllocator: shape is null but ndim is 1"),
        ("ValueError", "DLPackManagedTensorAllocator: invalid ndim -1"),
    ];
    assert_eq!(reported.len(), expected.len(), "{reported:?}");
    for ((kind, message), (want_kind, want_message)) in reported.iter().zip(expected) {
        assert_eq!(kind, want_kind);
        assert!(message.starts_with(want_message), "{message}");
    }
}

#[test]
fn without_set_error_the_error_is_raised_in_the_runtime() {
    let mut shape = [-1i64];
    let mut proto = prototype(&mut shape, Device::CPU);
    let mut out = core::ptr::null_mut();
    // SAFETY: valid arguments; no `set_error`.
    let code = unsafe { dlpack_allocator(&mut proto, &mut out, core::ptr::null_mut(), None) };
    assert_eq!(code, -1);
    let err = Error::take_raised().expect("raised");
    assert_eq!(err.message(), "Tensor shape[0] = -1 is negative");
}

#[test]
fn tensors_outlive_their_allocator_guard() {
    let t = {
        let _guard = AllocatorGuard::install().unwrap();
        env::tensor_alloc(&[8], DataType::U8, Device::CPU).unwrap()
    };
    assert!(env::current_allocator().is_none());
    assert_eq!(t.as_slice::<u8>().unwrap(), &[0; 8], "the deleter belongs to the tensor");
}
