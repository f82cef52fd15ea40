#!/usr/bin/env bash
# The drop-in libtvm_ffi.so (std-tier/cdylib): build it, check its SONAME, compare its
# exported TVMFFI* functions with the reference's, and run a C host built against the
# reference headers on it. A TVMFFI* symbol of the reference that we lack, or one we export
# that the reference does not have, fails.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
section "std ABI: our libtvm_ffi.so against the reference's"

if ! command -v nm >/dev/null || ! command -v readelf >/dev/null; then
    ensure_apt binutils
fi
ensure_venv
include_dir="$("$VENV/bin/tvm-ffi-config" --includedir)"
reference_so="$("$VENV/bin/tvm-ffi-config" --libdir)/libtvm_ffi.so"

run cargo build --release -q -p tvmffi-std-cdylib
ours="$REPO_ROOT/target/release/libtvm_ffi.so"

soname="$(readelf -d "$ours" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')"
if [ "$soname" != "libtvm_ffi.so" ]; then
    echo "SONAME of $ours is '$soname', expected libtvm_ffi.so"
    exit 1
fi
echo "SONAME: $soname"

# Defined, exported functions and data named TVMFFI*.
exports() { nm -D --defined-only --format=posix "$1" | awk '$1 ~ /^TVMFFI/ { print $1 }' | sort -u; }
reference_syms="$(exports "$reference_so")"
our_syms="$(exports "$ours")"
present="$(comm -12 <(echo "$reference_syms") <(echo "$our_syms"))"
absent="$(comm -23 <(echo "$reference_syms") <(echo "$our_syms"))"
added="$(comm -13 <(echo "$reference_syms") <(echo "$our_syms"))"
# Print each line of $2 after the marker $1.
list() {
    local line
    while IFS= read -r line; do
        if [ -n "$line" ]; then printf '  %s %s\n' "$1" "$line"; fi
    done <<<"$2"
}
count() { if [ -z "$1" ]; then echo 0; else wc -l <<<"$1"; fi; }

echo "reference exports $(count "$reference_syms") TVMFFI* symbols; ours $(count "$present") of them:"
list + "$present"
if [ -n "$absent" ]; then
    echo "FAILED: we lack TVMFFI* symbols the reference exports:"
    list - "$absent"
    exit 1
fi
if [ -n "$added" ]; then
    echo "FAILED: we export TVMFFI* symbols the reference does not:"
    list '!' "$added"
    exit 1
fi

# The C++ entry points (tvmffi-std's `cxx-api` shim): the functions, vtables and type infos
# in `tvm::ffi` that the reference exports (`nm -D --defined-only -C` lists them) must be
# exactly ours. Static locals of inline functions (`_ZZ...`, `_ZGV...`) and libstdc++
# template instances are not part of the API.
cxx_exports() {
    nm -D --defined-only --format=posix "$1" | awk '$1 ~ /^_Z(N|TV|TI|TS)N?3tvm3ffi/ { print $1 }' | sort -u
}
reference_cxx="$(cxx_exports "$reference_so")"
our_cxx="$(cxx_exports "$ours")"
if [ -z "$our_cxx" ] && ! command -v "${CXX:-c++}" >/dev/null; then
    skip "no C++ compiler: libtvm_ffi.so was built without the C++ entry points"
else
    cxx_absent="$(comm -23 <(echo "$reference_cxx") <(echo "$our_cxx"))"
    cxx_added="$(comm -13 <(echo "$reference_cxx") <(echo "$our_cxx"))"
    if [ -n "$cxx_absent" ] || [ -n "$cxx_added" ]; then
        echo "FAILED: our tvm::ffi C++ exports differ from the reference's:"
        list - "$(c++filt <<<"$cxx_absent")"
        list '!' "$(c++filt <<<"$cxx_added")"
        exit 1
    fi
    echo "C++ entry points: the reference's $(count "$reference_cxx") tvm::ffi symbols, all exported:"
    list + "$(c++filt <<<"$our_cxx")"
fi

# The stand-in libtvm_ffi.so that Rust hosts load (built by std-tier/build.rs): the same
# SONAME and the same C API symbols.
proxy="$(find target/release/build -path '*/tvmffi-std-*/out/libtvm_ffi_proxy.so' -printf '%T@ %p\n' 2>/dev/null | sort -rn | head -1 | cut -d' ' -f2-)"
if [ -z "$proxy" ]; then
    echo "FAILED: std-tier/build.rs did not build the host's stand-in libtvm_ffi.so"
    exit 1
fi
proxy_soname="$(readelf -d "$proxy" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')"
proxy_missing="$(comm -3 <(echo "$reference_syms") <(exports "$proxy"))"
if [ "$proxy_soname" != "libtvm_ffi.so" ] || [ -n "$proxy_missing" ]; then
    echo "FAILED: the host stand-in ($proxy) has SONAME '$proxy_soname' and differs in:"
    list '!' "$proxy_missing"
    exit 1
