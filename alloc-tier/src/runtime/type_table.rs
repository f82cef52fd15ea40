//! [`TypeTable`]: type indices, keys and ancestry (the reference's `TypeTable` in
//! `src/ffi/object.cc`). Reflection data lives in [`super::reflection`].
//!
//! Every entry's `TVMFFITypeInfo` is handed to C by address (`TVMFFIGetTypeInfo`) and read
//! there without any lock, so entries never move or die while the table lives: each is its
//! own allocation, reached through a raw pointer, and its mutable parts sit in
//! `UnsafeCell`s that are only written field by field, under the lock around the table.
//! Index, depth, key and ancestors never change after registration.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::ptr::NonNull;

use tvmffi_core::sys::{
    TVMFFIByteArray, TVMFFIFieldInfo, TVMFFIMethodInfo, TVMFFITypeInfo, TVMFFITypeMetadata,
};
use tvmffi_core::{Any, TypeIndex};

use super::reflection::AttrColumn;
use crate::error::Error;

/// One registered type.
pub(super) struct Entry {
    pub(super) info: UnsafeCell<TVMFFITypeInfo>,
    pub(super) data: UnsafeCell<EntryData>,
}

/// The storage behind an entry's `TVMFFITypeInfo`.
pub(super) struct EntryData {
    /// The key, then a NUL.
    key: Vec<u8>,
    ancestors: Vec<*const TVMFFITypeInfo>,
    pub(super) fields: Vec<TVMFFIFieldInfo>,
    pub(super) methods: Vec<TVMFFIMethodInfo>,
    pub(super) metadata: Option<Box<TVMFFITypeMetadata>>,
    /// Indices reserved for this type and its children: `[index, index + num_slots)`.
    num_slots: i32,
    /// Of those, how many are taken (1: the type itself).
    allocated_slots: i32,
    can_overflow: bool,
}

impl Entry {
    pub(super) fn depth(&self) -> i32 {
        // SAFETY: the depth is written once, before the entry is shared.
        unsafe { (*self.info.get()).type_depth }
    }

    /// The key, without its NUL.
    pub(super) fn key(&self) -> &[u8] {
        // SAFETY: the key is never written after creation; only this field is borrowed.
        let key = unsafe { &(*self.data.get()).key };
        key.split_last().map_or(&[], |(_, k)| k)
    }

    pub(super) fn info_ptr(&self) -> *const TVMFFITypeInfo {
        self.info.get()
    }
}

/// The `type_key_hash` of every entry: what the reference stores there, its C++ standard
/// library's `std::hash<std::string_view>` of the key, as libstdc++ (the toolchain of the
/// reference's Linux wheels) computes it: `_Hash_bytes(key, len, 0xc70f6907)`, MurmurHash64A
/// on 64-bit targets and MurmurHash2 on 32-bit ones. Structural hashes mix it in, so the
/// reference's and ours agree bit for bit.
fn key_hash(key: &[u8]) -> u64 {
    #[cfg(target_pointer_width = "64")]
    {
        murmur_64a(key, 0xc70f_6907)
    }
    #[cfg(not(target_pointer_width = "64"))]
    {
        u64::from(murmur2_32(key, 0xc70f_6907))
    }
}

/// libstdc++'s 64-bit `_Hash_bytes`: MurmurHash64A over little-endian 8-byte words, the
/// trailing bytes folded as one word.
#[cfg_attr(not(target_pointer_width = "64"), allow(dead_code))]
fn murmur_64a(key: &[u8], seed: u64) -> u64 {
    const MUL: u64 = (0xc6a4_a793 << 32) + 0x5bd1_e995;
    let shift_mix = |v: u64| v ^ (v >> 47);
    let mut hash = seed ^ (key.len() as u64).wrapping_mul(MUL);
    let mut words = key.chunks_exact(8);
    for word in &mut words {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        let data = shift_mix(u64::from_le_bytes(w).wrapping_mul(MUL)).wrapping_mul(MUL);
        hash = (hash ^ data).wrapping_mul(MUL);
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        // The trailing bytes, first byte lowest: `load_bytes` in libstdc++.
        let data = rest.iter().rev().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        hash = (hash ^ data).wrapping_mul(MUL);
    }
    shift_mix(shift_mix(hash).wrapping_mul(MUL))
}

