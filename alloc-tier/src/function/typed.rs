//! Typed functions: Rust closures with typed arguments as packed functions, and packed
//! functions called with typed arguments.
//!
//! The packed side follows the reference's `Function::FromTyped` (`function_detail.h`,
//! `unpack_call`): the argument count is checked first ("Mismatched number of arguments
//! when calling: `name(0: int, 1: float) -> str`. Expected 2 but got 3 arguments"), then
//! each argument is converted with [`FromAnyView`] ("Mismatched type on argument #1 when
//! calling: `...`. Expected `float` but got `ffi.Array`"), both as `TypeError`s.

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::String;
use core::ffi::c_void;
use core::marker::PhantomData;

use tvmffi_core::error::{ConversionError, ConversionErrorKind};
use tvmffi_core::{Any, AnyView, DataType, Device, FromAnyView, ObjectRef, ObjectType};

use super::{Boundary, Function, TypedReturn};
use crate::error::Error;

/// The reference's name of a type in signatures and messages (`Type2Str`): `int`, `float`,
/// `bool`, `Optional<int>`, a type key for objects; and its type schema, the JSON that
/// function metadata carries (`TypeTraits<T>::TypeSchema`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a TVM-FFI type: it has no `TypeStr`",
    label = "not an argument or result type of a typed function",
    note = "typed and exported functions take and return integers, floats, `bool`, `()`, \
            FFI strings and bytes, `Tensor`, `Shape`, `Array<T>`, `List<T>`, `Optional<T>`, \
            `Function`, `TypedFunction`, `Error`, `Any`, `AnyView` and object references"
)]
pub trait TypeStr {
    /// The name as an argument type.
    fn type_str() -> Cow<'static, str>;

    /// The name as a return type; `()` is `void` there.
    fn return_type_str() -> Cow<'static, str> {
        Self::type_str()
    }

    /// The type schema as JSON, e.g. `{"type":"int"}` or
    /// `{"type":"ffi.Array","args":[{"type":"float"}]}`. By default the type string is the
    /// schema's `type`, which holds for POD types and objects named by their type key.
    fn type_schema() -> String {
        super::schema::simple_schema(&Self::type_str())
    }

    /// What a value that failed to convert to this type is, in the reference's
    /// argument-mismatch messages (`GetMismatchTypeInfo`): its type key by default; a
    /// container names the first offending element (`Array[index 1: float]`).
    fn mismatch_type_info(view: AnyView<'_>) -> String {
        crate::object_type::type_key(view.type_index())
    }
}

macro_rules! type_str {
    ($($t:ty => $s:literal),* $(,)?) => {$(
        impl TypeStr for $t {
            #[inline]
            fn type_str() -> Cow<'static, str> {
                Cow::Borrowed($s)
            }
        }
    )*};
}

type_str! {
    i8 => "int", i16 => "int", i32 => "int", i64 => "int", i128 => "int", isize => "int",
    u8 => "int", u16 => "int", u32 => "int", u64 => "int", u128 => "int", usize => "int",
    f32 => "float", f64 => "float", bool => "bool",
    *mut c_void => "void*", *const c_void => "void*",
    DataType => "DataType", Device => "Device",
    Any => "Any", Function => "ffi.Function", Error => "ffi.Error",
}

impl TypeStr for () {
    fn type_str() -> Cow<'static, str> {
        Cow::Borrowed("None")
    }

    fn return_type_str() -> Cow<'static, str> {
        Cow::Borrowed("void")
    }
}

impl TypeStr for AnyView<'_> {
    fn type_str() -> Cow<'static, str> {
        Cow::Borrowed("AnyView")
    }

    fn type_schema() -> String {
        String::from(r#"{"type":"Any"}"#)
    }
}

impl<T: TypeStr> TypeStr for Option<T> {
    fn type_str() -> Cow<'static, str> {
        Cow::Owned(format!("Optional<{}>", T::type_str()))
    }

    fn type_schema() -> String {
        format!(r#"{{"type":"Optional","args":[{}]}}"#, T::type_schema())
    }

    fn mismatch_type_info(view: AnyView<'_>) -> String {
        T::mismatch_type_info(view)
    }
}

