//! JSON text and the JSON graph (`src/ffi/extra/json_parser.cc`, `json_writer.cc`,
//! `serialization.cc`), and the graph hooks of big integers (`src/ffi/container.cc`):
//! thin adapters over [`crate::json`] and [`crate::serialization`].

use alloc::format;
use alloc::string::String;
use core::str::FromStr;

use tvmffi_core::{Any, AnyView, TypeIndex};

use super::{Builtins, arity, wrong_type};
use crate::big_int::BigInt;
use crate::error::Error;
use crate::function::schema::{function_schema, metadata_json};
use crate::function::{Boundary, Function, PackedFn};
use crate::object_type::type_key;
use crate::serialization;
use crate::string::{any_view_to_owned, str_any_from_bytes};

const PARSE: &str = "ffi.json.Parse(0: str) -> Any";
const STRINGIFY: &str = "ffi.json.Stringify(0: Any, 1: Optional<int>) -> str";
const TO_GRAPH: &str = "ffi.ToJSONGraph(0: Any, 1: Any) -> Any";
const TO_GRAPH_STRING: &str = "ffi.ToJSONGraphString(0: Any, 1: Any) -> str";
const FROM_GRAPH: &str = "ffi.FromJSONGraph(0: Any) -> Any";
const FROM_GRAPH_STRING: &str = "ffi.FromJSONGraphString(0: str) -> Any";

const ANY: &str = r#"{"type":"Any"}"#;
const STR: &str = r#"{"type":"ffi.String"}"#;
const OPTIONAL_INT: &str = r#"{"type":"Optional","args":[{"type":"int"}]}"#;

pub(super) fn register<B: Boundary>(b: &mut Builtins<'_, B>) {
    def(b, "ffi.json.Parse", &[STR], ANY, |args| {
        let [text] = arity(PARSE, args)?;
        Ok(crate::json::parse(text_arg(PARSE, 0, text)?)?)
    });
    def(b, "ffi.json.Stringify", &[ANY, OPTIONAL_INT], STR, |args| {
        let [value, indent] = arity(STRINGIFY, args)?;
        let indent: Option<i32> = indent
            .get()
            .map_err(|_| wrong_type(STRINGIFY, 1, "Optional<int>", indent.type_index()))?;
        let mut out = alloc::vec::Vec::new();
        crate::json::write(&mut out, any_view_to_owned(*value)?.view(), indent)?;
        text(&out)
    });
    def(b, "ffi.ToJSONGraph", &[ANY, ANY], ANY, |args| {
        let [value, metadata] = arity(TO_GRAPH, args)?;
        serialization::to_json_graph(*value, *metadata)
    });
    def(b, "ffi.ToJSONGraphString", &[ANY, ANY], STR, |args| {
        let [value, metadata] = arity(TO_GRAPH_STRING, args)?;
        text(&serialization::to_json_graph_string(*value, *metadata)?)
    });
    def(b, "ffi.FromJSONGraph", &[ANY], ANY, |args| {
        let [graph] = arity(FROM_GRAPH, args)?;
        serialization::from_json_graph(any_view_to_owned(*graph)?.view())
    });
    def(b, "ffi.FromJSONGraphString", &[STR], ANY, |args| {
        let [text] = arity(FROM_GRAPH_STRING, args)?;
        serialization::from_json_graph_string(text_arg(FROM_GRAPH_STRING, 0, text)?)
    });

    // A big integer's graph data is its decimal text.
    let to_json = Function::from_packed_with::<B, _>(|args: &[AnyView<'_>]| {
        let [value] = arity("__data_to_json__(0: AnyView) -> Any", args)?;
        let big: BigInt = value.get().map_err(|_| treat_as(*value, "BigInt"))?;
        text(format!("{big}").as_bytes())
    });
    let from_json = Function::from_packed_with::<B, _>(|args: &[AnyView<'_>]| {
        let [value] = arity("__data_from_json__(0: AnyView) -> Any", args)?;
        if !matches!(value.type_index(), TypeIndex::RAW_STR | TypeIndex::SMALL_STR | TypeIndex::STR)
        {
            return Err(treat_as(*value, "str"));
        }
        let digits = core::str::from_utf8(value.as_str_or_bytes()?).ok();
        let big = digits
            .and_then(|d| BigInt::from_str(d).ok())
            .ok_or_else(|| Error::value_error("Invalid decimal string for ffi.BigInt"))?;
        Ok(big.into_any())
    });
    b.type_attr(TypeIndex::BIG_INT, "__data_to_json__", AnyView::from(&to_json));
    b.type_attr(TypeIndex::BIG_INT, "__data_from_json__", AnyView::from(&from_json));
}

/// Register a packed built-in with the reference's type schema (`params` and `ret` as
/// schema JSON).
fn def<B: Boundary>(
    b: &mut Builtins<'_, B>,
    name: &str,
    params: &[&str],
    ret: &str,
    f: impl PackedFn,
) {
    let params: alloc::vec::Vec<String> = params.iter().map(|p| String::from(*p)).collect();
    let metadata = metadata_json(&function_schema(&params, ret));
    b.def_function(name, Function::from_packed_with::<B, _>(f), metadata);
}

/// A `str` argument's bytes, as the reference's `String` parameter takes them (no UTF-8
/// check: the text is read as bytes).
fn text_arg<'a>(sig: &str, i: usize, view: &'a AnyView<'_>) -> Result<&'a [u8], Error> {
    match view.type_index() {
        TypeIndex::RAW_STR | TypeIndex::SMALL_STR | TypeIndex::STR => Ok(view.as_str_or_bytes()?),
        other => Err(wrong_type(sig, i, "str", other)),
    }
}

/// A string result holding `bytes`.
fn text(bytes: &[u8]) -> Result<Any, Error> {
    str_any_from_bytes(bytes).map_err(|e| Error::value_error(format!("{e}")))
}

/// The reference's `as_or_throw` message.
fn treat_as(value: AnyView<'_>, expected: &str) -> Error {
    Error::type_error(format!(
        "Cannot treat type `{}` as type `{expected}`",
        type_key(value.type_index())
    ))
}
