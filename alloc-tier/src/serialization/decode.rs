//! `FromJSONGraph`: nodes back into values, each node decoded once and shared by every
//! reference to it.
//!
//! The walk keeps its own stack, so chains of any length load without growing the call
//! stack; a node that reaches itself (which no writer produces, and on which the reference
//! recurses until it crashes) is an error. Checks and messages follow the reference's
//! `ObjectGraphDeserializer`: the same order of reads, the same `TypeError` for a value of
//! the wrong type, the same `ValueError`s for bad indices.

use alloc::format;
use alloc::vec::Vec;

use tvmffi_core::flags::FieldFlags;
use tvmffi_core::sys::{DLDevice, TVMFFIByteArray, TVMFFIFieldInfo, TVMFFITypeInfo, api};
use tvmffi_core::{Any, AnyView, DeviceType, ObjectHeader, ObjectRef, TypeIndex};

use super::reflect::{self, Column};
use super::{base64, cast_error, enums, int_array, invalid, text};
use crate::error::Error;
use crate::map::{Dict, Map};
use crate::seq::{Array, List};
use crate::shape::Shape;
use crate::string::bytes_any_from_bytes;

static DATA_FROM_JSON: Column = Column::new("__data_from_json__");

enum Slot {
    Pending,
    InProgress,
    Done(Any),
}

/// A node whose children are being decoded.
struct Frame {
    node: usize,
    kind: Kind,
}

enum Kind {
    /// `ffi.Array` / `ffi.List` (`list`): the children in order.
    Seq { indices: Array, next: usize, items: Vec<Any>, list: bool },
    /// `ffi.Map` / `ffi.Dict` (`dict`): keys and values alternating.
    Pairs { indices: Array, next: usize, items: Vec<Any>, dict: bool },
    /// A reflected object made empty, its fields set in order.
    Object {
        obj: ObjectRef<ObjectHeader>,
        info: &'static TVMFFITypeInfo,
        fields: Vec<&'static TVMFFIFieldInfo>,
        next: usize,
        data: Map,
    },
}

pub(super) struct Decoder {
    nodes: Array,
    slots: Vec<Slot>,
    stack: Vec<Frame>,
}

impl Decoder {
    pub(super) fn new(nodes: Array) -> Self {
        let slots = (0..nodes.len()).map(|_| Slot::Pending).collect();
        Self { nodes, slots, stack: Vec::new() }
    }

    /// Decode node `root` and everything it reaches.
    pub(super) fn run(mut self, root: i64) -> Result<Any, Error> {
        let mut done = self.get(root)?;
        loop {
            if let Some(value) = done.take() {
                match self.stack.last_mut() {
                    None => return Ok(value),
                    Some(frame) => deliver(frame, value)?,
                }
            }
            let Some(frame) = self.stack.last_mut() else {
                return Err(Error::internal_error("FromJSONGraph: the walk ended without a root"));
            };
            done = match next_child(frame)? {
                Some(child) => self.get(child)?,
                None => Some(self.finish()?),
            };
        }
    }

    /// Node `index`'s value: decoded already or now, or `None` when a frame was pushed for
    /// its children.
    fn get(&mut self, index: i64) -> Result<Option<Any>, Error> {
        let i = usize::try_from(index)
            .ok()
            .filter(|&i| i < self.slots.len())
            .ok_or_else(|| invalid(format!(": invalid node index {index}")))?;
        match &self.slots[i] {
            Slot::Done(v) => return Ok(Some(v.clone())),
            Slot::InProgress => {
                return Err(invalid(format!(": node {index} is part of its own data (a cycle)")));
            }
            Slot::Pending => {}
        }
        let node: Map = self
            .nodes
            .get_as::<Map>(i)
            .map_err(|_| cast_error("Map<Any, Any>", self.nodes.get(i).unwrap_or_default()))?;
        match self.start(i, &node)? {
            Some(value) => {
                self.slots[i] = Slot::Done(value.clone());
                Ok(Some(value))
            }
            None => {
                self.slots[i] = Slot::InProgress;
                Ok(None)
            }
        }
    }

