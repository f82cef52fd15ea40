//! [`Map`]: the reference's `ffi.Map` (`MapObj`), a map with value semantics: shared until
//! changed, then copied (copy-on-write).

use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::fmt;
use core::mem::ManuallyDrop;

use tvmffi_core::{
    Any, AnyView, ConversionError, FromAnyView, Object, ObjectRef, Payload, TypeIndex,
};

use super::custom::{self, any_equal, any_hash};
use super::dense::{self, Dense, Probe};
use super::hash::{Norm, same_bits};
use super::iter::{MapIntoIter, MapIter};
use super::layout::{Kv, MapFields, RawMap};
use super::small::{MAX_SLOTS, Small};
use super::table::{self, MapPayload, NeedKeyHash, Plan, raw};
use super::{DictObj, Key, MapError, internal};

/// The payload of an `ffi.Map` object: `MapBaseObj`'s fields, followed by the pairs (small
/// layout) or the dense fields.
///
/// Fields are private: use [`Map`]. The cell is changed in place only by the holder of the
/// sole reference (ours, or C++'s `Map::CopyOnWrite`), so never under a shared handle.
#[repr(C)]
pub struct MapCell {
    fields: UnsafeCell<MapFields>,
}

/// An `ffi.Map` object: the header, then [`MapCell`].
pub type MapObj = Object<MapCell>;

// SAFETY: keys and values are `Any`, which are `Send`; the pointers address storage the
// cell owns.
unsafe impl Send for MapCell {}
// SAFETY: shared references only read: a map is changed only through its sole reference.
unsafe impl Sync for MapCell {}

// SAFETY: `kTVMFFIMap` objects are `MapObj`: the header, then `MapBaseObj`'s fields, which
// is what `MapCell` is (`#[repr(C)]`, one field, `UnsafeCell` is transparent).
unsafe impl Payload for MapCell {
    const TYPE_KEY: &'static str = "ffi.Map";

    #[inline]
    fn is_instance(type_index: TypeIndex) -> bool {
        type_index == TypeIndex::MAP
    }
}

// SAFETY: one `UnsafeCell<MapFields>`, accepting only `kTVMFFIMap`.
unsafe impl MapPayload for MapCell {
    const TYPE_INDEX: TypeIndex = TypeIndex::MAP;

    fn new(fields: MapFields) -> Self {
        Self { fields: UnsafeCell::new(fields) }
    }
}

impl Drop for MapCell {
    fn drop(&mut self) {
        // SAFETY: the last reference is gone; the fields describe the map as its last
        // writer (we, or C++) left it.
        unsafe { table::destroy(self.fields.get_mut()) }
    }
}

/// `AnyEqual` of a key with a stored one, `stored_first` giving the order the layout
/// compares in; plain values compare by their bits, inline.
#[inline]
fn key_equal<'k>(key: &'k Norm<'k>) -> impl FnMut(&Any, bool) -> Result<bool, MapError> + 'k {
    let by_bits = key.compares_by_bits();
    move |stored: &Any, stored_first: bool| {
        if let Some(k) = by_bits {
            return Ok(same_bits(stored.as_raw(), k));
        }
        let s = Norm::of_any(stored);
        let r = if stored_first { any_equal(&s, key) } else { any_equal(key, &s) };
        r.map_err(MapError::Custom)
    }
}

/// The position of `key` in an unlocked map, running custom hashing and equality as needed;
/// `hash` caches the key's hash, computed only for a dense map.
#[inline]
pub(super) fn find_in(
    m: RawMap,
    key: &Norm<'_>,
    hash: &mut Option<u64>,
) -> Result<Option<u64>, MapError> {
    let mut eq = key_equal(key);
    if m.is_small() {
        return Small::load(m).find(|k| eq(k, true));
    }
    let h = match *hash {
        Some(h) => h,
        None => *hash.insert(any_hash(key)?),
    };
    Dense::load(m).search(h, |k| eq(k, false))
}

