//! `BigInt` against the reference's `BigIntObj`: minimal words, `int` whenever it fits, and
//! the byte format of `TVMFFIBigIntFromByteArray`.

use core::str::FromStr;
use std::collections::HashSet;

use tvmffi_alloc::big_int::{BigIntError, LAYOUTS};
use tvmffi_alloc::{BigInt, heap};
use tvmffi_core::error::ConversionErrorKind;
use tvmffi_core::sys::TVMFFIObject;
use tvmffi_core::{Any, AnyView, FromAnyView, Payload, TypeIndex};

const P63: i128 = 1 << 63;
const P64: i128 = 1 << 64;

/// The word count an object stores (`BigIntObj::size_`, right after the header).
fn stored_size(v: &BigInt) -> usize {
    let obj = v.as_any().as_object_ptr().expect("an object");
    // SAFETY: a live big-integer object: the header, then its word count.
    unsafe { obj.cast::<u8>().add(size_of::<TVMFFIObject>()).cast::<usize>().read() }
}

#[test]
fn values_that_fit_int64_are_ints() {
    for v in [0i128, 1, -1, i64::MAX as i128, i64::MIN as i128] {
        let b = BigInt::from(v);
        assert_eq!(b.as_any().type_index(), TypeIndex::INT, "{v}");
        assert_eq!(b.as_any().get::<i64>(), Ok(v as i64));
        assert_eq!(b.words(), &[v as i64]);
        assert_eq!(b.to_i64(), Some(v as i64));
    }
    assert_eq!(BigInt::from(u64::MAX >> 1).as_any().type_index(), TypeIndex::INT);
    assert_eq!(BigInt::from(true).to_i64(), Some(1));
    assert_eq!(BigInt::from(-5i8), BigInt::from(-5i128));
}

#[test]
fn words_are_minimal_at_every_boundary() {
    let cases: &[(i128, &[i64])] = &[
        (P63, &[i64::MIN, 0]),       // 2^63 needs a sign word to stay positive
        (-P63 - 1, &[i64::MAX, -1]), // -2^63 - 1 needs one to stay negative
        (P64 - 1, &[-1, 0]),         // u64::MAX
        (P64, &[0, 1]),              // 2^64: the sign word is not needed
        (-P64, &[0, -1]),
        (-P64 - 1, &[-1, -2]),
        (i128::MAX, &[-1, i64::MAX]), // 2^127 - 1
        (i128::MIN, &[0, i64::MIN]),  // -2^127
    ];
    for &(v, words) in cases {
        let b = BigInt::from(v);
        assert_eq!(b.as_any().type_index(), TypeIndex::BIG_INT, "{v}");
        assert_eq!(b.words(), words, "{v}");
        assert_eq!(stored_size(&b), words.len());
        assert_eq!(b.to_i128(), Some(v));
        assert_eq!(b.to_i64(), None);
    }
    // 2^127 and above need a third word.
    let p127 = BigInt::from(1u128 << 127);
    assert_eq!(p127.words(), &[0, i64::MIN, 0]);
    assert_eq!(p127.to_i128(), None);
    assert_eq!(p127.to_u128(), Some(1 << 127));
    assert_eq!(BigInt::from(u128::MAX).words(), &[-1, -1, 0]);
    let below = BigInt::from_str("-170141183460469231731687303715884105729").unwrap(); // -2^127-1
    assert_eq!(below.words(), &[-1, i64::MAX, -1]);
    assert_eq!(BigInt::from(u64::MAX).words(), &[-1, 0]);
}

#[test]
fn from_words_drops_redundant_sign_words_only() {
    let cases: &[(&[i64], &[i64])] = &[
        (&[], &[0]),
        (&[5, 0, 0], &[5]),
        (&[-1, -1, -1], &[-1]),
        (&[i64::MIN, -1], &[i64::MIN]),
        (&[i64::MIN, 0, 0, 0], &[i64::MIN, 0]),
        (&[0, -1, -1], &[0, -1]),
        (&[7, 0, 3, 0, 0], &[7, 0, 3]),
        (&[-1, i64::MAX, 0], &[-1, i64::MAX]),
    ];
    for &(input, expect) in cases {
        let b = BigInt::from_words(input);
        assert_eq!(b.words(), expect, "{input:?}");
        let kind = if expect.len() == 1 { TypeIndex::INT } else { TypeIndex::BIG_INT };
        assert_eq!(b.as_any().type_index(), kind);
    }
}

