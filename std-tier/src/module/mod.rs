//! Library modules: functions exported by shared libraries (`dlopen`) and by statically
//! linked kernels (the system library), as `ffi.Module` objects.
//!
//! A library exports each function as `__tvm_ffi_<name>`, a
//! [`TVMFFISafeCallType`](tvmffi_core::sys::TVMFFISafeCallType) that
//! ignores its handle. [`Module::get_function`] wraps one as a function object (call it
//! with [`tvmffi_core::call::call`]) that keeps the library loaded. Reserved symbols (the
//! reference's `include/tvm/ffi/extra/module.h`, namespace `symbol`):
//!
//! | symbol                          | what it is                                                |
//! |---------------------------------|-----------------------------------------------------------|
//! | `__tvm_ffi_<name>`              | the function `<name>`                                     |
//! | `__tvm_ffi__metadata_<name>`    | a getter returning `<name>`'s metadata (JSON string)      |
//! | `__tvm_ffi__doc_<name>`         | a getter returning `<name>`'s docstring                   |
//! | `__tvm_ffi__library_ctx`        | a `void*` set to the library's module when loaded         |
//! | `__tvm_ffi__library_bin`        | serialised modules and their import tree (format below) |
//! | `__tvm_ffi__abi_version`        | ours, optional: the `TVMFFIVersion` the library targets  |
//!
//! # `__tvm_ffi__library_bin`
//!
//! Little-endian throughout: `nbytes: u64`, then `indptr: vec<u64>`, `child_indices:
//! vec<u64>` and, per module, `kind: str` followed (unless the kind is `"_lib"`) by its
//! serialised bytes as a `str`; a `vec`/`str` is a `u64` count then the items. Module `i`
//! imports `child_indices[indptr[i]..indptr[i + 1]]`; module 0 is returned. `"_lib"` is the
//! library's own module; other kinds are rebuilt by the global loader
//! `ffi.Module.load_from_bytes.<kind>`. Every length and index is checked.
//!
//! # Layout
//!
//! A module is an object of type index `kTVMFFIModule` (73) with **our own payload**: the
//! reference's C++ `ModuleObj` starts with a vtable that C++ code calls directly, so C++
//! code calling `ModuleObj` virtual methods on a module made here is out of scope (it would
//! read our payload as a vtable). Everything else (reference counting, passing modules
//! through `Any`, the `TVMFFIEnvMod*` functions, and the Python package's calls through the
//! global `ffi.Module*` functions once they are registered) works across the ABI.

#[cfg(feature = "runtime")]
pub(crate) mod builtins;
mod error;
mod function;
mod library;
mod library_bin;
#[cfg(feature = "symbol-list")]
mod symbols;
pub(crate) mod system_lib;

use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use core::ptr::NonNull;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tvmffi_alloc::heap;
use tvmffi_core::call::FunctionObj;
use tvmffi_core::sys::{TVMFFIObject, TVMFFIObjectHandle};
use tvmffi_core::{
    Any, AnyView, ConversionError, FromAnyView, Object, ObjectHeader, ObjectRef, Payload, TypeIndex,
};

pub use error::{LoadError, LoadErrorKind};
pub use library::LoadOptions;
pub use system_lib::{context_symbols, register_context_symbol, register_system_symbol};

use library::Library;

/// A function object, as modules hand them out.
pub type FunctionRef = ObjectRef<FunctionObj>;

/// The reserved symbol names.
pub mod symbol {
    /// Prefix of every exported function.
    pub const FUNCTION_PREFIX: &str = "__tvm_ffi_";
    /// The `void*` that receives the library's module.
    pub const LIBRARY_CTX: &str = "__tvm_ffi__library_ctx";
    /// Serialised modules and their import tree.
    pub const LIBRARY_BIN: &str = "__tvm_ffi__library_bin";
    /// Prefix of metadata getters.
    pub const METADATA_PREFIX: &str = "__tvm_ffi__metadata_";
    /// Prefix of docstring getters.
    pub const DOC_PREFIX: &str = "__tvm_ffi__doc_";
    /// Ours: a `TVMFFIVersion` naming the C ABI the library was built for (checked on load).
    pub const ABI_VERSION: &str = "__tvm_ffi__abi_version";
}

