//! Structural equality, hashing, keys and access paths (`src/ffi/extra/structural_equal.cc`,
//! `structural_hash.cc`, `reflection_extra.cc`): `ffi.StructuralEqual`,
//! `ffi.GetFirstStructuralMismatch`, `ffi.StructuralHash`, `ffi.StructuralKey`,
//! `ffi.StructuralKeyEqual`, and the types `ffi.reflection.AccessStep`,
//! `ffi.reflection.AccessPath` and `ffi.StructuralKey` with their fields, methods and
//! attributes. The algorithms are [`crate::structural`]'s.

use core::ffi::c_int;
use core::mem::offset_of;

use tvmffi_core::flags::SEqHashKind;
use tvmffi_core::sys::TVMFFIObjectHandle;
use tvmffi_core::{Any, AnyView, FromAnyView, Object, ObjectRef, TypeIndex};

use super::structural_types::{
    FieldDecl, FieldKind, fields, key_schema, metadata, method, register_type, shallow_copy,
};
use super::{Builtins, arity, wrong_type};
use crate::error::Error;
use crate::function::schema::metadata_json;
use crate::function::{Boundary, Function};
use crate::seq::Array;
use crate::string::{any_view_to_owned, str_any_from_bytes};
use crate::structural::key::{StructuralKeyObj, any_equal_hook, any_hash_hook, key_equal};
use crate::structural::path::{AccessPathObj, AccessStepObj, step_repr};
use crate::structural::{
    AccessPath, AccessStep, Options, StructuralKey, first_mismatch, structural_equal,
    structural_hash,
};

const HEADER: usize = size_of::<tvmffi_core::ObjectHeader>();
const STEP: &str = "ffi.reflection.AccessStep";
const PATH: &str = "ffi.reflection.AccessPath";
const KEY: &str = "ffi.StructuralKey";

pub(super) fn register<B: Boundary>(b: &mut Builtins<'_, B>) {
    register_access_step(b);
    register_access_path(b);
    super::structural_visit::register_types(b);
    register_structural_key(b);
    register_functions(b);
}

/// A typed argument, or the reference's mismatch error naming `expected`.
pub(super) fn arg<'a, T: FromAnyView<'a>>(
    sig: &str,
    i: usize,
    view: AnyView<'a>,
    expected: &str,
) -> Result<T, Error> {
    view.get::<T>().map_err(|_| wrong_type(sig, i, expected, view.type_index()))
}

/// An owned argument (borrowed C strings and byte arrays become objects).
pub(super) fn owned(view: AnyView<'_>) -> Result<Any, Error> {
    Ok(any_view_to_owned(view)?)
}

fn options(
    sig: &str,
    map_free_vars: AnyView<'_>,
    skip: AnyView<'_>,
    at: usize,
) -> Result<Options, Error> {
    Ok(Options {
        map_free_vars: arg(sig, at, map_free_vars, "bool")?,
        skip_tensor_content: arg(sig, at + 1, skip, "bool")?,
    })
}

