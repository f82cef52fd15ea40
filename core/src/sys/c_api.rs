//! Types of `tvm/ffi/c_api.h` and `tvm/ffi/extra/c_env_api.h`.

use core::ffi::{c_char, c_int, c_void};

use super::{ALIGN_PTR, ALIGN_U64, DLDataType, DLDevice};
use crate::flags::SEqHashKind;

/// `TVMFFIObjectHandle`: an untyped pointer to an object header.
pub type TVMFFIObjectHandle = *mut c_void;
/// `TVMFFIStreamHandle`: an untyped device stream.
pub type TVMFFIStreamHandle = *mut c_void;
/// `TVMFFISEqHashKind`.
pub type TVMFFISEqHashKind = SEqHashKind;

/// `TVMFFIVersion`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct TVMFFIVersion {
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
    /// Patch version.
    pub patch: u32,
}

/// The deleter of an object: `void (*)(void* self, int flags)`, `flags` being a
/// [`DeleterFlags`](crate::flags::DeleterFlags) mask.
pub type TVMFFIObjectDeleter = unsafe extern "C" fn(self_: *mut c_void, flags: c_int);

/// The anonymous union of `TVMFFIObject` that keeps the deleter slot 8 bytes wide.
#[repr(C)]
#[derive(Clone, Copy)]
pub union TVMFFIObjectDeleterUnion {
    /// The deleter, or null for objects that are never freed.
    pub deleter: Option<TVMFFIObjectDeleter>,
    /// Forces 8 bytes on 32-bit targets.
    pub __ensure_align: i64,
}

/// `TVMFFIObject`: the header every heap object starts with.
///
/// `combined_ref_count` holds the strong count in its low 32 bits and the weak count in its
/// high 32 bits; a fresh object has both at 1 (the strong references together own one weak
/// reference). It is only ever touched with atomic operations.
#[repr(C)]
pub struct TVMFFIObject {
    /// Strong count (low 32 bits) and weak count (high 32 bits).
    pub combined_ref_count: u64,
    /// The object's type index.
    pub type_index: i32,
    /// Zero.
    pub __padding: u32,
    /// The deleter.
    pub deleter: TVMFFIObjectDeleterUnion,
}

/// The anonymous 4-byte union of `TVMFFIAny`.
#[repr(C)]
#[derive(Clone, Copy)]
pub union TVMFFIAnyPadding {
    /// Zero for every value but small strings and bytes.
    pub zero_padding: u32,
    /// Length of a small string or bytes (at most 7).
    pub small_str_len: u32,
}

/// The anonymous 8-byte union of `TVMFFIAny`.
#[repr(C)]
#[derive(Clone, Copy)]
pub union TVMFFIAnyValue {
    /// `kTVMFFIInt`, `kTVMFFIBool`.
    pub v_int64: i64,
    /// `kTVMFFIFloat`.
    pub v_float64: f64,
    /// `kTVMFFIOpaquePtr`, `kTVMFFIDLTensorPtr`, `kTVMFFIByteArrayPtr`, `kTVMFFIObjectRValueRef`.
    pub v_ptr: *mut c_void,
    /// `kTVMFFIRawStr`.
    pub v_c_str: *const c_char,
    /// Every object index.
    pub v_obj: *mut TVMFFIObject,
    /// `kTVMFFIDataType`.
    pub v_dtype: DLDataType,
    /// `kTVMFFIDevice`.
    pub v_device: DLDevice,
    /// `kTVMFFISmallStr`, `kTVMFFISmallBytes`: the content and a NUL.
    pub v_bytes: [u8; 8],
    /// All 8 bytes as an integer, for hashing.
    pub v_uint64: u64,
}

/// `TVMFFIAny`: the 16-byte tagged value every call passes.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct TVMFFIAny {
    /// Which variant `value` holds: a [`TypeIndex`](crate::TypeIndex).
    pub type_index: i32,
    /// Zero, or a small string's length.
    pub padding: TVMFFIAnyPadding,
    /// The payload.
    pub value: TVMFFIAnyValue,
}

impl TVMFFIAny {
    /// `None`, with every byte zero.
    pub const NONE: Self = Self {
        type_index: 0,
        padding: TVMFFIAnyPadding { zero_padding: 0 },
        value: TVMFFIAnyValue { v_uint64: 0 },
    };
}