/// Whether `name`, looked up as a function, would hit one of the reserved symbols
/// (`__tvm_ffi__library_ctx` and friends) rather than a `__tvm_ffi_<name>` function.
fn is_reserved_function_name(name: &str) -> bool {
    let full_len = symbol::FUNCTION_PREFIX.len() + name.len();
    [symbol::LIBRARY_CTX, symbol::LIBRARY_BIN, symbol::ABI_VERSION]
        .iter()
        .any(|s| s.len() == full_len && s.ends_with(name))
        || [symbol::METADATA_PREFIX, symbol::DOC_PREFIX]
            .iter()
            .any(|p| name.starts_with(&p[symbol::FUNCTION_PREFIX.len()..]))
}

/// The payload of a library module.
struct ModuleCell {
    library: Arc<Library>,
    imports: Mutex<Vec<Module>>,
    /// Functions found by `TVMFFIEnvModLookupFromImports`, kept so the borrowed handles it
    /// returns stay valid as long as the module.
    import_cache: Mutex<HashMap<String, FunctionRef>>,
}

// SAFETY: a module object is the header followed by a `ModuleCell`. The type is private and
// claims `kTVMFFIModule` only for `heap::new_object`; modules made elsewhere (a C++
// `ModuleObj` carries the same index) are told apart by `LIVE_MODULES`, never by the index,
// before anything reads them as a `ModuleCell`.
unsafe impl Payload for ModuleCell {
    const TYPE_KEY: &'static str = "ffi.Module";

    fn is_instance(type_index: TypeIndex) -> bool {
        type_index == TypeIndex::MODULE
    }
}

/// The addresses of the payloads of live modules made here: how a module handle from C is
/// recognised as ours.
static LIVE_MODULES: Mutex<Option<HashSet<usize>>> = Mutex::new(None);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Offset of the payload in an `Object<ModuleCell>`: `#[repr(C)]` puts it right after the
/// header, rounded up to its alignment.
const PAYLOAD_OFFSET: usize = size_of::<ObjectHeader>().next_multiple_of(align_of::<ModuleCell>());

impl Drop for ModuleCell {
    fn drop(&mut self) {
        if let Some(live) = lock(&LIVE_MODULES).as_mut() {
            live.remove(&(self as *const Self as usize));
        }
    }
}

/// A library module (`ffi.Module`, type index 73).
///
/// ```no_run
/// use tvmffi_core::call::call;
/// use tvmffi_core::AnyView;
/// use tvmffi_std::module::Module;
///
/// let module = Module::load_from_file("build/libkernels.so")?;
/// let add_one = module.function("add_one")?;
/// let result = call(&add_one, &[AnyView::from(41i64)])?;
/// assert_eq!(result.get::<i64>()?, 42);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Module(ObjectRef<Object<ModuleCell>>);

impl Module {
    /// Load a module from a file, picking the loader by the name's extension as the
    /// reference's `Module::LoadFromFile` does: `.so`, `.dll`, `.dylib` and `.dso` are
    /// shared libraries; other formats need a loader registered in the global function
    /// registry (`ffi.Module.load_from_file.<format>`).
    pub fn load_from_file(path: impl AsRef<Path>) -> Result<Self, LoadError> {
        let path = path.as_ref();
        let text = path.to_string_lossy();
        let Some(dot) = text.rfind('.') else {
            return Err(LoadError::new(
                LoadErrorKind::UnknownFormat,
                format!("Failed to get file format from {text}"),
            ));
        };
        match &text[dot + 1..] {
            "so" | "dll" | "dylib" | "dso" => Self::load_dynamic_library(path, LoadOptions::new()),
            format => Err(LoadError::new(
                LoadErrorKind::UnknownFormat,
                format!(
                    "Loader for `.{format}` files is not registered, resolved to \
                     (ffi.Module.load_from_file.{format}) in the global registry"
                ),
            )),
        }
    }

    /// Load the shared library at `path` (whatever its name) as a module.
    ///
    /// Runs the library's initialisers, writes registered context symbols and
    /// `__tvm_ffi__library_ctx` into it, checks `__tvm_ffi__abi_version` when present, and
    /// rebuilds the modules of `__tvm_ffi__library_bin` when present (the root is returned).
    pub fn load_dynamic_library(
        path: impl AsRef<Path>,
        options: LoadOptions,
    ) -> Result<Self, LoadError> {
        Self::from_library(Library::open(path.as_ref(), options)?)
    }