/// libstdc++'s 32-bit `_Hash_bytes`: MurmurHash2.
#[cfg_attr(target_pointer_width = "64", allow(dead_code))]
fn murmur2_32(key: &[u8], seed: u32) -> u32 {
    const M: u32 = 0x5bd1_e995;
    let mut hash = seed ^ (key.len() as u32);
    let mut words = key.chunks_exact(4);
    for word in &mut words {
        let mut w = [0u8; 4];
        w.copy_from_slice(word);
        let mut k = u32::from_le_bytes(w).wrapping_mul(M);
        k ^= k >> 24;
        hash = hash.wrapping_mul(M) ^ k.wrapping_mul(M);
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let data = rest.iter().rev().fold(0u32, |acc, &b| (acc << 8) | u32::from(b));
        hash = (hash ^ data).wrapping_mul(M);
    }
    hash ^= hash >> 13;
    hash = hash.wrapping_mul(M);
    hash ^ (hash >> 15)
}

/// A byte array over `bytes` (null for empty input, as the reference copies strings).
pub(super) fn byte_array(bytes: &[u8], len: usize) -> TVMFFIByteArray {
    if len == 0 {
        return TVMFFIByteArray { data: core::ptr::null(), size: 0 };
    }
    TVMFFIByteArray { data: bytes.as_ptr().cast(), size: len }
}

/// The runtime's table of types.
///
/// Not synchronised: the runtime wraps it in a lock. Pointers it hands out (type infos,
/// attribute columns, copied strings) stay valid until the table is dropped.
///
/// ```
/// use tvmffi_alloc::runtime::TypeTable;
///
/// let mut table = TypeTable::new();
/// assert_eq!(table.key_to_index(b"ffi.Function").unwrap(), 68);
/// let base = table.get_or_alloc_index(b"demo.Base", -1, 1, 2, true, 64).unwrap();
/// let child = table.get_or_alloc_index(b"demo.Child", -1, 2, 0, true, base).unwrap();
/// assert_eq!((base, child), (128, 129)); // the child takes one of the base's reserved slots
/// // SAFETY: the table is alive and not modified while the info is read.
/// let info = unsafe { &*table.type_info(child).unwrap() };
/// assert_eq!(info.type_depth, 2);
/// ```
pub struct TypeTable {
    entries: Vec<Option<NonNull<Entry>>>,
    by_key: BTreeMap<Box<[u8]>, i32>,
    /// The next index for types that overflow their parent's slots.
    counter: i32,
    pub(super) columns: Vec<NonNull<AttrColumn>>,
    pub(super) column_by_name: BTreeMap<Box<[u8]>, usize>,
    /// Values that type infos point to: copied strings, default values, methods, setters.
    pub(super) strings: Vec<Vec<u8>>,
    pub(super) values: Vec<Any>,
}

// SAFETY: the raw pointers are to allocations the table owns; the values it holds are
// `Send`. Nothing in it is tied to a thread.
unsafe impl Send for TypeTable {}

impl core::fmt::Debug for TypeTable {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TypeTable").field("types", &self.by_key.len()).finish_non_exhaustive()
    }
}

impl Default for TypeTable {
    fn default() -> Self {
        Self::new()
    }
}

