"""A host for TVM-FFI wasm32 modules: loads them with wasmtime and calls their exports
through the ABI, with every value laid out by hand in the module's linear memory.

    python host.py [-v] KERNEL.wasm MINIMAL.wasm

KERNEL is `kernel/` built for wasm32-unknown-unknown (its own runtime: the C API is in the
module), MINIMAL is `minimal/` (one packed function, nothing else). Prints each failed
check (each check with -v) and closes with "N passed, N failed"; the exit status is 1 when a
check failed.

The layouts are wasm32's: pointers and `size_t` are 4 bytes, `int64_t` and `double` are
8-byte aligned, and the object header stays 24 bytes. `ci/abi-check.sh` checks each offset
used here against the reference headers compiled for wasm32.
"""

import json
import struct
import sys

import wasmtime

# Type indices (`TVMFFITypeIndex`).
NONE, INT, BOOL, FLOAT, RAW_STR, SMALL_STR = 0, 1, 2, 3, 8, 11
STR, ERROR, TENSOR = 65, 67, 70

ANY = struct.Struct("<iI8s")  # TVMFFIAny: type_index, zero_padding / small_str_len, value
OBJECT_HEADER = 24  # TVMFFIObject: combined_ref_count u64 @0, type_index i32 @8, deleter @16
BYTE_ARRAY = struct.Struct("<II")  # TVMFFIByteArray: data, size
ERROR_CELL = struct.Struct("<IIIIII")  # TVMFFIErrorCell: kind, message, backtrace (3 arrays)
# DLManagedTensor: DLTensor {data @0, device @4, ndim @12, dtype @16, shape @20, strides @24,
# byte_offset @32}, manager_ctx @40, deleter @44; 48 bytes.
DL_MANAGED_TENSOR = struct.Struct("<I ii i BBH I I 4x Q I I")
assert ANY.size == 16 and BYTE_ARRAY.size == 8 and DL_MANAGED_TENSOR.size == 48

KDL_CPU, KDL_FLOAT, KDL_INT = 1, 2, 0


class Checks:
    """Counts checks and prints each failure; the closing line is the suite's verdict."""

    def __init__(self, verbose):
        self.verbose = verbose
        self.passed = 0
        self.failed = 0

    def equal(self, what, got, expected):
        if got == expected:
            self.passed += 1
            if self.verbose:
                print(f"  ok    {what}")
        else:
            self.failed += 1
            print(f"  FAIL  {what}: got {got!r}, expected {expected!r}")


class Raised(Exception):
    """An error a call raised: the kind and message of the error object it left."""

    def __init__(self, kind, message):
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


class Module:
    """One instance of a wasm module, its linear memory, and its exports."""

    def __init__(self, path):
        engine = wasmtime.Engine()
        module = wasmtime.Module.from_file(engine, path)
        self.imports = [f"{i.module}.{i.name}" for i in module.imports]
        self.store = wasmtime.Store(engine)
        # No imports to satisfy: the module is self-contained (checked by the callers).
        self.exports = wasmtime.Instance(self.store, module, []).exports(self.store)
        self.memory = self.exports["memory"]

    def export(self, name):
        return self.exports[name]

    def __call__(self, name, *args):
        return self.exports[name](self.store, *args)

    def read(self, ptr, size):
        return bytes(self.memory.read(self.store, ptr, ptr + size))

    def write(self, ptr, data):
        self.memory.write(self.store, data, ptr)


