//! The memory of error objects: the C cell every error object carries, and the layout of the
//! ones this crate makes.
//!
//! ```text
//! C++ ErrorObj:  [header][TVMFFIErrorCell][C++ string members ...]
//! ours:          [header][TVMFFIErrorCell][lock + backtrace buffer] [kind\0message\0]
//!                                                                      inline tail
//! ```
//!
//! Only the header and the cell are shared with C++; what follows is each implementation's
//! own. Kind and message never change, so they live in the object's inline tail. The
//! backtrace can be replaced or extended by `update_backtrace`, so it lives in a buffer of
//! its own behind a lock, and the cell's `backtrace` points into that buffer.

use alloc::vec::Vec;
use core::alloc::Layout;
use core::ffi::{c_char, c_void};

use tvmffi_core::flags::BacktraceUpdateMode;
use tvmffi_core::sys::{TVMFFIByteArray, TVMFFIErrorCell, TVMFFIObject, TVMFFIObjectHandle};
use tvmffi_core::{Object, ObjectHeader, ObjectRef, Payload, TypeIndex};

use crate::heap;

pub use tvmffi_core::ffi_error::{ErrorCell, ErrorObj};

/// The payload of the error objects this crate makes: the cell, then the backtrace buffer.
///
/// The buffer holds the backtrace followed by a NUL (so C readers that expect a C string
/// find one); the cell's `backtrace` points at it and excludes the NUL.
#[repr(C)]
pub(crate) struct OwnedError {
    cell: ErrorCell,
    backtrace: spin::Mutex<Vec<u8>>,
}

// SAFETY: the payload is private to this module, which only ever allocates it with index
// `kTVMFFIError` and only views an error object as `Object<OwnedError>` after `is_ours`
// identified it (by its `update_backtrace` entry point) as one it allocated. C++ error
// objects share the index but are never reinterpreted as this type.
unsafe impl Payload for OwnedError {
    const TYPE_KEY: &'static str = "ffi.Error";

    #[inline]
    fn is_instance(type_index: TypeIndex) -> bool {
        type_index == TypeIndex::ERROR
    }
}

const _: () = {
    assert!(core::mem::offset_of!(OwnedError, cell) == 0);
    assert!(core::mem::size_of::<ErrorCell>() == core::mem::size_of::<TVMFFIErrorCell>());
};

impl Drop for OwnedError {
    fn drop(&mut self) {
        // SAFETY: `&mut self`: the last reference is gone, nothing else reads the cell.
        let cell = unsafe { &mut *self.cell.as_raw() };
        for handle in [cell.cause_chain, cell.extra_context] {
            // SAFETY: the cell owns one strong reference to each non-null handle.
            drop(unsafe { ObjectRef::<ObjectHeader>::from_raw(handle.cast::<TVMFFIObject>()) });
        }
    }
}

/// The largest kind plus message (with their NULs) an error object holds inline; anything
/// larger cannot be allocated anyway, and this bound keeps the size arithmetic in range.
const MAX_INLINE: usize = isize::MAX as usize / 2;

/// A byte array over `len` bytes at `data`.
fn byte_array(data: *const u8, len: usize) -> TVMFFIByteArray {
    TVMFFIByteArray { data: data.cast::<c_char>(), size: len }
}

/// Whether `cell` belongs to an error object made by this module (this copy of the crate).
#[inline]
pub(crate) fn is_ours(cell: &ErrorCell) -> bool {
    // SAFETY: `update_backtrace` is immutable after creation; a plain read of it.
    let update = unsafe { (*cell.as_raw()).update_backtrace };
    update.is_some_and(|f| core::ptr::fn_addr_eq(f, update_backtrace as UpdateFn))
}

type UpdateFn = unsafe extern "C" fn(TVMFFIObjectHandle, *const TVMFFIByteArray, i32);

