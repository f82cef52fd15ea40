//! [`Dict`]: the reference's `ffi.Dict` (`DictObj`), a mutable map shared by all its
//! holders.

use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::fmt;

use spin::{Mutex, MutexGuard};
use tvmffi_core::{
    Any, AnyView, ConversionError, FromAnyView, Object, ObjectRef, Payload, TypeIndex,
};

use super::custom::{self, any_equal, any_hash};
use super::hash::{Bits, Norm, bits, builtin_equal, same_bits};
use super::immutable::{insert_into, reserve_dense, with_room};
use super::iter::DictIter;
use super::layout::{Kv, MapFields, RawMap};
use super::table::{self, Found, MapPayload, raw};
use super::{Key, MapError, MapObj, internal};

/// The payload of an `ffi.Dict` object: the same fields as [`MapCell`](super::MapCell).
///
/// Fields are private: use [`Dict`]. Every holder, in Rust or C++, may change the cell.
#[repr(C)]
pub struct DictCell {
    fields: UnsafeCell<MapFields>,
}

/// An `ffi.Dict` object: the header, then [`DictCell`].
pub type DictObj = Object<DictCell>;

// SAFETY: keys and values are `Any`, which are `Send`; the storage belongs to the cell.
unsafe impl Send for DictCell {}
// SAFETY: every Rust access to the cell and its storage goes through `Dict::lock` (a spin
// lock chosen by the object's address), except `Drop`, which has the object to itself.
// Concurrent C++ changes are a race in the reference too.
unsafe impl Sync for DictCell {}

// SAFETY: `kTVMFFIDict` objects are `DictObj`, laid out as `MapBaseObj` (`dict.h` asserts
// it), which is what `DictCell` is (`#[repr(C)]`, one field, `UnsafeCell` is transparent).
unsafe impl Payload for DictCell {
    const TYPE_KEY: &'static str = "ffi.Dict";

    #[inline]
    fn is_instance(type_index: TypeIndex) -> bool {
        type_index == TypeIndex::DICT
    }
}

// SAFETY: one `UnsafeCell<MapFields>`, accepting only `kTVMFFIDict`.
unsafe impl MapPayload for DictCell {
    const TYPE_INDEX: TypeIndex = TypeIndex::DICT;

    fn new(fields: MapFields) -> Self {
        Self { fields: UnsafeCell::new(fields) }
    }
}

impl Drop for DictCell {
    fn drop(&mut self) {
        // SAFETY: the last reference is gone; the fields describe the map as its last
        // writer left it.
        unsafe { table::destroy(self.fields.get_mut()) }
    }
}

/// Locks for Rust access to dicts, picked by object address.
static LOCKS: [Mutex<()>; 16] = [const { Mutex::new(()) }; 16];

fn lock(obj: &ObjectRef<DictObj>) -> MutexGuard<'static, ()> {
    LOCKS[(obj.as_raw() as usize >> 6) % LOCKS.len()].lock()
}

/// A new map object of type `P` with the dict's pairs, copied under its lock.
pub(super) fn locked_copy<P: MapPayload>(
    dict: &ObjectRef<DictObj>,
) -> Result<ObjectRef<Object<P>>, MapError> {
    let _guard = lock(dict);
    table::copy::<P>(raw(dict))
}

/// What an operation under the lock needs from outside it: user code (custom hashing and
/// equality) never runs under the lock, where it could take the same lock again.
enum Need {
    /// The key's hash (the map is dense and the key's type has `__any_hash__`).
    KeyHash,
    /// Custom equality of the key with these stored keys (and which side is the stored).
    Candidates(Vec<(Any, bool)>),
    /// Custom hashes of these stored keys, for a rebuild.
    StoredHashes(Vec<Any>),
}

/// What user code outside the lock found out, for the next attempt. The stored keys it
/// compared or hashed are kept alive, so their addresses cannot be reused meanwhile.
#[derive(Default)]
struct Outside {
    key_hash: Option<u64>,
    equal: Option<Any>,
    unequal: Vec<Any>,
    hashes: Vec<(Bits, u64)>,
    hashed: Vec<Any>,
}

impl Outside {
    fn resolve(&mut self, key: &Norm<'_>, candidates: Vec<(Any, bool)>) -> Result<(), MapError> {
        for (stored, stored_first) in candidates {
            let s = Norm::of_any(&stored);
            let eq = if stored_first { any_equal(&s, key) } else { any_equal(key, &s) }?;
            if eq {
                self.equal = Some(stored);
                return Ok(());
            }
            self.unequal.push(stored);
        }
        Ok(())
    }