class Kernel(Module):
    """A module with its own runtime: memory from `TVMWasmAllocSpace`, the C API for the rest."""

    def __init__(self, path):
        super().__init__(path)
        self.spaces = []

    def alloc(self, data):
        ptr = self("TVMWasmAllocSpace", max(len(data), 1))
        assert ptr != 0 and ptr % 8 == 0, f"TVMWasmAllocSpace returned {ptr:#x}"
        self.write(ptr, data)
        self.spaces.append(ptr)
        return ptr

    def free_all(self):
        for ptr in self.spaces:
            self("TVMWasmFreeSpace", ptr)
        self.spaces.clear()

    # Objects.

    def strong_count(self, obj):
        return struct.unpack_from("<Q", self.read(obj, 8))[0] & 0xFFFFFFFF

    def type_index(self, obj):
        return struct.unpack_from("<i", self.read(obj + 8, 4))[0]

    def dec_ref(self, obj):
        assert self("TVMFFIObjectDecRef", obj) == 0

    def byte_array(self, ptr):
        data, size = BYTE_ARRAY.unpack(self.read(ptr, BYTE_ARRAY.size))
        return self.read(data, size)

    # Values.

    def string(self, text):
        """A string value made by the module (`TVMFFIStringFromByteArray`), owned."""
        data = text.encode()
        array = self.alloc(BYTE_ARRAY.pack(self.alloc(data), len(data)))
        out = self.alloc(bytes(ANY.size))
        assert self("TVMFFIStringFromByteArray", array, out) == 0
        return self.read(out, ANY.size)

    def tensor(self, values, dtype_code=KDL_FLOAT):
        """A 1-D tensor object over a buffer this host writes (`TVMFFITensorFromDLPack`,
        no deleter: the host keeps the buffer), with the buffer's address."""
        fmt = "<%d%s" % (len(values), "f" if dtype_code == KDL_FLOAT else "i")
        data = self.alloc(struct.pack(fmt, *values))
        shape = self.alloc(struct.pack("<q", len(values)))
        managed = self.alloc(
            DL_MANAGED_TENSOR.pack(data, KDL_CPU, 0, 1, dtype_code, 32, 1, shape, 0, 0, 0, 0)
        )
        out = self.alloc(bytes(4))
        assert self("TVMFFITensorFromDLPack", managed, 0, 1, out) == 0
        return struct.unpack("<I", self.read(out, 4))[0], data

    def call(self, name, *args):
        """Call `__tvm_ffi_<name>` with Python values; the result as a Python value, or
        `Raised` with the error the call left."""
        packed = b"".join(self.encode(a) for a in args)
        args_ptr = self.alloc(packed)
        result = self.alloc(ANY.pack(NONE, 0, bytes(8)))
        code = self(f"__tvm_ffi_{name}", 0, args_ptr, len(args), result)
        if code != 0:
            assert code == -1, f"{name} returned {code}"
            raise self.take_error()
        return self.decode(self.read(result, ANY.size))

    def encode(self, value):
        if isinstance(value, bytes) and len(value) == ANY.size:  # a TVMFFIAny already
            return value
        if isinstance(value, bool):
            return ANY.pack(BOOL, 0, struct.pack("<q", value))
        if isinstance(value, int):
            return ANY.pack(INT, 0, struct.pack("<q", value))
        if isinstance(value, float):
            return ANY.pack(FLOAT, 0, struct.pack("<d", value))
        if isinstance(value, str):  # a borrowed `const char*`
            return ANY.pack(RAW_STR, 0, struct.pack("<I4x", self.alloc(value.encode() + b"\0")))
        if isinstance(value, TensorArg):
            return ANY.pack(TENSOR, 0, struct.pack("<I4x", value.handle))
        raise TypeError(f"cannot pass {value!r}")

    def decode(self, raw):
        """A result `TVMFFIAny` as a Python value; an object result is released."""
        type_index, small_len, value = ANY.unpack(raw)
        if type_index == NONE:
            return None
        if type_index == INT:
            return struct.unpack("<q", value)[0]
        if type_index == FLOAT:
            return struct.unpack("<d", value)[0]
        if type_index == SMALL_STR:
            return value[:small_len].decode()
        if type_index == STR:
            obj = struct.unpack("<I4x", value)[0]
            assert self.strong_count(obj) == 1, "a result string is the caller's alone"
            text = self.byte_array(obj + OBJECT_HEADER).decode()
            self.dec_ref(obj)
            return text
        raise TypeError(f"no decoding for type index {type_index}")

    def take_error(self):
        """The raised error (`TVMFFIErrorMoveFromRaised`): kind and message, then released."""
        out = self.alloc(bytes(4))
        self("TVMFFIErrorMoveFromRaised", out)
        obj = struct.unpack("<I", self.read(out, 4))[0]
        assert obj != 0, "a call returned -1 and raised nothing"
        assert self.type_index(obj) == ERROR
        cell = obj + OBJECT_HEADER
        kind = self.byte_array(cell).decode()
        message = self.byte_array(cell + BYTE_ARRAY.size).decode()
        self.dec_ref(obj)
        # Taken: the slot is empty now.
        self("TVMFFIErrorMoveFromRaised", out)
        assert self.read(out, 4) == bytes(4), "the error slot still holds an error"
        return Raised(kind, message)