fi
echo "host stand-in: SONAME libtvm_ffi.so, the reference's $(count "$reference_syms") symbols"

out="$REPO_ROOT/build/std-abi"
mkdir -p "$out"
run cc -std=c11 -Wall -Wextra -Werror -I"$include_dir" -o "$out/abi_host" tests/fixtures/c/abi_host.c \
    -L"$(dirname "$ours")" -ltvm_ffi -Wl,-rpath,"$(dirname "$ours")"
# The host must bind to our library, not to another libtvm_ffi.so on the search path.
linked="$(ldd "$out/abi_host")"
grep -qF "$(dirname "$ours")/libtvm_ffi.so" <<<"$linked" || {
    echo "abi_host did not bind to $ours"
    exit 1
}
run "$out/abi_host"

# A pure-C host loads a C kernel that raises through the runtime: against ours, then the
# reference's, with the same program and the same kernel.
run cc -std=c11 -Wall -Wextra -Werror -fPIC -shared -I"$include_dir" -o "$out/libraising_kernel.so" \
    tests/fixtures/c/raising_kernel.c -L"$(dirname "$reference_so")" -ltvm_ffi
run cc -std=c11 -Wall -Wextra -Werror -I"$include_dir" -o "$out/c_host" tests/fixtures/c/c_host.c \
    -L"$(dirname "$reference_so")" -ltvm_ffi
for lib in "$(dirname "$ours")" "$(dirname "$reference_so")"; do
    echo "c_host with the libtvm_ffi.so of $lib"
    LD_LIBRARY_PATH="$lib" run "$out/c_host" "$out/libraising_kernel.so"
done

# The backtrace format, ours against the reference's: the same program linked with each.
run cc -std=c11 -g -O1 -Wall -Werror -I"$include_dir" -o "$out/backtrace_ours" \
    tests/fixtures/c/backtrace_format.c -L"$(dirname "$ours")" -ltvm_ffi -Wl,-rpath,"$(dirname "$ours")"
run cc -std=c11 -g -O1 -Wall -Werror -I"$include_dir" -o "$out/backtrace_reference" \
    tests/fixtures/c/backtrace_format.c -L"$(dirname "$reference_so")" -ltvm_ffi \
    -Wl,-rpath,"$(dirname "$reference_so")"
ours_bt="$("$out/backtrace_ours")"
reference_bt="$("$out/backtrace_reference")"
# Line 1 is the given location; line 2 the caller's frame, compared by file name and line
# (the reference may print the file relative to the build directory).
frame() { sed -n "${1}p" | sed -E 's|File "([^"]*/)?([^"/]*)"|File "\2"|'; }
for n in 1 2; do
    a="$(frame $n <<<"$ours_bt")"
    b="$(frame $n <<<"$reference_bt")"
    if [ "$a" != "$b" ] || [ -z "$a" ]; then
        printf 'FAILED: backtrace line %s differs from the reference\n ours:      %s\n reference: %s\n' "$n" "$a" "$b"
        printf 'ours:\n%s\nreference:\n%s\n' "$ours_bt" "$reference_bt"
        exit 1
    fi
done
echo "backtrace format: the same first two lines as the reference"

# The C fixture our loader tests use, loaded by the reference's own Python loader: both
# loaders must agree on what a kernel library is.
run cc -std=c11 -Wall -Wextra -Werror -fPIC -shared -I"$include_dir" -o "$out/libkernels.so" \
    tests/fixtures/c/kernels.c

# A C++ program built against the reference headers calls the C++ entry points: linked with
# the reference library (which checks the program's expectations) and with ours.
if [ -n "$our_cxx" ]; then
    for lib in "$(dirname "$reference_so")" "$(dirname "$ours")"; do
        run "${CXX:-c++}" -std=c++17 -O1 -Wall -Werror -I"$include_dir" -o "$out/cxx_api" \
            tests/fixtures/cpp/cxx_api.cc -L"$lib" -ltvm_ffi -Wl,-rpath,"$lib"
        run "$out/cxx_api" "$out/libkernels.so"
    done
fi
run "$VENV/bin/python" - "$out/libkernels.so" <<'PY'
import sys
import tvm_ffi

mod = tvm_ffi.load_module(sys.argv[1])
assert mod.add_one(41) == 42
assert mod.get_function_doc("add_one") == "Add one to an integer."
assert mod.get_function_metadata("add_one") == {"type_schema": '{"type":"ffi.Function"}'}
assert mod.library_ctx() is not None
assert not mod.implements_function("hidden")
print("reference loader on tests/fixtures/c/kernels.c: ok")
PY
