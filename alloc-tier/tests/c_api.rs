//! The C entry points over values, tensors, the environment and the allocator registry,
//! called as C does (through `tvmffi_core::sys::api`), on the `runtime` feature's runtime.
//!
//! One global error slot: these tests run one at a time.

extern crate alloc;

use core::ffi::{c_char, c_int, c_void};
use core::ptr;
use core::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use tvmffi_alloc::error::Error;
use tvmffi_alloc::function::Function;
use tvmffi_alloc::tensor::Tensor;
use tvmffi_alloc::{BigInt, Bytes};
use tvmffi_core::sys::{
    DLDataType, DLManagedTensor, DLManagedTensorVersioned, DLTensor, TVMFFIAny, TVMFFIByteArray,
    TVMFFIObjectHandle, api,
};
use tvmffi_core::{
    Any, AnyView, DataType, DataTypeCode, Device, ObjectHeader, ObjectRef, TypeIndex,
};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    drop(Error::take_raised());
    guard
}

fn ba(s: &[u8]) -> TVMFFIByteArray {
    TVMFFIByteArray { data: s.as_ptr().cast(), size: s.len() }
}

fn raised() -> Error {
    Error::take_raised().expect("an error was raised")
}

fn any_from(code: c_int, out: TVMFFIAny) -> Result<Any, Error> {
    // SAFETY: on success the out slot holds an owned value.
    if code == 0 { Ok(unsafe { Any::from_raw(out) }) } else { Err(raised()) }
}

fn string_from(bytes: &[u8]) -> Result<Any, Error> {
    let mut out = TVMFFIAny::NONE;
    // SAFETY: a valid array and out slot.
    any_from(unsafe { api::TVMFFIStringFromByteArray(&ba(bytes), &mut out) }, out)
}

#[test]
fn strings_and_bytes_are_inline_up_to_seven_bytes() {
    let _s = serial();
    let short = string_from(b"tvm").unwrap();
    assert_eq!(short.type_index(), TypeIndex::SMALL_STR);
    assert_eq!(short.as_str().unwrap(), "tvm");
    let long = string_from(b"longer than seven").unwrap();
    assert_eq!(long.type_index(), TypeIndex::STR);
    assert_eq!(long.as_str().unwrap(), "longer than seven");
    // Not checked, as in the reference: the bytes are copied as they are.
    assert_eq!(string_from(b"\xff\xfe").unwrap().type_index(), TypeIndex::SMALL_STR);
    // Every length around the inline limit keeps its content, and a NUL after it.
    for n in 0..=8 {
        let text = &"abcdefgh"[..n];
        let s = string_from(text.as_bytes()).unwrap();
        assert_eq!(s.as_str().unwrap(), text);
        if n <= 7 {
            // SAFETY: a small string's value bytes and length are plain data.
            let (len, bytes) =
                unsafe { (s.as_raw().padding.small_str_len, s.as_raw().value.v_bytes) };
            assert_eq!((len as usize, &bytes[..n], bytes[n]), (n, text.as_bytes(), 0));
        }
    }

    let mut out = TVMFFIAny::NONE;
    // SAFETY: a valid array and out slot.
    let code = unsafe { api::TVMFFIBytesFromByteArray(&ba(b"\x00bytes\x00\x01"), &mut out) };
    let bytes: Bytes = any_from(code, out).unwrap().get().unwrap();
    assert_eq!(bytes.as_bytes(), b"\x00bytes\x00\x01");

    // SAFETY: null arguments are checked.
    assert_eq!(unsafe { api::TVMFFIStringFromByteArray(ptr::null(), &mut out) }, -1);
    assert!(raised().message().contains("`input` is null"));
    // SAFETY: as above.
    assert_eq!(unsafe { api::TVMFFIBytesFromByteArray(&ba(b"x"), ptr::null_mut()) }, -1);
    assert_eq!(raised().kind(), "ValueError");
    let bad = TVMFFIByteArray { data: ptr::null(), size: 3 };
    // SAFETY: a null pointer with a length is checked.
    assert_eq!(unsafe { api::TVMFFIStringFromByteArray(&bad, &mut out) }, -1);
    assert!(raised().message().contains("null pointer"));
}

