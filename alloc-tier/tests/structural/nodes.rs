//! Reflected object types for the structural tests, registered through the C API the way the
//! reference's Python `py_class` registers them (the mirror types of `golden.py`): up to four
//! `Any` fields at offsets 24, 40, ..., with getters, setters, flags, a structural kind and
//! `__ffi_shallow_copy__`.
#![allow(dead_code)] // each test file uses its own subset

use core::cell::UnsafeCell;
use core::ffi::{c_int, c_void};
use std::sync::Mutex;

use tvmffi_alloc::{Error, Function};
use tvmffi_core::flags::{FieldFlags, SEqHashKind};
use tvmffi_core::sys::{TVMFFIAny, TVMFFIByteArray, TVMFFIFieldInfo, TVMFFITypeMetadata, api};
use tvmffi_core::{Any, AnyView, Object, ObjectRef, Payload, TypeIndex};

/// The payload of every test node: four `Any` slots (unused ones stay `None`).
#[repr(C)]
pub struct Node {
    slots: [UnsafeCell<Any>; 4],
}

// SAFETY: the slots hold `Any` values (`Send`); writes only come from setters while a
// traversal has the (copied) object to itself.
unsafe impl Send for Node {}
// SAFETY: as above.
unsafe impl Sync for Node {}

static TYPES: Mutex<Vec<i32>> = Mutex::new(Vec::new());

// SAFETY: every index in `TYPES` was registered by `define` for objects laid out as `Node`.
unsafe impl Payload for Node {
    const TYPE_KEY: &'static str = "test.structural.Node";

    fn is_instance(type_index: TypeIndex) -> bool {
        TYPES.lock().unwrap().contains(&type_index.0)
    }
}

impl Node {
    /// Field `i`'s value.
    pub fn get(&self, i: usize) -> Any {
        // SAFETY: read while nobody writes (tests are single-threaded per object).
        unsafe { (*self.slots[i].get()).clone() }
    }
}

fn bytes(s: &str) -> TVMFFIByteArray {
    TVMFFIByteArray { data: s.as_ptr().cast(), size: s.len() }
}

unsafe extern "C" fn get_slot(field: *mut c_void, out: *mut TVMFFIAny) -> c_int {
    // SAFETY: `field` is an `UnsafeCell<Any>` slot of a live node; `out` is writable.
    unsafe { out.write((*field.cast::<Any>()).clone().into_raw()) };
    0
}

unsafe extern "C" fn set_slot(field: *mut c_void, value: *const TVMFFIAny) -> c_int {
    // SAFETY: `value` is a valid view; `field` a slot of a live node nobody else reads now.
    unsafe {
        let v = tvmffi_alloc::any_view_to_owned(AnyView::from_raw(*value)).unwrap();
        *field.cast::<Any>() = v;
    }
    0
}

