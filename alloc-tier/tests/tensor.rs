//! Tensors: allocation, accessors, DLPack import/export with deleter accounting, views, every
//! rejection path, and conversions with `Any`.

extern crate alloc;

use core::sync::atomic::Ordering;

use tvmffi_alloc::heap;
use tvmffi_alloc::tensor::{ALLOC_ALIGNMENT, MAX_NDIM, Tensor, TensorError, TensorView};
use tvmffi_core::error::ConversionErrorKind;
use tvmffi_core::flags::DLPackFlags;
use tvmffi_core::sys::{DLPackVersion, DLTensor, TVMFFIObject};
use tvmffi_core::{Any, AnyView, DataType, DataTypeCode, Device, DeviceType, Payload, TypeIndex};

#[path = "tensor/producer.rs"]
mod producer;
#[path = "tensor/views.rs"]
mod views;

use producer::{Spec, import, legacy, rejects, versioned};

// ---------------------------------------------------------------------------------------
// Allocation and accessors.

#[test]
fn empty_is_zeroed_aligned_and_compact() {
    let t = Tensor::empty(&[1, 2, 3], DataType::F32, Device::CPU).unwrap();
    assert_eq!(t.shape(), &[1, 2, 3]);
    assert_eq!(&*t.strides(), &[6, 3, 1]);
    assert_eq!((t.ndim(), t.numel(), t.data_size(), t.byte_offset()), (3, 6, 24, 0));
    assert_eq!((t.dtype(), t.device()), (DataType::F32, Device::CPU));
    assert_eq!(t.data_ptr() as usize % ALLOC_ALIGNMENT, 0);
    assert!(t.is_aligned(64) && t.is_aligned(0) && t.is_contiguous());
    assert_eq!(t.as_slice::<f32>().unwrap(), &[0.0; 6]);
    assert_eq!(t.as_object().strong_count(), 1);
    let dl = t.as_dltensor();
    assert_eq!((dl.ndim, dl.byte_offset), (3, 0));
    // The arrays live inside the object, right after the `DLTensor`.
    let obj = t.as_object().as_raw() as usize;
    let after = obj + 24 + size_of::<DLTensor>();
    assert!(dl.shape as usize >= after && (dl.shape as usize) < after + 64);
    // SAFETY: three extents then three strides.
    assert_eq!(unsafe { dl.shape.add(3) }, dl.strides);
}

#[test]
fn from_slice_and_mutation() {
    let t = Tensor::from_slice(&[2, 2], &[1i64, 2, 3, 4]).unwrap();
    assert_eq!(t.as_slice::<i64>().unwrap(), &[1, 2, 3, 4]);
    // SAFETY: nothing else touches the data meanwhile.
    unsafe { t.as_mut_slice::<i64>() }.unwrap()[3] = 40;
    assert_eq!(t.as_slice::<i64>().unwrap(), &[1, 2, 3, 40]);
    assert_eq!(
        Tensor::from_slice(&[3], &[1u8, 2]).unwrap_err(),
        TensorError::LengthMismatch { numel: 3, len: 2 }
    );
    for (bytes, dtype) in [
        (Tensor::from_slice(&[1], &[1i8]).unwrap().data_size(), DataType::I8),
        (Tensor::from_slice(&[1], &[1u16]).unwrap().data_size(), DataType::U16),
        (Tensor::from_slice(&[1], &[1f64]).unwrap().data_size(), DataType::F64),
    ] {
        assert_eq!(bytes, dtype.size_in_bytes() as u64);
    }
}

