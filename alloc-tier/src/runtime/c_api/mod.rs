//! The body of every function of `c_api.h` and `extra/c_env_api.h`, generic over the
//! [`Runtime`], and [`define_c_api!`](crate::define_c_api), which turns them into the C
//! symbols.
//!
//! One module per section of the header:
//!
//! | module | functions |
//! | --- | --- |
//! | [`objects`] | `TVMFFIGetVersion`, `TVMFFIObjectIncRef`, `TVMFFIObjectDecRef`, `TVMFFIObjectCreateOpaque`, `TVMFFIHandleInitOnce`, `TVMFFIHandleDeinitOnce` |
//! | [`allocator`] | `TVMFFIGetCustomAllocator`, `TVMFFISetCustomAllocator` |
//! | [`functions`] | `TVMFFIFunctionCreate`, `TVMFFIFunctionCall`, `TVMFFIAnyViewToOwnedAny`, `TVMFFIFunctionSetGlobal`, `TVMFFIFunctionSetGlobalFromMethodInfo`, `TVMFFIFunctionGetGlobal` |
//! | [`errors`] | `TVMFFIErrorSetRaised`, `TVMFFIErrorMoveFromRaised`, `TVMFFIErrorSetRaisedFromCStr`, `TVMFFIErrorSetRaisedFromCStrParts`, `TVMFFIErrorCreate`, `TVMFFIErrorCreateWithCauseAndExtraContext`, `TVMFFIBacktrace` |
//! | [`types`] | `TVMFFITypeKeyToIndex`, `TVMFFITypeGetOrAllocIndex`, `TVMFFIGetTypeInfo`, `TVMFFITypeRegisterField`, `TVMFFITypeRegisterMethod`, `TVMFFITypeRegisterMetadata`, `TVMFFITypeRegisterAttr`, `TVMFFIGetTypeAttrColumn` |
//! | [`values`] | `TVMFFIStringFromByteArray`, `TVMFFIBytesFromByteArray`, `TVMFFIBigIntFromByteArray`, `TVMFFIBigIntGetContentByteArray`, `TVMFFIDataTypeFromString`, `TVMFFIDataTypeToString` |
//! | [`tensors`] | `TVMFFITensorFromDLPack`, `TVMFFITensorFromDLPackVersioned`, `TVMFFITensorToDLPack`, `TVMFFITensorToDLPackVersioned`, `TVMFFITensorCreateUnsafeView` |
//! | [`env`](mod@env) | `TVMFFIEnvSetStream`, `TVMFFIEnvGetStream`, `TVMFFIEnvSetDLPackManagedTensorAllocator`, `TVMFFIEnvGetDLPackManagedTensorAllocator`, `TVMFFIEnvTensorAlloc`, `TVMFFIEnvCheckSignals`, `TVMFFIEnvRegisterCAPI` |
//!
//! Left to the runtime: the module functions of `c_env_api.h`
//! (`TVMFFIEnvModLookupFromImports`, `TVMFFIEnvModRegisterContextSymbol`,
//! `TVMFFIEnvModRegisterSystemLibSymbol`), which belong with module loading.
//!
//! Every body validates each pointer, count and index before use and runs in
//! [`guard`]: an `Err` (or, under `tvmffi-std`, a panic) is raised into the calling thread's
//! slot and -1 returned.

pub mod allocator;
pub mod env;
pub mod errors;
pub mod functions;
pub mod objects;
pub mod tensors;
pub mod types;
pub mod values;

use alloc::format;
use core::ffi::c_int;

use tvmffi_core::sys::TVMFFIByteArray;

use super::Runtime;
use crate::error::{Error, bytes_of};
use crate::function::Boundary;