impl core::fmt::Debug for TVMFFIAny {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // SAFETY: every bit pattern of these plain integer unions is a valid u32 / u64.
        let (padding, bits) = unsafe { (self.padding.zero_padding, self.value.v_uint64) };
        f.debug_struct("TVMFFIAny")
            .field("type_index", &self.type_index)
            .field("padding", &padding)
            .field("value_bits", &format_args!("{bits:#018x}"))
            .finish()
    }
}

/// `TVMFFIByteArray`: a borrowed byte range, used by strings and bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TVMFFIByteArray {
    /// First byte.
    pub data: *const c_char,
    /// Number of bytes.
    pub size: usize,
}

/// `TVMFFIShapeCell`: follows the header of a shape object.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TVMFFIShapeCell {
    /// First extent.
    pub data: *const i64,
    /// Number of extents.
    pub size: usize,
}

/// `TVMFFISeqCell`: follows the header of array and list objects.
#[repr(C)]
#[derive(Debug)]
pub struct TVMFFISeqCell {
    /// First element (an array of `TVMFFIAny`).
    pub data: *mut c_void,
    /// Elements in use.
    pub size: i64,
    /// Elements allocated.
    pub capacity: i64,
    /// Frees `data` when it was allocated apart from the object; null when inline.
    pub data_deleter: Option<unsafe extern "C" fn(data: *mut c_void)>,
}

/// `update_backtrace` of `TVMFFIErrorCell`.
pub type TVMFFIErrorUpdateBacktrace = unsafe extern "C" fn(
    self_: TVMFFIObjectHandle,
    backtrace: *const TVMFFIByteArray,
    update_mode: i32,
);

/// `TVMFFIErrorCell`: follows the header of an error object.
#[repr(C)]
#[derive(Debug)]
pub struct TVMFFIErrorCell {
    /// Error kind, e.g. `ValueError`.
    pub kind: TVMFFIByteArray,
    /// Message.
    pub message: TVMFFIByteArray,
    /// Backtrace, most recent call first.
    pub backtrace: TVMFFIByteArray,
    /// Replaces or appends to the backtrace.
    pub update_backtrace: Option<TVMFFIErrorUpdateBacktrace>,
    /// The error that caused this one (owned), or null.
    pub cause_chain: TVMFFIObjectHandle,
    /// Extra context (owned), or null.
    pub extra_context: TVMFFIObjectHandle,
}

/// `TVMFFISafeCallType`: the packed calling convention.
///
/// `result` must hold a non-object value (e.g. `None`) on entry. Returns 0 on success and
/// non-zero with an error raised in the runtime's thread-local slot on failure.
pub type TVMFFISafeCallType = unsafe extern "C" fn(
    handle: *mut c_void,
    args: *const TVMFFIAny,
    num_args: i32,
    result: *mut TVMFFIAny,
) -> c_int;

/// `TVMFFIFunctionCell`: follows the header of a function object.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TVMFFIFunctionCell {
    /// The C entry point; the function object itself is passed as `handle`.
    pub safe_call: Option<TVMFFISafeCallType>,
    /// A C++ entry point that throws; null for functions not made in C++.
    pub cpp_call: *mut c_void,
}

// SAFETY: the cell is immutable once its object is shared; `safe_call` is a C entry point
// that the convention lets any thread call (function objects are shared across threads and
// languages), and `cpp_call` is an opaque pointer Rust never dereferences.
unsafe impl Send for TVMFFIFunctionCell {}
// SAFETY: as for `Send`: shared access only ever reads the two pointers.
unsafe impl Sync for TVMFFIFunctionCell {}

/// `TVMFFIOpaqueObjectCell`: follows the header of an opaque object.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TVMFFIOpaqueObjectCell {
    /// The foreign handle, e.g. a `PyObject*`.
    pub handle: *mut c_void,
}

/// `TVMFFIObjectAllocHeader`: placed just before objects made through a custom allocator.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TVMFFIObjectAllocHeader {
    /// Reclaims the whole allocation; may be null.
    pub delete_space: Option<unsafe extern "C" fn(ptr: *mut c_void)>,
}