/// Insert into an unlocked map that nobody else uses; returns the replaced value.
pub(super) fn insert_into(m: RawMap, key: Any, value: Any) -> Result<Option<Any>, MapError> {
    let norm = Norm::of_any(&key);
    if !m.is_small() {
        // The reference's `TryInsert`: one walk of the key's chain finds it or the place
        // for it. Hashing and equality may run user code, before anything changes.
        let hash = any_hash(&norm)?;
        let mut d = Dense::load(m);
        let probe = {
            let mut eq = key_equal(&norm);
            d.probe(hash, |stored| eq(stored, false))?
        };
        match probe {
            Probe::Found(slot) => {
                let old = d.update(slot, value);
                d.store(m);
                return Ok(Some(old));
            }
            Probe::Absent(placement) => {
                d.commit(placement, Kv { key, value });
                d.store(m);
                return Ok(None);
            }
            Probe::Full => return grow_with(m, d, Kv { key, value }, hash),
        }
    }
    let mut key_hash = None;
    let found = find_in(m, &norm, &mut key_hash)?;
    let plan = match table::plan_insert(m, found, key_hash) {
        Ok(plan) => plan,
        Err(NeedKeyHash) => {
            key_hash = Some(any_hash(&norm)?);
            table::plan_insert(m, found, key_hash)
                .map_err(|_| internal("planned without a hash"))?
        }
    };
    let stored = if plan.needs_stored_hashes() {
        table::stored_hashes(m, |k: &Any| any_hash(&Norm::of_any(k)))?
    } else {
        Vec::new()
    };
    let kv = Kv { key, value };
    match table::commit_insert(m, plan, kv, key_hash, stored) {
        Ok(left) => Ok(left.old_value),
        Err((_, e)) => Err(e),
    }
}

/// Insert a new pair into a full dense table `d` (of `m`): rebuild it at twice the size
/// with the pair (`InsertMaybeReHash`). Out of line: once per doubling, and kept out of the
/// insertion path's registers.
#[inline(never)]
fn grow_with(m: RawMap, d: Dense, kv: Kv, hash: u64) -> Result<Option<Any>, MapError> {
    let kv = ManuallyDrop::new(kv);
    let stored_hash = |k: &Any| custom::hash_without_user_code(&Norm::of_any(k));
    // SAFETY: `kv` stays put during the call.
    match unsafe { d.grown_with(stored_hash, (hash, &raw const *kv)) } {
        Ok(Some(table)) => {
            // The table owns the pairs now, `kv`'s bits included (not dropped:
            // `ManuallyDrop`); the old blocks are freed without them.
            drop(d.into_old_buffer());
            table.store(m);
            Ok(None)
        }
        Err(e) => {
            drop(ManuallyDrop::into_inner(kv));
            Err(e)
        }
        // A stored key hashes through user code: hash every key first.
        Ok(None) => {
            let kv = ManuallyDrop::into_inner(kv);
            let stored = table::stored_hashes(m, |k: &Any| any_hash(&Norm::of_any(k)))?;
            match table::commit_insert(m, Plan::Rehash, kv, Some(hash), stored) {
                Ok(left) => Ok(left.old_value),
                Err((_, e)) => Err(e),
            }
        }
    }
}

/// Give the dense table of `m` room for `cap` pairs in one rebuild, rather than one per
/// doubling. A small table is left small: it keeps an updated key in its place where a
/// dense one moves it to the end, so sizing early would change the iteration order.
pub(super) fn reserve_dense(m: RawMap, cap: usize) -> Result<(), MapError> {
    if m.is_small() {
        return Ok(());
    }
    let d = Dense::load(m);
    let cap = u64::try_from(cap).map_err(|_| MapError::CapacityOverflow)?;
    let stored_hash = |k: &Any| custom::hash_without_user_code(&Norm::of_any(k));
    // `None`: large enough already, or a key hashes through user code (then the table
    // grows by doubling as it would have).
    if let Some(table) = d.resized_for(stored_hash, cap)? {
        drop(d.into_old_buffer());
        table.store(m);
    }
    Ok(())
}

/// An empty map object sized for `n` pairs as the reference's `CreateFromRange` sizes it:
/// small below 4, else a dense table.
pub(super) fn with_room<P: MapPayload>(n: usize) -> Result<ObjectRef<Object<P>>, MapError> {
    let n = u64::try_from(n).map_err(|_| MapError::CapacityOverflow)?;
    if n < MAX_SLOTS {
        return Ok(table::new_small::<P>(n));
    }
    let (shift, slots) = dense::table_size(n);
    Ok(table::new_dense::<P>(Dense::empty(shift, slots)?))
}

