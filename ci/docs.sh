#!/usr/bin/env bash
# API docs build without a warning (broken intra-doc links, missing docs), on stable and as
# docs.rs builds the core (nightly, all features, `--cfg docsrs` for the feature badges).
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
section "docs"

RUSTDOCFLAGS="${RUSTDOCFLAGS:-} -D warnings" run cargo doc --workspace --no-deps
# shellcheck disable=SC2119 # no components beyond the minimal profile
if ensure_nightly; then
    RUSTDOCFLAGS="${RUSTDOCFLAGS:-} --cfg docsrs -D warnings" \
        run cargo +nightly doc -p tvmffi-core --all-features --no-deps
else
    skip "docs.rs build of tvmffi-core: the nightly toolchain cannot be installed"
fi
