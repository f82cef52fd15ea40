#!/usr/bin/env bash
# wasm32: the core and alloc tiers build for wasm32-unknown-unknown and wasm32-wasip1, and
# their test suites run on wasm32-wasip1 under wasmtime (from PyPI, in the project's venv).
# Tests that spawn threads or expect a panic are ignored there, with the reason.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
section "wasm32 builds, and tests under wasmtime"

ensure_target wasm32-unknown-unknown wasm32-wasip1
ensure_venv
"$VENV/bin/python" -c "import wasmtime" 2>/dev/null || run "$VENV/bin/pip" install -q wasmtime </dev/null

run cargo build -q -p tvmffi-core -p tvmffi-alloc --target wasm32-unknown-unknown
# A kernel library for wasm: the facade without std (exports abort on a panic).
run cargo build -q -p tvmffi --no-default-features --features alloc,macros \
    --target wasm32-unknown-unknown
export CARGO_TARGET_WASM32_WASIP1_RUNNER="$VENV/bin/python $REPO_ROOT/ci/wasmtime-run.py"
run cargo test -q -p tvmffi-core -p tvmffi-alloc --target wasm32-wasip1
# The alloc tier again with its own runtime: maps, dicts, the C API and the built-ins.
run cargo test -q -p tvmffi-alloc --features runtime --target wasm32-wasip1 --lib --tests
