"""Structural equality, hashing, first mismatches, keys, access paths, walks, visits, maps
and mutations through the package's own API, on our runtime (and, to check the tests, on the
reference's). Objects with reflected fields are covered by the Rust tests against golden
answers from the reference (alloc-tier/tests/structural/); these use what the package can
build without dataclasses."""

import numpy as np
import pytest
import tvm_ffi
from tvm_ffi.access_path import AccessKind, AccessPath


def test_equality_and_hash_of_containers():
    lhs = {"items": [1, 2, {"k": 3}], "meta": {"tag": "x"}}
    rhs = {"meta": {"tag": "x"}, "items": [1, 2, {"k": 3}]}
    other = {"items": [1, 2, {"k": 4}], "meta": {"tag": "x"}}
    assert tvm_ffi.structural_equal(lhs, rhs)
    assert not tvm_ffi.structural_equal(lhs, other)
    assert tvm_ffi.structural_hash(lhs) == tvm_ffi.structural_hash(rhs)
    assert tvm_ffi.structural_hash(lhs) != tvm_ffi.structural_hash(other)
    # The reference's numbers: the hash is deterministic across processes and runtimes.
    assert tvm_ffi.structural_hash([1, 2, 3]) == 17457834911281713904
    assert tvm_ffi.structural_hash("abc") == 2660953131
    assert tvm_ffi.structural_hash(1) == 2654435835
    assert tvm_ffi.structural_equal(float("nan"), float("nan"))
    assert not tvm_ffi.structural_equal(tvm_ffi.Map({"a": 1}), tvm_ffi.Dict({"a": 1}))


def test_first_mismatch_paths():
    assert tvm_ffi.get_first_structural_mismatch([1, 2], [1, 2]) is None
    lhs, rhs = tvm_ffi.get_first_structural_mismatch({"a": [1, 2, 3]}, {"a": [1, 2]})
    assert (repr(lhs), repr(rhs)) == ('<root>["a"][2]', '<root>["a"][<missing:2>]')
    lhs, rhs = tvm_ffi.get_first_structural_mismatch({"a": [1]}, {"b": [1]})
    assert (repr(lhs), repr(rhs)) == ('<root>["a"]', '<root>[<missing:"a">]')
    lhs, rhs = tvm_ffi.get_first_structural_mismatch([[1, [2, "x"]]], [[1, [2, "y"]]])
    assert lhs == rhs and repr(lhs) == "<root>[0][1][1]"
    steps = lhs.to_steps()
    assert [s.kind for s in steps] == [AccessKind.ARRAY_ITEM] * 3
    assert [s.key for s in steps] == [0, 1, 1]


def test_tensors_compare_by_content():
    t1 = tvm_ffi.from_dlpack(np.array([1.0, 2.0, 3.0], dtype="float32"))
    t2 = tvm_ffi.from_dlpack(np.array([1.0, 2.0, 4.0], dtype="float32"))
    t3 = tvm_ffi.from_dlpack(np.array([1.0, 2.0, 3.0], dtype="float32"))
    assert tvm_ffi.structural_equal(t1, t3)
    assert not tvm_ffi.structural_equal(t1, t2)
    assert tvm_ffi.structural_equal(t1, t2, skip_tensor_content=True)
    assert tvm_ffi.structural_hash(t1) == tvm_ffi.structural_hash(t3)


def test_structural_keys():
    k1 = tvm_ffi.StructuralKey({"x": [1, 2], "y": [3]})
    k2 = tvm_ffi.StructuralKey({"y": [3], "x": [1, 2]})
    k3 = tvm_ffi.StructuralKey({"x": [1, 2], "y": [5]})
    assert k1 == k2 and k1 != k3 and hash(k1) == hash(k2)
    assert k1.__hash__() == tvm_ffi.structural_hash(k1.key)
    m = tvm_ffi.Map({k1: 1, k2: 2, k3: 3})
    assert len(m) == 2 and m[k1] == 2 and m[k3] == 3
    assert {k1: "a", k3: "b"}[k2] == "a"


def test_access_paths():
    root = AccessPath.root()
    p = root.attr("layer").array_item(2).map_item("k").map_item_missing(3)
    assert repr(p) == '<root>.layer[2]["k"][<missing:3>]'
    assert repr(root) == "<root>" and root.depth == 0 and root.parent is None
    assert p.depth == 4 and repr(p.parent) == '<root>.layer[2]["k"]'
    assert root.attr("layer").is_prefix_of(p) and not p.is_prefix_of(root)
    assert p == root.attr("layer").array_item(2).map_item("k").map_item_missing(3)
    assert p != root.attr("layer")
    with pytest.raises(ValueError):
        AccessPath()


