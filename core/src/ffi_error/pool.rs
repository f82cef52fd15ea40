//! [`ErrorPool`]: error objects in `static` memory, with their text inline.

use core::cell::UnsafeCell;
use core::ffi::c_char;
use core::fmt::{self, Write};
use core::mem::MaybeUninit;

use super::{ErrorCell, ErrorObj};
use crate::TypeIndex;
use crate::object::{ObjectPool, ObjectRef, Payload, StaticObject};
use crate::sys::{TVMFFIByteArray, TVMFFIErrorCell, TVMFFIObjectHandle};

/// An error object's payload here: the cell, then `kind NUL message NUL` that it points into
/// (written in place, so a large `CAP` never passes through the stack).
#[repr(C)]
struct TextError<const CAP: usize> {
    cell: ErrorCell,
    text: UnsafeCell<MaybeUninit<[u8; CAP]>>,
}

// SAFETY: the text is written once, by the sole owner, before the object is shared; after
// that, like the cell, it is only read.
unsafe impl<const CAP: usize> Send for TextError<CAP> {}
// SAFETY: as for `Send`.
unsafe impl<const CAP: usize> Sync for TextError<CAP> {}

// SAFETY: private to this module, which allocates it only with index `kTVMFFIError` (the
// header and a `TVMFFIErrorCell`, as every error object) and never views another error object
// as this type: the objects leave this module as `ErrorObj` only.
unsafe impl<const CAP: usize> Payload for TextError<CAP> {
    const TYPE_KEY: &'static str = "ffi.Error";

    #[inline]
    fn is_instance(type_index: TypeIndex) -> bool {
        type_index == TypeIndex::ERROR
    }
}

const _: () = assert!(core::mem::offset_of!(TextError<8>, cell) == 0);

const fn byte_array(bytes: &'static [u8]) -> TVMFFIByteArray {
    TVMFFIByteArray { data: bytes.as_ptr().cast::<c_char>(), size: bytes.len() }
}

/// An empty backtrace, NUL-terminated for C readers.
const NO_BACKTRACE: TVMFFIByteArray = TVMFFIByteArray { data: c"".as_ptr(), size: 0 };

/// `update_backtrace` of the errors made here: they keep no backtrace, so updates are
/// dropped. C++ callers invoke the entry point unconditionally, so it must exist.
unsafe extern "C" fn ignore_backtrace(_: TVMFFIObjectHandle, _: *const TVMFFIByteArray, _: i32) {}

const fn static_cell(kind: &'static [u8], message: &'static [u8]) -> TVMFFIErrorCell {
    TVMFFIErrorCell {
        kind: byte_array(kind),
        message: byte_array(message),
        backtrace: NO_BACKTRACE,
        update_backtrace: Some(ignore_backtrace),
        cause_chain: core::ptr::null_mut(),
        extra_context: core::ptr::null_mut(),
    }
}

/// What every pool hands out when all its objects are still referenced.
static EXHAUSTED: StaticObject<ErrorCell> = StaticObject::new(
    TypeIndex::ERROR,
    ErrorCell::new(static_cell(
        b"RuntimeError",
        b"out of static error objects: every one is still referenced",
    )),
);

/// `N` error objects of up to `CAP` bytes of text each, for programs without an allocator.
///
/// Each object holds its kind and message inline, as `kind NUL message NUL` (C readers that
/// expect NUL-terminated strings find them), truncated to `CAP` bytes together, never inside
/// a UTF-8 sequence. The objects keep no backtrace, cause or context. A slot comes back when
/// the object's last reference goes; while all `N` are referenced,
/// [`new_error`](Self::new_error) returns a shared static `RuntimeError` saying so, so that
/// raising an error never fails.
///
/// Memory: about `CAP + 64` bytes per object on a 32-bit target (header, cell, text, flag).
pub struct ErrorPool<const N: usize, const CAP: usize> {
    objects: ObjectPool<TextError<CAP>, N>,
}

impl<const N: usize, const CAP: usize> ErrorPool<N, CAP> {
    /// An empty pool; `const`, so it can initialise a `static`. `CAP` is at least 2 (the two
    /// NULs).
    pub const fn new() -> Self {
        const { assert!(CAP >= 2, "an error object needs CAP >= 2 for its two NULs") };
        Self { objects: ObjectPool::new() }
    }

    /// Error objects not in use (a snapshot).
    #[inline]
    pub fn available(&self) -> usize {
        self.objects.available()
    }

