//! The dataclass built-ins on Rust-defined reflected objects, as the Python package calls
//! them: printing their fields, comparing and hashing by fields or by the type's hooks, deep
//! copies that keep sharing and cycles, and hooks that recurse without end refused.

#[path = "dataclass/support.rs"]
mod support;

use support::{arr, call, s, serial};
use tvmffi_alloc::map::Dict;
use tvmffi_alloc::object_type::{self, FieldCell, ObjectRoot, Reflect};
use tvmffi_alloc::{Array, Error, Function, List};
use tvmffi_core::{Any, AnyView, Object, ObjectRef};

#[repr(C)]
#[derive(Clone, Default)]
struct Node {
    name: tvmffi_alloc::String,
    weight: f64,
    next: FieldCell<Option<ObjectRef<Object<Node>>>>,
    hidden: i64,
    note: FieldCell<Any>,
}

#[repr(C)]
#[derive(Clone, Default)]
struct Celsius {
    degrees: f64,
}

#[repr(C)]
#[derive(Default)]
struct Opaque {
    id: i64,
}

tvmffi_alloc::object_type! {
    // SAFETY: test-only keys.
    unsafe impl ObjectDef for Node { type_key = "test.dataclass.Node"; parent = ObjectRoot; }
}
tvmffi_alloc::object_type! {
    // SAFETY: as above.
    unsafe impl ObjectDef for Celsius { type_key = "test.dataclass.Celsius"; parent = ObjectRoot; }
}
tvmffi_alloc::object_type! {
    // SAFETY: as above.
    unsafe impl ObjectDef for Opaque { type_key = "test.dataclass.Opaque"; parent = ObjectRoot; }
}

fn registered() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        Reflect::<Node>::new()
            .default_creator()
            .shallow_copy()
            .def_ro(tvmffi_alloc::field!(Node, name))
            .def_ro(tvmffi_alloc::field!(Node, weight))
            .def_rw(tvmffi_alloc::field!(Node, next))
            .def_ro(tvmffi_alloc::field!(Node, hidden).repr(false).compare(false).hash(false))
            .def_rw(tvmffi_alloc::field!(Node, note).hash(false))
            .register()
            .unwrap();
        // A value type with hooks: printed in degrees, equal and hashed by rounded value.
        let repr = Function::from_packed(|args: &[AnyView<'_>]| {
            let c: ObjectRef<Object<Celsius>> = args[0].get()?;
            let f: Function = args[1].get()?;
            let inner = f.call(&[AnyView::from(c.degrees)])?;
            Ok(tvmffi_alloc::String::from(format!("{}C", inner.as_str()?)).into())
        });
        let rounded = |v: &AnyView<'_>| -> Result<i64, Error> {
            Ok(v.get::<ObjectRef<Object<Celsius>>>()?.degrees.round() as i64)
        };
        let eq = Function::from_packed(move |args: &[AnyView<'_>]| {
            Ok(Any::from(rounded(&args[0])? == rounded(&args[1])?))
        });
        let cmp = Function::from_packed(move |args: &[AnyView<'_>]| {
            Ok(Any::from(rounded(&args[0])?.cmp(&rounded(&args[1])?) as i32))
        });
        let hash = Function::from_packed(move |args: &[AnyView<'_>]| {
            let f: Function = args[1].get()?;
            f.call(&[AnyView::from(rounded(&args[0])?)])
        });
        Reflect::<Celsius>::new()
            .default_creator()
            .shallow_copy()
            .def_ro(tvmffi_alloc::field!(Celsius, degrees))
            .type_attr("__ffi_repr__", repr)
            .type_attr("__ffi_eq__", eq)
            .type_attr("__ffi_compare__", cmp)
            .type_attr("__ffi_hash__", hash)
            .register()
            .unwrap();
        Reflect::<Opaque>::new().def_ro(tvmffi_alloc::field!(Opaque, id)).register().unwrap();
    });
}

fn node(
    name: &str,
    weight: f64,
    next: Option<&ObjectRef<Object<Node>>>,
) -> ObjectRef<Object<Node>> {
    registered();
    object_type::new_object(Node {
        name: name.into(),
        weight,
        next: FieldCell::new(next.cloned()),
        hidden: 7,
        note: FieldCell::new(Any::none()),
    })
    .unwrap()
}

