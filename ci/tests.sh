#!/usr/bin/env bash
# The workspace's tests: doctests, then unit and integration tests with nextest when it is
# installed (it skips doctests), else with cargo test. The runner's summary comes last.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
section "tests"

# The alloc tier again with its own runtime (`runtime` feature): the tests that need a
# provider of the C API only build with it.
if cargo nextest --version >/dev/null 2>&1; then
    run cargo test --workspace --doc
    run cargo nextest run --workspace
    run cargo test -p tvmffi-alloc --features runtime --doc
    run cargo nextest run -p tvmffi-alloc --features runtime
else
    echo "cargo-nextest is not installed; using cargo test"
    run cargo test --workspace --doc
    run cargo test --workspace --all-targets
    run cargo test -p tvmffi-alloc --features runtime --doc
    run cargo test -p tvmffi-alloc --features runtime --all-targets
fi
