//! Compiling HIP source to an AMD code object at run time with hipRTC (`libhiprtc.so`), so
//! that the ROCm tests and example need no `hipcc`. Code objects are per-architecture; with
//! no `--offload-arch` option hipRTC compiles for the current device's.

use core::ffi::{c_char, c_int, c_void};
use std::ffi::CString;

type Program = *mut c_void;
type Status = c_int;

/// Where hipRTC is looked for, in order.
const LIBRARY_NAMES: &[&str] = &[
    "libhiprtc.so",
    "libhiprtc.so.7",
    "libhiprtc.so.6",
    "libhiprtc.so.5",
    "/opt/rocm/lib/libhiprtc.so",
];

/// Compile `source` (`name` is its file name in messages) to a code object.
pub fn compile(source: &str, name: &str) -> Result<Vec<u8>, String> {
    let lib = LIBRARY_NAMES
        .iter()
        // SAFETY: hipRTC's initialisers only set up hipRTC.
        .find_map(|n| unsafe { libloading::Library::new(n) }.ok())
        .ok_or_else(|| format!("hipRTC not found (tried {})", LIBRARY_NAMES.join(", ")))?;
    // SAFETY: the signatures of `hiprtc.h`.
    unsafe {
        let create: libloading::Symbol<
            unsafe extern "C" fn(
                *mut Program,
                *const c_char,
                *const c_char,
                c_int,
                *const *const c_char,
                *const *const c_char,
            ) -> Status,
        > = lib.get(b"hiprtcCreateProgram").map_err(|e| e.to_string())?;
        let compile: libloading::Symbol<
            unsafe extern "C" fn(Program, c_int, *const *const c_char) -> Status,
        > = lib.get(b"hiprtcCompileProgram").map_err(|e| e.to_string())?;
        let size_of: libloading::Symbol<unsafe extern "C" fn(Program, *mut usize) -> Status> =
            lib.get(b"hiprtcGetCodeSize").map_err(|e| e.to_string())?;
        let code_of: libloading::Symbol<unsafe extern "C" fn(Program, *mut c_char) -> Status> =
            lib.get(b"hiprtcGetCode").map_err(|e| e.to_string())?;
        let log_size: libloading::Symbol<unsafe extern "C" fn(Program, *mut usize) -> Status> =
            lib.get(b"hiprtcGetProgramLogSize").map_err(|e| e.to_string())?;
        let log_of: libloading::Symbol<unsafe extern "C" fn(Program, *mut c_char) -> Status> =
            lib.get(b"hiprtcGetProgramLog").map_err(|e| e.to_string())?;
        let destroy: libloading::Symbol<unsafe extern "C" fn(*mut Program) -> Status> =
            lib.get(b"hiprtcDestroyProgram").map_err(|e| e.to_string())?;

        let (src, file) = (CString::new(source).unwrap(), CString::new(name).unwrap());
        let mut program = core::ptr::null_mut();
        let status = create(
            &mut program,
            src.as_ptr(),
            file.as_ptr(),
            0,
            core::ptr::null(),
            core::ptr::null(),
        );
        if status != 0 {
            return Err(format!("hiprtcCreateProgram failed ({status})"));
        }
        let result = if compile(program, 0, core::ptr::null()) != 0 {
            let mut n = 0;
            log_size(program, &mut n);
            let mut log = vec![0u8; n.max(1)];
            log_of(program, log.as_mut_ptr().cast());
            Err(format!("hipRTC could not compile {name}:\n{}", String::from_utf8_lossy(&log)))
        } else {
            let mut n = 0;
            size_of(program, &mut n);
            let mut code = vec![0u8; n];
            code_of(program, code.as_mut_ptr().cast());
            Ok(code)
        };
        destroy(&mut program);
        result
    }
}
