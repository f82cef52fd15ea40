"""Golden outputs of the dataclass built-ins, produced by the reference runtime.

Run with the reference Python package (``source ci/lib.sh; ensure_venv``):

    .venv/bin/python alloc-tier/tests/dataclass/gen_golden.py

It writes ``values.golden`` (built-in values and containers, checked by
``alloc-tier/tests/dataclass.rs``) and ``cxx.golden`` (the C++ test types of
``libtvm_ffi_testing.so``, checked by ``std-tier/tests/dataclass_cxx.rs``). Each line is
``<op>\t<case>\t<JSON string>``: the result, or ``!<ErrorKind>: <message>`` for an error.
The Rust tests build the same cases under the same names.
"""

import json
import math
import os

import numpy as np
import tvm_ffi
import tvm_ffi.testing  # noqa: F401  (registers the testing types)
from tvm_ffi import _ffi_api as api

HERE = os.path.dirname(os.path.abspath(__file__))


def err_kind(e):
    inner = getattr(e, "__tvm_ffi_error__", None)
    return inner.kind if inner is not None else type(e).__name__


def run(f, *args):
    try:
        r = f(*args)
    except Exception as e:  # noqa: BLE001
        msg = str(e).split("\n\nBacktrace")[0]
        return "!" + err_kind(e) + ": " + msg
    if isinstance(r, bool):
        return "True" if r else "False"
    return str(r)


def cycle_list():
    l = tvm_ffi.List([1])
    l.append(l)
    return l


def cycle_dict():
    d = tvm_ffi.Dict({})
    d["self"] = d
    return d


def shared():
    inner = tvm_ffi.List([1, 2])
    return tvm_ffi.Array([inner, inner])


def nested_cycle():
    l = tvm_ffi.List([])
    a = tvm_ffi.Array([l, 3])
    l.append(a)
    return a


# Values the Rust test builds under the same names.
VALUES = {
    "none": lambda: None,
    "true": lambda: True,
    "false": lambda: False,
    "zero": lambda: 0,
    "neg": lambda: -5,
    "i64max": lambda: 2**63 - 1,
    "f_one": lambda: 1.0,
    "f_tenth": lambda: 0.1,
    "f_pi": lambda: 3.14159265,
    "f_big": lambda: 1e20,
    "f_small": lambda: 1e-5,
    "f_1e8": lambda: 123456789.0,
    "f_nan": lambda: float("nan"),
    "f_inf": lambda: float("inf"),
    "f_ninf": lambda: float("-inf"),
    "f_negzero": lambda: -0.0,
    "f_huge": lambda: 1.5e300,
    "f_denorm": lambda: 5e-324,
    "s_short": lambda: "hi",
    "s_empty": lambda: "",
    "s_long": lambda: "a string long enough to live in an object",
    "s_escapes": lambda: 'a"b\\c\n\t\x01\u00e9\u20ac\U0001f600',
    "s_ansi": lambda: "\x1b[31mred\x1b[0m",
    "b_short": lambda: b'ab\x00\xff"',
    "b_long": lambda: b"bytes long enough to live in an object \x01",
    "arr2": lambda: tvm_ffi.Array([1, 2]),
    "arr1": lambda: tvm_ffi.Array([1]),
    "arr0": lambda: tvm_ffi.Array([]),
    "arr_nested": lambda: tvm_ffi.Array([1, tvm_ffi.Array([2.5, "x"]), None]),
    "list2": lambda: tvm_ffi.List([1, "a"]),
    "list0": lambda: tvm_ffi.List([]),
    "map1": lambda: tvm_ffi.Map({"a": 1}),
    "map_mixed": lambda: tvm_ffi.Map({"b": 1, "a": tvm_ffi.Array([1]), 3: 4, None: 5}),
    "dict1": lambda: tvm_ffi.Dict({1: 2}),
    "shape3": lambda: tvm_ffi.Shape([1, 2, 3]),
    "shape0": lambda: tvm_ffi.Shape([]),
    "dt_f32": lambda: tvm_ffi.dtype("float32"),
    "dt_i8x4": lambda: tvm_ffi.dtype("int8x4"),
    "dt_bool": lambda: tvm_ffi.dtype("bool"),
    "dev_cuda1": lambda: tvm_ffi.Device("cuda", 1),
    "dev_cpu0": lambda: tvm_ffi.Device("cpu", 0),
    "big_pos": lambda: 2**70,
    "big_neg": lambda: -(2**70),
    "func": lambda: tvm_ffi.get_global_func("ffi.String"),
    "missing": lambda: api.GetInvalidObject(),
    "kwargs": lambda: api.GetKwargsObject(),
    "cycle_list": cycle_list,
    "cycle_dict": cycle_dict,
    "shared": shared,
    "nested_cycle": nested_cycle,
    "tensor23": lambda: tvm_ffi.from_dlpack(np.zeros((2, 3), dtype="float32")),
    "tensor_scalar": lambda: tvm_ffi.from_dlpack(np.zeros((), dtype="int8")),
}

