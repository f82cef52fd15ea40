//! Where a module's symbols come from: a dynamic library (`dlopen`) or the process's system
//! library registry.
//!
//! Loading goes through `libloading` rather than raw `libc::dlopen`: it reads `dlerror`
//! right after the failing call under the loader's own lock (glibc's `dlerror` is
//! per-thread, but other libcs share one buffer), tells a missing symbol from a symbol
//! whose value is null, and covers Windows (`LoadLibraryExW`), which the reference supports
//! too, with the same code.

use alloc::borrow::ToOwned;
use alloc::ffi::CString;
use alloc::format;
use alloc::string::String;
use core::ffi::c_void;
use core::ptr::NonNull;
use std::path::{Path, PathBuf};

use tvmffi_core::sys::{
    TVM_FFI_VERSION_MAJOR, TVM_FFI_VERSION_MINOR, TVM_FFI_VERSION_PATCH, TVMFFIVersion,
};

use super::error::{LoadError, LoadErrorKind};
use super::symbol;
use super::system_lib;

/// How to open a dynamic library.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoadOptions {
    /// Resolve every undefined symbol when loading (`RTLD_NOW`) instead of on first call
    /// (`RTLD_LAZY`, the reference's choice). A kernel library that needs a function this
    /// process lacks then fails to load with the loader's "undefined symbol" message,
    /// instead of killing the process the first time the function is called.
    pub bind_now: bool,
}

impl LoadOptions {
    /// The reference's behaviour: lazy binding, symbols kept local to the library.
    pub const fn new() -> Self {
        Self { bind_now: false }
    }

    /// Set [`bind_now`](Self::bind_now).
    pub const fn bind_now(mut self, yes: bool) -> Self {
        self.bind_now = yes;
        self
    }
}

/// A source of symbols (the reference's `Library`).
#[derive(Debug)]
pub(crate) enum Library {
    /// A loaded shared library, closed when the last module or function using it is gone.
    Dynamic { lib: libloading::Library, path: PathBuf },
    /// The process-wide registry of `TVMFFIEnvModRegisterSystemLibSymbol`, seen through a
    /// name prefix.
    System { prefix: String },
}

impl Library {
    /// `dlopen(path)` with the reference's flags (`RTLD_LAZY | RTLD_LOCAL`) or `RTLD_NOW`.
    pub(crate) fn open(path: &Path, options: LoadOptions) -> Result<Self, LoadError> {
        // A host's kernels must bind to its runtime, not to another `libtvm_ffi.so`.
        #[cfg(feature = "runtime")]
        crate::runtime::ensure_exported()?;
        let lib = open_raw(path, options).map_err(|e| {
            // The reference's wording, with the loader's text appended.
            LoadError::new(
                LoadErrorKind::Open,
                format!("Failed to load dynamic shared library {} {}", path.display(), e),
            )
        })?;
        let lib = Self::Dynamic { lib, path: path.to_owned() };
        lib.check_abi_version()?;
        Ok(lib)
    }

    /// The file a dynamic library was loaded from.
    pub(crate) fn path(&self) -> Option<&Path> {
        match self {
            Self::Dynamic { path, .. } => Some(path),
            Self::System { .. } => None,
        }
    }

    /// The address of `name` (`GetSymbol`), or `None` when absent or null.
    pub(crate) fn symbol(&self, name: &str) -> Option<NonNull<c_void>> {
        match self {
            Self::Dynamic { lib, .. } => {
                let name = CString::new(name).ok()?;
                // SAFETY: the symbol is only read as an address here; what it points to is
                // typed by the caller, which knows the convention of the name it asked for.
                let sym = unsafe { lib.get::<*mut c_void>(name.as_bytes_with_nul()) }.ok()?;
                NonNull::new(*sym)
            }
            Self::System { prefix } => {
                system_lib::symbol(&format!("{prefix}{name}")).or_else(|| system_lib::symbol(name))
            }
        }
    }

    /// The address of the function `__tvm_ffi_<name>` (`GetSymbolWithSymbolPrefix`); a
    /// system library tries `__tvm_ffi_<prefix><name>` first, then `__tvm_ffi_<name>`.
    pub(crate) fn function_symbol(&self, name: &str) -> Option<NonNull<c_void>> {
        match self {
            Self::Dynamic { .. } => self.symbol(&format!("{}{name}", symbol::FUNCTION_PREFIX)),
            Self::System { prefix } => {
                system_lib::symbol(&format!("{}{prefix}{name}", symbol::FUNCTION_PREFIX))
                    .or_else(|| system_lib::symbol(&format!("{}{name}", symbol::FUNCTION_PREFIX)))
            }
        }
    }

