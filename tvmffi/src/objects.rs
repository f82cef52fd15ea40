//! Support of `#[derive(Object)]`'s expansion: what it registers depends on whether the
//! type is `Default` (a creator, hence `__ffi_new__` and the generated `__ffi_init__`) and
//! `Clone` (`__ffi_shallow_copy__`), as the reference's `ObjectDef` registers them for
//! default-constructible and copy-constructible C++ classes. The derive cannot see the
//! type's impls, so it asks at compile time by method resolution on a [`Probe`]: the impls
//! for `&Probe<T>` bounded by the trait win when `T` has it, the ones for `Probe<T>` (one
//! auto-deref further) when it does not.

use core::marker::PhantomData;

use tvmffi_alloc::function::Boundary;
use tvmffi_alloc::object_type::info::TypeInfo;
use tvmffi_alloc::object_type::{ObjectDef, Reflect};
use tvmffi_core::flags::SEqHashKind;
use tvmffi_core::{Payload, TypeIndex};

/// The structural equality kind of the parent of the type `index` (registered before it),
/// which a subclass without its own inherits, as a C++ subclass inherits
/// `_type_s_eq_hash_kind`.
pub fn parent_eq_hash_kind(index: TypeIndex) -> SEqHashKind {
    TypeInfo::of(index)
        .and_then(|t| t.parent())
        .and_then(|p| p.metadata())
        .map_or(SEqHashKind::UNSUPPORTED, |m| m.structural_eq_hash_kind)
}

/// A type to ask about, by method resolution on `&&Probe::<T>::new()`.
pub struct Probe<T>(PhantomData<fn() -> T>);

impl<T> Probe<T> {
    /// The probe.
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<T> Default for Probe<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// Chosen for a `Default` type: objects are created empty from `T::default()`.
pub trait WithDefault<T, B> {
    /// Add the creator.
    fn __tvmffi_creator(&self, r: Reflect<T, B>) -> Reflect<T, B>;
}

impl<T: ObjectDef + Payload + Default, B: Boundary> WithDefault<T, B> for &Probe<T> {
    fn __tvmffi_creator(&self, r: Reflect<T, B>) -> Reflect<T, B> {
        r.default_creator()
    }
}

/// Chosen for a type that is not `Default`: no creator.
pub trait WithoutDefault<T, B> {
    /// Leave the reflection as it is.
    fn __tvmffi_creator(&self, r: Reflect<T, B>) -> Reflect<T, B>;
}

impl<T, B> WithoutDefault<T, B> for Probe<T> {
    fn __tvmffi_creator(&self, r: Reflect<T, B>) -> Reflect<T, B> {
        r
    }
}

/// Chosen for a `Clone` type: `__ffi_shallow_copy__` from `T::clone`.
pub trait WithClone<T, B> {
    /// Add the shallow copy.
    fn __tvmffi_shallow_copy(&self, r: Reflect<T, B>) -> Reflect<T, B>;
}

impl<T: ObjectDef + Payload + Clone, B: Boundary> WithClone<T, B> for &Probe<T> {
    fn __tvmffi_shallow_copy(&self, r: Reflect<T, B>) -> Reflect<T, B> {
        r.shallow_copy()
    }
}

/// Chosen for a type that is not `Clone`: no shallow copy.
pub trait WithoutClone<T, B> {
    /// Leave the reflection as it is.
    fn __tvmffi_shallow_copy(&self, r: Reflect<T, B>) -> Reflect<T, B>;
}

impl<T, B> WithoutClone<T, B> for Probe<T> {
    fn __tvmffi_shallow_copy(&self, r: Reflect<T, B>) -> Reflect<T, B> {
        r
    }
}

/// Proof that two types are one.
#[diagnostic::on_unimplemented(
    message = "the first field of a type with `parent = {Self}` must be of type `{Self}`, not `{A}`",
    label = "the parent's payload goes first"
)]
pub trait SameAs<A> {}

impl<T> SameAs<T> for T {}

/// Compiles only when `Parent` and `First` are one type.
pub const fn same_type<Parent: SameAs<First>, First>() {}