/// `TVMFFICustomAllocator`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TVMFFICustomAllocator {
    /// Allocates an object body preceded by a `TVMFFIObjectAllocHeader`.
    pub allocate: Option<
        unsafe extern "C" fn(
            size: usize,
            alignment: usize,
            type_index: i32,
            context: *mut c_void,
        ) -> *mut c_void,
    >,
    /// Passed to `allocate` unchanged.
    pub context: *mut c_void,
}

/// `TVMFFIFieldGetter`.
pub type TVMFFIFieldGetter =
    unsafe extern "C" fn(field: *mut c_void, result: *mut TVMFFIAny) -> c_int;
/// `TVMFFIFieldSetter`.
pub type TVMFFIFieldSetter =
    unsafe extern "C" fn(field: *mut c_void, value: *const TVMFFIAny) -> c_int;
/// `TVMFFIObjectCreator`.
pub type TVMFFIObjectCreator = unsafe extern "C" fn(result: *mut TVMFFIObjectHandle) -> c_int;

/// `TVMFFIFieldInfo`: reflection of one field.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TVMFFIFieldInfo {
    /// Field name.
    pub name: TVMFFIByteArray,
    /// Docstring.
    pub doc: TVMFFIByteArray,
    /// Structured metadata as JSON.
    pub metadata: TVMFFIByteArray,
    /// A [`FieldFlags`](crate::flags::FieldFlags) mask.
    pub flags: i64,
    /// Size of the field.
    pub size: i64,
    /// Alignment of the field.
    pub alignment: i64,
    /// Offset of the field from the object header.
    pub offset: i64,
    /// Reads the field.
    pub getter: Option<TVMFFIFieldGetter>,
    /// A `TVMFFIFieldSetter`, or a function object handle when the flags say so.
    pub setter: *mut c_void,
    /// Default value or factory, as a view.
    pub default_value_or_factory: TVMFFIAny,
    /// The declared type's static index (a hint, not the runtime type).
    pub field_static_type_index: i32,
}

/// `TVMFFIMethodInfo`: reflection of one method.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TVMFFIMethodInfo {
    /// Method name.
    pub name: TVMFFIByteArray,
    /// Docstring.
    pub doc: TVMFFIByteArray,
    /// Structured metadata as JSON.
    pub metadata: TVMFFIByteArray,
    /// Flags.
    pub flags: i64,
    /// The function, as a view.
    pub method: TVMFFIAny,
}

/// `TVMFFITypeMetadata`: optional extra type information.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TVMFFITypeMetadata {
    /// Docstring.
    pub doc: TVMFFIByteArray,
    /// Creates an empty instance.
    pub creator: Option<TVMFFIObjectCreator>,
    /// Size of the object, or 0 if unknown.
    pub total_size: i32,
    /// Structural equality and hash kind.
    pub structural_eq_hash_kind: TVMFFISEqHashKind,
}

/// `TVMFFITypeAttrColumn`: one attribute for a range of type indices.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TVMFFITypeAttrColumn {
    /// `data[i - begin_index]` is the attribute of type index `i`.
    pub data: *const TVMFFIAny,
    /// Number of entries.
    pub size: i32,
    /// Type index of `data[0]`.
    pub begin_index: i32,
}

/// `TVMFFITypeInfo`: runtime type information.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct TVMFFITypeInfo {
    /// The type index.
    pub type_index: i32,
    /// Depth in the type tree.
    pub type_depth: i32,
    /// Unique type key.
    pub type_key: TVMFFIByteArray,
    /// `type_ancestors[d]` is the ancestor at depth `d`.
    pub type_ancestors: *const *const TVMFFITypeInfo,
    /// Hash of the type key.
    pub type_key_hash: u64,
    /// Number of reflected fields.
    pub num_fields: i32,
    /// Number of reflected methods.
    pub num_methods: i32,
    /// The fields.
    pub fields: *const TVMFFIFieldInfo,
    /// The methods.
    pub methods: *const TVMFFIMethodInfo,
    /// Extra information, or null.
    pub metadata: *const TVMFFITypeMetadata,
}

