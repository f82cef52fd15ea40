//! The parser: iterative (an explicit stack of open arrays and objects), so nesting is
//! bounded by [`MAX_DEPTH`], not by the call stack.
//!
//! Every decision that shows in a result or an error message follows the reference's
//! recursive parser (`JSONParser` in `json_parser.cc`): which token is expected where, which
//! position an error points at, and the objects built (an object is an `ffi.Map` made from
//! its members in order, a repeated key keeping its last value; an array an `ffi.Array`).

use alloc::vec::Vec;

use tvmffi_core::Any;

use super::MAX_DEPTH;
use super::error::{ParseError, ParseErrorKind};
use super::number::{self, Number};
use crate::map::Map;
use crate::seq::Array;
use crate::string::str_any_from_bytes;

/// An array or object being read.
enum Open {
    /// Its elements so far are `values[start..]`.
    Array { start: usize },
    /// Its members so far are `members[start..]`; `key` is the key of the member whose
    /// value is being read.
    Object { start: usize, key: Any },
}

pub(super) struct Parser<'a> {
    text: &'a [u8],
    pos: usize,
    /// The line of `pos` (from 1) and where it starts, as the reference counts them: only
    /// newlines skipped as white space count.
    line: i64,
    line_start: usize,
    open: Vec<Open>,
    values: Vec<Any>,
    members: Vec<(Any, Any)>,
    /// Scratch space for strings with escapes.
    scratch: Vec<u8>,
}

type Result<T> = core::result::Result<T, ParseError>;