/// Define every function of the C API this crate implements as a `#[no_mangle]` symbol
/// over the runtime `$runtime` (a path that resolves from a child module, such as
/// `crate::MyRuntime`).
///
/// The symbols go into a hidden module `__tvmffi_c_api` at the call site. Invoke it once per
/// program: two definitions of the C API cannot be linked together.
#[macro_export]
macro_rules! define_c_api {
    ($runtime:path) => {
        /// The C API's symbols (see `tvmffi_alloc::runtime::c_api`).
        #[doc(hidden)]
        pub mod __tvmffi_c_api {
            $crate::__c_api_shims! { $runtime;
                fn TVMFFIGetVersion(out_version: *mut TVMFFIVersion) => objects::get_version;
                fn TVMFFIObjectIncRef(obj: TVMFFIObjectHandle) -> c_int => objects::inc_ref;
                fn TVMFFIObjectDecRef(obj: TVMFFIObjectHandle) -> c_int => objects::dec_ref;
                fn TVMFFIObjectCreateOpaque(
                    handle: *mut c_void,
                    type_index: i32,
                    deleter: Option<unsafe extern "C" fn(*mut c_void)>,
                    out: *mut TVMFFIObjectHandle
                ) -> c_int => objects::create_opaque;
                fn TVMFFIHandleInitOnce(
                    handle_addr: *mut *mut c_void,
                    init_func: Option<unsafe extern "C" fn(*mut *mut c_void) -> c_int>
                ) -> c_int => objects::handle_init_once;
                fn TVMFFIHandleDeinitOnce(
                    handle_addr: *mut *mut c_void,
                    deinit_func: Option<unsafe extern "C" fn(*mut c_void) -> c_int>
                ) -> c_int => objects::handle_deinit_once;

                fn TVMFFIGetCustomAllocator() -> *mut TVMFFICustomAllocator
                    => allocator::get_custom_allocator;
                fn TVMFFISetCustomAllocator(allocator: *mut TVMFFICustomAllocator) -> c_int
                    => allocator::set_custom_allocator;

                fn TVMFFIFunctionCreate(
                    self_: *mut c_void,
                    safe_call: Option<TVMFFISafeCallType>,
                    deleter: Option<unsafe extern "C" fn(*mut c_void)>,
                    out: *mut TVMFFIObjectHandle
                ) -> c_int => functions::create;
                fn TVMFFIAnyViewToOwnedAny(any_view: *const TVMFFIAny, out: *mut TVMFFIAny)
                    -> c_int => functions::any_view_to_owned;
                fn TVMFFIFunctionCall(
                    func: TVMFFIObjectHandle,
                    args: *mut TVMFFIAny,
                    num_args: i32,
                    result: *mut TVMFFIAny
                ) -> c_int => functions::call;
                fn TVMFFIFunctionSetGlobal(
                    name: *const TVMFFIByteArray,
                    f: TVMFFIObjectHandle,
                    allow_override: c_int
                ) -> c_int => functions::set_global;
                fn TVMFFIFunctionSetGlobalFromMethodInfo(
                    method_info: *const TVMFFIMethodInfo,
                    allow_override: c_int
                ) -> c_int => functions::set_global_from_method_info;
                fn TVMFFIFunctionGetGlobal(
                    name: *const TVMFFIByteArray,
                    out: *mut TVMFFIObjectHandle
                ) -> c_int => functions::get_global;

                fn TVMFFIErrorSetRaised(error: TVMFFIObjectHandle) => errors::set_raised;
                fn TVMFFIErrorMoveFromRaised(result: *mut TVMFFIObjectHandle)
                    => errors::move_from_raised;
                fn TVMFFIErrorSetRaisedFromCStr(kind: *const c_char, message: *const c_char)
                    => errors::set_raised_from_c_str;
                fn TVMFFIErrorSetRaisedFromCStrParts(
                    kind: *const c_char,
                    message_parts: *const *const c_char,
                    num_parts: i32
                ) => errors::set_raised_from_c_str_parts;
                fn TVMFFIErrorCreate(
                    kind: *const TVMFFIByteArray,
                    message: *const TVMFFIByteArray,
                    backtrace: *const TVMFFIByteArray,
                    out: *mut TVMFFIObjectHandle
                ) -> c_int => errors::create;
                fn TVMFFIErrorCreateWithCauseAndExtraContext(
                    kind: *const TVMFFIByteArray,
                    message: *const TVMFFIByteArray,
                    backtrace: *const TVMFFIByteArray,
                    cause_chain: TVMFFIObjectHandle,
                    extra_context: TVMFFIObjectHandle,
                    out: *mut TVMFFIObjectHandle
                ) -> c_int => errors::create_with_cause_and_extra_context;
                fn TVMFFIBacktrace(
                    filename: *const c_char,
                    lineno: c_int,
                    func: *const c_char,
                    cross_ffi_boundary: c_int
                ) -> *const TVMFFIByteArray => errors::backtrace;

                fn TVMFFITypeKeyToIndex(type_key: *const TVMFFIByteArray, out_tindex: *mut i32)
                    -> c_int => types::key_to_index;
                fn TVMFFITypeGetOrAllocIndex(
                    type_key: *const TVMFFIByteArray,
                    static_type_index: i32,
                    type_depth: i32,
                    num_child_slots: i32,
                    child_slots_can_overflow: i32,
                    parent_type_index: i32
                ) -> i32 => types::get_or_alloc_index;
                fn TVMFFIGetTypeInfo(type_index: i32) -> *const TVMFFITypeInfo
                    => types::type_info;
                fn TVMFFITypeRegisterField(type_index: i32, info: *const TVMFFIFieldInfo)
                    -> c_int => types::register_field;
                fn TVMFFITypeRegisterMethod(type_index: i32, info: *const TVMFFIMethodInfo)
                    -> c_int => types::register_method;
                fn TVMFFITypeRegisterMetadata(
                    type_index: i32,
                    metadata: *const TVMFFITypeMetadata
                ) -> c_int => types::register_metadata;
                fn TVMFFITypeRegisterAttr(
                    type_index: i32,
                    attr_name: *const TVMFFIByteArray,
                    attr_value: *const TVMFFIAny
                ) -> c_int => types::register_attr;
                fn TVMFFIGetTypeAttrColumn(attr_name: *const TVMFFIByteArray)
                    -> *const TVMFFITypeAttrColumn => types::attr_column;

                fn TVMFFIStringFromByteArray(input: *const TVMFFIByteArray, out: *mut TVMFFIAny)
                    -> c_int => values::string_from_byte_array;
                fn TVMFFIBytesFromByteArray(input: *const TVMFFIByteArray, out: *mut TVMFFIAny)
                    -> c_int => values::bytes_from_byte_array;
                fn TVMFFIBigIntFromByteArray(input: *const TVMFFIByteArray, out: *mut TVMFFIAny)
                    -> c_int => values::big_int_from_byte_array;
                fn TVMFFIBigIntGetContentByteArray(value: *const TVMFFIAny) -> TVMFFIByteArray
                    => values::big_int_content;
                fn TVMFFIDataTypeFromString(str: *const TVMFFIByteArray, out: *mut DLDataType)
                    -> c_int => values::data_type_from_string;
                fn TVMFFIDataTypeToString(dtype: *const DLDataType, out: *mut TVMFFIAny)
                    -> c_int => values::data_type_to_string;

                fn TVMFFITensorFromDLPack(
                    from: *mut DLManagedTensor,
                    require_alignment: i32,
                    require_contiguous: i32,
                    out: *mut TVMFFIObjectHandle
                ) -> c_int => tensors::from_dlpack;
                fn TVMFFITensorFromDLPackVersioned(
                    from: *mut DLManagedTensorVersioned,
                    require_alignment: i32,
                    require_contiguous: i32,
                    out: *mut TVMFFIObjectHandle
                ) -> c_int => tensors::from_dlpack_versioned;
                fn TVMFFITensorToDLPack(from: TVMFFIObjectHandle, out: *mut *mut DLManagedTensor)
                    -> c_int => tensors::to_dlpack;
                fn TVMFFITensorToDLPackVersioned(
                    from: TVMFFIObjectHandle,
                    out: *mut *mut DLManagedTensorVersioned
                ) -> c_int => tensors::to_dlpack_versioned;
                fn TVMFFITensorCreateUnsafeView(
                    source: TVMFFIObjectHandle,
                    prototype: *const DLTensor,
                    out: *mut TVMFFIObjectHandle
                ) -> c_int => tensors::create_unsafe_view;

                fn TVMFFIEnvSetStream(
                    device_type: i32,
                    device_id: i32,
                    stream: TVMFFIStreamHandle,
                    opt_out_original_stream: *mut TVMFFIStreamHandle
                ) -> c_int => env::set_stream;
                fn TVMFFIEnvGetStream(device_type: i32, device_id: i32) -> TVMFFIStreamHandle
                    => env::get_stream;
                fn TVMFFIEnvSetDLPackManagedTensorAllocator(
                    allocator: DLPackManagedTensorAllocator,
                    write_to_global_context: c_int,
                    opt_out_original_allocator: *mut DLPackManagedTensorAllocator
                ) -> c_int => env::set_allocator;
                fn TVMFFIEnvGetDLPackManagedTensorAllocator() -> DLPackManagedTensorAllocator
                    => env::get_allocator;
                fn TVMFFIEnvTensorAlloc(prototype: *mut DLTensor, out: *mut TVMFFIObjectHandle)
                    -> c_int => env::tensor_alloc;
                fn TVMFFIEnvCheckSignals() -> c_int => env::check_signals;
                fn TVMFFIEnvRegisterCAPI(name: *const c_char, symbol: *mut c_void) -> c_int
                    => env::register_c_api;
            }
        }
    };
}

