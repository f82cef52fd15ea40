#!/usr/bin/env bash
# The GPU tier (gpu-tier/): every backend feature combination linted and tested (tests that
# need a GPU skip without one; the stand-in driver runs the CUDA and ROCm backends on any
# machine), the add_one example; then the std and gpu tiers cross-built for aarch64 (Grace,
# Jetson) and the gpu tier's tests run there under qemu-user.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
section "gpu tier: backends, then aarch64"

# The C kernel test compiles against the reference headers.
ensure_venv

# Unit and integration tests of the gpu tier with the given cargo arguments.
run_tests() {
    if cargo nextest --version >/dev/null 2>&1; then
        run cargo nextest run --no-fail-fast -p tvmffi-gpu "$@"
    else
        run cargo test -p tvmffi-gpu --all-targets "$@"
    fi
}

for features in "" cuda rocm cuda,rocm; do
    echo "--- features: ${features:-(none)}"
    flags=()
    if [ -n "$features" ]; then flags=(--features "$features"); fi
    run cargo clippy -p tvmffi-gpu --all-targets ${flags[@]+"${flags[@]}"} -- -D warnings
    run_tests ${flags[@]+"${flags[@]}"}
done
run cargo test -p tvmffi-gpu --features cuda,rocm --doc
# Runs add_one on a GPU when there is one; says why not and succeeds otherwise.
run cargo run -q -p tvmffi-gpu --features cuda,rocm --example add_one

echo "--- aarch64-unknown-linux-gnu"
target=aarch64-unknown-linux-gnu
ensure_target "$target" || {
    skip "aarch64: the Rust target cannot be installed"
    exit 0
}
# The C compiler that links for aarch64 and builds the std tier's stand-in libtvm_ffi.so.
# Debian's gcc-aarch64-linux-gnu is used when it is installed, but not installed here: it
# conflicts with gcc-multilib, which the 32-bit ABI check needs (installing either removes
# the other). clang with Debian's arm64 cross sysroot and binutils does the same job.
if command -v aarch64-linux-gnu-gcc >/dev/null; then
    cross_cc=aarch64-linux-gnu-gcc
else
    gcc_major="$(gcc -dumpversion | cut -d. -f1)"
    ensure_apt clang libc6-dev-arm64-cross binutils-aarch64-linux-gnu \
        "libgcc-$gcc_major-dev-arm64-cross" || {
        skip "aarch64: no C cross compiler (clang and the arm64 cross sysroot) can be installed"
        exit 0
    }
    mkdir -p build
    cross_cc="$REPO_ROOT/build/aarch64-linux-gnu-clang"
    printf '#!/bin/sh\nexec clang --target=aarch64-linux-gnu "$@"\n' >"$cross_cc"
    chmod +x "$cross_cc"
fi
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER="$cross_cc"
export CC_aarch64_unknown_linux_gnu="$cross_cc"

run cargo build -p tvmffi-std --features runtime --target "$target"
run cargo build -p tvmffi-std-cdylib --target "$target"
run cargo build -p tvmffi-gpu --features cuda,rocm --target "$target" --all-targets

if ensure_apt qemu-user; then
    # The tests build their C fixtures with $CC, which must target aarch64 too.
    export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"
    CC="$cross_cc" run_tests --features cuda,rocm --target "$target"
else
    skip "aarch64: qemu-user cannot be installed to run the tests"
fi
