#!/usr/bin/env bash
# Reliability: fuzzing (cargo fuzz, fuzz/), loom models of the refcount and the registry,
# ThreadSanitizer on the threaded tests, the soak test, and valgrind on the C hosts,
# kernels, the soak test and the Rust hosts. `ci/reliability-short.sh` (a step of
# ci/test.sh) runs the short version (--short): each fuzz target for a bounded number of
# runs, loom with a bounded preemption count, TSan on a small set, valgrind on the C hosts
# and a one-second soak. Without --short this is the long run whose figures the README
# reports; it also runs ci/miri.sh. Both leave their figures in build/reliability/figures.md.
#
# The long fuzz run has two passes per target: one without a sanitizer (debug assertions
# and overflow checks on, about five times faster) to FUZZ_RUNS executions, then one under
# AddressSanitizer and LeakSanitizer for FUZZ_ASAN_SECONDS over the corpus the first grew.
# The short run is the ASan pass alone.
#
# Usage: ci/reliability.sh [--short] [PART...], PART among fuzz loom tsan valgrind soak
# miri (default: all; soak and miri only in the long run).
# Knobs (long run): FUZZ_RUNS (10000000 per target), FUZZ_SECONDS (3600, a cap per
# target), FUZZ_ASAN_SECONDS (300), FUZZ_TARGETS (all), SOAK_SECS (300), MIRI (1; 0 leaves
# Miri to its own step of ci/test.sh). A tool that cannot be installed is skipped with a
# message.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

short=0
[ "${1:-}" = --short ] && short=1 && shift
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(fuzz loom tsan valgrind soak miri)
wanted() { [[ " ${parts[*]} " == *" $1 "* ]]; }
if [ "$short" = 1 ]; then
    section "reliability (short): fuzz, loom, TSan, valgrind"
else
    section "reliability (long): fuzz, loom, TSan, soak, Miri, valgrind"
fi

out="$REPO_ROOT/build/reliability"
mkdir -p "$out"
figures="$out/figures.md"
: >"$figures"
note() { printf '%s\n' "$*" | tee -a "$figures"; }
failed=0
fail() {
    echo "FAILED: $*"
    failed=1
}

read -ra FUZZ_TARGETS <<<"${FUZZ_TARGETS:-any_convert dlpack_import text map_model json dtype_parse c_api}"
nightly=0
ensure_nightly rust-src && nightly=1

# --- fuzzing ---------------------------------------------------------------------------
fuzz() {
    if [ "$nightly" = 0 ]; then
        skip "fuzzing: no nightly toolchain"
        return
    fi
    if ! cargo fuzz --version >/dev/null 2>&1; then
        run cargo install -q cargo-fuzz --locked || {
            skip "fuzzing: cargo-fuzz cannot be installed"
            return
        }
    fi
    if [ "$short" = 1 ]; then
        note "| fuzz target | executions (ASan) | seconds | corpus |"
        note "| --- | --- | --- | --- |"
    else
        note "| fuzz target | executions (no sanitizer) | seconds | executions (ASan) | seconds | corpus |"
        note "| --- | --- | --- | --- | --- | --- |"
    fi
    local t row
    for t in "${FUZZ_TARGETS[@]}"; do
        mkdir -p "fuzz/corpus/$t"
        row="| $t |"
        if [ "$short" = 0 ]; then
            fuzz_pass "$t" none "${FUZZ_RUNS:-10000000}" "${FUZZ_SECONDS:-3600}" || continue
            row+=" $pass_figures |"
        fi
        if [ "$short" = 1 ]; then
            fuzz_pass "$t" address 20000 15 || continue
        else
            fuzz_pass "$t" address 1000000000 "${FUZZ_ASAN_SECONDS:-300}" || continue
        fi
        note "$row $pass_figures | $(find "fuzz/corpus/$t" -type f | wc -l) inputs |"
    done
}