    /// A new error of `kind` with a formatted `message`.
    pub fn new_error(
        &'static self,
        kind: &str,
        message: fmt::Arguments<'_>,
    ) -> ObjectRef<ErrorObj> {
        self.make(kind.as_bytes(), |text| {
            // `Text` never fails: it truncates.
            let _ = text.write_fmt(message);
        })
    }

    /// A new error of `kind` whose message is `parts` joined, as
    /// `TVMFFIErrorSetRaisedFromCStrParts` passes it (bytes, taken as they are).
    pub fn new_error_from_parts<'a>(
        &'static self,
        kind: &[u8],
        parts: impl IntoIterator<Item = &'a [u8]>,
    ) -> ObjectRef<ErrorObj> {
        self.make(kind, |text| parts.into_iter().for_each(|part| text.push(part)))
    }

    fn make(
        &'static self,
        kind: &[u8],
        message: impl FnOnce(&mut Text<'_>),
    ) -> ObjectRef<ErrorObj> {
        let empty = TextError {
            cell: ErrorCell::new(static_cell(b"", b"")),
            text: UnsafeCell::new(MaybeUninit::uninit()),
        };
        let Ok(obj) = self.objects.alloc(TypeIndex::ERROR, empty) else {
            return EXHAUSTED.new_ref();
        };
        let payload = obj.payload();
        // SAFETY: `obj` is the only reference to a fresh object, so nobody else reads its text
        // or cell while we write them through their `UnsafeCell`s; zeroed, the bytes are
        // initialised.
        let text = unsafe {
            let text = (*payload.text.get()).as_mut_ptr();
            text.write_bytes(0, 1);
            &mut *text
        };
        // `kind NUL message NUL` in a zeroed buffer: each part stops short of its NUL.
        let kind_len = Text::fill(text.get_mut(..CAP - 2).unwrap_or_default(), |t| t.push(kind));
        let message_start = kind_len + 1;
        let message_len =
            Text::fill(text.get_mut(message_start..CAP - 1).unwrap_or_default(), message);
        let base = text.as_ptr().cast::<c_char>();
        // SAFETY: as above, the object is ours alone; the arrays point into its own text,
        // which lives (in the pool's static slot) as long as the object.
        unsafe {
            let cell = &mut *payload.cell.as_raw();
            cell.kind = TVMFFIByteArray { data: base, size: kind_len };
            cell.message = TVMFFIByteArray { data: base.add(message_start), size: message_len };
        }
        let raw = obj.into_raw();
        // SAFETY: from an `ObjectRef`, so non-null, with its strong reference; the object is
        // `kTVMFFIError`, laid out as the header then the cell (`TextError` is `repr(C)` with
        // the cell first).
        unsafe { ObjectRef::from_raw(raw).unwrap_unchecked() }
    }
}

impl<const N: usize, const CAP: usize> Default for ErrorPool<N, CAP> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize, const CAP: usize> fmt::Debug for ErrorPool<N, CAP> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErrorPool")
            .field("capacity", &N)
            .field("text_capacity", &CAP)
            .field("available", &self.available())
            .finish()
    }
}

/// Appends to a fixed buffer; once something does not fit, it is cut (never inside a UTF-8
/// sequence) and everything after it is dropped.
struct Text<'a> {
    buf: &'a mut [u8],
    len: usize,
    full: bool,
}

impl Text<'_> {
    /// Write into `buf` with `write`, returning the length written.
    fn fill(buf: &mut [u8], write: impl FnOnce(&mut Text<'_>)) -> usize {
        let mut text = Text { buf, len: 0, full: false };
        write(&mut text);
        text.len
    }

    fn push(&mut self, bytes: &[u8]) {
        if self.full {
            return;
        }
        let room = self.buf.len() - self.len;
        let mut take = bytes.len();
        if take > room {
            self.full = true;
            take = room;
            // Back off over at most three continuation bytes to the start of a sequence.
            for _ in 0..3 {
                if take > 0 && bytes.get(take).is_some_and(|b| b & 0xC0 == 0x80) {
                    take -= 1;
                }
            }
        }
        if let (Some(dst), Some(src)) =
            (self.buf.get_mut(self.len..self.len + take), bytes.get(..take))
        {
            dst.copy_from_slice(src);
            self.len += take;
        }
    }
}

