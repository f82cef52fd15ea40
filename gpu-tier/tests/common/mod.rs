//! Shared by the integration tests: the fake backend, and the GPU tests' skip rule.
#![allow(dead_code)] // each test file uses its own subset

pub mod fake;
#[cfg(feature = "rocm")]
pub mod hiprtc;

use std::path::{Path, PathBuf};
use std::process::Command;

use tvmffi_core::{Device, DeviceType};
use tvmffi_gpu::GpuDevice;

/// The hand-written PTX kernel `add_one(float* x, unsigned n)`.
pub const ADD_ONE_PTX: &str = include_str!("../../kernels/add_one.ptx");
/// Its HIP source, for hipRTC.
pub const ADD_ONE_HIP: &str = include_str!("../../kernels/add_one.hip");

/// Device 0 of `device_type`, or `None` after saying why the calling test is skipped:
/// GPU tests pass without a driver or a device, unless `TVMFFI_REQUIRE_GPU` is set (on
/// machines that have one), where that is a failure.
pub fn gpu_or_skip(device_type: DeviceType) -> Option<GpuDevice> {
    match GpuDevice::open(Device::new(device_type, 0)) {
        Ok(device) => Some(device),
        Err(e) if std::env::var_os("TVMFFI_REQUIRE_GPU").is_some_and(|v| !v.is_empty()) => {
            panic!("TVMFFI_REQUIRE_GPU is set but there is no device: {e}")
        }
        Err(e) => {
            eprintln!("SKIPPED: no {} device: {e}", device_type.name().unwrap_or("such"));
            None
        }
    }
}

/// Skip the calling test with `why`, or fail it under CI (`CI` set), where every
/// prerequisite but a GPU is installed by the scripts.
pub fn skip(why: &str) {
    if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) {
        panic!("a prerequisite is missing under CI: {why}");
    }
    eprintln!("SKIPPED: {why}");
}

/// The reference headers: `TVM_FFI_INCLUDE_DIR`, or those of the venv `ci/lib.sh` makes.
fn include_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("TVM_FFI_INCLUDE_DIR") {
        return Ok(dir.into());
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let out = Command::new(root.join(".venv/bin/tvm-ffi-config"))
        .arg("--includedir")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .ok_or(
            "the reference headers were not found: run `source ci/lib.sh; ensure_venv` \
                 to create .venv, or set TVM_FFI_INCLUDE_DIR",
        )?;
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// `tests/fixtures/env_kernel.c` compiled against the reference headers, or `None` after
/// [`skip`] when they or a C compiler are missing.
pub fn env_kernel() -> Option<PathBuf> {
    let built = (|| {
        let include = include_dir()?;
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tvmffi-gpu-fixtures");
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let output = dir.join("libenv_kernel.so");
        // Built under a unique name, then renamed: parallel test processes may build it at
        // once, and a library must never be loaded half written.
        let tmp = output.with_extension(format!("{}.tmp", std::process::id()));
        let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
        let status = Command::new(&cc)
            .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-O1", "-fPIC", "-shared"])
            .arg(format!("-I{}", include.display()))
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/env_kernel.c"))
            .arg("-o")
            .arg(&tmp)
            .status()
            .map_err(|e| format!("cannot run {cc}: {e}"))?;
        assert!(status.success(), "compiling env_kernel.c failed: {status}");
        std::fs::rename(&tmp, &output).map_err(|e| e.to_string())?;
        Ok::<_, String>(output)
    })();
    built.map_err(|why| skip(&why)).ok()
}
