"""Shared set-up: these tests run in a venv whose `tvm_ffi/lib/libtvm_ffi.so` is ours
(`ci/python-runtime.sh`), and check that it really is before anything else.

With `TVMFFI_RUNTIME=reference` they run on the reference library instead: the same tests
must pass on both, which is how they are checked to test the package's real behaviour."""

import hashlib
import os

import pytest
import tvm_ffi


def _digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def pytest_sessionstart(session):
    if os.environ.get("TVMFFI_RUNTIME") == "reference":
        return
    ours = os.environ.get("TVMFFI_OUR_LIBRARY")
    loaded = os.path.join(os.path.dirname(tvm_ffi.__file__), "lib", "libtvm_ffi.so")
    if not ours or _digest(ours) != _digest(loaded):
        pytest.exit(f"{loaded} is not our library ({ours!r}); run `bash ci/python-runtime.sh`", 2)


@pytest.fixture(scope="session")
def add_one():
    path = os.environ.get("ADD_ONE_LIB")
    if not path or not os.path.exists(path):
        pytest.fail("ADD_ONE_LIB does not name the built example; run `bash ci/python-runtime.sh`")
    return tvm_ffi.load_module(path)
