#!/usr/bin/env bash
# The core's tests, and the alloc tier's with its own runtime, under Miri (undefined
# behaviour, provenance, data races) on the host, on a 32-bit target and on a big-endian one.
#
#   bash ci/miri.sh          the step of ci/test.sh (about 10 minutes on 2 cores)
#   bash ci/miri.sh --full   every alloc-tier test on the host too (ci/reliability.sh)
#
# Every target runs the core's tests, the alloc tier's unit tests and the integration tests
# whose unsafe code depends on layout, pointer width or byte order (objects, text,
# sequences, maps, tensors, errors, the C API). The host adds the structural engines, which
# walk objects through raw field pointers; `--full` adds the rest (built-ins, typed
# closures, reflection, JSON), plain Rust over the above that costs Miri another ten
# minutes. The host runs beside the other two, each lane on a core and a target directory
# of its own. Each target needs a Miri sysroot (about 30 s once).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
section "Miri"

full=0
[ "${1:-}" = --full ] && full=1

if ! ensure_nightly miri rust-src; then
    skip "Miri: the nightly toolchain with miri and rust-src cannot be installed"
    exit 0
fi

LAYOUT_TESTS=(--lib --test strings --test array --test list --test map --test dict --test tensor
    --test big_int --test error --test c_api --test shape)

# miri_on TARGET ALLOC_TEST_ARGS...: the core's tests and the given alloc-tier tests.
miri_on() {
    local target="$1" args=()
    shift
    [ "$target" = host ] || args=(--target "$target")
    echo "--- Miri on $target"
    run cargo +nightly miri setup "${args[@]}"
    run cargo +nightly miri test -p tvmffi-core "${args[@]}"
    run cargo +nightly miri test -p tvmffi-alloc --features runtime "${args[@]}" "$@"
}

host_lane() {
    if [ "$full" = 1 ]; then
        miri_on host
    else
        miri_on host "${LAYOUT_TESTS[@]}" --test structural --test structural_traversal
    fi
}

cross_lane() {
    export CARGO_TARGET_DIR="$REPO_ROOT/target/miri-cross"
    miri_on i686-unknown-linux-gnu "${LAYOUT_TESTS[@]}"
    miri_on s390x-unknown-linux-gnu "${LAYOUT_TESTS[@]}"
}

# The sysroots first, one at a time: both lanes would build them into the same cache.
for target in host i686-unknown-linux-gnu s390x-unknown-linux-gnu; do
    args=()
    [ "$target" = host ] || args=(--target "$target")
    run cargo +nightly miri setup "${args[@]}" >/dev/null
done

# Both lanes in the background, so that `set -e` holds inside each (it is off in a function
# called as `lane || ...`); the cross lane's output follows the host's.
mkdir -p build
cross_log="$REPO_ROOT/build/miri-cross.log"
(cross_lane) >"$cross_log" 2>&1 &
cross_pid=$!
(host_lane) &
host_pid=$!
host_status=0
wait "$host_pid" || host_status=$?
cross_status=0
wait "$cross_pid" || cross_status=$?
cat "$cross_log"
echo "--- Miri: host lane exit $host_status, i686 and s390x lane exit $cross_status"
[ "$host_status" = 0 ] && [ "$cross_status" = 0 ]
