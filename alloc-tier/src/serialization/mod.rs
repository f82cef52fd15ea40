//! The JSON graph: any value, with its sharing, as JSON, in the reference's format
//! (`tvm/ffi/extra/serialization.h`, `ffi.ToJSONGraph` / `ffi.FromJSONGraph`), so graphs
//! written by either side load on the other.
//!
//! ```text
//! {"root_index": 3,
//!  "nodes": [{"type": "int", "data": 1},                       // 0
//!            {"type": "ffi.String", "data": "x"},              // 1
//!            {"type": "testing.TestIntPair", "data": {"a": 1, "b": 2}},   // 2
//!            {"type": "ffi.Array", "data": [0, 1, 2, 2]}],     // 3: shares node 2
//!  "metadata": {...}}                                          // when given
//! ```
//!
//! Each node is a type key and its data; children come before their parents, and equal
//! values (by the reference's `AnyHash`/`AnyEqual`: numbers by value, strings by content,
//! objects by identity) share one node. Data by type:
//!
//! | type | data |
//! | --- | --- |
//! | `None` | none |
//! | `bool`, `int`, `float` | the value |
//! | `DataType` | its string (`"float32"`) |
//! | `Device` | `[device_type, device_id]` |
//! | `ffi.String`, `ffi.Bytes` | the text; the bytes in base64 |
//! | `ffi.Shape` | the extents |
//! | `ffi.Array`, `ffi.List` | the elements' node indices |
//! | `ffi.Map`, `ffi.Dict` | key and value node indices, alternating |
//! | enum singletons (`ffi.IntEnum`, `ffi.Enum`) | the integer or string index |
//! | a type with `__data_to_json__` | what it returns (read back by `__data_from_json__`) |
//! | other reflected objects | `{field: value}`: fields of type `None`, `bool`, `int`, `float`, `DataType` inline, others as node indices |
//!
//! Objects load through their type's creator (or `__ffi_new__`) and field setters; a field
//! missing from the data takes its default, or is an error. Bad input (an unknown type key,
//! an index out of range, data of the wrong type, a node that reaches itself) is an error,
//! never a crash; so is a value that reaches itself when writing.
//!
//! Everything reflective goes through the C API, so this works under any runtime.

mod base64;
mod decode;
mod encode;
mod enums;
mod reflect;

use alloc::format;
use alloc::vec::Vec;

use tvmffi_core::{Any, AnyView, FromAnyView, TypeIndex};

use crate::error::Error;
use crate::map::Map;
use crate::seq::Array;
use crate::string::{any_view_to_owned, str_any_from_bytes};

pub use base64::{decode as base64_decode, encode as base64_encode};

/// `value` as a JSON graph: an `ffi.Map` with `root_index`, `nodes` and, unless `metadata`
/// is `None`, `metadata` (stored as given). The reference's `ToJSONGraph`.
///
/// Fails for values that cannot be written: objects of a type without a creator or
/// `__data_to_json__` (`TypeError`), handles such as `void*` (`RuntimeError`), a value that
/// contains itself (`ValueError`), and whatever a field getter or hook raises.
pub fn to_json_graph(value: AnyView<'_>, metadata: AnyView<'_>) -> Result<Any, Error> {
    let value = any_view_to_owned(value)?;
    let (root, nodes) = encode::Encoder::new().run(value)?;
    let mut graph = Map::new();
    graph.insert(text(b"root_index")?, root)?;
    graph.insert(text(b"nodes")?, nodes)?;
    if !metadata.is_none() {
        graph.insert(text(b"metadata")?, any_view_to_owned(metadata)?)?;
    }
    Ok(Any::from(graph))
}

/// The value a JSON graph describes (the reference's `FromJSONGraph`); `metadata` is
/// ignored.
pub fn from_json_graph(graph: AnyView<'_>) -> Result<Any, Error> {
    let graph: Map = Map::from_any_view(graph).map_err(|_| invalid(", expected an object"))?;
    let root = graph
        .get("root_index")?
        .filter(|r| r.type_index() == TypeIndex::INT)
        .ok_or_else(|| invalid(", expected `root_index` integer field"))?
        .get::<i64>()?;
    let nodes = graph
        .get("nodes")?
        .and_then(|n| n.get::<Array>().ok())
        .ok_or_else(|| invalid(", expected `nodes` array field"))?;
    decode::Decoder::new(nodes).run(root)
}

/// [`to_json_graph`] as compact JSON text (`ffi.ToJSONGraphString`).
pub fn to_json_graph_string(value: AnyView<'_>, metadata: AnyView<'_>) -> Result<Vec<u8>, Error> {
    let graph = to_json_graph(value, metadata)?;
    let mut out = Vec::new();
    crate::json::write(&mut out, graph.view(), None)?;
    Ok(out)
}

/// [`from_json_graph`] of JSON text (`ffi.FromJSONGraphString`).
pub fn from_json_graph_string(text: &[u8]) -> Result<Any, Error> {
    let graph = crate::json::parse(text)?;
    from_json_graph(graph.view())
}

/// The reference's `ValueError` prefix for malformed graphs, then `rest`.
fn invalid(rest: impl AsRef<str>) -> Error {
    Error::value_error(format!("Invalid JSON Object Graph{}", rest.as_ref()))
}

/// The reference's `TypeError` for a value that does not convert (`Any::cast<T>`).
fn cast_error(expected: &str, actual: AnyView<'_>) -> Error {
    Error::type_error(format!(
        "Cannot convert from type `{}` to `{expected}`",
        crate::object_type::type_key(actual.type_index())
    ))
}

/// An array of integers (`Array<int>`), each fitting `T`, with the reference's mismatch
/// message naming the first element that does not.
fn int_array<T: for<'a> FromAnyView<'a>>(v: AnyView<'_>) -> Result<Vec<T>, Error> {
    let array: Array = v.get().map_err(|_| cast_error("Array<int>", v))?;
    array
        .iter()
        .enumerate()
        .map(|(i, item)| {
            item.get::<T>().map_err(|_| {
                Error::type_error(format!(
                    "Cannot convert from type `Array[index {i}: {}]` to `Array<int>`",
                    crate::object_type::type_key(item.type_index())
                ))
            })
        })
        .collect()
}

/// A string value holding `bytes`.
fn text(bytes: &[u8]) -> Result<Any, Error> {
    str_any_from_bytes(bytes).map_err(|e| Error::value_error(format!("{e}")))
}

fn node_key(key: &str) -> Result<Any, Error> {
    text(key.as_bytes())
}
