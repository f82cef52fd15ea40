#!/usr/bin/env bash
# C++ interop: programs in tests/interop/cpp/ are compiled against the reference wheel's
# headers and linked with our staticlib (tests/interop) and the reference libtvm_ffi.so. The
# reference's inline C++ then reads the objects our Rust code builds, and the reverse.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
section "C++ interop with the reference"

command -v g++ >/dev/null || ensure_apt g++
ensure_venv
include_dir="$("$VENV/bin/tvm-ffi-config" --includedir)"
lib_dir="$("$VENV/bin/tvm-ffi-config" --libdir)"

run cargo build -q -p tvmffi-interop
staticlib="$REPO_ROOT/target/debug/libtvmffi_interop.a"
out="$REPO_ROOT/build/interop-cpp"
mkdir -p "$out"

failed=0
for src in tests/interop/cpp/*.cc; do
    name="$(basename "$src" .cc)"
    run g++ -std=c++17 -g -O1 -Wall -Werror -I"$include_dir" -o "$out/$name" "$src" \
        "$staticlib" -L"$lib_dir" -ltvm_ffi -Wl,-rpath,"$lib_dir" -lpthread -ldl -lm
    if ! run "$out/$name"; then
        failed=1
    fi
done
exit "$failed"
