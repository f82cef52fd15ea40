//! The reflection of Rust-defined object types, registered through the C API and read back
//! through `TVMFFIGetTypeInfo` and `TVMFFIGetTypeAttrColumn` exactly as C++ and Python read
//! it: field getters and setters called with the field's address, metadata JSON, methods,
//! type attributes.
//!
//! The `runtime` feature keeps one global error slot, so these tests run one at a time (a
//! test that takes an error another raised fails with the wrong kind).

extern crate alloc;

use core::ffi::c_void;
use std::sync::{Mutex, MutexGuard};

use tvmffi_alloc::error::Error;
use tvmffi_alloc::object_type::info::{TypeInfo, create_empty_object, has_creator, type_attr};
use tvmffi_alloc::object_type::{self, FieldCell, Info, ObjectRoot, Reflect};
use tvmffi_alloc::{Array, Function};
use tvmffi_core::flags::{FieldFlags, SEqHashKind};
use tvmffi_core::sys::{TVMFFIAny, TVMFFIFieldInfo, TVMFFIFieldSetter, TVMFFITypeInfo, api};
use tvmffi_core::{Any, AnyView, Object, ObjectHeader, ObjectRef, TypeIndex};

static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    drop(Error::take_raised());
    guard
}

#[repr(C)]
#[derive(Clone, Default)]
struct Point {
    x: i64,
    y: FieldCell<f64>,
    label: tvmffi_alloc::String,
    tags: FieldCell<Option<Array>>,
}

#[repr(C)]
#[derive(Clone, Default)]
struct Point3 {
    base: Point,
    z: FieldCell<i32>,
}

#[repr(C)]
struct NoCreator {
    value: Any,
}

tvmffi_alloc::object_type! {
    // SAFETY: test-only keys; Point3 starts with Point.
    unsafe impl ObjectDef for Point { type_key = "test.reflect.Point"; parent = ObjectRoot; }
}
tvmffi_alloc::object_type! {
    // SAFETY: as above.
    unsafe impl ObjectDef for Point3 { type_key = "test.reflect.Point3"; parent = Point; is_final = true; }
}
tvmffi_alloc::object_type! {
    // SAFETY: as above.
    unsafe impl ObjectDef for NoCreator { type_key = "test.reflect.NoCreator"; parent = ObjectRoot; }
}

/// Register the test types once; every test starts here.
fn registered() -> (TypeIndex, TypeIndex) {
    static ONCE: std::sync::OnceLock<(TypeIndex, TypeIndex)> = std::sync::OnceLock::new();
    *ONCE.get_or_init(|| {
        let point = Reflect::<Point>::new()
            .doc("A point.")
            .structural_eq_hash_kind(SEqHashKind::TREE_NODE)
            .default_creator()
            .shallow_copy()
            .def_ro(tvmffi_alloc::field!(Point, x).doc("The abscissa."))
            .def_rw(tvmffi_alloc::field!(Point, y).default(0.5).repr(false))
            .def_ro(
                tvmffi_alloc::field!(Point, label)
                    .kw_only(true)
                    .compare(false)
                    .hash(false)
                    .metadata("unit", "m")
                    .metadata("rank", 2)
                    .flags(FieldFlags::SEQ_HASH_IGNORE),
            )
            .def_rw(
                tvmffi_alloc::field!(Point, tags)
                    .init(false)
                    .default_factory(Function::from_packed(|_| Ok(Any::from(Array::new())))),
            )
            .def("sum", |p: ObjectRef<Object<Point>>| p.x as f64 + p.y.get())
            .def_static_with(
                "origin",
                || object_type::new_object(Point::default()),
                Info::new().doc("The origin."),
            )
            .type_attr("test.reflect.color", 7i64)
            .register()
            .unwrap();
        let point3 = Reflect::<Point3>::new()
            .default_creator()
            .def_rw(tvmffi_alloc::field!(Point3, z))
            .register()
            .unwrap();
        (point, point3)
    })
}

fn info(index: TypeIndex) -> &'static TVMFFITypeInfo {
    // SAFETY: registered types have infos that live for the program.
    unsafe { &*api::TVMFFIGetTypeInfo(index.0) }
}

fn fields(index: TypeIndex) -> &'static [TVMFFIFieldInfo] {
    let info = info(index);
    // SAFETY: `fields` holds `num_fields` entries.
    unsafe { core::slice::from_raw_parts(info.fields, info.num_fields as usize) }
}

