//! Views: strided, reshaped and prototype views share memory and keep their source alive.

use tvmffi_alloc::tensor::{Tensor, TensorError};
use tvmffi_core::sys::DLTensor;
use tvmffi_core::{DataType, Device};

#[test]
fn strided_views_read_through_strides() {
    let t = Tensor::from_slice(&[2, 3], &[0i32, 1, 2, 3, 4, 5]).unwrap();
    let at = |v: &Tensor, idx: &[i64]| -> i32 {
        let off: i64 = idx.iter().zip(v.strides().iter()).map(|(i, s)| i * s).sum();
        let p = v.data_ptr().cast::<u8>().wrapping_add(v.byte_offset() as usize).cast::<i32>();
        // SAFETY: in bounds (checked by `as_strided`), and the source keeps the data.
        unsafe { *p.offset(off as isize) }
    };
    let tr = t.as_strided(&[3, 2], &[1, 3], 0).unwrap();
    assert_eq!((at(&tr, &[0, 1]), at(&tr, &[2, 0]), at(&tr, &[2, 1])), (3, 2, 5));
    let tail = t.as_strided(&[2, 2], &[3, 1], 1).unwrap();
    assert_eq!(tail.data_ptr() as usize, t.data_ptr() as usize + 4, "offset folded");
    assert_eq!(tail.byte_offset(), 0);
    assert_eq!((at(&tail, &[0, 0]), at(&tail, &[1, 1])), (1, 5));
    let rev = t.as_strided(&[3], &[-1], 2).unwrap();
    assert_eq!((at(&rev, &[0]), at(&rev, &[2])), (2, 0));
    let bcast = t.as_strided(&[4, 3], &[0, 1], 3).unwrap();
    assert_eq!((bcast.numel(), at(&bcast, &[3, 2])), (12, 5));
    let scalar = t.as_strided(&[], &[], 5).unwrap();
    assert_eq!(scalar.as_slice::<i32>().unwrap(), &[5]);

    // A view of a view keeps the first source too.
    let again = tr.as_strided(&[2], &[2], 0).unwrap();
    drop((t, tr, tail, rev, bcast, scalar));
    assert_eq!((at(&again, &[0]), at(&again, &[1])), (0, 2));
}

#[test]
fn strided_view_rejections() {
    let t = Tensor::from_slice(&[2, 3], &[0u8; 6]).unwrap();
    let oob = TensorError::ViewOutOfBounds;
    assert_eq!(t.as_strided(&[2, 3], &[3, 1], 1).unwrap_err(), oob);
    assert_eq!(t.as_strided(&[7], &[1], 0).unwrap_err(), oob);
    assert_eq!(t.as_strided(&[2], &[-1], 0).unwrap_err(), oob, "before the start");
    assert_eq!(t.as_strided(&[], &[], 6).unwrap_err(), oob);
    assert_eq!(t.as_strided(&[0], &[1], 100).unwrap().numel(), 0, "empty views fit anywhere");
    assert_eq!(
        t.as_strided(&[2, 3], &[3], 0).unwrap_err(),
        TensorError::StridesLength { shape: 2, strides: 1 }
    );
    assert_eq!(t.as_strided(&[1], &[1], -1).unwrap_err(), TensorError::NegativeOffset(-1));
    assert_eq!(
        t.as_strided(&[2, -1], &[1, 1], 0).unwrap_err(),
        TensorError::NegativeExtent { axis: 1, extent: -1 }
    );
    assert_eq!(t.as_strided(&[2], &[i64::MAX], 0).unwrap_err(), TensorError::Overflow);
    assert_eq!(t.as_strided(&[1], &[1], i64::MAX).unwrap_err(), TensorError::Overflow);
    let empty = Tensor::empty(&[0], DataType::U8, Device::CPU).unwrap();
    assert_eq!(empty.as_strided(&[1], &[1], 0).unwrap_err(), oob);
}

#[test]
fn create_view_reshapes_and_reinterprets() {
    let t = Tensor::from_slice(&[2, 2], &[1.0f32, -2.0, 0.5, 8.0]).unwrap();
    let flat = t.create_view(&[4], DataType::F32, 0).unwrap();
    assert_eq!(flat.as_slice::<f32>().unwrap(), &[1.0, -2.0, 0.5, 8.0]);
    let bits = t.create_view(&[2], DataType::U32, 8).unwrap();
    assert_eq!(bits.as_slice::<u32>().unwrap(), &[0.5f32.to_bits(), 8.0f32.to_bits()]);
    assert_eq!(bits.data_ptr() as usize, t.data_ptr() as usize + 8);
    assert_eq!(t.create_view(&[3], DataType::F32, 8).unwrap_err(), TensorError::ViewOutOfBounds);
    assert_eq!(t.create_view(&[1], DataType::F64, 12).unwrap_err(), TensorError::ViewOutOfBounds);
    let strided = t.as_strided(&[2], &[2], 0).unwrap();
    assert_eq!(
        strided.create_view(&[2], DataType::F32, 0).unwrap_err(),
        TensorError::NotContiguous
    );
    drop(t);
    assert_eq!(flat.as_slice::<f32>().unwrap()[3], 8.0);
}

#[test]
fn unsafe_view_from_a_prototype() {
    let t = Tensor::from_slice(&[6], &[0u16, 1, 2, 3, 4, 5]).unwrap();
    let mut shape = [2i64, 2];
    let proto = DLTensor {
        data: t.data_ptr(),
        device: Device::CPU.as_raw(),
        ndim: 2,
        dtype: DataType::U16.as_raw(),
        shape: shape.as_mut_ptr(),
        strides: core::ptr::null_mut(),
        byte_offset: 4,
    };
    // SAFETY: the prototype describes memory `t` owns; its shape is readable.
    let v = unsafe { t.create_unsafe_view(&proto) }.unwrap();
    shape[0] = 100;
    assert_eq!(shape[0], 100);
    assert_eq!((v.shape(), &*v.strides()), (&[2i64, 2][..], &[2i64, 1][..]));
    assert_eq!((v.byte_offset(), v.as_slice::<u16>().unwrap()), (4, &[2u16, 3, 4, 5][..]));
    drop(t);
    assert_eq!(v.as_slice::<u16>().unwrap()[0], 2, "the view keeps the source");

    let mut bad = proto;
    bad.ndim = -3;
    // SAFETY: rejected before any array is read.
    assert_eq!(unsafe { v.create_unsafe_view(&bad) }.unwrap_err(), TensorError::NegativeNdim(-3));
}