/// An `ffi.Map`: an immutable map from [`Any`] to [`Any`], shared by its clones.
///
/// Cloning shares the object; `==` compares identity, as the reference's `ObjectRef` does.
/// The changing methods take `&mut self` and copy the object first if anyone else holds it
/// (copy-on-write, the reference's `Map::CopyOnWrite`), so other handles never see a
/// change. Lookups take any [`Key`]; reading is borrowed ([`get`](Self::get),
/// [`iter`](Self::iter)).
///
/// Iteration follows insertion order; setting a key that is present keeps its place in a
/// small map and moves it to the end in a dense one (or in a full small map of 4, which
/// becomes dense), exactly as in the reference. A map held alone changes in place, growing
/// its object from small to dense as the reference's `Dict` does.
///
/// ```
/// use tvmffi_alloc::map::Map;
/// use tvmffi_alloc::String;
/// use tvmffi_core::{Any, TypeIndex};
///
/// # #[cfg(feature = "runtime")] { // maps hash objects through the runtime
/// let mut m = Map::new();
/// m.insert(String::from("one"), 1i64)?;
/// m.insert(2i64, String::from("two"))?;
/// let snapshot = m.clone(); // shares the object
/// m.insert(String::from("one"), 11i64)?; // copies it first
///
/// assert_eq!(m.get_as::<i64>("one")?, 11);
/// assert_eq!(snapshot.get_as::<i64>("one")?, 1);
/// assert!(m.get("three")?.is_none());
/// assert_eq!(m.at(2i64)?.as_str()?, "two");
///
/// let any = Any::from(m.clone());
/// assert_eq!(any.type_index(), TypeIndex::MAP);
/// let back: Map = any.get()?;
/// assert_eq!(back, m);
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Map {
    obj: ObjectRef<MapObj>,
}

impl Map {
    /// An empty map, small with room for 2 pairs, as the reference's `Map()`.
    pub fn new() -> Self {
        Self { obj: table::new_small(0) }
    }

    /// An empty map with room for `n` pairs: small below 4, else a dense table of the size
    /// the reference gives `n` pairs.
    pub fn with_capacity(n: usize) -> Result<Self, MapError> {
        Ok(Self { obj: with_room(n)? })
    }

    /// A map of `pairs` as the reference's `Map(first, last)` builds it: in order, a later
    /// pair replacing the value of an equal earlier key.
    pub fn try_from_iter<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Result<Self, MapError>
    where
        K: Into<Any>,
        V: Into<Any>,
    {
        let pairs: Vec<(Any, Any)> = pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        let map = Self::with_capacity(pairs.len())?;
        let m = map.raw();
        for (k, v) in pairs {
            insert_into(m, k, v)?;
        }
        Ok(map)
    }

    #[inline]
    fn raw(&self) -> RawMap {
        raw(&self.obj)
    }

    /// The number of pairs.
    #[inline]
    pub fn len(&self) -> usize {
        table::len(self.raw())
    }

    /// Whether there are no pairs.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the map uses the dense layout (more than 4 pairs, or made so).
    pub fn is_dense(&self) -> bool {
        !self.raw().is_small()
    }

