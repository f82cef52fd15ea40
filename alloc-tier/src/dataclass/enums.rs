//! The enum object types (`include/tvm/ffi/enum.h`, registered in the reference's
//! `src/ffi/object.cc`): `ffi.Enum` singletons with a canonical integer and string index,
//! their `ffi.IntEnum` and `ffi.StrEnum` kinds (whose `value` is one index or the other),
//! and `ffi.EnumState`, the registry of one enum type kept in its `__ffi_enum__` type
//! attribute: the entries in order, the indices to entries, and per-entry attribute
//! columns. The Python package's `tvm_ffi.dataclasses.Enum` keeps its entries there, and
//! C++ enums (`refl::EnumDef`) too.
//!
//! The layouts are the C++ classes', so C++ subclasses (`class MyEnumObj : public
//! IntEnumObj`) and objects made by C++ are read by the same reflection.

use alloc::format;

use tvmffi_core::flags::{FieldFlags, SEqHashKind};
use tvmffi_core::{Any, AnyView, FromAnyView, Object, ObjectHeader, ObjectRef, TypeIndex};

use crate::error::Error;
use crate::function::{Boundary, Function};
use crate::map::Dict;
use crate::object_type::info::{TypeInfo, type_attr};
use crate::object_type::{ObjectRoot, Reflect};
use crate::runtime::TypeTable;
use crate::seq::List;

/// The name of the type attribute that holds an enum type's [`EnumState`].
pub const ENUM_STATE_ATTR: &str = "__ffi_enum__";

/// `ffi.EnumState`: the registry of one enum type.
#[repr(C)]
#[derive(Clone, Default)]
pub struct EnumState {
    /// The entries, in registration order.
    pub entries: List,
    /// Canonical integer and string indices to entries.
    pub indexes: Dict,
    /// Attribute name to a dict from entry to value.
    pub attrs: Dict,
}

/// `ffi.Enum`: an enum entry, a singleton of its type.
#[repr(C)]
#[derive(Clone, Default)]
pub struct EnumObj {
    /// The canonical integer index (`_int_index`).
    pub int_index: i64,
    /// The canonical string index (`_str_index`).
    pub str_index: crate::String,
}

/// `ffi.IntEnum`: an enum whose `value` is its integer index.
#[repr(C)]
#[derive(Clone, Default)]
pub struct IntEnumObj {
    /// The entry.
    pub base: EnumObj,
}

/// `ffi.StrEnum`: an enum whose `value` is its string index.
#[repr(C)]
#[derive(Clone, Default)]
pub struct StrEnumObj {
    /// The entry.
    pub base: EnumObj,
}

crate::object_type! {
    // SAFETY: the reference's key for `EnumStateObj`, laid out as it (asserted below).
    unsafe impl ObjectDef for EnumState { type_key = "ffi.EnumState"; parent = ObjectRoot; is_final = true; }
}
crate::object_type! {
    // SAFETY: the reference's key for `EnumObj`, laid out as it; its subclasses (ours and
    // C++ ones) start with it.
    unsafe impl ObjectDef for EnumObj { type_key = "ffi.Enum"; parent = ObjectRoot; }
}
crate::object_type! {
    // SAFETY: the reference's `IntEnumObj`, which adds nothing to `EnumObj`.
    unsafe impl ObjectDef for IntEnumObj { type_key = "ffi.IntEnum"; parent = EnumObj; }
}
crate::object_type! {
    // SAFETY: the reference's `StrEnumObj`, which adds nothing to `EnumObj`.
    unsafe impl ObjectDef for StrEnumObj { type_key = "ffi.StrEnum"; parent = EnumObj; }
}

// The C++ layouts: a pointer per container, then `int64_t` and a 16-byte `String`. A
// wrapper of one field as large as itself has that field at offset 0.
const _: () = {
    use core::mem::{offset_of, size_of};
    assert!(size_of::<List>() == size_of::<usize>() && size_of::<Dict>() == size_of::<usize>());
    assert!(size_of::<crate::String>() == 16);
    assert!(offset_of!(EnumState, indexes) == size_of::<usize>());
    assert!(offset_of!(EnumState, attrs) == 2 * size_of::<usize>());
    assert!(offset_of!(EnumObj, str_index) == 8);
    assert!(size_of::<EnumObj>() == 24 && size_of::<IntEnumObj>() == 24);
};

/// The reflected schemas of the state's containers, as C++ types them (`List<ObjectRef>`,
/// `Dict<Any, ObjectRef>`, `Dict<String, Dict<ObjectRef, Any>>`).
const ENTRIES_SCHEMA: &str = r#"{"type":"ffi.List","args":[{"type":"ffi.Object"}]}"#;
const INDEXES_SCHEMA: &str = r#"{"type":"ffi.Dict","args":[{"type":"Any"},{"type":"ffi.Object"}]}"#;
const ATTRS_SCHEMA: &str = r#"{"type":"ffi.Dict","args":[{"type":"ffi.String"},{"type":"ffi.Dict","args":[{"type":"ffi.Object"},{"type":"Any"}]}]}"#;

