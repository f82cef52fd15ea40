"""Calling the same kernels from Python: examples/add_one (Rust, `#[tvmffi::export]`) and
bench/python/add_one_c.cc (C++, `TVM_FFI_DLL_EXPORT_TYPED_FUNC`), both loaded with the
reference package's `tvm_ffi.load_module` into one process, with NumPy arrays passed through
`tvm_ffi.from_dlpack`. The two are timed in alternation (timeit), so that machine noise
falls on both alike.

Usage: python kernel_bench.py RUST_LIB C_LIB [--smoke]
Prints "row<TAB>C ns<TAB>Rust ns" per row: the median over rounds of the best-of-timeit
time per call.
"""

import statistics
import sys
import timeit

import numpy as np
import tvm_ffi


def main(rust_path, c_path, smoke):
    libs = {"c": tvm_ffi.load_module(c_path), "rust": tvm_ffi.load_module(rust_path)}
    rounds, number = (3, 2000) if smoke else (15, 20000)

    x16 = tvm_ffi.from_dlpack(np.arange(16, dtype=np.float32))
    y16 = {name: np.zeros(16, dtype=np.float32) for name in libs}
    y16_t = {name: tvm_ffi.from_dlpack(y) for name, y in y16.items()}
    x4k = tvm_ffi.from_dlpack(np.arange(4096, dtype=np.float32))
    y4k = {name: tvm_ffi.from_dlpack(np.zeros(4096, dtype=np.float32)) for name in libs}
    n16 = np.arange(16, dtype=np.float32)

    def rows(name):
        mod = libs[name]
        add_one, add_one_int = mod["add_one"], mod["add_one_int"]
        y_np = y16[name]
        return {
            "py_add_one_16": lambda: add_one(x16, y16_t[name]),
            "py_add_one_4k": lambda: add_one(x4k, y4k[name]),
            "py_add_one_from_numpy": lambda: add_one(
                tvm_ffi.from_dlpack(n16), tvm_ffi.from_dlpack(y_np)
            ),
            "py_add_one_int": lambda: add_one_int(41),
        }

    bodies = {name: rows(name) for name in libs}
    for name, body in bodies.items():  # correctness first, and a warm-up
        for f in body.values():
            f()
        assert (y16[name] == np.arange(16, dtype=np.float32) + 1).all(), name
        assert body["py_add_one_int"]() == 42

    samples = {(row, name): [] for row in bodies["c"] for name in libs}
    for _ in range(rounds):
        for row in bodies["c"]:
            for name in ("c", "rust") if _ % 2 == 0 else ("rust", "c"):
                best = min(timeit.repeat(bodies[name][row], number=number, repeat=3))
                samples[(row, name)].append(best / number * 1e9)
    for row in bodies["c"]:
        c_ns = statistics.median(samples[(row, "c")])
        rust_ns = statistics.median(samples[(row, "rust")])
        print(f"{row}\t{c_ns:.1f}\t{rust_ns:.1f}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], "--smoke" in sys.argv[3:])