/// The type indices the reference reserves at start-up, as (index, parent): values held in
/// an `Any` at depth 0, objects at depth 1 under `ffi.Object`.
const BUILTINS: &[(TypeIndex, bool)] = &[
    (TypeIndex::NONE, false),
    (TypeIndex::INT, false),
    (TypeIndex::BOOL, false),
    (TypeIndex::FLOAT, false),
    (TypeIndex::OPAQUE_PTR, false),
    (TypeIndex::DATA_TYPE, false),
    (TypeIndex::DEVICE, false),
    (TypeIndex::DL_TENSOR_PTR, false),
    (TypeIndex::RAW_STR, false),
    (TypeIndex::BYTE_ARRAY_PTR, false),
    (TypeIndex::OBJECT_RVALUE_REF, false),
    (TypeIndex::SMALL_STR, false),
    (TypeIndex::SMALL_BYTES, false),
    (TypeIndex::UNCHANGED, false),
    (TypeIndex::STR, true),
    (TypeIndex::BIG_INT, true),
    (TypeIndex::BYTES, true),
    (TypeIndex::ERROR, true),
    (TypeIndex::FUNCTION, true),
    (TypeIndex::SHAPE, true),
    (TypeIndex::TENSOR, true),
    (TypeIndex::ARRAY, true),
    (TypeIndex::LIST, true),
    (TypeIndex::MAP, true),
    (TypeIndex::DICT, true),
    (TypeIndex::MODULE, true),
    (TypeIndex::OPAQUE_PY_OBJECT, true),
];

impl TypeTable {
    /// A table holding the types the reference registers at start-up: `ffi.Object` (64,
    /// with its metadata), the values held inline (`None`, `int`, ... at their indices,
    /// depth 0) and the static object types (`ffi.String`, `ffi.Function`, ... at depth 1,
    /// no child slots).
    pub fn new() -> Self {
        let mut table = Self {
            entries: Vec::new(),
            by_key: BTreeMap::new(),
            counter: TypeIndex::DYN_OBJECT_BEGIN.0,
            columns: Vec::new(),
            column_by_name: BTreeMap::new(),
            strings: Vec::new(),
            values: Vec::new(),
        };
        table.entries.resize(TypeIndex::DYN_OBJECT_BEGIN.0 as usize, None);
        let object = TypeIndex::OBJECT;
        // These registrations cannot fail: fixed, distinct, in-range indices.
        let _ = table.get_or_alloc_index(b"ffi.Object", object.0, 0, 0, true, -1);
        let metadata = TVMFFITypeMetadata {
            doc: TVMFFIByteArray { data: core::ptr::null(), size: 0 },
            creator: None,
            total_size: core::mem::size_of::<tvmffi_core::sys::TVMFFIObject>() as i32,
            structural_eq_hash_kind: tvmffi_core::flags::SEqHashKind::UNSUPPORTED,
        };
        // SAFETY: the doc is an empty array with a null pointer.
        let _ = unsafe { table.register_metadata(object.0, &metadata) };
        for &(index, is_object) in BUILTINS {
            let key = index.static_type_key().unwrap_or_default().as_bytes();
            let (depth, parent) = if is_object { (1, object.0) } else { (0, -1) };
            let _ = table.get_or_alloc_index(key, index.0, depth, 0, false, parent);
        }
        table
    }

    /// The entry of `index`, if registered.
    pub(super) fn entry_ptr(&self, index: i32) -> Option<NonNull<Entry>> {
        *self.entries.get(usize::try_from(index).ok()?)?
    }

    /// The entry of `index`, if registered.
    pub(super) fn entry(&self, index: i32) -> Option<&Entry> {
        // SAFETY: entries live as long as the table; only shared references are made.
        self.entry_ptr(index).map(|p| unsafe { p.as_ref() })
    }

    pub(super) fn entry_or_err(&self, index: i32) -> Result<&Entry, Error> {
        self.entry(index).ok_or_else(|| missing_index(index))
    }

