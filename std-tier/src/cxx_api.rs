//! The Rust side of the C++ entry points (feature `cxx-api`; the C++ side is `cxx/`).
//!
//! C++ code built against the reference headers calls functions such as
//! `tvm::ffi::json::Parse` by their mangled names, with C++ classes passed and returned
//! by the Itanium C++ ABI (hidden result pointers; on aarch64 in a register of their own).
//! A thin C++ shim, compiled at build time when a C++ compiler is present, defines them so
//! that the compiler gets that ABI right on every target, and forwards each to the global
//! function of the same meaning (`ffi.json.Parse`, `ffi.DeepCopy`, `ffi.Module*`, ...). It
//! also defines `tvm::ffi::ModuleObj`'s vtable and type info, which C++ libraries that
//! subclass it need at load time. `std-tier/cdylib` exports these names from our
//! `libtvm_ffi.so`; without a C++ compiler the library builds without them.
//!
//! Why C++ rather than Rust functions with mangled names: the entry points take and return
//! C++ classes with destructors, which the Itanium ABI passes through a hidden result
//! pointer (in `x8` on aarch64, where no Rust `extern "C"` signature can receive it), and
//! they report errors by throwing `tvm::ffi::Error`, which takes the C++ runtime's
//! unwinder and type info. A C++ compiler gets both right on every target.
//!
//! Vtables and type info: `tvm::ffi::ModuleObj`'s are needed, since its key function
//! (`ImportModule`) lives in the library, so C++ code deriving a module type from it does not
//! link (or load) without them. `tvm::ffi::Error`'s are not: every translation unit that
//! throws or catches it emits its own copy, and the C++ runtime matches exceptions across
//! libraries by type name. The shim exports them all the same, as the reference does, since
//! it throws `Error` itself (with the reference's layout: C++ code catching it reads kind and
//! message with its own inline code).
//!
//! What the shim needs from the Rust side that no global function offers is here, as
//! C functions it calls (never unwinding into it).

use alloc::vec::Vec;
use core::ffi::{c_char, c_int, c_void};

use tvmffi_core::sys::{TVMFFIAny, TVMFFIObject};
use tvmffi_core::{Any, AnyView};

use crate::ffi_boundary;
use crate::module::{Module, context_symbols};

/// A module handle as one of ours, if it is.
///
/// # Safety
///
/// `module` is null or a live object.
unsafe fn rust_module(module: *mut c_void) -> Option<Module> {
    let obj = core::ptr::NonNull::new(module.cast::<TVMFFIObject>())?;
    // SAFETY: the caller vouches for a live object; the view borrows it for this call.
    let view = unsafe { AnyView::from_object_ptr(obj.cast()) };
    view.get::<Module>().ok()
}

/// Whether `module` is a module made by this crate (no C++ vtable) rather than by C++.
///
/// # Safety
///
/// `module` is null or a live object.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __tvmffi_cxx_is_rust_module(module: *mut c_void) -> c_int {
    crate::abort_on_panic("__tvmffi_cxx_is_rust_module", || {
        // SAFETY: the caller's promise.
        c_int::from(unsafe { rust_module(module) }.is_some())
    })
}

/// The imports of a module made by this crate, as an owned `ffi.Array` written to `out`.
///
/// # Safety
///
/// `module` is null or a live object; `out` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __tvmffi_cxx_rust_module_imports(
    module: *mut c_void,
    out: *mut TVMFFIAny,
) -> c_int {
    ffi_boundary(|| {
        // SAFETY: the caller's promise.
        let m = unsafe { rust_module(module) }
            .ok_or_else(|| crate::Error::type_error("not a module made by this runtime"))?;
        let imports: Vec<Any> = m.imports().into_iter().map(Any::from).collect();
        let array = Any::from(tvmffi_alloc::Array::from_vec(imports));
        // SAFETY: the caller's promise; the array's reference moves to the caller.
        unsafe { out.write(array.into_raw()) };
        Ok::<(), crate::Error>(())
    })
}

/// The visitor of [`__tvmffi_cxx_visit_context_symbols`]: non-zero stops the visit.
pub type ContextSymbolVisitor = unsafe extern "C" fn(
    ctx: *mut c_void,
    name: *const c_char,
    len: usize,
    symbol: *mut c_void,
) -> c_int;

/// Call `visit` for each registered context symbol, in registration order, until it
/// returns non-zero (the reference's `Module::VisitContextSymbols`).
///
/// # Safety
///
/// `visit` may be called with `ctx` and does not unwind.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __tvmffi_cxx_visit_context_symbols(
    visit: ContextSymbolVisitor,
    ctx: *mut c_void,
) {
    let symbols = crate::abort_on_panic("__tvmffi_cxx_visit_context_symbols", context_symbols);
    for (name, symbol) in symbols {
        // SAFETY: the caller's promise; the name lives across the call.
        if unsafe { visit(ctx, name.as_ptr().cast(), name.len(), symbol) } != 0 {
            break;
        }
    }
}