# Hashes that do not involve a type key's hash (the runtime's choice of string hash).
HASHED = [
    "none", "true", "false", "zero", "neg", "i64max", "f_one", "f_tenth", "f_nan", "f_negzero",
    "f_inf", "s_short", "s_empty", "s_long", "s_escapes", "b_short", "b_long", "dt_f32",
    "dev_cuda1",
]

PAIRS = {
    "int_int": (lambda: 1, lambda: 1),
    "int_lt": (lambda: 1, lambda: 2),
    "int_bool": (lambda: 1, lambda: True),
    "int_str": (lambda: 1, lambda: "a"),
    "str_bytes": (lambda: "a", lambda: b"a"),
    "float_int": (lambda: 1.0, lambda: 1),
    "nan_nan": (lambda: float("nan"), lambda: float("nan")),
    "nan_one": (lambda: float("nan"), lambda: 1.0),
    "zeros": (lambda: -0.0, lambda: 0.0),
    "none_int": (lambda: None, lambda: 1),
    "int_none": (lambda: 1, lambda: None),
    "str_str": (lambda: "abc", lambda: "abd"),
    "str_prefix": (lambda: "ab", lambda: "abc"),
    "str_small_long": (lambda: "a", lambda: "a string long enough to live in an object"),
    "bytes_bytes": (lambda: b"a", lambda: b"b"),
    "arr_arr": (lambda: tvm_ffi.Array([1, 2]), lambda: tvm_ffi.Array([1, 3])),
    "arr_prefix": (lambda: tvm_ffi.Array([1]), lambda: tvm_ffi.Array([1, 2])),
    "arr_same": (lambda: tvm_ffi.Array([1, "x"]), lambda: tvm_ffi.Array([1, "x"])),
    "arr_list": (lambda: tvm_ffi.Array([1]), lambda: tvm_ffi.List([1])),
    "list_list": (lambda: tvm_ffi.List([1, [2]]), lambda: tvm_ffi.List([1, [3]])),
    "map_same": (lambda: tvm_ffi.Map({"a": 1}), lambda: tvm_ffi.Map({"a": 1})),
    "map_diff": (lambda: tvm_ffi.Map({"a": 1}), lambda: tvm_ffi.Map({"a": 2})),
    "map_keys": (lambda: tvm_ffi.Map({"a": 1}), lambda: tvm_ffi.Map({"b": 1})),
    "map_size": (lambda: tvm_ffi.Map({"a": 1}), lambda: tvm_ffi.Map({"a": 1, "b": 2})),
    "dict_same": (lambda: tvm_ffi.Dict({1: [1]}), lambda: tvm_ffi.Dict({1: [1]})),
    "arr_in_map": (lambda: tvm_ffi.Array([tvm_ffi.Map({"a": 1})]), lambda: tvm_ffi.Array([tvm_ffi.Map({"a": 2})])),
    "int_big": (lambda: 5, lambda: 2**70),
    "big_big": (lambda: -(2**70), lambda: 2**70),
    "shape_shape": (lambda: tvm_ffi.Shape([1, 2]), lambda: tvm_ffi.Shape([1, 3])),
    "dtype_dtype": (lambda: tvm_ffi.dtype("float32"), lambda: tvm_ffi.dtype("float16")),
    "dev_dev": (lambda: tvm_ffi.Device("cuda", 1), lambda: tvm_ffi.Device("cuda", 0)),
    "cycles": (cycle_list, cycle_list),
    "func_func": (
        lambda: tvm_ffi.get_global_func("ffi.String"),
        lambda: tvm_ffi.get_global_func("ffi.Bytes"),
    ),
}


def values_golden():
    out = []
    for name, make in VALUES.items():
        out.append(("repr", name, run(api.ReprPrint, make())))
    for name in HASHED:
        out.append(("hash", name, run(api.RecursiveHash, VALUES[name]())))
    for name, (a, b) in PAIRS.items():
        for op in ["Eq", "Lt", "Le", "Gt", "Ge"]:
            out.append((op.lower(), name, run(getattr(api, "Recursive" + op), a(), b())))
    out.append(("deepcopy", "func", run(api.DeepCopy, VALUES["func"]())))
    return out


def init(key, *args):
    """Call the `__ffi_init__` attribute of the type `key`, as the Rust test does."""
    index = tvm_ffi.core._object_type_key_to_index(key)
    return tvm_ffi.core._lookup_type_attr(index, "__ffi_init__")(*args)


def kw():
    return api.GetKwargsObject()


def derived():
    return api.MakeObjectFromPackedArgs(
        "testing.TestObjectDerived",
        "v_map", tvm_ffi.Map({"k": tvm_ffi.Array([1])}),
        "v_array", tvm_ffi.Array([1, "s"]),
    )


AUTO = "testing.TestCxxAutoInit"

