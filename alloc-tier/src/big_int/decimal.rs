//! Decimal text for [`BigInt`]: `Display` and `FromStr` with the reference's syntax
//! (`operator<<` and `operator>>` in `big_int.h`: an optional sign, then digits), and the
//! sign-and-magnitude helpers they need.

use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;

use super::{BigInt, BigIntError};

/// The largest power of ten in a `u64`, and its exponent: 19 decimal digits per chunk.
const CHUNK: u64 = 10_000_000_000_000_000_000;
const CHUNK_DIGITS: usize = 19;

/// Divide the magnitude by `CHUNK` in place, returning the remainder.
fn div_rem_chunk(mag: &mut [u64]) -> u64 {
    let mut rem = 0u64;
    for w in mag.iter_mut().rev() {
        let cur = (u128::from(rem) << 64) | u128::from(*w);
        // The quotient fits a word because `rem < CHUNK`.
        *w = (cur / u128::from(CHUNK)) as u64;
        rem = (cur % u128::from(CHUNK)) as u64;
    }
    rem
}

impl fmt::Display for BigInt {
    /// Decimal, with `-` for negative values; width, fill and `+` flags apply as for the
    /// primitive integers.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(v) = self.to_i64() {
            return fmt::Display::fmt(&v, f);
        }
        let (mut mag, negative) = self.magnitude();
        let mut chunks = Vec::new();
        while mag.iter().any(|&w| w != 0) {
            chunks.push(div_rem_chunk(&mut mag));
            while mag.last() == Some(&0) {
                mag.pop();
            }
        }
        let mut digits = alloc::string::String::with_capacity(chunks.len() * CHUNK_DIGITS);
        let mut chunks = chunks.iter().rev();
        if let Some(top) = chunks.next() {
            fmt::Write::write_fmt(&mut digits, format_args!("{top}"))?;
        }
        for c in chunks {
            fmt::Write::write_fmt(&mut digits, format_args!("{c:019}"))?;
        }
        f.pad_integral(!negative, "", &digits)
    }
}

impl FromStr for BigInt {
    type Err = BigIntError;

    /// A decimal integer: an optional `+` or `-`, then one or more ASCII digits, nothing
    /// else (the reference's JSON reader demands the same).
    fn from_str(s: &str) -> Result<Self, BigIntError> {
        let (negative, digits) = match s.as_bytes() {
            [b'-', rest @ ..] => (true, rest),
            [b'+', rest @ ..] => (false, rest),
            rest => (false, rest),
        };
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return Err(BigIntError::InvalidDecimal);
        }
        let mut mag: Vec<u64> = Vec::new();
        // Left to right, a chunk of up to 19 digits at a time: mag = mag * 10^k + chunk.
        let first = digits.len() % CHUNK_DIGITS;
        let heads = (first > 0).then(|| &digits[..first]);
        for chunk in heads.into_iter().chain(digits[first..].chunks(CHUNK_DIGITS)) {
            let value = chunk.iter().fold(0u64, |acc, &d| acc * 10 + u64::from(d - b'0'));
            let scale = 10u64.pow(chunk.len() as u32);
            let mut carry = u128::from(value);
            for w in mag.iter_mut() {
                let cur = u128::from(*w) * u128::from(scale) + carry;
                *w = cur as u64;
                carry = cur >> 64;
            }
            if carry != 0 {
                mag.push(carry as u64);
            }
        }
        Ok(Self::from_magnitude(mag, negative))
    }
}

/// The two's-complement negation of `words` in place (`~x + 1`).
fn negate(words: &mut [u64]) {
    let mut carry = true;
    for w in words {
        let (v, c) = (!*w).overflowing_add(u64::from(carry));
        *w = v;
        carry = c;
    }
}

impl BigInt {
    /// The magnitude as unsigned words, least significant first, and the sign.
    fn magnitude(&self) -> (Vec<u64>, bool) {
        let mut mag: Vec<u64> = self.words().iter().map(|&w| w as u64).collect();
        let negative = self.is_negative();
        if negative {
            // |x| <= 2^(64n - 1) fits the same number of unsigned words.
            negate(&mut mag);
        }
        (mag, negative)
    }

    /// The integer of a sign and an unsigned magnitude.
    fn from_magnitude(mut mag: Vec<u64>, negative: bool) -> Self {
        // A zero word on top keeps the magnitude positive before an eventual negation.
        mag.push(0);
        if negative {
            negate(&mut mag);
        }
        Self::build(mag.len(), |i| mag[i] as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negation_carries_across_words() {
        let mut w = [0u64, 0, 1];
        negate(&mut w);
        assert_eq!(w, [0, 0, u64::MAX]);
        let mut w = [u64::MAX, u64::MAX];
        negate(&mut w);
        assert_eq!(w, [1, 0]);
    }
}