#[test]
fn big_integers_from_words_and_back() {
    let _s = serial();
    let words = |ws: &[i64]| ws.iter().flat_map(|w| w.to_ne_bytes()).collect::<Vec<u8>>();
    let from = |bytes: &[u8]| {
        let mut out = TVMFFIAny::NONE;
        // SAFETY: a valid array and out slot.
        any_from(unsafe { api::TVMFFIBigIntFromByteArray(&ba(bytes), &mut out) }, out)
    };
    // Fits one word (even with redundant sign words): an `int`.
    let small = from(&words(&[-5, -1])).unwrap();
    assert_eq!(small.type_index(), TypeIndex::INT);
    assert_eq!(small.get::<i64>().unwrap(), -5);
    assert_eq!(from(&[]).unwrap().get::<i64>().unwrap(), 0);
    // Two words: a big-integer object whose content reads back.
    let big = from(&words(&[1, 1])).unwrap();
    assert_eq!(big.type_index(), TypeIndex::BIG_INT);
    assert_eq!(big.get::<BigInt>().unwrap().to_i128(), Some((1i128 << 64) + 1));
    // SAFETY: a valid value that outlives the view.
    let content = unsafe { api::TVMFFIBigIntGetContentByteArray(big.as_raw()) };
    // SAFETY: `size` bytes inside the object.
    let bytes = unsafe { core::slice::from_raw_parts(content.data.cast::<u8>(), content.size) };
    assert_eq!(bytes, words(&[1, 1]));
    // An `int` lends its own word.
    let int = AnyView::from(42i64);
    // SAFETY: as above.
    let content = unsafe { api::TVMFFIBigIntGetContentByteArray(int.as_raw()) };
    assert_eq!(
        (content.size, content.data.cast::<u8>()),
        (8, ptr::from_ref(int.as_raw()).cast::<u8>().wrapping_add(8))
    );

    assert_eq!(from(&[1, 2, 3]).unwrap_err().kind(), "ValueError");
    // SAFETY: a float is refused with an error, not read.
    let none = unsafe { api::TVMFFIBigIntGetContentByteArray(AnyView::from(1.5).as_raw()) };
    assert_eq!(none.size, 0);
    assert_eq!(raised().kind(), "TypeError");
}

fn dtype_from(s: &str) -> Result<DataType, Error> {
    let mut out = DLDataType { code: 0, bits: 0, lanes: 0 };
    // SAFETY: a valid array and out slot.
    match unsafe { api::TVMFFIDataTypeFromString(&ba(s.as_bytes()), &mut out) } {
        0 => Ok(DataType::from_raw(out)),
        _ => Err(raised()),
    }
}

fn dtype_to(d: DataType) -> Result<String, Error> {
    let mut out = TVMFFIAny::NONE;
    // SAFETY: a valid dtype and out slot.
    let code = unsafe { api::TVMFFIDataTypeToString(&d.as_raw(), &mut out) };
    any_from(code, out).map(|a| a.as_str().unwrap().to_owned())
}

#[test]
fn data_type_strings_both_ways() {
    let _s = serial();
    assert_eq!(dtype_from("float32x4").unwrap(), DataType::F32.with_lanes(4));
    assert_eq!(dtype_from("bf16").unwrap(), DataType::BF16);
    let e = dtype_from("float32q").unwrap_err();
    assert_eq!((&*e.kind(), &*e.message()), ("ValueError", "unknown dtype `float32q`"));
    assert_eq!(dtype_to(DataType::I8.with_lanes(4)).unwrap(), "int8x4");
    assert_eq!(dtype_to(DataType::new(DataTypeCode::FLOAT8_E5M2, 8, 1)).unwrap(), "float8_e5m2");
    let e = dtype_to(DataType::new(DataTypeCode(60), 8, 1)).unwrap_err();
    assert_eq!(e.message(), "DLDataType contains unknown type_code=60");

    // Custom types go through the registry's two global functions.
    let code = Function::from_packed(|args| {
        let name: tvmffi_alloc::String = args[0].get()?;
        if name.as_str() == "posit" { Ok(Any::from(131i64)) } else { Err(Error::value_error("?")) }
    });
    let name = Function::from_packed(|args| {
        let code: i64 = args[0].get()?;
        let name = if code == 131 { "posit" } else { "?" };
        Ok(tvmffi_alloc::String::try_new(name).unwrap().into_any())
    });
    assert_eq!(
        dtype_from("custom[posit]16").unwrap_err().message(),
        "unknown custom data type `posit`"
    );
    Function::register_global("dtype.get_custom_type_code", &code, true).unwrap();
    Function::register_global("dtype.get_custom_type_name", &name, true).unwrap();
    let posit = dtype_from("custom[posit]16x2").unwrap();
    assert_eq!(posit, DataType::new(DataTypeCode(131), 16, 2));
    // The reference prints no bit width for codes past the float8 range, custom ones too.
    assert_eq!(dtype_to(posit).unwrap(), "custom[posit]x2");
}

