//! The export macros: `#[tvmffi::export]` (in `tvmffi-macros`) and [`exports!`] both end
//! in [`__export_impl!`], which writes a function's C entry points:
//!
//! | symbol                          | returns                                            |
//! |---------------------------------|----------------------------------------------------|
//! | `__tvm_ffi_<name>`              | the call's result (the packed `safe_call`)         |
//! | `__tvm_ffi__metadata_<name>`    | `{"type_schema":"<the signature as JSON>"}`        |
//! | `__tvm_ffi__doc_<name>`         | the doc comment, only for a documented function    |
//!
//! These are the reference's `TVM_FFI_DLL_EXPORT_TYPED_FUNC` (with
//! `TVM_FFI_DLL_EXPORT_INCLUDE_METADATA`) and `TVM_FFI_DLL_EXPORT_TYPED_FUNC_DOC` symbols;
//! its library loader (`Module.get_function`, `get_function_metadata`,
//! `get_function_doc`) reads ours as it reads a C++ library's.

/// Export the functions written inside, each as `#[tvmffi::export]` would: the
/// `macro_rules!` twin of the attribute, for builds without the `macros` feature.
///
/// Each function may have doc comments (they become its doc symbol) and a visibility, takes
/// `name: Type` arguments and returns a value or a `Result`; other attributes, patterns and
/// generics need the attribute macro.
///
/// ```
/// use tvmffi::Error;
///
/// tvmffi::exports! {
///     /// Scale `x` by `k`.
///     pub fn scale(x: f64, k: f64) -> f64 {
///         x * k
///     }
///
///     fn checked_div(a: i64, b: i64) -> Result<i64, Error> {
///         a.checked_div(b).ok_or_else(|| Error::value_error("division by zero"))
///     }
/// }
///
/// // Still ordinary Rust functions.
/// assert_eq!(scale(2.0, 1.5), 3.0);
/// assert_eq!(checked_div(1, 0).unwrap_err().message(), "division by zero");
/// ```
#[macro_export]
macro_rules! exports {
    ($(
        $(#[doc = $doc:expr])*
        $vis:vis fn $name:ident($($arg:ident : $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block
    )*) => {$(
        $(#[doc = $doc])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? $body

        $crate::__export_impl! {
            name: ::core::stringify!($name),
            fn: $name,
            args: [$($ty),*],
            ret: ($($ret)?),
            doc: [$($doc),*],
        }
    )*};
}

/// The C entry points of one exported function; see the module docs. Generated code only.
#[doc(hidden)]
#[macro_export]
macro_rules! __export_impl {
    (
        name: $name:expr,
        fn: $f:path,
        args: [$($ty:ty),* $(,)?],
        ret: $ret:ty,
        doc: [$($doc:expr),* $(,)?] $(,)?
    ) => {
        #[allow(unsafe_code)]
        const _: () = {
            fn __tvmffi_signature() -> $crate::__private::RustString {
                $crate::__private::export_signature(
                    &[$(<$ty as $crate::__private::TypeStr>::type_str()),*],
                    &<<$ret as $crate::__private::TypedReturn>::Value
                        as $crate::__private::TypeStr>::return_type_str(),
                )
            }

            fn __tvmffi_type_schema() -> $crate::__private::RustString {
                $crate::__private::function_schema(
                    &[$(<$ty as $crate::__private::TypeStr>::type_schema()),*],
                    &<<$ret as $crate::__private::TypedReturn>::Value
                        as $crate::__private::TypeStr>::type_schema(),
                )
            }

            #[unsafe(export_name = ::core::concat!("__tvm_ffi_", $name))]
            unsafe extern "C" fn __tvmffi_call(
                _handle: *mut ::core::ffi::c_void,
                args: *const $crate::__private::TVMFFIAny,
                num_args: i32,
                result: *mut $crate::__private::TVMFFIAny,
            ) -> ::core::ffi::c_int {
                // SAFETY: loaders call `__tvm_ffi_<name>` with the packed convention, which
                // is what `call_export` asks of its caller.
                unsafe {
                    $crate::__private::call_export::<$crate::__private::DefaultBoundary>(
                        args,
                        num_args,
                        result,
                        &|args| {
                            let mut _args = $crate::__private::ExportArgs::new(
                                $name,
                                args,
                                <[&str]>::len(&[$(::core::stringify!($ty)),*]),
                                __tvmffi_signature,
                            )?;
                            $crate::__private::export_result($f($(_args.read::<$ty>()?),*))
                        },
                    )
                }
            }

            #[unsafe(export_name = ::core::concat!("__tvm_ffi__metadata_", $name))]
            unsafe extern "C" fn __tvmffi_metadata(
                _handle: *mut ::core::ffi::c_void,
                _args: *const $crate::__private::TVMFFIAny,
                _num_args: i32,
                result: *mut $crate::__private::TVMFFIAny,
            ) -> ::core::ffi::c_int {
                // SAFETY: as for the call, the result slot is the caller's.
                unsafe {
                    $crate::__private::write_metadata::<$crate::__private::DefaultBoundary>(
                        result,
                        __tvmffi_type_schema,
                    )
                }
            }

            $crate::__export_doc! { $name, [$($doc),*] }
        };
    };
}

/// The doc symbol of an exported function, for a documented one.
#[doc(hidden)]
#[macro_export]
macro_rules! __export_doc {
    ($name:expr, []) => {};
    ($name:expr, [$($doc:expr),+]) => {
        #[unsafe(export_name = ::core::concat!("__tvm_ffi__doc_", $name))]
        unsafe extern "C" fn __tvmffi_doc(
            _handle: *mut ::core::ffi::c_void,
            _args: *const $crate::__private::TVMFFIAny,
            _num_args: i32,
            result: *mut $crate::__private::TVMFFIAny,
        ) -> ::core::ffi::c_int {
            // SAFETY: as for the call, the result slot is the caller's.
            unsafe {
                $crate::__private::write_doc::<$crate::__private::DefaultBoundary>(
                    result,
                    ::core::concat!($($doc, "\n"),+),
                )
            }
        }
    };
}