/// Register `key` with `fields` (name and flags) and structural `kind` (`None`: no
/// metadata at all, as `py_class(structural_eq=None)` leaves it).
pub fn define(key: &str, kind: Option<SEqHashKind>, fields: &[(&str, FieldFlags)]) -> TypeIndex {
    assert!(fields.len() <= 4);
    // SAFETY: the key is a live string.
    let index = unsafe { api::TVMFFITypeGetOrAllocIndex(&bytes(key), -1, 1, 0, 1, 64) };
    assert!(index >= 0, "{key} registers");
    {
        let mut types = TYPES.lock().unwrap();
        if types.contains(&index) {
            return TypeIndex(index);
        }
        types.push(index);
    }
    for (i, (name, flags)) in fields.iter().enumerate() {
        let info = TVMFFIFieldInfo {
            name: bytes(name),
            doc: TVMFFIByteArray { data: core::ptr::null(), size: 0 },
            metadata: bytes(r#"{"type_schema":"{\"type\":\"Any\"}"}"#),
            flags: (*flags | FieldFlags::WRITABLE).0,
            size: 16,
            alignment: 8,
            offset: 24 + 16 * i as i64,
            getter: Some(get_slot),
            setter: set_slot as *mut c_void,
            default_value_or_factory: TVMFFIAny::NONE,
            field_static_type_index: -1,
        };
        // SAFETY: the strings are live; no default; a C setter.
        assert_eq!(unsafe { api::TVMFFITypeRegisterField(index, &info) }, 0);
    }
    if let Some(kind) = kind {
        let metadata = TVMFFITypeMetadata {
            doc: TVMFFIByteArray { data: core::ptr::null(), size: 0 },
            creator: None,
            total_size: 24 + 64,
            structural_eq_hash_kind: kind,
        };
        // SAFETY: the doc is empty.
        assert_eq!(unsafe { api::TVMFFITypeRegisterMetadata(index, &metadata) }, 0);
    }
    let copy = Function::from_packed(|args: &[AnyView<'_>]| {
        let obj: ObjectRef<Object<Node>> = args[0].get()?;
        let fields = (0..4).map(|i| obj.get(i)).collect();
        Ok(new_node(obj.type_index(), fields))
    });
    let name = "__ffi_shallow_copy__";
    // SAFETY: the name and the function are live; the table keeps its own reference.
    let rc =
        unsafe { api::TVMFFITypeRegisterAttr(index, &bytes(name), AnyView::from(&copy).as_raw()) };
    assert_eq!(rc, 0);
    TypeIndex(index)
}

/// A node of type `index` with `fields` (missing ones `None`).
pub fn new_node(index: TypeIndex, mut fields: Vec<Any>) -> Any {
    fields.resize_with(4, Any::none);
    let slots: [UnsafeCell<Any>; 4] = core::array::from_fn(|i| UnsafeCell::new(fields[i].clone()));
    Any::from(tvmffi_alloc::heap::new_object(index, Node { slots }))
}

/// The mirror types of `golden.py`, registered once.
pub fn types() -> &'static Types {
    static T: std::sync::OnceLock<Types> = std::sync::OnceLock::new();
    T.get_or_init(|| {
        let none = FieldFlags(0);
        let hooked = define(
            "test.structural.Hooked",
            Some(SEqHashKind::TREE_NODE),
            &[("a", none), ("b", none)],
        );
        register_hooks(hooked);
        Types {
            tree: define(
                "test.structural.Tree",
                Some(SEqHashKind::TREE_NODE),
                &[("a", none), ("b", none), ("c", none)],
            ),
            var: define(
                "test.structural.Var",
                Some(SEqHashKind::FREE_VAR),
                &[("name", FieldFlags::SEQ_HASH_IGNORE)],
            ),
            func: define(
                "test.structural.Func",
                Some(SEqHashKind::TREE_NODE),
                &[("params", FieldFlags::SEQ_HASH_DEF_PATTERN), ("body", none)],
            ),
            slet: define(
                "test.structural.SLet",
                Some(SEqHashKind::TREE_NODE),
                &[("var", FieldFlags::SEQ_HASH_DEF_SIMPLE), ("value", none), ("body", none)],
            ),
            dag: define(
                "test.structural.Dag",
                Some(SEqHashKind::DAG_NODE),
                &[("a", none), ("b", none)],
            ),
            konst: define(
                "test.structural.Const",
                Some(SEqHashKind::CONST_TREE_NODE),
                &[("a", none)],
            ),
            uniq: define(
                "test.structural.Uniq",
                Some(SEqHashKind::UNIQUE_INSTANCE),
                &[("a", none)],
            ),
            unsup: define("test.structural.Unsup", None, &[("a", none)]),
            hooked,
        }
    })
}

/// The indices of the mirror types.
pub struct Types {
    pub tree: TypeIndex,
    pub var: TypeIndex,
    pub func: TypeIndex,
    pub slet: TypeIndex,
    pub dag: TypeIndex,
    pub konst: TypeIndex,
    pub uniq: TypeIndex,
    pub unsup: TypeIndex,
    pub hooked: TypeIndex,
}

impl Types {
    /// The type of a node name in `cases.txt`.
    pub fn by_name(&self, name: &str) -> TypeIndex {
        match name {
            "Tree" => self.tree,
            "Var" => self.var,
            "Func" => self.func,
            "SLet" => self.slet,
            "Dag" => self.dag,
            "Const" => self.konst,
            "Uniq" => self.uniq,
            "Unsup" => self.unsup,
            "Hooked" => self.hooked,
            other => panic!("unknown node type {other}"),
        }
    }
}

/// `__s_equal__` and `__s_hash__` of `Hooked`: field `a` only, as `golden.py` registers them.
fn register_hooks(index: TypeIndex) {
    let field_a = |v: &AnyView<'_>| -> Result<Any, Error> {
        let obj: ObjectRef<Object<Node>> = v.get()?;
        Ok(obj.get(0))
    };
    let equal = Function::from_packed(move |args: &[AnyView<'_>]| {
        let (l, r) = (field_a(&args[0])?, field_a(&args[1])?);
        let compare: Function = args[2].get()?;
        let name = tvmffi_alloc::String::from("a");
        compare.call(&[l.view(), r.view(), AnyView::from(0i32), name.view()])
    });
    let hash = Function::from_packed(move |args: &[AnyView<'_>]| {
        let a = field_a(&args[0])?;
        let hash_value: Function = args[2].get()?;
        hash_value.call(&[a.view(), args[1], AnyView::from(0i32)])
    });
    for (name, f) in [("__s_equal__", &equal), ("__s_hash__", &hash)] {
        // SAFETY: the name and the function are live.
        let rc = unsafe {
            api::TVMFFITypeRegisterAttr(index.0, &bytes(name), AnyView::from(f).as_raw())
        };
        assert_eq!(rc, 0);
    }
}

/// Set field `i` of the node `obj` (as a setter would), e.g. to make a cycle.
pub fn set(obj: &Any, i: usize, value: Any) {
    let node: ObjectRef<Object<Node>> = obj.get().unwrap();
    // SAFETY: tests set fields while nothing else reads the node.
    unsafe { *node.slots[i].get() = value };
}