# One libFuzzer run of target $1 built with sanitizer $2 (none or address), for at most
# $3 executions and $4 seconds; sets pass_figures to "executions | seconds".
fuzz_pass() {
    local t="$1" san="$2" runs="$3" seconds="$4"
    local log="$out/fuzz-$t-$san.log"
    # Each sanitizer builds into its own target directory so that neither rebuilds the
    # other. ASan keeps two frames of allocation stacks and no fake stacks: about 1.6
    # times the speed of its defaults; a finding is replayed from its artifact with them.
    local args=(-O -a -s "$san" --target-dir "$REPO_ROOT/target/fuzz-$san")
    (cd fuzz && run cargo +nightly fuzz build "${args[@]}" "$t") >"$log" 2>&1 || {
        tail -20 "$log"
        fail "the fuzz target $t does not build (-s $san)"
        return 1
    }
    # The committed seeds (fuzz/seeds) are read; new inputs go to the ignored corpus.
    if ! (cd fuzz && ASAN_OPTIONS="malloc_context_size=2:detect_stack_use_after_return=0" \
        cargo +nightly fuzz run "${args[@]}" "$t" "corpus/$t" "seeds/$t" -- \
        -runs="$runs" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1) >>"$log" 2>&1; then
        tail -40 "$log"
        fail "fuzz target $t, -s $san (log: $log; reproducer under fuzz/artifacts/$t)"
        return 1
    fi
    pass_figures="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
    pass_figures+=" | $(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)"
}

# --- loom ------------------------------------------------------------------------------
loom() {
    local log="$out/loom.log"
    if [ "$short" = 1 ]; then export LOOM_MAX_PREEMPTIONS=2; else unset LOOM_MAX_PREEMPTIONS; fi
    if ! RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR="$REPO_ROOT/target/loom" run cargo test -q --release \
        -p tvmffi-core --test loom_refcount --test loom_system_lib -- --nocapture >"$log" 2>&1; then
        tail -40 "$log"
        fail "loom models"
    fi
    note ""
    note "loom (preemption bound: ${LOOM_MAX_PREEMPTIONS:-none}):"
    grep -o 'loom .*: [0-9]* iterations' "$log" | sed 's/^/  /' | tee -a "$figures"
}

# --- ThreadSanitizer -----------------------------------------------------------------------
tsan() {
    if [ "$nightly" = 0 ]; then
        skip "ThreadSanitizer: no nightly toolchain with rust-src"
        return
    fi
    local log="$out/tsan.log" soak_secs=1
    [ "$short" = 1 ] || soak_secs=60
    local host
    host="$(rustc -vV | sed -n 's/^host: //p')"
    # std is rebuilt with the sanitizer (-Zbuild-std); fences are not used on the drop
    # paths (acquiring loads instead), so TSan needs no suppressions.
    export RUSTFLAGS="-Zsanitizer=thread" RUSTDOCFLAGS="-Zsanitizer=thread"
    export TSAN_OPTIONS="halt_on_error=1 allocator_may_return_null=1"
    local t=(cargo +nightly test -Zbuild-std --target "$host")
    local ok=1
    : >"$log"
    {
        TVMFFI_SOAK_SECS="$soak_secs" CARGO_TARGET_DIR="$REPO_ROOT/target/tsan" run "${t[@]}" \
            -p tvmffi-std --test soak --test boundary &&
            CARGO_TARGET_DIR="$REPO_ROOT/target/tsan" run "${t[@]}" -p tvmffi-core --test objects &&
            CARGO_TARGET_DIR="$REPO_ROOT/target/tsan" run "${t[@]}" -p tvmffi-alloc --features runtime \
                --test map --test dict &&
            if [ "$short" = 0 ]; then
                CARGO_TARGET_DIR="$REPO_ROOT/target/tsan" run "${t[@]}" -p tvmffi-core &&
                    # The 20 000-deep dataclass test crashes inside TSan's own runtime (its trace
                # lists, on a 512 MiB-stack thread) about one run in three; memcheck finds
                # nothing there (README, Reliability), so TSan skips it.
                CARGO_TARGET_DIR="$REPO_ROOT/target/tsan" run "${t[@]}" -p tvmffi-alloc --features runtime \
                        --test array --test list --test tensor --test reflect --test dataclass \
                        --test dataclass_objects --test runtime --test function \
                        -- --skip deep_input_does_not_exhaust_the_stack &&
                    CARGO_TARGET_DIR="$REPO_ROOT/target/tsan" run "${t[@]}" -p tvmffi-std --test leak_flat
            fi
    } >>"$log" 2>&1 || ok=0
    unset RUSTFLAGS RUSTDOCFLAGS TSAN_OPTIONS
    local races
    races="$(grep -c 'WARNING: ThreadSanitizer' "$log" || true)"
    note ""
    note "ThreadSanitizer: $(grep -c '^test result: ok' "$log") test binaries, $(grep -o '[0-9]* passed' "$log" | awk '{s+=$1} END {print s+0}') tests, $races reports"
    if [ "$ok" = 0 ] || [ "$races" != 0 ]; then
        grep -A30 'WARNING: ThreadSanitizer' "$log" | head -60 || tail -40 "$log"
        fail "ThreadSanitizer"
    fi
}

