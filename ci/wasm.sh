#!/usr/bin/env bash
# wasm32: the core and alloc tiers (with the alloc tier's spin-locked runtime) build for
# wasm32-unknown-unknown and wasm32-wasip1, and their test suites run on wasm32-wasip1 under
# wasmtime (from PyPI, in the project's venv). Tests that spawn threads or expect a panic are
# ignored there, with the reason. Then the modules in examples/wasm: built for release,
# called through the ABI by their host (examples/wasm/host.py), and measured; the minimal
# module fails the step above its size budget.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
section "wasm32 builds, tests under wasmtime, and modules called through the ABI"

# The minimal module (one packed function, core tier: examples/wasm/minimal) is 220 bytes,
# most of it the fixed sections every module has. 1 KiB leaves room for toolchain drift;
# pulling in a panic message, `core::fmt` or an allocator (each several KiB) fails it.
MINIMAL_BUDGET=1024
# wasm-opt's features: those rustc enables by default for wasm32 (the stripped modules no
# longer list them).
WASM_OPT_FEATURES=(--enable-bulk-memory --enable-sign-ext --enable-mutable-globals
    --enable-nontrapping-float-to-int --enable-multivalue --enable-reference-types)

ensure_target wasm32-unknown-unknown wasm32-wasip1
ensure_wasmtime

echo "--- the tiers"
run cargo build -q -p tvmffi-core -p tvmffi-alloc --features tvmffi-alloc/runtime \
    --target wasm32-unknown-unknown
# A kernel library for wasm: the facade without std (exports abort on a panic).
run cargo build -q -p tvmffi --no-default-features --features alloc,macros \
    --target wasm32-unknown-unknown
run cargo test -q -p tvmffi-core -p tvmffi-alloc --target wasm32-wasip1
# The alloc tier again with its own runtime: maps, dicts, the C API and the built-ins.
run cargo test -q -p tvmffi-alloc --features runtime --target wasm32-wasip1 --lib --tests

echo "--- examples/wasm: lint, build, call through the ABI"
WASM_DIR="$REPO_ROOT/examples/wasm"
(
    cd "$WASM_DIR"
    run cargo fmt --all --check -- --color never
    run cargo clippy -q --locked --release -- -D warnings
    run cargo build -q --locked --release
)
out="${CARGO_TARGET_DIR:-$WASM_DIR/target}/wasm32-unknown-unknown/release"
kernel="$out/wasm_kernel.wasm" minimal="$out/wasm_minimal.wasm"
run "$VENV/bin/python" "$WASM_DIR/host.py" "$kernel" "$minimal"

# The optimised modules are what a browser would load: run them too.
opt_ok=1
ensure_apt binaryen || opt_ok=0
if [ "$opt_ok" = 1 ]; then
    mkdir -p build/wasm
    for module in "$kernel" "$minimal"; do
        run wasm-opt -Oz "${WASM_OPT_FEATURES[@]}" "$module" \
            -o "build/wasm/$(basename "$module" .wasm).opt.wasm"
    done
    run "$VENV/bin/python" "$WASM_DIR/host.py" build/wasm/wasm_kernel.opt.wasm \
        build/wasm/wasm_minimal.opt.wasm
else
    skip "binaryen cannot be installed: no wasm-opt sizes, the optimised modules are not run"
fi

echo "--- size (release modules; wasm-opt -Oz)"
printf '  %-10s %12s %12s\n' module "cargo (B)" "wasm-opt (B)"
for module in "$kernel" "$minimal"; do
    name="$(basename "$module" .wasm)"
    optimised="-"
    [ "$opt_ok" = 0 ] || optimised="$(stat -c %s "build/wasm/$name.opt.wasm")"
    printf '  %-10s %12s %12s\n' "${name#wasm_}" "$(stat -c %s "$module")" "$optimised"
done
minimal_size="$(stat -c %s "$minimal")"
echo "  budget of the minimal module (one packed function): $minimal_size / $MINIMAL_BUDGET B"
if [ "$minimal_size" -gt "$MINIMAL_BUDGET" ]; then
    echo "  FAILED: the minimal module is over its size budget"
    exit 1
fi
