#!/usr/bin/env bash
# Rust kernel libraries called from Python: the example (examples/add_one, its run.py) and
# the export-macro fixture (tests/fixtures/export-macro, tests/python/test_export_macro.py),
# loaded by the reference Python package. The fixture's metadata, docs and argument errors
# are compared with a C++ library exporting the same signatures with the reference's macros.
# Rust-defined object types (examples/rust-object): used from Python (its run.py,
# tests/python/test_derive.py) and from C (tests/fixtures/c/derive_host.c, on the reference
# runtime and on ours). A Rust host loading a C kernel (examples/rust-host).
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

run cargo build -q -p tvmffi-example-add-one -p tvmffi-fixture-export-macro \
    -p tvmffi-example-rust-object
run cargo build --release -q -p tvmffi-std-cdylib
ours_dir="${CARGO_TARGET_DIR:-$REPO_ROOT/target}/release"
run g++ -std=c++17 -O1 -Wall -Werror -shared -fPIC -I"$include_dir" \
    -o "$out/libexport_twin.so" tests/fixtures/cpp/export_twin.cc \
    -L"$lib_dir" -ltvm_ffi -Wl,-rpath,"$lib_dir"

run "$VENV/bin/python" examples/add_one/run.py "$target_dir/libadd_one.so"
EXPORT_MACRO_LIB="$target_dir/libexport_macro_fixture.so" EXPORT_TWIN_LIB="$out/libexport_twin.so" \
    run "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/python/test_export_macro.py

# Rust-defined object types, from Python and from C, on both runtimes.
rust_object="$target_dir/librust_object.so"
run "$VENV/bin/python" examples/rust-object/run.py "$rust_object"
RUST_OBJECT_LIB="$rust_object" \
    run "$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/python/test_derive.py
run cc -std=c11 -Wall -Wextra -Werror -I"$include_dir" -o "$out/derive_host" \
    tests/fixtures/c/derive_host.c -L"$lib_dir" -ltvm_ffi
for lib in "$lib_dir" "$ours_dir"; do
    echo "derive_host with the libtvm_ffi.so of $lib"
    LD_LIBRARY_PATH="$lib" run "$out/derive_host" "$rust_object"
done

# A Rust host (our runtime) loading a C kernel library that its build script compiled.
run cargo run -q -p tvmffi-example-rust-host