fn register_functions<B: Boundary>(b: &mut Builtins<'_, B>) {
    const EQ: &str = "ffi.StructuralEqual(0: Any, 1: Any, 2: bool, 3: bool) -> bool";
    def(b, "ffi.StructuralEqual", EQ, &schema(&["Any", "Any", "bool", "bool"], "bool"), |args| {
        let [l, r, m, s] = arity(EQ, args)?;
        let opts = options(EQ, *m, *s, 2)?;
        Ok(Any::from(structural_equal(*l, *r, opts)?))
    });
    const MISMATCH: &str = "ffi.GetFirstStructuralMismatch(0: Any, 1: Any, 2: bool, 3: bool) -> \
                            Optional<Tuple<ffi.reflection.AccessPath, ffi.reflection.AccessPath>>";
    let ret = format_tuple_schema();
    def(
        b,
        "ffi.GetFirstStructuralMismatch",
        MISMATCH,
        &schema_raw(&["Any", "Any", "bool", "bool"], &ret),
        |args| {
            let [l, r, m, s] = arity(MISMATCH, args)?;
            let opts = options(MISMATCH, *m, *s, 2)?;
            Ok(match first_mismatch(*l, *r, opts)? {
                None => Any::none(),
                Some((lp, rp)) => {
                    Any::from(Array::from_vec(alloc::vec![Any::from(lp), Any::from(rp)]))
                }
            })
        },
    );
    const HASH: &str = "ffi.StructuralHash(0: Any, 1: bool, 2: bool) -> int";
    def(b, "ffi.StructuralHash", HASH, &schema(&["Any", "bool", "bool"], "int"), |args| {
        let [v, m, s] = arity(HASH, args)?;
        let opts = options(HASH, *m, *s, 1)?;
        Ok(Any::from(structural_hash(*v, opts)? as i64))
    });
    const NEW_KEY: &str = "ffi.StructuralKey(0: Any) -> ffi.StructuralKey";
    def(b, "ffi.StructuralKey", NEW_KEY, &schema(&["Any"], KEY), |args| {
        let [k] = arity(NEW_KEY, args)?;
        Ok(Any::from(StructuralKey::new(owned(*k)?)?))
    });
    const KEY_EQ: &str = "ffi.StructuralKeyEqual(0: Any, 1: Any) -> bool";
    def(b, "ffi.StructuralKeyEqual", KEY_EQ, &schema(&["Any", "Any"], "bool"), |args| {
        let [l, r] = arity(KEY_EQ, args)?;
        Ok(Any::from(key_equal(*l, *r)?))
    });
}

