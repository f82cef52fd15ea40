"""Load the Rust kernel library of this example with the reference Python package and call
every function with NumPy arrays, ints, floats, strings, lists and a Python callback.

Usage: python run.py [path/to/libadd_one.so]   (run.sh builds the library and runs this)
"""

import math
import sys
from pathlib import Path

import numpy as np
import tvm_ffi
from tvm_ffi.core import TypeSchema

checks = 0


def check(condition, what):
    global checks
    if not condition:
        raise AssertionError(what)
    checks += 1


def raises(exception, needle, f, *args):
    """Call f(*args) and check that it raises `exception` whose message contains `needle`."""
    try:
        f(*args)
    except exception as e:
        check(needle in str(e), f"{exception.__name__} message {str(e)!r} lacks {needle!r}")
        return
    except Exception as e:  # noqa: BLE001 - reported as a failed check
        raise AssertionError(f"expected {exception.__name__}, got {type(e).__name__}: {e}") from e
    raise AssertionError(f"expected {exception.__name__}, nothing was raised")


def main(path):
    mod = tvm_ffi.load_module(path)

    # The reference's quickstart: y = x + 1 on 1-D float32 tensors, through DLPack.
    x = np.array([1, 2, 3, 4, 5], dtype=np.float32)
    y = np.empty_like(x)
    mod.add_one(tvm_ffi.from_dlpack(x), tvm_ffi.from_dlpack(y))
    check(np.array_equal(y, x + 1), f"add_one wrote {y}")
    big = np.linspace(0, 1, 10_000, dtype=np.float32)
    out = np.zeros_like(big)
    mod.add_one(big, out)  # NumPy arrays directly, as the reference's load_numpy.py does
    check(np.array_equal(out, big + 1), "add_one on 10 000 elements")
    raises(ValueError, "1-D tensors of one shape", mod.add_one, x, np.empty(3, np.float32))
    raises(TypeError, "Tensor has dtype int64, not float32", mod.add_one, np.arange(5), y)
    raises(TypeError, "Expected `DLTensor*` but got `int`", mod.add_one, 1, y)

    # Scalars and strings.
    check(mod.add_one_int(41) == 42, "add_one_int")
    raises(ValueError, "overflows int64", mod.add_one_int, 2**63 - 1)
    check(mod.add_one_float(0.5) == 1.5, "add_one_float")
    check(mod.add_one_float(2) == 3.0, "an int is a float too")
    check(mod.greet("Ada") == "Hello, Ada, from Rust!", "greet")
    check(mod.greet("naïve → ünïcode") == "Hello, naïve → ünïcode, from Rust!", "greet in UTF-8")

    # Lists become ffi.Array arguments; arrays come back as sequences.
    check(list(mod.add_one_each([1, 2, 3])) == [2, 3, 4], "add_one_each")
    check(list(mod.add_one_each([])) == [], "add_one_each on nothing")
    raises(TypeError, "Expected `Array<int>` but got `Array[index 1: float]`", mod.add_one_each, [1, 2.5])
    check(mod.element([10, 20, 30], -1) == 30, "element from the end")
    raises(IndexError, "out of range", mod.element, [10, 20, 30], -4)
    raises(IndexError, "Index 3 out of bounds 3", mod.element, [10, 20, 30], 3)

    # A Python function called from Rust; its exception travels back through Rust.
    check(list(mod.map_with(lambda v: v * v, [1.0, 2.0, 3.0])) == [1.0, 4.0, 9.0], "map_with")

    def refuse(v):
        raise ValueError(f"refusing {v}")

    raises(ValueError, "refusing 1.0", mod.map_with, refuse, [1.0])

    # A Python dict becomes an ffi.Map argument; the map that comes back reads like a dict.
    summary = mod.summarize({"ada": 3.0, "grace": 4.5})
    check(dict(summary.items()) == {"total": 7.5, "count": 2.0}, f"summarize gave {dict(summary.items())}")
    raises(TypeError, "Map<str, float>", mod.summarize, {"ada": "three"})

    # One error of each kind, with its message.
    check(math.isclose(mod.constant("pi"), math.pi), "constant")
    raises(KeyError, "no constant named \"tau\"", mod.constant, "tau")
    check(mod.tensor_attr(x, "numel") == 5, "tensor_attr")
    raises(AttributeError, "no attribute \"strides\"", mod.tensor_attr, x, "strides")
    for kind in (ValueError, TypeError, KeyError, IndexError, AttributeError, RuntimeError):
        raises(kind, f"raised as {kind.__name__}", mod.raise_error, kind.__name__, f"raised as {kind.__name__}")
    raises(TypeError, "Mismatched number of arguments", mod.greet)

    # A panic is an exception, and the library keeps working afterwards. (Rust's panic hook
    # reports the panic on stderr before the boundary catches it.)
    print("examples/add_one: a deliberate panic follows", file=sys.stderr)
    raises(RuntimeError, "panic in Rust code: deliberate", mod.panic_with, "deliberate")
    check(mod.add_one_int(1) == 2, "still alive after a panic")

    # What the loader reads beside each function: type schema and doc string.
    schema = TypeSchema.from_json_str(mod.get_function_metadata("add_one")["type_schema"])
    check(str(schema) == "Callable[[Tensor, Tensor], None]", f"add_one schema {schema}")
    schema = TypeSchema.from_json_str(mod.get_function_metadata("map_with")["type_schema"])
    check(str(schema) == "Callable[[Callable[[float], float], Array[float]], Array[float]]", str(schema))
    check(mod.get_function_doc("add_one") == "Perform vector add one: y = x + 1 (1-D float32).", "doc")

    print(f"examples/add_one: all {checks} checks passed against {path}")


if __name__ == "__main__":
    default = Path(__file__).resolve().parents[2] / "target" / "debug" / "libadd_one.so"
    main(sys.argv[1] if len(sys.argv) > 1 else str(default))