/// Whether `b` ends a run of plain string content: the closing quote, a backslash, or a
/// control character (an error).
#[inline]
fn is_stop(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// The offset of the first byte of `bytes` that [`is_stop`], eight bytes at a time: the
/// classic "has a zero byte" word test, per kind of stop byte. In each test a byte's flag
/// can be wrong only above a byte flagged rightly (a borrow runs upwards), so the lowest
/// flag of all is exact.
fn find_stop(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let below = |w: u64, n: u8| w.wrapping_sub(ONES * u64::from(n)) & !w & HIGHS;
    let mut chunks = bytes.chunks_exact(8);
    let mut at = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let hits = below(w, 0x20)
            | below(w ^ (ONES * u64::from(b'"')), 1)
            | below(w ^ (ONES * u64::from(b'\\')), 1);
        if hits != 0 {
            return Some(at + hits.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    chunks.remainder().iter().position(|&b| is_stop(b)).map(|n| at + n)
}

impl<'a> Parser<'a> {
    pub(super) fn new(text: &'a [u8]) -> Self {
        Self {
            text,
            pos: 0,
            line: 1,
            line_start: 0,
            open: Vec::new(),
            values: Vec::new(),
            members: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// The whole input as one value.
    pub(super) fn parse(mut self) -> Result<Any> {
        let value = self.value()?;
        self.skip_spaces();
        if self.peek().is_some() {
            return Err(self.error(ParseErrorKind::ExtraData));
        }
        Ok(value)
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn error(&self, kind: ParseErrorKind) -> ParseError {
        let column = (self.pos as i64).wrapping_sub(self.line_start as i64).wrapping_add(1);
        ParseError::new(kind, self.line, column, self.pos)
    }

    /// The error `kind` at `pos` (the reference moves its cursor back for a better message).
    fn error_at(&mut self, pos: usize, kind: ParseErrorKind) -> ParseError {
        self.pos = pos;
        self.error(kind)
    }

    #[inline]
    fn skip_spaces(&mut self) {
        while let Some(&b) = self.text.get(self.pos) {
            match b {
                b' ' | b'\t' | b'\r' => {}
                b'\n' => {
                    self.line += 1;
                    self.line_start = self.pos + 1;
                }
                _ => break,
            }
            self.pos += 1;
        }
    }

    /// Whether the input continues with `literal`, consuming what matches.
    fn match_literal(&mut self, literal: &[u8]) -> bool {
        for &expected in literal {
            if self.peek() != Some(expected) {
                return false;
            }
            self.pos += 1;
        }
        true
    }

    /// Read one value; arrays and objects are read to their end without recursion.
    fn value(&mut self) -> Result<Any> {
        'value: loop {
            let Some(mut value) = self.scalar_or_open()? else { continue 'value };
            // A value is complete: it is the result, or goes into the innermost open
            // container, which may complete in turn.
            loop {
                match self.open.last_mut() {
                    None => return Ok(value),
                    Some(Open::Array { start }) => {
                        let start = *start;
                        self.values.push(value);
                        self.skip_spaces();
                        match self.peek() {
                            Some(b',') => {
                                self.pos += 1;
                                self.skip_spaces();
                                if self.peek().is_none() {
                                    return Err(self.error(ParseErrorKind::Syntax));
                                }
                                continue 'value;
                            }
                            Some(b']') => {
                                self.pos += 1;
                                self.open.pop();
                                value = Any::from(self.values.drain(start..).collect::<Array>());
                            }
                            _ => return Err(self.error(ParseErrorKind::ExpectingComma)),
                        }
                    }
                    Some(Open::Object { start, key }) => {
                        let start = *start;
                        let key = core::mem::take(key);
                        self.members.push((key, value));
                        self.skip_spaces();
                        match self.peek() {
                            Some(b',') => {
                                self.pos += 1;
                                self.skip_spaces();
                                self.member_key()?;
                                continue 'value;
                            }
                            Some(b'}') => {
                                self.pos += 1;
                                self.open.pop();
                                // Inserted in order, a later key replacing an earlier
                                // one's value: the reference's `Map(first, last)`, without
                                // collecting the members first.
                                let mut map = Map::with_capacity(self.members.len() - start)
                                    .map_err(|_| self.error(ParseErrorKind::TooLarge))?;
                                let mut failed = false;
                                for (k, v) in self.members.drain(start..) {
                                    failed |= map.insert(k, v).is_err();
                                }
                                if failed {
                                    return Err(self.error(ParseErrorKind::TooLarge));
                                }
                                value = Any::from(map);
                            }
                            _ => return Err(self.error(ParseErrorKind::ExpectingComma)),
                        }
                    }
                }
            }
        }
    }

    /// A scalar, an empty container, or `None` after opening a container whose first
    /// element (or first member's value) is next.
    fn scalar_or_open(&mut self) -> Result<Option<Any>> {
        self.skip_spaces();
        let start = self.pos;
        match self.peek() {
            None => Err(self.error(ParseErrorKind::ExpectingValue)),
            Some(b'{') => {
                self.pos += 1;
                self.skip_spaces();
                match self.peek() {
                    None => Err(self.error(ParseErrorKind::ExpectingPropertyName)),
                    Some(b'}') => {
                        self.pos += 1;
                        Ok(Some(Any::from(Map::new())))
                    }
                    Some(_) => {
                        self.push(
                            start,
                            Open::Object { start: self.members.len(), key: Any::none() },
                        )?;
                        self.member_key()?;
                        Ok(None)
                    }
                }
            }
            Some(b'[') => {
                self.pos += 1;
                self.skip_spaces();
                match self.peek() {
                    None => Err(self.error(ParseErrorKind::ExpectingValue)),
                    Some(b']') => {
                        self.pos += 1;
                        Ok(Some(Any::from(Array::new())))
                    }
                    Some(_) => {
                        self.push(start, Open::Array { start: self.values.len() })?;
                        Ok(None)
                    }
                }
            }
            Some(b'"') => self.string().map(Some),
            Some(b't') => self.literal(start, b"rue", Any::from(true)).map(Some),
            Some(b'f') => self.literal(start, b"alse", Any::from(false)).map(Some),
            Some(b'n') => self.literal(start, b"ull", Any::none()).map(Some),
            Some(_) => self.number().map(Some),
        }
    }

    fn push(&mut self, start: usize, open: Open) -> Result<()> {
        if self.open.len() >= MAX_DEPTH {
            return Err(self.error_at(start, ParseErrorKind::TooDeep));
        }
        self.open.push(open);
        Ok(())
    }

    /// Read `"key":` of the innermost (object) container, at a non-space position.
    fn member_key(&mut self) -> Result<()> {
        match self.peek() {
            None => return Err(self.error(ParseErrorKind::Syntax)),
            Some(b'"') => {}
            Some(_) => return Err(self.error(ParseErrorKind::ExpectingPropertyName)),
        }
        let key = self.string()?;
        self.skip_spaces();
        if self.peek() != Some(b':') {
            return Err(self.error(ParseErrorKind::ExpectingColon));
        }
        self.pos += 1;
        if let Some(Open::Object { key: slot, .. }) = self.open.last_mut() {
            *slot = key;
        }
        Ok(())
    }

    fn literal(&mut self, start: usize, rest: &[u8], value: Any) -> Result<Any> {
        self.pos += 1;
        if self.match_literal(rest) {
            Ok(value)
        } else {
            Err(self.error_at(start, ParseErrorKind::ExpectingValue))
        }
    }

    fn number(&mut self) -> Result<Any> {
        let start = self.pos;
        let special = |p: &mut Self, literal: &[u8], v: f64| {
            if p.match_literal(literal) {
                Ok(Any::from(v))
            } else {
                Err(p.error_at(start, ParseErrorKind::ExpectingValue))
            }
        };
        match self.peek() {
            Some(b'-') if self.text.get(self.pos + 1) == Some(&b'I') => {
                self.pos += 1;
                return special(self, b"Infinity", f64::NEG_INFINITY);
            }
            Some(b'I') => return special(self, b"Infinity", f64::INFINITY),
            Some(b'N') => return special(self, b"NaN", f64::NAN),
            _ => {}
        }
        let len = self.text[start..].iter().take_while(|&&b| number::is_number_byte(b)).count();
        if len == 0 {
            return Err(self.error(ParseErrorKind::ExpectingValue));
        }
        self.pos = start + len;
        match number::convert(&self.text[start..start + len]) {
            Some(Number::Int(v)) => Ok(Any::from(v)),
            Some(Number::Float(v)) => Ok(Any::from(v)),
            None => Err(self.error_at(start, ParseErrorKind::ExpectingValue)),
        }
    }

    /// A string, at its opening quote.
    fn string(&mut self) -> Result<Any> {
        let start = self.pos;
        let body = start + 1;
        // Fast path: no escapes and no control characters.
        let plain = find_stop(&self.text[body..]);
        match plain.map(|n| (body + n, self.text[body + n])) {
            Some((end, b'"')) => {
                self.pos = end + 1;
                self.text_any(&self.text[body..end])
            }
            Some((at, _)) => {
                self.scratch.clear();
                self.scratch.extend_from_slice(&self.text[body..at]);
                self.pos = at;
                self.escaped_string(start)
            }
            None => Err(self.error_at(start, ParseErrorKind::UnterminatedString)),
        }
    }

    fn text_any(&self, bytes: &[u8]) -> Result<Any> {
        // Bytes are kept as they are, like the reference (which checks no UTF-8 either).
        str_any_from_bytes(bytes).map_err(|_| self.error(ParseErrorKind::TooLarge))
    }

    /// The rest of a string with escapes, its start and the text before `pos` already in
    /// `scratch`.
    fn escaped_string(&mut self, start: usize) -> Result<Any> {
        while let Some(b) = self.peek() {
            match b {
                0..0x20 => return Err(self.error(ParseErrorKind::InvalidControlCharacter)),
                b'"' => {
                    self.pos += 1;
                    let scratch = core::mem::take(&mut self.scratch);
                    let any = self.text_any(&scratch);
                    self.scratch = scratch;
                    return any;
                }
                b'\\' => {
                    self.pos += 1;
                    self.escape()?;
                }
                _ => {
                    // Copy the run up to the next byte that needs a look.
                    let run =
                        find_stop(&self.text[self.pos..]).unwrap_or(self.text.len() - self.pos);
                    self.scratch.extend_from_slice(&self.text[self.pos..self.pos + run]);
                    self.pos += run;
                }
            }
        }
        Err(self.error_at(start, ParseErrorKind::UnterminatedString))
    }

    /// One escape, after its backslash.
    fn escape(&mut self) -> Result<()> {
        let simple = match self.peek() {
            Some(b'"') => b'"',
            Some(b'\\') => b'\\',
            Some(b'/') => b'/',
            Some(b'b') => 0x08,
            Some(b'f') => 0x0c,
            Some(b'n') => b'\n',
            Some(b'r') => b'\r',
            Some(b't') => b'\t',
            Some(b'u') => return self.unicode_escape(),
            _ => return Err(self.error(ParseErrorKind::InvalidEscape)),
        };
        self.pos += 1;
        self.scratch.push(simple);
        Ok(())
    }

    /// `\uXXXX`, or a surrogate pair of them, at the `u`, appended as UTF-8.
    fn unicode_escape(&mut self) -> Result<()> {
        let mut escape_at = self.pos;
        self.pos += 1;
        let Some(first) = self.hex4() else {
            return Err(self.error_at(escape_at, ParseErrorKind::InvalidUnicodeEscape));
        };
        let code_point = if (0xD800..=0xDFFF).contains(&first) {
            if first >= 0xDC00 || !self.match_literal(b"\\u") {
                return Err(self.error_at(escape_at, ParseErrorKind::InvalidSurrogatePair));
            }
            escape_at = self.pos;
            let Some(second) = self.hex4() else {
                return Err(self.error_at(escape_at, ParseErrorKind::InvalidUnicodeEscape));
            };
            if !(0xDC00..=0xDFFF).contains(&second) {
                return Err(self.error_at(escape_at, ParseErrorKind::InvalidSurrogatePair));
            }
            0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
        } else {
            first
        };
        // Surrogates were paired above, so this is a scalar value.
        let c = char::from_u32(code_point).unwrap_or(char::REPLACEMENT_CHARACTER);
        let mut utf8 = [0u8; 4];
        self.scratch.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
        Ok(())
    }

    /// Four hex digits, consumed; `None` if there are not four.
    fn hex4(&mut self) -> Option<u32> {
        let digits = self.text.get(self.pos..self.pos + 4)?;
        let mut v = 0u32;
        for &d in digits {
            v = v * 16 + char::from(d).to_digit(16)?;
        }
        self.pos += 4;
        Some(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_word_scan_finds_the_first_stop_byte() {
        let bytewise = |b: &[u8]| b.iter().position(|&c| is_stop(c));
        // Every byte value at every offset of a 20-byte run, after plain bytes and before
        // stop bytes of each kind (which must not hide it); Miri, a thousand times slower,
        // takes a sample.
        let step = if cfg!(miri) { 7 } else { 1 };
        for v in (0..=255u8).step_by(step) {
            for at in (0..20).step_by(step) {
                for after in [b'"', b'\\', 0x1f, b'a', 0x80, 0xff] {
                    let mut bytes = [b'x'; 24];
                    bytes[at] = v;
                    bytes[at + 1..].fill(after);
                    assert_eq!(
                        find_stop(&bytes),
                        bytewise(&bytes),
                        "{v:#x} at {at}, {after:#x} after"
                    );
                }
            }
        }
        // High bytes (UTF-8) around the thresholds, and borrows between neighbours.
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..if cfg!(miri) { 300 } else { 50_000 } {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 23) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|i| {
                    [
                        0x00, 0x1f, 0x20, 0x21, b'"', 0x23, 0x5b, b'\\', 0x5d, 0x7f, 0x80, 0xa2,
                        0xdc, 0xff,
                    ][((x >> (2 * i)) % 14) as usize]
                })
                .collect();
            assert_eq!(find_stop(&bytes), bytewise(&bytes), "{bytes:x?}");
        }
    }
}
