//! The DLPack exchange API against a framework written here: its "Python objects" are boxed
//! `Tensor`s, its streams are the fake backend's, and it counts what it is asked.

mod common;

use core::cell::Cell;
use core::ffi::{c_int, c_void};

use common::fake::Fake;
use tvmffi_alloc::Tensor;
use tvmffi_core::sys::{
    DLDeviceType, DLManagedTensorVersioned, DLPackExchangeAPI, DLPackExchangeAPIHeader,
    DLPackVersion, DLTensor,
};
use tvmffi_core::{DataType, Device, DeviceType};
use tvmffi_gpu::exchange::current_work_stream;
use tvmffi_gpu::{ExchangeApi, GpuDevice, dlpack_allocator, env};

thread_local! {
    // Per thread, as each test runs on its own: the framework is called on the caller's.
    /// The framework's current stream on every device but the CPU.
    static FRAMEWORK_STREAM: Cell<*mut c_void> = const { Cell::new(core::ptr::null_mut()) };
    static STREAM_QUERIES: Cell<usize> = const { Cell::new(0) };
    /// Deleter calls of managed tensors the framework made with `bad_from_py`.
    static BAD_DELETES: Cell<usize> = const { Cell::new(0) };
}

unsafe extern "C" fn from_py(
    object: *mut c_void,
    out: *mut *mut DLManagedTensorVersioned,
) -> c_int {
    // SAFETY: the framework's objects are boxed tensors; `out` is writable.
    unsafe { out.write((*object.cast::<Tensor>()).to_dlpack_versioned()) };
    0
}

unsafe extern "C" fn to_py(managed: *mut DLManagedTensorVersioned, out: *mut *mut c_void) -> c_int {
    // SAFETY: a managed tensor handed over to us.
    match unsafe { Tensor::from_dlpack_versioned(managed, 0, false) } {
        Ok(t) => {
            // SAFETY: writable.
            unsafe { out.write(Box::into_raw(Box::new(t)).cast()) };
            0
        }
        Err(_) => -1,
    }
}

unsafe extern "C" fn dltensor_from_py(object: *mut c_void, out: *mut DLTensor) -> c_int {
    // SAFETY: a boxed tensor; `out` is writable.
    unsafe { out.write(*(*object.cast::<Tensor>()).as_dltensor()) };
    0
}

unsafe extern "C" fn stream_of(_: DLDeviceType, _: i32, out: *mut *mut c_void) -> c_int {
    STREAM_QUERIES.set(STREAM_QUERIES.get() + 1);
    // SAFETY: writable.
    unsafe { out.write(FRAMEWORK_STREAM.get()) };
    0
}

unsafe extern "C" fn fails_from_py(_: *mut c_void, _: *mut *mut DLManagedTensorVersioned) -> c_int {
    -1
}

unsafe extern "C" fn fails_to_py(_: *mut DLManagedTensorVersioned, _: *mut *mut c_void) -> c_int {
    -1
}

unsafe extern "C" fn fails_stream(_: DLDeviceType, _: i32, _: *mut *mut c_void) -> c_int {
    -1
}

unsafe extern "C" fn count_delete(managed: *mut DLManagedTensorVersioned) {
    BAD_DELETES.set(BAD_DELETES.get() + 1);
    // SAFETY: boxed by `bad_from_py`.
    drop(unsafe { Box::from_raw(managed) });
}

/// A managed tensor our checks refuse (a negative extent).
unsafe extern "C" fn bad_from_py(_: *mut c_void, out: *mut *mut DLManagedTensorVersioned) -> c_int {
    static SHAPE: [i64; 1] = [-1];
    let managed = Box::new(DLManagedTensorVersioned {
        version: DLPackVersion { major: 1, minor: 3 },
        manager_ctx: core::ptr::null_mut(),
        deleter: Some(count_delete),
        flags: 0,
        dl_tensor: DLTensor {
            data: core::ptr::null_mut(),
            device: Device::CPU.as_raw(),
            ndim: 1,
            dtype: DataType::F32.as_raw(),
            shape: SHAPE.as_ptr().cast_mut(),
            strides: core::ptr::null_mut(),
            byte_offset: 0,
        },
    });
    // SAFETY: writable.
    unsafe { out.write(Box::into_raw(managed)) };
    0
}

fn table(version: (u32, u32), prev: *mut DLPackExchangeAPIHeader) -> DLPackExchangeAPI {
    DLPackExchangeAPI {
        header: DLPackExchangeAPIHeader {
            version: DLPackVersion { major: version.0, minor: version.1 },
            prev_api: prev,
        },
        managed_tensor_allocator: Some(dlpack_allocator),
        managed_tensor_from_py_object_no_sync: Some(from_py),
        managed_tensor_to_py_object_no_sync: Some(to_py),
        dltensor_from_py_object_no_sync: Some(dltensor_from_py),
        current_work_stream: Some(stream_of),
    }
}

/// A table that lives for the rest of the process, as `dlpack.h` requires.
fn leak(api: DLPackExchangeAPI) -> *const DLPackExchangeAPI {
    Box::leak(Box::new(api))
}

