//! Cross-tier and interop tests; the tests live in `tests/tests/`.