class TensorArg:
    """A tensor object handle passed as an argument (a borrowed view)."""

    def __init__(self, handle):
        self.handle = handle


def raised(kernel, name, *args):
    try:
        value = kernel.call(name, *args)
    except Raised as error:
        return (error.kind, error.message)
    return ("no error", value)


def check_kernel(path, checks):
    print(f"kernel {path}")
    k = Kernel(path)
    checks.equal("imports nothing", k.imports, [])
    for name in ["TVMFFIErrorMoveFromRaised", "TVMFFIObjectDecRef", "TVMFFIStringFromByteArray"]:
        checks.equal(f"exports {name}", isinstance(k.export(name), wasmtime.Func), True)

    # Ints and floats.
    checks.equal("add_int(40, 2)", k.call("add_int", 40, 2), 42)
    checks.equal("add_int(-7, True)", k.call("add_int", -7, True), -6)
    checks.equal("scale(1.5, -4.0)", k.call("scale", 1.5, -4.0), -6.0)
    checks.equal("scale(3, 0.5): int to float", k.call("scale", 3, 0.5), 1.5)

    # Strings: a raw C string in, a long string object out; a string object made by the
    # module in, a short (inline) and a long string.
    checks.equal("greet('wasm')", k.call("greet", "wasm"), "Hello, wasm, from wasm32!")
    name = k.string("a name longer than seven bytes")
    checks.equal("TVMFFIStringFromByteArray: long is an object", ANY.unpack(name)[0], STR)
    obj = struct.unpack("<I4x", ANY.unpack(name)[2])[0]
    checks.equal("greet(String object)", k.call("greet", name),
                 "Hello, a name longer than seven bytes, from wasm32!")
    checks.equal("the argument is still the caller's only", k.strong_count(obj), 1)
    k.dec_ref(obj)
    short = k.string("tvm")
    checks.equal("TVMFFIStringFromByteArray: short is inline", ANY.unpack(short)[:2],
                 (SMALL_STR, 3))
    checks.equal("byte_len(small string)", k.call("byte_len", short), 3)
    checks.equal("byte_len('héllo')", k.call("byte_len", "héllo"), 6)

    # Tensors over buffers this host wrote into linear memory.
    x, x_data = k.tensor([1.0, 2.0, 3.0, 4.5])
    y, y_data = k.tensor([0.0] * 4)
    checks.equal("add_one(x, y) returns None", k.call("add_one", TensorArg(x), TensorArg(y)),
                 None)
    checks.equal("y = x + 1, in the host's buffer",
                 list(struct.unpack("<4f", k.read(y_data, 16))), [2.0, 3.0, 4.0, 5.5])
    checks.equal("x unchanged", list(struct.unpack("<4f", k.read(x_data, 16))),
                 [1.0, 2.0, 3.0, 4.5])
    checks.equal("sum(x)", k.call("sum", TensorArg(x)), 10.5)
    checks.equal("the tensors are the caller's only again",
                 (k.strong_count(x), k.strong_count(y)), (1, 1))
    short_tensor, _ = k.tensor([1.0, 2.0])
    checks.equal("add_one with two shapes",
                 raised(k, "add_one", TensorArg(x), TensorArg(short_tensor)),
                 ("ValueError", "add_one expects tensors of one shape, got [4] and [2]"))
    ints, _ = k.tensor([1, 2, 3, 4], dtype_code=KDL_INT)
    checks.equal("sum(int32 tensor)", raised(k, "sum", TensorArg(ints)),
                 ("TypeError", "Tensor has dtype int32, not float32"))
    for t in (x, y, short_tensor, ints):
        k.dec_ref(t)

    # Errors: kind and message, from the function, from argument checks, and from
    # `Result` overflow handling.
    checks.equal("raise_error('KeyError', ...)",
                 raised(k, "raise_error", "KeyError", "no entry named 'k'"),
                 ("KeyError", "no entry named 'k'"))
    checks.equal("add_int overflow", raised(k, "add_int", 2**63 - 1, 1),
                 ("ValueError", "9223372036854775807 + 1 overflows int64"))
    checks.equal("add_int('x', 1)", raised(k, "add_int", "x", 1), (
        "TypeError",
        "Mismatched type on argument #0 when calling: `add_int(0: int, 1: int) -> int`. "
        "Expected `int` but got `const char*`",
    ))
    checks.equal("add_int(1)", raised(k, "add_int", 1), (
        "TypeError",
        "Mismatched number of arguments when calling: `add_int(0: int, 1: int) -> int`. "
        "Expected 2 but got 1 arguments",
    ))

    # The metadata and doc exports a loader reads, through the same convention.
    metadata = json.loads(k.call("_metadata_add_int"))
    checks.equal("add_int's type schema (the reference's format)",
                 json.loads(metadata["type_schema"]), {
                     "type": "ffi.Function",
                     "named_args": {"return": [{"type": "int"}],
                                    "params": [{"type": "int"}, {"type": "int"}]},
                 })
    checks.equal("greet's doc", k.call("_doc_greet"), "A greeting for `name`.")
    k.free_all()
    check_no_leak(k, checks)

    # A panic never unwinds into the host: the module traps (a fresh instance, since a
    # trapped one may hold the runtime's locks).
    k = Kernel(path)
    try:
        k.call("panic_with", "at the disco")
        outcome = "returned"
    except wasmtime.Trap as trap:
        outcome = "trap: unreachable" if "unreachable" in str(trap) else f"trap: {trap}"
    checks.equal("panic_with traps", outcome, "trap: unreachable")


