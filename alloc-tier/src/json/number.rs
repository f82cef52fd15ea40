//! Numbers as the reference reads and writes them.
//!
//! Reading (`JSONParserContext::NextNumber` in `json_parser.cc`): the longest run of
//! `0-9 + - . e E` is one token; without `.`, `e` or `E` it is an `int` when it fits an
//! `int64_t` (`strtoimax`), otherwise a `float` (`strtod`). `strtod` refuses, through
//! `ERANGE`, results that overflow to infinity or underflow below the smallest normal
//! double, so those are errors, not infinities or subnormals. The C functions accept a
//! little more than RFC 8259 (`+1`, `01`, `1.`, `.5`); so do we, as the reference's own
//! output never needs it but its users' input may.
//!
//! Writing (`JSONWriter::WriteFloat` in `json_writer.cc`): an integral value below 2^53 in
//! magnitude as `%.1f` (`3.0`, `-0.0`), any other finite value as `%.17g`, enough digits to
//! read the same double back; `NaN`, `Infinity` and `-Infinity` for the rest.

use alloc::vec::Vec;
use core::fmt::Write as _;

/// A number token, converted as the reference converts it.
pub(super) enum Number {
    Int(i64),
    Float(f64),
}

/// Whether `b` can be part of a number token.
#[inline]
pub(super) fn is_number_byte(b: u8) -> bool {
    matches!(b, b'0'..=b'9' | b'+' | b'-' | b'.' | b'e' | b'E')
}

/// Convert a token of number bytes; `None` where `strtoimax`/`strtod` would not consume it
/// whole or `strtod` would report a range error.
pub(super) fn convert(token: &[u8]) -> Option<Number> {
    if let Some(v) = short_int(token) {
        return Some(Number::Int(v));
    }
    // The token is ASCII by construction.
    let text = core::str::from_utf8(token).ok()?;
    let maybe_int = !token.iter().any(|&b| matches!(b, b'.' | b'e' | b'E'));
    if maybe_int {
        // Rust's integer syntax on this alphabet is `strtoimax`'s: an optional sign, then
        // one or more digits; out-of-range values fall through to a double, as there.
        if let Ok(v) = text.parse::<i64>() {
            return Some(Number::Int(v));
        }
    }
    // On this alphabet Rust's float syntax is `strtod`'s decimal form: a sign, digits with
    // at most one point (at least one digit), and an optional exponent with digits.
    let v: f64 = text.parse().ok()?;
    if v.is_infinite() || (v != 0.0 && v.abs() < f64::MIN_POSITIVE) {
        return None;
    }
    if v == 0.0 && mantissa_has_nonzero_digit(token) {
        // Underflow to zero: `strtod` sets `ERANGE`.
        return None;
    }
    Some(Number::Float(v))
}

/// An optional sign and 1 to 18 digits, which fit an `i64` whatever they are: most
/// numbers in documents, read without the general parsers (which give the same value).
#[inline]
fn short_int(token: &[u8]) -> Option<i64> {
    let (negative, digits) = match token {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, token),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut v = 0i64;
    for &b in digits {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        v = v * 10 + i64::from(digit);
    }
    Some(if negative { -v } else { v })
}

fn mantissa_has_nonzero_digit(token: &[u8]) -> bool {
    token.iter().take_while(|&&b| !matches!(b, b'e' | b'E')).any(|&b| matches!(b, b'1'..=b'9'))
}

/// Append `v` as the reference writes a float.
pub(super) fn write_float(out: &mut Vec<u8>, v: f64) {
    if v.is_nan() {
        out.extend_from_slice(b"NaN");
    } else if v.is_infinite() {
        out.extend_from_slice(if v < 0.0 { b"-Infinity" } else { b"Infinity" });
    } else if v.abs() < 9_007_199_254_740_992.0 && (v as i64) as f64 == v {
        // `%.1f`: integral values keep a `.0`, so they read back as floats.
        let mut s = Buffer::default();
        let _ = write!(s, "{v:.1}");
        out.extend_from_slice(s.as_bytes());
    } else {
        write_g17(out, v);
    }
}

/// `printf("%.17g", v)` for a finite `v`: 17 significant digits, in fixed notation when
/// the decimal exponent is in `-4..17`, else scientific with a signed two-digit-or-more
/// exponent; trailing zeros (and a trailing point) dropped.
fn write_g17(out: &mut Vec<u8>, v: f64) {
    // Rust's `{:.16e}` rounds exactly, ties to even, as glibc's printf does.
    let mut s = Buffer::default();
    let _ = write!(s, "{v:.16e}");
    let text = s.as_bytes();
    let (negative, text) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let e_at = text.iter().position(|&b| b == b'e').unwrap_or(text.len());
    let (mantissa, exponent) = text.split_at(e_at);
    let exponent = parse_exponent(exponent.get(1..).unwrap_or_default());
    // The 17 significant digits, without the point.
    let mut digits = [0u8; 17];
    let mut n = 0;
    for &b in mantissa.iter().filter(|b| b.is_ascii_digit()) {
        if let Some(d) = digits.get_mut(n) {
            *d = b;
            n += 1;
        }
    }
    let digits = &digits[..n];
    if negative {
        out.push(b'-');
    }
    if (-4..17).contains(&exponent) {
        // Fixed: the point goes after digit `exponent` (leading zeros when negative).
        if exponent < 0 {
            out.extend_from_slice(b"0.");
            for _ in 0..(-exponent - 1) {
                out.push(b'0');
            }
            out.extend_from_slice(trim_zeros(digits));
        } else {
            let split = (exponent as usize + 1).min(digits.len());
            let (int_part, frac) = digits.split_at(split);
            out.extend_from_slice(int_part);
            let frac = trim_zeros(frac);
            if !frac.is_empty() {
                out.push(b'.');
                out.extend_from_slice(frac);
            }
        }
    } else {
        let (first, rest) = digits.split_first().map_or((b'0', &[][..]), |(f, r)| (*f, r));
        out.push(first);
        let rest = trim_zeros(rest);
        if !rest.is_empty() {
            out.push(b'.');
            out.extend_from_slice(rest);
        }
        out.push(b'e');
        out.push(if exponent < 0 { b'-' } else { b'+' });
        let magnitude = exponent.unsigned_abs();
        if magnitude < 10 {
            out.push(b'0');
        }
        let mut s = Buffer::default();
        let _ = write!(s, "{magnitude}");
        out.extend_from_slice(s.as_bytes());
    }
}

