#!/usr/bin/env bash
# Rust kernel libraries called from Python: the example (examples/add_one, its run.py) and
# the export-macro fixture (tests/fixtures/export-macro, tests/python/test_export_macro.py),
# loaded by the reference Python package. The fixture's metadata, docs and argument errors
# are compared with a C++ library exporting the same signatures with the reference's macros.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
section "examples: Rust kernels called from Python"

command -v g++ >/dev/null || ensure_apt g++
ensure_venv
"$VENV/bin/python" -c "import numpy, pytest" 2>/dev/null ||
    run "$VENV/bin/pip" install -q numpy pytest </dev/null
include_dir="$("$VENV/bin/tvm-ffi-config" --includedir)"
lib_dir="$("$VENV/bin/tvm-ffi-config" --libdir)"
target_dir="${CARGO_TARGET_DIR:-$REPO_ROOT/target}/debug"
out="$REPO_ROOT/build/examples"
mkdir -p "$out"

run cargo build -q -p tvmffi-example-add-one -p tvmffi-fixture-export-macro
run g++ -std=c++17 -O1 -Wall -Werror -shared -fPIC -I"$include_dir" \
    -o "$out/libexport_twin.so" tests/fixtures/cpp/export_twin.cc \
    -L"$lib_dir" -ltvm_ffi -Wl,-rpath,"$lib_dir"

run "$VENV/bin/python" examples/add_one/run.py "$target_dir/libadd_one.so"
EXPORT_MACRO_LIB="$target_dir/libexport_macro_fixture.so" EXPORT_TWIN_LIB="$out/libexport_twin.so" \
    run "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/python/test_export_macro.py