/// One `#[no_mangle]` shim per function: the body for `$runtime`, nothing else.
#[doc(hidden)]
#[macro_export]
macro_rules! __c_api_shims {
    ($runtime:path; $(
        fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? => $($body:ident)::+;
    )*) => {
        #[allow(unused_imports)]
        use ::core::ffi::{c_char, c_int, c_void};
        #[allow(unused_imports)]
        use $crate::core_tier::sys::*;
        $(
            #[doc = concat!("`", stringify!($name), "`, as the reference header specifies it.")]
            ///
            /// # Safety
            ///
            /// The caller keeps the contract the header states for this function.
            #[unsafe(no_mangle)]
            pub unsafe extern "C" fn $name($($arg: $ty),*) $(-> $ret)? {
                // SAFETY: the caller's contract, forwarded to the body, which checks what
                // can be checked.
                unsafe { $crate::runtime::c_api::$($body)::+::<$runtime>($($arg),*) }
            }
        )*
    };
}

/// Run a body for a C caller under the runtime's panic policy: 0 on success; on error raise
/// it into the calling thread's slot and return -1.
#[inline]
pub fn guard<R: Runtime>(body: impl FnOnce() -> Result<(), Error>) -> c_int {
    match R::Boundary::run(body) {
        Ok(()) => 0,
        Err(e) => {
            raise::<R>(e);
            -1
        }
    }
}