fn parse_exponent(text: &[u8]) -> i32 {
    let (negative, digits) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let magnitude = digits
        .iter()
        .fold(0i32, |acc, &d| acc.saturating_mul(10).saturating_add(i32::from(d - b'0')));
    if negative { -magnitude } else { magnitude }
}

fn trim_zeros(digits: &[u8]) -> &[u8] {
    let end = digits.iter().rposition(|&d| d != b'0').map_or(0, |i| i + 1);
    &digits[..end]
}

/// A small stack buffer for `core::fmt` output (a formatted double is at most 25 bytes).
struct Buffer {
    bytes: [u8; 40],
    len: usize,
}

impl Default for Buffer {
    fn default() -> Self {
        Self { bytes: [0; 40], len: 0 }
    }
}

impl Buffer {
    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl core::fmt::Write for Buffer {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let end = self.len.checked_add(s.len()).ok_or(core::fmt::Error)?;
        self.bytes.get_mut(self.len..end).ok_or(core::fmt::Error)?.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn float(v: f64) -> alloc::string::String {
        let mut out = Vec::new();
        write_float(&mut out, v);
        alloc::string::String::from_utf8(out).unwrap()
    }

    #[test]
    fn floats_are_written_as_the_reference_writes_them() {
        // Expected strings printed by the reference's `ffi.json.Stringify`.
        let cases: &[(f64, &str)] = &[
            (0.1, "0.10000000000000001"),
            (1.0, "1.0"),
            (-0.0, "-0.0"),
            (1e15, "1000000000000000.0"),
            (9007199254740992.0, "9007199254740992"),
            (9007199254740994.0, "9007199254740994"),
            (1e20, "1e+20"),
            (1e300, "1.0000000000000001e+300"),
            // 1 + 2^-17: its 18th significant digit is a 5, rounded to even.
            (1.0 + 1.0 / 131072.0, "1.0000076293945312"),
            (123.456, "123.456"),
            (1e-5, "1.0000000000000001e-05"),
            (1e-4, "0.0001"),
            (5e-324, "4.9406564584124654e-324"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "Infinity"),
            (f64::NEG_INFINITY, "-Infinity"),
            (1.0 / 3.0, "0.33333333333333331"),
            (100.5, "100.5"),
            (1e16, "10000000000000000"),
            (12345678.9, "12345678.9"),
            (-2.5e-7, "-2.4999999999999999e-07"),
            (-1.5, "-1.5"),
        ];
        for &(v, expected) in cases {
            assert_eq!(float(v), expected, "{v:e}");
        }
    }

    /// The short path gives what Rust's integer parser (`strtoimax` on this alphabet) gives.
    #[test]
    fn short_integers_read_as_the_general_parser_reads_them() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..if cfg!(miri) { 300 } else { 20_000 } {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 20) as usize;
            let token: alloc::string::String =
                (0..len).map(|i| b"0123456789+-"[((x >> (3 * i)) % 12) as usize] as char).collect();
            if let Some(v) = short_int(token.as_bytes()) {
                assert_eq!(token.parse::<i64>().ok(), Some(v), "{token}");
            }
        }
    }

    #[test]
    fn tokens_convert_as_strtoimax_and_strtod_do() {
        let int = |s: &str| match convert(s.as_bytes()) {
            Some(Number::Int(v)) => Some(v),
            _ => None,
        };
        let float = |s: &str| match convert(s.as_bytes()) {
            Some(Number::Float(v)) => Some(v),
            _ => None,
        };
        assert_eq!(int("01"), Some(1));
        assert_eq!(int("+1"), Some(1));
        assert_eq!(int("-0"), Some(0));
        assert_eq!(int("-9223372036854775808"), Some(i64::MIN));
        assert_eq!(float("9223372036854775808"), Some(9223372036854775808.0));
        assert_eq!(float("1."), Some(1.0));
        assert_eq!(float(".5"), Some(0.5));
        assert_eq!(float("-.5"), Some(-0.5));
        assert_eq!(float("1E+2"), Some(100.0));
        assert_eq!(float("2.2250738585072014e-308"), Some(f64::MIN_POSITIVE));
        assert!(float("-0.0").is_some_and(|v| v == 0.0 && v.is_sign_negative()));
        assert_eq!(float("0e-400"), Some(0.0));
        assert_eq!(int("999999999999999999"), Some(999_999_999_999_999_999));
        assert_eq!(int("-000000000000000007"), Some(-7));
        assert_eq!(int("1234567890123456789"), Some(1_234_567_890_123_456_789), "19 digits");
        assert_eq!(int("0000000000000000000000042"), Some(42), "25 digits");
        for bad in [
            "1e400", "1e-400", "5e-324", "2e-308", "-", "+", "--1", "+-1", "-+1", "1-2", "1+",
            "1e", "1e+", ".", "e5",
        ] {
            assert!(convert(bad.as_bytes()).is_none(), "{bad}");
        }
    }
}
