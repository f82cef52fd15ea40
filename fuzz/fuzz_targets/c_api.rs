//! The exported C API called as a careless C caller would: null handles and null out
//! pointers, objects of the wrong type (a string where a function, error or tensor is
//! expected), out-of-range type indices, negative or oversized argument counts, null
//! argument arrays, and every built-in `ffi.*` global function called with arbitrary
//! arguments. Each call must return 0, or -1 with a proper error raised (never a caught
//! panic), and leave the runtime usable.
//!
//! Pointers are null or valid: the C contract rules out dangling ones, and nothing could
//! detect them.

#![no_main]

use std::ffi::CString;
use std::sync::OnceLock;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tvmffi_alloc::map::{Dict, Map};
use tvmffi_alloc::seq::{Array, List};
use tvmffi_alloc::{BigInt, Bytes, Error, Function, Shape, String as FfiString, Tensor};
use tvmffi_core::sys::api as c;
use tvmffi_core::sys::{
    DLTensor, TVMFFIAny, TVMFFIByteArray, TVMFFIFieldInfo, TVMFFIMethodInfo, TVMFFIObjectHandle,
    TVMFFITypeMetadata,
};
use tvmffi_core::{Any, AnyView, TypeIndex};
use tvmffi_fuzz::{Arena, ValueSpec, check_rc, take_error};

/// An object handle: null, or one of the harness's live objects.
#[derive(Arbitrary, Debug, Clone, Copy)]
enum Handle {
    Null,
    Pool(u8),
}

/// An argument: a pooled object or any value.
#[derive(Arbitrary, Debug, Clone)]
enum Arg {
    Pool(u8),
    Value(ValueSpec),
}

#[derive(Arbitrary, Debug)]
enum Op {
    IncDecRef(Handle),
    Call {
        f: Handle,
        args: Vec<Arg>,
        num_args: i32,
        null_args: bool,
        null_result: bool,
    },
    CallGlobal {
        name: u16,
        args: Vec<Arg>,
    },
    CreateFunction {
        null_out: bool,
    },
    SetGlobal {
        name: u8,
        f: Handle,
        allow_override: bool,
        null_name: bool,
    },
    SetGlobalFromMethod {
        name: u8,
        method: Arg,
        null_info: bool,
    },
    GetGlobal {
        name: Vec<u8>,
        null_name: bool,
        null_out: bool,
    },
    Raise(Handle),
    RaiseCStr {
        kind: Option<Vec<u8>>,
        message: Option<Vec<u8>>,
    },
    RaiseParts {
        kind: Option<Vec<u8>>,
        parts: Vec<Vec<u8>>,
        num_parts: i32,
        null_parts: bool,
    },
    CreateError {
        kind: Option<Vec<u8>>,
        message: Option<Vec<u8>>,
        cause: Handle,
        extra: Handle,
        null_out: bool,
    },
    TypeKeyToIndex {
        key: Vec<u8>,
        null_out: bool,
    },
    AllocType {
        key: u8,
        static_index: i32,
        depth: i32,
        child_slots: i32,
        overflow: i32,
        parent: i32,
    },
    TypeInfo(i32),
    RegisterField {
        type_index: i32,
        null_info: bool,
        size: i64,
        alignment: i64,
        offset: i64,
        flags: i64,
    },
    RegisterMethod {
        type_index: i32,
        null_info: bool,
        method: Arg,
    },
    RegisterMetadata {
        type_index: i32,
        null_info: bool,
        total_size: i32,
        kind: i32,
    },
    RegisterAttr {
        type_index: i32,
        name: u8,
        value: Arg,
        null_value: bool,
    },
    AttrColumn(u8),
    BigInt {
        bytes: Vec<u8>,
        null_out: bool,
    },
    BigIntContent(Arg),
    ToDLPack {
        t: Handle,
        versioned: bool,
        null_out: bool,
    },
    UnsafeView {
        source: Handle,
        null_prototype: bool,
        ndim: i32,
    },
    Stream {
        device_type: i32,
        device_id: i32,
        stream: usize,
        null_original: bool,
    },
    Opaque {
        type_index: i32,
        null_out: bool,
    },
    ViewToOwned {
        value: Arg,
        null_in: bool,
        null_out: bool,
    },
    InitOnce {
        null_addr: bool,
        null_init: bool,
    },
    TensorAlloc {
        null_prototype: bool,
    },
}

