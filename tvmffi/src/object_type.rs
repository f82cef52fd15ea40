//! Object types defined in Rust: the alloc tier's `object_type` (with [`ObjectDef`],
//! [`Reflect`], [`FieldCell`], [`new_object`], [`info`]) and [`Reflection`], the
//! reflection builder that [`#[derive(Object)]`](derive@crate::Object) hands to a `methods`
//! function.
//!
//! ```
//! use tvmffi::object_type::{self, FieldCell, Reflection};
//! use tvmffi::prelude::*;
//!
//! /// A counter.
//! #[derive(Object, Clone, Default)]
//! #[tvmffi(type_key = "example.doc.Counter", methods = counter_methods)]
//! #[repr(C)]
//! struct Counter {
//!     /// The count so far.
//!     count: FieldCell<i64>,
//! }
//!
//! fn counter_methods(r: Reflection<Counter>) -> Reflection<Counter> {
//!     r.def("bump", |c: ObjectRef<Object<Counter>>, by: i64| c.count.set(c.count.get() + by))
//! }
//!
//! let c = object_type::new_object(Counter::default()).unwrap();
//! let info = object_type::info::TypeInfo::of(c.type_index()).unwrap();
//! let bump = info.method("bump").unwrap().function().unwrap();
//! bump.call(&[AnyView::from(&c), AnyView::from(2i64)]).unwrap();
//! assert_eq!(c.count.get(), 2);
//! assert_eq!(info.field("count").unwrap().doc(), "The count so far.");
//! ```

pub use tvmffi_alloc::object_type::*;

/// The reflection builder of a derived type, with this crate's panic policy
/// (`CatchPanic` with `std`, aborting without): what a `methods = path` function takes and
/// returns to add methods, type attributes or anything else [`Reflect`] offers.
pub type Reflection<T> = Reflect<T, crate::__private::DefaultBoundary>;
