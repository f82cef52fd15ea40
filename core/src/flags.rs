//! Flag masks and small enumerations of the C API, as open integer newtypes.

open_enum! {
    /// What an object's deleter must do (`TVMFFIObjectDeleterFlagBitMask`).
    pub struct DeleterFlags(i32);
    /// The strong count reached zero: run the destructor, keep the memory.
    STRONG = 1 => "kTVMFFIObjectDeleterFlagBitMaskStrong";
    /// The weak count reached zero: free the memory.
    WEAK = 2 => "kTVMFFIObjectDeleterFlagBitMaskWeak";
    /// Both reached zero at once: destroy and free.
    BOTH = 3 => "kTVMFFIObjectDeleterFlagBitMaskBoth";
}
flag_ops!(DeleterFlags);

open_enum! {
    /// How an error's backtrace is updated (`TVMFFIBacktraceUpdateMode`).
    pub struct BacktraceUpdateMode(i32);
    /// Replace the backtrace.
    REPLACE = 0 => "kTVMFFIBacktraceUpdateModeReplace";
    /// Append to the backtrace.
    APPEND = 1 => "kTVMFFIBacktraceUpdateModeAppend";
}

open_enum! {
    /// Reflection flags of a field (`TVMFFIFieldFlagBitMask`), stored in `TVMFFIFieldInfo::flags`.
    pub struct FieldFlags(i64);
    /// The field is writable.
    WRITABLE = 1 << 0 => "kTVMFFIFieldFlagBitMaskWritable";
    /// The field has a default value.
    HAS_DEFAULT = 1 << 1 => "kTVMFFIFieldFlagBitMaskHasDefault";
    /// The field is a static method.
    IS_STATIC_METHOD = 1 << 2 => "kTVMFFIFieldFlagBitMaskIsStaticMethod";
    /// Structural equality and hashing ignore the field.
    SEQ_HASH_IGNORE = 1 << 3 => "kTVMFFIFieldFlagBitMaskSEqHashIgnore";
    /// The field enters a pattern def region.
    SEQ_HASH_DEF_PATTERN = 1 << 4 => "kTVMFFIFieldFlagBitMaskSEqHashDefPattern";
    /// The default is a factory function to call.
    DEFAULT_FROM_FACTORY = 1 << 5 => "kTVMFFIFieldFlagBitMaskDefaultFromFactory";
    /// The field is left out of repr.
    REPR_OFF = 1 << 6 => "kTVMFFIFieldFlagBitMaskReprOff";
    /// The field is left out of recursive comparison.
    COMPARE_OFF = 1 << 7 => "kTVMFFIFieldFlagBitMaskCompareOff";
    /// The field is left out of recursive hashing.
    HASH_OFF = 1 << 8 => "kTVMFFIFieldFlagBitMaskHashOff";
    /// The field is left out of the generated `__ffi_init__`.
    INIT_OFF = 1 << 9 => "kTVMFFIFieldFlagBitMaskInitOff";
    /// The field is keyword-only in the generated `__ffi_init__`.
    KW_ONLY = 1 << 10 => "kTVMFFIFieldFlagBitMaskKwOnly";
    /// The setter is a function object, not a C function pointer.
    SETTER_IS_FUNCTION_OBJ = 1 << 11 => "kTVMFFIFieldFlagBitSetterIsFunctionObj";
    /// The field enters a simple def region.
    SEQ_HASH_DEF_SIMPLE = 1 << 12 => "kTVMFFIFieldFlagBitMaskSEqHashDefSimple";
}
flag_ops!(FieldFlags);

open_enum! {
    /// How structural equality and hashing treat a type (`TVMFFISEqHashKind`).
    pub struct SEqHashKind(i32);
    /// Not supported.
    UNSUPPORTED = 0 => "kTVMFFISEqHashKindUnsupported";
    /// Compared as a tree node.
    TREE_NODE = 1 => "kTVMFFISEqHashKindTreeNode";
    /// A free variable, mapped inside a def region.
    FREE_VAR = 2 => "kTVMFFISEqHashKindFreeVar";
    /// Compared as a DAG node.
    DAG_NODE = 3 => "kTVMFFISEqHashKindDAGNode";
    /// A tree node with no free variables below it.
    CONST_TREE_NODE = 4 => "kTVMFFISEqHashKindConstTreeNode";
    /// Compared by pointer identity.
    UNIQUE_INSTANCE = 5 => "kTVMFFISEqHashKindUniqueInstance";
}

open_enum! {
    /// The def region a structural callback is in (`TVMFFIDefRegionKind`).
    pub struct DefRegionKind(i32);
    /// Not in a def region.
    NONE = 0 => "kTVMFFIDefRegionKindNone";
    /// A pattern def region.
    PATTERN = 1 => "kTVMFFIDefRegionKindPattern";
    /// A simple def region.
    SIMPLE = 2 => "kTVMFFIDefRegionKindSimple";
}

open_enum! {
    /// Flags of a `DLManagedTensorVersioned` (`DLPACK_FLAG_BITMASK_*`).
    pub struct DLPackFlags(u64);
    /// The tensor is read-only.
    READ_ONLY = 1 << 0 => "DLPACK_FLAG_BITMASK_READ_ONLY";
    /// The producer copied the data.
    IS_COPIED = 1 << 1 => "DLPACK_FLAG_BITMASK_IS_COPIED";
    /// Sub-byte elements are padded to whole bytes.
    IS_SUBBYTE_TYPE_PADDED = 1 << 2 => "DLPACK_FLAG_BITMASK_IS_SUBBYTE_TYPE_PADDED";
}
flag_ops!(DLPackFlags);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_combine_and_test() {
        assert_eq!(DeleterFlags::STRONG | DeleterFlags::WEAK, DeleterFlags::BOTH);
        assert!(DeleterFlags::BOTH.contains(DeleterFlags::WEAK));
        assert!(!DeleterFlags::STRONG.contains(DeleterFlags::WEAK));
        let mut f = FieldFlags::WRITABLE;
        f |= FieldFlags::KW_ONLY;
        assert_eq!(f.get(), 1 | 1024);
        assert_eq!((f & FieldFlags::KW_ONLY), FieldFlags::KW_ONLY);
    }
}
