//! Making reflected objects from arguments: the generated `__ffi_init__` (the reference's
//! `MakeInit` and `BindFieldArgs` in `src/ffi/extra/dataclass.cc`) and
//! `ffi.MakeObjectFromPackedArgs` (`src/ffi/extra/reflection_extra.cc`).
//!
//! The generated init takes the type's fields (its ancestors' first) as arguments: the
//! positional ones in order, required before those with defaults, then, after the
//! `ffi.GetKwargsObject()` marker, `name, value` pairs for any field, including
//! keyword-only ones. Fields left out take their default (a factory is called each time);
//! `init=False` fields without a default keep what the creator put there. Errors read as
//! Python's: ``T.__ffi_init__() missing required argument: 'x'``.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use tvmffi_core::flags::FieldFlags;
use tvmffi_core::{Any, AnyView, ObjectHeader, ObjectRef, TypeIndex};

use super::walk;
use crate::error::Error;
use crate::function::{Boundary, Function};
use crate::object_type::info::{FieldInfo, TypeInfo, create_empty_object};

/// The fields of a type as the generated init binds them (`AutoInitInfo`).
struct InitInfo {
    type_key: &'static str,
    fields: Vec<InitField>,
    /// Indices into `fields` of the positional parameters: required first.
    positional: Vec<usize>,
    by_name: BTreeMap<&'static [u8], usize>,
    info: TypeInfo,
}

struct InitField {
    info: FieldInfo,
    init: bool,
    kw_only: bool,
    has_default: bool,
}

impl InitInfo {
    fn of(info: TypeInfo) -> Self {
        let mut fields = Vec::new();
        let mut positional = Vec::new();
        let mut by_name = BTreeMap::new();
        for f in info.fields() {
            let flags = f.flags();
            let entry = InitField {
                info: f,
                init: !flags.contains(FieldFlags::INIT_OFF),
                kw_only: flags.contains(FieldFlags::KW_ONLY),
                has_default: flags.contains(FieldFlags::HAS_DEFAULT),
            };
            let i = fields.len();
            if entry.init {
                by_name.insert(f.name_bytes(), i);
                if !entry.kw_only {
                    positional.push(i);
                }
            }
            fields.push(entry);
        }
        // Required parameters come before optional ones (a stable partition).
        let (required, optional): (Vec<usize>, Vec<usize>) =
            positional.into_iter().partition(|&i| fields.get(i).is_some_and(|f| !f.has_default));
        let positional = required.into_iter().chain(optional).collect();
        Self { type_key: info.key(), fields, positional, by_name, info }
    }
}

/// The `KWARGS` marker of the runtime (`ffi.GetKwargsObject`), by address.
pub(crate) fn kwargs_marker() -> Result<Option<usize>, Error> {
    static MARKER: spin::Once<Option<usize>> = spin::Once::new();
    if let Some(m) = MARKER.get() {
        return Ok(*m);
    }
    let Some(get) = Function::try_get_global("ffi.GetKwargsObject")? else { return Ok(None) };
    let marker = walk::address(&get.call(&[])?);
    Ok(*MARKER.call_once(|| marker))
}

/// Indent a nested error message under its context (`AppendNestedErrorMessage`).
fn nested(context: String, message: &str) -> String {
    let mut out = context;
    out.push_str(":\n  ");
    for c in message.chars() {
        out.push(c);
        if c == '\n' {
            out.push_str("  ");
        }
    }
    out
}

/// Bind `args` to the fields of the new object `obj` (`BindFieldArgs`).
fn bind(obj: &ObjectRef<ObjectHeader>, info: &InitInfo, args: &[AnyView<'_>]) -> Result<(), Error> {
    let key = info.type_key;
    let mut set = alloc::vec![false; info.fields.len()];
    let field = |i: usize| {
        info.fields.get(i).ok_or_else(|| Error::internal_error("field index out of range"))
    };
    let rethrow = |i: usize, what: &str, e: Error| -> Error {
        let name = info.fields.get(i).map_or("", |f| f.info.name());
        let message = nested(format!("{key}.__ffi_init__() {what} '{name}'"), &e.message());
        let (kind, backtrace) = (e.kind_bytes().to_vec(), e.backtrace_bytes());
        Error::from_parts(&kind, message.as_bytes(), &backtrace, Some(e), None)
    };
    let set_field = |i: usize, value: AnyView<'_>, set: &mut Vec<bool>| -> Result<(), Error> {
        // SAFETY: `obj` was just made by the type's creator; only this init holds it.
        unsafe { field(i)?.info.set(obj, value) }.map_err(|e| rethrow(i, "field", e))?;
        if let Some(s) = set.get_mut(i) {
            *s = true;
        }
        Ok(())
    };
    let marker = kwargs_marker()?;
    let kwargs_pos = args.iter().position(|a| {
        marker.is_some()
            && a.type_index().is_object()
            && a.as_object_ptr().map(|p| p.as_ptr() as usize) == marker
    });
    let positional = info.positional.len();
    let too_many = |given: usize| {
        Error::type_error(format!(
            "{key}.__ffi_init__() takes at most {positional} positional argument(s), but {given} \
             were given"
        ))
    };
    match kwargs_pos {
        Some(kw) => {
            if kw > positional {
                return Err(too_many(kw));
            }
            for (&fi, &value) in info.positional.iter().zip(&args[..kw]) {
                set_field(fi, value, &mut set)?;
            }
            let pairs = &args[kw + 1..];
            if pairs.len() % 2 != 0 {
                return Err(Error::type_error(format!(
                    "{key}.__ffi_init__() KWARGS requires an even number of key-value arguments"
                )));
            }
            for pair in pairs.chunks_exact(2) {
                let name = crate::typed::cast::<crate::String>(pair[0])?;
                let Some(&fi) = info.by_name.get(name.as_bytes()) else {
                    return Err(Error::type_error(format!(
                        "{key}.__ffi_init__() got an unexpected keyword argument '{name}'"
                    )));
                };
                if set.get(fi).copied().unwrap_or(false) {
                    return Err(Error::type_error(format!(
                        "{key}.__ffi_init__() got multiple values for argument '{name}'"
                    )));
                }
                set_field(fi, pair[1], &mut set)?;
            }
        }
        None => {
            if args.len() > positional {
                return Err(too_many(args.len()));
            }
            for (&fi, &value) in info.positional.iter().zip(args) {
                set_field(fi, value, &mut set)?;
            }
        }
    }
    for (i, f) in info.fields.iter().enumerate() {
        if set.get(i).copied().unwrap_or(true) {
            continue;
        }
        if f.has_default {
            // SAFETY: as for `set_field`.
            unsafe { f.info.set_to_default(obj) }
                .map_err(|e| rethrow(i, "default for field", e))?;
        } else if f.init {
            let what = if f.kw_only { "keyword-only argument" } else { "argument" };
            return Err(Error::type_error(format!(
                "{key}.__ffi_init__() missing required {what}: '{}'",
                f.info.name()
            )));
        }
        // An `init=False` field without a default keeps what the creator made.
    }
    Ok(())
}

