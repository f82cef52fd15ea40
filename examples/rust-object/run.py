"""Use the object types that examples/rust-object defines in Rust, from Python.

    python run.py path/to/librust_object.so

Loaded with the reference package's `tvm_ffi.load_module`, the library registers its types
(`rust_object.Point`, `rust_object.WeightedPoint`) in the process's runtime; Python then
reads and writes their fields, prints, copies, compares, hashes and serializes them, and
constructs them itself, all through the reflection the Rust derive registered.
"""

import copy
import sys

import tvm_ffi

mod = tvm_ffi.load_module(sys.argv[1])

# Objects made in Rust.
p = mod.make_point(3.0, 4.0)
print(p, "norm:", p.norm())
assert (p.x, p.y, p.label) == (3.0, 4.0, "")
p.x = 6.0  # a writable field (`FieldCell` in Rust): Rust sees the new value
assert abs(mod.norm(p) - 52**0.5) < 1e-12
mod.shift(p, 1.0, -1.0)  # Rust writes, Python sees
assert (p.x, p.y) == (7.0, 3.0)

# Copies, structural equality and hashing, serialization.
q = copy.copy(p)
q.x = 0.0
assert p.x == 7.0, "a copy has fields of its own"
assert tvm_ffi.structural_equal(p, copy.deepcopy(p))
assert not tvm_ffi.structural_equal(p, q)
text = tvm_ffi.serialization.to_json_graph_str(p)
back = tvm_ffi.serialization.from_json_graph_str(text)
assert tvm_ffi.structural_hash(back) == tvm_ffi.structural_hash(p)
print("serialized:", text)


# Constructed in Python, through the `__ffi_init__` that the derive's creator enables.
@tvm_ffi.register_object("rust_object.Point")
class Point(tvm_ffi.Object):
    pass


made = Point(3.0, 4.0, label="from Python")
assert mod.norm(made) == 5.0
print(made)

# A subclass: a `Point` to Rust functions, with a read-only field of its own.
w = mod.make_weighted(1.0, 1.0, 2.5)
print(w, "total weight of two:", mod.total_weight([w, w]))
try:
    w.weight = 3.0
except AttributeError as e:
    print("read-only:", e)
else:
    raise AssertionError("weight is read-only")
