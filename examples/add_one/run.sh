#!/usr/bin/env bash
# Build the Rust kernel library and call it from Python with the reference package
# (apache-tvm-ffi, installed with NumPy into the repository's .venv on first use).
# shellcheck source-path=SCRIPTDIR source=../../ci/lib.sh
source "$(dirname "$0")/../../ci/lib.sh"

ensure_venv
"$VENV/bin/python" -c "import numpy" 2>/dev/null || run "$VENV/bin/pip" install -q numpy </dev/null
run cargo build -q -p tvmffi-example-add-one
run "$VENV/bin/python" examples/add_one/run.py "${CARGO_TARGET_DIR:-$REPO_ROOT/target}/debug/libadd_one.so"