fn celsius(degrees: f64) -> Any {
    registered();
    object_type::new_object(Celsius { degrees }).unwrap().into()
}

fn repr(v: &Any) -> String {
    call("ffi.ReprPrint", &[v.view()]).unwrap().as_str().unwrap().to_owned()
}

fn eq(a: &Any, b: &Any) -> bool {
    call("ffi.RecursiveEq", &[a.view(), b.view()]).unwrap().get().unwrap()
}

#[test]
fn reflected_objects_print_their_fields() {
    let _s = serial();
    let tail = node("tail", 0.5, None);
    let head = node("head", 2.0, Some(&tail));
    assert_eq!(
        repr(&Any::from(head.clone())),
        r#"test.dataclass.Node(name="head", weight=2, next=test.dataclass.Node(name="tail", weight=0.5, next=None, note=None), note=None)"#
    );
    // A cycle through a writable field.
    tail.next.set(Some(head.clone()));
    assert_eq!(
        repr(&Any::from(head.clone())),
        r#"test.dataclass.Node(name="head", weight=2, next=test.dataclass.Node(name="tail", weight=0.5, next=..., note=None), note=None)"#
    );
    tail.next.set(None);
    // A type without fields in repr prints its key alone.
    registered();
    let o = object_type::new_object(Opaque { id: 1 }).unwrap();
    assert_eq!(repr(&Any::from(o)), "test.dataclass.Opaque(id=1)");
    // Hooks, also when nested in containers.
    let c = celsius(21.5);
    assert_eq!(repr(&arr(vec![c.clone(), c])), "(21.5C, 21.5C)");
}

#[test]
fn reflected_objects_compare_and_hash_by_fields_and_hooks() {
    let _s = serial();
    let a = Any::from(node("n", 1.0, None));
    let b = Any::from(node("n", 1.0, None));
    let c = Any::from(node("n", 2.0, None));
    assert!(eq(&a, &b));
    assert!(!eq(&a, &c));
    let lt = |x: &Any, y: &Any| {
        call("ffi.RecursiveLt", &[x.view(), y.view()]).unwrap().get::<bool>().unwrap()
    };
    assert!(lt(&a, &c) && !lt(&c, &a));
    // `hidden` is CompareOff and HashOff; `note` HashOff only.
    let h = |v: &Any| call("ffi.RecursiveHash", &[v.view()]).unwrap().get::<i64>().unwrap();
    let an: ObjectRef<Object<Node>> = a.get().unwrap();
    an.note.set(Any::from(5i64));
    assert!(!eq(&a, &b), "note is compared");
    assert_eq!(h(&a), h(&b), "but not hashed");

    // Hooks decide for Celsius: 21.4 and 20.6 round alike.
    let (x, y, z) = (celsius(21.4), celsius(20.6), celsius(25.0));
    assert!(eq(&x, &y) && !eq(&x, &z));
    assert!(lt(&x, &z));
    assert_eq!(h(&x), h(&y));
    assert_eq!(h(&x), h(&Any::from(21i64)), "the hook hashes the rounded integer");
    // Different reflected types are unequal, and cannot be ordered.
    assert!(!eq(&a, &x));
    let e = call("ffi.RecursiveLt", &[a.view(), x.view()]).unwrap_err();
    assert_eq!(e.kind(), "TypeError");
    assert_eq!(
        e.message(),
        "Cannot compare values of different types: test.dataclass.Node vs test.dataclass.Celsius"
    );
}