#[test]
fn byte_format_is_native_words_least_significant_first() {
    let b = BigInt::from(P64 + 2); // words [2, 1]
    let expect: Vec<u8> = [2u64.to_ne_bytes(), 1u64.to_ne_bytes()].concat();
    assert_eq!(b.to_bytes(), expect.as_slice());
    assert_eq!(BigInt::from_bytes(&expect).unwrap(), b);
    // An `int` gives its one word.
    assert_eq!(BigInt::from(-2i64).to_bytes(), (-2i64).to_ne_bytes());
    // Redundant sign words are accepted, and the result is minimised.
    let padded: Vec<u8> = [5i64, 0, 0].iter().flat_map(|w| w.to_ne_bytes()).collect();
    let five = BigInt::from_bytes(&padded).unwrap();
    assert_eq!(five.as_any().type_index(), TypeIndex::INT);
    assert_eq!(five.to_i64(), Some(5));
    assert_eq!(BigInt::from_bytes(&[]).unwrap(), BigInt::default());
    // Only whole words, as `TVMFFIBigIntFromByteArray` demands.
    assert_eq!(BigInt::from_bytes(&[0; 7]).unwrap_err(), BigIntError::PartialWord { len: 7 });
    assert_eq!(BigInt::from_bytes(&[1; 17]).unwrap_err(), BigIntError::PartialWord { len: 17 });
    assert!(BigIntError::PartialWord { len: 7 }.to_string().contains("whole 64-bit words"));
}

#[test]
fn native_byte_order_differs_between_hosts() {
    // 1 as the first byte on little-endian hosts, as the eighth on big-endian ones.
    let one = BigInt::from(1i64);
    let expect = if cfg!(target_endian = "little") {
        [1, 0, 0, 0, 0, 0, 0, 0]
    } else {
        [0, 0, 0, 0, 0, 0, 0, 1]
    };
    assert_eq!(one.to_bytes(), expect);
}

#[test]
fn conversions_to_primitives_check_range() {
    assert_eq!(i128::try_from(&BigInt::from(i128::MIN)), Ok(i128::MIN));
    assert_eq!(i128::try_from(&BigInt::from(1u128 << 127)), Err(BigIntError::OutOfRange));
    assert_eq!(i64::try_from(&BigInt::from(P63)), Err(BigIntError::OutOfRange));
    assert_eq!(u128::try_from(&BigInt::from(u128::MAX)), Ok(u128::MAX));
    assert_eq!(u128::try_from(&BigInt::from(-1i64)), Err(BigIntError::OutOfRange));
    assert_eq!(BigInt::from(-P64).to_u128(), None);
    assert_eq!(BigInt::from(P64 + 5).to_u128(), Some((P64 + 5) as u128));
    let huge = BigInt::from_str("340282366920938463463374607431768211456").unwrap(); // 2^128
    assert_eq!(huge.words(), &[0, 0, 1]);
    assert_eq!((huge.to_i128(), huge.to_u128()), (None, None));
}

#[test]
fn decimal_text_round_trips() {
    let cases = [
        "0",
        "-1",
        "9223372036854775807",
        "9223372036854775808",
        "-9223372036854775808",
        "-9223372036854775809",
        "10000000000000000000",
        "9999999999999999999",
        "18446744073709551616",
        "-170141183460469231731687303715884105728",
        "340282366920938463463374607431768211455",
        "1606938044258990275541962092341162602522202993782792835301376",
        "-100000000000000000000000000000000000000000000000000000000000000000000000001",
    ];
    for text in cases {
        let v = BigInt::from_str(text).unwrap();
        assert_eq!(v.to_string(), text);
        assert_eq!(format!("{v:?}"), format!("BigInt({text})"));
    }
    let p200 = BigInt::from_str(cases[11]).unwrap();
    assert_eq!(p200.words(), &[0, 0, 0, 256]);
    assert_eq!(BigInt::from(i128::MIN).to_string(), i128::MIN.to_string());
    assert_eq!(BigInt::from(u128::MAX).to_string(), u128::MAX.to_string());
    assert_eq!(format!("{:>25}", BigInt::from(P64)), format!("{:>25}", P64));
    assert_eq!(format!("{:+}", BigInt::from(P64)), format!("{:+}", P64));
    assert_eq!(format!("{:+}", BigInt::from(3i64)), "+3");
}

#[test]
fn decimal_parsing_follows_the_reference_syntax() {
    assert_eq!(BigInt::from_str("+42").unwrap().to_i64(), Some(42));
    assert_eq!(BigInt::from_str("-0").unwrap(), BigInt::default());
    let padded = BigInt::from_str("00000000000000000000000000000000000001").unwrap();
    assert_eq!(padded.as_any().type_index(), TypeIndex::INT);
    for bad in ["", "-", "+", "12a", " 1", "1 ", "--1", "0x10", "１"] {
        assert_eq!(BigInt::from_str(bad).unwrap_err(), BigIntError::InvalidDecimal, "{bad:?}");
    }
}