fn text(arr: &tvmffi_core::sys::TVMFFIByteArray) -> &'static str {
    if arr.data.is_null() {
        return "";
    }
    // SAFETY: type-info strings live for the program.
    let bytes = unsafe { core::slice::from_raw_parts(arr.data.cast::<u8>(), arr.size) };
    core::str::from_utf8(bytes).unwrap()
}

fn field(index: TypeIndex, name: &str) -> &'static TVMFFIFieldInfo {
    fields(index).iter().find(|f| text(&f.name) == name).unwrap()
}

fn addr(obj: &ObjectRef<impl tvmffi_core::ObjectType>, f: &TVMFFIFieldInfo) -> *mut c_void {
    obj.as_raw().cast::<u8>().wrapping_add(f.offset as usize).cast()
}

/// Read a field as C++'s `FieldGetter` does.
fn c_get(obj: &ObjectRef<impl tvmffi_core::ObjectType>, f: &TVMFFIFieldInfo) -> Result<Any, Error> {
    let mut out = TVMFFIAny::NONE;
    // SAFETY: the field lives at its offset in a live object; `out` is writable.
    let rc = unsafe { (f.getter.unwrap())(addr(obj, f), &mut out) };
    if rc != 0 {
        return Err(Error::take_raised().unwrap());
    }
    // SAFETY: the getter wrote an owned value.
    Ok(unsafe { Any::from_raw(out) })
}

/// Write a field as C++'s `FieldSetter` does.
fn c_set(
    obj: &ObjectRef<impl tvmffi_core::ObjectType>,
    f: &TVMFFIFieldInfo,
    value: AnyView<'_>,
) -> Result<(), Error> {
    // SAFETY: plain C setters (no function-object flag here).
    let setter: TVMFFIFieldSetter = unsafe { core::mem::transmute(f.setter) };
    // SAFETY: the object is alive and only this test thread touches it.
    let rc = unsafe { setter(addr(obj, f), value.as_raw()) };
    if rc != 0 {
        return Err(Error::take_raised().unwrap());
    }
    Ok(())
}

fn new_point(x: i64, y: f64) -> ObjectRef<Object<Point>> {
    let p = Point { x, y: FieldCell::new(y), label: "p".into(), tags: FieldCell::new(None) };
    object_type::new_object(p).unwrap()
}

#[test]
fn metadata_describes_the_type() {
    let _s = serial();
    let (point, point3) = registered();
    // SAFETY: registered with metadata, which lives for the program.
    let meta = unsafe { &*info(point).metadata };
    assert_eq!(text(&meta.doc), "A point.");
    assert_eq!(meta.total_size as usize, core::mem::size_of::<Object<Point>>());
    assert_eq!(meta.structural_eq_hash_kind, SEqHashKind::TREE_NODE);
    assert!(meta.creator.is_some());
    // SAFETY: as above.
    let meta3 = unsafe { &*info(point3).metadata };
    assert_eq!(meta3.structural_eq_hash_kind, SEqHashKind::UNSUPPORTED);
    assert!(text(&meta3.doc).is_empty() && meta3.doc.data.is_null(), "no doc is a null array");
}

