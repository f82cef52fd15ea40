//! The built-in `ffi.*` global functions, types and type attributes that the reference
//! registers when it loads (its `TVM_FFI_STATIC_INIT_BLOCK`s), registered here the first time
//! the registry or the type table is used.
//!
//! | module | the reference's source |
//! | --- | --- |
//! | [`functions`] | `src/ffi/function.cc`: the registry's own functions, `ffi.String`, `ffi.Bytes` |
//! | [`objects`] | `src/ffi/object.cc`: type keys, the sentinel objects, `__ffi_convert__` |
//! | [`containers`] | `src/ffi/container.cc`, `src/ffi/tensor.cc`: arrays, lists, shapes |
//! | [`maps`] | `src/ffi/container.cc`: maps, dicts, big-integer keys |
//! | [`structural`] | `src/ffi/extra/structural_{equal,hash}.cc`, `reflection_extra.cc`: equality, hashing, keys, access paths |
//! | [`structural_visit`] | `src/ffi/extra/structural_{visit,mutate}.cc`, `visit_error_context.cc` |
//! | [`dataclass`] | `src/ffi/extra/dataclass.cc`, `ffi.MakeObjectFromPackedArgs`, the enum types of `src/ffi/object.cc` |
//! | [`serialization`] | `src/ffi/extra/json_*.cc`, `serialization.cc`: JSON, the JSON graph |
//!
//! Without the `extra` feature (firmware) only the first four modules are registered.
//!
//! A runtime adds its own through [`Runtime::register_builtins`] (the std tier: modules).
//!
//! Registration runs inside the start-up [`spin::Once`], holding the registry's and the type
//! table's locks, so it reaches them through [`Builtins`] only, never through the C API
//! (which would wait for the start-up it is part of).

mod containers;
#[cfg(feature = "extra")]
mod dataclass;
mod functions;
mod maps;
mod objects;
#[cfg(feature = "extra")]
mod serialization;
#[cfg(feature = "extra")]
mod structural;
#[cfg(feature = "extra")]
mod structural_visit;

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use core::marker::PhantomData;

use tvmffi_core::{AnyView, TypeIndex};

use super::{GLOBALS, GlobalEntry, GlobalFunctions, Runtime, TypeTable, with_types};
use crate::error::Error;
use crate::function::schema::metadata_json;
use crate::function::{Boundary, Function, PackedFn, TypedClosure};

/// Done once the built-ins are registered.
static READY: spin::Once<()> = spin::Once::new();

/// Register the built-ins of this crate and of `R`, once per process. Every C function that
/// reads or writes the registry or the type table calls this first.
#[inline]
pub(crate) fn ensure<R: Runtime>() {
    if READY.is_completed() {
        return;
    }
    READY.call_once(|| {
        let mut globals = GLOBALS.write();
        with_types(|types| {
            let mut b = Builtins::<R::Boundary> { globals: &mut globals, types, _b: PhantomData };
            functions::register(&mut b);
            objects::register(&mut b);
            containers::register(&mut b);
            maps::register(&mut b);
            // The reference's order of dynamic type indices: the enum types (128-131), then
            // the structural types (132-137).
            objects::register_enum_types(&mut b);
            #[cfg(feature = "extra")]
            {
                dataclass::register(&mut b);
                structural::register(&mut b);
                structural_visit::register(&mut b);
                serialization::register(&mut b);
            }
            R::register_builtins(&mut b);
        });
    });
}

/// Registration of built-ins at start-up, with the runtime's panic policy `B` for the
/// functions it makes.
pub struct Builtins<'a, B> {
    globals: &'a mut GlobalFunctions,
    types: &'a mut TypeTable,
    _b: PhantomData<fn() -> B>,
}

impl<B: Boundary> Builtins<'_, B> {
    /// Register `f` as the global function `name` with `metadata` (JSON), replacing any
    /// earlier registration, as the reference's `GlobalDef().def(...)` does.
    pub fn def_function(&mut self, name: &str, f: Function, metadata: String) {
        let entry = GlobalEntry {
            function: f,
            doc: Box::new([]),
            metadata: metadata.into_bytes().into_boxed_slice(),
            flags: 0,
        };
        // Cannot fail with overriding allowed; a replaced entry is dropped after the locks.
        let _replaced = self.globals.set_entry(name.as_bytes(), entry, true);
    }

    /// Register a packed function (`GlobalDef().def_packed`): its schema is a bare
    /// `ffi.Function`.
    pub fn def_packed(&mut self, name: &str, f: impl PackedFn) {
        let metadata = metadata_json(r#"{"type":"ffi.Function"}"#);
        self.def_function(name, Function::from_packed_with::<B, _>(f), metadata);
    }

    /// Register a typed function (`GlobalDef().def`): arguments are checked and converted
    /// with the reference's messages, naming the function; its metadata carries its schema.
    pub fn def<Args, R, F: TypedClosure<Args, R>>(&mut self, name: &'static str, f: F) {
        let metadata = metadata_json(&F::type_schema());
        let function = Function::from_packed_with::<B, _>(move |args: &[AnyView<'_>]| {
            f.call_packed(name, args)
        });
        self.def_function(name, function, metadata);
    }

    /// The type table.
    pub fn types(&mut self) -> &mut TypeTable {
        self.types
    }

    /// Set the type attribute `name` of `index` (`TypeAttrDef<T>().def(name, value)`), or make
    /// sure its column exists when `index` is `None` (`EnsureTypeAttrColumn`).
    pub fn type_attr(&mut self, index: TypeIndex, name: &str, value: AnyView<'_>) {
        if let Err(e) = self.types.register_attr(index.0, name.as_bytes(), value) {
            // Only a second registration of the same attribute fails: a bug in this module,
            // which the built-in tests would catch as a missing attribute.
            drop(e);
        }
    }
}

/// A `TypeError` for an argument of the wrong type, as the built-ins report it.
pub(crate) fn wrong_type(func: &str, i: usize, expected: &str, actual: TypeIndex) -> Error {
    Error::type_error(format!(
        "Mismatched type on argument #{i} when calling: `{func}`. Expected `{expected}` but got \
         `{}`",
        crate::object_type::type_key(actual)
    ))
}

/// The arguments of a packed built-in, checked to be `N`; `sig` is its signature as the
/// reference prints it in messages (`ffi.X(0: str) -> bool`).
#[inline]
pub(crate) fn arity<'a, 'v, const N: usize>(
    sig: &str,
    args: &'a [AnyView<'v>],
) -> Result<&'a [AnyView<'v>; N], Error> {
    match <&[AnyView<'v>; N]>::try_from(args) {
        Ok(args) => Ok(args),
        Err(_) => Err(wrong_arity(sig, N, args.len())),
    }
}

/// The error of [`arity`], out of line: the check itself is on every built-in's call path.
#[cold]
#[inline(never)]
fn wrong_arity(sig: &str, expected: usize, got: usize) -> Error {
    Error::type_error(format!(
        "Mismatched number of arguments when calling: `{sig}`. Expected {expected} but got \
         {got} arguments"
    ))
}

/// Argument `i` as text (a C string, a small string or a string object).
pub(crate) fn str_arg<'a>(sig: &str, i: usize, view: &'a AnyView<'_>) -> Result<&'a str, Error> {
    view.as_str().map_err(|e| match e.kind() {
        tvmffi_core::error::ConversionErrorKind::Mismatch => {
            wrong_type(sig, i, "str", view.type_index())
        }
        _ => Error::from(e),
    })
}
