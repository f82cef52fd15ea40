#!/usr/bin/env bash
# The benchmark suite: our implementation against the reference, printed as one table.
#
#   bash ci/bench.sh            full run (a few minutes): timings in alternating rounds, then
#                               callgrind instruction counts of every row on both sides
#   bash ci/bench.sh --smoke    each row briefly, no instruction counts (CI's bench-smoke
#                               step: it checks that everything builds and runs, never times)
#
# What runs (see bench/):
# - bench/c/capi_bench.c, bench/c/structural_bench.c and bench/cpp/json_bench.cc (the C++
#   JSON entry points), compiled once against the reference's headers and linked with no
#   rpath, run on the reference's libtvm_ffi.so and on ours (LD_LIBRARY_PATH), rounds
#   alternating which goes first;
# - bench/cpp/native_bench.cc, the reference's C++ API on its own library, against
#   bench/src/bin/rust_rows.rs for the Rust-level rows, both timed the same way
#   (bench/c/harness.h and tvmffi_bench::measure) in the same rounds;
# - bench/python/kernel_bench.py, examples/add_one (Rust) against the same kernels in C++.
# Raw results are left in build/bench/results; the table also goes to build/bench/table.md.
# Benchmarks are not tests: nothing here fails on a timing.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
section "bench: ours against the reference"

smoke=0
case "${1:-}" in
    --smoke) smoke=1 ;;
    "") ;;
    *) echo "usage: ci/bench.sh [--smoke]" >&2; exit 2 ;;
esac

command -v gcc >/dev/null || ensure_apt gcc libc6-dev
command -v g++ >/dev/null || ensure_apt g++
ensure_venv
"$VENV/bin/python" -c "import numpy" 2>/dev/null || run "$VENV/bin/pip" install -q numpy </dev/null
include_dir="$("$VENV/bin/tvm-ffi-config" --includedir)"
ref_dir="$("$VENV/bin/tvm-ffi-config" --libdir)"
target="${CARGO_TARGET_DIR:-$REPO_ROOT/target}"
our_dir="$target/release"
out="$REPO_ROOT/build/bench"
results="$out/results"
rm -rf "$results"
mkdir -p "$results"

# ---- build ----
# Two commands: with --bins, cargo builds only binaries, never the two cdylibs.
run cargo build --release -q -p tvmffi-std-cdylib -p tvmffi-example-add-one
run cargo build --release -q -p tvmffi-bench --bins
run gcc -std=c11 -O2 -g -Wall -Wextra -Werror -I"$include_dir" -o "$out/capi_bench" \
    bench/c/capi_bench.c -L"$ref_dir" -ltvm_ffi
run gcc -std=c11 -O2 -g -Wall -Wextra -Werror -I"$include_dir" -o "$out/structural_bench" \
    bench/c/structural_bench.c -L"$ref_dir" -ltvm_ffi
run g++ -std=c++17 -O2 -g -Wall -Wextra -Werror -I"$include_dir" -o "$out/json_bench" \
    bench/cpp/json_bench.cc -L"$ref_dir" -ltvm_ffi
run g++ -std=c++17 -O2 -g -Wall -Wextra -Werror -I"$include_dir" -o "$out/native_bench" \
    bench/cpp/native_bench.cc -L"$ref_dir" -ltvm_ffi
run g++ -std=c++17 -O2 -g -shared -fPIC -Wall -Werror -I"$include_dir" -o "$out/libadd_one_c.so" \
    bench/python/add_one_c.cc -L"$ref_dir" -ltvm_ffi -Wl,-rpath,"$ref_dir"
# The programs run on both libraries must resolve libtvm_ffi.so through LD_LIBRARY_PATH only.
for program in capi_bench structural_bench json_bench; do
    if readelf -d "$out/$program" | grep -Eq 'RPATH|RUNPATH'; then
        echo "$program carries an rpath: it would not choose its library by LD_LIBRARY_PATH"
        exit 1
    fi
done

{
    echo "Machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores available," \
        "$(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo);" \
        "Linux $(uname -r); $(rustc --version | cut -d' ' -f1-2); gcc $(gcc -dumpfullversion);" \
        "reference: apache-tvm-ffi $TVM_FFI_PY_VERSION (PyPI wheel)."
    if [ "$smoke" = 1 ]; then echo "Smoke run (--smoke): timings are indicative only."; fi
} >"$results/machine.txt"

