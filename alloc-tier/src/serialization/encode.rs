//! `ToJSONGraph`: a value as a list of nodes, each child before its parent (the order of
//! the reference's recursion), equal values sharing one node.
//!
//! The walk keeps its own stack, so a chain of objects of any length is written without
//! growing the call stack. Where the reference recurses forever (an object reachable from
//! itself through its fields) this is an error, as it already is for lists and dicts.

use alloc::format;
use alloc::vec::Vec;

use hashbrown::HashTable;
use tvmffi_core::sys::{DLDataType, TVMFFIAny, TVMFFIFieldInfo, api};
use tvmffi_core::{Any, AnyView, ObjectHeader, ObjectRef, TypeIndex};

use super::reflect::{self, Column};
use super::{base64, enums, node_key, text};
use crate::error::Error;
use crate::json::identity::AddressSet;
use crate::map::{self, Dict, Map};
use crate::seq::{Array, List};

static DATA_TO_JSON: Column = Column::new("__data_to_json__");

/// Values already written, by the reference's `AnyHash`/`AnyEqual`, with their node.
#[derive(Default)]
struct Memo {
    table: HashTable<(u64, Any, i64)>,
}

impl Memo {
    fn find(&self, value: AnyView<'_>) -> Result<(u64, Option<i64>), Error> {
        let hash = map::any_hash(value)?;
        let mut failed = None;
        let found = self.table.find(hash, |(h, k, _)| {
            *h == hash
                && map::any_equal(k.view(), value).unwrap_or_else(|e| {
                    failed = Some(e);
                    false
                })
        });
        match failed {
            Some(e) => Err(e),
            None => Ok((hash, found.map(|(_, _, i)| *i))),
        }
    }

    fn insert(&mut self, hash: u64, value: Any, index: i64) {
        self.table.insert_unique(hash, (hash, value, index), |(h, _, _)| *h);
    }
}

/// A container or object whose children are being written.
struct Frame {
    value: Any,
    hash: u64,
    key: Any,
    /// The address the cycle check registered, if any.
    address: usize,
    kind: Kind,
}

enum Kind {
    /// Array, List, Map, Dict: the data is the children's node indices, in order (a map's
    /// keys and values alternating).
    Children { items: Items, next: usize, data: Vec<Any> },
    /// A reflected object: the data maps each field name to its value (primitive types)
    /// or node index.
    Object {
        obj: ObjectRef<ObjectHeader>,
        fields: Vec<&'static TVMFFIFieldInfo>,
        next: usize,
        data: Map,
    },
}

enum Items {
    Array(Array),
    Owned(Vec<Any>),
}

impl Items {
    fn get(&self, i: usize) -> Option<Any> {
        match self {
            Self::Array(a) => a.as_slice().get(i).cloned(),
            Self::Owned(v) => v.get(i).cloned(),
        }
    }
}

pub(super) struct Encoder {
    memo: Memo,
    nodes: Vec<Any>,
    stack: Vec<Frame>,
    /// Containers and objects on the stack.
    active: AddressSet,
}

impl Encoder {
    pub(super) fn new() -> Self {
        Self {
            memo: Memo::default(),
            nodes: Vec::new(),
            stack: Vec::new(),
            active: AddressSet::default(),
        }
    }

    /// Write `root` and everything it reaches; the root's node index and the nodes.
    pub(super) fn run(mut self, root: Any) -> Result<(i64, Array), Error> {
        let mut done = self.visit(root)?;
        loop {
            if let Some(index) = done.take() {
                match self.stack.last_mut() {
                    None => return Ok((index, Array::from_vec(self.nodes))),
                    Some(frame) => deliver(frame, index)?,
                }
            }
            let Some(frame) = self.stack.last_mut() else {
                return Err(Error::internal_error("ToJSONGraph: the walk ended without a root"));
            };
            done = match next_child(frame)? {
                Some(child) => self.visit(child)?,
                None => Some(self.finish()?),
            };
        }
    }

