//! The reference's map layouts (`container/map_base.h`), byte for byte, and raw access to the
//! fields of a map object.
//!
//! ```text
//! MapBaseObj:      [header 24][data size slots data_deleter]             (56; i686 48)
//! SmallMapBaseObj: MapBaseObj, then `slots` key-value pairs inline when data_deleter is null
//! DenseMapBaseObj: MapBaseObj, then [fib_shift iter_list_head iter_list_tail] (80; i686 68)
//! dense data:      blocks of [16 metadata bytes][16 items of (key, value, prev, next)]
//! ```
//!
//! The top bit of `slots` tags the small layout. Every map object is at least as large as a
//! `DenseMapBaseObj` (a small one always has room for two pairs), which is what lets a map
//! switch from small to dense in place, as the reference's `Dict` does.
//!
//! The dense fields follow `MapBaseObj`'s *data* size: C++ may put them in its tail padding
//! (Itanium rule for non-POD bases), which only exists where `uint64_t` is 8-aligned and
//! pointers are 4 bytes (Arm, RISC-V, wasm32). [`DenseMirror`] flattens the classes to get
//! that placement.

use core::ffi::c_void;
use core::mem::{offset_of, size_of};

use tvmffi_core::{Any, CLayout, ObjectHeader};

/// `MapBaseObj`'s fields after the object header.
///
/// Written field by field only: on some 32-bit targets the dense `fib_shift` lives in this
/// struct's tail padding, which a whole-struct write would clobber.
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct MapFields {
    /// Small layout: the pairs; dense layout: the blocks.
    pub data: *mut c_void,
    /// Number of entries.
    pub size: u64,
    /// Number of slots, with [`SMALL_TAG`] set in the small layout.
    pub slots: u64,
    /// Frees `data`; null for pairs stored inline in the object.
    pub data_deleter: Option<unsafe extern "C" fn(*mut c_void)>,
}

/// The small-layout tag in `slots` (`kSmallTagMask`).
pub(crate) const SMALL_TAG: u64 = 1 << 63;

/// A key-value pair (`KVType`, `KVRawStorageType`).
#[repr(C)]
pub(crate) struct Kv {
    pub key: Any,
    pub value: Any,
}

/// A dense slot (`DenseMapBaseObj::ItemType`): the pair, then the neighbours in iteration
/// order (slot indices, [`INVALID`] at the ends).
#[repr(C)]
pub(crate) struct Item {
    pub kv: Kv,
    pub prev: u64,
    pub next: u64,
}

/// Slots per block (`kBlockCap`).
pub(crate) const BLOCK_CAP: u64 = 16;
/// Bytes per block: 16 metadata bytes, then 16 items (`sizeof(Block)`).
pub(crate) const BLOCK_BYTES: usize = BLOCK_CAP as usize * (1 + size_of::<Item>());
/// Metadata of an empty slot (`kEmptySlot`).
pub(crate) const EMPTY: u8 = 0xFF;
/// Metadata of a slot emptied while a chain moves, not to be reused (`kProtectedSlot`).
pub(crate) const PROTECTED: u8 = 0xFE;
/// The end of the iteration list (`kInvalidIndex`).
pub(crate) const INVALID: u64 = u64::MAX;

/// `MapBaseObj` as one struct: the header, then the fields.
#[repr(C)]
pub(crate) struct MapBaseMirror {
    header: ObjectHeader,
    fields: MapFields,
}

/// `DenseMapBaseObj` flattened: its own fields directly after `MapBaseObj`'s last field,
/// where C++ lays them out (in the base's tail padding, when it has some).
#[repr(C)]
pub(crate) struct DenseMirror {
    header: ObjectHeader,
    data: *mut c_void,
    size: u64,
    slots: u64,
    data_deleter: Option<unsafe extern "C" fn(*mut c_void)>,
    fib_shift: u32,
    iter_list_head: u64,
    iter_list_tail: u64,
}

/// `KVRawStorageType` under the C++ field names.
#[repr(C)]
struct KvMirror {
    first: Any,
    second: Any,
}

