//! Devices: where a tensor's memory lives.

use crate::sys::DLDevice;

open_enum! {
    /// A DLPack device type (`DLDeviceType`), an open set: new devices appear over time.
    pub struct DeviceType(i32);
    /// Host memory.
    CPU = 1 => "kDLCPU";
    /// CUDA device memory.
    CUDA = 2 => "kDLCUDA";
    /// Pinned CUDA host memory.
    CUDA_HOST = 3 => "kDLCUDAHost";
    /// OpenCL device memory.
    OPENCL = 4 => "kDLOpenCL";
    /// Vulkan buffer.
    VULKAN = 7 => "kDLVulkan";
    /// Metal buffer.
    METAL = 8 => "kDLMetal";
    /// Verilog simulator buffer.
    VPI = 9 => "kDLVPI";
    /// ROCm device memory.
    ROCM = 10 => "kDLROCM";
    /// Pinned ROCm host memory.
    ROCM_HOST = 11 => "kDLROCMHost";
    /// Reserved for extension devices.
    EXT_DEV = 12 => "kDLExtDev";
    /// CUDA managed (unified) memory.
    CUDA_MANAGED = 13 => "kDLCUDAManaged";
    /// oneAPI unified shared memory.
    ONE_API = 14 => "kDLOneAPI";
    /// WebGPU buffer.
    WEBGPU = 15 => "kDLWebGPU";
    /// Qualcomm Hexagon DSP.
    HEXAGON = 16 => "kDLHexagon";
    /// Microsoft MAIA.
    MAIA = 17 => "kDLMAIA";
    /// AWS Trainium.
    TRN = 18 => "kDLTrn";
}

impl TryFrom<u32> for DeviceType {
    type Error = core::num::TryFromIntError;

    fn try_from(v: u32) -> Result<Self, Self::Error> {
        i32::try_from(v).map(Self)
    }
}

/// A device: its type and its index among devices of that type.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[repr(transparent)]
pub struct Device(DLDevice);

impl Device {
    /// The host CPU.
    pub const CPU: Self = Self::new(DeviceType::CPU, 0);

    /// A device of `device_type` with index `device_id`.
    #[inline]
    pub const fn new(device_type: DeviceType, device_id: i32) -> Self {
        Self(DLDevice { device_type, device_id })
    }

    /// The device type.
    #[inline]
    pub const fn device_type(self) -> DeviceType {
        self.0.device_type
    }

    /// The device index.
    #[inline]
    pub const fn device_id(self) -> i32 {
        self.0.device_id
    }

    /// The C struct.
    #[inline]
    pub const fn as_raw(self) -> DLDevice {
        self.0
    }

    /// Wrap the C struct.
    #[inline]
    pub const fn from_raw(raw: DLDevice) -> Self {
        Self(raw)
    }
}

impl From<DLDevice> for Device {
    fn from(raw: DLDevice) -> Self {
        Self(raw)
    }
}

impl From<Device> for DLDevice {
    fn from(d: Device) -> Self {
        d.0
    }
}