fn framework() -> ExchangeApi {
    // SAFETY: a leaked table of functions that meet their contracts.
    unsafe { ExchangeApi::from_raw(leak(table((1, 3), core::ptr::null_mut()))) }.unwrap()
}

fn object(t: Tensor) -> *mut c_void {
    Box::into_raw(Box::new(t)).cast()
}

/// Take a framework object back.
fn unbox(object: *mut c_void) -> Tensor {
    // SAFETY: made by `object` or `to_py`.
    *unsafe { Box::from_raw(object.cast::<Tensor>()) }
}

#[test]
fn the_table_is_found_by_major_version_along_the_chain() {
    let api = framework();
    assert_eq!(api.version(), DLPackVersion { major: 1, minor: 3 });
    let v1 = leak(table((1, 2), core::ptr::null_mut()));
    let v2 = leak(table((2, 0), v1.cast_mut().cast()));
    // SAFETY: leaked tables.
    let api = unsafe { ExchangeApi::from_raw(v2) }.unwrap();
    assert_eq!((api.as_raw(), api.version().minor), (v1, 2));

    let only_v2 = leak(table((2, 1), core::ptr::null_mut()));
    // SAFETY: as above.
    let err = unsafe { ExchangeApi::from_raw(only_v2) }.unwrap_err();
    assert_eq!(
        err.message(),
        "the DLPack exchange API (version 2.1) offers no table of major version 1"
    );
    // SAFETY: null is allowed.
    let err = unsafe { ExchangeApi::from_raw(core::ptr::null()) }.unwrap_err();
    assert_eq!(err.message(), "the DLPack exchange API pointer is null");
}

#[test]
fn framework_tensors_are_shared_both_ways() {
    let api = framework();
    let t = Tensor::from_slice(&[2, 2], &[1i32, 2, 3, 4]).unwrap();
    let obj = object(t.clone());
    // SAFETY: a framework object, alive for the calls.
    let shared = unsafe { api.tensor_from_py_object(obj) }.unwrap();
    assert_eq!(shared.data_ptr(), t.data_ptr(), "no copy");
    // SAFETY: as above.
    let dl = unsafe { api.dltensor_from_py_object(obj) }.unwrap();
    assert_eq!((dl.data, dl.ndim), (t.data_ptr(), 2));
    drop(unbox(obj));
    assert_eq!(shared.as_slice::<i32>().unwrap(), &[1, 2, 3, 4], "kept alive by the import");

    // SAFETY: the framework takes CPU tensors.
    let back = unbox(unsafe { api.tensor_to_py_object(&shared) }.unwrap());
    assert_eq!(back.data_ptr(), t.data_ptr());
}

#[test]
fn producer_failures_are_errors_and_release_what_was_made() {
    let mut broken = table((1, 3), core::ptr::null_mut());
    broken.managed_tensor_from_py_object_no_sync = Some(fails_from_py);
    broken.managed_tensor_to_py_object_no_sync = Some(fails_to_py);
    broken.current_work_stream = Some(fails_stream);
    broken.dltensor_from_py_object_no_sync = None;
    // SAFETY: a leaked table.
    let api = unsafe { ExchangeApi::from_raw(leak(broken)) }.unwrap();
    let t = Tensor::from_slice(&[1], &[5u8]).unwrap();
    let obj = object(t.clone());
    // SAFETY: a framework object.
    let err = unsafe { api.tensor_from_py_object(obj) }.unwrap_err();
    assert!(err.message().contains("managed_tensor_from_py_object_no_sync failed"), "{err}");
    // SAFETY: as above.
    let err = unsafe { api.dltensor_from_py_object(obj) }.unwrap_err();
    assert_eq!(err.kind(), "NotImplementedError");
    // SAFETY: the framework takes CPU tensors.
    let err = unsafe { api.tensor_to_py_object(&t) }.unwrap_err();
    assert!(err.message().contains("managed_tensor_to_py_object_no_sync failed"), "{err}");
    drop(unbox(obj));
    assert_eq!(t.as_object().strong_count(), 1, "the failed export was released");
    let cuda = Device::new(DeviceType::CUDA, 0);
    assert!(api.current_work_stream(cuda).unwrap_err().message().contains("current_work_stream"));
    assert!(api.enter(Some(cuda)).is_err());
    assert!(env::current_stream(cuda).is_null(), "nothing set when entering failed");

    let mut bad = table((1, 3), core::ptr::null_mut());
    bad.managed_tensor_from_py_object_no_sync = Some(bad_from_py);
    // SAFETY: a leaked table.
    let api = unsafe { ExchangeApi::from_raw(leak(bad)) }.unwrap();
    // SAFETY: the object is not read by `bad_from_py`.
    let err = unsafe { api.tensor_from_py_object(core::ptr::null_mut()) }.unwrap_err();
    assert_eq!(err.message(), "Tensor shape[0] = -1 is negative");
    assert_eq!(BAD_DELETES.get(), 1, "the refused tensor was released");
}