    fn hash_all(&mut self, keys: Vec<Any>) -> Result<(), MapError> {
        for k in keys {
            let h = any_hash(&Norm::of_any(&k))?;
            let b = bits(k.as_raw());
            if let Err(at) = self.hashes.binary_search_by_key(&b, |e| e.0) {
                self.hashes.insert(at, (b, h));
            }
            self.hashed.push(k);
        }
        Ok(())
    }

    fn cached_hash(&self, k: &Any) -> Option<u64> {
        let b = bits(k.as_raw());
        self.hashes.binary_search_by_key(&b, |e| e.0).ok().map(|i| self.hashes[i].1)
    }
}

/// The position of `key` under the lock, with what `out` knows about custom equality;
/// `custom_eq` says whether the key's type has `__any_equal__`.
fn locate(m: RawMap, key: &Norm<'_>, custom_eq: bool, out: &Outside) -> Result<Option<u64>, Need> {
    let mut pending = Vec::new();
    let by_bits = key.compares_by_bits();
    let mut eq = |stored: &Any, stored_first: bool| {
        if let Some(k) = by_bits {
            return Ok(same_bits(stored.as_raw(), k));
        }
        let s = Norm::of_any(stored);
        let r = match builtin_equal(key, &s) {
            Some(eq) => eq,
            None if !custom_eq => false,
            None if out.equal.as_ref().is_some_and(|e| same_bits(e.as_raw(), stored.as_raw())) => {
                true
            }
            None => {
                if !out.unequal.iter().any(|u| same_bits(u.as_raw(), stored.as_raw())) {
                    pending.push((stored.clone(), stored_first));
                }
                false
            }
        };
        Ok::<_, core::convert::Infallible>(r)
    };
    let Ok(found) = table::find(m, out.key_hash, &mut eq);
    match found {
        Found::At(p) => Ok(Some(p)),
        Found::Absent if pending.is_empty() => Ok(None),
        Found::Absent => Err(Need::Candidates(pending)),
        Found::NeedHash => Err(Need::KeyHash),
    }
}

/// The stored keys' hashes for a rebuild, under the lock: custom ones must be in `out`.
fn stored_hashes(m: RawMap, out: &Outside) -> Result<table::Stored, Need> {
    let mut missing = Vec::new();
    let Ok(hashes) = table::stored_hashes(m, |k: &Any| {
        let h = custom::hash_without_user_code(&Norm::of_any(k)).or_else(|| out.cached_hash(k));
        Ok::<_, core::convert::Infallible>(h.unwrap_or_else(|| {
            missing.push(k.clone());
            0
        }))
    });
    if missing.is_empty() { Ok(hashes) } else { Err(Need::StoredHashes(missing)) }
}

/// An `ffi.Dict`: a mutable map from [`Any`] to [`Any`], shared by every holder.
///
/// As with the reference's `Dict`, a change made through any handle (a clone here, a C++
/// `Dict<K, V>`, Python) is seen by all, so the changing methods take `&self`, and reads
/// return owned copies (objects gain a reference): another holder may change the map at any
/// time. [`iter`](Self::iter) iterates over a snapshot.
///
/// Rust access is serialised by a lock per object (one of a few spin locks picked by its
/// address); C++ takes no lock, and must not change a dict while another thread uses it,
/// as in the reference. Custom `__any_hash__` / `__any_equal__` functions and destructors
/// of replaced or removed entries run outside the lock.
///
/// ```
/// use tvmffi_alloc::map::Dict;
/// use tvmffi_alloc::String;
///
/// # #[cfg(feature = "runtime")] { // maps hash objects through the runtime
/// let d = Dict::new();
/// let alias = d.clone(); // the same dict
/// d.insert(String::from("a"), 1i64)?;
/// alias.insert(String::from("b"), 2i64)?;
/// assert_eq!(d.len(), 2);
/// assert_eq!(d.get_as::<i64>("b")?, 2);
/// assert_eq!(alias.remove("a")?.unwrap().get::<i64>()?, 1);
/// let keys: Vec<_> = d.iter().map(|(k, _)| k.as_str().unwrap().to_owned()).collect();
/// assert_eq!(keys, ["b"]);
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Dict {
    obj: ObjectRef<DictObj>,
}

impl Dict {
    /// An empty dict, small with room for 2 pairs, as the reference's `Dict()`.
    pub fn new() -> Self {
        Self { obj: table::new_small(0) }
    }

    /// An empty dict with room for `n` pairs, sized as [`Map::with_capacity`](super::Map::with_capacity).
    pub fn with_capacity(n: usize) -> Result<Self, MapError> {
        Ok(Self { obj: with_room(n)? })
    }

