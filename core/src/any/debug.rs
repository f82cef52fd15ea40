//! `Debug` for values: the type key, then the value, e.g. `Any(int: 5)`,
//! `AnyView(ffi.String: "hello")`, `Any(ffi.Tensor @ 0x...)`.

use core::fmt;

use super::{Any, AnyView};
use crate::{DataType, Device, TypeIndex};

impl AnyView<'_> {
    fn fmt_as(&self, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ti = self.type_index();
        write!(f, "{name}(")?;
        match ti.static_type_key() {
            Some(key) => f.write_str(key)?,
            None if ti.is_object() => write!(f, "{ti}")?,
            None => write!(f, "{ti:?}")?,
        }
        let v = &self.raw.value;
        match ti {
            TypeIndex::NONE => {}
            // SAFETY: `int` carries `v_int64`.
            TypeIndex::INT => write!(f, ": {}", unsafe { v.v_int64 })?,
            // SAFETY: `bool` carries `v_int64`.
            TypeIndex::BOOL => write!(f, ": {}", unsafe { v.v_int64 } != 0)?,
            // SAFETY: `float` carries `v_float64`.
            TypeIndex::FLOAT => write!(f, ": {:?}", unsafe { v.v_float64 })?,
            // SAFETY: `DataType` carries `v_dtype`.
            TypeIndex::DATA_TYPE => write!(f, ": {}", DataType::from_raw(unsafe { v.v_dtype }))?,
            // SAFETY: `Device` carries `v_device`.
            TypeIndex::DEVICE => write!(f, ": {:?}", Device::from_raw(unsafe { v.v_device }))?,
            TypeIndex::RAW_STR | TypeIndex::SMALL_STR | TypeIndex::STR => match self.as_str() {
                Ok(s) => write!(f, ": {s:?}")?,
                Err(_) => match self.as_str_or_bytes() {
                    Ok(b) => write!(f, ": b\"{}\"", b.escape_ascii())?,
                    Err(_) => f.write_str(": <malformed>")?,
                },
            },
            TypeIndex::BYTE_ARRAY_PTR | TypeIndex::SMALL_BYTES | TypeIndex::BYTES => {
                match self.as_bytes() {
                    Ok(b) => write!(f, ": b\"{}\"", b.escape_ascii())?,
                    Err(_) => f.write_str(": <malformed>")?,
                }
            }
            TypeIndex::OPAQUE_PTR | TypeIndex::DL_TENSOR_PTR | TypeIndex::OBJECT_RVALUE_REF => {
                // SAFETY: these kinds carry `v_ptr`.
                write!(f, ": {:p}", unsafe { v.v_ptr })?;
            }
            // SAFETY: objects carry `v_obj`.
            _ if ti.is_object() => write!(f, " @ {:p}", unsafe { v.v_obj })?,
            // SAFETY: any bit pattern is a valid `u64`; kinds unknown here are shown raw.
            _ => write!(f, ": {:#018x}", unsafe { v.v_uint64 })?,
        }
        f.write_str(")")
    }
}

impl fmt::Debug for AnyView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_as("AnyView", f)
    }
}

impl fmt::Debug for Any {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.view_ref().fmt_as("Any", f)
    }
}
