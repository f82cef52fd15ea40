//! `__tvm_ffi__library_bin`: modules serialised into a library next to its code, with their
//! import tree (the reference's `ProcessLibraryBin`, `src/ffi/extra/library_module.cc`).
//!
//! ```text
//! symbol  = nbytes: u64, payload: [u8; nbytes]
//! payload = indptr: vec<u64>, child_indices: vec<u64>, entry * (indptr.len - 1)
//! entry   = kind: str, [blob: str unless kind == "_lib"]
//! vec<T>  = len: u64, T * len          str = len: u64, u8 * len
//! ```
//!
//! Every integer is little-endian. Module `i` imports `child_indices[indptr[i]..indptr[i+1]]`,
//! and module 0 is the root. `"_lib"` stands for the library's own module; any other kind
//! is rebuilt by the global function `ffi.Module.load_from_bytes.<kind>` from its blob.
//!
//! Unlike the reference, which trusts the blob, every length and index is checked against
//! the bytes actually present.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::error::{LoadError, LoadErrorKind};

/// The kind that stands for the library's own module.
pub(crate) const LIB_KIND: &str = "_lib";

/// A parsed blob.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct LibraryBin<'a> {
    /// `(kind, blob)` per module; the blob is `None` for [`LIB_KIND`].
    pub(crate) modules: Vec<(String, Option<&'a [u8]>)>,
    /// `imports[i]`: the indices module `i` imports, in order.
    pub(crate) imports: Vec<Vec<usize>>,
}

fn bad(what: &str) -> LoadError {
    LoadError::new(
        LoadErrorKind::BadLibraryBin,
        format!("malformed __tvm_ffi__library_bin: {what}"),
    )
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn bytes(&mut self, n: usize, what: &str) -> Result<&'a [u8], LoadError> {
        if n > self.rest.len() {
            return Err(bad(&format!("{what} runs past the end")));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn u64(&mut self, what: &str) -> Result<u64, LoadError> {
        let b = self.bytes(8, what)?;
        Ok(u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
    }

    fn len(&mut self, what: &str) -> Result<usize, LoadError> {
        let n = self.u64(what)?;
        usize::try_from(n).map_err(|_| bad(&format!("{what} length {n} does not fit in memory")))
    }

    fn vec_u64(&mut self, what: &str) -> Result<Vec<u64>, LoadError> {
        let n = self.len(what)?;
        // Check against the bytes left before allocating, so a forged length cannot ask
        // for more memory than the blob holds.
        let size = n.checked_mul(8).ok_or_else(|| bad(&format!("{what} length overflows")))?;
        let raw = self.bytes(size, what)?;
        Ok(raw
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
            .collect())
    }

    fn str(&mut self, what: &str) -> Result<&'a [u8], LoadError> {
        let n = self.len(what)?;
        self.bytes(n, what)
    }
}

/// Parse the payload that follows the `nbytes` header.
pub(crate) fn parse(payload: &[u8]) -> Result<LibraryBin<'_>, LoadError> {
    let mut r = Reader { rest: payload };
    let indptr = r.vec_u64("the import tree's indptr")?;
    let children = r.vec_u64("the import tree's child indices")?;
    let count = indptr.len().checked_sub(1).filter(|&n| n > 0).ok_or_else(|| bad("no modules"))?;
    let mut modules = Vec::with_capacity(count);
    for _ in 0..count {
        let kind = String::from_utf8(r.str("a module kind")?.into())
            .map_err(|_| bad("a module kind is not UTF-8"))?;
        let blob = if kind == LIB_KIND { None } else { Some(r.str("a module blob")?) };
        modules.push((kind, blob));
    }
    let mut imports = Vec::with_capacity(count);
    for i in 0..count {
        let (start, end) = (indptr[i], indptr[i + 1]);
        let range = usize::try_from(start)
            .ok()
            .zip(usize::try_from(end).ok())
            .filter(|(s, e)| s <= e && *e <= children.len())
            .ok_or_else(|| bad(&format!("import range {start}..{end} of module {i}")))?;
        let mut list = Vec::with_capacity(range.1 - range.0);
        for &child in &children[range.0..range.1] {
            let child = usize::try_from(child)
                .ok()
                .filter(|&c| c < count)
                .ok_or_else(|| bad(&format!("module {i} imports module {child} of {count}")))?;
            list.push(child);
        }
        imports.push(list);
    }
    Ok(LibraryBin { modules, imports })
}

