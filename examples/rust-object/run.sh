#!/usr/bin/env bash
# Build the Rust kernel library that defines object types, and use them from Python with the
# reference package (apache-tvm-ffi, installed into the repository's .venv on first use).
# shellcheck source-path=SCRIPTDIR source=../../ci/lib.sh
source "$(dirname "$0")/../../ci/lib.sh"

ensure_venv
run cargo build -q -p tvmffi-example-rust-object
run "$VENV/bin/python" examples/rust-object/run.py \
    "${CARGO_TARGET_DIR:-$REPO_ROOT/target}/debug/librust_object.so"
