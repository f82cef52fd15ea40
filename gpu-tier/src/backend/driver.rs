//! Loading a driver library at run time: the first of several names that opens, and its
//! functions resolved into a table of typed pointers.
//!
//! Nothing links against a driver, so the crate builds without a toolkit and a process
//! without the driver gets an error naming every library it tried.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// An open driver library, kept for the life of the process: contexts, streams and memory
/// it hands out must never outlive its code, and drivers do not support being unloaded.
#[derive(Debug)]
pub(super) struct Driver {
    lib: libloading::Library,
    /// The name it was opened under.
    pub(super) name: String,
}

impl Driver {
    /// Open the first of `names` that the loader finds; the error lists each name with the
    /// loader's reason.
    pub(super) fn open(names: &[&str]) -> Result<Self, String> {
        let mut reasons = Vec::new();
        for &name in names {
            // SAFETY: driver libraries' initialisers only set up the driver itself.
            match unsafe { libloading::Library::new(name) } {
                Ok(lib) => return Ok(Self { lib, name: name.into() }),
                // The loader's text usually names the file already.
                Err(e) => reasons.push(match e.to_string() {
                    text if text.contains(name) => text,
                    text => format!("{name}: {text}"),
                }),
            }
        }
        Err(format!("tried {}", reasons.join("; ")))
    }

    /// The first of `names` that the library exports, as `F`.
    ///
    /// # Safety
    ///
    /// `F` is a function pointer type matching the C signature of each name.
    pub(super) unsafe fn function<F: Copy>(&self, names: &[&str]) -> Result<F, String> {
        for name in names {
            // SAFETY: `F` matches the symbol's signature (caller).
            if let Ok(f) = unsafe { self.lib.get::<F>(name.as_bytes()) } {
                return Ok(*f);
            }
        }
        Err(format!("{} does not export {}: the driver is too old", self.name, names.join(" or ")))
    }
}

/// A table of driver functions, resolved by [`Driver::function`] when the driver loads:
/// each entry names a field, restates the C signature, and lists the symbol names to try
/// (newest first), as in `cuInit: fn(c_uint) -> CUresult = ["cuInit"];`.
macro_rules! driver_api {
    (
        $(#[$meta:meta])*
        struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                $field:ident: fn($($arg:ty),* $(,)?) -> $ret:ty = [$($sym:literal),+ $(,)?];
            )*
        }
    ) => {
        $(#[$meta])*
        #[allow(non_snake_case)]
        pub(super) struct $name {
            $(
                $(#[$fmeta])*
                pub(super) $field: unsafe extern "C" fn($($arg),*) -> $ret,
            )*
        }

        impl $name {
            /// Resolve every function.
            ///
            /// # Safety
            ///
            /// `driver` is the library whose C signatures these declarations restate.
            pub(super) unsafe fn load(
                driver: &$crate::backend::driver::Driver,
            ) -> Result<Self, alloc::string::String> {
                Ok(Self {
                    // SAFETY: each field's type restates the function's C signature.
                    $( $field: unsafe { driver.function(&[$($sym),+])? }, )*
                })
            }
        }

        impl core::fmt::Debug for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(stringify!($name))
            }
        }
    };
}

pub(super) use driver_api;

/// A C string from a driver (error names, device names), or `fallback` when null.
///
/// # Safety
///
/// `p` is null or a NUL-terminated string valid for the call.
pub(super) unsafe fn c_text(p: *const core::ffi::c_char, fallback: &str) -> String {
    if p.is_null() {
        return fallback.into();
    }
    // SAFETY: non-null and NUL-terminated (caller).
    unsafe { core::ffi::CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_library_names_every_candidate() {
        let err = Driver::open(&["libtvmffi-no-such-driver.so.1", "libtvmffi-no-such-driver.so"])
            .unwrap_err();
        assert!(err.starts_with("tried libtvmffi-no-such-driver.so.1: "), "{err}");
        assert!(err.contains("; libtvmffi-no-such-driver.so: "), "{err}");
        assert_eq!(err.matches("libtvmffi-no-such-driver.so.1").count(), 1, "{err}");
    }

    #[test]
    fn a_missing_function_is_an_error() {
        // The C library is always there; it has no CUDA functions.
        let driver = Driver::open(&["libc.so.6"]).unwrap();
        // SAFETY: never called.
        let f = unsafe { driver.function::<unsafe extern "C" fn() -> i32>(&["cuNoSuchThing"]) };
        assert_eq!(
            f.unwrap_err(),
            "libc.so.6 does not export cuNoSuchThing: the driver is too old"
        );
        // SAFETY: `strlen`'s signature.
        let strlen = unsafe {
            driver.function::<unsafe extern "C" fn(*const core::ffi::c_char) -> usize>(&[
                "no_such_strlen",
                "strlen",
            ])
        }
        .unwrap();
        // SAFETY: a NUL-terminated string.
        assert_eq!(unsafe { strlen(c"four".as_ptr()) }, 4);
        // SAFETY: null is allowed.
        assert_eq!(unsafe { c_text(core::ptr::null(), "none") }, "none");
    }
}
