//! [`BigInt`]: integers of any size, the reference's `tvm::ffi::BigInt` (`tvm/ffi/big_int.h`).
//!
//! A value that fits an `int64_t` is always a plain `int` (the ABI requires it); anything
//! else is a big-integer object (`BIG_INT` = 78): the header, a `size_t` word count, then
//! that many `int64_t` words right after the object (`sizeof(BigIntObj)`), least significant
//! first, two's complement, in native byte order. The words are minimal: no top word that
//! merely repeats the sign of the one below, but a sign word kept where the top bit would
//! otherwise give the wrong sign (`BigIntUnsafe::Normalize`). So every value has exactly one
//! representation, and equality compares words.

use core::alloc::Layout;
use core::cmp::Ordering;
use core::fmt;
use core::ptr::NonNull;

use tvmffi_core::error::ConversionErrorKind;
use tvmffi_core::{
    Any, AnyView, ConversionError, FromAnyView, Object, ObjectHeader, Payload, TypeIndex,
};

use crate::heap;

mod decimal;

/// Why a [`BigInt`] could not be made or converted.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum BigIntError {
    /// The byte content is not whole 64-bit words (`TVMFFIBigIntFromByteArray`'s
    /// `ValueError`).
    PartialWord {
        /// The byte length given.
        len: usize,
    },
    /// The value does not fit the requested integer type.
    OutOfRange,
    /// The text is not a decimal integer: an optional sign, then one or more ASCII digits.
    InvalidDecimal,
}

impl fmt::Display for BigIntError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PartialWord { len } => {
                write!(f, "BigInt content must contain whole 64-bit words, got {len} bytes")
            }
            Self::OutOfRange => f.write_str("BigInt value out of range for the target type"),
            Self::InvalidDecimal => f.write_str("invalid decimal string for BigInt"),
        }
    }
}

impl core::error::Error for BigIntError {}

/// The payload of a big-integer object: `BigIntObj::size_`, the word count. The words follow
/// the object.
#[repr(C)]
struct BigIntCell {
    size: usize,
}

// SAFETY: `BIG_INT` objects are laid out as the header then a `size_t` (`BigIntObj`), and no
// other payload claims the index.
unsafe impl Payload for BigIntCell {
    const TYPE_KEY: &'static str = "ffi.BigInt";

    #[inline]
    fn is_instance(type_index: TypeIndex) -> bool {
        type_index == TypeIndex::BIG_INT
    }
}

/// Where the words start: `sizeof(BigIntObj)`, as `reinterpret_cast<int64_t*>(obj + 1)`.
const WORDS_OFFSET: usize = size_of::<Object<BigIntCell>>();
/// Where the word count sits: right after the header.
const SIZE_OFFSET: usize = size_of::<ObjectHeader>();

/// An integer of any size with the reference's representation: an [`Any`] holding an `int`
/// when the value fits an `int64_t`, a big-integer object (`ffi.BigInt`) otherwise.
///
/// Cloning shares the object. Equality, ordering and hashing go by value.
///
/// ```
/// use tvmffi_alloc::BigInt;
/// use tvmffi_core::TypeIndex;
///
/// let small = BigInt::from(i64::MAX);
/// assert_eq!(small.as_any().type_index(), TypeIndex::INT); // never an object
/// let big = BigInt::from(i64::MAX as i128 + 1);
/// assert_eq!(big.as_any().type_index(), TypeIndex::BIG_INT);
/// assert_eq!(big.words(), &[i64::MIN, 0]); // a sign word keeps 2^63 positive
/// assert_eq!(big.to_string(), "9223372036854775808");
/// assert_eq!(big.to_i128(), Some(1 << 63));
/// assert_eq!("-170141183460469231731687303715884105729".parse::<BigInt>().unwrap().words().len(), 3);
/// ```
#[derive(Clone)]
pub struct BigInt {
    /// `INT`, or a `BIG_INT` object with at least two minimal words.
    any: Any,
}

impl BigInt {
    /// The integer these words describe (least significant first, two's complement, with any
    /// number of redundant sign words; empty is zero), minimised.
    ///
    /// # Panics
    ///
    /// Like `alloc`'s collections, when the object would exceed `isize::MAX` bytes.
    pub fn from_words(words: &[i64]) -> Self {
        Self::build(words.len(), |i| words[i])
    }

