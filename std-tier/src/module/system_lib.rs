//! Process-wide symbol registries (`extra/c_env_api.h`) and their C entry points.
//!
//! - The **system library** registry: statically linked kernels register their
//!   `__tvm_ffi_<prefix><name>` functions with `TVMFFIEnvModRegisterSystemLibSymbol` (usually
//!   from a static initialiser), and [`Module::system_lib`](super::Module::system_lib) serves
//!   them as a module, one per prefix for the life of the process (the reference's
//!   `SystemLibModuleRegistry`, `src/ffi/extra/library_module_system_lib.cc`).
//! - **Context symbols** (`TVMFFIEnvModRegisterContextSymbol`): a name and an address; each
//!   library loaded afterwards that has a pointer variable of that name gets the address
//!   written into it (`ContextSymbolRegistry::InitContextSymbols`,
//!   `src/ffi/extra/library_module.cc`).
//! - `TVMFFIEnvModLookupFromImports`: a library's code, given its `__tvm_ffi__library_ctx`,
//!   finds a function in the module's imports or the global registry (`module.cc`).

use alloc::string::String;
use alloc::vec::Vec;
use core::ffi::{CStr, c_char, c_int, c_void};
use core::ptr::NonNull;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tvmffi_core::sys::TVMFFIObjectHandle;

use super::Module;
use super::error::{LoadError, LoadErrorKind};
use crate::ffi_boundary;

/// An address kept in a registry; only ever handed back or written out, never read
/// through here.
#[derive(Clone, Copy)]
struct Address(*mut c_void);
// SAFETY: the registries store addresses for other code to use; this module never reads
// through them, so moving the bare value across threads is harmless.
unsafe impl Send for Address {}

static SYSTEM_SYMBOLS: Mutex<Option<HashMap<String, Address>>> = Mutex::new(None);
static CONTEXT_SYMBOLS: Mutex<Vec<(String, Address)>> = Mutex::new(Vec::new());
static SYSTEM_MODULES: Mutex<Option<HashMap<String, Module>>> = Mutex::new(None);

/// Lock, ignoring poison: every critical section here is a single map operation that
/// leaves the map consistent even if a panic interrupts the caller afterwards.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Register `address` under `name` in the system library registry. A later registration
/// of the same name wins, as in the reference (which also prints a warning on stderr when
/// the address changes; a library does not print here). A null address reads as absent.
pub fn register_system_symbol(name: &str, address: *mut c_void) {
    lock(&SYSTEM_SYMBOLS).get_or_insert_with(HashMap::new).insert(name.into(), Address(address));
}

/// The address registered under exactly `name`, unless absent or null.
pub(crate) fn symbol(name: &str) -> Option<NonNull<c_void>> {
    NonNull::new(lock(&SYSTEM_SYMBOLS).as_ref()?.get(name)?.0)
}

/// The non-null names registered so far that start with `prefix`.
#[cfg(feature = "symbol-list")]
pub(crate) fn names_with_prefix(prefix: &str) -> Vec<String> {
    let table = lock(&SYSTEM_SYMBOLS);
    let Some(table) = table.as_ref() else { return Vec::new() };
    table
        .iter()
        .filter(|(k, a)| k.starts_with(prefix) && !a.0.is_null())
        .map(|(k, _)| k.clone())
        .collect()
}

/// Register a context symbol: libraries loaded from now on get `address` written into
/// their pointer variable `name`, when they have one (null included, as in the reference).
pub fn register_context_symbol(name: &str, address: *mut c_void) {
    lock(&CONTEXT_SYMBOLS).push((name.into(), Address(address)));
}

/// The registered context symbols, in registration order (the reference's
/// `Module::VisitContextSymbols` visits them so).
pub fn context_symbols() -> Vec<(String, *mut c_void)> {
    lock(&CONTEXT_SYMBOLS).iter().map(|(name, address)| (name.clone(), address.0)).collect()
}

/// Write every registered context symbol into `lib`'s variable of that name, in
/// registration order (so a later registration of a name wins).
pub(crate) fn init_context_symbols(lib: &super::library::Library) {
    let symbols = lock(&CONTEXT_SYMBOLS).clone();
    for (name, address) in symbols {
        if let Some(slot) = lib.symbol(&name) {
            // SAFETY: by the convention of context symbols, the library's symbol of this
            // name is a writable, aligned `void*` variable.
            unsafe { slot.cast::<*mut c_void>().as_ptr().write(address.0) };
        }
    }
}

