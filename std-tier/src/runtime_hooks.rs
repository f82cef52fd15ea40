//! The runtime services this tier's foundation needs but does not define yet: the global
//! function registry. Until the integration wires them to it, they report "nothing
//! registered", which every caller handles as the reference does when a name is absent.
//!
//! | hook                  | the reference's source of truth                          |
//! |-----------------------|----------------------------------------------------------|
//! | [`global_function`]   | `Function::GetGlobal(name)`                              |
//! | [`load_from_bytes`]   | `Function::GetGlobal("ffi.Module.load_from_bytes.<kind>")` |

use alloc::format;

use crate::module::{FunctionRef, LoadError, LoadErrorKind, Module};

/// The global function `name`, if registered (`TVMFFIFunctionGetGlobal`).
pub(crate) fn global_function(name: &str) -> Option<FunctionRef> {
    let _ = name;
    None
}

/// Rebuild a module of `kind` serialised in a library binary, through the global loader
/// `ffi.Module.load_from_bytes.<kind>` (`LoadModuleFromBytes`, `library_module.cc`).
pub(crate) fn load_from_bytes(kind: &str, bytes: &[u8]) -> Result<Module, LoadError> {
    let loader_key = format!("ffi.Module.load_from_bytes.{kind}");
    match global_function(&loader_key) {
        // Calling the loader with the blob as `Bytes` needs the bytes object type of the
        // alloc tier; until then a registered loader cannot be reached either.
        Some(_) | None => {
            let _ = bytes;
            Err(LoadError::new(
                LoadErrorKind::MissingLoader,
                format!(
                    "Library binary was created using {{{kind}}} but a loader of that name is not \
                     registered. Make sure to have runtime that registers {loader_key}"
                ),
            ))
        }
    }
}
