"""The export macros, seen from the reference Python package.

`tests/fixtures/export-macro` is a Rust kernel library exporting its functions with
`#[tvmffi::export]` and `tvmffi::exports!`; `tests/fixtures/cpp/export_twin.cc` exports the
same names and signatures from C++ with the reference's `TVM_FFI_DLL_EXPORT_TYPED_FUNC` (and
`_DOC`). Both are loaded with `tvm_ffi.load_module`: the calls must work, errors and panics
must arrive as the right Python exceptions, and what the loader reads beside each function
(metadata, doc) and the argument-check messages must be the C++ library's, byte for byte.

Run by `ci/examples.sh`, which builds both libraries and passes their paths in
`EXPORT_MACRO_LIB` and `EXPORT_TWIN_LIB`.
"""

import ctypes
import os

import numpy as np
import pytest
import tvm_ffi
from tvm_ffi.core import TypeSchema


def _library(variable):
    path = os.environ.get(variable)
    if not path or not os.path.exists(path):
        pytest.fail(f"{variable} does not name a built library ({path!r}); run `bash ci/examples.sh`")
    return path


@pytest.fixture(scope="module")
def rust_path():
    return _library("EXPORT_MACRO_LIB")


@pytest.fixture(scope="module")
def rust(rust_path):
    return tvm_ffi.load_module(rust_path)


@pytest.fixture(scope="module")
def cpp():
    return tvm_ffi.load_module(_library("EXPORT_TWIN_LIB"))


# The functions both libraries export.
SHARED = [
    "add_int", "scale", "negate", "narrow", "concat", "bytes_len", "version", "nothing",
    "maybe", "sum_ints", "double_all", "push_twice", "shape_of", "tensor_sum", "view_sum", "describe",
    "type_key", "call_back", "apply_twice", "make_adder", "fail", "documented",
    "doc_from_macro", "renamed", "twin_mul",
]  # fmt: skip


def test_values(rust):
    assert rust.add_int(2, 3) == 5
    assert rust.add_int(2**63 - 1, 1) == -(2**63)  # the function wraps, as written
    assert rust.scale(2.0, 1.5) == 3.0
    assert rust.scale(2, 3) == 6.0  # ints are floats too
    assert rust.negate(True) is False
    assert rust.narrow(-7) == -14
    assert rust.concat("ab", "c" * 20) == "ab" + "c" * 20
    assert rust.concat("naïve ", "→") == "naïve →"
    assert rust.bytes_len(b"\x00\x01\x02") == 3
    assert rust.version() == 7
    assert rust.nothing() is None
    assert rust.maybe(None) == -1
    assert rust.maybe(4) == 4


def test_containers_and_tensors(rust):
    assert rust.sum_ints([1, 2, 3]) == 6
    assert rust.sum_ints(tvm_ffi.convert([4, 5])) == 9
    assert list(rust.double_all([1, 2.5])) == [2.0, 5.0]
    shared = tvm_ffi.List([1])
    rust.push_twice(shared, 5)
    assert list(shared) == [1, 5, 5], "a List argument is the caller's list"
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert tuple(rust.shape_of(tvm_ffi.from_dlpack(x))) == (2, 3)
    assert rust.tensor_sum(tvm_ffi.from_dlpack(x)) == 15.0
    assert rust.tensor_sum(x) == 15.0  # NumPy arrays convert through DLPack
    with pytest.raises(TypeError, match="Tensor has dtype int64, not float32"):
        rust.tensor_sum(np.arange(3))
    assert rust.view_sum(tvm_ffi.from_dlpack(x)) == 15.0  # borrowed, as C++'s TensorView
    assert rust.view_sum(x) == 15.0


def test_any_and_callbacks(rust):
    assert rust.describe(1) == "int 1"
    assert rust.describe(1.5) == "float 1.5"
    assert rust.describe("hey") == "str hey"
    assert rust.describe([1, 2]) == "array of 2 ints"
    assert rust.describe(None) == "other None"
    assert rust.type_key("x" * 20) == "ffi.String"
    assert rust.type_key(1.0) == "float"
    assert rust.call_back(lambda v: v * 10, 4) == 40
    assert rust.call_back(lambda v: str(v), 4) == "4"
    assert rust.apply_twice(lambda v: v + 1, 1) == 3
    add5 = rust.make_adder(5)
    assert add5(1) == 6
    with pytest.raises(TypeError, match="Mismatched type on argument #0"):
        add5("one")


def test_python_exceptions_travel_through_rust(rust):
    def refuse(v):
        raise KeyError(f"refusing {v}")

    with pytest.raises(KeyError, match="refusing 3"):
        rust.call_back(refuse, 3)


