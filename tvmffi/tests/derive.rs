//! `#[derive(Object)]` from Rust, on this crate's runtime (the `runtime` dev-dependency):
//! what the registered reflection says, read back through the C API exactly as C++ and
//! Python read it, and the objects it makes.

use tvmffi::core_tier::flags::{FieldFlags, SEqHashKind};
use tvmffi::object_type::info::{TypeInfo, create_empty_object, has_creator, type_attr};
use tvmffi::object_type::{self, FieldCell, Reflection};
use tvmffi::prelude::*;

/// A shape.
///
/// Abstract.
#[derive(Object, Clone, Default)]
#[tvmffi(type_key = "test.derive.Shape", child_slots = 2, eq_hash_kind = TREE_NODE)]
#[repr(C)]
struct Shape {
    /// The name.
    #[tvmffi(kw_only, metadata(unit = "none", rank = 1))]
    name: tvmffi::String,
    #[tvmffi(default = 1.0, repr = false)]
    scale: FieldCell<f64>,
    #[tvmffi(skip)]
    cache: i64,
}

#[derive(Object, Clone, Default)]
#[tvmffi(type_key = "test.derive.Circle", parent = Shape, final, methods = circle_methods)]
#[repr(C)]
struct Circle {
    base: Shape,
    #[tvmffi(name = "r", compare = false, hash = false, structural = false)]
    radius: f64,
    #[tvmffi(read_only, init = false, default_factory = Function::from_packed(|_| Ok(Any::from(tvmffi::Array::<i64>::new()))))]
    tags: FieldCell<tvmffi::Array<i64>>,
}

fn circle_methods(r: Reflection<Circle>) -> Reflection<Circle> {
    r.def("area", |c: ObjectRef<Object<Circle>>| {
        core::f64::consts::PI * c.radius * c.radius * c.base.scale.get()
    })
    .def_static("unit", || {
        let base = Shape { scale: FieldCell::new(1.0), ..Shape::default() };
        object_type::new_object(Circle { base, radius: 1.0, ..Circle::default() })
    })
    .type_attr("test.derive.sides", 0i64)
}

/// Neither `Default` nor `Clone`: no creator, no shallow copy.
#[derive(Object)]
#[tvmffi(type_key = "test.derive.Handle", no_init)]
#[repr(C)]
struct Handle {
    id: i64,
}

fn field_names(info: TypeInfo) -> Vec<&'static str> {
    info.fields().map(|f| f.name()).collect()
}

#[test]
fn the_type_sits_under_its_parent_with_its_options() {
    let circle = object_type::new_object(Circle { radius: 2.0, ..Circle::default() }).unwrap();
    let info = TypeInfo::of(circle.type_index()).unwrap();
    assert_eq!(info.key(), "test.derive.Circle");
    assert_eq!(info.depth(), 2);
    let shape = info.parent().unwrap();
    assert_eq!(shape.key(), "test.derive.Shape");
    assert_eq!(info.index().0, shape.index().0 + 1, "in one of the parent's child slots");
    // SAFETY: registered metadata lives for the program.
    let meta = shape.metadata().unwrap();
    assert_eq!(meta.structural_eq_hash_kind, SEqHashKind::TREE_NODE);
    assert_eq!(meta.total_size as usize, size_of::<Object<Shape>>());
    assert_eq!(shape.raw().type_key.size, "test.derive.Shape".len());
    let circle_kind = info.metadata().unwrap().structural_eq_hash_kind;
    assert_eq!(circle_kind, SEqHashKind::TREE_NODE, "inherited, as a C++ subclass inherits it");
    assert!(type_attr("__ffi_type_final__", info.index()).unwrap().get::<bool>().unwrap());
    assert!(!type_attr("__ffi_type_final__", shape.index()).unwrap().get::<bool>().unwrap());
    assert_eq!(type_attr("test.derive.sides", info.index()).unwrap().get::<i64>().unwrap(), 0);
}

