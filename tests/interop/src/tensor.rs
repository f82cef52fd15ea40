//! Tensors across the boundary: tensors our code builds, read and exported by the reference's
//! C++ `tvm::ffi::Tensor`, and tensors C++ builds (`FromNDAlloc`, `FromDLPack`, its views),
//! read and exported back by ours. `cpp/tensor.cc` is the other half.
//!
//! Objects go out as owned `TVMFFIObject*` (null on error) and come in borrowed unless a
//! function says it takes them.

use core::ffi::{c_char, c_void};

use tvmffi_alloc::tensor::{Tensor, TensorError, TensorObj};
use tvmffi_core::sys::{DLDataType, DLManagedTensor, DLManagedTensorVersioned, TVMFFIObject};
use tvmffi_core::{Object, ObjectRef};

fn give(t: Result<Tensor, TensorError>) -> *mut c_void {
    match t {
        Ok(t) => t.into_object().into_raw().cast(),
        Err(_) => core::ptr::null_mut(),
    }
}

/// A new strong reference to the tensor object `obj`, checked; `None` for null or malformed.
///
/// # Safety
///
/// `obj` is null or a live tensor object.
unsafe fn borrow(obj: *mut c_void) -> Option<Tensor> {
    // SAFETY: a live tensor object (caller); the result takes its own reference.
    let obj = unsafe { ObjectRef::<Object<TensorObj>>::from_raw_borrowed(obj.cast()) }?;
    Tensor::from_object(obj).ok()
}

/// Copy `msg` into `buf` (`cap` bytes) NUL-terminated, cut to fit.
///
/// # Safety
///
/// `buf` is null or writable for `cap` bytes.
unsafe fn write_message(msg: &str, buf: *mut c_char, cap: usize) {
    if buf.is_null() || cap == 0 {
        return;
    }
    let n = msg.len().min(cap - 1);
    // SAFETY: `n + 1 <= cap` bytes are written into the caller's buffer.
    unsafe {
        core::ptr::copy_nonoverlapping(msg.as_ptr(), buf.cast::<u8>(), n);
        buf.add(n).write(0);
    }
}

/// A new f32 CPU tensor of `shape` holding 0, 1, 2, ... (owned; null on error).
///
/// # Safety
///
/// `shape` is readable for `ndim` values (or `ndim` is 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_tensor_iota_f32(shape: *const i64, ndim: usize) -> *mut c_void {
    let shape = if ndim == 0 {
        &[][..]
    } else {
        // SAFETY: readable for `ndim` values (caller).
        unsafe { core::slice::from_raw_parts(shape, ndim) }
    };
    let n = shape.iter().product::<i64>().max(0);
    let values: Vec<f32> = (0..n).map(|i| i as f32).collect();
    give(Tensor::from_slice(shape, &values))
}

/// The transposed view of a 2-D tensor (owned; it keeps `obj` alive).
///
/// # Safety
///
/// `obj` is a live tensor object.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_tensor_transpose(obj: *mut c_void) -> *mut c_void {
    // SAFETY: a live tensor object (caller).
    let Some(t) = (unsafe { borrow(obj) }) else { return core::ptr::null_mut() };
    let (shape, strides) = (t.shape(), t.strides());
    if shape.len() != 2 {
        return core::ptr::null_mut();
    }
    give(t.as_strided(&[shape[1], shape[0]], &[strides[1], strides[0]], 0))
}

/// Describe a tensor: shape and strides into `shape`/`strides` (room for `cap` each), its
/// dtype, and the sum of its elements read through its strides as `float32`. Returns
/// `ndim`, or -1 when the object is not a valid tensor, its dtype is not `float32`, its
/// data is not on the host, or `cap` is too small.
///
/// # Safety
///
/// `obj` is a live tensor object; the out pointers are writable (`shape`/`strides` for
/// `cap` values).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_tensor_describe(
    obj: *mut c_void,
    shape: *mut i64,
    strides: *mut i64,
    cap: usize,
    dtype: *mut DLDataType,
    sum: *mut f64,
) -> i32 {
    // SAFETY: a live tensor object (caller).
    let Some(t) = (unsafe { borrow(obj) }) else { return -1 };
    let ndim = t.ndim();
    if ndim > cap
        || t.dtype() != tvmffi_core::DataType::F32
        || t.device() != tvmffi_core::Device::CPU
    {
        return -1;
    }
    let st = t.strides();
    // SAFETY: `cap >= ndim` values are writable (caller).
    unsafe {
        core::ptr::copy_nonoverlapping(t.shape().as_ptr(), shape, ndim);
        core::ptr::copy_nonoverlapping(st.as_ptr(), strides, ndim);
        dtype.write(t.dtype().as_raw());
    }
    // Walk every index in row-major order, reading through the strides.
    let base = t.data_ptr().cast::<u8>().wrapping_add(t.byte_offset() as usize).cast::<f32>();
    let mut total = 0.0f64;
    let mut index = vec![0i64; ndim];
    for _ in 0..t.numel() {
        let off: i64 = index.iter().zip(st.iter()).map(|(i, s)| i * s).sum();
        // SAFETY: a checked host tensor of f32 addresses this element, alive while `t` is.
        total += f64::from(unsafe { base.offset(off as isize).read() });
        for axis in (0..ndim).rev() {
            index[axis] += 1;
            if index[axis] < t.shape()[axis] {
                break;
            }
            index[axis] = 0;
        }
    }
    // SAFETY: writable (caller).
    unsafe { sum.write(total) };
    ndim as i32
}

