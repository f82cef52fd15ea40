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

use alloc::vec::Vec;
use core::ptr;

use tvmffi_core::Any;

mod rebuild;

pub(crate) use rebuild::table_size;

use super::MapError;
use super::layout::{BLOCK_BYTES, BLOCK_CAP, EMPTY, INVALID, Item, Kv, PROTECTED, RawMap};
use super::storage::{self, Deleter, OldBuffer};

/// Jump distances (`kNextProbeLocation`): 0 ends a chain, then 1..=15, then triangular
/// numbers, which visit every slot of a power-of-two table.
const PROBE: [u64; 126] = [
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
    11,
    12,
    13,
    14,
    15,
    21,
    28,
    36,
    45,
    55,
    66,
    78,
    91,
    105,
    120,
    136,
    153,
    171,
    190,
    210,
    231,
    253,
    276,
    300,
    325,
    351,
    378,
    406,
    435,
    465,
    496,
    528,
    561,
    595,
    630,
    666,
    703,
    741,
    780,
    820,
    861,
    903,
    946,
    990,
    1035,
    1081,
    1128,
    1176,
    1225,
    1275,
    1326,
    1378,
    1431,
    1485,
    1540,
    1596,
    1653,
    1711,
    1770,
    1830,
    1891,
    1953,
    2016,
    2080,
    2145,
    2211,
    2278,
    2346,
    2415,
    2485,
    2556,
    2628,
    8515,
    19110,
    42778,
    96141,
    216153,
    486591,
    1092981,
    2458653,
    5532801,
    12442566,
    27993903,
    62983476,
    141717030,
    318844378,
    717352503,
    1614057336,
    3631522476,
    8170957530,
    18384510628,
    41364789378,
    93070452520,
    209408356380,
    471168559170,
    1060128894105,
    2385289465695,
    5366898840628,
    12075518705635,
    27169915244790,
    61132312065111,
    137547689707000,
    309482283181501,
    696335127828753,
    1566753995631385,
    3525196511162271,
    7931691992677701,
    17846306936293605,
    40154190677507445,
    90346928918121501,
    203280589587557251,
    457381325854679626,
    1029107982097042876,
    2315492959180353330,
    5209859154120846435,
];

/// Metadata bit of a chain tail; clear for a head.
const TAIL_BIT: u8 = 0x80;
/// Metadata bits of the jump code.
const JUMP_BITS: u8 = 0x7F;

/// Where a new pair goes; computed without changing the table.
pub(crate) enum Placement {
    /// Its home slot is empty: a new chain.
    Head(u64),
    /// After the chain's tail, which jumps there with `jump`.
    Tail { tail: u64, jump: u8, at: u64 },
    /// Its home slot holds another chain's member: that chain's part from `target` on moves
    /// (`moves`, in order, each linked from the one before, the first from `prev`), then the
    /// new pair heads a chain at `target`.
    Spare { prev: u64, target: u64, moves: Vec<Move> },
}

/// What one walk of a key's chain found ([`Dense::probe`]).
pub(crate) enum Probe {
    /// The key is at this slot.
    Found(u64),
    /// The key is absent and would go there.
    Absent(Placement),
    /// The key is absent and the table must grow first.
    Full,
}