    /// Decode a leaf node, or push a frame for a node with children.
    fn start(&mut self, i: usize, node: &Map) -> Result<Option<Any>, Error> {
        let key = node.at("type")?;
        if !matches!(key.type_index(), TypeIndex::SMALL_STR | TypeIndex::STR) {
            return Err(cast_error("str", key));
        }
        let key = key.as_str_or_bytes()?;
        let type_index = reflect::index_of_key(key).map_err(|_| {
            // The reference passes the runtime's lookup failure on; say which node and why.
            Error::runtime_error(format!(
                "Cannot find type `{}` (node {i} of the JSON graph): no type of that key is \
                 registered; load the library that defines it first",
                alloc::string::String::from_utf8_lossy(key)
            ))
        })?;
        let data = || node.at("data").map_err(Error::from);
        let seq = |list: bool| -> Result<Kind, Error> {
            Ok(Kind::Seq { indices: array_of(data()?)?, next: 0, items: Vec::new(), list })
        };
        let kind = match type_index {
            TypeIndex::NONE => return Ok(Some(Any::none())),
            TypeIndex::BOOL | TypeIndex::INT | TypeIndex::FLOAT | TypeIndex::DATA_TYPE => {
                return primitive(type_index, data()?);
            }
            TypeIndex::DEVICE => {
                let d = data()?;
                let pair = int_array::<i32>(d)?;
                let [device_type, device_id] = pair[..] else {
                    return Err(invalid(format!(
                        ": Device data must be an array of [device_type, device_id], got {} \
                         element(s)",
                        pair.len()
                    )));
                };
                return Ok(Some(Any::from(DLDevice {
                    device_type: DeviceType(device_type),
                    device_id,
                })));
            }
            TypeIndex::STR => return Ok(Some(string(data()?)?)),
            TypeIndex::BYTES => {
                let s = string(data()?)?;
                let raw = base64::decode(s.as_str_or_bytes()?)
                    .ok_or_else(|| invalid(": ffi.Bytes data is not valid base64"))?;
                return Ok(Some(
                    bytes_any_from_bytes(&raw).map_err(|e| Error::value_error(format!("{e}")))?,
                ));
            }
            TypeIndex::SHAPE => {
                return Ok(Some(Any::from(Shape::new(&int_array::<i64>(data()?)?))));
            }
            TypeIndex::ARRAY => seq(false)?,
            TypeIndex::LIST => seq(true)?,
            TypeIndex::MAP | TypeIndex::DICT => {
                let indices = array_of(data()?)?;
                if indices.len() % 2 != 0 {
                    return Err(invalid(format!(
                        ": Map/Dict data must contain an even number of [key, value] entries, \
                         got {}",
                        indices.len()
                    )));
                }
                Kind::Pairs {
                    indices,
                    next: 0,
                    items: Vec::new(),
                    dict: type_index == TypeIndex::DICT,
                }
            }
            _ => match self.object(type_index, data()?)? {
                Ok(value) => return Ok(Some(value)),
                Err(kind) => kind,
            },
        };
        self.stack.push(Frame { node: i, kind });
        Ok(None)
    }

    /// An object node: an enum singleton or a `__data_from_json__` result (leaves), or an
    /// empty object to fill (the frame's kind).
    fn object(
        &mut self,
        type_index: TypeIndex,
        data: AnyView<'_>,
    ) -> Result<Result<Any, Kind>, Error> {
        let info = reflect::type_info(type_index).ok_or_else(|| {
            Error::runtime_error(format!("Cannot find type info for type index {}", type_index.0))
        })?;
        if let Some(value) = enums::from_json(info, data)? {
            return Ok(Ok(value));
        }
        if let Some(hook) = DATA_FROM_JSON.function(type_index)? {
            return Ok(Ok(hook.call(&[data])?));
        }
        let obj = reflect::create_empty(info)?;
        let data: Map = data.get().map_err(|_| cast_error("Map<Any, Any>", data))?;
        Ok(Err(Kind::Object { obj, info, fields: reflect::fields(info), next: 0, data }))
    }

    fn finish(&mut self) -> Result<Any, Error> {
        let frame = self
            .stack
            .pop()
            .ok_or_else(|| Error::internal_error("FromJSONGraph: no frame to finish"))?;
        let value = match frame.kind {
            Kind::Seq { items, list: false, .. } => Any::from(Array::from_vec(items)),
            Kind::Seq { items, list: true, .. } => Any::from(List::from_vec(items)),
            Kind::Pairs { items, dict, .. } => {
                let mut pairs = items.into_iter();
                let pairs = core::iter::from_fn(|| Some((pairs.next()?, pairs.next()?)));
                if dict {
                    Any::from(Dict::try_from_iter(pairs)?)
                } else {
                    Any::from(Map::try_from_iter(pairs)?)
                }
            }
            Kind::Object { obj, .. } => Any::from(obj),
        };
        if let Some(slot) = self.slots.get_mut(frame.node) {
            *slot = Slot::Done(value.clone());
        }
        Ok(value)
    }
}