// ---------------------------------------------------------------------------------------
// Tensors.

static DELETED: AtomicUsize = AtomicUsize::new(0);

/// What a producer's tensor owns: its data and shape, freed by its deleter.
struct Producer {
    data: [f32; 6],
    shape: [i64; 2],
}

/// A DLPack 1.x tensor over a `[f32; 6]` of shape [2, 3], freed by its deleter.
fn managed_versioned() -> *mut DLManagedTensorVersioned {
    let owned = Box::into_raw(Box::new(Producer { data: [1., 2., 3., 4., 5., 6.], shape: [2, 3] }));
    unsafe extern "C" fn deleter(m: *mut DLManagedTensorVersioned) {
        DELETED.fetch_add(1, Ordering::SeqCst);
        // SAFETY: made below with `Box::into_raw`, the context too; each freed once.
        unsafe {
            drop(Box::from_raw((*m).manager_ctx.cast::<Producer>()));
            drop(Box::from_raw(m));
        }
    }
    // SAFETY: `owned` is a fresh allocation; its fields outlive the tensor (freed with it).
    let (data, shape) = unsafe { ((*owned).data.as_mut_ptr(), (*owned).shape.as_mut_ptr()) };
    Box::into_raw(Box::new(DLManagedTensorVersioned {
        version: tvmffi_core::sys::DLPackVersion { major: 1, minor: 1 },
        manager_ctx: owned.cast(),
        deleter: Some(deleter),
        flags: 0,
        dl_tensor: DLTensor {
            data: data.cast(),
            device: Device::CPU.into(),
            ndim: 2,
            dtype: DataType::F32.as_raw(),
            shape,
            strides: ptr::null_mut(),
            byte_offset: 0,
        },
    }))
}

fn tensor_of(handle: TVMFFIObjectHandle) -> Tensor {
    // SAFETY: a fresh strong reference to a tensor object.
    let obj = unsafe { ObjectRef::<ObjectHeader>::from_raw(handle.cast()) }.unwrap();
    Any::from(obj).get::<Tensor>().unwrap()
}