    /// A dict of `pairs`, built as the reference's `Dict(first, last)`.
    pub fn try_from_iter<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Result<Self, MapError>
    where
        K: Into<Any>,
        V: Into<Any>,
    {
        let pairs: Vec<(Any, Any)> = pairs.into_iter().map(|(k, v)| (k.into(), v.into())).collect();
        let dict = Self::with_capacity(pairs.len())?;
        // Not shared yet: no lock needed.
        let m = raw(&dict.obj);
        for (k, v) in pairs {
            insert_into(m, k, v)?;
        }
        Ok(dict)
    }

    /// Run `op` under the lock with the key's position, running what needs user code
    /// outside the lock and trying again until nothing is missing.
    fn run<R>(
        &self,
        key: &Norm<'_>,
        mut op: impl FnMut(RawMap, Option<u64>, &Outside) -> Result<R, Need>,
    ) -> Result<R, MapError> {
        let custom_eq = key.object_type().is_some_and(custom::has_custom_equal);
        let mut out =
            Outside { key_hash: custom::hash_without_user_code(key), ..Outside::default() };
        loop {
            let step = {
                let _guard = lock(&self.obj);
                let m = raw(&self.obj);
                locate(m, key, custom_eq, &out).and_then(|found| op(m, found, &out))
            };
            match step {
                Ok(r) => return Ok(r),
                Err(Need::KeyHash) => out.key_hash = Some(any_hash(key)?),
                Err(Need::Candidates(c)) => out.resolve(key, c)?,
                Err(Need::StoredHashes(keys)) => out.hash_all(keys)?,
            }
        }
    }

    /// The number of pairs (a snapshot).
    pub fn len(&self) -> usize {
        let _guard = lock(&self.obj);
        table::len(raw(&self.obj))
    }

    /// Whether there are no pairs (a snapshot).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the dict uses the dense layout (a snapshot).
    pub fn is_dense(&self) -> bool {
        let _guard = lock(&self.obj);
        !raw(&self.obj).is_small()
    }

    /// Make room for `cap` pairs in a dense dict (see `immutable::reserve_dense`).
    pub(crate) fn reserve_dense(&self, cap: usize) -> Result<(), MapError> {
        let _guard = lock(&self.obj);
        reserve_dense(raw(&self.obj), cap)
    }

    /// An owned copy of the value of `key`; `None` if absent.
    pub fn get<'k>(&self, key: impl Into<Key<'k>>) -> Result<Option<Any>, MapError> {
        let key = key.into();
        self.run(&key.norm(), |m, found, _| {
            // SAFETY: a found position holds a pair; cloning only adds a reference.
            Ok(found.map(|p| unsafe { (*table::pair(m, p)).value.clone() }))
        })
    }

    /// The value of `key`, or [`MapError::KeyNotFound`] (the reference's `at`).
    pub fn at<'k>(&self, key: impl Into<Key<'k>>) -> Result<Any, MapError> {
        self.get(key)?.ok_or(MapError::KeyNotFound)
    }

    /// The value of `key` converted to `T`; `T` must not borrow, since the value is a copy.
    pub fn get_as<'k, T: for<'a> FromAnyView<'a>>(
        &self,
        key: impl Into<Key<'k>>,
    ) -> Result<T, MapError> {
        Ok(self.at(key)?.get::<T>()?)
    }

    /// Whether `key` is present (the reference's `count`).
    pub fn contains_key<'k>(&self, key: impl Into<Key<'k>>) -> Result<bool, MapError> {
        let key = key.into();
        self.run(&key.norm(), |_, found, _| Ok(found.is_some()))
    }

    /// Set `key` to `value` (the reference's `Set`), returning the value it replaces.
    pub fn insert(
        &self,
        key: impl Into<Any>,
        value: impl Into<Any>,
    ) -> Result<Option<Any>, MapError> {
        let (key, value) = (key.into(), value.into());
        let probe = key.clone();
        let mut kv = Some(Kv { key, value });
        let done = self.run(&Norm::of_any(&probe), |m, found, out| {
            let plan = table::plan_insert(m, found, out.key_hash).map_err(|_| Need::KeyHash)?;
            let stored =
                if plan.needs_stored_hashes() { stored_hashes(m, out)? } else { Vec::new() };
            Ok(kv.take().map(|kv| table::commit_insert(m, plan, kv, out.key_hash, stored)))
        })?;
        // Replaced values, unused keys and old storage are dropped here, after the lock.
        match done {
            Some(Ok(left)) => Ok(left.old_value),
            Some(Err((_, e))) => Err(e),
            // `op` takes the pair only when it returns `Ok`, which ends `run`.
            None => Err(internal("insertion retried after it took the pair")),
        }
    }

    /// Remove `key`, returning its value; `None` if absent.
    pub fn remove<'k>(&self, key: impl Into<Key<'k>>) -> Result<Option<Any>, MapError> {
        let key = key.into();
        let kv = self.run(&key.norm(), |m, found, _| Ok(found.map(|p| table::erase(m, p))))?;
        Ok(kv.map(|kv| kv.value))
    }

    /// Drop every pair, keeping the layout and room (the reference's `clear`).
    pub fn clear(&self) {
        let pairs = {
            let _guard = lock(&self.obj);
            table::clear(raw(&self.obj))
        };
        drop(pairs);
    }

    /// Owned copies of the pairs in iteration order, taken at one moment.
    pub fn to_vec(&self) -> Vec<(Any, Any)> {
        let _guard = lock(&self.obj);
        let m = raw(&self.obj);
        let mut out = Vec::with_capacity(table::len(m));
        let mut pos = table::first(m);
        while let Some(p) = pos.filter(|_| out.len() < table::len(m)) {
            // SAFETY: an iteration position holds a pair; cloning only adds references.
            let kv = unsafe { &*table::pair(m, p) };
            out.push((kv.key.clone(), kv.value.clone()));
            pos = table::next(m, p);
        }
        out
    }

    /// The pairs of a snapshot taken now, owned, in iteration order.
    pub fn iter(&self) -> DictIter {
        DictIter::new(self.to_vec())
    }

    /// Whether both handles point to the same object (what `==` compares).
    #[inline]
    pub fn ptr_eq(&self, other: &Self) -> bool {
        self.obj.ptr_eq(&other.obj)
    }

    /// The object reference.
    #[inline]
    pub fn as_object(&self) -> &ObjectRef<DictObj> {
        &self.obj
    }

    /// The object reference, giving up the handle.
    #[inline]
    pub fn into_object(self) -> ObjectRef<DictObj> {
        self.obj
    }

    /// Wrap a dict object reference.
    #[inline]
    pub fn from_object(obj: ObjectRef<DictObj>) -> Self {
        Self { obj }
    }
}

