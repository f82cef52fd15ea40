//! The exported C API called as a careless C caller would: null handles and null out
//! pointers, objects of the wrong type (a string where a function, error or tensor is
//! expected), out-of-range type indices, negative or oversized argument counts, null
//! argument arrays, and every built-in `ffi.*` global function called with arbitrary
//! arguments. Each call must return 0, or -1 with a proper error raised (never a caught
//! panic), and leave the runtime usable.
//!
//! Pointers are null or valid: the C contract rules out dangling ones, and nothing could
//! detect them.
//!
//! This file holds the harness: its pool of live objects and the plumbing of a call. The
//! operations the fuzzer generates are in `c_api/input.rs`, what each one calls and checks
//! in `c_api/run.rs`.

#![no_main]

#[path = "c_api/input.rs"]
mod input;
#[path = "c_api/run.rs"]
mod run;

use std::ffi::CString;

use libfuzzer_sys::fuzz_target;
use tvmffi_alloc::map::{Dict, Map};
use tvmffi_alloc::seq::{Array, List};
use tvmffi_alloc::{BigInt, Bytes, Error, Function, Shape, String as FfiString, Tensor};
use tvmffi_core::sys::api as c;
use tvmffi_core::sys::{TVMFFIAny, TVMFFIByteArray, TVMFFIObjectHandle};
use tvmffi_core::{Any, AnyView, TypeIndex};
use tvmffi_fuzz::{Arena, check_rc};

use input::{Arg, Handle, Op};

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
