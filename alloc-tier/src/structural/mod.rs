//! Structural algorithms over any FFI value: equality, hashing, the first mismatch as a pair
//! of access paths, hash-cached keys, and visiting, walking, mapping and mutating object
//! graphs (the reference's `extra/structural_*.h`, `reflection/access_path.h` and
//! `extra/visit_error_context.h`).
//!
//! Objects are read through the runtime's reflection, as the reference reads them: the type's
//! fields (ancestors first) through their getters, its structural kind from its metadata,
//! and its custom hooks from the type attribute columns (`__s_equal__`, `__s_hash__`,
//! `__s_visit__`, `__s_mutate__`, `__s_maybe_inplace_mutate__`). So these work on C++ types,
//! Python dataclasses and Rust types alike, under any runtime that provides the C API.
//!
//! | module | what |
//! | --- | --- |
//! | [`mod@equal`] | [`structural_equal`], [`first_mismatch`] |
//! | [`mod@hash`] | [`structural_hash`], bit for bit the reference's where it is deterministic |
//! | [`path`] | [`AccessPath`], [`AccessStep`]: where in a value something is |
//! | [`key`] | [`StructuralKey`]: a value with its structural hash, for map keys |
//! | [`visit`] | [`StructuralVisitor`], walks and callback-driven visits, [`VisitInterrupt`] |
//! | [`mutate`] | [`StructuralMutator`], structural map and mutate |
//! | [`context`] | [`VisitErrorContext`]: where in a value a visit failed |
//!
//! # Depth and cycles
//!
//! The traversals keep their own stacks on the heap, so a chain a million objects deep is
//! compared, hashed, visited or mapped without deep native recursion. Only a custom hook
//! (C++, Python or Rust code called back with a nested value) recurses natively; that
//! nesting is bounded by a budget of native stack and fails with an error beyond it.
//!
//! The reference recurses until the stack overflows on a value that contains itself (a list
//! appended to itself, an object whose field points back to it). Here a traversal that
//! reaches an object again inside itself stops with a `ValueError` naming the object's type.
//!
//! # Determinism of hashes
//!
//! [`structural_hash`] is the reference's value for the same input: it mixes each type's
//! `type_key_hash` (libstdc++'s string hash of the type key, which the runtime stores), the
//! values' bits, text and tensor bytes. Two inputs make it process-specific in the reference
//! and here alike: free variables hashed outside a definition region (hashed by address), and
//! custom `__s_hash__` hooks that mix in addresses.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::unreachable,
    clippy::todo,
    clippy::unimplemented
)]

pub mod context;
pub mod equal;
pub mod hash;
mod items;
pub mod key;
pub mod mutate;
pub mod path;
mod reflect;
mod support;
pub mod visit;

pub use context::{VisitErrorContext, find_access_paths};
pub use equal::{first_mismatch, structural_equal};
pub use hash::structural_hash;
pub use key::StructuralKey;
pub use mutate::{InplaceMode, StructuralMutator, structural_map, structural_mutate};
pub use path::{AccessKind, AccessPath, AccessStep};
pub use visit::{
    StructuralVisitor, VisitInterrupt, WalkOrder, WalkResult, structural_visit, structural_walk,
};

pub use tvmffi_core::flags::DefRegionKind;

/// Options of [`structural_equal`], [`first_mismatch`] and [`structural_hash`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Options {
    /// Let free variables (variables with no definition site in the value) map to each
    /// other, as if the whole value were a pattern definition region.
    pub map_free_vars: bool,
    /// Compare and hash tensors by shape and data type only, not by their bytes.
    pub skip_tensor_content: bool,
}

impl Options {
    /// The def region a traversal starts in: a pattern region when free variables map.
    pub(crate) fn initial_region(self) -> DefRegionKind {
        if self.map_free_vars { DefRegionKind::PATTERN } else { DefRegionKind::NONE }
    }
}

/// "No region saved": the frames' marker for a region slot with nothing to restore.
pub(crate) const NO_REGION: DefRegionKind = DefRegionKind(-1);

/// The region a definition-carrying field opens inside `current`: a pattern region is never
/// left (entering any region inside it keeps the pattern), otherwise the field's own.
#[inline]
pub(crate) fn enter_region(current: DefRegionKind, field: DefRegionKind) -> DefRegionKind {
    if current == DefRegionKind::PATTERN { DefRegionKind::PATTERN } else { field }
}