/// A new pre-1.0 managed tensor sharing `obj`'s data; null when `obj` is not a valid tensor.
///
/// # Safety
///
/// `obj` is a live tensor object.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_tensor_to_dlpack(obj: *mut c_void) -> *mut DLManagedTensor {
    // SAFETY: a live tensor object (caller).
    unsafe { borrow(obj) }.map_or(core::ptr::null_mut(), |t| t.to_dlpack())
}

/// A new DLPack 1.x managed tensor sharing `obj`'s data; null when `obj` is not valid.
///
/// # Safety
///
/// `obj` is a live tensor object.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_tensor_to_dlpack_versioned(
    obj: *mut c_void,
) -> *mut DLManagedTensorVersioned {
    // SAFETY: a live tensor object (caller).
    unsafe { borrow(obj) }.map_or(core::ptr::null_mut(), |t| t.to_dlpack_versioned())
}

/// Take over a managed tensor: the new tensor object (owned), or null with the error's
/// message in `msg` (then `managed` is still the caller's).
///
/// # Safety
///
/// As [`Tensor::from_dlpack`]; `msg` is null or writable for `cap` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_tensor_from_dlpack(
    managed: *mut DLManagedTensor,
    require_alignment: usize,
    require_contiguous: bool,
    msg: *mut c_char,
    cap: usize,
) -> *mut c_void {
    // SAFETY: forwarded from the caller.
    let r = unsafe { Tensor::from_dlpack(managed, require_alignment, require_contiguous) };
    if let Err(e) = &r {
        // SAFETY: `msg` as the caller promised.
        unsafe { write_message(&e.to_string(), msg, cap) };
    }
    give(r)
}

/// As [`rs_tensor_from_dlpack`], for a DLPack 1.x managed tensor.
///
/// # Safety
///
/// As [`Tensor::from_dlpack_versioned`]; `msg` is null or writable for `cap` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_tensor_from_dlpack_versioned(
    managed: *mut DLManagedTensorVersioned,
    require_alignment: usize,
    require_contiguous: bool,
    msg: *mut c_char,
    cap: usize,
) -> *mut c_void {
    // SAFETY: forwarded from the caller.
    let r =
        unsafe { Tensor::from_dlpack_versioned(managed, require_alignment, require_contiguous) };
    if let Err(e) = &r {
        // SAFETY: `msg` as the caller promised.
        unsafe { write_message(&e.to_string(), msg, cap) };
    }
    give(r)
}

/// The data pointer (without byte offset) of a tensor, or null when not a valid tensor.
///
/// # Safety
///
/// `obj` is a live tensor object.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_tensor_data_ptr(obj: *mut c_void) -> *mut c_void {
    // SAFETY: a live tensor object (caller).
    unsafe { borrow(obj) }.map_or(core::ptr::null_mut(), |t| t.data_ptr())
}

/// Whether the object passes our checks as a tensor.
///
/// # Safety
///
/// `obj` is a live tensor object.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rs_tensor_is_valid(obj: *mut TVMFFIObject) -> bool {
    // SAFETY: a live tensor object (caller).
    unsafe { borrow(obj.cast()) }.is_some()
}

/// A new reference to a function `(TensorView) -> [sum of its f32 elements, whether it is a
/// tensor object]`: how a Rust kernel reads the `TensorView` C++ passes (a `DLTensor*`) or
/// a tensor object, borrowed.
#[unsafe(no_mangle)]
pub extern "C" fn rs_tensor_view_sum() -> *mut c_void {
    use tvmffi_alloc::{Array, Function, tensor::TensorView};
    use tvmffi_core::{Any, AnyView};
    let f = Function::from_packed(|args: &[AnyView<'_>]| {
        let view: TensorView<'_> = args.first().copied().unwrap_or_default().get()?;
        let sum: f32 = view.as_slice::<f32>()?.iter().sum();
        let is_object = view.to_tensor().is_some();
        Ok(Any::from(Array::from_iter([Any::from(f64::from(sum)), Any::from(is_object)])))
    });
    f.into_object().into_raw().cast()
}
