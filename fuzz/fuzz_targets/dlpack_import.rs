//! DLPack import of malformed tensors: null data with elements, negative or overflowing
//! extents and strides, `ndim` out of range, null `shape`, unknown dtype codes, zero bits or
//! lanes, huge byte offsets, zero-sized tensors, unknown DLPack versions and flags, through
//! `Tensor::from_dlpack[_versioned]` and the C API's `TVMFFITensorFromDLPack[Versioned]`.
//!
//! Whatever the metadata, import either refuses it (leaving the deleter to the caller) or
//! takes the tensor over and calls the deleter exactly once, when the last reference goes.
//! An accepted tensor that addresses only the harness's buffer is then read, viewed,
//! re-exported and re-imported.

#![no_main]

use core::cell::Cell;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tvmffi_alloc::Tensor;
use tvmffi_alloc::tensor::MAX_NDIM;
use tvmffi_core::sys::api::{TVMFFITensorFromDLPack, TVMFFITensorFromDLPackVersioned};
use tvmffi_core::sys::{
    DLDataType, DLDevice, DLManagedTensor, DLManagedTensorVersioned, DLPackVersion, DLTensor,
    TVMFFIObjectHandle,
};
use tvmffi_core::{DeviceType, ObjectRef};
use tvmffi_fuzz::check_rc;

const BUF: usize = 4096;

#[derive(Arbitrary, Debug)]
struct Input {
    ndim: i32,
    /// Values that fill `shape` and `strides` (cycled to `ndim` entries).
    shape: Vec<i64>,
    strides: Option<Vec<i64>>,
    null_shape: bool,
    null_data: bool,
    data_offset: u8,
    byte_offset: u64,
    code: u8,
    bits: u8,
    lanes: u16,
    device_type: i32,
    device_id: i32,
    versioned: Option<(u32, u32, u64)>,
    require_alignment: i32,
    require_contiguous: bool,
    through_c: bool,
    /// A strided view to take of an accepted tensor: shape, strides, element offset.
    view: Option<(Vec<(i8, i8)>, i8)>,
}

thread_local! {
    static DELETED: Cell<u32> = const { Cell::new(0) };
}

unsafe extern "C" fn delete_legacy(_: *mut DLManagedTensor) {
    DELETED.with(|d| d.set(d.get() + 1));
}

unsafe extern "C" fn delete_versioned(_: *mut DLManagedTensorVersioned) {
    DELETED.with(|d| d.set(d.get() + 1));
}

/// `n` values cycled from `vals` (1 when empty), or `None` when `n` is out of range.
fn dims(vals: &[i64], ndim: i32) -> Option<Vec<i64>> {
    let n = usize::try_from(ndim).ok().filter(|&n| n <= MAX_NDIM as usize)?;
    Some((0..n).map(|i| if vals.is_empty() { 1 } else { vals[i % vals.len()] }).collect())
}

#[repr(C, align(64))]
struct Buffer([u8; BUF]);

fuzz_target!(|input: Input| {
    let mut buffer = Box::new(Buffer([0; BUF]));
    for (i, b) in buffer.0.iter_mut().enumerate() {
        *b = i as u8;
    }
    let base = buffer.0.as_mut_ptr();
    // Arrays of exactly `ndim` values when `ndim` is in range (the C contract); empty
    // otherwise, which import must refuse before reading.
    let mut shape = dims(&input.shape, input.ndim).unwrap_or_default();
    let mut strides = input.strides.as_ref().map(|s| dims(s, input.ndim).unwrap_or_default());
    let dl = DLTensor {
        data: if input.null_data {
            core::ptr::null_mut()
        } else {
            base.wrapping_add(usize::from(input.data_offset % 64)).cast()
        },
        device: DLDevice { device_type: DeviceType(input.device_type), device_id: input.device_id },
        ndim: input.ndim,
        dtype: DLDataType { code: input.code, bits: input.bits, lanes: input.lanes },
        shape: if input.null_shape { core::ptr::null_mut() } else { shape.as_mut_ptr() },
        strides: strides.as_mut().map_or(core::ptr::null_mut(), |s| s.as_mut_ptr()),
        byte_offset: input.byte_offset,
    };
    DELETED.with(|d| d.set(0));
    let alignment = input.require_alignment;
    let mut legacy = DLManagedTensor {
        dl_tensor: dl,
        manager_ctx: core::ptr::null_mut(),
        deleter: Some(delete_legacy),
    };
    let mut versioned = input.versioned.map(|(major, minor, flags)| DLManagedTensorVersioned {
        version: DLPackVersion { major, minor },
        manager_ctx: core::ptr::null_mut(),
        deleter: Some(delete_versioned),
        flags,
        dl_tensor: dl,
    });
    let imported = match (&mut versioned, input.through_c) {
        (Some(v), false) => {
            // SAFETY: a valid managed tensor whose arrays hold `ndim` values when `ndim` is
            // in range, with data the buffer keeps alive past the tensor.
            unsafe {
                Tensor::from_dlpack_versioned(
                    v,
                    usize::try_from(alignment).unwrap_or(0),
                    input.require_contiguous,
                )
            }
            .map_err(|e| e.to_string())
        }
        (None, false) => {
            // SAFETY: as above.
            unsafe {
                Tensor::from_dlpack(
                    &mut legacy,
                    usize::try_from(alignment).unwrap_or(0),
                    input.require_contiguous,
                )
            }
            .map_err(|e| e.to_string())
        }
        (v, true) => {
            let mut out: TVMFFIObjectHandle = core::ptr::null_mut();
            let contiguous = i32::from(input.require_contiguous);
            // SAFETY: as above; `out` is writable.
            let rc = unsafe {
                match v {
                    Some(v) => TVMFFITensorFromDLPackVersioned(v, alignment, contiguous, &mut out),
                    None => TVMFFITensorFromDLPack(&mut legacy, alignment, contiguous, &mut out),
                }
            };
            match check_rc("TVMFFITensorFromDLPack", rc) {
                Some(e) => Err(e.message().into_owned()),
                None => {
                    // SAFETY: success handed us a strong reference to a tensor object.
                    let obj = unsafe { ObjectRef::from_raw(out.cast()) }.expect("non-null handle");
                    Ok(Tensor::from_object(obj).expect("a tensor object"))
                }
            }
        }
    };
    let deleted = || DELETED.with(Cell::get);
    match imported {
        Err(message) => {
            assert!(!message.is_empty());
            assert_eq!(deleted(), 0, "a refused tensor's deleter is the caller's to call");
        }
        Ok(t) => {
            assert_eq!(deleted(), 0, "the deleter runs when the last reference goes");
            check_accepted(&t, &dl, base);
            exercise(&t, base, input.view.as_ref());
            drop(t);
            assert_eq!(deleted(), 1, "the deleter runs exactly once");
        }
    }
    drop(buffer);
});

