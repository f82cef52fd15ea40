//! The `ffi.Module*` global functions, the loaders `ffi.ModuleLoadFromFile`,
//! `ffi.Module.load_from_file.so` and `ffi.SystemLib`, and the reflected field `imports_`
//! of `ffi.Module` (`src/ffi/extra/module.cc`, `library_module_*.cc`), which the Python
//! package's `tvm_ffi.Module` calls.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::ffi::{c_int, c_void};
use std::sync::Mutex;

use tvmffi_alloc::function::Boundary;
use tvmffi_alloc::runtime::Builtins;
use tvmffi_alloc::{Array, Error};
use tvmffi_core::flags::FieldFlags;
use tvmffi_core::sys::{TVMFFIAny, TVMFFIByteArray, TVMFFIFieldInfo};
use tvmffi_core::{Any, AnyView, TypeIndex};

use super::{Module, PAYLOAD_OFFSET};

/// The reference's `Module::ModulePropertyMask` bits of a library module:
/// `kBinarySerializable | kRunnable`.
const LIBRARY_PROPERTY_MASK: i64 = 0b011;

/// Modules `tvm_ffi.load_module` keeps alive for the life of the process
/// (`ffi.ModuleGlobalsAdd`): a library's functions may outlive every Python reference.
static PINNED: Mutex<Vec<Module>> = Mutex::new(Vec::new());

fn str_arg<'a>(sig: &str, i: usize, v: &'a AnyView<'_>) -> Result<&'a str, Error> {
    v.as_str().map_err(|_| wrong(sig, i, "str", v))
}

fn module_arg(sig: &str, i: usize, v: &AnyView<'_>) -> Result<Module, Error> {
    v.get::<Module>().map_err(|_| wrong(sig, i, "ffi.Module", v))
}

fn bool_arg(sig: &str, i: usize, v: &AnyView<'_>) -> Result<bool, Error> {
    v.get::<bool>().map_err(|_| wrong(sig, i, "bool", v))
}

fn wrong(sig: &str, i: usize, expected: &str, v: &AnyView<'_>) -> Error {
    Error::type_error(format!(
        "Mismatched type on argument #{i} when calling: `{sig}`. Expected `{expected}` but got \
         `{}`",
        tvmffi_alloc::object_type::type_key(v.type_index())
    ))
}

