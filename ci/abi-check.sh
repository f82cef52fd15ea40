#!/usr/bin/env bash
# The C ABI check (STYLE rule 3): what Rust laid out, as C `_Static_assert`s, compiled
# against the headers of the reference wheel, on 64-bit (host) and 32-bit (i686).
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

# check BITS CARGO_TARGET [CC_FLAG...]: generate build/abi_check_BITS.c with the dumper built
# for CARGO_TARGET, compile it with the C compiler for the same target, and run it.
check() {
    local bits="$1" target="$2"
    shift 2
    local src="build/abi_check_$bits.c"
    run cargo run -q -p abi-check --target "$target" >"$src"
    echo "generated $src: $(grep -c '^_Static_assert' "$src") static asserts"
    run cc "$@" "${CFLAGS[@]}" "$src" -o "build/abi_check_$bits"
    "build/abi_check_$bits"

    # The check must be able to fail: the same file with one size off must not compile.
    local bad="build/abi_check_${bits}_canary.c"
    sed 's/(sizeof(TVMFFIAny) == \([0-9]*\),/(sizeof(TVMFFIAny) == 1\1,/' "$src" >"$bad"
    if cmp -s "$src" "$bad" || cc "$@" "${CFLAGS[@]}" -fsyntax-only "$bad" 2>/dev/null; then
        echo "the C check did not catch a wrong sizeof(TVMFFIAny): it checks nothing" >&2
        return 1
    fi
    echo "canary: a wrong sizeof(TVMFFIAny) fails to compile, as it must"
}

# check_cpp BITS CARGO_TARGET [CXX_FLAG...]: the heap objects against the reference's C++
# classes. Static asserts only, so a syntax-only compile is the whole check.
check_cpp() {
    local bits="$1" target="$2"
    shift 2
    local src="build/abi_check_cpp_$bits.cc"
    run cargo run -q -p abi-check --target "$target" -- --cpp >"$src"
    echo "generated $src: $(grep -c '^static_assert' "$src") static asserts"
    run g++ "$@" -std=c++17 -Wall -Werror -I"$INCLUDE" -fsyntax-only "$src"
    echo "abi-check C++ ($bits-bit): all static asserts held"

    local bad="build/abi_check_cpp_${bits}_canary.cc"
    sed 's/(sizeof(tvm::ffi::Object) == 24,/(sizeof(tvm::ffi::Object) == 25,/' "$src" >"$bad"
    if cmp -s "$src" "$bad" || g++ "$@" -std=c++17 -I"$INCLUDE" -fsyntax-only "$bad" 2>/dev/null; then
        echo "the C++ check did not catch a wrong sizeof(tvm::ffi::Object): it checks nothing" >&2
        return 1
    fi
    echo "canary: a wrong sizeof(tvm::ffi::Object) fails to compile, as it must"
}

command -v g++ >/dev/null || ensure_apt g++
host="$(rustc -vV | sed -n 's/^host: //p')"
check 64 "$host"
check_cpp 64 "$host"

# 32-bit: i686 is the strictest 32-bit layout (int64_t is 4-byte aligned inside structs).
# Linking and running the i686 dumper and `cc -m32` need Debian's multilib gcc and libc.
if ensure_apt gcc-multilib g++-multilib && ensure_target i686-unknown-linux-gnu; then
    check 32 i686-unknown-linux-gnu -m32
    check_cpp 32 i686-unknown-linux-gnu -m32
else
    skip "32-bit C ABI check: could not install gcc-multilib or the i686 Rust target"
fi