# --- soak ------------------------------------------------------------------------------
soak() {
    local log="$out/soak.log"
    if ! TVMFFI_SOAK_SECS="${SOAK_SECS:-300}" run cargo test -q --release -p tvmffi-std --test soak \
        --test leak_flat -- --nocapture >"$log" 2>&1; then
        tail -40 "$log"
        fail "soak"
    fi
    note ""
    grep -E '^(soak|flat):' "$log" | sed 's/^/  /' | tee -a "$figures"
}

# --- valgrind --------------------------------------------------------------------------
vg() {
    local name="$1"
    shift
    local log="$out/valgrind-$name.log"
    # RUST_BACKTRACE unset: with it, std's panic hook in a Rust kernel library symbolizes
    # backtraces into caches of that library's std, which are lost when it is unloaded.
    if env -u RUST_BACKTRACE valgrind --leak-check=full --errors-for-leak-kinds=definite \
        --error-exitcode=99 --show-leak-kinds=definite --suppressions=ci/valgrind.supp \
        --log-file="$log" "$@" >"$log.out" 2>&1; then
        note "  $name: $(grep -o 'definitely lost: [0-9,]* bytes in [0-9,]* blocks' "$log" || echo 'no leaks possible'), $(grep -o 'ERROR SUMMARY: [0-9]* errors' "$log")"
    else
        cat "$log.out" "$log" | tail -60
        fail "valgrind: $name"
    fi
}

# The executable of the std tier's integration test $1, built with the cargo flags after it.
test_binary() {
    local name="$1" bin
    shift
    bin="$(cargo test -q "$@" -p tvmffi-std --test "$name" --no-run --message-format=json 2>/dev/null |
        sed -n 's/.*"executable":"\([^"]*\)".*/\1/p' | tail -1)"
    [ -n "$bin" ] && echo "$bin"
}