#[test]
fn fields_carry_names_docs_flags_defaults_and_offsets() {
    let circle = object_type::type_index::<Circle>().unwrap();
    let info = TypeInfo::of(circle).unwrap();
    assert_eq!(field_names(info), ["name", "scale", "r", "tags"], "skip leaves `cache` out");

    let name = info.field("name").unwrap();
    assert_eq!(name.doc(), "The name.");
    assert_eq!(name.flags(), FieldFlags::KW_ONLY);
    assert_eq!(
        name.metadata(),
        r#"{"type_schema":"{\"type\":\"ffi.String\"}","unit":"none","rank":1}"#
    );
    assert_eq!(name.raw().offset as usize, 24 + core::mem::offset_of!(Shape, name));

    let scale = info.field("scale").unwrap();
    assert_eq!(
        scale.flags(),
        FieldFlags::WRITABLE | FieldFlags::HAS_DEFAULT | FieldFlags::REPR_OFF
    );
    assert_eq!(scale.default_value().unwrap().get::<f64>().unwrap(), 1.0);

    let r = info.field("r").unwrap();
    assert_eq!(
        r.flags(),
        FieldFlags::COMPARE_OFF | FieldFlags::HASH_OFF | FieldFlags::SEQ_HASH_IGNORE,
        "read-only"
    );
    assert_eq!(r.raw().offset as usize, 24 + core::mem::offset_of!(Circle, radius));

    let tags = info.field("tags").unwrap();
    assert_eq!(
        tags.flags(),
        FieldFlags::INIT_OFF | FieldFlags::HAS_DEFAULT | FieldFlags::DEFAULT_FROM_FACTORY,
        "a read_only cell is not writable"
    );
}

#[test]
fn fields_read_and_write_through_the_registered_accessors() {
    let circle = object_type::new_object(Circle {
        base: Shape { name: "c".into(), scale: FieldCell::new(2.0), cache: 7 },
        radius: 3.0,
        tags: FieldCell::new(tvmffi::Array::from_iter([4])),
    })
    .unwrap();
    let obj: ObjectRef = circle.clone().upcast();
    let info = TypeInfo::of(obj.type_index()).unwrap();
    assert_eq!(info.field("r").unwrap().get(&obj).unwrap().get::<f64>().unwrap(), 3.0);
    assert_eq!(info.field("name").unwrap().get(&obj).unwrap().as_str().unwrap(), "c");
    // SAFETY: `scale` is a cell, writable while shared.
    unsafe { info.field("scale").unwrap().set(&obj, AnyView::from(0.5)).unwrap() };
    assert_eq!(circle.base.scale.get(), 0.5, "Rust sees the write");
    let wrong = tvmffi::String::from("a string, not a float");
    // SAFETY: as above; a wrong type is refused, with the reference's message.
    let e = unsafe { info.field("scale").unwrap().set(&obj, wrong.view()) };
    assert_eq!(e.unwrap_err().message(), "Cannot convert from type `ffi.String` to `float`");
}

#[test]
fn methods_static_methods_and_automatic_attributes() {
    let index = object_type::type_index::<Circle>().unwrap();
    let info = TypeInfo::of(index).unwrap();
    let unit = info.method("unit").unwrap();
    assert!(unit.is_static());
    let c = unit.function().unwrap().call(&[]).unwrap();
    let area = info.method("area").unwrap().function().unwrap();
    let a = area.call(&[c.view()]).unwrap().get::<f64>().unwrap();
    assert!((a - core::f64::consts::PI).abs() < 1e-12);

    // `Default`: a creator and `__ffi_new__`; `Clone`: `__ffi_shallow_copy__`.
    assert!(has_creator(info));
    let empty = create_empty_object(info).unwrap();
    assert_eq!(empty.type_index(), index);
    let copy: Function = type_attr("__ffi_shallow_copy__", index).unwrap().get().unwrap();
    let copied = copy.call(&[c.view()]).unwrap();
    assert_ne!(copied.as_object_ptr(), c.as_object_ptr());
    let copied: ObjectRef<Object<Circle>> = copied.get().unwrap();
    assert_eq!(copied.radius, 1.0);

    // Neither: the derive registered neither.
    let handle = object_type::new_object(Handle { id: 5 }).unwrap();
    let info = TypeInfo::of(handle.type_index()).unwrap();
    assert!(!has_creator(info));
    assert!(type_attr("__ffi_shallow_copy__", info.index()).is_none());
    assert!(type_attr("__ffi_new__", info.index()).is_none());
    assert_eq!(field_names(info), ["id"]);
}

