//! A DLPack producer for the tests: managed tensors over Rust-owned data whose deleters
//! count their calls.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicUsize, Ordering};

use tvmffi_alloc::tensor::{Tensor, TensorError};
use tvmffi_core::sys::{DLManagedTensor, DLManagedTensorVersioned, DLPackVersion, DLTensor};
use tvmffi_core::{DataType, Device};

/// What the producer describes; `None` arrays become null pointers.
#[derive(Clone)]
pub struct Spec {
    pub data: Vec<u64>,
    pub null_data: bool,
    pub ndim: Option<i32>,
    pub shape: Option<Vec<i64>>,
    pub strides: Option<Vec<i64>>,
    pub dtype: DataType,
    pub device: Device,
    pub byte_offset: u64,
}

impl Spec {
    /// A compact f32 tensor of `shape` holding 0, 1, 2, ...
    pub fn f32(shape: &[i64]) -> Self {
        let n: i64 = shape.iter().product();
        let floats: Vec<f32> = (0..n).map(|i| i as f32).collect();
        let mut data = vec![0u64; floats.len().div_ceil(2)];
        // SAFETY: `data` has room for the floats (8-aligned, so also 4-aligned).
        unsafe {
            core::ptr::copy_nonoverlapping(floats.as_ptr(), data.as_mut_ptr().cast(), floats.len())
        };
        Self {
            data,
            null_data: false,
            ndim: None,
            shape: Some(shape.to_vec()),
            strides: None,
            dtype: DataType::F32,
            device: Device::CPU,
            byte_offset: 0,
        }
    }
}

#[repr(C)]
struct Legacy {
    managed: DLManagedTensor, // first: the deleter casts back
    spec: Spec,
    calls: Arc<AtomicUsize>,
}

#[repr(C)]
struct Versioned {
    managed: DLManagedTensorVersioned,
    spec: Spec,
    calls: Arc<AtomicUsize>,
}

fn dl_of(spec: &mut Spec) -> DLTensor {
    let ptr =
        |v: &mut Option<Vec<i64>>| v.as_mut().map_or(core::ptr::null_mut(), |v| v.as_mut_ptr());
    DLTensor {
        data: if spec.null_data { core::ptr::null_mut() } else { spec.data.as_mut_ptr().cast() },
        device: spec.device.as_raw(),
        ndim: spec.ndim.unwrap_or(spec.shape.as_ref().map_or(0, |s| s.len() as i32)),
        dtype: spec.dtype.as_raw(),
        shape: ptr(&mut spec.shape),
        strides: ptr(&mut spec.strides),
        byte_offset: spec.byte_offset,
    }
}

unsafe extern "C" fn delete_legacy(m: *mut DLManagedTensor) {
    // SAFETY: made by `legacy` below; DLPack calls this once.
    let b = unsafe { Box::from_raw(m.cast::<Legacy>()) };
    b.calls.fetch_add(1, Ordering::SeqCst);
}

unsafe extern "C" fn delete_versioned(m: *mut DLManagedTensorVersioned) {
    // SAFETY: made by `versioned` below; DLPack calls this once.
    let b = unsafe { Box::from_raw(m.cast::<Versioned>()) };
    b.calls.fetch_add(1, Ordering::SeqCst);
}

pub fn legacy(mut spec: Spec) -> (*mut DLManagedTensor, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let dl_tensor = dl_of(&mut spec);
    let b = Box::new(Legacy {
        managed: DLManagedTensor {
            dl_tensor,
            manager_ctx: core::ptr::null_mut(),
            deleter: Some(delete_legacy),
        },
        spec,
        calls: calls.clone(),
    });
    (Box::into_raw(b).cast(), calls)
}

pub fn versioned(
    mut spec: Spec,
    major: u32,
    flags: u64,
) -> (*mut DLManagedTensorVersioned, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let dl_tensor = dl_of(&mut spec);
    let b = Box::new(Versioned {
        managed: DLManagedTensorVersioned {
            version: DLPackVersion { major, minor: 0 },
            manager_ctx: core::ptr::null_mut(),
            deleter: Some(delete_versioned),
            flags,
            dl_tensor,
        },
        spec,
        calls: calls.clone(),
    });
    (Box::into_raw(b).cast(), calls)
}

pub fn import(spec: Spec) -> (Result<Tensor, TensorError>, *mut DLManagedTensor, Arc<AtomicUsize>) {
    let (m, calls) = legacy(spec);
    // SAFETY: `m` is a valid managed tensor we own.
    (unsafe { Tensor::from_dlpack(m, 0, false) }, m, calls)
}

/// Import must fail with `expected`, leave the deleter uncalled, and leave the tensor to
/// the caller (who then deletes it: exactly one call in all). Checks the versioned path too.
pub fn rejects(spec: Spec, expected: TensorError) {
    let (r, m, calls) = import(spec.clone());
    assert_eq!(r.unwrap_err(), expected);
    assert_eq!(calls.load(Ordering::SeqCst), 0, "no deleter call on error");
    // SAFETY: still ours after the error.
    unsafe { ((*m).deleter.unwrap())(m) };
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    let (m, calls) = versioned(spec, 1, 0);
    // SAFETY: a valid managed tensor we own.
    let r = unsafe { Tensor::from_dlpack_versioned(m, 0, false) };
    assert_eq!(r.unwrap_err(), expected);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    // SAFETY: still ours after the error.
    unsafe { ((*m).deleter.unwrap())(m) };
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}