/// The generated `__ffi_init__` of the type `index` (the reference's `MakeInit`): a new
/// object from the type's creator (or `__ffi_new__`), its fields bound from the arguments.
/// The type's fields are read at the first call, so this may be made while the type is
/// being registered.
pub fn auto_init<B: Boundary>(index: TypeIndex) -> Function {
    let info: spin::Once<InitInfo> = spin::Once::new();
    Function::from_packed_with::<B, _>(move |args: &[AnyView<'_>]| {
        let info = info.try_call_once(|| walk::type_info(index).map(InitInfo::of))?;
        let obj = create_empty_object(info.info)?;
        bind(&obj, info, args)?;
        Ok(Any::from(obj))
    })
}

/// Register the generated `__ffi_init__` of `index` as its `__ffi_init__` attribute
/// (`ffi._RegisterFFIInit`), through the C API.
pub fn register_ffi_init(index: TypeIndex) -> Result<(), Error> {
    walk::type_info(index)?;
    let init = auto_init::<crate::function::AbortOnPanic>(index);
    register_attr(index, "__ffi_init__", AnyView::from(&init))
}

/// `TVMFFITypeRegisterAttr`, with the raised error returned.
pub(crate) fn register_attr(index: TypeIndex, name: &str, value: AnyView<'_>) -> Result<(), Error> {
    let name = tvmffi_core::sys::TVMFFIByteArray { data: name.as_ptr().cast(), size: name.len() };
    // SAFETY: the name and the value live through the call.
    let rc =
        unsafe { tvmffi_core::sys::api::TVMFFITypeRegisterAttr(index.0, &name, value.as_raw()) };
    if rc != 0 {
        return Err(Error::take_raised()
            .unwrap_or_else(|| Error::runtime_error("TVMFFITypeRegisterAttr failed")));
    }
    Ok(())
}

/// `ffi.MakeObjectFromPackedArgs(type, name0, value0, ...)`: a new object of `type` (an
/// index or a key) with the named fields set and the others at their defaults.
pub fn make_object_from_packed_args(args: &[AnyView<'_>]) -> Result<Any, Error> {
    let Some(first) = args.first() else {
        return Err(Error::internal_error("Check failed: (args.size() % 2 == 1) is false: "));
    };
    let index = match first.type_index() {
        TypeIndex::INT | TypeIndex::BOOL => TypeIndex(
            i32::try_from(first.get::<i64>()?)
                .map_err(|_| Error::value_error("type index out of range"))?,
        ),
        _ => {
            let key = crate::typed::cast::<crate::String>(*first)?;
            let info = TypeInfo::of_key(key.as_str())
                .ok_or_else(|| Error::internal_error(format!("Cannot find type `{key}`")))?;
            info.index()
        }
    };
    if args.len() % 2 != 1 {
        return Err(Error::internal_error("Check failed: (args.size() % 2 == 1) is false: "));
    }
    let info = walk::type_info(index)?;
    let obj = create_empty_object(info)?;
    let mut keys = Vec::with_capacity(args.len() / 2);
    for pair in args[1..].chunks_exact(2) {
        keys.push((crate::typed::cast::<crate::String>(pair[0])?, pair[1], false));
    }
    for field in info.fields() {
        let found =
            keys.iter_mut().find(|(k, _, used)| !*used && k.as_bytes() == field.name_bytes());
        match found {
            Some((_, value, used)) => {
                // SAFETY: `obj` was just made by the creator; nobody else holds it.
                unsafe { field.set(&obj, *value)? };
                *used = true;
            }
            None if field.flags().contains(FieldFlags::HAS_DEFAULT) => {
                // SAFETY: as above.
                unsafe { field.set_to_default(&obj)? };
            }
            None => {
                return Err(Error::type_error(format!(
                    "Required field `{}` not set in type `{}`",
                    field.name(),
                    info.key()
                )));
            }
        }
    }
    if let Some((k, _, _)) = keys.iter().find(|(_, _, used)| !used) {
        return Err(Error::type_error(format!("Type `{}` does not have field `{k}`", info.key())));
    }
    Ok(Any::from(obj))
}
