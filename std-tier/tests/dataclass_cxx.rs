//! The dataclass built-ins on C++-defined reflected types: the reference wheel's
//! `libtvm_ffi_testing.so`, loaded into our runtime, registers its `testing.*` types (their
//! fields, getters, setters, creators, hooks and enums) here; our `ffi.ReprPrint`,
//! `ffi.DeepCopy`, `ffi.Recursive*`, generated `__ffi_init__` and
//! `ffi.MakeObjectFromPackedArgs` must treat them as the reference does
//! (`alloc-tier/tests/dataclass/cxx.golden`, from the same scenarios run on the reference).
#![cfg(not(miri))] // Miri cannot load shared libraries

mod common;

use std::sync::OnceLock;

use tvmffi_alloc::object_type::info::{TypeInfo, type_attr};
use tvmffi_alloc::{Array, Error, Function, Map};
use tvmffi_core::{Any, AnyView, TypeIndex};
use tvmffi_std::module::{LoadOptions, Module};

/// Load the reference's test library once (kept for the process: its types stay
/// registered).
fn testing_library() -> bool {
    static LIB: OnceLock<Option<Module>> = OnceLock::new();
    LIB.get_or_init(|| {
        let dir = match common::reference_lib_dir() {
            Ok(dir) => dir,
            Err(why) => {
                common::skip(&why);
                return None;
            }
        };
        let path = dir.join("libtvm_ffi_testing.so");
        Some(
            Module::load_dynamic_library(&path, LoadOptions::new())
                .expect("libtvm_ffi_testing.so loads"),
        )
    })
    .is_some()
}

