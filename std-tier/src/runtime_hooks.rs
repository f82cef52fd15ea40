//! What module loading needs from the runtime, reached through the C API so that a kernel
//! library uses its host's registry.
//!
//! | hook                  | the reference's source of truth                          |
//! |-----------------------|----------------------------------------------------------|
//! | [`global_function`]   | `Function::GetGlobal(name)`                              |
//! | [`load_from_bytes`]   | `Function::GetGlobal("ffi.Module.load_from_bytes.<kind>")` |

use alloc::format;

use tvmffi_alloc::{Bytes, Function};

use crate::module::{FunctionRef, LoadError, LoadErrorKind, Module};

/// The global function `name`, if registered (`TVMFFIFunctionGetGlobal`).
pub(crate) fn global_function(name: &str) -> Option<FunctionRef> {
    Function::get_global(name).map(Function::into_object)
}

/// Rebuild a module of `kind` serialised in a library binary, through the global loader
/// `ffi.Module.load_from_bytes.<kind>` (`LoadModuleFromBytes`, `library_module.cc`).
pub(crate) fn load_from_bytes(kind: &str, bytes: &[u8]) -> Result<Module, LoadError> {
    let loader_key = format!("ffi.Module.load_from_bytes.{kind}");
    let Some(loader) = Function::get_global(&loader_key) else {
        return Err(LoadError::new(
            LoadErrorKind::MissingLoader,
            format!(
                "Library binary was created using {{{kind}}} but a loader of that name is not \
                 registered. Make sure to have runtime that registers {loader_key}"
            ),
        ));
    };
    let fail =
        |what: &str| LoadError::new(LoadErrorKind::BadLibraryBin, format!("{loader_key}: {what}"));
    let blob = Bytes::try_new(bytes).map_err(|e| fail(&format!("{e}")))?;
    let module = loader.call(&[blob.view()]).map_err(|e| fail(&format!("{e}")))?;
    module.get::<Module>().map_err(|e| fail(&format!("did not return a module: {e}")))
}
