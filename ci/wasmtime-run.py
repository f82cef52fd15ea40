"""Run a wasm32-wasip1 program under wasmtime: cargo's runner for that target.

Usage: wasmtime-run.py PROGRAM.wasm [ARGS...]. The program's stdout and stderr are the
terminal's, the current directory is preopened (test harnesses may look at it), and the exit
code is the program's.
"""

import os
import sys

import wasmtime


def main() -> int:
    program, args = sys.argv[1], sys.argv[1:]
    config = wasmtime.WasiConfig()
    config.argv = args
    config.inherit_stdout()
    config.inherit_stderr()
    config.preopen_dir(".", ".")
    config.env = [(k, v) for k, v in os.environ.items() if k.startswith(("RUST_", "NEXTEST"))]

    engine = wasmtime.Engine()
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    store = wasmtime.Store(engine)
    store.set_wasi(config)
    instance = linker.instantiate(store, wasmtime.Module.from_file(engine, program))
    try:
        instance.exports(store)["_start"](store)
    except wasmtime.ExitTrap as exit_trap:
        return exit_trap.code
    return 0


if __name__ == "__main__":
    sys.exit(main())