/// `__ffi_convert__` of `ffi.IntEnum` / `ffi.StrEnum`: the value as a reference to an entry
/// of that kind (`def_convert`), or the reference's `TypeError`.
fn convert_function<B: Boundary>(index: TypeIndex, key: &'static str) -> Function {
    Function::from_packed_with::<B, _>(move |args: &[AnyView<'_>]| {
        let [value] = args else {
            return Err(Error::type_error(format!(
                "Mismatched number of arguments when calling: `{key}.__ffi_convert__(0: AnyView) \
                 -> Any`. Expected 1 but got {} arguments",
                args.len()
            )));
        };
        let actual = value.type_index();
        let fits = actual.is_object()
            && TypeInfo::of(actual)
                .zip(TypeInfo::of(index))
                .is_some_and(|(a, target)| a.is_subtype_of(target));
        if !fits {
            return Err(Error::type_error(format!(
                "Cannot cast from `{}` to `{key}`",
                crate::object_type::type_key(actual)
            )));
        }
        Ok(value.to_owned()?)
    })
}

/// Register the four enum types into `types`, as the reference does at start-up: indices
/// follow registration (128 to 131 when nothing comes before).
pub(crate) fn register<B: Boundary>(types: &mut TypeTable) -> Result<(), Error> {
    Reflect::<EnumState, B>::with_boundary()
        .default_creator()
        .shallow_copy()
        .init(|| -> Result<ObjectRef<ObjectHeader>, Error> {
            Ok(crate::object_type::new_object(EnumState::default())?.upcast())
        })
        .def_ro(
            crate::field!(EnumState, entries)
                .type_schema(ENTRIES_SCHEMA)
                .doc("Enum singletons in registration order.")
                .init(false),
        )
        .def_ro(
            crate::field!(EnumState, indexes)
                .type_schema(INDEXES_SCHEMA)
                .doc("Canonical integer and string indices to enum singletons.")
                .init(false),
        )
        .def_ro(
            crate::field!(EnumState, attrs)
                .type_schema(ATTRS_SCHEMA)
                .doc("Extensible-attribute columns keyed by enum singleton.")
                .init(false),
        )
        .register_into(types)?;
    Reflect::<EnumObj, B>::with_boundary()
        .structural_eq_hash_kind(SEqHashKind::UNIQUE_INSTANCE)
        .default_creator()
        .shallow_copy()
        .no_auto_init()
        .def_ro(
            crate::field!(EnumObj, int_index, "_int_index")
                .doc("Canonical integer index.")
                .flags(FieldFlags::SEQ_HASH_IGNORE),
        )
        .def_ro(crate::field!(EnumObj, str_index, "_str_index").doc("Canonical string index."))
        .register_into(types)?;
    let int_enum = Reflect::<IntEnumObj, B>::with_boundary()
        .structural_eq_hash_kind(SEqHashKind::UNIQUE_INSTANCE)
        .default_creator()
        .shallow_copy()
        .no_auto_init()
        .def_ro(
            crate::field!(IntEnumObj, base.int_index, "value")
                .doc("Canonical integer index.")
                .init(false)
                .flags(FieldFlags::SEQ_HASH_IGNORE),
        )
        .register_into(types)?;
    let f = convert_function::<B>(int_enum, "ffi.IntEnum");
    types.register_attr(int_enum.0, b"__ffi_convert__", AnyView::from(&f))?;
    let str_enum = Reflect::<StrEnumObj, B>::with_boundary()
        .structural_eq_hash_kind(SEqHashKind::UNIQUE_INSTANCE)
        .default_creator()
        .shallow_copy()
        .no_auto_init()
        .def_ro(
            crate::field!(StrEnumObj, base.str_index, "value")
                .doc("Canonical string index.")
                .init(false)
                .flags(FieldFlags::SEQ_HASH_IGNORE),
        )
        .register_into(types)?;
    let f = convert_function::<B>(str_enum, "ffi.StrEnum");
    types.register_attr(str_enum.0, b"__ffi_convert__", AnyView::from(&f))?;
    types.register_attr(TypeIndex::NONE.0, ENUM_STATE_ATTR.as_bytes(), AnyView::none())
}

/// The [`EnumState`] of the enum type `index`, if it has one (its `__ffi_enum__`
/// attribute); a value of another type there is a `TypeError`.
pub fn enum_state(index: TypeIndex) -> Result<Option<ObjectRef<Object<EnumState>>>, Error> {
    let Some(value) = type_attr(ENUM_STATE_ATTR, index) else { return Ok(None) };
    ObjectRef::<Object<EnumState>>::from_any_view(value).map(Some).map_err(|_| {
        Error::type_error(format!(
            "Expected `ffi.EnumState` in enum state column, but got `{}`",
            crate::object_type::type_key(value.type_index())
        ))
    })
}

/// The entry of the enum type `index` with canonical index `key` (an integer or a string;
/// the reference's `EnumObj::_GetByIntIndex` / `_GetByStrIndex`), or a `ValueError`.
pub fn enum_entry(index: TypeIndex, key: AnyView<'_>) -> Result<Any, Error> {
    if let Some(state) = enum_state(index)? {
        if let Some(entry) = state.indexes.get(key)? {
            return Ok(entry);
        }
    }
    // As C++ streams the index: a string's text, an integer's digits.
    let shown = match key.as_str() {
        Ok(text) => alloc::string::String::from(text),
        Err(_) => super::repr::repr(&key.to_owned()?, super::repr::ReprOptions::default())?,
    };
    Err(Error::value_error(format!(
        "Enum `{}` has no instance with index {shown}",
        crate::object_type::type_key(index)
    )))
}
