//! Where a [`Reflect`](super::Reflect) registration goes: through the C API, or straight
//! into a [`TypeTable`] during the runtime's start-up.

use core::ffi::c_int;

use tvmffi_core::sys::{
    TVMFFIByteArray, TVMFFIFieldInfo, TVMFFIMethodInfo, TVMFFITypeMetadata, api,
};
use tvmffi_core::{AnyView, TypeIndex};

use super::reflect::INIT;
use crate::error::Error;
use crate::function::{AbortOnPanic, Function};
use crate::runtime::TypeTable;

/// Where a registration goes: the C API or a table.
pub(super) trait Target {
    fn metadata(&mut self, index: TypeIndex, metadata: &TVMFFITypeMetadata) -> Result<(), Error>;
    fn field(&mut self, index: TypeIndex, info: &TVMFFIFieldInfo) -> Result<(), Error>;
    fn method(&mut self, index: TypeIndex, info: &TVMFFIMethodInfo) -> Result<(), Error>;
    fn attr(&mut self, index: TypeIndex, name: &str, value: AnyView<'_>) -> Result<(), Error>;
    /// Register the generated `__ffi_init__`.
    fn auto_init(&mut self, index: TypeIndex) -> Result<(), Error>;
}

pub(super) struct CApi;

pub(super) fn check(rc: c_int) -> Result<(), Error> {
    if rc == 0 {
        return Ok(());
    }
    Err(Error::take_raised()
        .unwrap_or_else(|| Error::runtime_error("reflection registration failed")))
}

impl Target for CApi {
    fn metadata(&mut self, index: TypeIndex, metadata: &TVMFFITypeMetadata) -> Result<(), Error> {
        // SAFETY: the metadata and the doc it points to live through the call.
        check(unsafe { api::TVMFFITypeRegisterMetadata(index.0, metadata) })
    }

    fn field(&mut self, index: TypeIndex, info: &TVMFFIFieldInfo) -> Result<(), Error> {
        // SAFETY: the info, its strings and its default live through the call.
        check(unsafe { api::TVMFFITypeRegisterField(index.0, info) })
    }

    fn method(&mut self, index: TypeIndex, info: &TVMFFIMethodInfo) -> Result<(), Error> {
        // SAFETY: the info, its strings and its function live through the call.
        check(unsafe { api::TVMFFITypeRegisterMethod(index.0, info) })
    }

    fn attr(&mut self, index: TypeIndex, name: &str, value: AnyView<'_>) -> Result<(), Error> {
        let name = bytes(name);
        // SAFETY: the name and the value live through the call.
        check(unsafe { api::TVMFFITypeRegisterAttr(index.0, &name, value.as_raw()) })
    }

    /// As the reference: through `ffi._RegisterFFIInit`, when the runtime has it.
    fn auto_init(&mut self, index: TypeIndex) -> Result<(), Error> {
        match Function::try_get_global("ffi._RegisterFFIInit")? {
            Some(register) => register.call(&[AnyView::from(index.0)]).map(drop),
            None => Ok(()),
        }
    }
}

pub(super) struct Table<'a>(pub(super) &'a mut TypeTable);

impl Target for Table<'_> {
    fn metadata(&mut self, index: TypeIndex, metadata: &TVMFFITypeMetadata) -> Result<(), Error> {
        // SAFETY: the doc is readable.
        unsafe { self.0.register_metadata(index.0, metadata) }
    }

    fn field(&mut self, index: TypeIndex, info: &TVMFFIFieldInfo) -> Result<(), Error> {
        // SAFETY: the strings are readable, the default is a live value, and the setter is
        // a C function pointer (not a function object).
        unsafe { self.0.register_field(index.0, info) }
    }

    fn method(&mut self, index: TypeIndex, info: &TVMFFIMethodInfo) -> Result<(), Error> {
        // SAFETY: the strings are readable and the method is a live function.
        unsafe { self.0.register_method(index.0, info) }
    }

    fn attr(&mut self, index: TypeIndex, name: &str, value: AnyView<'_>) -> Result<(), Error> {
        self.0.register_attr(index.0, name.as_bytes(), value)
    }

    /// The generated init straight into the table (it reads the type's fields when first
    /// called, through the C API, by which time the start-up is over).
    fn auto_init(&mut self, index: TypeIndex) -> Result<(), Error> {
        let init = crate::dataclass::auto_init::<AbortOnPanic>(index);
        self.attr(index, INIT, AnyView::from(&init))
    }
}

pub(super) fn bytes(s: &str) -> TVMFFIByteArray {
    if s.is_empty() {
        return TVMFFIByteArray { data: core::ptr::null(), size: 0 };
    }
    TVMFFIByteArray { data: s.as_ptr().cast(), size: s.len() }
}
