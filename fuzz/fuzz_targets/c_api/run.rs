//! What each operation of the `c_api` target calls, with null or valid pointers only, and
//! what it checks: the return code, the error raised, and that nothing is left raised.

use std::ffi::CString;

use tvmffi_alloc::{Error, Function, Tensor};
use tvmffi_core::sys::api as c;
use tvmffi_core::sys::{
    DLTensor, TVMFFIAny, TVMFFIByteArray, TVMFFIFieldInfo, TVMFFIMethodInfo, TVMFFIObjectHandle,
    TVMFFITypeMetadata,
};
use tvmffi_core::{Any, AnyView};
use tvmffi_fuzz::{ValueSpec, check_rc, take_error};

use super::input::{Arg, NAMES, Op, callable_globals};
use super::{Harness, arr, c_string, count_args, init_handle, type_exists};

impl Harness {
    pub(super) fn run(&mut self, op: &Op) {
        match op {
            Op::IncDecRef(h) => {
                let h = self.handle(*h);
                // SAFETY: null or live; the reference we add, we release.
                let rc = unsafe { c::TVMFFIObjectIncRef(h) };
                if check_rc("TVMFFIObjectIncRef", rc).is_none() && !h.is_null() {
                    // SAFETY: the reference added above.
                    let rc = unsafe { c::TVMFFIObjectDecRef(h) };
                    assert!(check_rc("TVMFFIObjectDecRef", rc).is_none());
                } else if h.is_null() {
                    // SAFETY: null.
                    let rc = unsafe { c::TVMFFIObjectDecRef(h) };
                    let _ = check_rc("TVMFFIObjectDecRef(null)", rc);
                }
            }
            Op::Call { f, args, num_args, null_args, null_result } => {
                let f = self.handle(*f);
                self.call(f, args, *num_args, *null_args, *null_result);
            }
            Op::CallGlobal { name, args } => {
                let names = callable_globals();
                let name = &names[usize::from(*name) % names.len()];
                // A reservation beyond the fuzzer's memory limit is an allocation failure by
                // design (tested in alloc-tier/tests/list.rs), not a finding.
                if name == "ffi.ListReserve"
                    && args
                        .iter()
                        .any(|a| matches!(a, Arg::Value(ValueSpec::Int(n)) if *n > 1 << 24))
                {
                    return;
                }
                let f = Function::get_global(name).expect("a listed global");
                let h = f.as_object().as_raw().cast();
                self.call(h, args, i32::MAX, false, false);
            }
            Op::CreateFunction { null_out } => {
                let mut out: TVMFFIObjectHandle = core::ptr::null_mut();
                let out_ptr: *mut TVMFFIObjectHandle =
                    if *null_out { core::ptr::null_mut() } else { &mut out };
                // SAFETY: a valid `safe_call`, no deleter, a null or writable out.
                let rc = unsafe {
                    c::TVMFFIFunctionCreate(core::ptr::null_mut(), count_args, None, out_ptr)
                };
                if check_rc("TVMFFIFunctionCreate", rc).is_none() {
                    self.adopt_handle(out);
                }
            }
            Op::SetGlobal { name, f, allow_override, null_name } => {
                let name = format!("fuzz.global{}", name % 8);
                let a = arr(name.as_bytes());
                let p: *const TVMFFIByteArray = if *null_name { core::ptr::null() } else { &a };
                let h = self.handle(*f);
                // SAFETY: null or valid arguments.
                let rc = unsafe { c::TVMFFIFunctionSetGlobal(p, h, i32::from(*allow_override)) };
                let _ = check_rc("TVMFFIFunctionSetGlobal", rc);
            }
            Op::SetGlobalFromMethod { name, method, null_info } => {
                let name = format!("fuzz.method{}", name % 8);
                let method = *self.arg(method).as_raw();
                let info = TVMFFIMethodInfo {
                    name: arr(name.as_bytes()),
                    doc: arr(b""),
                    metadata: arr(b"{}"),
                    flags: 0,
                    method,
                };
                let p: *const TVMFFIMethodInfo = if *null_info { core::ptr::null() } else { &info };
                // SAFETY: null or a valid method info.
                let rc = unsafe { c::TVMFFIFunctionSetGlobalFromMethodInfo(p, 1) };
                let _ = check_rc("TVMFFIFunctionSetGlobalFromMethodInfo", rc);
            }
            Op::GetGlobal { name, null_name, null_out } => {
                let a = arr(name);
                let p: *const TVMFFIByteArray = if *null_name { core::ptr::null() } else { &a };
                let mut out: TVMFFIObjectHandle = core::ptr::null_mut();
                let out_ptr: *mut TVMFFIObjectHandle =
                    if *null_out { core::ptr::null_mut() } else { &mut out };
                // SAFETY: null or valid arguments.
                let rc = unsafe { c::TVMFFIFunctionGetGlobal(p, out_ptr) };
                if check_rc("TVMFFIFunctionGetGlobal", rc).is_none() {
                    self.adopt_handle(out);
                }
            }
            Op::Raise(h) => {
                let h = self.handle(*h);
                // SAFETY: null or live.
                unsafe { c::TVMFFIErrorSetRaised(h) };
                // A non-error (or null) is refused with an error of its own; either way an
                // error is now raised.
                let mut out: TVMFFIObjectHandle = core::ptr::null_mut();
                // SAFETY: a writable out pointer.
                unsafe { c::TVMFFIErrorMoveFromRaised(&mut out) };
                self.adopt_handle(out);
                // SAFETY: a null out pointer must be refused, not written.
                unsafe { c::TVMFFIErrorMoveFromRaised(core::ptr::null_mut()) };
                let _ = Error::take_raised();
            }
            Op::RaiseCStr { kind, message } => {
                let (k, m) = (kind.as_deref().map(c_string), message.as_deref().map(c_string));
                let kp = k.as_ref().map_or(core::ptr::null(), |s| s.as_ptr());
                let mp = m.as_ref().map_or(core::ptr::null(), |s| s.as_ptr());
                // SAFETY: null or NUL-terminated strings.
                unsafe { c::TVMFFIErrorSetRaisedFromCStr(kp, mp) };
                take_error("TVMFFIErrorSetRaisedFromCStr");
            }
            Op::RaiseParts { kind, parts, num_parts, null_parts } => {
                let k = kind.as_deref().map(c_string);
                let kp = k.as_ref().map_or(core::ptr::null(), |s| s.as_ptr());
                let parts: Vec<CString> = parts.iter().take(8).map(|p| c_string(p)).collect();
                let ptrs: Vec<*const core::ffi::c_char> =
                    parts.iter().map(|p| p.as_ptr()).collect();
                let n = (*num_parts).min(ptrs.len() as i32);
                let pp = if *null_parts { core::ptr::null() } else { ptrs.as_ptr() };
                // SAFETY: null or NUL-terminated strings; at most as many parts as there are.
                unsafe { c::TVMFFIErrorSetRaisedFromCStrParts(kp, pp, n) };
                take_error("TVMFFIErrorSetRaisedFromCStrParts");
            }
            Op::CreateError { kind, message, cause, extra, null_out } => {
                let (ka, ma) = (kind.as_deref().map(arr), message.as_deref().map(arr));
                let kp = ka.as_ref().map_or(core::ptr::null(), |a| a as *const _);
                let mp = ma.as_ref().map_or(core::ptr::null(), |a| a as *const _);
                let bt = arr(b"");
                let mut out: TVMFFIObjectHandle = core::ptr::null_mut();
                let out_ptr: *mut TVMFFIObjectHandle =
                    if *null_out { core::ptr::null_mut() } else { &mut out };
                let (cause, extra) = (self.handle(*cause), self.handle(*extra));
                // SAFETY: null or valid arguments; handles null or live.
                let rc = unsafe {
                    c::TVMFFIErrorCreateWithCauseAndExtraContext(kp, mp, &bt, cause, extra, out_ptr)
                };
                if check_rc("TVMFFIErrorCreateWithCauseAndExtraContext", rc).is_none() {
                    self.adopt_handle(out);
                }
                let mut out2: TVMFFIObjectHandle = core::ptr::null_mut();
                // SAFETY: as above.
                let rc = unsafe { c::TVMFFIErrorCreate(kp, mp, core::ptr::null(), &mut out2) };
                if check_rc("TVMFFIErrorCreate", rc).is_none() {
                    self.adopt_handle(out2);
                }
            }
            Op::TypeKeyToIndex { key, null_out } => {
                let a = arr(key);
                let mut out = 0i32;
                let out_ptr: *mut i32 = if *null_out { core::ptr::null_mut() } else { &mut out };
                // SAFETY: valid or null arguments.
                let rc = unsafe { c::TVMFFITypeKeyToIndex(&a, out_ptr) };
                if check_rc("TVMFFITypeKeyToIndex", rc).is_none() {
                    assert!(out >= 0);
                }
            }
            Op::AllocType { key, static_index, depth, child_slots, overflow, parent } => {
                let key = format!("fuzz.T{}", key % 16);
                let a = arr(key.as_bytes());
                // SAFETY: a valid key; the integers are checked.
                let index = unsafe {
                    c::TVMFFITypeGetOrAllocIndex(
                        &a,
                        *static_index,
                        *depth,
                        *child_slots,
                        *overflow,
                        *parent,
                    )
                };
                if index == -2 {
                    // A query (parent -2) for a key not registered: no error.
                    assert_eq!(*parent, -2);
                    assert!(Error::take_raised().is_none());
                } else if index < 0 {
                    take_error("TVMFFITypeGetOrAllocIndex");
                } else {
                    assert!(Error::take_raised().is_none());
                    self.type_info(index);
                }
            }
            Op::TypeInfo(index) => self.type_info(*index),
            Op::RegisterField { type_index, null_info, size, alignment, offset, flags } => {
                // Reflection data for a type that exists is the registrant's promise about
                // its objects' layout, and it accumulates: only refusals are exercised.
                if !*null_info && type_exists(*type_index) {
                    return;
                }
                let info = TVMFFIFieldInfo {
                    name: arr(b"fuzz_field"),
                    doc: arr(b""),
                    metadata: arr(b"{}"),
                    flags: *flags,
                    size: *size,
                    alignment: *alignment,
                    offset: *offset,
                    getter: None,
                    setter: core::ptr::null_mut(),
                    default_value_or_factory: TVMFFIAny::NONE,
                    field_static_type_index: 0,
                };
                let p: *const TVMFFIFieldInfo = if *null_info { core::ptr::null() } else { &info };
                // SAFETY: null or a valid field info.
                let rc = unsafe { c::TVMFFITypeRegisterField(*type_index, p) };
                let _ = check_rc("TVMFFITypeRegisterField", rc);
            }
            Op::RegisterMethod { type_index, null_info, method } => {
                // Reflection data for a type that exists is the registrant's promise about
                // its objects' layout, and it accumulates: only refusals are exercised.
                if !*null_info && type_exists(*type_index) {
                    return;
                }
                let method = *self.arg(method).as_raw();
                let info = TVMFFIMethodInfo {
                    name: arr(b"fuzz_method"),
                    doc: arr(b""),
                    metadata: arr(b"{}"),
                    flags: 0,
                    method,
                };
                let p: *const TVMFFIMethodInfo = if *null_info { core::ptr::null() } else { &info };
                // SAFETY: null or a valid method info.
                let rc = unsafe { c::TVMFFITypeRegisterMethod(*type_index, p) };
                let _ = check_rc("TVMFFITypeRegisterMethod", rc);
            }
            Op::RegisterMetadata { type_index, null_info, total_size, kind } => {
                // Reflection data for a type that exists is the registrant's promise about
                // its objects' layout, and it accumulates: only refusals are exercised.
                if !*null_info && type_exists(*type_index) {
                    return;
                }
                let meta = TVMFFITypeMetadata {
                    doc: arr(b""),
                    creator: None,
                    total_size: *total_size,
                    structural_eq_hash_kind: tvmffi_core::flags::SEqHashKind(*kind),
                };
                let p: *const TVMFFITypeMetadata =
                    if *null_info { core::ptr::null() } else { &meta };
                // SAFETY: null or valid metadata.
                let rc = unsafe { c::TVMFFITypeRegisterMetadata(*type_index, p) };
                let _ = check_rc("TVMFFITypeRegisterMetadata", rc);
            }
            Op::RegisterAttr { type_index, name, value, null_value } => {
                // Only on the harness's own types: attributes of built-in types change how
                // every later input behaves, which would make findings irreproducible.
                let key = format!("fuzz.T{}", type_index.rem_euclid(16));
                let mut index = -1;
                // SAFETY: valid arguments.
                let rc = unsafe { c::TVMFFITypeKeyToIndex(&arr(key.as_bytes()), &mut index) };
                if check_rc("TVMFFITypeKeyToIndex", rc).is_some() {
                    return;
                }
                let name = NAMES[usize::from(*name) % NAMES.len()];
                let value = *self.arg(value).as_raw();
                let vp: *const TVMFFIAny = if *null_value { core::ptr::null() } else { &value };
                // SAFETY: a valid name; a null or valid value.
                let rc = unsafe { c::TVMFFITypeRegisterAttr(index, &arr(name.as_bytes()), vp) };
                let _ = check_rc("TVMFFITypeRegisterAttr", rc);
            }
            Op::AttrColumn(name) => {
                let name = NAMES[usize::from(*name) % NAMES.len()];
                // SAFETY: a valid name.
                let col = unsafe { c::TVMFFIGetTypeAttrColumn(&arr(name.as_bytes())) };
                // SAFETY: null or a column the runtime keeps alive.
                if let Some(col) = unsafe { col.as_ref() } {
                    assert!(col.size >= 0 && col.begin_index >= 0);
                    for i in 0..col.size as usize {
                        // SAFETY: `size` values from `data`.
                        let v = unsafe { AnyView::from_ptr(col.data.add(i)) };
                        let _ = format!("{v:?}");
                    }
                }
                let _ = Error::take_raised();
            }
            Op::BigInt { bytes, null_out } => {
                let mut out = TVMFFIAny::NONE;
                let out_ptr: *mut TVMFFIAny =
                    if *null_out { core::ptr::null_mut() } else { &mut out };
                // SAFETY: valid or null arguments.
                let rc = unsafe { c::TVMFFIBigIntFromByteArray(&arr(bytes), out_ptr) };
                if check_rc("TVMFFIBigIntFromByteArray", rc).is_none() {
                    // SAFETY: success wrote an owned value.
                    let any = unsafe { Any::from_raw(out) };
                    let _ = format!("{any:?}");
                    self.adopt(any);
                }
            }
            Op::BigIntContent(value) => {
                let v = *self.arg(value).as_raw();
                // SAFETY: a valid value that outlives the returned view.
                let content = unsafe { c::TVMFFIBigIntGetContentByteArray(&v) };
                if content.size > 0 {
                    // SAFETY: the runtime's view of the value's words.
                    let words = unsafe {
                        core::slice::from_raw_parts(content.data.cast::<u8>(), content.size)
                    };
                    let _ = words.iter().map(|&b| u64::from(b)).sum::<u64>();
                    assert!(Error::take_raised().is_none());
                } else {
                    let _ = Error::take_raised();
                }
            }
            Op::ToDLPack { t, versioned, null_out } => {
                let h = self.handle(*t);
                if *versioned {
                    let mut out = core::ptr::null_mut();
                    let p: *mut _ = if *null_out { core::ptr::null_mut() } else { &mut out };
                    // SAFETY: null or live handle; null or writable out.
                    let rc = unsafe { c::TVMFFITensorToDLPackVersioned(h, p) };
                    if check_rc("TVMFFITensorToDLPackVersioned", rc).is_none() {
                        // SAFETY: a managed tensor handed to us: call its deleter once.
                        unsafe { ((*out).deleter.expect("a deleter"))(out) };
                    }
                } else {
                    let mut out = core::ptr::null_mut();
                    let p: *mut _ = if *null_out { core::ptr::null_mut() } else { &mut out };
                    // SAFETY: as above.
                    let rc = unsafe { c::TVMFFITensorToDLPack(h, p) };
                    if check_rc("TVMFFITensorToDLPack", rc).is_none() {
                        // SAFETY: as above.
                        unsafe { ((*out).deleter.expect("a deleter"))(out) };
                    }
                }
            }
            Op::UnsafeView { source, null_prototype, ndim } => {
                let h = self.handle(*source);
                // A prototype describing the first pooled tensor's own memory; `ndim` out
                // of range must be refused before the (null) arrays are read.
                let t = self.pool.iter().find_map(|a| a.get::<Tensor>().ok()).expect("a tensor");
                let mut proto: DLTensor = *t.as_dltensor();
                let in_range = (0..=1).contains(ndim);
                proto.ndim = if in_range { proto.ndim.min(*ndim) } else { *ndim };
                if !in_range {
                    proto.shape = core::ptr::null_mut();
                    proto.strides = core::ptr::null_mut();
                }
                let p: *const DLTensor = if *null_prototype { core::ptr::null() } else { &proto };
                let mut out: TVMFFIObjectHandle = core::ptr::null_mut();
                // SAFETY: null or live source; the prototype describes memory the pooled
                // tensor (which `h` may or may not be) keeps alive for this harness.
                let rc = unsafe { c::TVMFFITensorCreateUnsafeView(h, p, &mut out) };
                if check_rc("TVMFFITensorCreateUnsafeView", rc).is_none() {
                    self.adopt_handle(out);
                }
            }
            Op::Stream { device_type, device_id, stream, null_original } => {
                let mut original = core::ptr::null_mut();
                let op: *mut _ = if *null_original { core::ptr::null_mut() } else { &mut original };
                // SAFETY: a stream is an opaque handle the runtime stores, never follows.
                let rc = unsafe {
                    c::TVMFFIEnvSetStream(*device_type, *device_id, *stream as *mut _, op)
                };
                if check_rc("TVMFFIEnvSetStream", rc).is_none() {
                    // SAFETY: plain integers.
                    let now = unsafe { c::TVMFFIEnvGetStream(*device_type, *device_id) };
                    assert_eq!(now as usize, *stream);
                    // SAFETY: restore what was there.
                    let rc = unsafe {
                        c::TVMFFIEnvSetStream(
                            *device_type,
                            *device_id,
                            original,
                            core::ptr::null_mut(),
                        )
                    };
                    let _ = check_rc("TVMFFIEnvSetStream", rc);
                }
            }
            Op::Opaque { type_index, null_out } => {
                let mut out: TVMFFIObjectHandle = core::ptr::null_mut();
                let p: *mut _ = if *null_out { core::ptr::null_mut() } else { &mut out };
                // SAFETY: no deleter, so the (dangling but never followed) handle is fine.
                let rc = unsafe {
                    c::TVMFFIObjectCreateOpaque(
                        core::ptr::NonNull::<u8>::dangling().as_ptr().cast(),
                        *type_index,
                        None,
                        p,
                    )
                };
                if check_rc("TVMFFIObjectCreateOpaque", rc).is_none() {
                    self.adopt_handle(out);
                }
            }
            Op::ViewToOwned { value, null_in, null_out } => {
                let v = *self.arg(value).as_raw();
                let ip: *const TVMFFIAny = if *null_in { core::ptr::null() } else { &v };
                let mut out = TVMFFIAny::NONE;
                let op: *mut TVMFFIAny = if *null_out { core::ptr::null_mut() } else { &mut out };
                // SAFETY: null or valid arguments.
                let rc = unsafe { c::TVMFFIAnyViewToOwnedAny(ip, op) };
                if check_rc("TVMFFIAnyViewToOwnedAny", rc).is_none() {
                    // SAFETY: success wrote an owned value.
                    self.adopt(unsafe { Any::from_raw(out) });
                }
            }
            Op::InitOnce { null_addr, null_init } => {
                let mut slot: *mut core::ffi::c_void = core::ptr::null_mut();
                let sp: *mut _ = if *null_addr { core::ptr::null_mut() } else { &mut slot };
                let init = (!*null_init).then_some(init_handle as unsafe extern "C" fn(_) -> _);
                // SAFETY: a null or private slot.
                let rc = unsafe { c::TVMFFIHandleInitOnce(sp, init) };
                let _ = check_rc("TVMFFIHandleInitOnce", rc);
                // SAFETY: as above; no deinit function is a refusal, not a call.
                let rc = unsafe { c::TVMFFIHandleDeinitOnce(sp, None) };
                let _ = check_rc("TVMFFIHandleDeinitOnce", rc);
            }
            Op::TensorAlloc { null_prototype } => {
                let t = self.pool.iter().find_map(|a| a.get::<Tensor>().ok()).expect("a tensor");
                let mut proto = *t.as_dltensor();
                let p: *mut DLTensor =
                    if *null_prototype { core::ptr::null_mut() } else { &mut proto };
                let mut out: TVMFFIObjectHandle = core::ptr::null_mut();
                // SAFETY: null or a valid prototype; a writable out.
                let rc = unsafe { c::TVMFFIEnvTensorAlloc(p, &mut out) };
                if check_rc("TVMFFIEnvTensorAlloc", rc).is_none() {
                    self.adopt_handle(out);
                }
            }
        }
        // The runtime leaves nothing raised behind a call that returned.
        assert!(Error::take_raised().is_none(), "an error was left raised after {op:?}");
    }
}