#[test]
fn order_equality_and_hash_go_by_value() {
    let mut values: Vec<BigInt> =
        [P64, -P64, 0, i128::MAX, i128::MIN, -1, P63, -P63, -P63 - 1, 5].map(BigInt::from).into();
    values.push(BigInt::from(u128::MAX));
    values.push(BigInt::from_str("-340282366920938463463374607431768211456").unwrap());
    values.sort();
    let text: Vec<String> = values.iter().map(ToString::to_string).collect();
    let mut expect = vec![
        "-340282366920938463463374607431768211456".to_string(),
        i128::MIN.to_string(),
        (-P64).to_string(),
        (-P63 - 1).to_string(),
        (-P63).to_string(),
        "-1".into(),
        "0".into(),
        "5".into(),
        P63.to_string(),
        P64.to_string(),
        i128::MAX.to_string(),
        u128::MAX.to_string(),
    ];
    assert_eq!(text, expect);
    expect.dedup();
    let set: HashSet<BigInt> = values.iter().cloned().chain(values.iter().cloned()).collect();
    assert_eq!(set.len(), expect.len());
    assert_eq!(BigInt::from(P64), BigInt::from_str(&P64.to_string()).unwrap());
    assert_ne!(BigInt::from(P64), BigInt::from(-P64));
    assert_eq!(
        [BigInt::from(-P64).signum(), BigInt::default().signum(), BigInt::from(P64).signum()],
        [-1, 0, 1]
    );
}

#[test]
fn any_conversions_follow_the_reference_type_traits() {
    let big = BigInt::from(P64);
    let view = AnyView::from(&big);
    assert_eq!(view.type_index(), TypeIndex::BIG_INT);
    let shared = BigInt::from_any_view(view).unwrap();
    assert_eq!(shared.as_any().as_object_ptr(), big.as_any().as_object_ptr());
    assert_eq!(BigInt::from_any_view(AnyView::from(true)).unwrap().to_i64(), Some(1));
    assert_eq!(BigInt::from_any_view(AnyView::from(-9i64)).unwrap().to_i64(), Some(-9));
    for view in [AnyView::from(1.0), AnyView::NONE, AnyView::from(c"1")] {
        assert_eq!(BigInt::from_any_view(view).unwrap_err().kind(), ConversionErrorKind::Mismatch);
    }
    drop(shared);
    let any = Any::from(big.clone());
    let moved = BigInt::try_from(any).unwrap();
    assert_eq!(moved, big);
    let obj = big.as_any().as_object_ptr().unwrap();
    // SAFETY: alive through `big`.
    assert_eq!(unsafe { obj.as_ref() }.strong_count(), 2);
    assert_eq!(BigInt::try_from(Any::from(false)).unwrap(), BigInt::default());
}

/// A big-integer object made elsewhere, possibly breaking the ABI's rules.
#[repr(C)]
struct ForeignBigInt {
    size: usize,
}
// SAFETY: test payload with the `BigIntObj` layout; `BIG_INT` only.
unsafe impl Payload for ForeignBigInt {
    const TYPE_KEY: &'static str = "test.ForeignBigInt";
    fn is_instance(t: TypeIndex) -> bool {
        t == TypeIndex::BIG_INT
    }
}

fn foreign(words: &[i64], size: usize) -> Any {
    let init = |tail: *mut u8| {
        for (i, &w) in words.iter().enumerate() {
            // SAFETY: the tail holds `words.len()` aligned words.
            unsafe { tail.cast::<i64>().add(i).write(w) };
        }
        ForeignBigInt { size }
    };
    let tail = core::alloc::Layout::array::<i64>(words.len()).unwrap();
    // SAFETY: `init` writes every word of the tail.
    Any::from(unsafe { heap::new_object_with_tail(TypeIndex::BIG_INT, tail, init) })
}

#[test]
fn objects_made_elsewhere_are_checked_for_minimality() {
    let ok = foreign(&[0, 1], 2);
    assert_eq!(ok.get::<BigInt>().unwrap().to_i128(), Some(P64));
    for (words, size) in
        [(&[5i64, 0][..], 2), (&[3, -1, -1], 3), (&[7], 1), (&[0, 1], 0), (&[0, 1], usize::MAX)]
    {
        let bad = foreign(words, size);
        assert_eq!(bad.get::<BigInt>().unwrap_err().kind(), ConversionErrorKind::Malformed);
        assert_eq!(BigInt::try_from(bad).unwrap_err().kind(), ConversionErrorKind::Malformed);
    }
}

#[test]
fn layout_table_names_the_cpp_class() {
    assert_eq!(LAYOUTS[0].c_name, "tvm::ffi::detail::BigIntObj");
    let expect = if cfg!(target_pointer_width = "64") || align_of::<u64>() == 8 { 32 } else { 28 };
    assert_eq!(LAYOUTS[0].size, expect);
    // The words follow the object: `reinterpret_cast<int64_t*>(obj + 1)`.
    let b = BigInt::from(P64);
    let obj = b.as_any().as_object_ptr().unwrap().as_ptr() as usize;
    assert_eq!(b.words().as_ptr() as usize, obj + expect);
}