def test_a_typed_callback_checks_its_result_as_the_cpp_one(rust, cpp):
    messages = []
    for module in (rust, cpp):
        with pytest.raises(TypeError) as info:
            module.apply_twice(lambda v: "str", 1)
        messages.append(str(info.value))
    assert messages[0] == messages[1] == "Cannot convert from type `ffi.SmallStr` to `int`"


@pytest.mark.parametrize(
    "kind", [ValueError, TypeError, KeyError, IndexError, AttributeError, RuntimeError]
)
def test_errors_arrive_with_their_kind_and_message(rust, kind):
    with pytest.raises(kind) as info:
        rust.fail(kind.__name__, f"a {kind.__name__} from Rust")
    assert f"a {kind.__name__} from Rust" in str(info.value)


def test_a_panic_is_a_runtime_error(rust):
    with pytest.raises(RuntimeError, match="panic in Rust code: boom"):
        rust.panics("boom")
    assert rust.add_int(1, 1) == 2, "the library still works"


def test_renamed_twin_and_hygienic_exports(rust):
    assert rust.renamed(3) == -3
    assert not rust.implements_function("internal_name")
    assert rust.twin_mul(2, 1.5) == 3.0
    with pytest.raises(KeyError, match="no such key"):
        rust.twin_fail(True)
    assert rust.twin_fail(False) == 1
    assert rust.hygienic_add(1, 2) == 3
    with pytest.raises(ValueError, match="overflow"):
        rust.hygienic_add(2**63 - 1, 1)
    assert rust.hygienic_len([1, "a", None], None) == 3
    assert rust.hygienic_twin(1.0) == 1.5
    assert rust.get_function_doc("hygienic_twin") == "The twin, hygienically."


def test_symbols(rust_path):
    lib = ctypes.CDLL(rust_path)
    for name in ("add_int", "documented", "twin_mul", "hygienic_len"):
        assert hasattr(lib, f"__tvm_ffi_{name}")
        assert hasattr(lib, f"__tvm_ffi__metadata_{name}")
    assert hasattr(lib, "__tvm_ffi__doc_documented")
    assert not hasattr(lib, "__tvm_ffi__doc_add_int"), "no doc comment, no doc symbol"
    assert not hasattr(lib, "__tvm_ffi_internal_name")


def test_metadata_format(rust):
    assert rust.get_function_metadata("add_int") == {
        "type_schema": '{"type":"ffi.Function","named_args":{"return":[{"type":"int"}],'
        '"params":[{"type":"int"},{"type":"int"}]}}'
    }
    schemas = {
        "add_int": "Callable[[int, int], int]",
        "nothing": "Callable[[], None]",
        "sum_ints": "Callable[[Array[int]], int]",
        "push_twice": "Callable[[List[int], int], None]",
        "maybe": "Callable[[int | None], int]",
        "tensor_sum": "Callable[[Tensor], float]",
        "view_sum": "Callable[[Tensor], float]",
        "apply_twice": "Callable[[Callable[[int], int], int], int]",
        "describe": "Callable[[Any], str]",
        "fail": "Callable[[str, str], None]",
        "hygienic_add": "Callable[[int, int], int]",
    }
    for name, expected in schemas.items():
        schema = TypeSchema.from_json_str(rust.get_function_metadata(name)["type_schema"])
        assert str(schema) == expected, name


@pytest.mark.parametrize("name", SHARED)
def test_metadata_and_docs_match_the_cpp_export(rust, cpp, name):
    assert rust.get_function_metadata(name) == cpp.get_function_metadata(name)
    assert rust.get_function_doc(name) == cpp.get_function_doc(name)


ARGUMENT_ERRORS = [
    ("add_int", (1,)),
    ("add_int", (1, "x")),
    ("add_int", (1, "a longer string")),
    ("add_int", (1.5, 2)),
    ("nothing", (1,)),
    ("negate", (2.0,)),
    ("scale", (None, 1.0)),
    ("concat", (1, "a")),
    ("bytes_len", ("str",)),
    ("maybe", ("s",)),
    ("sum_ints", (3,)),
    ("sum_ints", ([1, "a"],)),
    ("sum_ints", ([1, 2.5],)),
    ("double_all", ([1, "x"],)),
    ("push_twice", ([1, None], 1)),
    ("tensor_sum", (1,)),
    ("view_sum", (1,)),
    ("view_sum", ("x",)),
    ("apply_twice", (1, 2)),
    ("type_key", ()),
]


@pytest.mark.parametrize("name,args", ARGUMENT_ERRORS)
def test_argument_errors_match_the_cpp_export(rust, cpp, name, args):
    def error(module):
        with pytest.raises(Exception) as info:
            getattr(module, name)(*args)
        return type(info.value), str(info.value)

    ours, theirs = error(rust), error(cpp)
    assert ours == theirs
    assert ours[0] is TypeError