    /// The value of `key`, borrowed; `None` if absent.
    ///
    /// Fails only when a key type's `__any_hash__` or `__any_equal__` fails.
    pub fn get<'k>(&self, key: impl Into<Key<'k>>) -> Result<Option<AnyView<'_>>, MapError> {
        let key = key.into();
        let m = self.raw();
        let kv = match key.plain() {
            Some(raw) => table::find_by_bits(m, raw),
            None => find_in(m, &key.norm(), &mut None)?.map(|p| table::pair(m, p)),
        };
        // SAFETY: a found pair stays unchanged while `self` is borrowed (no one changes a
        // shared map).
        Ok(kv.map(|kv| unsafe { (*kv).value.view() }))
    }

    /// The value of `key`, or [`MapError::KeyNotFound`] (the reference's `at`).
    pub fn at<'k>(&self, key: impl Into<Key<'k>>) -> Result<AnyView<'_>, MapError> {
        self.get(key)?.ok_or(MapError::KeyNotFound)
    }

    /// Run `f` on the `ffi.Map` that `view` holds, borrowed: no reference is taken, as the
    /// reference's built-ins take a `const MapObj*`. `None` when the view holds no map (an
    /// `ffi.Dict` included, which [`FromAnyView`] copies).
    #[inline]
    pub(crate) fn with_borrowed<R>(view: AnyView<'_>, f: impl FnOnce(&Map) -> R) -> Option<R> {
        if view.type_index() != TypeIndex::MAP {
            return None;
        }
        let obj = view.as_object_ptr()?.as_ptr().cast::<tvmffi_core::sys::TVMFFIObject>();
        // SAFETY: the view holds a live `ffi.Map` object for the call; the handle is never
        // dropped (`ManuallyDrop`), so it takes and releases no reference, and `f` only
        // borrows it (a clone through the borrow takes a reference of its own).
        let map = core::mem::ManuallyDrop::new(Self { obj: unsafe { ObjectRef::from_raw(obj) }? });
        Some(f(&map))
    }

    /// The value of `key` converted to `T`.
    pub fn get_as<'a, 'k, T: FromAnyView<'a>>(
        &'a self,
        key: impl Into<Key<'k>>,
    ) -> Result<T, MapError> {
        Ok(self.at(key)?.get::<T>()?)
    }

    /// Whether `key` is present (the reference's `count`).
    pub fn contains_key<'k>(&self, key: impl Into<Key<'k>>) -> Result<bool, MapError> {
        Ok(self.get(key)?.is_some())
    }

    /// The object to change: ours alone, copied first if shared (copy-on-write).
    fn make_unique(&mut self) -> Result<RawMap, MapError> {
        // One strong reference (ours) and no weak one that could be upgraded meanwhile: the
        // reference's `unique()`. Other handles may have read the map just before releasing
        // their references (a release decrement): the check's acquiring load orders those
        // reads before our writes, as `Arc::get_mut` does. A load, not a relaxed load and a
        // fence: ThreadSanitizer does not model fences and reports a race.
        if !self.obj.header().is_unique() {
            self.obj = table::copy::<MapCell>(self.raw())?;
        }
        Ok(self.raw())
    }

    /// Set `key` to `value` (the reference's `Set`), returning the value it replaces.
    pub fn insert(
        &mut self,
        key: impl Into<Any>,
        value: impl Into<Any>,
    ) -> Result<Option<Any>, MapError> {
        let m = self.make_unique()?;
        insert_into(m, key.into(), value.into())
    }

    /// Make room for `cap` pairs in a dense map (see [`reserve_dense`]).
    pub(crate) fn reserve_dense(&mut self, cap: usize) -> Result<(), MapError> {
        let m = self.make_unique()?;
        reserve_dense(m, cap)
    }

    /// Remove `key`, returning its value; `None` (and no copy) if it is absent.
    pub fn remove<'k>(&mut self, key: impl Into<Key<'k>>) -> Result<Option<Any>, MapError> {
        let key = key.into();
        let Some(pos) = find_in(self.raw(), &key.norm(), &mut None)? else { return Ok(None) };
        // A copy keeps every pair at its position.
        let m = self.make_unique()?;
        Ok(Some(table::erase(m, pos).value))
    }

    /// Drop every pair: the map becomes a new empty map (the reference's `clear`).
    pub fn clear(&mut self) {
        *self = Self::new();
    }

    /// The pairs, borrowed, in iteration order.
    pub fn iter(&self) -> MapIter<'_> {
        MapIter::new(self.raw(), self.len())
    }

    /// The keys, borrowed, in iteration order.
    pub fn keys(&self) -> impl Iterator<Item = AnyView<'_>> + '_ {
        self.iter().map(|(k, _)| k)
    }

    /// The values, borrowed, in iteration order.
    pub fn values(&self) -> impl Iterator<Item = AnyView<'_>> + '_ {
        self.iter().map(|(_, v)| v)
    }

    /// Whether both handles point to the same object (what `==` compares).
    #[inline]
    pub fn ptr_eq(&self, other: &Self) -> bool {
        self.obj.ptr_eq(&other.obj)
    }

    /// The object reference.
    #[inline]
    pub fn as_object(&self) -> &ObjectRef<MapObj> {
        &self.obj
    }

    /// The object reference, giving up the handle.
    #[inline]
    pub fn into_object(self) -> ObjectRef<MapObj> {
        self.obj
    }

    /// Wrap a map object reference.
    #[inline]
    pub fn from_object(obj: ObjectRef<MapObj>) -> Self {
        Self { obj }
    }
}

impl Default for Map {
    fn default() -> Self {
        Self::new()
    }
}

impl PartialEq for Map {
    /// Identity: the same object.
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.ptr_eq(other)
    }
}

