//! Object types defined in Rust, and opaque objects.
//!
//! # Rust-defined types
//!
//! A Rust struct becomes an FFI object type with [`object_type!`](crate::object_type!):
//! its type key is registered with the runtime on first use
//! (`TVMFFITypeGetOrAllocIndex`, as the reference's `TVM_FFI_DECLARE_OBJECT_INFO` does),
//! under a parent type, and the allocated index is cached in a [`TypeIndexCache`]. Objects
//! are made with [`new_object`] and are ordinary `Object<T>`s: `ObjectRef<Object<T>>`,
//! stored in [`Any`](tvmffi_core::Any), read back with `view.get::<ObjectRef<Object<T>>>()`.
//!
//! [`is_instance`] answers "is an object of index `i` a `T`?" as the reference's
//! `IsObjectInstance` does: the type's own index and its reserved child slots first, then
//! the ancestors recorded in the runtime's type table (`TVMFFIGetTypeInfo`), so an object of
//! a subclass downcasts to its parent.
//!
//! ```
//! use tvmffi_alloc::object_type::{self, ObjectRoot};
//!
//! #[repr(C)]
//! struct Shape2 {
//!     area: f64,
//! }
//! #[repr(C)]
//! struct Square {
//!     base: Shape2, // a subclass starts with its parent's payload
//!     side: f64,
//! }
//!
//! tvmffi_alloc::object_type! {
//!     // SAFETY: the keys are ours; `Square` starts with `Shape2`.
//!     unsafe impl ObjectDef for Shape2 { type_key = "example.Shape2"; parent = ObjectRoot; }
//! }
//! tvmffi_alloc::object_type! {
//!     // SAFETY: as above.
//!     unsafe impl ObjectDef for Square { type_key = "example.Square"; parent = Shape2; }
//! }
//!
//! # #[cfg(feature = "runtime")] {
//! use tvmffi_core::{Any, Object, ObjectRef};
//! let sq = object_type::new_object(Square { base: Shape2 { area: 4.0 }, side: 2.0 }).unwrap();
//! let any = Any::from(sq);
//! let shape: ObjectRef<Object<Shape2>> = any.get().unwrap(); // a Square is a Shape2
//! assert_eq!(shape.area, 4.0);
//! # }
//! ```
//!
//! # Reflection
//!
//! [`Reflect`] registers what the reference's `refl::ObjectDef<T>` registers for a C++
//! type: metadata, fields ([`field!`](crate::field!), [`FieldCell`] for writable ones),
//! methods and type attributes, so that C++, Python and the built-in algorithms
//! (`ffi.ReprPrint`, `ffi.DeepCopy`, ...) see a Rust type as they see a C++ one. [`info`]
//! reads any registered type's reflection back, whoever defined it.
//!
//! # Opaque objects
//!
//! [`OpaqueObject`] is `TVMFFIObjectCreateOpaque`: an object holding a foreign handle (a
//! Python object, say) and the deleter that releases it.

mod cell;
mod field;
pub mod info;
mod opaque;
mod reflect;
mod target;
// The getters and setters raise errors through the C API, which needs a runtime.
#[cfg(all(test, feature = "runtime"))]
mod tests;

use alloc::format;
use alloc::string::String;

use tvmffi_core::sys::{TVMFFIByteArray, TVMFFITypeInfo, api};
use tvmffi_core::{Object, ObjectRef, Payload, TypeIndex};

use crate::error::Error;
use crate::heap;
use crate::runtime::TypeTable;

pub use cell::FieldCell;
pub use field::{Field, FieldStorage, FieldType, Info, MetaValue};
pub use opaque::{OpaqueCell, OpaqueObject};
pub use reflect::{INIT, Reflect};

/// The cached type index of one Rust-defined type: empty until the first use registers it.
pub struct TypeIndexCache(spin::Once<i32>);

