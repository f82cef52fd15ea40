#!/usr/bin/env bash
# THE test command, for developers and CI alike: `bash ci/test.sh` from anywhere.
# Each step is a script beside this one that installs what it needs; all steps run, and the
# run fails if any failed. Cheap checks first; the test runner last, so its summary closes
# the output just before ours.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"

STEPS=(lint no-std docs abi-check interop-cpp std-abi examples stubgen python-runtime python-conformance miri reliability-short wasm embedded gpu bench-smoke tests)

# Cargo links build scripts with cc, and the ABI check compiles C: a C toolchain comes first.
command -v cc >/dev/null || ensure_apt gcc libc6-dev

mkdir -p build
export CI_SKIP_LOG="$REPO_ROOT/build/ci-skipped.txt"
: >"$CI_SKIP_LOG"

results=()
failed=0
for step in "${STEPS[@]}"; do
    start=$SECONDS
    if bash "ci/$step.sh" </dev/null; then status=ok; else status=FAILED; failed=1; fi
    results+=("$(printf '%-7s %-10s %5ss' "$status" "$step" $((SECONDS - start)))")
done

printf '\n======== summary ========\n'
printf '%s\n' "${results[@]}"
printf '%-7s %-10s %5ss\n' total "" "$SECONDS"
if [ -s "$CI_SKIP_LOG" ]; then
    echo "skipped, because a tool could not be installed:"
    sed 's/^/  /' "$CI_SKIP_LOG"
fi
exit "$failed"
