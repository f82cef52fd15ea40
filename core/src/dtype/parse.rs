//! Parsing data type strings as the reference's `TVMFFIDataTypeFromString` does
//! (`src/ffi/dtype.cc`): `float32`, `int8x4`, `bool`, `handle`, `float8_e4m3fn`, the short
//! aliases `i32`, `u8`, `f16`, `bf16`, `fp8_e5m2`, scalable vectors `float32xvscalex4`, and
//! `custom[<name>]` types named by a registry.

use core::fmt;

use super::{DataType, DataTypeCode};

/// Why a data type string was refused. `Display` gives the reference's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataTypeParseError<'a> {
    kind: ParseErrorKind<'a>,
    spelling: Spelling<'a>,
}

/// The kinds of [`DataTypeParseError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind<'a> {
    /// Not a data type.
    Unknown,
    /// `float8_`, `float6_` or `float4_` followed by an unknown format.
    UnknownFloat(u8),
    /// A number that does not fit 32 bits.
    NumberOutOfRange(&'a str),
    /// A bit width over 255.
    BitsOutOfRange(u32),
    /// `x` not followed by a positive lane count.
    InvalidLanes,
    /// A lane count over 65535.
    LanesOutOfRange(u32),
    /// `custom` not followed by `[`.
    CustomOpeningBrace,
    /// `custom[` without its `]`.
    CustomClosingBrace,
    /// `custom[<name>]` whose name the resolver does not know.
    UnknownCustom(&'a str),
}

impl<'a> DataTypeParseError<'a> {
    /// What went wrong.
    pub fn kind(&self) -> ParseErrorKind<'a> {
        self.kind
    }
}

impl fmt::Display for DataTypeParseError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.spelling;
        match self.kind {
            ParseErrorKind::Unknown => write!(f, "unknown dtype `{s}`"),
            ParseErrorKind::UnknownFloat(bits) => write!(f, "unknown float{bits} type `{s}`"),
            ParseErrorKind::NumberOutOfRange(digits) => {
                write!(f, "Integer value in dtype string '{digits}' is out of range for uint32_t")
            }
            ParseErrorKind::BitsOutOfRange(v) => {
                write!(f, "Bits value {v} is out of range for uint8_t in dtype '{s}'")
            }
            ParseErrorKind::InvalidLanes => write!(
                f,
                "Invalid lanes specification in dtype '{s}'. Lanes must be a positive integer."
            ),
            ParseErrorKind::LanesOutOfRange(v) => {
                write!(f, "Lanes value {v} is out of range for uint16_t in dtype '{s}'")
            }
            ParseErrorKind::CustomOpeningBrace => {
                write!(f, "expected opening brace after 'custom' type in{s}")
            }
            ParseErrorKind::CustomClosingBrace => {
                write!(f, "expected closing brace after 'custom' type in{s}")
            }
            ParseErrorKind::UnknownCustom(name) => write!(f, "unknown custom data type `{name}`"),
        }
    }
}

/// The string as the reference reports it: a short alias (`i32`, `fp8_e4m3`) is spelled
/// with its canonical prefix (`int32`, `float8_e4m3`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Spelling<'a> {
    head: &'static str,
    tail: &'a str,
}

impl fmt::Display for Spelling<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.head)?;
        f.write_str(self.tail)
    }
}

/// The canonical prefix of a short alias, and what follows it.
fn normalize(s: &str) -> (&'static str, &str) {
    let digit_at = |i: usize| s.as_bytes().get(i).is_some_and(u8::is_ascii_digit);
    const ALIASES: [(&str, &str); 3] =
        [("fp8_", "float8_"), ("fp6_", "float6_"), ("fp4_", "float4_")];
    for (alias, canonical) in ALIASES {
        if let Some(rest) = s.strip_prefix(alias) {
            return (canonical, rest);
        }
    }
    let short = [("i", "int"), ("u", "uint"), ("bf", "bfloat"), ("f", "float")];
    for (alias, canonical) in short {
        if s.starts_with(alias) && digit_at(alias.len()) {
            return (canonical, s.get(alias.len()..).unwrap_or_default());
        }
    }
    ("", s)
}