#[test]
fn fields_carry_offsets_flags_schemas_and_defaults() {
    let _s = serial();
    let (point, _) = registered();
    let names: Vec<_> = fields(point).iter().map(|f| text(&f.name)).collect();
    assert_eq!(names, ["x", "y", "label", "tags"]);

    let x = field(point, "x");
    assert_eq!(x.offset as usize, 24 + core::mem::offset_of!(Point, x));
    assert_eq!((x.size, x.alignment), (8, 8));
    assert_eq!(x.field_static_type_index, TypeIndex::INT.0);
    assert_eq!(FieldFlags(x.flags), FieldFlags(0), "read-only, no default");
    assert_eq!(text(&x.doc), "The abscissa.");
    assert_eq!(text(&x.metadata), r#"{"type_schema":"{\"type\":\"int\"}"}"#);

    let y = field(point, "y");
    assert_eq!(y.offset as usize, 24 + core::mem::offset_of!(Point, y));
    assert_eq!(y.field_static_type_index, TypeIndex::FLOAT.0);
    assert_eq!(
        FieldFlags(y.flags),
        FieldFlags::WRITABLE | FieldFlags::HAS_DEFAULT | FieldFlags::REPR_OFF
    );
    // SAFETY: the default is kept alive by the table.
    assert_eq!(unsafe { AnyView::from_raw(y.default_value_or_factory) }.get::<f64>().unwrap(), 0.5);

    let label = field(point, "label");
    assert_eq!(label.field_static_type_index, TypeIndex::ANY.0);
    assert_eq!(
        FieldFlags(label.flags),
        FieldFlags::KW_ONLY
            | FieldFlags::COMPARE_OFF
            | FieldFlags::HASH_OFF
            | FieldFlags::SEQ_HASH_IGNORE
    );
    assert_eq!(
        text(&label.metadata),
        r#"{"type_schema":"{\"type\":\"ffi.String\"}","unit":"m","rank":2}"#
    );

    let tags = field(point, "tags");
    assert_eq!(
        FieldFlags(tags.flags),
        FieldFlags::WRITABLE
            | FieldFlags::INIT_OFF
            | FieldFlags::HAS_DEFAULT
            | FieldFlags::DEFAULT_FROM_FACTORY
    );
    assert_eq!(
        text(&tags.metadata),
        r#"{"type_schema":"{\"type\":\"Optional\",\"args\":[{\"type\":\"ffi.Array\",\"args\":[{\"type\":\"Any\"}]}]}"}"#
    );
    assert_eq!(tags.default_value_or_factory.type_index, TypeIndex::FUNCTION.0);
}

#[test]
fn getters_and_setters_work_through_the_c_signatures() {
    let _s = serial();
    let (point, _) = registered();
    let p = new_point(3, 1.5);
    assert_eq!(c_get(&p, field(point, "x")).unwrap().get::<i64>().unwrap(), 3);
    assert_eq!(c_get(&p, field(point, "y")).unwrap().get::<f64>().unwrap(), 1.5);
    assert_eq!(c_get(&p, field(point, "label")).unwrap().as_str().unwrap(), "p");
    assert!(c_get(&p, field(point, "tags")).unwrap().is_none());

    c_set(&p, field(point, "y"), AnyView::from(-2.0)).unwrap();
    assert_eq!(p.y.get(), -2.0, "Rust sees the write");
    c_set(&p, field(point, "y"), AnyView::from(4i64)).unwrap();
    assert_eq!(p.y.get(), 4.0, "an int converts to a float field as the reference's cast does");
    let e = c_set(&p, field(point, "y"), tvmffi_alloc::String::from("not a number at all").view())
        .unwrap_err();
    assert_eq!(e.kind(), "TypeError");
    assert_eq!(e.message(), "Cannot convert from type `ffi.String` to `float`");
    assert_eq!(p.y.get(), 4.0, "a refused value leaves the field");

    let tags = Array::from_iter([Any::from(1i64)]);
    c_set(&p, field(point, "tags"), AnyView::from(&tags)).unwrap();
    assert!(p.tags.get().unwrap().as_object().ptr_eq(tags.as_object()));
    c_set(&p, field(point, "tags"), AnyView::none()).unwrap();
    assert!(p.tags.get().is_none());
    let e = c_set(&p, field(point, "tags"), AnyView::from(1i64)).unwrap_err();
    assert_eq!(e.message(), "Cannot convert from type `int` to `Optional<Array<Any>>`");

    // A read-only field still has a setter, for objects being made (init, deep copy).
    let fresh = new_point(0, 0.0);
    c_set(&fresh, field(point, "x"), AnyView::from(9i64)).unwrap();
    assert_eq!(fresh.x, 9);
}

#[test]
fn subclasses_list_inherited_fields_first() {
    let _s = serial();
    let (point, point3) = registered();
    assert_eq!(info(point3).type_depth, 2);
    let own: Vec<_> = fields(point3).iter().map(|f| text(&f.name)).collect();
    assert_eq!(own, ["z"]);
    let z = field(point3, "z");
    assert_eq!(z.offset as usize, 24 + core::mem::offset_of!(Point3, z));

    let t = TypeInfo::of(point3).unwrap();
    let all: Vec<_> = t.fields().map(|f| f.name()).collect();
    assert_eq!(all, ["x", "y", "label", "tags", "z"]);
    assert!(t.is_subtype_of(TypeInfo::of(point).unwrap()));
    assert!(!TypeInfo::of(point).unwrap().is_subtype_of(t));

    let p3 =
        object_type::new_object(Point3 { base: Point::default(), z: FieldCell::new(5) }).unwrap();
    let p3 = p3.upcast();
    let x = t.field("x").unwrap();
    assert_eq!(x.get(&p3).unwrap().get::<i64>().unwrap(), 0);
    assert_eq!(t.field("z").unwrap().get(&p3).unwrap().get::<i32>().unwrap(), 5);
    // A parent's field read on the subclass through the parent's own list.
    let parent_x = TypeInfo::of(point).unwrap().field("x").unwrap();
    assert_eq!(parent_x.get(&p3).unwrap().get::<i64>().unwrap(), 0);
    // But not a subclass field on a parent object.
    let plain = new_point(1, 1.0).upcast();
    let e = t.field("z").unwrap().get(&plain).unwrap_err();
    assert_eq!(e.kind(), "TypeError");
}

#[test]
fn methods_are_registered_with_schemas() {
    let _s = serial();
    let (point, _) = registered();
    let t = TypeInfo::of(point).unwrap();
    let sum = t.method("sum").unwrap();
    assert!(!sum.is_static());
    assert_eq!(
        sum.metadata(),
        r#"{"type_schema":"{\"type\":\"ffi.Function\",\"named_args\":{\"return\":[{\"type\":\"float\"}],\"params\":[{\"type\":\"test.reflect.Point\"}]}}"}"#
    );
    let p = new_point(2, 0.25);
    let r = sum.function().unwrap().call(&[AnyView::from(&p)]).unwrap();
    assert_eq!(r.get::<f64>().unwrap(), 2.25);
    let e = sum.function().unwrap().call(&[AnyView::from(1i64)]).unwrap_err();
    assert_eq!(
        e.message(),
        "Mismatched type on argument #0 when calling: `test.reflect.Point.sum(0: test.reflect.Point) \
         -> float`. Expected `test.reflect.Point` but got `int`"
    );

    let origin = t.method("origin").unwrap();
    assert!(origin.is_static());
    assert_eq!(origin.doc(), "The origin.");
    let o = origin.function().unwrap().call(&[]).unwrap();
    assert_eq!(o.type_index(), point);
}

#[test]
fn automatic_type_attributes_are_set() {
    let _s = serial();
    let (point, point3) = registered();
    assert!(!type_attr("__ffi_type_final__", point).unwrap().get::<bool>().unwrap());
    assert!(type_attr("__ffi_type_final__", point3).unwrap().get::<bool>().unwrap());
    assert_eq!(type_attr("test.reflect.color", point).unwrap().get::<i64>().unwrap(), 7);
    assert!(type_attr("test.reflect.color", point3).is_none());

    // `__ffi_new__` makes an empty object from the creator.
    let new: Function = type_attr("__ffi_new__", point).unwrap().get().unwrap();
    let fresh = new.call(&[]).unwrap();
    assert_eq!(fresh.type_index(), point);
    let fresh: ObjectRef<Object<Point>> = fresh.get().unwrap();
    assert_eq!((fresh.x, fresh.y.get()), (0, 0.0));

    // `__ffi_shallow_copy__` copies the payload into a new object of the same type.
    let copy: Function = type_attr("__ffi_shallow_copy__", point).unwrap().get().unwrap();
    let p = new_point(4, 8.0);
    let c: ObjectRef<Object<Point>> = copy.call(&[AnyView::from(&p)]).unwrap().get().unwrap();
    assert!(!c.ptr_eq(&p));
    assert_eq!((c.x, c.y.get(), c.label.as_str()), (4, 8.0, "p"));
    c.y.set(1.0);
    assert_eq!(p.y.get(), 8.0, "the copy is separate");
    // A subclass object is not copied as its parent.
    let p3 = object_type::new_object(Point3::default()).unwrap();
    let e = copy.call(&[AnyView::from(&p3)]).unwrap_err();
    assert_eq!(e.kind(), "TypeError", "{}", e.message());
    assert!(type_attr("__ffi_shallow_copy__", point3).is_none(), "Point3 did not ask for one");
}

#[test]
fn empty_objects_come_from_the_creator_or_are_refused() {
    let _s = serial();
    let (point, _) = registered();
    let t = TypeInfo::of(point).unwrap();
    assert!(has_creator(t));
    let obj = create_empty_object(t).unwrap();
    assert_eq!(obj.type_index(), point);

    let plain = Reflect::<NoCreator>::new()
        .def_ro(tvmffi_alloc::field!(NoCreator, value))
        .register()
        .unwrap();
    let t = TypeInfo::of(plain).unwrap();
    assert!(!has_creator(t));
    assert!(type_attr("__ffi_new__", plain).is_none());
    let e = create_empty_object(t).unwrap_err();
    assert_eq!(
        e.message(),
        "Type `test.reflect.NoCreator` does not support reflection creation (no native creator \
         or __ffi_new__ type attr)"
    );
    // Registering the same type twice is refused by the runtime.
    let e = Reflect::<NoCreator>::new().register().unwrap_err();
    assert_eq!(e.kind(), "RuntimeError");
}

#[test]
fn field_info_sets_fields_and_defaults() {
    let _s = serial();
    let (point, _) = registered();
    let t = TypeInfo::of(point).unwrap();
    let p = new_point(1, 1.0);
    let obj: ObjectRef<ObjectHeader> = p.clone().upcast();
    // SAFETY: writable fields are cells; this thread alone writes `tags`.
    unsafe {
        t.field("y").unwrap().set(&obj, AnyView::from(3.0)).unwrap();
        t.field("y").unwrap().set_to_default(&obj).unwrap();
        t.field("tags").unwrap().set_to_default(&obj).unwrap();
    }
    assert_eq!(p.y.get(), 0.5);
    let first = p.tags.get().unwrap();
    assert_eq!(first.len(), 0);
    // SAFETY: as above.
    unsafe { t.field("tags").unwrap().set_to_default(&obj).unwrap() };
    assert!(
        !p.tags.get().unwrap().as_object().ptr_eq(first.as_object()),
        "a fresh default each time"
    );
}

#[test]
#[cfg_attr(target_os = "wasi", ignore = "wasm32-wasip1 has no threads")]
fn writable_fields_may_be_written_while_shared() {
    let _s = serial();
    let (point, _) = registered();
    let p = new_point(0, 0.0);
    std::thread::scope(|s| {
        let writer = s.spawn(|| {
            for i in 0..1000 {
                c_set(&p, field(point, "y"), AnyView::from(f64::from(i))).unwrap();
            }
        });
        for _ in 0..1000 {
            let v = c_get(&p, field(point, "y")).unwrap().get::<f64>().unwrap();
            assert!((0.0..1000.0).contains(&v) && v.fract() == 0.0, "a whole value: {v}");
            let _ = p.y.get();
        }
        writer.join().unwrap();
    });
    assert_eq!(p.y.get(), 999.0);
}

/// A type whose reflection registers itself, through `ObjectDef::on_register`, the moment its
/// index is first asked for: no object of it can exist without its fields.
#[repr(C)]
#[derive(Clone, Default)]
struct SelfRegistering {
    level: i64,
}

// SAFETY: a test-only key, registered here alone.
unsafe impl object_type::ObjectDef for SelfRegistering {
    const TYPE_KEY: &'static str = "test.reflect.SelfRegistering";
    type Parent = ObjectRoot;

    fn type_index_cache() -> &'static object_type::TypeIndexCache {
        static CACHE: object_type::TypeIndexCache = object_type::TypeIndexCache::new();
        &CACHE
    }

    fn on_register(index: TypeIndex) -> Result<(), Error> {
        Reflect::<Self>::new()
            .default_creator()
            .def_ro(tvmffi_alloc::field!(SelfRegistering, level))
            .register_at(index)
            .map(drop)
    }
}

