//! Type keys, the sentinel objects, and the `__ffi_convert__` attribute of the static object
//! types (`src/ffi/object.cc`).

use tvmffi_core::{Any, AnyView, Payload, TypeIndex};

use super::{Builtins, arity};
use crate::error::Error;
use crate::function::{Boundary, Function};
use crate::runtime::with_types;
use crate::seq::Array;
use crate::string::{any_view_to_owned, str_any_from_bytes};

/// The payload of a plain `ffi.Object`: nothing after the header.
struct Plain;

// SAFETY: `Plain` adds nothing to the header and claims only `ffi.Object` itself.
unsafe impl Payload for Plain {
    const TYPE_KEY: &'static str = "ffi.Object";

    fn is_instance(type_index: TypeIndex) -> bool {
        type_index == TypeIndex::OBJECT
    }
}

/// The two sentinels Python compares against by identity: `MISSING` (a lookup that found
/// nothing) and `KWARGS` (the marker before keyword arguments).
static MISSING: spin::Once<Any> = spin::Once::new();
static KWARGS: spin::Once<Any> = spin::Once::new();

fn sentinel(cell: &'static spin::Once<Any>) -> Any {
    cell.call_once(|| Any::from(crate::heap::new_object(TypeIndex::OBJECT, Plain))).clone()
}

/// The object that stands for "missing" (`ffi.GetInvalidObject`, the reference's
/// `GetMissingObject`): what `ffi.MapGetItemOrMissing` returns for an absent key.
pub fn missing_object() -> Any {
    sentinel(&MISSING)
}

/// The type attribute columns the reference creates at start-up (`EnsureTypeAttrColumn`),
/// so C++ code that opens one (`TypeAttrColumn(name)` throws for a missing column) finds it.
const COLUMNS: [&str; 17] = [
    "__ffi_enum__",
    "__any_hash__",
    "__any_equal__",
    "__ffi_shallow_copy__",
    "__ffi_repr__",
    "__ffi_hash__",
    "__ffi_eq__",
    "__ffi_compare__",
    "__ffi_new__",
    "__ffi_init__",
    "__data_to_json__",
    "__data_from_json__",
    "__s_equal__",
    "__s_hash__",
    "__s_mutate__",
    "__s_maybe_inplace_mutate__",
    "__s_visit__",
];

pub(super) fn register<B: Boundary>(b: &mut Builtins<'_, B>) {
    for column in COLUMNS {
        b.type_attr(TypeIndex::NONE, column, AnyView::none());
    }
    b.def_packed("ffi.GetRegisteredTypeKeys", |args| {
        let [] = arity("ffi.GetRegisteredTypeKeys() -> Array<str>", args)?;
        let keys: Result<Array, Error> = with_types(|t| {
            t.type_keys()
                .map(|k| {
                    str_any_from_bytes(k).map_err(|e| Error::runtime_error(alloc::format!("{e}")))
                })
                .collect()
        });
        Ok(Any::from(keys?))
    });
    b.def_packed("ffi.GetInvalidObject", |args| {
        let [] = arity("ffi.GetInvalidObject() -> Object", args)?;
        Ok(missing_object())
    });
    b.def_packed("ffi.GetKwargsObject", |args| {
        let [] = arity("ffi.GetKwargsObject() -> Object", args)?;
        Ok(sentinel(&KWARGS))
    });

    // `TypeAttrDef<T>().def_convert<TRef>()`: `__ffi_convert__` casts a value to the type's
    // reference, accepting what the reference's `TryCastFromAnyView` accepts.
    let converts: [(TypeIndex, &'static str, Convert); 11] = [
        (TypeIndex::OBJECT, "ffi.Object", Convert::AnyObject),
        (TypeIndex::STR, "str", Convert::Text),
        (TypeIndex::BYTES, "bytes", Convert::Text),
        (TypeIndex::ERROR, "ffi.Error", Convert::Exact),
        (TypeIndex::FUNCTION, "ffi.Function", Convert::Exact),
        (TypeIndex::SHAPE, "ffi.Shape", Convert::Shape),
        (TypeIndex::TENSOR, "ffi.Tensor", Convert::Exact),
        (TypeIndex::ARRAY, "ffi.Array", Convert::Exact),
        (TypeIndex::MAP, "ffi.Map", Convert::Exact),
        (TypeIndex::LIST, "ffi.List", Convert::Exact),
        (TypeIndex::DICT, "ffi.Dict", Convert::Exact),
    ];
    for (index, name, how) in converts {
        let f = Function::from_packed_with::<B, _>(move |args: &[AnyView<'_>]| {
            let [value] = arity("__ffi_convert__(0: AnyView) -> Any", args)?;
            convert(index, name, how, *value)
        });
        b.type_attr(index, "__ffi_convert__", AnyView::from(&f));
    }
}

/// The enum types of `src/ffi/object.cc`. They come first among dynamic types, as in the
/// reference (indices 128 to 131), so this runs before any other built-in allocates one.
pub(super) fn register_enum_types<B: Boundary>(b: &mut Builtins<'_, B>) {
    // A failure is a bug here, which the built-in tests would catch.
    if let Err(e) = crate::dataclass::enums::register::<B>(b.types()) {
        drop(e);
    }
}

#[derive(Clone, Copy)]
enum Convert {
    /// Any object, or `None` (a null reference).
    AnyObject,
    /// A string (or bytes) in any of its forms, made owned.
    Text,
    /// An object of exactly this index.
    Exact,
    /// A shape, or an array or list of integers made into one (the reference's fallback
    /// from `Array<int64_t>`).
    Shape,
}

fn convert(index: TypeIndex, name: &str, how: Convert, value: AnyView<'_>) -> Result<Any, Error> {
    let actual = value.type_index();
    let ok = match how {
        Convert::AnyObject => actual == TypeIndex::NONE || actual.is_object(),
        Convert::Text if index == TypeIndex::STR => {
            matches!(actual, TypeIndex::RAW_STR | TypeIndex::SMALL_STR | TypeIndex::STR)
        }
        Convert::Text => {
            matches!(actual, TypeIndex::BYTE_ARRAY_PTR | TypeIndex::SMALL_BYTES | TypeIndex::BYTES)
        }
        Convert::Exact => actual == index,
        Convert::Shape if matches!(actual, TypeIndex::ARRAY | TypeIndex::LIST) => {
            let dims: Result<alloc::vec::Vec<i64>, _> = match value.get::<crate::seq::Array>() {
                Ok(a) => a.iter().map(|v| v.get::<i64>()).collect(),
                Err(e) => Err(e),
            };
            if let Ok(dims) = dims {
                return Ok(crate::shape::Shape::new(&dims).into_any());
            }
            false
        }
        Convert::Shape => actual == index,
    };
    if !ok {
        return Err(Error::type_error(alloc::format!(
            "Cannot cast from `{}` to `{name}`",
            crate::object_type::type_key(actual)
        )));
    }
    Ok(any_view_to_owned(value)?)
}
