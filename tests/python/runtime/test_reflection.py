"""Reflected object types on our runtime: the package's testing types (C++, from
libtvm_ffi_testing.so), their fields, and the algorithms over them."""

import copy

import tvm_ffi
import tvm_ffi.testing


def test_cxx_types_and_their_fields():
    obj = tvm_ffi.testing.create_object("testing.TestObjectBase", v_i64=7, v_f64=1.5, v_str="s")
    assert obj.v_i64 == 7 and obj.v_f64 == 1.5 and obj.v_str == "s"


def test_repr_copy_and_structural_equality():
    a = tvm_ffi.convert({"k": [1, 2, 3]})
    b = tvm_ffi.convert({"k": [1, 2, 3]})
    assert tvm_ffi.structural_equal(a, b)
    assert tvm_ffi.structural_hash(a) == tvm_ffi.structural_hash(b)
    c = tvm_ffi.convert({"k": [1, 2, 4]})
    assert not tvm_ffi.structural_equal(a, c)
    assert "1" in repr(a)
    d = copy.deepcopy(a)
    assert tvm_ffi.structural_equal(a, d) and not a.same_as(d)


def test_serialization_round_trip():
    value = tvm_ffi.convert({"a": [1, 2.5, "three"], "b": None})
    text = tvm_ffi.serialization.to_json_graph_str(value)
    back = tvm_ffi.serialization.from_json_graph_str(text)
    assert tvm_ffi.structural_equal(value, back)