    /// The system library module for `prefix`: functions registered with
    /// `TVMFFIEnvModRegisterSystemLibSymbol` as `__tvm_ffi_<prefix><name>` (falling back to
    /// `__tvm_ffi_<name>`). One module per prefix for the life of the process.
    pub fn system_lib(prefix: &str) -> Result<Self, LoadError> {
        system_lib::system_module(prefix)
    }

    /// The reference's `CreateLibraryModule`.
    fn from_library(library: Library) -> Result<Self, LoadError> {
        let library = Arc::new(library);
        system_lib::init_context_symbols(&library);
        let Some(bin) = library.symbol(symbol::LIBRARY_BIN) else {
            let module = Self::new_cell(library.clone());
            module.set_library_ctx();
            return Ok(module);
        };
        // SAFETY: by the convention of the name, the symbol is a library binary, which
        // lives as long as the library (kept by `library`, alive for this function).
        let payload = unsafe { library_bin::symbol_payload(bin.as_ptr().cast()) }?;
        let parsed = library_bin::parse(payload)?;
        let mut modules = Vec::with_capacity(parsed.modules.len());
        for (kind, blob) in &parsed.modules {
            let module = match blob {
                None => {
                    let m = Self::new_cell(library.clone());
                    m.set_library_ctx();
                    m
                }
                Some(bytes) => crate::runtime_hooks::load_from_bytes(kind, bytes)?,
            };
            modules.push(module);
        }
        for (module, imports) in modules.iter().zip(&parsed.imports) {
            for &child in imports {
                module.import_module(&modules[child]).map_err(|e| {
                    LoadError::new(
                        LoadErrorKind::BadLibraryBin,
                        format!("__tvm_ffi__library_bin: {e}"),
                    )
                })?;
            }
        }
        modules.into_iter().next().ok_or_else(|| {
            LoadError::new(LoadErrorKind::BadLibraryBin, "__tvm_ffi__library_bin holds no module")
        })
    }

    fn new_cell(library: Arc<Library>) -> Self {
        let cell = ModuleCell {
            library,
            imports: Mutex::new(Vec::new()),
            import_cache: Mutex::new(HashMap::new()),
        };
        let obj = heap::new_object(TypeIndex::MODULE, cell);
        let payload = &**obj as *const ModuleCell as usize;
        debug_assert_eq!(payload - obj.as_raw() as usize, PAYLOAD_OFFSET);
        lock(&LIVE_MODULES).get_or_insert_with(HashSet::new).insert(payload);
        Self(obj)
    }

    /// Write this module's handle into the library's `__tvm_ffi__library_ctx`, if it has one.
    fn set_library_ctx(&self) {
        if let Some(slot) = self.cell().library.symbol(symbol::LIBRARY_CTX) {
            // SAFETY: by the convention of the name, the symbol is a writable, aligned
            // `void*`. The handle is borrowed: the library lives no longer than its modules.
            unsafe { slot.cast::<*mut TVMFFIObject>().as_ptr().write(self.0.as_raw()) };
        }
    }

    fn cell(&self) -> &ModuleCell {
        &self.0
    }

