//! Operations on a map object of either layout, ours or C++'s, through [`RawMap`]: lookup,
//! the reference's `InsertMaybeReHash` (growth from small to larger small to dense, and
//! dense rebuilds), erase, clear, iteration, copy and destruction.
//!
//! Changes happen in place, as the reference's `Dict` makes them (`InplaceSwitchTo`): any
//! map object has room for the dense fields, so one object goes through every layout. The
//! reference's `Map` builds a new object instead; a unique `Map` here changes in place,
//! which holds the same pairs in the same slots and order.
//!
//! Hashing and equality may run user code (custom `__any_hash__` / `__any_equal__`), so
//! they happen before anything changes: an insertion is planned ([`plan_insert`]), the key
//! hashes the plan needs are computed ([`stored_hashes`]), and then it is carried out
//! ([`commit_insert`]), which cannot fail half way.

use alloc::vec::Vec;
use core::alloc::Layout;
use core::convert::Infallible;
use core::mem::{ManuallyDrop, align_of, size_of};

use tvmffi_core::sys::TVMFFIAny;
use tvmffi_core::{Any, Object, ObjectRef, Payload, TypeIndex};

use super::dense::{self, Dense, Placement};
use super::hash::{bits_hash, same_bits};
use super::layout::{BASE_SIZE, DENSE_SIZE, INVALID, Kv, MapFields, RawMap, SMALL_TAG};
use super::small::{MAX_SLOTS, MIN_SLOTS, Small};
use super::storage::OldBuffer;
use super::{MapError, internal};
use crate::heap;

/// The payload of one of the two map types; both are `MapFields` in an `UnsafeCell`.
///
/// # Safety
///
/// `Self` is `#[repr(C)]` with one field, `UnsafeCell<MapFields>`, and `is_instance`
/// accepts `TYPE_INDEX` only.
pub(crate) unsafe trait MapPayload: Payload + Sized {
    /// `kTVMFFIMap` or `kTVMFFIDict`.
    const TYPE_INDEX: TypeIndex;
    /// The payload holding `fields`.
    fn new(fields: MapFields) -> Self;
}

/// The object behind a reference.
#[inline]
pub(crate) fn raw<P: MapPayload>(obj: &ObjectRef<Object<P>>) -> RawMap {
    // SAFETY: a live map object (`MapPayload`), through a pointer covering its allocation.
    unsafe { RawMap::new(obj.as_raw().cast()) }
}

/// A new small map with room for `slots` pairs inline, 2 to 4 (`SmallMapBaseObj::Empty`).
pub(crate) fn new_small<P: MapPayload>(slots: u64) -> ObjectRef<Object<P>> {
    let slots = slots.clamp(MIN_SLOTS, MAX_SLOTS);
    let tail = match slots {
        2 => Layout::new::<[Kv; 2]>(),
        3 => Layout::new::<[Kv; 3]>(),
        _ => Layout::new::<[Kv; 4]>(),
    };
    let init = |tail: *mut u8| {
        P::new(MapFields {
            data: tail.cast(),
            size: 0,
            slots: slots | SMALL_TAG,
            data_deleter: None,
        })
    };
    // SAFETY: no pair is initialised and the size says so.
    unsafe { heap::new_object_with_tail(P::TYPE_INDEX, tail, init) }
}

/// The tail of a dense map object: the dense fields past `MapBaseObj` (some may sit in its
/// tail padding, see `layout`).
const DENSE_TAIL: Layout = match Layout::from_size_align(DENSE_SIZE - BASE_SIZE, align_of::<u64>())
{
    Ok(l) => l,
    Err(_) => panic!("the dense fields form a valid layout"),
};

/// A new dense map object holding `table`.
pub(crate) fn new_dense<P: MapPayload>(table: Dense) -> ObjectRef<Object<P>> {
    const { assert!(size_of::<Object<P>>() == BASE_SIZE) };
    let init = |_| {
        P::new(MapFields { data: core::ptr::null_mut(), size: 0, slots: 0, data_deleter: None })
    };
    // SAFETY: the dense fields in the tail are written below, before anyone reads them.
    let obj = unsafe { heap::new_object_with_tail(P::TYPE_INDEX, DENSE_TAIL, init) };
    // The dense fields may start in the payload's tail padding, so they are written after
    // the payload, field by field.
    table.store(raw(&obj));
    obj
}

/// The number of pairs.
#[inline]
pub(crate) fn len(m: RawMap) -> usize {
    m.size() as usize
}

/// Where a key was found.
pub(crate) enum Found {
    /// At this position (small index or dense slot).
    At(u64),
    /// Not in the map.
    Absent,
    /// The map is dense and the key's hash is needed to look.
    NeedHash,
}

