//! Type names and type schemas of the alloc tier's types, and the JSON of function
//! metadata, as the reference writes them (`TypeTraits<T>::TypeStr`/`TypeSchema`,
//! `FunctionInfo::TypeSchema`, `EscapeStringJSON`).
//!
//! A type schema is JSON naming a type by its key, with positional `args` for containers and
//! named `return`/`params` groups for functions:
//!
//! ```text
//! {"type":"ffi.Function","named_args":{"return":[{"type":"int"}],"params":[{"type":"ffi.Array","args":[{"type":"float"}]}]}}
//! ```
//!
//! The Python package parses it (`tvm_ffi.core.TypeSchema.from_json_str`) into
//! `Callable[[Array[float]], int]`. The strings here are compared byte for byte with a C++
//! export's in the Python tests (`tests/python/test_export_macro.py`).

use alloc::borrow::Cow;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use tvmffi_core::{Any, AnyView, ConversionError, FromAnyView};

use super::Function;
use super::typed::{TypeStr, TypedFunction, signature};
use crate::big_int::BigInt;
use crate::object_type::OpaqueObject;
use crate::seq::{Array, List};
use crate::shape::Shape;
use crate::string::{Bytes, String as FfiString};
use crate::tensor::{Tensor, TensorView};

/// `{"type":"<key>"}`, the schema of a type named by its key alone.
pub(super) fn simple_schema(key: &str) -> String {
    format!(r#"{{"type":{}}}"#, json_string(key))
}

/// `s` as a quoted JSON string, escaped as the reference's `EscapeStringJSON` does (which
/// also escapes `/`, and writes other control characters as `\u00XX`).
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '/' => out.push_str("\\/"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                // Writing to a `String` cannot fail.
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The schema of a function taking parameters of the schemas `params` and returning `ret`
/// (`FunctionInfo::TypeSchema`).
pub fn function_schema(params: &[String], ret: &str) -> String {
    format!(
        r#"{{"type":"ffi.Function","named_args":{{"return":[{ret}],"params":[{}]}}}}"#,
        params.join(",")
    )
}

/// The metadata a library exports beside a function (`__tvm_ffi__metadata_<name>`):
/// `{"type_schema":"<the function's schema, as a JSON string>"}`.
pub fn metadata_json(type_schema: &str) -> String {
    format!(r#"{{"type_schema":{}}}"#, json_string(type_schema))
}

/// A key-named type: the type string is also the schema's key.
macro_rules! keyed {
    ($($t:ty => $s:literal, $key:literal;)*) => {$(
        impl TypeStr for $t {
            #[inline]
            fn type_str() -> Cow<'static, str> {
                Cow::Borrowed($s)
            }

            fn type_schema() -> String {
                String::from(concat!(r#"{"type":""#, $key, r#""}"#))
            }
        }
    )*};
}

keyed! {
    FfiString => "str", "ffi.String";
    Bytes => "bytes", "ffi.Bytes";
    BigInt => "BigInt", "ffi.BigInt";
    Shape => "ffi.Shape", "ffi.Shape";
    Tensor => "ffi.Tensor", "ffi.Tensor";
    OpaqueObject => "Object", "ffi.Object";
}

/// The reference's `TensorView` is a `DLTensor*` argument.
impl TypeStr for TensorView<'_> {
    #[inline]
    fn type_str() -> Cow<'static, str> {
        Cow::Borrowed("DLTensor*")
    }
}

/// The untyped containers are the reference's `Array<Any>` and `List<Any>`.
macro_rules! any_seq {
    ($($t:ty => $name:literal, $key:literal;)*) => {$(
        impl TypeStr for $t {
            fn type_str() -> Cow<'static, str> {
                Cow::Borrowed(concat!($name, "<Any>"))
            }

            fn type_schema() -> String {
                String::from(concat!(r#"{"type":""#, $key, r#"","args":[{"type":"Any"}]}"#))
            }
        }
    )*};
}

any_seq! {
    Array => "Array", "ffi.Array";
    List => "List", "ffi.List";
}

/// The untyped maps are the reference's `Map<Any, Any>` and `Dict<Any, Any>`.
macro_rules! any_map {
    ($($t:ty => $name:literal, $key:literal;)*) => {$(
        impl TypeStr for $t {
            fn type_str() -> Cow<'static, str> {
                Cow::Borrowed(concat!($name, "<Any, Any>"))
            }

            fn type_schema() -> String {
                String::from(concat!(
                    r#"{"type":""#, $key, r#"","args":[{"type":"Any"},{"type":"Any"}]}"#
                ))
            }
        }
    )*};
}

any_map! {
    crate::map::Map => "Map", "ffi.Map";
    crate::map::Dict => "Dict", "ffi.Dict";
}

/// The parameter types of a typed function: a tuple of [`TypeStr`] types.
pub trait ParamTypes {
    /// Each parameter's type string.
    fn type_strs() -> Vec<Cow<'static, str>>;

    /// Each parameter's type schema.
    fn type_schemas() -> Vec<String>;
}

macro_rules! param_types {
    ($($A:ident),*) => {
        impl<$($A: TypeStr),*> ParamTypes for ($($A,)*) {
            fn type_strs() -> Vec<Cow<'static, str>> {
                alloc::vec![$($A::type_str()),*]
            }

            fn type_schemas() -> Vec<String> {
                alloc::vec![$($A::type_schema()),*]
            }
        }
    };
}

param_types!();
param_types!(A0);
param_types!(A0, A1);
param_types!(A0, A1, A2);
param_types!(A0, A1, A2, A3);
param_types!(A0, A1, A2, A3, A4);
param_types!(A0, A1, A2, A3, A4, A5);
param_types!(A0, A1, A2, A3, A4, A5, A6);
param_types!(A0, A1, A2, A3, A4, A5, A6, A7);

/// A typed function is named by its signature, `(0: int) -> float`, and its schema lists
/// its parameters and result (`TypeTraits<TypedFunction<R(Args...)>>`).
impl<Args: ParamTypes, R: TypeStr> TypeStr for TypedFunction<Args, R> {
    fn type_str() -> Cow<'static, str> {
        Cow::Owned(signature(&Args::type_strs(), &R::return_type_str()))
    }

    fn type_schema() -> String {
        function_schema(&Args::type_schemas(), &R::type_schema())
    }
}

