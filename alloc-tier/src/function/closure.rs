//! Function objects whose code is Rust: closures stored inside the object, one generic
//! `safe_call` trampoline for them, and wrappers of raw C entry points
//! (`TVMFFIFunctionCreate`).
//!
//! # Panics at the C boundary
//!
//! Every entry point that C calls into Rust runs its body through [`c_boundary`], which
//! raises an `Err` into the runtime's slot and returns -1. What happens to a *panic* is the
//! [`Boundary`]'s choice. This crate is `no_std` and may be built with `panic = "abort"`,
//! so its default, [`AbortOnPanic`], catches nothing: with `panic = "abort"` a panic aborts
//! at once, and with `panic = "unwind"` Rust aborts the process when the unwind reaches the
//! `extern "C"` frame (a panic never crosses into C). The std tier supplies a `Boundary`
//! that wraps the body in `catch_unwind` and turns the panic into a `RuntimeError`; pass it
//! to [`Function::from_packed_with`](super::Function::from_packed_with).

use core::ffi::{c_int, c_void};
use core::marker::PhantomData;

use tvmffi_core::call::{args_from_raw, write_result};
use tvmffi_core::sys::{TVMFFIAny, TVMFFIFunctionCell, TVMFFISafeCallType};
use tvmffi_core::{Any, AnyView, Object, Payload, TypeIndex};

use crate::error::Error;

/// How Rust code called from C runs: the policy for panics at the `extern "C"` boundary.
pub trait Boundary: 'static {
    /// Run `body` and return what it returns. An implementation with `std` may catch a
    /// panic and return it as an error instead.
    fn run<R>(body: impl FnOnce() -> Result<R, Error>) -> Result<R, Error>;
}

/// The `no_std` boundary: runs the body as it is. A panic aborts the process (with
/// `panic = "abort"` at once, with `panic = "unwind"` when it reaches the `extern "C"` frame).
#[derive(Debug, Clone, Copy)]
pub enum AbortOnPanic {}

impl Boundary for AbortOnPanic {
    #[inline]
    fn run<R>(body: impl FnOnce() -> Result<R, Error>) -> Result<R, Error> {
        body()
    }
}

/// The C end of every Rust entry point: run `body` under `B`, and on error raise it into the
/// runtime's slot and return -1; 0 on success.
#[inline]
pub fn c_boundary<B: Boundary>(body: impl FnOnce() -> Result<(), Error>) -> c_int {
    match B::run(body) {
        Ok(()) => 0,
        Err(e) => {
            e.raise();
            -1
        }
    }
}