/// One pair moved from `from` to `to`, reached from the slot before with `jump`.
pub(crate) struct Move {
    from: u64,
    to: u64,
    jump: u8,
}

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

    /// The slot holding `key`, walking its chain with `eq(stored_key)` (`Search`).
    #[inline]
    pub(crate) fn search<E>(
        &self,
        hash: u64,
        mut eq: impl FnMut(&Any) -> Result<bool, E>,
    ) -> Result<Option<u64>, E> {
        if self.size == 0 || self.slots == 0 {
            return Ok(None);
        }
        let mut i = self.home(hash);
        if self.meta(i) & TAIL_BIT != 0 {
            return Ok(None); // empty, protected or another chain's member: no chain here
        }
        // A chain is never longer than the table; the bound only guards foreign tables.
        for _ in 0..self.slots {
            // SAFETY: a chain member is an occupied slot with an initialised pair.
            if eq(unsafe { &(*self.item(i)).kv.key })? {
                return Ok(Some(i));
            }
            match self.next_in_chain(i) {
                Some(next) => i = next,
                None => break,
            }
        }
        Ok(None)
    }

    /// The first empty slot probed from `from`, with its jump code (`GetNextEmpty`), as
    /// the table stands after `moves` (planned, not yet made): a slot moved to is taken, one
    /// moved from is empty unless it is the protected `target`; the latest move wins.
    #[inline]
    fn next_empty(&self, from: u64, moves: &[Move], target: u64) -> Option<(u8, u64)> {
        (1..PROBE.len() as u8).find_map(|jump| {
            let c = self.wrap(from.wrapping_add(PROBE[usize::from(jump)]));
            let moved = moves.iter().rev().find_map(|m| {
                if m.from == c {
                    Some(c != target)
                } else if m.to == c {
                    Some(false)
                } else {
                    None
                }
            });
            moved.unwrap_or_else(|| self.meta(c) == EMPTY).then_some((jump, c))
        })
    }

    /// The chain member whose jump leads to `i` (`FindPrev`), found from the jump codes: in
    /// a consistent table exactly one occupied slot points at a chain's non-head member.
    fn prev_of(&self, i: u64) -> Option<u64> {
        (1..PROBE.len() as u8).find_map(|jump| {
            let back = PROBE[usize::from(jump)] % self.slots;
            let j = (i + self.slots - back) % self.slots;
            let meta = self.meta(j);
            (Self::occupied(meta) && meta & JUMP_BITS == jump).then_some(j)
        })
    }

    /// Where a key of `hash`, known to be absent, would go; `None` when the table must grow
    /// first.
    #[inline]
    pub(crate) fn plan(&self, hash: u64) -> Option<Placement> {
        let Ok(probe) = self.probe(hash, |_| Ok::<_, core::convert::Infallible>(false));
        match probe {
            Probe::Absent(placement) => Some(placement),
            Probe::Found(_) | Probe::Full => None,
        }
    }

    /// Look a key of `hash` up with `eq(stored_key)` and, if it is absent, plan where it
    /// goes, in one walk of its chain (`TryInsert`): the chain's last member is where a new
    /// pair is linked from. Inlined into its two callers, so that the plan's enum folds away.
    #[inline(always)]
    pub(crate) fn probe<E>(
        &self,
        hash: u64,
        mut eq: impl FnMut(&Any) -> Result<bool, E>,
    ) -> Result<Probe, E> {
        if self.slots == 0 {
            return Ok(Probe::Full);
        }
        let home = self.home(hash);
        let meta = self.meta(home);
        if meta == EMPTY {
            return Ok(Probe::Absent(Placement::Head(home)));
        }
        if meta & TAIL_BIT != 0 {
            // Another chain passes through the home slot: the key is absent.
            let spare = if self.is_full() { None } else { self.plan_spare(home) };
            return Ok(spare.map_or(Probe::Full, Probe::Absent));
        }
        let mut tail = home;
        // A chain is never longer than the table; the bound only guards foreign tables.
        for _ in 0..self.slots {
            // SAFETY: a chain member is an occupied slot with an initialised pair.
            if eq(unsafe { &(*self.item(tail)).kv.key })? {
                return Ok(Probe::Found(tail));
            }
            match self.next_in_chain(tail) {
                Some(next) => tail = next,
                None => break,
            }
        }
        if self.is_full() {
            return Ok(Probe::Full);
        }
        Ok(match self.next_empty(tail, &[], INVALID) {
            Some((jump, at)) => Probe::Absent(Placement::Tail { tail, jump, at }),
            None => Probe::Full,
        })
    }

    /// Plan moving the chain part from `target` on (`TrySpareListHead`): each member goes
    /// to the first empty slot probed from the one moved before it (from `target`'s
    /// predecessor for the first); `target` itself is protected from reuse meanwhile.
    #[inline(never)]
    fn plan_spare(&self, target: u64) -> Option<Placement> {
        let prev = self.prev_of(target)?;
        let mut moves = Vec::with_capacity(4);
        let (mut w, mut r) = (prev, target);
        for _ in 0..self.slots {
            let (jump, to) = self.next_empty(w, &moves, target)?;
            moves.push(Move { from: r, to, jump });
            w = to;
            match self.next_in_chain(r) {
                Some(next) => r = next,
                None => return Some(Placement::Spare { prev, target, moves }),
            }
        }
        None
    }

    /// Carry out a plan for a new pair, which then ends the iteration order; returns its
    /// slot.
    #[inline]
    pub(crate) fn commit(&mut self, placement: Placement, kv: Kv) -> u64 {
        let at = match placement {
            Placement::Head(at) => {
                self.set_meta(at, 0);
                at
            }
            Placement::Tail { tail, jump, at } => {
                self.set_meta(at, TAIL_BIT);
                self.set_jump(tail, jump);
                at
            }
            Placement::Spare { prev, target, moves } => self.spare(prev, target, moves),
        };
        // SAFETY: `at` is a free slot inside the table; its old bits were moved or never set.
        unsafe { ptr::write(&raw mut (*self.item(at)).kv, kv) };
        self.size += 1;
        self.push_back(at);
        at
    }

    /// Move a chain's part away from `target` as planned (`TrySpareListHead`), making
    /// `target` the head of a new chain; returns it. Rare, so out of the insertion path.
    #[inline(never)]
    fn spare(&mut self, prev: u64, target: u64, moves: Vec<Move>) -> u64 {
        let mut w = prev;
        for Move { from, to, jump } in moves {
            // SAFETY: `from` holds a pair and `to` is empty (the plan); the pair's bits
            // move, so it is owned once, at `to`.
            unsafe {
                ptr::copy_nonoverlapping(
                    &raw const (*self.item(from)).kv,
                    &raw mut (*self.item(to)).kv,
                    1,
                );
            }
            self.set_meta(to, TAIL_BIT);
            self.replace_node(from, to);
            self.set_meta(from, if from == target { PROTECTED } else { EMPTY });
            self.set_jump(w, jump);
            w = to;
        }
        self.set_meta(target, 0);
        target
    }

    /// Replace the value at `slot` and move the pair to the end of the iteration order, as
    /// the reference does when a key is set again; returns the old value.
    pub(crate) fn update(&mut self, slot: u64, value: Any) -> Any {
        // SAFETY: `slot` holds a pair.
        let old = unsafe { core::mem::replace(&mut (*self.item(slot)).kv.value, value) };
        self.unlink(slot);
        self.push_back(slot);
        old
    }

    /// Take the pair at `slot` out (`Erase`).
    pub(crate) fn erase(&mut self, slot: u64) -> Kv {
        self.size -= 1;
        let Some(mut last) = self.next_in_chain(slot) else {
            if self.meta(slot) & TAIL_BIT != 0 {
                if let Some(prev) = self.prev_of(slot) {
                    self.set_jump(prev, 0);
                }
            }
            self.unlink(slot);
            self.set_meta(slot, EMPTY);
            // SAFETY: the slot held a pair, now no longer counted by the table.
            return unsafe { ptr::read(&raw const (*self.item(slot)).kv) };
        };
        // The chain's last member fills the freed slot, keeping its place in the order.
        let mut prev = slot;
        for _ in 0..self.slots {
            match self.next_in_chain(last) {
                Some(next) => (prev, last) = (last, next),
                None => break,
            }
        }
        self.unlink(slot);
        // SAFETY: both slots hold pairs: `slot`'s is taken out, `last`'s bits move in.
        let kv = unsafe {
            let kv = ptr::read(&raw const (*self.item(slot)).kv);
            ptr::copy_nonoverlapping(
                &raw const (*self.item(last)).kv,
                &raw mut (*self.item(slot)).kv,
                1,
            );
            kv
        };
        self.replace_node(last, slot);
        self.set_meta(last, EMPTY);
        self.set_jump(prev, 0);
        kv
    }

    fn unlink(&mut self, i: u64) {
        // SAFETY: `i` and its neighbours in the list hold items.
        let (prev, next) = unsafe { ((*self.item(i)).prev, (*self.item(i)).next) };
        match prev {
            // SAFETY: as above.
            p if p != INVALID => unsafe { (*self.item(p)).next = next },
            _ => self.head = next,
        }
        match next {
            // SAFETY: as above.
            n if n != INVALID => unsafe { (*self.item(n)).prev = prev },
            _ => self.tail = prev,
        }
    }

    #[inline]
    fn push_back(&mut self, i: u64) {
        // SAFETY: `i` holds an item; the current tail, if any, too.
        unsafe {
            (*self.item(i)).prev = self.tail;
            (*self.item(i)).next = INVALID;
            if self.tail != INVALID {
                (*self.item(self.tail)).next = i;
            }
        }
        if self.head == INVALID {
            self.head = i;
        }
        self.tail = i;
    }

    /// `dst` takes `src`'s place in the iteration order (`IterListReplaceNodeBy`).
    fn replace_node(&mut self, src: u64, dst: u64) {
        // SAFETY: both slots and `src`'s neighbours hold items.
        unsafe {
            let (prev, next) = ((*self.item(src)).prev, (*self.item(src)).next);
            (*self.item(dst)).prev = prev;
            (*self.item(dst)).next = next;
            if prev == INVALID {
                self.head = dst;
            } else {
                (*self.item(prev)).next = dst;
            }
            if next == INVALID {
                self.tail = dst;
            } else {
                (*self.item(next)).prev = dst;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_table_is_the_reference_one() {
        assert_eq!(PROBE.len(), 126);
        // 16..=82 are consecutive triangular numbers, T(6)..=T(72).
        for (k, &d) in PROBE[16..83].iter().enumerate() {
            let n = k as u64 + 6;
            assert_eq!(d, n * (n + 1) / 2);
        }
        assert!(PROBE.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(PROBE[125], 5209859154120846435);
    }
}
