#!/usr/bin/env bash
# The C ABI check (STYLE rule 3): what Rust laid out, as C `_Static_assert`s, compiled
# against the headers of the reference wheel, on 64-bit (host), 32-bit (i686) and wasm32.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
section "C ABI check against the apache-tvm-ffi $TVM_FFI_PY_VERSION headers"

# Without the reference headers there is nothing to check against: no venv is a failure.
ensure_venv
INCLUDE="$("$VENV/bin/tvm-ffi-config" --includedir)"
DLPACK_INCLUDE="$("$VENV/bin/tvm-ffi-config" --dlpack-includedir)"
CFLAGS=(-std=c11 -Wall -Werror -I"$INCLUDE")
[ "$DLPACK_INCLUDE" = "$INCLUDE" ] || CFLAGS+=(-I"$DLPACK_INCLUDE")
mkdir -p build

# check NAME CARGO_TARGET CC [CC_FLAG...]: generate build/abi_check_NAME.c with the dumper
# built for CARGO_TARGET, and compile it with CC for the same target. A program for this
# machine then runs; for wasm32 the compile is syntax-only, since the static asserts are
# the whole check and the program would only print their count.
check() {
    local name="$1" target="$2" cc="$3"
    shift 3
    local src="build/abi_check_$name.c"
    run cargo run -q -p abi-check --target "$target" >"$src"
    local count
    count="$(grep -c '^_Static_assert' "$src")"
    echo "generated $src: $count static asserts"
    if [[ "$target" == wasm32-* ]]; then
        run "$cc" "$@" "${CFLAGS[@]}" -fsyntax-only "$src"
        echo "abi-check ($name): all $count static asserts held"
    else
        run "$cc" "$@" "${CFLAGS[@]}" "$src" -o "build/abi_check_$name"
        "build/abi_check_$name"
    fi

    # The check must be able to fail: the same file with one size off must not compile.
    local bad="build/abi_check_${name}_canary.c"
    sed 's/(sizeof(TVMFFIAny) == \([0-9]*\),/(sizeof(TVMFFIAny) == 1\1,/' "$src" >"$bad"
    if cmp -s "$src" "$bad" || "$cc" "$@" "${CFLAGS[@]}" -fsyntax-only "$bad" 2>/dev/null; then
        echo "the C check did not catch a wrong sizeof(TVMFFIAny): it checks nothing" >&2
        return 1
    fi
    echo "canary: a wrong sizeof(TVMFFIAny) fails to compile, as it must"
}

# check_cpp NAME CARGO_TARGET CXX [CXX_FLAG...]: the heap objects against the reference's
# C++ classes. Static asserts only, so a syntax-only compile is the whole check.
check_cpp() {
    local name="$1" target="$2" cxx="$3"
    shift 3
    local src="build/abi_check_cpp_$name.cc"
    run cargo run -q -p abi-check --target "$target" -- --cpp >"$src"
    echo "generated $src: $(grep -c '^static_assert' "$src") static asserts"
    run "$cxx" "$@" -std=c++17 -Wall -Werror -I"$INCLUDE" -fsyntax-only "$src"
    echo "abi-check C++ ($name): all static asserts held"

    local bad="build/abi_check_cpp_${name}_canary.cc"
    sed 's/(sizeof(tvm::ffi::Object) == 24,/(sizeof(tvm::ffi::Object) == 25,/' "$src" >"$bad"
    if cmp -s "$src" "$bad" || "$cxx" "$@" -std=c++17 -I"$INCLUDE" -fsyntax-only "$bad" 2>/dev/null; then
        echo "the C++ check did not catch a wrong sizeof(tvm::ffi::Object): it checks nothing" >&2
        return 1
    fi
    echo "canary: a wrong sizeof(tvm::ffi::Object) fails to compile, as it must"
}

command -v g++ >/dev/null || ensure_apt g++
host="$(rustc -vV | sed -n 's/^host: //p')"
check 64 "$host" cc
check_cpp 64 "$host" g++

# 32-bit: i686 is the strictest 32-bit layout (int64_t is 4-byte aligned inside structs).
# Linking and running the i686 dumper and `cc -m32` need Debian's multilib gcc and libc.
if ensure_apt gcc-multilib g++-multilib && ensure_target i686-unknown-linux-gnu; then
    check 32 i686-unknown-linux-gnu cc -m32
    check_cpp 32 i686-unknown-linux-gnu g++ -m32
else
    skip "32-bit C ABI check: could not install gcc-multilib or the i686 Rust target"
fi

# wasm32: 4-byte pointers but 8-byte aligned int64_t, so C++ puts some derived-class fields
# in a base's tail padding (the dense map's). The dumper runs under wasmtime (wasm32-wasip1);
# Clang compiles its output for wasm32, with wasi-libc's <stdio.h> and libc++'s headers for
# the C++ check. Outside CMake the reference's endian.h knows no wasm32 libc, so the
# CMake build's definition is passed.
if ensure_apt clang libc++-dev-wasm32 && ensure_target wasm32-wasip1 && ensure_wasmtime; then
    check wasm32 wasm32-wasip1 clang --target=wasm32-wasi
    check_cpp wasm32 wasm32-wasip1 clang++ --target=wasm32-wasi -DTVM_FFI_CMAKE_LITTLE_ENDIAN=1
else
    skip "wasm32 C ABI check: could not install clang, libc++ for wasm32, or wasmtime"
fi
