//! Structural equality, hashing, keys and access paths (`src/ffi/extra/structural_equal.cc`,
//! `structural_hash.cc`, `reflection_extra.cc`): `ffi.StructuralEqual`,
//! `ffi.GetFirstStructuralMismatch`, `ffi.StructuralHash`, `ffi.StructuralKey`,
//! `ffi.StructuralKeyEqual`, and the types `ffi.reflection.AccessStep`,
//! `ffi.reflection.AccessPath` and `ffi.StructuralKey` with their fields, methods and
//! attributes. The algorithms are [`crate::structural`]'s.

use tvmffi_core::flags::SEqHashKind;
use tvmffi_core::{Any, AnyView, FromAnyView, Object, ObjectRef, TypeIndex};

use super::{Builtins, arity, wrong_type};
use crate::error::Error;
use crate::function::schema::metadata_json;
use crate::function::{Boundary, Function};
use crate::object_type::Reflect;
use crate::seq::Array;
use crate::string::{any_view_to_owned, str_any_from_bytes};
use crate::structural::key::{StructuralKeyObj, any_equal_hook, any_hash_hook, key_equal};
use crate::structural::path::{AccessPathObj, AccessStepObj, step_repr};
use crate::structural::{
    AccessPath, AccessStep, Options, StructuralKey, first_mismatch, structural_equal,
    structural_hash,
};

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
        skip_tensor_content: arg(sig, at.saturating_add(1), skip, "bool")?,
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

/// A JSON type schema of a plain type: `{"type":"<key>"}`.
pub(super) fn key_schema(key: &str) -> alloc::string::String {
    alloc::format!(r#"{{"type":"{key}"}}"#)
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

/// What `fn_repr` prints for `value`.
fn call_repr(fn_repr: &Function, value: AnyView<'_>) -> Result<alloc::string::String, Error> {
    let text = fn_repr.call(&[value])?;
    text.as_str()
        .map(alloc::string::String::from)
        .map_err(|_| Error::type_error("fn_repr must return a str"))
}

/// `__ffi_repr__` of steps: `.name`, `[index]`, `[key]`, `[<missing:…>]`, keys printed by
/// the `fn_repr` it is given (the reference's `ReprPrint`).
fn step_repr_fn<B: Boundary>() -> Function {
    repr_fn::<B>(|this, fn_repr| {
        let step: ObjectRef<Object<AccessStepObj>> =
            this.get().map_err(|_| wrong_type(REPR, 0, STEP, this.type_index()))?;
        step_repr(&step, &mut |key| call_repr(fn_repr, key))
    })
}

/// `__ffi_repr__` of paths: `<root>`, then each step as `fn_repr` prints it.
fn path_repr_fn<B: Boundary>() -> Function {
    repr_fn::<B>(|this, fn_repr| {
        let path: AccessPath =
            this.get().map_err(|_| wrong_type(REPR, 0, PATH, this.type_index()))?;
        let mut out = alloc::string::String::from("<root>");
        for step in path.to_steps() {
            out.push_str(&call_repr(fn_repr, AnyView::from(step.as_object()))?);
        }
        Ok(out)
    })
}

const REPR: &str = "__ffi_repr__(0: ffi.Object, 1: ffi.Function) -> str";

/// A `__ffi_repr__` attribute: `(self, fn_repr) -> str`.
fn repr_fn<B: Boundary>(
    repr: fn(AnyView<'_>, &Function) -> Result<alloc::string::String, Error>,
) -> Function {
    Function::from_packed_with::<B, _>(move |args: &[AnyView<'_>]| {
        let [this, fn_repr] = arity(REPR, args)?;
        let fn_repr: ObjectRef<tvmffi_core::FunctionObj> = arg(REPR, 1, *fn_repr, "ffi.Function")?;
        let text = repr(*this, &Function::from_object(fn_repr))?;
        str_any_from_bytes(text.as_bytes()).map_err(|e| Error::value_error(alloc::format!("{e}")))
    })
}

/// What registering a built-in type failed with: nothing to do at start-up but drop it (a
/// second registration of the same key, which the built-in tests would catch).
fn registered(r: Result<TypeIndex, Error>) {
    drop(r);
}

fn register_access_step<B: Boundary>(b: &mut Builtins<'_, B>) {
    let reflect = Reflect::<AccessStepObj, B>::with_boundary()
        .structural_eq_hash_kind(SEqHashKind::CONST_TREE_NODE)
        .default_creator()
        .shallow_copy()
        .no_auto_init()
        .def_ro(crate::field!(AccessStepObj, kind))
        .def_ro(crate::field!(AccessStepObj, key))
        .type_attr("__ffi_repr__", step_repr_fn::<B>());
    registered(reflect.register_into(b.types()));
}

fn register_access_path<B: Boundary>(b: &mut Builtins<'_, B>) {
    let to_steps = |p: AccessPath| -> Array { p.to_steps().into_iter().map(Any::from).collect() };
    let reflect = Reflect::<AccessPathObj, B>::with_boundary()
        .structural_eq_hash_kind(SEqHashKind::CONST_TREE_NODE)
        .default_creator()
        .shallow_copy()
        .no_auto_init()
        .def_ro(crate::field!(AccessPathObj, parent))
        .def_ro(crate::field!(AccessPathObj, step))
        .def_ro(crate::field!(AccessPathObj, depth))
        .def_static("_root", AccessPath::root)
        .def("_extend", |p: AccessPath, s: AccessStep| p.extend(s))
        .def("_attr", |p: AccessPath, name: crate::String| p.attr(&name))
        .def("_array_item", |p: AccessPath, i: i64| p.array_item(i))
        .def("_map_item", |p: AccessPath, k: Any| p.map_item(k))
        .def("_attr_missing", |p: AccessPath, name: crate::String| p.attr_missing(&name))
        .def("_array_item_missing", |p: AccessPath, i: i64| p.array_item_missing(i))
        .def("_map_item_missing", |p: AccessPath, k: Any| p.map_item_missing(k))
        .def("_is_prefix_of", |p: AccessPath, o: AccessPath| p.is_prefix_of(&o))
        .def("_to_steps", to_steps)
        .def("_path_equal", |p: AccessPath, o: AccessPath| p.path_equal(&o))
        .type_attr("__ffi_repr__", path_repr_fn::<B>());
    registered(reflect.register_into(b.types()));
}

fn register_structural_key<B: Boundary>(b: &mut Builtins<'_, B>) {
    let hash = any_hash_hook as unsafe extern "C" fn(_) -> _;
    let equal = any_equal_hook as unsafe extern "C" fn(_, _) -> _;
    let reflect = Reflect::<StructuralKeyObj, B>::with_boundary()
        .default_creator()
        .shallow_copy()
        .def_ro(crate::field!(StructuralKeyObj, key))
        .def_ro(crate::field!(StructuralKeyObj, hash_i64))
        .init(StructuralKey::new)
        .type_attr("__any_hash__", Any::from(hash as *const core::ffi::c_void))
        .type_attr("__any_equal__", Any::from(equal as *const core::ffi::c_void));
    registered(reflect.register_into(b.types()));
}