/// Any function object, seen as taking `Args` and returning `R`: the types are checked at
/// each call, as the reference's `TypedFunction` does.
impl<Args, R> FromAnyView<'_> for TypedFunction<Args, R> {
    fn from_any_view(view: AnyView<'_>) -> Result<Self, ConversionError> {
        Function::from_any_view(view).map(TypedFunction::new)
    }
}

impl<Args, R> From<TypedFunction<Args, R>> for Any {
    fn from(f: TypedFunction<Args, R>) -> Self {
        Any::from(f.into_function())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_escape_as_the_reference() {
        assert_eq!(json_string("plain"), r#""plain""#);
        assert_eq!(json_string(r#"a"b\c/d"#), r#""a\"b\\c\/d""#);
        assert_eq!(json_string("\u{8}\u{c}\n\r\t"), r#""\b\f\n\r\t""#);
        assert_eq!(json_string("\u{1}\u{1f}\u{7f}"), r#""\u0001\u001f\u007f""#);
        assert_eq!(json_string("é→"), "\"é→\"");
    }

    #[test]
    fn schemas_of_values_and_containers() {
        assert_eq!(i64::type_schema(), r#"{"type":"int"}"#);
        assert_eq!(<()>::type_schema(), r#"{"type":"None"}"#);
        assert_eq!(FfiString::type_schema(), r#"{"type":"ffi.String"}"#);
        assert_eq!(FfiString::type_str(), "str");
        assert_eq!(Tensor::type_schema(), r#"{"type":"ffi.Tensor"}"#);
        assert_eq!(TensorView::type_schema(), r#"{"type":"DLTensor*"}"#);
        assert_eq!(Array::type_schema(), r#"{"type":"ffi.Array","args":[{"type":"Any"}]}"#);
        assert_eq!(List::type_str(), "List<Any>");
        assert_eq!(
            <Option<f64>>::type_schema(),
            r#"{"type":"Optional","args":[{"type":"float"}]}"#
        );
        assert_eq!(AnyView::type_schema(), r#"{"type":"Any"}"#);
    }

    #[test]
    fn function_schemas_and_metadata() {
        let schema =
            function_schema(&[i64::type_schema(), f64::type_schema()], &bool::type_schema());
        assert_eq!(
            schema,
            r#"{"type":"ffi.Function","named_args":{"return":[{"type":"bool"}],"params":[{"type":"int"},{"type":"float"}]}}"#
        );
        assert_eq!(
            metadata_json(&function_schema(&[], &<()>::type_schema())),
            r#"{"type_schema":"{\"type\":\"ffi.Function\",\"named_args\":{\"return\":[{\"type\":\"None\"}],\"params\":[]}}"}"#
        );
        type Callback = TypedFunction<(i64, FfiString), Option<f64>>;
        assert_eq!(Callback::type_str(), "(0: int, 1: str) -> Optional<float>");
        assert_eq!(
            Callback::type_schema(),
            r#"{"type":"ffi.Function","named_args":{"return":[{"type":"Optional","args":[{"type":"float"}]}],"params":[{"type":"int"},{"type":"ffi.String"}]}}"#
        );
    }
}
