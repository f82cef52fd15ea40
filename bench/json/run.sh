#!/usr/bin/env bash
# JSON and JSON-graph rows, ours against the reference in the same run: json_bench.cc,
# compiled once against the reference's headers without an rpath, runs on the reference's
# libtvm_ffi.so and on ours (LD_LIBRARY_PATH) in alternating rounds; the table shows each
# side's median time and ours / reference (target: at most 1.0).
#
#   bash bench/json/run.sh [--smoke] [ROUNDS]
#
# To merge into ci/bench.sh: build json_bench beside capi_bench and run it in the same A/B
# loop (its command line and output are the harness's: --smoke, --list, --count ROW N).
# shellcheck source-path=SCRIPTDIR source=../../ci/lib.sh
source "$(dirname "$0")/../../ci/lib.sh"
section "bench: JSON and the JSON graph, ours against the reference"

smoke=()
rounds=5
for arg in "$@"; do
    case "$arg" in
        --smoke) smoke=(--smoke) rounds=1 ;;
        *[!0-9]* | "") echo "usage: bench/json/run.sh [--smoke] [ROUNDS]" >&2; exit 2 ;;
        *) rounds="$arg" ;;
    esac
done

command -v g++ >/dev/null || ensure_apt g++
ensure_venv
include_dir="$("$VENV/bin/tvm-ffi-config" --includedir)"
ref_dir="$("$VENV/bin/tvm-ffi-config" --libdir)"
our_dir="${CARGO_TARGET_DIR:-$REPO_ROOT/target}/release"
out="$REPO_ROOT/build/bench/json"
mkdir -p "$out"

run cargo build --release -q -p tvmffi-std-cdylib
run g++ -std=c++17 -O2 -Wall -Wextra -Werror -I"$include_dir" -o "$out/json_bench" \
    bench/json/json_bench.cc -L"$ref_dir" -ltvm_ffi
rm -f "$out"/ref-*.tsv "$out"/ours-*.tsv
for ((r = 0; r < rounds; r++)); do
    echo "round $((r + 1))/$rounds"
    if ((r % 2 == 0)); then order=(ref ours); else order=(ours ref); fi
    for side in "${order[@]}"; do
        if [ "$side" = ref ]; then dir="$ref_dir"; else dir="$our_dir"; fi
        LD_LIBRARY_PATH="$dir" "$out/json_bench" "${smoke[@]}" >"$out/$side-$r.tsv"
    done
done

"$VENV/bin/python" - "$out" "$rounds" <<'PY'
import statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
times = {}
for side in ("ref", "ours"):
    for r in range(rounds):
        for line in open(f"{out}/{side}-{r}.tsv"):
            row, ns, _ = line.rstrip("\n").split("\t")
            if ns != "n/a":
                times.setdefault(row, {}).setdefault(side, []).append(float(ns))
print(f"| row | reference ms | ours ms | ours / reference |")
print(f"| --- | ---: | ---: | ---: |")
for row, sides in times.items():
    ref, ours = statistics.median(sides.get("ref", [0])), statistics.median(sides.get("ours", [0]))
    ratio = f"{ours / ref:.2f}" if ref and ours else "n/a"
    print(f"| {row} | {ref / 1e6:.1f} | {ours / 1e6:.1f} | {ratio} |")
PY
