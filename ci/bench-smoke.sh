#!/usr/bin/env bash
# The benchmark suite in its short form (ci/bench.sh --smoke): every row builds and runs
# on both libraries. Benchmarks are not tests: no timing is asserted here.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
exec bash "$REPO_ROOT/ci/bench.sh" --smoke
