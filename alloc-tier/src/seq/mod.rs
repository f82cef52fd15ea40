//! Sequences: [`Array`] (`ffi.Array`, immutable, elements inline) and [`List`] (`ffi.List`,
//! mutable and shared, elements in a separate buffer), laid out as the reference's
//! `ArrayObj` and `ListObj` (`container/array.h`, `container/list.h`).
//!
//! Both are the object header followed by a `TVMFFISeqCell` (`container/seq_base.h`):
//!
//! ```text
//! ArrayObj: [header 24][data size capacity data_deleter=null][elem 0][elem 1]…  data ─┐
//!                                                            ^───────────────────────┘
//! ListObj:  [header 24][data size capacity data_deleter]      data ─> [elem 0][elem 1]…
//! ```
//!
//! Elements are owned `TVMFFIAny` values. C++ reads them inline, and may change a cell we
//! made: an `Array` it holds alone is mutated in place (copy-on-write), a `List` is mutated
//! by any holder, and its buffer may be replaced. So destruction mirrors the reference's
//! `~SeqBaseObj`: it reads `data` and `size` from the cell at that moment, drops exactly
//! `size` elements, and then calls `data_deleter(data)` if the cell has one.

use core::ffi::c_void;
use core::fmt;

use tvmffi_core::sys::TVMFFISeqCell;
use tvmffi_core::{Any, CLayout, ConversionError, ObjectHeader};

mod array;
mod buffer;
mod list;

pub use array::{Array, ArrayCell, ArrayIter, ArrayObj};
pub use list::{List, ListCell, ListIter, ListObj};

/// Why a sequence operation failed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum SeqError {
    /// The index is not below the length (or, to insert, not at most the length); the
    /// reference raises `IndexError`.
    IndexOutOfRange {
        /// The index asked for.
        index: usize,
        /// The length at the time.
        len: usize,
    },
    /// The element is not of the type asked for.
    Conversion(ConversionError),
    /// The capacity asked for exceeds what one allocation can hold.
    CapacityOverflow,
    /// The allocator could not provide room for this many elements.
    OutOfMemory {
        /// The capacity asked for.
        capacity: usize,
    },
}

impl fmt::Display for SeqError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::IndexOutOfRange { index, len } => {
                write!(f, "Index {index} out of bounds {len}")
            }
            Self::Conversion(e) => fmt::Display::fmt(e, f),
            Self::CapacityOverflow => f.write_str("sequence capacity overflow"),
            Self::OutOfMemory { capacity } => {
                write!(f, "cannot allocate room for {capacity} elements")
            }
        }
    }
}

impl core::error::Error for SeqError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            Self::Conversion(e) => Some(e),
            _ => None,
        }
    }
}

impl From<ConversionError> for SeqError {
    fn from(e: ConversionError) -> Self {
        Self::Conversion(e)
    }
}

/// A cell count (`size` or `capacity`) as a `usize`; a negative count, which only a broken
/// writer leaves, reads as 0.
#[inline]
fn count(v: i64) -> usize {
    usize::try_from(v).unwrap_or(0)
}

/// A `usize` count as the cell's `int64_t`. Counts are at most `buffer::MAX_CAPACITY` or
/// the length of a Rust allocation, both below `i64::MAX`.
#[inline]
fn to_i64(v: usize) -> i64 {
    v as i64
}

/// Destroy a cell's contents as the reference's `~SeqBaseObj` does: drop the `size`
/// elements at `data` in order, then free the buffer through `data_deleter` if set.
///
/// # Safety
///
/// `seq` describes `size` initialised elements at `data` that nothing else uses any more,
/// and `data_deleter`, if set, may free `data`.
unsafe fn destroy(seq: &mut TVMFFISeqCell) {
    let data = seq.data.cast::<Any>();
    let len = count(seq.size);
    seq.size = 0;
    for i in 0..len {
        // SAFETY: element `i < size` is initialised and owned by the cell (caller).
        unsafe { core::ptr::drop_in_place(data.add(i)) };
    }
    if let Some(deleter) = seq.data_deleter.take() {
        // SAFETY: the deleter frees the buffer it belongs to (caller); the reference calls
        // it even when `data` is null, so deleters accept null.
        unsafe { deleter(data.cast::<c_void>()) };
    }
}

/// Mirror of the C++ classes for the layout table: the header, then the cell. The real
/// types are `Object<ArrayCell>` and `Object<ListCell>`, `#[repr(C)]` with the same two
/// parts (asserted below); core keeps `Object`'s fields private, hence the mirror.
#[repr(C)]
struct SeqObjMirror {
    header: ObjectHeader,
    cell: TVMFFISeqCell,
}