/// Look a key up with `eq(stored_key, stored_first)`; the small layout compares
/// `(stored, key)` and the dense one `(key, stored)`, as the reference's do.
///
/// Generic over `eq`, so that the comparison (most often of 16 bytes) is inlined into the
/// probing loop.
#[inline]
pub(crate) fn find<E>(
    m: RawMap,
    hash: Option<u64>,
    mut eq: impl FnMut(&Any, bool) -> Result<bool, E>,
) -> Result<Found, E> {
    let at = if m.is_small() {
        Small::load(m).find(|k| eq(k, true))?
    } else {
        let Some(hash) = hash else { return Ok(Found::NeedHash) };
        Dense::load(m).search(hash, |k| eq(k, false))?
    };
    Ok(at.map_or(Found::Absent, Found::At))
}

/// The pair of a key that compares by its bits ([`Norm::compares_by_bits`]): no user code
/// runs and nothing can fail, so the lookup is one tight walk.
///
/// [`Norm::compares_by_bits`]: super::hash::Norm::compares_by_bits
#[inline]
pub(crate) fn find_by_bits(m: RawMap, key: &TVMFFIAny) -> Option<*mut Kv> {
    let eq = |stored: &Any| Ok::<_, Infallible>(same_bits(stored.as_raw(), key));
    if m.is_small() {
        let s = Small::load(m);
        let Ok(at) = s.find(eq);
        at.map(|i| s.pair(i))
    } else {
        let d = Dense::load(m);
        let Ok(at) = d.search(bits_hash(key), eq);
        // SAFETY: a found slot holds an item.
        at.map(|i| unsafe { &raw mut (*d.item(i)).kv })
    }
}

/// The pair at a position from [`find`] or the iteration functions.
#[inline]
pub(crate) fn pair(m: RawMap, pos: u64) -> *mut Kv {
    if m.is_small() {
        Small::load(m).pair(pos)
    } else {
        // SAFETY: a dense position holds an item.
        unsafe { &raw mut (*Dense::load(m).item(pos)).kv }
    }
}

/// The first position in iteration order.
pub(crate) fn first(m: RawMap) -> Option<u64> {
    if m.size() == 0 {
        return None;
    }
    if m.is_small() { Some(0) } else { Some(m.head()).filter(|&h| h != INVALID) }
}

/// The position after `pos` in iteration order.
pub(crate) fn next(m: RawMap, pos: u64) -> Option<u64> {
    if m.is_small() {
        Some(pos + 1).filter(|&p| p < m.size())
    } else {
        let d = Dense::load(m);
        // SAFETY: `pos` holds an item of the iteration list.
        let n = unsafe { (*d.item(pos)).next };
        Some(n).filter(|&n| n != INVALID && n < d.slots)
    }
}

/// The stored pairs of a map in iteration order with their keys' hashes: what a rebuild
/// inserts again. The pointers stay valid until the map changes, which only the
/// [`commit_insert`] they are made for does.
pub(crate) type Stored = Vec<(u64, *const Kv)>;

/// The stored pairs with their keys' hashes, for a rebuild, in one walk of the iteration
/// order (a walk of a large table misses the cache at every step), with room for the new
/// pair that the rebuild appends.
pub(crate) fn stored_hashes<E>(
    m: RawMap,
    mut hash: impl FnMut(&Any) -> Result<u64, E>,
) -> Result<Stored, E> {
    let mut out = Vec::with_capacity(len(m) + 1);
    if m.is_small() {
        let s = Small::load(m);
        for i in 0..s.size {
            let kv = s.pair(i).cast_const();
            // SAFETY: the first `size` pairs are initialised.
            out.push((hash(unsafe { &(*kv).key })?, kv));
        }
    } else {
        let d = Dense::load(m);
        for slot in d.order() {
            // SAFETY: slots of the iteration order hold items.
            let kv = unsafe { &raw const (*d.item(slot)).kv };
            // SAFETY: as above.
            out.push((hash(unsafe { &(*kv).key })?, kv));
        }
    }
    Ok(out)
}

/// What an insertion will do.
pub(crate) enum Plan {
    /// Replace the value of the small pair there.
    SetSmall(u64),
    /// Replace the value of the dense pair there, which moves to the end of the order.
    SetDense(u64),
    /// Append to the small pairs.
    Append,
    /// Move the small pairs to this many slots, then append.
    Grow(u64),
    /// A full small map of 4 becomes dense, even to update a key.
    ToDense(Option<u64>),
    /// Place a new pair in the dense table.
    Place(Placement),
    /// Rebuild the dense table at twice the size with the new pair.
    Rehash,
}

