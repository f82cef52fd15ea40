//! [`SystemLib`]: packed functions registered by name in a fixed-capacity `static`, for
//! programs without an allocator.
//!
//! This is the reference's *system library* (`TVMFFIEnvModRegisterSystemLibSymbol`, then
//! `Module::system_lib`) cut down to what a microcontroller can afford: statically linked
//! kernels register their `safe_call` entry points under a name, and callers look them up and
//! call them through the packed convention with a null handle, exactly as the reference calls
//! `__tvm_ffi_<name>` symbols. Entries are never removed; a later registration of a name
//! shadows the earlier one, as in the reference.
//!
//! Registration is lock-free and needs only compare-and-swap on a `usize` (on a Cortex-M0 the
//! firmware provides it, see the crate's notes on atomics): a registrant claims the next entry,
//! writes it, then publishes it with a release store; readers see only published entries.

use core::ffi::c_void;
use core::fmt;
use core::mem::MaybeUninit;

// Under `cfg(loom)` (the model in `tests/loom_system_lib.rs`) the registry's atomics and
// cells are loom's, which explore every interleaving; the algorithm is the same code.
#[cfg(not(loom))]
use crate::atomic::{AtomicBool, AtomicUsize, Ordering};
use crate::call::{CallError, call_raw};
use crate::sys::TVMFFISafeCallType;
use crate::{Any, AnyView};
#[cfg(loom)]
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// One registered function: a name and a `safe_call` entry point that takes a null handle.
///
/// Only a [`SystemLib`] makes these, from entry points whose registrant vouched for them, so
/// calling one is safe.
#[derive(Clone, Copy)]
pub struct SystemFunction {
    name: &'static str,
    safe_call: TVMFFISafeCallType,
}

impl SystemFunction {
    /// The name it was registered under.
    #[inline]
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The C entry point (to be called with a null handle).
    #[inline]
    pub fn safe_call(&self) -> TVMFFISafeCallType {
        self.safe_call
    }

    /// Call the function with `args` through the packed convention.
    ///
    /// A non-zero return code comes back as [`CallError::Raised`]; the error itself waits in
    /// whatever raised-error slot the program's C API provider keeps.
    #[inline]
    pub fn call(&self, args: &[AnyView<'_>]) -> Result<Any, CallError> {
        // SAFETY: `SystemLib::register`'s caller vouched that the entry point follows the
        // packed convention when called with a null handle.
        unsafe { call_raw(self.safe_call, core::ptr::null_mut::<c_void>(), args) }
    }
}

impl fmt::Debug for SystemFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SystemFunction")
            .field("name", &self.name)
            .field("safe_call", &(self.safe_call as *const c_void))
            .finish()
    }
}

/// A [`SystemLib`] had no free entry left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct RegistryFull {
    /// The name that could not be registered.
    pub name: &'static str,
    /// The registry's capacity.
    pub capacity: usize,
}

impl fmt::Display for RegistryFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot register `{}`: the system library's {} entries are taken",
            self.name, self.capacity
        )
    }
}

impl core::error::Error for RegistryFull {}

struct Entry {
    function: Slot,
    /// Set (Release) once `function` is written; never cleared.
    published: AtomicBool,
}

impl Entry {
    #[cfg(not(loom))]
    const fn empty() -> Self {
        Self { function: Slot::empty(), published: AtomicBool::new(false) }
    }

    #[cfg(loom)]
    fn empty() -> Self {
        Self { function: Slot::empty(), published: AtomicBool::new(false) }
    }

    fn get(&self) -> Option<SystemFunction> {
        if !self.published.load(Ordering::Acquire) {
            return None;
        }
        // SAFETY: published, so the one write happened before the Release store our Acquire
        // load saw, and the entry is never written again.
        Some(unsafe { self.function.read() })
    }
}

/// An entry's function, written once before it is published.
#[cfg(not(loom))]
struct Slot(core::cell::UnsafeCell<MaybeUninit<SystemFunction>>);
/// Loom's cell, which checks that the write happens before every read.
#[cfg(loom)]
struct Slot(loom::cell::UnsafeCell<MaybeUninit<SystemFunction>>);

impl Slot {
    #[cfg(not(loom))]
    const fn empty() -> Self {
        Self(core::cell::UnsafeCell::new(MaybeUninit::uninit()))
    }

    #[cfg(loom)]
    fn empty() -> Self {
        Self(loom::cell::UnsafeCell::new(MaybeUninit::uninit()))
    }

    /// # Safety
    ///
    /// No one else reads or writes the slot during the call.
    unsafe fn write(&self, f: SystemFunction) {
        #[cfg(not(loom))]
        // SAFETY: exclusive (caller).
        unsafe {
            self.0.get().write(MaybeUninit::new(f))
        };
        #[cfg(loom)]
        // SAFETY: exclusive (caller).
        self.0.with_mut(|p| unsafe { p.write(MaybeUninit::new(f)) });
    }