/// The base types a string can start with, after normalisation.
enum Base {
    /// Code and default bits, then bits and lanes follow.
    Plain(DataTypeCode, u8),
    /// `float8_`, `float6_`, `float4_`: a format name follows.
    SmallFloat(u8),
    /// `custom[...]` follows.
    Custom,
}

const BASES: [(&str, Base); 10] = [
    ("int", Base::Plain(DataTypeCode::INT, 32)),
    ("uint", Base::Plain(DataTypeCode::UINT, 32)),
    ("bool", Base::Plain(DataTypeCode::BOOL, 8)),
    ("float8_", Base::SmallFloat(8)),
    ("float6_", Base::SmallFloat(6)),
    ("float4_", Base::SmallFloat(4)),
    ("float", Base::Plain(DataTypeCode::FLOAT, 32)),
    ("handle", Base::Plain(DataTypeCode::OPAQUE_HANDLE, 64)),
    ("bfloat", Base::Plain(DataTypeCode::BFLOAT, 16)),
    ("custom", Base::Custom),
];

/// Small float formats by width, in the order the reference tries them (longest names of a
/// family first), and whether `_` may separate the name from the lanes.
const SMALL_FLOATS: [(u8, &str, DataTypeCode); 11] = [
    (8, "e4m3b11fnuz", DataTypeCode::FLOAT8_E4M3B11FNUZ),
    (8, "e4m3fnuz", DataTypeCode::FLOAT8_E4M3FNUZ),
    (8, "e4m3fn", DataTypeCode::FLOAT8_E4M3FN),
    (8, "e5m2fnuz", DataTypeCode::FLOAT8_E5M2FNUZ),
    (8, "e8m0fnu", DataTypeCode::FLOAT8_E8M0FNU),
    (8, "e3m4", DataTypeCode::FLOAT8_E3M4),
    (8, "e4m3", DataTypeCode::FLOAT8_E4M3),
    (8, "e5m2", DataTypeCode::FLOAT8_E5M2),
    (6, "e2m3fn", DataTypeCode::FLOAT6_E2M3FN),
    (6, "e3m2fn", DataTypeCode::FLOAT6_E3M2FN),
    (4, "e2m1fn", DataTypeCode::FLOAT4_E2M1FN),
];

impl DataType {
    /// Parse the reference's spelling of a data type (`TVMFFIDataTypeFromString`); the
    /// inverse of `Display`. `custom[<name>]` types are refused: use
    /// [`parse_with_custom`](Self::parse_with_custom).
    ///
    /// ```
    /// use tvmffi_core::{DataType, DataTypeCode};
    ///
    /// assert_eq!(DataType::parse("float32x4").unwrap(), DataType::F32.with_lanes(4));
    /// assert_eq!(DataType::parse("i8").unwrap(), DataType::I8);
    /// assert_eq!(DataType::parse("fp8_e4m3fn").unwrap().code(), DataTypeCode::FLOAT8_E4M3FN);
    /// let err = DataType::parse("f32q").unwrap_err();
    /// assert_eq!(err.to_string(), "unknown dtype `float32q`");
    /// ```
    pub fn parse(s: &str) -> Result<DataType, DataTypeParseError<'_>> {
        Self::parse_with_custom(s, |_| None)
    }

    /// As [`parse`](Self::parse), with `custom_code` giving the code of a custom type name
    /// (the reference asks the global function `dtype.get_custom_type_code`).
    pub fn parse_with_custom<'a>(
        s: &'a str,
        custom_code: impl FnOnce(&str) -> Option<u8>,
    ) -> Result<DataType, DataTypeParseError<'a>> {
        if s.is_empty() || s == "void" {
            return Ok(DataType::new(DataTypeCode::OPAQUE_HANDLE, 0, 0));
        }
        let (head, tail) = normalize(s);
        let spelling = Spelling { head, tail };
        let fail = |kind| DataTypeParseError { kind, spelling };
        let (base, rest) = split_base(head, tail).ok_or_else(|| fail(ParseErrorKind::Unknown))?;
        let (code, default_bits, rest) = match *base {
            Base::Plain(code, bits) => (code, bits, rest),
            Base::SmallFloat(width) => return small_float(width, rest).map_err(fail),
            Base::Custom => {
                let (name, rest) = custom_name(rest).map_err(fail)?;
                let code =
                    custom_code(name).ok_or_else(|| fail(ParseErrorKind::UnknownCustom(name)))?;
                (DataTypeCode(code), 32, rest)
            }
        };
        let (bits, rest) = digits(rest).map_err(fail)?;
        let bits = u8::try_from(bits).map_err(|_| fail(ParseErrorKind::BitsOutOfRange(bits)))?;
        let (lanes, rest) = lanes(rest, true).map_err(fail)?;
        if !rest.is_empty() {
            return Err(fail(ParseErrorKind::Unknown));
        }
        let bits = if bits == 0 { default_bits } else { bits };
        Ok(DataType::new(code, bits, lanes))
    }
}

