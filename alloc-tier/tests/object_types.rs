//! Object types defined in Rust: registration, caching, subclass checks, and opaque objects.
//!
//! One global type table and error slot: these tests run one at a time.

extern crate alloc;

use core::ffi::c_void;
use core::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use tvmffi_alloc::error::Error;
use tvmffi_alloc::object_type::{self, ObjectRoot, OpaqueObject};
use tvmffi_core::sys::{TVMFFIByteArray, api};
use tvmffi_core::{Any, AnyView, Object, ObjectRef, Payload, TypeIndex};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    drop(Error::take_raised());
    guard
}

static DROPS: AtomicUsize = AtomicUsize::new(0);

#[repr(C)]
struct Animal {
    legs: u32,
}
impl Drop for Animal {
    fn drop(&mut self) {
        DROPS.fetch_add(1, Ordering::SeqCst);
    }
}

#[repr(C)]
struct Dog {
    base: Animal,
    name: &'static str,
}

#[repr(C)]
struct Puppy {
    base: Dog,
    age_weeks: u8,
}

#[repr(C)]
struct Cat {
    base: Animal,
}

#[repr(C)]
struct Bird {
    base: Animal,
}

struct Rock;

struct Leaf;

tvmffi_alloc::object_type! {
    // SAFETY: test-only keys; each subclass starts with its parent.
    unsafe impl ObjectDef for Animal { type_key = "test.Animal"; parent = ObjectRoot; child_slots = 2; }
}
tvmffi_alloc::object_type! {
    // SAFETY: as above.
    unsafe impl ObjectDef for Dog { type_key = "test.Dog"; parent = Animal; }
}
tvmffi_alloc::object_type! {
    // SAFETY: as above.
    unsafe impl ObjectDef for Puppy { type_key = "test.Puppy"; parent = Dog; }
}
tvmffi_alloc::object_type! {
    // SAFETY: as above.
    unsafe impl ObjectDef for Cat { type_key = "test.Cat"; parent = Animal; }
}
tvmffi_alloc::object_type! {
    // SAFETY: as above; the third child of Animal overflows its two slots.
    unsafe impl ObjectDef for Bird { type_key = "test.Bird"; parent = Animal; }
}
tvmffi_alloc::object_type! {
    // SAFETY: as above.
    unsafe impl ObjectDef for Rock { type_key = "test.Rock"; parent = ObjectRoot; is_final = true; }
}
tvmffi_alloc::object_type! {
    // SAFETY: the key is already taken by C under another parent: registration must fail.
    unsafe impl ObjectDef for Leaf { type_key = "test.Leaf"; parent = ObjectRoot; }
}

fn key_info(index: TypeIndex) -> (String, i32) {
    // SAFETY: registered types have infos that live for the program.
    let info = unsafe { &*api::TVMFFIGetTypeInfo(index.0) };
    // SAFETY: the key of a registered type.
    let key =
        unsafe { core::slice::from_raw_parts(info.type_key.data.cast::<u8>(), info.type_key.size) };
    (String::from_utf8(key.to_vec()).unwrap(), info.type_depth)
}

#[test]
fn registration_allocates_and_caches_indices_under_parents() {
    let _s = serial();
    let animal = object_type::type_index::<Animal>().unwrap();
    let dog = object_type::type_index::<Dog>().unwrap();
    let puppy = object_type::type_index::<Puppy>().unwrap();
    assert!(animal.0 >= 128);
    assert_eq!(dog.0, animal.0 + 1, "the first child takes a reserved slot");
    assert_eq!(object_type::type_index::<Dog>().unwrap(), dog, "cached");
    assert_eq!(key_info(animal), ("test.Animal".into(), 1));
    assert_eq!(key_info(dog), ("test.Dog".into(), 2));
    assert_eq!(key_info(puppy), ("test.Puppy".into(), 3));
    let mut by_key = -1;
    let key = TVMFFIByteArray { data: c"test.Puppy".as_ptr(), size: 10 };
    // SAFETY: valid key and out slot.
    assert_eq!(unsafe { api::TVMFFITypeKeyToIndex(&key, &mut by_key) }, 0);
    assert_eq!(by_key, puppy.0);
    assert_eq!(object_type::type_key(puppy), "test.Puppy");
    assert_eq!(object_type::type_key(TypeIndex::FUNCTION), "ffi.Function");
}