def test_walk_visit_and_interrupt():
    trace = []
    result = tvm_ffi.structural_walk(
        tvm_ffi.Array([1, 2.5, "tag"]),
        [
            (tvm_ffi.Array, lambda v: trace.append(f"array:{len(v)}")),
            ((int, float), lambda v: trace.append(f"number:{v}")),
            (str, lambda v: trace.append(f"str:{v}")),
        ],
        order=tvm_ffi.WalkOrder.PREORDER,
    )
    assert result is None
    assert trace == ["array:3", "number:1", "number:2.5", "str:tag"]

    def on_int(value):
        return tvm_ffi.VisitInterrupt({"found": value}) if value == 2 else None

    result = tvm_ffi.structural_walk(tvm_ffi.Array([1, 2, 3]), (int, on_int), order="pre")
    assert isinstance(result, tvm_ffi.VisitInterrupt)
    assert tvm_ffi.structural_equal(result.value, {"found": 2})

    seen = []

    def visit_array(value, visitor):
        seen.append("array")
        return visitor.default_visit(value[0])

    def visit_int(value, visitor):
        assert isinstance(visitor, tvm_ffi.StructuralVisitor)
        assert visitor.def_region_kind() == tvm_ffi.DefRegionKind.NONE
        seen.append(value)
        return tvm_ffi.VisitInterrupt("done") if value == 2 else None

    root = tvm_ffi.Array([tvm_ffi.Array([1, 2, 3])])
    result = tvm_ffi.structural_visit(root, [(tvm_ffi.Array, visit_array), (int, visit_int)])
    assert seen == ["array", 1, 2] and result.value == "done"


def test_walk_errors_carry_their_trail():
    def fail(value):
        if value == 3:
            raise ValueError("boom")

    root = tvm_ffi.Array([1, tvm_ffi.Array([2, 3])])
    with pytest.raises(ValueError, match="boom") as info:
        tvm_ffi.structural_walk(root, (int, fail))
    ctx = info.value.__tvm_ffi_error__.extra_context
    assert len(ctx.reverse_visit_pattern) == 2
    assert ctx.reverse_visit_pattern[1].same_as(root)


def test_map_and_mutate_copy_or_reuse():
    shared = tvm_ffi.Array([1, tvm_ffi.Array([2])])
    mapped = tvm_ffi.structural_map(shared, (int, lambda v: v + 1))
    assert not mapped.same_as(shared)
    assert list(shared[1]) == [2] and list(mapped[1]) == [3] and mapped[0] == 2

    moved = tvm_ffi.Array([1])
    handle = moved.__chandle__()
    mapped = tvm_ffi.structural_map(moved._move(), (int, lambda v: v + 1))
    assert mapped.__chandle__() == handle and list(mapped) == [2]

    unchanged = tvm_ffi.Map({"value": tvm_ffi.Array([1])})
    assert tvm_ffi.structural_map(unchanged, (int, lambda v: v)).same_as(unchanged)

    def mutate_array(value, mutator):
        assert isinstance(mutator, tvm_ffi.StructuralMutator)
        return tvm_ffi.Array([mutator.mutate(value[0]), 10])

    mapped = tvm_ffi.structural_mutate(
        tvm_ffi.Array([1, 2]), [(tvm_ffi.Array, mutate_array), (int, lambda v, m: v + 1)]
    )
    assert list(mapped) == [2, 10]


def test_cyclic_values_are_errors():
    cyclic = tvm_ffi.List([1])
    cyclic.append(cyclic)
    try:
        if tvm_ffi.__file__ and _is_reference():
            pytest.skip("the reference recurses until the stack overflows on cyclic values")
        for run in (
            lambda: tvm_ffi.structural_hash(cyclic),
            lambda: tvm_ffi.structural_equal(cyclic, cyclic),
            lambda: tvm_ffi.get_first_structural_mismatch(cyclic, cyclic),
            lambda: tvm_ffi.structural_walk(cyclic, lambda v: None),
            lambda: tvm_ffi.structural_map(cyclic, (int, lambda v: v)),
        ):
            with pytest.raises(ValueError, match="contains itself"):
                run()
    finally:
        cyclic.clear()


def _is_reference():
    import os

    return os.environ.get("TVMFFI_RUNTIME") == "reference"