fn call(name: &str, args: &[AnyView<'_>]) -> Result<Any, Error> {
    Function::get_global(name).unwrap_or_else(|| panic!("{name} is registered")).call(args)
}

fn s(text: &str) -> Any {
    tvmffi_alloc::String::from(text).into()
}

fn i(v: i64) -> Any {
    Any::from(v)
}

fn kw() -> Any {
    call("ffi.GetKwargsObject", &[]).unwrap()
}

/// Call the `__ffi_init__` attribute of the type `key`, as the golden script does.
fn init(key: &str, args: &[Any]) -> Result<Any, Error> {
    let index = TypeInfo::of_key(key).unwrap_or_else(|| panic!("{key} is registered")).index();
    let f: Function = type_attr("__ffi_init__", index).expect("an init").get().unwrap();
    let views: Vec<AnyView<'_>> = args.iter().map(Any::view).collect();
    f.call(&views)
}

fn derived() -> Result<Any, Error> {
    let m = Map::try_from_iter([(s("k"), Any::from(Array::from_vec(vec![i(1)])))]).unwrap();
    let a = Array::from_vec(vec![i(1), s("s")]);
    call(
        "ffi.MakeObjectFromPackedArgs",
        &[
            s("testing.TestObjectDerived").view(),
            s("v_map").view(),
            Any::from(m).view(),
            s("v_array").view(),
            Any::from(a).view(),
        ],
    )
}

fn enum_get(name: &str) -> Result<Any, Error> {
    call("testing.enum_variant_get", &[s(name).view()])
}

const AUTO: &str = "testing.TestCxxAutoInit";

fn repr_case(name: &str) -> Result<Any, Error> {
    Ok(match name {
        "intpair" => init("testing.TestIntPair", &[i(1), i(2)])?,
        "derived" => derived()?,
        "base_defaults" => init("testing.TestObjectBase", &[])?,
        "ddd" => init(
            "testing.TestCxxClassDerivedDerived",
            &[
                kw(),
                s("v_i64"),
                i(1),
                s("v_i32"),
                i(2),
                s("v_f64"),
                Any::from(3.5),
                s("v_bool"),
                Any::from(true),
            ],
        )?,
        "auto_ok" => init(AUTO, &[i(1), kw(), s("c"), i(3)])?,
        "auto_positional" => init(AUTO, &[i(1), i(4), kw(), s("c"), i(3)])?,
        "kwonly_defaults" => {
            init("testing.TestCxxAutoInitKwOnlyDefaults", &[i(1), kw(), s("k_required"), i(2)])?
        }
        "child" => {
            init("testing.TestCxxAutoInitChild", &[i(1), i(2), kw(), s("child_kw_only"), i(3)])?
        }
        "init_subset" => init("testing.TestCxxInitSubset", &[i(5)])?,
        "enum_alpha" => enum_get("Alpha")?,
        "enum_beta" => enum_get("Beta")?,
        "deep_copy_derived" => call("ffi.DeepCopy", &[derived()?.view()])?,
        "custom_hash_pair" => {
            Array::from_vec(vec![init("testing.TestCustomHash", &[i(3), s("x")])?]).into()
        }
        other => panic!("no case {other}"),
    })
    .and_then(|v| call("ffi.ReprPrint", &[v.view()]))
}

fn error_case(name: &str) -> Result<Any, Error> {
    let long = "a string long enough to live in an object";
    match name {
        "auto_missing" => init(AUTO, &[]),
        "auto_kwonly" => init(AUTO, &[i(1)]),
        "auto_many" => init(AUTO, &[i(1), i(2), i(3)]),
        "auto_unexpected" => init(AUTO, &[kw(), s("zz"), i(1)]),
        "auto_multiple" => init(AUTO, &[i(1), kw(), s("a"), i(2)]),
        "auto_odd" => init(AUTO, &[kw(), s("a")]),
        "auto_badtype" => init(AUTO, &[s(long)]),
        "make_missing" => call(
            "ffi.MakeObjectFromPackedArgs",
            &[s("testing.TestCxxClassBase").view(), s("v_i64").view(), i(1).view()],
        ),
        "make_unknown" => call(
            "ffi.MakeObjectFromPackedArgs",
            &[s("testing.TestObjectBase").view(), s("zz").view(), i(2).view()],
        ),
        "no_copy" => call("ffi.DeepCopy", &[init("testing.TestNonCopyable", &[i(1)])?.view()]),
        "eq_without_hash" => {
            call("ffi.RecursiveHash", &[init("testing.TestEqWithoutHash", &[i(1), s("a")])?.view()])
        }
        "enum_missing" => enum_get("Gamma"),
        other => panic!("no case {other}"),
    }
}

fn check_case(name: &str) -> Result<bool, Error> {
    let pair = |op: &str, a: Any, b: Any| -> Result<bool, Error> {
        Ok(call(&format!("ffi.Recursive{op}"), &[a.view(), b.view()])?.get::<bool>()?)
    };
    let hash = |v: Any| -> Result<i64, Error> {
        Ok(call("ffi.RecursiveHash", &[v.view()])?.get::<i64>()?)
    };
    let cc = |k: i64, l: &str| init("testing.TestCustomCompare", &[i(k), s(l)]);
    Ok(match name {
        "custom_cmp_eq" => pair("Eq", cc(1, "a")?, cc(1, "b")?)?,
        "custom_cmp_lt" => pair("Lt", cc(1, "z")?, cc(2, "a")?)?,
        "custom_cmp_gt" => pair("Gt", cc(1, "z")?, cc(2, "a")?)?,
        "compare_ignored" => pair(
            "Eq",
            init("testing.TestCompare", &[i(1), s("a"), i(5)])?,
            init("testing.TestCompare", &[i(1), s("a"), i(6)])?,
        )?,
        "compare_name" => pair(
            "Lt",
            init("testing.TestCompare", &[i(1), s("a"), i(5)])?,
            init("testing.TestCompare", &[i(1), s("b"), i(0)])?,
        )?,
        "hash_ignored" => {
            hash(init("testing.TestHash", &[i(1), s("a"), i(5)])?)?
                == hash(init("testing.TestHash", &[i(1), s("a"), i(6)])?)?
        }
        "custom_hash_is_key_hash" => {
            hash(init("testing.TestCustomHash", &[i(3), s("x")])?)? == hash(i(3))?
        }
        "intpair_eq" => pair(
            "Eq",
            init("testing.TestIntPair", &[i(1), i(2)])?,
            init("testing.TestIntPair", &[i(1), i(2)])?,
        )?,
        "intpair_lt" => pair(
            "Lt",
            init("testing.TestIntPair", &[i(1), i(2)])?,
            init("testing.TestIntPair", &[i(1), i(3)])?,
        )?,
        "derived_copy_eq" => pair("Eq", derived()?, call("ffi.DeepCopy", &[derived()?.view()])?)?,
        "enum_identity" => pair("Eq", enum_get("Alpha")?, enum_get("Alpha")?)?,
        "enum_copy_shared" => {
            let a = enum_get("Alpha")?;
            call("ffi.DeepCopy", &[a.view()])?.as_object_ptr() == a.as_object_ptr()
        }
        other => panic!("no case {other}"),
    })
}

fn unjson(lit: &str) -> String {
    let inner = lit.strip_prefix('"').and_then(|l| l.strip_suffix('"')).expect("a JSON string");
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next().unwrap() {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'u' => {
                let hex: String = chars.by_ref().take(4).collect();
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).unwrap()).unwrap());
            }
            other => out.push(other),
        }
    }
    out
}