/// The system library module for `prefix`, created on first use and kept for the life of
/// the process.
pub(crate) fn system_module(prefix: &str) -> Result<Module, LoadError> {
    let mut modules = lock(&SYSTEM_MODULES);
    let modules = modules.get_or_insert_with(HashMap::new);
    if let Some(m) = modules.get(prefix) {
        return Ok(m.clone());
    }
    let lib = super::library::Library::System { prefix: prefix.into() };
    let module = Module::from_library(lib)?;
    modules.insert(prefix.into(), module.clone());
    Ok(module)
}

/// A C string argument as UTF-8, or the error a C caller gets.
///
/// # Safety
///
/// `ptr` is null or a NUL-terminated string valid for `'a`.
unsafe fn arg_str<'a>(ptr: *const c_char, what: &str) -> Result<&'a str, LoadError> {
    if ptr.is_null() {
        return Err(LoadError::new(LoadErrorKind::InvalidName, alloc::format!("{what} is null")));
    }
    // SAFETY: non-null and NUL-terminated (the caller's promise).
    unsafe { CStr::from_ptr(ptr) }.to_str().map_err(|_| {
        LoadError::new(LoadErrorKind::InvalidName, alloc::format!("{what} is not UTF-8"))
    })
}

/// The body of `TVMFFIEnvModRegisterSystemLibSymbol`: register `symbol` under `name` in the
/// system library registry (see [`register_system_symbol`]). Returns 0, or -1 with an error
/// raised when `name` is null or not UTF-8.
///
/// # Safety
///
/// `name` is null or a NUL-terminated string valid for the call.
#[cfg_attr(not(feature = "runtime"), allow(dead_code))]
pub(crate) unsafe fn register_system_lib_symbol_c(
    name: *const c_char,
    symbol: *mut c_void,
) -> c_int {
    ffi_boundary(|| {
        // SAFETY: forwarded from this function's contract.
        register_system_symbol(unsafe { arg_str(name, "the symbol name") }?, symbol);
        Ok::<(), LoadError>(())
    })
}

/// The body of `TVMFFIEnvModRegisterContextSymbol`: register a context symbol (see
/// [`register_context_symbol`]). Returns 0, or -1 with an error raised when `name` is null
/// or not UTF-8.
///
/// # Safety
///
/// `name` is null or a NUL-terminated string valid for the call.
#[cfg_attr(not(feature = "runtime"), allow(dead_code))]
pub(crate) unsafe fn register_context_symbol_c(name: *const c_char, symbol: *mut c_void) -> c_int {
    ffi_boundary(|| {
        // SAFETY: forwarded from this function's contract.
        register_context_symbol(unsafe { arg_str(name, "the symbol name") }?, symbol);
        Ok::<(), LoadError>(())
    })
}

/// The body of `TVMFFIEnvModLookupFromImports`: find `func_name` among the imports of the module
/// `library_ctx` (depth first, in import order), then in the global function registry, and
/// store it in `*out` as a **borrowed** handle that stays valid as long as the module (the
/// module caches it). Returns 0, or -1 with an error raised when nothing is found or the
/// context is not a library module of this runtime.
///
/// # Safety
///
/// `library_ctx` is null or a live object (a library's `__tvm_ffi__library_ctx`);
/// `func_name` is null or a NUL-terminated string; `out` is null or writable.
#[cfg_attr(not(feature = "runtime"), allow(dead_code))]
pub(crate) unsafe fn lookup_from_imports_c(
    library_ctx: TVMFFIObjectHandle,
    func_name: *const c_char,
    out: *mut TVMFFIObjectHandle,
) -> c_int {
    ffi_boundary(|| {
        // SAFETY: forwarded from this function's contract.
        let name = unsafe { arg_str(func_name, "the function name") }?;
        if out.is_null() {
            return Err(LoadError::new(LoadErrorKind::InvalidName, "the output pointer is null"));
        }
        // SAFETY: null or a live object (the caller's promise).
        let module = unsafe { Module::from_library_ctx(library_ctx) }?;
        let function = module.lookup_from_imports(name)?;
        // SAFETY: `out` is non-null and writable (the caller's promise).
        unsafe { out.write(function.cast()) };
        Ok(())
    })
}
