//! Kernel launch shapes ([`Dim3`], [`LaunchConfig`]) and parameters ([`Params`]).

use alloc::format;
use alloc::vec::Vec;
use core::ffi::c_void;
use core::marker::PhantomData;

use tvmffi_alloc::Error;

/// Grid or block extents (the reference's `tvm::ffi::dim3`); unset axes are 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Dim3 {
    /// Extent along x.
    pub x: u32,
    /// Extent along y.
    pub y: u32,
    /// Extent along z.
    pub z: u32,
}

impl Dim3 {
    /// `(x, y, z)`.
    pub const fn new(x: u32, y: u32, z: u32) -> Self {
        Self { x, y, z }
    }

    /// `(x, 1, 1)`.
    pub const fn x(x: u32) -> Self {
        Self::new(x, 1, 1)
    }

    /// `x * y * z`, in 64 bits.
    pub const fn volume(self) -> u64 {
        self.x as u64 * self.y as u64 * self.z as u64
    }
}

impl Default for Dim3 {
    fn default() -> Self {
        Self::new(1, 1, 1)
    }
}

impl From<u32> for Dim3 {
    fn from(x: u32) -> Self {
        Self::x(x)
    }
}

impl From<(u32, u32)> for Dim3 {
    fn from((x, y): (u32, u32)) -> Self {
        Self::new(x, y, 1)
    }
}

impl From<(u32, u32, u32)> for Dim3 {
    fn from((x, y, z): (u32, u32, u32)) -> Self {
        Self::new(x, y, z)
    }
}

/// How a kernel is launched: blocks in the grid, threads in a block, and dynamic shared
/// memory per block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct LaunchConfig {
    /// Blocks in the grid.
    pub grid: Dim3,
    /// Threads in a block.
    pub block: Dim3,
    /// Bytes of dynamic shared memory per block.
    pub shared_mem_bytes: u32,
}

impl LaunchConfig {
    /// `grid` blocks of `block` threads, no dynamic shared memory.
    pub fn new(grid: impl Into<Dim3>, block: impl Into<Dim3>) -> Self {
        Self { grid: grid.into(), block: block.into(), shared_mem_bytes: 0 }
    }

    /// One thread per element for `n` elements, `block_size` threads a block: the grid is
    /// `ceil(n / block_size)` blocks (at least one). The kernel checks its index against `n`.
    pub fn for_elements(n: u32, block_size: u32) -> Self {
        let block_size = block_size.max(1);
        Self::new(n.div_ceil(block_size).max(1), block_size)
    }

    /// With `bytes` of dynamic shared memory per block.
    pub fn with_shared_mem(mut self, bytes: u32) -> Self {
        self.shared_mem_bytes = bytes;
        self
    }

    /// Refuse empty grids and blocks, which drivers reject with a less telling message.
    pub fn check(&self) -> Result<(), Error> {
        for (what, d) in [("grid", self.grid), ("block", self.block)] {
            if d.volume() == 0 {
                return Err(Error::value_error(format!(
                    "kernel launch with an empty {what} ({}, {}, {}): every extent must be at \
                     least 1",
                    d.x, d.y, d.z
                )));
            }
        }
        Ok(())
    }
}

/// A kernel's parameters, in order: the `void**` array drivers take, each entry pointing
/// at a value borrowed for `'a`.
///
/// ```
/// use tvmffi_gpu::Params;
///
/// let (data, n) = (core::ptr::null_mut::<f32>(), 4u32);
/// let params = Params::new().arg(&data).arg(&n);
/// assert_eq!(params.len(), 2);
/// ```
#[derive(Debug, Default)]
pub struct Params<'a> {
    pointers: Vec<*mut c_void>,
    _values: PhantomData<&'a ()>,
}

impl<'a> Params<'a> {
    /// No parameters.
    pub fn new() -> Self {
        Self { pointers: Vec::new(), _values: PhantomData }
    }

    /// Add `value` as the next parameter; its type must be the kernel's (a device pointer
    /// as a raw pointer, `u32` for `.u32`, ...), which the launch's caller promises.
    pub fn arg<T: Copy>(mut self, value: &'a T) -> Self {
        // Drivers only read through these pointers.
        self.pointers.push((value as *const T).cast_mut().cast());
        self
    }

    /// How many parameters there are.
    pub fn len(&self) -> usize {
        self.pointers.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.pointers.is_empty()
    }

    /// The `void**` array, for the driver.
    pub(crate) fn as_mut_ptr(&mut self) -> *mut *mut c_void {
        self.pointers.as_mut_ptr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_round_up_to_whole_blocks() {
        assert_eq!(LaunchConfig::for_elements(1000, 256), LaunchConfig::new(4, 256));
        assert_eq!(LaunchConfig::for_elements(1024, 256), LaunchConfig::new(4, 256));
        assert_eq!(LaunchConfig::for_elements(0, 256).grid, Dim3::x(1));
        assert_eq!(LaunchConfig::for_elements(u32::MAX, 1024).grid, Dim3::x(1 << 22));
        assert_eq!(LaunchConfig::for_elements(7, 0).block, Dim3::x(1));
        assert_eq!(LaunchConfig::new((2, 3), 1).with_shared_mem(64).shared_mem_bytes, 64);
    }

    #[test]
    fn empty_shapes_are_refused() {
        LaunchConfig::new(1, 1).check().unwrap();
        let err = LaunchConfig::new((4, 0, 1), 32).check().unwrap_err();
        assert_eq!(err.kind(), "ValueError");
        assert_eq!(
            err.message(),
            "kernel launch with an empty grid (4, 0, 1): every extent must be at least 1"
        );
        let err = LaunchConfig { block: Dim3::new(0, 0, 0), ..Default::default() };
        assert!(err.check().unwrap_err().message().contains("empty block"));
    }

    #[test]
    fn params_point_at_their_values() {
        let (a, b) = (7u64, 2.5f32);
        let mut params = Params::new().arg(&a).arg(&b);
        let p = params.as_mut_ptr();
        // SAFETY: two entries, pointing at `a` and `b`.
        unsafe {
            assert_eq!(*(*p).cast::<u64>(), 7);
            assert_eq!(*(*p.add(1)).cast::<f32>(), 2.5);
        }
        assert!(!params.is_empty() && Params::new().is_empty());
    }
}
