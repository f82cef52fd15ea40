#!/usr/bin/env bash
# The official Python package on OUR runtime: a second venv (.venv-ours) with the reference
# wheel whose tvm_ffi/lib/libtvm_ffi.so is replaced by ours (std-tier/cdylib). The package
# loads that file by path, so this is exactly what a user who swaps the library gets. Runs
# tests/python/runtime/ there, and the add_one example on both runtimes.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
section "the Python package on our libtvm_ffi.so"

OURS="$REPO_ROOT/.venv-ours"
ensure_venv
if [ ! -x "$OURS/bin/python" ]; then
    run python3 -m venv "$OURS"
fi
"$OURS/bin/python" -c "import importlib.metadata as m; assert m.version('$TVM_FFI_PY_PACKAGE') == '$TVM_FFI_PY_VERSION'; import numpy, pytest" 2>/dev/null ||
    run "$OURS/bin/pip" install -q "$TVM_FFI_PY_PACKAGE==$TVM_FFI_PY_VERSION" numpy pytest </dev/null

run cargo build --release -q -p tvmffi-std-cdylib
run cargo build -q -p tvmffi-example-add-one -p tvmffi-example-rust-object
lib_dir="$("$OURS/bin/python" -c 'import os, importlib.util as u; print(os.path.join(os.path.dirname(u.find_spec("tvm_ffi").origin), "lib"))')"
run cp "$REPO_ROOT/target/release/libtvm_ffi.so" "$lib_dir/libtvm_ffi.so"

export TVMFFI_OUR_LIBRARY="$REPO_ROOT/target/release/libtvm_ffi.so"
export ADD_ONE_LIB="$REPO_ROOT/target/debug/libadd_one.so"
export RUST_OBJECT_LIB="$REPO_ROOT/target/debug/librust_object.so"

# The tests must describe the package's real behaviour: they pass on the reference first.
"$VENV/bin/python" -c "import numpy, pytest" 2>/dev/null ||
    run "$VENV/bin/pip" install -q numpy pytest </dev/null
TVMFFI_RUNTIME=reference run "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/python/runtime

run "$OURS/bin/python" examples/add_one/run.py "$ADD_ONE_LIB"
run "$OURS/bin/python" -m pytest -q -p no:cacheprovider tests/python/runtime