impl TypeIndexCache {
    /// An empty cache.
    pub const fn new() -> Self {
        Self(spin::Once::new())
    }
}

impl Default for TypeIndexCache {
    fn default() -> Self {
        Self::new()
    }
}

impl core::fmt::Debug for TypeIndexCache {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("TypeIndexCache").field(&self.0.get()).finish()
    }
}

/// A type that Rust-defined types can derive from: [`ObjectRoot`] or another [`ObjectDef`].
pub trait TypeAncestor {
    /// Depth in the type tree: 0 for `ffi.Object`.
    const DEPTH: i32;
    /// Whether no type may derive from it.
    const FINAL: bool;
    /// Its runtime type index (registering it if needed).
    fn ancestor_index() -> Result<TypeIndex, Error>;

    /// Its index in `types`, registering it there if needed (for built-in types registered
    /// at the runtime's start-up, see [`Reflect::register_into`]).
    fn index_in(types: &mut TypeTable) -> Result<TypeIndex, Error>;
}

/// `ffi.Object`, the root of all object types.
#[derive(Debug, Clone, Copy)]
pub enum ObjectRoot {}

impl TypeAncestor for ObjectRoot {
    const DEPTH: i32 = 0;
    const FINAL: bool = false;

    fn ancestor_index() -> Result<TypeIndex, Error> {
        Ok(TypeIndex::OBJECT)
    }

    fn index_in(_types: &mut TypeTable) -> Result<TypeIndex, Error> {
        Ok(TypeIndex::OBJECT)
    }
}

/// A Rust struct that is an FFI object type with a runtime-allocated index. Implement it
/// with [`object_type!`](crate::object_type!), which also implements
/// [`Payload`] in terms of [`is_instance`].
///
/// # Safety
///
/// - `TYPE_KEY` names this type alone: no other type (Rust or C++, in this library or any
///   other sharing the runtime) registers it with another layout, and every type registered
///   under it as an ancestor lays its objects out starting with an `Object<Self>`.
/// - When `Parent` is an `ObjectDef`, `Self` is `#[repr(C)]` and starts with the parent's
///   payload, so that an object of this type is also a valid `Object<Parent>`.
pub unsafe trait ObjectDef: Send + Sync + Sized + 'static {
    /// The unique type key, e.g. `"example.Point"`.
    const TYPE_KEY: &'static str;
    /// The parent type.
    type Parent: TypeAncestor;
    /// Type indices reserved for subclasses, which then check with one comparison.
    const CHILD_SLOTS: u32 = 0;
    /// Whether more subclasses than `CHILD_SLOTS` may be registered (found through the
    /// type table).
    const CHILD_SLOTS_CAN_OVERFLOW: bool = true;
    /// Whether no type may derive from this one; checks then compare one index.
    const FINAL: bool = false;

    /// The cache of this type's index: a `static` of its own.
    fn type_index_cache() -> &'static TypeIndexCache;

    /// Register what else the runtime should know of the type (its [`Reflect`]ion), once,
    /// right after [`type_index`] allocated the index and before any caller gets it: so no
    /// object of the type exists without its reflection. The default registers nothing;
    /// the `tvmffi::Object` derive registers the type's fields and methods here.
    ///
    /// It runs inside [`type_index::<Self>`](type_index), so it must not call it (nor make
    /// objects of the type): register with the index given, as
    /// [`Reflect::register_at`] does. An error fails the type's registration.
    fn on_register(index: TypeIndex) -> Result<(), Error> {
        let _ = index;
        Ok(())
    }
}

impl<T: ObjectDef> TypeAncestor for T {
    const DEPTH: i32 = T::Parent::DEPTH + 1;
    const FINAL: bool = T::FINAL;

    fn ancestor_index() -> Result<TypeIndex, Error> {
        type_index::<T>()
    }

    fn index_in(types: &mut TypeTable) -> Result<TypeIndex, Error> {
        reflect::table_index::<T>(types)
    }
}

