"""tests/python/test_derive.py on our runtime: the same tests, in the venv whose
`libtvm_ffi.so` is ours (ci/python-runtime.sh; `RUST_OBJECT_LIB` names the built
examples/rust-object library)."""

import importlib.util
import os

_path = os.path.join(os.path.dirname(__file__), "..", "test_derive.py")
_spec = importlib.util.spec_from_file_location("tvmffi_derive_tests", _path)
_tests = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_tests)

# The tests and their fixture, under this module's name for pytest to collect.
globals().update({k: v for k, v in vars(_tests).items() if k.startswith("test_") or k == "mod"})