impl Eq for Map {}

impl<K: Into<Any>, V: Into<Any>> FromIterator<(K, V)> for Map {
    /// As [`Map::try_from_iter`].
    ///
    /// # Panics
    ///
    /// Only where `try_from_iter` fails: when a key type's `__any_hash__` or `__any_equal__`
    /// fails, or the table outgrows the address space. Use `try_from_iter` for keys with
    /// such attributes.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        match Self::try_from_iter(iter) {
            Ok(map) => map,
            Err(e) => panic!("cannot build an ffi.Map: {e}"),
        }
    }
}

impl fmt::Debug for Map {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Map")?;
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for &'a Map {
    type Item = (AnyView<'a>, AnyView<'a>);
    type IntoIter = MapIter<'a>;

    fn into_iter(self) -> MapIter<'a> {
        self.iter()
    }
}

impl IntoIterator for Map {
    type Item = (Any, Any);
    type IntoIter = MapIntoIter;

    /// Owned copies of the pairs, in iteration order; the iterator keeps the map alive.
    fn into_iter(self) -> MapIntoIter {
        MapIntoIter::new(self)
    }
}

impl From<Map> for Any {
    #[inline]
    fn from(m: Map) -> Self {
        Any::from(m.obj)
    }
}

impl<'a> From<&'a Map> for AnyView<'a> {
    #[inline]
    fn from(m: &'a Map) -> Self {
        AnyView::from(&m.obj)
    }
}

/// An `ffi.Map` (shared), or a copy of an `ffi.Dict`'s pairs in a new map, as the
/// reference's `TypeTraits<Map<Any, Any>>::TryCastFromAnyView` converts
/// (`kOtherTypeIndex`); anything else is a mismatch. The copy keeps the dict's table, so
/// it holds the same pairs in the same order.
impl FromAnyView<'_> for Map {
    fn from_any_view(view: AnyView<'_>) -> Result<Self, ConversionError> {
        match view.type_index() {
            TypeIndex::MAP => view.get::<ObjectRef<MapObj>>().map(Self::from_object),
            TypeIndex::DICT => {
                let dict = view.get::<ObjectRef<DictObj>>()?;
                let copy = super::dict::locked_copy::<MapCell>(&dict);
                copy.map(Self::from_object).map_err(|_| {
                    ConversionError::new(
                        tvmffi_core::error::ConversionErrorKind::NeedsAllocator,
                        "Map<Any, Any>",
                        TypeIndex::DICT,
                    )
                })
            }
            other => Err(ConversionError::mismatch("Map<Any, Any>", other)),
        }
    }
}

impl TryFrom<Any> for Map {
    type Error = ConversionError;

    /// As [`FromAnyView`], keeping the value's reference for an `ffi.Map`.
    fn try_from(any: Any) -> Result<Self, ConversionError> {
        match any.into_object::<MapObj>() {
            Ok(obj) => Ok(Self::from_object(obj)),
            Err(any) => Self::from_any_view(any.view()),
        }
    }
}

// Hashing keys looks up `__any_hash__` through the C API, which the `runtime` feature provides.
#[cfg(all(test, feature = "runtime"))]
mod tests {
    use super::*;

    #[test]
    fn a_dense_table_reserved_once_takes_the_rest_without_doubling() {
        let mut map = Map::new();
        map.reserve_dense(300).unwrap();
        assert!(!map.is_dense(), "a small map stays small");
        for i in 0..5i64 {
            drop(map.insert(i, i).unwrap());
        }
        assert!(map.is_dense());
        let (_, slots) = dense::table_size(300);
        map.reserve_dense(300).unwrap();
        assert_eq!(map.raw().slots_raw(), slots);
        map.reserve_dense(10).unwrap();
        assert_eq!(map.raw().slots_raw(), slots, "never shrinks");
        for i in 5..300i64 {
            drop(map.insert(i, i).unwrap());
        }
        assert_eq!(map.raw().slots_raw(), slots);
        let order: Vec<i64> = map.iter().map(|(k, _)| k.get::<i64>().unwrap()).collect();
        assert_eq!(order, (0..300).collect::<Vec<_>>());
        assert!((0..300i64).all(|i| map.get(i).unwrap().and_then(|v| v.get().ok()) == Some(i)));
        assert!(matches!(map.reserve_dense(usize::MAX), Err(MapError::CapacityOverflow)));
    }
}