    /// Refuse a library that declares an ABI version this runtime cannot serve.
    ///
    /// The reference has no such check. A library may export `__tvm_ffi__abi_version`, a
    /// `TVMFFIVersion` (the `TVM_FFI_VERSION_*` of the headers it was built against); when
    /// present it must have our major version, and our minor version too while the major
    /// is 0 (in `0.x` a minor bump may break the ABI); from 1.0 on, a minor version newer
    /// than ours is refused (the library may call functions we lack). The patch level never
    /// matters. Libraries without the symbol (every library built with the reference's
    /// headers) load as before.
    fn check_abi_version(&self) -> Result<(), LoadError> {
        let Some(ptr) = self.symbol(symbol::ABI_VERSION) else { return Ok(()) };
        // SAFETY: by the convention of the name, the symbol is a `TVMFFIVersion` (three
        // `uint32_t`); it is read unaligned in case a foreign toolchain packed it.
        let theirs = unsafe { ptr.cast::<TVMFFIVersion>().as_ptr().read_unaligned() };
        if abi_compatible(theirs) {
            return Ok(());
        }
        Err(LoadError::new(
            LoadErrorKind::IncompatibleAbi,
            format!(
                "{} was built for TVM-FFI C ABI {}.{}.{}, which this runtime (C ABI {}.{}.{}) \
                 cannot serve",
                self.path().map_or_else(|| "the library".into(), |p| p.display().to_string()),
                theirs.major,
                theirs.minor,
                theirs.patch,
                TVM_FFI_VERSION_MAJOR,
                TVM_FFI_VERSION_MINOR,
                TVM_FFI_VERSION_PATCH,
            ),
        ))
    }
}

use alloc::string::ToString;

/// The rule documented on [`Library::check_abi_version`].
pub(crate) fn abi_compatible(theirs: TVMFFIVersion) -> bool {
    if theirs.major != TVM_FFI_VERSION_MAJOR {
        return false;
    }
    if TVM_FFI_VERSION_MAJOR == 0 {
        theirs.minor == TVM_FFI_VERSION_MINOR
    } else {
        theirs.minor <= TVM_FFI_VERSION_MINOR
    }
}

#[cfg(unix)]
fn open_raw(path: &Path, options: LoadOptions) -> Result<libloading::Library, libloading::Error> {
    use libloading::os::unix::{Library, RTLD_LAZY, RTLD_LOCAL, RTLD_NOW};
    let binding = if options.bind_now { RTLD_NOW } else { RTLD_LAZY };
    // SAFETY: loading runs the library's initialisers; loading a library is exactly what
    // the caller asked for, and its initialisers are its author's responsibility.
    unsafe { Library::open(Some(path), binding | RTLD_LOCAL) }.map(Into::into)
}

#[cfg(not(unix))]
fn open_raw(path: &Path, _: LoadOptions) -> Result<libloading::Library, libloading::Error> {
    // SAFETY: as on unix; Windows resolves imports at load time anyway.
    unsafe { libloading::Library::new(path) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abi_rule() {
        let v = |major, minor, patch| TVMFFIVersion { major, minor, patch };
        assert!(abi_compatible(v(TVM_FFI_VERSION_MAJOR, TVM_FFI_VERSION_MINOR, 0)));
        assert!(abi_compatible(v(TVM_FFI_VERSION_MAJOR, TVM_FFI_VERSION_MINOR, 999)));
        assert!(!abi_compatible(v(TVM_FFI_VERSION_MAJOR + 1, 0, 0)));
        assert!(!abi_compatible(v(TVM_FFI_VERSION_MAJOR, TVM_FFI_VERSION_MINOR + 1, 0)));
        if TVM_FFI_VERSION_MAJOR == 0 && TVM_FFI_VERSION_MINOR > 0 {
            assert!(!abi_compatible(v(0, TVM_FFI_VERSION_MINOR - 1, 0)));
        }
    }

    #[test]
    #[cfg_attr(miri, ignore = "Miri cannot call dlopen")]
    fn missing_file_error_carries_the_loader_text() {
        let err = Library::open(Path::new("/nonexistent/libnothing.so"), LoadOptions::new())
            .expect_err("no such file");
        assert_eq!(err.kind(), LoadErrorKind::Open);
        assert!(err.message().starts_with("Failed to load dynamic shared library /nonexistent"));
        #[cfg(target_os = "linux")]
        assert!(err.message().contains("No such file or directory"), "{}", err.message());
    }
}