impl Write for Text<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    /// The bytes after the array's end: the NUL C readers rely on.
    fn nul_after(array: &TVMFFIByteArray) -> u8 {
        // SAFETY: the pool writes a NUL right after kind and message, inside the object.
        unsafe { *array.data.cast::<u8>().add(array.size) }
    }

    #[test]
    fn errors_carry_kind_and_message_nul_terminated_and_free_their_slot() {
        static POOL: ErrorPool<2, 32> = ErrorPool::new();
        let e = POOL.new_error("ValueError", format_args!("bad value {}", -3));
        assert_eq!((e.kind(), e.message()), (&b"ValueError"[..], &b"bad value -3"[..]));
        assert_eq!(e.type_index(), TypeIndex::ERROR);
        // SAFETY: we own the only reference, so reading the whole cell is fine.
        let cell = unsafe { &*e.payload().as_raw() };
        assert_eq!((nul_after(&cell.kind), nul_after(&cell.message)), (0, 0));
        assert_eq!((cell.backtrace.size, nul_after(&cell.backtrace)), (0, 0));
        assert!(cell.cause_chain.is_null() && cell.extra_context.is_null());
        // C++ calls `update_backtrace` unconditionally: it must exist, and ignores updates.
        let update = cell.update_backtrace.unwrap();
        let bt = byte_array(b"  at f\n");
        // SAFETY: the entry point of this very object, with a valid array.
        unsafe { update(e.as_raw().cast(), &bt, 0) };
        assert_eq!(e.message(), b"bad value -3");

        let joined = POOL.new_error_from_parts(b"TypeError", [&b"got "[..], b"float", b""]);
        assert_eq!((joined.kind(), joined.message()), (&b"TypeError"[..], &b"got float"[..]));
        assert_eq!(POOL.available(), 0);
        let again = joined.clone();
        assert_eq!(again.strong_count(), 2);
        drop((e, joined));
        assert_eq!(POOL.available(), 1);
        drop(again);
        assert_eq!(POOL.available(), 2);
    }

    #[test]
    fn text_is_cut_to_capacity_without_splitting_a_character() {
        // 16 bytes: kind NUL message NUL.
        static POOL: ErrorPool<1, 16> = ErrorPool::new();
        let e = POOL.new_error("Kind", format_args!("ab{}cd{}", "é", "never seen"));
        // Room for 10 message bytes: "abécd" is 6, and the next piece is cut after 4.
        assert_eq!(e.message(), "abécdneve".as_bytes());
        drop(e);
        let e = POOL.new_error("K", format_args!("{}", "ééééééé"));
        // Room for 13 bytes: six whole `é`, not six and a half.
        assert_eq!(e.message(), "éééééé".as_bytes());
        drop(e);
        let e = POOL.new_error("K", format_args!("123456789012{}{}", "ä", "x"));
        // The `ä` does not fit the last byte, and nothing after a cut is added.
        assert_eq!(e.message(), b"123456789012");
        drop(e);
        let long_kind = POOL.new_error_from_parts(b"AVeryLongErrorKindName", [&b"x"[..]]);
        assert_eq!((long_kind.kind(), long_kind.message()), (&b"AVeryLongError"[..], &b""[..]));
        // SAFETY: we own the only reference.
        let cell = unsafe { &*long_kind.payload().as_raw() };
        assert_eq!((nul_after(&cell.kind), nul_after(&cell.message)), (0, 0));
    }

    #[test]
    fn the_smallest_pool_makes_empty_errors() {
        static POOL: ErrorPool<1, 2> = ErrorPool::new();
        let e = POOL.new_error("ValueError", format_args!("lost"));
        assert_eq!((e.kind(), e.message()), (&b""[..], &b""[..]));
    }

    #[test]
    fn an_exhausted_pool_hands_out_a_shared_static_error() {
        static POOL: ErrorPool<1, 8> = ErrorPool::new();
        let held = POOL.new_error("A", format_args!("b"));
        let weak = held.downgrade();
        drop(held);
        // A weak reference keeps the slot (and the header) taken.
        let spare: Vec<_> = (0..3).map(|_| POOL.new_error("X", format_args!("y"))).collect();
        for e in &spare {
            assert!(e.is_kind("RuntimeError"));
            assert_eq!(e.message(), b"out of static error objects: every one is still referenced");
            assert!(e.ptr_eq(&spare[0]));
        }
        assert!(spare[0].strong_count() >= 4);
        drop(weak);
        let fresh = POOL.new_error("A", format_args!("b"));
        assert!(fresh.is_kind("A") && !fresh.ptr_eq(&spare[0]));
    }
}