impl Plan {
    /// Whether the plan rebuilds a table from the stored keys' hashes.
    pub(crate) fn needs_stored_hashes(&self) -> bool {
        matches!(self, Self::ToDense(_) | Self::Rehash)
    }
}

/// The new key's hash is needed to plan its insertion.
#[derive(Debug)]
pub(crate) struct NeedKeyHash;

/// The plan for inserting a key found at `found` (its hash in `key_hash`, if computed).
pub(crate) fn plan_insert(
    m: RawMap,
    found: Option<u64>,
    key_hash: Option<u64>,
) -> Result<Plan, NeedKeyHash> {
    if m.is_small() {
        let s = Small::load(m);
        // A map built elsewhere with more slots is treated as full at 4 too.
        if s.slots >= MAX_SLOTS && s.size >= s.slots {
            return if found.is_none() && key_hash.is_none() {
                Err(NeedKeyHash)
            } else {
                Ok(Plan::ToDense(found))
            };
        }
        return Ok(match found {
            Some(i) => Plan::SetSmall(i),
            None if s.size < s.slots => Plan::Append,
            None => Plan::Grow(s.slots.saturating_mul(2).clamp(MIN_SLOTS, MAX_SLOTS)),
        });
    }
    if let Some(slot) = found {
        return Ok(Plan::SetDense(slot));
    }
    let hash = key_hash.ok_or(NeedKeyHash)?;
    Ok(Dense::load(m).plan(hash).map_or(Plan::Rehash, Plan::Place))
}

/// What an insertion leaves behind, to drop when convenient (for a `Dict`, after its lock).
#[derive(Default)]
pub(crate) struct Leftovers {
    /// The value replaced, if the key was present.
    pub old_value: Option<Any>,
    /// The key passed in, if an equal one was already stored (the stored one stays).
    pub unused_key: Option<Any>,
    /// Storage the map moved away from.
    pub buffer: Option<OldBuffer>,
}

/// Carry out `plan` for `kv`. `key_hash` is the new key's hash when the plan needed it;
/// `stored` the stored pairs and their hashes ([`stored_hashes`]) when
/// [`Plan::needs_stored_hashes`].
/// On error (a table too large to allocate) nothing changed and `kv` comes back.
pub(crate) fn commit_insert(
    m: RawMap,
    plan: Plan,
    kv: Kv,
    key_hash: Option<u64>,
    stored: Stored,
) -> Result<Leftovers, (Kv, MapError)> {
    if plan.needs_stored_hashes() && stored.len() != len(m) {
        return Err((kv, internal("a rebuild without every stored key's hash")));
    }
    let mut out = Leftovers::default();
    match plan {
        Plan::SetSmall(i) => {
            out.old_value = Some(Small::load(m).set_value(i, kv.value));
            out.unused_key = Some(kv.key);
        }
        Plan::SetDense(slot) => {
            let mut d = Dense::load(m);
            out.old_value = Some(d.update(slot, kv.value));
            out.unused_key = Some(kv.key);
            d.store(m);
        }
        Plan::Append => {
            let mut s = Small::load(m);
            s.append(kv);
            s.store(m);
        }
        Plan::Grow(slots) => {
            let mut s = Small::load(m);
            match s.grow(slots) {
                Ok(old) => out.buffer = old,
                Err(e) => return Err((kv, e)),
            }
            s.append(kv);
            s.store(m);
        }
        Plan::Place(placement) => {
            let mut d = Dense::load(m);
            d.commit(placement, kv);
            d.store(m);
        }
        Plan::ToDense(found) => return to_dense(m, found, kv, key_hash, stored),
        Plan::Rehash => {
            let d = Dense::load(m);
            let (shift, slots) = (d.fib_shift.wrapping_sub(1), d.slots.saturating_mul(2));
            let (table, leftovers) = build_with(stored, kv, key_hash, shift, slots)?;
            out = leftovers;
            // The pairs now live in `table`; the old blocks are freed without them.
            out.buffer = Some(d.into_old_buffer());
            table.store(m);
        }
    }
    Ok(out)
}

