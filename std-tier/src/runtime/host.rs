//! Making a Rust host's runtime the one its kernel libraries bind to.
//!
//! A kernel library finds the C API in the process's global symbol scope, and one built
//! against the reference's headers also names `libtvm_ffi.so` as a needed library. A Rust
//! executable exports nothing by default, and no `libtvm_ffi.so` is loaded: the loader would
//! fail on the undefined symbols, or find some other `libtvm_ffi.so` (the reference's, say),
//! whose own start-up then registers a second set of built-ins into ours.
//!
//! So before the first library is loaded, the host loads a stand-in `libtvm_ffi.so` (built
//! by `build.rs`, embedded here, loaded from memory with `RTLD_GLOBAL`): its SONAME satisfies
//! the kernels' `DT_NEEDED`, and each of its C API symbols jumps to this runtime's function.
//! When this crate *is* the process's `libtvm_ffi.so` (the cdylib), nothing is needed; when
//! another runtime's `libtvm_ffi.so` is already loaded, loading is refused, since its kernels
//! and ours would see two registries.

use alloc::format;
use alloc::string::String;
use core::ffi::c_void;
use std::sync::OnceLock;

use crate::module::{LoadError, LoadErrorKind};

/// The outcome of the one attempt per process.
static HOST: OnceLock<Result<(), String>> = OnceLock::new();

/// Make sure kernel libraries loaded from now on bind to this runtime.
pub(crate) fn ensure_exported() -> Result<(), LoadError> {
    HOST.get_or_init(export).clone().map_err(|message| LoadError::new(LoadErrorKind::Open, message))
}

#[cfg(tvmffi_host_proxy)]
fn export() -> Result<(), String> {
    use super::__tvmffi_c_api::*;
    use super::{
        TVMFFIEnvModLookupFromImports, TVMFFIEnvModRegisterContextSymbol,
        TVMFFIEnvModRegisterSystemLibSymbol,
    };

    static PROXY: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/libtvm_ffi_proxy.so"));
    let ours: *const c_void = TVMFFIFunctionCall as *const c_void;
    let table: &[*const c_void] = &include!(concat!(env!("OUT_DIR"), "/host_proxy_table.rs"));

    if let Some(theirs) = loaded_function_call() {
        return if theirs == ours {
            Ok(()) // this crate is the loaded libtvm_ffi.so
        } else {
            Err("another TVM-FFI runtime (a libtvm_ffi.so that is not this one) is already \
                 loaded in this process; its libraries and this runtime's would see different \
                 registries"
                .into())
        };
    }
    let path = write_to_memory(PROXY)?;
    // SAFETY: the stand-in has no initialisers; loaded for the life of the process.
    let lib = unsafe {
        libloading::os::unix::Library::open(
            Some(&path),
            libloading::os::unix::RTLD_NOW | libloading::os::unix::RTLD_GLOBAL,
        )
    }
    .map_err(|e| format!("cannot load the host's stand-in libtvm_ffi.so: {e}"))?;
    // SAFETY: the symbol is `void tvmffi_host_proxy_install(const void* const*)`, reading
    // exactly as many addresses as `table` holds (both generated from one list).
    unsafe {
        let install = lib
            .get::<unsafe extern "C" fn(*const *const c_void)>(b"tvmffi_host_proxy_install\0")
            .map_err(|e| format!("the host's stand-in libtvm_ffi.so is malformed: {e}"))?;
        install(table.as_ptr());
    }
    core::mem::forget(lib);
    Ok(())
}

/// `TVMFFIFunctionCall` of the `libtvm_ffi.so` already loaded, if one is.
#[cfg(tvmffi_host_proxy)]
fn loaded_function_call() -> Option<*const c_void> {
    // SAFETY: `RTLD_NOLOAD` only looks up a library already loaded, running nothing.
    let lib = unsafe {
        libloading::os::unix::Library::open(
            Some("libtvm_ffi.so"),
            libloading::os::unix::RTLD_NOW | libc::RTLD_NOLOAD,
        )
    }
    .ok()?;
    // SAFETY: only the address is read.
    let f = unsafe { lib.get::<*const c_void>(b"TVMFFIFunctionCall\0") }.ok().map(|s| *s);
    drop(lib); // balances the reference count RTLD_NOLOAD took
    f
}

/// The bytes of a shared library as a path the loader can open: an anonymous memory file.
#[cfg(tvmffi_host_proxy)]
fn write_to_memory(bytes: &[u8]) -> Result<String, String> {
    use std::io::Write;
    use std::os::fd::FromRawFd;
    // SAFETY: a NUL-terminated name and no flags: a new anonymous file or -1.
    let fd = unsafe { libc::memfd_create(c"libtvm_ffi.so".as_ptr(), 0) };
    if fd < 0 {
        return Err(format!("memfd_create failed: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: a fresh descriptor that nothing else owns; it stays open (leaked below) for the
    // loader, which maps the file through `/proc/self/fd`.
    let mut file = unsafe { std::fs::File::from_raw_fd(fd) };
    file.write_all(bytes).map_err(|e| format!("writing the stand-in library failed: {e}"))?;
    core::mem::forget(file);
    Ok(format!("/proc/self/fd/{fd}"))
}

/// Without a stand-in for this target, kernel libraries bind to this runtime only if the
/// executable exports the C API (link with `-Wl,--export-dynamic-symbol=TVMFFI*`, or the
/// platform's equivalent).
#[cfg(not(tvmffi_host_proxy))]
fn export() -> Result<(), String> {
    Ok(())
}