impl Default for Dict {
    fn default() -> Self {
        Self::new()
    }
}

impl PartialEq for Dict {
    /// Identity: the same object.
    #[inline]
    fn eq(&self, other: &Self) -> bool {
        self.ptr_eq(other)
    }
}

impl Eq for Dict {}

impl<K: Into<Any>, V: Into<Any>> FromIterator<(K, V)> for Dict {
    /// As [`Dict::try_from_iter`].
    ///
    /// # Panics
    ///
    /// Only where `try_from_iter` fails: when a key type's `__any_hash__` or `__any_equal__`
    /// fails, or the table outgrows the address space.
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        match Self::try_from_iter(iter) {
            Ok(dict) => dict,
            Err(e) => panic!("cannot build an ffi.Dict: {e}"),
        }
    }
}

impl fmt::Debug for Dict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Dict")?;
        f.debug_map().entries(self.to_vec()).finish()
    }
}

impl From<Dict> for Any {
    #[inline]
    fn from(d: Dict) -> Self {
        Any::from(d.obj)
    }
}

impl<'a> From<&'a Dict> for AnyView<'a> {
    #[inline]
    fn from(d: &'a Dict) -> Self {
        AnyView::from(&d.obj)
    }
}

/// An `ffi.Dict` (shared), or a new dict holding an `ffi.Map`'s pairs, as the reference's
/// `TypeTraits<Dict<Any, Any>>::TryCastFromAnyView` converts (`kOtherTypeIndex`); anything
/// else is a mismatch.
impl FromAnyView<'_> for Dict {
    fn from_any_view(view: AnyView<'_>) -> Result<Self, ConversionError> {
        match view.type_index() {
            TypeIndex::DICT => view.get::<ObjectRef<DictObj>>().map(Self::from_object),
            TypeIndex::MAP => {
                let map = view.get::<ObjectRef<MapObj>>()?;
                // A shared map never changes: no lock needed to copy it.
                table::copy::<DictCell>(raw(&map)).map(Self::from_object).map_err(|_| {
                    ConversionError::new(
                        tvmffi_core::error::ConversionErrorKind::NeedsAllocator,
                        "Dict<Any, Any>",
                        TypeIndex::MAP,
                    )
                })
            }
            other => Err(ConversionError::mismatch("Dict<Any, Any>", other)),
        }
    }
}

impl TryFrom<Any> for Dict {
    type Error = ConversionError;

    /// As [`FromAnyView`], keeping the value's reference for an `ffi.Dict`.
    fn try_from(any: Any) -> Result<Self, ConversionError> {
        match any.into_object::<DictObj>() {
            Ok(obj) => Ok(Self::from_object(obj)),
            Err(any) => Self::from_any_view(any.view()),
        }
    }
}