/// Make a Rust struct an FFI object type: implements [`ObjectDef`] and `Payload`.
///
/// ```text
/// object_type! {
///     // SAFETY: why the key is unique and the layout prefix holds
///     unsafe impl ObjectDef for Type {
///         type_key = "my.Type";
///         parent = ObjectRoot;          // or another ObjectDef type
///         child_slots = 4;              // optional, default 0
///         can_overflow = true;          // optional, default true
///         is_final = false;             // optional, default false
///     }
/// }
/// ```
///
/// The `unsafe` accepts the contract of [`ObjectDef`].
#[macro_export]
macro_rules! object_type {
    (
        $(#[$meta:meta])*
        unsafe impl ObjectDef for $ty:ty {
            type_key = $key:expr;
            parent = $parent:ty;
            $(child_slots = $slots:expr;)?
            $(can_overflow = $overflow:expr;)?
            $(is_final = $final:expr;)?
        }
    ) => {
        $(#[$meta])*
        // SAFETY: the invoker accepted the `ObjectDef` contract by writing `unsafe`.
        unsafe impl $crate::object_type::ObjectDef for $ty {
            const TYPE_KEY: &'static str = $key;
            type Parent = $parent;
            $(const CHILD_SLOTS: u32 = $slots;)?
            $(const CHILD_SLOTS_CAN_OVERFLOW: bool = $overflow;)?
            $(const FINAL: bool = $final;)?

            fn type_index_cache() -> &'static $crate::object_type::TypeIndexCache {
                static CACHE: $crate::object_type::TypeIndexCache =
                    $crate::object_type::TypeIndexCache::new();
                &CACHE
            }
        }

        // SAFETY: `is_instance` accepts this type's index and its subclasses' only, which
        // the `ObjectDef` contract lays out as `Object<Self>`.
        unsafe impl $crate::core_tier::Payload for $ty {
            const TYPE_KEY: &'static str = $key;

            #[inline]
            fn is_instance(type_index: $crate::core_tier::TypeIndex) -> bool {
                $crate::object_type::is_instance::<$ty>(type_index)
            }
        }
    };
}

fn byte_array(s: &str) -> TVMFFIByteArray {
    TVMFFIByteArray { data: s.as_ptr().cast(), size: s.len() }
}

/// The runtime type index of `T`, registering the type (and its ancestors) on first use.
///
/// A failed registration is remembered: later calls fail too, without retrying.
pub fn type_index<T: ObjectDef>() -> Result<TypeIndex, Error> {
    const { assert!(!<T::Parent as TypeAncestor>::FINAL, "the parent type is final") };
    let mut failure = None;
    let index = *T::type_index_cache().0.call_once(|| {
        match register::<T>().and_then(|index| {
            T::on_register(index)?;
            Ok(index)
        }) {
            Ok(index) => index.0,
            Err(e) => {
                failure = Some(e);
                -1
            }
        }
    });
    if index >= 0 {
        return Ok(TypeIndex(index));
    }
    Err(failure.unwrap_or_else(|| {
        Error::runtime_error(format!("type `{}` failed to register earlier", T::TYPE_KEY))
    }))
}

fn register<T: ObjectDef>() -> Result<TypeIndex, Error> {
    let parent = T::Parent::ancestor_index()?;
    let depth = <T as TypeAncestor>::DEPTH;
    let slots = i32::try_from(T::CHILD_SLOTS)
        .map_err(|_| Error::value_error(format!("too many child slots for `{}`", T::TYPE_KEY)))?;
    let key = byte_array(T::TYPE_KEY);
    // SAFETY: `key` describes a live string; the rest are plain integers.
    let index = unsafe {
        api::TVMFFITypeGetOrAllocIndex(
            &key,
            -1,
            depth,
            slots,
            T::CHILD_SLOTS_CAN_OVERFLOW.into(),
            parent.0,
        )
    };
    if index < 0 {
        return Err(Error::take_raised().unwrap_or_else(|| {
            Error::runtime_error(format!("type `{}` could not be registered", T::TYPE_KEY))
        }));
    }
    let info = type_info(TypeIndex(index))
        .ok_or_else(|| Error::runtime_error(format!("no type info for `{}`", T::TYPE_KEY)))?;
    check_place::<T>(info, parent)?;
    Ok(TypeIndex(index))
}

/// The key may have been registered before, by someone else: make sure it sits where `T`'s
/// definition says, under the same parent.
fn check_place<T: ObjectDef>(info: &TVMFFITypeInfo, parent: TypeIndex) -> Result<(), Error> {
    let depth = <T as TypeAncestor>::DEPTH;
    if info.type_depth != depth || ancestor(info, depth - 1) != Some(parent) {
        return Err(Error::type_error(format!(
            "type `{}` is already registered with another parent or depth",
            T::TYPE_KEY
        )));
    }
    Ok(())
}

/// The runtime's type information of `index` (`TVMFFIGetTypeInfo`).
fn type_info(index: TypeIndex) -> Option<&'static TVMFFITypeInfo> {
    // SAFETY: the runtime returns null or an entry that lives as long as the process; its
    // index, depth, key and ancestors never change once registered.
    unsafe { api::TVMFFIGetTypeInfo(index.0).as_ref() }
}