    /// The node of `value`: found, written now (leaves), or `None` when a frame was pushed
    /// for its children.
    fn visit(&mut self, value: Any) -> Result<Option<i64>, Error> {
        let (hash, found) = self.memo.find(value.view())?;
        if let Some(index) = found {
            return Ok(Some(index));
        }
        let index = value.type_index();
        let (key, data): (&str, Option<Any>) = match index {
            TypeIndex::NONE => ("None", None),
            TypeIndex::BOOL => ("bool", Some(Any::from(value.get::<bool>()?))),
            TypeIndex::INT => ("int", Some(Any::from(value.get::<i64>()?))),
            TypeIndex::FLOAT => ("float", Some(Any::from(value.get::<f64>()?))),
            TypeIndex::DATA_TYPE => ("DataType", Some(dtype_string(value.get::<DLDataType>()?)?)),
            TypeIndex::DEVICE => {
                let d = value.get::<tvmffi_core::sys::DLDevice>()?;
                let pair =
                    [Any::from(i64::from(d.device_type.0)), Any::from(i64::from(d.device_id))];
                ("Device", Some(Any::from(Array::from_vec(pair.into()))))
            }
            TypeIndex::SMALL_STR | TypeIndex::STR => ("ffi.String", Some(value.clone())),
            TypeIndex::SMALL_BYTES | TypeIndex::BYTES => {
                ("ffi.Bytes", Some(text(&base64::encode(value.as_bytes()?))?))
            }
            TypeIndex::SHAPE => {
                let shape: crate::Shape = value.get()?;
                let dims = shape.as_slice().iter().map(|&d| Any::from(d)).collect();
                ("ffi.Shape", Some(Any::from(Array::from_vec(dims))))
            }
            TypeIndex::ARRAY => {
                let array: Array = value.get()?;
                self.push(value, hash, "ffi.Array", Items::Array(array))?;
                return Ok(None);
            }
            TypeIndex::LIST => {
                let items = value.get::<List>()?.to_vec();
                self.push(value, hash, "ffi.List", Items::Owned(items))?;
                return Ok(None);
            }
            TypeIndex::MAP => {
                let m: Map = value.get()?;
                let items = m.iter().flat_map(|(k, v)| [k.to_owned(), v.to_owned()]);
                let items = items.collect::<Result<Vec<Any>, _>>()?;
                self.push(value, hash, "ffi.Map", Items::Owned(items))?;
                return Ok(None);
            }
            TypeIndex::DICT => {
                let d: Dict = value.get()?;
                let items = d.to_vec().into_iter().flat_map(|(k, v)| [k, v]).collect();
                self.push(value, hash, "ffi.Dict", Items::Owned(items))?;
                return Ok(None);
            }
            _ if index.is_object() => return self.object(value, hash),
            _ => {
                return Err(Error::runtime_error(format!(
                    "Cannot serialize type `{}`",
                    crate::object_type::type_key(index)
                )));
            }
        };
        Ok(Some(self.add_node(node_key(key)?, data, value, hash)))
    }

    fn add_node(&mut self, key: Any, data: Option<Any>, value: Any, hash: u64) -> i64 {
        let mut node = Map::new();
        // Inserting two new keys into a fresh map cannot fail.
        let _ = node.insert(text_key("type"), key);
        if let Some(data) = data {
            let _ = node.insert(text_key("data"), data);
        }
        let index = self.nodes.len() as i64;
        self.nodes.push(Any::from(node));
        self.memo.insert(hash, value, index);
        index
    }

    /// A reflected object: an enum or a type with `__data_to_json__` is a leaf; others are
    /// written field by field.
    fn object(&mut self, value: Any, hash: u64) -> Result<Option<i64>, Error> {
        let index = value.type_index();
        let info = reflect::type_info(index).ok_or_else(|| {
            Error::runtime_error(format!(
                "Cannot serialize type `{}`",
                crate::object_type::type_key(index)
            ))
        })?;
        let key = text(reflect::key_of(info))?;
        let obj = object_ref(&value)?;
        if let Some(data) = enums::to_json(&obj, info)? {
            return Ok(Some(self.add_node(key, Some(data), value, hash)));
        }
        if let Some(hook) = DATA_TO_JSON.function(index)? {
            let data = hook.call(&[value.view()])?;
            return Ok(Some(self.add_node(key, Some(data), value, hash)));
        }
        if !reflect::has_creator(info) {
            return Err(Error::type_error(format!(
                "Type `{}` does not support ToJSONGraph (no native creator or __ffi_new__ type \
                 attr)",
                alloc::string::String::from_utf8_lossy(reflect::key_of(info))
            )));
        }
        let address = self.enter(&value)?;
        let fields = reflect::fields(info);
        self.stack.push(Frame {
            value,
            hash,
            key,
            address,
            kind: Kind::Object { obj, fields, next: 0, data: Map::new() },
        });
        Ok(None)
    }