c_layout! {
    pub(super) const C_API_LAYOUTS = [
        TVMFFIVersion { size: 12 / 12, align: 4, fields: { major = 0 / 0, minor = 4 / 4, patch = 8 / 8 } },
        TVMFFIObject {
            size: 24 / 24,
            align: ALIGN_U64,
            fields: {
                combined_ref_count = 0 / 0, type_index = 8 / 8, __padding = 12 / 12,
                deleter @ deleter.deleter = 16 / 16, __ensure_align @ deleter.__ensure_align = 16 / 16,
            },
        },
        TVMFFIAny {
            size: 16 / 16,
            align: ALIGN_U64,
            fields: {
                type_index = 0 / 0,
                zero_padding @ padding.zero_padding = 4 / 4,
                small_str_len @ padding.small_str_len = 4 / 4,
                v_int64 @ value.v_int64 = 8 / 8,
                v_float64 @ value.v_float64 = 8 / 8,
                v_ptr @ value.v_ptr = 8 / 8,
                v_c_str @ value.v_c_str = 8 / 8,
                v_obj @ value.v_obj = 8 / 8,
                v_dtype @ value.v_dtype = 8 / 8,
                v_device @ value.v_device = 8 / 8,
                v_bytes @ value.v_bytes = 8 / 8,
                v_uint64 @ value.v_uint64 = 8 / 8,
            },
        },
        TVMFFIByteArray { size: 16 / 8, align: ALIGN_PTR, fields: { data = 0 / 0, size = 8 / 4 } },
        TVMFFIShapeCell { size: 16 / 8, align: ALIGN_PTR, fields: { data = 0 / 0, size = 8 / 4 } },
        TVMFFISeqCell {
            size: 32 / 32 / 24,
            align: ALIGN_U64,
            fields: { data = 0 / 0, size = 8 / 8 / 4, capacity = 16 / 16 / 12, data_deleter = 24 / 24 / 20 },
        },
        TVMFFIErrorCell {
            size: 72 / 36,
            align: ALIGN_PTR,
            fields: {
                kind = 0 / 0, message = 16 / 8, backtrace = 32 / 16, update_backtrace = 48 / 24,
                cause_chain = 56 / 28, extra_context = 64 / 32,
            },
        },
        TVMFFIFunctionCell { size: 16 / 8, align: ALIGN_PTR, fields: { safe_call = 0 / 0, cpp_call = 8 / 4 } },
        TVMFFIOpaqueObjectCell { size: 8 / 4, align: ALIGN_PTR, fields: { handle = 0 / 0 } },
        TVMFFIObjectAllocHeader { size: 8 / 4, align: ALIGN_PTR, fields: { delete_space = 0 / 0 } },
        TVMFFICustomAllocator { size: 16 / 8, align: ALIGN_PTR, fields: { allocate = 0 / 0, context = 8 / 4 } },
        TVMFFIFieldInfo {
            size: 120 / 88 / 84,
            align: ALIGN_U64,
            fields: {
                name = 0 / 0, doc = 16 / 8, metadata = 32 / 16, flags = 48 / 24, size = 56 / 32,
                alignment = 64 / 40, offset = 72 / 48, getter = 80 / 56, setter = 88 / 60,
                default_value_or_factory = 96 / 64, field_static_type_index = 112 / 80,
            },
        },
        TVMFFIMethodInfo {
            size: 72 / 48,
            align: ALIGN_U64,
            fields: { name = 0 / 0, doc = 16 / 8, metadata = 32 / 16, flags = 48 / 24, method = 56 / 32 },
        },
        TVMFFITypeMetadata {
            size: 32 / 20,
            align: ALIGN_PTR,
            fields: { doc = 0 / 0, creator = 16 / 8, total_size = 24 / 12, structural_eq_hash_kind = 28 / 16 },
        },
        TVMFFITypeAttrColumn {
            size: 16 / 12,
            align: ALIGN_PTR,
            fields: { data = 0 / 0, size = 8 / 4, begin_index = 12 / 8 },
        },
        TVMFFITypeInfo {
            size: 72 / 56 / 48,
            align: ALIGN_U64,
            fields: {
                type_index = 0 / 0, type_depth = 4 / 4, type_key = 8 / 8, type_ancestors = 24 / 16,
                type_key_hash = 32 / 24 / 20, num_fields = 40 / 32 / 28, num_methods = 44 / 36 / 32,
                fields = 48 / 40 / 36, methods = 56 / 44 / 40, metadata = 64 / 48 / 44,
            },
        },
    ];
}
