//! [`Function`]: the FFI function object (`ffi.Function`, type index 68).
//!
//! Every function in TVM-FFI is an object whose `TVMFFIFunctionCell` holds a `safe_call`
//! entry point of the packed convention. [`Function`] wraps any such object, whoever made
//! it, and calls it with [`AnyView`] arguments. Rust code becomes a function object from
//! a packed closure ([`Function::from_packed`]), a closure with typed arguments
//! ([`Function::from_typed`]), or a raw C entry point ([`Function::from_extern_c`]).
//! Global functions live in the runtime's registry, reached through the C API
//! ([`Function::register_global`], [`Function::get_global`]).
//!
//! Typed functions carry the reference's type names and schemas ([`TypeStr`], [`schema`]),
//! and become library exports (`__tvm_ffi_<name>` with its metadata) through the helpers
//! the export macros expand to ([`export`]).

mod closure;
pub mod export;
pub mod schema;
mod typed;

use alloc::format;
use core::ffi::c_void;

use tvmffi_core::sys::{
    TVMFFIByteArray, TVMFFIFunctionCell, TVMFFIObject, TVMFFISafeCallType, api,
};
use tvmffi_core::{Any, AnyView, ConversionError, FromAnyView, FunctionObj, ObjectRef, TypeIndex};

pub use closure::{AbortOnPanic, Boundary, PackedFn, c_boundary};
pub use export::{TypedReturn, doc_string};
pub use schema::ParamTypes;
pub use typed::{IntoArgs, TypeStr, TypedClosure, TypedFunction};

use crate::error::Error;
use crate::heap;

/// An FFI function object (`tvm::ffi::Function`): cloning shares it, calling runs it.
///
/// Making and calling functions needs a runtime (this example runs with the `runtime`
/// feature):
///
/// ```
/// # #[cfg(feature = "runtime")] {
/// use tvmffi_alloc::function::Function;
/// use tvmffi_core::{Any, AnyView};
///
/// let add = Function::from_packed(|args: &[AnyView<'_>]| {
///     let (a, b): (i64, i64) = (args[0].get()?, args[1].get()?);
///     Ok(Any::from(a + b))
/// });
/// let sum = add.call(&[AnyView::from(2i64), AnyView::from(3i64)]).unwrap();
/// assert_eq!(sum.get::<i64>().unwrap(), 5);
/// # }
/// ```
#[derive(Clone)]
pub struct Function {
    obj: ObjectRef<FunctionObj>,
}

/// Retype a freshly made function object: every payload made here starts with the cell.
fn into_function_obj<P: tvmffi_core::Payload>(
    obj: ObjectRef<tvmffi_core::Object<P>>,
) -> ObjectRef<FunctionObj> {
    let raw = obj.into_raw();
    // SAFETY: `raw` came from an `ObjectRef` (never null), its strong reference moves over,
    // and the object has index `kTVMFFIFunction` with a `repr(C)` payload that starts with
    // `TVMFFIFunctionCell`.
    unsafe { ObjectRef::from_raw(raw).unwrap_unchecked() }
}

impl Function {
    /// A function object running `f` (the reference's `Function::FromPacked`), with the
    /// `no_std` panic policy [`AbortOnPanic`].
    ///
    /// `f` gets the call's arguments as views and returns the result, or an error that the
    /// caller receives through the runtime's raised-error slot.
    pub fn from_packed<F: PackedFn>(f: F) -> Self {
        Self::from_packed_with::<AbortOnPanic, F>(f)
    }

    /// As [`from_packed`](Self::from_packed), with the panic policy `B` (the std tier passes
    /// one that catches panics and returns them as errors).
    pub fn from_packed_with<B: Boundary, F: PackedFn>(f: F) -> Self {
        let obj = heap::new_object(TypeIndex::FUNCTION, closure::ClosureCell::<F, B>::new(f));
        Self { obj: into_function_obj(obj) }
    }

    /// A function object over a C entry point (`TVMFFIFunctionCreate`,
    /// `Function::FromExternC`): calls run `safe_call(self_, args, num_args, result)`, and
    /// when the object dies `deleter(self_)` runs (if given).
    ///
    /// With `self_` and `deleter` both null, the object holds `safe_call` directly and calls
    /// pass the function object itself as the handle, as in the reference.
    ///
    /// # Safety
    ///
    /// `safe_call` follows the packed convention with `self_` as its handle (or with the
    /// object as its handle when both `self_` and `deleter` are null); `self_` stays valid
    /// until `deleter` runs, and both may be used from any thread.
    pub unsafe fn from_extern_c(
        self_: *mut c_void,
        safe_call: TVMFFISafeCallType,
        deleter: Option<unsafe extern "C" fn(self_: *mut c_void)>,
    ) -> Self {
        if self_.is_null() && deleter.is_none() {
            let cell =
                TVMFFIFunctionCell { safe_call: Some(safe_call), cpp_call: core::ptr::null_mut() };
            return Self { obj: heap::new_object(TypeIndex::FUNCTION, cell) };
        }
        let cell = closure::ExternCell::new(self_, safe_call, deleter);
        Self { obj: into_function_obj(heap::new_object(TypeIndex::FUNCTION, cell)) }
    }