/// Make sure the built-ins are registered before the registry or the type table is used.
#[inline]
fn ready<R: Runtime>() {
    super::builtins::ensure::<R>();
}

/// Store `error` in the calling thread's slot (dropped if the thread is being torn down).
pub fn raise<R: Runtime>(error: Error) {
    // The replaced error drops outside the slot's lock (see `ErrorSlot::set`).
    let _ = R::with_local(move |local| local.error().set(Some(error)));
}

/// `Err` for a null argument.
#[cold]
#[inline(never)]
fn null(func: &str, what: &str) -> Error {
    Error::value_error(format!("{func}: `{what}` is null"))
}

/// A reference to what a C argument points to, or a `ValueError` when it is null.
///
/// # Safety
///
/// A non-null `p` points to a valid `T` for `'a`.
unsafe fn arg<'a, T>(p: *const T, func: &str, what: &str) -> Result<&'a T, Error> {
    // SAFETY: the caller's promise.
    unsafe { p.as_ref() }.ok_or_else(|| null(func, what))
}

/// A writable C out-pointer, or a `ValueError` when it is null.
fn out<T>(p: *mut T, func: &str, what: &str) -> Result<*mut T, Error> {
    if p.is_null() { Err(null(func, what)) } else { Ok(p) }
}

/// The bytes a C byte-array argument describes.
///
/// # Safety
///
/// A non-null `p` points to a byte array whose non-null `data` is readable for `size`
/// bytes, for `'a`.
unsafe fn arg_bytes<'a>(
    p: *const TVMFFIByteArray,
    func: &str,
    what: &str,
) -> Result<&'a [u8], Error> {
    // SAFETY: the caller's promise.
    let arr = unsafe { arg(p, func, what)? };
    // SAFETY: the caller's promise.
    unsafe { bytes_of(arr) }.ok_or_else(|| {
        Error::value_error(format!("{func}: `{what}` has a null pointer or an oversized length"))
    })
}
