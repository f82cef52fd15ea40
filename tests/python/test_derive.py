"""Object types defined in Rust with `#[derive(tvmffi::Object)]` (examples/rust-object, a
kernel library registering its types through the host runtime's C API), used from the
official Python package: fields read and write, repr, copies, structural equality and
hashing, serialization, construction from Python, errors.

Run by ci/examples.sh on the reference runtime (`RUST_OBJECT_LIB` names the built library);
tests/python/runtime/test_derive.py runs the same tests on ours.
"""

import copy
import os

import pytest
import tvm_ffi


@pytest.fixture(scope="module")
def mod():
    path = os.environ.get("RUST_OBJECT_LIB")
    if not path or not os.path.exists(path):
        pytest.fail("RUST_OBJECT_LIB does not name the built examples/rust-object library")
    return tvm_ffi.load_module(path)


def test_types_are_registered_when_the_library_loads(mod):
    keys = tvm_ffi.registry.get_registered_type_keys()
    assert "rust_object.Point" in keys
    assert "rust_object.WeightedPoint" in keys


def test_fields_read_and_write(mod):
    p = mod.make_point(3.0, 4.0)
    assert type(p).__name__ == "Point"
    assert isinstance(p, tvm_ffi.Object)
    assert (p.x, p.y, p.label) == (3.0, 4.0, "")
    p.x = 6.0
    p.label = "moved"
    assert mod.norm(p) == pytest.approx(52**0.5), "Rust reads what Python wrote"
    mod.shift(p, 1.0, -1.0)
    assert (p.x, p.y, p.label) == (7.0, 3.0, "moved"), "Python reads what Rust wrote"
    with pytest.raises(TypeError):
        p.x = "not a float"
    assert p.x == 7.0


def test_methods_and_subclasses(mod):
    p = mod.make_point(3.0, 4.0)
    assert p.norm() == 5.0
    w = mod.make_weighted(6.0, 8.0, 2.5)
    assert isinstance(w, type(p)), "a WeightedPoint is a Point"
    assert (w.x, w.weight) == (6.0, 2.5)
    assert mod.norm(w) == 10.0 and w.norm() == 10.0
    assert mod.total_weight([w, mod.make_weighted(0.0, 0.0, 0.5)]) == 3.0
    with pytest.raises(AttributeError):
        w.weight = 1.0
    with pytest.raises(TypeError, match=r"but got `Array\[index 0: rust_object.Point\]`"):
        mod.total_weight([p])
    with pytest.raises(TypeError, match=r"Expected `rust_object.Point` but got `int`"):
        mod.norm(1)


def test_repr(mod):
    assert repr(mod.make_point(3.0, 4.0)) == 'rust_object.Point(x=3, y=4, label="")'
    w = mod.make_weighted(1.0, 2.0, 0.5)
    assert repr(w) == 'rust_object.WeightedPoint(x=1, y=2, label="", weight=0.5)'


def test_copies_are_separate_objects(mod):
    p = mod.make_point(1.0, 2.0)
    q = copy.copy(p)
    assert not q.same_as(p) and (q.x, q.y) == (1.0, 2.0)
    q.x = 5.0
    assert p.x == 1.0
    d = copy.deepcopy(mod.make_weighted(1.0, 2.0, 3.0))
    assert type(d).__name__ == "WeightedPoint" and d.weight == 3.0


def test_structural_equality_and_hashing(mod):
    a, b, c = mod.make_point(1.0, 2.0), mod.make_point(1.0, 2.0), mod.make_point(1.0, 3.0)
    assert tvm_ffi.structural_equal(a, b)
    assert tvm_ffi.structural_hash(a) == tvm_ffi.structural_hash(b)
    assert not tvm_ffi.structural_equal(a, c)
    assert tvm_ffi.structural_hash(a) != tvm_ffi.structural_hash(c)
    b.label = "ignored"  # structural = false
    assert tvm_ffi.structural_equal(a, b)
    assert tvm_ffi.structural_hash(a) == tvm_ffi.structural_hash(b)


def test_serialization_round_trips(mod):
    w = mod.make_weighted(1.5, -2.0, 4.0)
    w.label = "w"
    text = tvm_ffi.serialization.to_json_graph_str(w)
    assert '"type":"rust_object.WeightedPoint"' in text
    back = tvm_ffi.serialization.from_json_graph_str(text)
    assert type(back).__name__ == "WeightedPoint"
    assert (back.x, back.y, back.label, back.weight) == (1.5, -2.0, "w", 4.0)
    assert tvm_ffi.structural_equal(back, w)


def test_constructed_from_python(mod):
    @tvm_ffi.register_object("rust_object.Point")
    class Point(tvm_ffi.Object):
        pass

    p = Point(3.0, 4.0, label="py")
    assert (p.x, p.y, p.label) == (3.0, 4.0, "py")
    assert mod.norm(p) == 5.0
    assert Point(1.0, 2.0).label == "", "the field's default"
    with pytest.raises(TypeError):
        Point(1.0)  # `y` has no default