fn shown(r: Result<Any, Error>) -> String {
    match r {
        Ok(v) => {
            v.as_str().map(str::to_owned).unwrap_or_else(|_| format!("<{:?}>", v.type_index()))
        }
        Err(e) => format!("!{}: {}", e.kind(), e.message()),
    }
}

#[test]
fn cxx_types_match_the_reference() {
    if !testing_library() {
        return;
    }
    let golden = include_str!("../../alloc-tier/tests/dataclass/cxx.golden");
    let mut failures = Vec::new();
    let mut n = 0;
    for line in golden.lines().filter(|l| !l.starts_with('#') && !l.is_empty()) {
        let mut parts = line.splitn(3, '\t');
        let (op, case, expected) =
            (parts.next().unwrap(), parts.next().unwrap(), unjson(parts.next().unwrap()));
        let got = match op {
            "repr" => shown(repr_case(case)),
            "error" => shown(error_case(case)),
            "check" => match check_case(case) {
                Ok(b) => if b { "True" } else { "False" }.to_owned(),
                Err(e) => format!("!{}: {}", e.kind(), e.message()),
            },
            other => panic!("unknown op {other}"),
        };
        n += 1;
        if got != expected {
            failures.push(format!("{op} {case}: got {got:?}, the reference {expected:?}"));
        }
    }
    assert!(failures.is_empty(), "{} of {n} differ:\n{}", failures.len(), failures.join("\n"));
    assert!(n > 30);
}

#[test]
fn cxx_enum_entries_live_in_our_enum_state() {
    if !testing_library() {
        return;
    }
    // The C++ `EnumDef` made its `EnumStateObj` (C++ layout) and stored it in our column:
    // our reflection reads it.
    let index = TypeInfo::of_key("testing.TestEnumVariant").unwrap().index();
    let state = tvmffi_alloc::dataclass::enums::enum_state(index).unwrap().expect("a state");
    assert_eq!(state.entries.len(), 2);
    let beta = tvmffi_alloc::dataclass::enums::enum_entry(index, s("Beta").view()).unwrap();
    let by_int = tvmffi_alloc::dataclass::enums::enum_entry(index, AnyView::from(1i64)).unwrap();
    assert_eq!(beta.as_object_ptr(), by_int.as_object_ptr());
    let code = state.attrs.get("code").unwrap().expect("the `code` column");
    let code: tvmffi_alloc::Dict = code.try_into().unwrap();
    assert_eq!(code.get(&beta).unwrap().unwrap().get::<i64>().unwrap(), 20);
    assert!(TypeInfo::of(index).unwrap().is_subtype_of(TypeInfo::of(TypeIndex(129)).unwrap()));
}