/// The base type a normalised string starts with, and what follows it.
fn split_base<'a>(head: &'static str, tail: &'a str) -> Option<(&'static Base, &'a str)> {
    if head.is_empty() {
        return BASES.iter().find_map(|(p, b)| Some((b, tail.strip_prefix(p)?)));
    }
    // `head` is a whole canonical prefix; `float` may still continue into `float8_`.
    let (_, base) = BASES.iter().find(|(p, _)| *p == head)?;
    if head == "float" {
        let small = BASES.iter().filter(|(p, _)| p.len() > 5 && p.starts_with("float"));
        for (p, b) in small {
            if let Some(rest) = tail.strip_prefix(p.get(5..).unwrap_or_default()) {
                return Some((b, rest));
            }
        }
    }
    Some((base, tail))
}

/// `float8_<format>`, `float6_<format>`, `float4_<format>` with optional lanes.
fn small_float(width: u8, rest: &str) -> Result<DataType, ParseErrorKind<'_>> {
    let underscore_lanes = width == 4;
    for &(w, name, code) in &SMALL_FLOATS {
        let Some(after) = rest.strip_prefix(name).filter(|_| w == width) else { continue };
        let next = after.as_bytes().first();
        if !(next.is_none() || next == Some(&b'x') || (underscore_lanes && next == Some(&b'_'))) {
            continue;
        }
        let after = if underscore_lanes { after.strip_prefix('_').unwrap_or(after) } else { after };
        let (lanes, after) = lanes(after, false)?;
        if !after.is_empty() {
            return Err(ParseErrorKind::Unknown);
        }
        return Ok(DataType::new(code, width, lanes));
    }
    Err(ParseErrorKind::UnknownFloat(width))
}

/// `[<name>]` after `custom`.
fn custom_name(rest: &str) -> Result<(&str, &str), ParseErrorKind<'_>> {
    let inner = rest.strip_prefix('[').ok_or(ParseErrorKind::CustomOpeningBrace)?;
    let end = inner.find(']').ok_or(ParseErrorKind::CustomClosingBrace)?;
    Ok((inner.get(..end).unwrap_or_default(), inner.get(end + 1..).unwrap_or_default()))
}

/// Leading decimal digits (none reads as 0).
fn digits(s: &str) -> Result<(u32, &str), ParseErrorKind<'_>> {
    let end = s.bytes().position(|b| !b.is_ascii_digit()).unwrap_or(s.len());
    let (text, rest) = s.split_at(end);
    let mut value = 0u64;
    for b in text.bytes() {
        value = value.saturating_mul(10).saturating_add(u64::from(b - b'0'));
    }
    let value = u32::try_from(value).map_err(|_| ParseErrorKind::NumberOutOfRange(text))?;
    Ok((value, rest))
}