const _: () = {
    use core::mem::{align_of, size_of};
    assert!(size_of::<ArrayCell>() == size_of::<TVMFFISeqCell>());
    assert!(size_of::<ListCell>() == size_of::<TVMFFISeqCell>());
    assert!(align_of::<ArrayCell>() == align_of::<TVMFFISeqCell>());
    assert!(align_of::<ListCell>() == align_of::<TVMFFISeqCell>());
    assert!(size_of::<ArrayObj>() == size_of::<SeqObjMirror>());
    assert!(size_of::<ListObj>() == size_of::<SeqObjMirror>());
    assert!(align_of::<ArrayObj>() == align_of::<SeqObjMirror>());
    assert!(align_of::<ListObj>() == align_of::<SeqObjMirror>());
};

tvmffi_core::c_layout! {
    /// The mirror's layout, asserted at compile time (Rust field names).
    const MIRROR = [
        SeqObjMirror as "tvm::ffi::SeqBaseObj" {
            size: 56 / 56 / 48,
            align: core::mem::align_of::<u64>(),
            fields: {
                data @ cell.data = 24 / 24,
                size @ cell.size = 32 / 32 / 28,
                capacity @ cell.capacity = 40 / 40 / 36,
                data_deleter @ cell.data_deleter = 48 / 48 / 44,
            },
        },
    ];
}

/// The fields of `ArrayObj` and `ListObj` under the names C++ can `offsetof`: `SeqBaseObj`
/// has `size()` and `capacity()` methods that hide the cell's fields, so those two are
/// named through their base class.
const SEQ_FIELDS: &[(&str, usize)] = &[
    ("data", MIRROR[0].fields[0].1),
    ("TVMFFISeqCell::size", MIRROR[0].fields[1].1),
    ("TVMFFISeqCell::capacity", MIRROR[0].fields[2].1),
    ("data_deleter", MIRROR[0].fields[3].1),
];

/// `tvm::ffi::ArrayObj` and `tvm::ffi::ListObj`: `Object`, then `TVMFFISeqCell`; an array's
/// elements start at `sizeof(ArrayObj)`. The numbers are the ones asserted above.
pub const LAYOUTS: &[CLayout] = &[
    CLayout {
        c_name: "tvm::ffi::ArrayObj",
        size: MIRROR[0].size,
        align: MIRROR[0].align,
        fields: SEQ_FIELDS,
    },
    CLayout {
        c_name: "tvm::ffi::ListObj",
        size: MIRROR[0].size,
        align: MIRROR[0].align,
        fields: SEQ_FIELDS,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_table_names_both_classes() {
        let names: alloc::vec::Vec<_> = LAYOUTS.iter().map(|l| l.c_name).collect();
        assert_eq!(names, ["tvm::ffi::ArrayObj", "tvm::ffi::ListObj"]);
        for l in LAYOUTS {
            assert_eq!(l.fields.len(), 4);
            assert_eq!(l.size, core::mem::size_of::<ArrayObj>());
            let size_at = core::mem::offset_of!(SeqObjMirror, cell.size);
            assert_eq!(l.fields[1], ("TVMFFISeqCell::size", size_at));
        }
    }

    #[test]
    fn cells_and_elements_sit_where_the_cpp_classes_put_them() {
        use core::mem::{offset_of, size_of};
        let a = Array::from_vec(alloc::vec![Any::from(1i64)]);
        let base = a.as_object().as_raw() as usize;
        let cell: &ArrayCell = a.as_object();
        assert_eq!(cell as *const ArrayCell as usize - base, offset_of!(SeqObjMirror, cell));
        // `ArrayObj::Empty`: `data = (char*)p + sizeof(ArrayObj)`.
        assert_eq!(a.as_slice().as_ptr() as usize - base, size_of::<SeqObjMirror>());
        let l = List::new();
        let cell: &ListCell = l.as_object();
        let base = l.as_object().as_raw() as usize;
        assert_eq!(cell as *const ListCell as usize - base, offset_of!(SeqObjMirror, cell));
    }

    #[test]
    fn errors_display_like_the_reference() {
        let e = SeqError::IndexOutOfRange { index: 5, len: 2 };
        assert_eq!(alloc::format!("{e}"), "Index 5 out of bounds 2");
        assert_eq!(count(-3), 0);
        assert_eq!(count(7), 7);
    }
}