/// Offsets from the object's start.
pub(crate) const FIELDS_OFFSET: usize = offset_of!(MapBaseMirror, fields);
pub(crate) const FIB_SHIFT_OFFSET: usize = offset_of!(DenseMirror, fib_shift);
pub(crate) const HEAD_OFFSET: usize = offset_of!(DenseMirror, iter_list_head);
pub(crate) const TAIL_OFFSET: usize = offset_of!(DenseMirror, iter_list_tail);
/// `sizeof(MapBaseObj)` and `sizeof(DenseMapBaseObj)`.
pub(crate) const BASE_SIZE: usize = size_of::<MapBaseMirror>();
pub(crate) const DENSE_SIZE: usize = size_of::<DenseMirror>();

const _: () = {
    use core::mem::align_of;
    assert!(size_of::<Kv>() == 32 && size_of::<Item>() == 48 && BLOCK_BYTES == 784);
    assert!(size_of::<Kv>() == size_of::<KvMirror>());
    // A small object with its minimum two pairs can hold the dense fields.
    assert!(BASE_SIZE + 2 * size_of::<Kv>() >= DENSE_SIZE);
    // Items stay aligned in 8-aligned blocks.
    assert!(
        BLOCK_BYTES % align_of::<Item>() == 0 && (BLOCK_CAP as usize) % align_of::<Item>() == 0
    );
};

tvmffi_core::c_layout! {
    /// The layouts, asserted at compile time against the numbers from the C++ headers.
    const MIRRORS = [
        MapBaseMirror as "tvm::ffi::MapBaseObj" {
            size: 56 / 56 / 48,
            align: core::mem::align_of::<u64>(),
            fields: {
                data_ @ fields.data = 24 / 24,
                size_ @ fields.size = 32 / 32 / 28,
                slots_ @ fields.slots = 40 / 40 / 36,
                data_deleter_ @ fields.data_deleter = 48 / 48 / 44,
            },
        },
        DenseMirror as "tvm::ffi::DenseMapBaseObj" {
            size: 80 / 72 / 68,
            align: core::mem::align_of::<u64>(),
            fields: {
                data_ @ data = 24 / 24,
                size_ @ size = 32 / 32 / 28,
                slots_ @ slots = 40 / 40 / 36,
                data_deleter_ @ data_deleter = 48 / 48 / 44,
                fib_shift_ @ fib_shift = 56 / 52 / 48,
                iter_list_head_ @ iter_list_head = 64 / 56 / 52,
                iter_list_tail_ @ iter_list_tail = 72 / 64 / 60,
            },
        },
        KvMirror as "tvm::ffi::MapBaseObj::KVRawStorageType" {
            size: 32 / 32,
            align: core::mem::align_of::<u64>(),
            fields: { first = 0 / 0, second = 16 / 16 },
        },
        Item as "tvm::ffi::DenseMapBaseObj::ItemType" {
            size: 48 / 48,
            align: core::mem::align_of::<u64>(),
            fields: { data @ kv = 0 / 0, prev = 32 / 32, next = 40 / 40 },
        },
    ];
}

/// The map classes for `ci/abi-check`: the base, both layouts, the two exact types, the
/// pair and the dense item, and the dense block.
pub const LAYOUTS: &[CLayout] = &[
    MIRRORS[0],
    CLayout { c_name: "tvm::ffi::SmallMapBaseObj", ..MIRRORS[0] },
    CLayout { c_name: "tvm::ffi::MapObj", ..MIRRORS[0] },
    CLayout { c_name: "tvm::ffi::DictObj", ..MIRRORS[0] },
    MIRRORS[1],
    MIRRORS[2],
    MIRRORS[3],
    CLayout {
        c_name: "tvm::ffi::DenseMapBaseObj::Block",
        size: BLOCK_BYTES,
        align: 1,
        fields: &[],
    },
];

