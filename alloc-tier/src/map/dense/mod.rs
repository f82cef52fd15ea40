//! The dense layout (`DenseMapBaseObj`): an open-addressing table of power-of-two size with
//! fibonacci hashing, chains linked through 7-bit jump codes in each slot's metadata byte,
//! and a doubly linked list through the items that keeps insertion order for iteration.
//!
//! Every step follows the reference, so a table we build or change holds each pair in the
//! very slot C++ would have used, and C++ inline code finds it by the same walk:
//!
//! - a key's chain starts at its home slot `(φ·hash) >> fib_shift`, which then holds a head
//!   (metadata `0b0jjjjjjj`); later chain members are tails (`0b1jjjjjjj`), each `jump`
//!   coding the distance to the next as [`PROBE`]`[jump]` (0 ends the chain);
//! - a new key takes its empty home slot; or, when another chain passes through that slot,
//!   that chain's part from there on moves away (`TrySpareListHead`); or it is appended
//!   after its chain's tail at the first empty probe position;
//! - a table more than 99% full, or with no empty probe position, is rebuilt at twice the
//!   size by inserting every pair again in iteration order (`InsertMaybeReHash`);
//! - updating a key moves it to the end of the iteration order; erasing moves the chain's
//!   last pair into the freed slot.
//!
//! Two deliberate differences, neither visible in the table: the predecessor of a slot is
//! found from the jump codes that point at it rather than by re-hashing its key (so no user
//! code runs while a table is half changed), and an insertion is planned before anything
//! moves, so a failed plan leaves the table untouched where the reference leaves a
//! half-moved chain to its rebuild.
//!
//! The work is split by what it does to a table: [`probe`] finds keys and plans insertions
//! without changing anything, [`edit`] carries plans out and erases, [`rebuild`] works on
//! whole tables, and [`jumps`] holds the reference's jump distances.

mod edit;
mod jumps;
mod probe;
mod rebuild;

pub(crate) use probe::{Placement, Probe};
pub(crate) use rebuild::table_size;

use self::jumps::PROBE;
use super::MapError;
use super::layout::{BLOCK_BYTES, BLOCK_CAP, EMPTY, INVALID, Item, Kv, PROTECTED, RawMap};
use super::storage::{self, Deleter, OldBuffer};

/// Metadata bit of a chain tail; clear for a head.
const TAIL_BIT: u8 = 0x80;
/// Metadata bits of the jump code.
const JUMP_BITS: u8 = 0x7F;

/// A dense table's state, loaded from an object's fields or built fresh.
pub(crate) struct Dense {
    pub blocks: *mut u8,
    pub size: u64,
    pub slots: u64,
    pub deleter: Option<Deleter>,
    pub fib_shift: u32,
    pub head: u64,
    pub tail: u64,
}

impl Dense {
    /// The table of a dense map object.
    pub(crate) fn load(m: RawMap) -> Self {
        Self {
            blocks: m.data().cast(),
            size: m.size(),
            slots: m.slots_raw(),
            deleter: m.deleter(),
            fib_shift: m.fib_shift(),
            head: m.head(),
            tail: m.tail(),
        }
    }

    /// Write the table into a map object, which becomes (or stays) dense.
    pub(crate) fn store(&self, m: RawMap) {
        m.set_data(self.blocks.cast());
        m.set_size(self.size);
        m.set_slots_raw(self.slots);
        m.set_deleter(self.deleter);
        m.set_fib_shift(self.fib_shift);
        m.set_head(self.head);
        m.set_tail(self.tail);
    }

    /// An empty table of `slots` slots (a power of two) in blocks of our own (`Empty`).
    pub(crate) fn empty(fib_shift: u32, slots: u64) -> Result<Self, MapError> {
        if slots == 0 || slots & (1 << 63) != 0 {
            return Err(MapError::CapacityOverflow);
        }
        Ok(Self {
            blocks: storage::alloc_blocks(slots)?.as_ptr(),
            size: 0,
            slots,
            deleter: Some(storage::DELETER),
            fib_shift,
            head: INVALID,
            tail: INVALID,
        })
    }

    /// Give up the blocks without dropping any pair in them (they were moved elsewhere).
    pub(crate) fn into_old_buffer(self) -> OldBuffer {
        // SAFETY: the deleter frees these blocks, whose pairs are no longer owned here.
        unsafe { OldBuffer::new(self.blocks.cast(), self.deleter) }
    }

    #[inline]
    fn meta_ptr(&self, i: u64) -> *mut u8 {
        let i = i as usize;
        self.blocks.wrapping_add(i / BLOCK_CAP as usize * BLOCK_BYTES + i % BLOCK_CAP as usize)
    }

    /// The item of slot `i < slots`.
    #[inline]
    pub(crate) fn item(&self, i: u64) -> *mut Item {
        let (i, cap) = (i as usize, BLOCK_CAP as usize);
        let offset = i / cap * BLOCK_BYTES + cap + i % cap * core::mem::size_of::<Item>();
        self.blocks.wrapping_add(offset).cast()
    }

    #[inline]
    pub(crate) fn meta(&self, i: u64) -> u8 {
        // SAFETY: `i < slots`, so the byte is inside the blocks, and metadata is always
        // initialised.
        unsafe { self.meta_ptr(i).read() }
    }

    #[inline]
    fn set_meta(&self, i: u64, meta: u8) {
        // SAFETY: as for `meta`.
        unsafe { self.meta_ptr(i).write(meta) }
    }

    #[inline]
    fn set_jump(&self, i: u64, jump: u8) {
        self.set_meta(i, (self.meta(i) & TAIL_BIT) | jump);
    }

    /// Whether a metadata byte marks a slot holding a pair.
    #[inline]
    pub(crate) fn occupied(meta: u8) -> bool {
        meta != EMPTY && meta != PROTECTED
    }

    /// The slot `jump` leads to from `i`; `None` for the end of a chain (or a jump code no
    /// table uses).
    #[inline]
    fn step(&self, i: u64, jump: u8) -> Option<u64> {
        let d = PROBE.get(usize::from(jump)).copied().unwrap_or(0);
        (d != 0).then(|| self.wrap(i.wrapping_add(d)))
    }

    /// `i` modulo the table size: a mask for the power-of-two tables everyone builds (a
    /// division costs tens of cycles on the probing path), a division for foreign ones.
    #[inline]
    fn wrap(&self, i: u64) -> u64 {
        if self.slots & self.slots.wrapping_sub(1) == 0 {
            i & self.slots.wrapping_sub(1)
        } else {
            i % self.slots
        }
    }

    /// The next member of `i`'s chain.
    #[inline]
    fn next_in_chain(&self, i: u64) -> Option<u64> {
        self.step(i, self.meta(i) & JUMP_BITS)
    }

    /// The home slot of `hash` (`FibHash`); `slots > 0`.
    #[inline]
    fn home(&self, hash: u64) -> u64 {
        let i = 11_400_714_819_323_198_485u64.wrapping_mul(hash).checked_shr(self.fib_shift);
        // Only an inconsistent shift from foreign code lands outside; stay in bounds.
        match i {
            Some(i) if i < self.slots => i,
            _ => i.unwrap_or(0) % self.slots,
        }
    }

    /// Whether one more pair would pass the 0.99 load factor (`IsFull`), in the
    /// reference's floating-point arithmetic.
    #[inline]
    fn is_full(&self) -> bool {
        (self.size + 1) as f64 > self.slots as f64 * 0.99
    }
}