# Values built from the C++ test types of libtvm_ffi_testing.so.
CXX_VALUES = {
    "intpair": lambda: init("testing.TestIntPair", 1, 2),
    "derived": derived,
    "base_defaults": lambda: init("testing.TestObjectBase"),
    "ddd": lambda: init(
        "testing.TestCxxClassDerivedDerived",
        kw(), "v_i64", 1, "v_i32", 2, "v_f64", 3.5, "v_bool", True,
    ),
    "auto_ok": lambda: init(AUTO, 1, kw(), "c", 3),
    "auto_positional": lambda: init(AUTO, 1, 4, kw(), "c", 3),
    "kwonly_defaults": lambda: init("testing.TestCxxAutoInitKwOnlyDefaults", 1, kw(), "k_required", 2),
    "child": lambda: init("testing.TestCxxAutoInitChild", 1, 2, kw(), "child_kw_only", 3),
    "init_subset": lambda: init("testing.TestCxxInitSubset", 5),
    "enum_alpha": lambda: tvm_ffi.get_global_func("testing.enum_variant_get")("Alpha"),
    "enum_beta": lambda: tvm_ffi.get_global_func("testing.enum_variant_get")("Beta"),
    "deep_copy_derived": lambda: api.DeepCopy(derived()),
    "custom_hash_pair": lambda: tvm_ffi.Array([init("testing.TestCustomHash", 3, "x")]),
}

# Calls that fail, with the reference's messages.
CXX_ERRORS = {
    "auto_missing": lambda: init(AUTO),
    "auto_kwonly": lambda: init(AUTO, 1),
    "auto_many": lambda: init(AUTO, 1, 2, 3),
    "auto_unexpected": lambda: init(AUTO, kw(), "zz", 1),
    "auto_multiple": lambda: init(AUTO, 1, kw(), "a", 2),
    "auto_odd": lambda: init(AUTO, kw(), "a"),
    "auto_badtype": lambda: init(AUTO, "a string long enough to live in an object"),
    "make_missing": lambda: api.MakeObjectFromPackedArgs("testing.TestCxxClassBase", "v_i64", 1),
    "make_unknown": lambda: api.MakeObjectFromPackedArgs("testing.TestObjectBase", "zz", 2),
    "no_copy": lambda: api.DeepCopy(init("testing.TestNonCopyable", 1)),
    "eq_without_hash": lambda: api.RecursiveHash(init("testing.TestEqWithoutHash", 1, "a")),
    "enum_missing": lambda: tvm_ffi.get_global_func("testing.enum_variant_get")("Gamma"),
}

# Boolean results.
CXX_CHECKS = {
    "custom_cmp_eq": lambda: api.RecursiveEq(
        init("testing.TestCustomCompare", 1, "a"), init("testing.TestCustomCompare", 1, "b")),
    "custom_cmp_lt": lambda: api.RecursiveLt(
        init("testing.TestCustomCompare", 1, "z"), init("testing.TestCustomCompare", 2, "a")),
    "custom_cmp_gt": lambda: api.RecursiveGt(
        init("testing.TestCustomCompare", 1, "z"), init("testing.TestCustomCompare", 2, "a")),
    "compare_ignored": lambda: api.RecursiveEq(
        init("testing.TestCompare", 1, "a", 5), init("testing.TestCompare", 1, "a", 6)),
    "compare_name": lambda: api.RecursiveLt(
        init("testing.TestCompare", 1, "a", 5), init("testing.TestCompare", 1, "b", 0)),
    "hash_ignored": lambda: api.RecursiveHash(init("testing.TestHash", 1, "a", 5))
    == api.RecursiveHash(init("testing.TestHash", 1, "a", 6)),
    "custom_hash_is_key_hash": lambda: api.RecursiveHash(init("testing.TestCustomHash", 3, "x"))
    == api.RecursiveHash(3),
    "intpair_eq": lambda: api.RecursiveEq(init("testing.TestIntPair", 1, 2), init("testing.TestIntPair", 1, 2)),
    "intpair_lt": lambda: api.RecursiveLt(init("testing.TestIntPair", 1, 2), init("testing.TestIntPair", 1, 3)),
    "derived_copy_eq": lambda: api.RecursiveEq(derived(), api.DeepCopy(derived())),
    "enum_identity": lambda: api.RecursiveEq(
        tvm_ffi.get_global_func("testing.enum_variant_get")("Alpha"),
        tvm_ffi.get_global_func("testing.enum_variant_get")("Alpha")),
    "enum_copy_shared": lambda: api.DeepCopy(tvm_ffi.get_global_func("testing.enum_variant_get")("Alpha")).same_as(
        tvm_ffi.get_global_func("testing.enum_variant_get")("Alpha")),
}


def cxx_golden():
    out = []
    for name, make in CXX_VALUES.items():
        out.append(("repr", name, run(lambda: api.ReprPrint(make()))))
    for name, f in CXX_ERRORS.items():
        out.append(("error", name, run(f)))
    for name, f in CXX_CHECKS.items():
        out.append(("check", name, run(f)))
    return out


def write(name, rows):
    with open(os.path.join(HERE, name), "w") as f:
        f.write("# Generated by gen_golden.py from apache-tvm-ffi " + tvm_ffi.__version__ + "\n")
        for op, case, result in rows:
            f.write(f"{op}\t{case}\t{json.dumps(result)}\n")


if __name__ == "__main__":
    write("values.golden", values_golden())
    write("cxx.golden", cxx_golden())
    assert math.isnan(float("nan"))
