//! What the traversals share: the children of a container or reflected object (the
//! reference's `ObjectGraphDFS::EnumerateChildren`), hooks read from type attribute
//! columns, identity keys, and the limits that keep deep or hostile input from exhausting
//! the stack or the heap.

use alloc::format;
use alloc::vec::Vec;

use tvmffi_core::flags::FieldFlags;
use tvmffi_core::{Any, AnyView, FromAnyView, ObjectHeader, ObjectRef, TypeIndex};

use crate::error::Error;
use crate::function::Function;
use crate::map::{Dict, Map};
use crate::object_type::info::{AttrColumn, FieldInfo, TypeInfo};
use crate::seq::{Array, List};

/// The most frames an explicit traversal stack may hold (`kMaxTraversalStackDepth`).
pub(crate) const MAX_STACK_DEPTH: usize = 1 << 20;

/// How deeply hooks (`__ffi_repr__`, `__ffi_hash__`, ...) may nest through the callbacks
/// they are given: each level runs on the native stack (the hook, then a traversal of its
/// own), so this bounds the stack a traversal can use whatever the input.
pub(crate) const MAX_HOOK_DEPTH: usize = 128;

/// What a frame's children are.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    /// `ffi.Array` or `ffi.List`: the elements.
    Sequence,
    /// `ffi.Map` or `ffi.Dict`: key, value, key, value, ...
    Map,
    /// A reflected object: its fields' values, with `fields` beside them.
    Object,
}

/// The children of one container or object.
pub(crate) struct Children {
    pub(crate) kind: Kind,
    pub(crate) items: Vec<Any>,
    /// The field of each item (objects only).
    pub(crate) fields: Vec<FieldInfo>,
    /// Elements or entries (maps) or fields.
    pub(crate) len: usize,
}

/// The object inside `value`, if it holds one.
pub(crate) fn object_of(value: &Any) -> Option<ObjectRef<ObjectHeader>> {
    if !value.type_index().is_object() {
        return None;
    }
    ObjectRef::<ObjectHeader>::from_any_view(value.view()).ok()
}

/// The address of the object inside `value` (its identity), if any.
pub(crate) fn address(value: &Any) -> Option<usize> {
    value.type_index().is_object().then(|| value.as_object_ptr().map(|p| p.as_ptr() as usize))?
}

/// The type information of `index`, or the reference's error for an unknown index.
pub(crate) fn type_info(index: TypeIndex) -> Result<TypeInfo, Error> {
    TypeInfo::of(index).ok_or_else(|| {
        Error::internal_error(format!("Cannot find type info for type_index={}", index.0))
    })
}

/// The children of `obj` (held in `value`): a container's elements or entries, or an
/// object's fields in `ForEachFieldInfo` order, leaving out fields with a flag in `skip`.
pub(crate) fn children(
    value: &Any,
    obj: &ObjectRef<ObjectHeader>,
    skip: FieldFlags,
) -> Result<Children, Error> {
    let view = value.view();
    Ok(match obj.type_index() {
        TypeIndex::ARRAY => {
            let items = Array::from_any_view(view)?.to_vec();
            Children { kind: Kind::Sequence, len: items.len(), items, fields: Vec::new() }
        }
        TypeIndex::LIST => {
            let items = List::from_any_view(view)?.to_vec();
            Children { kind: Kind::Sequence, len: items.len(), items, fields: Vec::new() }
        }
        TypeIndex::MAP => {
            let map = Map::from_any_view(view)?;
            let mut items = Vec::with_capacity(map.len().saturating_mul(2));
            for (k, v) in map.iter() {
                items.push(k.to_owned()?);
                items.push(v.to_owned()?);
            }
            Children { kind: Kind::Map, len: map.len(), items, fields: Vec::new() }
        }
        TypeIndex::DICT => {
            let entries = Dict::from_any_view(view)?.to_vec();
            let len = entries.len();
            let items = entries.into_iter().flat_map(|(k, v)| [k, v]).collect();
            Children { kind: Kind::Map, len, items, fields: Vec::new() }
        }
        index => {
            let info = type_info(index)?;
            let mut items = Vec::new();
            let mut fields = Vec::new();
            for field in info.fields() {
                if field.flags().0 & skip.0 != 0 {
                    continue;
                }
                items.push(field.get(obj)?);
                fields.push(field);
            }
            Children { kind: Kind::Object, len: fields.len(), items, fields }
        }
    })
}

/// The hook function in `column` for `index`, if any: a value that is not a function is a
/// `TypeError`, as the reference's `AttrKey::ValueFrom` makes it.
pub(crate) fn hook(
    column: &AttrColumn,
    index: TypeIndex,
    name: &str,
) -> Result<Option<Function>, Error> {
    let Some(value) = column.get(index) else { return Ok(None) };
    Function::from_any_view(value).map(Some).map_err(|_| {
        Error::type_error(format!(
            "Type attribute `{name}` of `{}` must be a function, but got `{}`",
            crate::object_type::type_key(index),
            crate::object_type::type_key(value.type_index())
        ))
    })
}

/// An object as a view, for calling hooks with it.
pub(crate) fn view_of(obj: &ObjectRef<ObjectHeader>) -> AnyView<'_> {
    AnyView::from(obj)
}

/// The error for a traversal stack past [`MAX_STACK_DEPTH`].
pub(crate) fn too_deep(what: &str) -> Error {
    Error::value_error(format!("{what}: maximum stack depth ({MAX_STACK_DEPTH}) exceeded"))
}

/// The error for hooks nested past [`MAX_HOOK_DEPTH`].
pub(crate) fn hooks_too_deep(what: &str) -> Error {
    Error::value_error(format!(
        "{what}: custom hooks nested more than {MAX_HOOK_DEPTH} levels deep"
    ))
}