/// The next child node of `frame` to decode; an object's primitive and defaulted fields are
/// set on the way.
fn next_child(frame: &mut Frame) -> Result<Option<i64>, Error> {
    match &mut frame.kind {
        Kind::Seq { indices, next, .. } | Kind::Pairs { indices, next, .. } => {
            let Some(item) = indices.get(*next) else { return Ok(None) };
            *next += 1;
            int(item).map(Some)
        }
        Kind::Object { obj, info, fields, next, data } => {
            while let Some(&field) = fields.get(*next) {
                *next += 1;
                let name = reflect::field_name(field);
                if let Some(value) = data.get(&text(name)?)? {
                    let Some(decoded) = primitive(TypeIndex(field.field_static_type_index), value)?
                    else {
                        // Any other field holds the index of its value's node.
                        return int(value).map(Some);
                    };
                    // SAFETY: `field` belongs to `obj`'s type; `obj` is new and ours alone.
                    unsafe { reflect::set_field(obj, field, decoded.view()) }?;
                } else if FieldFlags(field.flags).contains(FieldFlags::HAS_DEFAULT) {
                    // SAFETY: as above; the field has a default.
                    unsafe { reflect::set_default(obj, field) }?;
                } else {
                    return Err(Error::type_error(format!(
                        "Required field `{}` not set in type `{}`",
                        alloc::string::String::from_utf8_lossy(name),
                        alloc::string::String::from_utf8_lossy(reflect::key_of(info))
                    )));
                }
            }
            Ok(None)
        }
    }
}

/// Give a decoded child to its parent.
fn deliver(frame: &mut Frame, value: Any) -> Result<(), Error> {
    match &mut frame.kind {
        Kind::Seq { items, .. } | Kind::Pairs { items, .. } => items.push(value),
        Kind::Object { obj, fields, next, .. } => {
            let field = next
                .checked_sub(1)
                .and_then(|i| fields.get(i))
                .ok_or_else(|| Error::internal_error("FromJSONGraph: a child without its field"))?;
            // SAFETY: `field` belongs to `obj`'s type; `obj` is new and ours alone.
            unsafe { reflect::set_field(obj, field, value.view()) }?;
        }
    }
    Ok(())
}

/// A value of a primitive type (`None`, `bool`, `int`, `float`, `DataType`) from its data,
/// converted as the reference's `cast<T>` converts; `None` for other types.
fn primitive(index: TypeIndex, data: AnyView<'_>) -> Result<Option<Any>, Error> {
    Ok(Some(match index {
        TypeIndex::NONE => Any::none(),
        TypeIndex::BOOL => Any::from(data.get::<bool>().map_err(|_| cast_error("bool", data))?),
        TypeIndex::INT => Any::from(int(data)?),
        TypeIndex::FLOAT => Any::from(data.get::<f64>().map_err(|_| cast_error("float", data))?),
        TypeIndex::DATA_TYPE => Any::from(dtype(data)?),
        _ => return Ok(None),
    }))
}

fn int(v: AnyView<'_>) -> Result<i64, Error> {
    v.get::<i64>().map_err(|_| cast_error("int", v))
}

fn string(v: AnyView<'_>) -> Result<Any, Error> {
    if !matches!(v.type_index(), TypeIndex::SMALL_STR | TypeIndex::STR) {
        return Err(cast_error("str", v));
    }
    Ok(v.to_owned()?)
}

fn array_of(v: AnyView<'_>) -> Result<Array, Error> {
    v.get::<Array>().map_err(|_| cast_error("Array<Any>", v))
}

/// The reference's `StringToDLDataType`, through the runtime.
fn dtype(v: AnyView<'_>) -> Result<tvmffi_core::sys::DLDataType, Error> {
    let s = string(v)?;
    let bytes = s.as_str_or_bytes()?;
    let arr = TVMFFIByteArray { data: bytes.as_ptr().cast(), size: bytes.len() };
    let mut out = tvmffi_core::sys::DLDataType { code: 0, bits: 0, lanes: 0 };
    // SAFETY: `arr` describes live bytes; `out` is writable.
    crate::function::check(unsafe { api::TVMFFIDataTypeFromString(&arr, &mut out) })?;
    Ok(out)
}