    fn push(&mut self, value: Any, hash: u64, key: &str, items: Items) -> Result<(), Error> {
        let address = self.enter(&value)?;
        let key = node_key(key)?;
        self.stack.push(Frame {
            value,
            hash,
            key,
            address,
            kind: Kind::Children { items, next: 0, data: Vec::new() },
        });
        Ok(())
    }

    /// Register a container or object as being written, refusing one already on the stack.
    fn enter(&mut self, value: &Any) -> Result<usize, Error> {
        let address = value.as_object_ptr().map_or(0, |p| p.as_ptr() as usize);
        if self.active.insert(address) {
            return Ok(address);
        }
        Err(Error::value_error(match value.type_index() {
            TypeIndex::LIST => alloc::string::String::from(
                "Cycle detected during serialization: a List contains itself",
            ),
            TypeIndex::DICT => alloc::string::String::from(
                "Cycle detected during serialization: a Dict contains itself",
            ),
            other => format!(
                "Cycle detected during serialization: a `{}` object reaches itself",
                crate::object_type::type_key(other)
            ),
        }))
    }

    /// The innermost frame has no child left: its node.
    fn finish(&mut self) -> Result<i64, Error> {
        let frame = self
            .stack
            .pop()
            .ok_or_else(|| Error::internal_error("ToJSONGraph: no frame to finish"))?;
        self.active.remove(&frame.address);
        let data = match frame.kind {
            Kind::Children { data, .. } => Any::from(Array::from_vec(data)),
            Kind::Object { data, .. } => Any::from(data),
        };
        Ok(self.add_node(frame.key, Some(data), frame.value, frame.hash))
    }
}

/// The next child of `frame` that needs a node; an object's primitive fields go straight
/// into its data on the way.
fn next_child(frame: &mut Frame) -> Result<Option<Any>, Error> {
    match &mut frame.kind {
        Kind::Children { items, next, .. } => {
            let item = items.get(*next);
            *next += 1;
            Ok(item)
        }
        Kind::Object { obj, fields, next, data } => {
            while let Some(&field) = fields.get(*next) {
                *next += 1;
                // SAFETY: `fields` are the fields of `obj`'s type and its ancestors.
                let value = unsafe { reflect::get_field(obj, field) }?;
                let inline = match TypeIndex(field.field_static_type_index) {
                    TypeIndex::NONE => Any::none(),
                    TypeIndex::BOOL => Any::from(value.get::<bool>()?),
                    TypeIndex::INT => Any::from(value.get::<i64>()?),
                    TypeIndex::FLOAT => Any::from(value.get::<f64>()?),
                    TypeIndex::DATA_TYPE => dtype_string(value.get::<DLDataType>()?)?,
                    _ => return Ok(Some(value)),
                };
                data.insert(text(reflect::field_name(field))?, inline)?;
            }
            Ok(None)
        }
    }
}

/// Record a child's node index in its parent.
fn deliver(frame: &mut Frame, index: i64) -> Result<(), Error> {
    match &mut frame.kind {
        Kind::Children { data, .. } => data.push(Any::from(index)),
        Kind::Object { fields, next, data, .. } => {
            let field = next
                .checked_sub(1)
                .and_then(|i| fields.get(i))
                .ok_or_else(|| Error::internal_error("ToJSONGraph: a child without its field"))?;
            data.insert(text(reflect::field_name(field))?, Any::from(index))?;
        }
    }
    Ok(())
}

fn object_ref(value: &Any) -> Result<ObjectRef<ObjectHeader>, Error> {
    let ptr = value
        .as_object_ptr()
        .ok_or_else(|| Error::internal_error("an object without a pointer"))?;
    // SAFETY: the value holds a live object; we take our own reference.
    unsafe { ObjectRef::from_raw_borrowed(ptr.as_ptr().cast()) }
        .ok_or_else(|| Error::internal_error("an object without a pointer"))
}

/// The reference's `DLDataTypeToString`, through the runtime.
fn dtype_string(dtype: DLDataType) -> Result<Any, Error> {
    let mut out = TVMFFIAny::NONE;
    // SAFETY: `dtype` is a valid value; `out` takes an owned string.
    crate::function::check(unsafe { api::TVMFFIDataTypeToString(&dtype, &mut out) })?;
    // SAFETY: on success the runtime wrote an owned value.
    Ok(unsafe { Any::from_raw(out) })
}

fn text_key(s: &'static str) -> Any {
    // Short keys are inline strings and never fail.
    Any::small_str(s).unwrap_or_default()
}