#[test]
fn dlpack_round_trip_through_the_c_api() {
    let _s = serial();
    let before = DELETED.load(Ordering::SeqCst);
    let mut h = ptr::null_mut();
    // SAFETY: a valid managed tensor, taken over on success.
    let code = unsafe { api::TVMFFITensorFromDLPackVersioned(managed_versioned(), 0, 1, &mut h) };
    assert_eq!(code, 0);
    let t = tensor_of(h);
    assert_eq!(
        (t.shape(), t.as_slice::<f32>().unwrap()),
        (&[2i64, 3][..], &[1f32, 2., 3., 4., 5., 6.][..])
    );

    // Export both ways and release the exports.
    let mut legacy: *mut DLManagedTensor = ptr::null_mut();
    let mut versioned: *mut DLManagedTensorVersioned = ptr::null_mut();
    let raw = t.as_object().as_raw().cast();
    // SAFETY: a live tensor object and writable slots.
    unsafe {
        assert_eq!(api::TVMFFITensorToDLPack(raw, &mut legacy), 0);
        assert_eq!(api::TVMFFITensorToDLPackVersioned(raw, &mut versioned), 0);
        assert_eq!((*legacy).dl_tensor.data, t.data_ptr());
        assert_eq!(t.as_object().strong_count(), 3);
        ((*legacy).deleter.unwrap())(legacy);
        ((*versioned).deleter.unwrap())(versioned);
    }
    assert_eq!(t.as_object().strong_count(), 1);

    // A view of the second row.
    let shape = [3i64];
    let proto = DLTensor {
        // SAFETY: inside the tensor's data.
        data: unsafe { t.data_ptr().cast::<f32>().add(3) }.cast(),
        shape: shape.as_ptr().cast_mut(),
        strides: ptr::null_mut(),
        ndim: 1,
        ..*t.as_dltensor()
    };
    let mut v = ptr::null_mut();
    // SAFETY: the prototype describes memory the source owns.
    assert_eq!(unsafe { api::TVMFFITensorCreateUnsafeView(raw, &proto, &mut v) }, 0);
    let view = tensor_of(v);
    assert_eq!(view.as_slice::<f32>().unwrap(), &[4., 5., 6.]);
    drop((t, view));
    assert_eq!(DELETED.load(Ordering::SeqCst), before + 1, "the producer's deleter ran once");
}

#[test]
fn dlpack_rejections_keep_the_producers_tensor() {
    let _s = serial();
    let mut h = ptr::null_mut();
    let m = managed_versioned();
    // SAFETY: a valid managed tensor; on error the caller keeps it.
    unsafe {
        (*m).dl_tensor.strides = [1i64, 2].as_ptr().cast_mut(); // not row-major
        assert_eq!(api::TVMFFITensorFromDLPackVersioned(m, 0, 1, &mut h), -1);
        assert_eq!(raised().message(), "FromDLPack: Tensor is not contiguous.");
        assert_eq!(api::TVMFFITensorFromDLPackVersioned(m, -4, 0, &mut h), -1);
        assert!(raised().message().contains("negative"));
        (*m).dl_tensor.strides = ptr::null_mut();
        ((*m).deleter.unwrap())(m);
        assert_eq!(api::TVMFFITensorFromDLPack(ptr::null_mut(), 0, 0, &mut h), -1);
        assert_eq!(raised().message(), "FromDLPack: the managed tensor is null");
        // Exporting something that is not a tensor.
        let f = Function::from_packed(|_| Ok(Any::from(())));
        let mut out: *mut DLManagedTensor = ptr::null_mut();
        assert_eq!(api::TVMFFITensorToDLPack(f.as_object().as_raw().cast(), &mut out), -1);
        assert_eq!(raised().kind(), "TypeError");
    }
}

// ---------------------------------------------------------------------------------------
// The environment.

#[test]
fn streams_are_kept_per_device() {
    let _s = serial();
    let s1 = ptr::without_provenance_mut::<c_void>(0x100);
    let s2 = ptr::without_provenance_mut::<c_void>(0x200);
    let mut old = ptr::without_provenance_mut::<c_void>(1);
    // SAFETY: valid out slots.
    unsafe {
        assert!(api::TVMFFIEnvGetStream(2, 5).is_null());
        assert_eq!(api::TVMFFIEnvSetStream(2, 5, s1, &mut old), 0);
        assert!(old.is_null());
        assert_eq!(api::TVMFFIEnvSetStream(2, 5, s2, &mut old), 0);
        assert_eq!(old, s1);
        assert_eq!(api::TVMFFIEnvGetStream(2, 5), s2);
        assert!(api::TVMFFIEnvGetStream(2, 4).is_null());
        assert!(api::TVMFFIEnvGetStream(-1, 0).is_null());
        assert_eq!(api::TVMFFIEnvSetStream(2, -1, s1, ptr::null_mut()), -1);
        assert_eq!(raised().kind(), "ValueError");
        assert_eq!(api::TVMFFIEnvSetStream(2, 5, ptr::null_mut(), ptr::null_mut()), 0);
    }
}