/// The names an attribute or global may take: the reference's special attributes and a few
/// plain ones.
const NAMES: [&str; 8] = [
    "__any_hash__",
    "__any_equal__",
    "__ffi_repr__",
    "__s_equal__",
    "__s_hash__",
    "__data_to_json__",
    "fuzz.attr",
    "fuzz.f",
];

/// Built-in globals that are safe to call with arbitrary arguments: not the ones that load
/// or write files, take raw addresses, or remove or register globals and types.
fn callable_globals() -> &'static [String] {
    static NAMES: OnceLock<Vec<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        const AVOID: [&str; 7] =
            ["Module", "SystemLib", "ExternC", "RemoveGlobal", "MakeField", "_Py", "_Register"];
        // The first lookup registers the built-ins.
        assert!(Function::get_global("ffi.String").is_some());
        let mut names: Vec<String> = tvmffi_alloc::runtime::read_globals(|g| {
            g.names().filter_map(|n| core::str::from_utf8(n).ok().map(str::to_owned)).collect()
        });
        names.retain(|n| n.starts_with("ffi.") && !AVOID.iter().any(|a| n.contains(a)));
        names.sort();
        names
    })
}

struct Harness {
    arena: Arena,
    pool: Vec<Any>,
}

fn arr(b: &[u8]) -> TVMFFIByteArray {
    TVMFFIByteArray { data: b.as_ptr().cast(), size: b.len() }
}

fn c_string(b: &[u8]) -> CString {
    CString::new(b.iter().copied().filter(|&c| c != 0).collect::<Vec<u8>>()).unwrap()
}

/// `safe_call` for functions created through the C API: returns its argument count.
unsafe extern "C" fn count_args(
    _: *mut core::ffi::c_void,
    _: *const TVMFFIAny,
    num_args: i32,
    result: *mut TVMFFIAny,
) -> i32 {
    // SAFETY: the convention's writable result slot.
    unsafe { tvmffi_core::call::write_result(result, Any::from(i64::from(num_args))) };
    0
}

unsafe extern "C" fn init_handle(result: *mut *mut core::ffi::c_void) -> i32 {
    // SAFETY: the runtime passes a writable slot.
    unsafe { result.write(core::ptr::NonNull::<u64>::dangling().as_ptr().cast()) };
    0
}