    /// The index of `key`, or allocate one (`TVMFFITypeGetOrAllocIndex`).
    ///
    /// A key already registered returns its index whatever the other arguments say. With
    /// `parent_index == -2` a missing key returns -2 (a look-up only). Otherwise the type is
    /// registered at `static_index` when that is not negative, else at the next slot its
    /// parent reserved for children, else (when the parent allows overflow) at a new index
    /// past all others, reserving `num_child_slots` indices after it for its own children.
    /// A child of a parent that cannot overflow cannot either.
    pub fn get_or_alloc_index(
        &mut self,
        key: &[u8],
        static_index: i32,
        depth: i32,
        num_child_slots: i32,
        child_slots_can_overflow: bool,
        parent_index: i32,
    ) -> Result<i32, Error> {
        if let Some(&index) = self.by_key.get(key) {
            return Ok(index);
        }
        if parent_index == -2 {
            return Ok(-2);
        }
        let key_text = String::from_utf8_lossy(key);
        let num_slots = u32::try_from(num_child_slots)
            .ok()
            .and_then(|n| i32::try_from(n).ok()?.checked_add(1))
            .ok_or_else(|| {
                Error::value_error(format!(
                    "invalid num_child_slots {num_child_slots} for `{key_text}`"
                ))
            })?;
        let parent = match parent_index {
            p if p < 0 => None,
            p => Some(self.entry_ptr(p).ok_or_else(|| missing_index(p))?),
        };
        // SAFETY: entries live as long as the table and are only read here.
        let parent = parent.map(|p| unsafe { p.as_ref() });
        // Depth and parent must agree before any slot is taken.
        let ancestors = match (depth, parent) {
            (0, _) => Vec::new(),
            (d, Some(p)) if Some(d) == p.depth().checked_add(1) => {
                // SAFETY: a registered entry's ancestors never change; only they are read.
                let mut a = unsafe { (*p.data.get()).ancestors.clone() };
                a.push(p.info_ptr());
                a
            }
            _ => {
                return Err(Error::internal_error(format!(
                    "type `{key_text}` has depth {depth}, which does not follow its parent \
                     (type index {parent_index})"
                )));
            }
        };
        // SAFETY: a plain read of a field only written at creation.
        let parent_overflows = parent.is_none_or(|p| unsafe { (*p.data.get()).can_overflow });
        let index = self.alloc_index(&key_text, static_index, num_slots, parent_index)?;
        let mut key_buf = Vec::new();
        key_buf.try_reserve_exact(key.len().saturating_add(1)).map_err(|_| out_of_memory())?;
        key_buf.extend_from_slice(key);
        key_buf.push(0);
        let data = EntryData {
            key: key_buf,
            ancestors,
            fields: Vec::new(),
            methods: Vec::new(),
            metadata: None,
            num_slots,
            allocated_slots: 1,
            can_overflow: child_slots_can_overflow && parent_overflows,
        };
        let entry = NonNull::from(Box::leak(Box::new(Entry {
            info: UnsafeCell::new(TVMFFITypeInfo {
                type_index: index,
                type_depth: depth,
                type_key: byte_array(&[], 0),
                type_ancestors: core::ptr::null(),
                type_key_hash: key_hash(key),
                num_fields: 0,
                num_methods: 0,
                fields: core::ptr::null(),
                methods: core::ptr::null(),
                metadata: core::ptr::null(),
            }),
            data: UnsafeCell::new(data),
        })));
        // SAFETY: freshly allocated and not shared yet: point the info at its own storage.
        unsafe {
            let e = entry.as_ref();
            let data = &*e.data.get();
            (*e.info.get()).type_key = byte_array(&data.key, key.len());
            (*e.info.get()).type_ancestors =
                if data.ancestors.is_empty() { core::ptr::null() } else { data.ancestors.as_ptr() };
        }
        if let Some(slot) = usize::try_from(index).ok().and_then(|i| self.entries.get_mut(i)) {
            *slot = Some(entry);
        }
        self.by_key.insert(Box::from(key), index);
        Ok(index)
    }