/// A packed Rust function: borrowed arguments in, an owned value or an error out.
pub trait PackedFn: Fn(&[AnyView<'_>]) -> Result<Any, Error> + Send + Sync + 'static {}
impl<F: Fn(&[AnyView<'_>]) -> Result<Any, Error> + Send + Sync + 'static> PackedFn for F {}

/// A function object whose code is a Rust closure: the C cell, then the closure.
#[repr(C)]
pub(super) struct ClosureCell<F, B> {
    cell: TVMFFIFunctionCell,
    f: F,
    _boundary: PhantomData<fn() -> B>,
}

// SAFETY: private to this module, which allocates `Object<ClosureCell<F, B>>` only with
// index `kTVMFFIFunction` and never views a function object as this type except inside the
// `safe_call` stored in that very object (so its layout is known).
unsafe impl<F: PackedFn, B: Boundary> Payload for ClosureCell<F, B> {
    const TYPE_KEY: &'static str = "ffi.Function";

    #[inline]
    fn is_instance(type_index: TypeIndex) -> bool {
        type_index == TypeIndex::FUNCTION
    }
}

impl<F: PackedFn, B: Boundary> ClosureCell<F, B> {
    pub(super) fn new(f: F) -> Self {
        let cell = TVMFFIFunctionCell {
            safe_call: Some(closure_safe_call::<F, B>),
            cpp_call: core::ptr::null_mut(),
        };
        Self { cell, f, _boundary: PhantomData }
    }
}

/// The `safe_call` of closure objects.
///
/// # Safety
///
/// The packed convention: `handle` is the function object this entry point was stored in,
/// `args` holds `num_args` valid values, `result` is the caller's writable result slot.
unsafe extern "C" fn closure_safe_call<F: PackedFn, B: Boundary>(
    handle: *mut c_void,
    args: *const TVMFFIAny,
    num_args: i32,
    result: *mut TVMFFIAny,
) -> c_int {
    c_boundary::<B>(|| {
        if handle.is_null() || result.is_null() {
            return Err(Error::value_error("packed call with a null handle or result slot"));
        }
        // SAFETY: `result` is the caller's readable slot (convention).
        if TypeIndex(unsafe { (*result).type_index }).is_object() {
            return Err(Error::internal_error(
                "the result slot of a packed call must not hold an object on entry",
            ));
        }
        // SAFETY: this entry point is only stored in `Object<ClosureCell<F, B>>` objects,
        // and the convention passes the object itself as `handle`.
        let obj = unsafe { &*handle.cast::<Object<ClosureCell<F, B>>>() };
        // SAFETY: the caller passes `num_args` valid values (convention); the slice is only
        // used during the call.
        let args = unsafe { args_from_raw(args, num_args) }
            .map_err(|e| Error::value_error(alloc::format!("{e}")))?;
        let value = (obj.f)(args)?;
        // SAFETY: the slot is writable and holds no object (checked above).
        unsafe { write_result(result, value) };
        Ok(())
    })
}

/// A function object over a C entry point with its own `self` and deleter
/// (`TVMFFIFunctionCreate`): the cell's `safe_call` forwards to `safe_call(self, ...)`.
#[repr(C)]
pub(super) struct ExternCell {
    cell: TVMFFIFunctionCell,
    self_: *mut c_void,
    safe_call: TVMFFISafeCallType,
    deleter: Option<unsafe extern "C" fn(self_: *mut c_void)>,
}

// SAFETY: `Function::from_extern_c`'s caller promises that `self_` may be used and released
// from any thread, as the C API requires of function resources.
unsafe impl Send for ExternCell {}
// SAFETY: as for `Send`; the cell itself is immutable.
unsafe impl Sync for ExternCell {}

// SAFETY: as for `ClosureCell`: private, allocated only with `kTVMFFIFunction`, viewed as
// this type only by the entry point stored in it.
unsafe impl Payload for ExternCell {
    const TYPE_KEY: &'static str = "ffi.Function";

    #[inline]
    fn is_instance(type_index: TypeIndex) -> bool {
        type_index == TypeIndex::FUNCTION
    }
}

impl ExternCell {
    pub(super) fn new(
        self_: *mut c_void,
        safe_call: TVMFFISafeCallType,
        deleter: Option<unsafe extern "C" fn(self_: *mut c_void)>,
    ) -> Self {
        let cell = TVMFFIFunctionCell {
            safe_call: Some(extern_safe_call),
            cpp_call: core::ptr::null_mut(),
        };
        Self { cell, self_, safe_call, deleter }
    }
}

impl Drop for ExternCell {
    fn drop(&mut self) {
        if let Some(deleter) = self.deleter {
            // SAFETY: the creator handed `self_` over with this deleter, to run once.
            unsafe { deleter(self.self_) };
        }
    }
}

/// The `safe_call` of [`ExternCell`] objects: forward with the stored `self`.
///
/// # Safety
///
/// As [`closure_safe_call`].
unsafe extern "C" fn extern_safe_call(
    handle: *mut c_void,
    args: *const TVMFFIAny,
    num_args: i32,
    result: *mut TVMFFIAny,
) -> c_int {
    if handle.is_null() {
        return c_boundary::<AbortOnPanic>(|| {
            Err(Error::value_error("packed call with a null function handle"))
        });
    }
    // SAFETY: this entry point is only stored in `Object<ExternCell>` objects, which the
    // convention passes as `handle`.
    let obj = unsafe { &*handle.cast::<Object<ExternCell>>() };
    // SAFETY: the creator vouched for `safe_call` with `self_`; the rest is the caller's.
    unsafe { (obj.safe_call)(obj.self_, args, num_args, result) }
}