#[test]
fn entering_sets_the_framework_stream_and_allocator_for_the_call() {
    let fake = Fake::new(1);
    let dev = GpuDevice::with_backend(fake, 0).unwrap();
    let stream = dev.create_stream().unwrap();
    FRAMEWORK_STREAM.set(stream.as_raw());
    let api = framework();
    let ext = dev.device();

    let queries = STREAM_QUERIES.get();
    let guard = api.enter(Some(ext)).unwrap();
    assert_eq!(STREAM_QUERIES.get(), queries + 1);
    assert_eq!(env::current_stream(ext), stream.as_raw());
    assert_eq!(
        env::current_allocator().map(|f| f as usize),
        Some(dlpack_allocator as *const () as usize)
    );
    // A kernel allocating its output gets it from the framework's allocator.
    let out = env::tensor_alloc(&[2], DataType::F32, Device::CPU).unwrap();
    assert_eq!(out.device(), Device::CPU);
    drop(guard);
    assert!(env::current_stream(ext).is_null());
    assert!(env::current_allocator().is_none());

    // The CPU has no streams: the producer is not asked, and no stream is set.
    let guard = api.enter(Some(Device::CPU)).unwrap();
    assert!(env::current_stream(Device::CPU).is_null());
    guard.restore().unwrap();
    assert_eq!(STREAM_QUERIES.get(), queries + 1);
    assert_eq!(api.current_work_stream(Device::CPU).unwrap(), core::ptr::null_mut());

    // A table without an allocator leaves the thread's alone.
    let mut no_alloc = table((1, 3), core::ptr::null_mut());
    no_alloc.managed_tensor_allocator = None;
    // SAFETY: a leaked table.
    let api = unsafe { ExchangeApi::from_raw(leak(no_alloc)) }.unwrap();
    let _guard = api.enter(None).unwrap();
    assert!(env::current_allocator().is_none());
}

#[test]
fn current_work_stream_reports_the_environment() {
    let cuda1 = Device::new(DeviceType::CUDA, 1);
    let token = core::ptr::without_provenance_mut(0xF00);
    // SAFETY: no work is launched on the handle.
    let _guard = unsafe { tvmffi_gpu::StreamGuard::from_raw(cuda1, token) }.unwrap();
    let mut out = core::ptr::null_mut();
    // SAFETY: a writable slot.
    assert_eq!(unsafe { current_work_stream(DeviceType::CUDA, 1, &mut out) }, 0);
    assert_eq!(out, token);
    // SAFETY: as above.
    let _cpu = unsafe { tvmffi_gpu::StreamGuard::from_raw(Device::CPU, token) }.unwrap();
    // SAFETY: as above.
    assert_eq!(unsafe { current_work_stream(DeviceType::CPU, 0, &mut out) }, 0);
    assert!(out.is_null(), "the CPU never reports a stream");
    // SAFETY: null is reported, not written.
    assert_eq!(unsafe { current_work_stream(DeviceType::CUDA, 1, core::ptr::null_mut()) }, -1);
    let err = tvmffi_gpu::Error::take_raised().unwrap();
    assert_eq!(err.message(), "DLPackCurrentWorkStream: out_current_stream is null");
}

#[test]
fn the_call_device_is_the_first_tensor_off_the_cpu() {
    use tvmffi_alloc::{Array, List};
    use tvmffi_core::AnyView;
    use tvmffi_gpu::exchange::first_non_cpu_device;

    let fake = Fake::new(3);
    let on = |id| GpuDevice::with_backend(fake, id).unwrap().empty(&[1], DataType::F32).unwrap();
    let cpu = Tensor::from_slice(&[1], &[0f32]).unwrap();
    let (t1, t2) = (on(1), on(2));
    let ext = |id| Some(Device::new(DeviceType::EXT_DEV, id));

    assert_eq!(first_non_cpu_device(&[]), None);
    assert_eq!(first_non_cpu_device(&[AnyView::from(&cpu), AnyView::from(3i64)]), None);
    assert_eq!(first_non_cpu_device(&[AnyView::from(&cpu), AnyView::from(&t2)]), ext(2));
    let nested: Array =
        [Array::from_iter([cpu.clone()]), Array::from_iter([t1.clone()])].into_iter().collect();
    assert_eq!(first_non_cpu_device(&[AnyView::from(&nested), AnyView::from(&t2)]), ext(1));
    let list: List = [cpu.clone(), t2.clone()].into_iter().collect();
    assert_eq!(first_non_cpu_device(&[AnyView::from(&list)]), ext(2));

    // The framework's stream goes to that device for the call.
    let stream = GpuDevice::with_backend(fake, 2).unwrap().create_stream().unwrap();
    FRAMEWORK_STREAM.set(stream.as_raw());
    let api = framework();
    {
        let _guard = api.enter_for(&[AnyView::from(&cpu), AnyView::from(&list)]).unwrap();
        assert_eq!(env::current_stream(Device::new(DeviceType::EXT_DEV, 2)), stream.as_raw());
    }
    assert!(env::current_stream(Device::new(DeviceType::EXT_DEV, 2)).is_null());
}