    /// # Safety
    ///
    /// The slot was written, and that write happened before this call.
    unsafe fn read(&self) -> SystemFunction {
        #[cfg(not(loom))]
        // SAFETY: initialised and not written concurrently (caller).
        return unsafe { (*self.0.get()).assume_init() };
        #[cfg(loom)]
        // SAFETY: initialised and not written concurrently (caller).
        return self.0.with(|p| unsafe { (*p).assume_init() });
    }
}

/// Up to `N` packed functions by name, in memory the program provides (usually a `static`).
///
/// ```
/// use tvmffi_core::system_lib::SystemLib;
/// use tvmffi_core::sys::TVMFFIAny;
/// use tvmffi_core::{call, Any, AnyView};
///
/// /// `answer() -> 42`, a packed C entry point like a `__tvm_ffi_answer` symbol.
/// unsafe extern "C" fn answer(
///     _: *mut core::ffi::c_void,
///     _: *const TVMFFIAny,
///     _: i32,
///     result: *mut TVMFFIAny,
/// ) -> i32 {
///     // SAFETY: the convention hands us a writable result slot holding no object.
///     unsafe { call::write_result(result, Any::from(42i64)) };
///     0
/// }
///
/// static LIB: SystemLib<4> = SystemLib::new();
/// // SAFETY: `answer` follows the packed convention and ignores its handle.
/// unsafe { LIB.register("answer", answer) }.unwrap();
///
/// let f = LIB.get("answer").unwrap();
/// assert_eq!(f.call(&[]).unwrap().get::<i64>().unwrap(), 42);
/// assert!(LIB.get("question").is_none());
/// ```
pub struct SystemLib<const N: usize> {
    /// Entries claimed so far (some may not be published yet), at most `N`.
    claimed: AtomicUsize,
    entries: [Entry; N],
}

// SAFETY: an entry is written only by the one registrant that claimed its index (the CAS on
// `claimed` hands each index out once) and read only after its Release publication. A
// `SystemFunction` is a `&'static str` and a function pointer, both shareable.
unsafe impl<const N: usize> Sync for SystemLib<N> {}

impl<const N: usize> SystemLib<N> {
    /// An empty registry; `const`, so it can initialise a `static`.
    #[cfg(not(loom))]
    pub const fn new() -> Self {
        Self { claimed: AtomicUsize::new(0), entries: [const { Entry::empty() }; N] }
    }

    /// An empty registry (loom's atomics cannot be made in `const`).
    #[cfg(loom)]
    pub fn new() -> Self {
        Self { claimed: AtomicUsize::new(0), entries: core::array::from_fn(|_| Entry::empty()) }
    }

    /// The number of entries.
    #[inline]
    pub const fn capacity(&self) -> usize {
        N
    }

    /// Register `safe_call` under `name`, shadowing any earlier registration of `name`.
    ///
    /// Every registration takes an entry, shadowed or not, so a registry of capacity `N`
    /// takes `N` registrations.
    ///
    /// # Safety
    ///
    /// `safe_call` follows the packed convention when called with a null handle, as
    /// system-library entry points (`__tvm_ffi_<name>` symbols) do: it reads `num_args`
    /// views from `args`, and on success writes an owned value to `result`.
    pub unsafe fn register(
        &self,
        name: &'static str,
        safe_call: TVMFFISafeCallType,
    ) -> Result<(), RegistryFull> {
        let full = RegistryFull { name, capacity: N };
        let mut index = self.claimed.load(Ordering::Relaxed);
        loop {
            if index >= N {
                return Err(full);
            }
            match self.claimed.compare_exchange_weak(
                index,
                index + 1,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(now) => index = now,
            }
        }
        let entry = self.entries.get(index).ok_or(full)?;
        // SAFETY: the CAS gave us `index` alone, and nobody reads the entry before it is
        // published below.
        unsafe { entry.function.write(SystemFunction { name, safe_call }) };
        entry.published.store(true, Ordering::Release);
        Ok(())
    }

    /// The function registered last under `name`.
    pub fn get(&self, name: &str) -> Option<SystemFunction> {
        self.iter().find(|f| f.name == name)
    }

    /// Every published registration, newest first (shadowed ones included).
    pub fn iter(&self) -> impl Iterator<Item = SystemFunction> + '_ {
        let claimed = self.claimed.load(Ordering::Acquire).min(N);
        self.entries.get(..claimed).unwrap_or_default().iter().rev().filter_map(Entry::get)
    }

    /// The number of published registrations (a snapshot).
    pub fn len(&self) -> usize {
        self.iter().count()
    }

    /// Whether nothing is registered yet (a snapshot).
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }
}

