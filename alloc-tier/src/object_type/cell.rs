//! [`FieldCell`]: the storage of a reflected field that may change while its object is
//! shared, laid out exactly as its value.

use core::cell::UnsafeCell;
use core::ffi::c_void;

/// The locks behind every [`FieldCell`], picked by address, so that a cell is exactly as
/// large as its value (the layout C++ gives the same field).
static STRIPES: [spin::Mutex<()>; 32] = [const { spin::Mutex::new(()) }; 32];

fn stripe(addr: *const c_void) -> &'static spin::Mutex<()> {
    &STRIPES[(addr as usize >> 3) % STRIPES.len()]
}

/// A field that may change while its object is shared: the storage of a writable
/// reflected field (`def_rw`), laid out exactly as `T`.
///
/// Reads clone the value and writes swap it, each under a short lock (one of a few shared
/// spin locks, chosen by the cell's address). Values are never borrowed out, so no
/// reference into the cell outlives the lock.
///
/// ```
/// use tvmffi_alloc::object_type::FieldCell;
///
/// let cell = FieldCell::new(1.5f64);
/// assert_eq!(cell.get(), 1.5);
/// assert_eq!(cell.replace(2.5), 1.5);
/// cell.set(3.5);
/// assert_eq!(cell.into_inner(), 3.5);
/// ```
#[repr(transparent)]
pub struct FieldCell<T> {
    value: UnsafeCell<T>,
}

// SAFETY: the value moves between threads with the cell; `T: Send` allows that.
unsafe impl<T: Send> Send for FieldCell<T> {}
// SAFETY: every access to the value through `&self` holds the cell's lock, so threads only
// ever reach it one at a time, as with a mutex (which needs `T: Send` alone).
unsafe impl<T: Send> Sync for FieldCell<T> {}

impl<T> FieldCell<T> {
    /// A cell holding `value`.
    pub const fn new(value: T) -> Self {
        Self { value: UnsafeCell::new(value) }
    }

    /// Run `f` on the value under the cell's lock. `f` must not touch a cell (that could
    /// wait for the very lock it holds).
    pub(super) fn locked<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        let _guard = stripe(self.value.get().cast_const().cast()).lock();
        f(self.value.get())
    }

    /// A copy of the value.
    pub fn get(&self) -> T
    where
        T: Clone,
    {
        // SAFETY: the lock gives this thread sole access to the value while it is cloned.
        self.locked(|v| unsafe { (*v).clone() })
    }

    /// Replace the value, returning the old one.
    pub fn replace(&self, value: T) -> T {
        // SAFETY: the lock gives this thread sole access to the value while it is swapped.
        self.locked(|v| unsafe { core::ptr::replace(v, value) })
    }

    /// Set the value. The old value is dropped after the lock is released, so its drop may
    /// use cells too.
    pub fn set(&self, value: T) {
        drop(self.replace(value));
    }

    /// The value, through exclusive access (no lock needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }

    /// The value.
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }
}

impl<T: Clone> Clone for FieldCell<T> {
    fn clone(&self) -> Self {
        Self::new(self.get())
    }
}

impl<T: Default> Default for FieldCell<T> {
    fn default() -> Self {
        Self::new(T::default())
    }
}

impl<T: Clone + core::fmt::Debug> core::fmt::Debug for FieldCell<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("FieldCell").field(&self.get()).finish()
    }
}

impl<T> From<T> for FieldCell<T> {
    fn from(value: T) -> Self {
        Self::new(value)
    }
}
