//! The few types and functions of the CUDA driver API (`cuda.h`) this backend uses, declared
//! here so that building needs no toolkit. Versioned functions (`cuMemAlloc` is
//! `cuMemAlloc_v2` since CUDA 3.2) are resolved under the names `cuda.h` maps them to.
#![allow(non_camel_case_types)]

use core::ffi::{c_char, c_int, c_uint, c_void};

use super::super::driver::driver_api;

/// `CUresult`: an open set of status codes, 0 on success.
pub(super) type CUresult = c_int;
/// `CUdevice`: a device ordinal.
pub(super) type CUdevice = c_int;
/// `CUcontext`.
pub(super) type CUcontext = *mut c_void;
/// `CUstream`.
pub(super) type CUstream = *mut c_void;
/// `CUmodule`.
pub(super) type CUmodule = *mut c_void;
/// `CUfunction`.
pub(super) type CUfunction = *mut c_void;
/// `CUdeviceptr`: `unsigned long long` on 64-bit targets, `unsigned int` on 32-bit ones,
/// pointer-sized either way.
pub(super) type CUdeviceptr = usize;
/// `CUjit_option`.
pub(super) type CUjit_option = c_int;

pub(super) const CUDA_SUCCESS: CUresult = 0;
/// `CU_STREAM_NON_BLOCKING`: no implicit synchronisation with the legacy default stream.
pub(super) const CU_STREAM_NON_BLOCKING: c_uint = 0x1;
/// `CU_MEMHOSTALLOC_PORTABLE`: pinned memory usable from every context.
pub(super) const CU_MEMHOSTALLOC_PORTABLE: c_uint = 0x1;
/// `CU_JIT_ERROR_LOG_BUFFER`.
pub(super) const CU_JIT_ERROR_LOG_BUFFER: CUjit_option = 5;
/// `CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES`.
pub(super) const CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES: CUjit_option = 6;

driver_api! {
    /// The driver functions, resolved from `libcuda.so.1`.
    struct CudaApi {
        cuInit: fn(c_uint) -> CUresult = ["cuInit"];
        cuGetErrorName: fn(CUresult, *mut *const c_char) -> CUresult = ["cuGetErrorName"];
        cuGetErrorString: fn(CUresult, *mut *const c_char) -> CUresult = ["cuGetErrorString"];
        cuDeviceGetCount: fn(*mut c_int) -> CUresult = ["cuDeviceGetCount"];
        cuDeviceGet: fn(*mut CUdevice, c_int) -> CUresult = ["cuDeviceGet"];
        cuDeviceGetName: fn(*mut c_char, c_int, CUdevice) -> CUresult = ["cuDeviceGetName"];
        cuDevicePrimaryCtxRetain: fn(*mut CUcontext, CUdevice) -> CUresult =
            ["cuDevicePrimaryCtxRetain"];
        cuCtxGetCurrent: fn(*mut CUcontext) -> CUresult = ["cuCtxGetCurrent"];
        cuCtxSetCurrent: fn(CUcontext) -> CUresult = ["cuCtxSetCurrent"];
        cuCtxGetDevice: fn(*mut CUdevice) -> CUresult = ["cuCtxGetDevice"];
        cuCtxSynchronize: fn() -> CUresult = ["cuCtxSynchronize"];
        cuStreamCreate: fn(*mut CUstream, c_uint) -> CUresult = ["cuStreamCreate"];
        cuStreamDestroy: fn(CUstream) -> CUresult = ["cuStreamDestroy_v2"];
        cuStreamSynchronize: fn(CUstream) -> CUresult = ["cuStreamSynchronize"];
        cuMemAlloc: fn(*mut CUdeviceptr, usize) -> CUresult = ["cuMemAlloc_v2"];
        cuMemFree: fn(CUdeviceptr) -> CUresult = ["cuMemFree_v2"];
        cuMemHostAlloc: fn(*mut *mut c_void, usize, c_uint) -> CUresult = ["cuMemHostAlloc"];
        cuMemFreeHost: fn(*mut c_void) -> CUresult = ["cuMemFreeHost"];
        cuMemcpyHtoDAsync: fn(CUdeviceptr, *const c_void, usize, CUstream) -> CUresult =
            ["cuMemcpyHtoDAsync_v2"];
        cuMemcpyDtoHAsync: fn(*mut c_void, CUdeviceptr, usize, CUstream) -> CUresult =
            ["cuMemcpyDtoHAsync_v2"];
        cuMemcpyDtoDAsync: fn(CUdeviceptr, CUdeviceptr, usize, CUstream) -> CUresult =
            ["cuMemcpyDtoDAsync_v2"];
        cuModuleLoadDataEx: fn(
            *mut CUmodule,
            *const c_void,
            c_uint,
            *mut CUjit_option,
            *mut *mut c_void,
        ) -> CUresult = ["cuModuleLoadDataEx"];
        cuModuleUnload: fn(CUmodule) -> CUresult = ["cuModuleUnload"];
        cuModuleGetFunction: fn(*mut CUfunction, CUmodule, *const c_char) -> CUresult =
            ["cuModuleGetFunction"];
        cuLaunchKernel: fn(
            CUfunction,
            c_uint,
            c_uint,
            c_uint,
            c_uint,
            c_uint,
            c_uint,
            c_uint,
            CUstream,
            *mut *mut c_void,
            *mut *mut c_void,
        ) -> CUresult = ["cuLaunchKernel"];
    }
}