#[test]
fn deep_copies_preserve_sharing_and_cycles() {
    let _s = serial();
    let tail = node("tail", 0.5, None);
    let head = node("head", 2.0, Some(&tail));
    tail.next.set(Some(head.clone())); // head -> tail -> head
    let shared = List::from_vec(vec![Any::from(head.clone())]);
    let root = arr(vec![Any::from(head.clone()), shared.clone().into(), shared.clone().into()]);
    let copy: Array = call("ffi.DeepCopy", &[root.view()]).unwrap().try_into().unwrap();
    let h2: ObjectRef<Object<Node>> = copy.get_as(0).unwrap();
    assert!(!h2.ptr_eq(&head), "a new head");
    let t2 = h2.next.get().unwrap();
    assert!(!t2.ptr_eq(&tail), "a new tail");
    assert!(t2.next.get().unwrap().ptr_eq(&h2), "the cycle closes on the copy");
    let (l1, l2): (List, List) = (copy.get_as(1).unwrap(), copy.get_as(2).unwrap());
    assert!(l1.ptr_eq(&l2) && !l1.ptr_eq(&shared), "one new list for the shared one");
    let inner: ObjectRef<Object<Node>> = l1.get_as(0).unwrap();
    assert!(inner.ptr_eq(&h2), "the head inside the list is the same copy");
    assert_eq!((h2.name.as_str(), h2.weight, h2.hidden), ("head", 2.0, 7));
    assert!(eq(&root, &copy.clone().into()));
    tail.next.set(None); // break the original cycle so it can be freed
    t2.next.set(None);

    // Leaves are shared; an array inside a cycle through a list is fixed up.
    let l = List::new();
    let a = arr(vec![l.clone().into(), s("a string long enough to live in an object")]);
    l.push(a.clone());
    let a2: Array = call("ffi.DeepCopy", &[a.view()]).unwrap().try_into().unwrap();
    let l2: List = a2.get_as(0).unwrap();
    let back: Array = l2.get_as(0).unwrap();
    assert!(back.ptr_eq(&a2), "the list's element is the copied array, not the original");
    let orig: Array = a.clone().try_into().unwrap();
    assert_eq!(
        a2.get(1).unwrap().as_object_ptr(),
        orig.get(1).unwrap().as_object_ptr(),
        "strings are shared"
    );
    l.clear();
    l2.clear();

    // A dict whose keys and values are copied (a cycle through a value).
    let d = Dict::new();
    let key = List::from_vec(vec![Any::from(1i64)]);
    d.insert(key.clone(), d.clone()).unwrap();
    let d2: Dict =
        call("ffi.DeepCopy", &[Any::from(d.clone()).view()]).unwrap().try_into().unwrap();
    let (k2, v2) = d2.to_vec().pop().unwrap();
    let k2: List = k2.try_into().unwrap();
    assert!(!k2.ptr_eq(&key));
    assert!(Dict::try_from(v2).unwrap().ptr_eq(&d2));
    d.clear();
    d2.clear();

    // Hook types copy with their shallow copy; a type without one is refused.
    let c = celsius(3.0);
    let c2 = call("ffi.DeepCopy", &[c.view()]).unwrap();
    assert_ne!(c2.as_object_ptr(), c.as_object_ptr());
    registered();
    let o = Any::from(object_type::new_object(Opaque { id: 1 }).unwrap());
    let e = call("ffi.DeepCopy", &[arr(vec![o]).view()]).unwrap_err();
    assert_eq!(e.kind(), "InternalError");
    assert!(
        e.message().contains("\"test.dataclass.Opaque\" because it is not copy-constructible"),
        "{e}"
    );
}

#[test]
#[cfg_attr(target_os = "wasi", ignore = "wasm32-wasip1 has no threads")]
fn hooks_nest_only_so_deep() {
    let _s = serial();
    // A hook that prints itself through fn_repr recurses without end: refused, not a crash.
    #[repr(C)]
    #[derive(Default)]
    struct Mirror;
    tvmffi_alloc::object_type! {
        // SAFETY: a test-only key.
        unsafe impl ObjectDef for Mirror { type_key = "test.dataclass.Mirror"; parent = ObjectRoot; }
    }
    let hook = Function::from_packed(|args: &[AnyView<'_>]| {
        let f: Function = args[1].get()?;
        // A fresh object each time, so the printer never sees a cycle.
        let other = object_type::new_object(Mirror)?;
        f.call(&[AnyView::from(&other)])
    });
    Reflect::<Mirror>::new().type_attr("__ffi_repr__", hook).register().unwrap();
    let m = Any::from(object_type::new_object(Mirror).unwrap());
    // Each level runs the hook and a nested print on the native stack: the bound keeps that
    // within a thread's stack: about 1.7 KiB a level in release builds, 9.4 KiB in debug
    // ones, so 128 levels fit Rust's default 2 MiB (a main thread has 8).
    let run = move || call("ffi.ReprPrint", &[m.view()]).unwrap_err().to_string();
    let e = std::thread::Builder::new().stack_size(2 << 20).spawn(run).unwrap().join().unwrap();
    assert!(e.contains("custom hooks nested more than"), "{e}");
}