#[test]
fn empty_rejects_bad_requests() {
    let cuda = Device::new(DeviceType::CUDA, 0);
    assert_eq!(
        Tensor::empty(&[2], DataType::F32, cuda).unwrap_err(),
        TensorError::UnsupportedDevice(cuda)
    );
    assert_eq!(
        Tensor::empty(&[2, -3], DataType::F32, Device::CPU).unwrap_err(),
        TensorError::NegativeExtent { axis: 1, extent: -3 }
    );
    let dims = vec![1; MAX_NDIM as usize + 1];
    assert_eq!(
        Tensor::empty(&dims, DataType::U8, Device::CPU).unwrap_err(),
        TensorError::TooManyDims(MAX_NDIM + 1)
    );
    assert_eq!(
        Tensor::empty(&[1 << 32, 1 << 32], DataType::U8, Device::CPU).unwrap_err(),
        TensorError::Overflow
    );
    let odd = DataType::new(DataTypeCode(42), 8, 1);
    assert_eq!(
        Tensor::empty(&[1], odd, Device::CPU).unwrap_err(),
        TensorError::UnknownTypeCode(42)
    );
    let no_lanes = DataType::F32.with_lanes(0);
    assert_eq!(
        Tensor::empty(&[1], no_lanes, Device::CPU).unwrap_err(),
        TensorError::EmptyDataType(no_lanes)
    );
    // Too large for any allocation, though it fits `int64_t` (Miri cannot even try).
    if !cfg!(miri) {
        let big = Tensor::empty(&[1 << 62], DataType::U8, Device::CPU).unwrap_err();
        assert!(matches!(big, TensorError::Overflow | TensorError::AllocFailed { .. }), "{big:?}");
    }
}