def check_no_leak(k, checks, rounds=1000):
    """Linear memory stays flat over many rounds of objects made, passed and released, on
    the success and the error paths: a leak of even a small object a round would grow it
    by pages (dlmalloc takes memory from `memory.grow` and never returns it)."""

    def round_trip():
        name = k.string("a name longer than seven bytes")
        k.call("greet", name)
        k.dec_ref(struct.unpack("<I4x", ANY.unpack(name)[2])[0])
        x, _ = k.tensor([1.0] * 8)
        y, _ = k.tensor([0.0] * 4)
        k.call("sum", TensorArg(x))
        raised(k, "add_one", TensorArg(x), TensorArg(y))
        raised(k, "raise_error", "RuntimeError", "a message of some length " * 4)
        raised(k, "add_int", "x", 1)
        k.dec_ref(x)
        k.dec_ref(y)
        k.free_all()

    for _ in range(100):
        round_trip()
    before = k.memory.data_len(k.store)
    for _ in range(rounds):
        round_trip()
    checks.equal(f"linear memory flat over {rounds} rounds of calls (bytes)",
                 k.memory.data_len(k.store), before)


def check_minimal(path, checks):
    print(f"minimal {path}")
    m = Module(path)
    checks.equal("imports nothing", m.imports, [])
    # No allocator in the module: the host uses free memory past `__heap_base`, growing the
    # memory by a page (64 KiB) when the module's data and stack end on its last page.
    base = m.export("__heap_base").value(m.store)
    if m.memory.data_len(m.store) < base + 4 * ANY.size:
        m.memory.grow(m.store, 1)
    args, result = base, base + 3 * ANY.size

    def add(*values):
        m.write(args, b"".join(ANY.pack(t, 0, v) for t, v in values))
        m.write(result, ANY.pack(NONE, 0, bytes(8)))
        code = m("__tvm_ffi_add", 0, args, len(values), result)
        type_index, _, value = ANY.unpack(m.read(result, ANY.size))
        return code, type_index, struct.unpack("<q", value)[0]

    i64 = lambda v: (INT, struct.pack("<q", v))  # noqa: E731
    checks.equal("add(40, 2)", add(i64(40), i64(2)), (0, INT, 42))
    checks.equal("add(1, 2, 3): the error code", add(i64(1), i64(2), i64(3))[0], -1)
    checks.equal("add(1.5, 2): the error code", add((FLOAT, struct.pack("<d", 1.5)), i64(2))[0],
                 -1)


def main():
    args = sys.argv[1:]
    verbose = "-v" in args
    kernel, minimal = [a for a in args if a != "-v"]
    checks = Checks(verbose)
    check_kernel(kernel, checks)
    check_minimal(minimal, checks)
    print(f"{checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