    /// Pick the index of a new type: the static one, a slot of the parent, or a new range.
    fn alloc_index(
        &mut self,
        key: &str,
        static_index: i32,
        num_slots: i32,
        parent_index: i32,
    ) -> Result<i32, Error> {
        if static_index >= 0 {
            if usize::try_from(static_index).map_or(true, |i| i >= self.entries.len()) {
                return Err(Error::internal_error(format!(
                    "static type index {static_index} of `{key}` is out of range"
                )));
            }
            if let Some(taken) = self.entry(static_index) {
                return Err(Error::internal_error(format!(
                    "Conflicting static index {static_index} between {} and {key}",
                    String::from_utf8_lossy(taken.key())
                )));
            }
            return Ok(static_index);
        }
        let Some(parent) = self.entry(parent_index) else {
            return Err(Error::internal_error(format!("dynamic type `{key}` needs a parent")));
        };
        let pd = parent.data.get();
        // SAFETY: under the table's lock nobody else touches the slot counters; fields are
        // read and written through the raw pointer, without a reference to the whole data.
        let (allocated, reserved, can_overflow) =
            unsafe { ((*pd).allocated_slots, (*pd).num_slots, (*pd).can_overflow) };
        if let Some(taken) = allocated.checked_add(num_slots).filter(|&t| t <= reserved) {
            let index = parent_index.checked_add(allocated).ok_or_else(out_of_indices)?;
            // SAFETY: as above.
            unsafe { (*pd).allocated_slots = taken };
            return Ok(index);
        }
        if !can_overflow {
            return Err(Error::internal_error(format!(
                "Reach maximum number of sub-classes for {}",
                String::from_utf8_lossy(parent.key())
            )));
        }
        let index = self.counter;
        let end = index.checked_add(num_slots).ok_or_else(out_of_indices)?;
        let len = usize::try_from(end).map_err(|_| out_of_indices())?;
        let grow = len.saturating_sub(self.entries.len());
        self.entries.try_reserve(grow).map_err(|_| out_of_memory())?;
        self.entries.resize(len, None);
        self.counter = end;
        Ok(index)
    }

    /// The index registered for `key` (`TVMFFITypeKeyToIndex`).
    pub fn key_to_index(&self, key: &[u8]) -> Result<i32, Error> {
        self.by_key.get(key).copied().ok_or_else(|| {
            Error::internal_error(format!("Cannot find type `{}`", String::from_utf8_lossy(key)))
        })
    }

    /// The type information of `index` (`TVMFFIGetTypeInfo`): valid until the table is
    /// dropped; its reflection arrays move when more fields or methods are registered.
    pub fn type_info(&self, index: i32) -> Result<*const TVMFFITypeInfo, Error> {
        self.entry_or_err(index).map(Entry::info_ptr)
    }

    /// The keys of all registered types, in index order.
    pub fn type_keys(&self) -> impl Iterator<Item = &[u8]> {
        // SAFETY: entries live as long as the table.
        self.entries.iter().flatten().map(|p| unsafe { p.as_ref() }.key())
    }

    /// Copy `bytes` (plus a NUL) into the table's string pool; the result stays valid
    /// until the table is dropped. Empty input gives `{null, 0}`.
    pub(super) fn copy_string(&mut self, bytes: &[u8]) -> Result<TVMFFIByteArray, Error> {
        if bytes.is_empty() {
            return Ok(byte_array(bytes, 0));
        }
        let mut copy = Vec::new();
        copy.try_reserve_exact(bytes.len().saturating_add(1)).map_err(|_| out_of_memory())?;
        copy.extend_from_slice(bytes);
        copy.push(0);
        self.strings.push(copy);
        let copy = self.strings.last().map_or(&[][..], |c| &c[..]);
        Ok(byte_array(copy, bytes.len()))
    }
}

pub(super) fn out_of_memory() -> Error {
    Error::new(crate::error::kind::MEMORY_ERROR, "out of memory growing the type table")
}

fn missing_index(index: i32) -> Error {
    Error::internal_error(format!("Cannot find type info for type_index={index}"))
}

fn out_of_indices() -> Error {
    Error::internal_error("no type indices left")
}

impl Drop for TypeTable {
    fn drop(&mut self) {
        for entry in self.entries.drain(..).flatten() {
            // SAFETY: each entry came from `Box::leak` and is freed once, here; no pointer
            // to it may be used after the table is gone.
            drop(unsafe { Box::from_raw(entry.as_ptr()) });
        }
        for column in self.columns.drain(..) {
            // SAFETY: as for the entries.
            drop(unsafe { Box::from_raw(column.as_ptr()) });
        }
    }
}