#[test]
fn zero_sized_and_scalar_tensors() {
    let t = Tensor::empty(&[4, 0, 3], DataType::I16, Device::CPU).unwrap();
    assert_eq!((t.numel(), t.data_size()), (0, 0));
    assert!(t.is_contiguous());
    assert_eq!(t.as_slice::<i16>().unwrap(), &[] as &[i16]);
    assert_eq!(&*t.strides(), &[0, 3, 1]);

    let s = Tensor::from_slice(&[], &[42i32]).unwrap();
    assert_eq!((s.ndim(), s.numel(), s.shape(), &*s.strides()), (0, 1, &[][..], &[][..]));
    assert_eq!(s.as_slice::<i32>().unwrap(), &[42]);

    // Imported: null data is fine without elements, null shape is fine at ndim 0.
    let mut spec = Spec::f32(&[0, 5]);
    spec.null_data = true;
    let (r, _, calls) = import(spec);
    let t = r.unwrap();
    assert!(t.data_ptr().is_null());
    assert_eq!(t.as_slice::<f32>().unwrap(), &[] as &[f32]);
    drop(t);
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    let mut spec = Spec::f32(&[]);
    spec.shape = None;
    let (r, _, calls) = import(spec);
    let t = r.unwrap();
    assert_eq!((t.ndim(), t.as_slice::<f32>().unwrap()), (0, &[0.0f32][..]));
    drop(t);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

// ---------------------------------------------------------------------------------------
// DLPack import.

#[test]
fn import_takes_over_and_deletes_once_after_the_last_view() {
    let (r, m, calls) = import(Spec::f32(&[2, 3]));
    let t = r.unwrap();
    // SAFETY: the producer's struct lives until its deleter runs.
    let data = unsafe { (*m).dl_tensor.data };
    assert_eq!(t.data_ptr(), data);
    assert_eq!(t.as_slice::<f32>().unwrap(), &[0., 1., 2., 3., 4., 5.]);
    assert_eq!(&*t.strides(), &[3, 1], "null strides become compact ones");
    assert!(!t.as_dltensor().strides.is_null());

    let transposed = t.as_strided(&[3, 2], &[1, 3], 0).unwrap();
    let clone = t.clone();
    drop(t);
    drop(clone);
    assert_eq!(calls.load(Ordering::SeqCst), 0, "the view keeps the producer's tensor");
    let any = Any::from(transposed.clone());
    drop(transposed);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    let back = any.get::<Tensor>().unwrap();
    drop(any);
    assert_eq!(back.shape(), &[3, 2]);
    drop(back);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn versioned_import_and_strided_producer() {
    let mut spec = Spec::f32(&[2, 3]);
    spec.strides = Some(vec![1, 2]);
    let (m, calls) = versioned(spec, 1, DLPackFlags::READ_ONLY.0);
    // SAFETY: a valid managed tensor we own.
    let t = unsafe { Tensor::from_dlpack_versioned(m, 4, false) }.unwrap();
    assert_eq!(&*t.strides(), &[1, 2]);
    assert!(!t.is_contiguous());
    assert_eq!(t.as_slice::<f32>().unwrap_err(), TensorError::NotContiguous);
    // The producer changing its arrays afterwards does not change ours.
    // SAFETY: the producer's struct lives until the deleter; no one reads it meanwhile.
    unsafe { *(*m).dl_tensor.shape = 99 };
    assert_eq!(t.shape(), &[2, 3]);
    drop(t);
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    // Extent-1 axes may carry any stride (PyTorch normalises them): still contiguous.
    let mut spec = Spec::f32(&[2, 1, 3]);
    spec.strides = Some(vec![3, 77, 1]);
    let (m, calls) = versioned(spec, 1, 0);
    // SAFETY: a valid managed tensor we own.
    let t = unsafe { Tensor::from_dlpack_versioned(m, 0, true) }.unwrap();
    assert_eq!(t.as_slice::<f32>().unwrap(), &[0., 1., 2., 3., 4., 5.]);
    drop(t);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn import_rejections() {
    // SAFETY: null is allowed and rejected.
    let e = unsafe { Tensor::from_dlpack(core::ptr::null_mut(), 0, false) }.unwrap_err();
    assert_eq!(e, TensorError::NullManagedTensor);
    // SAFETY: as above.
    let e = unsafe { Tensor::from_dlpack_versioned(core::ptr::null_mut(), 0, false) };
    assert_eq!(e.unwrap_err(), TensorError::NullManagedTensor);

    let mut s = Spec::f32(&[2, 2]);
    s.null_data = true;
    rejects(s, TensorError::NullData { numel: 4 });

    rejects(Spec::f32(&[2, -2]), TensorError::NegativeExtent { axis: 1, extent: -2 });

    let mut s = Spec::f32(&[2]);
    s.ndim = Some(-1);
    rejects(s, TensorError::NegativeNdim(-1));

    let mut s = Spec::f32(&[2]);
    s.ndim = Some(i32::MAX);
    rejects(s, TensorError::TooManyDims(i32::MAX));

    let mut s = Spec::f32(&[2]);
    s.shape = None;
    s.ndim = Some(1);
    rejects(s, TensorError::NullShape { ndim: 1 });

    let mut s = Spec::f32(&[3]);
    s.strides = Some(vec![i64::MAX]);
    rejects(s, TensorError::Overflow);

    let mut s = Spec::f32(&[1]);
    s.shape = Some(vec![1 << 31, 1 << 31, 1 << 31]);
    s.strides = Some(vec![0, 0, 0]);
    rejects(s, TensorError::Overflow);

    let mut s = Spec::f32(&[1]);
    s.byte_offset = u64::MAX - 2;
    rejects(s, TensorError::Overflow);

    // Compact strides that overflow are refused even with no elements, as
    // `FillStridesFromShape` would wrap.
    let mut s = Spec::f32(&[1]);
    s.shape = Some(vec![0, 1 << 40, 1 << 40]);
    s.strides = None;
    rejects(s, TensorError::Overflow);

    let mut s = Spec::f32(&[1]);
    s.dtype = DataType::new(DataTypeCode(100), 32, 1);
    rejects(s, TensorError::UnknownTypeCode(100));

    for d in [DataType::F32.with_lanes(0), DataType::new(DataTypeCode::FLOAT, 0, 1)] {
        let mut s = Spec::f32(&[1]);
        s.dtype = d;
        rejects(s, TensorError::EmptyDataType(d));
    }
}

#[test]
fn requested_alignment_contiguity_version_and_flags() {
    let mut s = Spec::f32(&[2]);
    s.byte_offset = 1; // the data itself is 8-aligned
    let (m, calls) = legacy(s);
    // SAFETY: a valid managed tensor we own.
    let e = unsafe { Tensor::from_dlpack(m, 2, false) }.unwrap_err();
    assert_eq!(e, TensorError::NotAligned(2));
    assert_eq!(e.to_string(), "FromDLPack: Data is not aligned to 2 bytes.");
    assert_eq!(e.kind(), "RuntimeError");
    // SAFETY: still ours; now accepted without the requirement.
    let t = unsafe { Tensor::from_dlpack(m, 0, false) }.unwrap();
    assert!(!t.is_aligned(2) && t.is_aligned(1));
    assert_eq!(t.as_slice::<f32>().unwrap_err(), TensorError::NotAligned(4));
    drop(t);
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    let mut s = Spec::f32(&[2, 3]);
    s.strides = Some(vec![1, 2]);
    let (m, calls) = versioned(s, 1, 0);
    // SAFETY: a valid managed tensor we own.
    let e = unsafe { Tensor::from_dlpack_versioned(m, 0, true) }.unwrap_err();
    assert_eq!(e.to_string(), "FromDLPack: Tensor is not contiguous.");
    // SAFETY: still ours.
    unsafe { ((*m).deleter.unwrap())(m) };
    assert_eq!(calls.load(Ordering::SeqCst), 1);

    for major in [0, 2] {
        let (m, calls) = versioned(Spec::f32(&[2]), major, 0);
        // SAFETY: a managed tensor we own.
        let e = unsafe { Tensor::from_dlpack_versioned(m, 0, false) }.unwrap_err();
        assert_eq!(e, TensorError::UnsupportedVersion { major, minor: 0 });
        assert!(e.to_string().contains("not supported"), "{e}");
        // SAFETY: still ours; DLPack keeps the deleter where it was.
        unsafe { ((*m).deleter.unwrap())(m) };
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    let flags = DLPackFlags::IS_SUBBYTE_TYPE_PADDED.0;
    let (m, calls) = versioned(Spec::f32(&[2]), 1, flags);
    // SAFETY: a valid managed tensor we own.
    let e = unsafe { Tensor::from_dlpack_versioned(m, 0, false) }.unwrap_err();
    assert_eq!(e.to_string(), "Subbyte type padded is not yet supported");
    // SAFETY: still ours.
    unsafe { ((*m).deleter.unwrap())(m) };
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[test]
fn a_null_deleter_is_allowed() {
    let (m, calls) = legacy(Spec::f32(&[1]));
    // SAFETY: our managed tensor; we keep the struct and free it ourselves below.
    let deleter = unsafe { (*m).deleter.take() }.unwrap();
    // SAFETY: a valid managed tensor without a deleter.
    drop(unsafe { Tensor::from_dlpack(m, 0, false) }.unwrap());
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    // SAFETY: the tensor never called anything; the struct is still ours.
    unsafe { deleter(m) };
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

// ---------------------------------------------------------------------------------------
// DLPack export.

#[test]
fn export_shares_data_and_holds_a_reference() {
    let t = Tensor::from_slice(&[3], &[7u32, 8, 9]).unwrap();
    let m = t.to_dlpack();
    let v = t.to_dlpack_versioned();
    assert_eq!(t.as_object().strong_count(), 3);
    // SAFETY: both are valid until their deleters run.
    unsafe {
        assert_eq!((*v).version, DLPackVersion { major: 1, minor: 3 });
        assert_eq!((*v).flags, 0);
        for dl in [&(*m).dl_tensor, &(*v).dl_tensor] {
            assert_eq!(dl.data, t.data_ptr());
            assert_eq!((dl.ndim, *dl.shape, *dl.strides), (1, 3, 1));
            assert_eq!(dl.dtype, DataType::U32.as_raw());
            assert_eq!(dl.shape, t.as_dltensor().shape);
        }
        assert_eq!((*m).manager_ctx, t.as_object().as_raw().cast());
        ((*m).deleter.unwrap())(m);
        assert_eq!(t.as_object().strong_count(), 2);
        // Round trip: our export comes back as a new object over the same data.
        let back = Tensor::from_dlpack_versioned(v, 64, true).unwrap();
        assert!(!back.ptr_eq(&t));
        assert_eq!(back.data_ptr(), t.data_ptr());
        assert_eq!(back.as_slice::<u32>().unwrap(), &[7, 8, 9]);
        drop(back);
    }
    assert_eq!(t.as_object().strong_count(), 1);
}

#[test]
#[cfg_attr(target_os = "wasi", ignore = "wasm32-wasip1 has no threads")]
fn tensors_cross_threads() {
    let t = Tensor::from_slice(&[2], &[1.5f64, 2.5]).unwrap();
    let m = t.to_dlpack();
    let sum = std::thread::spawn(move || {
        let s: f64 = t.as_slice::<f64>().unwrap().iter().sum();
        drop(t);
        s
    })
    .join()
    .unwrap();
    assert_eq!(sum, 4.0);
    // SAFETY: the export keeps the data alive after the last `Tensor` went away.
    unsafe {
        assert_eq!(*(*m).dl_tensor.data.cast::<f64>(), 1.5);
        ((*m).deleter.unwrap())(m);
    }
}

// ---------------------------------------------------------------------------------------
// Reading host data.

#[test]
fn as_slice_checks() {
    let t = Tensor::from_slice(&[2], &[1u8, 2]).unwrap();
    assert_eq!(
        t.as_slice::<i8>().unwrap_err(),
        TensorError::DataTypeMismatch { expected: DataType::I8, actual: DataType::U8 }
    );
    assert_eq!(t.as_slice::<i8>().unwrap_err().to_string(), "Tensor has dtype uint8, not int8");
    let mut s = Spec::f32(&[2]);
    s.device = Device::new(DeviceType::CUDA, 1);
    let (r, _, calls) = import(s);
    let gpu = r.unwrap();
    let e = gpu.as_slice::<f32>().unwrap_err();
    assert_eq!(e, TensorError::NotHostAccessible(Device::new(DeviceType::CUDA, 1)));
    drop(gpu);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

// ---------------------------------------------------------------------------------------
// Values.

/// A stand-in for a tensor object some other code made: the header and a `DLTensor`.
struct Foreign(#[allow(dead_code, reason = "read by the tensor code through the object")] DLTensor);
// SAFETY: test payload with the `TensorObj` layout (header then `DLTensor`); its pointers
// are static or null and only read.
unsafe impl Send for Foreign {}
// SAFETY: as above.
unsafe impl Sync for Foreign {}
// SAFETY: laid out as every `TENSOR` object: the header then a `DLTensor`.
unsafe impl Payload for Foreign {
    const TYPE_KEY: &'static str = "ffi.Tensor";
    fn is_instance(t: TypeIndex) -> bool {
        t == TypeIndex::TENSOR
    }
}

static FOREIGN_SHAPE: [i64; 2] = [2, 3];
static FOREIGN_DATA: [f32; 6] = [0.0; 6];

fn foreign(ndim: i32, shape: *const i64) -> Any {
    let dl = DLTensor {
        data: FOREIGN_DATA.as_ptr().cast_mut().cast(),
        device: Device::CPU.as_raw(),
        ndim,
        dtype: DataType::F32.as_raw(),
        shape: shape.cast_mut(),
        strides: core::ptr::null_mut(),
        byte_offset: 0,
    };
    Any::from(heap::new_object(TypeIndex::TENSOR, Foreign(dl)))
}

#[test]
fn any_conversions() {
    let t = Tensor::from_slice(&[2], &[3i16, 4]).unwrap();
    let any = Any::from(t.clone());
    assert_eq!(any.type_index(), TypeIndex::TENSOR);
    assert_eq!(t.as_object().strong_count(), 2);
    let back = any.get::<Tensor>().unwrap();
    assert!(back.ptr_eq(&t));
    let view = AnyView::from(&t);
    assert!(view.get::<Tensor>().unwrap().ptr_eq(&t));
    let dl: *mut tvmffi_core::sys::DLTensor = view.get().unwrap();
    assert_eq!(dl, t.as_dltensor_ptr());
    assert_eq!(
        t.as_dltensor_ptr() as usize,
        t.as_object().as_raw() as usize + size_of::<TVMFFIObject>()
    );
    let borrowed = t.as_dltensor_view();
    assert_eq!(borrowed.type_index(), TypeIndex::DL_TENSOR_PTR);
    let e = borrowed.get::<Tensor>().unwrap_err();
    assert_eq!(e.kind(), ConversionErrorKind::Mismatch, "a DLTensor* owns nothing");
    let e = Any::from(1i64).get::<Tensor>().unwrap_err();
    assert_eq!((e.kind(), e.expected()), (ConversionErrorKind::Mismatch, "ffi.Tensor"));
    drop((any, back));
    assert_eq!(t.as_object().strong_count(), 1);
    assert!(format!("{t:?}").contains("shape: [2]"));
}

#[test]
fn foreign_objects_are_checked_and_strides_computed() {
    let ok = foreign(2, FOREIGN_SHAPE.as_ptr());
    let t = ok.get::<Tensor>().unwrap();
    assert!(t.as_dltensor().strides.is_null());
    assert_eq!(&*t.strides(), &[3, 1], "computed when the object has none");
    assert!(t.is_contiguous());
    assert_eq!(t.as_slice::<f32>().unwrap(), &[0.0; 6]);

    for bad in [foreign(-1, FOREIGN_SHAPE.as_ptr()), foreign(2, core::ptr::null())] {
        let e = bad.get::<Tensor>().unwrap_err();
        assert_eq!((e.kind(), e.expected()), (ConversionErrorKind::Malformed, "ffi.Tensor"));
    }
    let unaligned = FOREIGN_SHAPE.as_ptr().cast::<u8>().wrapping_add(1).cast::<i64>();
    let bad = foreign(1, unaligned);
    let obj =
        bad.get::<tvmffi_core::ObjectRef<tvmffi_core::Object<tvmffi_alloc::tensor::TensorObj>>>();
    assert_eq!(Tensor::from_object(obj.unwrap()).unwrap_err(), TensorError::UnalignedDims);
}

/// A `TensorView` takes a `DLTensor*` or a tensor object, borrowed (no reference taken),
/// checked as a `Tensor` is, and refuses the rest.
#[test]
fn tensor_views_borrow_and_check() {
    let t = Tensor::from_slice(&[2, 2], &[1f32, 2., 3., 4.]).unwrap();
    for arg in [AnyView::from(&t), t.as_dltensor_view()] {
        let v = arg.get::<TensorView<'_>>().unwrap();
        assert_eq!(t.as_object().strong_count(), 1, "borrowed");
        assert_eq!((v.shape(), v.dtype(), v.data_ptr()), (t.shape(), t.dtype(), t.data_ptr()));
        assert_eq!(v.as_slice::<f32>().unwrap(), &[1., 2., 3., 4.]);
        assert_eq!(v.to_tensor().is_some(), arg.type_index() == TypeIndex::TENSOR);
    }
    let as_arg = AnyView::from(t.view());
    assert_eq!(as_arg.type_index(), TypeIndex::DL_TENSOR_PTR, "passed as the reference does");

    let ok = foreign(2, FOREIGN_SHAPE.as_ptr());
    assert_eq!(&*ok.get::<TensorView<'_>>().unwrap().strides(), &[3, 1]);
    for bad in [foreign(-1, FOREIGN_SHAPE.as_ptr()), foreign(2, core::ptr::null())] {
        let e = bad.get::<TensorView<'_>>().unwrap_err();
        assert_eq!((e.kind(), e.expected()), (ConversionErrorKind::Malformed, "DLTensor*"));
    }
    let mut shape = [2i64, -2];
    let mut dl = *t.as_dltensor();
    dl.shape = shape.as_mut_ptr();
    dl.strides = core::ptr::null_mut();
    let e = AnyView::from(&raw mut dl).get::<TensorView<'_>>().unwrap_err();
    assert_eq!(e.kind(), ConversionErrorKind::Malformed, "a negative extent");
    // SAFETY: `dl.shape` points into `shape`, two values.
    unsafe { dl.shape.add(1).write(2) };
    // SAFETY: `dl`'s arrays and data live through the view's use.
    let v = unsafe { TensorView::from_dltensor(&dl) }.unwrap();
    assert!(v.is_contiguous() && v.to_tensor().is_none());
    let e = Any::from(1i64).get::<TensorView<'_>>().unwrap_err();
    assert_eq!((e.kind(), e.expected()), (ConversionErrorKind::Mismatch, "DLTensor*"));
    let null = AnyView::from(core::ptr::null_mut::<DLTensor>());
    assert!(null.get::<TensorView<'_>>().is_err(), "a null DLTensor* is None, not a tensor");
}

#[test]
fn error_messages_and_kinds() {
    let cases = [
        (TensorError::NotContiguous, "FromDLPack: Tensor is not contiguous.", "RuntimeError"),
        (
            TensorError::UnknownTypeCode(77),
            "DLDataType contains unknown type_code=77",
            "ValueError",
        ),
        (
            TensorError::StridesLength { shape: 1, strides: 2 },
            "shape and strides must have the same size.",
            "ValueError",
        ),
        (TensorError::NullShape { ndim: 2 }, "Tensor shape is null but ndim is 2", "ValueError"),
        (
            TensorError::ViewOutOfBounds,
            "Tensor view reaches memory outside the tensor it views",
            "IndexError",
        ),
    ];
    for (e, text, kind) in cases {
        assert_eq!((e.to_string().as_str(), e.kind()), (text, kind));
    }
}