fn count(sig: &str, args: &[AnyView<'_>], n: usize) -> Result<(), Error> {
    if args.len() == n {
        return Ok(());
    }
    Err(Error::type_error(format!(
        "Mismatched number of arguments when calling: `{sig}`. Expected {n} but got {} arguments",
        args.len()
    )))
}

fn text(s: Option<String>) -> Result<Any, Error> {
    match s {
        None => Ok(Any::none()),
        Some(s) => Ok(tvmffi_alloc::String::try_new(&s)
            .map_err(|e| Error::runtime_error(format!("{e}")))?
            .into_any()),
    }
}

/// `(module, name, query_imports)`, the arguments of the name queries.
fn query<'a>(sig: &str, args: &'a [AnyView<'_>]) -> Result<(Module, &'a str, bool), Error> {
    count(sig, args, 3)?;
    Ok((module_arg(sig, 0, &args[0])?, str_arg(sig, 1, &args[1])?, bool_arg(sig, 2, &args[2])?))
}

/// Register the module functions (`Runtime::register_builtins` of the std runtime).
pub(crate) fn register<B: Boundary>(b: &mut Builtins<'_, B>) {
    b.def_packed("ffi.ModuleLoadFromFile", |args| {
        const SIG: &str = "ffi.ModuleLoadFromFile(0: str) -> ffi.Module";
        count(SIG, args, 1)?;
        let path = str_arg(SIG, 0, &args[0])?;
        Ok(Any::from(Module::load_from_file(path)?))
    });
    b.def_packed("ffi.Module.load_from_file.so", |args| {
        const SIG: &str = "ffi.Module.load_from_file.so(0: str, 1: str) -> ffi.Module";
        count(SIG, args, 2)?;
        let path = str_arg(SIG, 0, &args[0])?;
        let _format = str_arg(SIG, 1, &args[1])?;
        let module = Module::load_dynamic_library(path, super::LoadOptions::new())?;
        Ok(Any::from(module))
    });
    b.def_packed("ffi.SystemLib", |args| {
        const SIG: &str = "ffi.SystemLib(0: str) -> ffi.Module";
        let prefix = match args {
            [] => "",
            [p] => str_arg(SIG, 0, p)?,
            _ => return Err(count(SIG, args, 1).unwrap_err()),
        };
        Ok(Any::from(Module::system_lib(prefix)?))
    });
    b.def_packed("ffi.ModuleImplementsFunction", |args| {
        let (m, name, imports) =
            query("ffi.ModuleImplementsFunction(0: ffi.Module, 1: str, 2: bool) -> bool", args)?;
        Ok(Any::from(m.implements_function(name, imports)))
    });
    b.def_packed("ffi.ModuleGetFunctionMetadata", |args| {
        let (m, name, imports) = query(
            "ffi.ModuleGetFunctionMetadata(0: ffi.Module, 1: str, 2: bool) -> Optional<str>",
            args,
        )?;
        text(m.function_metadata(name, imports)?)
    });
    b.def_packed("ffi.ModuleGetFunctionDoc", |args| {
        let (m, name, imports) = query(
            "ffi.ModuleGetFunctionDoc(0: ffi.Module, 1: str, 2: bool) -> Optional<str>",
            args,
        )?;
        text(m.function_doc(name, imports)?)
    });
    b.def_packed("ffi.ModuleGetFunction", |args| {
        let (m, name, imports) = query(
            "ffi.ModuleGetFunction(0: ffi.Module, 1: str, 2: bool) -> Optional<ffi.Function>",
            args,
        )?;
        Ok(m.get_function_with_imports(name, imports)?.map_or_else(Any::none, Any::from))
    });
    b.def_packed("ffi.ModuleGetPropertyMask", |args| {
        const SIG: &str = "ffi.ModuleGetPropertyMask(0: ffi.Module) -> int";
        count(SIG, args, 1)?;
        module_arg(SIG, 0, &args[0])?;
        Ok(Any::from(LIBRARY_PROPERTY_MASK))
    });
    b.def_packed("ffi.ModuleInspectSource", |args| {
        const SIG: &str = "ffi.ModuleInspectSource(0: ffi.Module, 1: str) -> str";
        count(SIG, args, 2)?;
        module_arg(SIG, 0, &args[0])?;
        str_arg(SIG, 1, &args[1])?;
        // A library module has no source to show (the reference's default).
        text(Some(String::new()))
    });
    b.def_packed("ffi.ModuleGetKind", |args| {
        const SIG: &str = "ffi.ModuleGetKind(0: ffi.Module) -> str";
        count(SIG, args, 1)?;
        text(Some(module_arg(SIG, 0, &args[0])?.kind().into()))
    });
    b.def_packed("ffi.ModuleGetWriteFormats", |args| {
        const SIG: &str = "ffi.ModuleGetWriteFormats(0: ffi.Module) -> Array<str>";
        count(SIG, args, 1)?;
        module_arg(SIG, 0, &args[0])?;
        Ok(Any::from(Array::new()))
    });
    b.def_packed("ffi.ModuleWriteToFile", |args| {
        const SIG: &str = "ffi.ModuleWriteToFile(0: ffi.Module, 1: str, 2: str) -> void";
        count(SIG, args, 3)?;
        let m = module_arg(SIG, 0, &args[0])?;
        Err(Error::runtime_error(format!("Module[{}] does not support WriteToFile", m.kind())))
    });
    b.def_packed("ffi.ModuleImportModule", |args| {
        const SIG: &str = "ffi.ModuleImportModule(0: ffi.Module, 1: ffi.Module) -> void";
        count(SIG, args, 2)?;
        module_arg(SIG, 0, &args[0])?.import_module(&module_arg(SIG, 1, &args[1])?)?;
        Ok(Any::none())
    });
    b.def_packed("ffi.ModuleClearImports", |args| {
        const SIG: &str = "ffi.ModuleClearImports(0: ffi.Module) -> void";
        count(SIG, args, 1)?;
        module_arg(SIG, 0, &args[0])?.clear_imports();
        Ok(Any::none())
    });
    b.def_packed("ffi.ModuleGlobalsAdd", |args| {
        const SIG: &str = "ffi.ModuleGlobalsAdd(0: ffi.Module) -> void";
        count(SIG, args, 1)?;
        let m = module_arg(SIG, 0, &args[0])?;
        let mut pinned = PINNED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !pinned.iter().any(|p| p.ptr_eq(&m)) {
            pinned.push(m);
        }
        Ok(Any::none())
    });
    b.def_packed("ffi.ModuleGlobalsRemove", |args| {
        const SIG: &str = "ffi.ModuleGlobalsRemove(0: ffi.Module) -> void";
        count(SIG, args, 1)?;
        let m = module_arg(SIG, 0, &args[0])?;
        let removed = {
            let mut pinned = PINNED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let at = pinned.iter().position(|p| p.ptr_eq(&m));
            at.map(|i| pinned.remove(i))
        };
        drop(removed); // after the lock: the last reference may unload a library
        Ok(Any::none())
    });

    let name = "imports_";
    // `Array<Any>`, as the reference's `def_ro("imports_", &ModuleObj::imports_)` describes it.
    let metadata = tvmffi_alloc::function::schema::metadata_json(
        r#"{"type":"ffi.Array","args":[{"type":"Any"}]}"#,
    );
    let info = TVMFFIFieldInfo {
        name: TVMFFIByteArray { data: name.as_ptr().cast(), size: name.len() },
        doc: TVMFFIByteArray { data: core::ptr::null(), size: 0 },
        metadata: TVMFFIByteArray { data: metadata.as_ptr().cast(), size: metadata.len() },
        flags: 0,
        size: 0,
        alignment: 1,
        offset: PAYLOAD_OFFSET as i64,
        getter: Some(get_imports),
        setter: core::ptr::null_mut(),
        default_value_or_factory: TVMFFIAny::NONE,
        field_static_type_index: TypeIndex::ARRAY.0,
    };
    debug_assert!(!FieldFlags(info.flags).contains(FieldFlags::WRITABLE));
    // SAFETY: the byte arrays describe live strings (copied by the table); there is no
    // default and no setter.
    let registered = unsafe { b.types().register_field(TypeIndex::MODULE.0, &info) };
    drop(registered); // registered once, at start-up: a duplicate cannot happen
}

/// The getter of `ffi.Module.imports_`: the module's imports as an array.
///
/// `field` points at the payload of a module made here (offset [`PAYLOAD_OFFSET`]);
/// modules made elsewhere share the index but not the layout, so the object is checked
/// first.
unsafe extern "C" fn get_imports(field: *mut c_void, result: *mut TVMFFIAny) -> c_int {
    crate::ffi_boundary(|| {
        let obj = field.cast::<u8>().wrapping_sub(PAYLOAD_OFFSET).cast();
        // SAFETY: the field of a live object (the getter's contract).
        let module = unsafe { Module::from_raw_borrowed(obj) }.ok_or_else(|| {
            Error::type_error("imports_ of a module that this runtime did not make")
        })?;
        let imports: Array = module.imports().into_iter().map(Any::from).collect();
        // SAFETY: the getter's writable result slot.
        unsafe { result.write(Any::from(imports).into_raw()) };
        Ok::<(), Error>(())
    })
}