#[test]
fn is_instance_follows_slots_and_ancestors() {
    let _s = serial();
    let [animal, dog, puppy, cat, bird, rock] = [
        object_type::type_index::<Animal>(),
        object_type::type_index::<Dog>(),
        object_type::type_index::<Puppy>(),
        object_type::type_index::<Cat>(),
        object_type::type_index::<Bird>(),
        object_type::type_index::<Rock>(),
    ]
    .map(Result::unwrap);
    // Dog has no child slots, so Puppy overflowed to a new index; Bird, Animal's third
    // child, too: both are found through their ancestors.
    assert!(bird.0 > animal.0 + 2);
    for sub in [animal, dog, puppy, cat, bird] {
        assert!(Animal::is_instance(sub), "{sub:?} is an Animal");
    }
    assert!(Dog::is_instance(puppy) && Dog::is_instance(dog));
    assert!(!Dog::is_instance(cat) && !Dog::is_instance(animal) && !Dog::is_instance(bird));
    assert!(!Puppy::is_instance(dog));
    assert!(!Animal::is_instance(rock) && !Animal::is_instance(TypeIndex::FUNCTION));
    assert!(Rock::is_instance(rock) && !Rock::is_instance(animal));
    assert!(!Cat::is_instance(TypeIndex(i32::MAX)), "below the target or unknown: not an instance");
}

#[test]
fn objects_downcast_to_their_ancestors_and_drop_once() {
    let _s = serial();
    let before = DROPS.load(Ordering::SeqCst);
    let p = object_type::new_object(Puppy {
        base: Dog { base: Animal { legs: 4 }, name: "rex" },
        age_weeks: 9,
    })
    .unwrap();
    assert_eq!(p.type_index(), object_type::type_index::<Puppy>().unwrap());
    let any = Any::from(p);
    let dog: ObjectRef<Object<Dog>> = any.get().unwrap();
    assert_eq!((dog.name, dog.base.legs), ("rex", 4));
    let animal: ObjectRef<Object<Animal>> = AnyView::from(&dog).get().unwrap();
    assert_eq!(animal.legs, 4);
    let e = any.get::<ObjectRef<Object<Cat>>>().unwrap_err();
    assert_eq!(
        e.to_string(),
        "Cannot convert from type `object(type_index=".to_string()
            + &any.type_index().0.to_string()
            + ")` to `test.Cat`"
    );
    let puppy = any.into_object::<Object<Puppy>>().ok().unwrap();
    assert_eq!(puppy.age_weeks, 9);
    drop((dog, animal));
    assert_eq!(DROPS.load(Ordering::SeqCst), before);
    drop(puppy);
    assert_eq!(
        DROPS.load(Ordering::SeqCst),
        before + 1,
        "the payload dropped with the last reference"
    );
}

#[test]
fn a_key_taken_with_another_parent_fails_to_register() {
    let _s = serial();
    let key = TVMFFIByteArray { data: c"test.Leaf".as_ptr(), size: 9 };
    // C registers the key first, under a type of its own: the Rust definition (under
    // ffi.Object) must refuse to treat those objects as its own.
    let parent_key = TVMFFIByteArray { data: c"test.LeafParent".as_ptr(), size: 15 };
    // SAFETY: valid keys.
    let c_index = unsafe {
        let parent = api::TVMFFITypeGetOrAllocIndex(&parent_key, -1, 1, 0, 1, 64);
        api::TVMFFITypeGetOrAllocIndex(&key, -1, 2, 0, 1, parent)
    };
    assert!(c_index > 0);
    let e = object_type::type_index::<Leaf>().unwrap_err();
    assert!(e.message().contains("already registered with another parent"), "{e}");
    // Remembered: a later call fails too, and no object can be made.
    let e = object_type::new_object(Leaf).unwrap_err();
    assert!(e.message().contains("failed to register earlier"), "{e}");
    assert!(!Leaf::is_instance(TypeIndex(c_index)));
}

static OPAQUE_FREED: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn free_opaque(handle: *mut c_void) {
    // SAFETY: the box made in the test, freed once.
    drop(unsafe { Box::from_raw(handle.cast::<u64>()) });
    OPAQUE_FREED.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn opaque_objects_own_their_handle() {
    let _s = serial();
    let handle = Box::into_raw(Box::new(99u64)).cast::<c_void>();
    // SAFETY: `free_opaque` frees the box once.
    let o = unsafe { OpaqueObject::new(TypeIndex::OPAQUE_PY_OBJECT, handle, Some(free_opaque)) }
        .unwrap();
    assert_eq!(o.handle(), handle);
    let any = Any::from(o.clone());
    assert_eq!(any.type_index(), TypeIndex::OPAQUE_PY_OBJECT);
    let back: OpaqueObject = any.get().unwrap();
    assert_eq!(back.handle(), handle);
    let before = OPAQUE_FREED.load(Ordering::SeqCst);
    drop((o, any, back));
    assert_eq!(OPAQUE_FREED.load(Ordering::SeqCst), before + 1);
    // SAFETY: refused before anything is stored.
    let e = unsafe { OpaqueObject::new(TypeIndex(75), handle, None) }.unwrap_err();
    assert_eq!(e.kind(), "RuntimeError");
    assert!(AnyView::from(1i64).get::<OpaqueObject>().is_err());
}
