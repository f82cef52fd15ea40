#!/usr/bin/env bash
# Formatting and clippy, warnings denied, on every target of every crate.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
section "fmt and clippy"

ensure_component rustfmt clippy || { skip "rustfmt/clippy cannot be installed"; exit 0; }
run cargo fmt --all --check -- --color never
run cargo clippy --workspace --all-targets -- -D warnings
run cargo clippy -p tvmffi-core --all-targets --all-features -- -D warnings
run cargo clippy -p tvmffi-alloc --all-targets --all-features -- -D warnings
# The fuzz targets are a workspace of their own (fuzz/); checked without linking libFuzzer.
run cargo fmt --manifest-path fuzz/Cargo.toml --check -- --color never
run cargo clippy --manifest-path fuzz/Cargo.toml --target-dir target --all-targets --no-default-features \
    -- -D warnings

if ensure_apt shellcheck; then
    run shellcheck -x ci/*.sh examples/*/run.sh .ci/run
else
    skip "shellcheck cannot be installed"
fi
