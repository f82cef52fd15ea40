//! Finding a key and planning where a new one goes, in one walk of its chain, without
//! changing the table: a plan is made whole before [`edit`](super::edit) moves anything.

use alloc::vec::Vec;

use tvmffi_core::Any;

use super::{Dense, JUMP_BITS, PROBE, TAIL_BIT};
use crate::map::layout::{EMPTY, INVALID};

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
    pub(super) from: u64,
    pub(super) to: u64,
    pub(super) jump: u8,
}

impl Dense {
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
    pub(super) fn prev_of(&self, i: u64) -> Option<u64> {
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
}
