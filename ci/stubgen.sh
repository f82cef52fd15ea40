#!/usr/bin/env bash
# The reference's Rust stub generator against our facade: `tvm-ffi-stubgen --target rust`
# on the testing.* types of the reference's libtvm_ffi_testing.so must leave
# tests/stubgen/src/generated/ as it is committed (`--check`), and that crate, which imports
# the facade as `tvm_ffi`, must compile and pass its tests: a Rust host on our runtime
# loading the C++ library, reading objects C++ made and making objects C++ reads.
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "$0")/lib.sh"
section "stubgen: the reference's Rust stub generator on our facade"

ensure_venv
testing_lib="$("$VENV/bin/tvm-ffi-config" --libdir)/libtvm_ffi_testing.so"
[ -f "$testing_lib" ] || {
    echo "FAILED: the reference wheel has no $testing_lib"
    exit 1
}

# Exit status 1: a block is out of date; 2: a file failed to process.
if ! run "$VENV/bin/tvm-ffi-stubgen" tests/stubgen/src/generated --target rust \
    --dlls "$testing_lib" --check; then
    echo "FAILED: tests/stubgen/src/generated is not what the generator writes now; regenerate:"
    echo "  .venv/bin/tvm-ffi-stubgen tests/stubgen/src/generated --target rust --dlls $testing_lib"
    exit 1
fi

TVM_FFI_TESTING_LIB="$testing_lib" CI="${CI:-1}" run cargo test -q -p tvmffi-stubgen-check
