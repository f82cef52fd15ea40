//! [`ParseError`]: what went wrong, and where, worded as the reference words it.

use core::fmt;

use crate::error::Error;

/// What [`parse`](fn@super::parse) could not read. The wording of each is the reference's
/// (itself Python's `json` module's), so messages match theirs word for word.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// A value was expected: end of input, or a token that is not one.
    ExpectingValue,
    /// The input ended inside an array or object, after a comma.
    Syntax,
    /// A raw control character (below U+0020) inside a string.
    InvalidControlCharacter,
    /// A string without its closing quote; the position is its opening quote.
    UnterminatedString,
    /// `\u` not followed by four hex digits.
    InvalidUnicodeEscape,
    /// A UTF-16 surrogate escape without its other half.
    InvalidSurrogatePair,
    /// A backslash followed by something other than `" \ / b f n r t u`.
    InvalidEscape,
    /// Something after the value.
    ExtraData,
    /// An object key that is not a string.
    ExpectingPropertyName,
    /// An object key not followed by `:`.
    ExpectingColon,
    /// Array elements or object members not separated by `,`.
    ExpectingComma,
    /// Arrays and objects nested deeper than [`MAX_DEPTH`](super::MAX_DEPTH) (ours: the
    /// reference recurses until its stack overflows).
    TooDeep,
    /// A string or container too large to allocate.
    TooLarge,
}

impl ParseErrorKind {
    /// The message before the position.
    fn prefix(self) -> &'static str {
        match self {
            Self::ExpectingValue => "Expecting value",
            Self::Syntax => "Syntax error near",
            Self::InvalidControlCharacter => "Invalid control character at",
            Self::UnterminatedString => "Unterminated string starting at",
            Self::InvalidUnicodeEscape => "Invalid \\uXXXX escape",
            Self::InvalidSurrogatePair => "Invalid surrogate pair of \\uXXXX escapes",
            Self::InvalidEscape => "Invalid \\escape",
            Self::ExtraData => "Extra data",
            Self::ExpectingPropertyName => "Expecting property name enclosed in double quotes",
            Self::ExpectingColon => "Expecting ':' delimiter",
            Self::ExpectingComma => "Expecting ',' delimiter",
            Self::TooDeep => "Nesting too deep",
            Self::TooLarge => "Value too large to store",
        }
    }
}

/// A JSON syntax error and its position: `Expecting ',' delimiter: line 3 column 4 (char
/// 9)`, as the reference's `ffi.json.Parse` reports it (a `ValueError`).
///
/// Lines count from 1 and advance at each `\n` between tokens; columns count bytes from 1;
/// `char` is the byte offset from the start.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct ParseError {
    kind: ParseErrorKind,
    line: i64,
    column: i64,
    offset: usize,
}

impl ParseError {
    pub(super) fn new(kind: ParseErrorKind, line: i64, column: i64, offset: usize) -> Self {
        Self { kind, line, column, offset }
    }

    /// What went wrong.
    pub fn kind(&self) -> ParseErrorKind {
        self.kind
    }

    /// The line, from 1.
    pub fn line(&self) -> i64 {
        self.line
    }

    /// The column, in bytes from 1.
    pub fn column(&self) -> i64 {
        self.column
    }

    /// The byte offset from the start of the input.
    pub fn offset(&self) -> usize {
        self.offset
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.kind == ParseErrorKind::TooDeep {
            write!(f, "{} (more than {} levels)", self.kind.prefix(), super::MAX_DEPTH)?;
        } else {
            f.write_str(self.kind.prefix())?;
        }
        write!(f, ": line {} column {} (char {})", self.line, self.column, self.offset)
    }
}

impl core::error::Error for ParseError {}

impl From<ParseError> for Error {
    /// A `ValueError`, as the reference raises it.
    fn from(e: ParseError) -> Self {
        Error::value_error(alloc::format!("{e}"))
    }
}