# ---- timings: A/B rounds, alternating which library goes first ----
rounds=5
mode=()
if [ "$smoke" = 1 ]; then rounds=1; mode=(--smoke); fi
capi() { # NAME LIBDIR ROUND
    LD_LIBRARY_PATH="$2" "$out/capi_bench" "${mode[@]}" >"$results/capi-$1-$3.tsv"
    LD_LIBRARY_PATH="$2" "$out/structural_bench" "${mode[@]}" >>"$results/capi-$1-$3.tsv"
    LD_LIBRARY_PATH="$2" "$out/json_bench" "${mode[@]}" >>"$results/capi-$1-$3.tsv"
}
native() { # ROUND
    LD_LIBRARY_PATH="$ref_dir" "$out/native_bench" "${mode[@]}" >"$results/native-$1.tsv"
}
rust() { # ROUND
    "$our_dir/rust_rows" "${mode[@]}" >"$results/rust-$1.tsv"
}
for ((r = 0; r < rounds; r++)); do
    echo "round $((r + 1))/$rounds: C API on both libraries, C++ against Rust"
    if ((r % 2 == 0)); then
        capi ref "$ref_dir" "$r"
        capi ours "$our_dir" "$r"
        native "$r"
        rust "$r"
    else
        capi ours "$our_dir" "$r"
        capi ref "$ref_dir" "$r"
        rust "$r"
        native "$r"
    fi
done

echo "Python: examples/add_one (Rust) against the same kernels in C++"
run "$VENV/bin/python" bench/python/kernel_bench.py "$our_dir/libadd_one.so" \
    "$out/libadd_one_c.so" "${mode[@]}" >"$results/python.tsv"

# ---- instruction counts ----
# Instructions per operation: two runs of N1 and N2 operations, the difference over N2 - N1;
# start-up, set-up and the warm-up operation cancel out, and the counts repeat exactly.
callgrind_total() { # LIBDIR PROGRAM ROW N
    local file="$out/callgrind.out"
    LD_LIBRARY_PATH="$1" valgrind --tool=callgrind --callgrind-out-file="$file" \
        "$2" --count "$3" "$4" >/dev/null 2>&1 || return 1
    sed -n 's/^\(summary\|totals\): *\([0-9]*\).*/\2/p' "$file" | head -1
}
count_row() { # LABEL LIBDIR PROGRAM ROW
    local n1=1000 n2=5000 a b
    case "$4" in
        array_* | map_* | structural_* | json_* | graph_*) n1=1 n2=2 ;;
        error) n1=10 n2=50 ;;
    esac
    if a="$(callgrind_total "$2" "$3" "$4" "$n1")" && b="$(callgrind_total "$2" "$3" "$4" "$n2")"; then
        printf '%s\t%s\t%s\n' "$1" "$4" "$(((b - a) / (n2 - n1)))"
    else
        printf '%s\t%s\tn/a\n' "$1" "$4"
    fi
}
if [ "$smoke" = 0 ]; then
    if command -v valgrind >/dev/null || ensure_apt valgrind; then
        echo "callgrind: instructions per operation"
        {
            for row in $(LD_LIBRARY_PATH="$ref_dir" "$out/capi_bench" --list); do
                count_row capi-ref "$ref_dir" "$out/capi_bench" "$row"
                count_row capi-ours "$our_dir" "$out/capi_bench" "$row"
            done
            for program in structural_bench json_bench; do
                for row in $(LD_LIBRARY_PATH="$ref_dir" "$out/$program" --list); do
                    count_row capi-ref "$ref_dir" "$out/$program" "$row"
                    count_row capi-ours "$our_dir" "$out/$program" "$row"
                done
            done
            for row in $(LD_LIBRARY_PATH="$ref_dir" "$out/native_bench" --list); do
                count_row native "$ref_dir" "$out/native_bench" "$row"
            done
            for row in $("$our_dir/rust_rows" --list); do
                count_row rust "" "$our_dir/rust_rows" "$row"
            done
        } >"$results/ir.tsv"
    else
        skip "valgrind could not be installed: no instruction counts"
    fi
fi

echo
"$VENV/bin/python" bench/report.py "$results" | tee "$out/table.md"