/// Found by the `c_api` fuzz target: the stream table was indexed by device type and id,
/// so the largest ids asked for a table of gigabytes and the allocation aborted the process.
#[test]
fn streams_of_the_largest_device_ids_are_kept_without_a_table_that_size() {
    let _s = serial();
    let s1 = ptr::without_provenance_mut::<c_void>(0x300);
    let s2 = ptr::without_provenance_mut::<c_void>(0x400);
    let mut old = ptr::without_provenance_mut::<c_void>(1);
    // SAFETY: valid out slots.
    unsafe {
        assert_eq!(api::TVMFFIEnvSetStream(i32::MAX, i32::MAX, s1, &mut old), 0);
        assert!(old.is_null());
        assert_eq!(api::TVMFFIEnvSetStream(i32::MAX, 0, s2, ptr::null_mut()), 0);
        assert_eq!(api::TVMFFIEnvGetStream(i32::MAX, i32::MAX), s1);
        assert_eq!(api::TVMFFIEnvGetStream(i32::MAX, 0), s2);
        assert!(api::TVMFFIEnvGetStream(0, i32::MAX).is_null());
        assert_eq!(api::TVMFFIEnvSetStream(i32::MAX, i32::MAX, ptr::null_mut(), &mut old), 0);
        assert_eq!(old, s1);
        assert_eq!(api::TVMFFIEnvSetStream(i32::MAX, 0, ptr::null_mut(), ptr::null_mut()), 0);
    }
}

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

/// A CPU allocator for `TVMFFIEnvTensorAlloc`: compact float data of the prototype's shape.
unsafe extern "C" fn cpu_alloc(
    prototype: *mut DLTensor,
    out: *mut *mut DLManagedTensorVersioned,
    error_ctx: *mut c_void,
    set_error: Option<unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char)>,
) -> c_int {
    // SAFETY: the runtime passes a valid prototype.
    let proto = unsafe { &*prototype };
    if proto.ndim > 4 {
        // SAFETY: the runtime's error callback with static strings.
        unsafe { set_error.unwrap()(error_ctx, c"ValueError".as_ptr(), c"too many dims".as_ptr()) };
        return -1;
    }
    ALLOCATED.fetch_add(1, Ordering::SeqCst);
    let t = Tensor::empty(
        // SAFETY: `ndim` extents.
        unsafe { core::slice::from_raw_parts(proto.shape, proto.ndim as usize) },
        DataType::from_raw(proto.dtype),
        Device::CPU,
    )
    .unwrap();
    // SAFETY: writable.
    unsafe { out.write(t.to_dlpack_versioned()) };
    0
}

#[test]
fn tensor_alloc_uses_the_current_allocator() {
    let _s = serial();
    let shape = [4i64, 5];
    let mut proto = DLTensor {
        data: ptr::null_mut(),
        device: Device::CPU.into(),
        ndim: 2,
        dtype: DataType::F64.as_raw(),
        shape: shape.as_ptr().cast_mut(),
        strides: ptr::null_mut(),
        byte_offset: 0,
    };
    let mut h = ptr::null_mut();
    // SAFETY: valid arguments throughout.
    unsafe {
        let mut old = Some(cpu_alloc as _);
        assert_eq!(api::TVMFFIEnvSetDLPackManagedTensorAllocator(None, 0, &mut old), 0);
        assert_eq!(api::TVMFFIEnvTensorAlloc(&mut proto, &mut h), -1);
        assert!(raised().message().contains("allocator is nullptr"));

        assert_eq!(api::TVMFFIEnvSetDLPackManagedTensorAllocator(Some(cpu_alloc), 0, &mut old), 0);
        assert!(old.is_none());
        assert!(api::TVMFFIEnvGetDLPackManagedTensorAllocator().is_some());
        assert_eq!(api::TVMFFIEnvTensorAlloc(&mut proto, &mut h), 0);
        let t = tensor_of(h);
        assert_eq!((t.shape(), t.dtype()), (&shape[..], DataType::F64));
        assert_eq!(ALLOCATED.load(Ordering::SeqCst), 1);

        // The allocator's own error passes through with its kind.
        proto.ndim = 5;
        let shape5 = [1i64; 5];
        proto.shape = shape5.as_ptr().cast_mut();
        assert_eq!(api::TVMFFIEnvTensorAlloc(&mut proto, &mut h), -1);
        let e = raised();
        assert_eq!((&*e.kind(), &*e.message()), ("ValueError", "too many dims"));
        assert_eq!(api::TVMFFIEnvSetDLPackManagedTensorAllocator(None, 1, ptr::null_mut()), 0);
    }
}