valgrind_suite() {
    if ! command -v valgrind >/dev/null && ! ensure_apt valgrind; then
        skip "valgrind cannot be installed"
        return
    fi
    if ! ensure_venv; then
        skip "valgrind: the reference headers (venv) are missing"
        return
    fi
    local include_dir reference_dir vgout="$out/valgrind"
    include_dir="$("$VENV/bin/tvm-ffi-config" --includedir)"
    reference_dir="$("$VENV/bin/tvm-ffi-config" --libdir)"
    mkdir -p "$vgout"
    run cargo build --release -q -p tvmffi-std-cdylib
    local ours="$REPO_ROOT/target/release"
    note ""
    note "valgrind (definite leaks and memory errors):"
    # The C hosts and kernels of ci/std-abi.sh, on our libtvm_ffi.so.
    run cc -std=c11 -g -O1 -I"$include_dir" -o "$vgout/abi_host" tests/fixtures/c/abi_host.c \
        -L"$ours" -ltvm_ffi -Wl,-rpath,"$ours"
    vg abi_host "$vgout/abi_host"
    run cc -std=c11 -g -O1 -fPIC -shared -I"$include_dir" -o "$vgout/libraising_kernel.so" \
        tests/fixtures/c/raising_kernel.c -L"$reference_dir" -ltvm_ffi
    run cc -std=c11 -g -O1 -I"$include_dir" -o "$vgout/c_host" tests/fixtures/c/c_host.c \
        -L"$reference_dir" -ltvm_ffi
    LD_LIBRARY_PATH="$ours" vg c_host "$vgout/c_host" "$vgout/libraising_kernel.so"
    # The soak test: 8 threads (which valgrind runs one at a time), objects of every kind.
    local profile=() secs=1
    [ "$short" = 1 ] || profile=(--release) secs=30
    local soak_bin
    if soak_bin="$(test_binary soak "${profile[@]}")"; then
        TVMFFI_SOAK_SECS="$secs" vg soak "$soak_bin" --nocapture
        grep '^soak:' "$out/valgrind-soak.log.out" | sed 's/^/    /' | tee -a "$figures" || true
    else
        fail "cannot build the std tier's soak test"
    fi
    [ "$short" = 1 ] && return
    # The C++ interop programs (our objects read by C++ built against the reference).
    run cargo build -q -p tvmffi-interop
    local src name
    for src in tests/interop/cpp/*.cc; do
        name="$(basename "$src" .cc)"
        run g++ -std=c++17 -g -O1 -I"$include_dir" -o "$vgout/interop_$name" "$src" \
            "$REPO_ROOT/target/debug/libtvmffi_interop.a" -L"$reference_dir" -ltvm_ffi \
            -Wl,-rpath,"$reference_dir" -lpthread -ldl -lm
        vg "interop_$name" "$vgout/interop_$name"
    done
    # The Rust hosts: the std tier's tests that load C, C++ and Rust kernel libraries
    # (leak_flat's resident-set check means nothing under valgrind, which keeps freed blocks).
    local bin
    for t in module_c module_rust dataclass_cxx boundary; do
        bin="$(test_binary "$t" --release)" || {
            fail "cannot build the std tier's test $t"
            continue
        }
        vg "rust_host_$t" "$bin" --test-threads=1
    done
    # The Python package on our runtime (ci/python-runtime.sh's venv), when it is there.
    if [ -x "$REPO_ROOT/.venv-ours/bin/python" ]; then
        PYTHONMALLOC=malloc vg python_add_one "$REPO_ROOT/.venv-ours/bin/python" \
            examples/add_one/run.py "$REPO_ROOT/target/debug/libadd_one.so"
    else
        note "  the Python package on our runtime: not run (no .venv-ours; run ci/python-runtime.sh first)"
    fi
}

wanted fuzz && fuzz
wanted loom && loom
wanted tsan && tsan
wanted valgrind && valgrind_suite
if [ "$short" = 0 ]; then
    if wanted soak; then soak; fi
    if ! wanted miri; then
        :
    elif [ "${MIRI:-1}" = 0 ]; then
        note ""
        note "Miri: left to ci/miri.sh (MIRI=0)"
    elif bash ci/miri.sh --full >"$out/miri.log" 2>&1; then
        note ""
        note "Miri: core and alloc tiers on x86_64, i686 and s390x: ok ($(grep -o '[0-9]* passed' "$out/miri.log" | awk '{s+=$1} END {print s+0}') tests)"
    else
        tail -40 "$out/miri.log"
        fail "Miri"
    fi
    echo "figures: $figures"
fi
exit "$failed"