/// Make an error object. Kind and message are copied into the object's tail, the backtrace
/// into its own buffer; `cause` and `extra` are owned by the object from now on.
///
/// Kind and message together beyond [`MAX_INLINE`] bytes cannot be stored (nor can such
/// text exist in memory twice); the error is then a `MemoryError` saying so.
pub(crate) fn new_error(
    kind: &[u8],
    message: &[u8],
    backtrace: &[u8],
    cause: Option<ObjectRef>,
    extra: Option<ObjectRef>,
) -> ObjectRef<ErrorObj> {
    let fits = kind.len().checked_add(message.len()).is_some_and(|n| n < MAX_INLINE);
    let (kind, message): (&[u8], &[u8]) = if fits {
        (kind, message)
    } else {
        (b"MemoryError", b"<error message too large to store>")
    };
    let tail_len = kind.len() + message.len() + 2;
    // SAFETY: size at most `MAX_INLINE + 1`, below `isize::MAX`; alignment 1.
    let tail = unsafe { Layout::from_size_align_unchecked(tail_len, 1) };
    let mut buffer = Vec::with_capacity(backtrace.len().saturating_add(1));
    buffer.extend_from_slice(backtrace);
    buffer.push(0);
    let bt = byte_array(buffer.as_ptr(), backtrace.len());
    let cause = cause.map_or(core::ptr::null_mut(), |c| c.into_raw().cast::<c_void>());
    let extra = extra.map_or(core::ptr::null_mut(), |c| c.into_raw().cast::<c_void>());
    let init = |tail: *mut u8| {
        // SAFETY: the tail has `tail_len` writable bytes: kind, NUL, message, NUL.
        let (kind_ptr, message_ptr) = unsafe {
            core::ptr::copy_nonoverlapping(kind.as_ptr(), tail, kind.len());
            tail.add(kind.len()).write(0);
            let message_ptr = tail.add(kind.len() + 1);
            core::ptr::copy_nonoverlapping(message.as_ptr(), message_ptr, message.len());
            message_ptr.add(message.len()).write(0);
            (tail, message_ptr)
        };
        OwnedError {
            cell: ErrorCell::new(TVMFFIErrorCell {
                kind: byte_array(kind_ptr, kind.len()),
                message: byte_array(message_ptr, message.len()),
                backtrace: bt,
                update_backtrace: Some(update_backtrace),
                cause_chain: cause,
                extra_context: extra,
            }),
            backtrace: spin::Mutex::new(buffer),
        }
    };
    // SAFETY: `init` writes every tail byte the cell points at before returning.
    let obj = unsafe { heap::new_object_with_tail(TypeIndex::ERROR, tail, init) };
    let raw = obj.into_raw();
    // SAFETY: `raw` came from an `ObjectRef`, so it is not null; the strong reference moves
    // over; the object starts with `Object<ErrorCell>` (`OwnedError` is `repr(C)` with the
    // cell first) and has index `kTVMFFIError`.
    unsafe { ObjectRef::from_raw(raw).unwrap_unchecked() }
}

/// The backtrace of one of our error objects, copied under its lock.
///
/// # Safety
///
/// `obj` was made by [`new_error`] ([`is_ours`] says so).
pub(crate) unsafe fn our_backtrace(obj: &ObjectRef<ErrorObj>) -> Vec<u8> {
    // SAFETY: the caller vouches that the object is an `Object<OwnedError>`.
    let owned = unsafe { &*obj.as_raw().cast::<Object<OwnedError>>() };
    let buffer = owned.backtrace.lock();
    buffer.get(..buffer.len().saturating_sub(1)).map(<[u8]>::to_vec).unwrap_or_default()
}

/// `update_backtrace` of our error objects: replace or append under the object's lock.
///
/// Its address identifies our objects ([`is_ours`]), so it is `#[inline(never)]`: a
/// function that may be inlined can have several copies (one per crate or codegen unit),
/// and pointers to it need not compare equal. One that is never inlined has one copy.
///
/// # Safety
///
/// `self_` is a live error object made by [`new_error`], and `backtrace` points to a valid
/// byte array (as the C header requires of callers).
#[inline(never)]
unsafe extern "C" fn update_backtrace(
    self_: TVMFFIObjectHandle,
    backtrace: *const TVMFFIByteArray,
    update_mode: i32,
) {
    if self_.is_null() || backtrace.is_null() {
        return;
    }
    // SAFETY: the caller passes a live `ErrorObj` and a readable byte array.
    let (owned, add) = unsafe {
        (&*self_.cast::<Object<OwnedError>>(), crate::error::bytes_of(&*backtrace).unwrap_or(&[]))
    };
    let mut buffer = owned.backtrace.lock();
    let old_len = buffer.len().saturating_sub(1);
    if BacktraceUpdateMode(update_mode) == BacktraceUpdateMode::REPLACE {
        buffer.clear();
    } else {
        buffer.truncate(old_len);
    }
    buffer.extend_from_slice(add);
    let len = buffer.len();
    buffer.push(0);
    // SAFETY: the lock serialises every writer of the cell's backtrace (all go through
    // here), and only that field of the cell is written.
    unsafe { (*owned.cell.as_raw()).backtrace = byte_array(buffer.as_ptr(), len) };
}

/// Layout mirror of the C++ `tvm::ffi::ErrorObj`, for the layout table: `Object<ErrorCell>`
/// is the same `repr(C)` sequence (asserted below).
#[repr(C)]
pub(crate) struct ErrorObjMirror {
    header: ObjectHeader,
    cell: TVMFFIErrorCell,
}

const _: () = {
    use core::mem::{align_of, size_of};
    assert!(size_of::<ErrorObj>() == size_of::<ErrorObjMirror>());
    assert!(align_of::<ErrorObj>() == align_of::<ErrorObjMirror>());
};

tvmffi_core::c_layout! {
    /// Layout of the error object against the reference's C++ `ErrorObj`: the header, then
    /// the `TVMFFIErrorCell` fields, which C++ reads inline.
    pub(crate) const ERROR_LAYOUTS = [
        ErrorObjMirror as "tvm::ffi::ErrorObj" {
            size: 96 / 64 / 60,
            align: align_of::<u64>(),
            fields: {
                kind @ cell.kind = 24 / 24,
                message @ cell.message = 40 / 32,
                backtrace @ cell.backtrace = 56 / 40,
                update_backtrace @ cell.update_backtrace = 72 / 48,
                cause_chain @ cell.cause_chain = 80 / 52,
                extra_context @ cell.extra_context = 88 / 56,
            },
        },
    ];
}