static SIGNAL_CHECKS: AtomicUsize = AtomicUsize::new(0);
static GIL_HELD: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn check_signals() -> c_int {
    assert_eq!(GIL_HELD.load(Ordering::SeqCst), 1, "called with the GIL held");
    SIGNAL_CHECKS.fetch_add(1, Ordering::SeqCst);
    if SIGNAL_CHECKS.load(Ordering::SeqCst) > 1 { -1 } else { 0 }
}
unsafe extern "C" fn gil_ensure() -> *mut c_void {
    GIL_HELD.fetch_add(1, Ordering::SeqCst);
    ptr::without_provenance_mut(7)
}
unsafe extern "C" fn gil_release(state: *mut c_void) {
    assert_eq!(state.addr(), 7);
    GIL_HELD.fetch_sub(1, Ordering::SeqCst);
}

#[test]
fn signals_are_checked_through_the_host_with_its_lock() {
    let _s = serial();
    // SAFETY: the registered functions have the host's signatures.
    unsafe {
        assert_eq!(api::TVMFFIEnvCheckSignals(), 0, "nothing registered: nothing to check");
        assert_eq!(
            api::TVMFFIEnvRegisterCAPI(c"PyGILState_Ensure".as_ptr(), gil_ensure as *mut c_void),
            0
        );
        assert_eq!(
            api::TVMFFIEnvRegisterCAPI(c"PyGILState_Release".as_ptr(), gil_release as *mut c_void),
            0
        );
        assert_eq!(
            api::TVMFFIEnvRegisterCAPI(
                c"PyErr_CheckSignals".as_ptr(),
                check_signals as *mut c_void
            ),
            0
        );
        assert_eq!(api::TVMFFIEnvCheckSignals(), 0);
        assert_eq!(api::TVMFFIEnvCheckSignals(), -1, "a pending signal");
        assert_eq!(GIL_HELD.load(Ordering::SeqCst), 0);
        assert_eq!(api::TVMFFIEnvRegisterCAPI(c"Py_Other".as_ptr(), ptr::null_mut()), -1);
        assert_eq!(raised().message(), "Unknown env API Py_Other");
        assert_eq!(api::TVMFFIEnvRegisterCAPI(c"PyErr_CheckSignals".as_ptr(), ptr::null_mut()), 0);
    }
}

#[test]
fn the_builtin_custom_allocator_gives_aligned_bodies_with_an_alloc_header() {
    let _s = serial();
    // SAFETY: the registry's allocator follows the header's contract.
    unsafe {
        let a = &*api::TVMFFIGetCustomAllocator();
        for align in [8usize, 16, 64] {
            let body = a.allocate.unwrap()(40, align, 128, a.context);
            assert!(!body.is_null());
            assert_eq!(body.addr() % align, 0);
            body.cast::<u8>().write_bytes(0xab, 40);
            let header = body.cast::<tvmffi_core::sys::TVMFFIObjectAllocHeader>().sub(1);
            (*header).delete_space.unwrap()(body);
        }
        assert!(a.allocate.unwrap()(8, 3, 128, a.context).is_null(), "alignment 3 is refused");
        assert_eq!(raised().kind(), "ValueError");
        // Registering and restoring.
        let mut mine =
            tvmffi_core::sys::TVMFFICustomAllocator { allocate: None, context: ptr::null_mut() };
        assert_eq!(api::TVMFFISetCustomAllocator(&mut mine), 0);
        assert_eq!(api::TVMFFIGetCustomAllocator(), &raw mut mine);
        assert_eq!(api::TVMFFISetCustomAllocator(ptr::null_mut()), 0);
        assert!(api::TVMFFIGetCustomAllocator() != &raw mut mine);
    }
}
