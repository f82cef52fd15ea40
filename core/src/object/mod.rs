//! Reference-counted objects: the header, owning and weak references, and storage that
//! needs no allocator (`static` objects and fixed pools).
//!
//! - [`ObjectHeader`]: the C header with its atomic strong/weak counter.
//! - [`ObjectType`] / [`Payload`]: which Rust types may view an object; [`Object<P>`] lays
//!   an object out as the header then a payload, as the C ABI does.
//! - [`ObjectRef`] / [`WeakRef`]: owned strong and weak references (`ObjectPtr`,
//!   `WeakObjectPtr` in the reference).
//! - [`StaticObject`] and [`ObjectPool`]: objects in `static` memory, never freed or
//!   recycled slot by slot. Heap objects live in `tvmffi-alloc`.

mod header;
mod object_ref;
mod object_type;
mod pool;
// Public for the loom models only (`--cfg loom`); the header is the API.
#[cfg(loom)]
#[doc(hidden)]
pub mod refcount;
#[cfg(not(loom))]
mod refcount;
mod static_object;
mod weak_ref;

pub use header::{BOTH_ONE, CPP_LAYOUTS, ObjectHeader, STRONG_ONE, WEAK_ONE};
pub use object_ref::ObjectRef;
pub use object_type::{Object, ObjectType, Payload};
pub use pool::ObjectPool;
pub use static_object::StaticObject;
pub use weak_ref::WeakRef;
