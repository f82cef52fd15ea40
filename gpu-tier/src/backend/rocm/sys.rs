//! The few types and functions of HIP (`hip_runtime_api.h`) this backend uses, declared here
//! so that building needs no ROCm installation.
#![allow(non_camel_case_types)]

use core::ffi::{c_char, c_int, c_uint, c_void};

use super::super::driver::driver_api;

/// `hipError_t`: an open set of status codes, 0 on success.
pub(super) type hipError_t = c_int;
/// `hipDevice_t`: a device handle (an ordinal).
pub(super) type hipDevice_t = c_int;
/// `hipStream_t`.
pub(super) type hipStream_t = *mut c_void;
/// `hipModule_t`.
pub(super) type hipModule_t = *mut c_void;
/// `hipFunction_t`.
pub(super) type hipFunction_t = *mut c_void;
/// `hipMemcpyKind`.
pub(super) type hipMemcpyKind = c_int;

pub(super) const HIP_SUCCESS: hipError_t = 0;
/// `hipStreamNonBlocking`: no implicit synchronisation with the null stream.
pub(super) const HIP_STREAM_NON_BLOCKING: c_uint = 0x1;
/// `hipHostMallocPortable`: pinned memory usable from every device.
pub(super) const HIP_HOST_MALLOC_PORTABLE: c_uint = 0x1;
/// `hipMemcpyHostToDevice`.
pub(super) const HIP_MEMCPY_HOST_TO_DEVICE: hipMemcpyKind = 1;
/// `hipMemcpyDeviceToHost`.
pub(super) const HIP_MEMCPY_DEVICE_TO_HOST: hipMemcpyKind = 2;
/// `hipMemcpyDeviceToDevice`.
pub(super) const HIP_MEMCPY_DEVICE_TO_DEVICE: hipMemcpyKind = 3;

driver_api! {
    /// The HIP functions, resolved from `libamdhip64.so`.
    struct HipApi {
        hipInit: fn(c_uint) -> hipError_t = ["hipInit"];
        hipGetErrorName: fn(hipError_t) -> *const c_char = ["hipGetErrorName"];
        hipGetErrorString: fn(hipError_t) -> *const c_char = ["hipGetErrorString"];
        hipGetDeviceCount: fn(*mut c_int) -> hipError_t = ["hipGetDeviceCount"];
        hipDeviceGet: fn(*mut hipDevice_t, c_int) -> hipError_t = ["hipDeviceGet"];
        hipDeviceGetName: fn(*mut c_char, c_int, hipDevice_t) -> hipError_t =
            ["hipDeviceGetName"];
        hipGetDevice: fn(*mut c_int) -> hipError_t = ["hipGetDevice"];
        hipSetDevice: fn(c_int) -> hipError_t = ["hipSetDevice"];
        hipDeviceSynchronize: fn() -> hipError_t = ["hipDeviceSynchronize"];
        hipStreamCreateWithFlags: fn(*mut hipStream_t, c_uint) -> hipError_t =
            ["hipStreamCreateWithFlags"];
        hipStreamDestroy: fn(hipStream_t) -> hipError_t = ["hipStreamDestroy"];
        hipStreamSynchronize: fn(hipStream_t) -> hipError_t = ["hipStreamSynchronize"];
        hipMalloc: fn(*mut *mut c_void, usize) -> hipError_t = ["hipMalloc"];
        hipFree: fn(*mut c_void) -> hipError_t = ["hipFree"];
        // Renamed over ROCm releases; the signature stayed.
        hipHostMalloc: fn(*mut *mut c_void, usize, c_uint) -> hipError_t =
            ["hipHostMalloc", "hipExtHostAlloc", "hipHostAlloc"];
        hipHostFree: fn(*mut c_void) -> hipError_t = ["hipHostFree", "hipFreeHost"];
        hipMemcpyAsync: fn(*mut c_void, *const c_void, usize, hipMemcpyKind, hipStream_t)
            -> hipError_t = ["hipMemcpyAsync"];
        hipModuleLoadData: fn(*mut hipModule_t, *const c_void) -> hipError_t =
            ["hipModuleLoadData"];
        hipModuleUnload: fn(hipModule_t) -> hipError_t = ["hipModuleUnload"];
        hipModuleGetFunction: fn(*mut hipFunction_t, hipModule_t, *const c_char) -> hipError_t =
            ["hipModuleGetFunction"];
        hipModuleLaunchKernel: fn(
            hipFunction_t,
            c_uint,
            c_uint,
            c_uint,
            c_uint,
            c_uint,
            c_uint,
            c_uint,
            hipStream_t,
            *mut *mut c_void,
            *mut *mut c_void,
        ) -> hipError_t = ["hipModuleLaunchKernel"];
    }
}
