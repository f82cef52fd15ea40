#!/usr/bin/env bash
# tvmffi-core on microcontrollers without std or an allocator, and on 32-bit Linux.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
section "no_std and 32-bit builds of tvmffi-core"

# build TARGET [CARGO_ARG...]: build the core for TARGET, installing the target if missing.
build() {
    local target="$1"
    shift
    if ensure_target "$target"; then
        run cargo build -p tvmffi-core --target "$target" "$@"
    else
        skip "tvmffi-core for $target: the Rust target cannot be installed"
    fi
}

build thumbv7em-none-eabihf                   # Cortex-M4F: 32-bit atomics, no 64-bit ones
build thumbv7em-none-eabihf --features defmt
build thumbv7m-none-eabi                      # Cortex-M3
build riscv32imac-unknown-none-elf            # RV32 with atomics
# Cortex-M0 has no compare-and-swap at all: the firmware, not this library, picks how
# portable-atomic gets one; a single-core firmware picks this cfg.
RUSTFLAGS="${RUSTFLAGS:-} --cfg portable_atomic_unsafe_assume_single_core" build thumbv6m-none-eabi
build i686-unknown-linux-gnu                  # 32-bit Linux, int64_t 4-byte aligned in structs
run cargo build -p tvmffi-core --features portable-atomic

# The alloc tier on microcontrollers with a heap (spin locks need compare-and-swap).
for target in thumbv7em-none-eabihf riscv32imac-unknown-none-elf; do
    run cargo build -p tvmffi-alloc --target "$target"
done

# The facade as firmware uses it: no std, exports that abort on a panic, and the spin-locked
# runtime of the alloc tier.
run cargo build -p tvmffi --no-default-features --features alloc-runtime,macros \
    --target thumbv7em-none-eabihf