#[test]
fn checked_casts_follow_the_type_tree() {
    let circle = object_type::new_object(Circle { radius: 1.5, ..Circle::default() }).unwrap();
    let any = Any::from(circle.clone());
    let as_shape: ObjectRef<Object<Shape>> = any.get().unwrap();
    assert_eq!(as_shape.scale.get(), 0.0);
    let as_circle = as_shape.upcast().downcast::<Object<Circle>>().unwrap();
    assert_eq!(as_circle.radius, 1.5);

    let shape = object_type::new_object(Shape::default()).unwrap();
    assert!(shape.clone().upcast().downcast::<Object<Circle>>().is_err(), "a Shape is no Circle");
    let e = Any::from(shape).get::<ObjectRef<Object<Circle>>>().unwrap_err();
    assert!(e.to_string().contains("test.derive.Circle"), "{e}");
    let e = Any::from(Handle::type_error_probe()).get::<ObjectRef<Object<Shape>>>().unwrap_err();
    assert!(e.to_string().contains("test.derive.Shape"), "{e}");
}

impl Handle {
    fn type_error_probe() -> ObjectRef<Object<Handle>> {
        object_type::new_object(Handle { id: 0 }).unwrap()
    }
}

/// The derive names everything by absolute path: it compiles without the prelude.
mod hygiene {
    #![no_implicit_prelude]

    #[derive(::tvmffi::Object, ::core::clone::Clone, ::core::default::Default)]
    #[tvmffi(type_key = "test.derive.Hygienic")]
    #[repr(C)]
    pub struct Hygienic {
        pub level: i64,
        pub label: ::tvmffi::String,
    }

    #[test]
    fn compiles_and_registers() {
        let index = ::tvmffi::object_type::type_index::<Hygienic>().unwrap();
        let info = ::tvmffi::object_type::info::TypeInfo::of(index).unwrap();
        ::std::assert_eq!(::core::iter::Iterator::count(info.fields()), 2);
    }
}

/// A mirror of a derived type reads its objects: the two layouts agree.
mod mirrored {
    use tvmffi::{FieldGetter, Object, ObjectArc, ObjectCore};

    #[repr(C)]
    #[derive(tvmffi::derive::Object)]
    #[tvmffi(crate = tvmffi)]
    #[type_key = "test.derive.Shape"]
    pub struct ShapeMirror {
        base: Object,
        pub name: tvmffi::String,
        pub scale: f64,
        cache: i64, // not reflected, but there
    }

    #[repr(C)]
    #[derive(tvmffi::derive::Object)]
    #[tvmffi(crate = tvmffi)]
    #[type_key = "test.derive.Circle"]
    #[type_final]
    pub struct CircleMirror {
        base: ShapeMirror,
        pub radius: f64,
        pub tags: tvmffi::Array<i64>,
    }

    #[repr(C)]
    #[derive(tvmffi::derive::ObjectRef, Clone)]
    #[tvmffi(crate = tvmffi)]
    pub struct CircleRef {
        base: ObjectArc<CircleMirror>,
    }

    #[test]
    fn a_mirror_reads_what_the_derive_wrote() {
        let c = tvmffi::object_type::new_object(super::Circle {
            base: super::Shape { name: "m".into(), ..Default::default() },
            radius: 4.0,
            ..Default::default()
        })
        .unwrap();
        let mirror: CircleRef = tvmffi::Any::from(c).get().unwrap();
        assert_eq!(mirror.base.radius, 4.0);
        assert_eq!(mirror.base.base.name.as_str(), "m");
        let r: f64 =
            FieldGetter::new(CircleMirror::type_index(), "r").unwrap().get(&*mirror.base).unwrap();
        assert_eq!(r, 4.0);
        assert_eq!(CircleMirror::TYPE_DEPTH, 2);

        // Made from Rust through the mirror, read through the derived type.
        let made = ObjectArc::new(CircleMirror {
            base: ShapeMirror { base: Object::new(), name: "n".into(), scale: 1.0, cache: 0 },
            radius: 0.25,
            tags: tvmffi::Array::new(),
        });
        let any = tvmffi::Any::from(ObjectArc::into_object_ref(made));
        let derived: tvmffi::ObjectRef<tvmffi::object::Object<super::Circle>> = any.get().unwrap();
        assert_eq!(derived.radius, 0.25);
        assert_eq!(derived.base.name.as_str(), "n");
    }
}