/// The schema of `Optional<Tuple<AccessPath, AccessPath>>`.
fn format_tuple_schema() -> alloc::string::String {
    let p = key_schema(PATH);
    alloc::format!(r#"{{"type":"Optional","args":[{{"type":"Tuple","args":[{p},{p}]}}]}}"#)
}

/// The type schema of a function taking `params` and returning `ret` (all plain types).
pub(super) fn schema(params: &[&str], ret: &str) -> alloc::string::String {
    schema_raw(params, &key_schema(ret))
}

/// As [`schema`], with the return type's schema given as JSON.
pub(super) fn schema_raw(params: &[&str], ret: &str) -> alloc::string::String {
    let params: alloc::vec::Vec<_> = params
        .iter()
        .map(|p| if p.starts_with('{') { alloc::string::String::from(*p) } else { key_schema(p) })
        .collect();
    alloc::format!(
        r#"{{"type":"ffi.Function","named_args":{{"return":[{ret}],"params":[{}]}}}}"#,
        params.join(",")
    )
}

/// Register a packed built-in with the type schema `schema` as its metadata.
pub(super) fn def<B: Boundary>(
    b: &mut Builtins<'_, B>,
    name: &str,
    _sig: &'static str,
    schema: &str,
    f: impl Fn(&[AnyView<'_>]) -> Result<Any, Error> + Send + Sync + 'static,
) {
    b.def_function(name, Function::from_packed_with::<B, _>(f), metadata_json(schema));
}

/// A method: a function with its schema, registered on `index`.
fn def_method<B: Boundary>(
    b: &mut Builtins<'_, B>,
    index: i32,
    name: &str,
    is_static: bool,
    schema: &str,
    f: impl Fn(&[AnyView<'_>]) -> Result<Any, Error> + Send + Sync + 'static,
) {
    let f = Function::from_packed_with::<B, _>(f);
    method(b, index, name, is_static, &f, schema, "");
}

/// `__ffi_repr__`: `(self, fn_repr) -> str`, `fn_repr` printing nested values.
fn def_repr<B: Boundary>(
    b: &mut Builtins<'_, B>,
    index: i32,
    repr: fn(AnyView<'_>, &Function) -> Result<alloc::string::String, Error>,
) {
    let f = Function::from_packed_with::<B, _>(move |args: &[AnyView<'_>]| {
        let [this, fn_repr] = arity("__ffi_repr__(0: ffi.Object, 1: ffi.Function) -> str", args)?;
        let fn_repr: ObjectRef<tvmffi_core::FunctionObj> = arg(
            "__ffi_repr__(0: ffi.Object, 1: ffi.Function) -> str",
            1,
            *fn_repr,
            "ffi.Function",
        )?;
        let text = repr(*this, &Function::from_object(fn_repr))?;
        Ok(str_any_from_bytes(text.as_bytes())
            .map_err(|e| Error::value_error(alloc::format!("{e}")))?)
    });
    b.type_attr(TypeIndex(index), "__ffi_repr__", AnyView::from(&f));
}

/// What `fn_repr` prints for `value`.
fn call_repr(fn_repr: &Function, value: AnyView<'_>) -> Result<alloc::string::String, Error> {
    let text = fn_repr.call(&[value])?;
    text.as_str()
        .map(alloc::string::String::from)
        .map_err(|_| Error::type_error("fn_repr must return a str"))
}

fn step_of(view: AnyView<'_>) -> Result<ObjectRef<Object<AccessStepObj>>, Error> {
    view.get().map_err(|_| wrong_type("__ffi_repr__", 0, STEP, view.type_index()))
}

fn register_access_step<B: Boundary>(b: &mut Builtins<'_, B>) {
    let index = register_type(b, STEP, None, true);
    if index < 0 {
        return;
    }
    metadata(
        b,
        index,
        SEqHashKind::CONST_TREE_NODE,
        HEADER + size_of::<AccessStepObj>(),
        Some(create_step),
    );
    fields(
        b,
        index,
        &[
            FieldDecl {
                name: "kind",
                offset: HEADER,
                kind: FieldKind::I32,
                schema: r#"{"type":"int"}"#,
                default: None,
            },
            FieldDecl {
                name: "key",
                offset: HEADER + offset_of!(AccessStepObj, key),
                kind: FieldKind::Any,
                schema: r#"{"type":"Any"}"#,
                default: None,
            },
        ],
    );
    shallow_copy(b, index, |v| {
        let step = step_of(v)?;
        Ok(Any::from(crate::object_type::new_object((*step).clone())?))
    });
    def_repr(b, index, |this, fn_repr| {
        let step = step_of(this)?;
        step_repr(&step, &mut |key| call_repr(fn_repr, key))
    });
}

/// The self argument of an access path method.
fn path_arg(sig: &str, i: usize, view: AnyView<'_>) -> Result<AccessPath, Error> {
    arg(sig, i, view, PATH)
}

fn register_access_path<B: Boundary>(b: &mut Builtins<'_, B>) {
    let index = register_type(b, PATH, None, true);
    if index < 0 {
        return;
    }
    metadata(
        b,
        index,
        SEqHashKind::CONST_TREE_NODE,
        HEADER + size_of::<AccessPathObj>(),
        Some(create_path),
    );
    fields(
        b,
        index,
        &[
            FieldDecl {
                name: "parent",
                offset: HEADER,
                kind: FieldKind::Object,
                schema: r#"{"type":"Optional","args":[{"type":"ffi.Object"}]}"#,
                default: None,
            },
            FieldDecl {
                name: "step",
                offset: HEADER + offset_of!(AccessPathObj, step),
                kind: FieldKind::Object,
                schema: r#"{"type":"Optional","args":[{"type":"ffi.reflection.AccessStep"}]}"#,
                default: None,
            },
            FieldDecl {
                name: "depth",
                offset: HEADER + offset_of!(AccessPathObj, depth),
                kind: FieldKind::I32,
                schema: r#"{"type":"int"}"#,
                default: None,
            },
        ],
    );
    def_method(b, index, "_root", true, &schema(&[], PATH), |args| {
        let [] = arity("ffi.reflection.AccessPath._root() -> ffi.reflection.AccessPath", args)?;
        Ok(Any::from(AccessPath::root()?))
    });
    const EXTEND: &str = "ffi.reflection.AccessPath._extend(0: ffi.reflection.AccessPath, 1: \
                          ffi.reflection.AccessStep) -> ffi.reflection.AccessPath";
    def_method(b, index, "_extend", false, &schema(&[PATH, STEP], PATH), |args| {
        let [p, s] = arity(EXTEND, args)?;
        let step: AccessStep = arg(EXTEND, 1, *s, STEP)?;
        Ok(Any::from(path_arg(EXTEND, 0, *p)?.extend(step)?))
    });
    type Named = fn(&AccessPath, &str) -> Result<AccessPath, Error>;
    let named: [(&str, Named); 2] =
        [("_attr", AccessPath::attr), ("_attr_missing", AccessPath::attr_missing)];
    for (name, f) in named {
        def_method(b, index, name, false, &schema(&[PATH, "ffi.String"], PATH), move |args| {
            let sig = "ffi.reflection.AccessPath(0: ffi.reflection.AccessPath, 1: ffi.String) -> \
                       ffi.reflection.AccessPath";
            let [p, n] = arity(sig, args)?;
            let n = super::str_arg(sig, 1, n)?;
            Ok(Any::from(f(&path_arg(sig, 0, *p)?, n)?))
        });
    }
    type Indexed = fn(&AccessPath, i64) -> Result<AccessPath, Error>;
    let indexed: [(&str, Indexed); 2] = [
        ("_array_item", AccessPath::array_item),
        ("_array_item_missing", AccessPath::array_item_missing),
    ];
    for (name, f) in indexed {
        def_method(b, index, name, false, &schema(&[PATH, "int"], PATH), move |args| {
            let sig = "ffi.reflection.AccessPath(0: ffi.reflection.AccessPath, 1: int) -> \
                       ffi.reflection.AccessPath";
            let [p, i] = arity(sig, args)?;
            Ok(Any::from(f(&path_arg(sig, 0, *p)?, arg(sig, 1, *i, "int")?)?))
        });
    }
    type Keyed = fn(&AccessPath, Any) -> Result<AccessPath, Error>;
    let keyed: [(&str, Keyed); 2] =
        [("_map_item", AccessPath::map_item), ("_map_item_missing", AccessPath::map_item_missing)];
    for (name, f) in keyed {
        def_method(b, index, name, false, &schema(&[PATH, "Any"], PATH), move |args| {
            let sig = "ffi.reflection.AccessPath(0: ffi.reflection.AccessPath, 1: Any) -> \
                       ffi.reflection.AccessPath";
            let [p, k] = arity(sig, args)?;
            Ok(Any::from(f(&path_arg(sig, 0, *p)?, owned(*k)?)?))
        });
    }
    type Compare = fn(&AccessPath, &AccessPath) -> Result<bool, Error>;
    let compares: [(&str, Compare); 2] =
        [("_is_prefix_of", AccessPath::is_prefix_of), ("_path_equal", AccessPath::path_equal)];
    for (name, f) in compares {
        def_method(b, index, name, false, &schema(&[PATH, PATH], "bool"), move |args| {
            let sig = "ffi.reflection.AccessPath(0: ffi.reflection.AccessPath, 1: \
                       ffi.reflection.AccessPath) -> bool";
            let [p, o] = arity(sig, args)?;
            Ok(Any::from(f(&path_arg(sig, 0, *p)?, &path_arg(sig, 1, *o)?)?))
        });
    }
    let steps = alloc::format!(r#"{{"type":"ffi.Array","args":[{}]}}"#, key_schema(STEP));
    def_method(b, index, "_to_steps", false, &schema_raw(&[PATH], &steps), |args| {
        let sig = "ffi.reflection.AccessPath._to_steps(0: ffi.reflection.AccessPath) -> \
                   Array<ffi.reflection.AccessStep>";
        let [p] = arity(sig, args)?;
        let steps = path_arg(sig, 0, *p)?.to_steps();
        Ok(Any::from(steps.into_iter().map(Any::from).collect::<Array>()))
    });
    shallow_copy(b, index, |v| {
        let p: ObjectRef<Object<AccessPathObj>> =
            v.get().map_err(|_| wrong_type("__ffi_shallow_copy__", 0, PATH, v.type_index()))?;
        Ok(Any::from(crate::object_type::new_object((*p).clone())?))
    });
    def_repr(b, index, |this, fn_repr| {
        let path: AccessPath =
            this.get().map_err(|_| wrong_type("__ffi_repr__", 0, PATH, this.type_index()))?;
        let mut out = alloc::string::String::from("<root>");
        for step in path.to_steps() {
            out.push_str(&call_repr(fn_repr, AnyView::from(step.as_object()))?);
        }
        Ok(out)
    });
}

fn register_structural_key<B: Boundary>(b: &mut Builtins<'_, B>) {
    let index = register_type(b, KEY, None, true);
    if index < 0 {
        return;
    }
    metadata(
        b,
        index,
        SEqHashKind::UNSUPPORTED,
        HEADER + size_of::<StructuralKeyObj>(),
        Some(create_key),
    );
    fields(
        b,
        index,
        &[
            FieldDecl {
                name: "key",
                offset: HEADER,
                kind: FieldKind::Any,
                schema: r#"{"type":"Any"}"#,
                default: None,
            },
            FieldDecl {
                name: "hash_i64",
                offset: HEADER + offset_of!(StructuralKeyObj, hash_i64),
                kind: FieldKind::I64,
                schema: r#"{"type":"int"}"#,
                default: None,
            },
        ],
    );
    let init = Function::from_packed_with::<B, _>(|args: &[AnyView<'_>]| {
        let [k] = arity("ffi.StructuralKey.__ffi_init__(0: Any) -> ffi.Object", args)?;
        Ok(Any::from(StructuralKey::new(owned(*k)?)?))
    });
    method(
        b,
        index,
        "__ffi_init__",
        true,
        &init,
        &schema(&["Any"], "ffi.Object"),
        "Constructor that takes any key and computes its structural hash",
    );
    b.type_attr(TypeIndex(index), "__ffi_init__", AnyView::from(&init));
    shallow_copy(b, index, |v| {
        let k: ObjectRef<Object<StructuralKeyObj>> =
            v.get().map_err(|_| wrong_type("__ffi_shallow_copy__", 0, KEY, v.type_index()))?;
        Ok(Any::from(crate::object_type::new_object((*k).clone())?))
    });
    let hash = any_hash_hook as unsafe extern "C" fn(_) -> _;
    let equal = any_equal_hook as unsafe extern "C" fn(_, _) -> _;
    b.type_attr(TypeIndex(index), "__any_hash__", AnyView::from(hash as *const core::ffi::c_void));
    b.type_attr(
        TypeIndex(index),
        "__any_equal__",
        AnyView::from(equal as *const core::ffi::c_void),
    );
}

/// Write a new object to a creator's result slot.
fn created(out: *mut TVMFFIObjectHandle, made: Result<ObjectRef, Error>) -> c_int {
    match made {
        Ok(obj) if !out.is_null() => {
            // SAFETY: the creator's writable result slot (checked non-null).
            unsafe { out.write(obj.into_raw().cast()) };
            0
        }
        Ok(_) => -1,
        Err(e) => {
            e.raise();
            -1
        }
    }
}

/// The creator of empty steps (`AccessStepObj()`).
///
/// # Safety
///
/// `out` is null or writable.
unsafe extern "C" fn create_step(out: *mut TVMFFIObjectHandle) -> c_int {
    let step = AccessStepObj { kind: crate::structural::AccessKind::ATTR, key: Any::none() };
    created(out, crate::object_type::new_object(step).map(ObjectRef::upcast))
}

/// The creator of root paths (`AccessPathObj()`).
///
/// # Safety
///
/// `out` is null or writable.
unsafe extern "C" fn create_path(out: *mut TVMFFIObjectHandle) -> c_int {
    created(out, AccessPath::root().map(|p| p.as_object().clone().upcast()))
}

/// The creator of empty keys (`StructuralKeyObj()`).
///
/// # Safety
///
/// `out` is null or writable.
unsafe extern "C" fn create_key(out: *mut TVMFFIObjectHandle) -> c_int {
    let key = StructuralKeyObj { key: Any::none(), hash_i64: 0 };
    created(out, crate::object_type::new_object(key).map(ObjectRef::upcast))
}
