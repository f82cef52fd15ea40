//! Reference-counted objects: the header, owning and weak references, and storage that
//! needs no allocator (`static` objects and fixed pools).

mod header;

pub use header::{BOTH_ONE, ObjectHeader, STRONG_ONE, WEAK_ONE};
