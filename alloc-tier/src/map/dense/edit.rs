//! Changing a dense table: carrying out an insertion's plan, updating and erasing pairs,
//! and keeping the doubly linked iteration order through the items.

use alloc::vec::Vec;
use core::ptr;

use tvmffi_core::Any;

use super::probe::{Move, Placement};
use super::{Dense, Kv, TAIL_BIT};
use crate::map::layout::{EMPTY, INVALID, PROTECTED};

impl Dense {
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
