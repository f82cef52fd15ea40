//! Making reflected objects: the generated `__ffi_init__` (`ffi._RegisterFFIInit`),
//! `ffi.MakeObjectFromPackedArgs`, types laid out by Python (`ffi.MakeFieldGetter`,
//! `ffi.MakeFieldSetter`, `ffi._PyClassRegisterTypeAttrColumns`), and the enum types.

extern crate alloc;

use core::ffi::{c_int, c_void};

use tvmffi_alloc::dataclass::enums::{self, EnumObj, IntEnumObj};
use tvmffi_alloc::object_type::info::{TypeInfo, type_attr};
use tvmffi_alloc::object_type::{self, FieldCell, ObjectRoot, Reflect};
use tvmffi_alloc::{Array, Error, Function, List};
use tvmffi_core::flags::{FieldFlags, SEqHashKind};
use tvmffi_core::sys::{TVMFFIAny, TVMFFIByteArray, TVMFFIFieldInfo, TVMFFITypeMetadata, api};
use tvmffi_core::{Any, AnyView, Object, ObjectRef, TypeIndex};

/// The `runtime` feature keeps one global error slot: tests that raise errors run one at a
/// time, or one may take an error another raised.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    drop(tvmffi_alloc::Error::take_raised());
    guard
}

fn call(name: &str, args: &[AnyView<'_>]) -> Result<Any, Error> {
    Function::get_global(name).unwrap_or_else(|| panic!("{name} is registered")).call(args)
}

fn s(text: &str) -> Any {
    tvmffi_alloc::String::from(text).into()
}

fn kwargs() -> Any {
    call("ffi.GetKwargsObject", &[]).unwrap()
}

/// The reference's `TestCxxAutoInit`, in Rust: `a` required, `b` not in init (default 42),
/// `c` keyword-only, `d` defaulting to 99; plus a list from a factory.
#[repr(C)]
#[derive(Clone, Default)]
struct AutoInit {
    a: FieldCell<i64>,
    b: FieldCell<i64>,
    c: FieldCell<i64>,
    d: FieldCell<i64>,
    items: FieldCell<Option<List>>,
}

#[repr(C)]
#[derive(Clone, Default)]
struct Child {
    base: AutoInit,
    e: FieldCell<tvmffi_alloc::String>,
}

tvmffi_alloc::object_type! {
    // SAFETY: test-only keys; `Child` starts with `AutoInit`.
    unsafe impl ObjectDef for AutoInit { type_key = "test.init.AutoInit"; parent = ObjectRoot; }
}
tvmffi_alloc::object_type! {
    // SAFETY: as above.
    unsafe impl ObjectDef for Child { type_key = "test.init.Child"; parent = AutoInit; }
}

fn types() -> (TypeIndex, TypeIndex) {
    static ONCE: std::sync::OnceLock<(TypeIndex, TypeIndex)> = std::sync::OnceLock::new();
    *ONCE.get_or_init(|| {
        let factory = Function::from_packed(|_| Ok(Any::from(List::new())));
        let parent = Reflect::<AutoInit>::new()
            .default_creator()
            .shallow_copy()
            .def_rw(tvmffi_alloc::field!(AutoInit, a))
            .def_rw(tvmffi_alloc::field!(AutoInit, b).init(false).default(42i64))
            .def_rw(tvmffi_alloc::field!(AutoInit, c).kw_only(true))
            .def_rw(tvmffi_alloc::field!(AutoInit, d).default(99i64))
            .def_rw(tvmffi_alloc::field!(AutoInit, items).default_factory(factory).kw_only(true))
            .register()
            .unwrap();
        let child = Reflect::<Child>::new()
            .default_creator()
            .def_rw(tvmffi_alloc::field!(Child, e))
            .register()
            .unwrap();
        (parent, child)
    })
}

fn init(index: TypeIndex, args: &[AnyView<'_>]) -> Result<Any, Error> {
    let f: Function = type_attr("__ffi_init__", index).expect("an init").get().unwrap();
    f.call(args)
}

fn fields(v: &Any) -> (i64, i64, i64, i64) {
    let o: ObjectRef<Object<AutoInit>> = v.get().unwrap();
    (o.a.get(), o.b.get(), o.c.get(), o.d.get())
}

#[test]
fn the_generated_init_binds_positional_and_keyword_arguments() {
    let _s = serial();
    let (parent, _) = types();
    let i = |v: i64| Any::from(v);
    let kw = kwargs();
    let o = init(parent, &[i(1).view(), kw.view(), s("c").view(), i(3).view()]).unwrap();
    assert_eq!(fields(&o), (1, 42, 3, 99));
    // Positional: `a`, then `d` (required before defaults); `b` is not an argument.
    let o =
        init(parent, &[i(1).view(), i(4).view(), kw.view(), s("c").view(), i(3).view()]).unwrap();
    assert_eq!(fields(&o), (1, 42, 3, 4));
    let o = init(
        parent,
        &[
            kw.view(),
            s("d").view(),
            i(5).view(),
            s("a").view(),
            i(6).view(),
            s("c").view(),
            i(7).view(),
        ],
    )
    .unwrap();
    assert_eq!(fields(&o), (6, 42, 7, 5));
    // A factory gives each object its own list.
    let o2 = init(parent, &[i(1).view(), kw.view(), s("c").view(), i(3).view()]).unwrap();
    let (l1, l2) = (
        o.get::<ObjectRef<Object<AutoInit>>>().unwrap().items.get().unwrap(),
        o2.get::<ObjectRef<Object<AutoInit>>>().unwrap().items.get().unwrap(),
    );
    assert!(!l1.ptr_eq(&l2));
}

#[test]
fn the_generated_init_reports_errors_as_the_reference() {
    let _s = serial();
    let (parent, child) = types();
    let i = |v: i64| Any::from(v);
    let kw = kwargs();
    let msg = |args: &[AnyView<'_>]| {
        let e = init(parent, args).unwrap_err();
        assert_eq!(e.kind(), "TypeError", "{e}");
        e.message().into_owned()
    };
    let key = "test.init.AutoInit.__ffi_init__()";
    assert_eq!(msg(&[]), format!("{key} missing required argument: 'a'"));
    assert_eq!(msg(&[i(1).view()]), format!("{key} missing required keyword-only argument: 'c'"));
    assert_eq!(
        msg(&[i(1).view(), i(2).view(), i(3).view()]),
        format!("{key} takes at most 2 positional argument(s), but 3 were given")
    );
    assert_eq!(
        msg(&[i(1).view(), i(2).view(), i(3).view(), kw.view()]),
        format!("{key} takes at most 2 positional argument(s), but 3 were given")
    );
    assert_eq!(
        msg(&[kw.view(), s("zz").view(), i(1).view()]),
        format!("{key} got an unexpected keyword argument 'zz'")
    );
    assert_eq!(
        msg(&[kw.view(), s("b").view(), i(1).view()]),
        format!("{key} got an unexpected keyword argument 'b'"),
        "init=False fields are not arguments"
    );
    assert_eq!(
        msg(&[i(1).view(), kw.view(), s("a").view(), i(1).view()]),
        format!("{key} got multiple values for argument 'a'")
    );
    assert_eq!(
        msg(&[kw.view(), s("a").view()]),
        format!("{key} KWARGS requires an even number of key-value arguments")
    );
    let long = s("a string long enough to live in an object");
    assert_eq!(
        msg(&[long.view()]),
        format!("{key} field 'a':\n  Cannot convert from type `ffi.String` to `int`")
    );
    // A subclass takes its parent's fields first.
    let o =
        init(child, &[i(1).view(), s("e").view(), kw.view(), s("c").view(), i(3).view()]).unwrap();
    let c: ObjectRef<Object<Child>> = o.get().unwrap();
    assert_eq!((c.base.a.get(), c.base.d.get(), c.e.get().as_str()), (1, 99, "e"));
    let e = init(child, &[i(1).view(), kw.view(), s("c").view(), i(3).view()]).unwrap_err();
    assert_eq!(e.message(), "test.init.Child.__ffi_init__() missing required argument: 'e'");
}

#[test]
fn objects_are_made_from_packed_field_names() {
    let _s = serial();
    let (parent, _) = types();
    let i = |v: i64| Any::from(v);
    let o = call(
        "ffi.MakeObjectFromPackedArgs",
        &[s("test.init.AutoInit").view(), s("a").view(), i(1).view(), s("c").view(), i(2).view()],
    )
    .unwrap();
    assert_eq!(fields(&o), (1, 42, 2, 99));
    let o = call(
        "ffi.MakeObjectFromPackedArgs",
        &[
            AnyView::from(parent.0),
            s("c").view(),
            i(2).view(),
            s("a").view(),
            i(1).view(),
            s("b").view(),
            i(0).view(),
        ],
    )
    .unwrap();
    assert_eq!(fields(&o), (1, 0, 2, 99), "init=False fields may be set by name");
    let e = call(
        "ffi.MakeObjectFromPackedArgs",
        &[AnyView::from(parent.0), s("a").view(), i(1).view()],
    )
    .unwrap_err();
    assert_eq!(e.message(), "Required field `c` not set in type `test.init.AutoInit`");
    let e = call(
        "ffi.MakeObjectFromPackedArgs",
        &[
            AnyView::from(parent.0),
            s("a").view(),
            i(1).view(),
            s("c").view(),
            i(1).view(),
            s("q").view(),
            i(1).view(),
        ],
    )
    .unwrap_err();
    assert_eq!(
        (e.kind().into_owned(), e.message().into_owned()),
        ("TypeError".into(), "Type `test.init.AutoInit` does not have field `q`".into())
    );
    let e = call("ffi.MakeObjectFromPackedArgs", &[AnyView::from(parent.0), s("a").view()])
        .unwrap_err();
    assert_eq!(e.kind(), "InternalError");
}

// --- Python-defined layouts -----------------------------------------------------------

/// The converter the Python package would pass: copies the value, refusing `-1`.
unsafe extern "C" fn convert(
    _conv: *mut c_void,
    value: *const TVMFFIAny,
    out: *mut TVMFFIAny,
) -> c_int {
    // SAFETY: the setter passes a valid view and a writable slot.
    let view = unsafe { AnyView::from_ptr(value) };
    if view.get::<i64>().ok() == Some(-1) {
        Error::value_error("-1 is not allowed").raise();
        return -1;
    }
    // SAFETY: as above.
    unsafe { out.write(view.to_owned().unwrap().into_raw()) };
    0
}

/// The getter and setter of a Python-defined field of static type `kind`, as the Python
/// package gets them: through the built-ins, passing function addresses as integers. Miri
/// cannot follow a pointer through an integer, so under it the Rust API stands in.
fn accessors(kind: TypeIndex) -> (tvmffi_core::sys::TVMFFIFieldGetter, Function) {
    if cfg!(miri) {
        let getter = tvmffi_alloc::dataclass::pyclass::field_getter(kind).unwrap();
        // SAFETY: `convert` ignores its converter; the setter writes fields of this kind.
        let setter = unsafe {
            tvmffi_alloc::dataclass::pyclass::field_setter(kind, core::ptr::null_mut(), convert)
        };
        return (getter, setter);
    }
    let getter =
        call("ffi.MakeFieldGetter", &[AnyView::from(kind.0)]).unwrap().get::<i64>().unwrap();
    let convert_addr = convert as *const () as usize as i64;
    let setter = call(
        "ffi.MakeFieldSetter",
        &[AnyView::from(kind.0), AnyView::from(0i64), AnyView::from(convert_addr)],
    )
    .unwrap()
    .get::<Function>()
    .unwrap();
    // SAFETY: `ffi.MakeFieldGetter` returns a getter's address.
    let getter = unsafe {
        core::mem::transmute::<usize, tvmffi_core::sys::TVMFFIFieldGetter>(getter as usize)
    };
    (getter, setter)
}

fn bytes(s: &str) -> TVMFFIByteArray {
    TVMFFIByteArray { data: s.as_ptr().cast(), size: s.len() }
}

#[test]
fn python_defined_layouts_get_accessors_and_constructors() {
    let _s = serial();
    let key = bytes("test.py.Point");
    // SAFETY: a valid key; a new type under ffi.Object.
    let index = unsafe { api::TVMFFITypeGetOrAllocIndex(&key, -1, 1, 0, 1, 64) };
    assert!(index >= 128);
    let names = ["x", "label", "child"];
    let kinds = [TypeIndex::INT, TypeIndex::ANY, TypeIndex::OBJECT];
    let offsets = [24i64, 32, 48];
    let sizes = [8i64, 16, 8];
    for k in 0..3 {
        let (getter, setter) = accessors(kinds[k]);
        let info = TVMFFIFieldInfo {
            name: bytes(names[k]),
            doc: bytes(""),
            metadata: bytes(""),
            flags: (FieldFlags::WRITABLE | FieldFlags::SETTER_IS_FUNCTION_OBJ).0
                | if k == 2 { FieldFlags::HAS_DEFAULT.0 } else { 0 },
            size: sizes[k],
            alignment: 8,
            offset: offsets[k],
            getter: Some(getter),
            setter: setter.as_object().as_raw().cast(),
            default_value_or_factory: TVMFFIAny::NONE,
            field_static_type_index: kinds[k].0,
        };
        // SAFETY: the info is valid for the call; the setter object is kept by the table.
        assert_eq!(unsafe { api::TVMFFITypeRegisterField(index, &info) }, 0);
    }
    let e = call("ffi.MakeFieldGetter", &[AnyView::from(TypeIndex::RAW_STR.0)]).unwrap_err();
    assert_eq!(e.message(), "Unsupported field type index for getter: 8");
    call("ffi._PyClassRegisterTypeAttrColumns", &[AnyView::from(index), AnyView::from(56i32)])
        .unwrap();
    let meta = TVMFFITypeMetadata {
        doc: bytes(""),
        creator: None,
        total_size: 56,
        structural_eq_hash_kind: SEqHashKind::TREE_NODE,
    };
    // SAFETY: valid metadata.
    assert_eq!(unsafe { api::TVMFFITypeRegisterMetadata(index, &meta) }, 0);

    let payload = Array::from_vec(vec![Any::from(1i64)]);
    let count = || payload.as_object().strong_count();
    let obj =
        init(TypeIndex(index), &[AnyView::from(5i64), s("pt").view(), AnyView::from(&payload)])
            .unwrap();
    assert_eq!(count(), 2, "the field holds a reference");
    let repr = call("ffi.ReprPrint", &[obj.view()]).unwrap();
    assert_eq!(repr.as_str().unwrap(), r#"test.py.Point(x=5, label="pt", child=(1,))"#);
    // The converter's error comes back through the setter.
    let e = init(TypeIndex(index), &[AnyView::from(-1i64), s("pt").view()]).unwrap_err();
    assert_eq!(e.message(), "test.py.Point.__ffi_init__() field 'x':\n  -1 is not allowed");
    // A child left out keeps its default (None).
    let other = init(TypeIndex(index), &[AnyView::from(1i64), s("q").view()]).unwrap();
    let t = TypeInfo::of(TypeIndex(index)).unwrap();
    let other_obj = other.get::<ObjectRef>().unwrap();
    assert!(t.field("child").unwrap().get(&other_obj).unwrap().is_none());

    let copy = call("ffi.DeepCopy", &[obj.view()]).unwrap();
    assert_ne!(copy.as_object_ptr(), obj.as_object_ptr());
    assert!(call("ffi.RecursiveEq", &[obj.view(), copy.view()]).unwrap().get::<bool>().unwrap());
    let copied_child = t.field("child").unwrap().get(&copy.get::<ObjectRef>().unwrap()).unwrap();
    assert_ne!(
        copied_child.as_object_ptr(),
        AnyView::from(&payload).as_object_ptr(),
        "a deep copy"
    );
    drop((obj, copy, copied_child, other, other_obj));
    assert_eq!(count(), 1, "the deleter released the field");
}

// --- Enums ------------------------------------------------------------------------------

#[repr(C)]
#[derive(Clone, Default)]
struct Color {
    base: IntEnumObj,
}

tvmffi_alloc::object_type! {
    // SAFETY: a test-only key; `Color` is an `IntEnumObj`.
    unsafe impl ObjectDef for Color { type_key = "test.enum.Color"; parent = IntEnumObj; }
}

#[test]
fn enum_types_are_registered_as_the_reference_registers_them() {
    let _s = serial();
    let keys = ["ffi.EnumState", "ffi.Enum", "ffi.IntEnum", "ffi.StrEnum"];
    let infos: Vec<TypeInfo> = keys.iter().map(|k| TypeInfo::of_key(k).unwrap()).collect();
    let indices: Vec<i32> = infos.iter().map(|t| t.index().0).collect();
    assert_eq!(indices, [128, 129, 130, 131], "the first dynamic types, as in the reference");
    // Containers are one pointer; the header is 24 bytes on every target.
    let ptr = core::mem::size_of::<usize>() as i64;
    let fields = |t: &TypeInfo| -> Vec<(String, String, i32, i64, String)> {
        t.own_fields()
            .map(|f| {
                (
                    f.name().into(),
                    f.doc().into(),
                    f.static_type_index().0,
                    f.raw().offset,
                    f.metadata().into(),
                )
            })
            .collect()
    };
    assert_eq!(
        fields(&infos[0]),
        [
            ("entries".into(), "Enum singletons in registration order.".into(), 75, 24, r#"{"type_schema":"{\"type\":\"ffi.List\",\"args\":[{\"type\":\"ffi.Object\"}]}"}"#.into()),
            ("indexes".into(), "Canonical integer and string indices to enum singletons.".into(), 64, 24 + ptr, r#"{"type_schema":"{\"type\":\"ffi.Dict\",\"args\":[{\"type\":\"Any\"},{\"type\":\"ffi.Object\"}]}"}"#.into()),
            ("attrs".into(), "Extensible-attribute columns keyed by enum singleton.".into(), 64, 24 + 2 * ptr, r#"{"type_schema":"{\"type\":\"ffi.Dict\",\"args\":[{\"type\":\"ffi.String\"},{\"type\":\"ffi.Dict\",\"args\":[{\"type\":\"ffi.Object\"},{\"type\":\"Any\"}]}]}"}"#.into()),
        ]
    );
    assert_eq!(
        fields(&infos[1]),
        [
            (
                "_int_index".into(),
                "Canonical integer index.".into(),
                1,
                24,
                r#"{"type_schema":"{\"type\":\"int\"}"}"#.into()
            ),
            (
                "_str_index".into(),
                "Canonical string index.".into(),
                -1,
                32,
                r#"{"type_schema":"{\"type\":\"ffi.String\"}"}"#.into()
            ),
        ]
    );
    assert_eq!(fields(&infos[2])[0].3, 24);
    assert_eq!(fields(&infos[3])[0].3, 32);
    let flags: Vec<FieldFlags> = infos[1].own_fields().map(|f| f.flags()).collect();
    assert_eq!(flags, [FieldFlags::SEQ_HASH_IGNORE, FieldFlags(0)]);
    let sizes = [((24 + 3 * ptr as usize).next_multiple_of(8)) as i32, 48, 48, 48];
    for ((t, fin), size) in infos.iter().zip([true, false, false, false]).zip(sizes) {
        let m = t.metadata().unwrap();
        assert_eq!(m.total_size, size, "the C++ layout, on 64-bit: 48");
        assert!(m.creator.is_some());
        assert_eq!(type_attr("__ffi_type_final__", t.index()).unwrap().get::<bool>().unwrap(), fin);
        assert!(type_attr("__ffi_shallow_copy__", t.index()).is_some());
        assert!(type_attr("__ffi_new__", t.index()).is_some());
    }
    assert_eq!(infos[1].metadata().unwrap().structural_eq_hash_kind, SEqHashKind::UNIQUE_INSTANCE);
    assert!(type_attr("__ffi_init__", infos[1].index()).is_none(), "enums are not made by init");
    let init = infos[0].method("__ffi_init__").unwrap();
    assert!(init.is_static());
    assert_eq!(
        init.metadata(),
        r#"{"type_schema":"{\"type\":\"ffi.Function\",\"named_args\":{\"return\":[{\"type\":\"ffi.Object\"}],\"params\":[]}}"}"#
    );
}

#[test]
fn enum_states_and_entries_work_as_python_uses_them() {
    let _s = serial();
    // Python makes an `EnumState` with `EnumState()` and stores it in `__ffi_enum__`.
    let state_index = TypeInfo::of_key("ffi.EnumState").unwrap().index();
    let state = type_attr("__ffi_init__", state_index)
        .unwrap()
        .get::<Function>()
        .unwrap()
        .call(&[])
        .unwrap();
    let state: ObjectRef<Object<enums::EnumState>> = state.get().unwrap();
    assert_eq!((state.entries.len(), state.indexes.len(), state.attrs.len()), (0, 0, 0));

    let color = object_type::type_index::<Color>().unwrap();
    let name = tvmffi_alloc::String::from(enums::ENUM_STATE_ATTR);
    let entry = |i: i64, n: &str| {
        let base = IntEnumObj { base: EnumObj { int_index: i, str_index: n.into() } };
        let obj = Any::from(object_type::new_object(Color { base }).unwrap());
        state.entries.push(obj.clone());
        state.indexes.insert(Any::from(i), obj.clone()).unwrap();
        state.indexes.insert(s(n), obj.clone()).unwrap();
        obj
    };
    let (red, green) = (entry(0, "red"), entry(1, "green"));
    let column_name = TVMFFIByteArray { data: name.as_str().as_ptr().cast(), size: name.len() };
    let state_view = AnyView::from(&state);
    // SAFETY: a live name and value.
    let rc = unsafe { api::TVMFFITypeRegisterAttr(color.0, &column_name, state_view.as_raw()) };
    assert_eq!(rc, 0);

    assert_eq!(
        enums::enum_entry(color, AnyView::from(1i64)).unwrap().as_object_ptr(),
        green.as_object_ptr()
    );
    assert_eq!(
        enums::enum_entry(color, s("red").view()).unwrap().as_object_ptr(),
        red.as_object_ptr()
    );
    let e = enums::enum_entry(color, AnyView::from(7i64)).unwrap_err();
    assert_eq!(e.message(), "Enum `test.enum.Color` has no instance with index 7");

    let repr = |v: &Any| call("ffi.ReprPrint", &[v.view()]).unwrap().as_str().unwrap().to_owned();
    assert_eq!(repr(&red), "test.enum.Color.red");
    assert_eq!(
        repr(&Array::from_vec(vec![red.clone(), green.clone()]).into()),
        "(test.enum.Color.red, test.enum.Color.green)"
    );
    // Entries are singletons: deep copies share them.
    let arr = Any::from(Array::from_vec(vec![red.clone()]));
    let copy = call("ffi.DeepCopy", &[arr.view()]).unwrap();
    let copy: Array = copy.try_into().unwrap();
    assert_eq!(copy.get(0).unwrap().as_object_ptr(), red.as_object_ptr());
    // `value` is the integer index; `__ffi_convert__` accepts IntEnum entries only.
    let int_enum = TypeInfo::of_key("ffi.IntEnum").unwrap();
    let value = int_enum.field("value").unwrap().get(&green.get::<ObjectRef>().unwrap()).unwrap();
    assert_eq!(value.get::<i64>().unwrap(), 1);
    let convert: Function = type_attr("__ffi_convert__", int_enum.index()).unwrap().get().unwrap();
    assert_eq!(convert.call(&[red.view()]).unwrap().as_object_ptr(), red.as_object_ptr());
    let e = convert.call(&[AnyView::from(1i64)]).unwrap_err();
    assert_eq!(e.message(), "Cannot cast from `int` to `ffi.IntEnum`");
    let e = convert.call(&[AnyView::from(&state)]).unwrap_err();
    assert_eq!(e.message(), "Cannot cast from `ffi.EnumState` to `ffi.IntEnum`");
    state.entries.clear();
    state.indexes.clear();
}