// SAFETY: `is_instance` accepts only this type's index.
unsafe impl tvmffi_core::Payload for SelfRegistering {
    const TYPE_KEY: &'static str = "test.reflect.SelfRegistering";
    fn is_instance(type_index: TypeIndex) -> bool {
        object_type::is_instance::<Self>(type_index)
    }
}

/// A type whose `on_register` fails: its index is never handed out.
#[repr(C)]
struct FailsToRegister;

// SAFETY: a test-only key.
unsafe impl object_type::ObjectDef for FailsToRegister {
    const TYPE_KEY: &'static str = "test.reflect.FailsToRegister";
    type Parent = ObjectRoot;

    fn type_index_cache() -> &'static object_type::TypeIndexCache {
        static CACHE: object_type::TypeIndexCache = object_type::TypeIndexCache::new();
        &CACHE
    }

    fn on_register(index: TypeIndex) -> Result<(), Error> {
        // Registering for another type's index is refused.
        Reflect::<SelfRegistering>::new().register_at(index).map(drop)
    }
}

#[test]
fn on_register_runs_before_the_index_is_handed_out() {
    let _s = serial();
    let obj = object_type::new_object(SelfRegistering { level: 3 }).unwrap();
    let t = TypeInfo::of(obj.type_index()).unwrap();
    assert_eq!(t.key(), "test.reflect.SelfRegistering");
    let level = t.field("level").expect("the reflection came with the index");
    assert_eq!(level.get(&obj.clone().upcast()).unwrap().get::<i64>().unwrap(), 3);
    assert!(has_creator(t));

    let e = object_type::type_index::<FailsToRegister>().unwrap_err();
    assert_eq!(e.kind(), "RuntimeError");
    assert!(e.message().contains("is not `test.reflect.SelfRegistering`'s"), "{e}");
    let again = object_type::type_index::<FailsToRegister>().unwrap_err();
    assert!(again.message().contains("failed to register earlier"), "{again}");
}