    /// Call the function with `args`.
    ///
    /// A failing callee raises its error into the runtime's slot and returns non-zero; the
    /// error is taken from there. A callee that fails without raising gets a `RuntimeError`
    /// saying so.
    #[inline]
    pub fn call(&self, args: &[AnyView<'_>]) -> Result<Any, Error> {
        tvmffi_core::call::call(&self.obj, args).map_err(Error::from)
    }

    /// Register `f` as the global function `name` (`TVMFFIFunctionSetGlobal`). Without
    /// `allow_override`, a name already taken is a `RuntimeError`.
    pub fn register_global(name: &str, f: &Function, allow_override: bool) -> Result<(), Error> {
        let name = byte_array(name);
        // SAFETY: `name` describes a live string and `f` is a live function object, which the
        // registry takes its own reference to.
        let code = unsafe {
            api::TVMFFIFunctionSetGlobal(&name, f.obj.as_raw().cast(), allow_override.into())
        };
        check(code)
    }

    /// The global function `name` (`TVMFFIFunctionGetGlobal`), or `None` when there is none.
    /// A failure of the lookup itself is dropped; see
    /// [`try_get_global`](Self::try_get_global).
    pub fn get_global(name: &str) -> Option<Function> {
        Self::try_get_global(name).ok().flatten()
    }

    /// The global function `name`, `Ok(None)` when there is none, or the runtime's error.
    pub fn try_get_global(name: &str) -> Result<Option<Function>, Error> {
        let name = byte_array(name);
        let mut out = core::ptr::null_mut();
        // SAFETY: `name` is live and `out` is a writable handle slot.
        check(unsafe { api::TVMFFIFunctionGetGlobal(&name, &mut out) })?;
        // SAFETY: on success `out` is null or an owned reference to a function object.
        let obj =
            unsafe { ObjectRef::<tvmffi_core::ObjectHeader>::from_raw(out.cast::<TVMFFIObject>()) };
        match obj.map(|o| o.downcast::<FunctionObj>()) {
            None => Ok(None),
            Some(Ok(obj)) => Ok(Some(Self { obj })),
            Some(Err(other)) => Err(Error::type_error(format!(
                "global `{}` is an object of type index {}, not ffi.Function",
                name_str(&name),
                other.type_index().0
            ))),
        }
    }

    /// The object reference.
    #[inline]
    pub fn as_object(&self) -> &ObjectRef<FunctionObj> {
        &self.obj
    }

    /// Give up the wrapper for the object reference.
    #[inline]
    pub fn into_object(self) -> ObjectRef<FunctionObj> {
        self.obj
    }

    /// Wrap a function object reference.
    #[inline]
    pub fn from_object(obj: ObjectRef<FunctionObj>) -> Self {
        Self { obj }
    }
}

fn byte_array(s: &str) -> TVMFFIByteArray {
    TVMFFIByteArray { data: s.as_ptr().cast(), size: s.len() }
}

fn name_str(name: &TVMFFIByteArray) -> alloc::borrow::Cow<'_, str> {
    // SAFETY: made by `byte_array` from a live `&str`.
    let bytes = unsafe { crate::error::bytes_of(name) }.unwrap_or_default();
    alloc::string::String::from_utf8_lossy(bytes)
}

/// A C API return code as a result, taking the raised error on failure.
pub(crate) fn check(code: core::ffi::c_int) -> Result<(), Error> {
    if code == 0 {
        return Ok(());
    }
    Err(Error::take_raised().unwrap_or_else(|| {
        Error::runtime_error(format!("the C API returned error code {code} but raised no error"))
    }))
}

impl core::fmt::Debug for Function {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Function").field("object", &self.obj.as_raw()).finish()
    }
}

impl From<Function> for Any {
    #[inline]
    fn from(f: Function) -> Self {
        Any::from(f.obj)
    }
}

impl<'a> From<&'a Function> for AnyView<'a> {
    #[inline]
    fn from(f: &'a Function) -> Self {
        AnyView::from(&f.obj)
    }
}

impl<'a> FromAnyView<'a> for Function {
    /// An `ffi.Function` object (a new reference to it).
    fn from_any_view(view: AnyView<'a>) -> Result<Self, ConversionError> {
        ObjectRef::<FunctionObj>::from_any_view(view).map(|obj| Self { obj })
    }
}

impl TryFrom<Any> for Function {
    type Error = Any;

    /// The function in `any`, or `any` back when it holds something else.
    fn try_from(any: Any) -> Result<Self, Any> {
        any.into_object::<FunctionObj>().map(|obj| Self { obj })
    }
}

/// Layout mirror of the C++ `tvm::ffi::FunctionObj` for the layout table: `FunctionObj`
/// (`Object<TVMFFIFunctionCell>`) is the same `repr(C)` sequence.
#[repr(C)]
struct FunctionObjMirror {
    header: tvmffi_core::ObjectHeader,
    cell: TVMFFIFunctionCell,
}

const _: () = {
    use core::mem::{align_of, size_of};
    assert!(size_of::<FunctionObj>() == size_of::<FunctionObjMirror>());
    assert!(align_of::<FunctionObj>() == align_of::<FunctionObjMirror>());
};

tvmffi_core::c_layout! {
    /// Layout of the function object against the reference's C++ `FunctionObj`.
    pub const LAYOUTS = [
        FunctionObjMirror as "tvm::ffi::FunctionObj" {
            size: 40 / 32,
            align: align_of::<u64>(),
            fields: { safe_call @ cell.safe_call = 24 / 24, cpp_call @ cell.cpp_call = 32 / 28 },
        },
    ];
}