/// A map object as C++ sees it: a pointer to the header of an `ffi.Map` or `ffi.Dict`, with
/// provenance over the whole allocation (never derived from a reference to the payload).
///
/// Reads and writes go field by field through raw pointers; callers guarantee nobody else
/// writes meanwhile (a unique `Map`, a locked `Dict`, or a dying object).
#[derive(Clone, Copy)]
pub(crate) struct RawMap {
    obj: *mut u8,
}

macro_rules! field {
    ($get:ident, $set:ident, $ty:ty, $ptr:ident) => {
        #[inline]
        pub(crate) fn $get(self) -> $ty {
            // SAFETY: the object is live and laid out as a map (construction contract).
            unsafe { self.$ptr().read() }
        }

        #[inline]
        pub(crate) fn $set(self, v: $ty) {
            // SAFETY: as for reading; nobody else accesses the object meanwhile.
            unsafe { self.$ptr().write(v) }
        }
    };
}

impl RawMap {
    /// # Safety
    ///
    /// `obj` points to a live `ffi.Map` or `ffi.Dict` object (ours or C++'s), with
    /// provenance over its whole allocation, for as long as the result is used.
    #[inline]
    pub(crate) unsafe fn new(obj: *mut u8) -> Self {
        Self { obj }
    }

    #[inline]
    fn fields(self) -> *mut MapFields {
        self.obj.wrapping_add(FIELDS_OFFSET).cast()
    }

    #[inline]
    fn data_ptr(self) -> *mut *mut c_void {
        // SAFETY: in bounds of the object (see `new`); no reference is made.
        unsafe { &raw mut (*self.fields()).data }
    }

    #[inline]
    fn size_ptr(self) -> *mut u64 {
        // SAFETY: as for `data_ptr`.
        unsafe { &raw mut (*self.fields()).size }
    }

    #[inline]
    fn slots_ptr(self) -> *mut u64 {
        // SAFETY: as for `data_ptr`.
        unsafe { &raw mut (*self.fields()).slots }
    }

    #[inline]
    fn deleter_ptr(self) -> *mut Option<unsafe extern "C" fn(*mut c_void)> {
        // SAFETY: as for `data_ptr`.
        unsafe { &raw mut (*self.fields()).data_deleter }
    }

    #[inline]
    fn fib_shift_ptr(self) -> *mut u32 {
        self.obj.wrapping_add(FIB_SHIFT_OFFSET).cast()
    }

    #[inline]
    fn head_ptr(self) -> *mut u64 {
        self.obj.wrapping_add(HEAD_OFFSET).cast()
    }

    #[inline]
    fn tail_ptr(self) -> *mut u64 {
        self.obj.wrapping_add(TAIL_OFFSET).cast()
    }

    field!(data, set_data, *mut c_void, data_ptr);
    field!(size, set_size, u64, size_ptr);
    field!(slots_raw, set_slots_raw, u64, slots_ptr);
    field!(deleter, set_deleter, Option<unsafe extern "C" fn(*mut c_void)>, deleter_ptr);
    // The dense fields exist in every map object (see the module docs), but hold meaning
    // only in the dense layout.
    field!(fib_shift, set_fib_shift, u32, fib_shift_ptr);
    field!(head, set_head, u64, head_ptr);
    field!(tail, set_tail, u64, tail_ptr);

    /// Whether the small layout is in use (`IsSmallMap`).
    #[inline]
    pub(crate) fn is_small(self) -> bool {
        self.slots_raw() & SMALL_TAG != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_follow_the_headers() {
        assert_eq!(FIELDS_OFFSET, 24);
        assert_eq!(BASE_SIZE, MIRRORS[0].size);
        assert_eq!(DENSE_SIZE, MIRRORS[1].size);
        let fib = MIRRORS[1].fields[4];
        assert_eq!(fib, ("fib_shift_", FIB_SHIFT_OFFSET));
        const { assert!(HEAD_OFFSET > FIB_SHIFT_OFFSET && TAIL_OFFSET == HEAD_OFFSET + 8) };
        assert_eq!(LAYOUTS.len(), 8);
        assert!(LAYOUTS.iter().all(|l| l.size > 0));
    }
}
