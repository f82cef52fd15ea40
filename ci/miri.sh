#!/usr/bin/env bash
# The core's tests, and the alloc tier's with its own runtime, under Miri (undefined
# behaviour, provenance, data races) on the host, on a 32-bit target and on a big-endian one.
# Each target needs a Miri sysroot (about 30 s once).
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
    run cargo +nightly miri test -p tvmffi-alloc --features runtime "${args[@]}"
done
