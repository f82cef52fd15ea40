"""The package's core features on our runtime: global functions, values, containers,
errors, modules, tensors and DLPack, callbacks."""

import numpy as np
import pytest
import tvm_ffi


def test_global_functions_registered_from_python_are_called_through_our_registry():
    @tvm_ffi.register_global_func("testing.runtime.add")
    def add(a, b):
        return a + b

    f = tvm_ffi.get_global_func("testing.runtime.add")
    assert f(2, 3) == 5
    assert f("a", "b") == "ab"
    assert "testing.runtime.add" in tvm_ffi.registry.list_global_func_names()
    assert tvm_ffi.get_global_func("testing.runtime.absent", allow_missing=True) is None


def test_values_round_trip():
    echo = tvm_ffi.convert(lambda x: x)
    for value in [None, True, 7, -(2**62), 1.5, "short", "a string longer than seven bytes",
                  b"\x00\x01bytes", tvm_ffi.dtype("float32x4"), tvm_ffi.Device("cpu", 0)]:
        got = echo(value)
        assert got == value or (value is None and got is None), (value, got)


def test_containers():
    a = tvm_ffi.convert([1, 2, 3])
    assert isinstance(a, tvm_ffi.Array) and len(a) == 3 and a[1] == 2 and list(a) == [1, 2, 3]
    assert 3 in a and 4 not in a
    m = tvm_ffi.convert({"x": 1, "y": [1, 2]})
    assert isinstance(m, tvm_ffi.Map) and m["x"] == 1 and list(m["y"]) == [1, 2]
    assert sorted(m.keys()) == ["x", "y"]
    with pytest.raises(KeyError):
        m["z"]
    lst = tvm_ffi.List([1, 2])
    lst.append(3)
    lst.insert(0, 0)
    assert list(lst) == [0, 1, 2, 3]
    assert lst.pop() == 3
    d = tvm_ffi.Dict({"a": 1})
    d["b"] = 2
    assert len(d) == 2 and d["b"] == 2
    del d["a"]
    assert list(d.keys()) == ["b"]
    shape = tvm_ffi.Shape((2, 3))
    assert tuple(shape) == (2, 3)


def test_errors_cross_with_their_kind_and_traceback():
    def fails(x):
        raise ValueError(f"bad value {x}")

    f = tvm_ffi.convert(fails)
    with pytest.raises(ValueError, match="bad value 4") as info:
        f(4)
    assert "fails" in "".join(__import__("traceback").format_tb(info.tb))
    with pytest.raises(TypeError):
        tvm_ffi.get_global_func("ffi.ArraySize")(1)


def test_rust_kernels_with_numpy(add_one):
    x = np.arange(5, dtype="float32")
    y = np.empty_like(x)
    add_one.add_one(tvm_ffi.from_dlpack(x), tvm_ffi.from_dlpack(y))
    np.testing.assert_array_equal(y, x + 1)
    assert add_one.add_one_int(41) == 42
    assert list(add_one.map_with(lambda v: v * 2, [1.0, 2.0])) == [2.0, 4.0]
    with pytest.raises(KeyError):
        add_one.constant("tau")
    with pytest.raises(RuntimeError, match="panic"):
        add_one.panic_with("boom")


def test_dlpack_both_ways():
    x = np.arange(12, dtype="float64").reshape(3, 4)
    t = tvm_ffi.from_dlpack(x)
    assert tuple(t.shape) == (3, 4) and t.dtype == tvm_ffi.dtype("float64")
    back = np.from_dlpack(t)
    np.testing.assert_array_equal(back, x)
    back[0, 0] = 42.0
    assert x[0, 0] == 42.0, "shared memory, no copy"


def test_modules_report_their_functions(add_one):
    assert add_one.kind == "library"
    assert add_one.implements_function("add_one")
    assert not add_one.implements_function("nope")
    assert add_one.get_function_doc("add_one").startswith("Perform vector add one")