impl Harness {
    fn new() -> Self {
        let tensor = Tensor::from_slice(&[3], &[1i32, 2, 3]).unwrap();
        let pool = vec![
            FfiString::from("a string longer than seven bytes").into(),
            Bytes::from(&b"some bytes, long enough"[..]).into(),
            Array::from_vec(vec![Any::from(1i64), FfiString::from("x").into()]).into(),
            List::new().into(),
            Map::try_from_iter([(Any::from(1i64), Any::from(2i64))]).unwrap().into(),
            Dict::new().into(),
            Shape::new(&[2, 3]).into_any(),
            tensor.into(),
            Function::from_packed(|args: &[AnyView<'_>]| Ok(Any::from(args.len() as i64))).into(),
            Error::new("ValueError", "pooled").into(),
            BigInt::from_bytes(&[0xff; 24]).unwrap().into_any(),
        ];
        Self { arena: Arena::default(), pool }
    }

    fn handle(&self, h: Handle) -> TVMFFIObjectHandle {
        match h {
            Handle::Null => core::ptr::null_mut(),
            Handle::Pool(i) => {
                let any = &self.pool[usize::from(i) % self.pool.len()];
                any.as_object_ptr().map_or(core::ptr::null_mut(), |p| p.as_ptr().cast())
            }
        }
    }

    fn arg(&mut self, a: &Arg) -> AnyView<'static> {
        match a {
            Arg::Pool(i) => {
                let any = self.pool[usize::from(*i) % self.pool.len()].clone();
                let view = any.view();
                // SAFETY: the clone lives in the arena's pool until the arena drops.
                let view: AnyView<'static> = unsafe { AnyView::from_raw(*view.as_raw()) };
                self.pool.push(any);
                view
            }
            Arg::Value(spec) => self.arena.view(spec, 2),
        }
    }

    /// Keep an object a call returned, so later calls can use it (bounded).
    fn adopt(&mut self, any: Any) {
        if any.type_index().is_object() && self.pool.len() < 64 {
            self.pool.push(any);
        }
    }

    fn adopt_handle(&mut self, h: TVMFFIObjectHandle) {
        if let Some(p) = core::ptr::NonNull::new(h.cast::<tvmffi_core::ObjectHeader>()) {
            // SAFETY: a C API call handed us a strong reference to a live object.
            self.adopt(unsafe { Any::from_object_raw(p) });
        }
    }

    fn call(
        &mut self,
        f: TVMFFIObjectHandle,
        args: &[Arg],
        num_args: i32,
        null_args: bool,
        null_result: bool,
    ) {
        let mut raw: Vec<TVMFFIAny> = args.iter().take(8).map(|a| *self.arg(a).as_raw()).collect();
        // Never more arguments than the array holds: a longer count would be the caller's
        // out-of-bounds read.
        let num_args = num_args.min(raw.len() as i32);
        let args_ptr = if null_args { core::ptr::null_mut() } else { raw.as_mut_ptr() };
        let mut result = TVMFFIAny::NONE;
        let result_ptr: *mut TVMFFIAny =
            if null_result { core::ptr::null_mut() } else { &mut result };
        // SAFETY: `f` is null or live; the arguments are valid views for `num_args` (when
        // non-negative) entries; the result slot is null or writable.
        let rc = unsafe { c::TVMFFIFunctionCall(f, args_ptr, num_args, result_ptr) };
        if check_rc("TVMFFIFunctionCall", rc).is_none() && !null_result {
            // SAFETY: success wrote an owned value.
            let any = unsafe { Any::from_raw(result) };
            self.adopt(any);
        }
    }

    fn run(&mut self, op: &Op) {
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
                // design (tested in alloc-tier/tests/seq.rs), not a finding.
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

    fn type_info(&mut self, index: i32) {
        // SAFETY: any index; the result is null or a live info.
        let info = unsafe { c::TVMFFIGetTypeInfo(index) };
        // SAFETY: the runtime keeps type infos alive for the process.
        let Some(info) = (unsafe { info.as_ref() }) else {
            let _ = Error::take_raised();
            return;
        };
        assert_eq!(info.type_index, index);
        assert!(info.num_fields >= 0 && info.num_methods >= 0 && info.type_depth >= 0);
        for i in 0..info.type_depth as usize {
            // SAFETY: `type_depth` ancestors.
            let a = unsafe { *info.type_ancestors.add(i) };
            // SAFETY: live infos.
            assert!(!a.is_null() && unsafe { (*a).type_depth } == i as i32);
        }
    }
}

/// Whether `index` names a registered type.
fn type_exists(index: i32) -> bool {
    // SAFETY: any index.
    let info = unsafe { c::TVMFFIGetTypeInfo(index) };
    let _ = Error::take_raised();
    !info.is_null()
}

fuzz_target!(|ops: Vec<Op>| {
    let mut h = Harness::new();
    for op in ops.iter().take(32) {
        h.run(op);
    }
    tvmffi_fuzz::break_cycles(&h.pool);
    // The runtime still works.
    let f = Function::get_global("ffi.String").expect("ffi.String");
    let s = f.call(&[AnyView::from(c"ok")]).expect("a call after the run");
    assert_eq!(s.as_str().ok(), Some("ok"));
    let _ = TypeIndex::NONE;
});