/// A full small map becomes a dense table built from its pairs in order (the reference's
/// `CreateFromRange` of them), then takes the new pair or the update.
fn to_dense(
    m: RawMap,
    found: Option<u64>,
    kv: Kv,
    key_hash: Option<u64>,
    sources: Stored,
) -> Result<Leftovers, (Kv, MapError)> {
    let mut s = Small::load(m);
    let (shift, slots) = dense::table_size(s.size);
    // SAFETY: the small pairs stay put during the build.
    let mut table = match unsafe { Dense::build(&sources, shift, slots) } {
        Ok(t) => t,
        Err(e) => return Err((kv, e)),
    };
    let mut out = Leftovers::default();
    match found {
        Some(i) => {
            let Some(slot) = table.order().nth(i as usize) else {
                drop(table.into_old_buffer()); // copies only: the small map still owns its pairs
                return Err((kv, internal("an updated pair missing from the rebuilt table")));
            };
            out.old_value = Some(table.update(slot, kv.value));
            out.unused_key = Some(kv.key);
        }
        None => match table.plan(key_hash.unwrap_or_default()) {
            Some(placement) => {
                table.commit(placement, kv);
            }
            None => {
                let (shift, slots) =
                    (table.fib_shift.wrapping_sub(1), table.slots.saturating_mul(2));
                drop(table.into_old_buffer());
                let (t, leftovers) = build_with(sources, kv, key_hash, shift, slots)?;
                (table, out) = (t, leftovers);
            }
        },
    }
    // The small pairs now live in the table: forget them, free their storage if separate.
    s.size = 0;
    out.buffer = s.into_old_buffer();
    table.store(m);
    Ok(out)
}

/// Build a table of `sources` followed by the new pair `kv`.
fn build_with(
    mut all: Vec<(u64, *const Kv)>,
    kv: Kv,
    key_hash: Option<u64>,
    shift: u32,
    slots: u64,
) -> Result<(Dense, Leftovers), (Kv, MapError)> {
    let kv = ManuallyDrop::new(kv);
    all.push((key_hash.unwrap_or_default(), &raw const *kv));
    // SAFETY: the sources and `kv` stay put during the build.
    match unsafe { Dense::build(&all, shift, slots) } {
        // The table owns the bits of `kv` now; `kv` is not dropped (`ManuallyDrop`).
        Ok(table) => Ok((table, Leftovers::default())),
        Err(e) => Err((ManuallyDrop::into_inner(kv), e)),
    }
}

/// Take the pair at `pos` out (`erase`).
pub(crate) fn erase(m: RawMap, pos: u64) -> Kv {
    if m.is_small() {
        let mut s = Small::load(m);
        let kv = s.remove(pos);
        s.store(m);
        kv
    } else {
        let mut d = Dense::load(m);
        let kv = d.erase(pos);
        d.store(m);
        kv
    }
}

/// Take every pair out, keeping the layout and storage (`clear`).
pub(crate) fn clear(m: RawMap) -> Vec<Kv> {
    if m.is_small() {
        let mut s = Small::load(m);
        let all = s.take_all();
        s.store(m);
        all
    } else {
        let mut d = Dense::load(m);
        let all = d.take_all();
        d.store(m);
        all
    }
}

/// A new map object of type `P` with clones of the pairs (`CopyFrom`): a small map gets
/// as many slots as pairs (at least 2), a dense one the same table.
pub(crate) fn copy<P: MapPayload>(m: RawMap) -> Result<ObjectRef<Object<P>>, MapError> {
    if m.is_small() {
        let s = Small::load(m);
        if s.size > MAX_SLOTS {
            return Err(MapError::CapacityOverflow); // no small map holds more than 4 pairs
        }
        let obj = new_small::<P>(s.size);
        let mut t = Small::load(raw(&obj));
        for i in 0..s.size {
            // SAFETY: pair `i < size` is initialised.
            let src = unsafe { &*s.pair(i) };
            t.append(Kv { key: src.key.clone(), value: src.value.clone() });
        }
        t.store(raw(&obj));
        Ok(obj)
    } else {
        Ok(new_dense::<P>(Dense::load(m).clone_table()?))
    }
}

/// Destroy the pairs and storage a map's fields describe, whichever layout and whoever
/// made it (`~SmallMapBaseObj`, `~DenseMapBaseObj`).
///
/// # Safety
///
/// The fields belong to a map whose last reference is gone.
pub(crate) unsafe fn destroy(fields: &mut MapFields) {
    if fields.slots & SMALL_TAG != 0 {
        Small::from_fields(fields).destroy();
    } else {
        let mut d = Dense {
            blocks: fields.data.cast(),
            size: fields.size,
            slots: fields.slots,
            deleter: fields.data_deleter,
            fib_shift: 0,
            head: INVALID,
            tail: INVALID,
        };
        d.drop_all();
        if !d.blocks.is_null() {
            drop(d.into_old_buffer());
        }
    }
    fields.data = core::ptr::null_mut();
    fields.size = 0;
    fields.data_deleter = None;
}