impl<const N: usize> Default for SystemLib<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> fmt::Debug for SystemLib<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SystemLib")
            .field("capacity", &N)
            .field("functions", &DebugNames(self))
            .finish()
    }
}

struct DebugNames<'a, const N: usize>(&'a SystemLib<N>);

impl<const N: usize> fmt::Debug for DebugNames<'_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.iter().map(|e| e.name)).finish()
    }
}

// Not under loom: its `SystemLib::new` is not `const`, and these tests use statics.
#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::call::{args_from_raw, write_result};
    use crate::sys::TVMFFIAny;

    /// `(a, b) -> a - b`, or -1 without raising on bad arguments (this test has no slot).
    unsafe extern "C" fn sub(
        _: *mut c_void,
        args: *const TVMFFIAny,
        num_args: i32,
        result: *mut TVMFFIAny,
    ) -> i32 {
        // SAFETY: the convention's `args` and `num_args`.
        let Ok(args) = (unsafe { args_from_raw(args, num_args) }) else { return -1 };
        let [a, b] = args else { return -1 };
        let (Ok(a), Ok(b)) = (a.get::<i64>(), b.get::<i64>()) else { return -1 };
        // SAFETY: the convention's result slot.
        unsafe { write_result(result, Any::from(a - b)) };
        0
    }

    unsafe extern "C" fn seven(
        _: *mut c_void,
        _: *const TVMFFIAny,
        _: i32,
        result: *mut TVMFFIAny,
    ) -> i32 {
        // SAFETY: the convention's result slot.
        unsafe { write_result(result, Any::from(7i64)) };
        0
    }

    #[test]
    fn registered_functions_are_found_by_name_and_called_with_packed_arguments() {
        static LIB: SystemLib<2> = SystemLib::new();
        assert!(LIB.is_empty());
        // SAFETY: both follow the convention and ignore the handle.
        unsafe { LIB.register("sub", sub).unwrap() };
        let f = LIB.get("sub").unwrap();
        assert_eq!(f.name(), "sub");
        let out = f.call(&[AnyView::from(10i64), AnyView::from(3i64)]).unwrap();
        assert_eq!(out.get::<i64>().unwrap(), 7);
        assert_eq!(f.call(&[AnyView::from(1i64)]).unwrap_err(), CallError::Raised { code: -1 });
        assert!(LIB.get("su").is_none() && LIB.get("subtract").is_none());
        assert_eq!(LIB.len(), 1);
    }

    #[test]
    fn a_later_registration_shadows_and_a_full_registry_refuses() {
        static LIB: SystemLib<2> = SystemLib::new();
        // SAFETY: both follow the convention and ignore the handle.
        unsafe {
            LIB.register("f", sub).unwrap();
            LIB.register("f", seven).unwrap();
            assert_eq!(LIB.register("g", seven), Err(RegistryFull { name: "g", capacity: 2 }));
        }
        assert_eq!(LIB.get("f").unwrap().call(&[]).unwrap().get::<i64>().unwrap(), 7);
        let names: [&str; 2] = core::array::from_fn(|i| LIB.iter().nth(i).unwrap().name());
        assert_eq!(names, ["f", "f"]);
        assert!(LIB.get("g").is_none());
        let text = alloc::format!("{:?} / {}", LIB, RegistryFull { name: "g", capacity: 2 });
        assert_eq!(
            text,
            "SystemLib { capacity: 2, functions: [\"f\", \"f\"] } / \
             cannot register `g`: the system library's 2 entries are taken"
        );
    }

    #[test]
    fn an_empty_registry_of_capacity_zero_refuses_everything() {
        static LIB: SystemLib<0> = SystemLib::new();
        // SAFETY: follows the convention.
        assert!(unsafe { LIB.register("f", seven) }.is_err());
        assert!(LIB.get("f").is_none() && LIB.is_empty());
    }

    #[test]
    #[cfg_attr(target_os = "wasi", ignore = "no threads on wasm32-wasip1")]
    fn concurrent_registrations_each_get_their_own_entry() {
        static LIB: SystemLib<8> = SystemLib::new();
        const NAMES: [&str; 8] = ["a", "b", "c", "d", "e", "f", "g", "h"];
        std::thread::scope(|s| {
            for chunk in NAMES.chunks(2) {
                s.spawn(move || {
                    for name in chunk {
                        // SAFETY: follows the convention.
                        unsafe { LIB.register(name, seven) }.unwrap();
                        assert_eq!(LIB.get(name).unwrap().name(), *name);
                    }
                });
            }
        });
        assert_eq!(LIB.len(), 8);
        for name in NAMES {
            assert_eq!(LIB.get(name).unwrap().call(&[]).unwrap().get::<i64>().unwrap(), 7);
        }
        // SAFETY: follows the convention.
        assert!(unsafe { LIB.register("i", seven) }.is_err());
    }
}