    /// The integer of the byte content `TVMFFIBigIntFromByteArray` takes: whole 64-bit words,
    /// least significant first, each in native byte order, two's complement. Redundant sign
    /// words are accepted; an empty slice is zero.
    ///
    /// Fails, without allocating, when the length is not a multiple of 8.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BigIntError> {
        if bytes.len() % 8 != 0 {
            return Err(BigIntError::PartialWord { len: bytes.len() });
        }
        let word = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&bytes[8 * i..8 * i + 8]);
            i64::from_ne_bytes(w)
        };
        Ok(Self::build(bytes.len() / 8, word))
    }

    /// Minimise the `len` words `word(i)` describes and store them: inline when one word
    /// remains, else in a new object.
    fn build(len: usize, word: impl Fn(usize) -> i64) -> Self {
        let mut n = len;
        while n > 1 && word(n - 1) == sign_word(word(n - 2)) {
            n -= 1;
        }
        if n <= 1 {
            return Self::from(if n == 1 { word(0) } else { 0 });
        }
        let tail = Layout::array::<i64>(n).unwrap_or_else(|_| too_large());
        let init = |tail: *mut u8| {
            let data = tail.cast::<i64>();
            for i in 0..n {
                // SAFETY: the tail holds `n` aligned `i64`s.
                unsafe { data.add(i).write(word(i)) };
            }
            BigIntCell { size: n }
        };
        // SAFETY: `init` writes all `n` words the count announces.
        let obj = unsafe { heap::new_object_with_tail(TypeIndex::BIG_INT, tail, init) };
        Self { any: Any::from(obj) }
    }

    /// The minimal words, least significant first: one for an `int`, two or more for an
    /// object.
    #[inline]
    pub fn words(&self) -> &[i64] {
        match self.any.as_object_ptr() {
            // SAFETY: `any` is a `BIG_INT` object (type invariant), alive while `self` is.
            Some(obj) => unsafe { object_words(obj) },
            // SAFETY: an `int` carries `v_int64`, borrowed from `self`.
            None => core::slice::from_ref(unsafe { &self.any.as_raw().value.v_int64 }),
        }
    }

    /// The words as the bytes `TVMFFIBigIntGetContentByteArray` gives: native byte order
    /// within each word, so not the same bytes on little- and big-endian hosts.
    #[inline]
    pub fn to_bytes(&self) -> &[u8] {
        let words = self.words();
        // SAFETY: the words are initialised plain integers; any byte of them may be read.
        unsafe { core::slice::from_raw_parts(words.as_ptr().cast::<u8>(), size_of_val(words)) }
    }

    /// Whether the value is below zero.
    #[inline]
    pub fn is_negative(&self) -> bool {
        self.top_word() < 0
    }

    /// -1, 0 or 1, as the sign of the value.
    pub fn signum(&self) -> i32 {
        match self.words() {
            [0] => 0,
            _ if self.is_negative() => -1,
            _ => 1,
        }
    }

    #[inline]
    fn top_word(&self) -> i64 {
        self.words().last().copied().unwrap_or(0)
    }

    /// The value as an `i64`, when it fits: exactly when it is held as an `int`.
    #[inline]
    pub fn to_i64(&self) -> Option<i64> {
        match *self.words() {
            [w] => Some(w),
            _ => None,
        }
    }

    /// The value as an `i128`, when it fits.
    pub fn to_i128(&self) -> Option<i128> {
        match *self.words() {
            [w] => Some(w.into()),
            [lo, hi] => Some((i128::from(hi) << 64) | i128::from(lo as u64)),
            _ => None,
        }
    }

    /// The value as a `u128`, when it fits.
    pub fn to_u128(&self) -> Option<u128> {
        match *self.words() {
            [w] => u128::try_from(w).ok(),
            [lo, hi] if hi >= 0 => Some((u128::from(hi as u64) << 64) | u128::from(lo as u64)),
            [lo, hi, 0] => Some((u128::from(hi as u64) << 64) | u128::from(lo as u64)),
            _ => None,
        }
    }

    /// The value.
    #[inline]
    pub fn as_any(&self) -> &Any {
        &self.any
    }

    /// The value, giving up the wrapper.
    #[inline]
    pub fn into_any(self) -> Any {
        self.any
    }

    /// A view of the value, borrowing `self`.
    #[inline]
    pub fn view(&self) -> AnyView<'_> {
        self.any.view()
    }

    /// Wrap an owned `int` or big-integer value after checking the object is minimal.
    fn from_owned(any: Any) -> Result<Self, ConversionError> {
        let actual = any.type_index();
        match any.as_object_ptr() {
            None if actual == TypeIndex::INT => Ok(Self { any }),
            // SAFETY: `any` holds a live object of that index, kept alive by `any`.
            Some(obj) if actual == TypeIndex::BIG_INT && unsafe { is_canonical(obj) } => {
                Ok(Self { any })
            }
            _ => Err(ConversionError::new(ConversionErrorKind::Malformed, EXPECTED, actual)),
        }
    }
}

