//! DLPack 1.3 (`dlpack/dlpack.h`), declared here because the core is `no_std`.

use core::ffi::{c_char, c_int, c_void};

use super::{ALIGN_PTR, ALIGN_U64};
use crate::{DeviceType, dtype::DataTypeCode};

/// `DLDeviceType`: an open set, so an integer newtype.
pub type DLDeviceType = DeviceType;
/// `DLDataTypeCode`: an open set, so an integer newtype. `DLDataType::code` stores it as `u8`.
pub type DLDataTypeCode = DataTypeCode;

/// `DLPackVersion`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DLPackVersion {
    /// Major version; a mismatch means incompatible.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
}

/// `DLDevice`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DLDevice {
    /// The device type.
    pub device_type: DLDeviceType,
    /// The device index.
    pub device_id: i32,
}

/// `DLDataType`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DLDataType {
    /// A `DLDataTypeCode`.
    pub code: u8,
    /// Bits of one lane.
    pub bits: u8,
    /// Number of lanes.
    pub lanes: u16,
}

/// `DLTensor`: a borrowed view of strided memory.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct DLTensor {
    /// Base data pointer (device memory for device tensors).
    pub data: *mut c_void,
    /// Where the data lives.
    pub device: DLDevice,
    /// Number of dimensions.
    pub ndim: i32,
    /// Element type.
    pub dtype: DLDataType,
    /// `ndim` extents.
    pub shape: *mut i64,
    /// `ndim` strides in elements, or null for compact row-major.
    pub strides: *mut i64,
    /// Byte offset of the first element from `data`.
    pub byte_offset: u64,
}

/// `DLManagedTensor` (DLPack before 1.0): a tensor with the deleter of its producer.
#[repr(C)]
#[derive(Debug)]
pub struct DLManagedTensor {
    /// The tensor.
    pub dl_tensor: DLTensor,
    /// Producer context.
    pub manager_ctx: *mut c_void,
    /// Called once by the consumer to release the tensor; may be null.
    pub deleter: Option<unsafe extern "C" fn(self_: *mut DLManagedTensor)>,
}

/// `DLManagedTensorVersioned` (DLPack 1.x).
#[repr(C)]
#[derive(Debug)]
pub struct DLManagedTensorVersioned {
    /// DLPack version of the producer.
    pub version: DLPackVersion,
    /// Producer context.
    pub manager_ctx: *mut c_void,
    /// Called once by the consumer to release the tensor; may be null.
    pub deleter: Option<unsafe extern "C" fn(self_: *mut DLManagedTensorVersioned)>,
    /// `DLPACK_FLAG_BITMASK_*` flags.
    pub flags: u64,
    /// The tensor.
    pub dl_tensor: DLTensor,
}

/// `DLPackManagedTensorAllocator`: allocate a tensor like `prototype`.
pub type DLPackManagedTensorAllocator = Option<
    unsafe extern "C" fn(
        prototype: *mut DLTensor,
        out: *mut *mut DLManagedTensorVersioned,
        error_ctx: *mut c_void,
        set_error: Option<
            unsafe extern "C" fn(
                error_ctx: *mut c_void,
                kind: *const c_char,
                message: *const c_char,
            ),
        >,
    ) -> c_int,
>;
/// `DLPackManagedTensorFromPyObjectNoSync`.
pub type DLPackManagedTensorFromPyObjectNoSync = Option<
    unsafe extern "C" fn(py_object: *mut c_void, out: *mut *mut DLManagedTensorVersioned) -> c_int,
>;
/// `DLPackDLTensorFromPyObjectNoSync`.
pub type DLPackDLTensorFromPyObjectNoSync =
    Option<unsafe extern "C" fn(py_object: *mut c_void, out: *mut DLTensor) -> c_int>;
/// `DLPackCurrentWorkStream`.
pub type DLPackCurrentWorkStream = Option<
    unsafe extern "C" fn(
        device_type: DLDeviceType,
        device_id: i32,
        out_current_stream: *mut *mut c_void,
    ) -> c_int,
>;
/// `DLPackManagedTensorToPyObjectNoSync`.
pub type DLPackManagedTensorToPyObjectNoSync = Option<
    unsafe extern "C" fn(
        tensor: *mut DLManagedTensorVersioned,
        out_py_object: *mut *mut c_void,
    ) -> c_int,
>;

/// `DLPackExchangeAPIHeader`: version and link to an older API table.
#[repr(C)]
#[derive(Debug)]
pub struct DLPackExchangeAPIHeader {
    /// Version of the table.
    pub version: DLPackVersion,
    /// The previous table, or null.
    pub prev_api: *mut DLPackExchangeAPIHeader,
}

/// `DLPackExchangeAPI`: the fast exchange table a framework exposes.
#[repr(C)]
#[derive(Debug)]
pub struct DLPackExchangeAPI {
    /// Header.
    pub header: DLPackExchangeAPIHeader,
    /// Tensor allocator.
    pub managed_tensor_allocator: DLPackManagedTensorAllocator,
    /// Import from a framework object.
    pub managed_tensor_from_py_object_no_sync: DLPackManagedTensorFromPyObjectNoSync,
    /// Export to a framework object.
    pub managed_tensor_to_py_object_no_sync: DLPackManagedTensorToPyObjectNoSync,
    /// Borrow a framework object as a `DLTensor`.
    pub dltensor_from_py_object_no_sync: DLPackDLTensorFromPyObjectNoSync,
    /// The framework's current stream.
    pub current_work_stream: DLPackCurrentWorkStream,
}

c_layout! {
    pub(super) const DLPACK_LAYOUTS = [
        DLPackVersion { size: 8 / 8, align: 4, fields: { major = 0 / 0, minor = 4 / 4 } },
        DLDevice { size: 8 / 8, align: 4, fields: { device_type = 0 / 0, device_id = 4 / 4 } },
        DLDataType { size: 4 / 4, align: 2, fields: { code = 0 / 0, bits = 1 / 1, lanes = 2 / 2 } },
        DLTensor {
            size: 48 / 40 / 36,
            align: ALIGN_U64,
            fields: {
                data = 0 / 0, device = 8 / 4, ndim = 16 / 12, dtype = 20 / 16, shape = 24 / 20,
                strides = 32 / 24, byte_offset = 40 / 32 / 28,
            },
        },
        DLManagedTensor {
            size: 64 / 48 / 44,
            align: ALIGN_U64,
            fields: { dl_tensor = 0 / 0, manager_ctx = 48 / 40 / 36, deleter = 56 / 44 / 40 },
        },
        DLManagedTensorVersioned {
            size: 80 / 64 / 60,
            align: ALIGN_U64,
            fields: {
                version = 0 / 0, manager_ctx = 8 / 8, deleter = 16 / 12, flags = 24 / 16,
                dl_tensor = 32 / 24,
            },
        },
        DLPackExchangeAPIHeader {
            size: 16 / 12,
            align: ALIGN_PTR,
            fields: { version = 0 / 0, prev_api = 8 / 8 },
        },
        DLPackExchangeAPI {
            size: 56 / 32,
            align: ALIGN_PTR,
            fields: {
                header = 0 / 0, managed_tensor_allocator = 16 / 12,
                managed_tensor_from_py_object_no_sync = 24 / 16,
                managed_tensor_to_py_object_no_sync = 32 / 20,
                dltensor_from_py_object_no_sync = 40 / 24, current_work_stream = 48 / 28,
            },
        },
    ];
}
