//! Type indices: the tag of every [`Any`](crate::Any) value and every object header.

open_enum! {
    /// A type index, as stored in `TVMFFIAny::type_index` and `TVMFFIObject::type_index`.
    ///
    /// `[0, 64)` are values held inline in an `Any`, `[64, 128)` objects with a static index
    /// fixed by the ABI, and `128..` objects whose index a runtime allocates.
    pub struct TypeIndex(i32);
    /// The root of all types; appears in reflection, never in a value.
    ANY = -1 => "kTVMFFIAny";
    /// `None` / null.
    NONE = 0 => "kTVMFFINone";
    /// A 64-bit signed integer.
    INT = 1 => "kTVMFFIInt";
    /// A boolean, stored as an integer 0 or 1.
    BOOL = 2 => "kTVMFFIBool";
    /// A 64-bit float.
    FLOAT = 3 => "kTVMFFIFloat";
    /// An opaque pointer.
    OPAQUE_PTR = 4 => "kTVMFFIOpaquePtr";
    /// A `DLDataType`.
    DATA_TYPE = 5 => "kTVMFFIDataType";
    /// A `DLDevice`.
    DEVICE = 6 => "kTVMFFIDevice";
    /// A borrowed `DLTensor*`.
    DL_TENSOR_PTR = 7 => "kTVMFFIDLTensorPtr";
    /// A borrowed NUL-terminated `const char*`; only ever in a view, never owned.
    RAW_STR = 8 => "kTVMFFIRawStr";
    /// A borrowed `TVMFFIByteArray*`.
    BYTE_ARRAY_PTR = 9 => "kTVMFFIByteArrayPtr";
    /// An r-value reference to an object reference (a `TVMFFIObject**` to move from).
    OBJECT_RVALUE_REF = 10 => "kTVMFFIObjectRValueRef";
    /// A string of at most 7 bytes held inline.
    SMALL_STR = 11 => "kTVMFFISmallStr";
    /// Bytes of at most 7 bytes held inline.
    SMALL_BYTES = 12 => "kTVMFFISmallBytes";
    /// Marker of structural mutation: no new value was produced.
    UNCHANGED = 13 => "kTVMFFIUnchanged";
    /// The root object type.
    OBJECT = 64 => "kTVMFFIObject";
    /// First statically indexed object type (the same index as [`TypeIndex::OBJECT`]).
    STATIC_OBJECT_BEGIN = 64 => "kTVMFFIStaticObjectBegin";
    /// String object: header, then a `TVMFFIByteArray`.
    STR = 65 => "kTVMFFIStr";
    /// Bytes object: header, then a `TVMFFIByteArray`.
    BYTES = 66 => "kTVMFFIBytes";
    /// Error object: header, then a `TVMFFIErrorCell`.
    ERROR = 67 => "kTVMFFIError";
    /// Function object: header, then a `TVMFFIFunctionCell`.
    FUNCTION = 68 => "kTVMFFIFunction";
    /// Shape object: header, then a `TVMFFIShapeCell`.
    SHAPE = 69 => "kTVMFFIShape";
    /// Tensor object: header, then a `DLTensor`.
    TENSOR = 70 => "kTVMFFITensor";
    /// Immutable array object.
    ARRAY = 71 => "kTVMFFIArray";
    /// Immutable map object.
    MAP = 72 => "kTVMFFIMap";
    /// Module object.
    MODULE = 73 => "kTVMFFIModule";
    /// An opaque Python object.
    OPAQUE_PY_OBJECT = 74 => "kTVMFFIOpaquePyObject";
    /// Mutable list object.
    LIST = 75 => "kTVMFFIList";
    /// Mutable dict object.
    DICT = 76 => "kTVMFFIDict";
    /// Structural visit interrupt object.
    VISIT_INTERRUPT = 77 => "kTVMFFIVisitInterrupt";
    /// Arbitrary-precision integer object.
    BIG_INT = 78 => "kTVMFFIBigInt";
    /// One past the last static object index.
    STATIC_OBJECT_END = 79 => "kTVMFFIStaticObjectEnd";
    /// First index a runtime allocates.
    DYN_OBJECT_BEGIN = 128 => "kTVMFFIDynObjectBegin";
}