const EXPECTED: &str = "BigInt";

/// The word that repeats the sign of `w`: what sign extension puts above it.
#[inline]
const fn sign_word(w: i64) -> i64 {
    w >> 63
}

#[cold]
#[inline(never)]
fn too_large() -> ! {
    panic!("BigInt too large to allocate")
}

/// The words of a big-integer object.
///
/// # Safety
///
/// `obj` points to a live `BIG_INT` object whose word count is valid (see
/// [`is_canonical`]); the result must not outlive it.
unsafe fn object_words<'a>(obj: NonNull<ObjectHeader>) -> &'a [i64] {
    let base = obj.cast::<u8>();
    // SAFETY: the count follows the header; the words follow the object (caller's promise).
    unsafe {
        let size = base.add(SIZE_OFFSET).cast::<usize>().read();
        core::slice::from_raw_parts(base.add(WORDS_OFFSET).cast::<i64>().as_ptr(), size)
    }
}

/// Whether a big-integer object made elsewhere keeps the ABI's rules: at least two words,
/// a plausible count, aligned words, and a top word that is not a redundant sign word.
///
/// # Safety
///
/// `obj` points to a live `BIG_INT` object.
unsafe fn is_canonical(obj: NonNull<ObjectHeader>) -> bool {
    // SAFETY: the count follows the header of every big-integer object.
    let size = unsafe { obj.cast::<u8>().add(SIZE_OFFSET).cast::<usize>().read() };
    let aligned = obj.as_ptr().cast::<u8>().wrapping_add(WORDS_OFFSET).cast::<i64>().is_aligned();
    if size < 2 || size > isize::MAX as usize / 8 - WORDS_OFFSET || !aligned {
        return false;
    }
    // SAFETY: the count is plausible, so the object holds that many words.
    let words = unsafe { object_words(obj) };
    words[size - 1] != sign_word(words[size - 2])
}

macro_rules! from_prim {
    ($($t:ty),*) => {$(
        impl From<$t> for BigInt {
            #[inline]
            fn from(v: $t) -> Self {
                Self::from(i64::from(v))
            }
        }
    )*};
}

from_prim!(i8, i16, i32, u8, u16, u32, bool);

impl From<i64> for BigInt {
    /// An `int`: never an object.
    #[inline]
    fn from(v: i64) -> Self {
        Self { any: Any::from(v) }
    }
}

impl From<isize> for BigInt {
    #[inline]
    fn from(v: isize) -> Self {
        // Pointers are at most 64 bits wide (the ABI supports no other targets).
        Self::from(v as i64)
    }
}

impl From<u64> for BigInt {
    #[inline]
    fn from(v: u64) -> Self {
        Self::from(u128::from(v))
    }
}

impl From<usize> for BigInt {
    #[inline]
    fn from(v: usize) -> Self {
        Self::from(v as u64)
    }
}

impl From<i128> for BigInt {
    #[inline]
    fn from(v: i128) -> Self {
        let words = [v as i64, (v >> 64) as i64];
        Self::build(2, |i| words[i])
    }
}

impl From<u128> for BigInt {
    #[inline]
    fn from(v: u128) -> Self {
        // The third word is the sign word that keeps values of 2^127 and above positive.
        let words = [v as i64, (v >> 64) as i64, 0];
        Self::build(3, |i| words[i])
    }
}

impl TryFrom<&BigInt> for i64 {
    type Error = BigIntError;

    #[inline]
    fn try_from(v: &BigInt) -> Result<Self, BigIntError> {
        v.to_i64().ok_or(BigIntError::OutOfRange)
    }
}

impl TryFrom<&BigInt> for i128 {
    type Error = BigIntError;

    #[inline]
    fn try_from(v: &BigInt) -> Result<Self, BigIntError> {
        v.to_i128().ok_or(BigIntError::OutOfRange)
    }
}

impl TryFrom<&BigInt> for u128 {
    type Error = BigIntError;

    #[inline]
    fn try_from(v: &BigInt) -> Result<Self, BigIntError> {
        v.to_u128().ok_or(BigIntError::OutOfRange)
    }
}