/// An accepted tensor keeps the producer's metadata and satisfies what import checked.
fn check_accepted(t: &Tensor, dl: &DLTensor, _base: *mut u8) {
    assert!(dl.ndim >= 0 && dl.ndim <= MAX_NDIM);
    assert_eq!(t.ndim(), dl.ndim as usize);
    assert!(t.shape().iter().all(|&e| e >= 0));
    assert_eq!(t.dtype().as_raw(), dl.dtype);
    assert_eq!(t.byte_offset(), dl.byte_offset);
    assert!(t.dtype().bits() > 0 && t.dtype().lanes() > 0);
    if t.numel() > 0 {
        assert!(!t.data_ptr().is_null());
    }
    let _ = t.strides();
    let _ = t.is_contiguous();
    let _ = t.data_size();
}

/// The bytes `[lo, hi)` the tensor addresses relative to `data + byte_offset`, if any.
fn addressed(t: &Tensor) -> Option<(i128, i128)> {
    if t.numel() == 0 {
        return None;
    }
    let d = t.dtype();
    let elem = (i128::from(d.bits()) * i128::from(d.lanes()) + 7) / 8;
    let (mut lo, mut hi) = (0i128, elem);
    for (&e, &s) in t.shape().iter().zip(t.strides().iter()) {
        let span = i128::from(e - 1) * i128::from(s) * elem;
        if span < 0 { lo += span } else { hi += span }
    }
    Some((lo, hi))
}

/// Whether everything the tensor addresses lies in the harness's host buffer.
fn in_buffer(t: &Tensor, base: *mut u8) -> bool {
    let Some((lo, hi)) = addressed(t) else { return true };
    let host = t.device().device_type() == tvmffi_core::DeviceType::CPU;
    let start = t.data_ptr().addr() as i128 + i128::from(t.byte_offset());
    host && start + lo >= base.addr() as i128 && start + hi <= (base.addr() + BUF) as i128
}

fn exercise(t: &Tensor, base: *mut u8, view: Option<&(Vec<(i8, i8)>, i8)>) {
    let readable = in_buffer(t, base);
    if readable {
        if let Ok(s) = t.as_slice::<u8>() {
            assert_eq!(s.len() as i64, t.numel());
            let _ = s.iter().map(|&b| u64::from(b)).sum::<u64>();
        }
        if let Ok(s) = t.as_slice::<f32>() {
            let _ = s.iter().copied().sum::<f32>();
        }
    }
    // A strided view is bounds-checked against the source: what it addresses, the source
    // does too.
    if let Some((dims, offset)) = view {
        let shape: Vec<i64> = dims.iter().take(6).map(|&(e, _)| i64::from(e)).collect();
        let strides: Vec<i64> = dims.iter().take(6).map(|&(_, s)| i64::from(s)).collect();
        if let Ok(v) = t.as_strided(&shape, &strides, i64::from(*offset)) {
            assert_eq!(v.shape(), &shape[..]);
            if readable {
                assert!(in_buffer(&v, base), "a view reaches outside its source");
                if let Ok(s) = v.as_slice::<u8>() {
                    let _ = s.iter().map(|&b| u64::from(b)).sum::<u64>();
                }
            }
        }
        let view = t.create_view(&shape, t.dtype(), u64::from(offset.unsigned_abs()));
        if let (Ok(v), true) = (view, readable) {
            assert!(in_buffer(&v, base), "a view reaches outside its source");
        }
    }
    // Export and import back: the same tensor, and the export's deleter releases it.
    let exported = t.to_dlpack_versioned();
    // SAFETY: a managed tensor we just made, handed over.
    let back = unsafe { Tensor::from_dlpack_versioned(exported, 0, false) }.expect("re-import");
    assert_eq!(back.shape(), t.shape());
    assert_eq!(back.data_ptr(), t.data_ptr());
    drop(back);
    let legacy = t.to_dlpack();
    // SAFETY: as above.
    let back = unsafe { Tensor::from_dlpack(legacy, 0, false) }.expect("re-import");
    assert_eq!(&*back.strides(), &*t.strides());
}