impl<T: ObjectType> TypeStr for ObjectRef<T> {
    fn type_str() -> Cow<'static, str> {
        Cow::Borrowed(T::TYPE_KEY)
    }
}

/// A Rust closure with typed arguments and result that can become a packed function.
///
/// Implemented for `Fn(A0, ..., An) -> R` with up to 8 arguments, where each argument
/// converts from any view (`for<'v> FromAnyView<'v>`: owned values such as integers,
/// floats, [`Any`], object references, [`Function`]) and `R` is a value that converts into
/// [`Any`] or a `Result` of one ([`TypedReturn`]). Borrowed arguments (`&str`, [`AnyView`])
/// need the packed form, [`Function::from_packed`].
pub trait TypedClosure<Args, R>: Send + Sync + 'static {
    /// The number of arguments.
    const NUM_ARGS: usize;

    /// The signature as the reference prints it: `(0: int, 1: float) -> str`.
    fn signature() -> String;

    /// The type schema of the function (`FunctionInfo::TypeSchema`), as its metadata
    /// carries it.
    fn type_schema() -> String;

    /// Check and convert `args`, then call the closure; `name` prefixes the signature in
    /// error messages.
    fn call_packed(&self, name: &str, args: &[AnyView<'_>]) -> Result<Any, Error>;
}

#[cold]
#[inline(never)]
pub(super) fn arg_count_error(name: &str, signature: String, expected: usize, got: usize) -> Error {
    Error::type_error(format!(
        "Mismatched number of arguments when calling: `{name}{signature}`. \
         Expected {expected} but got {got} arguments"
    ))
}

/// Convert argument `i`, with the reference's message on failure.
#[inline]
pub(super) fn arg<'v, T: FromAnyView<'v> + TypeStr>(
    args: &[AnyView<'v>],
    i: usize,
    name: &str,
    signature: fn() -> String,
) -> Result<T, Error> {
    let view = args.get(i).copied().unwrap_or_default();
    T::from_any_view(view).map_err(|e| arg_error::<T>(e, view, i, name, signature))
}

/// The error for argument `i`, out of line: the conversion above is on every call's path.
#[cold]
#[inline(never)]
fn arg_error<'v, T: FromAnyView<'v> + TypeStr>(
    e: ConversionError,
    view: AnyView<'v>,
    i: usize,
    name: &str,
    signature: fn() -> String,
) -> Error {
    if e.kind() == ConversionErrorKind::Mismatch {
        Error::type_error(format!(
            "Mismatched type on argument #{i} when calling: `{name}{}`. \
             Expected `{}` but got `{}`",
            signature(),
            T::type_str(),
            T::mismatch_type_info(view),
        ))
    } else {
        let base = Error::from(e);
        let message = format!(
            "Invalid value on argument #{i} when calling: `{name}{}`: {}",
            signature(),
            base.message()
        );
        Error::new(&base.kind(), message)
    }
}

macro_rules! typed_closure {
    ($n:literal $(; $A:ident $a:ident $i:literal)*) => {
        impl<Fun, Ret $(, $A)*> TypedClosure<($($A,)*), Ret> for Fun
        where
            Fun: Fn($($A),*) -> Ret + Send + Sync + 'static,
            Ret: TypedReturn,
            $($A: for<'v> FromAnyView<'v> + TypeStr,)*
        {
            const NUM_ARGS: usize = $n;

            fn signature() -> String {
                signature(&[$($A::type_str()),*], &Ret::Value::return_type_str())
            }

            fn type_schema() -> String {
                super::schema::function_schema(
                    &[$($A::type_schema()),*],
                    &Ret::Value::type_schema(),
                )
            }

            #[allow(unused_variables)]
            #[inline]
            fn call_packed(&self, name: &str, args: &[AnyView<'_>]) -> Result<Any, Error> {
                if args.len() != $n {
                    return Err(arg_count_error(name, Self::signature(), $n, args.len()));
                }
                $( let $a = arg::<$A>(args, $i, name, Self::signature)?; )*
                (self)($($a),*).into_result().map(Into::into)
            }
        }
    };
}

/// The signature as the reference prints it (`FunctionInfo::Sig`): `(0: int, 1: float) -> str`.
pub(super) fn signature(params: &[Cow<'_, str>], ret: &str) -> String {
    let mut s = String::from("(");
    for (i, p) in params.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(&format!("{i}: {p}"));
    }
    s.push_str(") -> ");
    s.push_str(ret);
    s
}

typed_closure!(0);
typed_closure!(1; A0 a0 0);
typed_closure!(2; A0 a0 0; A1 a1 1);
typed_closure!(3; A0 a0 0; A1 a1 1; A2 a2 2);
typed_closure!(4; A0 a0 0; A1 a1 1; A2 a2 2; A3 a3 3);
typed_closure!(5; A0 a0 0; A1 a1 1; A2 a2 2; A3 a3 3; A4 a4 4);
typed_closure!(6; A0 a0 0; A1 a1 1; A2 a2 2; A3 a3 3; A4 a4 4; A5 a5 5);
typed_closure!(7; A0 a0 0; A1 a1 1; A2 a2 2; A3 a3 3; A4 a4 4; A5 a5 5; A6 a6 6);
typed_closure!(8; A0 a0 0; A1 a1 1; A2 a2 2; A3 a3 3; A4 a4 4; A5 a5 5; A6 a6 6; A7 a7 7);

impl Function {
    /// A packed function over a closure with typed arguments (the reference's
    /// `Function::FromTyped`).
    ///
    /// With the `runtime` feature:
    ///
    /// ```
    /// # #[cfg(feature = "runtime")] {
    /// use tvmffi_alloc::error::Error;
    /// use tvmffi_alloc::function::Function;
    ///
    /// let scale = Function::from_typed(|x: i64, k: f64| -> Result<f64, Error> { Ok(x as f64 * k) });
    /// let typed = scale.typed::<(i64, f64), f64>();
    /// assert_eq!(typed.call((4, 0.5)).unwrap(), 2.0);
    /// let inc = Function::from_typed(|x: i64| x + 1); // a plain result needs no `Result`
    /// assert_eq!(inc.typed::<(i64,), i64>().call((1,)).unwrap(), 2);
    /// let err = scale.typed::<(i64,), f64>().call((4,)).unwrap_err();
    /// assert_eq!(
    ///     err.message(),
    ///     "Mismatched number of arguments when calling: `(0: int, 1: float) -> float`. \
    ///      Expected 2 but got 1 arguments"
    /// );
    /// # }
    /// ```
    pub fn from_typed<Args, R, F: TypedClosure<Args, R>>(f: F) -> Self {
        Self::from_packed(move |args: &[AnyView<'_>]| f.call_packed("", args))
    }

    /// As [`from_typed`](Self::from_typed), naming the function in error messages (the
    /// reference's `FromTyped(callable, name)`).
    pub fn from_typed_named<Args, R, F: TypedClosure<Args, R>>(name: &str, f: F) -> Self {
        let name = String::from(name);
        Self::from_packed(move |args: &[AnyView<'_>]| f.call_packed(&name, args))
    }

    /// As [`from_typed`](Self::from_typed), with the panic policy `B`.
    pub fn from_typed_with<B: Boundary, Args, R, F: TypedClosure<Args, R>>(f: F) -> Self {
        Self::from_packed_with::<B, _>(move |args: &[AnyView<'_>]| f.call_packed("", args))
    }

    /// This function seen as one taking `Args` (a tuple) and returning `R`; see
    /// [`TypedFunction`].
    pub fn typed<Args: IntoArgs, R: for<'v> FromAnyView<'v>>(&self) -> TypedFunction<Args, R> {
        TypedFunction { f: self.clone(), _sig: PhantomData }
    }
}

/// A tuple of Rust values that can be passed as packed arguments.
pub trait IntoArgs {
    /// The owned arguments.
    type Values: AsRef<[Any]>;

    /// Convert each value into an [`Any`].
    fn into_values(self) -> Self::Values;
}

macro_rules! into_args {
    ($n:literal $(; $A:ident $i:tt)*) => {
        impl<$($A: Into<Any>),*> IntoArgs for ($($A,)*) {
            type Values = [Any; $n];

            #[allow(clippy::unused_unit)]
            fn into_values(self) -> [Any; $n] {
                [$(self.$i.into()),*]
            }
        }
    };
}

into_args!(0);
into_args!(1; A0 0);
into_args!(2; A0 0; A1 1);
into_args!(3; A0 0; A1 1; A2 2);
into_args!(4; A0 0; A1 1; A2 2; A3 3);
into_args!(5; A0 0; A1 1; A2 2; A3 3; A4 4);
into_args!(6; A0 0; A1 1; A2 2; A3 3; A4 4; A5 5);
into_args!(7; A0 0; A1 1; A2 2; A3 3; A4 4; A5 5; A6 6);
into_args!(8; A0 0; A1 1; A2 2; A3 3; A4 4; A5 5; A6 6; A7 7);

/// A packed function called as a Rust function of `Args` (a tuple) returning `R` (the
/// reference's `TypedFunction<R(Args...)>`): arguments convert with `Into<Any>`, the result
/// with [`FromAnyView`], a result of the wrong type being a `TypeError`.
pub struct TypedFunction<Args, R> {
    f: Function,
    _sig: PhantomData<fn(Args) -> R>,
}

impl<Args, R> Clone for TypedFunction<Args, R> {
    fn clone(&self) -> Self {
        Self { f: self.f.clone(), _sig: PhantomData }
    }
}

impl<Args, R> core::fmt::Debug for TypedFunction<Args, R> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("TypedFunction").field(&self.f).finish()
    }
}

impl<Args, R> TypedFunction<Args, R> {
    /// `f` seen as taking `Args` and returning `R`; the types are checked at each call.
    pub fn new(f: Function) -> Self {
        Self { f, _sig: PhantomData }
    }

    /// A function object over a typed closure, seen with the closure's own signature: built
    /// and called as Rust, callable from C as any packed function. The closure returns an `R`
    /// or a `Result` of one.
    ///
    /// With the `runtime` feature:
    ///
    /// ```
    /// # #[cfg(feature = "runtime")] {
    /// use tvmffi_alloc::function::TypedFunction;
    ///
    /// let add: TypedFunction<(i64, i64), i64> = TypedFunction::from_closure(|a: i64, b: i64| a + b);
    /// assert_eq!(add.call((2, 3)).unwrap(), 5);
    /// // The same object through the packed convention, as C++ or Python would call it.
    /// let packed = add.function().call(&[2i64.into(), 0.5f64.into()]).unwrap_err();
    /// assert!(packed.message().starts_with("Mismatched type on argument #1"));
    /// # }
    /// ```
    pub fn from_closure<Ret, F>(f: F) -> Self
    where
        F: TypedClosure<Args, Ret>,
        Ret: TypedReturn<Value = R>,
    {
        Self::new(Function::from_typed(f))
    }

    /// The packed function, untyped again.
    pub fn into_function(self) -> Function {
        self.f
    }
}

impl<Args: IntoArgs, R: for<'v> FromAnyView<'v>> TypedFunction<Args, R> {
    /// Call with `args`.
    #[inline]
    pub fn call(&self, args: Args) -> Result<R, Error> {
        let values = core::mem::ManuallyDrop::new(args.into_values());
        // The callee sees a bitwise copy, so `values` never escapes: releasing plain values
        // after the call then folds away, with no re-reading of what the callee was given.
        // SAFETY: the copy is only read by the callee (as views) and then forgotten.
        let copy = core::mem::ManuallyDrop::new(unsafe { core::ptr::read(&*values) });
        let result = self.f.call(views((*copy).as_ref()));
        for v in (*values).as_ref() {
            if let Some(obj) = v.as_object_ptr() {
                // SAFETY: each value owns one strong reference, released here once (the
                // values are never dropped otherwise).
                unsafe { tvmffi_core::ObjectHeader::dec_ref(obj) };
            }
        }
        result?.get::<R>().map_err(Error::from)
    }

    /// The packed function.
    pub fn function(&self) -> &Function {
        &self.f
    }
}

/// Owned values seen as views, for passing them as arguments.
fn views(values: &[Any]) -> &[AnyView<'_>] {
    // SAFETY: `Any` and `AnyView` are both `repr(transparent)` over `TVMFFIAny`; an owned
    // value is a valid view of itself (it never holds a borrowed kind), valid while borrowed.
    unsafe { core::slice::from_raw_parts(values.as_ptr().cast::<AnyView<'_>>(), values.len()) }
}
