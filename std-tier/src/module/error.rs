//! Why loading a module or looking something up in it failed.

use alloc::string::String;
use core::fmt;

/// What went wrong, for matching; the [`LoadError`] carries the details.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LoadErrorKind {
    /// The dynamic loader refused the file: missing, not a library, wrong architecture, or
    /// (with [`LoadOptions::bind_now`](super::LoadOptions::bind_now)) an undefined symbol.
    /// The message holds the loader's own text (`dlerror`).
    Open,
    /// A symbol the caller required is not in the library.
    MissingSymbol,
    /// The library declares (`__tvm_ffi__abi_version`) a C ABI version this runtime cannot
    /// serve.
    IncompatibleAbi,
    /// The file name has no extension to pick a loader by, or no loader for it exists here.
    UnknownFormat,
    /// The embedded `__tvm_ffi__library_bin` is malformed.
    BadLibraryBin,
    /// `__tvm_ffi__library_bin` holds a module kind with no `ffi.Module.load_from_bytes.<kind>`
    /// loader in this process.
    MissingLoader,
    /// Importing the module would make the import graph cyclic.
    ImportCycle,
    /// A name holds a NUL byte, or names one of the reserved `__tvm_ffi__` symbols.
    InvalidName,
    /// A metadata or doc getter failed or returned something other than a string.
    Getter,
    /// A handle does not point to a module made by this runtime.
    NotAModule,
    /// The lookup found nothing in the module, its imports or the global registry.
    FunctionNotFound,
}

/// A failed load or lookup: a [`LoadErrorKind`] and a message for people.
///
/// Raised at the C boundary as an FFI error whose kind is [`LoadError::ffi_kind`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    kind: LoadErrorKind,
    message: String,
}

impl LoadError {
    /// An error of `kind` with `message`.
    pub fn new(kind: LoadErrorKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into() }
    }

    /// What went wrong.
    pub fn kind(&self) -> LoadErrorKind {
        self.kind
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The FFI error kind this becomes at the C boundary: `ValueError` for bad names,
    /// `RuntimeError` otherwise (the reference raises `RuntimeError` for all of its load
    /// failures).
    pub fn ffi_kind(&self) -> &'static str {
        match self.kind {
            LoadErrorKind::InvalidName => "ValueError",
            _ => "RuntimeError",
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl core::error::Error for LoadError {}

impl From<LoadError> for tvmffi_alloc::Error {
    /// The FFI error a C caller gets: [`LoadError::ffi_kind`] and the message.
    fn from(e: LoadError) -> Self {
        tvmffi_alloc::Error::new(e.ffi_kind(), e.message)
    }
}
