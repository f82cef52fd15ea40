//! [`GlobalFunctions`]: the registry of global functions by name (the reference's
//! `GlobalFunctionTable` in `src/ffi/function.cc`).

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;

use crate::error::Error;
use crate::function::Function;

/// One registered global function, with the method information it was registered with.
#[derive(Debug, Clone)]
pub struct GlobalEntry {
    /// The function.
    pub function: Function,
    /// Its docstring (empty when registered by name only).
    pub doc: Box<[u8]>,
    /// Its metadata, JSON by convention (empty when registered by name only).
    pub metadata: Box<[u8]>,
    /// The method flags; a function registered by name is a static method.
    pub flags: i64,
}

/// Global functions by name.
///
/// Not synchronised: the runtime wraps it in a lock. Replaced and removed entries are handed
/// back so that the caller drops them after releasing its lock (a function's last
/// reference may run foreign deleters that call the runtime).
///
/// With the `runtime` feature (function objects need one):
///
/// ```
/// # #[cfg(feature = "runtime")] {
/// use tvmffi_alloc::function::Function;
/// use tvmffi_alloc::runtime::GlobalFunctions;
/// use tvmffi_core::Any;
///
/// let mut globals = GlobalFunctions::new();
/// let f = Function::from_packed(|_| Ok(Any::from(1i64)));
/// globals.set(b"demo.one", f.clone(), false).unwrap();
/// let err = globals.set(b"demo.one", f, false).unwrap_err();
/// assert_eq!(err.message(), "Global Function `demo.one` is already registered");
/// assert!(globals.get(b"demo.one").is_some());
/// # }
/// ```
#[derive(Debug, Default)]
pub struct GlobalFunctions {
    table: BTreeMap<Box<[u8]>, GlobalEntry>,
}

/// `kTVMFFIFieldFlagBitMaskIsStaticMethod`.
const STATIC_METHOD: i64 = tvmffi_core::flags::FieldFlags::IS_STATIC_METHOD.0;

impl GlobalFunctions {
    /// An empty registry.
    pub const fn new() -> Self {
        Self { table: BTreeMap::new() }
    }

    /// Register `function` as `name` (`TVMFFIFunctionSetGlobal`). A taken name is a
    /// `RuntimeError` unless `allow_override`; the replaced entry is returned.
    pub fn set(
        &mut self,
        name: &[u8],
        function: Function,
        allow_override: bool,
    ) -> Result<Option<GlobalEntry>, Error> {
        let entry = GlobalEntry {
            function,
            doc: Box::new([]),
            metadata: Box::new([]),
            flags: STATIC_METHOD,
        };
        self.insert(name, entry, allow_override, "")
    }

    /// Register with method information (`TVMFFIFunctionSetGlobalFromMethodInfo`).
    pub fn set_entry(
        &mut self,
        name: &[u8],
        entry: GlobalEntry,
        allow_override: bool,
    ) -> Result<Option<GlobalEntry>, Error> {
        self.insert(
            name,
            entry,
            allow_override,
            ", possible causes:\n- the same function registered twice\n\
             Remove the duplicate registration or allow overriding.",
        )
    }

    fn insert(
        &mut self,
        name: &[u8],
        entry: GlobalEntry,
        allow_override: bool,
        hint: &str,
    ) -> Result<Option<GlobalEntry>, Error> {
        if !allow_override && self.table.contains_key(name) {
            return Err(Error::runtime_error(format!(
                "Global Function `{}` is already registered{hint}",
                String::from_utf8_lossy(name)
            )));
        }
        Ok(self.table.insert(Box::from(name), entry))
    }

    /// The entry registered as `name`.
    pub fn get(&self, name: &[u8]) -> Option<&GlobalEntry> {
        self.table.get(name)
    }

    /// Remove `name`, returning its entry.
    pub fn remove(&mut self, name: &[u8]) -> Option<GlobalEntry> {
        self.table.remove(name)
    }

    /// The registered names, in byte order.
    pub fn names(&self) -> impl Iterator<Item = &[u8]> {
        self.table.keys().map(|k| &**k)
    }

    /// How many functions are registered.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether none is registered.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }
}