/// The payload of the symbol at `ptr`: `nbytes` (little-endian `u64`), then that many bytes.
///
/// # Safety
///
/// `ptr` points to a `__tvm_ffi__library_bin` symbol: at least 8 readable bytes followed by
/// as many as they count, living as long as the library (`'a`).
pub(crate) unsafe fn symbol_payload<'a>(ptr: *const u8) -> Result<&'a [u8], LoadError> {
    // SAFETY: 8 readable bytes (the caller's promise); `[u8; 8]` has alignment 1.
    let header = unsafe { ptr.cast::<[u8; 8]>().read() };
    let n = u64::from_le_bytes(header);
    let n = usize::try_from(n).map_err(|_| bad("its size does not fit in memory"))?;
    // SAFETY: the symbol holds `n` bytes after its header (the caller's promise).
    Ok(unsafe { core::slice::from_raw_parts(ptr.add(8), n) })
}

/// Build a blob, for tests and fixtures: `(kind, blob)` per module and the import lists.
#[cfg(test)]
pub(crate) fn encode(modules: &[(&str, &[u8])], imports: &[&[u64]]) -> Vec<u8> {
    let mut payload = Vec::new();
    let put = |v: u64, out: &mut Vec<u8>| out.extend_from_slice(&v.to_le_bytes());
    let mut indptr = alloc::vec![0u64];
    let mut children = Vec::new();
    for list in imports {
        children.extend_from_slice(list);
        indptr.push(children.len() as u64);
    }
    for vec in [&indptr, &children] {
        put(vec.len() as u64, &mut payload);
        for &v in vec {
            put(v, &mut payload);
        }
    }
    for (kind, blob) in modules {
        put(kind.len() as u64, &mut payload);
        payload.extend_from_slice(kind.as_bytes());
        if *kind != LIB_KIND {
            put(blob.len() as u64, &mut payload);
            payload.extend_from_slice(blob);
        }
    }
    let mut out = Vec::new();
    put(payload.len() as u64, &mut out);
    out.extend_from_slice(&payload);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let blob =
            encode(&[("_lib", b""), ("cuda", b"\x01\x02"), ("_lib", b"")], &[&[1, 2], &[], &[1]]);
        // SAFETY: `encode` writes the header and the bytes it counts.
        let payload = unsafe { symbol_payload(blob.as_ptr()) }.unwrap();
        assert_eq!(payload.len(), blob.len() - 8);
        let parsed = parse(payload).unwrap();
        assert_eq!(
            parsed.modules,
            [("_lib".into(), None), ("cuda".into(), Some(&b"\x01\x02"[..])), ("_lib".into(), None)]
        );
        assert_eq!(parsed.imports, [alloc::vec![1, 2], alloc::vec![], alloc::vec![1]]);
    }

    #[test]
    fn every_truncation_is_an_error() {
        let blob = encode(&[("_lib", b""), ("x", b"abc")], &[&[1], &[]]);
        let payload = &blob[8..];
        for cut in 0..payload.len() {
            let err = parse(&payload[..cut]).expect_err("truncated");
            assert_eq!(err.kind(), LoadErrorKind::BadLibraryBin);
        }
        assert!(parse(payload).is_ok());
    }

    #[test]
    fn forged_lengths_and_indices_are_errors() {
        // A vector claiming 2^61 elements.
        let mut huge = Vec::new();
        huge.extend_from_slice(&(1u64 << 61).to_le_bytes());
        assert_eq!(parse(&huge).unwrap_err().kind(), LoadErrorKind::BadLibraryBin);
        // Module 0 importing module 5 of 1.
        let blob = encode(&[("_lib", b"")], &[&[5]]);
        assert!(parse(&blob[8..]).unwrap_err().message().contains("imports module 5"));
        // No modules at all.
        let blob = encode(&[], &[]);
        assert!(parse(&blob[8..]).unwrap_err().message().contains("no modules"));
    }
}
