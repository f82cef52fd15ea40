//! The writer: iterative (an explicit stack of open containers), so any nesting depth is
//! written without growing the call stack.
//!
//! The output is the reference's (`JSONWriter` in `json_writer.cc`) byte for byte: no
//! spaces when compact; with an indent, a newline and the running indent before every
//! element and before the closing bracket (so an empty container is `[` newline `]`), and
//! `": "` after keys; keys in the map's iteration order; strings escaped by
//! [`escape_string`].

use alloc::format;
use alloc::vec::Vec;

use tvmffi_core::{Any, AnyView, TypeIndex};

use super::identity::AddressSet;
use super::number::write_float;
use crate::error::Error;
use crate::map::{Map, MapIntoIter};
use crate::object_type::type_key;
use crate::seq::{Array, List};

/// A container being written, holding its own reference to it.
enum Open {
    Array {
        array: Array,
        next: usize,
    },
    /// `id` is the list's address, for cycle detection.
    List {
        list: List,
        next: usize,
        id: usize,
    },
    Object {
        pairs: MapIntoIter,
        first: bool,
    },
}

pub(super) struct Writer<'o> {
    out: &'o mut Vec<u8>,
    indent: i64,
    total_indent: i64,
    open: Vec<Open>,
    /// The lists being written: one inside itself is a cycle.
    active_lists: AddressSet,
}

impl<'o> Writer<'o> {
    pub(super) fn new(out: &'o mut Vec<u8>, indent: i32) -> Self {
        Self {
            out,
            indent: i64::from(indent),
            total_indent: 0,
            open: Vec::new(),
            active_lists: AddressSet::default(),
        }
    }

    pub(super) fn write(mut self, value: AnyView<'_>) -> Result<(), Error> {
        if let Some(container) = scalar(self.out, value)? {
            self.open(container)?;
        }
        while let Some(top) = self.open.last_mut() {
            // The next element of the innermost container (written if a scalar), or its end.
            let child = match top {
                Open::Array { array, next } => {
                    let Some(item) = array.as_slice().get(*next) else {
                        self.close();
                        continue;
                    };
                    let first = *next == 0;
                    *next += 1;
                    separate(self.out, first, self.indent, self.total_indent);
                    scalar(self.out, item.view())?
                }
                Open::List { list, next, .. } => {
                    // One at a time: the list may change meanwhile, as in the reference.
                    let Some(item) = list.get(*next) else {
                        self.close();
                        continue;
                    };
                    let first = *next == 0;
                    *next += 1;
                    separate(self.out, first, self.indent, self.total_indent);
                    scalar(self.out, item.view())?
                }
                Open::Object { pairs, first } => {
                    let Some((key, item)) = pairs.next() else {
                        self.close();
                        continue;
                    };
                    let was_first = core::mem::replace(first, false);
                    separate(self.out, was_first, self.indent, self.total_indent);
                    write_key(self.out, &key, self.indent)?;
                    scalar(self.out, item.view())?
                }
            };
            if let Some(container) = child {
                self.open(container)?;
            }
        }
        Ok(())
    }

    /// Start writing a container.
    fn open(&mut self, container: Container) -> Result<(), Error> {
        let (bracket, open) = match container {
            Container::Array(array) => (b'[', Open::Array { array, next: 0 }),
            Container::List(list) => {
                let id = list.as_object().as_raw() as usize;
                if !self.active_lists.insert(id) {
                    return Err(Error::value_error("Cycle detected: List contains itself"));
                }
                (b'[', Open::List { list, next: 0, id })
            }
            Container::Map(map) => (b'{', Open::Object { pairs: map.into_iter(), first: true }),
        };
        self.out.push(bracket);
        self.total_indent = self.total_indent.saturating_add(self.indent);
        self.open.push(open);
        Ok(())
    }

    fn close(&mut self) {
        let Some(open) = self.open.pop() else { return };
        if self.indent != 0 {
            self.total_indent = self.total_indent.saturating_sub(self.indent);
            newline(self.out, self.total_indent);
        }
        self.out.push(match open {
            Open::Array { .. } => b']',
            Open::List { id, .. } => {
                self.active_lists.remove(&id);
                b']'
            }
            Open::Object { .. } => b'}',
        });
    }
}

/// A container to open, with its own reference.
enum Container {
    Array(Array),
    List(List),
    Map(Map),
}

