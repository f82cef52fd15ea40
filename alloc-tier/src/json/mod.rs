//! JSON text to and from FFI values, as the reference's `ffi.json.Parse` and
//! `ffi.json.Stringify` (`tvm/ffi/extra/json.h`) read and write it.
//!
//! | JSON | value |
//! | --- | --- |
//! | object | `ffi.Map` (keys `str`), members in order; a repeated key keeps its last value |
//! | array | `ffi.Array` |
//! | string | `str` |
//! | number without `.`, `e`, `E` that fits `int64_t` | `int` |
//! | other number, `NaN`, `Infinity`, `-Infinity` | `float` |
//! | `true`, `false`, `null` | `bool`, `None` |
//!
//! Beyond RFC 8259 the reference reads and writes `NaN`, `Infinity` and `-Infinity`, and
//! reads numbers as C's `strtoimax`/`strtod` do (`+1`, `01`, `1.` and `.5` are numbers; a
//! double that overflows or underflows is an error). Writing also accepts `ffi.List` (as
//! an array; one inside itself is an error); anything else (`ffi.Dict`, bytes, objects) is
//! a `ValueError`. Integral floats are written with a `.0` and others with 17 significant
//! digits, so values read back with their type and bits.
//!
//! Errors carry the reference's messages (which are Python's `json` module's), with
//! positions: `Expecting ',' delimiter: line 3 column 4 (char 9)`.
//!
//! Unlike the reference, which recurses, both directions keep their own stack: writing
//! takes any depth, and reading refuses nesting deeper than [`MAX_DEPTH`] with an error
//! (deeper values could not be dropped or compared without exhausting a thread's stack
//! elsewhere).
//!
//! ```
//! # #[cfg(feature = "runtime")] {
//! use tvmffi_alloc::json;
//!
//! let value = json::parse(br#"{"a": [1, 2.5, "x", null, NaN]}"#).unwrap();
//! assert_eq!(json::stringify(value.view(), None).unwrap(), r#"{"a":[1,2.5,"x",null,NaN]}"#);
//! assert_eq!(
//!     json::parse(b"[1 2]").unwrap_err().to_string(),
//!     "Expecting ',' delimiter: line 1 column 4 (char 3)"
//! );
//! # }
//! ```

mod error;
pub(crate) mod identity;
mod number;
mod parse;
mod write;

use alloc::vec::Vec;

use tvmffi_core::{Any, AnyView};

pub use error::{ParseError, ParseErrorKind};
pub use write::escape_string;

use crate::error::Error;

/// How deeply arrays and objects may nest in [`parse`](fn@parse)'s input.
pub const MAX_DEPTH: usize = 1000;

/// Read one JSON value from `text` (UTF-8 expected; other bytes inside strings are kept as
/// they are, as the reference keeps them).
pub fn parse(text: &[u8]) -> Result<Any, ParseError> {
    parse::Parser::new(text).parse()
}

/// Append `value` as JSON to `out`: compact, or with each element on its own line indented
/// by `indent` spaces per level (the reference's `indent`; `None` and `Some(0)` are compact).
///
/// Fails with a `ValueError` for what JSON cannot hold, as the reference does:
/// `Unsupported type: `ffi.Shape``, `Expect key to be string, got `int``, `Cycle detected:
/// List contains itself`. `out` then holds a partial document.
pub fn write(out: &mut Vec<u8>, value: AnyView<'_>, indent: Option<i32>) -> Result<(), Error> {
    write::Writer::new(out, indent.unwrap_or(0)).write(value)
}

/// `value` as JSON text; see [`write()`]. A string value holding bytes that are not UTF-8
/// (possible in FFI strings) is a `ValueError` here; [`write()`] copies such bytes as they are.
pub fn stringify(value: AnyView<'_>, indent: Option<i32>) -> Result<alloc::string::String, Error> {
    let mut out = Vec::new();
    write(&mut out, value, indent)?;
    alloc::string::String::from_utf8(out)
        .map_err(|_| Error::value_error("the JSON text holds a string that is not UTF-8"))
}
