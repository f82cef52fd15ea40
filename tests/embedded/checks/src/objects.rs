//! Objects without an allocator: in a `static` and in a fixed pool, with their refcounts.

use tvmffi_core::object::{Object, ObjectPool, ObjectRef, Payload, StaticObject};
use tvmffi_core::{Any, AnyView, TypeIndex};

use crate::report::Failure;

/// A sensor reading: the payload of the objects these checks make.
#[derive(Debug)]
pub struct Reading {
    /// Degrees Celsius.
    pub celsius: f32,
}

/// The type index of [`Reading`] objects: the first dynamic index (no type table here).
pub const READING: TypeIndex = TypeIndex::DYN_OBJECT_BEGIN;

// SAFETY: `Reading` objects are only ever made with the index `READING`, which nothing else
// in these firmwares uses.
unsafe impl Payload for Reading {
    const TYPE_KEY: &'static str = "firmware.Reading";

    fn is_instance(type_index: TypeIndex) -> bool {
        type_index == READING
    }
}

/// A reading in flash-backed static memory: never freed.
pub static CALIBRATION: StaticObject<Reading> =
    StaticObject::new(READING, Reading { celsius: 0.5 });

/// Two readings' worth of object storage, fixed at link time.
pub static READINGS: ObjectPool<Reading, 2> = ObjectPool::new();

/// A static object: references come and go, the static keeps its own.
pub fn static_objects() -> Result<(), Failure> {
    ensure!(CALIBRATION.header().strong_count() == 1);
    let r = CALIBRATION.new_ref();
    ensure!(r.celsius == 0.5 && r.type_index() == READING);
    ensure!(r.strong_count() == 2 && r.weak_count() == 1);
    let copy = r.clone();
    ensure!(copy.ptr_eq(&r) && CALIBRATION.header().strong_count() == 3);
    drop((r, copy));
    ensure!(CALIBRATION.header().strong_count() == 1);
    Ok(())
}

/// Pool objects: refcounts, weak references, slots coming back, a full pool refusing.
pub fn pool_objects() -> Result<(), Failure> {
    ensure!(READINGS.available() == 2);
    let a = ok!(READINGS.alloc(READING, Reading { celsius: 21.5 }));
    let b = ok!(READINGS.alloc(READING, Reading { celsius: -3.0 }));
    ensure!(READINGS.available() == 0);
    let refused = READINGS.alloc(READING, Reading { celsius: 99.0 });
    ensure!(matches!(refused, Err(Reading { celsius }) if celsius == 99.0));

    let weak = a.downgrade();
    ensure!(a.strong_count() == 1 && a.weak_count() == 2);
    let again = ok!(weak.upgrade());
    ensure!(again.celsius == 21.5 && a.strong_count() == 2);
    drop((a, again));
    ensure!(weak.upgrade().is_none());
    // The payload is gone, but the weak reference still holds the slot.
    ensure!(READINGS.available() == 0);
    drop(weak);
    ensure!(READINGS.available() == 1);
    drop(b);
    ensure!(READINGS.available() == 2);
    Ok(())
}

/// Objects inside `Any`: the value owns a strong reference, views borrow.
pub fn objects_in_values() -> Result<(), Failure> {
    let obj = ok!(READINGS.alloc(READING, Reading { celsius: 7.25 }));
    let view = AnyView::from(&obj);
    ensure!(view.type_index() == READING && obj.strong_count() == 1);
    let value = Any::from(obj.clone());
    ensure!(value.type_index() == READING && obj.strong_count() == 2);
    let copy = value.clone();
    ensure!(obj.strong_count() == 3);
    let back: ObjectRef<Object<Reading>> = ok!(copy.into_object());
    ensure!(back.ptr_eq(&obj) && back.celsius == 7.25 && obj.strong_count() == 3);
    // A value of another type does not downcast.
    ensure!(Any::from(1i64).into_object::<Object<Reading>>().is_err());
    drop((value, back));
    ensure!(obj.strong_count() == 1);
    drop(obj);
    ensure!(READINGS.available() == 2);
    Ok(())
}