    /// The module's kind, as `ffi.ModuleGetKind` reports it: always `"library"` here.
    pub fn kind(&self) -> &'static str {
        "library"
    }

    /// The file a dynamic library module was loaded from; `None` for the system library.
    pub fn path(&self) -> Option<&Path> {
        self.cell().library.path()
    }

    /// The function `name` (`__tvm_ffi_<name>`) of this module, or `None`.
    ///
    /// Errors only for a name that holds a NUL byte or that would resolve to one of the
    /// reserved symbols (e.g. `"_library_ctx"`), which are data, not functions.
    pub fn get_function(&self, name: &str) -> Result<Option<FunctionRef>, LoadError> {
        if name.contains('\0') || is_reserved_function_name(name) {
            return Err(LoadError::new(
                LoadErrorKind::InvalidName,
                format!("`{}` is not a valid function name", name.escape_debug()),
            ));
        }
        let Some(address) = self.cell().library.function_symbol(name) else { return Ok(None) };
        // SAFETY: by the convention of the name, `__tvm_ffi_<name>` is a safe-call function
        // of this module's library.
        Ok(Some(unsafe { function::wrap(address, self.clone()) }))
    }

    /// [`get_function`](Self::get_function), then (when `query_imports`) the same in each
    /// import, depth first in import order (`ModuleObj::GetFunction(name, query_imports)`).
    pub fn get_function_with_imports(
        &self,
        name: &str,
        query_imports: bool,
    ) -> Result<Option<FunctionRef>, LoadError> {
        if let Some(f) = self.get_function(name)? {
            return Ok(Some(f));
        }
        if query_imports {
            for import in self.imports() {
                if let Some(f) = import.get_function_with_imports(name, true)? {
                    return Ok(Some(f));
                }
            }
        }
        Ok(None)
    }

    /// The function `name`, or a [`LoadErrorKind::MissingSymbol`] error naming the symbol
    /// and the library.
    pub fn function(&self, name: &str) -> Result<FunctionRef, LoadError> {
        self.get_function(name)?.ok_or_else(|| {
            let place = self
                .path()
                .map_or_else(|| "the system library".into(), |p| p.display().to_string());
            LoadError::new(
                LoadErrorKind::MissingSymbol,
                format!(
                    "{place} has no function `{name}` (symbol {}{name})",
                    symbol::FUNCTION_PREFIX
                ),
            )
        })
    }

    /// Whether the module (and, with `query_imports`, an import) has the function `name`.
    pub fn implements_function(&self, name: &str, query_imports: bool) -> bool {
        matches!(self.get_function_with_imports(name, query_imports), Ok(Some(_)))
    }

    /// `name`'s metadata from its `__tvm_ffi__metadata_<name>` getter, searching imports when
    /// `query_imports`. `None` when there is no getter (the reference's kernels export one
    /// only when built with `TVM_FFI_DLL_EXPORT_INCLUDE_METADATA`).
    pub fn function_metadata(
        &self,
        name: &str,
        query_imports: bool,
    ) -> Result<Option<String>, LoadError> {
        self.getter(symbol::METADATA_PREFIX, name, query_imports)
    }

    /// `name`'s docstring from its `__tvm_ffi__doc_<name>` getter; see
    /// [`function_metadata`](Self::function_metadata).
    pub fn function_doc(
        &self,
        name: &str,
        query_imports: bool,
    ) -> Result<Option<String>, LoadError> {
        self.getter(symbol::DOC_PREFIX, name, query_imports)
    }

    fn getter(
        &self,
        prefix: &str,
        name: &str,
        query_imports: bool,
    ) -> Result<Option<String>, LoadError> {
        if let Some(text) =
            function::call_string_getter(&self.cell().library, &format!("{prefix}{name}"))?
        {
            return Ok(Some(text));
        }
        if query_imports {
            for import in self.imports() {
                if let Some(text) = import.getter(prefix, name, true)? {
                    return Ok(Some(text));
                }
            }
        }
        Ok(None)
    }

    /// The names of the functions the library exports (`__tvm_ffi_<name>` symbols, reserved
    /// `__tvm_ffi__*` ones left out), sorted. The reference has no such query: a dynamic
    /// library's names are read from the symbol table of its file; the system library's from
    /// its registry (`__tvm_ffi_<prefix><name>` entries).
    #[cfg(feature = "symbol-list")]
    pub fn function_names(&self) -> Result<Vec<String>, LoadError> {
        match &*self.cell().library {
            Library::Dynamic { path, .. } => symbols::exported_functions(path),
            Library::System { prefix } => Ok(symbols::system_functions(prefix)),
        }
    }

    /// The modules this one imports, in order.
    pub fn imports(&self) -> Vec<Module> {
        lock(&self.cell().imports).clone()
    }

    /// Import `other` (`ModuleObj::ImportModule`): its functions become reachable through
    /// [`get_function_with_imports`](Self::get_function_with_imports) and
    /// `TVMFFIEnvModLookupFromImports`. Refused when `other` already reaches this module.
    pub fn import_module(&self, other: &Module) -> Result<(), LoadError> {
        let mut seen: HashSet<usize> = HashSet::new();
        let mut stack = alloc::vec![other.clone()];
        while let Some(m) = stack.pop() {
            if m.ptr_eq(self) {
                return Err(LoadError::new(
                    LoadErrorKind::ImportCycle,
                    "Cyclic dependency detected during import",
                ));
            }
            if seen.insert(m.0.as_raw() as usize) {
                stack.extend(m.imports());
            }
        }
        lock(&self.cell().imports).push(other.clone());
        Ok(())
    }

    /// Drop every import (`ModuleObj::ClearImports`).
    pub fn clear_imports(&self) {
        lock(&self.cell().imports).clear();
    }

    /// Whether both are the same module object.
    pub fn ptr_eq(&self, other: &Module) -> bool {
        self.0.ptr_eq(&other.0)
    }

    /// The backend of `TVMFFIEnvModLookupFromImports`: `name` in the imports, then in the
    /// global registry; cached, so the returned handle is borrowed from the module.
    fn lookup_from_imports(&self, name: &str) -> Result<TVMFFIObjectHandle, LoadError> {
        let mut cache = lock(&self.cell().import_cache);
        if let Some(f) = cache.get(name) {
            return Ok(f.as_raw().cast());
        }
        let mut found = None;
        for import in self.imports() {
            if let Some(f) = import.get_function_with_imports(name, true)? {
                found = Some(f);
                break;
            }
        }
        let function =
            found.or_else(|| crate::runtime_hooks::global_function(name)).ok_or_else(|| {
                LoadError::new(
                    LoadErrorKind::FunctionNotFound,
                    format!(
                        "Cannot find function {name} in the imported modules or global registry."
                    ),
                )
            })?;
        let handle = function.as_raw().cast();
        cache.insert(name.into(), function);
        Ok(handle)
    }

    /// The module behind a library's `__tvm_ffi__library_ctx` handle (a new reference).
    ///
    /// # Safety
    ///
    /// `handle` is null or points to a live object.
    unsafe fn from_library_ctx(handle: TVMFFIObjectHandle) -> Result<Self, LoadError> {
        // SAFETY: forwarded.
        unsafe { Self::from_raw_borrowed(handle.cast()) }.ok_or_else(|| {
            LoadError::new(
                LoadErrorKind::NotAModule,
                "library_ctx is not a library module of this runtime",
            )
        })
    }

    /// A new reference to the module at `obj`, when it is a live module made by this crate
    /// (other `kTVMFFIModule` objects, e.g. C++ `ModuleObj`s, give `None`).
    ///
    /// # Safety
    ///
    /// `obj` is null or points to a live object.
    pub unsafe fn from_raw_borrowed(obj: *mut TVMFFIObject) -> Option<Self> {
        let header = NonNull::new(obj)?;
        // SAFETY: a live object (the caller's promise) starts with a header.
        if unsafe { header.cast::<ObjectHeader>().as_ref() }.type_index() != TypeIndex::MODULE {
            return None;
        }
        let live = lock(&LIVE_MODULES);
        if !live.as_ref()?.contains(&(obj as usize + PAYLOAD_OFFSET)) {
            return None;
        }
        // SAFETY: the address belongs to a live module made here (its payload is registered
        // until the payload is dropped), so it is an `Object<ModuleCell>`.
        unsafe { ObjectRef::from_raw_borrowed(obj) }.map(Self)
    }

    /// The object, for C (a borrowed handle).
    pub fn as_raw(&self) -> *mut TVMFFIObject {
        self.0.as_raw()
    }
}

impl fmt::Debug for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Module");
        d.field("kind", &self.kind());
        match &*self.cell().library {
            Library::Dynamic { path, .. } => d.field("path", path),
            Library::System { prefix } => d.field("system_lib_prefix", prefix),
        };
        d.field("imports", &lock(&self.cell().imports).len()).finish()
    }
}

impl From<Module> for Any {
    fn from(m: Module) -> Self {
        Any::from(m.0)
    }
}

impl<'a> From<&'a Module> for AnyView<'a> {
    fn from(m: &'a Module) -> Self {
        AnyView::from(&m.0)
    }
}

impl FromAnyView<'_> for Module {
    /// A module made by this crate; other kinds, and modules made elsewhere, are a mismatch.
    fn from_any_view(view: AnyView<'_>) -> Result<Self, ConversionError> {
        let obj = view.as_object_ptr().filter(|_| view.type_index() == TypeIndex::MODULE);
        // SAFETY: a view's object is alive while the view is.
        obj.and_then(|o| unsafe { Self::from_raw_borrowed(o.as_ptr().cast()) })
            .ok_or_else(|| ConversionError::mismatch("ffi.Module", view.type_index()))
    }
}
