//! Small pieces the traversals share: maps keyed by object address, the native-stack budget
//! for hooks that recurse, detection of values that contain themselves, and lending a
//! traversal's state to a callback that re-enters it.

use alloc::format;
use alloc::sync::Arc;
use core::hash::{BuildHasherDefault, Hasher};
use core::sync::atomic::{AtomicPtr, Ordering};

use tvmffi_core::{AnyView, TypeIndex};

use crate::error::Error;
use crate::object_type::type_key;

/// A hasher for addresses: one folded multiplication, so both ends of the hash are mixed
/// (hashbrown reads the top bits and the bottom bits).
#[derive(Default, Clone, Copy)]
pub(crate) struct AddrHasher(u64);

impl Hasher for AddrHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        let p = u128::from(self.0 ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.0 = (p as u64) ^ ((p >> 64) as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A map keyed by address.
pub(crate) type AddrMap<V> = hashbrown::HashMap<usize, V, BuildHasherDefault<AddrHasher>>;
/// A set of addresses (or address pairs).
pub(crate) type AddrSet<K> = hashbrown::HashSet<K, BuildHasherDefault<AddrHasher>>;

/// Native stack a traversal may use below its first entry before refusing to nest deeper
/// through hooks (which recurse natively; the traversals themselves do not).
#[cfg(target_pointer_width = "64")]
const STACK_BUDGET: usize = 1 << 20;
#[cfg(not(target_pointer_width = "64"))]
const STACK_BUDGET: usize = 256 << 10;

/// The current native stack position.
#[inline(never)]
pub(crate) fn stack_position() -> usize {
    let marker = 0u8;
    core::hint::black_box(&marker) as *const u8 as usize
}

/// A native hook (an opaque-pointer attribute): the function, as a pointer that keeps its
/// provenance, so it can be called; `None` for any other attribute value.
pub(crate) fn native_hook(hook: &AnyView<'_>) -> Option<*mut core::ffi::c_void> {
    (hook.type_index() == TypeIndex::OPAQUE_PTR)
        .then(|| hook.get::<*mut core::ffi::c_void>().ok())
        .flatten()
}

/// Fail when the native stack has grown more than the budget since `base` (the position at
/// a traversal's first entry; 0 means no base yet).
pub(crate) fn check_stack(base: usize, what: &str) -> Result<(), Error> {
    // Miri places every local in an allocation of its own, at no stack-like address: the
    // distance means nothing there (and Miri's stack does not overflow natively).
    if cfg!(miri) || base == 0 || stack_position().abs_diff(base) <= STACK_BUDGET {
        return Ok(());
    }
    Err(Error::value_error(format!(
        "{what}: the value nests too deeply through custom structural hooks (more than {} KiB \
         of native stack), or contains itself through one",
        STACK_BUDGET >> 10
    )))
}

/// Push onto a traversal's frame stack: room first, then the frame `make` builds, written
/// straight into its slot (a frame built first and moved in is copied through the stack in
/// pieces that do not match how it was written, which stalls the loads).
#[inline(always)]
pub(crate) fn push_frame<F>(stack: &mut alloc::vec::Vec<F>, make: impl FnOnce() -> F) {
    let len = stack.len();
    if len == stack.capacity() {
        stack.reserve(1);
    }
    // SAFETY: after the reserve the vector has room for `len + 1` elements; the slot at `len`
    // is written before the length covers it.
    unsafe {
        stack.as_mut_ptr().add(len).write(make());
        stack.set_len(len + 1);
    }
}

/// Stack depths at which a traversal looks for an object on its own path: the first check,
/// then each time the depth doubles, so the checks cost O(1) per level overall.
pub(crate) const FIRST_CYCLE_CHECK: usize = 1024;

/// The error for a value that contains itself.
pub(crate) fn cycle_error(what: &str, type_index: TypeIndex) -> Error {
    Error::value_error(format!(
        "{what}: the value contains itself (a `{}` object is reachable from its own fields or \
         elements); structural algorithms need an acyclic value",
        type_key(type_index)
    ))
}

/// Whether `keys` (the objects on a traversal's path) holds a repeat; returns the first one.
pub(crate) fn first_repeat<K: core::hash::Hash + Eq + Copy>(
    keys: impl Iterator<Item = K>,
) -> Option<K> {
    let mut seen = AddrSet::default();
    let mut keys = keys;
    keys.find(|&key| !seen.insert(key))
}

/// A traversal's state lent to a callback function object that a hook calls back into.
///
/// The traversal stores a pointer to its state here right before calling the hook and takes
/// it back right after; the callback takes it while it runs, so a callback used after its
/// traversal ended, or concurrently from another thread, finds nothing and fails cleanly.
pub(crate) struct Lender<S> {
    slot: Arc<AtomicPtr<S>>,
}

impl<S> Clone for Lender<S> {
    fn clone(&self) -> Self {
        Self { slot: self.slot.clone() }
    }
}

impl<S> Default for Lender<S> {
    fn default() -> Self {
        Self { slot: Arc::new(AtomicPtr::new(core::ptr::null_mut())) }
    }
}

impl<S> Lender<S> {
    /// Lend `state` for the duration of `f` (a hook call).
    pub(crate) fn lend<R>(&self, state: &mut S, f: impl FnOnce() -> R) -> R {
        let prev = self.slot.swap(state, Ordering::AcqRel);
        let r = f();
        self.slot.store(prev, Ordering::Release);
        r
    }

    /// Run `f` on the lent state (from inside the callback), or fail when none is lent.
    pub(crate) fn borrow<R>(
        &self,
        what: &str,
        f: impl FnOnce(&mut S) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let p = self.slot.swap(core::ptr::null_mut(), Ordering::AcqRel);
        if p.is_null() {
            return Err(Error::runtime_error(format!(
                "{what}: the callback was called outside the structural traversal that made it"
            )));
        }
        // SAFETY: the pointer was lent by `lend` from a live `&mut S` whose owner is
        // suspended inside the hook call that led here; taking it out of the slot makes this
        // the only user until it is put back below.
        let r = f(unsafe { &mut *p });
        self.slot.store(p, Ordering::Release);
        r
    }
}

/// The text of a string value, for messages and names.
pub(crate) fn text_of(value: AnyView<'_>) -> Option<alloc::string::String> {
    value.as_str().ok().map(alloc::string::String::from)
}

/// Start the runtime (register its built-ins) if it has not started yet.
///
/// The structural types are built-in types: the runtime registers them (and fills their
/// index caches) while it starts. Looking one up first thing in a program would otherwise
/// begin that lookup (holding the type's index cache), start the runtime from inside it,
/// and have the start-up wait for the cache the lookup holds. So every path to one of these
/// types' indices calls this first; once started, it is one atomic load.
pub(crate) fn runtime_started() {
    static STARTED: core::sync::atomic::AtomicBool = core::sync::atomic::AtomicBool::new(false);
    if !STARTED.load(Ordering::Acquire) {
        // SAFETY: any index may be asked for; the answer (a live entry or null with an
        // error raised) is only used to start the runtime.
        let info = unsafe { tvmffi_core::sys::api::TVMFFIGetTypeInfo(TypeIndex::OBJECT.0) };
        if info.is_null() {
            drop(Error::take_raised());
        }
        STARTED.store(true, Ordering::Release);
    }
}

/// A new object of one of the structural types (see [`runtime_started`]).
pub(crate) fn new_object<T>(
    value: T,
) -> Result<tvmffi_core::ObjectRef<tvmffi_core::Object<T>>, Error>
where
    T: crate::object_type::ObjectDef + tvmffi_core::Payload,
{
    runtime_started();
    crate::object_type::new_object(value)
}

/// The type index of one of the structural types (see [`runtime_started`]).
pub(crate) fn type_index<T: crate::object_type::ObjectDef>() -> Result<TypeIndex, Error> {
    runtime_started();
    crate::object_type::type_index::<T>()
}

/// Make a structural payload type a built-in object type under `ffi.Object`: implements
/// `ObjectDef` (for the reflection registered at start-up) and `Payload`, whose instance
/// check starts the runtime first (see [`runtime_started`]).
macro_rules! builtin_type {
    (
        // SAFETY: ...
        unsafe impl for $ty:ty { type_key = $key:expr; is_final = $final:expr; }
    ) => {
        // SAFETY: the invoker's `unsafe`: the key is the reference's, and objects of it (and
        // of its subclasses) start with `$ty`'s layout.
        unsafe impl $crate::object_type::ObjectDef for $ty {
            const TYPE_KEY: &'static str = $key;
            type Parent = $crate::object_type::ObjectRoot;
            const FINAL: bool = $final;

            fn type_index_cache() -> &'static $crate::object_type::TypeIndexCache {
                static CACHE: $crate::object_type::TypeIndexCache =
                    $crate::object_type::TypeIndexCache::new();
                &CACHE
            }
        }

        // SAFETY: `is_instance` accepts this type's index and its subclasses' only, which
        // the `ObjectDef` contract lays out as `Object<Self>`.
        unsafe impl tvmffi_core::Payload for $ty {
            const TYPE_KEY: &'static str = $key;

            #[inline]
            fn is_instance(type_index: tvmffi_core::TypeIndex) -> bool {
                $crate::structural::support::runtime_started();
                $crate::object_type::is_instance::<$ty>(type_index)
            }
        }
    };
}
pub(crate) use builtin_type;
