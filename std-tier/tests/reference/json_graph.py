"""The reference side of std-tier/tests/json_graph.rs, run with the reference Python
package (the venv's `tvm_ffi`, on the reference libtvm_ffi.so).

    python json_graph.py emit    graphs the reference writes, one per line
    python json_graph.py check   read graphs (one per line) on stdin, load each with the
                                 reference and write it again; print "ok" or what it wrote
    python json_graph.py json    read a JSON array of [text, indent] on stdin; print, per
                                 item, the reference's Parse + Stringify(indent) or error
"""

import json
import sys
import types

try:  # tvm_ffi.testing imports pytest for its skip markers only
    import pytest  # noqa: F401
except ImportError:
    stub = types.ModuleType("pytest")
    stub.mark = types.SimpleNamespace(skipif=lambda *a, **k: (lambda f: f))
    sys.modules["pytest"] = stub

import tvm_ffi
import tvm_ffi.testing as T

to_graph = tvm_ffi.get_global_func("ffi.ToJSONGraphString")
from_graph = tvm_ffi.get_global_func("ffi.FromJSONGraphString")
parse = tvm_ffi.get_global_func("ffi.json.Parse")
stringify = tvm_ffi.get_global_func("ffi.json.Stringify")


def values():
    """(value, metadata) pairs covering every node kind."""
    shared = tvm_ffi.convert("hello world!!")
    pair = T.TestIntPair(1, 2)
    yield [1, 2.5, True, None, "ab", shared, shared, b"xyz", {"k": [1]},
           tvm_ffi.Shape((2, 3)), tvm_ffi.Device("cuda", 1), tvm_ffi.dtype("float32")], {"meta": 1}
    yield [pair, pair, T.TestIntPair(3, -4)], None
    yield T.TestObjectDerived(
        v_map={"a": pair, "b": [1, 2]}, v_array=[pair, "x", 1.5], v_i64=7, v_f64=0.1,
        v_str="unicode \u00e9 \U0001f600 \n\t\"/ \x01"), {"note": ["derived", 1]}
    yield T.TestObjectBase(), None
    yield T._TestCxxClassDerivedDerived(v_i64=1, v_i32=-2, v_f64=3.5, v_bool=True), None
    yield tvm_ffi.get_global_func("testing.enum_variant_get")("Alpha"), None
    yield [tvm_ffi.get_global_func("testing.enum_variant_get")("Beta")] * 2, None
    yield {f"key{i}": i * i for i in range(20)}, None
    yield tvm_ffi.Dict({"x": tvm_ffi.List([1, "two", 3.0]), "y": None}), {"n": 2}
    yield tvm_ffi.List([tvm_ffi.Dict({"a": 1}), tvm_ffi.List([])]), None
    yield [2**100, -(2**70), 2**63, -(2**63), 2**63 - 1], None
    yield [float("nan"), float("nan"), float("inf"), -float("inf"), 0.0, -0.0, 1e300,
           0.1, 1 / 3, 2.0**60, 2.2250738585072014e-308], None
    yield [b"", b"a", b"ab", b"abc", bytes(range(256))], None
    yield [tvm_ffi.Shape(()), tvm_ffi.Shape((0, 1, 2**40)), tvm_ffi.dtype("int8x4"),
           tvm_ffi.dtype("bool"), tvm_ffi.Device("cpu", 0)], None
    yield "just a string", "metadata as a string"
    yield None, None
    yield [[[[[]]]], {}, {"": ""}], None


def main():
    mode = sys.argv[1]
    if mode == "emit":
        for value, metadata in values():
            print(to_graph(value, metadata))
    elif mode == "check":
        for line in sys.stdin.read().splitlines():
            metadata = json.loads(line).get("metadata")
            again = to_graph(from_graph(line), metadata)
            print("ok" if again == line else "differs: " + again)
    elif mode == "json":
        for text, indent in json.loads(sys.stdin.read()):
            try:
                result = "ok: " + stringify(parse(text), indent)
            except Exception as e:  # noqa: BLE001
                result = f"error: {type(e).__name__}: {e}"
            print(json.dumps(result))
    else:
        raise SystemExit(f"unknown mode {mode}")


main()
