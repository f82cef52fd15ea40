#!/usr/bin/env bash
# The short version of ci/reliability.sh, a step of ci/test.sh: each fuzz target for a
# fixed number of runs, loom with a bounded preemption count, ThreadSanitizer on a small
# set of threaded tests, valgrind on the C hosts. Miri is ci/miri.sh's step.
exec bash "$(dirname "$0")/reliability.sh" --short