impl TypeIndex {
    /// Whether a value of this index is a reference-counted object.
    #[inline]
    pub const fn is_object(self) -> bool {
        self.0 >= Self::STATIC_OBJECT_BEGIN.0
    }

    /// Whether a value of this index is held inline in the `Any` (no reference count).
    #[inline]
    pub const fn is_pod(self) -> bool {
        self.0 >= 0 && self.0 < Self::STATIC_OBJECT_BEGIN.0
    }

    /// The type key the reference gives this index, for indices the ABI fixes.
    ///
    /// Dynamic indices (from [`TypeIndex::DYN_OBJECT_BEGIN`] on) are known only to a
    /// runtime's type table, so they give `None` here.
    pub const fn static_type_key(self) -> Option<&'static str> {
        Some(match self {
            Self::ANY => "Any",
            Self::NONE => "None",
            Self::INT => "int",
            Self::BOOL => "bool",
            Self::FLOAT => "float",
            Self::OPAQUE_PTR => "void*",
            Self::DATA_TYPE => "DataType",
            Self::DEVICE => "Device",
            Self::DL_TENSOR_PTR => "DLTensor*",
            Self::RAW_STR => "const char*",
            Self::BYTE_ARRAY_PTR => "TVMFFIByteArray*",
            Self::OBJECT_RVALUE_REF => "ObjectRValueRef",
            Self::SMALL_STR => "ffi.SmallStr",
            Self::SMALL_BYTES => "ffi.SmallBytes",
            Self::UNCHANGED => "ffi.Unchanged",
            Self::OBJECT => "ffi.Object",
            Self::STR => "ffi.String",
            Self::BYTES => "ffi.Bytes",
            Self::ERROR => "ffi.Error",
            Self::FUNCTION => "ffi.Function",
            Self::SHAPE => "ffi.Shape",
            Self::TENSOR => "ffi.Tensor",
            Self::ARRAY => "ffi.Array",
            Self::MAP => "ffi.Map",
            Self::MODULE => "ffi.Module",
            Self::OPAQUE_PY_OBJECT => "ffi.OpaquePyObject",
            Self::LIST => "ffi.List",
            Self::DICT => "ffi.Dict",
            Self::VISIT_INTERRUPT => "ffi.VisitInterrupt",
            Self::BIG_INT => "ffi.BigInt",
            _ => return None,
        })
    }
}

impl TryFrom<u32> for TypeIndex {
    type Error = core::num::TryFromIntError;

    fn try_from(v: u32) -> Result<Self, Self::Error> {
        i32::try_from(v).map(Self)
    }
}

impl core::fmt::Display for TypeIndex {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.static_type_key() {
            Some(key) => f.write_str(key),
            None => write!(f, "object(type_index={})", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_split_pod_from_objects() {
        assert!(TypeIndex::NONE.is_pod() && !TypeIndex::NONE.is_object());
        assert!(TypeIndex::UNCHANGED.is_pod());
        assert!(!TypeIndex::ANY.is_pod() && !TypeIndex::ANY.is_object());
        assert!(TypeIndex::OBJECT.is_object() && TypeIndex(300).is_object());
    }

    #[test]
    fn debug_and_display_name_known_and_unknown_values() {
        use alloc::format;
        assert_eq!(format!("{:?}", TypeIndex::BIG_INT), "TypeIndex::BIG_INT");
        assert_eq!(format!("{:?}", TypeIndex(200)), "TypeIndex(200)");
        assert_eq!(format!("{}", TypeIndex::STR), "ffi.String");
        assert_eq!(format!("{}", TypeIndex(200)), "object(type_index=200)");
        // Aliased constants name the first one declared.
        assert_eq!(TypeIndex::STATIC_OBJECT_BEGIN.name(), Some("OBJECT"));
    }

    #[test]
    fn try_from_u32_rejects_out_of_range() {
        assert_eq!(TypeIndex::try_from(65u32), Ok(TypeIndex::STR));
        assert!(TypeIndex::try_from(u32::MAX).is_err());
    }
}
