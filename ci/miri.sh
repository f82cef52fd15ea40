#!/usr/bin/env bash
# The core's tests, and the alloc tier's with its own runtime, under Miri (undefined
# behaviour, provenance, data races) on the host, on a 32-bit target and on a big-endian one.
# Each target needs a Miri sysroot (about 30 s once).
#
# The host runs every test. The 32-bit and big-endian targets run the core's and the alloc
# tier's unit tests and the integration tests whose unsafe code depends on layout, pointer
# width or byte order (objects, text, sequences, maps, tensors, errors, the C API); the rest
# (the built-ins, typed closures, reflection) is plain Rust over those and stays on the host,
# which keeps the step within CI's budget.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
section "Miri"

if ! ensure_nightly miri rust-src; then
    skip "Miri: the nightly toolchain with miri and rust-src cannot be installed"
    exit 0
fi

for target in host i686-unknown-linux-gnu s390x-unknown-linux-gnu; do
    args=()
    [ "$target" = host ] || args=(--target "$target")
    echo "--- Miri on $target"
    run cargo +nightly miri setup "${args[@]}"
    run cargo +nightly miri test -p tvmffi-core "${args[@]}"
    if [ "$target" = host ]; then
        run cargo +nightly miri test -p tvmffi-alloc --features runtime
    else
        run cargo +nightly miri test -p tvmffi-alloc --features runtime "${args[@]}" --lib \
            --test strings --test seq --test map --test dict --test tensor --test big_int \
            --test error --test c_api --test shape
    fi
done
