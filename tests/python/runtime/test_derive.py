"""tests/python/test_derive.py on our runtime: the same tests, in the venv whose
`libtvm_ffi.so` is ours (ci/python-runtime.sh; `RUST_OBJECT_LIB` names the built
examples/rust-object library)."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from test_derive import *  # noqa: E402,F401,F403  (the tests and their fixture)
