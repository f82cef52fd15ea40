//! Sets of object addresses, for cycle detection (hashbrown has no default hasher without
//! `std`; addresses need only a cheap mix).

use core::hash::{BuildHasherDefault, Hasher};

/// A set of addresses.
pub(crate) type AddressSet = hashbrown::HashSet<usize, BuildHasherDefault<AddressHasher>>;

/// Fibonacci hashing of one word: objects are 8-byte aligned, so the low bits carry
/// nothing and the multiply spreads the rest.
#[derive(Default)]
pub(crate) struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_usize(&mut self, v: usize) {
        self.0 = (self.0 ^ v as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}