impl Default for BigInt {
    /// Zero.
    #[inline]
    fn default() -> Self {
        Self::from(0i64)
    }
}

impl PartialEq for BigInt {
    /// Minimal words make equal values equal word for word (`EqualFallback`).
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.words() == other.words()
    }
}

impl Eq for BigInt {}

impl PartialOrd for BigInt {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for BigInt {
    /// The reference's `CompareFallback`: signs first, then words from the top as unsigned,
    /// the shorter one sign-extended.
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, b) = (self.words(), other.words());
        match (self.is_negative(), other.is_negative()) {
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        let (sa, sb) = (sign_word(self.top_word()), sign_word(other.top_word()));
        for i in (0..a.len().max(b.len())).rev() {
            let x = a.get(i).copied().unwrap_or(sa) as u64;
            let y = b.get(i).copied().unwrap_or(sb) as u64;
            if x != y {
                return x.cmp(&y);
            }
        }
        Ordering::Equal
    }
}

impl core::hash::Hash for BigInt {
    #[inline]
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.words().hash(state)
    }
}

impl From<BigInt> for Any {
    #[inline]
    fn from(v: BigInt) -> Self {
        v.into_any()
    }
}

impl<'a> From<&'a BigInt> for AnyView<'a> {
    #[inline]
    fn from(v: &'a BigInt) -> Self {
        v.view()
    }
}

impl<'a> FromAnyView<'a> for BigInt {
    /// What the reference's `TypeTraits<BigInt>` accepts: an `int`, a big-integer object
    /// (shared, after checking it is minimal), or a `bool` (as 0 or 1).
    fn from_any_view(view: AnyView<'a>) -> Result<Self, ConversionError> {
        match view.type_index() {
            TypeIndex::INT | TypeIndex::BOOL => Ok(Self::from(i64::from_any_view(view)?)),
            TypeIndex::BIG_INT => Self::from_owned(view.to_owned()?),
            other => Err(ConversionError::mismatch(EXPECTED, other)),
        }
    }
}

impl TryFrom<Any> for BigInt {
    type Error = ConversionError;

    /// As [`FromAnyView`], moving an object's reference instead of adding one.
    fn try_from(any: Any) -> Result<Self, ConversionError> {
        match any.type_index() {
            TypeIndex::INT | TypeIndex::BIG_INT => Self::from_owned(any),
            _ => Self::from_any_view(any.view()),
        }
    }
}

impl fmt::Debug for BigInt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BigInt({self})")
    }
}

/// C++ mirror of `tvm::ffi::detail::BigIntObj`, for the layout table: `Object<BigIntCell>`
/// is the same `#[repr(C)]` sequence (asserted below). Its `size_` is private in C++, so the
/// table checks size and alignment only; the words start at `sizeof(BigIntObj)`.
#[repr(C)]
struct BigIntObj {
    header: ObjectHeader,
    size_: usize,
}

const _: () = {
    assert!(size_of::<Object<BigIntCell>>() == size_of::<BigIntObj>());
    assert!(align_of::<Object<BigIntCell>>() == align_of::<BigIntObj>());
    assert!(core::mem::offset_of!(BigIntObj, size_) == SIZE_OFFSET);
    // `make_inplace_array_object` requires the words to follow without padding.
    assert!(WORDS_OFFSET % align_of::<i64>() == 0);
};

tvmffi_core::c_layout! {
    /// Layout of the big-integer object against the reference's C++ class: 32 bytes on
    /// 64-bit and 32-bit Arm (the 4-byte count padded to the header's 8-byte alignment), 28
    /// on i686.
    pub const LAYOUTS = [
        BigIntObj as "tvm::ffi::detail::BigIntObj" {
            size: 32 / 32 / 28,
            align: align_of::<u64>(),
            fields: {},
        },
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_follow_the_object_as_in_cpp() {
        // `sizeof(BigIntObj)`: header and count, padded to the header's alignment.
        let expect =
            if cfg!(target_pointer_width = "64") || align_of::<u64>() == 8 { 32 } else { 28 };
        assert_eq!(WORDS_OFFSET, expect);
        assert_eq!(SIZE_OFFSET, 24);
    }

    #[test]
    fn sign_words() {
        assert_eq!(
            (sign_word(i64::MIN), sign_word(-1), sign_word(0), sign_word(i64::MAX)),
            (-1, -1, 0, 0)
        );
    }
}