/// Write a scalar value, or return the container to open.
fn scalar(out: &mut Vec<u8>, value: AnyView<'_>) -> Result<Option<Container>, Error> {
    let index = value.type_index();
    match index {
        TypeIndex::NONE => out.extend_from_slice(b"null"),
        TypeIndex::BOOL => {
            out.extend_from_slice(if value.get::<bool>()? { b"true" } else { b"false" })
        }
        TypeIndex::INT => out.extend_from_slice(itoa(value.get::<i64>()?).as_bytes()),
        TypeIndex::FLOAT => write_float(out, value.get()?),
        TypeIndex::SMALL_STR | TypeIndex::STR | TypeIndex::RAW_STR => {
            escape_string(out, value.as_str_or_bytes()?);
        }
        TypeIndex::ARRAY => return Ok(Some(Container::Array(value.get()?))),
        TypeIndex::LIST => return Ok(Some(Container::List(value.get()?))),
        TypeIndex::MAP => return Ok(Some(Container::Map(value.get()?))),
        _ => {
            return Err(Error::value_error(format!("Unsupported type: `{}`", type_key(index))));
        }
    }
    Ok(None)
}

/// The comma before every element but the first, then the line break when indenting.
#[inline]
fn separate(out: &mut Vec<u8>, first: bool, indent: i64, total_indent: i64) {
    if !first {
        out.push(b',');
    }
    if indent != 0 {
        newline(out, total_indent);
    }
}

fn newline(out: &mut Vec<u8>, total_indent: i64) {
    out.push(b'\n');
    let n = usize::try_from(total_indent).unwrap_or(0);
    out.resize(out.len() + n, b' ');
}

fn write_key(out: &mut Vec<u8>, key: &Any, indent: i64) -> Result<(), Error> {
    if !matches!(key.type_index(), TypeIndex::SMALL_STR | TypeIndex::STR) {
        return Err(Error::value_error(format!(
            "Expect key to be string, got `{}`",
            type_key(key.type_index())
        )));
    }
    escape_string(out, key.as_str_or_bytes()?);
    out.push(b':');
    if indent != 0 {
        out.push(b' ');
    }
    Ok(())
}

/// A decimal integer, without allocating.
fn itoa(v: i64) -> ItoaBuf {
    let mut buf = ItoaBuf { bytes: [0; 20], start: 20 };
    let mut n = v.unsigned_abs();
    loop {
        buf.start -= 1;
        buf.bytes[buf.start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        buf.start -= 1;
        buf.bytes[buf.start] = b'-';
    }
    buf
}

struct ItoaBuf {
    bytes: [u8; 20],
    start: usize,
}

impl ItoaBuf {
    fn as_bytes(&self) -> &[u8] {
        &self.bytes[self.start..]
    }
}

/// How each byte is written inside a string: 0 as is, else the letter after `\` (`u` for
/// `\u00XX`).
const ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        table[i] = b'u';
        i += 1;
    }
    table[0x7f] = b'u';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table[b'/' as usize] = b'/';
    table[0x08] = b'b';
    table[0x0c] = b'f';
    table[b'\n' as usize] = b'n';
    table[b'\r' as usize] = b'r';
    table[b'\t' as usize] = b't';
    table
};

/// Append `bytes` quoted and escaped as the reference's `EscapeStringJSON` does: `"`,
/// `\`, `/`, `\b \f \n \r \t` with a backslash, other control characters and DEL as
/// `\u00xx` (lower-case hex), everything else (UTF-8 included) as is.
pub fn escape_string(out: &mut Vec<u8>, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut run = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let e = ESCAPE[usize::from(b)];
        if e == 0 {
            continue;
        }
        out.extend_from_slice(&bytes[run..i]);
        run = i + 1;
        if e == b'u' {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
        } else {
            out.push(b'\\');
            out.push(e);
        }
    }
    out.extend_from_slice(&bytes[run..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_as_the_reference_escapes_them() {
        let mut out = Vec::new();
        escape_string(&mut out, "a/b\"\\\u{8}\u{c}\n\r\t\u{1}\u{7f}é".as_bytes());
        assert_eq!(out, r#""a\/b\"\\\b\f\n\r\t\u0001\u007fé""#.as_bytes());
    }

    #[test]
    fn integers_are_decimal() {
        for v in [0, 7, -7, 1234567890, i64::MIN, i64::MAX] {
            assert_eq!(itoa(v).as_bytes(), alloc::format!("{v}").as_bytes());
        }
    }
}
