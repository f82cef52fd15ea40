//! Our DLPack declarations against `dlpack-rs`, whose structs bindgen generated from the
//! upstream `dlpack.h`: a second, independent reading of the same header.

use core::mem::{align_of, offset_of, size_of};

use dlpack_rs::ffi as theirs;
use tvmffi_core::sys as ours;
use tvmffi_core::{DataTypeCode, DeviceType};

macro_rules! same_layout {
    ($($ty:ident { $($field:ident),* $(,)? }),* $(,)?) => {$(
        assert_eq!(size_of::<ours::$ty>(), size_of::<theirs::$ty>(), "size of {}", stringify!($ty));
        assert_eq!(align_of::<ours::$ty>(), align_of::<theirs::$ty>(), "align of {}", stringify!($ty));
        $(
            assert_eq!(
                offset_of!(ours::$ty, $field),
                offset_of!(theirs::$ty, $field),
                "offset of {}.{}", stringify!($ty), stringify!($field),
            );
        )*
    )*};
}

#[test]
fn structs_match_bindgen() {
    same_layout! {
        DLPackVersion { major, minor },
        DLDevice { device_type, device_id },
        DLDataType { code, bits, lanes },
        DLTensor { data, device, ndim, dtype, shape, strides, byte_offset },
        DLManagedTensor { dl_tensor, manager_ctx, deleter },
        DLManagedTensorVersioned { version, manager_ctx, deleter, flags, dl_tensor },
        DLPackExchangeAPIHeader { version },
        DLPackExchangeAPI {
            header, managed_tensor_allocator, managed_tensor_from_py_object_no_sync,
            managed_tensor_to_py_object_no_sync, dltensor_from_py_object_no_sync,
            current_work_stream,
        },
    }
    // The device type is a C enum: 4 bytes whichever integer type a binding picks.
    assert_eq!(size_of::<DeviceType>(), size_of::<theirs::DLDeviceType::Type>());
}

#[test]
fn constants_match_bindgen() {
    // Every device type and dtype code the reference header names, by value. dlpack-rs
    // follows a newer dlpack.h with a few more (TPU, bcomplex); as open sets those stay
    // representable here without a name.
    let devices = [
        (DeviceType::CPU, theirs::DLDeviceType::kDLCPU),
        (DeviceType::CUDA, theirs::DLDeviceType::kDLCUDA),
        (DeviceType::CUDA_HOST, theirs::DLDeviceType::kDLCUDAHost),
        (DeviceType::OPENCL, theirs::DLDeviceType::kDLOpenCL),
        (DeviceType::VULKAN, theirs::DLDeviceType::kDLVulkan),
        (DeviceType::METAL, theirs::DLDeviceType::kDLMetal),
        (DeviceType::VPI, theirs::DLDeviceType::kDLVPI),
        (DeviceType::ROCM, theirs::DLDeviceType::kDLROCM),
        (DeviceType::ROCM_HOST, theirs::DLDeviceType::kDLROCMHost),
        (DeviceType::EXT_DEV, theirs::DLDeviceType::kDLExtDev),
        (DeviceType::CUDA_MANAGED, theirs::DLDeviceType::kDLCUDAManaged),
        (DeviceType::ONE_API, theirs::DLDeviceType::kDLOneAPI),
        (DeviceType::WEBGPU, theirs::DLDeviceType::kDLWebGPU),
        (DeviceType::HEXAGON, theirs::DLDeviceType::kDLHexagon),
        (DeviceType::MAIA, theirs::DLDeviceType::kDLMAIA),
        (DeviceType::TRN, theirs::DLDeviceType::kDLTrn),
    ];
    assert_eq!(devices.len(), DeviceType::C_CONSTANTS.len());
    for (ours, theirs) in devices {
        assert_eq!(i64::from(ours.get()), i64::from(theirs), "{ours:?}");
    }

    let codes = [
        (DataTypeCode::INT, theirs::DLDataTypeCode::kDLInt),
        (DataTypeCode::UINT, theirs::DLDataTypeCode::kDLUInt),
        (DataTypeCode::FLOAT, theirs::DLDataTypeCode::kDLFloat),
        (DataTypeCode::OPAQUE_HANDLE, theirs::DLDataTypeCode::kDLOpaqueHandle),
        (DataTypeCode::BFLOAT, theirs::DLDataTypeCode::kDLBfloat),
        (DataTypeCode::COMPLEX, theirs::DLDataTypeCode::kDLComplex),
        (DataTypeCode::BOOL, theirs::DLDataTypeCode::kDLBool),
        (DataTypeCode::FLOAT8_E3M4, theirs::DLDataTypeCode::kDLFloat8_e3m4),
        (DataTypeCode::FLOAT8_E4M3, theirs::DLDataTypeCode::kDLFloat8_e4m3),
        (DataTypeCode::FLOAT8_E4M3B11FNUZ, theirs::DLDataTypeCode::kDLFloat8_e4m3b11fnuz),
        (DataTypeCode::FLOAT8_E4M3FN, theirs::DLDataTypeCode::kDLFloat8_e4m3fn),
        (DataTypeCode::FLOAT8_E4M3FNUZ, theirs::DLDataTypeCode::kDLFloat8_e4m3fnuz),
        (DataTypeCode::FLOAT8_E5M2, theirs::DLDataTypeCode::kDLFloat8_e5m2),
        (DataTypeCode::FLOAT8_E5M2FNUZ, theirs::DLDataTypeCode::kDLFloat8_e5m2fnuz),
        (DataTypeCode::FLOAT8_E8M0FNU, theirs::DLDataTypeCode::kDLFloat8_e8m0fnu),
        (DataTypeCode::FLOAT6_E2M3FN, theirs::DLDataTypeCode::kDLFloat6_e2m3fn),
        (DataTypeCode::FLOAT6_E3M2FN, theirs::DLDataTypeCode::kDLFloat6_e3m2fn),
        (DataTypeCode::FLOAT4_E2M1FN, theirs::DLDataTypeCode::kDLFloat4_e2m1fn),
    ];
    assert_eq!(codes.len(), DataTypeCode::C_CONSTANTS.len());
    for (ours, theirs) in codes {
        assert_eq!(u32::from(ours.get()), theirs, "{ours:?}");
    }
    assert_eq!(ours::DLPACK_MAJOR_VERSION, theirs::DLPACK_MAJOR_VERSION);
    assert_eq!(ours::DLPACK_MINOR_VERSION, theirs::DLPACK_MINOR_VERSION);
}
