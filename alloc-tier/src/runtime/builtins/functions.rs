//! The registry's own functions and the string constructors (`src/ffi/function.cc`).

use alloc::vec::Vec;
use core::ffi::c_void;

use tvmffi_core::sys::TVMFFISafeCallType;
use tvmffi_core::{Any, AnyView};

use super::{Builtins, arity, str_arg};
use crate::error::Error;
use crate::function::{Boundary, Function};
use crate::runtime::{read_globals, write_globals};
use crate::string::{bytes_any_from_bytes, str_any_from_bytes};

pub(super) fn register<B: Boundary>(b: &mut Builtins<'_, B>) {
    b.def_packed("ffi.FunctionRemoveGlobal", |args| {
        const SIG: &str = "ffi.FunctionRemoveGlobal(0: str) -> bool";
        let [name] = arity(SIG, args)?;
        let name = str_arg(SIG, 0, name)?;
        // The removed entry drops after the lock: its function may run foreign code.
        let removed = write_globals(|g| g.remove(name.as_bytes()));
        Ok(Any::from(removed.is_some()))
    });

    // A functor rather than an array, as in the reference: listing names must not depend on
    // the container functions.
    b.def_packed("ffi.FunctionListGlobalNamesFunctor", |args| {
        let [] = arity("ffi.FunctionListGlobalNamesFunctor() -> ffi.Function", args)?;
        let names: Vec<Vec<u8>> = read_globals(|g| g.names().map(<[u8]>::to_vec).collect());
        let functor = Function::from_packed_with::<B, _>(move |args: &[AnyView<'_>]| {
            const SIG: &str = "(0: int) -> Any";
            let [i] = arity(SIG, args)?;
            let i: i64 = i.get()?;
            let Ok(index) = usize::try_from(i) else { return Ok(Any::from(names.len() as i64)) };
            let name = names.get(index).ok_or_else(|| {
                Error::index_error(alloc::format!(
                    "indexing {i} on an array of size {}",
                    names.len()
                ))
            })?;
            Ok(str_any_from_bytes(name)?)
        });
        Ok(Any::from(functor))
    });

    b.def_packed("ffi.String", |args| {
        const SIG: &str = "ffi.String(0: str) -> str";
        let [s] = arity(SIG, args)?;
        let text = str_arg(SIG, 0, s)?;
        Ok(str_any_from_bytes(text.as_bytes())?)
    });

    b.def_packed("ffi.Bytes", |args| {
        const SIG: &str = "ffi.Bytes(0: bytes) -> bytes";
        let [v] = arity(SIG, args)?;
        let bytes = v.as_bytes().map_err(|_| super::wrong_type(SIG, 0, "bytes", v.type_index()))?;
        Ok(bytes_any_from_bytes(bytes)?)
    });

    b.def_packed("ffi.GetGlobalFuncMetadata", |args| {
        const SIG: &str = "ffi.GetGlobalFuncMetadata(0: str) -> str";
        let [name] = arity(SIG, args)?;
        let name = str_arg(SIG, 0, name)?;
        let metadata = read_globals(|g| g.get(name.as_bytes()).map(|e| e.metadata.clone()))
            .ok_or_else(|| {
                Error::runtime_error(alloc::format!("Global Function is not found: {name}"))
            })?;
        Ok(str_any_from_bytes(&metadata)?)
    });

    b.def_packed("ffi.FunctionFromExternC", |args| {
        const SIG: &str = "ffi.FunctionFromExternC(0: void*, 1: void*, 2: void*) -> ffi.Function";
        let [self_, safe_call, deleter] = arity(SIG, args)?;
        let pointer = |i: usize, v: &AnyView<'_>| -> Result<*mut c_void, Error> {
            v.get::<*mut c_void>().map_err(|_| super::wrong_type(SIG, i, "void*", v.type_index()))
        };
        let (self_, safe_call, deleter) =
            (pointer(0, self_)?, pointer(1, safe_call)?, pointer(2, deleter)?);
        if safe_call.is_null() {
            return Err(Error::value_error("ffi.FunctionFromExternC: `safe_call` is null"));
        }
        // SAFETY: the caller passes a `TVMFFISafeCallType` and a null or `void (*)(void*)`
        // deleter as opaque pointers, the contract of this function in the reference.
        let f = unsafe {
            let safe_call = core::mem::transmute::<*mut c_void, TVMFFISafeCallType>(safe_call);
            let deleter = core::mem::transmute::<
                *mut c_void,
                Option<unsafe extern "C" fn(*mut c_void)>,
            >(deleter);
            Function::from_extern_c(self_, safe_call, deleter)
        };
        Ok(Any::from(f))
    });
}