/// Optional lanes: `x<n>`, or `xvscalex<n>` for scalable vectors (stored negated) where
/// allowed. No `x` means one lane.
fn lanes(s: &str, allow_scalable: bool) -> Result<(u16, &str), ParseErrorKind<'_>> {
    let (scalable, s) = match s.strip_prefix("xvscale") {
        Some(rest) if allow_scalable => (true, rest),
        _ => (false, s),
    };
    let Some(s) = s.strip_prefix('x') else { return Ok((1, s)) };
    let (value, rest) = digits(s)?;
    if rest.len() == s.len() || value == 0 {
        return Err(ParseErrorKind::InvalidLanes);
    }
    let value = u16::try_from(value).map_err(|_| ParseErrorKind::LanesOutOfRange(value))?;
    Ok((if scalable { value.wrapping_neg() } else { value }, rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn parsed(s: &str) -> DataType {
        DataType::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn spellings_and_aliases() {
        let cases = [
            ("int32", DataType::I32),
            ("i64", DataType::I64),
            ("uint8", DataType::U8),
            ("u16", DataType::U16),
            ("float16", DataType::F16),
            ("f64", DataType::F64),
            ("float", DataType::F32),
            ("int", DataType::I32),
            ("int0", DataType::I32),
            ("bool", DataType::BOOL),
            ("bool1", DataType::new(DataTypeCode::BOOL, 1, 1)),
            ("bfloat16", DataType::BF16),
            ("bf16", DataType::BF16),
            ("bfloat", DataType::BF16),
            ("handle", DataType::new(DataTypeCode::OPAQUE_HANDLE, 64, 1)),
            ("", DataType::new(DataTypeCode::OPAQUE_HANDLE, 0, 0)),
            ("void", DataType::new(DataTypeCode::OPAQUE_HANDLE, 0, 0)),
            ("float32x4", DataType::F32.with_lanes(4)),
            ("int8x16", DataType::I8.with_lanes(16)),
            ("float32xvscalex4", DataType::new(DataTypeCode::FLOAT, 32, (-4i16) as u16)),
            ("float32xvscale", DataType::F32),
            ("float8_e4m3fn", DataType::new(DataTypeCode::FLOAT8_E4M3FN, 8, 1)),
            ("fp8_e5m2", DataType::new(DataTypeCode::FLOAT8_E5M2, 8, 1)),
            ("f8_e4m3", DataType::new(DataTypeCode::FLOAT8_E4M3, 8, 1)),
            ("float8_e4m3b11fnuzx2", DataType::new(DataTypeCode::FLOAT8_E4M3B11FNUZ, 8, 2)),
            ("float6_e3m2fn", DataType::new(DataTypeCode::FLOAT6_E3M2FN, 6, 1)),
            ("fp4_e2m1fn_x2", DataType::new(DataTypeCode::FLOAT4_E2M1FN, 4, 2)),
            ("float4_e2m1fnx8", DataType::new(DataTypeCode::FLOAT4_E2M1FN, 4, 8)),
        ];
        for (text, dtype) in cases {
            assert_eq!(parsed(text), dtype, "{text}");
        }
    }

    #[test]
    fn display_round_trips() {
        for text in
            ["float32", "int8x4", "bool", "bfloat16", "float8_e8m0fnu", "uint1x64", "handle"]
        {
            assert_eq!(parsed(text).to_string(), text);
        }
    }

    #[test]
    fn errors_carry_the_reference_messages() {
        let cases = [
            ("f32q", "unknown dtype `float32q`"),
            ("complex64", "unknown dtype `complex64`"),
            ("float8_e9m9", "unknown float8 type `float8_e9m9`"),
            ("fp6_e2m3", "unknown float6 type `float6_e2m3`"),
            ("float4_e2m1fnq", "unknown float4 type `float4_e2m1fnq`"),
            ("int256", "Bits value 256 is out of range for uint8_t in dtype 'int256'"),
            (
                "int99999999999",
                "Integer value in dtype string '99999999999' is out of range for uint32_t",
            ),
            (
                "float32x",
                "Invalid lanes specification in dtype 'float32x'. Lanes must be a positive integer.",
            ),
            (
                "float32x0",
                "Invalid lanes specification in dtype 'float32x0'. Lanes must be a positive integer.",
            ),
            ("int8x65536", "Lanes value 65536 is out of range for uint16_t in dtype 'int8x65536'"),
            ("custom", "expected opening brace after 'custom' type incustom"),
            ("custom[abc", "expected closing brace after 'custom' type incustom[abc"),
            ("custom[posit]32", "unknown custom data type `posit`"),
        ];
        for (text, message) in cases {
            assert_eq!(DataType::parse(text).unwrap_err().to_string(), message, "{text}");
        }
    }

    #[test]
    fn custom_types_go_through_the_resolver() {
        let resolve = |name: &str| (name == "posit").then_some(131);
        let dtype = DataType::parse_with_custom("custom[posit]16x2", resolve).unwrap();
        assert_eq!(dtype, DataType::new(DataTypeCode(131), 16, 2));
        let dtype = DataType::parse_with_custom("custom[posit]", resolve).unwrap();
        assert_eq!(dtype.bits(), 32);
    }
}