/// The index of the ancestor of `info` at `depth`.
fn ancestor(info: &TVMFFITypeInfo, depth: i32) -> Option<TypeIndex> {
    if depth < 0 || depth >= info.type_depth || info.type_ancestors.is_null() {
        return None;
    }
    let depth = usize::try_from(depth).ok()?;
    // SAFETY: `type_ancestors` has `type_depth` entries, each a live type info.
    let parent = unsafe { (*info.type_ancestors.add(depth)).as_ref() }?;
    Some(TypeIndex(parent.type_index))
}

/// Whether an object of runtime index `actual` is a `T` (the reference's
/// `IsObjectInstance`): its own index or a reserved child slot, else (if subclasses may
/// overflow the slots) an ancestor check in the runtime's type table.
pub fn is_instance<T: ObjectDef>(actual: TypeIndex) -> bool {
    let Ok(target) = type_index::<T>() else {
        return false;
    };
    if T::FINAL {
        return actual == target;
    }
    let slots = i32::try_from(T::CHILD_SLOTS).unwrap_or(0);
    if actual.0 >= target.0 && actual.0 <= target.0.saturating_add(slots) {
        return true;
    }
    if !T::CHILD_SLOTS_CAN_OVERFLOW || actual.0 < target.0 {
        return false;
    }
    let depth = <T as TypeAncestor>::DEPTH;
    type_info(actual).is_some_and(|info| ancestor(info, depth) == Some(target))
}

/// Make an object of the Rust-defined type `T` holding `value` (registering `T` on first
/// use).
pub fn new_object<T: ObjectDef + Payload>(value: T) -> Result<ObjectRef<Object<T>>, Error> {
    let index = type_index::<T>()?;
    Ok(heap::new_object(index, value))
}

/// The type key of `index`, for messages: the static key, or the runtime's for dynamic
/// types (`TVMFFIGetTypeInfo`), or `object(type_index=N)` when unknown.
pub fn type_key(index: TypeIndex) -> String {
    if let Some(key) = index.static_type_key() {
        return String::from(key);
    }
    if index.0 >= TypeIndex::DYN_OBJECT_BEGIN.0 {
        if let Some(info) = type_info(index) {
            // SAFETY: the key of a registered type lives as long as its entry.
            let key = unsafe { crate::error::bytes_of(&info.type_key) }.unwrap_or_default();
            return String::from_utf8_lossy(key).into_owned();
        }
    }
    format!("{index}")
}
